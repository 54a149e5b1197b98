// Buying at the web edge, over HTTP against a real Server with the sandbox
// payment provider: top-up through the sandbox, wallet purchases, VIP plans,
// provider notifications (exactly once, forged ones refused), refunds, and
// — the point of it all — that paid text reaches a reader only after paying,
// and only that reader.
#include "commerce/commerce.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "auth/auth.h"
#include "commerce/provider.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/test_store.h"
#include "web/server.h"
#include "web/util.h"

namespace paidoc::web {
namespace {

using nlohmann::json;
using testing::bearer;
using testing::Browser;
using testing::HttpClient;
using testing::HttpResponse;

// Written for these tests; the paid sentence must reach only viewers with
// access.
constexpr std::string_view kGardenPlan =
    "社区花园认养办法\n"
    "为美化社区环境，居委会推出花园认养活动。\n"
    "一、认养方式\n"
    "##paidbegin##\n"
    "（一）认养流程\n"
    "园丁把备用钥匙藏在第九个陶土花盆的底座下。\n"
    "##paidend##\n"
    "欢迎居民报名。\n";
constexpr const char* kGardenPaid = "第九个陶土花盆";

constexpr const char* kSandboxSecret = "sandbox-secret-for-web-tests";

// A stand-in for a provider whose gateway we do not call in tests: start()
// answers what it is told to; notifications are never valid.
class ScriptedProvider : public commerce::PaymentProvider {
 public:
  ScriptedProvider(std::string name, commerce::PaymentStart start)
      : name_(std::move(name)), start_(std::move(start)) {}
  std::string name() const override { return name_; }
  Result<commerce::PaymentStart> start(const commerce::PaymentOrder&) override { return start_; }
  Result<commerce::Notification> verify(const commerce::RawNotification&) const override {
    return Status::forbidden("scripted provider: never valid");
  }
  std::string success_body() const override { return "success"; }
  std::string failure_body() const override { return "failure"; }

 private:
  std::string name_;
  commerce::PaymentStart start_;
};

// The value of hidden field `name` in a page.
std::string hidden_field(const std::string& html, const std::string& name) {
  std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
  std::smatch m;
  return std::regex_search(html, m, re) ? m[1].str() : std::string();
}

// N of a "/orders/N" location.
int64_t order_id_in(const std::string& location) {
  static const std::regex re(R"(^/orders/(\d+)$)");
  std::smatch m;
  return std::regex_match(location, m, re) ? std::stoll(m[1].str()) : 0;
}

struct Payments {
  bool sandbox = true;
  // code_url for the scripted "wechat" provider; empty: it answers only an
  // api_request_body, as when no gateway is reachable.
  std::string wechat_code_url = "weixin://wxpay/bizpayurl?pr=TestCode1";
};

class CommerceWebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-commerce-web", clock_, t_));
    library::ImportOptions io;
    io.price = Fen(800);
    io.category = "社区活动";
    library::ImportLine line = library_->import_bytes(kGardenPlan, "garden.txt", io);
    ASSERT_TRUE(line.ok) << line.error;
    doc_id_ = line.id;
    reader_ = add_user("reader@example.cn", gate::Role::kReader);
    other_ = add_user("other@example.cn", gate::Role::kReader);
    admin_ = add_user("admin@example.cn", gate::Role::kAdmin);
    start({});
  }

  void TearDown() override {
    stop();
    commerce_.reset();
    testing::close_test_store(t_);
  }

  void start(Payments setup) {
    sandbox_ = commerce::SandboxConfig{kSandboxSecret, ""};
    std::map<std::string, std::unique_ptr<commerce::PaymentProvider>> providers;
    if (setup.sandbox) providers["sandbox"] = commerce::make_sandbox(sandbox_, clock_);
    commerce::PaymentStart wechat;
    if (setup.wechat_code_url.empty())
      wechat.api_request_body = R"({"appid":"wx-test"})";
    else
      wechat.code_url = setup.wechat_code_url;
    providers["wechat"] = std::make_unique<ScriptedProvider>("wechat", wechat);
    commerce::PaymentStart alipay;
    alipay.redirect_url = "https://openapi.alipay.com/gateway.do?method=alipay.trade.page.pay";
    providers["alipay"] = std::make_unique<ScriptedProvider>("alipay", alipay);
    commerce_ = std::make_unique<commerce::Commerce>(*store_, *store_, clock_, commerce::Options{},
                                                     std::move(providers));
    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.site_name = "测试文库";
    if (setup.sandbox) opts.sandbox = sandbox_;
    opts.clock = &clock_;
    server_ = std::make_unique<Server>(*store_, *library_, *accounts_, *commerce_, opts);
    Status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    port_ = server_->port();
    thread_ = std::thread([this] { server_->run(); });
  }
  void stop() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    commerce_.reset();
  }
  void restart(Payments setup) {
    stop();
    start(std::move(setup));
  }

  int64_t add_user(const std::string& email, gate::Role role) {
    Result<auth::Account> a = accounts_->add_user(email, testing::kTestPassword, role);
    EXPECT_TRUE(a.ok()) << a.status().to_string();
    return a.ok() ? a->id : 0;
  }

  // A browser signed in through the form.
  Browser signed_in(const std::string& email) {
    Browser b(port_);
    HttpResponse r = b.login(email);
    EXPECT_EQ(r.status, 303) << r.body;
    return b;
  }

  std::string api_token(const std::string& email) {
    HttpResponse r = Browser(port_).post_json(
        "/api/v1/auth/login", {{"email", email}, {"password", testing::kTestPassword}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body)["token"].get<std::string>() : std::string();
  }
  HttpResponse api(const std::string& method, const std::string& target, const std::string& token,
                   const json& body = nullptr) {
    HttpClient c(port_);
    std::vector<std::string> headers = {bearer(token)};
    if (body.is_null()) return c.request(method, target, headers);
    headers.push_back("Content-Type: application/json");
    return c.request(method, target, headers, body.dump());
  }
  json me_json(const std::string& token) {
    HttpResponse r = api("GET", "/api/v1/me", token);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body) : json();
  }

  HttpResponse notify(const std::string& provider, const commerce::RawNotification& n) {
    std::vector<std::string> headers = {"Content-Type: application/json"};
    for (const auto& [k, v] : n.headers) headers.push_back(k + ": " + v);
    return HttpClient(port_).request("POST", "/api/v1/payments/" + provider + "/notify", headers,
                                     n.body);
  }

  int64_t balance(int64_t user) {
    Result<Fen> b = commerce_->balance(user);
    EXPECT_TRUE(b.ok()) << b.status().to_string();
    return b.ok() ? b->value() : -1;
  }
  void credit(int64_t user, int64_t fen) {
    Status s = commerce_->credit(user, Fen(fen), "test credit", "test");
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

  std::string doc_url() const { return "/d/" + std::to_string(doc_id_); }
  std::string api_doc_url() const { return "/api/v1/documents/" + std::to_string(doc_id_); }
  std::string csrf_header(const Browser& b) const { return "X-CSRF-Token: " + b.csrf(); }

  // True when the page or API answer for `b` carries the paid text.
  bool page_shows_paid(Browser& b) {
    HttpResponse r = b.get(doc_url());
    EXPECT_EQ(r.status, 200);
    return r.body.find(kGardenPaid) != std::string::npos;
  }
  bool api_shows_paid(Browser& b) {
    HttpResponse r = b.get(api_doc_url());
    EXPECT_EQ(r.status, 200);
    json j = json::parse(r.body);
    bool shows = r.body.find(kGardenPaid) != std::string::npos;
    EXPECT_EQ(j["locked"].get<bool>(), !shows) << r.body;
    return shows;
  }

  // Sandbox notifications carry the real time, so this clock starts there.
  FakeClock clock_{Clock::system().now()};
  commerce::SandboxConfig sandbox_;
  testing::TestStore t_;  // after the clock: Accounts holds it
  std::unique_ptr<store::Store>& store_ = t_.store;
  std::unique_ptr<library::Library>& library_ = t_.library;
  std::unique_ptr<auth::Accounts>& accounts_ = t_.accounts;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t doc_id_ = 0;
  int64_t reader_ = 0;
  int64_t other_ = 0;
  int64_t admin_ = 0;
};

