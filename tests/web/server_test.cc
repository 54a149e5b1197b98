// HTTP tests against a real Server on an ephemeral port, with a temporary
// SQLite store filled through the library. The documents are written for
// these tests; each paid part holds a distinctive sentence that no response
// may contain.
#include "web/server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"
#include "web/http_client.h"
#include "web/util.h"

namespace paidoc::web {
namespace {

using nlohmann::json;
using testing::count_of;
using testing::HttpClient;
using testing::HttpResponse;

// A report with one paid section holding two paid headings.
constexpr std::string_view kLibraryReport =
    "乡村图书室建设情况汇报\n"
    "今年以来，我们把乡村图书室建设作为文化惠民的重要抓手，全年新建图书室十二个。\n"
    "一、主要做法\n"
    "（一）统筹规划布局\n"
    "按照方便群众、就近借阅的原则，在人口较多的行政村优先布点。\n"
    "##paidbegin##\n"
    "二、下一步打算\n"
    "（一）完善借阅制度\n"
    "独角鲸在冰川下守护着第七把钥匙。\n"
    "（二）扩大志愿服务\n"
    "组织大学生志愿者在假期开展阅读推广，每周不少于两次。\n"
    "##paidend##\n"
    "以上汇报，请予审阅。\n";

// A paid run in the middle of a line, in a regulation with an article and a
// signature and date at its end.
constexpr std::string_view kReadingRoomRules =
    "街道社区书屋管理办法\n"
    "为规范社区书屋的日常管理，方便居民借阅，制定本办法。\n"
    "第一条　书屋由社区居委会统一管理。\n"
    "书屋开放时间为每天上午九点至下午五点，##paidbegin##夜间钥匙由值班员藏在第三块青砖下面。##"
    "paidend##节假日照常开放。\n"
    "本办法自发布之日起施行。\n"
    "某某街道办事处\n"
    "二〇二四年五月一日\n";

// Free only, with markup in the title and an ampersand in the category.
constexpr std::string_view kMarkupTitle =
    "关于<script>alert(1)</script>标签的说明\n"
    "这是一篇完全免费的说明文字，用来检查页面对特殊字符的转义是否正确。\n";

const char* const kPaidSentences[] = {"独角鲸", "第七把钥匙", "每周不少于两次", "青砖", "值班员"};
constexpr std::string_view kMarkupCategory = "其他 & 杂项";

class WebTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        std::filesystem::temp_directory_path() / ("paidoc-web-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto opened = store::Store::open("sqlite:" + (dir_ / "paidoc.db").string());
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
    library_ = std::make_unique<library::Library>(*store_);
    report_id_ = import(kLibraryReport, "report.txt", Fen(1250), "测试分类");
    rules_id_ = import(kReadingRoomRules, "rules.txt", Fen(300), "管理制度");
    markup_id_ = import(kMarkupTitle, "markup.txt", Fen(500), std::string(kMarkupCategory));

    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.site_name = "测试文库";
    // Every test of this suite searches from one address: no limits here
    // (search_limits_test.cc covers them).
    opts.search_limits = {0, 0, 0, 0};
    opts.metrics_token = testing::kTestMetricsToken;
    auth::Options ao;
    ao.pwhash_opslimit = 1;
    ao.pwhash_memlimit = 8192;
    accounts_ = std::make_unique<auth::Accounts>(*store_, clock_, ao);
    commerce_ = std::make_unique<commerce::Commerce>(
        *store_, *store_, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    server_ = std::make_unique<Server>(*store_, *library_, *accounts_, *commerce_, opts);
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
    accounts_.reset();
    library_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static int64_t import(std::string_view text, const std::string& path, Fen price,
                        std::string category) {
    library::ImportOptions o;
    o.price = price;
    o.category = std::move(category);
    library::ImportLine line = library_->import_bytes(text, path, o);
    EXPECT_TRUE(line.ok) << line.error;
    return line.id;
  }

  static HttpResponse get(const std::string& target, const std::vector<std::string>& headers = {}) {
    HttpClient c(port_);
    return c.get(target, headers);
  }

  static void expect_no_paid_text(const std::string& where, const std::string& body) {
    for (const char* s : kPaidSentences)
      EXPECT_EQ(body.find(s), std::string::npos) << where << " leaks " << s;
  }

  static void expect_html(const HttpResponse& r) {
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
    EXPECT_NE(r.header("content-security-policy").find("default-src 'self'"), std::string::npos);
    EXPECT_FALSE(r.header("referrer-policy").empty());
    EXPECT_NE(r.body.find("<html lang=\"zh-CN\">"), std::string::npos);
  }

  static json parse_json(const HttpResponse& r) {
    EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
    return json::parse(r.body);
  }

  // The value of one sample line in the metrics exposition, or -1.
  static double metric(const std::string& exposition, const std::string& series) {
    size_t p = exposition.find("\n" + series + " ");
    if (p == std::string::npos) return -1;
    return std::stod(exposition.substr(p + series.size() + 2));
  }

  static inline std::filesystem::path dir_;
  static inline std::unique_ptr<store::Store> store_;
  static inline std::unique_ptr<library::Library> library_;
  static inline FakeClock clock_{1'767'225'600};
  static inline std::unique_ptr<auth::Accounts> accounts_;
  static inline std::unique_ptr<commerce::Commerce> commerce_;
  static inline std::unique_ptr<Server> server_;
  static inline std::thread thread_;
  static inline uint16_t port_ = 0;
  static inline int64_t report_id_ = 0, rules_id_ = 0, markup_id_ = 0;
};

std::string doc_url(int64_t id) { return "/d/" + std::to_string(id); }

// --- pages ----------------------------------------------------------------------

TEST_F(WebTest, HomeListsDocumentsAndCategories) {
  HttpResponse r = get("/");
  ASSERT_EQ(r.status, 200);
  expect_html(r);
  EXPECT_NE(r.body.find("测试文库"), std::string::npos);
  EXPECT_NE(r.body.find("乡村图书室建设情况汇报"), std::string::npos);
  EXPECT_NE(r.body.find("href=\"" + doc_url(report_id_) + "\""), std::string::npos);
  EXPECT_NE(r.body.find("¥12.50"), std::string::npos);
  EXPECT_NE(r.body.find("免费"), std::string::npos);
  // Category links are percent-encoded, then attribute-escaped.
  EXPECT_NE(r.body.find("href=\"/c/%E6%B5%8B%E8%AF%95%E5%88%86%E7%B1%BB\""), std::string::npos);
  EXPECT_NE(r.body.find("其他 &amp; 杂项"), std::string::npos);
  // The public excerpt and the hidden-part counts, never the paid text.
  EXPECT_NE(r.body.find("全年新建图书室十二个"), std::string::npos);
  EXPECT_NE(r.body.find("付费部分"), std::string::npos);
  expect_no_paid_text("/", r.body);
  EXPECT_EQ(r.header("cache-control"), "private, max-age=0");
}

TEST_F(WebTest, HomePaging) {
  EXPECT_EQ(get("/?page=1").status, 200);
  HttpResponse far = get("/?page=99");
  EXPECT_EQ(far.status, 200);
  EXPECT_NE(far.body.find("这里还没有文档"), std::string::npos);
  for (const char* bad : {"/?page=0", "/?page=abc", "/?page=-2", "/?page=99999999999"}) {
    HttpResponse r = get(bad);
    EXPECT_EQ(r.status, 400) << bad;
    expect_html(r);
  }
}

TEST_F(WebTest, EscapesMarkupInTitles) {
  for (const std::string& target :
       {std::string("/"), doc_url(markup_id_), std::string("/feed.xml"),
        "/c/" + std::string("%E5%85%B6%E4%BB%96%20%26%20%E6%9D%82%E9%A1%B9")}) {
    HttpResponse r = get(target);
    ASSERT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body.find("<script>"), std::string::npos) << target;
    EXPECT_NE(r.body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << target;
  }
}

TEST_F(WebTest, DocumentPageShowsFreeTextAndPaywallOnly) {
  HttpResponse r = get(doc_url(report_id_));
  ASSERT_EQ(r.status, 200);
  expect_html(r);
  const std::string& b = r.body;
  EXPECT_NE(b.find("<h1 class=\"doc-title\">乡村图书室建设情况汇报</h1>"), std::string::npos);
  EXPECT_NE(b.find("全年新建图书室十二个"), std::string::npos);
  EXPECT_NE(b.find("在人口较多的行政村优先布点"), std::string::npos);
  EXPECT_NE(b.find("以上汇报，请予审阅"), std::string::npos);
  EXPECT_NE(b.find("<h2>一、主要做法</h2>"), std::string::npos);
  EXPECT_NE(b.find("<h3>（一）统筹规划布局</h3>"), std::string::npos);
  // The paywall card: price, counts, outline of the paid headings, buy link.
  EXPECT_EQ(count_of(b, "class=\"paywall\""), 1u);
  EXPECT_NE(b.find("付费内容"), std::string::npos);
  EXPECT_NE(b.find("¥12.50"), std::string::npos);
  EXPECT_NE(b.find("二、下一步打算"), std::string::npos);
  EXPECT_NE(b.find("（一）完善借阅制度"), std::string::npos);
  EXPECT_NE(b.find("（二）扩大志愿服务"), std::string::npos);
  EXPECT_NE(b.find("href=\"/login?next=" + percent_encode(doc_url(report_id_) + "#buy") + "\""),
            std::string::npos);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      b, m, std::regex("<strong>(\\d+)</strong> 字、<strong>(\\d+)</strong> 段")));
  EXPECT_GT(std::stoi(m[1]), 10);
  EXPECT_EQ(std::stoi(m[2]), 5);  // three headings, two paragraphs
  // The paywall stands between the free paragraphs around the paid part.
  size_t body = b.find("class=\"doc-body\"");
  EXPECT_LT(b.find("优先布点", body), b.find("class=\"paywall\""));
  EXPECT_GT(b.find("请予审阅", body), b.find("class=\"paywall\""));
  // Metadata carries the title and free text only.
  EXPECT_NE(b.find("<meta name=\"description\" content=\"今年以来"), std::string::npos);
  EXPECT_NE(b.find("<meta property=\"og:title\" content=\"乡村图书室建设情况汇报\">"),
            std::string::npos);
  expect_no_paid_text("document page", b);
  // Gated responses are private and vary by credentials.
  EXPECT_EQ(r.header("cache-control"), "private, max-age=0");
  EXPECT_EQ(r.header("vary"), "Cookie, Authorization");
  EXPECT_FALSE(r.header("etag").empty());
}

TEST_F(WebTest, DocumentPageWithMidLinePaidRun) {
  HttpResponse r = get(doc_url(rules_id_));
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("书屋开放时间为每天上午九点至下午五点，"), std::string::npos);
  EXPECT_NE(r.body.find("节假日照常开放。"), std::string::npos);
  EXPECT_EQ(count_of(r.body, "class=\"paywall\""), 1u);
  expect_no_paid_text("mid-line document", r.body);
  // An article is a run-in heading (format.md §6.2): its label leads its
  // paragraph instead of standing as a heading of its own.
  EXPECT_NE(r.body.find("<p><strong class=\"run-in run-in-l1\">第一条　</strong>"
                        "书屋由社区居委会统一管理。</p>"),
            std::string::npos);
  json api = parse_json(get("/api/v1/documents/" + std::to_string(rules_id_)));
  bool run_in = false;
  for (const auto& b : api["blocks"])
    if (b.value("run_in", false)) run_in = b["text"] == "书屋由社区居委会统一管理。";
  EXPECT_TRUE(run_in) << api.dump();
  // The signature and the date close the page as one group on the right,
  // the date in Arabic numerals (format.md §6.4).
  EXPECT_NE(r.body.find("<div class=\"closing-sign\"><p>某某街道办事处</p>"
                        "<p class=\"closing-date\">2024年5月1日</p></div>"),
            std::string::npos);
}

TEST_F(WebTest, FreeDocumentHasNoPaywall) {
  HttpResponse r = get(doc_url(markup_id_));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("class=\"paywall\""), std::string::npos);
  EXPECT_NE(r.body.find("这是一篇完全免费的说明文字"), std::string::npos);
  EXPECT_NE(r.body.find("免费"), std::string::npos);
}

