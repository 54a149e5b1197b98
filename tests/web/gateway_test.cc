// Payments end to end over HTTP, against the real Alipay and WeChat Pay
// providers talking to stand-in gateways over loopback HTTP (the stand-ins
// check every request's signature and sign every answer): a document paid
// twice at the gateway ends in the wallet; a refund through the admin page
// reaches the gateway signed and its notification revokes access once; a
// payment whose notification was dropped is found by the sweep before the
// order expires; an expired order is closed at the gateway.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "auth/auth.h"
#include "commerce/alipay_standin.h"
#include "commerce/commerce.h"
#include "commerce/provider.h"
#include "commerce/wechat_standin.h"
#include "common/clock.h"
#include "library/library.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/server.h"
#include "web/test_store.h"

namespace paidoc::web {
namespace {

namespace gw = commerce::fake_gateway;
using nlohmann::json;
using testing::bearer;
using testing::Browser;
using testing::HttpClient;
using testing::HttpResponse;

// Written for these tests; the paid sentence must reach only buyers.
constexpr std::string_view kLighthouse =
    "灯塔值守手册\n"
    "本手册供新任守塔人阅读。\n"
    "一、交接\n"
    "##paidbegin##\n"
    "（一）钥匙\n"
    "备用灯芯锁在螺旋楼梯第四十二级台阶下的铁盒里。\n"
    "##paidend##\n"
    "祝值守顺利。\n";
constexpr const char* kLighthousePaid = "第四十二级台阶";
constexpr int64_t kPrice = 1200;

constexpr const char* kAlipayAppId = "2021000000000001";
constexpr const char* kWxAppId = "wx8888888888888888";
constexpr const char* kWxMchId = "1900000001";
constexpr const char* kWxMerchantSerial = "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C";
constexpr const char* kWxPlatformSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
constexpr const char* kWxApiV3Key = "abcdefghijklmnopqrstuvwxyz012345";

const gw::KeyPair& alipay_app_key() {
  static const gw::KeyPair k = gw::generate_rsa_2048();
  return k;
}
const gw::KeyPair& alipay_gateway_key() {
  static const gw::KeyPair k = gw::generate_rsa_2048();
  return k;
}

gw::WechatStandin::Options wechat_options() {
  gw::WechatStandin::Options o;
  o.appid = kWxAppId;
  o.mchid = kWxMchId;
  o.merchant_serial = kWxMerchantSerial;
  o.merchant_public_pem = gw::merchant_key().public_pem;
  o.platform_serial = kWxPlatformSerial;
  o.platform_private_pem = gw::platform_key().private_pem;
  o.apiv3_key = kWxApiV3Key;
  return o;
}

class GatewayWebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.set(1'780'000'000);
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-gateway-web", clock_, t_));
    library::ImportOptions io;
    io.price = Fen(kPrice);
    library::ImportLine line = t_.library->import_bytes(kLighthouse, "lighthouse.txt", io);
    ASSERT_TRUE(line.ok) << line.error;
    doc_ = line.id;
    reader_ = add_user("reader@example.cn", gate::Role::kReader);
    add_user("admin@example.cn", gate::Role::kAdmin);

    std::map<std::string, std::unique_ptr<commerce::PaymentProvider>> providers;
    commerce::AlipayConfig a;
    a.app_id = kAlipayAppId;
    a.gateway = alipay_.gateway_url();
    a.app_private_key_pem = alipay_app_key().private_pem;
    a.alipay_public_key_pem = alipay_gateway_key().public_pem;
    providers["alipay"] = commerce::make_alipay(std::move(a), clock_);
    commerce::WechatConfig w;
    w.appid = kWxAppId;
    w.mchid = kWxMchId;
    w.merchant_serial_no = kWxMerchantSerial;
    w.merchant_private_key_pem = gw::merchant_key().private_pem;
    w.platform_keys[kWxPlatformSerial] = gw::platform_key().public_pem;
    w.apiv3_key = kWxApiV3Key;
    w.api_base = wechat_.url();
    providers["wechat"] = commerce::make_wechat(std::move(w), clock_);
    commerce::Options co;
    co.site_url = "https://shop.example";
    commerce_ = std::make_unique<commerce::Commerce>(*t_.store, *t_.store, clock_, co,
                                                     std::move(providers));

    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.clock = &clock_;
    server_ = std::make_unique<Server>(*t_.store, *t_.library, *t_.accounts, *commerce_, opts);
    Status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    port_ = server_->port();
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    commerce_.reset();
    testing::close_test_store(t_);
  }