// THE flow: top up through the sandbox, buy with the wallet, read.
TEST_F(CommerceWebTest, TopUpThroughSandboxThenBuyWithWalletUnlocksOnlyThatReader) {
  Browser reader = signed_in("reader@example.cn");
  Browser other = signed_in("other@example.cn");
  Browser anonymous(port_);

  // Locked at first; the card's buy button is an order form.
  HttpResponse page = reader.get(doc_url());
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find(kGardenPaid), std::string::npos);
  EXPECT_NE(page.body.find("action=\"/orders\""), std::string::npos);
  EXPECT_EQ(hidden_field(page.body, "document_id"), std::to_string(doc_id_));
  EXPECT_FALSE(api_shows_paid(reader));

  // Top up ¥10 through the sandbox.
  HttpResponse form = reader.get("/wallet/topup");
  ASSERT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("name=\"topup\""), std::string::npos);
  HttpResponse created = reader.post("/orders", {{"topup", "10"}});
  ASSERT_EQ(created.status, 303) << created.body;
  int64_t topup_id = order_id_in(created.header("location"));
  ASSERT_GT(topup_id, 0) << created.header("location");
  std::string topup_url = "/orders/" + std::to_string(topup_id);
  HttpResponse order = reader.get(topup_url);
  ASSERT_EQ(order.status, 200);
  EXPECT_NE(order.body.find("¥10.00"), std::string::npos);
  EXPECT_NE(order.body.find("待支付"), std::string::npos);
  EXPECT_NE(order.body.find("沙箱支付"), std::string::npos);
  EXPECT_EQ(order.body.find("value=\"wallet\""), std::string::npos);  // no top-up from the wallet

  HttpResponse to_sandbox = reader.post(topup_url + "/pay", {{"method", "sandbox"}});
  ASSERT_EQ(to_sandbox.status, 303) << to_sandbox.body;
  std::string sandbox_url = to_sandbox.header("location");
  ASSERT_EQ(sandbox_url.rfind("/sandbox/pay?", 0), 0u) << sandbox_url;
  HttpResponse sandbox_page = reader.get(sandbox_url);
  ASSERT_EQ(sandbox_page.status, 200) << sandbox_page.body;
  EXPECT_NE(sandbox_page.body.find("确认支付"), std::string::npos);
  EXPECT_NE(sandbox_page.body.find("¥10.00"), std::string::npos);
  std::string trade_no = hidden_field(sandbox_page.body, "out_trade_no");
  ASSERT_FALSE(trade_no.empty());
  EXPECT_EQ(hidden_field(sandbox_page.body, "amount_fen"), "1000");
  EXPECT_EQ(balance(reader_), 0);  // nothing before the notification

  HttpResponse paid =
      reader.post("/sandbox/pay", {{"out_trade_no", trade_no}, {"amount_fen", "1000"}});
  ASSERT_EQ(paid.status, 303) << paid.body;
  EXPECT_EQ(paid.header("location"), topup_url);
  EXPECT_NE(reader.get(topup_url).body.find("已支付"), std::string::npos);
  EXPECT_EQ(balance(reader_), 1000);

  // Topping up bought nothing.
  EXPECT_FALSE(page_shows_paid(reader));
  EXPECT_FALSE(api_shows_paid(reader));

  // Buy the document with the wallet.
  HttpResponse doc_order = reader.post("/orders", {{"document_id", std::to_string(doc_id_)}});
  ASSERT_EQ(doc_order.status, 303) << doc_order.body;
  int64_t doc_order_id = order_id_in(doc_order.header("location"));
  ASSERT_GT(doc_order_id, 0);
  std::string doc_order_url = "/orders/" + std::to_string(doc_order_id);
  HttpResponse choose = reader.get(doc_order_url);
  ASSERT_EQ(choose.status, 200);
  EXPECT_NE(choose.body.find("钱包余额支付"), std::string::npos);
  EXPECT_NE(choose.body.find("可用余额 ¥10.00"), std::string::npos);
  EXPECT_NE(choose.body.find("value=\"wallet\""), std::string::npos);
  EXPECT_NE(choose.body.find("支付宝"), std::string::npos);
  EXPECT_NE(choose.body.find("微信支付"), std::string::npos);

  HttpResponse wallet = reader.post(doc_order_url + "/pay", {{"method", "wallet"}});
  ASSERT_EQ(wallet.status, 303) << wallet.body;
  EXPECT_EQ(wallet.header("location"), doc_url() + "?msg=paid");
  EXPECT_EQ(balance(reader_), 200);

  // Now, and only now, the paid text — for this reader only.
  HttpResponse unlocked = reader.get(doc_url() + "?msg=paid");
  EXPECT_NE(unlocked.body.find(kGardenPaid), std::string::npos);
  EXPECT_NE(unlocked.body.find("支付成功"), std::string::npos);
  EXPECT_TRUE(api_shows_paid(reader));
  EXPECT_FALSE(page_shows_paid(other));
  EXPECT_FALSE(api_shows_paid(other));
  EXPECT_FALSE(page_shows_paid(anonymous));
  EXPECT_FALSE(api_shows_paid(anonymous));

  // /me: balance, the purchase, the orders.
  HttpResponse me = reader.get("/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_NE(me.body.find("¥2.00"), std::string::npos);
  EXPECT_NE(me.body.find("href=\"" + doc_url() + "\""), std::string::npos);
  EXPECT_NE(me.body.find("社区花园认养办法"), std::string::npos);
  EXPECT_NE(me.body.find("href=\"" + topup_url + "\""), std::string::npos);
  EXPECT_NE(me.body.find("href=\"/wallet/topup\""), std::string::npos);
  EXPECT_NE(me.body.find("未开通"), std::string::npos);
  json mine = json::parse(reader.get("/api/v1/me").body);
  EXPECT_EQ(mine["balance_fen"], 200);
  EXPECT_EQ(mine["purchases"], 1);
  EXPECT_TRUE(mine["vip_until"].is_null());
}