TEST_F(WebTest, DocumentPageIsCachedAndRevalidates) {
  HttpClient c(port_);
  HttpResponse first = c.get(doc_url(rules_id_));
  HttpResponse second = c.get(doc_url(rules_id_));
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.body, second.body);
  EXPECT_EQ(first.header("etag"), second.header("etag"));
  HttpResponse metrics = c.get("/metrics", {testing::metrics_auth()});
  EXPECT_GE(metric(metrics.body, "paidoc_render_cache_total{result=\"hit\"}"), 1);

  HttpResponse not_modified = c.get(doc_url(rules_id_), {"If-None-Match: " + first.header("etag")});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(not_modified.header("etag"), first.header("etag"));
  EXPECT_EQ(not_modified.header("cache-control"), "private, max-age=0");
  EXPECT_EQ(c.get(doc_url(rules_id_), {"If-None-Match: \"nope\""}).status, 200);
}

TEST_F(WebTest, UpdatedDocumentIsRenderedAnew) {
  std::string v1 = "可更新的通知\n第一版的正文内容，用于检验缓存。\n";
  std::string v2 = "可更新的通知\n第二版的正文内容，缓存应当失效。\n";
  int64_t id = import(v1, "update.txt", Fen(100), "");
  HttpResponse a = get(doc_url(id));
  ASSERT_EQ(a.status, 200);
  EXPECT_NE(a.body.find("第一版的正文内容"), std::string::npos);
  EXPECT_EQ(get("/api/v1/documents/" + std::to_string(id)).status, 200);  // warm the API cache
  ASSERT_EQ(import(v2, "update.txt", Fen(100), ""), id);
  HttpResponse b = get(doc_url(id));
  EXPECT_NE(b.body.find("第二版的正文内容"), std::string::npos);
  EXPECT_EQ(b.body.find("第一版的正文内容"), std::string::npos);
  EXPECT_NE(a.header("etag"), b.header("etag"));
  HttpResponse api = get("/api/v1/documents/" + std::to_string(id));
  EXPECT_NE(api.body.find("第二版的正文内容"), std::string::npos);
}

