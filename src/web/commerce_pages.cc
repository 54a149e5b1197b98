// Buying, as zh-CN HTML pages: order creation from the paywall card, the VIP
// plans and the top-up form; the order page with its payment choices;
// starting a payment (wallet, Alipay page or WAP, WeChat Pay QR code, H5 or
// JSAPI with its OAuth step, sandbox); the sandbox's stand-in gateway page;
// and the admin order list with refunds and their tracked state.
//
// Where the buyer pays from (commerce::Channel) is decided from the
// User-Agent by channel_from_user_agent (commerce_view.h), and the client
// address is Site::client's (the one rate limits use).
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
#include "commerce/crypto.h"
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
constexpr int64_t kAdminOrdersPerPage = 50;

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

// Cookies of the payment flows.
constexpr std::string_view kPayingCookie = "paidoc_paying";   // order sent to a gateway page
constexpr std::string_view kOpenidCookie = "paidoc_wx_openid";  // WeChat openid, signed
constexpr std::string_view kBackCookie = "paidoc_back";       // where a plan/top-up leads back
constexpr int64_t kOauthStateSeconds = 15 * 60;
constexpr int64_t kOpenidCookieSeconds = 30 * 24 * 3600;

std::string cookie_attributes(const Site& site) {
  return site.config().secure_cookies ? "; HttpOnly; SameSite=Lax; Secure"
                                      : "; HttpOnly; SameSite=Lax";
}

// 32 hex digits of HMAC-SHA256 under the caller's session token: a value
// only this session can make or check.
std::string session_mac(const Request& req, std::string_view what) {
  return commerce::crypto::hex_encode(commerce::crypto::hmac_sha256(req.caller->token, what))
      .substr(0, 32);
}

// The OAuth state for paying order `id` in this session: "o<id>t<time>m<mac>"
// ([0-9a-z], as WeChat admits), valid kOauthStateSeconds.
std::string oauth_state(const Request& req, int64_t id, int64_t now) {
  return fmt::format("o{}t{}m{}", id, now,
                     session_mac(req, fmt::format("wechat-oauth|{}|{}", id, now)));
}

// The order id a state made by this session for it names; nullopt when the
// state is malformed, forged, from another session or too old.
std::optional<int64_t> check_oauth_state(const Request& req, std::string_view state, int64_t now) {
  if (state.size() > 128 || state.empty() || state[0] != 'o') return std::nullopt;
  size_t t = state.find('t'), m = state.find('m');
  if (t == std::string_view::npos || m == std::string_view::npos || m < t) return std::nullopt;
  std::optional<int64_t> id = parse_id(state.substr(1, t - 1));
  std::optional<int64_t> at = parse_id(state.substr(t + 1, m - t - 1));
  if (!id || !at) return std::nullopt;
  std::string want = session_mac(req, fmt::format("wechat-oauth|{}|{}", *id, *at));
  if (!auth::constant_time_equal(want, state.substr(m + 1))) return std::nullopt;
  if (*at > now + 60 || now - *at > kOauthStateSeconds) return std::nullopt;
  return id;
}

bool valid_openid(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           c == '_' || c == '-';
  });
}

// The openid this session remembered (an HttpOnly cookie "<openid>.<mac>"
// signed under the session token); "" when none or not this session's.
std::string session_openid(const Request& req) {
  std::string_view v = cookie_value(req.cookie, kOpenidCookie);
  size_t dot = v.rfind('.');
  if (dot == std::string_view::npos) return {};
  std::string_view openid = v.substr(0, dot);
  if (!valid_openid(openid)) return {};
  std::string want = session_mac(req, fmt::format("wechat-openid|{}", openid));
  if (!auth::constant_time_equal(want, v.substr(dot + 1))) return {};
  return std::string(openid);
}

std::string openid_cookie(const Site& site, const Request& req, const std::string& openid) {
  return fmt::format("{}={}.{}; Path=/; Max-Age={}{}", kOpenidCookie, openid,
                     session_mac(req, fmt::format("wechat-openid|{}", openid)),
                     kOpenidCookieSeconds, cookie_attributes(site));
}

