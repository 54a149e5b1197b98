// Buying, as zh-CN HTML pages: order creation from the paywall card, the VIP
// plans and the top-up form; the order page with its payment choices;
// starting a payment (wallet, Alipay, WeChat Pay QR code, sandbox); the
// sandbox's stand-in gateway page; and the admin order list with refunds.
//
// Handlers call commerce::Commerce and render; who may call what and CSRF
// are the route table's filters (routes.cc). A payment by a provider is
// applied only by its notification (POST /api/v1/payments/{provider}/notify,
// or in-process from the sandbox page through the same Commerce::notify).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <variant>

#include "auth/auth.h"
#include "web/commerce_view.h"
#include "web/handlers.h"
#include "web/qr.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

using commerce::Order;
using commerce::OrderKind;
using commerce::OrderStatus;
using commerce::PayMethod;

constexpr int kWechatRefreshSeconds = 5;
constexpr int64_t kAdminOrderDays = 30;
constexpr size_t kAdminOrderRows = 200;

// [0-9A-Za-z_], 1..32: what providers accept as out_trade_no.
bool valid_trade_no(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  });
}

// A positive amount in fen ("990"); nullopt otherwise.
std::optional<Fen> parse_fen(std::string_view s) {
  std::optional<int64_t> v = parse_id(s);
  if (!v) return std::nullopt;
  return Fen(*v);
}

Response with_frame_guard(Response r) {
  r.add_header("X-Frame-Options", "DENY");
  return r;
}

// The order page: details and, while unpaid, the ways to pay.
Response order_page(Site& site, const Request& req, int status, const Order& o,
                    std::string_view error = {}) {
  commerce::Commerce& shop = site.commerce();
  nlohmann::json ctx = site.page_context("订单详情");
  ctx["order"] = order_context(o);
  if (!error.empty()) ctx["error"] = error;
  if (o.status == OrderStatus::kCreated) {
    nlohmann::json pay = nlohmann::json::object();
    if (o.kind != OrderKind::kTopUp) {
      Result<Fen> balance = shop.balance(req.caller->user_id());
      if (!balance.ok()) return site.error(req, balance.status());
      pay["wallet"] = {{"balance", yuan(*balance)}, {"enough", *balance >= o.amount}};
    }
    bool any = pay.contains("wallet");
    for (const char* name : {"alipay", "wechat", "sandbox"}) {
      bool has = shop.provider(name) != nullptr;
      pay[name] = has;
      any = any || has;
    }
    pay["none"] = !any;
    ctx["pay"] = std::move(pay);
  }
  Response r = with_frame_guard(site.html(req, status, "order.html", std::move(ctx)));
  if (status == 503) r.add_header("Retry-After", std::to_string(kBusyRetryAfterSeconds));
  return r;
}

// The caller's order `params.id`, or the response to answer instead.
std::variant<Order, Response> caller_order(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "order id must be a positive integer");
  Result<Order> o = site.commerce().order(req.caller->user_id(), *id);
  if (!o.ok()) {
    if (o.status().code() == Code::kNotFound) return site.not_found(req);
    return site.error(req, o.status());
  }
  return std::move(o).value();
}

// The top-up form, with an optional inline error.
Response topup_page_with(Site& site, const Request& req, int status, std::string_view amount,
                         std::string_view error) {
  Result<Fen> balance = site.commerce().balance(req.caller->user_id());
  if (!balance.ok()) return site.error(req, balance.status());
  nlohmann::json ctx = site.page_context("钱包充值");
  ctx["balance"] = yuan(*balance);
  ctx["amount"] = amount;
  ctx["max"] = site.commerce().options().max_topup.yuan_string();
  nlohmann::json presets = nlohmann::json::array();
  for (int y : {10, 30, 50, 100}) presets.push_back(y);
  ctx["presets"] = std::move(presets);
  if (!error.empty()) ctx["error"] = error;
  return with_frame_guard(site.html(req, status, "topup.html", std::move(ctx)));
}

// "SBX" and 24 random alphanumerics: the sandbox's transaction id.
std::string sandbox_transaction_id() {
  std::string id = "SBX";
  std::string token = auth::new_token();
  for (char c : token)
    if (((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) &&
        id.size() < 27)
      id.push_back(c);
  return id;
}

}  // namespace

