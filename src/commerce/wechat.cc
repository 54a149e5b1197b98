// WeChat Pay API v3 (直连商户): Native, H5 and JSAPI payments, trade query
// and close, refunds and refund queries, payment and refund notifications,
// and the OAuth step that gives JSAPI the payer's openid.
//
// Requests. Every API call is signed with the merchant private key:
//   message = "{METHOD}\n{path?query}\n{timestamp}\n{nonce}\n{body}\n"
//             (a GET has an empty body)
//   Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
//       signature="{base64 SHA256withRSA(message)}",timestamp="…",
//       serial_no="{merchant_serial_no}"
//   Accept, Content-Type: application/json
//   Wechatpay-Serial: {public_key_id}      (public-key mode only)
// and goes through WechatConfig::transport (https_request by default).
//
// Answers. WeChat signs "{Wechatpay-Timestamp}\n{Wechatpay-Nonce}\n{body}\n"
// with the key Wechatpay-Serial names: one of the platform certificates
// (several during a rotation) or the WeChat Pay public key ("PUB_KEY_ID_…").
// An answer is believed only when that serial is configured, the timestamp
// is within max_clock_skew and the signature verifies; otherwise, and for
// no answer, garbage, a 5xx, SYSTEM_ERROR or FREQUENCY_LIMITED, the call is
// kUnavailable naming why (try again later). A signed 4xx {"code","message"} is a business error,
// kInvalidArgument "wechat: <call>: CODE: message", except the codes each
// call reads itself (below).
//
// The calls:
//   Native  POST /v3/pay/transactions/native  {appid, mchid, description,
//           out_trade_no, notify_url, amount {total, currency}, time_expire}
//           → {code_url}, shown as a QR code.
//   H5      POST /v3/pay/transactions/h5      the same + scene_info
//           {payer_client_ip, h5_info {type "Wap"}} → {h5_url}; the buyer
//           goes to h5_url&redirect_url={return_url, URL-encoded}.
//   JSAPI   POST /v3/pay/transactions/jsapi   the same + payer {openid}
//           → {prepay_id}; the page calls getBrandWCPayRequest with appId,
//           timeStamp, nonceStr, package "prepay_id=…", signType "RSA" and
//           paySign = SHA256withRSA("appId\ntimeStamp\nnonceStr\npackage\n").
//   query   GET  /v3/pay/transactions/out-trade-no/{no}?mchid={mchid}
//           → {trade_state, transaction_id, amount {total}}. SUCCESS and
//           REFUND were paid, CLOSED/REVOKED are closed, others unpaid;
//           404 ORDER_NOT_EXIST: the gateway never saw it.
//   close   POST /v3/pay/transactions/out-trade-no/{no}/close {mchid} → 204.
//           ORDER_NOT_EXIST / ORDER_CLOSED: closed anyway; ORDER_PAID: kConflict.
//   refund  POST /v3/refund/domestic/refunds {transaction_id, out_trade_no,
//           out_refund_no, reason, notify_url, amount {refund, total,
//           currency}} → {refund_id, status}: SUCCESS, PROCESSING,
//           CLOSED/ABNORMAL.
//   refund query  GET /v3/refund/domestic/refunds/{out_refund_no}, the same
//           answer; 404 RESOURCE_NOT_EXISTS: kNotFound.
//   OAuth   the browser goes to {oauth_base}/connect/oauth2/authorize?appid
//           &redirect_uri&response_type=code&scope=snsapi_base&state
//           #wechat_redirect and comes back with ?code=; openid() trades it at
//           GET {sns_api_base}/sns/oauth2/access_token?appid&secret&code
//           &grant_type=authorization_code. That API is not WeChat Pay's:
//           unsigned plain JSON, {"openid",…} or {"errcode","errmsg"}.
//
// Notifications are signed the same way and checked first (the serial, the
// timestamp window, the signature over the raw body). Only then is the body
// parsed; its resource is AEAD_AES_256_GCM ciphertext under the APIv3 key:
//   TRANSACTION.*  a transaction: appid, mchid, out_trade_no, transaction_id,
//                  trade_state, amount.total (fen)
//   REFUND.*       a refund (SUCCESS, ABNORMAL, CLOSED): mchid, out_trade_no,
//                  transaction_id, out_refund_no, refund_id, refund_status,
//                  amount {total, refund}; it has no appid.

