// Alipay (RSA2) against a fake gateway holding keys generated here: the
// signed redirect start() builds (page.pay, wap.pay by channel), payment and
// refund notifications signed the way Alipay signs them — valid, forged,
// tampered, for another app, malformed — the server APIs (query, close,
// refund, refund query) against the stand-in gateway over loopback HTTP with
// the real client, the key formats key tools print, and certificate mode.

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alipay_standin.h"
#include "commerce/crypto.h"
#include "commerce/https_client.h"
#include "commerce/provider.h"
#include "common/clock.h"
#include "gateway_fake.h"

namespace paidoc::commerce {
namespace {

namespace gw = fake_gateway;
using Params = std::map<std::string, std::string>;

constexpr const char* kAppId = "2021000000000001";
constexpr const char* kGateway = "https://openapi.alipay.com/gateway.do";

AlipayConfig config() {
  AlipayConfig c;
  c.app_id = kAppId;
  c.app_private_key_pem = gw::app_key().private_pem;
  c.alipay_public_key_pem = gw::alipay_key().public_pem;
  return c;
}

PaymentOrder order() {
  PaymentOrder o;
  o.out_trade_no = "P20260101000001";
  o.amount = Fen(990);
  o.subject = "论语译注 & 孟子+注 全文";
  o.return_url = "https://paidoc.example/orders/1";
  o.notify_url = "https://paidoc.example/pay/notify/alipay";
  return o;
}

// The parameters of a trade_status_sync notification for order() paid.
Params paid_params() {
  return {
      {"notify_time", "2026-01-01 08:01:02"},
      {"notify_type", "trade_status_sync"},
      {"notify_id", "ac05099524730693a8b330c5ecf72da9786"},
      {"app_id", kAppId},
      {"auth_app_id", kAppId},
      {"charset", "utf-8"},
      {"version", "1.0"},
      {"trade_no", "2026010122001456781234567890"},
      {"out_trade_no", "P20260101000001"},
      {"buyer_id", "2088102177846880"},
      {"seller_id", "2088101117955611"},
      {"trade_status", "TRADE_SUCCESS"},
      {"total_amount", "9.90"},
      {"receipt_amount", "9.90"},
      {"subject", "论语译注 & 孟子+注 全文"},
      {"body", ""},  // empty values are left out of the signed string
      {"gmt_create", "2026-01-01 08:00:30"},
      {"gmt_payment", "2026-01-01 08:01:01"},
  };
}

class AlipayTest : public ::testing::Test {
 protected:
  FakeClock clock_;  // 2026-01-01 00:00:00 UTC = 08:00:00 Beijing
  std::unique_ptr<PaymentProvider> alipay_ = make_alipay(config(), clock_);

