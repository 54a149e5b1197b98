// The worker pools as a client sees them, against a real Server: blocking
// work of one kind (here: logins, on a hash pool of one thread and a queue
// of one, held up inside the store) does not hold up pages of other kinds;
// a request whose pool is full is answered at once with 503 and Retry-After
// (a zh-CN page, or the JSON error "unavailable" under /api/); and stopping
// the server lets the held-up requests finish and writes their responses.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "web/browser.h"
#include "common/gate.h"
#include "web/forwarding_store.h"
#include "web/http_client.h"
#include "web/server.h"
#include "web/test_store.h"

namespace paidoc::web {
namespace {

using nlohmann::json;
using testing::Browser;
using testing::HttpClient;
using testing::HttpResponse;
using testing::kTestPassword;

constexpr const char* kSlowEmail = "slow@example.com";

constexpr std::string_view kDocument =
    "社区志愿服务工作总结\n"
    "今年社区志愿服务队伍不断壮大，服务内容更加丰富。\n"
    "##paidbegin##\n"
    "一、存在的不足\n"
    "志愿者培训次数偏少，服务记录还不够规范。\n"
    "##paidend##\n";

// Holds every lookup of kSlowEmail at a gate until the test opens it, as a
// store stuck behind a long write would. Counts the lookups that arrived.
class GatedStore : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  Result<store::User> find_user_by_email(const std::string& email) override {
    if (email == kSlowEmail) gate_.wait();
    return inner_.find_user_by_email(email);
  }
  void wait_arrived(int n) { gate_.wait_arrived(n); }
  void open() { gate_.open(); }

 private:
  ::paidoc::testing::Gate gate_;
};

class PoolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-pools-test", clock_, t_));
    gated_ = std::make_unique<GatedStore>(*t_.store);
    library_ = std::make_unique<library::Library>(*gated_, clock_);
    auth::Options ao;
    ao.pwhash_opslimit = 1;
    ao.pwhash_memlimit = 8192;
    accounts_ = std::make_unique<auth::Accounts>(*gated_, clock_, ao);
    commerce_ = std::make_unique<commerce::Commerce>(
        *gated_, *gated_, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    library::ImportOptions io;
    io.price = Fen(800);
    library::ImportLine line = library_->import_bytes(kDocument, "summary.txt", io);
    ASSERT_TRUE(line.ok) << line.error;
    doc_ = line.id;
    ASSERT_NE(testing::add_reader(*accounts_, kSlowEmail, kTestPassword), 0);

    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.clock = &clock_;
    opts.search_limits = {0, 0, 0, 0};
    opts.metrics_token = testing::kTestMetricsToken;
    opts.hash_threads = 1;
    opts.hash_queue = 1;
    server_ = std::make_unique<Server>(*gated_, *library_, *accounts_, *commerce_, opts);
    Status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    port_ = server_->port();
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    if (gated_) gated_->open();
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    commerce_.reset();
    accounts_.reset();
    library_.reset();
    gated_.reset();
    testing::close_test_store(t_);
  }

  // An API login as the slow account, on its own connection, answered later.
  std::future<HttpResponse> slow_login() {
    return std::async(std::launch::async, [port = port_] {
      HttpClient c(port, 30000);
      return c.request("POST", "/api/v1/auth/login", {"Content-Type: application/json"},
                       json{{"email", kSlowEmail}, {"password", kTestPassword}}.dump());
    });
  }

  // A gauge or counter of /metrics, e.g. paidoc_pool_queued{pool="hash"}.
  int64_t metric(const std::string& series) {
    HttpClient c(port_);
    HttpResponse r = c.get("/metrics", {testing::metrics_auth()});
    EXPECT_EQ(r.status, 200);
    size_t at = r.body.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stoll(r.body.substr(at + series.size() + 2));
  }

