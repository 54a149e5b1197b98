// Paying from phones and inside WeChat, over HTTP against a real Server:
// the channel decided from the User-Agent, WeChat H5 and Alipay WAP
// redirects and their return page, the JSAPI OAuth step (state bound to the
// order and the session) and its payment page (a script served by the site,
// no inline script), the QR code on desktops, the pay API's channel field,
// credited orders on the order page, and the admin refund forms.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "commerce/provider.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"
#include "web/browser.h"
#include "web/commerce_view.h"
#include "web/fake_provider.h"
#include "web/forwarding_store.h"
#include "web/http_client.h"
#include "web/server.h"
#include "web/template.h"
#include "web/test_store.h"
#include "web/util.h"

namespace paidoc::web {
namespace {

using commerce::Channel;
using nlohmann::json;
using testing::bearer;
using testing::Browser;
using testing::FakeProvider;
using testing::HttpClient;
using testing::HttpResponse;

// Real User-Agent strings, as the browsers send them.
constexpr const char* kUaWindowsChrome =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";
constexpr const char* kUaMacSafari =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15";
constexpr const char* kUaIphoneSafari =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
constexpr const char* kUaAndroidChrome =
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36";
constexpr const char* kUaAndroidTablet =
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36";
constexpr const char* kUaOldIpad =
    "Mozilla/5.0 (iPad; CPU OS 12_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/12.1.2 Mobile/15E148 Safari/604.1";
constexpr const char* kUaWechatIphone =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 MicroMessenger/8.0.44(0x18002c2f) NetType/WIFI Language/zh_CN";
constexpr const char* kUaWechatAndroid =
    "Mozilla/5.0 (Linux; Android 13; V2254A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1110017 "
    "MMWEBSDK/20231105 MMWEBID/7890 MicroMessenger/8.0.44.2502(0x28002C3B) WeChat/arm64 Weixin "
    "NetType/WIFI Language/zh_CN ABI/arm64";
constexpr const char* kUaWechatWindows =
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) "
    "WindowsWechat(0x63090819) XWEB/8519 Flue";

std::string ua(const char* agent) { return std::string("User-Agent: ") + agent; }

TEST(PayChannelTest, UserAgentDecidesTheChannel) {
  EXPECT_EQ(channel_from_user_agent(kUaWindowsChrome), Channel::kDesktop);
  EXPECT_EQ(channel_from_user_agent(kUaMacSafari), Channel::kDesktop);
  EXPECT_EQ(channel_from_user_agent(""), Channel::kDesktop);
  EXPECT_EQ(channel_from_user_agent("curl/8.5.0"), Channel::kDesktop);
  EXPECT_EQ(channel_from_user_agent(kUaIphoneSafari), Channel::kPhone);
  EXPECT_EQ(channel_from_user_agent(kUaAndroidChrome), Channel::kPhone);
  // Tablets pay as phones do (no second screen to scan a QR code from).
  EXPECT_EQ(channel_from_user_agent(kUaAndroidTablet), Channel::kPhone);
  EXPECT_EQ(channel_from_user_agent(kUaOldIpad), Channel::kPhone);
  // WeChat's browser wins over the phone it runs on, and on a PC too.
  EXPECT_EQ(channel_from_user_agent(kUaWechatIphone), Channel::kWechatBrowser);
  EXPECT_EQ(channel_from_user_agent(kUaWechatAndroid), Channel::kWechatBrowser);
  EXPECT_EQ(channel_from_user_agent(kUaWechatWindows), Channel::kWechatBrowser);
  EXPECT_EQ(channel_from_user_agent("mozilla/5.0 (iphone) micromessenger/8.0"),
            Channel::kWechatBrowser);

  for (Channel c : {Channel::kDesktop, Channel::kPhone, Channel::kWechatBrowser})
    EXPECT_EQ(parse_channel(channel_name(c)), c);
  EXPECT_EQ(parse_channel("wechat_browser"), Channel::kWechatBrowser);
  EXPECT_FALSE(parse_channel("tablet").has_value());
  EXPECT_FALSE(parse_channel("").has_value());
}

// The order page's words for money that went to the wallet.
TEST(PayChannelTest, CreditedOrdersSayWhereTheMoneyWent) {
  commerce::Order o;
  o.id = 7;
  o.kind = commerce::OrderKind::kDocument;
  o.document_id = 3;
  o.amount = Fen(800);

  o.status = commerce::OrderStatus::kCredited;
  json owned = order_context(o);
  EXPECT_EQ(owned["credited_note"], "您已购买过该文档，本次付款 ¥8.00 已转入钱包余额。");
  EXPECT_EQ(owned["status_label"], "已转入钱包");
  EXPECT_TRUE(owned["document_ready"].get<bool>());

  o.status = commerce::OrderStatus::kExpired;
  o.credited = Fen(800);
  json late = order_context(o);
  EXPECT_EQ(late["credited_note"], "订单已过期，付款 ¥8.00 已转入钱包余额。");
  EXPECT_FALSE(late["document_ready"].get<bool>());
  EXPECT_EQ(order_json(o)["credited_fen"], 800);

  o.credited = Fen(0);
  EXPECT_FALSE(order_context(o).contains("credited_note"));
}

// The admin list shows tracked refunds as Commerce::refunds gives them.
TEST(PayChannelTest, AdminOrderListShowsTrackedRefunds) {
  Templates t;
  Status loaded = t.load_embedded("web/templates/");
  ASSERT_TRUE(loaded.is_ok()) << loaded.to_string();
  commerce::Refund pending;
  pending.provider = "wechat";
  pending.out_refund_no = "R0000000042A";
  pending.amount = Fen(800);
  pending.state = commerce::RefundState::kPending;
  pending.created_at = 1765000000;
  commerce::Refund failed = pending;
  failed.out_refund_no = "R0000000042B";
  failed.state = commerce::RefundState::kFailed;
  failed.message = "NOT_ENOUGH: 商户可用退款余额不足";
  commerce::Refund done = pending;
  done.out_refund_no = "R0000000042C";
  done.refund_id = "50300000012026120612345678";
  done.state = commerce::RefundState::kSucceeded;
  json refunds = json::array(
      {refund_context(pending), refund_context(failed), refund_context(done)});
  json ctx = {{"days", 30},
              {"orders",
               json::array({{{"id", 42},
                             {"subject", "社区花园认养办法"},
                             {"status", "refunded"},
                             {"status_label", "已退款"},
                             {"amount", "¥8.00"},
                             {"has_refunds", true},
                             {"refunds", refunds}}})}};
  Result<std::string> html = t.render("admin_orders.html", ctx);
  ASSERT_TRUE(html.ok()) << html.status().to_string();
  EXPECT_NE(html->find("微信支付退款 ¥8.00 · <span class=\"tag\">处理中</span>"), std::string::npos)
      << *html;
  EXPECT_NE(html->find("<span class=\"tag\">失败</span>（NOT_ENOUGH: 商户可用退款余额不足）"),
            std::string::npos);
  EXPECT_NE(html->find("<span class=\"tag\">已退款</span>"), std::string::npos);
  EXPECT_NE(html->find("退款单号 R0000000042A"), std::string::npos);
  EXPECT_NE(html->find("平台单号 50300000012026120612345678"), std::string::npos);
  EXPECT_NE(html->find(display_time(1765000000)), std::string::npos);
  // The gateway's message is shown only for the failed one.
  EXPECT_EQ(html->find("（NOT_ENOUGH"), html->rfind("（NOT_ENOUGH"));
}

constexpr std::string_view kStory =
    "海边灯塔值守记录\n"
    "灯塔守护人每天记录潮汐与来往船只。\n"
    "##paidbegin##\n"
    "守护人把备用灯泡放在第三层楼梯下的铁皮柜里。\n"
    "##paidend##\n"
    "欢迎参观。\n";
constexpr const char* kSandboxSecret = "sandbox-secret-for-pay-channel-tests";

// The store as it is, except that orders named in `credited` read as
// kCredited (what the store writes for a second payment of a document the
// reader already owns).
class CreditingStore : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  void mark_credited(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    credited_.insert(id);
  }
  Result<store::Order> get_order(int64_t id) override {
    Result<store::Order> o = inner_.get_order(id);
    std::lock_guard<std::mutex> lock(mu_);
    if (o.ok() && credited_.count(id)) o->status = store::OrderStatus::kCredited;
    return o;
  }

