// Alipay open platform, RSA2: the buyer's redirect (alipay.trade.page.pay on
// desktops, alipay.trade.wap.pay on phones), the asynchronous notification
// (payments and refunds), and the server APIs alipay.trade.query,
// alipay.trade.close, alipay.trade.refund and
// alipay.trade.fastpay.refund.query.
//
// Signing a request: the common parameters (app_id, method, format=JSON,
// charset=utf-8, sign_type=RSA2, timestamp in Beijing time, version=1.0,
// biz_content as JSON, and in certificate mode app_cert_sn and
// alipay_root_cert_sn) plus the method's own (notify_url, return_url): take
// every non-empty one, sort by name (byte order), join as name=value with '&'
// using the raw (not URL-encoded) values, sign with SHA256withRSA under the
// app private key, base64 into `sign`. The buyer's browser is sent to the
// gateway with all parameters URL-encoded in the query; server APIs POST them
// as an application/x-www-form-urlencoded body.
//
// Reading a server API answer: the body is JSON
//   {"<method, dots as underscores>_response":{…},"sign":"…","alipay_cert_sn":"…"}
// (or "error_response" when the gateway did not get as far as the method).
// The signature covers the exact text of the response object as it appears
// in the body, so that text is cut out of the body, never re-serialized, and
// verified with Alipay's key before any field in it is read. Then `code`:
// "10000" success; "40004" a business error (sub_code says which: some are
// answers, e.g. ACQ.TRADE_NOT_EXIST on a query); anything else a system or
// configuration error (try later).
//
// Verifying a notification (posted as application/x-www-form-urlencoded):
// decode every parameter, drop sign and sign_type and any empty value, sort,
// join the same way, verify sign with Alipay's key. Only then are the fields
// believed. A refund made through the API or Alipay's console is notified the
// same way with refund_fee (the trade's refunds so far), gmt_refund and
// out_biz_no (the refund's number); trade_status stays TRADE_SUCCESS after a
// partial refund and is TRADE_CLOSED after a full one. A notification with
// gmt_refund or a non-zero refund_fee is a refund, any other a payment.
// Alipay resends until it reads "success".
//
// Certificate mode (公钥证书模式): Alipay's key comes from alipay_cert_pem. A
// certificate's SN is md5_hex(issuer + serial), where issuer is the issuer's
// attributes from the last RDN to the first as "CN=…,OU=…,O=…,C=…" and serial
// is decimal; app_cert_sn is the app certificate's, alipay_root_cert_sn the
// SNs of the root file's RSA certificates (sha1WithRSAEncryption or
// sha256WithRSAEncryption) joined with '_'. An answer naming an alipay_cert_sn
// other than our Alipay certificate's was signed by a key we do not hold.
//
// Refund numbers: Alipay has no refund id of its own. A refund is named by
// (trade, out_request_no), so RefundReport::refund_id is our out_request_no
// (out_biz_no in notifications).

#include <cctype>
#include <ctime>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "commerce/crypto.h"
#include "commerce/https_client.h"
#include "commerce/provider.h"

