// WeChat Pay API v3, Native (QR code) payments.
//
// Requests: the merchant signs
//   "{METHOD}\n{URL path}\n{timestamp}\n{nonce}\n{body}\n"
// with SHA256withRSA under the merchant private key and sends
//   Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
//                  signature="…",timestamp="…",serial_no="…"
// start() posts it to {api_base}/v3/pay/transactions/native through
// WechatConfig::post (the HTTPS client by default) and answers the code_url
// WeChat returns; an unreachable or refusing gateway is kUnavailable.
//
// Notifications: WeChat signs "{Wechatpay-Timestamp}\n{Wechatpay-Nonce}\n{body}\n"
// with the platform key named by Wechatpay-Serial. We check, in order: the
// serial is the configured one, the timestamp is within max_clock_skew of our
// clock (a replayed old notification is stale), the signature over the raw
// body. Only then is the body parsed; its resource is AEAD_AES_256_GCM
// ciphertext under the APIv3 key, whose plaintext is the transaction (appid,
// mchid, out_trade_no, transaction_id, trade_state, amount.total in fen).

#include "commerce/wechat.h"

#include <cctype>
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

std::string string_field(const json& j, const char* key) {
  if (!j.is_object()) return std::string();
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::string();
  return it->get<std::string>();
}

bool valid_out_trade_no(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

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

WechatConfig with_default_transport(WechatConfig c) {
  if (!c.transport) c.transport = [](const HttpRequest& r) { return https_request(r); };
  return c;
}

class Wechat : public PaymentProvider {
 public:
  Wechat(WechatConfig c, const Clock& clock)
      : config_(with_default_transport(std::move(c))), clock_(clock) {
    auto priv = crypto::load_private_key(config_.merchant_private_key_pem);
    if (config_.appid.empty() || config_.mchid.empty() || config_.merchant_serial_no.empty() ||
        config_.platform_keys.empty())
      config_error_ = "wechat: appid, mchid, merchant_serial_no and platform_keys are required";
    else if (config_.apiv3_key.size() != 32)
      config_error_ = "wechat: apiv3_key must be 32 bytes";
    else if (!priv.ok())
      config_error_ = "wechat: merchant_private_key_pem: " + priv.status().message();
    else {
      merchant_key_ = *priv;
      for (const auto& [serial, text] : config_.platform_keys) {
        auto pub = crypto::load_public_key(text);
        if (!pub.ok()) {
          config_error_ = "wechat: platform key " + serial + ": " + pub.status().message();
          break;
        }
        platform_keys_[serial] = *pub;
      }
    }
  }

  std::string name() const override { return "wechat"; }

  Result<PaymentStart> start(const PaymentOrder& order) override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    if (!valid_out_trade_no(order.out_trade_no))
      return Status::invalid("wechat: out_trade_no must be 1-32 of [0-9A-Za-z_]");
    if (order.amount <= Fen(0)) return Status::invalid("wechat: amount must be positive");
    if (order.subject.empty()) return Status::invalid("wechat: subject is empty");

    json body = {
        {"appid", config_.appid},
        {"mchid", config_.mchid},
        {"description", crypto::truncate_utf8(order.subject, kMaxDescriptionBytes)},
        {"out_trade_no", order.out_trade_no},
        {"notify_url", order.notify_url},
        {"amount", {{"total", order.amount.value()}, {"currency", "CNY"}}},
    };
    std::string body_text = body.dump(-1, ' ', false, json::error_handler_t::replace);
    auto nonce = crypto::random_hex(16);
    if (!nonce.ok()) return nonce.status();
    std::string timestamp = std::to_string(clock_.now());
    std::string message = std::string("POST\n") + kWechatNativePath + "\n" + timestamp + "\n" +
                          *nonce + "\n" + body_text + "\n";
    auto sig = crypto::rsa_sha256_sign(merchant_key_, message);
    if (!sig.ok()) return sig.status();

    PaymentStart s;
    s.api_request_body = std::move(body_text);
    s.api_authorization = "WECHATPAY2-SHA256-RSA2048 mchid=\"" + config_.mchid + "\",nonce_str=\"" +
                          *nonce + "\",signature=\"" + crypto::base64_encode(*sig) +
                          "\",timestamp=\"" + timestamp + "\",serial_no=\"" +
                          config_.merchant_serial_no + "\"";

    std::string base = config_.api_base;
    while (!base.empty() && base.back() == '/') base.pop_back();
    HttpRequest req;
    req.url = base + kWechatNativePath;
    req.body = s.api_request_body;
    req.headers = {{"Authorization", s.api_authorization},
                   {"Content-Type", "application/json"},
                   {"Accept", "application/json"}};
    auto answer = config_.transport(req);
    if (!answer.ok())
      return Status::unavailable("暂时无法连接微信支付：" + answer.status().message());
    auto code_url = wechat_code_url_from_response(answer->body);
    if (!code_url.ok())
      return Status::unavailable("微信支付下单失败：" + code_url.status().message());
    s.code_url = std::move(code_url).value();
    return s;
  }

  Result<Notification> verify(const RawNotification& n) const override {
    if (!config_error_.empty()) return Status::internal(config_error_);
    auto header = [&](const char* k) -> const std::string* {
      auto it = n.headers.find(k);
      return it == n.headers.end() ? nullptr : &it->second;
    };
    const std::string* timestamp = header("wechatpay-timestamp");
    const std::string* nonce = header("wechatpay-nonce");
    const std::string* signature = header("wechatpay-signature");
    const std::string* serial = header("wechatpay-serial");
    if (!timestamp || !nonce || !signature || !serial)
      return Status::invalid("wechat: missing Wechatpay-Timestamp/Nonce/Signature/Serial");

    auto key = platform_keys_.find(*serial);
    if (key == platform_keys_.end())
      return Status::forbidden("wechat: signed with platform key " + *serial +
                               ", not a configured one");
    int64_t ts = 0;
    if (!parse_timestamp(*timestamp, &ts))
      return Status::invalid("wechat: Wechatpay-Timestamp is not unix seconds");
    int64_t skew = clock_.now() - ts;
    if (skew > config_.max_clock_skew || -skew > config_.max_clock_skew)
      return Status::invalid("wechat: stale notification (timestamp outside the allowed skew)");
    auto sig = crypto::base64_decode(*signature);
    std::string message = *timestamp + "\n" + *nonce + "\n" + n.body + "\n";
    if (!sig.ok() || !crypto::rsa_sha256_verify(key->second, message, *sig))
      return Status::forbidden("wechat: signature does not verify");

    // Signed by WeChat from here on; still parse defensively.
    json envelope = json::parse(n.body, nullptr, /*allow_exceptions=*/false);
    if (!envelope.is_object()) return Status::invalid("wechat: body is not a JSON object");
    std::string event_type = string_field(envelope, "event_type");
    if (event_type.rfind("TRANSACTION.", 0) != 0)
      return Status::invalid("wechat: unsupported event_type '" + event_type + "'");
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

    json tx = json::parse(*plaintext, nullptr, /*allow_exceptions=*/false);
    if (!tx.is_object()) return Status::invalid("wechat: resource plaintext is not JSON");
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
    auto total = amount->find("total");
    if (total == amount->end() || !total->is_number_integer() || total->get<int64_t>() < 0)
      return Status::invalid("wechat: amount.total is not a whole number of fen");
    std::string currency = string_field(*amount, "currency");
    if (!currency.empty() && currency != "CNY")
      return Status::invalid("wechat: amount.currency " + currency + " is not CNY");
    out.amount = Fen(total->get<int64_t>());
    out.paid = trade_state == "SUCCESS";
    return out;
  }

  // API v3 accepts 200 or 204; an explicit JSON body reads well in logs.
  std::string success_body() const override { return R"({"code":"SUCCESS","message":"成功"})"; }
  std::string failure_body() const override { return R"({"code":"FAIL","message":"失败"})"; }

 private:
  const WechatConfig config_;
  const Clock& clock_;
  // A provider with unusable configuration refuses everything (kInternal)
  // rather than failing at construction: the factory cannot return a Status.
  std::string config_error_;
  crypto::Key merchant_key_;
  std::map<std::string, crypto::Key> platform_keys_;
};

}  // namespace

Result<std::string> wechat_code_url_from_response(const std::string& response_body) {
  json j = json::parse(response_body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::unavailable("wechat: answer is not a JSON object");
  std::string code_url = string_field(j, "code_url");
  if (!code_url.empty()) return code_url;
  std::string code = string_field(j, "code");
  if (!code.empty())
    return Status::unavailable("wechat: " + code + ": " + string_field(j, "message"));
  return Status::unavailable("wechat: answer has no code_url");
}

std::unique_ptr<PaymentProvider> make_wechat(WechatConfig c, const Clock& clock) {
  return std::make_unique<Wechat>(std::move(c), clock);
}

}  // namespace paidoc::commerce