 private:
  std::mutex mu_;
  std::set<int64_t> credited_;
};

struct Gateways {
  std::set<Channel> wechat = {Channel::kPhone, Channel::kWechatBrowser};
  std::set<Channel> alipay = {Channel::kPhone};
  bool trust_proxy = false;
};

class PayChannelWebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-pay-channels", clock_, t_));
    store_ = std::make_unique<CreditingStore>(*t_.store);
    library::ImportOptions io;
    io.price = Fen(800);
    io.category = "旅行";
    library::ImportLine line = t_.library->import_bytes(kStory, "lighthouse.txt", io);
    ASSERT_TRUE(line.ok) << line.error;
    doc_id_ = line.id;
    reader_ = testing::add_reader(*t_.accounts, "reader@example.cn", testing::kTestPassword);
    Result<auth::Account> admin =
        t_.accounts->add_user("admin@example.cn", testing::kTestPassword, gate::Role::kAdmin);
    ASSERT_TRUE(admin.ok()) << admin.status().to_string();
    ASSERT_NO_FATAL_FAILURE(start({}));
  }
  void TearDown() override {
    stop();
    store_.reset();
    testing::close_test_store(t_);
  }

  void start(Gateways setup) {
    sandbox_ = commerce::SandboxConfig{kSandboxSecret, ""};
    auto wechat = std::make_unique<FakeProvider>("wechat", setup.wechat);
    auto alipay = std::make_unique<FakeProvider>("alipay", setup.alipay);
    wechat_ = wechat.get();
    alipay_ = alipay.get();
    std::map<std::string, std::unique_ptr<commerce::PaymentProvider>> providers;
    providers["wechat"] = std::move(wechat);
    providers["alipay"] = std::move(alipay);
    providers["sandbox"] = commerce::make_sandbox(sandbox_, clock_);
    commerce::Options options;
    options.site_url = kSite;
    commerce_ = std::make_unique<commerce::Commerce>(*store_, *store_, clock_, options,
                                                     std::move(providers));
    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.base_url = kSite;
    opts.trust_proxy = setup.trust_proxy;
    opts.sandbox = sandbox_;
    opts.clock = &clock_;
    server_ = std::make_unique<Server>(*store_, *t_.library, *t_.accounts, *commerce_, opts);
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
  void restart(Gateways setup) {
    stop();
    start(std::move(setup));
  }

  Browser signed_in(const std::string& email) {
    Browser b(port_);
    HttpResponse r = b.login(email);
    EXPECT_EQ(r.status, 303) << r.body;
    return b;
  }
  // A new document order of `b`'s reader: its page's path ("/orders/N").
  std::string new_order(Browser& b) {
    HttpResponse r = b.post("/orders", {{"document_id", std::to_string(doc_id_)}});
    EXPECT_EQ(r.status, 303) << r.body;
    std::string location = r.header("location");
    EXPECT_TRUE(std::regex_match(location, std::regex(R"(/orders/\d+)"))) << location;
    return location;
  }
  int64_t id_of(const std::string& order_path) { return std::stoll(order_path.substr(8)); }
  std::string out_trade_no(int64_t order_id) {
    Result<commerce::Order> o = commerce_->order(reader_, order_id);
    EXPECT_TRUE(o.ok()) << o.status().to_string();
    return o.ok() ? o->out_trade_no : std::string();
  }
  // The sandbox's signed notification for the order, as its gateway sends it.
  HttpResponse pay_through_sandbox(int64_t order_id, const std::string& txn) {
    commerce::RawNotification n =
        commerce::sandbox_notification(sandbox_, out_trade_no(order_id), Fen(800), txn);
    std::vector<std::string> headers = {"Content-Type: application/json"};
    for (const auto& [k, v] : n.headers) headers.push_back(k + ": " + v);
    return HttpClient(port_).request("POST", "/api/v1/payments/sandbox/notify", headers, n.body);
  }
  std::string doc_path() const { return "/d/" + std::to_string(doc_id_); }

  static constexpr const char* kSite = "https://paidoc.example.cn";
  FakeClock clock_{Clock::system().now()};
  testing::TestStore t_;
  std::unique_ptr<CreditingStore> store_;
  commerce::SandboxConfig sandbox_;
  std::unique_ptr<commerce::Commerce> commerce_;
  FakeProvider* wechat_ = nullptr;
  FakeProvider* alipay_ = nullptr;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t doc_id_ = 0;
  int64_t reader_ = 0;
};