namespace paidoc::commerce {

namespace {

using nlohmann::json;
using Params = std::map<std::string, std::string>;

constexpr int64_t kBeijingOffset = 8 * 3600;
// Alipay's subject is at most 256 characters; cut by bytes to stay inside
// whatever it counts.
constexpr size_t kMaxSubjectBytes = 256;
constexpr size_t kMaxRefundReasonBytes = 256;
constexpr size_t kExcerptBytes = 200;

// ---- encodings ------------------------------------------------------------------

// "yyyy-MM-dd HH:mm:ss" in Beijing time (UTC+8, no daylight saving).
std::string beijing_time(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds + kBeijingOffset);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

// The string Alipay signs: sorted name=value pairs, empty values and the
// excluded names left out.
std::string signing_string(const Params& params, bool drop_sign_type) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (v.empty() || k == "sign" || (drop_sign_type && k == "sign_type")) continue;
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

// name=value&… with both URL-encoded, empty values left out (they are not
// signed either).
std::string encode_params(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    if (!out.empty()) out += '&';
    out += crypto::url_encode(k) + "=" + crypto::url_encode(v);
  }
  return out;
}

// Alipay amounts are yuan with at most two decimals ("9.90", "9.9", "10").
// Strict: digits, optionally '.' and one or two digits; nothing else.
Result<Fen> parse_amount(const std::string& field, const std::string& text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  bool ok = i > 0;
  if (ok && i < text.size()) {
    size_t decimals = text.size() - i - 1;
    ok = text[i] == '.' && decimals >= 1 && decimals <= 2;
    for (size_t j = i + 1; ok && j < text.size(); ++j) ok = text[j] >= '0' && text[j] <= '9';
  }
  if (!ok) return Status::invalid("alipay: " + field + " '" + text + "' is not yuan like 9.90");
  auto fen = Fen::parse_yuan(text);
  if (!fen.ok()) return Status::invalid("alipay: " + field + ": " + fen.status().message());
  return fen;
}

bool valid_number(const std::string& s, size_t max_size) {
  if (s.empty() || s.size() > max_size) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

bool valid_out_trade_no(const std::string& s) { return valid_number(s, 32); }
bool valid_out_request_no(const std::string& s) { return valid_number(s, 64); }

std::string excerpt(std::string_view body) {
  if (body.size() <= kExcerptBytes) return std::string(body);
  return std::string(body.substr(0, kExcerptBytes)) + "…";
}

// Whether a notification reports a refund: it has gmt_refund, or a
// refund_fee other than zero ("0.00" may come with a plain payment).
bool is_refund(const std::string& refund_fee, const std::string& gmt_refund) {
  if (!gmt_refund.empty()) return true;
  if (refund_fee.empty()) return false;
  auto fen = Fen::parse_yuan(refund_fee);
  return !fen.ok() || *fen != Fen(0);  // unreadable: refused as a refund
}

// ---- the raw text of a JSON member ---------------------------------------------

// Skips whitespace from `i`.
size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// The end (one past the closing quote) of the JSON string starting at `i`;
// npos if it does not close.
size_t skip_string(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return std::string_view::npos;
}

// The end of the JSON value starting at `i` (strings, objects and arrays
// balanced; literals up to the next delimiter); npos if unbalanced.
size_t skip_value(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] != '{' && s[i] != '[') {
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
           s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
      ++i;
    return i;
  }
  int depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      i = skip_string(s, i);
      if (i == std::string_view::npos) return i;
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
    ++i;
  }
  return std::string_view::npos;
}

// The exact text of the value of top-level member `name` in the JSON object
// `body` (already known to parse), as Alipay signed it. Keys are compared as
// written, which is how Alipay writes them (plain ASCII, no escapes).
std::optional<std::string_view> raw_member(std::string_view body, std::string_view name) {
  size_t i = skip_ws(body, 0);
  if (i >= body.size() || body[i] != '{') return std::nullopt;
  i = skip_ws(body, i + 1);
  while (i < body.size() && body[i] == '"') {
    size_t key_end = skip_string(body, i);
    if (key_end == std::string_view::npos) return std::nullopt;
    std::string_view key = body.substr(i + 1, key_end - i - 2);
    i = skip_ws(body, key_end);
    if (i >= body.size() || body[i] != ':') return std::nullopt;
    i = skip_ws(body, i + 1);
    size_t value_end = skip_value(body, i);
    if (value_end == std::string_view::npos) return std::nullopt;
    if (key == name) return body.substr(i, value_end - i);
    i = skip_ws(body, value_end);
    if (i < body.size() && body[i] == ',') i = skip_ws(body, i + 1);
  }
  return std::nullopt;
}

// ---- certificate mode -------------------------------------------------------------

std::string certificate_sn(const crypto::CertificateName& c) {
  std::string issuer;
  for (const auto& attribute : c.issuer) {
    if (!issuer.empty()) issuer += ',';
    issuer += attribute;
  }
  return crypto::md5_hex(issuer + c.serial);
}

// The SN of the first certificate in `pem`.
Result<std::string> cert_sn(const std::string& pem) {
  auto certs = crypto::read_certificates(pem);
  if (!certs.ok()) return certs.status();
  return certificate_sn(certs->front());
}

