#include "web/commerce_view.h"

#include <fmt/format.h>

#include <algorithm>

#include "web/util.h"

namespace paidoc::web {

using commerce::Order;
using commerce::OrderKind;
using commerce::OrderStatus;

const char* status_label(OrderStatus s) {
  switch (s) {
    case OrderStatus::kCreated:
      return "待支付";
    case OrderStatus::kPaid:
      return "已支付";
    case OrderStatus::kRefunded:
      return "已退款";
    case OrderStatus::kExpired:
      return "已关闭";
    case OrderStatus::kCredited:
      return "已转入钱包";
  }
  return "未知";
}

const char* kind_label(OrderKind k) {
  switch (k) {
    case OrderKind::kDocument:
      return "文档";
    case OrderKind::kPlan:
      return "会员";
    case OrderKind::kTopUp:
      return "充值";
  }
  return "";
}

const char* method_label(std::string_view m) {
  if (m == "wallet") return "钱包余额";
  if (m == "alipay") return "支付宝";
  if (m == "wechat") return "微信支付";
  if (m == "sandbox") return "沙箱支付";
  return "";
}

std::string yuan(Fen amount) { return "¥" + amount.yuan_string(); }

std::string order_target(const Order& o) {
  if (o.kind == OrderKind::kDocument && o.document_id > 0)
    return fmt::format("/d/{}", o.document_id);
  return "/me";
}

nlohmann::json gateway_methods(const commerce::Commerce& shop) {
  nlohmann::json out = nlohmann::json::array();
  for (const char* name : {"alipay", "wechat", "sandbox"})
    if (shop.provider(name) != nullptr) out.push_back({{"method", name}, {"label", method_label(name)}});
  return out;
}

std::string pay_methods_line(const commerce::Commerce& shop) {
  std::string line;
  for (const auto& m : gateway_methods(shop)) line += m["label"].get<std::string>() + " · ";
  return line + method_label("wallet");
}

namespace {

// `path` with "msg=<key>" added to its query (before any fragment).
std::string with_msg(std::string_view path, std::string_view key) {
  size_t hash = path.find('#');
  std::string_view base = path.substr(0, hash);
  std::string out(base);
  out += base.find('?') == std::string_view::npos ? '?' : '&';
  out += "msg=";
  out += key;
  if (hash != std::string_view::npos) out += path.substr(hash);
  return out;
}

}  // namespace

std::optional<std::string> after_payment(const Order& o, std::string_view back) {
  if (o.status != OrderStatus::kPaid) return std::nullopt;
  switch (o.kind) {
    case OrderKind::kDocument:
      if (o.document_id <= 0) return std::nullopt;
      return with_msg(fmt::format("/d/{}", o.document_id), "paid");
    case OrderKind::kPlan:
      return with_msg(back.empty() ? std::string_view("/vip") : back, "vip_on");
    case OrderKind::kTopUp:
      if (back.empty()) return std::nullopt;
      return with_msg(back, "topped_up");
  }
  return std::nullopt;
}

nlohmann::json order_json(const Order& o) {
  auto time_or_null = [](int64_t t) -> nlohmann::json {
    if (t <= 0) return nullptr;
    return rfc3339_utc(t);
  };
  nlohmann::json j = {
      {"id", o.id},
      {"out_trade_no", o.out_trade_no},
      {"kind", std::string(store::to_string(o.kind))},
      {"subject", o.subject},
      {"amount_fen", o.amount.value()},
      {"status", std::string(store::to_string(o.status))},
      {"created_at", rfc3339_utc(o.created_at)},
      {"expires_at", rfc3339_utc(o.expires_at)},
      {"paid_at", time_or_null(o.paid_at)},
      {"paid_with", o.paid_with.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.paid_with)},
      {"refunded_at", time_or_null(o.refunded_at)},
      {"credited_fen", o.credited.value()},
  };
  if (o.kind == OrderKind::kDocument) j["document_id"] = o.document_id;
  if (o.kind == OrderKind::kPlan) j["plan"] = o.plan_id;
  return j;
}