TEST_F(CommerceWebTest, WalletWithoutBalanceIs402AndChangesNothing) {
  std::string token = api_token("reader@example.cn");
  HttpResponse created = api("POST", "/api/v1/orders", token, {{"document_id", doc_id_}});
  ASSERT_EQ(created.status, 201) << created.body;
  json order = json::parse(created.body);
  EXPECT_EQ(order["amount_fen"], 800);
  EXPECT_EQ(order["status"], "created");
  EXPECT_EQ(order["kind"], "document");
  EXPECT_TRUE(order["paid_at"].is_null());
  for (const char* field : {"id", "out_trade_no", "subject", "created_at", "expires_at"})
    EXPECT_TRUE(order.contains(field)) << field;
  std::string id = std::to_string(order["id"].get<int64_t>());

  HttpResponse pay = api("POST", "/api/v1/orders/" + id + "/pay", token, {{"method", "wallet"}});
  EXPECT_EQ(pay.status, 402) << pay.body;
  EXPECT_EQ(json::parse(pay.body)["error"]["code"], code_name(Code::kPaymentRequired));
  EXPECT_EQ(json::parse(api("GET", "/api/v1/orders/" + id, token).body)["status"], "created");
  EXPECT_EQ(balance(reader_), 0);

  // The page: the wallet is no choice, only its balance and a way to top
  // up after the gateways (issue 14); paying anyway is 402 with the reason.
  Browser reader = signed_in("reader@example.cn");
  HttpResponse page = reader.get("/orders/" + id);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("充值后用余额支付"), std::string::npos);
  EXPECT_EQ(page.body.find("value=\"wallet\""), std::string::npos);
  HttpResponse html_pay = reader.post("/orders/" + id + "/pay", {{"method", "wallet"}});
  EXPECT_EQ(html_pay.status, 402);
  EXPECT_NE(html_pay.body.find("余额不足"), std::string::npos);
  EXPECT_FALSE(page_shows_paid(reader));
  EXPECT_EQ(me_json(token)["purchases"], 0);
}

// One step, one transaction: {document_id, "pay": "wallet"} answers the paid
// order, unlocks the document, and when refused leaves no order behind.
TEST_F(CommerceWebTest, OneStepWalletPurchaseIsPaidAtOnceOrLeavesNothing) {
  std::string token = api_token("reader@example.cn");
  const json buy = {{"document_id", doc_id_}, {"pay", "wallet"}};
  HttpResponse poor = api("POST", "/api/v1/orders", token, buy);
  EXPECT_EQ(poor.status, 402) << poor.body;
  EXPECT_EQ(json::parse(poor.body)["error"]["code"], code_name(Code::kPaymentRequired));
  EXPECT_EQ(json::parse(api("GET", "/api/v1/orders", token).body)["items"].size(), 0u);

  credit(reader_, 1000);
  HttpResponse paid = api("POST", "/api/v1/orders", token, buy);
  ASSERT_EQ(paid.status, 201) << paid.body;
  json order = json::parse(paid.body);
  EXPECT_EQ(order["status"], "paid");
  EXPECT_EQ(order["paid_with"], "wallet");
  EXPECT_EQ(order["amount_fen"], 800);
  EXPECT_EQ(paid.header("location"), "/api/v1/orders/" + std::to_string(order["id"].get<int64_t>()));
  EXPECT_EQ(balance(reader_), 200);
  EXPECT_EQ(me_json(token)["purchases"], 1);
  Browser reader = signed_in("reader@example.cn");
  EXPECT_TRUE(page_shows_paid(reader));

  HttpResponse again = api("POST", "/api/v1/orders", token, buy);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(balance(reader_), 200);
  EXPECT_EQ(json::parse(api("GET", "/api/v1/orders", token).body)["items"].size(), 1u);

  // Only the wallet pays in one step, and only for a document.
  EXPECT_EQ(api("POST", "/api/v1/orders", token, {{"document_id", doc_id_}, {"pay", "alipay"}}).status,
            400);
  EXPECT_EQ(api("POST", "/api/v1/orders", token, {{"topup_fen", 500}, {"pay", "wallet"}}).status,
            400);
  EXPECT_EQ(api("POST", "/api/v1/orders", token, {{"plan", "vip30"}, {"pay", "wallet"}}).status, 400);
}

// The page flow of the one-step purchase: a wallet that covers the price is
// offered first, and one POST buys, pays and unlocks.
TEST_F(CommerceWebTest, PaywallOffersACoveringWalletFirstAndBuysInOneStep) {
  Browser reader = signed_in("reader@example.cn");
  HttpResponse empty = reader.get(doc_url());
  ASSERT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body.find("name=\"pay\" value=\"wallet\""), std::string::npos);
  EXPECT_NE(empty.body.find("支付宝 ¥8.00"), std::string::npos);  // a gateway first (issue 14)

  credit(reader_, 1000);
  HttpResponse offer = reader.get(doc_url());
  ASSERT_EQ(offer.status, 200);
  EXPECT_NE(offer.body.find("name=\"pay\" value=\"wallet\""), std::string::npos);
  EXPECT_NE(offer.body.find("余额支付 ¥8.00"), std::string::npos);
  EXPECT_NE(offer.body.find("钱包余额 ¥10.00"), std::string::npos);
  // The gateways follow the wallet, each paying for the document directly.
  EXPECT_LT(offer.body.find("name=\"pay\" value=\"wallet\""),
            offer.body.find("name=\"pay\" value=\"alipay\""));
  EXPECT_EQ(offer.body.find(kGardenPaid), std::string::npos);

  const std::vector<std::pair<std::string, std::string>> buy = {
      {"document_id", std::to_string(doc_id_)}, {"pay", "wallet"}};
  HttpResponse bought = reader.post("/orders", buy);
  ASSERT_EQ(bought.status, 303) << bought.body;
  EXPECT_EQ(bought.header("location"), doc_url() + "?msg=paid");
  EXPECT_EQ(balance(reader_), 200);
  HttpResponse unlocked = reader.get(bought.header("location"));
  EXPECT_NE(unlocked.body.find(kGardenPaid), std::string::npos);
  EXPECT_NE(unlocked.body.find("支付成功"), std::string::npos);
  std::string token = api_token("reader@example.cn");
  json orders = json::parse(api("GET", "/api/v1/orders", token).body)["items"];
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0]["status"], "paid");
  EXPECT_EQ(orders[0]["paid_with"], "wallet");

  // Again (a second tab): nothing is sold twice.
  HttpResponse again = reader.post("/orders", buy);
  ASSERT_EQ(again.status, 303);
  EXPECT_EQ(again.header("location"), doc_url() + "?msg=already_readable");
  EXPECT_EQ(balance(reader_), 200);

  // A wallet spent elsewhere since the page was shown: an unpaid order to
  // pay another way, and no money moves.
  credit(other_, 500);
  Browser other = signed_in("other@example.cn");
  HttpResponse short_of = other.post("/orders", buy);
  ASSERT_EQ(short_of.status, 303) << short_of.body;
  int64_t unpaid = order_id_in(short_of.header("location"));
  ASSERT_GT(unpaid, 0) << short_of.header("location");
  EXPECT_NE(other.get(short_of.header("location")).body.find("待支付"), std::string::npos);
  EXPECT_EQ(balance(other_), 500);
  EXPECT_FALSE(page_shows_paid(other));
}