// --- orders -----------------------------------------------------------------------------

// POST /orders: document_id [pay=wallet] | plan | topup (yuan). 303 to the order
// page, or with pay=wallet straight back to the unlocked document.
Response order_create(Site& site, const Request& req, const Params&) {
  const Form& f = *req.form;
  const Caller& c = *req.caller;
  commerce::Commerce& shop = site.commerce();
  Result<Order> o = Status::invalid("");
  if (f.has("document_id")) {
    std::optional<int64_t> doc = parse_id(f.get("document_id"));
    if (!doc)
      return site.error(req, Code::kInvalidArgument, "document id must be a positive integer");
    if (f.get("pay") == "wallet") {
      // One step: order, payment and entitlement in one transaction.
      Result<Order> bought = shop.buy_document_with_wallet(c.user_id(), c.account().role, *doc);
      if (bought.ok()) return Site::redirect(fmt::format("/d/{}?msg=paid", *doc));
      if (bought.status().code() == Code::kConflict)
        return Site::redirect(fmt::format("/d/{}?msg=already_readable", *doc));
      // The balance no longer covers it (spent in another tab): an unpaid
      // order, so the reader can choose another way to pay.
      if (bought.status().code() != Code::kPaymentRequired)
        return site.service_error(req, bought.status(), {fmt::format("/d/{}", *doc), "返回文档"});
    }
    o = shop.order_document(c.user_id(), c.account().role, *doc);
    if (!o.ok() && o.status().code() == Code::kConflict)
      return Site::redirect(fmt::format("/d/{}?msg=already_readable", *doc));
    if (!o.ok())
      return site.service_error(req, o.status(), {fmt::format("/d/{}", *doc), "返回文档"});
  } else if (f.has("plan")) {
    o = shop.order_plan(c.user_id(), std::string(f.get("plan")));
    if (!o.ok()) return site.service_error(req, o.status(), {"/vip", "返回会员页"});
  } else if (f.has("topup")) {
    std::string_view text = f.get("topup");
    Result<Fen> amount = Fen::parse_yuan(text);
    if (!amount.ok() || amount->value() <= 0)
      return topup_page_with(site, req, 400, text, "请输入正确的充值金额（元，最多两位小数）。");
    if (*amount > shop.options().max_topup)
      return topup_page_with(
          site, req, 400, text,
          fmt::format("单次充值不能超过 ¥{}。", shop.options().max_topup.yuan_string()));
    o = shop.order_topup(c.user_id(), *amount);
    if (!o.ok()) {
      if (o.status().code() == Code::kInvalidArgument)
        return topup_page_with(site, req, 400, text, o.status().message());
      return site.error(req, o.status());
    }
  } else {
    return site.error(req, Code::kInvalidArgument, "nothing to order");
  }
  return Site::redirect(fmt::format("/orders/{}", o->id));
}

// GET /orders/{id}
Response order_view(Site& site, const Request& req, const Params& params) {
  auto o = caller_order(site, req, params);
  if (auto* r = std::get_if<Response>(&o)) return std::move(*r);
  return order_page(site, req, 200, std::get<Order>(o));
}

// POST /orders/{id}/pay: method = wallet | alipay | wechat | sandbox.
Response order_pay(Site& site, const Request& req, const Params& params) {
  auto found = caller_order(site, req, params);
  if (auto* r = std::get_if<Response>(&found)) return std::move(*r);
  const Order& order = std::get<Order>(found);
  std::optional<PayMethod> method = commerce::parse_method(req.form->get("method"));
  if (!method) return order_page(site, req, 400, order, "请选择支付方式。");
  if (order.status != OrderStatus::kCreated)
    return Site::redirect(fmt::format("/orders/{}", order.id));
  // WeChat's QR code lives on its own page, which can refresh itself.
  if (*method == PayMethod::kWechat)
    return Site::redirect(fmt::format("/orders/{}/wechat", order.id));

  Result<commerce::PayResult> paid = site.commerce().pay(req.caller->user_id(), order.id, *method);
  if (!paid.ok()) {
    const Status& s = paid.status();
    switch (s.code()) {
      case Code::kPaymentRequired:
        return order_page(site, req, 402, order, "余额不足，请先充值或选择其他支付方式。");
      case Code::kConflict:
      case Code::kInvalidArgument: {
        // The order may have changed meanwhile: show it as it is now.
        Result<Order> now = site.commerce().order(req.caller->user_id(), order.id);
        return order_page(site, req, http_status(s.code()), now.ok() ? *now : order,
                          s.message().empty() ? "无法使用该方式支付此订单。" : s.message());
      }
      default:
        return site.error(req, s);
    }
  }
  if (*method == PayMethod::kWallet) {
    std::string target = order_target(paid->order);
    return Site::redirect(target + (target.find('?') == std::string::npos ? "?" : "&") +
                          "msg=paid");
  }
  if (paid->start.redirect_url.empty())
    return order_page(site, req, 503, order,
                      "暂时无法连接支付平台，请稍后再试或选择其他支付方式。");
  return Site::redirect(paid->start.redirect_url);
}

