// Payment providers: Alipay (RSA2; page, WAP; public-key or certificate
// mode), WeChat Pay API v3 (Native, H5, JSAPI; platform certificates or the
// WeChat Pay public key), and a local sandbox. A provider builds the request
// that sends a buyer to pay, verifies asynchronous notifications (payments
// and refunds), and calls the gateway's server APIs: query, close, refund.
// It never touches the store: the commerce service applies what a provider
// verified exactly once.
//
// Gateway answers are untrusted too: a provider checks the gateway's
// signature on every API answer it acts on (Alipay's response sign, WeChat's
// Wechatpay-Signature headers) and answers kUnavailable for anything
// unsigned, forged or unreadable, naming what was wrong.
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
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/money.h"
#include "common/status.h"

namespace paidoc::commerce {

// ---- the way out to a gateway ----------------------------------------------

// One outgoing HTTP request to a gateway's server API.
struct HttpRequest {
  std::string method = "POST";  // "GET" | "POST"
  std::string url;              // https://host[:port]/path?query
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given
  std::string body;
};

// Its answer, whatever the status (WeChat answers business errors as 4xx
// with a JSON body). Header names are lower-case.
struct HttpAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

// How a provider reaches its gateway. kUnavailable for network errors and
// timeouts (no answer at all). Empty in a config: the built-in HTTPS client
// (https_client.h), which verifies the server certificate against the
// system CA store. Tests and local stand-ins pass their own or point the
// gateway URL at http://127.0.0.1.
using Transport = std::function<Result<HttpAnswer>(const HttpRequest&)>;

// ---- starting a payment -------------------------------------------------------

// Where the buyer is paying from; decides the product used.
enum class Channel {
  kDesktop,        // Alipay page.pay; WeChat Native (QR code)
  kPhone,          // Alipay wap.pay; WeChat H5 (when enabled), else Native
  kWechatBrowser,  // inside WeChat's own browser: WeChat JSAPI (needs openid)
};

// What a provider needs to start a payment.
struct PaymentOrder {
  std::string out_trade_no;  // our order number, unique, <= 32 chars [0-9A-Za-z_]
  Fen amount;
  std::string subject;       // shown to the buyer (document title or plan name)
  std::string return_url;    // where the buyer's browser returns (Alipay, WeChat H5)
  std::string notify_url;    // where the provider posts the notification
  int64_t expires_at = 0;    // unix seconds; 0: none. Sent as the gateway's
                             // time_expire, so a late scan cannot pay
  Channel channel = Channel::kDesktop;
  std::string client_ip;     // the buyer's address (WeChat H5 requires it)
  std::string openid;        // WeChat JSAPI: the payer's openid under our appid
};

// How to send the buyer to pay. Exactly one of redirect_url, code_url and
// jsapi is set.
struct PaymentStart {
  std::string redirect_url;  // Alipay: gateway URL with the signed query; WeChat H5:
                             // h5_url with redirect_url appended; sandbox: its page
  std::string code_url;      // WeChat Native: to be shown as a QR code
  // WeChat JSAPI: the signed parameters for WeixinJSBridge
  // getBrandWCPayRequest: appId, timeStamp, nonceStr, package
  // ("prepay_id=…"), signType ("RSA"), paySign.
  std::map<std::string, std::string> jsapi;
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

enum class NotificationKind {
  kPayment,  // about the payment of a trade (paid or not: see `paid`)
  kRefund,   // about a refund of a trade (see `refund`)
};

enum class RefundState {
  kPending,    // accepted by the gateway, money not yet back (WeChat PROCESSING)
  kSucceeded,  // the money went back to the buyer
  kFailed,     // refused or closed (WeChat CLOSED/ABNORMAL, an Alipay business error)
};

const char* refund_state_name(RefundState s);  // "pending" | "succeeded" | "failed"

// A refund as a gateway reports it, in a notification or an API answer.
struct RefundReport {
  std::string refund_id;      // the gateway's id for this refund. Exactly-once key
                              // of a refund with (provider, transaction_id)
  std::string out_refund_no;  // our refund number when we asked for it; for a
                              // refund made at the gateway (its console), what
                              // the gateway names it (Alipay out_biz_no)
  Fen amount;                 // this refund; 0 when the gateway reports only the
                              // running total (Alipay notifications): then the
                              // service books refunded_total minus what it has
                              // already booked for the trade
  Fen refunded_total;         // all refunds of the trade so far, this one
                              // included (Alipay refund_fee); 0 when unknown
                              // (WeChat reports each refund alone)
  RefundState state = RefundState::kPending;
};

// A verified notification.
struct Notification {
  std::string provider;         // "alipay" | "wechat" | "sandbox"
  NotificationKind kind = NotificationKind::kPayment;
  std::string transaction_id;   // the provider's trade id: the exactly-once key of a payment
  std::string out_trade_no;
  Fen amount;                   // the trade's total
  bool paid = false;            // kPayment: a success state (TRADE_SUCCESS/FINISHED, SUCCESS)
  std::string app_id;           // for the app check (Alipay app_id, WeChat appid/mchid)
  RefundReport refund;          // kRefund only
};

// What a gateway says of a trade when asked (query).
struct TradeReport {
  bool exists = false;          // false: the gateway never saw it (no scan yet)
  bool paid = false;            // TRADE_SUCCESS / TRADE_FINISHED / SUCCESS
  bool closed = false;          // TRADE_CLOSED / CLOSED / REVOKED
  std::string state;            // the gateway's own word, for logs
  std::string transaction_id;   // set when paid
  Fen amount;                   // the trade's total, set when paid
};

// Our request to refund (part of) a paid trade.
struct RefundRequest {
  std::string out_trade_no;
  std::string transaction_id;  // the gateway's trade id
  std::string out_refund_no;   // ours, unique per refund: repeating a request with
                               // the same number never refunds twice
  Fen amount;                  // to refund now, > 0
  Fen total;                   // the trade's total
  std::string reason;          // shown to the buyer by some gateways
  std::string notify_url;      // WeChat: where to post REFUND.* events
};

class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  virtual std::string name() const = 0;
  // Builds the signed request for order.channel. Alipay (page or WAP) and
  // the sandbox are redirects (no network I/O). WeChat posts the signed
  // order (Native, H5 or JSAPI) through WechatConfig::transport and answers
  // its code_url, h5_url redirect or JSAPI parameters; kUnavailable when the
  // gateway cannot be reached, refuses, or its answer does not verify.
  virtual Result<PaymentStart> start(const PaymentOrder& order) = 0;
  // Verifies signature, app id, freshness; decrypts. kForbidden when the
  // signature or app id is wrong, kInvalidArgument when malformed or stale.
  virtual Result<Notification> verify(const RawNotification& n) const = 0;
  // What to answer the provider once the notification is applied (or was a
  // duplicate): Alipay "success", WeChat 200 with an empty body / JSON.
  virtual std::string success_body() const = 0;
  // What to answer when it was refused (the provider retries).
  virtual std::string failure_body() const = 0;