TEST_F(CommerceWebTest, BuyingAnAlreadyBoughtDocumentIs409) {
  credit(reader_, 5000);
  std::string token = api_token("reader@example.cn");
  HttpResponse created = api("POST", "/api/v1/orders", token, {{"document_id", doc_id_}});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = std::to_string(json::parse(created.body)["id"].get<int64_t>());
  HttpResponse pay = api("POST", "/api/v1/orders/" + id + "/pay", token, {{"method", "wallet"}});
  ASSERT_EQ(pay.status, 200) << pay.body;
  EXPECT_EQ(json::parse(pay.body)["status"], "paid");
  EXPECT_EQ(json::parse(pay.body)["paid_with"], "wallet");

  HttpResponse again = api("POST", "/api/v1/orders", token, {{"document_id", doc_id_}});
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(json::parse(again.body)["error"]["code"], code_name(Code::kConflict));
  HttpResponse repay = api("POST", "/api/v1/orders/" + id + "/pay", token, {{"method", "wallet"}});
  EXPECT_EQ(repay.status, 409) << repay.body;
  EXPECT_EQ(balance(reader_), 4200);

  // The page: no card, and a second buy lands on the document with a notice.
  Browser reader = signed_in("reader@example.cn");
  HttpResponse page = reader.get(doc_url());
  EXPECT_NE(page.body.find(kGardenPaid), std::string::npos);
  EXPECT_EQ(page.body.find("action=\"/orders\""), std::string::npos);
  HttpResponse buy = reader.post("/orders", {{"document_id", std::to_string(doc_id_)}});
  ASSERT_EQ(buy.status, 303);
  EXPECT_EQ(buy.header("location"), doc_url() + "?msg=already_readable");
  EXPECT_NE(reader.get(buy.header("location")).body.find("您已可阅读该文档"), std::string::npos);
}

TEST_F(CommerceWebTest, NotificationDeliveredFiveTimesCreditsOnceAndForgedOnesChangeNothing) {
  std::string token = api_token("reader@example.cn");
  HttpResponse created = api("POST", "/api/v1/orders", token, {{"topup_fen", 2000}});
  ASSERT_EQ(created.status, 201) << created.body;
  json order = json::parse(created.body);
  EXPECT_EQ(order["kind"], "topup");
  std::string trade_no = order["out_trade_no"];
  std::string id = std::to_string(order["id"].get<int64_t>());

  // The API start of a sandbox payment names its page.
  HttpResponse start = api("POST", "/api/v1/orders/" + id + "/pay", token, {{"method", "sandbox"}});
  ASSERT_EQ(start.status, 200) << start.body;
  EXPECT_EQ(json::parse(start.body)["status"], "created");
  EXPECT_EQ(json::parse(start.body)["redirect_url"].get<std::string>().rfind("/sandbox/pay?", 0),
            0u);

  // Forged: signed with another secret. Refused; nothing changes.
  commerce::SandboxConfig wrong{"not-the-secret", ""};
  HttpResponse forged =
      notify("sandbox", commerce::sandbox_notification(wrong, trade_no, Fen(2000), "SBXforged1"));
  EXPECT_EQ(forged.status, 400) << forged.body;
  EXPECT_EQ(forged.body, "failure");
  EXPECT_EQ(balance(reader_), 0);
  // Unsigned, and a tampered body under a valid signature: refused too.
  commerce::RawNotification tampered =
      commerce::sandbox_notification(sandbox_, trade_no, Fen(2000), "SBXtampered");
  size_t at = tampered.body.find("2000");
  ASSERT_NE(at, std::string::npos);
  tampered.body.replace(at, 4, "9000");
  EXPECT_EQ(notify("sandbox", tampered).status, 400);
  commerce::RawNotification unsigned_one = tampered;
  unsigned_one.headers.clear();
  EXPECT_EQ(notify("sandbox", unsigned_one).status, 400);
  EXPECT_EQ(balance(reader_), 0);
  EXPECT_EQ(json::parse(api("GET", "/api/v1/orders/" + id, token).body)["status"], "created");

  // Valid, delivered five times: credited once.
  commerce::RawNotification valid =
      commerce::sandbox_notification(sandbox_, trade_no, Fen(2000), "SBXonce0001");
  for (int i = 0; i < 5; ++i) {
    HttpResponse r = notify("sandbox", valid);
    EXPECT_EQ(r.status, 200) << i << " " << r.body;
    EXPECT_EQ(r.body, "success");
    EXPECT_EQ(r.header("content-type").rfind("text/plain", 0), 0u);
  }
  EXPECT_EQ(balance(reader_), 2000);
  EXPECT_EQ(me_json(token)["balance_fen"], 2000);
  json after = json::parse(api("GET", "/api/v1/orders/" + id, token).body);
  EXPECT_EQ(after["status"], "paid");
  EXPECT_EQ(after["paid_with"], "sandbox");

  // An unknown provider is not found; a scripted one refuses everything.
  EXPECT_EQ(notify("paypal", valid).status, 404);
  HttpResponse wechat = notify("wechat", valid);
  EXPECT_EQ(wechat.status, 400);
  EXPECT_EQ(wechat.header("content-type").rfind("application/json", 0), 0u);
  EXPECT_EQ(balance(reader_), 2000);
}

TEST_F(CommerceWebTest, PlanPurchaseShowsInMeAndOpensEveryDocument) {
  credit(reader_, 5000);
  std::string token = api_token("reader@example.cn");
  json before = me_json(token);
  EXPECT_EQ(before["balance_fen"], 5000);
  EXPECT_TRUE(before["vip_until"].is_null());
  EXPECT_EQ(before["vip"], false);

  HttpResponse created = api("POST", "/api/v1/orders", token, {{"plan", "vip30"}});
  ASSERT_EQ(created.status, 201) << created.body;
  json order = json::parse(created.body);
  EXPECT_EQ(order["amount_fen"], 3000);
  EXPECT_EQ(order["plan"], "vip30");
  HttpResponse pay =
      api("POST", "/api/v1/orders/" + std::to_string(order["id"].get<int64_t>()) + "/pay", token,
          {{"method", "wallet"}});
  ASSERT_EQ(pay.status, 200) << pay.body;
  EXPECT_EQ(json::parse(pay.body)["status"], "paid");

  json after = me_json(token);
  EXPECT_EQ(after["balance_fen"], 2000);
  ASSERT_TRUE(after["vip_until"].is_string()) << after.dump();
  EXPECT_EQ(after["vip_until"], rfc3339_utc(clock_.now() + 30 * 86400));
  EXPECT_EQ(after["vip"], true);
  EXPECT_EQ(after["purchases"], 0);

  Browser reader = signed_in("reader@example.cn");
  EXPECT_TRUE(page_shows_paid(reader));
  EXPECT_TRUE(api_shows_paid(reader));
  HttpResponse me = reader.get("/me");
  EXPECT_NE(me.body.find("VIP 会员，有效期至 " + display_date(clock_.now() + 30 * 86400)),
            std::string::npos);
  HttpResponse vip = reader.get("/vip");
  EXPECT_NE(vip.body.find("您已是 VIP 会员"), std::string::npos);

  // When it runs out, the document locks again (sessions ran out too: sign
  // in afresh).
  clock_.advance(31 * 86400);
  Browser later = signed_in("reader@example.cn");
  EXPECT_FALSE(page_shows_paid(later));
  json expired = me_json(api_token("reader@example.cn"));
  EXPECT_EQ(expired["vip"], false);
  EXPECT_TRUE(expired["vip_until"].is_string());
}

TEST_F(CommerceWebTest, VipPageListsPlansWithForms) {
  HttpResponse anonymous = Browser(port_).get("/vip");
  ASSERT_EQ(anonymous.status, 200);
  for (const char* text :
       {"VIP 月卡", "VIP 年卡", "¥30.00", "¥198.00", "30 天", "365 天", "每日可下载 20 篇"})
    EXPECT_NE(anonymous.body.find(text), std::string::npos) << text;
  EXPECT_NE(anonymous.body.find("/login?next=" + percent_encode("/vip")), std::string::npos);
  EXPECT_EQ(anonymous.body.find("name=\"plan\""), std::string::npos);

  Browser reader = signed_in("reader@example.cn");
  HttpResponse page = reader.get("/vip");
  EXPECT_NE(page.body.find("name=\"plan\" value=\"vip30\""), std::string::npos);
  HttpResponse buy = reader.post("/orders", {{"plan", "vip365"}});
  ASSERT_EQ(buy.status, 303);
  HttpResponse order = reader.get(buy.header("location"));
  EXPECT_NE(order.body.find("VIP 年卡"), std::string::npos);
  EXPECT_NE(order.body.find("¥198.00"), std::string::npos);
  EXPECT_EQ(reader.post("/orders", {{"plan", "no-such-plan"}}).status, 404);
}