// <script …> tags without a src: inline script.
size_t inline_scripts(const std::string& html) {
  std::regex tag("<script\\b[^>]*>", std::regex::icase);
  size_t n = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator();
       ++it)
    if (it->str().find(" src=\"/static/") == std::string::npos) ++n;
  return n;
}

TEST_F(PayChannelWebTest, PhoneWechatGoesToH5AndTheReturnPageConfirmsThenLeadsToTheDocument) {
  Browser reader = signed_in("reader@example.cn");
  std::string order = new_order(reader);

  HttpResponse pay = reader.post(order + "/pay", {{"method", "wechat"}}, true,
                                 {ua(kUaIphoneSafari), "X-Forwarded-For: 203.0.113.9"});
  ASSERT_EQ(pay.status, 303) << pay.body;
  std::string h5 = pay.header("location");
  EXPECT_EQ(h5.rfind(std::string(testing::kFakeH5Base) + "?prepay_id=wx_h5_", 0), 0u) << h5;
  EXPECT_NE(h5.find("redirect_url=" + percent_encode(std::string(kSite) + order)),
            std::string::npos)
      << h5;
  std::vector<commerce::PaymentOrder> started = wechat_->started();
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].channel, Channel::kPhone);
  // Without --trust-proxy the forwarded header is not believed.
  EXPECT_EQ(started[0].client_ip, "127.0.0.1");
  EXPECT_EQ(started[0].return_url, std::string(kSite) + order);

  // WeChat sends the buyer back before its notification arrived.
  HttpResponse back = reader.get(order, {ua(kUaIphoneSafari)});
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_NE(back.body.find("正在确认支付结果…"), std::string::npos);
  EXPECT_NE(back.body.find("<meta http-equiv=\"refresh\" content=\"5\">"), std::string::npos);
  EXPECT_NE(back.body.find("href=\"" + order + "\">立即刷新"), std::string::npos);
  EXPECT_EQ(back.body.find("name=\"method\""), std::string::npos);  // no pay buttons meanwhile
  EXPECT_EQ(inline_scripts(back.body), 0u);
  // …and may still choose another way.
  HttpResponse choose = reader.get(order + "?choose=1", {ua(kUaIphoneSafari)});
  EXPECT_NE(choose.body.find("name=\"method\" value=\"wechat\""), std::string::npos);
  EXPECT_NE(choose.body.find("在微信中完成支付"), std::string::npos);
  EXPECT_EQ(choose.body.find("正在确认支付结果"), std::string::npos);

  // The notification arrives: the return page leads on to the document
  // (issue 14: at once, a 303), once; later the order page shows it with
  // its 阅读全文 link first.
  ASSERT_EQ(pay_through_sandbox(id_of(order), "SBXh5phone001").status, 200);
  HttpResponse paid = reader.get(order, {ua(kUaIphoneSafari)});
  ASSERT_EQ(paid.status, 303) << paid.body;
  EXPECT_EQ(paid.header("location"), doc_path() + "?msg=paid");
  HttpResponse later = reader.get(order, {ua(kUaIphoneSafari)});
  ASSERT_EQ(later.status, 200);
  EXPECT_EQ(later.body.find("正在确认支付结果"), std::string::npos);
  size_t link = later.body.find("href=\"" + doc_path() + "\">阅读全文</a>");
  ASSERT_NE(link, std::string::npos) << later.body;
  EXPECT_LT(link, later.body.find("class=\"facts\""));
  EXPECT_NE(reader.get(doc_path()).body.find("第三层楼梯下的铁皮柜"), std::string::npos);
}