// Remembers, for the order's own path, that the buyer was sent to a gateway
// page: coming back there, the order page says it is confirming the payment.
std::string paying_cookie(const Site& site, const Order& o) {
  int64_t left = std::max<int64_t>(60, o.expires_at - site.now() + 300);
  return fmt::format("{}={}; Path=/orders/{}; Max-Age={}{}", kPayingCookie, o.id, o.id, left,
                     cookie_attributes(site));
}

// Remembers, for the order's own path, the same-site page the reader came
// from (a plan from the paywall, a top-up from a document's order), so that
// the way back survives the gateway: its return and the sandbox come back to
// /orders/{id} without a query.
std::string back_cookie(const Site& site, const Order& o, std::string_view back) {
  int64_t left = std::max<int64_t>(60, o.expires_at - site.now() + 300);
  return fmt::format("{}={}.{}; Path=/orders/{}; Max-Age={}{}", kBackCookie, o.id,
                     percent_encode(back), o.id, left, cookie_attributes(site));
}

// Forgets the paying cookie of order `o` (it led the reader on once).
std::string paying_cookie_cleared(const Site& site, const Order& o) {
  return fmt::format("{}=; Path=/orders/{}; Max-Age=0{}", kPayingCookie, o.id,
                     cookie_attributes(site));
}

commerce::PayContext pay_context(const Site& site, const Request& req) {
  commerce::PayContext ctx;
  ctx.channel = channel_from_user_agent(req.user_agent);
  ctx.client_ip = site.client(req).ip;
  return ctx;
}

// The `back` of a query or form: a same-site path, or "".
std::string back_path(std::optional<std::string> raw) {
  if (!raw || raw->empty()) return {};
  std::optional<std::string> safe = safe_local_path(*raw);
  return safe ? *safe : std::string();
}

// The way back of order `o`'s page: `?back=`, else the order's back
// cookie ("<order id>.<path>", for this order only); a same-site path or "".
std::string order_back(const Request& req, const Order& o) {
  std::string back = back_path(query_param(req.query, "back"));
  if (!back.empty()) return back;
  std::string_view v = cookie_value(req.cookie, kBackCookie);
  std::string prefix = std::to_string(o.id) + ".";
  if (v.substr(0, prefix.size()) != prefix) return {};
  return back_path(percent_decode(v.substr(prefix.size()), false));
}

// The order page: details and, while unpaid, the ways to pay — or, when
// the buyer just came back from a gateway page (`confirming`), that the
// payment is being confirmed, refreshing itself. `back`: a same-site path
// to lead back to (top-ups and plans).
Response order_page(Site& site, const Request& req, int status, const Order& o,
                    std::string_view error = {}, bool confirming = false,
                    std::string_view back = {}) {
  commerce::Commerce& shop = site.commerce();
  nlohmann::json ctx = site.page_context("订单详情");
  ctx["order"] = order_context(o);
  if (!error.empty()) ctx["error"] = error;
  if (!back.empty()) ctx["back"] = back;
  if (o.status == OrderStatus::kCreated && confirming) {
    ctx["confirming"] = true;
    ctx["refresh"] = std::to_string(kWechatRefreshSeconds);
    ctx["refresh_seconds"] = kWechatRefreshSeconds;
  } else if (o.status == OrderStatus::kCreated) {
    nlohmann::json pay = nlohmann::json::object();
    if (o.kind != OrderKind::kTopUp) {
      Result<Fen> balance = shop.balance(req.caller->user_id());
      if (!balance.ok()) return site.error(req, balance.status());
      // Offered first only when it covers the amount; otherwise named after
      // the gateways, with its balance and a top-up that leads back here.
      pay["wallet"] = {{"balance", yuan(*balance)},
                       {"enough", *balance >= o.amount},
                       {"topup_url", fmt::format("/wallet/topup?back={}",
                                                 percent_encode(fmt::format("/orders/{}", o.id)))}};
    }
    bool any = pay.contains("wallet");
    for (const char* name : {"alipay", "wechat", "sandbox"}) {
      bool has = shop.provider(name) != nullptr;
      pay[name] = has;
      any = any || has;
    }
    pay["none"] = !any;
    commerce::Channel channel = channel_from_user_agent(req.user_agent);
    pay["wechat_note"] = channel != commerce::Channel::kDesktop && shop.supports("wechat", channel)
                             ? "在微信中完成支付"
                             : "扫码支付";
    ctx["pay"] = std::move(pay);
  }
  Response r = Site::allow_gateway_forms(with_frame_guard(site.html(req, status, "order.html", std::move(ctx))));
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
  ctx["max"] = site.commerce().topup_limit().yuan_string();
  nlohmann::json presets = nlohmann::json::array();
  for (int y : {10, 30, 50, 100}) presets.push_back(y);
  ctx["presets"] = std::move(presets);
  if (!error.empty()) ctx["error"] = error;
  // Where the reader came from, carried through the order to its page.
  std::string back = req.form ? back_path(std::string(req.form->get("back")))
                              : back_path(query_param(req.query, "back"));
  if (!back.empty()) ctx["back"] = back;
  return with_frame_guard(site.html(req, status, "topup.html", std::move(ctx)));
}

