// Alipay open platform, RSA2: alipay.trade.page.pay (desktop) and
// alipay.trade.wap.pay (mobile), and the asynchronous notification.
//
// Signing a request: take every non-empty parameter except sign, sort by
// name (byte order), join as name=value with '&' using the raw (not
// URL-encoded) values, sign with SHA256withRSA under the app private key,
// base64. The buyer's browser is then sent to the gateway with all parameters
// URL-encoded in the query.
//
// Verifying a notification (posted as application/x-www-form-urlencoded):
// decode every parameter, drop sign and sign_type and any empty value, sort,
// join the same way, verify sign with Alipay's public key. Only then are the
// fields believed. Alipay resends until it reads "success".

#include <cctype>
#include <ctime>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "commerce/crypto.h"
#include "commerce/provider.h"

namespace paidoc::commerce {

namespace {

using nlohmann::json;

constexpr int64_t kBeijingOffset = 8 * 3600;
// Alipay's subject is at most 256 characters; cut by bytes to stay inside
// whatever it counts.
constexpr size_t kMaxSubjectBytes = 256;

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
std::string signing_string(const std::map<std::string, std::string>& params, bool drop_sign_type) {
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

// Alipay amounts are yuan with at most two decimals ("9.90", "9.9", "10").
// Strict: digits, optionally '.' and one or two digits; nothing else.
Result<Fen> parse_amount(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  bool ok = i > 0;
  if (ok && i < text.size()) {
    size_t decimals = text.size() - i - 1;
    ok = text[i] == '.' && decimals >= 1 && decimals <= 2;
    for (size_t j = i + 1; ok && j < text.size(); ++j) ok = text[j] >= '0' && text[j] <= '9';
  }
  if (!ok) return Status::invalid("alipay: total_amount '" + text + "' is not yuan like 9.90");
  return Fen::parse_yuan(text);
}

bool valid_out_trade_no(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

class Alipay : public PaymentProvider {
 public:
  Alipay(AlipayConfig c, const Clock& clock) : config_(std::move(c)), clock_(clock) {
    auto priv = crypto::load_private_key(config_.app_private_key_pem);
    auto pub = crypto::load_public_key(config_.alipay_public_key_pem);
    if (config_.app_id.empty())
      config_error_ = "alipay: app_id is not configured";
    else if (!priv.ok())
      config_error_ = "alipay: app_private_key_pem: " + priv.status().message();
    else if (!pub.ok())
      config_error_ = "alipay: alipay_public_key_pem: " + pub.status().message();
    else {
      private_key_ = *priv;
      public_key_ = *pub;
    }
  }

  std::string name() const override { return "alipay"; }

  Result<PaymentStart> start(const PaymentOrder& order) override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    if (!valid_out_trade_no(order.out_trade_no))
      return Status::invalid("alipay: out_trade_no must be 1-32 of [0-9A-Za-z_]");
    if (order.amount <= Fen(0)) return Status::invalid("alipay: amount must be positive");
    if (order.subject.empty()) return Status::invalid("alipay: subject is empty");

    json biz = {
        {"out_trade_no", order.out_trade_no},
        {"total_amount", order.amount.yuan_string()},
        {"subject", crypto::truncate_utf8(order.subject, kMaxSubjectBytes)},
        {"product_code", config_.mobile ? "QUICK_WAP_WAY" : "FAST_INSTANT_TRADE_PAY"},
    };
    std::map<std::string, std::string> params = {
        {"app_id", config_.app_id},
        {"method", config_.mobile ? "alipay.trade.wap.pay" : "alipay.trade.page.pay"},
        {"format", "JSON"},
        {"charset", "utf-8"},
        {"sign_type", "RSA2"},
        {"timestamp", beijing_time(clock_.now())},
        {"version", "1.0"},
        {"notify_url", order.notify_url},
        {"return_url", order.return_url},
        {"biz_content", biz.dump(-1, ' ', false, json::error_handler_t::replace)},
    };
    auto sig = crypto::rsa_sha256_sign(private_key_, signing_string(params, false));
    if (!sig.ok()) return sig.status();
    params["sign"] = crypto::base64_encode(*sig);

    std::string url = config_.gateway + "?";
    bool first = true;
    for (const auto& [k, v] : params) {
      if (v.empty()) continue;
      if (!first) url += '&';
      first = false;
      url += crypto::url_encode(k) + "=" + crypto::url_encode(v);
    }
    PaymentStart s;
    s.redirect_url = std::move(url);
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
    if (!sig.ok() || !crypto::rsa_sha256_verify(public_key_, signing_string(params, true), *sig))
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
    auto fen = parse_amount(amount);
    if (!fen.ok()) return fen.status();
    out.amount = *fen;
    // WAIT_BUYER_PAY and TRADE_CLOSED verify but pay nothing.
    out.paid = status == "TRADE_SUCCESS" || status == "TRADE_FINISHED";
    return out;
  }

  std::string success_body() const override { return "success"; }
  std::string failure_body() const override { return "failure"; }

 private:
  const AlipayConfig config_;
  const Clock& clock_;
  // A provider with unusable configuration refuses everything (kInternal)
  // rather than failing at construction: the factory cannot return a Status.
  std::string config_error_;
  crypto::Key private_key_;
  crypto::Key public_key_;
};

}  // namespace

std::unique_ptr<PaymentProvider> make_alipay(AlipayConfig c, const Clock& clock) {
  return std::make_unique<Alipay>(std::move(c), clock);
}

}  // namespace paidoc::commerce
