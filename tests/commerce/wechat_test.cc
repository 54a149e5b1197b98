// WeChat Pay API v3 against a stand-in gateway (wechat_standin.h) over real
// loopback HTTP, with keys generated here: Native, H5 and JSAPI orders,
// query, close, refunds and refund queries, each request's signature
// checked by the stand-in and each answer's signature checked by the
// provider (forged, unsigned, stale, garbage, timeouts, business errors);
// several platform serials (rotation) and the WeChat Pay public-key mode;
// the OAuth step of JSAPI; and callbacks signed and encrypted the way WeChat
// Pay sends them — payments and refunds, valid, forged, tampered, stale,
// under another serial or APIv3 key, for another merchant, malformed.

#include "commerce/wechat.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
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
#include "wechat_standin.h"

namespace paidoc::commerce {
namespace {

namespace gw = fake_gateway;
using nlohmann::json;
using Mode = gw::WechatStandin::Mode;

constexpr const char* kAppId = "wxd678efh567hg6787";
constexpr const char* kMchId = "1230000109";
constexpr const char* kMerchantSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
// Two platform certificates during a rotation, and the WeChat Pay public key.
constexpr const char* kPlatformSerial = "3775B6A45ACD588826D15E583A95F5DD2C3E9A41";
constexpr const char* kPlatformSerial2 = "7132D72A03E93CDDF8C03BBD1F37EEDF2D6F0B2E";
constexpr const char* kPublicKeyId = "PUB_KEY_ID_0112345678202601010000000000";
constexpr const char* kApiV3Key = "0123456789abcdefghijABCDEFGHIJ01";  // 32 bytes
constexpr const char* kAppSecret = "3f1e5c7a9b2d4f6e8a0c1b3d5f7e9a2c";
constexpr const char* kResourceNonce = "fdasflkja484";  // 12 bytes
constexpr const char* kAad = "transaction";
constexpr const char* kOutTradeNo = "P20260101000001";

const gw::KeyPair& platform_key_2() {
  static const gw::KeyPair k = gw::generate_rsa_2048();
  return k;
}
const gw::KeyPair& wechatpay_public_key() {
  static const gw::KeyPair k = gw::generate_rsa_2048();
  return k;
}

gw::WechatStandin::Options standin_options() {
  gw::WechatStandin::Options o;
  o.appid = kAppId;
  o.mchid = kMchId;
  o.merchant_serial = kMerchantSerial;
  o.merchant_public_pem = gw::merchant_key().public_pem;
  o.platform_serial = kPlatformSerial;
  o.platform_private_pem = gw::platform_key().private_pem;
  o.apiv3_key = kApiV3Key;
  o.app_secret = kAppSecret;
  return o;
}

// Platform-certificate mode with one certificate, talking to `api_base`.
WechatConfig config(const std::string& api_base = "http://127.0.0.1:9") {
  WechatConfig c;
  c.appid = kAppId;
  c.mchid = kMchId;
  c.merchant_serial_no = kMerchantSerial;
  c.merchant_private_key_pem = gw::merchant_key().private_pem;
  c.platform_keys[kPlatformSerial] = gw::platform_key().public_pem;
  c.apiv3_key = kApiV3Key;
  c.api_base = api_base;
  return c;
}

PaymentOrder order() {
  PaymentOrder o;
  o.out_trade_no = kOutTradeNo;
  o.amount = Fen(990);
  o.subject = "论语译注";
  o.return_url = "https://paidoc.example/orders/7?from=wechat";
  o.notify_url = "https://paidoc.example/pay/notify/wechat";
  return o;
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

// The merchant's signature on a request the gateway received, checked here
// once more (the stand-in already refused anything else with SIGN_ERROR).
bool signed_by_merchant(const paidoc::testing::StandinRequest& r) {
  std::string scheme;
  auto auth = parse_authorization(r.header("authorization"), &scheme);
  std::string message = r.method + "\n" + r.target + "\n" + auth["timestamp"] + "\n" +
                        auth["nonce_str"] + "\n" + r.body + "\n";
  return scheme == "WECHATPAY2-SHA256-RSA2048" && auth["mchid"] == kMchId &&
         auth["serial_no"] == kMerchantSerial &&
         gw::rsa_verify(gw::merchant_key().public_pem, message, gw::unb64(auth["signature"]));
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class WechatTest : public ::testing::Test {
 protected:
  // A provider on the stand-in, `change` applied to its config.
  template <typename F>
  std::unique_ptr<PaymentProvider> provider(F change) {
    WechatConfig c = config(standin_.url());
    change(c);
    return make_wechat(std::move(c), clock_);
  }
  // An order placed at the stand-in (NOTPAY there).
  void place_order() {
    auto s = wechat_->start(order());
    ASSERT_TRUE(s.ok()) << s.status().to_string();
  }
  RefundRequest refund_request(const std::string& out_refund_no = "R20260101000001") {
    RefundRequest r;
    r.out_trade_no = kOutTradeNo;
    r.transaction_id = standin_.trade(kOutTradeNo)->transaction_id;
    r.out_refund_no = out_refund_no;
    r.amount = Fen(300);
    r.total = Fen(990);
    r.reason = "读者申请退款";
    r.notify_url = "https://paidoc.example/pay/notify/wechat";
    return r;
  }
  // A paid trade at the stand-in.
  void paid_trade() {
    place_order();
    standin_.mark_paid(kOutTradeNo);
  }

  FakeClock clock_;
  gw::WechatStandin standin_{standin_options(), clock_};
  std::unique_ptr<PaymentProvider> wechat_ = make_wechat(config(standin_.url()), clock_);
};

// ---- start(): Native ------------------------------------------------------------

TEST_F(WechatTest, NativeOrderIsSignedPostedAndAnswersCodeUrl) {
  auto s = wechat_->start(order());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->code_url, std::string("weixin://wxpay/bizpayurl?pr=") + kOutTradeNo);
  EXPECT_TRUE(s->redirect_url.empty());
  EXPECT_TRUE(s->jsapi.empty());

  auto got = standin_.requests_to("/v3/pay/transactions/native");
  ASSERT_EQ(got.size(), 1u);
  const auto& r = got[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_TRUE(signed_by_merchant(r));
  EXPECT_EQ(r.header("authorization"), s->api_authorization);
  EXPECT_EQ(r.body, s->api_request_body);
  EXPECT_EQ(r.header("accept"), "application/json");
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("wechatpay-serial"), "");  // certificate mode

  json body = json::parse(r.body);
  EXPECT_EQ(body["appid"], kAppId);
  EXPECT_EQ(body["mchid"], kMchId);
  EXPECT_EQ(body["description"], "论语译注");
  EXPECT_EQ(body["out_trade_no"], kOutTradeNo);
  EXPECT_EQ(body["notify_url"], "https://paidoc.example/pay/notify/wechat");
  EXPECT_EQ(body["amount"]["total"], 990);
  EXPECT_EQ(body["amount"]["currency"], "CNY");
  EXPECT_FALSE(body.contains("time_expire"));  // no expiry given
  EXPECT_EQ(standin_.trade(kOutTradeNo)->trade_type, "NATIVE");

  std::string scheme;
  auto auth = parse_authorization(s->api_authorization, &scheme);
  EXPECT_EQ(auth["timestamp"], std::to_string(clock_.now()));
  EXPECT_GE(auth["nonce_str"].size(), 16u);
  std::string message = "POST\n/v3/pay/transactions/native\n" + auth["timestamp"] + "\n" +
                        auth["nonce_str"] + "\n" + s->api_request_body + "\n";
  EXPECT_FALSE(
      gw::rsa_verify(gw::stranger_key().public_pem, message, gw::unb64(auth["signature"])));
}

TEST_F(WechatTest, TimeExpireIsSentInBeijingTime) {
  PaymentOrder o = order();
  o.expires_at = 1796553000;  // 2026-12-06 10:30:00 UTC
  ASSERT_TRUE(wechat_->start(o).ok());
  json body = json::parse(standin_.requests_to("/v3/pay/transactions/native").at(0).body);
  EXPECT_EQ(body["time_expire"], "2026-12-06T18:30:00+08:00");
  EXPECT_EQ(standin_.trade(kOutTradeNo)->time_expire, "2026-12-06T18:30:00+08:00");
}

TEST_F(WechatTest, ApiBaseMayEndWithASlash) {
  auto w = provider([&](WechatConfig& c) { c.api_base = standin_.url() + "/"; });
  auto s = w->start(order());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(standin_.requests_to("/v3/pay/transactions/native").size(), 1u);
}

TEST_F(WechatTest, EachRequestHasAFreshNonce) {
  std::string scheme;
  auto a = parse_authorization(wechat_->start(order())->api_authorization, &scheme);
  auto b = parse_authorization(wechat_->start(order())->api_authorization, &scheme);
  EXPECT_NE(a["nonce_str"], b["nonce_str"]);
}

TEST_F(WechatTest, LongDescriptionIsCutOnACharacterBoundary) {
  PaymentOrder o = order();
  o.subject.clear();
  for (int i = 0; i < 60; ++i) o.subject += "文";  // 180 bytes
  auto s = wechat_->start(o);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  std::string d = json::parse(s->api_request_body)["description"];
  EXPECT_EQ(d.size(), 126u);  // 42 whole characters, not 127 bytes
}

TEST_F(WechatTest, BadOrdersAreRefusedAndNotSent) {
  PaymentOrder o = order();
  o.amount = Fen(0);
  EXPECT_EQ(wechat_->start(o).status().code(), Code::kInvalidArgument);
  o = order();
  o.amount = Fen(-1);
  EXPECT_EQ(wechat_->start(o).status().code(), Code::kInvalidArgument);
  o = order();
  o.out_trade_no = "P1\"}";
  EXPECT_EQ(wechat_->start(o).status().code(), Code::kInvalidArgument);
  o = order();
  o.subject.clear();
  EXPECT_EQ(wechat_->start(o).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(standin_.requests().empty());
}

TEST_F(WechatTest, UnreachableGatewayIsUnavailable) {
  auto w = provider([](WechatConfig& c) {
    c.transport = [](const HttpRequest&) -> Result<HttpAnswer> {
      return Status::unavailable("https: connecting to api.mch.weixin.qq.com:443: refused");
    };
  });
  auto s = w->start(order());
  EXPECT_EQ(s.status().code(), Code::kUnavailable);
  EXPECT_TRUE(contains(s.status().message(), "refused")) << s.status().message();
}

// ---- start(): H5 and JSAPI, by channel ---------------------------------------------------

TEST_F(WechatTest, PhoneWithH5PaysThroughH5AndComesBackToReturnUrl) {
  auto w = provider([](WechatConfig& c) { c.h5 = true; });
  EXPECT_TRUE(w->supports(Channel::kPhone));
  PaymentOrder o = order();
  o.channel = Channel::kPhone;
  o.client_ip = "203.0.113.7";
  auto s = w->start(o);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_TRUE(s->code_url.empty());

  auto got = standin_.requests_to("/v3/pay/transactions/h5");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(signed_by_merchant(got[0]));
  json body = json::parse(got[0].body);
  EXPECT_EQ(body["scene_info"]["payer_client_ip"], "203.0.113.7");
  EXPECT_EQ(body["scene_info"]["h5_info"]["type"], "Wap");
  EXPECT_EQ(body["amount"]["total"], 990);
  EXPECT_EQ(standin_.trade(kOutTradeNo)->trade_type, "MWEB");

  const std::string prefix = "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx";
  ASSERT_EQ(s->redirect_url.rfind(prefix, 0), 0u) << s->redirect_url;
  const std::string tail =
      "&redirect_url=https%3A%2F%2Fpaidoc.example%2Forders%2F7%3Ffrom%3Dwechat";
  ASSERT_GT(s->redirect_url.size(), tail.size());
  EXPECT_EQ(s->redirect_url.substr(s->redirect_url.size() - tail.size()), tail);
  auto q = gw::parse_query(s->redirect_url.substr(s->redirect_url.find('?') + 1));
  EXPECT_EQ(q["redirect_url"], "https://paidoc.example/orders/7?from=wechat");
  EXPECT_EQ(q["package"], "2150917749");  // WeChat's own parameters kept
}

// The stand-in's buyer pages, where the browser journeys pay (tests/e2e):
// with buyer_pages the h5_url is the stand-in's own page "确认付款 ¥9.90";
// its button pays, posts TRANSACTION.SUCCESS (which our provider verifies)
// to notify_url and sends the browser to redirect_url. A scan pays the
// latest unpaid Native order the same way.
TEST_F(WechatTest, TheStandinsBuyerPagesPayAndNotify) {
  paidoc::testing::HttpStandin site([](const paidoc::testing::StandinRequest&) {
    paidoc::testing::StandinReply r;
    r.status = 204;
    return r;
  });
  gw::WechatStandin::Options so = standin_options();
  so.buyer_pages = true;
  gw::WechatStandin pages(so, clock_);
  WechatConfig c = config(pages.url());
  c.h5 = true;
  auto w = make_wechat(std::move(c), clock_);

  PaymentOrder o = order();
  o.channel = Channel::kPhone;
  o.client_ip = "203.0.113.7";
  o.notify_url = site.url() + "/api/v1/payments/wechat/notify";
  auto s = w->start(o);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  ASSERT_EQ(s->redirect_url.rfind(pages.url() + "/cgi-bin/mmpayweb-bin/checkmweb?", 0), 0u)
      << s->redirect_url;
  auto page = paidoc::testing::http_request("GET", s->redirect_url, {}, "");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("确认付款 ¥9.90"), std::string::npos);
  EXPECT_EQ(pages.trade(kOutTradeNo)->trade_state, "NOTPAY");

  auto q = gw::parse_query(s->redirect_url.substr(s->redirect_url.find('?') + 1));
  auto paid = paidoc::testing::http_post(
      pages.url() + "/standin/h5/pay", {{"Content-Type", "application/x-www-form-urlencoded"}},
      "prepay_id=" + gw::form_encode(q["prepay_id"]) +
          "&redirect_url=" + gw::form_encode(q["redirect_url"]));
  ASSERT_EQ(paid.status, 302) << paid.body;
  EXPECT_EQ(paid.headers["location"], "https://paidoc.example/orders/7?from=wechat");
  EXPECT_EQ(pages.trade(kOutTradeNo)->trade_state, "SUCCESS");
  auto posted = site.requests_to("/api/v1/payments/wechat/notify");
  ASSERT_EQ(posted.size(), 1u);
  RawNotification n;
  n.headers = posted[0].headers;
  n.body = posted[0].body;
  auto v = w->verify(n);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_TRUE(v->paid);
  EXPECT_EQ(v->amount, Fen(990));

  // A Native order, paid by a scan.
  PaymentOrder native = order();
  native.out_trade_no = "P20260101000002";
  native.notify_url = o.notify_url;
  ASSERT_TRUE(w->start(native).ok());
  auto scanned = paidoc::testing::http_post(pages.url() + "/standin/scan", {}, "");
  ASSERT_EQ(scanned.status, 200) << scanned.body;
  json answer = json::parse(scanned.body);
  EXPECT_EQ(answer["out_trade_no"], "P20260101000002");
  EXPECT_EQ(answer["notify_status"], 204);
  EXPECT_EQ(site.requests_to("/api/v1/payments/wechat/notify").size(), 2u);
  EXPECT_EQ(pages.trade("P20260101000002")->trade_state, "SUCCESS");
  auto again = paidoc::testing::http_post(pages.url() + "/standin/scan", {}, "");
  EXPECT_EQ(again.status, 404);  // nothing left to pay
}

TEST_F(WechatTest, H5NeedsTheBuyersAddress) {
  auto w = provider([](WechatConfig& c) { c.h5 = true; });
  PaymentOrder o = order();
  o.channel = Channel::kPhone;
  auto s = w->start(o);
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(s.status().message(), "client_ip")) << s.status().message();
  EXPECT_TRUE(standin_.requests().empty());
}

TEST_F(WechatTest, PhoneWithoutH5IsNative) {
  EXPECT_FALSE(wechat_->supports(Channel::kPhone));
  PaymentOrder o = order();
  o.channel = Channel::kPhone;
  o.client_ip = "203.0.113.7";
  auto s = wechat_->start(o);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_FALSE(s->code_url.empty());
  EXPECT_EQ(standin_.requests_to("/v3/pay/transactions/native").size(), 1u);
  EXPECT_TRUE(standin_.requests_to("/v3/pay/transactions/h5").empty());
}

TEST_F(WechatTest, WechatBrowserWithAppSecretPaysThroughJsapi) {
  auto w = provider([](WechatConfig& c) { c.app_secret = kAppSecret; });
  EXPECT_TRUE(w->supports(Channel::kWechatBrowser));
  PaymentOrder o = order();
  o.channel = Channel::kWechatBrowser;
  o.openid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
  auto s = w->start(o);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_TRUE(s->code_url.empty());
  EXPECT_TRUE(s->redirect_url.empty());

  auto got = standin_.requests_to("/v3/pay/transactions/jsapi");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(signed_by_merchant(got[0]));
  EXPECT_EQ(json::parse(got[0].body)["payer"]["openid"], "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
  EXPECT_EQ(standin_.trade(kOutTradeNo)->openid, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");

  auto j = s->jsapi;
  EXPECT_EQ(j["appId"], kAppId);
  EXPECT_EQ(j["timeStamp"], std::to_string(clock_.now()));
  EXPECT_GE(j["nonceStr"].size(), 16u);
  EXPECT_EQ(j["package"].rfind("prepay_id=wx", 0), 0u) << j["package"];
  EXPECT_EQ(j["signType"], "RSA");
  std::string message =
      j["appId"] + "\n" + j["timeStamp"] + "\n" + j["nonceStr"] + "\n" + j["package"] + "\n";
  EXPECT_TRUE(gw::rsa_verify(gw::merchant_key().public_pem, message, gw::unb64(j["paySign"])));
  EXPECT_EQ(j.size(), 6u);
}

TEST_F(WechatTest, JsapiNeedsTheOpenid) {
  auto w = provider([](WechatConfig& c) { c.app_secret = kAppSecret; });
  PaymentOrder o = order();
  o.channel = Channel::kWechatBrowser;
  auto s = w->start(o);
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(s.status().message(), "openid")) << s.status().message();
  EXPECT_TRUE(standin_.requests().empty());
}

TEST_F(WechatTest, WechatBrowserWithoutAppSecretIsNative) {
  EXPECT_FALSE(wechat_->supports(Channel::kWechatBrowser));
  EXPECT_TRUE(wechat_->supports(Channel::kDesktop));
  PaymentOrder o = order();
  o.channel = Channel::kWechatBrowser;
  o.openid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
  auto s = wechat_->start(o);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_FALSE(s->code_url.empty());
  EXPECT_TRUE(standin_.requests_to("/v3/pay/transactions/jsapi").empty());
}

// ---- answers: signed, or not believed ----------------------------------------------------

TEST_F(WechatTest, RequestSignedWithAnotherKeyIsRefusedByTheGateway) {
  auto w = provider(
      [](WechatConfig& c) { c.merchant_private_key_pem = gw::stranger_key().private_pem; });
  auto s = w->start(order());
  EXPECT_EQ(s.status().code(), Code::kUnavailable);
  EXPECT_TRUE(contains(s.status().message(), "SIGN_ERROR")) << s.status().message();
  EXPECT_FALSE(standin_.trade(kOutTradeNo).has_value());
}

TEST_F(WechatTest, UnbelievableAnswersAreUnavailableForEveryCall) {
  paid_trade();
  auto calls = [&]() {
    std::vector<Status> out;
    out.push_back(wechat_->start(order()).status());
    out.push_back(wechat_->query(kOutTradeNo).status());
    out.push_back(wechat_->close(kOutTradeNo));
    out.push_back(wechat_->refund(refund_request()).status());
    out.push_back(wechat_->query_refund(kOutTradeNo, "R20260101000001").status());
    return out;
  };
  struct Case {
    Mode mode;
    const char* why;  // named in the message
  };
  for (const Case& c :
       {Case{Mode::kNoSignature, "missing Wechatpay"}, Case{Mode::kBadSignature, "does not verify"},
        Case{Mode::kStaleSignature, "stale"}, Case{Mode::kGarbage, "not a JSON object"},
        Case{Mode::kNotHttp, "no answer"}}) {
    standin_.set_mode(c.mode);
    for (const Status& s : calls()) {
      EXPECT_EQ(s.code(), Code::kUnavailable) << c.why << ": " << s.to_string();
      EXPECT_TRUE(contains(s.message(), c.why)) << s.message();
    }
  }
  standin_.set_mode(Mode::kSuccess);
  // Signed by a stranger under the right serial: forged.
  standin_.sign_as(kPlatformSerial, gw::stranger_key().private_pem);
  for (const Status& s : calls()) {
    EXPECT_EQ(s.code(), Code::kUnavailable) << s.to_string();
    EXPECT_TRUE(contains(s.message(), "does not verify")) << s.message();
  }
  // The gateway's own key again: the same answers are believed.
  standin_.sign_as(kPlatformSerial, gw::platform_key().private_pem);
  auto q = wechat_->query(kOutTradeNo);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(q->paid);
}

TEST_F(WechatTest, TimeoutIsUnavailable) {
  gw::WechatStandin hanging(standin_options(), clock_);
  hanging.set_mode(Mode::kHang);
  WechatConfig c = config(hanging.url());
  c.transport = [](const HttpRequest& r) { return https_request(r, 2); };
  auto w = make_wechat(std::move(c), clock_);
  auto began = std::chrono::steady_clock::now();
  auto q = w->query(kOutTradeNo);
  auto took = std::chrono::steady_clock::now() - began;
  EXPECT_EQ(q.status().code(), Code::kUnavailable) << q.status().to_string();
  EXPECT_TRUE(contains(q.status().message(), "no answer")) << q.status().message();
  EXPECT_LT(took, std::chrono::seconds(8));
  EXPECT_EQ(hanging.requests().size(), 1u);
}

TEST_F(WechatTest, BusinessErrorNamesCodeAndMessage) {
  paid_trade();
  standin_.fail_with(400, "PARAM_ERROR", "参数错误：out_trade_no");
  std::vector<Status> got = {wechat_->start(order()).status(), wechat_->query(kOutTradeNo).status(),
                             wechat_->close(kOutTradeNo),
                             wechat_->refund(refund_request()).status(),
                             wechat_->query_refund(kOutTradeNo, "R1").status()};
  for (const Status& s : got) {
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.to_string();
    EXPECT_TRUE(contains(s.message(), "PARAM_ERROR")) << s.message();
    EXPECT_TRUE(contains(s.message(), "参数错误：out_trade_no")) << s.message();
  }
  standin_.fail_with(403, "NO_AUTH", "商户无权限");
  auto s = wechat_->start(order());
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(s.status().message(), "NO_AUTH")) << s.status().message();
}

TEST_F(WechatTest, SystemErrorsAreUnavailable) {
  paid_trade();
  standin_.fail_with(500, "SYSTEM_ERROR", "系统错误");
  auto q = wechat_->query(kOutTradeNo);
  EXPECT_EQ(q.status().code(), Code::kUnavailable);
  EXPECT_TRUE(contains(q.status().message(), "500")) << q.status().message();
  EXPECT_EQ(wechat_->refund(refund_request()).status().code(), Code::kUnavailable);
  standin_.fail_with(400, "SYSTEM_ERROR", "系统繁忙");  // however it is sent
  auto r = wechat_->refund(refund_request());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_TRUE(contains(r.status().message(), "SYSTEM_ERROR")) << r.status().message();
  standin_.fail_with(502, "", "");
  EXPECT_EQ(wechat_->close(kOutTradeNo).code(), Code::kUnavailable);
}

// ---- several serials: rotation and the public-key mode ---------------------------------

TEST_F(WechatTest, DuringRotationBothSerialsVerifyAndAThirdIsRefused) {
  auto w = provider([](WechatConfig& c) {
    c.platform_keys[kPlatformSerial2] = gw::bare_base64(platform_key_2().public_pem);
  });
  paid_trade();
  auto q = w->query(kOutTradeNo);  // signed under kPlatformSerial
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(w->verify(standin_.transaction_notification(kOutTradeNo)).ok());

  standin_.sign_as(kPlatformSerial2, platform_key_2().private_pem);
  q = w->query(kOutTradeNo);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(q->exists);
  auto n = w->verify(standin_.transaction_notification(kOutTradeNo));
  EXPECT_TRUE(n.ok()) << n.status().to_string();

  // Each serial verifies only with its own key.
  standin_.sign_as(kPlatformSerial2, gw::platform_key().private_pem);
  EXPECT_EQ(w->query(kOutTradeNo).status().code(), Code::kUnavailable);
  EXPECT_EQ(w->verify(standin_.transaction_notification(kOutTradeNo)).status().code(),
            Code::kForbidden);

  const std::string third = "1DB2B5D4A0C7E9F1A3B5C7D9E1F3A5B7C9D1E3F5";
  standin_.sign_as(third, gw::stranger_key().private_pem);
  auto refused = w->query(kOutTradeNo);
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_TRUE(contains(refused.status().message(), third)) << refused.status().message();
  auto forged = w->verify(standin_.transaction_notification(kOutTradeNo));
  EXPECT_EQ(forged.status().code(), Code::kForbidden);
  EXPECT_TRUE(contains(forged.status().message(), third)) << forged.status().message();
}

TEST_F(WechatTest, PublicKeyModeSendsItsIdAndVerifiesWithThePublicKey) {
  auto w = provider([](WechatConfig& c) {
    c.platform_keys.clear();
    c.platform_keys[kPublicKeyId] = wechatpay_public_key().public_pem;
    c.public_key_id = kPublicKeyId;
  });
  standin_.sign_as(kPublicKeyId, wechatpay_public_key().private_pem);
  auto s = w->start(order());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  auto got = standin_.requests_to("/v3/pay/transactions/native");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header("wechatpay-serial"), kPublicKeyId);
  standin_.mark_paid(kOutTradeNo);
  auto q = w->query(kOutTradeNo);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(q->paid);
  EXPECT_EQ(standin_.requests().back().header("wechatpay-serial"), kPublicKeyId);
  auto n = w->verify(standin_.transaction_notification(kOutTradeNo));
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_TRUE(n->paid);

