// Search limits and buyer caching at the web edge, over HTTP against a real
// Server with the default search limits (60 a minute per address and per
// account) and a fake clock: the 61st search answers 429 with Retry-After
// and a zh-CN message (page) or a too_many_requests error (API); an account
// is limited across addresses; renders holding paid text for a signed-in
// viewer are "Cache-Control: private, no-store", anonymous ones are not.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/server.h"
#include "web/test_store.h"
#include "web/util.h"

namespace paidoc::web {
namespace {

using nlohmann::json;
using testing::Browser;
using testing::HttpClient;
using testing::HttpResponse;

// Written for these tests: a reading room's winter schedule.
constexpr std::string_view kSchedule =
    "社区阅览室冬季开放安排\n"
    "为方便居民在冬季阅读学习，社区阅览室调整开放时间如下。\n"
    "一、开放时间\n"
    "每周二至周日上午九点至下午五点开放。\n"
    "##paidbegin##\n"
    "二、取暖安排\n"
    "锅炉房的铜制阀门每逢周四由老管理员亲手擦亮。\n"
    "##paidend##\n"
    "以上安排自十二月一日起执行。\n";
constexpr std::string_view kPaidSentence = "铜制阀门";
constexpr std::string_view kPaidContext = "每逢周四";  // near it, never searched for

const std::string kFreeQuery = "/search?q=" + percent_encode("阅览室");
const std::string kApiQuery = "/api/v1/search?q=" + percent_encode("阅览室");

std::string from(const std::string& ip) { return "X-Forwarded-For: " + ip; }

class SearchLimitsWebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-search-limits-web", clock_, t_));
    commerce_ = std::make_unique<commerce::Commerce>(
        *t_.store, *t_.store, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    library::ImportOptions io;
    io.price = Fen(600);
    io.category = "通知公告";
    library::ImportLine line = t_.library->import_bytes(kSchedule, "schedule.txt", io);
    ASSERT_TRUE(line.ok) << line.error;
    doc_id_ = line.id;
    buyer_ = add_user("buyer@example.cn");
    add_user("reader@example.cn");

    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.site_name = "测试文库";
    opts.clock = &clock_;
    opts.trust_proxy = true;  // X-Forwarded-For names the client address
    // opts.search_limits: the defaults, as shipped.
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

  int64_t add_user(const std::string& email) {
    return testing::add_reader(*t_.accounts, email, testing::kTestPassword);
  }
  void buy(int64_t user) { testing::credit_and_buy(*commerce_, user, doc_id_); }
  Browser signed_in(const std::string& email) { return testing::signed_in_browser(port_, email); }

  HttpResponse get(const std::string& target, const std::vector<std::string>& headers = {}) {
    HttpClient c(port_);
    return c.get(target, headers);
  }

  // n GETs of target from ip, each of which must answer 200.
  void expect_ok_n(int n, const std::string& target, const std::string& ip) {
    for (int i = 0; i < n; ++i) {
      HttpResponse r = get(target, {from(ip)});
      ASSERT_EQ(r.status, 200) << target << " #" << i + 1 << " from " << ip << ": " << r.body;
    }
  }

  std::string doc_path() const { return "/d/" + std::to_string(doc_id_); }
  std::string api_doc_path() const { return "/api/v1/documents/" + std::to_string(doc_id_); }

  FakeClock clock_{1'772'416'800};
  testing::TestStore t_;  // after the clock: Accounts holds it
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t doc_id_ = 0;
  int64_t buyer_ = 0;
};

TEST_F(SearchLimitsWebTest, The61stSearchInAMinuteFromOneAddressIsAChinese429Page) {
  ASSERT_NO_FATAL_FAILURE(expect_ok_n(60, kFreeQuery, "203.0.113.9"));
  clock_.advance(15);
  HttpResponse r = get(kFreeQuery, {from("203.0.113.9")});
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.header("retry-after"), "45");
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<html lang=\"zh-CN\">"), std::string::npos);
  EXPECT_NE(r.body.find("测试文库"), std::string::npos) << "the site's normal layout";
  EXPECT_NE(r.body.find("搜索过于频繁，请 45 秒后再试"), std::string::npos) << r.body;

  // Another address is not affected; the search page without a query runs
  // no search and is not refused.
  EXPECT_EQ(get(kFreeQuery, {from("198.51.100.4")}).status, 200);
  EXPECT_EQ(get("/search", {from("203.0.113.9")}).status, 200);
  // Other pages are not limited.
  EXPECT_EQ(get(doc_path(), {from("203.0.113.9")}).status, 200);

  // When the minute is over the address searches again.
  clock_.advance(45);
  EXPECT_EQ(get(kFreeQuery, {from("203.0.113.9")}).status, 200);
}

TEST_F(SearchLimitsWebTest, TheApiAnswersTooManyRequestsWithTheRetrySecondsAndSharesTheCount) {
  // The page and the API count against the same limit.
  ASSERT_NO_FATAL_FAILURE(expect_ok_n(30, kFreeQuery, "203.0.113.10"));
  ASSERT_NO_FATAL_FAILURE(expect_ok_n(30, kApiQuery, "203.0.113.10"));
  HttpResponse r = get(kApiQuery, {from("203.0.113.10")});
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.header("retry-after"), "60");
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  json body = json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "too_many_requests");
  EXPECT_EQ(body["error"]["retry_after"], 60);
  EXPECT_EQ(body["error"]["message"], "搜索过于频繁，请 1 分钟后再试");
  EXPECT_EQ(get(kFreeQuery, {from("203.0.113.10")}).status, 429);
}

