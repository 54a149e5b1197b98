// Alipay (RSA2) against a fake gateway holding keys generated here: the
// signed redirect start() builds, and notifications signed the way Alipay
// signs them — valid, forged, tampered, for another app, malformed.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

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

}  // namespace
}  // namespace paidoc::commerce