  Result<Notification> deliver(const Params& p, const std::string& key_pem) {
    return alipay_->verify(gw::alipay_notification(p, key_pem));
  }
  Result<Notification> deliver(const Params& p) { return deliver(p, gw::alipay_key().private_pem); }
};

// ---- start(): the signed redirect -------------------------------------------

TEST_F(AlipayTest, StartBuildsARedirectSignedWithTheAppKey) {
  auto s = alipay_->start(order());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_TRUE(s->code_url.empty());
  EXPECT_TRUE(s->api_request_body.empty());
  const std::string& url = s->redirect_url;
  ASSERT_EQ(url.rfind(std::string(kGateway) + "?", 0), 0u) << url;
  // Every byte outside the unreserved set is escaped: the query is one token.
  std::string query = url.substr(std::string(kGateway).size() + 1);
  EXPECT_EQ(query.find(' '), std::string::npos);
  EXPECT_EQ(query.find('+'), std::string::npos);

  Params p = gw::parse_query(query);
  EXPECT_EQ(p["app_id"], kAppId);
  EXPECT_EQ(p["method"], "alipay.trade.page.pay");
  EXPECT_EQ(p["format"], "JSON");
  EXPECT_EQ(p["charset"], "utf-8");
  EXPECT_EQ(p["sign_type"], "RSA2");
  EXPECT_EQ(p["timestamp"], "2026-01-01 08:00:00");
  EXPECT_EQ(p["version"], "1.0");
  EXPECT_EQ(p["notify_url"], "https://paidoc.example/pay/notify/alipay");
  EXPECT_EQ(p["return_url"], "https://paidoc.example/orders/1");

  auto biz = nlohmann::json::parse(p["biz_content"]);
  EXPECT_EQ(biz["out_trade_no"], "P20260101000001");
  EXPECT_EQ(biz["total_amount"], "9.90");
  EXPECT_EQ(biz["subject"], "论语译注 & 孟子+注 全文");
  EXPECT_EQ(biz["product_code"], "FAST_INSTANT_TRADE_PAY");

  // The documented string: all non-empty parameters but sign, sorted, raw.
  std::string content = gw::alipay_content(p, /*keep_sign_type=*/true);
  EXPECT_NE(content.find("&sign_type=RSA2&"), std::string::npos) << content;
  EXPECT_TRUE(gw::rsa_verify(gw::app_key().public_pem, content, gw::unb64(p["sign"])));
  EXPECT_FALSE(gw::rsa_verify(gw::stranger_key().public_pem, content, gw::unb64(p["sign"])));
}

TEST_F(AlipayTest, MobileStartUsesWapPay) {
  AlipayConfig c = config();
  c.mobile = true;
  auto s = make_alipay(c, clock_)->start(order());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  Params p = gw::parse_query(s->redirect_url.substr(s->redirect_url.find('?') + 1));
  EXPECT_EQ(p["method"], "alipay.trade.wap.pay");
  EXPECT_EQ(nlohmann::json::parse(p["biz_content"])["product_code"], "QUICK_WAP_WAY");
  EXPECT_TRUE(
      gw::rsa_verify(gw::app_key().public_pem, gw::alipay_content(p, true), gw::unb64(p["sign"])));
}

TEST_F(AlipayTest, StartOmitsEmptyParametersAndUsesBeijingTime) {
  PaymentOrder o = order();
  o.return_url.clear();
  clock_.set(1767225600 + 16 * 3600 + 59);  // 2026-01-01 16:00:59 UTC
  auto s = alipay_->start(o);
  ASSERT_TRUE(s.ok());
  Params p = gw::parse_query(s->redirect_url.substr(s->redirect_url.find('?') + 1));
  EXPECT_EQ(p.count("return_url"), 0u);
  EXPECT_EQ(p["timestamp"], "2026-01-02 00:00:59");
  EXPECT_TRUE(
      gw::rsa_verify(gw::app_key().public_pem, gw::alipay_content(p, true), gw::unb64(p["sign"])));
}

TEST_F(AlipayTest, StartRefusesBadOrders) {
  PaymentOrder o = order();
  o.amount = Fen(0);
  EXPECT_EQ(alipay_->start(o).status().code(), Code::kInvalidArgument);
  o = order();
  o.out_trade_no = "P1&app_id=evil";
  EXPECT_EQ(alipay_->start(o).status().code(), Code::kInvalidArgument);
  o = order();
  o.out_trade_no = std::string(33, 'A');
  EXPECT_EQ(alipay_->start(o).status().code(), Code::kInvalidArgument);
}

TEST_F(AlipayTest, UnusableKeysAreReportedNotUsed) {
  AlipayConfig c = config();
  c.app_private_key_pem = "not a key";
  c.alipay_public_key_pem = gw::app_key().private_pem.substr(0, 100);
  auto broken = make_alipay(c, clock_);
  EXPECT_EQ(broken->start(order()).status().code(), Code::kInternal);
  EXPECT_EQ(broken->verify(gw::alipay_notification(paid_params(), gw::alipay_key().private_pem))
                .status()
                .code(),
            Code::kInternal);
}

TEST_F(AlipayTest, EmptyAppIdIsAConfigurationError) {
  // Otherwise a notification without app_id would match it.
  AlipayConfig c = config();
  c.app_id.clear();
  Params p = paid_params();
  p.erase("app_id");
  auto a = make_alipay(c, clock_);
  EXPECT_EQ(a->verify(gw::alipay_notification(p, gw::alipay_key().private_pem)).status().code(),
            Code::kInternal);
  EXPECT_EQ(a->start(order()).status().code(), Code::kInternal);
}

TEST_F(AlipayTest, PublicPemAsPrivateKeyIsRefused) {
  AlipayConfig c = config();
  c.app_private_key_pem = gw::app_key().public_pem;
  EXPECT_EQ(make_alipay(c, clock_)->start(order()).status().code(), Code::kInternal);
}

// ---- verify(): notifications ------------------------------------------------------

TEST_F(AlipayTest, ValidNotificationVerifies) {
  auto n = deliver(paid_params());
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(n->provider, "alipay");
  EXPECT_EQ(n->transaction_id, "2026010122001456781234567890");
  EXPECT_EQ(n->out_trade_no, "P20260101000001");
  EXPECT_EQ(n->amount, Fen(990));
  EXPECT_TRUE(n->paid);
  EXPECT_EQ(n->app_id, kAppId);
}

TEST_F(AlipayTest, KeysWithoutPemArmourWork) {
  // The Alipay console shows keys as bare base64.
  AlipayConfig c = config();
  c.app_private_key_pem = gw::bare_base64(gw::app_key().private_pem);
  c.alipay_public_key_pem = gw::bare_base64(gw::alipay_key().public_pem);
  auto a = make_alipay(c, clock_);
  EXPECT_TRUE(a->start(order()).ok());
  EXPECT_TRUE(a->verify(gw::alipay_notification(paid_params(), gw::alipay_key().private_pem)).ok());
}

TEST_F(AlipayTest, TradeFinishedIsPaid) {
  Params p = paid_params();
  p["trade_status"] = "TRADE_FINISHED";
  auto n = deliver(p);
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->paid);
}

TEST_F(AlipayTest, OtherStatusesVerifyButAreNotPaid) {
  for (const char* status : {"TRADE_CLOSED", "WAIT_BUYER_PAY"}) {
    Params p = paid_params();
    p["trade_status"] = status;
    auto n = deliver(p);
    ASSERT_TRUE(n.ok()) << status;
    EXPECT_FALSE(n->paid) << status;
    EXPECT_EQ(n->transaction_id, "2026010122001456781234567890");
  }
}

TEST_F(AlipayTest, ForgedSignatureIsForbidden) {
  EXPECT_EQ(deliver(paid_params(), gw::stranger_key().private_pem).status().code(),
            Code::kForbidden);
  // Our own app key is not Alipay's either.
  EXPECT_EQ(deliver(paid_params(), gw::app_key().private_pem).status().code(), Code::kForbidden);
}

TEST_F(AlipayTest, TamperedAfterSigningIsForbidden) {
  RawNotification n = gw::alipay_notification(paid_params(), gw::alipay_key().private_pem);
  RawNotification cheaper = n;
  size_t at = cheaper.body.find("total_amount=9.90");
  ASSERT_NE(at, std::string::npos);
  cheaper.body.replace(at, 17, "total_amount=0.01");
  EXPECT_EQ(alipay_->verify(cheaper).status().code(), Code::kForbidden);

  RawNotification other_order = n;
  at = other_order.body.find("out_trade_no=P20260101000001");
  ASSERT_NE(at, std::string::npos);
  other_order.body.replace(at, 28, "out_trade_no=P20260101000002");
  EXPECT_EQ(alipay_->verify(other_order).status().code(), Code::kForbidden);

  // A parameter added after signing changes the signed string too.
  RawNotification extra = n;
  extra.body += "&refund_fee=9.90";
  EXPECT_EQ(alipay_->verify(extra).status().code(), Code::kForbidden);
}

TEST_F(AlipayTest, UnsignedOrOtherSignTypeIsForbidden) {
  RawNotification n;
  n.body = gw::form_body(paid_params());
  EXPECT_EQ(alipay_->verify(n).status().code(), Code::kForbidden);

  RawNotification rsa1 = gw::alipay_notification(paid_params(), gw::alipay_key().private_pem);
  size_t at = rsa1.body.find("sign_type=RSA2");
  ASSERT_NE(at, std::string::npos);
  rsa1.body.replace(at, 14, "sign_type=RSA");
  EXPECT_EQ(alipay_->verify(rsa1).status().code(), Code::kForbidden);

  RawNotification garbage = gw::alipay_notification(paid_params(), gw::alipay_key().private_pem);
  at = garbage.body.find("&sign=");
  ASSERT_NE(at, std::string::npos);
  garbage.body.insert(at + 6, "%21%21");  // "!!" is not base64
  EXPECT_EQ(alipay_->verify(garbage).status().code(), Code::kForbidden);
}

TEST_F(AlipayTest, AnotherAppIdIsForbiddenEvenWhenValidlySigned) {
  Params p = paid_params();
  p["app_id"] = "2021000000009999";
  EXPECT_EQ(deliver(p).status().code(), Code::kForbidden);
  p.erase("app_id");
  EXPECT_EQ(deliver(p).status().code(), Code::kForbidden);
}

TEST_F(AlipayTest, AmountsAreExactYuan) {
  const std::map<std::string, int64_t> good = {
      {"9.90", 990}, {"9.9", 990}, {"10", 1000}, {"0.01", 1}, {"12345.67", 1234567}};
  for (const auto& [text, fen] : good) {
    Params p = paid_params();
    p["total_amount"] = text;
    auto n = deliver(p);
    ASSERT_TRUE(n.ok()) << text << ": " << n.status().to_string();
    EXPECT_EQ(n->amount, Fen(fen)) << text;
  }
  for (const char* text : {"9.999", "-9.90", "9.", ".9", "1e3", " 9.90", "9,90", "9.9x", "abc"}) {
    Params p = paid_params();
    p["total_amount"] = text;
    EXPECT_EQ(deliver(p).status().code(), Code::kInvalidArgument) << text;
  }
}

TEST_F(AlipayTest, MalformedIsInvalidArgument) {
  // Not a form body.
  EXPECT_EQ(alipay_->verify({{}, "total_amount=%ZZ&sign=abc"}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(alipay_->verify({{}, "a=%4"}).status().code(), Code::kInvalidArgument);
  // A repeated parameter could be read one way and signed another.
  RawNotification twice = gw::alipay_notification(paid_params(), gw::alipay_key().private_pem);
  twice.body += "&total_amount=0.01";
  EXPECT_EQ(alipay_->verify(twice).status().code(), Code::kInvalidArgument);
  // Validly signed, but fields are missing.
  for (const char* missing : {"trade_no", "out_trade_no", "trade_status", "total_amount"}) {
    Params p = paid_params();
    p.erase(missing);
    EXPECT_EQ(deliver(p).status().code(), Code::kInvalidArgument) << missing;
  }
  Params gbk = paid_params();
  gbk["charset"] = "GBK";
  EXPECT_EQ(deliver(gbk).status().code(), Code::kInvalidArgument);
}

TEST_F(AlipayTest, AnswersAlipayReads) {
  EXPECT_EQ(alipay_->name(), "alipay");
  EXPECT_EQ(alipay_->success_body(), "success");
  EXPECT_EQ(alipay_->failure_body(), "failure");
}

// ---- start(): channels and expiry --------------------------------------------------

Params start_params(PaymentProvider& p, const PaymentOrder& o) {
  auto s = p.start(o);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  if (!s.ok()) return {};
  return gw::parse_query(s->redirect_url.substr(s->redirect_url.find('?') + 1));
}

TEST_F(AlipayTest, PhonesAndWechatsBrowserPayWithWapPayAndAQuitUrl) {
  for (Channel c : {Channel::kPhone, Channel::kWechatBrowser}) {
    PaymentOrder o = order();
    o.channel = c;
    Params p = start_params(*alipay_, o);
    EXPECT_EQ(p["method"], "alipay.trade.wap.pay");
    auto biz = nlohmann::json::parse(p["biz_content"]);
    EXPECT_EQ(biz["product_code"], "QUICK_WAP_WAY");
    EXPECT_EQ(biz["quit_url"], "https://paidoc.example/orders/1");
    EXPECT_EQ(p["return_url"], "https://paidoc.example/orders/1");
    EXPECT_TRUE(gw::rsa_verify(gw::app_key().public_pem, gw::alipay_content(p, true),
                               gw::unb64(p["sign"])));
  }
  PaymentOrder desktop = order();
  desktop.channel = Channel::kDesktop;
  Params p = start_params(*alipay_, desktop);
  EXPECT_EQ(p["method"], "alipay.trade.page.pay");
  EXPECT_EQ(nlohmann::json::parse(p["biz_content"]).count("quit_url"), 0u);
}

TEST_F(AlipayTest, SupportsDesktopPhoneAndWechatsBrowser) {
  EXPECT_TRUE(alipay_->supports(Channel::kDesktop));
  EXPECT_TRUE(alipay_->supports(Channel::kPhone));
  EXPECT_TRUE(alipay_->supports(Channel::kWechatBrowser));
}

TEST_F(AlipayTest, ExpiryIsSentAsTimeExpireInBeijingTime) {
  PaymentOrder o = order();
  o.expires_at = 1767225600 + 16 * 3600 + 30 * 60;  // 2026-01-01 16:30:00 UTC
  auto biz = nlohmann::json::parse(start_params(*alipay_, o)["biz_content"]);
  EXPECT_EQ(biz["time_expire"], "2026-01-02 00:30:00");
  o.expires_at = 0;
  biz = nlohmann::json::parse(start_params(*alipay_, o)["biz_content"]);
  EXPECT_EQ(biz.count("time_expire"), 0u);
}

// ---- key formats --------------------------------------------------------------------

// Breaks base64 into lines of `width`, as key tools and editors do.
std::string wrapped(const std::string& text, size_t width, const std::string& eol) {
  std::string out;
  for (size_t i = 0; i < text.size(); i += width) out += text.substr(i, width) + eol;
  return out;
}

TEST(AlipayKeys, PrivateKeysLoadInEveryFormatKeyToolsPrint) {
  const std::string pkcs8 = gw::app_key().private_pem;
  const std::string pkcs1 = gw::pkcs1_private_pem(pkcs8);
  ASSERT_NE(pkcs1.find("BEGIN RSA PRIVATE KEY"), std::string::npos);
  const std::map<std::string, std::string> forms = {
      {"PKCS #8 PEM", pkcs8},
      {"PKCS #1 PEM", pkcs1},
      {"PKCS #1 PEM, CRLF and indented", "  " + wrapped(pkcs1, 10000, "\r\n  ")},
      {"PKCS #8 bare, one line", gw::bare_base64(pkcs8)},
      {"PKCS #1 bare, one line", gw::bare_base64(pkcs1)},
      {"PKCS #8 bare, 64 columns", wrapped(gw::bare_base64(pkcs8), 64, "\n")},
      {"PKCS #1 bare, 76 columns CRLF", wrapped(gw::bare_base64(pkcs1), 76, "\r\n")},
      {"PKCS #8 bare, spaces around", "  \n" + gw::bare_base64(pkcs8) + " \t\n"},
  };
  for (const auto& [name, text] : forms) {
    auto key = crypto::load_private_key(text);
    ASSERT_TRUE(key.ok()) << name << ": " << key.status().to_string();
    auto sig = crypto::rsa_sha256_sign(*key, "app_id=1&method=m");
    ASSERT_TRUE(sig.ok()) << name;
    // The gateway's independent code accepts what the loaded key signed.
    EXPECT_TRUE(gw::rsa_verify(gw::app_key().public_pem, "app_id=1&method=m", *sig)) << name;
  }
}

TEST(AlipayKeys, PublicKeysLoadInEveryFormatKeyToolsPrint) {
  const std::string spki = gw::alipay_key().public_pem;
  const std::string pkcs1 = gw::pkcs1_public_pem(gw::alipay_key().private_pem);
  ASSERT_NE(pkcs1.find("BEGIN RSA PUBLIC KEY"), std::string::npos);
  const std::map<std::string, std::string> forms = {
      {"SubjectPublicKeyInfo PEM", spki},
      {"PKCS #1 PEM", pkcs1},
      {"certificate", gw::alipay_key().certificate_pem},
      {"SubjectPublicKeyInfo bare", gw::bare_base64(spki)},
      {"PKCS #1 bare", gw::bare_base64(pkcs1)},
      {"SubjectPublicKeyInfo bare, 64 columns", wrapped(gw::bare_base64(spki), 64, "\n")},
      {"PKCS #1 bare, CRLF", wrapped(gw::bare_base64(pkcs1), 64, "\r\n")},
  };
  const std::string sig = gw::rsa_sign(gw::alipay_key().private_pem, "trade_no=1");
  for (const auto& [name, text] : forms) {
    auto key = crypto::load_public_key(text);
    ASSERT_TRUE(key.ok()) << name << ": " << key.status().to_string();
    EXPECT_TRUE(crypto::rsa_sha256_verify(*key, "trade_no=1", sig)) << name;
    EXPECT_FALSE(crypto::rsa_sha256_verify(*key, "trade_no=2", sig)) << name;
  }
}

TEST(AlipayKeys, AKeyThatDoesNotLoadSaysWhichFormatWasExpected) {
  const std::string expected_private =
      "expected an RSA private key as PEM (\"PRIVATE KEY\" PKCS #8 or \"RSA PRIVATE KEY\" "
      "PKCS #1, unencrypted) or bare base64 DER";
  const std::string expected_public = "expected an RSA public key as PEM";
  struct Case {
    std::string text;
    bool want_private;
    std::string why;
  };
  const std::string bare = gw::bare_base64(gw::app_key().private_pem);
  const std::vector<Case> cases = {
      {"", true, "empty"},
      {"not a key", true, "not base64"},
      // Valid base64 (whole 4-character groups), but half a key.
      {bare.substr(0, bare.size() / 8 * 4), true, "does not decode to a usable key"},
      {gw::app_key().public_pem, true, "only a public key"},
      {gw::bare_base64(gw::app_key().public_pem), true, "only a public key"},
      {"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n", true,
       "encrypted"},
      {gw::generate_ec_private_pem(), true, "usable key"},
      {"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", false, "usable key"},
      {"%%%%", false, "not base64"},
  };
  for (const auto& c : cases) {
    auto key = c.want_private ? crypto::load_private_key(c.text) : crypto::load_public_key(c.text);
    ASSERT_FALSE(key.ok()) << c.why;
    EXPECT_EQ(key.status().code(), Code::kInvalidArgument) << c.why;
    EXPECT_NE(key.status().message().find(c.why), std::string::npos) << key.status().message();
    EXPECT_NE(key.status().message().find(c.want_private ? expected_private : expected_public),
              std::string::npos)
        << key.status().message();
  }
}

TEST_F(AlipayTest, AConfiguredKeyThatDoesNotLoadIsNamedWithTheFormatExpected) {
  AlipayConfig c = config();
  c.app_private_key_pem = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC";  // cut short
  auto s = make_alipay(c, clock_)->start(order());
  EXPECT_EQ(s.status().code(), Code::kInternal);
  EXPECT_NE(s.status().message().find("app_private_key_pem"), std::string::npos);
  EXPECT_NE(s.status().message().find("expected an RSA private key"), std::string::npos);

  c = config();
  c.alipay_public_key_pem = "abc";
  s = make_alipay(c, clock_)->start(order());
  EXPECT_NE(s.status().message().find("alipay_public_key_pem"), std::string::npos);
  EXPECT_NE(s.status().message().find("expected an RSA public key"), std::string::npos);
}

// ---- refund notifications ----------------------------------------------------------

Params refund_params(const std::string& status, const std::string& refund_fee) {
  Params p = paid_params();
  p["trade_status"] = status;
  p["refund_fee"] = refund_fee;
  p["out_biz_no"] = "R20260101000001";
  p["gmt_refund"] = "2026-01-01 09:00:00.123";
  if (status == "TRADE_CLOSED") p["gmt_close"] = "2026-01-01 09:00:00";
  return p;
}

TEST_F(AlipayTest, APartialRefundNotificationIsARefundWithTheRunningTotal) {
  auto n = deliver(refund_params("TRADE_SUCCESS", "3.00"));
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(n->kind, NotificationKind::kRefund);
  EXPECT_FALSE(n->paid);
  EXPECT_EQ(n->transaction_id, "2026010122001456781234567890");
  EXPECT_EQ(n->out_trade_no, "P20260101000001");
  EXPECT_EQ(n->amount, Fen(990));
  EXPECT_EQ(n->refund.out_refund_no, "R20260101000001");
  EXPECT_EQ(n->refund.refund_id, "R20260101000001");
  EXPECT_EQ(n->refund.amount, Fen(0));  // only the running total is known
  EXPECT_EQ(n->refund.refunded_total, Fen(300));
  EXPECT_EQ(n->refund.state, RefundState::kSucceeded);
}

TEST_F(AlipayTest, AFullRefundNotificationClosesWithTradeClosed) {
  auto n = deliver(refund_params("TRADE_CLOSED", "9.90"));
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(n->kind, NotificationKind::kRefund);
  EXPECT_EQ(n->refund.refunded_total, Fen(990));
  EXPECT_EQ(n->refund.state, RefundState::kSucceeded);

  // Closed without refund fields: an unpaid trade closed, nothing refunded.
  Params closed = paid_params();
  closed["trade_status"] = "TRADE_CLOSED";
  auto c = deliver(closed);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, NotificationKind::kPayment);
  EXPECT_FALSE(c->paid);
}

TEST_F(AlipayTest, RefundNotificationsAreVerifiedAndCheckedLikeAnyOther) {
  EXPECT_EQ(deliver(refund_params("TRADE_CLOSED", "9.90"), gw::stranger_key().private_pem)
                .status()
                .code(),
            Code::kForbidden);
  // A refund_fee added to a signed payment notification breaks the signature.
  RawNotification n = gw::alipay_notification(paid_params(), gw::alipay_key().private_pem);
  n.body += "&refund_fee=9.90&out_biz_no=X";
  EXPECT_EQ(alipay_->verify(n).status().code(), Code::kForbidden);
  // More refunded than the trade's total, or a malformed fee.
  EXPECT_EQ(deliver(refund_params("TRADE_CLOSED", "9.91")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(deliver(refund_params("TRADE_CLOSED", "9.9.0")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(deliver(refund_params("TRADE_CLOSED", "0.00")).status().code(),
            Code::kInvalidArgument);
}

TEST_F(AlipayTest, AZeroRefundFeeWithoutGmtRefundIsAPlainPayment) {
  Params p = paid_params();
  p["refund_fee"] = "0.00";
  auto n = deliver(p);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(n->kind, NotificationKind::kPayment);
  EXPECT_TRUE(n->paid);
}

// ---- server APIs against the stand-in gateway -------------------------------------

class AlipayApiTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  gw::AlipayStandin gateway_{kAppId, gw::app_key().public_pem, gw::alipay_key().private_pem};

  AlipayConfig api_config() {
    AlipayConfig c = config();
    c.gateway = gateway_.gateway_url();  // transport left empty: the real client
    return c;
  }
  std::unique_ptr<PaymentProvider> alipay_ = make_alipay(api_config(), clock_);

  RefundRequest refund_request(const std::string& out_trade_no, const std::string& trade_no,
                               const std::string& out_refund_no, int64_t fen) {
    RefundRequest r;
    r.out_trade_no = out_trade_no;
    r.transaction_id = trade_no;
    r.out_refund_no = out_refund_no;
    r.amount = Fen(fen);
    r.total = Fen(990);
    r.reason = "读者申请退款";
    return r;
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(AlipayApiTest, RequestsArePostedAsSignedFormsWithTheCommonParameters) {
  clock_.set(1767225600 + 16 * 3600 + 59);  // 2026-01-02 00:00:59 Beijing
  ASSERT_TRUE(alipay_->query("P20260101000001").ok());
  auto calls = gateway_.calls();
  ASSERT_EQ(calls.size(), 1u);
  const auto& c = calls[0];
  EXPECT_EQ(c.content_type, "application/x-www-form-urlencoded;charset=utf-8");
  EXPECT_TRUE(c.signature_ok);  // checked by the stand-in with the app's public key
  auto p = c.params;
  EXPECT_EQ(p["app_id"], kAppId);
  EXPECT_EQ(p["method"], "alipay.trade.query");
  EXPECT_EQ(p["format"], "JSON");
  EXPECT_EQ(p["charset"], "utf-8");
  EXPECT_EQ(p["sign_type"], "RSA2");
  EXPECT_EQ(p["timestamp"], "2026-01-02 00:00:59");
  EXPECT_EQ(p["version"], "1.0");
  EXPECT_EQ(c.biz["out_trade_no"], "P20260101000001");
  EXPECT_EQ(p.count("app_cert_sn"), 0u);  // public-key mode
}

// The stand-in's cashier, where the browser journeys pay (tests/e2e): the
// redirect start() built shows "确认付款 ¥9.90"; paying posts a notification
// our provider verifies to notify_url and sends the browser to return_url
// with parameters signed by Alipay's key. A changed redirect is refused.
TEST_F(AlipayApiTest, TheStandinCashierPaysNotifiesAndReturnsSigned) {
  paidoc::testing::HttpStandin site([](const paidoc::testing::StandinRequest&) {
    paidoc::testing::StandinReply r;
    r.body = "success";
    return r;
  });
  PaymentOrder o = order();
  o.notify_url = site.url() + "/api/v1/payments/alipay/notify";
  o.return_url = site.url() + "/orders/1";
  auto s = alipay_->start(o);
  ASSERT_TRUE(s.ok()) << s.status().to_string();

  std::string tampered = s->redirect_url;
  size_t amount = tampered.find("9.90");
  ASSERT_NE(amount, std::string::npos);
  tampered.replace(amount, 4, "0.01");
  auto refused = paidoc::testing::http_request("GET", tampered, {}, "");
  EXPECT_EQ(refused.status, 400);
  EXPECT_FALSE(contains(refused.body, "确认付款"));

  auto page = paidoc::testing::http_request("GET", s->redirect_url, {}, "");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_TRUE(contains(page.body, "确认付款 ¥9.90"));
  EXPECT_TRUE(site.requests().empty());  // nothing is paid before the button

  auto paid = paidoc::testing::http_post(
      gateway_.url() + "/cashier/pay",
      {{"Content-Type", "application/x-www-form-urlencoded"}}, "out_trade_no=P20260101000001");
  ASSERT_EQ(paid.status, 302) << paid.body;
  EXPECT_EQ(gateway_.trade("P20260101000001")->status, "TRADE_SUCCESS");

  auto posted = site.requests_to("/api/v1/payments/alipay/notify");
  ASSERT_EQ(posted.size(), 1u);
  RawNotification n;
  n.headers["content-type"] = posted[0].header("content-type");
  n.body = posted[0].body;
  auto v = alipay_->verify(n);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_TRUE(v->paid);
  EXPECT_EQ(v->amount, Fen(990));
  EXPECT_EQ(v->out_trade_no, "P20260101000001");
  ASSERT_EQ(gateway_.deliveries().size(), 1u);
  EXPECT_EQ(gateway_.deliveries()[0].body, "success");

  const std::string back = paid.headers["location"];
  ASSERT_EQ(back.rfind(o.return_url + "?", 0), 0u) << back;
  auto p = gw::parse_query(back.substr(back.find('?') + 1));
  EXPECT_EQ(p["method"], "alipay.trade.page.pay.return");
  EXPECT_EQ(p["out_trade_no"], "P20260101000001");
  EXPECT_EQ(p["total_amount"], "9.90");
  EXPECT_EQ(p["sign_type"], "RSA2");
  EXPECT_TRUE(gw::rsa_verify(gw::alipay_key().public_pem, gw::alipay_content(p, false),
                             gw::unb64(p["sign"])));
}

TEST_F(AlipayApiTest, AGatewayThatCannotVerifyTheRequestIsNamed) {
  // The app key is not the one registered with the gateway.
  AlipayConfig c = api_config();
  c.app_private_key_pem = gw::stranger_key().private_pem;
  auto r = make_alipay(c, clock_)->query("P20260101000001");
  ASSERT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_TRUE(contains(r.status().message(), "isv.invalid-signature")) << r.status().message();
  EXPECT_TRUE(contains(r.status().message(), "not signed")) << r.status().message();
  ASSERT_EQ(gateway_.calls().size(), 1u);
  EXPECT_FALSE(gateway_.calls()[0].signature_ok);
}

TEST_F(AlipayApiTest, QueryReportsEachTradeStatus) {
  auto r = alipay_->query("P20260101000001");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_FALSE(r->exists);  // never scanned: ACQ.TRADE_NOT_EXIST

  gateway_.open_trade("P20260101000001", Fen(990));
  r = alipay_->query("P20260101000001");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->exists);
  EXPECT_FALSE(r->paid);
  EXPECT_FALSE(r->closed);
  EXPECT_EQ(r->state, "WAIT_BUYER_PAY");

  std::string trade_no = gateway_.pay("P20260101000001", Fen(990));
  r = alipay_->query("P20260101000001");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->paid);
  EXPECT_EQ(r->transaction_id, trade_no);
  EXPECT_EQ(r->amount, Fen(990));
  EXPECT_EQ(r->state, "TRADE_SUCCESS");

  gateway_.set_status("P20260101000001", "TRADE_FINISHED");
  r = alipay_->query("P20260101000001");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->paid);

  gateway_.set_status("P20260101000001", "TRADE_CLOSED");
  r = alipay_->query("P20260101000001");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->paid);
  EXPECT_TRUE(r->closed);
}

TEST_F(AlipayApiTest, CloseClosesAnOpenTradeAndRefusesAPaidOne) {
  // Never scanned: nothing to close, and that is fine.
  EXPECT_TRUE(alipay_->close("P20260101000001").is_ok());

  gateway_.open_trade("P20260101000001", Fen(990));
  Status s = alipay_->close("P20260101000001");
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(gateway_.trade("P20260101000001")->status, "TRADE_CLOSED");

  gateway_.pay("P20260101000002", Fen(990));
  s = alipay_->close("P20260101000002");
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_TRUE(contains(s.message(), "ACQ.TRADE_STATUS_ERROR")) << s.message();
  EXPECT_EQ(gateway_.trade("P20260101000002")->status, "TRADE_SUCCESS");
  EXPECT_EQ(gateway_.calls_of("alipay.trade.close").size(), 3u);
}

TEST_F(AlipayApiTest, RefundsSucceedAtOnceAndReportTheRunningTotal) {
  std::string trade_no = gateway_.pay("P20260101000001", Fen(990));
  auto r = alipay_->refund(refund_request("P20260101000001", trade_no, "R1", 300));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->state, RefundState::kSucceeded);
  EXPECT_EQ(r->amount, Fen(300));
  EXPECT_EQ(r->refunded_total, Fen(300));
  EXPECT_EQ(r->refund_id, "R1");  // Alipay names a refund by our out_request_no
  EXPECT_EQ(r->out_refund_no, "R1");

  auto call = gateway_.calls_of("alipay.trade.refund").back();
  EXPECT_TRUE(call.signature_ok);
  EXPECT_EQ(call.biz["out_trade_no"], "P20260101000001");
  EXPECT_EQ(call.biz["trade_no"], trade_no);
  EXPECT_EQ(call.biz["refund_amount"], "3.00");
  EXPECT_EQ(call.biz["out_request_no"], "R1");
  EXPECT_EQ(call.biz["refund_reason"], "读者申请退款");

  r = alipay_->refund(refund_request("P20260101000001", trade_no, "R2", 690));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->amount, Fen(690));
  EXPECT_EQ(r->refunded_total, Fen(990));
  EXPECT_EQ(gateway_.trade("P20260101000001")->status, "TRADE_CLOSED");
}

TEST_F(AlipayApiTest, TheSameRefundNumberTwiceIsOneRefund) {
  std::string trade_no = gateway_.pay("P20260101000001", Fen(990));
  auto first = alipay_->refund(refund_request("P20260101000001", trade_no, "R1", 500));
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  auto again = alipay_->refund(refund_request("P20260101000001", trade_no, "R1", 500));
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  // fund_change N: confirmed by the refund query, not counted twice.
  EXPECT_EQ(again->state, RefundState::kSucceeded);
  EXPECT_EQ(again->refunded_total, Fen(500));
  EXPECT_EQ(gateway_.trade("P20260101000001")->refunded, Fen(500));
  EXPECT_EQ(gateway_.calls_of("alipay.trade.fastpay.refund.query").size(), 1u);
}

TEST_F(AlipayApiTest, RefundBusinessErrorsAreInvalidArgumentNamingAlipaysCode) {
  std::string trade_no = gateway_.pay("P20260101000001", Fen(990));
  auto r = alipay_->refund(refund_request("P20260101000001", trade_no, "R1", 991));
  ASSERT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(r.status().message(), "40004")) << r.status().message();
  EXPECT_TRUE(contains(r.status().message(), "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"));
  EXPECT_TRUE(contains(r.status().message(), "退款金额超限"));
  EXPECT_EQ(gateway_.trade("P20260101000001")->refunded, Fen(0));