// Defined with the payment flows below.
Response start_payment(Site& site, const Request& req, const Order& order, PayMethod method,
                       std::string_view back);

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

// POST /orders: document_id [pay=wallet|alipay|wechat|sandbox] | plan |
// topup (yuan), and an optional `back` (a same-site path the reader came
// from, kept for the order page's way back and, in a cookie for the order's
// path, for where the reader lands once it is paid). 303 to the order page;
// with pay=wallet straight back to the unlocked document; with a gateway
// method (the paywall's buttons) on to that gateway for the order, an
// unpaid order for the same document being reused (Commerce::order_document).
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
    // A gateway chosen on the paywall: straight on to it for this order.
    if (std::optional<PayMethod> m = commerce::parse_method(f.get("pay"));
        m && *m != PayMethod::kWallet)
      return start_payment(site, req, *o, *m, {});
  } else if (f.has("plan")) {
    o = shop.order_plan(c.user_id(), std::string(f.get("plan")));
    if (!o.ok()) return site.service_error(req, o.status(), {"/vip", "返回会员页"});
  } else if (f.has("topup")) {
    std::string_view text = f.get("topup");
    Result<Fen> amount = Fen::parse_yuan(text);
    if (!amount.ok() || amount->value() <= 0)
      return topup_page_with(site, req, 400, text, "请输入正确的充值金额（元，最多两位小数）。");
    // The service holds the limit (Commerce::topup_limit) and says it.
    o = shop.order_topup(c.user_id(), *amount);
    if (!o.ok()) {
      if (o.status().code() == Code::kInvalidArgument)
        return topup_page_with(site, req, 400, text, o.status().message());
      return site.error(req, o.status());
    }
  } else {
    return site.error(req, Code::kInvalidArgument, "nothing to order");
  }
  std::string back = o->kind == OrderKind::kDocument ? std::string()
                                                     : back_path(std::string(f.get("back")));
  if (!back.empty()) {
    Response r = Site::redirect(fmt::format("/orders/{}?back={}", o->id, percent_encode(back)));
    r.add_header("Set-Cookie", back_cookie(site, *o, back));
    return r;
  }
  return Site::redirect(fmt::format("/orders/{}", o->id));
}

// GET /orders/{id}[?back=/path][&choose=1]: also the gateways' return page
// (Alipay return_url, WeChat H5 redirect_url). Back from a gateway page
// (the paidoc_paying cookie names this order) while the order is still
// unpaid: "正在确认支付结果…", refreshing itself; ?choose=1 shows the ways to
// pay instead.
Response order_view(Site& site, const Request& req, const Params& params) {
  auto found = caller_order(site, req, params);
  if (auto* r = std::get_if<Response>(&found)) return std::move(*r);
  const Order& o = std::get<Order>(found);
  // Back from a top-up (?msg=topped_up): the ways to pay, now with the money.
  bool choose = query_param(req.query, "choose").value_or("") == "1" ||
                query_param(req.query, "msg").value_or("") == "topped_up";
  bool paying = cookie_value(req.cookie, kPayingCookie) == std::to_string(o.id);
  std::string back = order_back(req, o);
  // Back from a gateway page and paid: on to what was bought, once.
  if (paying) {
    if (std::optional<std::string> next = after_payment(o, back)) {
      Response r = Site::redirect(*next);
      r.add_header("Set-Cookie", paying_cookie_cleared(site, o));
      return r;
    }
  }
  return order_page(site, req, 200, o, {}, paying && !choose, back);
}

