// Payment providers: Alipay (RSA2), WeChat Pay API v3 (Native), and a local
// sandbox. A provider builds the request that sends a buyer to pay, and
// verifies an asynchronous notification. It never touches the store: the
// commerce service applies a verified notification exactly once.
//
// Notifications are untrusted, repeated and out of order: verify() checks the
// signature over the raw body (and, for WeChat, the timestamp window and the
// AEAD decryption) and answers kInvalidArgument / kForbidden for anything
// forged, stale or malformed. Amount and order checks against the stored
// order are the service's job (it knows the order).
//
// Keys and ids come from configuration, never from the repo.
//
// Thread-safety: providers are immutable after construction; safe from many
// threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/money.h"
#include "common/status.h"

namespace paidoc::commerce {

// What a provider needs to start a payment.
struct PaymentOrder {
  std::string out_trade_no;  // our order number, unique, <= 32 chars [0-9A-Za-z_]
  Fen amount;
  std::string subject;       // shown to the buyer (document title or plan name)
  std::string return_url;    // where the buyer's browser returns (Alipay)
  std::string notify_url;    // where the provider posts the notification
};

// How to send the buyer to pay.
struct PaymentStart {
  std::string redirect_url;  // Alipay: gateway URL with the signed query; sandbox: its page
  std::string code_url;      // WeChat Native: to be shown as a QR code
  // The exact request body sent to the provider's API (WeChat), for logging
  // and tests; empty when the start is a redirect.
  std::string api_request_body;
  std::string api_authorization;  // WeChat: the signed Authorization header
};

// A raw HTTP notification as received.
struct RawNotification {
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// A verified notification.
struct Notification {
  std::string provider;         // "alipay" | "wechat" | "sandbox"
  std::string transaction_id;   // the provider's id: the exactly-once key
  std::string out_trade_no;
  Fen amount;
  bool paid = false;            // a success state (TRADE_SUCCESS/FINISHED, SUCCESS)
  std::string app_id;           // for the app check (Alipay app_id, WeChat appid/mchid)
};

class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  virtual std::string name() const = 0;
  // Builds the signed request. Alipay and the sandbox are redirects (no
  // network I/O). WeChat Native posts the signed order to the gateway through
  // WechatConfig::post (HTTPS by default; tests pass a fake) and answers its
  // code_url; kUnavailable when the gateway cannot be reached or refuses.
  virtual Result<PaymentStart> start(const PaymentOrder& order) = 0;
  // Verifies signature, app id, freshness; decrypts. kForbidden when the
  // signature or app id is wrong, kInvalidArgument when malformed or stale.
  virtual Result<Notification> verify(const RawNotification& n) const = 0;
  // What to answer the provider once the notification is applied (or was a
  // duplicate): Alipay "success", WeChat 200 with an empty body / JSON.
  virtual std::string success_body() const = 0;
  // What to answer when it was refused (the provider retries).
  virtual std::string failure_body() const = 0;
};

// Configuration of each provider; all secrets from the config file.
struct AlipayConfig {
  std::string app_id;
  std::string gateway = "https://openapi.alipay.com/gateway.do";
  std::string app_private_key_pem;     // our RSA private key (signs requests)
  std::string alipay_public_key_pem;   // Alipay's public key (verifies notifications)
  bool mobile = false;                 // alipay.trade.wap.pay instead of page.pay
};

struct WechatConfig {
  std::string appid;
  std::string mchid;
  std::string merchant_serial_no;        // serial of our merchant certificate
  std::string merchant_private_key_pem;  // signs API requests
  std::string platform_public_key_pem;   // verifies Wechatpay-Signature
  std::string platform_serial;           // expected Wechatpay-Serial
  std::string apiv3_key;                 // 32 bytes: AEAD_AES_256_GCM key
  std::string api_base = "https://api.mch.weixin.qq.com";
  int64_t max_clock_skew = 300;          // seconds; older notifications are stale
  // How start() reaches WeChat Pay: posts `body` (JSON) to `url` with the
  // headers Authorization: {authorization}, Content-Type: application/json,
  // Accept: application/json and User-Agent: paidoc, and answers the
  // response body for a 2xx status, kUnavailable (naming the status and an
  // excerpt of the body, or the network error) otherwise. Empty: the
  // built-in HTTPS client, which verifies the server certificate against the
  // system CA store. Tests and local stand-ins set a fake.
  std::function<Result<std::string>(const std::string& url, const std::string& body,
                                    const std::string& authorization)>
      post;
};

struct SandboxConfig {
  std::string secret;  // HMAC-SHA256 key for sandbox notifications
  std::string base_url;  // where the sandbox pay page lives (this site)
};

std::unique_ptr<PaymentProvider> make_alipay(AlipayConfig c, const Clock& clock);
std::unique_ptr<PaymentProvider> make_wechat(WechatConfig c, const Clock& clock);
std::unique_ptr<PaymentProvider> make_sandbox(SandboxConfig c, const Clock& clock);

// For the sandbox page: the signed notification the sandbox sends when the
// "buyer" presses 支付. Goes through the same verify() path as any other.
RawNotification sandbox_notification(const SandboxConfig& c, const std::string& out_trade_no,
                                     Fen amount, const std::string& transaction_id);

}  // namespace paidoc::commerce