TEST_F(CommerceWebTest, AdminRefundRevokesAccessAndReadersMayNotRefund) {
  credit(reader_, 1000);
  Browser reader = signed_in("reader@example.cn");
  HttpResponse created = reader.post("/orders", {{"document_id", std::to_string(doc_id_)}});
  ASSERT_EQ(created.status, 303);
  int64_t id = order_id_in(created.header("location"));
  ASSERT_EQ(reader.post("/orders/" + std::to_string(id) + "/pay", {{"method", "wallet"}}).status,
            303);
  ASSERT_TRUE(page_shows_paid(reader));
  std::string refund_url = "/admin/orders/" + std::to_string(id) + "/refund";

  HttpResponse forbidden = reader.post(refund_url, {{"to", "wallet"}});
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(reader.get("/admin/orders").status, 403);
  EXPECT_TRUE(page_shows_paid(reader));
  EXPECT_EQ(balance(reader_), 200);

  Browser admin = signed_in("admin@example.cn");
  HttpResponse list = admin.get("/admin/orders");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find("action=\"" + refund_url + "\""), std::string::npos);
  EXPECT_NE(list.body.find("社区花园认养办法"), std::string::npos);
  HttpResponse refunded = admin.post(refund_url, {{"to", "wallet"}});
  ASSERT_EQ(refunded.status, 303) << refunded.body;
  EXPECT_EQ(refunded.header("location"), "/admin/orders?msg=refunded");

  EXPECT_FALSE(page_shows_paid(reader));
  EXPECT_FALSE(api_shows_paid(reader));
  EXPECT_EQ(balance(reader_), 1000);
  EXPECT_NE(reader.get("/orders/" + std::to_string(id)).body.find("已退款"), std::string::npos);
  // Refunding twice is a conflict.
  EXPECT_EQ(admin.post(refund_url, {{"to", "wallet"}}).status, 409);
  // The audit log names the admin who refunded, once (the refused second
  // attempt and the reader's leave nothing).
  store::AuditQuery q;
  q.action = "order.refund";
  auto audit = store_->list(q);
  ASSERT_TRUE(audit.ok()) << audit.status().to_string();
  ASSERT_EQ(audit->total, 1);
  EXPECT_EQ(audit->items[0].actor, "admin@example.cn");
  EXPECT_NE(audit->items[0].actor_user_id, 0);
  EXPECT_EQ(audit->items[0].target_id, id);
  EXPECT_EQ(audit->items[0].ip, "127.0.0.1");
}

TEST_F(CommerceWebTest, OrdersApiChecksItsInputAndOwnership) {
  std::string token = api_token("reader@example.cn");
  std::string other = api_token("other@example.cn");
  EXPECT_EQ(api("POST", "/api/v1/orders", token, json::object()).status, 400);
  EXPECT_EQ(
      api("POST", "/api/v1/orders", token, {{"document_id", doc_id_}, {"plan", "vip30"}}).status,
      400);
  EXPECT_EQ(api("POST", "/api/v1/orders", token, {{"document_id", -3}}).status, 400);
  EXPECT_EQ(api("POST", "/api/v1/orders", token, {{"topup_fen", "100"}}).status, 400);
  EXPECT_EQ(api("POST", "/api/v1/orders", token, {{"document_id", 999999}}).status, 404);
  EXPECT_EQ(api("POST", "/api/v1/orders", token, {{"topup_fen", 100000000}}).status, 400);

  HttpResponse created = api("POST", "/api/v1/orders", token, {{"topup_fen", 500}});
  ASSERT_EQ(created.status, 201);
  int64_t id = json::parse(created.body)["id"];
  std::string url = "/api/v1/orders/" + std::to_string(id);
  EXPECT_EQ(created.header("location"), url);
  EXPECT_EQ(api("GET", url, other).status, 404);
  EXPECT_EQ(api("POST", url + "/pay", other, {{"method", "sandbox"}}).status, 404);
  EXPECT_EQ(api("POST", url + "/pay", token, {{"method", "bitcoin"}}).status, 400);
  EXPECT_EQ(api("POST", url + "/pay", token, {{"method", "wallet"}}).status, 400);  // top-up
  json mine = json::parse(api("GET", "/api/v1/orders", token).body);
  ASSERT_EQ(mine["items"].size(), 1u);
  EXPECT_EQ(mine["items"][0]["id"], id);
  EXPECT_EQ(json::parse(api("GET", "/api/v1/orders", other).body)["items"].size(), 0u);

  // Anonymous: 401. Cookie calls need the CSRF header (or our Origin).
  EXPECT_EQ(HttpClient(port_)
                .request("POST", "/api/v1/orders", {"Content-Type: application/json"},
                         R"({"topup_fen":500})")
                .status,
            401);
  Browser reader = signed_in("reader@example.cn");
  EXPECT_EQ(reader.post_json("/api/v1/orders", {{"topup_fen", 500}}).status, 403);
  EXPECT_EQ(reader.post_json("/api/v1/orders", {{"topup_fen", 500}}, {csrf_header(reader)}).status,
            201);

  // Pages: anonymous buyers register or sign in first, coming back to the
  // card; another reader's order is not found.
  Browser anonymous(port_);
  HttpResponse card = anonymous.get(doc_url());
  EXPECT_NE(card.body.find("/login?next=" + percent_encode(doc_url() + "#buy")), std::string::npos);
  EXPECT_EQ(card.body.find("action=\"/orders\""), std::string::npos);
  EXPECT_EQ(anonymous.get("/orders/" + std::to_string(id)).status, 303);
  Browser stranger = signed_in("other@example.cn");
  EXPECT_EQ(stranger.get("/orders/" + std::to_string(id)).status, 404);
  EXPECT_EQ(stranger.post("/orders/" + std::to_string(id) + "/pay", {{"method", "sandbox"}}).status,
            404);
  // Forms without the CSRF field are refused.
  EXPECT_EQ(reader.post("/orders", {{"topup", "5"}}, false).status, 403);
}