  gateway_.set_status("P20260101000001", "TRADE_FINISHED");
  r = alipay_->refund(refund_request("P20260101000001", trade_no, "R2", 100));
  ASSERT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(r.status().message(), "ACQ.TRADE_HAS_FINISHED")) << r.status().message();

  gateway_.open_trade("P20260101000002", Fen(990));
  r = alipay_->refund(refund_request("P20260101000002", "", "R3", 100));
  ASSERT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(r.status().message(), "ACQ.TRADE_STATUS_ERROR")) << r.status().message();

  // Refused before anything is sent.
  size_t sent = gateway_.calls().size();
  EXPECT_EQ(alipay_->refund(refund_request("P20260101000001", trade_no, "R 4", 100)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(alipay_->refund(refund_request("P20260101000001", trade_no, "R5", 0)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(gateway_.calls().size(), sent);
}

TEST_F(AlipayApiTest, RefundQueryFindsARefundOrSaysItNeverArrived) {
  std::string trade_no = gateway_.pay("P20260101000001", Fen(990));
  auto q = alipay_->query_refund("P20260101000001", "R1");
  EXPECT_EQ(q.status().code(), Code::kNotFound) << q.status().to_string();

  ASSERT_TRUE(alipay_->refund(refund_request("P20260101000001", trade_no, "R1", 250)).ok());
  q = alipay_->query_refund("P20260101000001", "R1");
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_EQ(q->state, RefundState::kSucceeded);
  EXPECT_EQ(q->amount, Fen(250));
  EXPECT_EQ(q->refund_id, "R1");
  auto call = gateway_.calls_of("alipay.trade.fastpay.refund.query").back();
  EXPECT_TRUE(call.signature_ok);
  EXPECT_EQ(call.biz["out_request_no"], "R1");
  EXPECT_EQ(call.biz["out_trade_no"], "P20260101000001");

  EXPECT_EQ(alipay_->query_refund("P20260101000009", "R1").status().code(), Code::kNotFound);
}

TEST_F(AlipayApiTest, BusinessAndSystemErrorsAreToldApart) {
  gateway_.set_mode(gw::AlipayStandin::Mode::kBusinessError, "ACQ.INVALID_PARAMETER",
                    "参数无效");
  auto q = alipay_->query("P20260101000001");
  ASSERT_EQ(q.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(q.status().message(), "ACQ.INVALID_PARAMETER")) << q.status().message();
  EXPECT_TRUE(contains(q.status().message(), "参数无效"));
  EXPECT_TRUE(contains(q.status().message(), "alipay.trade.query"));

  // Alipay's docs: ACQ.SYSTEM_ERROR means "call again with the same request".
  gateway_.set_mode(gw::AlipayStandin::Mode::kBusinessError, "ACQ.SYSTEM_ERROR", "系统错误",
                    "alipay.trade.refund");
  RefundRequest r;
  r.out_trade_no = "P20260101000001";
  r.out_refund_no = "R1";
  r.amount = Fen(100);
  auto refund = alipay_->refund(r);
  EXPECT_EQ(refund.status().code(), Code::kUnavailable);
  EXPECT_TRUE(contains(refund.status().message(), "ACQ.SYSTEM_ERROR"));
  EXPECT_TRUE(alipay_->query("P20260101000001").ok());  // only refunds were failing

  gateway_.set_mode(gw::AlipayStandin::Mode::kSystemError);
  Status s = alipay_->close("P20260101000001");
  ASSERT_EQ(s.code(), Code::kUnavailable);
  EXPECT_TRUE(contains(s.message(), "20000")) << s.message();
  EXPECT_TRUE(contains(s.message(), "isp.unknow-error"));

  gateway_.set_mode(gw::AlipayStandin::Mode::kBusinessError, "ACQ.TRADE_NOT_EXIST", "交易不存在");
  auto missing = alipay_->query("P20260101000001");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->exists);
}

TEST_F(AlipayApiTest, AnswersThatCannotBeBelievedAreUnavailable) {
  std::string trade_no = gateway_.pay("P20260101000001", Fen(990));
  using Mode = gw::AlipayStandin::Mode;
  const std::vector<std::pair<Mode, std::string>> cases = {
      {Mode::kGarbage, "not JSON"},
      {Mode::kHttpError, "HTTP 502"},
      {Mode::kUnsigned, "not signed"},
      {Mode::kForged, "signature does not verify"},
      {Mode::kTampered, "signature does not verify"},
  };
  for (const auto& [mode, why] : cases) {
    gateway_.set_mode(mode);
    auto q = alipay_->query("P20260101000001");
    ASSERT_EQ(q.status().code(), Code::kUnavailable) << why;
    EXPECT_TRUE(contains(q.status().message(), why)) << q.status().message();
    auto r = alipay_->refund(refund_request("P20260101000001", trade_no, "R1", 100));
    EXPECT_EQ(r.status().code(), Code::kUnavailable) << why;
    EXPECT_EQ(alipay_->close("P20260101000001").code(), Code::kUnavailable) << why;
    EXPECT_EQ(alipay_->query_refund("P20260101000001", "R1").status().code(), Code::kUnavailable)
        << why;
  }
  // The same gateway answering properly again is believed.
  gateway_.set_mode(Mode::kNormal);
  auto q = alipay_->query("P20260101000001");
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(q->paid);
}

TEST_F(AlipayApiTest, NoAnswerInTimeIsUnavailable) {
  AlipayConfig c = api_config();
  c.transport = [](const HttpRequest& r) { return https_request(r, 2); };
  auto a = make_alipay(c, clock_);
  gateway_.set_mode(gw::AlipayStandin::Mode::kHang);
  auto q = a->query("P20260101000001");
  ASSERT_EQ(q.status().code(), Code::kUnavailable);
  EXPECT_TRUE(contains(q.status().message(), "no answer")) << q.status().message();
}

TEST_F(AlipayApiTest, NoGatewayAtAllIsUnavailable) {
  AlipayConfig c = api_config();
  c.gateway = "http://127.0.0.1:1/gateway.do";
  auto q = make_alipay(c, clock_)->query("P20260101000001");
  EXPECT_EQ(q.status().code(), Code::kUnavailable);
}

// The signature covers the response object exactly as written: whitespace,
// key order and escapes included. Re-serializing it would break real answers.
TEST_F(AlipayTest, AnAnswersSignatureCoversTheExactTextOfItsResponseObject) {
  const std::string response =
      "{ \"code\": \"10000\", \"msg\": \"Success\", \"trade_no\": \"2026010122001\",\n"
      "  \"out_trade_no\": \"P20260101000001\", \"trade_status\": \"TRADE_SUCCESS\","
      " \"total_amount\": \"9.90\", \"subject\": \"\\u8bba\\u8bed\\/x\" }";
  auto answer_with = [&](const std::string& signed_text) {
    std::string body = "{\"alipay_trade_query_response\" : " + response + " ,\n\"sign\":\"" +
                       gw::b64(gw::rsa_sign(gw::alipay_key().private_pem, signed_text)) + "\"}";
    AlipayConfig c = config();
    c.transport = [body](const HttpRequest&) -> Result<HttpAnswer> {
      HttpAnswer a;
      a.status = 200;
      a.body = body;
      return a;
    };
    return make_alipay(c, clock_)->query("P20260101000001");
  };
  auto q = answer_with(response);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(q->paid);
  EXPECT_EQ(q->amount, Fen(990));
  // The same object re-serialized is other text: its signature is not this one.
  std::string reserialized = nlohmann::json::parse(response).dump();
  ASSERT_NE(reserialized, response);
  EXPECT_EQ(answer_with(reserialized).status().code(), Code::kUnavailable);
}

TEST_F(AlipayTest, OnlyTheResponseObjectThatVerifiedIsRead) {
  // A second response member appended after the signed one: a JSON reader
  // keeping the last would believe it.
  const std::string waiting =
      R"({"code":"10000","msg":"Success","trade_no":"2026010122001","out_trade_no":"P20260101000001","trade_status":"WAIT_BUYER_PAY","total_amount":"9.90"})";
  const std::string paid =
      R"({"code":"10000","msg":"Success","trade_no":"2026010122001","out_trade_no":"P20260101000001","trade_status":"TRADE_SUCCESS","total_amount":"9.90"})";
  std::string body = R"({"alipay_trade_query_response":)" + waiting + R"(,"sign":")" +
                     gw::b64(gw::rsa_sign(gw::alipay_key().private_pem, waiting)) +
                     R"(","alipay_trade_query_response":)" + paid + "}";
  AlipayConfig c = config();
  c.transport = [body](const HttpRequest&) -> Result<HttpAnswer> {
    return HttpAnswer{200, {}, body};
  };
  auto q = make_alipay(c, clock_)->query("P20260101000001");
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_FALSE(q->paid);
  EXPECT_EQ(q->state, "WAIT_BUYER_PAY");
}