  // A platform certificate's signature is not the public key's.
  standin_.sign_as(kPlatformSerial, gw::platform_key().private_pem);
  EXPECT_EQ(w->query(kOutTradeNo).status().code(), Code::kUnavailable);
  EXPECT_EQ(w->verify(standin_.transaction_notification(kOutTradeNo)).status().code(),
            Code::kForbidden);
}

TEST_F(WechatTest, ConfigErrorsNameTheSerial) {
  auto w = provider([](WechatConfig& c) {
    c.platform_keys[kPlatformSerial2] =
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
  });
  auto s = w->start(order());
  EXPECT_EQ(s.status().code(), Code::kInternal);
  EXPECT_TRUE(contains(s.status().message(), kPlatformSerial2)) << s.status().message();

  auto missing = provider([](WechatConfig& c) { c.public_key_id = kPublicKeyId; });
  auto q = missing->query(kOutTradeNo);
  EXPECT_EQ(q.status().code(), Code::kInternal);
  EXPECT_TRUE(contains(q.status().message(), kPublicKeyId)) << q.status().message();
  EXPECT_TRUE(standin_.requests().empty());
}

// ---- query ------------------------------------------------------------------------------

TEST_F(WechatTest, QueryReportsEachTradeState) {
  place_order();
  auto q = wechat_->query(kOutTradeNo);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(q->exists);
  EXPECT_FALSE(q->paid);
  EXPECT_FALSE(q->closed);
  EXPECT_EQ(q->state, "NOTPAY");

  const auto r = standin_.requests().back();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target,
            std::string("/v3/pay/transactions/out-trade-no/") + kOutTradeNo + "?mchid=" + kMchId);
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(signed_by_merchant(r));  // over the path with its query, empty body