TEST_F(WebTest, BadAndMissingDocumentIds) {
  for (const char* bad : {"/d/abc", "/d/0", "/d/-1", "/d/99999999999999999999", "/d/1x"}) {
    HttpResponse r = get(bad);
    EXPECT_EQ(r.status, 400) << bad;
    expect_html(r);
    EXPECT_NE(r.body.find("href=\"/\""), std::string::npos);
  }
  HttpResponse missing = get("/d/987654");
  EXPECT_EQ(missing.status, 404);
  expect_html(missing);
  EXPECT_NE(missing.body.find("页面不存在"), std::string::npos);
  EXPECT_NE(missing.body.find("href=\"/\""), std::string::npos);
}

TEST_F(WebTest, CategoryPage) {
  HttpResponse r = get("/c/%E6%B5%8B%E8%AF%95%E5%88%86%E7%B1%BB");  // 测试分类
  ASSERT_EQ(r.status, 200);
  expect_html(r);
  EXPECT_NE(r.body.find("<h1 class=\"page-title\">测试分类</h1>"), std::string::npos);
  EXPECT_NE(r.body.find("乡村图书室建设情况汇报"), std::string::npos);
  EXPECT_EQ(r.body.find("街道社区书屋管理办法"), std::string::npos);
  expect_no_paid_text("category", r.body);
  EXPECT_EQ(get("/c/%E6%B5%8B%E8%AF%95%E5%88%86%E7%B1%BB?page=2").status, 200);
  EXPECT_EQ(get("/c/%E6%B5%8B%E8%AF%95%E5%88%86%E7%B1%BB?page=x").status, 400);
  EXPECT_EQ(get("/c/%E4%B8%8D%E5%AD%98%E5%9C%A8").status, 404);  // 不存在
  EXPECT_EQ(get("/c/%ZZ").status, 400);
  EXPECT_EQ(get("/c/%FF").status, 400);  // not UTF-8
}

TEST_F(WebTest, AccountFormsRender) {
  for (const char* target : {"/login", "/register", "/login?next=/d/1"}) {
    HttpResponse r = get(target);
    EXPECT_EQ(r.status, 200) << target;
    expect_html(r);
    EXPECT_NE(r.body.find("name=\"csrf\""), std::string::npos) << target;
    EXPECT_NE(r.header("set-cookie").find("paidoc_csrf="), std::string::npos) << target;
  }
}

TEST_F(WebTest, StaticFiles) {
  HttpResponse home = get("/");
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(home.body, m, std::regex("href=\"(/static/style\\.css\\?v=[0-9a-f]+)\"")));
  HttpResponse css = get(m[1]);
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.header("content-type"), "text/css; charset=utf-8");
  EXPECT_NE(css.header("cache-control").find("max-age=31536000"), std::string::npos);
  EXPECT_NE(css.body.find("line-height"), std::string::npos);
  ASSERT_FALSE(css.header("etag").empty());
  HttpResponse again = get("/static/style.css", {"If-None-Match: " + css.header("etag")});
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(get("/static/favicon.svg").header("content-type"), "image/svg+xml");
  EXPECT_EQ(get("/static/nope.css").status, 404);
  EXPECT_EQ(get("/static/../templates/home.html").status, 404);
}

// --- crawlers and feeds ----------------------------------------------------------