TEST_F(CommerceWebTest, TopUpFormValidatesTheAmount) {
  Browser reader = signed_in("reader@example.cn");
  for (const char* bad : {"", "abc", "-5", "0", "1.234", "100000"}) {
    HttpResponse r = reader.post("/orders", {{"topup", bad}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("form-error"), std::string::npos) << bad;
  }
  HttpResponse ok = reader.post("/orders", {{"topup", "12.5"}});
  ASSERT_EQ(ok.status, 303);
  EXPECT_NE(reader.get(ok.header("location")).body.find("¥12.50"), std::string::npos);
}

TEST_F(CommerceWebTest, ProviderPaymentsRedirectOrShowAQrCode) {
  Browser reader = signed_in("reader@example.cn");
  HttpResponse created = reader.post("/orders", {{"document_id", std::to_string(doc_id_)}});
  std::string order_url = created.header("location");
  ASSERT_GT(order_id_in(order_url), 0);

  HttpResponse alipay = reader.post(order_url + "/pay", {{"method", "alipay"}});
  ASSERT_EQ(alipay.status, 303);
  EXPECT_EQ(alipay.header("location").rfind("https://openapi.alipay.com/gateway.do?", 0), 0u);

  HttpResponse wechat = reader.post(order_url + "/pay", {{"method", "wechat"}});
  ASSERT_EQ(wechat.status, 303);
  EXPECT_EQ(wechat.header("location"), order_url + "/wechat");
  HttpResponse qr = reader.get(order_url + "/wechat");
  ASSERT_EQ(qr.status, 200) << qr.body;
  EXPECT_NE(qr.body.find("src=\"data:image/svg+xml,"), std::string::npos);
  EXPECT_NE(qr.body.find("%3Crect"), std::string::npos);  // modules drawn as rects
  EXPECT_NE(qr.body.find("支付完成后刷新本页"), std::string::npos);
  EXPECT_NE(qr.body.find("http-equiv=\"refresh\""), std::string::npos);
  EXPECT_EQ(qr.body.find("weixin://"), std::string::npos);  // the code, not the URL
  EXPECT_FALSE(page_shows_paid(reader));

  // Once paid, the QR page goes on to the document.
  credit(reader_, 800);
  ASSERT_EQ(reader.post(order_url + "/pay", {{"method", "wallet"}}).status, 303);
  HttpResponse done = reader.get(order_url + "/wechat");
  EXPECT_EQ(done.status, 303);
  EXPECT_EQ(done.header("location"), doc_url() + "?msg=paid");

  // The API answers code_url / redirect_url beside the order.
  restart({});
  std::string token = api_token("other@example.cn");
  HttpResponse o = api("POST", "/api/v1/orders", token, {{"document_id", doc_id_}});
  std::string pay_url =
      "/api/v1/orders/" + std::to_string(json::parse(o.body)["id"].get<int64_t>()) + "/pay";
  json w = json::parse(api("POST", pay_url, token, {{"method", "wechat"}}).body);
  EXPECT_EQ(w["code_url"], "weixin://wxpay/bizpayurl?pr=TestCode1");
  EXPECT_EQ(w["status"], "created");
  json a = json::parse(api("POST", pay_url, token, {{"method", "alipay"}}).body);
  EXPECT_EQ(a["redirect_url"].get<std::string>().rfind("https://openapi.alipay.com/", 0), 0u);
}

TEST_F(CommerceWebTest, WechatWithoutAGatewayIsAClearError) {
  restart({.sandbox = true, .wechat_code_url = ""});
  Browser reader = signed_in("reader@example.cn");
  HttpResponse created = reader.post("/orders", {{"document_id", std::to_string(doc_id_)}});
  std::string order_url = created.header("location");
  HttpResponse qr = reader.get(order_url + "/wechat");
  EXPECT_EQ(qr.status, 503);
  EXPECT_NE(qr.body.find("暂时无法连接微信支付"), std::string::npos);
  EXPECT_EQ(qr.body.find("data:image/svg+xml"), std::string::npos);
  std::string token = api_token("reader@example.cn");
  std::string id = order_url.substr(std::string("/orders/").size());
  EXPECT_EQ(api("POST", "/api/v1/orders/" + id + "/pay", token, {{"method", "wechat"}}).status,
            503);
}

TEST_F(CommerceWebTest, SandboxPagesAre404WithoutTheSandbox) {
  restart({.sandbox = false});
  Browser reader = signed_in("reader@example.cn");
  EXPECT_EQ(reader.get("/sandbox/pay?out_trade_no=A1&amount_fen=100&subject=x").status, 404);
  EXPECT_EQ(reader.post("/sandbox/pay", {{"out_trade_no", "A1"}, {"amount_fen", "100"}}).status,
            404);
  HttpResponse created = reader.post("/orders", {{"topup", "5"}});
  HttpResponse order = reader.get(created.header("location"));
  EXPECT_EQ(order.body.find("沙箱支付"), std::string::npos);
  EXPECT_NE(order.body.find("支付宝"), std::string::npos);
}

TEST_F(CommerceWebTest, SandboxRefusesATamperedAmount) {
  Browser reader = signed_in("reader@example.cn");
  HttpResponse created = reader.post("/orders", {{"topup", "20"}});
  std::string order_url = created.header("location");
  HttpResponse start = reader.post(order_url + "/pay", {{"method", "sandbox"}});
  HttpResponse page = reader.get(start.header("location"));
  std::string trade_no = hidden_field(page.body, "out_trade_no");
  HttpResponse cheap =
      reader.post("/sandbox/pay", {{"out_trade_no", trade_no}, {"amount_fen", "1"}});
  EXPECT_EQ(cheap.status, 400);
  EXPECT_EQ(balance(reader_), 0);
  EXPECT_NE(reader.get(order_url).body.find("待支付"), std::string::npos);
  EXPECT_EQ(reader.get("/sandbox/pay?out_trade_no=bad%20no&amount_fen=1&subject=x").status, 400);
  // The page shows the stored order's subject, never the query's text.
  HttpResponse spoof = reader.get("/sandbox/pay?out_trade_no=" + trade_no +
                                  "&amount_fen=2000&subject=" + percent_encode("请转账到某账户"));
  EXPECT_EQ(spoof.status, 200);
  EXPECT_EQ(spoof.body.find("请转账到某账户"), std::string::npos);
  EXPECT_NE(spoof.body.find("钱包充值"), std::string::npos);
  // The sandbox form needs its CSRF field like every form.
  EXPECT_EQ(reader.post("/sandbox/pay", {{"out_trade_no", trade_no}, {"amount_fen", "2000"}}, false)
                .status,
            403);
  EXPECT_EQ(balance(reader_), 0);
}

// --- issue 14: the reader's way from the paywall to the paid text -------------------------

// The "/sandbox/pay?…" a POST answered, confirmed on the sandbox page: the
// answer of POST /sandbox/pay.
HttpResponse confirm_sandbox(Browser& b, const HttpResponse& to_sandbox) {
  EXPECT_EQ(to_sandbox.status, 303) << to_sandbox.body;
  std::string url = to_sandbox.header("location");
  EXPECT_EQ(url.rfind("/sandbox/pay?", 0), 0u) << url;
  HttpResponse page = b.get(url);
  EXPECT_EQ(page.status, 200) << page.body;
  return b.post("/sandbox/pay", {{"out_trade_no", hidden_field(page.body, "out_trade_no")},
                                 {"amount_fen", hidden_field(page.body, "amount_fen")}});
}

// How many of the user's orders have this kind and status.
int64_t orders_with(commerce::Commerce& shop, int64_t user, commerce::OrderKind kind,
                    commerce::OrderStatus status) {
  Result<std::vector<commerce::Order>> mine = shop.orders(user);
  EXPECT_TRUE(mine.ok());
  if (!mine.ok()) return -1;
  return std::count_if(mine->begin(), mine->end(), [&](const commerce::Order& o) {
    return o.kind == kind && o.status == status;
  });
}

// An anonymous reader's buy button leads to registration (or sign-in) and
// back to this document's buy buttons; `next` survives both forms, and a
// foreign `next` is never followed.
TEST_F(CommerceWebTest, Issue14AnonymousBuyKeepsNextThroughRegisterAndLogin) {
  Browser anonymous(port_);
  HttpResponse page = anonymous.get(doc_url());
  ASSERT_EQ(page.status, 200);
  std::string next = percent_encode(doc_url() + "#buy");
  EXPECT_NE(page.body.find("href=\"/register?next=" + next + "\""), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("href=\"/login?next=" + next + "\""), std::string::npos);
  // The card names the ways to pay that are on.
  EXPECT_NE(page.body.find("支持 支付宝 · 微信支付 · 沙箱支付 · 钱包余额"), std::string::npos);
  // The buy bar and the card carry the price, never paid text.
  EXPECT_NE(page.body.find("class=\"buy-bar\""), std::string::npos);
  EXPECT_EQ(page.body.find(kGardenPaid), std::string::npos);

  HttpResponse reg_form = anonymous.get("/register?next=" + next);
  ASSERT_EQ(reg_form.status, 200);
  EXPECT_EQ(hidden_field(reg_form.body, "next"), doc_url() + "#buy");
  EXPECT_NE(reg_form.body.find("href=\"/login?next=" + next + "\""), std::string::npos);
  HttpResponse reg = anonymous.post("/register", {{"email", "newcomer@example.cn"},
                                                  {"password", testing::kTestPassword},
                                                  {"password2", testing::kTestPassword},
                                                  {"next", doc_url() + "#buy"}});
  ASSERT_EQ(reg.status, 303) << reg.body;
  EXPECT_EQ(reg.header("location"), doc_url() + "#buy");
  // Back on the document, signed in: the buy buttons, each paying for it.
  HttpResponse ready = anonymous.get(doc_url());
  ASSERT_EQ(ready.status, 200);
  EXPECT_NE(ready.body.find("id=\"buy\""), std::string::npos);
  EXPECT_NE(ready.body.find("name=\"pay\" value=\"sandbox\""), std::string::npos);
  EXPECT_EQ(hidden_field(ready.body, "document_id"), std::to_string(doc_id_));

  // Sign-in keeps it the same way.
  Browser returning(port_);
  HttpResponse login_form = returning.get("/login?next=" + next);
  EXPECT_EQ(hidden_field(login_form.body, "next"), doc_url() + "#buy");
  HttpResponse in = returning.login("reader@example.cn", testing::kTestPassword, doc_url() + "#buy");
  ASSERT_EQ(in.status, 303);
  EXPECT_EQ(in.header("location"), doc_url() + "#buy");
  // Open-redirect safety: another site is never a way back.
  Browser tricked(port_);
  HttpResponse away = tricked.login("other@example.cn", testing::kTestPassword, "//evil.example/x");
  ASSERT_EQ(away.status, 303);
  EXPECT_EQ(away.header("location"), "/me");
}

// Signed in with an empty wallet: the gateways come first and each pays
// for this document directly; the sandbox's confirmation lands on the
// unlocked document — three page loads from the paywall.
TEST_F(CommerceWebTest, Issue14GatewayFromThePaywallPaysTheDocumentAndLandsOnIt) {
  Browser reader = signed_in("reader@example.cn");
  HttpResponse page = reader.get(doc_url());
  ASSERT_EQ(page.status, 200);
  size_t alipay = page.body.find("name=\"pay\" value=\"alipay\"");
  size_t sandbox = page.body.find("name=\"pay\" value=\"sandbox\"");
  size_t wallet_line = page.body.find("钱包余额 ¥0.00，不足以支付");
  ASSERT_NE(alipay, std::string::npos);
  ASSERT_NE(sandbox, std::string::npos);
  ASSERT_NE(wallet_line, std::string::npos);
  EXPECT_LT(alipay, wallet_line);
  EXPECT_LT(sandbox, wallet_line);
  EXPECT_EQ(page.body.find("name=\"pay\" value=\"wallet\""), std::string::npos);
  EXPECT_NE(page.body.find("支付宝 ¥8.00"), std::string::npos);  // the first, primary
  EXPECT_NE(page.body.find("/wallet/topup?back=" + percent_encode(doc_url() + "#buy")),
            std::string::npos);

  // 1: the paywall's 沙箱支付 → the sandbox page; 2: 确认支付 → the document.
  HttpResponse to_sandbox =
      reader.post("/orders", {{"document_id", std::to_string(doc_id_)}, {"pay", "sandbox"}});
  HttpResponse confirmed = confirm_sandbox(reader, to_sandbox);
  ASSERT_EQ(confirmed.status, 303) << confirmed.body;
  std::string order_url = confirmed.header("location");
  ASSERT_GT(order_id_in(order_url), 0) << order_url;
  HttpResponse back = reader.get(order_url);  // the same navigation's redirect
  ASSERT_EQ(back.status, 303) << back.body;
  EXPECT_EQ(back.header("location"), doc_url() + "?msg=paid");
  HttpResponse unlocked = reader.get(back.header("location"));
  EXPECT_NE(unlocked.body.find(kGardenPaid), std::string::npos);
  EXPECT_NE(unlocked.body.find("支付成功"), std::string::npos);
  EXPECT_EQ(unlocked.body.find("class=\"buy-bar\""), std::string::npos);
  // The order page itself stays reachable from /me once it led on.
  HttpResponse later = reader.get(order_url);
  EXPECT_EQ(later.status, 200);
  EXPECT_NE(later.body.find("已支付"), std::string::npos);

  // Alipay from the paywall goes to Alipay for the document's order.
  Browser other = signed_in("other@example.cn");
  HttpResponse to_alipay =
      other.post("/orders", {{"document_id", std::to_string(doc_id_)}, {"pay", "alipay"}});
  ASSERT_EQ(to_alipay.status, 303) << to_alipay.body;
  EXPECT_EQ(to_alipay.header("location").rfind("https://openapi.alipay.com/", 0), 0u);
  EXPECT_EQ(orders_with(*commerce_, other_, commerce::OrderKind::kDocument,
                        commerce::OrderStatus::kCreated),
            1);
  // WeChat Pay from the paywall: its own page for the same order.
  HttpResponse to_wechat =
      other.post("/orders", {{"document_id", std::to_string(doc_id_)}, {"pay", "wechat"}});
  ASSERT_EQ(to_wechat.status, 303) << to_wechat.body;
  EXPECT_NE(to_wechat.header("location").find("/wechat"), std::string::npos);
  EXPECT_EQ(orders_with(*commerce_, other_, commerce::OrderKind::kDocument,
                        commerce::OrderStatus::kCreated),
            1);
}

// Repeated taps, the back button, two tabs: one unpaid order per document.
TEST_F(CommerceWebTest, Issue14NoDuplicateUnpaidOrdersUnderRepeatedTaps) {
  Browser reader = signed_in("reader@example.cn");
  const std::vector<std::pair<std::string, std::string>> buy = {
      {"document_id", std::to_string(doc_id_)}};
  HttpResponse first = reader.post("/orders", buy);
  ASSERT_EQ(first.status, 303) << first.body;
  std::string location = first.header("location");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(reader.post("/orders", buy).header("location"), location);
  // Many tabs at once.
  std::vector<std::thread> tabs;
  std::vector<std::string> answers(6);
  for (size_t i = 0; i < answers.size(); ++i)
    tabs.emplace_back([&, i] {
      Browser tab = reader;  // the same cookies, a connection of its own
      answers[i] = tab.post("/orders", buy).header("location");
    });
  for (auto& t : tabs) t.join();
  for (const std::string& a : answers) EXPECT_EQ(a, location);
  EXPECT_EQ(orders_with(*commerce_, reader_, commerce::OrderKind::kDocument,
                        commerce::OrderStatus::kCreated),
            1);
  // The same for a VIP plan.
  HttpResponse plan = reader.post("/orders", {{"plan", "vip30"}});
  EXPECT_EQ(reader.post("/orders", {{"plan", "vip30"}}).header("location"),
            plan.header("location"));
  EXPECT_EQ(orders_with(*commerce_, reader_, commerce::OrderKind::kPlan,
                        commerce::OrderStatus::kCreated),
            1);
}

// The order page offers the wallet first only when it covers the amount;
// otherwise the gateways come first and the wallet follows with a top-up.
TEST_F(CommerceWebTest, Issue14OrderPageOffersTheWalletFirstOnlyWhenItCovers) {
  Browser reader = signed_in("reader@example.cn");
  HttpResponse created = reader.post("/orders", {{"document_id", std::to_string(doc_id_)}});
  std::string order_url = created.header("location");
  HttpResponse short_of = reader.get(order_url);
  ASSERT_EQ(short_of.status, 200);
  EXPECT_EQ(short_of.body.find("value=\"wallet\""), std::string::npos);
  EXPECT_EQ(short_of.body.find("disabled"), std::string::npos);
  size_t first_gateway = short_of.body.find("value=\"alipay\"");
  size_t wallet_note = short_of.body.find("不足以支付本订单");
  ASSERT_NE(first_gateway, std::string::npos);
  ASSERT_NE(wallet_note, std::string::npos);
  EXPECT_LT(short_of.body.find("value=\"sandbox\""), wallet_note);
  EXPECT_LT(first_gateway, wallet_note);
  EXPECT_NE(short_of.body.find("/wallet/topup?back=" + percent_encode(order_url)),
            std::string::npos);

  credit(reader_, 1000);
  HttpResponse covered = reader.get(order_url);
  size_t wallet = covered.body.find("value=\"wallet\"");
  ASSERT_NE(wallet, std::string::npos);
  EXPECT_LT(wallet, covered.body.find("value=\"alipay\""));
  EXPECT_EQ(covered.body.find("不足以支付本订单"), std::string::npos);
}

// A top-up started from a document's order (or its paywall) comes back to
// it after the gateway, and the wallet then pays at once.
TEST_F(CommerceWebTest, Issue14TopUpFromADocumentOrderLandsBackOnIt) {
  Browser reader = signed_in("reader@example.cn");
  std::string order_url =
      reader.post("/orders", {{"document_id", std::to_string(doc_id_)}}).header("location");
  HttpResponse form = reader.get("/wallet/topup?back=" + percent_encode(order_url));
  ASSERT_EQ(form.status, 200);
  // The amounts are buttons: forms of their own, carrying the way back.
  for (const char* amount : {"10", "30", "50", "100"})
    EXPECT_NE(form.body.find(std::string("name=\"topup\" value=\"") + amount + "\""),
              std::string::npos)
        << amount;
  EXPECT_NE(form.body.find("name=\"back\" value=\"" + order_url + "\""), std::string::npos);

  HttpResponse topup = reader.post("/orders", {{"topup", "10"}, {"back", order_url}});
  ASSERT_EQ(topup.status, 303) << topup.body;
  std::string topup_url = topup.header("location");
  topup_url = topup_url.substr(0, topup_url.find('?'));
  ASSERT_GT(order_id_in(topup_url), 0) << topup.header("location");
  HttpResponse paid =
      confirm_sandbox(reader, reader.post(topup_url + "/pay", {{"method", "sandbox"}}));
  ASSERT_EQ(paid.status, 303);
  EXPECT_EQ(paid.header("location"), topup_url);
  HttpResponse back = reader.get(topup_url);
  ASSERT_EQ(back.status, 303) << back.body;
  EXPECT_EQ(back.header("location"), order_url + "?msg=topped_up");
  HttpResponse order = reader.get(back.header("location"));
  ASSERT_EQ(order.status, 200);
  EXPECT_NE(order.body.find("充值成功"), std::string::npos);
  EXPECT_NE(order.body.find("value=\"wallet\""), std::string::npos);
  HttpResponse wallet = reader.post(order_url + "/pay", {{"method", "wallet"}});
  ASSERT_EQ(wallet.status, 303);
  EXPECT_EQ(wallet.header("location"), doc_url() + "?msg=paid");
  EXPECT_TRUE(page_shows_paid(reader));

  // From the paywall: back to the document's buy buttons.
  Browser other = signed_in("other@example.cn");
  std::string paywall = doc_url() + "#buy";
  HttpResponse t2 = other.post("/orders", {{"topup", "30"}, {"back", paywall}});
  std::string t2_url = t2.header("location").substr(0, t2.header("location").find('?'));
  confirm_sandbox(other, other.post(t2_url + "/pay", {{"method", "sandbox"}}));
  HttpResponse landed = other.get(t2_url);
  ASSERT_EQ(landed.status, 303);
  EXPECT_EQ(landed.header("location"), doc_url() + "?msg=topped_up#buy");
  HttpResponse offer = other.get(doc_url() + "?msg=topped_up");
  EXPECT_NE(offer.body.find("name=\"pay\" value=\"wallet\""), std::string::npos);
  EXPECT_EQ(offer.body.find(kGardenPaid), std::string::npos);
}

// VIP from the paywall: the plan's page keeps the document, and paying
// lands on it, unlocked, saying VIP is on.
TEST_F(CommerceWebTest, Issue14VipFromThePaywallLandsOnTheDocumentUnlocked) {
  Browser anonymous(port_);
  HttpResponse page = anonymous.get(doc_url());
  std::string vip_url = "/vip?back=" + doc_url();
  EXPECT_NE(page.body.find("href=\"" + vip_url + "\""), std::string::npos);
  HttpResponse vip_anon = anonymous.get(vip_url);
  EXPECT_NE(vip_anon.body.find("/login?next=" +
                               percent_encode("/vip?back=" + percent_encode(doc_url()))),
            std::string::npos);

  Browser reader = signed_in("reader@example.cn");
  HttpResponse vip = reader.get(vip_url);
  ASSERT_EQ(vip.status, 200);
  EXPECT_EQ(hidden_field(vip.body, "back"), doc_url());
  HttpResponse created = reader.post("/orders", {{"plan", "vip30"}, {"back", doc_url()}});
  ASSERT_EQ(created.status, 303);
  std::string order_url = created.header("location").substr(0, created.header("location").find('?'));
  HttpResponse paid =
      confirm_sandbox(reader, reader.post(order_url + "/pay", {{"method", "sandbox"}}));
  ASSERT_EQ(paid.status, 303);
  HttpResponse back = reader.get(paid.header("location"));
  ASSERT_EQ(back.status, 303) << back.body;
  EXPECT_EQ(back.header("location"), doc_url() + "?msg=vip_on");
  HttpResponse unlocked = reader.get(back.header("location"));
  EXPECT_NE(unlocked.body.find(kGardenPaid), std::string::npos);
  EXPECT_NE(unlocked.body.find("VIP 会员已开通"), std::string::npos);

  // Paid from the wallet, the plan leads back the same way.
  credit(other_, 5000);
  Browser other = signed_in("other@example.cn");
  HttpResponse o2 = other.post("/orders", {{"plan", "vip30"}, {"back", doc_url()}});
  std::string o2_url = o2.header("location").substr(0, o2.header("location").find('?'));
  HttpResponse wallet = other.post(o2_url + "/pay", {{"method", "wallet"}});
  ASSERT_EQ(wallet.status, 303);
  EXPECT_EQ(wallet.header("location"), doc_url() + "?msg=vip_on");
  EXPECT_TRUE(page_shows_paid(other));
}

}  // namespace
}  // namespace paidoc::web