  std::string transaction_id = standin_.mark_paid(kOutTradeNo);
  q = wechat_->query(kOutTradeNo);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(q->paid);
  EXPECT_FALSE(q->closed);
  EXPECT_EQ(q->transaction_id, transaction_id);
  EXPECT_EQ(q->amount, Fen(990));

  standin_.set_trade_state(kOutTradeNo, "REFUND");  // it was paid
  q = wechat_->query(kOutTradeNo);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->paid);
  EXPECT_EQ(q->transaction_id, transaction_id);

  for (const char* state : {"CLOSED", "REVOKED"}) {
    standin_.set_trade_state(kOutTradeNo, state);
    q = wechat_->query(kOutTradeNo);
    ASSERT_TRUE(q.ok());
    EXPECT_TRUE(q->closed) << state;
    EXPECT_FALSE(q->paid) << state;
    EXPECT_EQ(q->state, state);
  }
  for (const char* state : {"NOTPAY", "USERPAYING", "PAYERROR"}) {
    standin_.set_trade_state(kOutTradeNo, state);
    q = wechat_->query(kOutTradeNo);
    ASSERT_TRUE(q.ok());
    EXPECT_TRUE(q->exists) << state;
    EXPECT_FALSE(q->paid) << state;
    EXPECT_FALSE(q->closed) << state;
  }
}