TEST_F(WebTest, RobotsTxt) {
  HttpResponse r = get("/robots.txt");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_NE(r.body.find("User-agent: *"), std::string::npos);
  EXPECT_NE(r.body.find("Allow: /"), std::string::npos);
  EXPECT_NE(r.body.find("Sitemap: http://127.0.0.1:" + std::to_string(port_) + "/sitemap.xml"),
            std::string::npos);
}

TEST_F(WebTest, Sitemap) {
  HttpResponse r = get("/sitemap.xml");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/xml; charset=utf-8");
  EXPECT_EQ(r.body.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u);
  EXPECT_NE(r.body.find("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"),
            std::string::npos);
  std::string base = "http://127.0.0.1:" + std::to_string(port_);
  EXPECT_NE(r.body.find("<loc>" + base + doc_url(report_id_) + "</loc><lastmod>"),
            std::string::npos);
  EXPECT_NE(r.body.find("<loc>" + base + "/c/%E6%B5%8B%E8%AF%95%E5%88%86%E7%B1%BB</loc>"),
            std::string::npos);
  EXPECT_EQ(count_of(r.body, "<url>"), count_of(r.body, "</url>"));
  Result<int64_t> docs = library_->count();
  Result<std::vector<store::Category>> cats = library_->categories();
  ASSERT_TRUE(docs.ok() && cats.ok());
  // Home, documents, categories and the five trust pages (/about, …).
  EXPECT_EQ(count_of(r.body, "<url>"),
            static_cast<size_t>(1 + *docs + static_cast<int64_t>(cats->size())) +
                trust_page_infos().size());
  EXPECT_EQ(r.body.find(" & "), std::string::npos);
  expect_no_paid_text("sitemap", r.body);
}

TEST_F(WebTest, AtomFeed) {
  HttpResponse r = get("/feed.xml");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/atom+xml; charset=utf-8");
  EXPECT_EQ(r.body.rfind("<?xml version=\"1.0\" encoding=\"utf-8\"?>", 0), 0u);
  EXPECT_NE(r.body.find("<feed xmlns=\"http://www.w3.org/2005/Atom\""), std::string::npos);
  Result<int64_t> docs = library_->count();
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(count_of(r.body, "<entry>"), static_cast<size_t>(std::min<int64_t>(*docs, 50)));
  EXPECT_EQ(count_of(r.body, "<entry>"), count_of(r.body, "</entry>"));
  EXPECT_NE(r.body.find("<summary type=\"text\">今年以来"), std::string::npos);
  EXPECT_NE(r.body.find("<category term=\"其他 &amp; 杂项\"/>"), std::string::npos);
  // Every '&' starts an entity.
  EXPECT_FALSE(std::regex_search(r.body, std::regex("&(?!(amp|lt|gt|quot|#39);)")));
  expect_no_paid_text("feed", r.body);
}

// --- operations ------------------------------------------------------------------

TEST_F(WebTest, Healthz) {
  HttpResponse r = get("/healthz");
  ASSERT_EQ(r.status, 200);
  json j = parse_json(r);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_GE(j["documents"].get<int64_t>(), 3);
}

TEST_F(WebTest, MetricsCountRequests) {
  HttpClient c(port_);
  HttpResponse before = c.get("/metrics", {testing::metrics_auth()});
  std::string series =
      "paidoc_http_requests_total{route=\"healthz\",method=\"GET\",status=\"200\"}";
  double n0 = std::max(0.0, metric(before.body, series));
  ASSERT_EQ(c.get("/healthz").status, 200);
  HttpResponse after = c.get("/metrics", {testing::metrics_auth()});
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(metric(after.body, series), n0 + 1);
  EXPECT_NE(after.body.find("# TYPE paidoc_http_request_duration_seconds histogram"),
            std::string::npos);
  EXPECT_GE(metric(after.body,
                   "paidoc_http_request_duration_seconds_bucket{route=\"healthz\",le=\"+Inf\"}"),
            1);
  EXPECT_GE(metric(after.body, "paidoc_http_request_duration_seconds_count{route=\"healthz\"}"), 1);
  EXPECT_GE(metric(after.body, "paidoc_http_request_duration_seconds_sum{route=\"healthz\"}"), 0);
  EXPECT_GE(metric(after.body, "paidoc_documents"), 3);
  // Unknown paths are counted under one label, whatever the path.
  c.get("/no/such/page");
  EXPECT_GE(metric(c.get("/metrics", {testing::metrics_auth()}).body,
                   "paidoc_http_requests_total{route=\"not_found\",method=\"GET\",status=\"404\"}"),
            1);
}

// --- JSON API --------------------------------------------------------------------

// --- search ----------------------------------------------------------------------

TEST_F(WebTest, ApiSearchFlagsAPaidOnlyMatchWithoutShowingIt) {
  // 独角鲸 appears only in the report's paid text.
  HttpResponse r = get("/api/v1/search?q=%E7%8B%AC%E8%A7%92%E9%B2%B8");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("cache-control"), "private, max-age=0");
  EXPECT_NE(r.header("server-timing").find("search;dur="), std::string::npos);
  json j = parse_json(r);
  EXPECT_EQ(j["total"], 1);
  ASSERT_EQ(j["hits"].size(), 1u);
  const json& h = j["hits"][0];
  for (const char* k : {"id", "title", "snippet", "match_in_paid", "price_fen", "locked"})
    EXPECT_TRUE(h.contains(k)) << k;
  EXPECT_EQ(h["id"], report_id_);
  EXPECT_EQ(h["match_in_paid"], true);
  EXPECT_EQ(h["locked"], true);
  EXPECT_EQ(h["paid_terms"], json::array({"独角鲸"}));
  // The reader's own word comes back; the paid text around it does not.
  for (const char* paid : {"冰川下守护", "第七把钥匙", "每周不少于两次", "青砖", "值班员"})
    EXPECT_EQ(r.body.find(paid), std::string::npos) << paid;
}