  int64_t add_user(const std::string& email, gate::Role role) {
    Result<auth::Account> a = t_.accounts->add_user(email, testing::kTestPassword, role);
    EXPECT_TRUE(a.ok()) << a.status().to_string();
    return a.ok() ? a->id : 0;
  }

  std::string token(const std::string& email) {
    HttpResponse r = Browser(port_).post_json(
        "/api/v1/auth/login", {{"email", email}, {"password", testing::kTestPassword}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body)["token"].get<std::string>() : std::string();
  }

  json api(const std::string& method, const std::string& target, const std::string& tok,
           const json& body, int want_status) {
    HttpClient c(port_);
    HttpResponse r = c.request(method, target, {bearer(tok), "Content-Type: application/json"},
                               body.is_null() ? std::string() : body.dump());
    EXPECT_EQ(r.status, want_status) << method << " " << target << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    return j.is_discarded() ? json() : j;
  }

  // A document order for the reader, started with `method` on a desktop.
  // Answers (order id, out_trade_no, what the start answered).
  struct Started {
    int64_t id = 0;
    std::string out_trade_no;
    json pay;
  };
  Started start_order(const std::string& tok, const std::string& method) {
    Started s;
    json o = api("POST", "/api/v1/orders", tok, {{"document_id", doc_}}, 201);
    if (!o.contains("id")) return s;
    s.id = o["id"].get<int64_t>();
    s.out_trade_no = o["out_trade_no"].get<std::string>();
    s.pay = api("POST", "/api/v1/orders/" + std::to_string(s.id) + "/pay", tok,
                {{"method", method}, {"channel", "desktop"}}, 200);
    return s;
  }

  // POSTs a gateway's notification to our notify endpoint, as it would.
  HttpResponse notify(const std::string& provider, const commerce::RawNotification& n) {
    std::vector<std::string> headers;
    bool form = provider == "alipay";
    headers.push_back(form ? "Content-Type: application/x-www-form-urlencoded; charset=utf-8"
                           : "Content-Type: application/json");
    for (const auto& [k, v] : n.headers) headers.push_back(k + ": " + v);
    return HttpClient(port_).request("POST", "/api/v1/payments/" + provider + "/notify", headers,
                                     n.body);
  }

  std::string order_status(const std::string& tok, int64_t id) {
    json o = api("GET", "/api/v1/orders/" + std::to_string(id), tok, nullptr, 200);
    return o.value("status", std::string());
  }

  bool reads_paid(const std::string& tok) {
    HttpResponse r = HttpClient(port_).request("GET", "/api/v1/documents/" + std::to_string(doc_),
                                               {bearer(tok)});
    EXPECT_EQ(r.status, 200);
    return r.body.find(kLighthousePaid) != std::string::npos;
  }

  int64_t balance(int64_t user) {
    Result<Fen> b = commerce_->balance(user);
    EXPECT_TRUE(b.ok());
    return b.ok() ? b->value() : -1;
  }

  void expect_ledger_ok() {
    Result<commerce::LedgerCheck> c = commerce_->verify_ledger();
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    std::string problems;
    for (const auto& p : c->problems) problems += p + "\n";
    EXPECT_TRUE(c->ok) << problems;
  }

  FakeClock clock_;
  testing::TestStore t_;
  gw::AlipayStandin alipay_{kAlipayAppId, alipay_app_key().public_pem,
                            alipay_gateway_key().private_pem};
  gw::WechatStandin wechat_{wechat_options(), clock_};
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t doc_ = 0;
  int64_t reader_ = 0;
};

TEST_F(GatewayWebTest, ADocumentPaidTwiceAtTheGatewayThroughTheNotifyEndpointsEndsInTheWallet) {
  const std::string tok = token("reader@example.cn");
  // Two tabs: two orders for one document, both paid by scanning their codes.
  Started first = start_order(tok, "wechat");
  // Reused while payable (issue 14): the second tab's order is a new one
  // only once the first is close to its expiry.
  clock_.set(clock_.now() + commerce::Options{}.order_ttl - commerce::Options{}.query_before_expiry);
  Started second = start_order(tok, "wechat");
  ASSERT_NE(first.id, 0);
  ASSERT_NE(second.id, 0);
  EXPECT_FALSE(first.pay.value("code_url", "").empty()) << first.pay.dump();
  wechat_.mark_paid(first.out_trade_no);
  wechat_.mark_paid(second.out_trade_no);

  HttpResponse a = notify("wechat", wechat_.transaction_notification(first.out_trade_no));
  HttpResponse b = notify("wechat", wechat_.transaction_notification(second.out_trade_no));
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(b.status, 200) << b.body;

  EXPECT_EQ(order_status(tok, first.id), "paid");
  EXPECT_EQ(order_status(tok, second.id), "credited");
  EXPECT_TRUE(reads_paid(tok));
  EXPECT_EQ(balance(reader_), kPrice) << "the second payment is in the wallet";

  // The same second payment again changes nothing.
  HttpResponse again = notify("wechat", wechat_.transaction_notification(second.out_trade_no));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(balance(reader_), kPrice);

  // The order page tells the reader where the money went.
  Browser browser(port_);
  ASSERT_EQ(browser.login("reader@example.cn").status, 303);
  HttpResponse page = browser.get("/orders/" + std::to_string(second.id));
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("已转入钱包"), std::string::npos) << page.body;
  expect_ledger_ok();
}

TEST_F(GatewayWebTest, AlipayPaidTwiceAlsoEndsInTheWallet) {
  const std::string tok = token("reader@example.cn");
  Started first = start_order(tok, "alipay");
  // Reused while payable (issue 14): the second tab's order is a new one
  // only once the first is close to its expiry.
  clock_.set(clock_.now() + commerce::Options{}.order_ttl - commerce::Options{}.query_before_expiry);
  Started second = start_order(tok, "alipay");
  ASSERT_FALSE(first.pay.value("redirect_url", "").empty()) << first.pay.dump();
  alipay_.pay_redirect(first.pay["redirect_url"].get<std::string>());
  alipay_.pay_redirect(second.pay["redirect_url"].get<std::string>());
  EXPECT_EQ(notify("alipay", alipay_.payment_notification(first.out_trade_no)).body, "success");
  EXPECT_EQ(notify("alipay", alipay_.payment_notification(second.out_trade_no)).body, "success");
  EXPECT_EQ(order_status(tok, first.id), "paid");
  EXPECT_EQ(order_status(tok, second.id), "credited");
  EXPECT_EQ(balance(reader_), kPrice);
  expect_ledger_ok();
}

// The admin page's 原路退回 for a WeChat payment: the gateway gets a signed
// refund request, answers PROCESSING, and its REFUND.SUCCESS notification
// settles the refund once.
TEST_F(GatewayWebTest, ARefundThroughTheAdminPageReachesTheGatewaySignedAndItsNotificationSettlesIt) {
  const std::string tok = token("reader@example.cn");
  Started bought = start_order(tok, "wechat");
  wechat_.mark_paid(bought.out_trade_no);
  ASSERT_EQ(notify("wechat", wechat_.transaction_notification(bought.out_trade_no)).status, 200);
  ASSERT_TRUE(reads_paid(tok));

  Browser admin(port_);
  ASSERT_EQ(admin.login("admin@example.cn").status, 303);
  HttpResponse list = admin.get("/admin/orders");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("原路退回"), std::string::npos);
  HttpResponse refund = admin.post("/admin/orders/" + std::to_string(bought.id) + "/refund",
                                   {{"to", "provider"}});
  EXPECT_EQ(refund.status, 303) << refund.body;