TEST_F(AlipayTest, AnAnswerAboutAnotherTradeIsNotBelieved) {
  const std::string response =
      R"({"code":"10000","msg":"Success","trade_no":"2026010122001","out_trade_no":"P20260101000002","trade_status":"TRADE_SUCCESS","total_amount":"9.90"})";
  std::string body = R"({"alipay_trade_query_response":)" + response + R"(,"sign":")" +
                     gw::b64(gw::rsa_sign(gw::alipay_key().private_pem, response)) + "\"}";
  AlipayConfig c = config();
  c.transport = [body](const HttpRequest&) -> Result<HttpAnswer> {
    return HttpAnswer{200, {}, body};
  };
  auto q = make_alipay(c, clock_)->query("P20260101000001");
  EXPECT_EQ(q.status().code(), Code::kUnavailable);
}

TEST_F(AlipayApiTest, ABuyerPaysWhatTheRedirectAsksAndTheQueryFindsIt) {
  auto s = alipay_->start(order());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(gateway_.pay_redirect(s->redirect_url), "P20260101000001");
  auto q = alipay_->query("P20260101000001");
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(q->paid);
  EXPECT_EQ(q->amount, Fen(990));

  // A redirect signed with another key is not paid.
  AlipayConfig c = api_config();
  c.app_private_key_pem = gw::stranger_key().private_pem;
  PaymentOrder o = order();
  o.out_trade_no = "P20260101000002";
  auto forged = make_alipay(c, clock_)->start(o);
  ASSERT_TRUE(forged.ok());
  EXPECT_THROW(gateway_.pay_redirect(forged->redirect_url), std::runtime_error);
  EXPECT_FALSE(gateway_.trade("P20260101000002").has_value());
}