TEST_F(WebTest, SearchPageMarksTermsAndSaysWhatIsInThePaidPart) {
  HttpResponse r = get("/search?q=%E5%9B%BE%E4%B9%A6%E5%AE%A4+%E7%8B%AC%E8%A7%92%E9%B2%B8");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("找到 1 篇相关文档"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<mark>图书室</mark>"), std::string::npos);
  EXPECT_NE(r.body.find("全文中包含"), std::string::npos);
  EXPECT_NE(r.body.find("<mark>独角鲸</mark>"), std::string::npos);  // the reader's own word
  EXPECT_NE(r.body.find("noindex"), std::string::npos);
  for (const char* paid : {"冰川下守护", "第七把钥匙", "每周不少于两次"})
    EXPECT_EQ(r.body.find(paid), std::string::npos) << paid;
}

TEST_F(WebTest, SearchWithoutResultsSuggestsDroppingAWord) {
  HttpResponse r = get("/search?q=%E5%9B%BE%E4%B9%A6%E5%AE%A4+%E7%81%AB%E6%98%9F%E5%9F%BA%E5%9C%B0");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("没有找到"), std::string::npos);
  EXPECT_NE(r.body.find("去掉“火星基地”"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("/search?q=%E5%9B%BE%E4%B9%A6%E5%AE%A4"), std::string::npos);
}

TEST_F(WebTest, SearchRejectsBadFiltersClearly) {
  HttpResponse r = get("/api/v1/search?q=x&price=cheap");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("price"), std::string::npos);
  EXPECT_EQ(get("/api/v1/search?q=x&sort=random").status, 400);
  EXPECT_EQ(get("/api/v1/search?q=x&page=0").status, 400);
  // Nothing searchable is an empty result, not an error.
  HttpResponse empty = get("/api/v1/search?q=%EF%BC%8C");
  ASSERT_EQ(empty.status, 200);
  EXPECT_EQ(parse_json(empty)["total"], 0);
}

TEST_F(WebTest, ApiDocumentList) {
  HttpResponse r = get("/api/v1/documents");
  ASSERT_EQ(r.status, 200);
  json j = parse_json(r);
  EXPECT_GE(j["total"].get<int64_t>(), 3);
  EXPECT_EQ(j["page"], 1);
  EXPECT_EQ(j["per_page"], 20);
  bool found = false;
  for (const auto& item : j["items"]) {
    for (const char* k : {"id", "title", "category", "price_fen", "excerpt", "hidden_chars",
                          "hidden_paragraphs", "has_paid", "created_at", "updated_at"})
      EXPECT_TRUE(item.contains(k)) << k;
    if (item["id"] == report_id_) {
      found = true;
      EXPECT_EQ(item["price_fen"], 1250);
      EXPECT_EQ(item["category"], "测试分类");
      EXPECT_EQ(item["has_paid"], true);
      EXPECT_EQ(item["hidden_paragraphs"], 5);
    }
  }
  EXPECT_TRUE(found);
  expect_no_paid_text("api list", r.body);

  json filtered =
      parse_json(get("/api/v1/documents?category=%E7%AE%A1%E7%90%86%E5%88%B6%E5%BA%A6"));
  ASSERT_EQ(filtered["total"], 1);
  EXPECT_EQ(filtered["items"][0]["id"], rules_id_);
  EXPECT_EQ(parse_json(get("/api/v1/documents?page=2"))["items"].size(), 0u);
  HttpResponse bad = get("/api/v1/documents?page=zero");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(parse_json(bad)["error"]["code"], "invalid_argument");
}

TEST_F(WebTest, ApiDocumentIsTheGatedView) {
  HttpResponse r = get("/api/v1/documents/" + std::to_string(report_id_));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("cache-control"), "private, max-age=0");
  EXPECT_EQ(r.header("vary"), "Cookie, Authorization");
  json j = parse_json(r);
  EXPECT_EQ(j["id"], report_id_);
  EXPECT_EQ(j["title"], "乡村图书室建设情况汇报");
  EXPECT_EQ(j["category"], "测试分类");
  EXPECT_EQ(j["price_fen"], 1250);
  EXPECT_EQ(j["locked"], true);
  EXPECT_EQ(j["access"], "none");
  ASSERT_TRUE(j["blocks"].is_array());
  ASSERT_EQ(j["blocks"].size(), 5u);
  EXPECT_EQ(j["blocks"][0]["kind"], "paragraph");
  EXPECT_EQ(j["blocks"][1]["kind"], "heading");
  EXPECT_EQ(j["blocks"][1]["level"], 1);
  EXPECT_EQ(j["blocks"][1]["label"], "一、");
  EXPECT_EQ(j["blocks"][1]["text"], "主要做法");
  EXPECT_EQ(j["locked_before"], json::array({4}));
  EXPECT_EQ(j["teaser"]["hidden_paragraphs"], 5);
  EXPECT_GT(j["teaser"]["hidden_chars"].get<int64_t>(), 10);
  ASSERT_EQ(j["teaser"]["outline"].size(), 3u);
  EXPECT_EQ(j["teaser"]["outline"][0]["label"], "二、");
  EXPECT_EQ(j["teaser"]["outline"][0]["text"], "下一步打算");
  EXPECT_EQ(j["teaser"]["outline"][2]["level"], 2);
  EXPECT_TRUE(j.contains("created_at"));
  EXPECT_TRUE(j.contains("updated_at"));
  expect_no_paid_text("api document", r.body);

  HttpResponse again = get("/api/v1/documents/" + std::to_string(report_id_),
                           {"If-None-Match: " + r.header("etag")});
  EXPECT_EQ(again.status, 304);
}

TEST_F(WebTest, ApiErrorsAreJson) {
  HttpResponse missing = get("/api/v1/documents/987654");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(parse_json(missing)["error"]["code"], "not_found");
  HttpResponse bad = get("/api/v1/documents/abc");
  EXPECT_EQ(bad.status, 400);
  json e = parse_json(bad);
  EXPECT_EQ(e["error"]["code"], "invalid_argument");
  EXPECT_TRUE(e["error"]["message"].is_string());
  HttpResponse unknown = get("/api/v1/nothing-here");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(parse_json(unknown)["error"]["code"], "not_found");
}

