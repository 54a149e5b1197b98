// JSON API v1 for buying: orders, paying them, and the payment providers'
// notifications. Money is integer fen; times RFC 3339 UTC.
//
// The notification endpoint takes no credentials and no CSRF token (the
// provider calls it): the raw body and headers go to Commerce::notify,
// which verifies the signature and applies the payment at most once. Its
// answer (status and body) is what the provider expects to read.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "web/commerce_view.h"
#include "web/handlers.h"
#include "web/json_body.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

using commerce::Order;
using commerce::PayMethod;

// A positive integer member: the value; absent: 0; anything else: -1.
int64_t positive_int(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return 0;
  if (!it->is_number_integer()) return -1;
  int64_t v = it->get<int64_t>();
  return v > 0 ? v : -1;
}

std::optional<int64_t> order_id(const Params& params) { return parse_id(params.get("id")); }

// "name: value\n" lines (Request::notify_headers) into a map.
std::map<std::string, std::string> header_map(std::string_view lines) {
  std::map<std::string, std::string> out;
  while (!lines.empty()) {
    size_t nl = lines.find('\n');
    std::string_view line = lines.substr(0, nl);
    lines = nl == std::string_view::npos ? std::string_view() : lines.substr(nl + 1);
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    std::string value(line.substr(colon + 2));
    auto [it, fresh] = out.emplace(name, value);
    if (!fresh) it->second.append(", ").append(value);
  }
  return out;
}

}  // namespace

// POST /api/v1/orders {document_id} | {plan} | {topup_fen}, or
// {document_id, "pay": "wallet"}: bought from the wallet in one step (201
// with the paid order; 402 "余额不足" and no order when the balance is short).
Response api_order_create(Site& site, const Request& req, const Params&) {
  nlohmann::json object;
  if (JsonBodyError e = read_json_object(req.body, &object); e != JsonBodyError::kNone)
    return json_body_error(site, req, e);
  const nlohmann::json* body = &object;
  int64_t doc = positive_int(*body, "document_id");
  if (auto pay = body->find("pay"); pay != body->end()) {
    if (!pay->is_string() || *pay != "wallet")
      return site.error(req, Code::kInvalidArgument, "pay must be \"wallet\"");
    if (doc <= 0 || body->size() != 2)
      return site.error(req, Code::kInvalidArgument,
                        "pay: wallet takes exactly a positive integer document_id");
    const Caller& c = *req.caller;
    Result<Order> o = site.commerce().buy_document_with_wallet(c.user_id(), c.account().role, doc);
    if (!o.ok()) return site.service_error(req, o.status());
    Response r = site.json(201, order_json(*o));
    r.add_header("Location", fmt::format("/api/v1/orders/{}", o->id));
    return r;
  }
  int64_t topup = positive_int(*body, "topup_fen");
  auto plan_it = body->find("plan");
  bool has_plan = plan_it != body->end();
  int given = (doc != 0) + (topup != 0) + has_plan;
  if (given != 1)
    return site.error(req, Code::kInvalidArgument,
                      "give exactly one of document_id, plan, topup_fen");
  if (doc < 0 || topup < 0)
    return site.error(req, Code::kInvalidArgument,
                      "document_id and topup_fen must be positive integers");
  if (has_plan && (!plan_it->is_string() || plan_it->get<std::string>().empty()))
    return site.error(req, Code::kInvalidArgument, "plan must be a plan id string");
  const Caller& c = *req.caller;
  commerce::Commerce& shop = site.commerce();
  Result<Order> o = doc > 0     ? shop.order_document(c.user_id(), c.account().role, doc)
                    : topup > 0 ? shop.order_topup(c.user_id(), Fen(topup))
                                : shop.order_plan(c.user_id(), plan_it->get<std::string>());
  if (!o.ok()) return site.service_error(req, o.status());
  Response r = site.json(201, order_json(*o));
  r.add_header("Location", fmt::format("/api/v1/orders/{}", o->id));
  return r;
}

// GET /api/v1/orders: the caller's orders, newest first.
Response api_orders(Site& site, const Request& req, const Params&) {
  Result<std::vector<Order>> list = site.commerce().orders(req.caller->user_id());
  if (!list.ok()) return site.error(req, list.status());
  sort_newest_first(&*list);
  nlohmann::json items = nlohmann::json::array();
  for (const Order& o : *list) items.push_back(order_json(o));
  return site.json(200, {{"items", std::move(items)}});
}

