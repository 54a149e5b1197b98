// The console's upload page (/admin/upload) on a real server: several files
// in one multipart form, a summary per file, the rules of `paidoc import`,
// permissions, CSRF and the body limit.
#include <gtest/gtest.h>
#include <iconv.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "sources/docx_builder.h"
#include "store/store.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/router.h"
#include "web/server.h"
#include "web/test_store.h"

namespace paidoc::web {
namespace {

using testing::Browser;
using testing::HttpResponse;
using paidoc::testing::docx;
using paidoc::testing::p;

// Written for these tests.
const std::string kTxt =
    "汛期物资清点记录\n"
    "仓库东侧存放沙袋两千只，由值班员每日核对。\n"
    "##paidbegin##\n"
    "一、备用发电机\n"
    "发电机的钥匙挂在值班室北墙的铁皮柜里。\n"
    "##paidend##\n"
    "清点完毕后请在台账上签字。\n";
constexpr const char* kTxtPaid = "铁皮柜";

const std::string kMd =
    "# 夜校报名须知\n\n"
    "报名时间为每周一至周五晚上。\n\n"
    "##paidbegin##\n\n"
    "## 课程安排\n\n"
    "第一周学习识读水表，讲师是退休的老陈。\n\n"
    "##paidend##\n\n"
    "如有疑问请到二楼办公室咨询。\n";

// A .docx whose ##paidbegin## is split across runs, as Word does.
std::string good_docx() {
  return docx(p({"菜市场摊位分配方案"}) + p({"本方案自下月起执行。"}) + p({"##paid", "begin##"}) +
              p({"靠近入口的三号摊位分给卖豆腐的刘师傅。"}) + p({"##paidend##"}) +
              p({"请各摊主按时缴纳管理费。"}));
}
// The same with a stray ##paidend## in paragraph 3.
std::string broken_docx() {
  return docx(p({"菜市场摊位分配方案"}) + p({"本方案自下月起执行。"}) + p({"##paid", "end##"}) +
              p({"靠近入口的三号摊位分给卖豆腐的刘师傅。"}));
}

std::string to_gb18030(const std::string& utf8) {
  iconv_t cd = iconv_open("GB18030", "UTF-8");
  std::string in_copy = utf8;
  std::string out(utf8.size() * 2, '\0');
  char* in = in_copy.data();
  size_t inleft = in_copy.size();
  char* o = out.data();
  size_t outleft = out.size();
  EXPECT_NE(iconv(cd, &in, &inleft, &o, &outleft), static_cast<size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - outleft);
  return out;
}

struct FilePart {
  std::string name;
  std::string bytes;
};

constexpr const char* kBoundary = "----paidoc-upload-test-7Hx";

// A multipart/form-data body as a browser sends the upload form.
std::string multipart_body(const std::vector<FilePart>& files,
                           const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string b;
  for (const auto& [k, v] : fields)
    b += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + k +
         "\"\r\n\r\n" + v + "\r\n";
  for (const FilePart& f : files)
    b += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" +
         f.name + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + f.bytes + "\r\n";
  return b + "--" + kBoundary + "--\r\n";
}

class UploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-upload", clock_, t_));
    commerce_ = std::make_unique<commerce::Commerce>(
        *t_.store, *t_.store, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    editor_ = add("editor@example.cn", gate::Role::kEditor);
    other_ = add("other@example.cn", gate::Role::kEditor);
    add("reader@example.cn", gate::Role::kReader);
    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
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

  int64_t add(const std::string& email, gate::Role role) {
    Result<auth::Account> a = t_.accounts->add_user(email, testing::kTestPassword, role);
    EXPECT_TRUE(a.ok()) << a.status().to_string();
    return a.ok() ? a->id : 0;
  }

  Browser signed_in(const std::string& email) {
    Browser b(port_);
    HttpResponse r = b.login(email);
    EXPECT_EQ(r.status, 303) << email << ": " << r.body;
    return b;
  }

  HttpResponse upload(Browser& b, const std::vector<FilePart>& files,
                      std::vector<std::pair<std::string, std::string>> fields = {{"price_yuan", "5.00"}},
                      bool with_csrf = true) {
    if (with_csrf) fields.emplace_back("csrf", b.csrf());
    return b.send("POST", "/admin/upload",
                  {std::string("Content-Type: multipart/form-data; boundary=") + kBoundary},
                  multipart_body(files, fields));
  }

  int64_t documents() {
    auto n = t_.store->count_documents();
    return n.ok() ? *n : -1;
  }

  // The summary's list item of file `name` (from its <li> to the next </li>).
  static std::string row_of(const std::string& page, const std::string& name) {
    size_t at = page.find("<span class=\"upload-name\">" + name + "</span>");
    if (at == std::string::npos) return "";
    size_t start = page.rfind("<li", at);
    size_t end = page.find("</li>", at);
    return page.substr(start, end - start);
  }

  FakeClock clock_{1'780'000'000};
  testing::TestStore t_;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t editor_ = 0, other_ = 0;
};

TEST_F(UploadTest, TheFormOffersMultipleFilesPriceAndCategories) {
  library::ImportOptions io;
  io.category = "社区通知";
  ASSERT_TRUE(t_.library->import_bytes(kTxt, "seed.txt", io).ok);
  Browser b = signed_in("editor@example.cn");
  HttpResponse r = b.get("/admin/upload");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("enctype=\"multipart/form-data\""), std::string::npos);
  EXPECT_NE(r.body.find("type=\"file\" name=\"files\" multiple accept=\".txt,.md,.markdown,.docx\""),
            std::string::npos);
  EXPECT_NE(r.body.find("name=\"price_yuan\" value=\"5.00\""), std::string::npos);
  EXPECT_NE(r.body.find("<option value=\"社区通知\">"), std::string::npos);
  EXPECT_NE(r.body.find("name=\"csrf\" value=\"" + b.csrf() + "\""), std::string::npos);
  EXPECT_NE(r.body.find("aria-current=\"page\">上传"), std::string::npos);
  EXPECT_EQ(r.header("x-frame-options"), "DENY");
}

TEST_F(UploadTest, ThreeFilesAtOnceEachWithItsOutcomeThenUnchanged) {
  Browser b = signed_in("editor@example.cn");
  std::vector<FilePart> files = {{"wuzi.txt", to_gb18030(kTxt)},
                                 {"yexiao.md", kMd},
                                 {"tanwei.docx", good_docx()}};
  ASSERT_NE(files[0].bytes, kTxt);  // really GB18030 bytes
  HttpResponse r = upload(b, files, {{"price_yuan", "8.80"}, {"category", "社区通知"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("共 3 个文件：已导入 3 个，已更新 0 个，未变化 0 个，失败 0 个。"), std::string::npos)
      << r.body;
  // In the order sent, each with its title and links.
  size_t a = r.body.find("wuzi.txt"), m = r.body.find("yexiao.md"), d = r.body.find("tanwei.docx");
  ASSERT_TRUE(a != std::string::npos && m != std::string::npos && d != std::string::npos);
  EXPECT_LT(a, m);
  EXPECT_LT(m, d);
  std::string txt_row = row_of(r.body, "wuzi.txt");
  EXPECT_NE(txt_row.find("已导入"), std::string::npos) << txt_row;
  EXPECT_NE(txt_row.find("汛期物资清点记录"), std::string::npos) << txt_row;
  EXPECT_NE(row_of(r.body, "yexiao.md").find("夜校报名须知"), std::string::npos);
  EXPECT_NE(row_of(r.body, "tanwei.docx").find("菜市场摊位分配方案"), std::string::npos);
  EXPECT_EQ(r.body.find(kTxtPaid), std::string::npos);  // titles only, never the text

  // Stored as this editor's documents, with the price and category given.
  auto page = t_.store->list_documents(store::ListQuery{});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 3u);
  for (const store::DocumentSummary& s : page->items) {
    EXPECT_EQ(s.category, "社区通知");
    EXPECT_EQ(s.price.value(), 880);
    auto sd = t_.store->get_document(s.id);
    ASSERT_TRUE(sd.ok());
    EXPECT_EQ(sd->publisher_id, std::optional<int64_t>(editor_));
    EXPECT_NE(r.body.find("href=\"/d/" + std::to_string(s.id) + "\">查看</a>"), std::string::npos)
        << "document " << s.id << " has no 查看 link";
    EXPECT_NE(r.body.find("/admin/documents/" + std::to_string(s.id) + "/edit"), std::string::npos);
  }
  // The GB18030 file was decoded: its title reads right on the public page.
  HttpResponse doc = Browser(port_).get("/d/" + std::to_string(page->items.back().id));
  EXPECT_EQ(doc.status, 200);
  EXPECT_NE(doc.body.find("仓库东侧存放沙袋两千只"), std::string::npos);

  // The same files again: nothing changes.
  HttpResponse again = upload(b, files, {{"price_yuan", "8.80"}, {"category", "社区通知"}});
  ASSERT_EQ(again.status, 200);
  EXPECT_NE(again.body.find("共 3 个文件：已导入 0 个，已更新 0 个，未变化 3 个，失败 0 个。"), std::string::npos)
      << again.body;
  EXPECT_NE(row_of(again.body, "tanwei.docx").find("未变化"), std::string::npos);
  EXPECT_EQ(documents(), 3);

  // One file changed: updated, the others unchanged.
  std::string changed = kMd + "\n报名请带身份证。\n";
  // The very bytes sent before: a .docx built again may differ (zip times).
  std::string same_docx;
  for (const auto& f : files)
    if (f.name == "tanwei.docx") same_docx = f.bytes;
  ASSERT_FALSE(same_docx.empty());
  HttpResponse third = upload(b, {{"yexiao.md", changed}, {"tanwei.docx", same_docx}},
                              {{"price_yuan", "8.80"}, {"category", "社区通知"}});
  EXPECT_NE(row_of(third.body, "yexiao.md").find("已更新"), std::string::npos) << third.body;
  EXPECT_NE(row_of(third.body, "tanwei.docx").find("未变化"), std::string::npos);
  EXPECT_EQ(documents(), 3);
}

TEST_F(UploadTest, AFileWithAMarkerErrorFailsAtItsPlaceAndTheOthersImport) {
  Browser b = signed_in("editor@example.cn");
  std::string bad_txt = "值班表\n第一段。\n第二段。\n##paidend##\n";
  HttpResponse r = upload(b, {{"good.md", kMd},
                              {"bad.txt", bad_txt},
                              {"bad.docx", broken_docx()},
                              {"good.txt", kTxt}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("共 4 个文件：已导入 2 个，已更新 0 个，未变化 0 个，失败 2 个。"), std::string::npos)
      << r.body;
  std::string txt = row_of(r.body, "bad.txt");
  EXPECT_NE(txt.find("失败"), std::string::npos) << txt;
  EXPECT_NE(txt.find("bad.txt:4:1: stray ##paidend##: no paid section is open"), std::string::npos) << txt;
  std::string dx = row_of(r.body, "bad.docx");
  EXPECT_NE(dx.find("bad.docx: paragraph 3: stray ##paidend##"), std::string::npos) << dx;
  // The store's path for uploads is not shown.
  EXPECT_EQ(r.body.find("upload/"), std::string::npos);
  EXPECT_NE(row_of(r.body, "good.md").find("已导入"), std::string::npos);
  EXPECT_NE(row_of(r.body, "good.txt").find("已导入"), std::string::npos);
  EXPECT_EQ(documents(), 2);  // nothing of the failed files
}

TEST_F(UploadTest, NamesAndTypesOutsideTheRulesFailWithAMessage) {
  Browser b = signed_in("editor@example.cn");
  HttpResponse r = upload(b, {{"notes.pdf", "%PDF-1.4"},
                              {std::string(201, 'a') + ".txt", kTxt},
                              {"empty.txt", ""},
                              {"ok.txt", kTxt}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(row_of(r.body, "notes.pdf").find("只支持 .txt、.md、.markdown、.docx 文件"), std::string::npos);
  EXPECT_NE(r.body.find("文件名不能为空、不能超过 200 字节"), std::string::npos);
  EXPECT_NE(row_of(r.body, "empty.txt").find("文件是空的"), std::string::npos);
  EXPECT_NE(r.body.find("已导入 1 个"), std::string::npos);
  EXPECT_EQ(documents(), 1);
}

TEST_F(UploadTest, BadPriceOrNoFileReRendersTheFormWithWhatWasTyped) {
  Browser b = signed_in("editor@example.cn");
  HttpResponse big = upload(b, {{"a.txt", kTxt}}, {{"price_yuan", "100000.01"}, {"category", "夜校"}});
  EXPECT_EQ(big.status, 400);
  EXPECT_NE(big.body.find("class=\"form-error\" role=\"alert\">价格：不能超过 100000 元"), std::string::npos)
      << big.body;
  EXPECT_NE(big.body.find("value=\"100000.01\""), std::string::npos);
  EXPECT_NE(big.body.find("value=\"夜校\""), std::string::npos);
  HttpResponse slash = upload(b, {{"a.txt", kTxt}}, {{"price_yuan", "5"}, {"category", "夜/校"}});
  EXPECT_EQ(slash.status, 400);
  EXPECT_NE(slash.body.find("分类名称不能包含 /、? 或 #"), std::string::npos) << slash.body;
  HttpResponse junk = upload(b, {{"a.txt", kTxt}}, {{"price_yuan", "五元"}});
  EXPECT_EQ(junk.status, 400);
  EXPECT_NE(junk.body.find("价格：请填写 0 到 100000 之间的金额"), std::string::npos);
  HttpResponse none = upload(b, {{"", ""}});
  EXPECT_EQ(none.status, 400);
  EXPECT_NE(none.body.find("请选择至少一个文件。"), std::string::npos);
  EXPECT_EQ(documents(), 0);
  // The largest price is accepted.
  HttpResponse max = upload(b, {{"a.txt", kTxt}}, {{"price_yuan", "100000"}});
  EXPECT_EQ(max.status, 200);
  EXPECT_EQ(documents(), 1);
}

TEST_F(UploadTest, AReaderGets403AndAnonymousIsSentToLogin) {
  Browser reader = signed_in("reader@example.cn");
  EXPECT_EQ(reader.get("/admin/upload").status, 403);
  HttpResponse r = upload(reader, {{"a.txt", kTxt}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("没有权限"), std::string::npos);
  Browser anon(port_);
  anon.prime();
  HttpResponse g = anon.get("/admin/upload");
  EXPECT_EQ(g.status, 303);
  EXPECT_EQ(g.header("location"), "/login?next=%2Fadmin%2Fupload");
  EXPECT_EQ(upload(anon, {{"a.txt", kTxt}}).status, 303);
  EXPECT_EQ(documents(), 0);
}

TEST_F(UploadTest, WithoutTheCsrfFieldOrWithAWrongOneItIs403) {
  Browser b = signed_in("editor@example.cn");
  EXPECT_EQ(upload(b, {{"a.txt", kTxt}}, {{"price_yuan", "5.00"}}, /*with_csrf=*/false).status, 403);
  EXPECT_EQ(upload(b, {{"a.txt", kTxt}}, {{"price_yuan", "5.00"}, {"csrf", "not-the-cookie"}}, false).status,
            403);
  // A file part named csrf holding the right token does not count.
  std::string body = multipart_body({{"a.txt", kTxt}}, {{"price_yuan", "5.00"}});
  std::string forged = std::string("--") + kBoundary +
                       "\r\nContent-Disposition: form-data; name=\"csrf\"; filename=\"t.txt\"\r\n\r\n" +
                       b.csrf() + "\r\n" + body;
  EXPECT_EQ(b.send("POST", "/admin/upload",
                   {std::string("Content-Type: multipart/form-data; boundary=") + kBoundary}, forged)
                .status,
            403);
  // A urlencoded form is not what this route reads.
  EXPECT_EQ(b.post("/admin/upload", {{"price_yuan", "5.00"}}).status, 415);
  EXPECT_EQ(documents(), 0);
}

TEST_F(UploadTest, AMalformedBodyIsRefusedAndNothingStored) {
  Browser b = signed_in("editor@example.cn");
  std::string body = multipart_body({{"a.txt", kTxt}}, {{"price_yuan", "5.00"}, {"csrf", b.csrf()}});
  body.resize(body.size() - 10);  // truncated
  HttpResponse r = b.send("POST", "/admin/upload",
                          {std::string("Content-Type: multipart/form-data; boundary=") + kBoundary}, body);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("上传的表单格式不正确"), std::string::npos);
  HttpResponse nob = b.send("POST", "/admin/upload", {"Content-Type: multipart/form-data"}, body);
  EXPECT_EQ(nob.status, 400);
  EXPECT_EQ(documents(), 0);
}

TEST_F(UploadTest, AnOversizedUploadIs413WithAClearPage) {
  Browser b = signed_in("editor@example.cn");
  // Over the route's limit: the whole body is sent and the answer read.
  std::string huge(kUploadBodyLimit + 1024, 'x');
  HttpResponse r = upload(b, {{"huge.txt", huge}});
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(r.body.find("超过 32 MiB 的上限"), std::string::npos) << r.body.substr(0, 500);
  EXPECT_NE(r.body.find("href=\"/admin/upload\""), std::string::npos);
  EXPECT_EQ(documents(), 0);
  // Under it, yet over the server's default of 1 MiB for other routes: read.
  std::string two_mib_doc = "大文件\n" + std::string(2 << 20, 'a') + "\n";
  HttpResponse ok = upload(b, {{"big.txt", two_mib_doc}});
  EXPECT_EQ(ok.status, 200) << ok.body.substr(0, 300);
  EXPECT_EQ(documents(), 1);
  // Other routes keep the small default.
  HttpResponse other = b.send("POST", "/login", {"Content-Type: application/x-www-form-urlencoded"},
                              std::string(2 << 20, 'a'));
  EXPECT_EQ(other.status, 413);
}

TEST_F(UploadTest, AnEditorsUploadNeverReplacesAnotherEditorsDocument) {
  Browser other = signed_in("other@example.cn");
  HttpResponse first = upload(other, {{"same.txt", kTxt}});
  ASSERT_NE(first.body.find("已导入 1 个"), std::string::npos) << first.body;
  auto before = t_.store->list_documents(store::ListQuery{});
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->items.size(), 1u);
  const int64_t theirs = before->items[0].id;
  const int64_t their_revision = before->items[0].revision;

  Browser b = signed_in("editor@example.cn");
  std::string mine = "另一份记录\n完全不同的内容。\n";
  HttpResponse r = upload(b, {{"same.txt", mine}});
  EXPECT_NE(row_of(r.body, "same.txt").find("已导入"), std::string::npos) << r.body;
  EXPECT_EQ(documents(), 2);
  auto sd = t_.store->get_document(theirs);
  ASSERT_TRUE(sd.ok());
  EXPECT_EQ(sd->summary.revision, their_revision);
  EXPECT_EQ(sd->summary.title, "汛期物资清点记录");
  EXPECT_EQ(sd->publisher_id, std::optional<int64_t>(other_));
  EXPECT_EQ(r.body.find("/d/" + std::to_string(theirs) + "\""), std::string::npos);

  // The very same bytes as theirs: refused, and their document is not named.
  HttpResponse same = upload(b, {{"copy.txt", kTxt}});
  std::string row = row_of(same.body, "copy.txt");
  EXPECT_NE(row.find("失败"), std::string::npos) << same.body;
  EXPECT_NE(row.find("copy.txt: not stored: the same file is already published by another account"),
            std::string::npos)
      << row;
  EXPECT_EQ(same.body.find("/d/" + std::to_string(theirs) + "\""), std::string::npos);
  EXPECT_EQ(same.body.find("/admin/documents/" + std::to_string(theirs) + "/edit"), std::string::npos);
  EXPECT_EQ(documents(), 2);
}

TEST_F(UploadTest, TheApiUploadUsesTheSameRule) {
  Browser b = signed_in("editor@example.cn");
  HttpResponse bad = b.send("POST", "/api/v1/documents?name=a%2Fb.txt",
                            {"Content-Type: text/plain", "X-CSRF-Token: " + b.csrf()}, kTxt);
  EXPECT_EQ(bad.status, 400);
  HttpResponse ok = b.send("POST", "/api/v1/documents?name=same.txt",
                           {"Content-Type: text/plain", "X-CSRF-Token: " + b.csrf()}, kTxt);
  EXPECT_EQ(ok.status, 201) << ok.body;
  // The page's upload of the same name by the same editor is the same document.
  HttpResponse page = upload(b, {{"same.txt", kTxt}});
  EXPECT_NE(row_of(page.body, "same.txt").find("未变化"), std::string::npos) << page.body;
  EXPECT_EQ(documents(), 1);
}

}  // namespace
}  // namespace paidoc::web