// --- protocol ----------------------------------------------------------------------

TEST_F(WebTest, UnknownPathIs404PageWithoutEcho) {
  HttpResponse r = get("/zz-unknown<script>qqq");
  EXPECT_EQ(r.status, 404);
  expect_html(r);
  EXPECT_NE(r.body.find("href=\"/\""), std::string::npos);
  EXPECT_EQ(r.body.find("qqq"), std::string::npos);
  EXPECT_EQ(r.body.find("zz-unknown"), std::string::npos);
}

TEST_F(WebTest, UnsupportedMethodIs405WithAllow) {
  HttpClient c(port_);
  HttpResponse page = c.request("POST", "/");
  EXPECT_EQ(page.status, 405);
  EXPECT_EQ(page.header("allow"), "GET, HEAD");
  expect_html(page);
  HttpResponse api = c.request("DELETE", "/api/v1/documents/1");
  EXPECT_EQ(api.status, 405);
  EXPECT_EQ(api.header("allow"), "GET, HEAD");
  EXPECT_EQ(parse_json(api)["error"]["code"], "method_not_allowed");
}

TEST_F(WebTest, HeadMatchesGetWithoutBody) {
  std::vector<std::string> targets = {"/",
                                      doc_url(report_id_),
                                      "/c/%E6%B5%8B%E8%AF%95%E5%88%86%E7%B1%BB",
                                      "/login",
                                      "/register",
                                      "/static/style.css",
                                      "/robots.txt",
                                      "/sitemap.xml",
                                      "/feed.xml",
                                      "/api/v1/documents",
                                      "/api/v1/documents/" + std::to_string(report_id_),
                                      "/healthz",
                                      "/metrics",
                                      "/d/abc",
                                      "/nope"};
  HttpClient c(port_);
  for (const auto& t : targets) {
    HttpResponse g = c.request("GET", t);
    HttpResponse h = c.request("HEAD", t);
    EXPECT_EQ(h.status, g.status) << t;
    EXPECT_TRUE(h.body.empty()) << t;
    // A fresh CSRF cookie is random: compare its name and attributes only.
    auto comparable = [](const std::string& k, const std::string& v) {
      if (k != "set-cookie") return k + ": " + v;
      size_t eq = v.find('='), semi = v.find(';');
      return k + ": " + v.substr(0, eq + 1) + (semi == std::string::npos ? "" : v.substr(semi));
    };
    std::set<std::string> gh, hh;
    for (const auto& [k, v] : g.headers)
      if (k != "date" && k != "content-length") gh.insert(comparable(k, v));
    for (const auto& [k, v] : h.headers)
      if (k != "date" && k != "content-length") hh.insert(comparable(k, v));
    EXPECT_EQ(gh, hh) << t;
    ASSERT_TRUE(h.has_header("content-length")) << t;
    if (t != "/metrics") {  // counters move between the two requests
      EXPECT_EQ(std::stoul(h.header("content-length")), g.body.size()) << t;
    }
  }
  // The connection is still usable after HEAD responses without bodies.
  EXPECT_EQ(c.get("/healthz").status, 200);
}

TEST_F(WebTest, KeepAliveServesManyRequestsOnOneConnection) {
  HttpClient c(port_);
  for (int i = 0; i < 3; ++i) {
    for (const std::string& t : {std::string("/"), doc_url(report_id_), std::string("/healthz"),
                                 std::string("/api/v1/documents")}) {
      HttpResponse r = c.get(t);
      EXPECT_EQ(r.status, 200) << t;
      EXPECT_NE(r.header("connection"), "close");
    }
  }
  EXPECT_TRUE(c.connected());
}