TEST_F(AlipayApiTest, TheStandinsRefundNotificationsVerify) {
  std::string trade_no = gateway_.pay("P20260101000001", Fen(990));
  auto paid = alipay_->verify(gateway_.payment_notification("P20260101000001"));
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  EXPECT_TRUE(paid->paid);
  EXPECT_EQ(paid->transaction_id, trade_no);

  ASSERT_TRUE(alipay_->refund(refund_request("P20260101000001", trade_no, "R1", 400)).ok());
  auto partial = alipay_->verify(gateway_.refund_notification("P20260101000001", "R1"));
  ASSERT_TRUE(partial.ok()) << partial.status().to_string();
  EXPECT_EQ(partial->kind, NotificationKind::kRefund);
  EXPECT_EQ(partial->refund.refund_id, "R1");
  EXPECT_EQ(partial->refund.refunded_total, Fen(400));

  // The rest refunded in Alipay's console.
  auto full = alipay_->verify(gateway_.refund_in_console("P20260101000001", Fen(590), "C77"));
  ASSERT_TRUE(full.ok()) << full.status().to_string();
  EXPECT_EQ(full->kind, NotificationKind::kRefund);
  EXPECT_EQ(full->refund.out_refund_no, "C77");
  EXPECT_EQ(full->refund.refunded_total, Fen(990));
  EXPECT_EQ(full->amount, Fen(990));
  EXPECT_EQ(gateway_.trade("P20260101000001")->status, "TRADE_CLOSED");
}

