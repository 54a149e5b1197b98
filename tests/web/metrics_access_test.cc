// Who may read /metrics (issue 16, finding 8): not the public. By default
// the site's address answers it 404; the operations listener
// (ServerOptions::metrics_host, `serve --metrics-listen`) serves it and
// /healthz and nothing else; a configured metrics token (`--metrics-token`)
// unlocks it on the site's address for "Authorization: Bearer <token>".
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "commerce/commerce.h"
#include "common/clock.h"
#include "web/http_client.h"
#include "web/server.h"
#include "web/test_store.h"

namespace paidoc::web {
namespace {

using testing::HttpClient;
using testing::HttpResponse;

constexpr std::string_view kMetricsDocument =
    "社区图书角使用说明\n"
    "图书角向本楼居民开放，借阅登记后可带回家阅读。\n"
    "##paidbegin##\n"
    "钥匙放在信箱旁边的蓝色盒子里。\n"
    "##paidend##\n";

// The exposition's mark: every /metrics answer has it, no other page does.
constexpr const char* kExpositionMark = "# TYPE paidoc_http_requests_total counter";

class MetricsAccessTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    commerce_.reset();
    testing::close_test_store(t_);
  }

  // Starts a server with `opts` (port, threads and logging filled in here).
  void start(ServerOptions opts) {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-metrics-test", clock_, t_));
    library::ImportOptions io;
    io.price = Fen(300);
    library::ImportLine line = t_.library->import_bytes(kMetricsDocument, "corner.txt", io);
    ASSERT_TRUE(line.ok) << line.error;
    commerce_ = std::make_unique<commerce::Commerce>(
        *t_.store, *t_.store, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    opts.port = 0;
    opts.threads = 1;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.clock = &clock_;
    server_ = std::make_unique<Server>(*t_.store, *t_.library, *t_.accounts, *commerce_, opts);
    Status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    thread_ = std::thread([this] { server_->run(); });
  }

  static HttpResponse get(uint16_t port, const std::string& target,
                          const std::vector<std::string>& headers = {}) {
    HttpClient c(port);
    return c.get(target, headers);
  }

  FakeClock clock_;
  testing::TestStore t_;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST_F(MetricsAccessTest, MetricsAreNotPublicByDefault) {
  ASSERT_NO_FATAL_FAILURE(start(ServerOptions{}));
  const uint16_t port = server_->port();
  EXPECT_EQ(server_->metrics_port(), 0);
  const std::vector<std::vector<std::string>> asks = {
      {}, {"Authorization: Bearer anything-at-all-0123456789"}, {testing::metrics_auth()}};
  for (const std::vector<std::string>& headers : asks) {
    HttpResponse r = get(port, "/metrics", headers);
    EXPECT_EQ(r.status, 404) << (headers.empty() ? "" : headers[0]);
    EXPECT_EQ(r.body.find(kExpositionMark), std::string::npos);
    EXPECT_EQ(r.body.find("paidoc_"), std::string::npos);
  }
  // The same 404 as any unknown path: nothing tells that /metrics exists.
  HttpResponse unknown = get(port, "/no-such-path");
  EXPECT_EQ(get(port, "/metrics").body, unknown.body);
  // HEAD too.
  HttpClient c(port);
  EXPECT_EQ(c.request("HEAD", "/metrics").status, 404);
  // The rest of the site and the load balancers' probe are as before.
  EXPECT_EQ(get(port, "/healthz").status, 200);
  EXPECT_EQ(get(port, "/").status, 200);
}

TEST_F(MetricsAccessTest, MetricsListenServesThemOnItsOwnAddress) {
  ServerOptions opts;
  opts.metrics_host = "127.0.0.1";
  opts.metrics_port = 0;
  ASSERT_NO_FATAL_FAILURE(start(opts));
  const uint16_t site = server_->port();
  const uint16_t ops = server_->metrics_port();
  ASSERT_NE(ops, 0);
  ASSERT_NE(ops, site);

  // Something to count, on the site's address.
  ASSERT_EQ(get(site, "/healthz").status, 200);
  HttpResponse m = get(ops, "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find(kExpositionMark), std::string::npos);
  EXPECT_NE(m.body.find("paidoc_http_requests_total{route=\"healthz\",method=\"GET\",status=\"200\"}"),
            std::string::npos)
      << m.body.substr(0, 2000);
  EXPECT_NE(m.body.find("\npaidoc_documents 1\n"), std::string::npos);
  HttpResponse health = get(ops, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_NE(health.body.find("\"status\":\"ok\""), std::string::npos);

  // Nothing of the site on the operations listener: no pages, no API, no
  // static files, no document text.
  for (const char* target : {"/", "/d/1", "/api/v1/documents", "/api/v1/documents/1",
                             "/static/style.css", "/robots.txt", "/login", "/search?q=图书"}) {
    HttpResponse r = get(ops, target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.body.find("图书角"), std::string::npos) << target;
  }
  // And the site's address still does not serve them.
  EXPECT_EQ(get(site, "/metrics").status, 404);
}

TEST_F(MetricsAccessTest, ATokenUnlocksMetricsOnThePublicAddress) {
  ServerOptions opts;
  opts.metrics_token = testing::kTestMetricsToken;
  ASSERT_NO_FATAL_FAILURE(start(opts));
  const uint16_t port = server_->port();

  HttpResponse ok = get(port, "/metrics", {testing::metrics_auth()});
  ASSERT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find(kExpositionMark), std::string::npos);
  // The scheme is case-insensitive (RFC 9110 section 11.1).
  EXPECT_EQ(get(port, "/metrics",
                {std::string("Authorization: bearer ") + testing::kTestMetricsToken})
                .status,
            200);

  const std::string token = testing::kTestMetricsToken;
  for (const std::string& header :
       {std::string(),                                        // none
        "Authorization: Bearer " + token.substr(0, token.size() - 1),  // a prefix
        "Authorization: Bearer " + token + "x",               // longer
        "Authorization: Bearer " + token.substr(0, token.size() - 1) + "4",  // last byte differs
        "Authorization: Basic " + token,                      // another scheme
        "Cookie: paidoc_session=" + token}) {
    std::vector<std::string> headers;
    if (!header.empty()) headers.push_back(header);
    HttpResponse r = get(port, "/metrics", headers);
    EXPECT_EQ(r.status, 404) << header;
    EXPECT_EQ(r.body.find(kExpositionMark), std::string::npos) << header;
  }
}

}  // namespace
}  // namespace paidoc::web