TEST_F(PayChannelWebTest, ClientAddressFollowsTheProxyRule) {
  restart({.trust_proxy = true});
  Browser reader = signed_in("reader@example.cn");
  std::string order = new_order(reader);
  HttpResponse pay =
      reader.post(order + "/pay", {{"method", "wechat"}}, true,
                  {ua(kUaAndroidChrome), "X-Forwarded-For: 198.51.100.1, 203.0.113.9"});
  ASSERT_EQ(pay.status, 303);
  ASSERT_EQ(wechat_->started().size(), 1u);
  EXPECT_EQ(wechat_->started()[0].client_ip, "203.0.113.9");
}

// Found by the Alipay browser journey: the paywall's gateway buttons post
// straight to /orders, whose 303 goes to the gateway, but the document
// page's CSP kept form-action 'self', so browsers blocked the hand-off.
TEST_F(PayChannelWebTest, PaywallGatewayButtonsMayHandTheReaderToTheGateway) {
  Browser reader = signed_in("reader@example.cn");
  HttpResponse page = reader.get(doc_path());
  ASSERT_EQ(page.status, 200);
  ASSERT_NE(page.body.find("name=\"pay\" value=\"alipay\""), std::string::npos) << page.body;
  std::string csp = page.header("content-security-policy");
  EXPECT_NE(csp.find("form-action 'self' https:;"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;
  // Anonymous readers have no payment form: the site's CSP as it is.
  HttpResponse anon = HttpClient(port_).get(doc_path(), {});
  EXPECT_NE(anon.header("content-security-policy").find("form-action 'self';"), std::string::npos);
}

TEST_F(PayChannelWebTest, AlipayOnAPhoneRedirectsToWapAndComesBackToTheOrder) {
  Browser reader = signed_in("reader@example.cn");
  std::string order = new_order(reader);
  HttpResponse page = reader.get(order, {ua(kUaAndroidChrome)});
  // The pay forms' 303 goes to the gateway: form-action admits https:.
  std::string csp = page.header("content-security-policy");
  EXPECT_NE(csp.find("form-action 'self' https:;"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;

  HttpResponse pay = reader.post(order + "/pay", {{"method", "alipay"}}, true, {ua(kUaAndroidChrome)});
  ASSERT_EQ(pay.status, 303) << pay.body;
  std::string to = pay.header("location");
  EXPECT_EQ(to.rfind("https://openapi.alipay.com/gateway.do?method=alipay.trade.wap.pay", 0), 0u)
      << to;
  EXPECT_NE(to.find("return_url=" + percent_encode(std::string(kSite) + order)), std::string::npos);
  EXPECT_NE(pay.header("set-cookie").find("Path=" + order), std::string::npos);
  EXPECT_NE(pay.header("set-cookie").find("HttpOnly"), std::string::npos);
  ASSERT_EQ(alipay_->started().size(), 1u);
  EXPECT_EQ(alipay_->started()[0].channel, Channel::kPhone);

  // Desktop: the page product.
  HttpResponse desk = reader.post(order + "/pay", {{"method", "alipay"}}, true, {ua(kUaMacSafari)});
  EXPECT_EQ(desk.header("location").rfind(
                "https://openapi.alipay.com/gateway.do?method=alipay.trade.page.pay", 0),
            0u);

  EXPECT_NE(reader.get(order).body.find("正在确认支付结果…"), std::string::npos);
  ASSERT_EQ(pay_through_sandbox(id_of(order), "SBXwap0001").status, 200);
  // Alipay's return: on to the document (issue 14).
  EXPECT_EQ(reader.get(order).header("location"), doc_path() + "?msg=paid");
  EXPECT_NE(reader.get(order).body.find("href=\"" + doc_path() + "\">阅读全文</a>"),
            std::string::npos);
}

TEST_F(PayChannelWebTest, DesktopAndPhonesWithoutH5GetTheQrCode) {
  Browser reader = signed_in("reader@example.cn");
  std::string order = new_order(reader);
  HttpResponse pay = reader.post(order + "/pay", {{"method", "wechat"}}, true, {ua(kUaWindowsChrome)});
  ASSERT_EQ(pay.status, 303);
  EXPECT_EQ(pay.header("location"), order + "/wechat");
  HttpResponse qr = reader.get(order + "/wechat", {ua(kUaWindowsChrome)});
  ASSERT_EQ(qr.status, 200) << qr.body;
  EXPECT_NE(qr.body.find("class=\"qr-image\" src=\"data:image/svg+xml,"), std::string::npos);
  ASSERT_FALSE(wechat_->started().empty());
  EXPECT_EQ(wechat_->started().back().channel, Channel::kDesktop);

  // A merchant without H5: the phone gets the QR code as well.
  restart({.wechat = {}, .alipay = {}});
  Browser phone = signed_in("reader@example.cn");
  std::string order2 = new_order(phone);
  HttpResponse p2 = phone.post(order2 + "/pay", {{"method", "wechat"}}, true, {ua(kUaIphoneSafari)});
  ASSERT_EQ(p2.status, 303);
  EXPECT_EQ(p2.header("location"), order2 + "/wechat");
  HttpResponse qr2 = phone.get(order2 + "/wechat", {ua(kUaIphoneSafari)});
  EXPECT_NE(qr2.body.find("data:image/svg+xml,"), std::string::npos);
  EXPECT_EQ(wechat_->started().back().channel, Channel::kDesktop);
}

TEST_F(PayChannelWebTest, InsideWechatTheOAuthStepLeadsToTheJsapiPage) {
  Browser reader = signed_in("reader@example.cn");
  std::string order = new_order(reader);
  const std::string wx = ua(kUaWechatIphone);

  HttpResponse pay = reader.post(order + "/pay", {{"method", "wechat"}}, true, {wx});
  ASSERT_EQ(pay.status, 303) << pay.body;
  std::string oauth = pay.header("location");
  ASSERT_EQ(oauth.rfind(std::string(testing::kFakeOauthBase) + "?", 0), 0u) << oauth;
  EXPECT_NE(oauth.find("redirect_uri=" + percent_encode(std::string(kSite) + "/pay/wechat/oauth")),
            std::string::npos);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(oauth, m, std::regex("state=([0-9a-z]+)#"))) << oauth;
  const std::string state = m[1].str();
  EXPECT_LE(state.size(), 128u);
  EXPECT_TRUE(wechat_->started().empty());  // nothing started without the openid

  auto callback = [&](Browser& b, const std::string& st, const std::string& code) {
    return b.get("/pay/wechat/oauth?code=" + percent_encode(code) + "&state=" + percent_encode(st),
                 {wx});
  };
  // A forged or altered state is refused, and WeChat is not asked.
  std::string altered = state;
  altered.back() = altered.back() == '0' ? '1' : '0';
  for (const std::string& bad : {altered, std::string("o1t1m0"), std::string(""),
                                 "o" + std::to_string(id_of(order) + 1) + state.substr(state.find('t'))}) {
    HttpResponse r = callback(reader, bad, testing::kFakeGoodCode);
    EXPECT_EQ(r.status, 403) << bad;
    EXPECT_NE(r.body.find("支付授权已失效"), std::string::npos);
    EXPECT_EQ(r.header("set-cookie").find("paidoc_wx_openid"), std::string::npos);
  }
  // Another session of the same reader cannot use it.
  Browser other_session = signed_in("reader@example.cn");
  EXPECT_EQ(callback(other_session, state, testing::kFakeGoodCode).status, 403);
  EXPECT_TRUE(wechat_->codes().empty());
  // A stale state (older than 15 minutes) is refused too.
  clock_.advance(16 * 60);
  EXPECT_EQ(callback(reader, state, testing::kFakeGoodCode).status, 403);
  clock_.advance(-16 * 60);

  // A code WeChat does not know: a clear error, no cookie.
  HttpResponse wrong = callback(reader, state, "expired-code");
  EXPECT_EQ(wrong.status, 503);
  EXPECT_NE(wrong.body.find("暂时无法获取微信授权"), std::string::npos);

  // The real round trip: the JSAPI page.
  HttpResponse page = callback(reader, state, testing::kFakeGoodCode);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("data-app-id=\"wxFakeApp0001\""), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("data-time-stamp=\"1765000000\""), std::string::npos);
  EXPECT_NE(page.body.find("data-nonce-str=\"N0nce5tr\""), std::string::npos);
  EXPECT_NE(page.body.find("data-package=\"prepay_id=wx_jsapi_"), std::string::npos);
  EXPECT_NE(page.body.find("data-sign-type=\"RSA\""), std::string::npos);
  EXPECT_NE(page.body.find("data-pay-sign=\"c2lnbmVk+/=\""), std::string::npos);
  EXPECT_NE(page.body.find("data-done=\"" + order + "\""), std::string::npos);
  EXPECT_NE(page.body.find(">确认支付</button>"), std::string::npos);
  EXPECT_NE(page.body.find("<script src=\"/static/wxpay.js?v="), std::string::npos);
  EXPECT_NE(page.body.find("href=\"" + order + "\">返回订单</a>"), std::string::npos);
  EXPECT_EQ(inline_scripts(page.body), 0u);
  EXPECT_FALSE(std::regex_search(page.body, std::regex("\\son[a-z]+=", std::regex::icase)));
  // The CSP is the site's own: scripts from 'self' only, nothing inline.
  std::string csp = page.header("content-security-policy");
  EXPECT_EQ(csp, reader.get("/").header("content-security-policy"));
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  std::string cookie;
  auto [b, e] = page.headers.equal_range("set-cookie");
  for (auto it = b; it != e; ++it)
    if (it->second.rfind("paidoc_wx_openid=", 0) == 0) cookie = it->second;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find(testing::kFakeOpenid), std::string("paidoc_wx_openid=").size());
  ASSERT_EQ(wechat_->started().size(), 1u);
  EXPECT_EQ(wechat_->started()[0].channel, Channel::kWechatBrowser);
  EXPECT_EQ(wechat_->started()[0].openid, testing::kFakeOpenid);

  // The script is the site's, and calls WeixinJSBridge.
  HttpResponse js = reader.get(page.body.substr(page.body.find("/static/wxpay.js"),
                                                page.body.find('"', page.body.find("/static/wxpay.js")) -
                                                    page.body.find("/static/wxpay.js")));
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.header("content-type").rfind("text/javascript", 0), 0u);
  EXPECT_NE(js.body.find("WeixinJSBridge.invoke('getBrandWCPayRequest'"), std::string::npos);

  // The openid is remembered for this session: paying again skips OAuth.
  HttpResponse again = reader.post(order + "/pay", {{"method", "wechat"}}, true, {wx});
  ASSERT_EQ(again.status, 303);
  EXPECT_EQ(again.header("location"), order + "/wechat");
  HttpResponse page2 = reader.get(order + "/wechat", {wx});
  EXPECT_NE(page2.body.find("data-package=\"prepay_id=wx_jsapi_"), std::string::npos);
  // …but not for another session holding a copy of the cookie.
  other_session.set_cookie("paidoc_wx_openid", reader.cookie("paidoc_wx_openid"));
  HttpResponse stolen = other_session.post(order + "/pay", {{"method", "wechat"}}, true, {wx});
  EXPECT_EQ(stolen.header("location").rfind(testing::kFakeOauthBase, 0), 0u);
}