  // The stand-in accepted it, which it does only for a request signed with
  // the merchant key; it names our order and the full amount.
  auto sent = wechat_.requests_to("/v3/refund/domestic/refunds");
  ASSERT_EQ(sent.size(), 1u);
  json body = json::parse(sent[0].body);
  EXPECT_EQ(body["out_trade_no"], bought.out_trade_no);
  EXPECT_EQ(body["amount"]["refund"], kPrice);
  EXPECT_EQ(body["amount"]["total"], kPrice);
  EXPECT_EQ(body["notify_url"], "https://shop.example/api/v1/payments/wechat/notify");
  const std::string out_refund_no = body["out_refund_no"].get<std::string>();

  // Access went with the refund; the admin page shows it in progress.
  EXPECT_FALSE(reads_paid(tok));
  EXPECT_EQ(order_status(tok, bought.id), "refunded");
  HttpResponse pending = admin.get("/admin/orders");
  EXPECT_NE(pending.body.find(out_refund_no), std::string::npos);
  EXPECT_NE(pending.body.find("处理中"), std::string::npos) << pending.body;

  // WeChat finishes the refund and says so, twice.
  wechat_.finish_refund(out_refund_no);
  commerce::RawNotification done = wechat_.refund_notification(out_refund_no);
  EXPECT_EQ(notify("wechat", done).status, 200);
  EXPECT_EQ(notify("wechat", done).status, 200);