TEST_F(WechatTest, QueryOfATradeTheGatewayNeverSawIsNotExists) {
  auto q = wechat_->query("P20260101000099");
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_FALSE(q->exists);
  EXPECT_FALSE(q->paid);
  EXPECT_EQ(standin_.requests().size(), 1u);
  EXPECT_EQ(wechat_->query("P1/../x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(standin_.requests().size(), 1u);
}

// ---- close ------------------------------------------------------------------------------

TEST_F(WechatTest, CloseClosesAnUnpaidTrade) {
  place_order();
  Status s = wechat_->close(kOutTradeNo);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(standin_.trade(kOutTradeNo)->trade_state, "CLOSED");
  auto got = standin_.requests_to(std::string("/v3/pay/transactions/out-trade-no/") + kOutTradeNo +
                                  "/close");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(json::parse(got[0].body), json({{"mchid", kMchId}}));
  EXPECT_TRUE(signed_by_merchant(got[0]));
  // A late scan cannot pay it now: the stand-in refuses a new order under it.
  EXPECT_EQ(wechat_->start(order()).status().code(), Code::kInvalidArgument);
}

TEST_F(WechatTest, CloseOfAnUnknownTradeIsDone) {
  Status s = wechat_->close("P20260101000099");
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(standin_.requests().size(), 1u);
}

TEST_F(WechatTest, CloseOfAPaidTradeIsAConflict) {
  paid_trade();
  Status s = wechat_->close(kOutTradeNo);
  EXPECT_EQ(s.code(), Code::kConflict) << s.to_string();
  EXPECT_TRUE(contains(s.message(), "ORDER_PAID")) << s.message();
  EXPECT_EQ(standin_.trade(kOutTradeNo)->trade_state, "SUCCESS");
}

// ---- refunds ------------------------------------------------------------------------------

TEST_F(WechatTest, RefundIsSignedAndUsuallyPending) {
  paid_trade();
  RefundRequest req = refund_request();
  auto r = wechat_->refund(req);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->state, RefundState::kPending);
  EXPECT_EQ(r->out_refund_no, "R20260101000001");
  EXPECT_EQ(r->refund_id, standin_.refund("R20260101000001")->refund_id);
  EXPECT_FALSE(r->refund_id.empty());
  EXPECT_EQ(r->amount, Fen(300));
  EXPECT_EQ(r->refunded_total, Fen(0));

  auto got = standin_.requests_to("/v3/refund/domestic/refunds");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(signed_by_merchant(got[0]));
  json body = json::parse(got[0].body);
  EXPECT_EQ(body["transaction_id"], req.transaction_id);
  EXPECT_EQ(body["out_trade_no"], kOutTradeNo);
  EXPECT_EQ(body["out_refund_no"], "R20260101000001");
  EXPECT_EQ(body["reason"], "读者申请退款");
  EXPECT_EQ(body["notify_url"], "https://paidoc.example/pay/notify/wechat");
  EXPECT_EQ(body["amount"], json({{"refund", 300}, {"total", 990}, {"currency", "CNY"}}));
  EXPECT_EQ(standin_.trade(kOutTradeNo)->trade_state, "REFUND");
  EXPECT_EQ(standin_.trade(kOutTradeNo)->refunded, 300);
}

TEST_F(WechatTest, RefundAnswerStatesMapToRefundStates) {
  paid_trade();
  standin_.set_new_refund_status("SUCCESS");
  auto ok = wechat_->refund(refund_request("R1"));
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->state, RefundState::kSucceeded);
  for (const char* failed : {"ABNORMAL", "CLOSED"}) {
    standin_.set_new_refund_status(failed);
    auto r = wechat_->refund(refund_request(std::string("R-") + failed));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->state, RefundState::kFailed) << failed;
  }
}