// ---- certificate mode ------------------------------------------------------------------

// Issuer names as in Alipay's certificates, first RDN first.
const gw::DistinguishedName kRootName = {{"C", "CN"},
                                         {"O", "Ant Financial"},
                                         {"OU", "Certification Authority"},
                                         {"CN", "Ant Financial Certification Authority"}};
const gw::DistinguishedName kClass2Name = {{"C", "CN"},
                                           {"O", "Ant Financial"},
                                           {"OU", "Certification Authority"},
                                           {"CN", "Ant Financial Certification Authority Class 2 R1"}};
const std::string kClass2Issuer =
    "CN=Ant Financial Certification Authority Class 2 R1,OU=Certification Authority,"
    "O=Ant Financial,C=CN";
const std::string kRootIssuer =
    "CN=Ant Financial Certification Authority,OU=Certification Authority,O=Ant Financial,C=CN";

// As Alipay hands them out: each public-key certificate file holds the
// certificate followed by the CA that issued it; the root file several roots.
struct Certs {
  std::string app_cert;     // app key, serial 0x1A2B…F801 under Class 2; + the CA
  std::string alipay_cert;  // Alipay's key, serial 0x6F under Class 2; + the CA
  std::string root_chain;   // RSA SHA-1 root, an ECDSA root, an RSA SHA-256 CA
};