  // The gateway's server APIs. Each is one signed request through the
  // provider's Transport, and each answer's signature is checked before it
  // is believed. kUnavailable: no answer, an unsigned or badly signed one,
  // garbage, or a gateway system error (try again later); kInvalidArgument:
  // the gateway refused the request as a business error (the message names
  // its code and text). The base class answers kInvalidArgument "<name>
  // cannot …" for providers without the API.
  //
  // query: alipay.trade.query; WeChat GET /v3/pay/transactions/out-trade-no/{no}.
  // A trade the gateway does not know is {exists = false}, not an error.
  virtual Result<TradeReport> query(const std::string& out_trade_no);
  // close: alipay.trade.close; WeChat POST …/out-trade-no/{no}/close. OK when
  // the trade is closed now or never existed at the gateway; kConflict when
  // it was paid meanwhile (query it, then apply the payment).
  virtual Status close(const std::string& out_trade_no);
  // refund: alipay.trade.refund; WeChat POST /v3/refund/domestic/refunds.
  // Idempotent on out_refund_no. The answer's state may be kPending (WeChat
  // usually is); the outcome then comes by notification or query_refund.
  virtual Result<RefundReport> refund(const RefundRequest& r);
  // query_refund: alipay.trade.fastpay.refund.query; WeChat GET
  // /v3/refund/domestic/refunds/{out_refund_no}. kNotFound when the gateway
  // has no such refund (the request never arrived: safe to send again).
  virtual Result<RefundReport> query_refund(const std::string& out_trade_no,
                                            const std::string& out_refund_no);

