// Trust pages over HTTP against a real Server: the five pages with their
// built-in text, a configured folder replacing them, what a configured file
// may not do (raw HTML, script links), the footer's links, ICP number and
// contact line, the sitemap, and the start-up errors for a folder or file
// that cannot be used. The texts are written for these tests.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "commerce/commerce.h"
#include "common/clock.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/server.h"
#include "web/test_store.h"
#include "web/trust_pages.h"

namespace paidoc::web {
namespace {

namespace fs = std::filesystem;
using testing::HttpClient;
using testing::HttpResponse;

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A sentence from each built-in page (web/pages/*.md), and its title.
struct Expected {
  const char* path;
  const char* title;
  const char* sentence;
};
constexpr Expected kDefaults[] = {
    {"/about", "关于我们", "读者可以免费阅读每篇文档的开头部分"},
    {"/terms", "用户协议", "请使用真实、有效的邮箱，并妥善保管密码"},
    {"/privacy", "隐私政策", "密码只以不可还原的方式保存"},
    {"/refund-policy", "购买与退款说明", "购买成功后原则上不支持无理由退款"},
    {"/contact", "联系客服", "我们通常在一个工作日内回复"},
};

class TrustPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-trust-web", clock_, t_));
    commerce_ = std::make_unique<commerce::Commerce>(
        *t_.store, *t_.store, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    pages_dir_ = t_.dir / "pages";
    fs::create_directories(pages_dir_);
  }

  void TearDown() override {
    stop();
    commerce_.reset();
    testing::close_test_store(t_);
  }

  ServerOptions options() const {
    ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.access_log = false;
    o.handle_signals = false;
    o.site_name = "测试文库";
    return o;
  }

  // Starts a server with `o`; fails the test when it does not start.
  void start(ServerOptions o) {
    server_ = std::make_unique<Server>(*t_.store, *t_.library, *t_.accounts, *commerce_, o);
    Status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    port_ = server_->port();
    thread_ = std::thread([this] { server_->run(); });
  }

  // The status of starting a server with `o` (stopped again at once).
  Status start_status(ServerOptions o) {
    Server server(*t_.store, *t_.library, *t_.accounts, *commerce_, o);
    return server.start();
  }

  void stop() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  HttpResponse get(const std::string& target, const std::vector<std::string>& headers = {}) {
    HttpClient c(port_);
    return c.get(target, headers);
  }

  int64_t import_free_document() {
    library::ImportOptions io;
    io.price = Fen(300);
    library::ImportLine line = t_.library->import_bytes(
        "小区快递柜使用说明\n快递柜位于三号楼东侧，取件码有效期为二十四小时。\n", "locker.txt", io);
    EXPECT_TRUE(line.ok) << line.error;
    return line.id;
  }

  FakeClock clock_{1767225600};
  testing::TestStore t_;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  fs::path pages_dir_;
};

TEST_F(TrustPagesTest, EachPageAnswers200WithItsDefaultText) {
  ASSERT_NO_FATAL_FAILURE(start(options()));
  for (const Expected& e : kDefaults) {
    SCOPED_TRACE(e.path);
    HttpResponse r = get(e.path);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(contains(r.header("content-type"), "text/html")) << r.header("content-type");
    EXPECT_TRUE(contains(r.body, std::string("<h1>") + e.title + "</h1>"));
    EXPECT_TRUE(contains(r.body, std::string("<title>") + e.title + " - 测试文库</title>"));
    EXPECT_TRUE(contains(r.body, e.sentence));
    // The operator's name is not set: the built-in text shows where it goes.
    if (std::string_view(e.path) == "/about") {
      EXPECT_TRUE(contains(r.body, "测试文库是一个文档阅读与付费下载网站"));
      EXPECT_TRUE(contains(r.body, "【运营者名称：请用 --company 设置】"));
    }
  }
}

TEST_F(TrustPagesTest, AnonymousPagesAreCacheableWithAnEtagAndAnswer304) {
  ASSERT_NO_FATAL_FAILURE(start(options()));
  HttpResponse r = get("/terms");
  ASSERT_EQ(r.status, 200);
  const std::string etag = r.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(r.header("cache-control"), "private, max-age=0");
  HttpResponse again = get("/terms", {"If-None-Match: " + etag});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  HttpResponse head = HttpClient(port_).request("HEAD", "/terms");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), r.header("content-length"));
}

TEST_F(TrustPagesTest, ASignedInReaderSeesThePageWithTheirHeader) {
  ASSERT_TRUE(t_.accounts->add_user("reader@example.cn", testing::kTestPassword,
                                    gate::Role::kReader).ok());
  ASSERT_NO_FATAL_FAILURE(start(options()));
  testing::Browser b = testing::signed_in_browser(port_, "reader@example.cn");
  HttpResponse r = b.get("/privacy");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(contains(r.body, "reader@example.cn"));
  EXPECT_TRUE(contains(r.body, "密码只以不可还原的方式保存"));
  EXPECT_FALSE(r.has_header("etag"));
}

TEST_F(TrustPagesTest, AConfiguredFileReplacesTheDefault) {
  write_file(pages_dir_ / "about.md",
             "# 关于本馆\n\n本馆由{{company}}经营，专营社区活动通知的范本。\n\n"
             "## 联系\n\n- 地址：幸福路 8 号\n");
  write_file(pages_dir_ / "terms.txt", "使用本站即同意以下约定。\n每位读者一个账号。\n\n不得转售。\n");
  ServerOptions o = options();
  o.trust.pages_dir = pages_dir_.string();
  o.trust.company = "幸福路文印社";
  ASSERT_NO_FATAL_FAILURE(start(o));

  HttpResponse about = get("/about");
  EXPECT_EQ(about.status, 200);
  EXPECT_TRUE(contains(about.body, "<h1>关于本馆</h1>")) << about.body;
  EXPECT_TRUE(contains(about.body, "<p>本馆由幸福路文印社经营，专营社区活动通知的范本。</p>"));
  EXPECT_TRUE(contains(about.body, "<li>地址：幸福路 8 号</li>"));
  EXPECT_FALSE(contains(about.body, "读者可以免费阅读每篇文档的开头部分"));
  EXPECT_TRUE(contains(about.body, "content=\"本馆由幸福路文印社经营"));  // meta description

  HttpResponse terms = get("/terms");
  EXPECT_EQ(terms.status, 200);
  EXPECT_TRUE(contains(terms.body, "<h1>用户协议</h1>"));
  EXPECT_TRUE(contains(terms.body, "<p>使用本站即同意以下约定。<br>每位读者一个账号。</p>"));
  EXPECT_TRUE(contains(terms.body, "<p>不得转售。</p>"));
  EXPECT_FALSE(contains(terms.body, "妥善保管密码"));

  // The pages without a file in the folder keep the built-in text.
  HttpResponse privacy = get("/privacy");
  EXPECT_TRUE(contains(privacy.body, "密码只以不可还原的方式保存"));
}

TEST_F(TrustPagesTest, RawHtmlAndScriptInAConfiguredFileAreEscaped) {
  write_file(pages_dir_ / "privacy.md",
             "# 隐私政策\n\n"
             "<script>alert('block')</script>\n\n"
             "正文里有 <img src=x onerror=alert(1)> 和 <b onclick=\"steal()\">粗体</b>。\n\n"
             "<iframe src=\"https://example.cn/\"></iframe>\n");
  write_file(pages_dir_ / "contact.txt", "<script>alert('txt')</script>\n");
  ServerOptions o = options();
  o.trust.pages_dir = pages_dir_.string();
  ASSERT_NO_FATAL_FAILURE(start(o));

  HttpResponse r = get("/privacy");
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(contains(r.body, "<script>"));
  EXPECT_FALSE(contains(r.body, "<img"));
  EXPECT_FALSE(contains(r.body, "<b "));
  EXPECT_FALSE(contains(r.body, "<iframe"));
  // Shown as the text it is.
  EXPECT_TRUE(contains(r.body, "&lt;script&gt;alert(&#39;block&#39;)&lt;/script&gt;")) << r.body;
  EXPECT_TRUE(contains(r.body, "&lt;img src=x onerror=alert(1)&gt;"));
  EXPECT_TRUE(contains(r.body, "&lt;b onclick=&quot;steal()&quot;&gt;粗体&lt;/b&gt;"));

  HttpResponse c = get("/contact");
  EXPECT_FALSE(contains(c.body, "<script>"));
  EXPECT_TRUE(contains(c.body, "&lt;script&gt;alert(&#39;txt&#39;)&lt;/script&gt;"));
}

TEST_F(TrustPagesTest, AJavascriptLinkIsNotALink) {
  write_file(pages_dir_ / "refund-policy.md",
             "# 退款\n\n"
             "[点这里退款](javascript:alert(1)) "
             "[大写也不行](JavaScript:alert(2)) "
             "[实体也不行](&#106;avascript:alert(3)) "
             "[数据也不行](data:text/html,hi) "
             "<javascript:alert(4)> "
             "[官网](https://example.cn/refund) [本站](/contact) [写信](mailto:help@example.cn)\n");
  ServerOptions o = options();
  o.trust.pages_dir = pages_dir_.string();
  ASSERT_NO_FATAL_FAILURE(start(o));

  HttpResponse r = get("/refund-policy");
  ASSERT_EQ(r.status, 200);
  std::string lower = r.body;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_FALSE(contains(lower, "href=\"javascript")) << r.body;
  EXPECT_FALSE(contains(lower, "href=\"data:"));
  EXPECT_TRUE(contains(r.body, "点这里退款"));  // the text stays, as text
  EXPECT_TRUE(contains(r.body, "大写也不行"));
  EXPECT_TRUE(contains(r.body, "实体也不行"));
  EXPECT_TRUE(contains(r.body, "<a href=\"https://example.cn/refund\" rel=\"nofollow noopener\">官网</a>"));
  EXPECT_TRUE(contains(r.body, "<a href=\"/contact\">本站</a>"));
  EXPECT_TRUE(contains(r.body, "<a href=\"mailto:help@example.cn\">写信</a>"));
}

TEST_F(TrustPagesTest, FooterShowsTheIcpNumberLinksAndContactWhenSet) {
  const int64_t id = import_free_document();
  ServerOptions o = options();
  o.trust.icp = "京ICP备12345678号-1";
  o.trust.contact_email = "kefu@example.cn";
  o.trust.contact_phone = "010-1234 5678";
  ASSERT_NO_FATAL_FAILURE(start(o));
  for (const std::string target : {std::string("/"), "/d/" + std::to_string(id), std::string("/about"),
                                   std::string("/login")}) {
    SCOPED_TRACE(target);
    HttpResponse r = get(target);
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(contains(r.body,
                         "<a class=\"icp\" href=\"https://beian.miit.gov.cn/\" target=\"_blank\" "
                         "rel=\"noopener noreferrer\">京ICP备12345678号-1</a>"))
        << r.body;
    for (const Expected& e : kDefaults)
      EXPECT_TRUE(contains(r.body, std::string("<a href=\"") + e.path + "\">" + e.title + "</a>"));
    EXPECT_TRUE(contains(r.body, "<a href=\"mailto:kefu@example.cn\">kefu@example.cn</a>"));
    EXPECT_TRUE(contains(r.body, "<a href=\"tel:01012345678\">010-1234 5678</a>"));
  }
  HttpResponse contact = get("/contact");
  EXPECT_TRUE(contains(contact.body, "客服邮箱：<a href=\"mailto:kefu@example.cn\">kefu@example.cn</a>"));
  EXPECT_TRUE(contains(contact.body, "客服电话：<a href=\"tel:01012345678\">010-1234 5678</a>"));
  EXPECT_FALSE(contains(contact.body, "【客服联系方式"));
}

TEST_F(TrustPagesTest, FooterHasNoIcpMarkupWhenNotSet) {
  ASSERT_NO_FATAL_FAILURE(start(options()));
  for (const char* target : {"/", "/about", "/contact"}) {
    SCOPED_TRACE(target);
    HttpResponse r = get(target);
    ASSERT_EQ(r.status, 200);
    EXPECT_FALSE(contains(r.body, "beian.miit.gov.cn"));
    EXPECT_FALSE(contains(r.body, "class=\"icp\""));
    EXPECT_FALSE(contains(r.body, "footer-contact"));
    EXPECT_TRUE(contains(r.body, "<a href=\"/refund-policy\">购买与退款说明</a>"));
  }
  // 联系客服 says plainly that the details are still missing.
  EXPECT_TRUE(contains(get("/contact").body, "【客服联系方式：请用 --contact-email 或 --contact-phone 设置】"));
}

TEST_F(TrustPagesTest, SitemapListsTheTrustPages) {
  ServerOptions o = options();
  o.base_url = "https://wenku.example.cn";
  ASSERT_NO_FATAL_FAILURE(start(o));
  HttpResponse r = get("/sitemap.xml");
  ASSERT_EQ(r.status, 200);
  for (const Expected& e : kDefaults)
    EXPECT_TRUE(contains(r.body, std::string("<loc>https://wenku.example.cn") + e.path + "</loc>"))
        << e.path;
  EXPECT_TRUE(contains(get("/terms").body,
                       "<link rel=\"canonical\" href=\"https://wenku.example.cn/terms\">"));
}

TEST_F(TrustPagesTest, AMissingFolderStopsTheStartNamingThePath) {
  ServerOptions o = options();
  o.trust.pages_dir = (t_.dir / "no-such-folder").string();
  Status s = start_status(o);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(s.message(), o.trust.pages_dir)) << s.message();
  EXPECT_TRUE(contains(s.message(), "no such folder")) << s.message();
}

TEST_F(TrustPagesTest, AnUnreadableFileStopsTheStartNamingThePath) {
  ServerOptions o = options();
  o.trust.pages_dir = pages_dir_.string();

  // A folder where the file should be.
  fs::create_directories(pages_dir_ / "terms.md");
  Status dir = start_status(o);
  EXPECT_EQ(dir.code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(dir.message(), (pages_dir_ / "terms.md").string())) << dir.message();
  fs::remove(pages_dir_ / "terms.md");

  // Not UTF-8 (GBK bytes).
  write_file(pages_dir_ / "about.md", "\xB9\xD8\xD3\xDA\xCE\xD2\xC3\xC7\n");
  Status gbk = start_status(o);
  EXPECT_EQ(gbk.code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(gbk.message(), (pages_dir_ / "about.md").string())) << gbk.message();
  EXPECT_TRUE(contains(gbk.message(), "UTF-8")) << gbk.message();
  fs::remove(pages_dir_ / "about.md");

  // Two files for one page.
  write_file(pages_dir_ / "contact.md", "客服\n");
  write_file(pages_dir_ / "contact.txt", "客服\n");
  Status two = start_status(o);
  EXPECT_EQ(two.code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(two.message(), (pages_dir_ / "contact.txt").string())) << two.message();
  fs::remove(pages_dir_ / "contact.txt");

  // Unreadable by permission (skipped where permissions do not bind: root).
  if (::geteuid() != 0) {
    write_file(pages_dir_ / "privacy.md", "隐私\n");
    fs::permissions(pages_dir_ / "privacy.md", fs::perms::none);
    Status perm = start_status(o);
    EXPECT_EQ(perm.code(), Code::kInvalidArgument);
    EXPECT_TRUE(contains(perm.message(), (pages_dir_ / "privacy.md").string())) << perm.message();
    fs::permissions(pages_dir_ / "privacy.md", fs::perms::owner_all);
  }

  // What is left is usable: the server starts.
  EXPECT_TRUE(start_status(o).is_ok());
}

TEST_F(TrustPagesTest, BadOperatorDetailsStopTheStartNamingTheFlag) {
  ServerOptions o = options();
  o.trust.contact_email = "kefu at example.cn";
  Status s = start_status(o);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(s.message(), "--contact-email")) << s.message();
  o = options();
  o.trust.icp = "京ICP备\n12345678号";
  s = start_status(o);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_TRUE(contains(s.message(), "--icp")) << s.message();
}

// --- the renderer on its own ---------------------------------------------------

TEST(RenderMarkdownTest, KeepsStructureAndEscapesText) {
  EXPECT_EQ(render_markdown("# 标题\n\n段落 *强调* **加粗** `a<b`\n"),
            "<h2>标题</h2>\n<p>段落 <em>强调</em> <strong>加粗</strong> <code>a&lt;b</code></p>\n");
  EXPECT_EQ(render_markdown("1. 一\n2. 二\n"), "<ol>\n<li>一</li>\n<li>二</li>\n</ol>\n");
  EXPECT_EQ(render_markdown("3. 三\n"), "<ol start=\"3\">\n<li>三</li>\n</ol>\n");
  EXPECT_EQ(render_markdown("甲 & 乙 < 丙\n"), "<p>甲 &amp; 乙 &lt; 丙</p>\n");
  EXPECT_EQ(render_markdown("![图<x>](https://example.cn/a.png)\n"), "<p>图&lt;x&gt;</p>\n");
  EXPECT_EQ(render_markdown("> 引用\n"), "<blockquote>\n<p>引用</p>\n</blockquote>\n");
}

TEST(RenderMarkdownTest, LinkTitlesAreEscaped) {
  EXPECT_EQ(render_markdown("[a](/x \"t\\\"><script>\")\n"),
            "<p><a href=\"/x\" title=\"t&quot;&gt;&lt;script&gt;\">a</a></p>\n");
}

TEST(SafeLinkTargetTest, OnlyHttpMailtoAndRelative) {
  for (const char* ok : {"https://example.cn/", "HTTP://example.cn", "mailto:a@b.cn", "/contact",
                         "terms", "#top", "?q=1", "../x", "//example.cn/x", "a/b:c"})
    EXPECT_TRUE(safe_link_target(ok)) << ok;
  for (const char* bad : {"javascript:alert(1)", "JavaScript:x", "vbscript:x", "data:text/html,x",
                          "java\tscript:x", " javascript:x", "file:///etc/passwd", "https://",
                          "mailto:", "", "tel:123"})
    EXPECT_FALSE(safe_link_target(bad)) << bad;
}

}  // namespace
}  // namespace paidoc::web