  // Waits until a series reaches a value: a pool counts a task as running
  // until the task returns, which can be just after its answer was written.
  bool wait_metric(const std::string& series, int64_t want) {
    for (int i = 0; i < 2500; ++i) {
      if (metric(series) == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

  // Waits until the hash pool holds one login running and one queued: the
  // state the server reports, not a guess from elapsed time.
  void wait_hash_pool_full() {
    for (int i = 0; i < 5000; ++i) {
      if (metric("paidoc_pool_running{pool=\"hash\"}") == 1 &&
          metric("paidoc_pool_queued{pool=\"hash\"}") == 1)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    FAIL() << "the hash pool never held one running and one queued login";
  }

  FakeClock clock_;
  testing::TestStore t_;
  std::unique_ptr<GatedStore> gated_;
  std::unique_ptr<library::Library> library_;
  std::unique_ptr<auth::Accounts> accounts_;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t doc_ = 0;
};

TEST_F(PoolsTest, SlowLoginsHoldUpNeitherCachedNorStorePages) {
  const std::string page = "/d/" + std::to_string(doc_);
  HttpResponse first = HttpClient(port_).get(page);  // renders and caches it
  ASSERT_EQ(first.status, 200);

  std::future<HttpResponse> running = slow_login();
  gated_->wait_arrived(1);  // the hash pool's one thread is held up
  std::future<HttpResponse> queued = slow_login();
  ASSERT_NO_FATAL_FAILURE(wait_hash_pool_full());

  // Pages served from memory and pages that need the store still answer.
  HttpClient c(port_);
  HttpResponse cached = c.get(page);
  EXPECT_EQ(cached.status, 200);
  EXPECT_EQ(cached.body, first.body);
  HttpResponse listing = c.get("/api/v1/documents");
  EXPECT_EQ(listing.status, 200);
  EXPECT_EQ(json::parse(listing.body)["total"], 1);
  EXPECT_EQ(c.get("/").status, 200);
  EXPECT_EQ(c.get("/healthz").status, 200);
  EXPECT_EQ(c.get("/login").status, 200);  // the form itself hashes nothing

  // A third login finds the pool full: refused at once, with a time to retry.
  HttpResponse refused = c.request("POST", "/api/v1/auth/login", {"Content-Type: application/json"},
                                   json{{"email", kSlowEmail}, {"password", kTestPassword}}.dump());
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.header("retry-after"), "2");
  EXPECT_EQ(refused.header("content-type"), "application/json; charset=utf-8");
  json err = json::parse(refused.body);
  EXPECT_EQ(err["error"]["code"], "unavailable");
  EXPECT_EQ(err["error"]["retry_after"], 2);
  EXPECT_FALSE(err["error"]["message"].get<std::string>().empty());
  EXPECT_EQ(metric("paidoc_pool_rejected_total{pool=\"hash\"}"), 1);

  // The held-up logins were not lost: both succeed once the store moves.
  gated_->open();
  HttpResponse a = running.get();
  HttpResponse b = queued.get();
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(b.status, 200) << b.body;
  EXPECT_FALSE(json::parse(a.body)["token"].get<std::string>().empty());
  EXPECT_FALSE(json::parse(b.body)["token"].get<std::string>().empty());
  EXPECT_EQ(metric("paidoc_pool_queued{pool=\"hash\"}"), 0);
  EXPECT_TRUE(wait_metric("paidoc_pool_running{pool=\"hash\"}", 0))
      << "the hash pool still counts a login as running after both answered";
}

TEST_F(PoolsTest, AFullPoolAnswersPagesWithAChinesePage) {
  std::future<HttpResponse> running = slow_login();
  gated_->wait_arrived(1);
  std::future<HttpResponse> queued = slow_login();
  ASSERT_NO_FATAL_FAILURE(wait_hash_pool_full());

  Browser browser(port_);
  ASSERT_EQ(browser.get("/login").status, 200);  // takes the CSRF cookie
  HttpResponse form =
      browser.post("/login", {{"email", "reader@example.com"}, {"password", kTestPassword}});
  EXPECT_EQ(form.status, 503);
  EXPECT_EQ(form.header("retry-after"), "2");
  EXPECT_EQ(form.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(form.body.find("<html lang=\"zh-CN\">"), std::string::npos);
  EXPECT_NE(form.body.find("服务繁忙"), std::string::npos);
  HttpResponse reg = browser.post("/register", {{"email", "new@example.com"},
                                                {"password", kTestPassword},
                                                {"password2", kTestPassword}});
  EXPECT_EQ(reg.status, 503);
  EXPECT_EQ(reg.header("retry-after"), "2");

  gated_->open();
  EXPECT_EQ(running.get().status, 200);
  EXPECT_EQ(queued.get().status, 200);
  // With room again, the same form is handled (and fails as a login: no such
  // account).
  HttpResponse later =
      browser.post("/login", {{"email", "reader@example.com"}, {"password", kTestPassword}});
  EXPECT_EQ(later.status, 401);
}

TEST_F(PoolsTest, StopFinishesHeldUpRequestsAndWritesTheirResponses) {
  std::future<HttpResponse> running = slow_login();
  gated_->wait_arrived(1);
  std::future<HttpResponse> queued = slow_login();
  ASSERT_NO_FATAL_FAILURE(wait_hash_pool_full());

  server_->stop();
  auto stopped = std::async(std::launch::async, [this] { thread_.join(); });
  gated_->open();
  HttpResponse a = running.get();
  HttpResponse b = queued.get();
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(a.header("connection"), "close");
  EXPECT_EQ(b.header("connection"), "close");
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

}  // namespace
}  // namespace paidoc::web