  // Paying inside WeChat's browser needs the payer's openid, which WeChat
  // gives through an OAuth step (snsapi_base, no consent screen). oauth_url:
  // where to send the browser, which comes back to redirect_uri with ?code=
  // and &state=. openid: exchanges that code (sns/oauth2/access_token).
  // Base class: kInvalidArgument (only WeChat with an app secret has it).
  virtual Result<std::string> oauth_url(const std::string& redirect_uri,
                                        const std::string& state) const;
  virtual Result<std::string> openid(const std::string& code);
  // Whether refund() reaches a gateway (Alipay, WeChat Pay; not the sandbox,
  // whose payments are refunded to the wallet).
  virtual bool can_refund() const { return false; }
  // Whether start() can serve this channel itself (WeChat: JSAPI needs an
  // app secret, H5 must be switched on). The service falls back to
  // kDesktop when not.
  virtual bool supports(Channel c) const { return c == Channel::kDesktop; }
};

// Configuration of each provider; all secrets from the config file.
//
// Keys are accepted as PEM (PKCS #1 or PKCS #8, "PUBLIC KEY", "CERTIFICATE")
// or as the bare base64 DER that Alipay's key tool prints; a key that does
// not load is named with the format that was expected.
struct AlipayConfig {
  std::string app_id;
  std::string gateway = "https://openapi.alipay.com/gateway.do";
  std::string app_private_key_pem;     // our RSA private key (signs requests)
  // Public-key mode: Alipay's public key (verifies notifications and answers).
  std::string alipay_public_key_pem;
  // Certificate mode (公钥证书模式), instead of alipay_public_key_pem: our
  // app certificate (appCertPublicKey_*.crt), Alipay's certificate
  // (alipayCertPublicKey_RSA2.crt, its key verifies) and Alipay's root
  // certificate chain (alipayRootCert.crt). Requests then carry app_cert_sn
  // and alipay_root_cert_sn; an answer's alipay_cert_sn must match.
  std::string app_cert_pem;
  std::string alipay_cert_pem;
  std::string alipay_root_cert_pem;
  bool mobile = false;  // always alipay.trade.wap.pay; otherwise by Channel
  Transport transport;  // empty: https_request
};

struct WechatConfig {
  std::string appid;
  std::string mchid;
  std::string merchant_serial_no;        // serial of our merchant certificate
  std::string merchant_private_key_pem;  // signs API requests
  // The keys that verify Wechatpay-Signature, by the Wechatpay-Serial that
  // names them: one or more platform certificates (several during a
  // rotation), and/or the WeChat Pay public key under its id
  // ("PUB_KEY_ID_…", public-key mode). A signature by any other serial is
  // refused.
  std::map<std::string, std::string> platform_keys;  // serial -> PEM / base64
  // Public-key mode: sent as Wechatpay-Serial on our requests. Empty in
  // platform-certificate mode.
  std::string public_key_id;
  std::string apiv3_key;                 // 32 bytes: AEAD_AES_256_GCM key
  std::string api_base = "https://api.mch.weixin.qq.com";
  int64_t max_clock_skew = 300;          // seconds; older notifications are stale
  bool h5 = false;                       // H5 payments are enabled for the merchant
  // JSAPI (inside WeChat): the official account's secret for the OAuth step;
  // empty: no JSAPI, WeChat's browser gets Native/H5.
  std::string app_secret;
  std::string oauth_base = "https://open.weixin.qq.com";
  std::string sns_api_base = "https://api.weixin.qq.com";
  Transport transport;  // empty: https_request
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