TEST_F(PayChannelWebTest, PayApiTakesTheChannel) {
  HttpResponse login = Browser(port_).post_json(
      "/api/v1/auth/login", {{"email", "reader@example.cn"}, {"password", testing::kTestPassword}});
  ASSERT_EQ(login.status, 200) << login.body;
  std::string token = json::parse(login.body)["token"];
  auto api = [&](const std::string& target, const json& body, const char* agent) {
    std::vector<std::string> headers = {bearer(token), "Content-Type: application/json"};
    if (agent) headers.push_back(ua(agent));
    return HttpClient(port_).request("POST", target, headers, body.dump());
  };
  HttpResponse o = api("/api/v1/orders", {{"document_id", doc_id_}}, nullptr);
  ASSERT_EQ(o.status, 201) << o.body;
  std::string pay = "/api/v1/orders/" + std::to_string(json::parse(o.body)["id"].get<int64_t>()) + "/pay";

  json h5 = json::parse(api(pay, {{"method", "wechat"}, {"channel", "phone"}}, nullptr).body);
  EXPECT_EQ(h5["redirect_url"].get<std::string>().rfind(testing::kFakeH5Base, 0), 0u) << h5;
  EXPECT_EQ(wechat_->started().back().channel, Channel::kPhone);

  json by_agent = json::parse(api(pay, {{"method", "wechat"}}, kUaAndroidChrome).body);
  EXPECT_TRUE(by_agent.contains("redirect_url")) << by_agent;
  json native = json::parse(api(pay, {{"method", "wechat"}}, kUaWindowsChrome).body);
  EXPECT_EQ(native["code_url"].get<std::string>().rfind("weixin://wxpay/", 0), 0u) << native;

  json jsapi = json::parse(
      api(pay, {{"method", "wechat"}, {"channel", "wechat_browser"}, {"openid", "oApiOpenid9"}},
          nullptr)
          .body);
  EXPECT_EQ(jsapi["jsapi"]["signType"], "RSA") << jsapi;
  EXPECT_EQ(jsapi["jsapi"]["package"].get<std::string>().rfind("prepay_id=", 0), 0u);
  EXPECT_EQ(wechat_->started().back().openid, "oApiOpenid9");

  HttpResponse bad = api(pay, {{"method", "wechat"}, {"channel", "tablet"}}, nullptr);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("channel must be desktop, phone or wechat_browser"), std::string::npos);
}