TEST_F(SearchLimitsWebTest, AnAccountIsLimitedAcrossAddresses) {
  Browser reader = signed_in("reader@example.cn");
  for (int i = 0; i < 60; ++i) {
    HttpResponse r = reader.get(kApiQuery, {from("192.0.2." + std::to_string(i + 1))});
    ASSERT_EQ(r.status, 200) << "#" << i + 1 << ": " << r.body;
  }
  // A fresh address, but the same account.
  HttpResponse r = reader.get(kFreeQuery, {from("192.0.2.200")});
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.header("retry-after"), "60");
  EXPECT_NE(r.body.find("搜索过于频繁，请 1 分钟后再试"), std::string::npos) << r.body;
  // The same fresh address without the account, and another account there.
  EXPECT_EQ(get(kFreeQuery, {from("192.0.2.200")}).status, 200);
  Browser buyer = signed_in("buyer@example.cn");
  EXPECT_EQ(buyer.get(kFreeQuery, {from("192.0.2.200")}).status, 200);
}

TEST_F(SearchLimitsWebTest, ABuyersDocumentIsNoStoreAndTheAnonymousPageIsNot) {
  ASSERT_NO_FATAL_FAILURE(buy(buyer_));
  Browser buyer = signed_in("buyer@example.cn");

  HttpResponse page = buyer.get(doc_path());
  ASSERT_EQ(page.status, 200) << page.body;
  ASSERT_NE(page.body.find(kPaidSentence), std::string::npos) << "the buyer reads the paid part";
  EXPECT_EQ(page.header("cache-control"), "private, no-store");
  EXPECT_FALSE(page.has_header("etag"));

  HttpResponse api = buyer.get(api_doc_path());
  ASSERT_EQ(api.status, 200) << api.body;
  ASSERT_NE(api.body.find(kPaidSentence), std::string::npos);
  EXPECT_EQ(api.header("cache-control"), "private, no-store");

  // Anonymous, after the buyer's renders: the cached anonymous page, without
  // the paid part and with its usual caching.
  for (const std::string& path : {doc_path(), api_doc_path()}) {
    HttpResponse anon = get(path);
    ASSERT_EQ(anon.status, 200) << path;
    EXPECT_EQ(anon.body.find(kPaidSentence), std::string::npos) << path;
    EXPECT_EQ(anon.header("cache-control"), "private, max-age=0") << path;
    EXPECT_TRUE(anon.has_header("etag")) << path;
    HttpResponse again = get(path);
    EXPECT_EQ(again.body, anon.body) << path;
  }

  // Signed in without access: no paid text, usual caching.
  Browser reader = signed_in("reader@example.cn");
  HttpResponse locked = reader.get(doc_path());
  ASSERT_EQ(locked.status, 200);
  EXPECT_EQ(locked.body.find(kPaidSentence), std::string::npos);
  EXPECT_EQ(locked.header("cache-control"), "private, max-age=0");
}

TEST_F(SearchLimitsWebTest, SearchAnswersWithPaidSnippetsForABuyerAreNoStore) {
  ASSERT_NO_FATAL_FAILURE(buy(buyer_));
  Browser buyer = signed_in("buyer@example.cn");
  const std::string q = percent_encode(std::string(kPaidSentence));

  HttpResponse api = buyer.get("/api/v1/search?q=" + q);
  ASSERT_EQ(api.status, 200) << api.body;
  json body = json::parse(api.body);
  ASSERT_EQ(body["total"], 1) << api.body;
  ASSERT_TRUE(body["hits"][0]["snippet_from_paid"].get<bool>()) << api.body;
  EXPECT_EQ(api.header("cache-control"), "private, no-store");
  HttpResponse page = buyer.get("/search?q=" + q);
  ASSERT_EQ(page.status, 200);
  ASSERT_NE(page.body.find(kPaidContext), std::string::npos) << page.body;
  EXPECT_EQ(page.header("cache-control"), "private, no-store");

  // The same search, anonymous: no paid text (the answer names only the
  // reader's own words), usual caching.
  HttpResponse anon = get("/api/v1/search?q=" + q);
  ASSERT_EQ(anon.status, 200);
  EXPECT_FALSE(json::parse(anon.body)["hits"][0]["snippet_from_paid"].get<bool>()) << anon.body;
  EXPECT_EQ(anon.body.find(kPaidContext), std::string::npos) << anon.body;
  EXPECT_EQ(anon.header("cache-control"), "private, max-age=0");
  // A buyer's search whose snippets are free text: usual caching.
  HttpResponse free = buyer.get(kApiQuery);
  ASSERT_EQ(free.status, 200);
  ASSERT_FALSE(json::parse(free.body)["hits"][0]["snippet_from_paid"].get<bool>()) << free.body;
  EXPECT_EQ(free.header("cache-control"), "private, max-age=0");
}

}  // namespace
}  // namespace paidoc::web