const Certs& certs() {
  static const Certs c = [] {
    const std::string& ca = gw::stranger_key().private_pem;  // plays Ant's CA
    Certs out;
    std::string class2 = gw::issue_certificate(ca, kClass2Name, kRootName, "0C", ca);
    out.app_cert = gw::issue_certificate(gw::app_key().private_pem, {{"CN", "2021000000000001"}},
                                         kClass2Name, "1A2B3C4D5E6F708192A3B4C5D6E7F801", ca) +
                   class2;
    out.alipay_cert = gw::issue_certificate(gw::alipay_key().private_pem, {{"CN", "支付宝"}},
                                            kClass2Name, "6F", ca) +
                      class2;
    std::string ec = gw::generate_ec_private_pem();
    out.root_chain = gw::issue_certificate(ca, kRootName, kRootName, "0A", ca, EVP_sha1()) +
                     gw::issue_certificate(ec, {{"CN", "Ant ECC Root"}}, {{"CN", "Ant ECC Root"}},
                                           "0B", ec, EVP_sha256()) +
                     gw::issue_certificate(ca, kClass2Name, kRootName, "0C", ca, EVP_sha256());
    return out;
  }();
  return c;
}

AlipayConfig cert_config() {
  AlipayConfig c = config();
  c.alipay_public_key_pem.clear();  // Alipay's key comes from its certificate
  c.app_cert_pem = certs().app_cert;
  c.alipay_cert_pem = certs().alipay_cert;
  c.alipay_root_cert_pem = certs().root_chain;
  return c;
}