// The SNs of the RSA certificates in Alipay's root file, joined with '_'.
Result<std::string> root_cert_sn(const std::string& pem) {
  auto certs = crypto::read_certificates(pem);
  if (!certs.ok()) return certs.status();
  std::string out;
  for (const auto& c : *certs) {
    if (c.signature_algorithm != "sha1WithRSAEncryption" &&
        c.signature_algorithm != "sha256WithRSAEncryption")
      continue;
    if (!out.empty()) out += '_';
    out += certificate_sn(c);
  }
  if (out.empty()) return Status::invalid("holds no RSA-signed certificate");
  return out;
}

// ---- a verified API answer ----------------------------------------------------------

// A string member of a JSON object; "" when absent or not a string.
std::string string_field(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct Answer {
  json body;  // the response object, verified
  std::string code, msg, sub_code, sub_msg;

  bool ok() const { return code == "10000"; }
  bool business_error() const { return code == "40004"; }
  std::string field(const char* name) const { return string_field(body, name); }
  // "40004 Business Failed ACQ.TRADE_NOT_EXIST 交易不存在"
  std::string describe() const {
    std::string out = code;
    for (const std::string* s : {&msg, &sub_code, &sub_msg})
      if (!s->empty()) out += " " + *s;
    return out;
  }
};

// An answer Alipay refused for reasons of its own (system errors, ACQ.SYSTEM_ERROR):
// nothing was decided, ask again later.
Status try_later(const std::string& method, const Answer& a) {
  return Status::unavailable("alipay: " + method + ": gateway error " + a.describe());
}

// A business error: Alipay refused the request as it stands.
Status refused(const std::string& method, const Answer& a) {
  return Status::invalid("alipay: " + method + " refused: " + a.describe());
}

// Business errors that only say "not now": Alipay's docs ask to repeat the
// same request later.
bool is_transient(const Answer& a) {
  return a.sub_code == "ACQ.SYSTEM_ERROR" || a.sub_code == "aop.ACQ.SYSTEM_ERROR";
}

class Alipay : public PaymentProvider {
 public:
  Alipay(AlipayConfig c, const Clock& clock) : config_(std::move(c)), clock_(clock) {
    if (!config_.transport)
      config_.transport = [](const HttpRequest& r) { return https_request(r); };
    config_error_ = load_keys();
  }

  std::string name() const override { return "alipay"; }

  bool supports(Channel c) const override {
    return c == Channel::kDesktop || c == Channel::kPhone || c == Channel::kWechatBrowser;
  }

  Result<PaymentStart> start(const PaymentOrder& order) override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    if (!valid_out_trade_no(order.out_trade_no))
      return Status::invalid("alipay: out_trade_no must be 1-32 of [0-9A-Za-z_]");
    if (order.amount <= Fen(0)) return Status::invalid("alipay: amount must be positive");
    if (order.subject.empty()) return Status::invalid("alipay: subject is empty");

    bool wap = config_.mobile || order.channel != Channel::kDesktop;
    json biz = {
        {"out_trade_no", order.out_trade_no},
        {"total_amount", order.amount.yuan_string()},
        {"subject", crypto::truncate_utf8(order.subject, kMaxSubjectBytes)},
        {"product_code", wap ? "QUICK_WAP_WAY" : "FAST_INSTANT_TRADE_PAY"},
    };
    // Where the cashier's "back" button leads on a phone.
    if (wap && !order.return_url.empty()) biz["quit_url"] = order.return_url;
    if (order.expires_at > 0) biz["time_expire"] = beijing_time(order.expires_at);

    Params extra = {{"notify_url", order.notify_url}, {"return_url", order.return_url}};
    auto params = signed_params(wap ? "alipay.trade.wap.pay" : "alipay.trade.page.pay", biz,
                                std::move(extra));
    if (!params.ok()) return params.status();
    PaymentStart s;
    s.redirect_url = config_.gateway + "?" + encode_params(*params);
    return s;
  }

  Result<Notification> verify(const RawNotification& n) const override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    auto parsed = crypto::parse_form(n.body);
    if (!parsed.ok()) return Status::invalid("alipay: " + parsed.status().message());
    const auto& params = *parsed;
    auto field = [&](const char* k) -> std::string {
      auto it = params.find(k);
      return it == params.end() ? std::string() : it->second;
    };

    // The signature first: nothing else in the body means anything before.
    std::string sign = field("sign");
    if (sign.empty()) return Status::forbidden("alipay: notification is not signed");
    std::string sign_type = field("sign_type");
    if (!sign_type.empty() && sign_type != "RSA2")
      return Status::forbidden("alipay: sign_type " + sign_type + " is not accepted");
    auto sig = crypto::base64_decode(sign);
    if (!sig.ok() || !crypto::rsa_sha256_verify(alipay_key_, signing_string(params, true), *sig))
      return Status::forbidden("alipay: signature does not verify");

    std::string charset = field("charset");
    if (!charset.empty() && charset != "utf-8" && charset != "UTF-8")
      return Status::invalid("alipay: charset " + charset + " is not utf-8");
    if (field("app_id") != config_.app_id)
      return Status::forbidden("alipay: notification is for another app_id");

    Notification out;
    out.provider = "alipay";
    out.app_id = field("app_id");
    out.out_trade_no = field("out_trade_no");
    out.transaction_id = field("trade_no");
    std::string status = field("trade_status");
    std::string amount = field("total_amount");
    if (out.out_trade_no.empty() || out.transaction_id.empty() || status.empty() || amount.empty())
      return Status::invalid(
          "alipay: notification lacks out_trade_no, trade_no, trade_status or total_amount");
    auto fen = parse_amount("total_amount", amount);
    if (!fen.ok()) return fen.status();
    out.amount = *fen;

    std::string refund_fee = field("refund_fee");
    if (!is_refund(refund_fee, field("gmt_refund"))) {
      // WAIT_BUYER_PAY and TRADE_CLOSED (closed unpaid) verify but pay nothing.
      out.paid = status == "TRADE_SUCCESS" || status == "TRADE_FINISHED";
      return out;
    }
    auto refunded = refund_report(field("out_biz_no"), refund_fee, out.amount);
    if (!refunded.ok()) return refunded.status();
    out.kind = NotificationKind::kRefund;
    out.refund = std::move(*refunded);
    return out;
  }

  std::string success_body() const override { return "success"; }
  std::string failure_body() const override { return "failure"; }
  bool can_refund() const override { return true; }

  // ---- server APIs ----------------------------------------------------------------

  Result<TradeReport> query(const std::string& out_trade_no) override {
    static const std::string kMethod = "alipay.trade.query";
    if (!valid_out_trade_no(out_trade_no))
      return Status::invalid("alipay: out_trade_no must be 1-32 of [0-9A-Za-z_]");
    auto a = call(kMethod, {{"out_trade_no", out_trade_no}});
    if (!a.ok()) return a.status();
    TradeReport r;
    if (a->sub_code == "ACQ.TRADE_NOT_EXIST") return r;  // never scanned
    if (!a->ok()) return business_status(kMethod, *a);
    r.exists = true;
    r.state = a->field("trade_status");
    if (a->field("out_trade_no") != out_trade_no)
      return Status::unavailable("alipay: " + kMethod + " answered about another trade '" +
                                 a->field("out_trade_no") + "'");
    if (r.state == "TRADE_SUCCESS" || r.state == "TRADE_FINISHED") {
      r.paid = true;
      r.transaction_id = a->field("trade_no");
      if (r.transaction_id.empty())
        return Status::unavailable("alipay: " + kMethod + " answered a paid trade without trade_no");
      auto fen = parse_amount("total_amount", a->field("total_amount"));
      if (!fen.ok())
        return Status::unavailable("alipay: " + kMethod + ": " + fen.status().message());
      r.amount = *fen;
    } else if (r.state == "TRADE_CLOSED") {
      r.closed = true;
    } else if (r.state != "WAIT_BUYER_PAY") {
      return Status::unavailable("alipay: " + kMethod + " answered an unknown trade_status '" +
                                 r.state + "'");
    }
    return r;
  }

  Status close(const std::string& out_trade_no) override {
    static const std::string kMethod = "alipay.trade.close";
    if (!valid_out_trade_no(out_trade_no))
      return Status::invalid("alipay: out_trade_no must be 1-32 of [0-9A-Za-z_]");
    auto a = call(kMethod, {{"out_trade_no", out_trade_no}});
    if (!a.ok()) return a.status();
    if (a->ok()) return Status();
    // Alipay creates a trade only when the buyer scans: nothing to close.
    if (a->sub_code == "ACQ.TRADE_NOT_EXIST") return Status();
    if (a->sub_code == "ACQ.TRADE_STATUS_ERROR")
      return Status::conflict("alipay: " + kMethod + ": the trade is paid or finished (" +
                              a->describe() + ")");
    return business_status(kMethod, *a);
  }

  Result<RefundReport> refund(const RefundRequest& r) override {
    static const std::string kMethod = "alipay.trade.refund";
    if (!valid_out_trade_no(r.out_trade_no))
      return Status::invalid("alipay: out_trade_no must be 1-32 of [0-9A-Za-z_]");
    if (!valid_out_request_no(r.out_refund_no))
      return Status::invalid("alipay: out_refund_no must be 1-64 of [0-9A-Za-z_]");
    if (r.amount <= Fen(0)) return Status::invalid("alipay: refund amount must be positive");
    json biz = {
        {"out_trade_no", r.out_trade_no},
        {"refund_amount", r.amount.yuan_string()},
        {"out_request_no", r.out_refund_no},
    };
    if (!r.transaction_id.empty()) biz["trade_no"] = r.transaction_id;
    if (!r.reason.empty()) biz["refund_reason"] = crypto::truncate_utf8(r.reason, kMaxRefundReasonBytes);
    auto a = call(kMethod, biz);
    if (!a.ok()) return a.status();
    if (!a->ok()) return business_status(kMethod, *a);

    RefundReport out;
    out.refund_id = r.out_refund_no;
    out.out_refund_no = r.out_refund_no;
    out.amount = r.amount;
    auto total = parse_amount("refund_fee", a->field("refund_fee"));
    if (!total.ok()) return Status::unavailable("alipay: " + kMethod + ": " + total.status().message());
    out.refunded_total = *total;
    // "Y": money moved now. "N": nothing moved this time, e.g. this
    // out_request_no was refunded before; Alipay's docs ask to confirm with
    // the refund query.
    if (a->field("fund_change") == "Y") {
      out.state = RefundState::kSucceeded;
      return out;
    }
    auto confirmed = query_refund(r.out_trade_no, r.out_refund_no);
    if (confirmed.ok()) {
      out.state = confirmed->state;
    } else if (confirmed.status().code() == Code::kNotFound ||
               confirmed.status().code() == Code::kUnavailable) {
      out.state = RefundState::kPending;  // ask again later
    } else {
      return confirmed.status();
    }
    return out;
  }

  Result<RefundReport> query_refund(const std::string& out_trade_no,
                                    const std::string& out_refund_no) override {
    static const std::string kMethod = "alipay.trade.fastpay.refund.query";
    if (!valid_out_trade_no(out_trade_no))
      return Status::invalid("alipay: out_trade_no must be 1-32 of [0-9A-Za-z_]");
    if (!valid_out_request_no(out_refund_no))
      return Status::invalid("alipay: out_refund_no must be 1-64 of [0-9A-Za-z_]");
    auto a = call(kMethod, {{"out_trade_no", out_trade_no}, {"out_request_no", out_refund_no}});
    if (!a.ok()) return a.status();
    if (a->sub_code == "ACQ.TRADE_NOT_EXIST")
      return Status::not_found("alipay: " + kMethod + ": no trade " + out_trade_no);
    if (!a->ok()) return business_status(kMethod, *a);
    // Without refund_amount Alipay never received this refund (or refused
    // it): safe to send again with the same number.
    std::string amount = a->field("refund_amount");
    if (amount.empty())
      return Status::not_found("alipay: " + kMethod + ": no refund " + out_refund_no + " of " +
                               out_trade_no);
    RefundReport out;
    out.refund_id = out_refund_no;
    out.out_refund_no = out_refund_no;
    auto fen = parse_amount("refund_amount", amount);
    if (!fen.ok()) return Status::unavailable("alipay: " + kMethod + ": " + fen.status().message());
    out.amount = *fen;
    // Documented: present data with refund_status empty or REFUND_SUCCESS is
    // a refund done; any other status is still under way.
    std::string status = a->field("refund_status");
    out.state = status.empty() || status == "REFUND_SUCCESS" ? RefundState::kSucceeded
                                                             : RefundState::kPending;
    return out;
  }

 private:
  // Loads keys and certificates; answers what is wrong, naming the field, or "".
  std::string load_keys() {
    if (config_.app_id.empty()) return "alipay: app_id is not configured";
    auto priv = crypto::load_private_key(config_.app_private_key_pem);
    if (!priv.ok()) return "alipay: app_private_key_pem: " + priv.status().message();
    app_key_ = *priv;
    if (config_.app_cert_pem.empty()) {
      auto pub = crypto::load_public_key(config_.alipay_public_key_pem);
      if (!pub.ok()) return "alipay: alipay_public_key_pem: " + pub.status().message();
      alipay_key_ = *pub;
      return "";
    }
    // Certificate mode: all three certificates.
    if (config_.alipay_cert_pem.empty())
      return "alipay: alipay_cert_pem is required in certificate mode (app_cert_pem is set)";
    if (config_.alipay_root_cert_pem.empty())
      return "alipay: alipay_root_cert_pem is required in certificate mode (app_cert_pem is set)";
    auto app_sn = cert_sn(config_.app_cert_pem);
    if (!app_sn.ok()) return "alipay: app_cert_pem: " + app_sn.status().message();
    auto app_pub = crypto::load_public_key(config_.app_cert_pem);
    if (!app_pub.ok()) return "alipay: app_cert_pem: " + app_pub.status().message();
    if (!crypto::same_public_key(*app_pub, app_key_))
      return "alipay: app_cert_pem does not certify the key in app_private_key_pem";
    auto alipay_sn = cert_sn(config_.alipay_cert_pem);
    if (!alipay_sn.ok()) return "alipay: alipay_cert_pem: " + alipay_sn.status().message();
    auto alipay_pub = crypto::load_public_key(config_.alipay_cert_pem);
    if (!alipay_pub.ok()) return "alipay: alipay_cert_pem: " + alipay_pub.status().message();
    auto root_sn = root_cert_sn(config_.alipay_root_cert_pem);
    if (!root_sn.ok()) return "alipay: alipay_root_cert_pem: " + root_sn.status().message();
    app_cert_sn_ = *app_sn;
    alipay_cert_sn_ = *alipay_sn;
    root_cert_sn_ = *root_sn;
    alipay_key_ = *alipay_pub;
    return "";
  }

  // The common parameters of `method` with `biz` and `extra`, signed.
  Result<Params> signed_params(const std::string& method, const json& biz, Params extra) const {
    Params params = std::move(extra);
    params["app_id"] = config_.app_id;
    params["method"] = method;
    params["format"] = "JSON";
    params["charset"] = "utf-8";
    params["sign_type"] = "RSA2";
    params["timestamp"] = beijing_time(clock_.now());
    params["version"] = "1.0";
    params["biz_content"] = biz.dump(-1, ' ', false, json::error_handler_t::replace);
    if (!app_cert_sn_.empty()) {
      params["app_cert_sn"] = app_cert_sn_;
      params["alipay_root_cert_sn"] = root_cert_sn_;
    }
    auto sig = crypto::rsa_sha256_sign(app_key_, signing_string(params, false));
    if (!sig.ok()) return sig.status();
    params["sign"] = crypto::base64_encode(*sig);
    return params;
  }

  // A business error of `method` not handled by the caller.
  static Status business_status(const std::string& method, const Answer& a) {
    if (a.business_error() && !is_transient(a)) return refused(method, a);
    return try_later(method, a);
  }

  // One server API call: the signed form POSTed to the gateway, the answer's
  // signature checked over its raw response object. Any answer that verified
  // is returned, whatever its code; kUnavailable for everything else.
  Result<Answer> call(const std::string& method, const json& biz) const {
    if (!config_error_.empty()) return Status::internal(config_error_);
    auto params = signed_params(method, biz, {});
    if (!params.ok()) return params.status();
    HttpRequest req;
    req.method = "POST";
    req.url = config_.gateway;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded;charset=utf-8"},
                   {"Accept", "application/json"}};
    req.body = encode_params(*params);
    auto http = config_.transport(req);
    if (!http.ok())
      return Status::unavailable("alipay: " + method + ": no answer: " + http.status().message());
    if (http->status != 200)
      return Status::unavailable("alipay: " + method + ": gateway answered HTTP " +
                                 std::to_string(http->status) + ": " + excerpt(http->body));
    return read_answer(method, http->body);
  }

  Result<Answer> read_answer(const std::string& method, const std::string& body) const {
    const std::string where = "alipay: " + method + ": ";
    json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object())
      return Status::unavailable(where + "answer is not JSON: " + excerpt(body));
    std::string key = method;
    for (char& c : key)
      if (c == '.') c = '_';
    key += "_response";
    if (!doc.contains(key)) key = "error_response";
    auto raw = raw_member(body, key);
    if (!raw || !doc[key].is_object())
      return Status::unavailable(where + "answer has no " + key + " object: " + excerpt(body));
    // What the answer claims, for messages only until it verified.
    auto unverified = [&] {
      const json& r = doc[key];
      return string_field(r, "code") + " " + string_field(r, "sub_code") + " " +
             string_field(r, "sub_msg");
    };

    std::string sign = string_field(doc, "sign");
    if (sign.empty())
      return Status::unavailable(where + "answer is not signed (it says, unverified: " +
                                 unverified() + ")");
    if (!alipay_cert_sn_.empty()) {
      std::string sn = string_field(doc, "alipay_cert_sn");
      if (!sn.empty() && sn != alipay_cert_sn_)
        return Status::unavailable(where + "answer is signed by Alipay certificate " + sn +
                                   ", but alipay_cert_pem is certificate " + alipay_cert_sn_);
    }
    auto sig = crypto::base64_decode(sign);
    if (!sig.ok() || !crypto::rsa_sha256_verify(alipay_key_, *raw, *sig))
      return Status::unavailable(where + "answer signature does not verify");

    Answer a;
    // Read from the text that verified (a repeated member would parse to
    // another one).
    a.body = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
    if (!a.body.is_object()) return Status::unavailable(where + "answer is not a JSON object");
    a.code = string_field(a.body, "code");
    a.msg = string_field(a.body, "msg");
    a.sub_code = string_field(a.body, "sub_code");
    a.sub_msg = string_field(a.body, "sub_msg");
    if (a.code.empty()) return Status::unavailable(where + "answer has no code");
    return a;
  }

  // A refund as a notification reports it: refund_fee is all refunds of the
  // trade so far; out_biz_no names this refund. A refund without out_biz_no
  // (never seen, but not promised) is named by its running total, which
  // grows with each refund.
  static Result<RefundReport> refund_report(const std::string& out_biz_no,
                                            const std::string& refund_fee, Fen trade_total) {
    auto total = parse_amount("refund_fee", refund_fee);
    if (!total.ok()) return total.status();
    if (*total <= Fen(0) || *total > trade_total)
      return Status::invalid("alipay: refund_fee " + refund_fee +
                             " is not within the trade's total_amount");
    RefundReport r;
    r.out_refund_no = out_biz_no;
    r.refund_id = out_biz_no.empty() ? "refund_fee_" + total->yuan_string() : out_biz_no;
    r.amount = Fen(0);  // Alipay gives only the running total
    r.refunded_total = *total;
    r.state = RefundState::kSucceeded;
    return r;
  }

  AlipayConfig config_;
  const Clock& clock_;
  // A provider with unusable configuration refuses everything (kInternal)
  // rather than failing at construction: the factory cannot return a Status.
  std::string config_error_;
  crypto::Key app_key_;     // signs requests
  crypto::Key alipay_key_;  // verifies notifications and answers
  // Certificate mode only; empty in public-key mode.
  std::string app_cert_sn_;
  std::string alipay_cert_sn_;
  std::string root_cert_sn_;
};

}  // namespace

std::unique_ptr<PaymentProvider> make_alipay(AlipayConfig c, const Clock& clock) {
  return std::make_unique<Alipay>(std::move(c), clock);
}

}  // namespace paidoc::commerce