TEST_F(WechatTest, RefundRepeatedUnderItsNumberRefundsOnce) {
  paid_trade();
  auto first = wechat_->refund(refund_request());
  auto again = wechat_->refund(refund_request());
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->refund_id, again->refund_id);
  EXPECT_EQ(standin_.trade(kOutTradeNo)->refunded, 300);
  EXPECT_EQ(standin_.requests_to("/v3/refund/domestic/refunds").size(), 2u);
}

TEST_F(WechatTest, RefundBeyondWhatWasPaidIsABusinessError) {
  paid_trade();
  RefundRequest req = refund_request("R1");
  req.amount = Fen(700);
  ASSERT_TRUE(wechat_->refund(req).ok());
  req.out_refund_no = "R2";
  req.amount = Fen(400);  // 700 + 400 > 990
  auto r = wechat_->refund(req);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(r.status().message(), "INVALID_REQUEST")) << r.status().message();
  EXPECT_EQ(standin_.trade(kOutTradeNo)->refunded, 700);

  // Refused before sending: nothing to refund, more than the total, a bad number.
  size_t sent = standin_.requests().size();
  req.amount = Fen(0);
  EXPECT_EQ(wechat_->refund(req).status().code(), Code::kInvalidArgument);
  req.amount = Fen(1000);
  EXPECT_EQ(wechat_->refund(req).status().code(), Code::kInvalidArgument);
  req = refund_request("R 3");
  EXPECT_EQ(wechat_->refund(req).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(standin_.requests().size(), sent);
}

