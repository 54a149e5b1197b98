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
  if (o.paid_at > 0) j["paid"] = display_time(o.paid_at);
  if (!o.paid_with.empty()) j["paid_with"] = method_label(o.paid_with);
  if (o.refunded_at > 0) j["refunded"] = display_time(o.refunded_at);
  return j;
}

void sort_newest_first(std::vector<Order>* orders) {
  std::stable_sort(orders->begin(), orders->end(), [](const Order& a, const Order& b) {
    if (a.created_at != b.created_at) return a.created_at > b.created_at;
    return a.id > b.id;
  });
}

}  // namespace paidoc::web