  Result<std::vector<commerce::Refund>> refunds = commerce_->refunds(bought.id);
  ASSERT_TRUE(refunds.ok());
  ASSERT_EQ(refunds->size(), 1u);
  EXPECT_EQ((*refunds)[0].state, commerce::RefundState::kSucceeded);
  EXPECT_EQ((*refunds)[0].amount, Fen(kPrice));
  HttpResponse settled = admin.get("/admin/orders");
  EXPECT_NE(settled.body.find("已退款"), std::string::npos);
  EXPECT_FALSE(reads_paid(tok));
  EXPECT_EQ(balance(reader_), 0) << "the money went back through WeChat, not to the wallet";
  expect_ledger_ok();
}

// Alipay refunds at once: the answer settles it, and the notification that
// follows is a duplicate.
TEST_F(GatewayWebTest, AnAlipayRefundThroughTheAdminPageIsSettledOnceByAnswerAndNotification) {
  const std::string tok = token("reader@example.cn");
  Started bought = start_order(tok, "alipay");
  alipay_.pay_redirect(bought.pay["redirect_url"].get<std::string>());
  ASSERT_EQ(notify("alipay", alipay_.payment_notification(bought.out_trade_no)).body, "success");
  ASSERT_TRUE(reads_paid(tok));

  Browser admin(port_);
  ASSERT_EQ(admin.login("admin@example.cn").status, 303);
  EXPECT_EQ(admin.post("/admin/orders/" + std::to_string(bought.id) + "/refund",
                       {{"to", "provider"}})
                .status,
            303);
  auto calls = alipay_.calls_of("alipay.trade.refund");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].signature_ok);
  Result<std::vector<commerce::Refund>> refunds = commerce_->refunds(bought.id);
  ASSERT_TRUE(refunds.ok());
  ASSERT_EQ(refunds->size(), 1u);
  EXPECT_EQ((*refunds)[0].state, commerce::RefundState::kSucceeded);

  commerce::RawNotification n =
      alipay_.refund_notification(bought.out_trade_no, (*refunds)[0].out_refund_no);
  EXPECT_EQ(notify("alipay", n).body, "success");
  EXPECT_EQ(notify("alipay", n).body, "success");
  EXPECT_FALSE(reads_paid(tok));
  EXPECT_EQ(balance(reader_), 0);
  expect_ledger_ok();
}

TEST_F(GatewayWebTest, APaymentAfterExpiryGoesToTheWalletAndTheOrderPageSaysSo) {
  const std::string tok = token("reader@example.cn");
  Started late = start_order(tok, "wechat");
  ASSERT_NE(late.id, 0);
  Result<commerce::Order> o = commerce_->order(reader_, late.id);
  ASSERT_TRUE(o.ok());
  clock_.set(o->expires_at + 10);
  wechat_.mark_paid(late.out_trade_no);
  EXPECT_EQ(notify("wechat", wechat_.transaction_notification(late.out_trade_no)).status, 200);
  EXPECT_EQ(order_status(tok, late.id), "expired");
  EXPECT_FALSE(reads_paid(tok));
  EXPECT_EQ(balance(reader_), kPrice);

  Browser browser(port_);
  ASSERT_EQ(browser.login("reader@example.cn").status, 303);
  HttpResponse page = browser.get("/orders/" + std::to_string(late.id));
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("订单已过期，付款 ¥12.00 已转入钱包余额。"), std::string::npos) << page.body;
  json api_order = api("GET", "/api/v1/orders/" + std::to_string(late.id), tok, nullptr, 200);
  EXPECT_EQ(api_order["credited_fen"], kPrice);
  expect_ledger_ok();
}