#include "commerce/wechat.h"

#include <cctype>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "commerce/crypto.h"
#include "commerce/https_client.h"
#include "commerce/provider.h"

namespace paidoc::commerce {

namespace {

using nlohmann::json;

// WeChat's description is string[1,127].
constexpr size_t kMaxDescriptionBytes = 127;
constexpr int64_t kBeijingOffset = 8 * 3600;

// ---- small readers and checks -------------------------------------------------

std::string string_field(const json& j, const char* key) {
  if (!j.is_object()) return std::string();
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::string();
  return it->get<std::string>();
}

// A non-negative whole number at j[object][key]; false when absent or odd.
bool fen_field(const json& j, const char* object, const char* key, Fen* out) {
  if (!j.is_object()) return false;
  auto o = j.find(object);
  if (o == j.end() || !o->is_object()) return false;
  auto v = o->find(key);
  if (v == o->end() || !v->is_number_integer() || v->get<int64_t>() < 0) return false;
  *out = Fen(v->get<int64_t>());
  return true;
}

bool valid_number(const std::string& s, size_t max, const char* extra) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && (c == '\0' || !std::strchr(extra, c)))
      return false;
  return true;
}
// out_trade_no: string[6,32] of [0-9A-Za-z_] (we also allow shorter ones).
bool valid_out_trade_no(const std::string& s) { return valid_number(s, 32, "_"); }
// out_refund_no: string[1,64] of [0-9A-Za-z_-|*@].
bool valid_out_refund_no(const std::string& s) { return valid_number(s, 64, "_-|*@"); }

// Unix seconds as WeChat sends them: 1 to 12 decimal digits, nothing else.
bool parse_timestamp(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 12) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// RFC 3339 in Beijing time, as time_expire wants it: 2026-12-06T18:30:00+08:00.
std::string beijing_rfc3339(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds + kBeijingOffset);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
  return buf;
}

// The path and query of an absolute URL: what the request signature covers.
std::string path_and_query(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return "/";
  std::string target = url.substr(slash);
  size_t hash = target.find('#');
  if (hash != std::string::npos) target.resize(hash);
  return target;
}

