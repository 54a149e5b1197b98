// WeChat Pay API v3 (Native) against a fake gateway holding keys generated
// here: the signed request start() posts and the code_url it reads from the
// answer (through a fake transport, and the real HTTPS client against a
// local plain-HTTP stand-in), and callbacks signed and
// encrypted the way WeChat Pay sends them — valid, forged, tampered, stale,
// under another serial or APIv3 key, for another merchant, malformed.

#include "commerce/wechat.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "commerce/https_client.h"
#include "commerce/provider.h"
#include "common/clock.h"
#include "gateway_fake.h"

namespace paidoc::commerce {
namespace {

namespace gw = fake_gateway;
using nlohmann::json;

constexpr const char* kAppId = "wxd678efh567hg6787";
constexpr const char* kMchId = "1230000109";
constexpr const char* kMerchantSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
constexpr const char* kPlatformSerial = "PUB_KEY_ID_0112345678202601010000000000";
constexpr const char* kApiV3Key = "0123456789abcdefghijABCDEFGHIJ01";  // 32 bytes
constexpr const char* kResourceNonce = "fdasflkja484";                 // 12 bytes
constexpr const char* kAad = "transaction";

constexpr const char* kCodeUrl = "weixin://wxpay/bizpayurl?pr=abc";

// What the fake transport received, and what it answers.
struct FakeTransport {
  struct Call {
    std::string url, body, authorization;
  };
  std::vector<Call> calls;
  Result<std::string> answer = std::string(R"({"code_url":"weixin://wxpay/bizpayurl?pr=abc"})");
};

WechatConfig config(std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>()) {
  WechatConfig c;
  c.post = [transport](const std::string& url, const std::string& body,
                       const std::string& authorization) -> Result<std::string> {
    transport->calls.push_back({url, body, authorization});
    return transport->answer;
  };
  c.appid = kAppId;
  c.mchid = kMchId;
  c.merchant_serial_no = kMerchantSerial;
  c.merchant_private_key_pem = gw::merchant_key().private_pem;
  c.platform_public_key_pem = gw::platform_key().public_pem;
  c.platform_serial = kPlatformSerial;
  c.apiv3_key = kApiV3Key;
  return c;
}

PaymentOrder order() {
  PaymentOrder o;
  o.out_trade_no = "P20260101000001";
  o.amount = Fen(990);
  o.subject = "论语译注";
  o.notify_url = "https://paidoc.example/pay/notify/wechat";
  return o;
}

// The decrypted resource of a paid Native transaction for order().
json transaction() {
  return {
      {"appid", kAppId},
      {"mchid", kMchId},
      {"out_trade_no", "P20260101000001"},
      {"transaction_id", "4200000000202601011234567890"},
      {"trade_type", "NATIVE"},
      {"trade_state", "SUCCESS"},
      {"trade_state_desc", "支付成功"},
      {"bank_type", "OTHERS"},
      {"success_time", "2026-01-01T08:00:30+08:00"},
      {"payer", {{"openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}},
      {"amount",
       {{"total", 990}, {"payer_total", 990}, {"currency", "CNY"}, {"payer_currency", "CNY"}}},
  };
}

struct Callback {
  json plaintext = transaction();
  std::string apiv3_key = kApiV3Key;
  std::string serial = kPlatformSerial;
  std::string signing_key_pem = gw::platform_key().private_pem;
  std::string event_type = "TRANSACTION.SUCCESS";
  std::string algorithm = "AEAD_AES_256_GCM";
  int64_t timestamp = FakeClock().now();
};

std::string envelope(const Callback& cb) {
  std::string ct = gw::aes_256_gcm_encrypt(cb.apiv3_key, kResourceNonce, kAad, cb.plaintext.dump());
  return gw::wechat_envelope(gw::b64(ct), kResourceNonce, kAad, cb.event_type, cb.algorithm);
}

RawNotification callback(const Callback& cb) {
  return gw::wechat_signed(envelope(cb), cb.timestamp, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
                           cb.serial, cb.signing_key_pem);
}

// Splits `WECHATPAY2-SHA256-RSA2048 k="v",k="v"` into its parts.
std::map<std::string, std::string> parse_authorization(const std::string& header,
                                                       std::string* scheme) {
  size_t space = header.find(' ');
  *scheme = header.substr(0, space);
  std::map<std::string, std::string> out;
  std::string rest = header.substr(space + 1);
  size_t pos = 0;
  while (pos < rest.size()) {
    size_t eq = rest.find("=\"", pos);
    size_t close = rest.find('"', eq + 2);
    out[rest.substr(pos, eq - pos)] = rest.substr(eq + 2, close - eq - 2);
    pos = close + 2;  // past '",'
  }
  return out;
}

class WechatTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
  std::unique_ptr<PaymentProvider> wechat_ = make_wechat(config(transport_), clock_);
};

// ---- start(): the signed request ----------------------------------------------

TEST_F(WechatTest, StartBuildsASignedNativeRequest) {
  auto s = wechat_->start(order());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_TRUE(s->redirect_url.empty());
  EXPECT_EQ(s->code_url, kCodeUrl);  // from WeChat's answer

  json body = json::parse(s->api_request_body);
  EXPECT_EQ(body["appid"], kAppId);
  EXPECT_EQ(body["mchid"], kMchId);
  EXPECT_EQ(body["description"], "论语译注");
  EXPECT_EQ(body["out_trade_no"], "P20260101000001");
  EXPECT_EQ(body["notify_url"], "https://paidoc.example/pay/notify/wechat");
  EXPECT_EQ(body["amount"]["total"], 990);
  EXPECT_EQ(body["amount"]["currency"], "CNY");

  std::string scheme;
  auto auth = parse_authorization(s->api_authorization, &scheme);
  EXPECT_EQ(scheme, "WECHATPAY2-SHA256-RSA2048");
  EXPECT_EQ(auth["mchid"], kMchId);
  EXPECT_EQ(auth["serial_no"], kMerchantSerial);
  EXPECT_EQ(auth["timestamp"], std::to_string(clock_.now()));
  EXPECT_GE(auth["nonce_str"].size(), 16u);
  std::string message = "POST\n/v3/pay/transactions/native\n" + auth["timestamp"] + "\n" +
                        auth["nonce_str"] + "\n" + s->api_request_body + "\n";
  EXPECT_TRUE(gw::rsa_verify(gw::merchant_key().public_pem, message, gw::unb64(auth["signature"])));
  EXPECT_FALSE(
      gw::rsa_verify(gw::stranger_key().public_pem, message, gw::unb64(auth["signature"])));
  EXPECT_EQ(std::string(kWechatNativePath), "/v3/pay/transactions/native");
}

TEST_F(WechatTest, StartPostsTheSignedOrderAndReadsCodeUrl) {
  auto s = wechat_->start(order());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  ASSERT_EQ(transport_->calls.size(), 1u);
  const FakeTransport::Call& call = transport_->calls[0];
  EXPECT_EQ(call.url, "https://api.mch.weixin.qq.com/v3/pay/transactions/native");
  EXPECT_EQ(call.body, s->api_request_body);
  EXPECT_EQ(call.authorization, s->api_authorization);
  // The gateway's check: the signature covers the exact bytes it received.
  std::string scheme;
  auto auth = parse_authorization(call.authorization, &scheme);
  EXPECT_EQ(scheme, "WECHATPAY2-SHA256-RSA2048");
  std::string message = "POST\n/v3/pay/transactions/native\n" + auth["timestamp"] + "\n" +
                        auth["nonce_str"] + "\n" + call.body + "\n";
  EXPECT_TRUE(gw::rsa_verify(gw::merchant_key().public_pem, message, gw::unb64(auth["signature"])));
  EXPECT_EQ(json::parse(call.body)["out_trade_no"], "P20260101000001");
  EXPECT_EQ(s->code_url, kCodeUrl);

  // Another API base, with or without a trailing slash.
  WechatConfig c = config(transport_);
  c.api_base = "http://127.0.0.1:8443/";
  ASSERT_TRUE(make_wechat(c, clock_)->start(order()).ok());
  EXPECT_EQ(transport_->calls.back().url, "http://127.0.0.1:8443/v3/pay/transactions/native");
}

TEST_F(WechatTest, UnreachableGatewayIsUnavailable) {
  transport_->answer = Status::unavailable("https: connecting to api.mch.weixin.qq.com:443: refused");
  auto s = wechat_->start(order());
  EXPECT_EQ(s.status().code(), Code::kUnavailable);
  EXPECT_EQ(s.status().message().rfind("暂时无法连接微信支付", 0), 0u) << s.status().message();
  EXPECT_NE(s.status().message().find("refused"), std::string::npos);
}

TEST_F(WechatTest, GatewayErrorAnswerIsUnavailable) {
  transport_->answer = std::string(R"({"code":"SIGN_ERROR","message":"签名错误"})");
  auto s = wechat_->start(order());
  EXPECT_EQ(s.status().code(), Code::kUnavailable);
  EXPECT_NE(s.status().message().find("SIGN_ERROR"), std::string::npos) << s.status().message();
  transport_->answer = std::string("<html>502 Bad Gateway</html>");
  EXPECT_EQ(wechat_->start(order()).status().code(), Code::kUnavailable);
}

TEST_F(WechatTest, BadOrdersAreNotPosted) {
  PaymentOrder o = order();
  o.amount = Fen(0);
  EXPECT_EQ(wechat_->start(o).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(transport_->calls.empty());
}

TEST_F(WechatTest, EachStartHasAFreshNonce) {
  std::string a, b, scheme;
  a = parse_authorization(wechat_->start(order())->api_authorization, &scheme)["nonce_str"];
  b = parse_authorization(wechat_->start(order())->api_authorization, &scheme)["nonce_str"];
  EXPECT_NE(a, b);
}

TEST_F(WechatTest, LongDescriptionIsCutOnACharacterBoundary) {
  PaymentOrder o = order();
  o.subject.clear();
  for (int i = 0; i < 60; ++i) o.subject += "文";  // 180 bytes
  auto s = wechat_->start(o);
  ASSERT_TRUE(s.ok());
  std::string d = json::parse(s->api_request_body)["description"];
  EXPECT_EQ(d.size(), 126u);  // 42 whole characters, not 127 bytes
}

TEST_F(WechatTest, StartRefusesBadOrders) {
  PaymentOrder o = order();
  o.amount = Fen(-1);
  EXPECT_EQ(wechat_->start(o).status().code(), Code::kInvalidArgument);
  o = order();
  o.out_trade_no = "P1\"}";
  EXPECT_EQ(wechat_->start(o).status().code(), Code::kInvalidArgument);
}

TEST_F(WechatTest, CodeUrlFromResponse) {
  auto ok =
      wechat_code_url_from_response(R"({"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "weixin://wxpay/bizpayurl?pr=p4lpSuKzz");
  auto err = wechat_code_url_from_response(R"({"code":"PARAM_ERROR","message":"参数错误"})");
  EXPECT_EQ(err.status().code(), Code::kUnavailable);
  EXPECT_NE(err.status().message().find("PARAM_ERROR"), std::string::npos);
  EXPECT_EQ(wechat_code_url_from_response("<html>").status().code(), Code::kUnavailable);
  EXPECT_EQ(wechat_code_url_from_response("{}").status().code(), Code::kUnavailable);
}

// ---- verify(): callbacks ----------------------------------------------------------

TEST_F(WechatTest, ValidCallbackVerifies) {
  auto n = wechat_->verify(callback({}));
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(n->provider, "wechat");
  EXPECT_EQ(n->transaction_id, "4200000000202601011234567890");
  EXPECT_EQ(n->out_trade_no, "P20260101000001");
  EXPECT_EQ(n->amount, Fen(990));
  EXPECT_TRUE(n->paid);
  EXPECT_EQ(n->app_id, kAppId);
}

TEST_F(WechatTest, PlatformCertificateOrBareKeyWorkToo) {
  for (const std::string& pem :
       {gw::platform_key().certificate_pem, gw::bare_base64(gw::platform_key().public_pem)}) {
    WechatConfig c = config();
    c.platform_public_key_pem = pem;
    auto n = make_wechat(c, clock_)->verify(callback({}));
    EXPECT_TRUE(n.ok()) << n.status().to_string();
  }
}

TEST_F(WechatTest, ForgedSignatureIsForbidden) {
  Callback cb;
  cb.signing_key_pem = gw::stranger_key().private_pem;
  EXPECT_EQ(wechat_->verify(callback(cb)).status().code(), Code::kForbidden);
  cb.signing_key_pem = gw::merchant_key().private_pem;  // our own key is not WeChat's
  EXPECT_EQ(wechat_->verify(callback(cb)).status().code(), Code::kForbidden);

  RawNotification garbage = callback({});
  garbage.headers["wechatpay-signature"] =
      "WECHATPAY/SIGNTEST/" + garbage.headers["wechatpay-signature"];
  EXPECT_EQ(wechat_->verify(garbage).status().code(), Code::kForbidden);
}

TEST_F(WechatTest, TamperedAfterSigningIsForbidden) {
  RawNotification n = callback({});
  RawNotification body = n;
  size_t at = body.body.find("EV-2018");
  ASSERT_NE(at, std::string::npos);
  body.body[at + 3] = '3';
  EXPECT_EQ(wechat_->verify(body).status().code(), Code::kForbidden);

  RawNotification nonce = n;
  nonce.headers["wechatpay-nonce"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  EXPECT_EQ(wechat_->verify(nonce).status().code(), Code::kForbidden);

  RawNotification ts = n;
  ts.headers["wechatpay-timestamp"] = std::to_string(clock_.now() + 1);
  EXPECT_EQ(wechat_->verify(ts).status().code(), Code::kForbidden);
}

TEST_F(WechatTest, TamperedCiphertextFailsTheGcmTag) {
  // Even re-signed by the platform key, a flipped ciphertext bit cannot
  // decrypt: the AEAD tag catches it.
  Callback cb;
  std::string ct = gw::aes_256_gcm_encrypt(kApiV3Key, kResourceNonce, kAad, cb.plaintext.dump());
  ct[5] ^= 0x01;
  std::string body = gw::wechat_envelope(gw::b64(ct), kResourceNonce, kAad);
  auto n = wechat_->verify(
      gw::wechat_signed(body, cb.timestamp, "N1", kPlatformSerial, gw::platform_key().private_pem));
  EXPECT_EQ(n.status().code(), Code::kForbidden);

  // The associated data is authenticated too.
  std::string ct2 = gw::aes_256_gcm_encrypt(kApiV3Key, kResourceNonce, kAad, cb.plaintext.dump());
  std::string body2 = gw::wechat_envelope(gw::b64(ct2), kResourceNonce, "refund");
  auto n2 = wechat_->verify(gw::wechat_signed(body2, cb.timestamp, "N2", kPlatformSerial,
                                              gw::platform_key().private_pem));
  EXPECT_EQ(n2.status().code(), Code::kForbidden);
}

TEST_F(WechatTest, WrongApiV3KeyFailsTheGcmTag) {
  Callback cb;
  cb.apiv3_key = "ABCDEFGHIJ0123456789abcdefghij01";
  EXPECT_EQ(wechat_->verify(callback(cb)).status().code(), Code::kForbidden);

  WechatConfig c = config();
  c.apiv3_key = "too short";  // a configuration error, not the notification's fault
  EXPECT_EQ(make_wechat(c, clock_)->verify(callback({})).status().code(), Code::kInternal);
}

TEST_F(WechatTest, StaleTimestampIsRejected) {
  Callback cb;
  cb.timestamp = clock_.now() - 300;
  EXPECT_TRUE(wechat_->verify(callback(cb)).ok());  // at the edge of the window
  cb.timestamp = clock_.now() - 301;
  EXPECT_EQ(wechat_->verify(callback(cb)).status().code(), Code::kInvalidArgument);
  cb.timestamp = clock_.now() + 301;  // from the future
  EXPECT_EQ(wechat_->verify(callback(cb)).status().code(), Code::kInvalidArgument);

  // A genuine callback replayed later.
  RawNotification n = callback({});
  clock_.advance(3600);
  auto late = wechat_->verify(n);
  EXPECT_EQ(late.status().code(), Code::kInvalidArgument);
  EXPECT_NE(late.status().message().find("stale"), std::string::npos);
}

TEST_F(WechatTest, WrongSerialIsForbidden) {
  Callback cb;
  cb.serial = "PUB_KEY_ID_0199999999999999999999999999";
  EXPECT_EQ(wechat_->verify(callback(cb)).status().code(), Code::kForbidden);
}

TEST_F(WechatTest, AnotherAppOrMerchantIsForbidden) {
  Callback cb;
  cb.plaintext["appid"] = "wx0000000000000000";
  EXPECT_EQ(wechat_->verify(callback(cb)).status().code(), Code::kForbidden);
  cb = Callback();
  cb.plaintext["mchid"] = "1900000001";
  EXPECT_EQ(wechat_->verify(callback(cb)).status().code(), Code::kForbidden);
  cb = Callback();
  cb.plaintext.erase("mchid");
  EXPECT_EQ(wechat_->verify(callback(cb)).status().code(), Code::kForbidden);
}

TEST_F(WechatTest, TradeStateOtherThanSuccessIsNotPaid) {
  for (const char* state : {"NOTPAY", "CLOSED", "PAYERROR", "REFUND"}) {
    Callback cb;
    cb.plaintext["trade_state"] = state;
    auto n = wechat_->verify(callback(cb));
    ASSERT_TRUE(n.ok()) << state << ": " << n.status().to_string();
    EXPECT_FALSE(n->paid) << state;
  }
}

TEST_F(WechatTest, AmountIsTotalFen) {
  Callback cb;
  cb.plaintext["amount"]["total"] = 3000;
  cb.plaintext["amount"]["payer_total"] = 2900;  // a coupon paid 1 yuan
  auto n = wechat_->verify(callback(cb));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->amount, Fen(3000));
}

TEST_F(WechatTest, MalformedIsInvalidArgument) {
  // Missing or unreadable headers.
  for (const char* h :
       {"wechatpay-timestamp", "wechatpay-nonce", "wechatpay-signature", "wechatpay-serial"}) {
    RawNotification n = callback({});
    n.headers.erase(h);
    EXPECT_EQ(wechat_->verify(n).status().code(), Code::kInvalidArgument) << h;
  }
  RawNotification bad_ts = callback({});
  bad_ts.headers["wechatpay-timestamp"] = "1767225600.5";
  EXPECT_EQ(wechat_->verify(bad_ts).status().code(), Code::kInvalidArgument);

  auto signed_body = [&](const std::string& body) {
    return wechat_->verify(gw::wechat_signed(body, clock_.now(), "N", kPlatformSerial,
                                             gw::platform_key().private_pem));
  };
  EXPECT_EQ(signed_body("not json").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(signed_body(R"({"event_type":"TRANSACTION.SUCCESS"})").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(signed_body(gw::wechat_envelope("!!!", kResourceNonce, kAad)).status().code(),
            Code::kInvalidArgument);

  Callback other_algorithm;
  other_algorithm.algorithm = "AEAD_SM4_GCM";
  EXPECT_EQ(wechat_->verify(callback(other_algorithm)).status().code(), Code::kInvalidArgument);
  Callback refund;
  refund.event_type = "REFUND.SUCCESS";
  EXPECT_EQ(wechat_->verify(callback(refund)).status().code(), Code::kInvalidArgument);

  // Decrypts, but the transaction is incomplete or odd.
  for (const char* missing : {"out_trade_no", "transaction_id", "trade_state", "amount"}) {
    Callback cb;
    cb.plaintext.erase(missing);
    EXPECT_EQ(wechat_->verify(callback(cb)).status().code(), Code::kInvalidArgument) << missing;
  }
  Callback text_total;
  text_total.plaintext["amount"]["total"] = "990";
  EXPECT_EQ(wechat_->verify(callback(text_total)).status().code(), Code::kInvalidArgument);
  Callback usd;
  usd.plaintext["amount"]["currency"] = "USD";
  EXPECT_EQ(wechat_->verify(callback(usd)).status().code(), Code::kInvalidArgument);
}

TEST_F(WechatTest, UnusableKeysAreReportedNotUsed) {
  WechatConfig c = config();
  c.merchant_private_key_pem.clear();
  c.platform_public_key_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
  auto broken = make_wechat(c, clock_);
  EXPECT_EQ(broken->start(order()).status().code(), Code::kInternal);
  EXPECT_EQ(broken->verify(callback({})).status().code(), Code::kInternal);
}

TEST_F(WechatTest, MissingIdsAreAConfigurationError) {
  // An empty platform serial must not match a callback without one.
  WechatConfig c = config();
  c.platform_serial.clear();
  Callback cb;
  cb.serial.clear();
  EXPECT_EQ(make_wechat(c, clock_)->verify(callback(cb)).status().code(), Code::kInternal);
  c = config();
  c.mchid.clear();
  EXPECT_EQ(make_wechat(c, clock_)->start(order()).status().code(), Code::kInternal);
}

TEST_F(WechatTest, AnswersWechatReads) {
  EXPECT_EQ(wechat_->name(), "wechat");
  EXPECT_EQ(json::parse(wechat_->success_body())["code"], "SUCCESS");
  EXPECT_EQ(json::parse(wechat_->failure_body())["code"], "FAIL");
}

// ---- https_post_json against a local plain-HTTP stand-in ------------------------

// Listens on 127.0.0.1, answers one request with `response` and keeps what it
// received.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(fd_, 1) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    if (thread_.joinable()) {
      ::shutdown(fd_, SHUT_RDWR);
      thread_.join();
    }
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }
  // The raw request, once the exchange is over.
  const std::string& request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  void serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    char buf[4096];
    size_t want = std::string::npos;
    while (request_.size() < want) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
      size_t end = request_.find("\r\n\r\n");
      if (want == std::string::npos && end != std::string::npos) {
        size_t cl = request_.find("Content-Length: ");
        size_t length = cl == std::string::npos ? 0 : std::stoul(request_.substr(cl + 16));
        want = end + 4 + length;
      }
    }
    size_t sent = 0;
    while (sent < response_.size()) {
      ssize_t n = ::write(c, response_.data() + sent, response_.size() - sent);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    ::close(c);
  }

  std::string response_;
  std::string request_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

std::string http_answer(const std::string& status_line, const std::string& body) {
  return "HTTP/1.1 " + status_line + "\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

TEST(HttpsPostJson, SendsHeadersAndBodyAndAnswersTheBody) {
  const std::string answer = R"({"code_url":"weixin://wxpay/bizpayurl?pr=abc"})";
  OneShotServer server(http_answer("200 OK", answer));
  ASSERT_GT(server.port(), 0);
  const std::string body = R"({"appid":"wx1","description":"论语译注"})";
  auto r = https_post_json("http://127.0.0.1:" + std::to_string(server.port()) +
                               "/v3/pay/transactions/native",
                           body, "WECHATPAY2-SHA256-RSA2048 mchid=\"1\"", 5);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, answer);
  const std::string req = server.request();
  EXPECT_EQ(req.rfind("POST /v3/pay/transactions/native HTTP/1.1\r\n", 0), 0u) << req;
  for (const std::string& h :
       {std::string("Authorization: WECHATPAY2-SHA256-RSA2048 mchid=\"1\"\r\n"),
        std::string("Content-Type: application/json\r\n"), std::string("Accept: application/json\r\n"),
        std::string("User-Agent: paidoc\r\n"),
        "Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n",
        "Content-Length: " + std::to_string(body.size()) + "\r\n"})
    EXPECT_NE(req.find(h), std::string::npos) << h << " in\n" << req;
  EXPECT_EQ(req.substr(req.size() - body.size()), body);
}

TEST(HttpsPostJson, ErrorStatusIsUnavailableWithAnExcerpt) {
  OneShotServer server(http_answer("400 Bad Request", R"({"code":"PARAM_ERROR"})"));
  ASSERT_GT(server.port(), 0);
  auto r = https_post_json("http://localhost:" + std::to_string(server.port()) + "/x", "{}", "", 5);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("400"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("PARAM_ERROR"), std::string::npos) << r.status().message();
}

TEST(HttpsPostJson, RefusesPlainHttpBeyondLoopbackAndOddUrls) {
  for (const char* url : {"http://example.com/", "http://10.0.0.1:8080/v3", "ftp://example.com/",
                          "https://user@example.com/", "https://:443/", "https://example.com:99999/"})
    EXPECT_EQ(https_post_json(url, "{}", "").status().code(), Code::kInvalidArgument) << url;
  EXPECT_EQ(https_post_json("https://example.com/", "{}", "a\r\nX-Injected: 1").status().code(),
            Code::kInvalidArgument);
}

TEST(HttpsPostJson, NothingListeningIsUnavailable) {
  // A port that was free a moment ago: bound, never listened on, closed.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  auto r = https_post_json("http://127.0.0.1:" + std::to_string(port) + "/", "{}", "", 5);
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().to_string();
}

}  // namespace
}  // namespace paidoc::commerce