// GET /orders/{id}/wechat: the QR code to scan; refreshes itself until the
// order is paid, then goes on to what was bought.
Response order_wechat(Site& site, const Request& req, const Params& params) {
  auto found = caller_order(site, req, params);
  if (auto* r = std::get_if<Response>(&found)) return std::move(*r);
  const Order& order = std::get<Order>(found);
  if (order.status == OrderStatus::kPaid) {
    std::string target = order_target(order);
    return Site::redirect(target + "?msg=paid");
  }
  if (order.status != OrderStatus::kCreated)
    return Site::redirect(fmt::format("/orders/{}", order.id));
  Result<commerce::PayResult> paid =
      site.commerce().pay(req.caller->user_id(), order.id, PayMethod::kWechat);
  if (!paid.ok()) {
    const Status& s = paid.status();
    if (s.code() == Code::kConflict || s.code() == Code::kInvalidArgument)
      return order_page(site, req, http_status(s.code()), order,
                        s.message().empty() ? "无法使用微信支付此订单。" : s.message());
    if (s.code() == Code::kUnavailable)
      return order_page(site, req, 503, order,
                        "暂时无法连接微信支付，请稍后再试或选择其他支付方式。");
    return site.error(req, s);
  }
  std::string svg = qr_svg(paid->start.code_url);
  if (svg.empty()) {
    // No code_url: the WeChat Pay API could not be reached from here.
    spdlog::warn("order {}: WeChat Pay gave no code_url (gateway unreachable?)", order.id);
    return order_page(site, req, 503, order,
                      "暂时无法连接微信支付，未能生成付款二维码。请稍后再试或选择其他支付方式。");
  }
  nlohmann::json ctx = site.page_context("微信支付");
  ctx["order"] = order_context(order);
  ctx["qr_src"] = svg_data_uri(svg);
  ctx["refresh"] = std::to_string(kWechatRefreshSeconds);
  ctx["refresh_seconds"] = kWechatRefreshSeconds;
  return with_frame_guard(site.html(req, 200, "wechat_pay.html", std::move(ctx)));
}

// --- VIP plans and top-up -----------------------------------------------------------------

// GET /vip
Response vip(Site& site, const Request& req, const Params&) {
  commerce::Commerce& shop = site.commerce();
  nlohmann::json ctx = site.page_context("VIP 会员");
  ctx["description"] = "开通 VIP 会员，会员期内可阅读全部付费文档。";
  ctx["canonical"] = site.config().base_url + "/vip";
  nlohmann::json plans = nlohmann::json::array();
  for (const commerce::Plan& p : shop.options().plans) {
    plans.push_back({
        {"id", p.id},
        {"name", p.name},
        {"days", p.days},
        {"price", yuan(p.price)},
        {"downloads", p.daily_downloads > 0 ? fmt::format("每日可下载 {} 篇", p.daily_downloads)
                                            : std::string("下载不限次数")},
    });
  }
  ctx["plans"] = std::move(plans);
  ctx["signed_in"] = req.caller != nullptr;
  if (req.caller) {
    Result<commerce::Entitlements> e = shop.entitlements(req.caller->user_id());
    if (!e.ok()) return site.error(req, e.status());
    if (e->vip_until > site.now()) ctx["vip_until"] = display_date(e->vip_until);
  }
  return with_frame_guard(site.html(req, 200, "vip.html", std::move(ctx)));
}