std::string without_trailing_slash(std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

std::string excerpt(const std::string& body) {
  return body.size() <= 120 ? body : crypto::truncate_utf8(body, 120) + "…";
}

RefundState refund_state_of(const std::string& status) {
  if (status == "SUCCESS") return RefundState::kSucceeded;
  if (status == "CLOSED" || status == "ABNORMAL") return RefundState::kFailed;
  return RefundState::kPending;  // PROCESSING
}
bool known_refund_status(const std::string& s) {
  return s == "SUCCESS" || s == "PROCESSING" || s == "CLOSED" || s == "ABNORMAL";
}

WechatConfig with_default_transport(WechatConfig c) {
  if (!c.transport) c.transport = [](const HttpRequest& r) { return https_request(r); };
  return c;
}

// A signed answer from the gateway, read as JSON (null when the body is empty).
struct Answer {
  int status = 0;
  json body;
  std::string code() const { return string_field(body, "code"); }
  bool success() const { return status / 100 == 2; }
};

class Wechat : public PaymentProvider {
 public:
  Wechat(WechatConfig c, const Clock& clock)
      : config_(with_default_transport(std::move(c))), clock_(clock) {
    config_error_ = load_keys();
  }

  std::string name() const override { return "wechat"; }

  bool supports(Channel c) const override {
    switch (c) {
      case Channel::kDesktop:
        return true;
      case Channel::kPhone:
        return config_.h5;
      case Channel::kWechatBrowser:
        return !config_.app_secret.empty();
    }
    return false;
  }

  // ---- start ---------------------------------------------------------------------

  Result<PaymentStart> start(const PaymentOrder& order) override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    if (!valid_out_trade_no(order.out_trade_no))
      return Status::invalid("wechat: out_trade_no must be 1-32 of [0-9A-Za-z_]");
    if (order.amount <= Fen(0)) return Status::invalid("wechat: amount must be positive");
    if (order.subject.empty()) return Status::invalid("wechat: subject is empty");

    if (order.channel == Channel::kPhone && config_.h5) return start_h5(order);
    if (order.channel == Channel::kWechatBrowser && !config_.app_secret.empty())
      return start_jsapi(order);
    return start_native(order);
  }

  // ---- notifications ----------------------------------------------------------------

  Result<Notification> verify(const RawNotification& n) const override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    Status signature = check_signature(n.headers, n.body);
    if (!signature.is_ok()) return signature;

    // Signed by WeChat from here on; still parse defensively.
    json envelope = json::parse(n.body, nullptr, /*allow_exceptions=*/false);
    if (!envelope.is_object()) return Status::invalid("wechat: body is not a JSON object");
    std::string event_type = string_field(envelope, "event_type");
    bool payment = event_type.rfind("TRANSACTION.", 0) == 0;
    bool refund = event_type.rfind("REFUND.", 0) == 0;
    if (!payment && !refund)
      return Status::invalid("wechat: unsupported event_type '" + event_type + "'");
    auto plaintext = decrypt_resource(envelope);
    if (!plaintext.ok()) return plaintext.status();
    json resource = json::parse(*plaintext, nullptr, /*allow_exceptions=*/false);
    if (!resource.is_object()) return Status::invalid("wechat: resource plaintext is not JSON");
    return payment ? payment_notification(resource) : refund_notification(resource);
  }

  // API v3 accepts 200 or 204; an explicit JSON body reads well in logs.
  std::string success_body() const override { return R"({"code":"SUCCESS","message":"成功"})"; }
  std::string failure_body() const override { return R"({"code":"FAIL","message":"失败"})"; }
  bool can_refund() const override { return true; }

  // ---- query and close ------------------------------------------------------------

  Result<TradeReport> query(const std::string& out_trade_no) override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    if (!valid_out_trade_no(out_trade_no))
      return Status::invalid("wechat: out_trade_no must be 1-32 of [0-9A-Za-z_]");
    const std::string what = "query " + out_trade_no;
    auto a =
        call("GET", kWechatTradePath + out_trade_no + "?mchid=" + crypto::url_encode(config_.mchid),
             "", what);
    if (!a.ok()) return a.status();
    if (!a->success()) {
      if (a->code() == "ORDER_NOT_EXIST") return TradeReport{};
      return business_error(*a, what);
    }
    return trade_report(a->body, out_trade_no, what);
  }

  Status close(const std::string& out_trade_no) override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    if (!valid_out_trade_no(out_trade_no))
      return Status::invalid("wechat: out_trade_no must be 1-32 of [0-9A-Za-z_]");
    const std::string what = "close " + out_trade_no;
    json body = {{"mchid", config_.mchid}};
    auto a = call("POST", kWechatTradePath + out_trade_no + "/close", body.dump(), what);
    if (!a.ok()) return a.status();
    if (a->success() || a->code() == "ORDER_NOT_EXIST" || a->code() == "ORDER_CLOSED")
      return Status();
    if (a->code() == "ORDER_PAID")
      return Status::conflict("wechat: " + what + ": ORDER_PAID: the trade was paid meanwhile");
    return business_error(*a, what);
  }

  // ---- refunds ----------------------------------------------------------------------

  Result<RefundReport> refund(const RefundRequest& r) override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    if (!valid_out_refund_no(r.out_refund_no))
      return Status::invalid("wechat: out_refund_no must be 1-64 of [0-9A-Za-z_-|*@]");
    if (r.out_trade_no.empty() && r.transaction_id.empty())
      return Status::invalid("wechat: a refund needs out_trade_no or transaction_id");
    if (r.amount <= Fen(0)) return Status::invalid("wechat: refund amount must be positive");
    if (r.total < r.amount)
      return Status::invalid("wechat: refund amount exceeds the trade's total");

    json body = {{"out_refund_no", r.out_refund_no},
                 {"amount",
                  {{"refund", r.amount.value()}, {"total", r.total.value()}, {"currency", "CNY"}}}};
    if (!r.transaction_id.empty()) body["transaction_id"] = r.transaction_id;
    if (!r.out_trade_no.empty()) body["out_trade_no"] = r.out_trade_no;
    if (!r.reason.empty()) body["reason"] = crypto::truncate_utf8(r.reason, 80);
    if (!r.notify_url.empty()) body["notify_url"] = r.notify_url;

    const std::string what = "refund " + r.out_refund_no;
    auto a = call("POST", kWechatRefundsPath,
                  body.dump(-1, ' ', false, json::error_handler_t::replace), what);
    if (!a.ok()) return a.status();
    if (!a->success()) return business_error(*a, what);
    return refund_report(a->body, r.out_refund_no, what);
  }

  Result<RefundReport> query_refund(const std::string& /*out_trade_no*/,
                                    const std::string& out_refund_no) override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    if (!valid_out_refund_no(out_refund_no))
      return Status::invalid("wechat: out_refund_no must be 1-64 of [0-9A-Za-z_-|*@]");
    const std::string what = "refund query " + out_refund_no;
    auto a = call("GET", std::string(kWechatRefundsPath) + "/" + out_refund_no, "", what);
    if (!a.ok()) return a.status();
    if (!a->success()) {
      if (a->code() == "RESOURCE_NOT_EXISTS")
        return Status::not_found("wechat: no refund " + out_refund_no + " at the gateway");
      return business_error(*a, what);
    }
    return refund_report(a->body, out_refund_no, what);
  }

  // ---- OAuth (JSAPI) ------------------------------------------------------------------

  Result<std::string> oauth_url(const std::string& redirect_uri,
                                const std::string& state) const override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    if (config_.app_secret.empty())
      return Status::invalid("wechat: no app_secret configured: JSAPI and its OAuth step are off");
    return without_trailing_slash(config_.oauth_base) +
           "/connect/oauth2/authorize?appid=" + crypto::url_encode(config_.appid) +
           "&redirect_uri=" + crypto::url_encode(redirect_uri) +
           "&response_type=code&scope=snsapi_base&state=" + crypto::url_encode(state) +
           "#wechat_redirect";
  }

  Result<std::string> openid(const std::string& code) override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    if (config_.app_secret.empty())
      return Status::invalid("wechat: no app_secret configured: JSAPI and its OAuth step are off");
    if (code.empty()) return Status::invalid("wechat: OAuth code is empty");
    HttpRequest req;
    req.method = "GET";
    req.url = without_trailing_slash(config_.sns_api_base) +
              "/sns/oauth2/access_token?appid=" + crypto::url_encode(config_.appid) +
              "&secret=" + crypto::url_encode(config_.app_secret) +
              "&code=" + crypto::url_encode(code) + "&grant_type=authorization_code";
    req.headers = {{"Accept", "application/json"}};
    auto answer = config_.transport(req);
    if (!answer.ok())
      return Status::unavailable("wechat: OAuth token: no answer: " + answer.status().message());
    json j = json::parse(answer->body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object())
      return Status::unavailable("wechat: OAuth token: answer (HTTP " +
                                 std::to_string(answer->status) +
                                 ") is not JSON: " + excerpt(answer->body));
    auto errcode = j.find("errcode");
    if (errcode != j.end() && !(errcode->is_number_integer() && errcode->get<int64_t>() == 0))
      return Status::invalid("wechat: OAuth token: errcode " + errcode->dump() + ": " +
                             string_field(j, "errmsg"));
    std::string id = string_field(j, "openid");
    if (id.empty()) return Status::unavailable("wechat: OAuth token: answer has no openid");
    return id;
  }

 private:
  // ---- configuration ----------------------------------------------------------------

  // Loads the keys; the first configuration error, or "".
  std::string load_keys() {
    if (config_.appid.empty() || config_.mchid.empty() || config_.merchant_serial_no.empty() ||
        config_.platform_keys.empty())
      return "wechat: appid, mchid, merchant_serial_no and platform_keys are required";
    if (config_.apiv3_key.size() != 32) return "wechat: apiv3_key must be 32 bytes";
    auto priv = crypto::load_private_key(config_.merchant_private_key_pem);
    if (!priv.ok()) return "wechat: merchant_private_key_pem: " + priv.status().message();
    merchant_key_ = *priv;
    for (const auto& [serial, text] : config_.platform_keys) {
      if (serial.empty()) return "wechat: platform_keys: a key has an empty serial";
      auto pub = crypto::load_public_key(text);
      if (!pub.ok())
        return "wechat: platform key " + serial + " (platform_keys): " + pub.status().message();
      platform_keys_[serial] = *pub;
    }
    if (!config_.public_key_id.empty() && !platform_keys_.count(config_.public_key_id))
      return "wechat: public_key_id " + config_.public_key_id + " has no key in platform_keys";
    return std::string();
  }

  // ---- signatures ------------------------------------------------------------------------

  // The Authorization header of a request (GET: body empty).
  Result<std::string> authorization(const std::string& method, const std::string& target,
                                    const std::string& body) const {
    auto nonce = crypto::random_hex(16);
    if (!nonce.ok()) return nonce.status();
    std::string timestamp = std::to_string(clock_.now());
    std::string message =
        method + "\n" + target + "\n" + timestamp + "\n" + *nonce + "\n" + body + "\n";
    auto sig = crypto::rsa_sha256_sign(merchant_key_, message);
    if (!sig.ok()) return sig.status();
    return "WECHATPAY2-SHA256-RSA2048 mchid=\"" + config_.mchid + "\",nonce_str=\"" + *nonce +
           "\",signature=\"" + crypto::base64_encode(*sig) + "\",timestamp=\"" + timestamp +
           "\",serial_no=\"" + config_.merchant_serial_no + "\"";
  }

  // Whether a notification or answer was signed by WeChat: the serial names a
  // configured key, the timestamp is within max_clock_skew, the signature
  // over "{timestamp}\n{nonce}\n{body}\n" verifies. kInvalidArgument when
  // headers are missing or the timestamp is odd or stale, kForbidden for an
  // unknown serial or a bad signature.
  Status check_signature(const std::map<std::string, std::string>& headers,
                         const std::string& body) const {
    auto header = [&](const char* k) -> const std::string* {
      auto it = headers.find(k);
      return it == headers.end() ? nullptr : &it->second;
    };
    const std::string* timestamp = header("wechatpay-timestamp");
    const std::string* nonce = header("wechatpay-nonce");
    const std::string* signature = header("wechatpay-signature");
    const std::string* serial = header("wechatpay-serial");
    if (!timestamp || !nonce || !signature || !serial)
      return Status::invalid("wechat: missing Wechatpay-Timestamp/Nonce/Signature/Serial");

    auto key = platform_keys_.find(*serial);
    if (key == platform_keys_.end())
      return Status::forbidden("wechat: signed with key " + *serial + ", not one in platform_keys");
    int64_t ts = 0;
    if (!parse_timestamp(*timestamp, &ts))
      return Status::invalid("wechat: Wechatpay-Timestamp is not unix seconds");
    int64_t skew = clock_.now() - ts;
    if (skew > config_.max_clock_skew || -skew > config_.max_clock_skew)
      return Status::invalid("wechat: stale signature (timestamp outside the allowed skew)");
    auto sig = crypto::base64_decode(*signature);
    std::string message = *timestamp + "\n" + *nonce + "\n" + body + "\n";
    if (!sig.ok() || !crypto::rsa_sha256_verify(key->second, message, *sig))
      return Status::forbidden("wechat: signature by " + *serial + " does not verify");
    return Status();
  }

  // ---- one API call ------------------------------------------------------------------------

  // Signs and sends one request; answers it only when it is signed by
  // WeChat and readable. 5xx, SYSTEM_ERROR and everything unbelievable are
  // kUnavailable naming `what` and why.
  Result<Answer> call(const std::string& method, const std::string& target, const std::string& body,
                      const std::string& what, std::string* authorization_out = nullptr) const {
    HttpRequest req;
    req.method = method;
    req.url = without_trailing_slash(config_.api_base) + target;
    req.body = body;
    // What the gateway sees as the target, an api_base path prefix included.
    auto auth = authorization(method, path_and_query(req.url), body);
    if (!auth.ok()) return auth.status();
    if (authorization_out) *authorization_out = *auth;
    req.headers = {{"Authorization", *auth},
                   {"Accept", "application/json"},
                   {"Content-Type", "application/json"}};
    if (!config_.public_key_id.empty())
      req.headers.push_back({"Wechatpay-Serial", config_.public_key_id});
    return read_answer(config_.transport(req), what);
  }

  Result<Answer> read_answer(const Result<HttpAnswer>& got, const std::string& what) const {
    const std::string where = "wechat: " + what + ": ";
    if (!got.ok()) return Status::unavailable(where + "no answer: " + got.status().message());
    const HttpAnswer& h = *got;
    if (h.status >= 500)
      return Status::unavailable(where + "gateway error HTTP " + std::to_string(h.status) + ": " +
                                 excerpt(h.body));
    Status signature = check_signature(h.headers, h.body);
    if (!signature.is_ok())
      return Status::unavailable(where + "answer (HTTP " + std::to_string(h.status) +
                                 ") not believed: " + signature.message() +
                                 "; body: " + excerpt(h.body));
    Answer a;
    a.status = h.status;
    if (!h.body.empty()) {
      a.body = json::parse(h.body, nullptr, /*allow_exceptions=*/false);
      if (!a.body.is_object())
        return Status::unavailable(where + "answer is not a JSON object: " + excerpt(h.body));
    }
    if (a.status / 100 == 2) return a;
    if (a.status / 100 != 4)
      return Status::unavailable(where + "unexpected HTTP " + std::to_string(a.status));
    if (a.code().empty())
      return Status::unavailable(where + "HTTP " + std::to_string(a.status) +
                                 " without an error code: " + excerpt(h.body));
    if (a.code() == "SYSTEM_ERROR" || a.code() == "FREQUENCY_LIMITED")
      return Status::unavailable(where + a.code() + ": " + string_field(a.body, "message"));
    return a;
  }

  // A refusal the caller does not read itself.
  static Status business_error(const Answer& a, const std::string& what) {
    return Status::invalid("wechat: " + what + ": " + a.code() + ": " +
                           string_field(a.body, "message"));
  }

  // ---- start by product ------------------------------------------------------------------

  // What all three products send.
  json order_body(const PaymentOrder& order) const {
    json body = {
        {"appid", config_.appid},
        {"mchid", config_.mchid},
        {"description", crypto::truncate_utf8(order.subject, kMaxDescriptionBytes)},
        {"out_trade_no", order.out_trade_no},
        {"notify_url", order.notify_url},
        {"amount", {{"total", order.amount.value()}, {"currency", "CNY"}}},
    };
    if (order.expires_at > 0) body["time_expire"] = beijing_rfc3339(order.expires_at);
    return body;
  }

  // Posts an order to `path`; answers the start with its request and the
  // signed answer's `field` (code_url, h5_url or prepay_id) in *value.
  Result<PaymentStart> place(const std::string& path, const json& body, const char* field,
                             std::string* value) const {
    PaymentStart s;
    s.api_request_body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    const std::string what = std::string("order (") + path + ")";
    auto a = call("POST", path, s.api_request_body, what, &s.api_authorization);
    if (!a.ok()) return a.status();
    if (!a->success()) return business_error(*a, what);
    *value = string_field(a->body, field);
    if (value->empty()) return Status::unavailable("wechat: " + what + ": answer has no " + field);
    return s;
  }

  Result<PaymentStart> start_native(const PaymentOrder& order) const {
    std::string code_url;
    auto s = place(kWechatNativePath, order_body(order), "code_url", &code_url);
    if (!s.ok()) return s;
    s->code_url = std::move(code_url);
    return s;
  }

  Result<PaymentStart> start_h5(const PaymentOrder& order) const {
    if (order.client_ip.empty())
      return Status::invalid("wechat: H5 needs the buyer's address (PaymentOrder::client_ip)");
    json body = order_body(order);
    body["scene_info"] = {{"payer_client_ip", order.client_ip}, {"h5_info", {{"type", "Wap"}}}};
    std::string h5_url;
    auto s = place(kWechatH5Path, body, "h5_url", &h5_url);
    if (!s.ok()) return s;
    s->redirect_url = order.return_url.empty()
                          ? h5_url
                          : h5_url + "&redirect_url=" + crypto::url_encode(order.return_url);
    return s;
  }

  Result<PaymentStart> start_jsapi(const PaymentOrder& order) const {
    if (order.openid.empty())
      return Status::invalid("wechat: JSAPI needs the payer's openid (PaymentOrder::openid)");
    json body = order_body(order);
    body["payer"] = {{"openid", order.openid}};
    std::string prepay_id;
    auto s = place(kWechatJsapiPath, body, "prepay_id", &prepay_id);
    if (!s.ok()) return s;
    auto jsapi = jsapi_parameters(prepay_id);
    if (!jsapi.ok()) return jsapi.status();
    s->jsapi = std::move(jsapi).value();
    return s;
  }

  // The signed parameters of WeixinJSBridge getBrandWCPayRequest.
  Result<std::map<std::string, std::string>> jsapi_parameters(const std::string& prepay_id) const {
    auto nonce = crypto::random_hex(16);
    if (!nonce.ok()) return nonce.status();
    std::map<std::string, std::string> p = {{"appId", config_.appid},
                                            {"timeStamp", std::to_string(clock_.now())},
                                            {"nonceStr", *nonce},
                                            {"package", "prepay_id=" + prepay_id},
                                            {"signType", "RSA"}};
    auto sig =
        crypto::rsa_sha256_sign(merchant_key_, p["appId"] + "\n" + p["timeStamp"] + "\n" +
                                                   p["nonceStr"] + "\n" + p["package"] + "\n");
    if (!sig.ok()) return sig.status();
    p["paySign"] = crypto::base64_encode(*sig);
    return p;
  }

  // ---- reading answers -----------------------------------------------------------------

  static Result<TradeReport> trade_report(const json& tx, const std::string& out_trade_no,
                                          const std::string& what) {
    const std::string where = "wechat: " + what + ": ";
    if (string_field(tx, "out_trade_no") != out_trade_no)
      return Status::unavailable(where + "answer is about another trade");
    TradeReport r;
    r.exists = true;
    r.state = string_field(tx, "trade_state");
    if (r.state.empty()) return Status::unavailable(where + "answer has no trade_state");
    r.paid = r.state == "SUCCESS" || r.state == "REFUND";
    r.closed = r.state == "CLOSED" || r.state == "REVOKED";
    if (r.paid) {
      r.transaction_id = string_field(tx, "transaction_id");
      if (r.transaction_id.empty())
        return Status::unavailable(where + "paid trade without transaction_id");
      if (!fen_field(tx, "amount", "total", &r.amount))
        return Status::unavailable(where + "paid trade without a whole amount.total");
    }
    return r;
  }

  static Result<RefundReport> refund_report(const json& j, const std::string& out_refund_no,
                                            const std::string& what) {
    const std::string where = "wechat: " + what + ": ";
    if (string_field(j, "out_refund_no") != out_refund_no)
      return Status::unavailable(where + "answer is about another refund");
    RefundReport r;
    r.out_refund_no = out_refund_no;
    r.refund_id = string_field(j, "refund_id");
    std::string status = string_field(j, "status");
    if (r.refund_id.empty() || !known_refund_status(status))
      return Status::unavailable(where + "answer lacks refund_id or a known status ('" + status +
                                 "')");
    if (!fen_field(j, "amount", "refund", &r.amount))
      return Status::unavailable(where + "answer lacks a whole amount.refund");
    r.state = refund_state_of(status);
    return r;
  }

  // ---- reading notifications --------------------------------------------------------------

  Result<std::string> decrypt_resource(const json& envelope) const {
    auto res = envelope.find("resource");
    if (res == envelope.end() || !res->is_object())
      return Status::invalid("wechat: body has no resource object");
    if (string_field(*res, "algorithm") != "AEAD_AES_256_GCM")
      return Status::invalid("wechat: resource.algorithm is not AEAD_AES_256_GCM");
    auto ciphertext = crypto::base64_decode(string_field(*res, "ciphertext"));
    if (!ciphertext.ok()) return Status::invalid("wechat: resource.ciphertext is not base64");
    auto plaintext =
        crypto::aes_256_gcm_decrypt(config_.apiv3_key, string_field(*res, "nonce"),
                                    string_field(*res, "associated_data"), *ciphertext);
    if (!plaintext.ok()) {
      if (plaintext.status().code() == Code::kForbidden)
        return Status::forbidden("wechat: resource does not decrypt (APIv3 key or tampering)");
      return Status(plaintext.status().code(), "wechat: " + plaintext.status().message());
    }
    return plaintext;
  }

  Result<Notification> payment_notification(const json& tx) const {
    if (string_field(tx, "appid") != config_.appid || string_field(tx, "mchid") != config_.mchid)
      return Status::forbidden("wechat: notification is for another appid/mchid");
    Notification out;
    out.provider = "wechat";
    out.app_id = config_.appid;
    out.out_trade_no = string_field(tx, "out_trade_no");
    out.transaction_id = string_field(tx, "transaction_id");
    std::string trade_state = string_field(tx, "trade_state");
    if (out.out_trade_no.empty() || out.transaction_id.empty() || trade_state.empty())
      return Status::invalid(
          "wechat: transaction lacks out_trade_no, transaction_id or trade_state");
    auto amount = tx.find("amount");
    if (amount == tx.end() || !amount->is_object())
      return Status::invalid("wechat: transaction has no amount");
    if (!fen_field(tx, "amount", "total", &out.amount))
      return Status::invalid("wechat: amount.total is not a whole number of fen");
    std::string currency = string_field(*amount, "currency");
    if (!currency.empty() && currency != "CNY")
      return Status::invalid("wechat: amount.currency " + currency + " is not CNY");
    out.paid = trade_state == "SUCCESS";
    return out;
  }

  Result<Notification> refund_notification(const json& rf) const {
    if (string_field(rf, "mchid") != config_.mchid)
      return Status::forbidden("wechat: refund notification is for another mchid");
    Notification out;
    out.provider = "wechat";
    out.kind = NotificationKind::kRefund;
    out.app_id = config_.appid;
    out.out_trade_no = string_field(rf, "out_trade_no");
    out.transaction_id = string_field(rf, "transaction_id");
    out.refund.out_refund_no = string_field(rf, "out_refund_no");
    out.refund.refund_id = string_field(rf, "refund_id");
    std::string status = string_field(rf, "refund_status");
    if (out.out_trade_no.empty() || out.transaction_id.empty() ||
        out.refund.out_refund_no.empty() || out.refund.refund_id.empty())
      return Status::invalid(
          "wechat: refund lacks out_trade_no, transaction_id, out_refund_no or refund_id");
    if (!known_refund_status(status))
      return Status::invalid("wechat: refund_status '" + status + "' is not a known state");
    if (!fen_field(rf, "amount", "total", &out.amount) ||
        !fen_field(rf, "amount", "refund", &out.refund.amount))
      return Status::invalid("wechat: refund amount.total/amount.refund are not whole fen");
    out.refund.refunded_total = Fen(0);
    out.refund.state = refund_state_of(status);
    return out;
  }

  const WechatConfig config_;
  const Clock& clock_;
  // A provider with unusable configuration refuses everything (kInternal)
  // rather than failing at construction: the factory cannot return a Status.
  std::string config_error_;
  crypto::Key merchant_key_;
  std::map<std::string, crypto::Key> platform_keys_;  // by Wechatpay-Serial
};

}  // namespace

std::unique_ptr<PaymentProvider> make_wechat(WechatConfig c, const Clock& clock) {
  return std::make_unique<Wechat>(std::move(c), clock);
}

}  // namespace paidoc::commerce
