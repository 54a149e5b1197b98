// Compression over HTTP against a real Server: a client that accepts gzip
// (or Brotli) gets Content-Encoding, Vary and a body that decodes to exactly
// what an identity request gets, for the document page, JSON, CSS, the Atom
// feed and the sitemap; refused or absent Accept-Encoding gets identity;
// cached pages are compressed once; HEAD lengths, small bodies, ETags and
// 304s; and pages holding the CSRF token next to request text stay
// uncompressed (BREACH).
#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "commerce/commerce.h"
#include "common/clock.h"
#include "web/browser.h"
#include "web/decode.h"
#include "web/http_client.h"
#include "web/server.h"
#include "web/test_store.h"
#include "web/util.h"

namespace paidoc::web {
namespace {

using testing::Browser;
using testing::gunzip;
using testing::HttpClient;
using testing::HttpResponse;
using testing::unbrotli;

// A long free part (so the API JSON is over the 1 KiB threshold too) and a
// short paid one; written for these tests.
std::string long_document() {
  std::string s = "街道阅览室年度工作情况\n";
  for (int i = 1; i <= 30; ++i)
    s += "第" + std::to_string(i) + "项：阅览室的书架每周整理一次，借阅登记按日期归档，" +
         "志愿者轮流值守服务台。\n";
  s += "##paidbegin##\n下一年的采购清单放在二楼的蓝色文件柜里。\n##paidend##\n";
  return s;
}

class CompressionHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-compress-web", clock_, t_));
    commerce_ = std::make_unique<commerce::Commerce>(
        *t_.store, *t_.store, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    library::ImportOptions io;
    io.price = Fen(800);
    io.category = "工作总结";
    library::ImportLine line = t_.library->import_bytes(long_document(), "long.txt", io);
    ASSERT_TRUE(line.ok) << line.error;
    doc_id_ = line.id;
    // Enough listings for a sitemap and a feed over the threshold.
    for (int i = 1; i <= 20; ++i) {
      std::string text = "社区活动通知第" + std::to_string(i) + "号\n本周六上午在活动室举办读书分享会。\n";
      library::ImportLine l = t_.library->import_bytes(text, "n" + std::to_string(i) + ".txt", io);
      ASSERT_TRUE(l.ok) << l.error;
    }
    testing::add_reader(*t_.accounts, "reader@example.cn", testing::kTestPassword);

    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.site_name = "测试文库";
    opts.clock = &clock_;
    opts.search_limits = {0, 0, 0, 0};
    opts.metrics_token = testing::kTestMetricsToken;
    server_ = std::make_unique<Server>(*t_.store, *t_.library, *t_.accounts, *commerce_, opts);
    Status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    port_ = server_->port();
    thread_ = std::thread([] { server_->run(); });
  }

  static void TearDownTestSuite() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    commerce_.reset();
    testing::close_test_store(t_);
  }

  static HttpResponse get(const std::string& target, const std::vector<std::string>& headers = {}) {
    HttpClient c(port_);
    return c.get(target, headers);
  }
  static HttpResponse head(const std::string& target,
                           const std::vector<std::string>& headers = {}) {
    HttpClient c(port_);
    return c.request("HEAD", target, headers);
  }

  static bool varies_by_encoding(const HttpResponse& r) {
    auto [b, e] = r.headers.equal_range("vary");
    for (auto it = b; it != e; ++it)
      if (it->second.find("Accept-Encoding") != std::string::npos) return true;
    return false;
  }

  static double metric(const std::string& exposition, const std::string& series) {
    size_t p = exposition.find("\n" + series + " ");
    if (p == std::string::npos) return -1;
    return std::stod(exposition.substr(p + series.size() + 2));
  }

  static std::string doc_path() { return "/d/" + std::to_string(doc_id_); }