TEST_F(WechatTest, QueryRefundFollowsTheGateway) {
  paid_trade();
  ASSERT_TRUE(wechat_->refund(refund_request("R1")).ok());
  ASSERT_TRUE(wechat_->refund(refund_request("R2")).ok());
  auto r = wechat_->query_refund(kOutTradeNo, "R1");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->state, RefundState::kPending);
  EXPECT_EQ(r->refund_id, standin_.refund("R1")->refund_id);
  const auto sent = standin_.requests().back();
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.target, "/v3/refund/domestic/refunds/R1");
  EXPECT_TRUE(signed_by_merchant(sent));

  standin_.finish_refund("R1", "SUCCESS");
  standin_.finish_refund("R2", "CLOSED");
  r = wechat_->query_refund(kOutTradeNo, "R1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, RefundState::kSucceeded);
  EXPECT_EQ(r->amount, Fen(300));
  r = wechat_->query_refund(kOutTradeNo, "R2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, RefundState::kFailed);

  auto missing = wechat_->query_refund(kOutTradeNo, "R9");
  EXPECT_EQ(missing.status().code(), Code::kNotFound) << missing.status().to_string();
}

// ---- refund notifications -----------------------------------------------------------------

TEST_F(WechatTest, RefundNotificationsAreRefundReports) {
  paid_trade();
  ASSERT_TRUE(wechat_->refund(refund_request("R1")).ok());
  std::string transaction_id = standin_.trade(kOutTradeNo)->transaction_id;
  std::string refund_id = standin_.refund("R1")->refund_id;
  struct Case {
    const char* status;
    RefundState state;
  };
  for (const Case& c :
       {Case{"SUCCESS", RefundState::kSucceeded}, Case{"ABNORMAL", RefundState::kFailed},
        Case{"CLOSED", RefundState::kFailed}}) {
    standin_.finish_refund("R1", c.status);
    RawNotification raw = standin_.refund_notification("R1");
    EXPECT_EQ(json::parse(raw.body)["event_type"], std::string("REFUND.") + c.status);
    auto n = wechat_->verify(raw);
    ASSERT_TRUE(n.ok()) << c.status << ": " << n.status().to_string();
    EXPECT_EQ(n->kind, NotificationKind::kRefund);
    EXPECT_EQ(n->provider, "wechat");
    EXPECT_EQ(n->transaction_id, transaction_id);
    EXPECT_EQ(n->out_trade_no, kOutTradeNo);
    EXPECT_EQ(n->amount, Fen(990));
    EXPECT_FALSE(n->paid);
    EXPECT_EQ(n->refund.refund_id, refund_id);
    EXPECT_EQ(n->refund.out_refund_no, "R1");
    EXPECT_EQ(n->refund.amount, Fen(300));
    EXPECT_EQ(n->refund.refunded_total, Fen(0));
    EXPECT_EQ(n->refund.state, c.state) << c.status;
  }
}

TEST_F(WechatTest, RefundMadeInTheConsoleIsReportedToo) {
  paid_trade();
  std::string out_refund_no = standin_.refund_at_console(kOutTradeNo, 990);
  standin_.finish_refund(out_refund_no, "SUCCESS");
  auto n = wechat_->verify(standin_.refund_notification(out_refund_no));
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(n->kind, NotificationKind::kRefund);
  EXPECT_EQ(n->refund.out_refund_no, out_refund_no);
  EXPECT_EQ(n->refund.amount, Fen(990));
  EXPECT_EQ(n->refund.state, RefundState::kSucceeded);
  // And the trade reads as paid (then refunded) when queried.
  auto q = wechat_->query(kOutTradeNo);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_EQ(q->state, "REFUND");
  EXPECT_TRUE(q->paid);
}

// A refund resource as WeChat encrypts it (no appid).
json refund_resource() {
  return {
      {"mchid", kMchId},
      {"out_trade_no", kOutTradeNo},
      {"transaction_id", "4200000000202601011234567890"},
      {"out_refund_no", "R1"},
      {"refund_id", "50300000000000000000000000001"},
      {"refund_status", "SUCCESS"},
      {"success_time", "2026-01-01T09:00:00+08:00"},
      {"user_received_account", "支付用户零钱"},
      {"amount", {{"total", 990}, {"refund", 300}, {"payer_total", 990}, {"payer_refund", 300}}}};
}

RawNotification refund_callback(const json& resource, int64_t now) {
  std::string ct = gw::aes_256_gcm_encrypt(kApiV3Key, kResourceNonce, "refund", resource.dump());
  std::string body = gw::wechat_envelope(gw::b64(ct), kResourceNonce, "refund", "REFUND.SUCCESS");
  return gw::wechat_signed(body, now, "N-refund", kPlatformSerial, gw::platform_key().private_pem);
}

TEST_F(WechatTest, RefundNotificationForAnotherMerchantOrIncompleteIsRefused) {
  EXPECT_TRUE(wechat_->verify(refund_callback(refund_resource(), clock_.now())).ok());
  json other = refund_resource();
  other["mchid"] = "1900000001";
  EXPECT_EQ(wechat_->verify(refund_callback(other, clock_.now())).status().code(),
            Code::kForbidden);
  for (const char* missing : {"out_trade_no", "transaction_id", "out_refund_no", "refund_id",
                              "refund_status", "amount"}) {
    json r = refund_resource();
    r.erase(missing);
    EXPECT_EQ(wechat_->verify(refund_callback(r, clock_.now())).status().code(),
              Code::kInvalidArgument)
        << missing;
  }
  json odd = refund_resource();
  odd["refund_status"] = "MAYBE";
  EXPECT_EQ(wechat_->verify(refund_callback(odd, clock_.now())).status().code(),
            Code::kInvalidArgument);
  odd = refund_resource();
  odd["amount"]["refund"] = "300";
  EXPECT_EQ(wechat_->verify(refund_callback(odd, clock_.now())).status().code(),
            Code::kInvalidArgument);
  // Signed checks come first: a stale refund notification is stale.
  EXPECT_EQ(wechat_->verify(refund_callback(refund_resource(), clock_.now() - 301)).status().code(),
            Code::kInvalidArgument);
}

TEST_F(WechatTest, StandinPaymentNotificationVerifies) {
  std::string transaction_id = (paid_trade(), standin_.trade(kOutTradeNo)->transaction_id);
  auto n = wechat_->verify(standin_.transaction_notification(kOutTradeNo));
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(n->kind, NotificationKind::kPayment);
  EXPECT_TRUE(n->paid);
  EXPECT_EQ(n->transaction_id, transaction_id);
  EXPECT_EQ(n->amount, Fen(990));
}

// ---- OAuth (JSAPI) --------------------------------------------------------------------------

TEST_F(WechatTest, OauthUrlAsksForSnsapiBase) {
  auto w = provider([](WechatConfig& c) { c.app_secret = kAppSecret; });
  auto url = w->oauth_url("https://paidoc.example/orders/7/wechat?x=1&y=2", "st4te");
  ASSERT_TRUE(url.ok()) << url.status().to_string();
  EXPECT_EQ(*url,
            std::string("https://open.weixin.qq.com/connect/oauth2/authorize?appid=") + kAppId +
                "&redirect_uri=https%3A%2F%2Fpaidoc.example%2Forders%2F7%2Fwechat%3Fx%3D1%26y%3D2"
                "&response_type=code&scope=snsapi_base&state=st4te#wechat_redirect");
}

TEST_F(WechatTest, OpenidExchangesTheCodeOnce) {
  auto w = provider([&](WechatConfig& c) {
    c.app_secret = kAppSecret;
    c.sns_api_base = standin_.url();
  });
  standin_.add_oauth_code("061AbcCode", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
  auto id = w->openid("061AbcCode");
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_EQ(*id, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
  auto got = standin_.requests_to("/sns/oauth2/access_token");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "GET");
  auto q = gw::parse_query(got[0].target.substr(got[0].target.find('?') + 1));
  EXPECT_EQ(q["appid"], kAppId);
  EXPECT_EQ(q["secret"], kAppSecret);
  EXPECT_EQ(q["code"], "061AbcCode");
  EXPECT_EQ(q["grant_type"], "authorization_code");
  EXPECT_EQ(got[0].header("authorization"), "");  // not a WeChat Pay API

  auto again = w->openid("061AbcCode");
  EXPECT_EQ(again.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(again.status().message(), "40029")) << again.status().message();
}

TEST_F(WechatTest, OpenidErrorsNameTheErrcode) {
  auto w = provider([&](WechatConfig& c) {
    c.app_secret = "wrong-secret";
    c.sns_api_base = standin_.url();
  });
  standin_.add_oauth_code("C1", "openid-1");
  auto id = w->openid("C1");
  EXPECT_EQ(id.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(id.status().message(), "40125")) << id.status().message();
  EXPECT_TRUE(contains(id.status().message(), "invalid appsecret")) << id.status().message();

  standin_.set_mode(Mode::kGarbage);
  EXPECT_EQ(w->openid("C1").status().code(), Code::kUnavailable);
  standin_.set_mode(Mode::kNotHttp);
  EXPECT_EQ(w->openid("C1").status().code(), Code::kUnavailable);
}

TEST_F(WechatTest, NoAppSecretNoOauth) {
  EXPECT_EQ(wechat_->oauth_url("https://paidoc.example/", "s").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(wechat_->openid("C1").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(standin_.requests().empty());
}

// ---- verify(): payment callbacks ----------------------------------------------------

// The decrypted resource of a paid Native transaction for order().
json transaction() {
  return {
      {"appid", kAppId},
      {"mchid", kMchId},
      {"out_trade_no", kOutTradeNo},
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
    c.platform_keys[kPlatformSerial] = pem;
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
  Callback unknown;
  unknown.event_type = "MCHTRANSFER.BILL.FINISHED";
  EXPECT_EQ(wechat_->verify(callback(unknown)).status().code(), Code::kInvalidArgument);

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
  c.platform_keys[kPlatformSerial] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
  auto broken = make_wechat(c, clock_);
  EXPECT_EQ(broken->start(order()).status().code(), Code::kInternal);
  EXPECT_EQ(broken->verify(callback({})).status().code(), Code::kInternal);
}

TEST_F(WechatTest, MissingIdsAreAConfigurationError) {
  // An empty platform serial must not match a callback without one.
  WechatConfig c = config();
  c.platform_keys[""] = c.platform_keys[kPlatformSerial];
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
  return "HTTP/1.1 " + status_line +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

TEST(HttpsPostJson, SendsHeadersAndBodyAndAnswersTheBody) {
  const std::string answer = R"({"code_url":"weixin://wxpay/bizpayurl?pr=abc"})";
  OneShotServer server(http_answer("200 OK", answer));
  ASSERT_GT(server.port(), 0);
  const std::string body = R"({"appid":"wx1","description":"论语译注"})";
  auto r = https_post_json(
      "http://127.0.0.1:" + std::to_string(server.port()) + "/v3/pay/transactions/native", body,
      "WECHATPAY2-SHA256-RSA2048 mchid=\"1\"", 5);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, answer);
  const std::string req = server.request();
  EXPECT_EQ(req.rfind("POST /v3/pay/transactions/native HTTP/1.1\r\n", 0), 0u) << req;
  for (const std::string& h :
       {std::string("Authorization: WECHATPAY2-SHA256-RSA2048 mchid=\"1\"\r\n"),
        std::string("Content-Type: application/json\r\n"),
        std::string("Accept: application/json\r\n"), std::string("User-Agent: paidoc\r\n"),
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
  for (const char* url :
       {"http://example.com/", "http://10.0.0.1:8080/v3", "ftp://example.com/",
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