// GET /api/v1/orders/{id}
Response api_order(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = order_id(params);
  if (!id) return site.error(req, Code::kInvalidArgument, "order id must be a positive integer");
  Result<Order> o = site.commerce().order(req.caller->user_id(), *id);
  if (!o.ok()) return site.error(req, o.status());
  return site.json(200, order_json(*o));
}

// POST /api/v1/orders/{id}/pay {method, [channel], [openid]}: the order,
// plus redirect_url (Alipay, WeChat H5, sandbox), code_url (WeChat Pay
// Native) or jsapi (WeChat JSAPI: the getBrandWCPayRequest parameters) for
// provider methods. channel: "desktop" | "phone" | "wechat_browser"; absent:
// from the User-Agent. openid: the payer's (JSAPI). The client address is
// Site::client's.
Response api_order_pay(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = order_id(params);
  if (!id) return site.error(req, Code::kInvalidArgument, "order id must be a positive integer");
  nlohmann::json object;
  if (JsonBodyError e = read_json_object(req.body, &object); e != JsonBodyError::kNone)
    return json_body_error(site, req, e);
  const nlohmann::json* body = &object;
  auto m = body->find("method");
  std::optional<PayMethod> method = m != body->end() && m->is_string()
                                        ? commerce::parse_method(m->get<std::string>())
                                        : std::nullopt;
  if (!method)
    return site.error(req, Code::kInvalidArgument,
                      "method must be wallet, alipay, wechat or sandbox");
  commerce::PayContext ctx;
  ctx.channel = channel_from_user_agent(req.user_agent);
  ctx.client_ip = site.client(req).ip;
  if (auto c = body->find("channel"); c != body->end()) {
    std::optional<commerce::Channel> channel =
        c->is_string() ? parse_channel(c->get<std::string>()) : std::nullopt;
    if (!channel)
      return site.error(req, Code::kInvalidArgument,
                        "channel must be desktop, phone or wechat_browser");
    ctx.channel = *channel;
  }
  if (auto o = body->find("openid"); o != body->end()) {
    if (!o->is_string() || o->get<std::string>().empty() || o->get<std::string>().size() > 128)
      return site.error(req, Code::kInvalidArgument, "openid must be a non-empty string");
    ctx.openid = o->get<std::string>();
  }
  Result<commerce::PayResult> paid = site.commerce().pay(req.caller->user_id(), *id, *method, ctx);
  if (!paid.ok()) return site.service_error(req, paid.status());
  nlohmann::json j = order_json(paid->order);
  if (*method != PayMethod::kWallet) {
    const commerce::PaymentStart& start = paid->start;
    if (!start.redirect_url.empty()) j["redirect_url"] = start.redirect_url;
    if (!start.code_url.empty()) j["code_url"] = start.code_url;
    if (!start.jsapi.empty()) {
      nlohmann::json params = nlohmann::json::object();
      for (const auto& [k, v] : start.jsapi) params[k] = v;
      j["jsapi"] = std::move(params);
    }
    if (start.redirect_url.empty() && start.code_url.empty() && start.jsapi.empty()) {
      spdlog::warn("order {}: {} gave nothing to pay with (gateway unreachable?)", *id,
                   commerce::method_name(*method));
      return site.error(req, Code::kUnavailable, "payment gateway unavailable, try again later");
    }
  }
  return site.json(200, j);
}

// POST /api/v1/payments/{provider}/notify
Response api_payment_notify(Site& site, const Request& req, const Params& params) {
  std::string provider(params.get("provider"));
  if (!site.commerce().provider(provider)) return site.not_found(req);
  commerce::RawNotification raw{header_map(req.notify_headers), std::string(req.body)};
  commerce::NotifyAnswer answer = site.commerce().notify(provider, raw);
  bool ok = answer.http_status >= 200 && answer.http_status < 300;
  if (!ok)
    spdlog::warn("payment notification from {} refused ({}): {}", provider, answer.http_status,
                 answer.reason);
  else if (!answer.applied && !answer.reason.empty())
    spdlog::info("payment notification from {} not applied: {}", provider, answer.reason);
  Response r;
  r.status = answer.http_status;
  r.body = std::move(answer.body);
  r.add_header("Content-Type", provider == "wechat" ? "application/json; charset=utf-8"
                                                    : "text/plain; charset=utf-8");
  r.add_header("X-Content-Type-Options", "nosniff");
  r.add_header("Cache-Control", "no-store");
  return r;
}

}  // namespace paidoc::web::handlers