// GET /wallet/topup
Response topup_page(Site& site, const Request& req, const Params&) {
  return topup_page_with(site, req, 200, "", "");
}

// --- sandbox: the local stand-in for a payment gateway ----------------------------------

// GET /sandbox/pay?out_trade_no=&amount_fen=&subject= (subject is not shown:
// see below)
Response sandbox_page(Site& site, const Request& req, const Params&) {
  if (!site.config().sandbox) return site.not_found(req);
  bool bad = false;
  std::string trade_no = query_param(req.query, "out_trade_no", &bad).value_or("");
  std::string amount_text = query_param(req.query, "amount_fen", &bad).value_or("");
  std::optional<Fen> amount = parse_fen(amount_text);
  if (bad || !valid_trade_no(trade_no) || !amount)
    return site.error(req, Code::kInvalidArgument, "malformed sandbox payment");
  // The subject shown is the stored order's (the caller's own); free text
  // from the query is never reflected into the page.
  std::string shown = fmt::format("订单 {}", trade_no);
  if (req.caller) {
    if (Result<std::vector<Order>> mine = site.commerce().orders(req.caller->user_id());
        mine.ok()) {
      for (const Order& o : *mine)
        if (o.out_trade_no == trade_no) shown = o.subject;
    }
  }
  nlohmann::json ctx = site.page_context("沙箱支付");
  ctx["has_form"] = true;
  ctx["out_trade_no"] = trade_no;
  ctx["amount_fen"] = amount->value();
  ctx["amount"] = yuan(*amount);
  ctx["subject"] = shown;
  Response r = with_frame_guard(site.html(req, 200, "sandbox_pay.html", std::move(ctx)));
  r.add_header("X-Robots-Tag", "noindex");
  return r;
}

// POST /sandbox/pay: the "buyer" confirmed. Builds the signed notification
// the sandbox sends and hands it to Commerce::notify in-process, the same
// path a real provider's notification takes.
Response sandbox_pay(Site& site, const Request& req, const Params&) {
  const std::optional<commerce::SandboxConfig>& config = site.config().sandbox;
  if (!config) return site.not_found(req);
  std::string trade_no(req.form->get("out_trade_no"));
  std::optional<Fen> amount = parse_fen(req.form->get("amount_fen"));
  if (!valid_trade_no(trade_no) || !amount)
    return site.error(req, Code::kInvalidArgument, "malformed sandbox payment");
  commerce::RawNotification raw =
      commerce::sandbox_notification(*config, trade_no, *amount, sandbox_transaction_id());
  commerce::NotifyAnswer answer = site.commerce().notify("sandbox", raw);
  if (answer.http_status < 200 || answer.http_status >= 300) {
    spdlog::warn("sandbox payment for {} refused: {}", trade_no, answer.reason);
    nlohmann::json ctx = site.page_context("支付未完成");
    ctx["heading"] = "支付未完成";
    ctx["text"] = "沙箱支付通知未被接受（订单不存在、金额不符或已关闭），订单状态没有改变。";
    ctx["home_link"] = true;
    return site.html(req, 400, "message.html", std::move(ctx));
  }
  // Back to the buyer's order, when it is the caller's.
  if (req.caller) {
    if (Result<std::vector<Order>> mine = site.commerce().orders(req.caller->user_id());
        mine.ok()) {
      for (const Order& o : *mine)
        if (o.out_trade_no == trade_no) return Site::redirect(fmt::format("/orders/{}", o.id));
    }
  }
  nlohmann::json ctx = site.page_context("支付完成");
  ctx["heading"] = "支付完成";
  ctx["text"] = "沙箱支付已完成。";
  ctx["home_link"] = true;
  return site.html(req, 200, "message.html", std::move(ctx));
}

// --- administration ----------------------------------------------------------------------

namespace {

// One CSV record from `in` at *pos (RFC 4180: quotes, doubled quotes, CRLF).
std::vector<std::string> csv_record(std::string_view in, size_t* pos) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  size_t i = *pos;
  for (; i < in.size(); ++i) {
    char c = in[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < in.size() && in[i + 1] == '"') {
          fields.back().push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '\n') {
      ++i;
      break;
    } else if (c != '\r') {
      fields.back().push_back(c);
    }
  }
  *pos = i;
  return fields;
}

}  // namespace