TEST_F(PayChannelWebTest, CreditedOrderPageSaysThePaymentWentToTheWallet) {
  Browser reader = signed_in("reader@example.cn");
  std::string first = new_order(reader);
  std::string second = new_order(reader);  // two tabs
  ASSERT_EQ(pay_through_sandbox(id_of(first), "SBXfirst0001").status, 200);
  // The second payment went to the wallet (as the store records it).
  store_->mark_credited(id_of(second));
  HttpResponse page = reader.get(second);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("您已购买过该文档，本次付款 ¥8.00 已转入钱包余额。"), std::string::npos)
      << page.body;
  EXPECT_NE(page.body.find("已转入钱包</span>"), std::string::npos);
  EXPECT_NE(page.body.find("href=\"" + doc_path() + "\">阅读全文</a>"), std::string::npos);
  EXPECT_NE(page.body.find("href=\"/me\">查看钱包余额</a>"), std::string::npos);
  EXPECT_EQ(page.body.find("name=\"method\""), std::string::npos);
}

TEST_F(PayChannelWebTest, TopUpAndVipOrdersLeadBackOnlyToLocalPaths) {
  Browser reader = signed_in("reader@example.cn");
  HttpResponse form = reader.get("/wallet/topup?back=" + percent_encode(doc_path()));
  EXPECT_NE(form.body.find("name=\"back\" value=\"" + doc_path() + "\""), std::string::npos);
  HttpResponse created = reader.post("/orders", {{"topup", "20"}, {"back", doc_path()}});
  ASSERT_EQ(created.status, 303);
  std::string location = created.header("location");
  EXPECT_NE(location.find("?back=" + percent_encode(doc_path())), std::string::npos) << location;
  HttpResponse page = reader.get(location);
  EXPECT_NE(page.body.find("href=\"" + doc_path() + "\">返回刚才的页面</a>"), std::string::npos);

  for (const char* evil : {"//evil.example/x", "https://evil.example/", "javascript:alert(1)",
                           "/\\evil.example"}) {
    HttpResponse r = reader.post("/orders", {{"plan", "vip30"}, {"back", evil}});
    ASSERT_EQ(r.status, 303) << evil;
    EXPECT_EQ(r.header("location").find("back="), std::string::npos) << evil;
    HttpResponse p = reader.get(r.header("location") + "?back=" + percent_encode(evil));
    EXPECT_EQ(p.body.find("返回刚才的页面"), std::string::npos) << evil;
  }
  // The paywall's VIP link carries the document as the way back.
  EXPECT_NE(reader.get(doc_path()).body.find("href=\"/vip?back=" + doc_path() + "\""),
            std::string::npos);
  HttpResponse vip = reader.get("/vip?back=" + percent_encode(doc_path()));
  EXPECT_NE(vip.body.find("name=\"back\" value=\"" + doc_path() + "\""), std::string::npos);
}