nlohmann::json order_context(const Order& o) {
  nlohmann::json j = {
      {"id", o.id},
      {"url", fmt::format("/orders/{}", o.id)},
      {"out_trade_no", o.out_trade_no},
      {"kind", std::string(store::to_string(o.kind))},
      {"kind_label", kind_label(o.kind)},
      {"subject", o.subject},
      {"amount", yuan(o.amount)},
      {"status", std::string(store::to_string(o.status))},
      {"status_label", status_label(o.status)},
      {"created", display_time(o.created_at)},
      {"expires", display_time(o.expires_at)},
      {"is_created", o.status == OrderStatus::kCreated},
      {"is_paid", o.status == OrderStatus::kPaid},
      {"is_document", o.kind == OrderKind::kDocument},
      {"is_topup", o.kind == OrderKind::kTopUp},
      {"target", order_target(o)},
  };
  // Provider money that went to the wallet instead of buying (a second
  // payment for a document already owned, a payment after expiry).
  if (o.status == OrderStatus::kCredited || o.credited.value() > 0) {
    std::string money = yuan(o.credited.value() > 0 ? o.credited : o.amount);
    std::string note;
    if (o.status == OrderStatus::kCredited)
      note = o.kind == OrderKind::kDocument
                 ? fmt::format("您已购买过该文档，本次付款 {} 已转入钱包余额。", money)
                 : fmt::format("本次付款 {} 已转入钱包余额。", money);
    else if (o.status == OrderStatus::kExpired)
      note = fmt::format("订单已过期，付款 {} 已转入钱包余额。", money);
    else
      note = fmt::format("本订单的另一笔付款 {} 已转入钱包余额。", money);
    j["credited_note"] = note;
    j["is_credited"] = true;
  }
  // A document the reader can open from here: bought now, or owned before
  // (the payment went to the wallet).
  j["document_ready"] = o.kind == OrderKind::kDocument && o.document_id > 0 &&
                        (o.status == OrderStatus::kPaid || o.status == OrderStatus::kCredited);
  if (o.paid_at > 0) j["paid"] = display_time(o.paid_at);
  if (!o.paid_with.empty()) j["paid_with"] = method_label(o.paid_with);
  if (o.refunded_at > 0) j["refunded"] = display_time(o.refunded_at);
  return j;
}

namespace {

// `token` occurs in `text`, ignoring ASCII case.
bool contains_icase(std::string_view text, std::string_view token) {
  if (token.size() > text.size()) return false;
  for (size_t i = 0; i + token.size() <= text.size(); ++i)
    if (ascii_iequals(text.substr(i, token.size()), token)) return true;
  return false;
}

}  // namespace

commerce::Channel channel_from_user_agent(std::string_view ua) {
  if (contains_icase(ua, "MicroMessenger")) return commerce::Channel::kWechatBrowser;
  for (std::string_view phone : {"Mobile", "Android", "iPhone", "iPod", "iPad", "HarmonyOS"})
    if (contains_icase(ua, phone)) return commerce::Channel::kPhone;
  return commerce::Channel::kDesktop;
}

const char* channel_name(commerce::Channel c) {
  switch (c) {
    case commerce::Channel::kDesktop:
      return "desktop";
    case commerce::Channel::kPhone:
      return "phone";
    case commerce::Channel::kWechatBrowser:
      return "wechat_browser";
  }
  return "desktop";
}

std::optional<commerce::Channel> parse_channel(std::string_view s) {
  for (commerce::Channel c : {commerce::Channel::kDesktop, commerce::Channel::kPhone,
                              commerce::Channel::kWechatBrowser})
    if (s == channel_name(c)) return c;
  return std::nullopt;
}

const char* refund_state_label(commerce::RefundState s) {
  switch (s) {
    case commerce::RefundState::kPending:
      return "处理中";
    case commerce::RefundState::kSucceeded:
      return "已退款";
    case commerce::RefundState::kFailed:
      return "失败";
  }
  return "未知";
}

nlohmann::json refund_context(const commerce::Refund& r) {
  nlohmann::json j = {
      {"id", r.id},
      {"state", commerce::refund_state_name(r.state)},
      {"state_label", refund_state_label(r.state)},
      {"amount", yuan(r.amount)},
      {"out_refund_no", r.out_refund_no},
      {"refund_id", r.refund_id},
      {"provider", method_label(r.provider)},
      {"created", r.created_at > 0 ? display_time(r.created_at) : std::string()},
      {"updated", r.updated_at > r.created_at ? display_time(r.updated_at) : std::string()},
      {"failed", r.state == commerce::RefundState::kFailed},
      {"from_gateway", r.from_gateway},
      {"message", r.message},
  };
  return j;
}

void sort_newest_first(std::vector<Order>* orders) {
  std::stable_sort(orders->begin(), orders->end(), [](const Order& a, const Order& b) {
    if (a.created_at != b.created_at) return a.created_at > b.created_at;
    return a.id > b.id;
  });
}

}  // namespace paidoc::web