TEST_F(GatewayWebTest, APaymentWhoseNotificationWasDroppedIsFoundByTheSweepBeforeExpiry) {
  const std::string tok = token("reader@example.cn");
  Started ali = start_order(tok, "alipay");
  // A second order for the document (issue 14 reuses an unpaid one while it
  // is payable for longer than the sweep's window).
  clock_.set(clock_.now() + 60);
  Result<commerce::Order> first = commerce_->order(reader_, ali.id);
  ASSERT_TRUE(first.ok());
  clock_.set(first->expires_at - commerce::Options{}.query_before_expiry);
  Started wx = start_order(tok, "wechat");
  ASSERT_NE(wx.id, ali.id);
  ASSERT_NE(ali.id, 0);
  alipay_.pay_redirect(ali.pay["redirect_url"].get<std::string>());
  // The WeChat order is for something else in real life; here the reader
  // paid both, and the second is then credited to the wallet.
  wechat_.mark_paid(wx.out_trade_no);
  // No notification arrives. A minute before expiry the sweep asks.
  Result<commerce::Order> o = commerce_->order(reader_, ali.id);
  ASSERT_TRUE(o.ok());
  clock_.set(o->expires_at - 60);
  Result<commerce::SweepReport> r = commerce_->sweep();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->applied, 1);
  // And a minute before the second order's expiry, about that one.
  Result<commerce::Order> w = commerce_->order(reader_, wx.id);
  ASSERT_TRUE(w.ok());
  clock_.set(w->expires_at - 60);
  Result<commerce::SweepReport> r2 = commerce_->sweep();
  ASSERT_TRUE(r2.ok()) << r2.status().to_string();
  EXPECT_EQ(r2->applied, 1);
  EXPECT_EQ(order_status(tok, ali.id), "paid");
  EXPECT_EQ(order_status(tok, wx.id), "credited");
  EXPECT_TRUE(reads_paid(tok));
  EXPECT_EQ(alipay_.calls_of("alipay.trade.query").size(), 1u);
  EXPECT_EQ(wechat_.requests_to("/v3/pay/transactions/out-trade-no/" + wx.out_trade_no).size(), 1u);

  // The notification arriving late changes nothing.
  EXPECT_EQ(notify("alipay", alipay_.payment_notification(ali.out_trade_no)).body, "success");
  EXPECT_EQ(balance(reader_), kPrice);
  expect_ledger_ok();
}

TEST_F(GatewayWebTest, AnExpiredOrderIsClosedAtTheGatewaySoItsCodeCanNoLongerBePaid) {
  const std::string tok = token("reader@example.cn");
  Started wx = start_order(tok, "wechat");
  Started ali = start_order(tok, "alipay");
  alipay_.open_trade(ali.out_trade_no, Fen(kPrice));  // scanned, not paid
  Result<commerce::Order> o = commerce_->order(reader_, wx.id);
  ASSERT_TRUE(o.ok());
  clock_.set(o->expires_at + 1);
  Result<commerce::SweepReport> r = commerce_->sweep();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->closed, 2);
  EXPECT_EQ(order_status(tok, wx.id), "expired");
  EXPECT_EQ(order_status(tok, ali.id), "expired");
  ASSERT_TRUE(wechat_.trade(wx.out_trade_no).has_value());
  EXPECT_EQ(wechat_.trade(wx.out_trade_no)->trade_state, "CLOSED");
  ASSERT_TRUE(alipay_.trade(ali.out_trade_no).has_value());
  EXPECT_EQ(alipay_.trade(ali.out_trade_no)->status, "TRADE_CLOSED");
  // Closed once: the next run leaves them alone.
  Result<commerce::SweepReport> again = commerce_->sweep();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->closed, 0);
  EXPECT_EQ(wechat_.requests_to("/v3/pay/transactions/out-trade-no/" + wx.out_trade_no + "/close")
                .size(),
            1u);
  expect_ledger_ok();
}

}  // namespace
}  // namespace paidoc::web