// GET /admin/orders: orders of the last 30 days, newest first, with refund
// buttons for paid ones. Read from the reconciliation export.
Response admin_orders(Site& site, const Request& req, const Params&) {
  int64_t to = site.now() + 24 * 3600;
  int64_t from = to - (kAdminOrderDays + 1) * 24 * 3600;
  Result<std::string> csv = site.commerce().export_orders_csv(from, to);
  if (!csv.ok()) return site.error(req, csv.status());
  size_t pos = 0;
  std::vector<std::string> header = csv_record(*csv, &pos);
  auto column = [&](std::initializer_list<std::string_view> names) -> int {
    for (std::string_view n : names)
      for (size_t i = 0; i < header.size(); ++i)
        if (header[i] == n) return static_cast<int>(i);
    return -1;
  };
  int c_id = column({"id", "order_id"});
  int c_trade = column({"out_trade_no"});
  int c_user = column({"user_id"});
  int c_kind = column({"kind"});
  int c_subject = column({"subject"});
  int c_amount = column({"amount_fen"});
  int c_status = column({"status"});
  int c_method = column({"paid_with", "method"});
  int c_created = column({"created_at"});
  auto field = [](const std::vector<std::string>& r, int i) -> std::string {
    return i >= 0 && i < static_cast<int>(r.size()) ? r[i] : std::string();
  };
  nlohmann::json rows = nlohmann::json::array();
  while (pos < csv->size()) {
    std::vector<std::string> r = csv_record(*csv, &pos);
    std::optional<int64_t> id = parse_id(field(r, c_id));
    if (!id) continue;
    std::string status = field(r, c_status);
    std::optional<int64_t> fen = parse_id(field(r, c_amount));
    std::string method = field(r, c_method);
    const char* mlabel = method_label(method);
    rows.push_back({
        {"id", *id},
        {"out_trade_no", field(r, c_trade)},
        {"user_id", field(r, c_user)},
        {"kind", field(r, c_kind) == "document" ? "文档"
                 : field(r, c_kind) == "plan"   ? "会员"
                 : field(r, c_kind) == "topup"  ? "充值"
                                                : field(r, c_kind)},
        {"subject", field(r, c_subject)},
        {"amount", fen ? yuan(Fen(*fen)) : std::string("¥0.00")},
        {"status", status},
        {"status_label", status == "created"    ? "待支付"
                         : status == "paid"     ? "已支付"
                         : status == "refunded" ? "已退款"
                         : status == "expired"  ? "已关闭"
                                                : status.c_str()},
        {"method", *mlabel ? std::string(mlabel) : method},
        {"created", field(r, c_created)},
        // A top-up cannot go back to the wallet it filled; a wallet payment
        // has no provider to go back through.
        {"to_wallet", status == "paid" && field(r, c_kind) != "topup"},
        {"to_provider", status == "paid" && !method.empty() && method != "wallet"},
    });
  }
  // Newest first, at most kAdminOrderRows.
  std::vector<nlohmann::json> list(rows.begin(), rows.end());
  std::stable_sort(list.begin(), list.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["id"].get<int64_t>() > b["id"].get<int64_t>();
  });
  if (list.size() > kAdminOrderRows) list.resize(kAdminOrderRows);
  nlohmann::json ctx = site.page_context("订单管理");
  ctx["orders"] = std::move(list);
  ctx["days"] = kAdminOrderDays;
  return with_frame_guard(site.html(req, 200, "admin_orders.html", std::move(ctx)));
}

// POST /admin/orders/{id}/refund: to = wallet | provider; note optional.
Response admin_refund(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "order id must be a positive integer");
  std::string_view to = req.form->get("to");
  if (to != "wallet" && to != "provider")
    return site.error(req, Code::kInvalidArgument, "refund target must be wallet or provider");
  std::string note(req.form->get("note").substr(0, 200));
  if (note.empty()) note = fmt::format("admin {} refund", req.caller->account().email);
  Status s = site.commerce().refund(*id, to == "wallet", note);
  if (!s) return site.service_error(req, s, {"/admin/orders", "返回订单管理"});
  spdlog::info("order {} refunded to {} by user {}", *id, to, req.caller->user_id());
  return Site::redirect("/admin/orders?msg=refunded");
}

}  // namespace paidoc::web::handlers