// md5 hex of (issuer attributes from the last RDN, "," joined) + decimal serial.
const std::string kAppCertSn = gw::md5_hex(kClass2Issuer + "34784419729695855966531441567273056257");
const std::string kAlipayCertSn = gw::md5_hex(kClass2Issuer + "111");
const std::string kRootCertSn =
    gw::md5_hex(kRootIssuer + "10") + "_" + gw::md5_hex(kRootIssuer + "12");

TEST_F(AlipayTest, CertificateModeSignsRedirectsWithBothSerialNumbers) {
  auto a = make_alipay(cert_config(), clock_);
  Params p = start_params(*a, order());
  EXPECT_EQ(p["app_cert_sn"], kAppCertSn);
  EXPECT_EQ(p["alipay_root_cert_sn"], kRootCertSn);  // the ECDSA root left out
  EXPECT_TRUE(gw::rsa_verify(gw::app_key().public_pem, gw::alipay_content(p, true),
                             gw::unb64(p["sign"])));
  EXPECT_TRUE(contains(gw::alipay_content(p, true), "app_cert_sn=" + kAppCertSn));
}

TEST_F(AlipayTest, CertificateModeVerifiesNotificationsWithAlipaysCertificate) {
  auto a = make_alipay(cert_config(), clock_);
  auto n = a->verify(gw::alipay_notification(paid_params(), gw::alipay_key().private_pem));
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_TRUE(n->paid);
  EXPECT_EQ(a->verify(gw::alipay_notification(paid_params(), gw::stranger_key().private_pem))
                .status()
                .code(),
            Code::kForbidden);
}

TEST_F(AlipayTest, CertificateModeNamesWhatIsMissingOrWrong) {
  struct Case {
    std::function<void(AlipayConfig&)> change;
    std::string named;
  };
  const std::vector<Case> cases = {
      {[](AlipayConfig& c) { c.alipay_cert_pem.clear(); }, "alipay_cert_pem is required"},
      {[](AlipayConfig& c) { c.alipay_root_cert_pem.clear(); }, "alipay_root_cert_pem is required"},
      {[](AlipayConfig& c) { c.app_cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"; },
       "app_cert_pem"},
      {[](AlipayConfig& c) { c.alipay_root_cert_pem = "no certificates here"; },
       "alipay_root_cert_pem"},
      {[](AlipayConfig& c) { c.app_cert_pem = certs().alipay_cert; },
       "app_cert_pem does not certify the key in app_private_key_pem"},
  };
  for (const auto& k : cases) {
    AlipayConfig c = cert_config();
    k.change(c);
    auto s = make_alipay(c, clock_)->start(order());
    ASSERT_EQ(s.status().code(), Code::kInternal) << k.named;
    EXPECT_TRUE(contains(s.status().message(), k.named)) << s.status().message();
  }
}

TEST(AlipayCertApiTest, CertificateModeRequestsAndAnswers) {
  FakeClock clock;
  gw::AlipayStandin gateway(kAppId, gw::app_key().public_pem, gw::alipay_key().private_pem);
  AlipayConfig c = cert_config();
  c.gateway = gateway.gateway_url();
  auto a = make_alipay(c, clock);
  gateway.pay("P20260101000001", Fen(990));

  gateway.set_alipay_cert_sn(kAlipayCertSn);
  auto q = a->query("P20260101000001");
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_TRUE(q->paid);
  auto call = gateway.calls().back();
  EXPECT_TRUE(call.signature_ok);
  EXPECT_EQ(call.params["app_cert_sn"], kAppCertSn);
  EXPECT_EQ(call.params["alipay_root_cert_sn"], kRootCertSn);

  // Signed under another Alipay certificate than the one configured.
  gateway.set_alipay_cert_sn("0123456789abcdef0123456789abcdef");
  q = a->query("P20260101000001");
  ASSERT_EQ(q.status().code(), Code::kUnavailable);
  EXPECT_TRUE(contains(q.status().message(), "0123456789abcdef0123456789abcdef"));
  EXPECT_TRUE(contains(q.status().message(), kAlipayCertSn)) << q.status().message();

  // Without alipay_cert_sn the signature alone decides.
  gateway.set_alipay_cert_sn("");
  EXPECT_TRUE(a->query("P20260101000001").ok());
  gateway.set_mode(gw::AlipayStandin::Mode::kForged);
  EXPECT_EQ(a->query("P20260101000001").status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace paidoc::commerce