namespace {

// Where to send a buyer in WeChat's browser who has no openid yet: the
// OAuth step, which comes back to /pay/wechat/oauth with a state bound to
// this order and this session. nullopt when the provider cannot give one.
std::optional<std::string> wechat_oauth_redirect(Site& site, const Request& req, const Order& o) {
  std::string back = site.config().base_url + "/pay/wechat/oauth";
  Result<std::string> url =
      site.commerce().oauth_url("wechat", back, oauth_state(req, o.id, site.now()));
  if (!url.ok() || url->empty()) {
    spdlog::warn("order {}: no WeChat OAuth URL: {}", o.id,
                 url.ok() ? std::string("empty") : url.status().to_string());
    return std::nullopt;
  }
  return std::move(url).value();
}

// The answer to a failed Commerce::pay on a page.
Response pay_failed(Site& site, const Request& req, const Order& order, const Status& s,
                    std::string_view what) {
  switch (s.code()) {
    case Code::kPaymentRequired:
      return order_page(site, req, 402, order, "余额不足，请先充值或选择其他支付方式。");
    case Code::kConflict:
    case Code::kInvalidArgument: {
      // The order may have changed meanwhile: show it as it is now.
      Result<Order> now = site.commerce().order(req.caller->user_id(), order.id);
      return order_page(site, req, http_status(s.code()), now.ok() ? *now : order,
                        s.message().empty() ? fmt::format("无法使用{}支付此订单。", what)
                                            : s.message());
    }
    case Code::kUnavailable:
      return order_page(site, req, 503, order,
                        fmt::format("暂时无法连接{}，请稍后再试或选择其他支付方式。", what));
    default:
      return site.error(req, s);
  }
}

// Sends the buyer to a gateway page (Alipay, WeChat H5, sandbox) and
// remembers it for the order's return page.
Response to_gateway(Site& site, const Order& o, const std::string& url) {
  Response r = Site::redirect(url);
  r.add_header("Set-Cookie", paying_cookie(site, o));
  return r;
}

// The JSAPI page: the 确认支付 button and /static/wxpay.js, which hands the
// signed parameters (data-* attributes) to WeixinJSBridge.
Response jsapi_page(Site& site, const Request& req, const Order& order,
                    const commerce::PaymentStart& start) {
  nlohmann::json ctx = site.page_context("微信支付");
  ctx["order"] = order_context(order);
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : start.jsapi) params[k] = v;
  ctx["jsapi"] = std::move(params);
  ctx["noindex"] = true;
  std::string js = "/static/wxpay.js";
  if (std::shared_ptr<const Prepared> p = site.static_file("wxpay.js"))
    js += "?v=" + p->identity.etag.substr(1, 10);
  ctx["wxpay_js"] = js;
  Response r = with_frame_guard(site.html(req, 200, "wechat_jsapi.html", std::move(ctx)));
  r.add_header("Set-Cookie", paying_cookie(site, order));
  return r;
}