TEST_F(PayChannelWebTest, AdminRefundFormsOfferWalletAndOriginalMethodAndExplainRefusals) {
  Browser reader = signed_in("reader@example.cn");
  std::string order = new_order(reader);
  ASSERT_EQ(pay_through_sandbox(id_of(order), "SBXrefund0001").status, 200);
  Status credit = commerce_->credit(reader_, Fen(5000), "test", "test");
  ASSERT_TRUE(credit.is_ok());
  // A VIP plan bought from the wallet: no provider to go back through.
  HttpResponse plan = reader.post("/orders", {{"plan", "vip30"}});
  std::string plan_order = plan.header("location");
  ASSERT_EQ(reader.post(plan_order + "/pay", {{"method", "wallet"}}).status, 303);

  Browser admin = signed_in("admin@example.cn");
  HttpResponse list = admin.get("/admin/orders");
  ASSERT_EQ(list.status, 200) << list.body;
  std::string sandbox_form = "action=\"/admin/orders/" + std::to_string(id_of(order)) + "/refund\"";
  std::string wallet_form = "action=\"/admin/orders/" + std::to_string(id_of(plan_order)) + "/refund\"";
  size_t at = list.body.find(sandbox_form);
  ASSERT_NE(at, std::string::npos) << list.body;
  std::string sandbox_row = list.body.substr(at, list.body.find("</form>", at) - at);
  EXPECT_NE(sandbox_row.find("name=\"to\" value=\"wallet\""), std::string::npos);
  EXPECT_NE(sandbox_row.find(">退回钱包</button>"), std::string::npos);
  EXPECT_NE(sandbox_row.find("name=\"to\" value=\"provider\""), std::string::npos);
  EXPECT_NE(sandbox_row.find(">原路退回</button>"), std::string::npos);
  at = list.body.find(wallet_form);
  ASSERT_NE(at, std::string::npos);
  std::string wallet_row = list.body.substr(at, list.body.find("</form>", at) - at);
  EXPECT_NE(wallet_row.find("value=\"wallet\""), std::string::npos);
  EXPECT_EQ(wallet_row.find("原路退回"), std::string::npos);

  // Original method for the provider-paid order.
  HttpResponse refunded = admin.post("/admin/orders/" + std::to_string(id_of(order)) + "/refund",
                                     {{"to", "provider"}});
  ASSERT_EQ(refunded.status, 303) << refunded.body;
  EXPECT_EQ(refunded.header("location"), "/admin/orders?msg=refunded");
  Result<commerce::Order> now = commerce_->order(reader_, id_of(order));
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->status, commerce::OrderStatus::kRefunded);
  HttpResponse after = admin.get("/admin/orders");
  EXPECT_EQ(after.body.find(sandbox_form), std::string::npos);  // nothing left to refund

  // Refused refunds: the list again with a clear message, not an error page.
  HttpResponse twice = admin.post("/admin/orders/" + std::to_string(id_of(order)) + "/refund",
                                  {{"to", "wallet"}});
  EXPECT_EQ(twice.status, 409);
  EXPECT_NE(twice.body.find("<p class=\"form-error\" role=\"alert\">退款失败："), std::string::npos)
      << twice.body;
  EXPECT_NE(twice.body.find("订单管理</h1>"), std::string::npos);
  HttpResponse wallet_to_provider = admin.post(
      "/admin/orders/" + std::to_string(id_of(plan_order)) + "/refund", {{"to", "provider"}});
  EXPECT_EQ(wallet_to_provider.status, 400);
  EXPECT_NE(wallet_to_provider.body.find("退款失败："), std::string::npos);
  HttpResponse missing = admin.post("/admin/orders/999999/refund", {{"to", "wallet"}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("退款失败：订单不存在。"), std::string::npos);
}

}  // namespace
}  // namespace paidoc::web