TEST_F(WebTest, ConnectionCloseAndHttp10) {
  HttpClient c(port_);
  HttpResponse r = c.get("/healthz", {"Connection: close"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.wait_closed());

  HttpClient old(port_);
  old.send_raw("GET /healthz HTTP/1.0\r\n\r\n");
  HttpResponse r10 = old.read_response(false);
  EXPECT_EQ(r10.status, 200);
  EXPECT_TRUE(old.wait_closed());
}

TEST_F(WebTest, MalformedAndOversizedRequests) {
  HttpClient c(port_);
  c.send_raw("THIS IS NOT HTTP\r\n\r\n");
  HttpResponse r = c.read_response(false);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(c.wait_closed());

  HttpClient big(port_);
  big.send_raw("POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
  HttpResponse tl = big.read_response(false);
  EXPECT_EQ(tl.status, 413);
  EXPECT_EQ(parse_json(tl)["error"]["code"], "payload_too_large");
  EXPECT_TRUE(big.wait_closed());
}

TEST_F(WebTest, NoResponseLeaksPaidText) {
  std::vector<std::string> targets = {"/",
                                      doc_url(report_id_),
                                      doc_url(rules_id_),
                                      "/feed.xml",
                                      "/sitemap.xml",
                                      "/api/v1/documents",
                                      "/api/v1/documents/" + std::to_string(report_id_),
                                      "/api/v1/documents/" + std::to_string(rules_id_),
                                      "/c/%E6%B5%8B%E8%AF%95%E5%88%86%E7%B1%BB",
                                      "/c/%E7%AE%A1%E7%90%86%E5%88%B6%E5%BA%A6",
                                      "/d/987654"};
  HttpClient c(port_);
  for (const auto& t : targets) {
    for (const char* method : {"GET", "HEAD"}) {
      HttpResponse r = c.request(method, t);
      expect_no_paid_text(std::string(method) + " " + t, r.raw_head + r.body);
    }
  }
}

// --- lifecycle -----------------------------------------------------------------------

class LifecycleTest : public WebTest {
 protected:
  std::unique_ptr<Server> make_server() {
    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    return std::make_unique<Server>(*store_, *library_, *accounts_, *commerce_, opts);
  }
};

TEST_F(LifecycleTest, StopWithIdleConnectionReturns) {
  auto server = make_server();
  ASSERT_TRUE(server->start().is_ok());
  auto done = std::async(std::launch::async, [&] { server->run(); });
  HttpClient c(server->port());
  EXPECT_EQ(c.get("/healthz").status, 200);  // now an idle keep-alive connection
  server->stop();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(c.wait_closed());
  EXPECT_THROW(HttpClient(server->port()).get("/healthz"), std::runtime_error);
}

TEST_F(LifecycleTest, StopLetsARequestInFlightFinish) {
  auto server = make_server();
  ASSERT_TRUE(server->start().is_ok());
  auto done = std::async(std::launch::async, [&] { server->run(); });
  HttpClient c(server->port());
  c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // headers not finished yet
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server->stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_NE(done.wait_for(std::chrono::milliseconds(0)), std::future_status::ready);
  c.send_raw("\r\n");
  HttpResponse r = c.read_response(false);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  ASSERT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

TEST_F(LifecycleTest, StopBeforeRunAndBusyPort) {
  auto server = make_server();
  ASSERT_TRUE(server->start().is_ok());
  ServerOptions opts;
  opts.port = server->port();
  opts.access_log = false;
  opts.handle_signals = false;
  Server second(*store_, *library_, *accounts_, *commerce_, opts);
  Status s = second.start();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find(std::to_string(server->port())), std::string::npos);
  server->stop();
  auto done = std::async(std::launch::async, [&] { server->run(); });
  EXPECT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

// --- a store that is down ------------------------------------------------------

// Every call fails as a database that cannot be reached would.
class DownStore : public store::Store {
 public:
  static Status down() { return Status::unavailable("database is locked: secret-internal-detail"); }
  Result<int> schema_version() override { return down(); }
  Result<std::unique_ptr<store::ExclusiveHold>> try_exclusive(const std::string&) override {
    return down();
  }
  bool shared_by_nodes() const override { return false; }
  Result<store::PutResult> put_document(const store::NewDocument&, int64_t) override {
    return down();
  }
  Result<std::vector<Result<store::PutResult>>> put_documents(
      const std::vector<store::NewDocument>&, int64_t) override {
    return down();
  }
  Result<store::StoredDocument> get_document(int64_t) override { return down(); }
  Result<int64_t> document_revision(int64_t) override { return down(); }
  Result<store::ListPage> list_documents(const store::ListQuery&) override { return down(); }
  Result<std::vector<store::Category>> list_categories() override { return down(); }
  Result<int64_t> count_documents() override { return down(); }
  Result<store::PutResult> save_document(const store::DocumentEdit&, int64_t) override { return down(); }
  Result<int64_t> bulk_update_documents(const std::vector<int64_t>&, const store::BulkChange&,
                                        std::optional<int64_t>, const store::AuditActor&,
                                        int64_t) override {
    return down();
  }
  Result<std::vector<store::DocumentRevision>> document_revisions(int64_t) override { return down(); }
  Result<store::DocumentRevision> get_document_revision(int64_t, int64_t) override { return down(); }
  Result<store::SearchPage> search(const store::SearchQuery&) override { return down(); }
  Result<int64_t> search_count(const store::SearchQuery&) override { return down(); }
  Result<store::Download> record_download(const store::NewDownload&) override { return down(); }
  Result<store::Download> get_download(int64_t) override { return down(); }
  Result<std::string> setting_or_init(const std::string&, const std::string&) override {
    return down();
  }
  Result<int64_t> append(const store::AuditEntry&) override { return down(); }
  Result<store::AuditPage> list(const store::AuditQuery&) override { return down(); }
  Status set_user_role_audited(int64_t, store::Role, const store::AuditEntry&) override {
    return down();
  }
  Result<bool> set_user_disabled_audited(int64_t, bool, int64_t,
                                         const store::AuditEntry&) override {
    return down();
  }
  Result<store::Order> refund_order_audited(int64_t, bool, const std::string&, const std::string&,
                                            int64_t, const store::AuditEntry&) override {
    return down();
  }
  Result<store::StartedRefund> refund_to_provider_audited(const store::ProviderRefundStart&,
                                                          const store::AuditEntry&) override {
    return down();
  }
  Result<Fen> credit_wallet_audited(int64_t, Fen, const std::string&, const std::string&, int64_t,
                                    const store::AuditEntry&) override {
    return down();
  }
  Result<store::User> create_user(const store::NewUser&, int64_t) override { return down(); }
  Result<store::User> find_user_by_email(const std::string&) override { return down(); }
  Result<store::User> get_user(int64_t) override { return down(); }
  Result<std::vector<store::User>> list_users(int64_t, int64_t) override { return down(); }
  Status set_user_role(int64_t, store::Role) override { return down(); }
  Result<store::UserPage> search_users(const std::string&, int64_t, int64_t) override {
    return down();
  }
  Result<bool> set_user_disabled(int64_t, bool, int64_t) override { return down(); }
  Status set_password_hash(int64_t, const std::string&, int64_t) override { return down(); }
  Result<store::PasswordReset> create_password_reset(const store::PasswordReset&) override { return down(); }
  Result<store::PasswordReset> find_password_reset(const std::string&) override { return down(); }
  Result<int64_t> complete_password_reset(const std::string&, const std::string&, int64_t,
                                          const store::AuditEntry&) override {
    return down();
  }
  Status delete_user(int64_t, int64_t) override { return down(); }
  Result<store::Session> create_session(const store::Session&, int64_t) override { return down(); }
  Result<store::Session> find_session(const std::string&) override { return down(); }
  Status touch_session(int64_t, int64_t) override { return down(); }
  Status delete_session(int64_t) override { return down(); }
  Status delete_user_sessions(int64_t, int64_t) override { return down(); }
  Result<std::vector<store::Session>> list_sessions(int64_t) override { return down(); }
  Result<int64_t> delete_expired_sessions(int64_t) override { return down(); }
  Result<store::Throttle> get_throttle(const std::string&) override { return down(); }
  Status put_throttle(const store::Throttle&) override { return down(); }
  Result<store::ThrottleHit> hit_throttles(const std::vector<store::ThrottleRule>&,
                                           int64_t) override {
    return down();
  }
  Status undo_throttle_hit(const std::string&) override { return down(); }
  Status clear_throttle(const std::string&) override { return down(); }
  Result<store::Order> create_order(const store::NewOrder&) override { return down(); }
  Result<store::Order> open_order(const store::NewOrder&, int64_t) override { return down(); }
  Result<store::Order> get_order(int64_t) override { return down(); }
  Result<store::Order> find_order(const std::string&) override { return down(); }
  Result<std::vector<store::Order>> user_orders(int64_t, int64_t) override { return down(); }
  Result<std::vector<store::Order>> orders_between(int64_t, int64_t) override { return down(); }
  Result<store::OrderPage> list_orders(const store::OrderQuery&) override { return down(); }
  Result<store::Order> pay_order_from_wallet(int64_t, int64_t, int64_t) override { return down(); }
  Result<store::Order> buy_from_wallet(const store::NewOrder&, int64_t) override { return down(); }
  Result<store::AppliedPayment> apply_payment(const store::PaymentNotice&) override {
    return down();
  }
  Result<int64_t> expire_orders(int64_t) override { return down(); }
  Result<store::Order> refund_order(int64_t, bool, const std::string&, const std::string&,
                                    int64_t) override {
    return down();
  }
  Result<Fen> credit_wallet(int64_t, Fen, const std::string&, const std::string&,
                            int64_t) override {
    return down();
  }
  Result<Fen> wallet_balance(int64_t) override { return down(); }
  Result<store::UserEntitlements> user_entitlements(int64_t) override { return down(); }
  Result<store::LedgerAudit> ledger_audit() override { return down(); }
  Result<store::StartedRefund> refund_to_provider(const store::ProviderRefundStart&) override {
    return down();
  }
  Result<store::AppliedRefund> apply_refund(const store::RefundNotice&) override { return down(); }
  Result<std::vector<store::Refund>> order_refunds(int64_t) override { return down(); }
  Result<std::vector<store::Refund>> pending_refunds(int64_t) override { return down(); }
  Status touch_refund(int64_t, const std::string&, int64_t) override { return down(); }
  Status record_payment_start(int64_t, const std::string&, int64_t) override { return down(); }
  Result<std::vector<store::PaymentStartRow>> open_payment_starts(int64_t, int64_t) override {
    return down();
  }
  Status close_payment_start(int64_t, const std::string&, int64_t) override { return down(); }
  Result<std::vector<store::Term>> list_terms(store::TermKind) override { return down(); }
  Result<store::Term> create_term(store::TermKind, const std::string&, const store::AuditActor&,
                                  int64_t) override {
    return down();
  }
  Result<store::Term> rename_term(store::TermKind, int64_t, const std::string&,
                                  const store::AuditActor&, int64_t) override {
    return down();
  }
  Result<bool> move_term(store::TermKind, int64_t, store::MoveDirection, const store::AuditActor&,
                         int64_t) override {
    return down();
  }
  Status delete_term(store::TermKind, int64_t, const store::AuditActor&, int64_t) override {
    return down();
  }
  Status set_document_tags(int64_t, const std::vector<std::string>&, int64_t) override {
    return down();
  }
  Result<std::vector<std::string>> document_tags(int64_t) override { return down(); }
};

TEST(WebDownTest, StoreFailuresAre503WithoutDetails) {
  DownStore store;
  library::Library library(store);
  FakeClock clock;
  auth::Options ao;
  ao.pwhash_opslimit = 1;
  ao.pwhash_memlimit = 8192;
  auth::Accounts accounts(store, clock, ao);
  commerce::Commerce shop(store, store, clock, {}, {});
  ServerOptions opts;
  opts.port = 0;
  opts.threads = 1;
  opts.access_log = false;
  opts.handle_signals = false;
  opts.metrics_token = testing::kTestMetricsToken;
  Server server(store, library, accounts, shop, opts);
  ASSERT_TRUE(server.start().is_ok());
  std::thread t([&] { server.run(); });
  {
    HttpClient c(server.port());
    HttpResponse health = c.get("/healthz");
    EXPECT_EQ(health.status, 503);
    EXPECT_EQ(json::parse(health.body)["status"], "unavailable");
    for (const char* target : {"/", "/d/1", "/c/x", "/feed.xml", "/sitemap.xml"}) {
      HttpResponse r = c.get(target);
      EXPECT_EQ(r.status, 503) << target;
      EXPECT_EQ(r.header("retry-after"), "2") << target;
      EXPECT_EQ(r.body.find("secret-internal-detail"), std::string::npos) << target;
    }
    for (const char* target : {"/api/v1/documents", "/api/v1/documents/1"}) {
      HttpResponse r = c.get(target);
      EXPECT_EQ(r.status, 503) << target;
      EXPECT_EQ(r.header("retry-after"), "2") << target;
      json j = json::parse(r.body);
      EXPECT_EQ(j["error"]["code"], "unavailable");
      EXPECT_EQ(r.body.find("secret-internal-detail"), std::string::npos) << target;
    }
    // A session that cannot be checked is an outage, not an anonymous visit.
    for (const char* target : {"/d/1", "/api/v1/me"}) {
      HttpResponse r = c.get(target, {"Cookie: paidoc_session=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"});
      EXPECT_EQ(r.status, 503) << target;
      EXPECT_EQ(r.body.find("secret-internal-detail"), std::string::npos) << target;
    }
    HttpResponse metrics = c.get("/metrics", {testing::metrics_auth()});
    EXPECT_EQ(metrics.status, 200);
    EXPECT_EQ(metrics.body.find("paidoc_documents "), std::string::npos);
  }
  server.stop();
  t.join();
}

}  // namespace
}  // namespace paidoc::web