// WeChat Pay for this request's channel, once the order is known to be
// unpaid: JSAPI inside WeChat (after the OAuth step), H5 on a phone, the
// QR code page otherwise. `openid`: known for this session, or "".
Response pay_wechat(Site& site, const Request& req, const Order& order, const std::string& openid,
                    bool from_form) {
  commerce::Commerce& shop = site.commerce();
  commerce::PayContext ctx = pay_context(site, req);
  bool own = ctx.channel != commerce::Channel::kDesktop && shop.supports("wechat", ctx.channel);
  if (own && ctx.channel == commerce::Channel::kWechatBrowser) {
    if (openid.empty()) {
      std::optional<std::string> oauth = wechat_oauth_redirect(site, req, order);
      if (oauth) return Site::redirect(*oauth);
      own = false;  // no OAuth step: the QR code, as on a desktop
    }
    // The JSAPI page is a GET, so that reloading it does not post again.
    if (from_form) return Site::redirect(fmt::format("/orders/{}/wechat", order.id));
    ctx.openid = openid;
  }
  if (!own) {
    // The QR code lives on its own page, which refreshes itself.
    if (from_form) return Site::redirect(fmt::format("/orders/{}/wechat", order.id));
    ctx = commerce::PayContext{commerce::Channel::kDesktop, ctx.client_ip, {}};
  }
  Result<commerce::PayResult> paid =
      shop.pay(req.caller->user_id(), order.id, PayMethod::kWechat, ctx);
  if (!paid.ok()) return pay_failed(site, req, order, paid.status(), "微信支付");
  const commerce::PaymentStart& start = paid->start;
  if (!start.jsapi.empty()) return jsapi_page(site, req, order, start);
  if (!start.redirect_url.empty()) return to_gateway(site, order, start.redirect_url);
  if (from_form && !start.code_url.empty())
    return Site::redirect(fmt::format("/orders/{}/wechat", order.id));
  std::string svg = qr_svg(start.code_url);
  if (svg.empty()) {
    // No code_url: the WeChat Pay API could not be reached from here.
    spdlog::warn("order {}: WeChat Pay gave no code_url (gateway unreachable?)", order.id);
    return order_page(site, req, 503, order,
                      "暂时无法连接微信支付，未能生成付款二维码。请稍后再试或选择其他支付方式。");
  }
  nlohmann::json page = site.page_context("微信支付");
  page["order"] = order_context(order);
  page["qr_src"] = svg_data_uri(svg);
  page["refresh"] = std::to_string(kWechatRefreshSeconds);
  page["refresh_seconds"] = kWechatRefreshSeconds;
  return with_frame_guard(site.html(req, 200, "wechat_pay.html", std::move(page)));
}

// Starts paying an unpaid order of the caller with `method`: the wallet
// pays at once and leads on (after_payment, with `back`); WeChat Pay goes
// its own way (pay_wechat); Alipay and the sandbox send the buyer to the
// gateway page.
Response start_payment(Site& site, const Request& req, const Order& order, PayMethod method,
                       std::string_view back) {
  if (method == PayMethod::kWechat) return pay_wechat(site, req, order, session_openid(req), true);
  Result<commerce::PayResult> paid =
      site.commerce().pay(req.caller->user_id(), order.id, method, pay_context(site, req));
  if (!paid.ok())
    return pay_failed(site, req, order, paid.status(),
                      method == PayMethod::kAlipay ? "支付宝" : "该方式");
  if (method == PayMethod::kWallet) {
    std::optional<std::string> next = after_payment(paid->order, back);
    return Site::redirect(next ? *next : fmt::format("/orders/{}", order.id));
  }
  if (paid->start.redirect_url.empty())
    return order_page(site, req, 503, order,
                      "暂时无法连接支付平台，请稍后再试或选择其他支付方式。");
  return to_gateway(site, order, paid->start.redirect_url);
}

}  // namespace

// POST /orders/{id}/pay: method = wallet | alipay | wechat | sandbox. The
// channel (desktop, phone, WeChat's browser) comes from the User-Agent.
Response order_pay(Site& site, const Request& req, const Params& params) {
  auto found = caller_order(site, req, params);
  if (auto* r = std::get_if<Response>(&found)) return std::move(*r);
  const Order& order = std::get<Order>(found);
  std::optional<PayMethod> method = commerce::parse_method(req.form->get("method"));
  if (!method) return order_page(site, req, 400, order, "请选择支付方式。");
  if (order.status != OrderStatus::kCreated)
    return Site::redirect(fmt::format("/orders/{}", order.id));
  return start_payment(site, req, order, *method, order_back(req, order));
}