  // The compressible targets, one per kind: cached page, cached JSON,
  // handler-built JSON, static CSS, Atom feed, sitemap.
  static std::vector<std::string> targets() {
    HttpResponse home = get("/");
    std::smatch m;
    std::string css = "/static/style.css";
    if (std::regex_search(home.body, m, std::regex(R"(href="(/static/style\.css\?v=[^"]+)\")")))
      css = m[1];
    return {doc_path(), "/api/v1/documents/" + std::to_string(doc_id_), "/api/v1/documents",
            css, "/feed.xml", "/sitemap.xml"};
  }

  static inline FakeClock clock_{1'772'416'800};
  static inline testing::TestStore t_;
  static inline std::unique_ptr<commerce::Commerce> commerce_;
  static inline std::unique_ptr<Server> server_;
  static inline std::thread thread_;
  static inline uint16_t port_ = 0;
  static inline int64_t doc_id_ = 0;
};

TEST_F(CompressionHttpTest, GzipBodiesInflateToTheIdentityBody) {
  for (const std::string& t : targets()) {
    HttpResponse plain = get(t);
    ASSERT_EQ(plain.status, 200) << t;
    ASSERT_GE(plain.body.size(), 1024u) << t << ": too small to test compression";
    EXPECT_FALSE(plain.has_header("content-encoding")) << t;
    EXPECT_TRUE(varies_by_encoding(plain)) << t;

    HttpResponse gz = get(t, {"Accept-Encoding: gzip"});
    ASSERT_EQ(gz.status, 200) << t;
    EXPECT_EQ(gz.header("content-encoding"), "gzip") << t;
    EXPECT_TRUE(varies_by_encoding(gz)) << t;
    EXPECT_EQ(gz.header("content-type"), plain.header("content-type")) << t;
    EXPECT_LT(gz.body.size(), plain.body.size()) << t;
    std::optional<std::string> inflated = gunzip(gz.body);
    ASSERT_TRUE(inflated.has_value()) << t << ": not a gzip stream";
    EXPECT_EQ(*inflated, plain.body) << t;
  }
}

TEST_F(CompressionHttpTest, BrotliWhenPreferredOrTied) {
  for (const std::string& t : targets()) {
    HttpResponse plain = get(t);
    HttpResponse br = get(t, {"Accept-Encoding: gzip, deflate, br"});
    ASSERT_EQ(br.status, 200) << t;
    EXPECT_EQ(br.header("content-encoding"), "br") << t;
    EXPECT_EQ(unbrotli(br.body), plain.body) << t;

    HttpResponse prefer_gzip = get(t, {"Accept-Encoding: br;q=0.5, gzip"});
    EXPECT_EQ(prefer_gzip.header("content-encoding"), "gzip") << t;
  }
}

TEST_F(CompressionHttpTest, RefusedOrAbsentGzipGetsIdentity) {
  for (const std::string& t : targets()) {
    HttpResponse plain = get(t);
    for (const char* h : {"Accept-Encoding: gzip;q=0", "Accept-Encoding: identity",
                          "Accept-Encoding: *;q=0", "Accept-Encoding: deflate",
                          "Accept-Encoding: gzip;q=0, br;q=0"}) {
      HttpResponse r = get(t, {h});
      ASSERT_EQ(r.status, 200) << t << " " << h;
      EXPECT_FALSE(r.has_header("content-encoding")) << t << " " << h;
      EXPECT_EQ(r.body, plain.body) << t << " " << h;
      EXPECT_TRUE(varies_by_encoding(r)) << t << " " << h;
    }
    // "*" admits gzip when brotli is refused.
    HttpResponse star = get(t, {"Accept-Encoding: br;q=0, *"});
    EXPECT_EQ(star.header("content-encoding"), "gzip") << t;
  }
}

TEST_F(CompressionHttpTest, CachedPageIsCompressedOnceAndServedByteIdentical) {
  // A fresh revision: the next request misses, the ones after it hit.
  library::ImportOptions io;
  io.price = Fen(300);
  library::ImportLine line = t_.library->import_bytes(long_document() + "补充说明。\n", "c.txt", io);
  ASSERT_TRUE(line.ok) << line.error;
  std::string path = "/d/" + std::to_string(line.id);

  HttpClient c(port_);
  std::string before = c.get("/metrics", {testing::metrics_auth()}).body;
  HttpResponse first = c.get(path, {"Accept-Encoding: gzip"});
  HttpResponse second = c.get(path, {"Accept-Encoding: gzip"});
  HttpResponse plain = c.get(path);
  HttpResponse br = c.get(path, {"Accept-Encoding: br"});
  std::string after = c.get("/metrics", {testing::metrics_auth()}).body;

  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.header("content-encoding"), "gzip");
  EXPECT_EQ(first.body, second.body);
  EXPECT_EQ(first.header("etag"), second.header("etag"));
  EXPECT_EQ(gunzip(first.body), plain.body);
  EXPECT_EQ(unbrotli(br.body), plain.body);
  // One render for all four answers: the entry holds every representation.
  const std::string hit = "paidoc_render_cache_total{result=\"hit\"}";
  const std::string miss = "paidoc_render_cache_total{result=\"miss\"}";
  EXPECT_EQ(metric(after, miss) - metric(before, miss), 1);
  EXPECT_EQ(metric(after, hit) - metric(before, hit), 3);
}

TEST_F(CompressionHttpTest, HeadReportsTheLengthGetSends) {
  for (const std::string& t : targets()) {
    for (const char* h : {"Accept-Encoding: gzip", "Accept-Encoding: br", "X-None: 1"}) {
      HttpResponse g = get(t, {h});
      HttpResponse hd = head(t, {h});
      ASSERT_EQ(hd.status, 200) << t << " " << h;
      EXPECT_EQ(hd.header("content-length"), std::to_string(g.body.size())) << t << " " << h;
      EXPECT_EQ(hd.header("content-encoding"), g.header("content-encoding")) << t << " " << h;
      EXPECT_EQ(hd.header("etag"), g.header("etag")) << t << " " << h;
    }
  }
}

TEST_F(CompressionHttpTest, SmallBodiesStayIdentity) {
  for (const char* t : {"/robots.txt", "/healthz", "/static/favicon.svg"}) {
    HttpResponse r = get(t, {"Accept-Encoding: gzip, br"});
    ASSERT_EQ(r.status, 200) << t;
    ASSERT_LT(r.body.size(), 1024u) << t;
    EXPECT_FALSE(r.has_header("content-encoding")) << t;
    EXPECT_EQ(r.body, get(t).body) << t;
  }
}

TEST_F(CompressionHttpTest, EtagsDifferPerRepresentationAndEachGives304) {
  for (const std::string& t :
       {doc_path(), "/api/v1/documents/" + std::to_string(doc_id_), targets()[3]}) {
    HttpResponse plain = get(t);
    HttpResponse gz = get(t, {"Accept-Encoding: gzip"});
    std::string tag = plain.header("etag"), gz_tag = gz.header("etag");
    ASSERT_FALSE(tag.empty()) << t;
    ASSERT_FALSE(gz_tag.empty()) << t;
    EXPECT_NE(tag, gz_tag) << t;
    EXPECT_EQ(gz_tag, tag.substr(0, tag.size() - 1) + "-gz\"") << t;

    HttpResponse gz304 = get(t, {"Accept-Encoding: gzip", "If-None-Match: " + gz_tag});
    EXPECT_EQ(gz304.status, 304) << t;
    EXPECT_EQ(gz304.header("etag"), gz_tag) << t;
    EXPECT_TRUE(gz304.body.empty()) << t;
    EXPECT_EQ(get(t, {"Accept-Encoding: gzip", "If-None-Match: W/" + gz_tag}).status, 304) << t;
    EXPECT_EQ(get(t, {"If-None-Match: " + tag}).status, 304) << t;

    // A tag of the other representation does not validate this one.
    HttpResponse cross = get(t, {"Accept-Encoding: gzip", "If-None-Match: " + tag});
    EXPECT_EQ(cross.status, 200) << t;
    EXPECT_EQ(cross.header("content-encoding"), "gzip") << t;
    HttpResponse cross2 = get(t, {"If-None-Match: " + gz_tag});
    EXPECT_EQ(cross2.status, 200) << t;
    EXPECT_FALSE(cross2.has_header("content-encoding")) << t;
  }
}

// BREACH: the CSRF token next to text from the request is never compressed;
// the same page without request text is.
TEST_F(CompressionHttpTest, CsrfPagesThatReflectTheQueryAreNotCompressed) {
  HttpResponse login = get("/login?next=%2Fd%2F1", {"Accept-Encoding: gzip"});
  ASSERT_EQ(login.status, 200);
  ASSERT_GE(login.body.size(), 1024u);
  EXPECT_NE(login.body.find("name=\"csrf\""), std::string::npos);
  EXPECT_FALSE(login.has_header("content-encoding"));

  Browser b = testing::signed_in_browser(port_, "reader@example.cn");
  HttpResponse search = b.get("/search?q=" + percent_encode("阅览室"), {"Accept-Encoding: gzip"});
  ASSERT_EQ(search.status, 200);
  ASSERT_GE(search.body.size(), 1024u);
  EXPECT_NE(search.body.find(b.csrf()), std::string::npos);
  EXPECT_FALSE(search.has_header("content-encoding"));

  // Signed in, no query: compressed.
  HttpResponse me = b.get("/me", {"Accept-Encoding: gzip"});
  ASSERT_EQ(me.status, 200);
  ASSERT_EQ(me.header("content-encoding"), "gzip");
  std::optional<std::string> page = gunzip(me.body);
  ASSERT_TRUE(page.has_value());
  EXPECT_NE(page->find(b.csrf()), std::string::npos);
}

}  // namespace
}  // namespace paidoc::web