// GET /orders/{id}/wechat: WeChat Pay for the request's channel — the QR
// code to scan (refreshing itself until the order is paid, then on to what
// was bought), the JSAPI page inside WeChat, or H5 on a phone.
Response order_wechat(Site& site, const Request& req, const Params& params) {
  auto found = caller_order(site, req, params);
  if (auto* r = std::get_if<Response>(&found)) return std::move(*r);
  const Order& order = std::get<Order>(found);
  if (order.status == OrderStatus::kPaid) {
    std::optional<std::string> next = after_payment(order, order_back(req, order));
    return Site::redirect(next ? *next : fmt::format("/orders/{}", order.id));
  }
  if (order.status != OrderStatus::kCreated)
    return Site::redirect(fmt::format("/orders/{}", order.id));
  return pay_wechat(site, req, order, session_openid(req), false);
}

// GET /pay/wechat/oauth?code=&state=: WeChat's OAuth step comes back here.
// The state must be one this session made for the order (oauth_state);
// the openid is kept for the session in a signed HttpOnly cookie, and the
// payment goes on (the JSAPI page).
Response wechat_oauth(Site& site, const Request& req, const Params&) {
  bool bad = false;
  std::string state = query_param(req.query, "state", &bad).value_or("");
  std::string code = query_param(req.query, "code", &bad).value_or("");
  std::optional<int64_t> id = bad ? std::nullopt : check_oauth_state(req, state, site.now());
  if (!id) {
    nlohmann::json ctx = site.page_context("支付授权已失效");
    ctx["heading"] = "支付授权已失效";
    ctx["text"] = "微信授权链接无效或已过期，请返回订单重新发起支付。";
    ctx["home_link"] = true;
    ctx["noindex"] = true;
    return site.html(req, 403, "message.html", std::move(ctx));
  }
  Result<Order> found = site.commerce().order(req.caller->user_id(), *id);
  if (!found.ok()) {
    if (found.status().code() == Code::kNotFound) return site.not_found(req);
    return site.error(req, found.status());
  }
  const Order& order = *found;
  if (order.status != OrderStatus::kCreated)
    return Site::redirect(fmt::format("/orders/{}", order.id));
  if (code.empty() || code.size() > 256)
    return order_page(site, req, 400, order,
                      "未获得微信授权，无法在微信内支付。请重试或选择其他支付方式。");
  Result<std::string> openid = site.commerce().openid("wechat", code);
  if (!openid.ok() || !valid_openid(*openid)) {
    spdlog::warn("order {}: WeChat OAuth gave no openid: {}", order.id,
                 openid.ok() ? std::string("malformed") : openid.status().to_string());
    return order_page(site, req, 503, order,
                      "暂时无法获取微信授权，请稍后再试或选择其他支付方式。");
  }
  Response r = pay_wechat(site, req, order, *openid, false);
  r.add_header("Set-Cookie", openid_cookie(site, req, *openid));
  return r;
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
  std::string back = back_path(query_param(req.query, "back"));
  if (!back.empty()) ctx["back"] = back;
  // Signing in comes back here, with the way back to the document kept.
  ctx["login_url"] = "/login?next=" +
                     percent_encode(back.empty() ? std::string("/vip") : "/vip?back=" + percent_encode(back));
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

// The statuses and methods the order filters offer (store/enums.h,
// commerce::PayMethod), in the order the form lists them.
constexpr OrderStatus kStatusFilters[] = {OrderStatus::kCreated, OrderStatus::kPaid,
                                          OrderStatus::kRefunded, OrderStatus::kExpired,
                                          OrderStatus::kCredited};
constexpr PayMethod kMethodFilters[] = {PayMethod::kWallet, PayMethod::kAlipay,
                                        PayMethod::kWechat, PayMethod::kSandbox};
constexpr size_t kMaxEmailFilterBytes = 254;

// The filters of /admin/orders as the form shows them (what was typed) and
// as the store wants them. error: a zh-CN message naming the first bad
// field (that filter is then left out).
struct OrderFilters {
  std::string status, method, from, to, q;
  commerce::OrderQuery query;
  std::string error;
};

OrderFilters read_order_filters(const Request& req) {
  OrderFilters f;
  auto get = [&](std::string_view name) { return query_param(req.query, name).value_or(""); };
  auto fail = [&](std::string message) {
    if (f.error.empty()) f.error = std::move(message);
  };
  f.status = get("status");
  f.method = get("method");
  f.from = get("from");
  f.to = get("to");
  f.q = get("q");
  if (!f.status.empty()) {
    f.query.status = store::parse_order_status(f.status);
    if (!f.query.status) {
      fail("订单状态无效，请从列表中选择。");
      f.status.clear();
    }
  }
  if (!f.method.empty()) {
    if (commerce::parse_method(f.method)) {
      f.query.paid_with = f.method;
    } else {
      fail("支付方式无效，请从列表中选择。");
      f.method.clear();
    }
  }
  if (!f.from.empty()) {
    if (auto t = parse_china_date(f.from)) f.query.from = *t;
    else fail("开始日期格式应为 YYYY-MM-DD。");
  }
  if (!f.to.empty()) {
    // The end date is included: orders before the next day's 00:00.
    if (auto t = parse_china_date(f.to)) f.query.to = *t + 86400;
    else fail("结束日期格式应为 YYYY-MM-DD。");
  }
  if (f.query.from != 0 && f.query.to != 0 && f.query.to <= f.query.from) {
    fail("结束日期不能早于开始日期。");
    f.query.from = f.query.to = 0;
  }
  const std::string email = auth::normalize_email(f.q);
  if (email.size() > kMaxEmailFilterBytes) fail("买家邮箱过长。");
  else f.query.email = email;
  return f;
}

// The query string of the filters, for the pager's links.
std::string order_filter_query(const OrderFilters& f) {
  std::string q;
  for (const auto& [name, v] : {std::pair<const char*, const std::string&>{"status", f.status},
                                {"method", f.method},
                                {"from", f.from},
                                {"to", f.to},
                                {"q", f.q}}) {
    if (v.empty()) continue;
    q += fmt::format("{}={}&", name, percent_encode(v));
  }
  return q;
}

// The admin order list: every order, newest first, filtered by status,
// method, China-time dates and part of the buyer's email, a page at a
// time; refund buttons for paid ones and the tracked refunds of
// provider-paid ones. `error`: what a refund attempt answered, shown above
// the list (a bad filter's message shows the same way, with 400).
Response admin_orders_page(Site& site, const Request& req, int status, std::string_view error) {
  std::optional<int64_t> page = parse_page(req.query);
  if (!page)
    return site.error(req, Code::kInvalidArgument, "page must be an integer from 1 to 100000");
  OrderFilters f = read_order_filters(req);
  if (!f.error.empty() && error.empty()) {
    status = 400;
    error = f.error;
  }
  f.query.offset = (*page - 1) * kAdminOrdersPerPage;
  f.query.limit = kAdminOrdersPerPage;
  Result<commerce::OrderList> found = site.commerce().list_orders(f.query);
  if (!found.ok()) return site.error(req, found.status());

  nlohmann::json list = nlohmann::json::array();
  for (const commerce::ListedOrder& item : found->items) {
    const Order& o = item.order;
    const char* mlabel = method_label(o.paid_with);
    const bool paid = o.status == OrderStatus::kPaid;
    const bool provider_paid = !o.paid_with.empty() && o.paid_with != "wallet";
    nlohmann::json row = {
        {"id", o.id},
        {"out_trade_no", o.out_trade_no},
        {"email", item.buyer_email},
        {"kind", kind_label(o.kind)},
        {"subject", o.subject},
        {"amount", yuan(o.amount)},
        {"status", store::to_string(o.status)},
        {"status_label", status_label(o.status)},
        {"method", *mlabel ? std::string(mlabel) : o.paid_with},
        {"created", display_time(o.created_at)},
        {"paid", o.paid_at > 0 ? display_time(o.paid_at) : std::string()},
        {"refunded", o.refunded_at > 0 ? display_time(o.refunded_at) : std::string()},
        // A top-up cannot go back to the wallet it filled; a wallet payment
        // has no provider to go back through.
        {"to_wallet", paid && o.kind != OrderKind::kTopUp},
        {"to_provider", paid && site.commerce().can_refund(o.paid_with)},
    };
    row["refundable"] = row["to_wallet"].get<bool>() || row["to_provider"].get<bool>();
    // Refunds through a provider (ours and those made at its console), as
    // tracked: state, amount, refund number, time.
    if (provider_paid) {
      Result<std::vector<commerce::Refund>> refunds = site.commerce().refunds(o.id);
      if (!refunds.ok()) return site.error(req, refunds.status());
      nlohmann::json items = nlohmann::json::array();
      for (const commerce::Refund& r : *refunds) items.push_back(refund_context(r));
      row["has_refunds"] = !items.empty();
      row["refunds"] = std::move(items);
    }
    list.push_back(std::move(row));
  }

  nlohmann::json statuses = nlohmann::json::array();
  for (OrderStatus st : kStatusFilters) {
    std::string value(store::to_string(st));
    statuses.push_back({{"value", value}, {"label", status_label(st)}, {"selected", f.status == value}});
  }
  nlohmann::json methods = nlohmann::json::array();
  for (PayMethod m : kMethodFilters) {
    std::string value = commerce::method_name(m);
    methods.push_back({{"value", value}, {"label", method_label(value)}, {"selected", f.method == value}});
  }
  const std::string fq = order_filter_query(f);
  const bool more = *page * kAdminOrdersPerPage < found->total;
  nlohmann::json pager = {{"page", *page}, {"show", *page > 1 || more}};
  if (*page > 1) pager["prev_url"] = fmt::format("/admin/orders?{}page={}", fq, *page - 1);
  if (more) pager["next_url"] = fmt::format("/admin/orders?{}page={}", fq, *page + 1);

  nlohmann::json ctx = site.page_context("订单管理");
  ctx["console_section"] = "orders";
  ctx["orders"] = std::move(list);
  ctx["total"] = found->total;
  ctx["statuses"] = std::move(statuses);
  ctx["methods"] = std::move(methods);
  ctx["from"] = f.from;
  ctx["to"] = f.to;
  ctx["q"] = f.q;
  ctx["filtered"] = !fq.empty();
  ctx["pager"] = std::move(pager);
  if (!error.empty()) ctx["error"] = error;
  return site.html(req, status, "admin_orders.html", std::move(ctx));
}

// What an admin reads when Commerce::refund refuses or fails.
std::string refund_error_text(const Status& s) {
  switch (s.code()) {
    case Code::kNotFound:
      return "退款失败：订单不存在。";
    case Code::kConflict:
      return s.message().empty() ? "退款失败：该订单当前不能退款（未支付或已退款）。"
                                 : "退款失败：" + s.message();
    case Code::kInvalidArgument:
      return s.message().empty() ? "退款失败：该订单不能用这种方式退款。"
                                 : "退款失败：" + s.message();
    case Code::kPaymentRequired:
      return s.message().empty() ? "退款失败：用户钱包余额不足以退回这笔充值。"
                                 : "退款失败：" + s.message();
    case Code::kUnavailable:
      return "退款未完成：暂时无法连接支付平台，请稍后重试（使用相同退款单号，不会重复退款）。";
    default:
      return "退款失败：服务器内部错误，请查看日志后重试。";
  }
}

}  // namespace

// GET /admin/orders
Response admin_orders(Site& site, const Request& req, const Params&) {
  return admin_orders_page(site, req, 200, {});
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
  Status s = site.commerce().refund(*id, to == "wallet", note, site.actor(req));
  if (!s) {
    if (s.code() == Code::kInternal) spdlog::error("refund of order {}: {}", *id, s.to_string());
    else spdlog::warn("refund of order {} to {} refused: {}", *id, to, s.to_string());
    return admin_orders_page(site, req, http_status(s.code()), refund_error_text(s));
  }
  spdlog::info("order {} refunded to {} by user {}", *id, to, req.caller->user_id());
  return Site::redirect("/admin/orders?msg=refunded");
}

}  // namespace paidoc::web::handlers
