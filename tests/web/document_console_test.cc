// The console's documents over HTTP against a real server: the editor's
// journey (new, preview, save, revisions, restore), parse errors at their
// line, stale saves, price bounds, another publisher's documents (403),
// CSRF on every console form, the audit entries, and drafts hidden from
// readers on every public surface until they are published.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/server.h"
#include "web/test_store.h"

namespace paidoc::web {
namespace {

using nlohmann::json;
using testing::bearer;
using testing::Browser;
using testing::HttpClient;
using testing::HttpResponse;
using Fields = std::vector<std::pair<std::string, std::string>>;

// Written for these tests. The paid sentence must reach only viewers with
// access; the free words identify the document in listings and search.
constexpr const char* kSource =
    "湖边音乐会筹备方案\n"
    "音乐会在湖边草坪举行，免费入场。\n"
    "##paidbegin##\n"
    "一、舞台布置\n"
    "指挥的谱架上贴着一枚银色海星。\n"
    "##paidend##\n"
    "欢迎市民前来。\n";
constexpr const char* kPaid = "银色海星";

constexpr const char* kDraftSource =
    "萤火虫观察夜活动说明\n"
    "观察夜在植物园的竹林小径进行。\n"
    "##paidbegin##\n"
    "管理员会在第七盏路灯下分发红色手电。\n"
    "##paidend##\n";
constexpr const char* kDraftTitle = "萤火虫观察夜活动说明";
constexpr const char* kDraftPaid = "红色手电";

constexpr const char* kUnclosed =
    "未写完的方案\n"
    "第一段。\n"
    "##paidbegin##\n"
    "没有结束标记的付费段落。\n";

std::string header(const HttpResponse& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string() : it->second;
}

// The document id of a redirect to /admin/documents/{id}/edit?…
int64_t edited_id(const HttpResponse& r) {
  std::string loc = header(r, "location");
  const std::string prefix = "/admin/documents/";
  if (loc.rfind(prefix, 0) != 0) return 0;
  return std::stoll(loc.substr(prefix.size()));
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class DocumentConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-doc-console-test", clock_, t_));
    commerce_ = std::make_unique<commerce::Commerce>(
        *store_, *store_, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.site_name = "测试文库";
    server_ = std::make_unique<Server>(*store_, *library_, *accounts_, *commerce_, opts);
    Status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    port_ = server_->port();
    thread_ = std::thread([this] { server_->run(); });
    add_user("ed1@example.cn", gate::Role::kEditor);
    add_user("ed2@example.cn", gate::Role::kEditor);
    add_user("admin@example.cn", gate::Role::kAdmin);
    reader_id_ = add_user("reader@example.cn", gate::Role::kReader);
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    commerce_.reset();
    testing::close_test_store(t_);
  }

  int64_t add_user(const std::string& email, gate::Role role) {
    Result<auth::Account> a = accounts_->add_user(email, testing::kTestPassword, role);
    EXPECT_TRUE(a.ok()) << a.status().to_string();
    return a.ok() ? a->id : 0;
  }
  Browser as(const std::string& email) { return testing::signed_in_browser(port_, email); }

  static Fields form(const std::string& source, const std::string& price = "8.00",
                     const std::string& status = "published", int64_t base = 0) {
    return {{"source", source}, {"title", ""},          {"price_yuan", price},
            {"category", "活动"}, {"summary", ""},       {"status", status},
            {"base_revision", std::to_string(base)}};
  }
  // Creates a document through the console; its id.
  int64_t create(Browser& b, const std::string& source, const std::string& status = "published") {
    HttpResponse r = b.post("/admin/documents", form(source, "8.00", status));
    EXPECT_EQ(r.status, 303) << r.body;
    return edited_id(r);
  }
  std::vector<store::AuditEntry> audit(int64_t id) {
    store::AuditQuery q;
    q.target_kind = "document";
    q.target_id = id;
    q.limit = 100;
    auto page = static_cast<store::AuditStore&>(*store_).list(q);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->items : std::vector<store::AuditEntry>{};
  }
  HttpResponse get(const std::string& target) { return HttpClient(port_).get(target, {}); }

  FakeClock clock_;
  testing::TestStore t_;
  std::unique_ptr<store::Store>& store_ = t_.store;
  std::unique_ptr<library::Library>& library_ = t_.library;
  std::unique_ptr<auth::Accounts>& accounts_ = t_.accounts;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t reader_id_ = 0;
};

TEST_F(DocumentConsoleTest, AnEditorCreatesPreviewsSavesAndRestores) {
  Browser ed = as("ed1@example.cn");
  HttpResponse page = ed.get("/admin/documents/new");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(header(page, "x-frame-options"), "DENY");
  EXPECT_TRUE(contains(page.body, "name=\"source\""));
  EXPECT_TRUE(contains(page.body, "<datalist"));

  // Preview: the buyer's pane shows the paid sentence, the reader's pane
  // only the teaser; nothing is stored.
  HttpResponse pv = ed.post("/admin/documents/new/preview", form(kSource));
  ASSERT_EQ(pv.status, 200) << pv.body;
  size_t buyer = pv.body.find("购买者看到的");
  size_t reader = pv.body.find("未购买的读者看到的");
  ASSERT_NE(buyer, std::string::npos);
  ASSERT_NE(reader, std::string::npos);
  ASSERT_LT(buyer, reader);
  EXPECT_TRUE(contains(pv.body.substr(buyer, reader - buyer), kPaid));
  std::string reader_pane = pv.body.substr(reader);
  EXPECT_FALSE(contains(reader_pane, kPaid));
  EXPECT_TRUE(contains(reader_pane, "以下为付费内容"));
  EXPECT_TRUE(contains(reader_pane, "隐藏"));
  EXPECT_TRUE(contains(reader_pane, "舞台布置"));  // the outline
  EXPECT_TRUE(contains(reader_pane, "¥8.00"));
  EXPECT_EQ(library_->count().value(), 0);

  // Save: a new document, then its edit page with revision 1.
  int64_t id = create(ed, kSource);
  ASSERT_GT(id, 0);
  HttpResponse edit = ed.get("/admin/documents/" + std::to_string(id) + "/edit?msg=doc_created");
  ASSERT_EQ(edit.status, 200);
  EXPECT_TRUE(contains(edit.body, "文档已创建"));
  EXPECT_TRUE(contains(edit.body, "第 1 版"));
  EXPECT_TRUE(contains(edit.body, "ed1@example.cn"));

  // A second save (new price and title) makes revision 2.
  Fields f = form(kSource, "12.50", "published", 1);
  f[1].second = "湖边音乐会（新版）";
  HttpResponse saved = ed.post("/admin/documents/" + std::to_string(id), f);
  ASSERT_EQ(saved.status, 303) << saved.body;
  EXPECT_EQ(edited_id(saved), id);
  edit = ed.get("/admin/documents/" + std::to_string(id) + "/edit");
  EXPECT_TRUE(contains(edit.body, "第 2 版"));
  EXPECT_TRUE(contains(edit.body, "¥12.50"));
  const std::string restore1 = "/admin/documents/" + std::to_string(id) + "/revisions/1/restore";
  EXPECT_TRUE(contains(edit.body, restore1));
  EXPECT_EQ(get("/d/" + std::to_string(id)).status, 200);
  EXPECT_TRUE(contains(get("/d/" + std::to_string(id)).body, "湖边音乐会（新版）"));

  // Restore revision 1: a new revision 3 with revision 1's title and price.
  HttpResponse restored = ed.post(restore1);
  ASSERT_EQ(restored.status, 303) << restored.body;
  auto d = store_->get_document(id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->summary.revision, 3);
  EXPECT_EQ(d->summary.price, Fen(800));
  EXPECT_EQ(d->summary.title, "湖边音乐会筹备方案");
  // The anonymous page follows at once (cache keyed by revision).
  HttpResponse pub = get("/d/" + std::to_string(id));
  EXPECT_TRUE(contains(pub.body, "湖边音乐会筹备方案"));
  EXPECT_FALSE(contains(pub.body, kPaid));

  // Each change left its audit entry, by the editor.
  std::vector<store::AuditEntry> entries = audit(id);
  std::vector<std::string> actions;
  for (const auto& e : entries) {
    actions.push_back(e.action);
    EXPECT_EQ(e.actor, "ed1@example.cn") << e.action;
    EXPECT_EQ(e.ip, "127.0.0.1");
  }
  ASSERT_FALSE(actions.empty());
  EXPECT_EQ(actions.front(), store::audit_action::kDocumentRestore);
  EXPECT_EQ(actions.back(), store::audit_action::kDocumentCreate);
  EXPECT_NE(std::find(actions.begin(), actions.end(), store::audit_action::kDocumentPrice),
            actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), store::audit_action::kDocumentUpdate),
            actions.end());
}

TEST_F(DocumentConsoleTest, ErrorsKeepTheTextAndStoreNothing) {
  Browser ed = as("ed1@example.cn");
  // A parse error: at its line, the text kept.
  HttpResponse bad = ed.post("/admin/documents", form(kUnclosed));
  EXPECT_EQ(bad.status, 422);
  EXPECT_TRUE(contains(bad.body, "第 3 行"));
  EXPECT_TRUE(contains(bad.body, "role=\"alert\""));
  EXPECT_TRUE(contains(bad.body, "没有结束标记的付费段落。"));  // the textarea keeps it
  HttpResponse badpv = ed.post("/admin/documents/new/preview", form(kUnclosed));
  EXPECT_EQ(badpv.status, 422);
  EXPECT_TRUE(contains(badpv.body, "第 3 行"));
  EXPECT_EQ(library_->count().value(), 0);

  // Prices: 0 … 100000 yuan.
  HttpResponse dear = ed.post("/admin/documents", form(kSource, "100000.01"));
  EXPECT_EQ(dear.status, 422);
  EXPECT_TRUE(contains(dear.body, "价格：不能超过 100000 元"));
  HttpResponse word = ed.post("/admin/documents", form(kSource, "十元"));
  EXPECT_EQ(word.status, 422);
  EXPECT_TRUE(contains(word.body, "价格"));
  EXPECT_EQ(library_->count().value(), 0);
  int64_t id = create(ed, kSource);
  ASSERT_GT(id, 0);

  // A stale base revision: someone saved meanwhile.
  ASSERT_EQ(ed.post("/admin/documents/" + std::to_string(id), form(kSource, "9.00", "published", 1))
                .status,
            303);
  HttpResponse stale =
      ed.post("/admin/documents/" + std::to_string(id), form(kSource, "1.00", "published", 1));
  EXPECT_EQ(stale.status, 409);
  EXPECT_TRUE(contains(stale.body, "已被他人修改"));
  EXPECT_EQ(store_->get_document(id)->summary.price, Fen(900));

  // Bulk price out of bounds: refused with a message.
  HttpResponse bulk = ed.post("/admin/documents/bulk",
                              {{"ids", std::to_string(id)}, {"action", "price"}, {"price_yuan", "200000"}});
  EXPECT_EQ(bulk.status, 400);
  EXPECT_TRUE(contains(bulk.body, "价格"));
  EXPECT_EQ(store_->get_document(id)->summary.price, Fen(900));
}

TEST_F(DocumentConsoleTest, AnotherPublishersDocumentIsForbidden) {
  Browser one = as("ed1@example.cn");
  int64_t id = create(one, kSource);
  ASSERT_GT(id, 0);
  const std::string base = "/admin/documents/" + std::to_string(id);

  Browser two = as("ed2@example.cn");
  HttpResponse r = two.get(base + "/edit");
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(contains(r.body, "没有权限"));
  EXPECT_EQ(two.post(base, form(kSource, "1.00", "published", 1)).status, 403);
  EXPECT_EQ(two.post(base + "/preview", form(kSource)).status, 403);
  EXPECT_EQ(two.post(base + "/revisions/1/restore").status, 403);
  EXPECT_EQ(two.post("/admin/documents/bulk", {{"ids", std::to_string(id)}, {"action", "unpublish"}})
                .status,
            403);
  HttpResponse list = two.get("/admin/documents");
  ASSERT_EQ(list.status, 200);
  EXPECT_FALSE(contains(list.body, "湖边音乐会筹备方案"));
  auto d = store_->get_document(id);
  EXPECT_EQ(d->summary.revision, 1);
  EXPECT_EQ(d->summary.status, store::DocStatus::kPublished);

  // The owner and an admin see it; the admin sees the publisher.
  EXPECT_TRUE(contains(one.get("/admin/documents").body, "湖边音乐会筹备方案"));
  HttpResponse admin_list = as("admin@example.cn").get("/admin/documents?publisher=ed1%40example.cn");
  EXPECT_TRUE(contains(admin_list.body, "湖边音乐会筹备方案"));
  EXPECT_TRUE(contains(admin_list.body, "ed1@example.cn"));
  EXPECT_FALSE(contains(as("admin@example.cn").get("/admin/documents?publisher=ed2%40example.cn").body,
                        "湖边音乐会筹备方案"));

  // Readers get 403 everywhere here.
  Browser reader = as("reader@example.cn");
  EXPECT_EQ(reader.get("/admin/documents").status, 403);
  EXPECT_EQ(reader.get("/admin/documents/new").status, 403);
  EXPECT_EQ(reader.get(base + "/edit").status, 403);
  EXPECT_EQ(reader.post(base, form(kSource)).status, 403);
}

TEST_F(DocumentConsoleTest, EveryConsoleFormNeedsTheCsrfToken) {
  Browser ed = as("ed1@example.cn");
  int64_t id = create(ed, kSource);
  ASSERT_GT(id, 0);
  const std::string base = "/admin/documents/" + std::to_string(id);
  for (const std::string& target :
       {std::string("/admin/documents"), std::string("/admin/documents/new/preview"), base,
        base + "/preview", base + "/revisions/1/restore", std::string("/admin/documents/bulk")}) {
    Fields f = form(kSource, "3.00", "draft", 1);
    f.emplace_back("ids", std::to_string(id));
    f.emplace_back("action", "unpublish");
    HttpResponse r = ed.post(target, f, /*add_csrf=*/false);
    EXPECT_EQ(r.status, 403) << target;
  }
  auto d = store_->get_document(id);
  EXPECT_EQ(d->summary.revision, 1);
  EXPECT_EQ(library_->count().value(), 1);
}

TEST_F(DocumentConsoleTest, BulkActionsApplyInOneGoWithAFlash) {
  Browser ed = as("ed1@example.cn");
  int64_t a = create(ed, kSource);
  int64_t b = create(ed, kDraftSource);
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  HttpResponse r = ed.post("/admin/documents/bulk", {{"ids", std::to_string(a)},
                                                     {"ids", std::to_string(b)},
                                                     {"action", "category"},
                                                     {"category", "夏日活动"}});
  ASSERT_EQ(r.status, 303) << r.body;
  HttpResponse list = ed.get(header(r, "location"));
  EXPECT_TRUE(contains(list.body, "已更新 2 篇文档"));
  EXPECT_EQ(store_->get_document(a)->summary.category, "夏日活动");
  r = ed.post("/admin/documents/bulk",
              {{"ids", std::to_string(a)}, {"action", "price"}, {"price_yuan", "3.30"}});
  ASSERT_EQ(r.status, 303);
  EXPECT_EQ(store_->get_document(a)->summary.price, Fen(330));
  r = ed.post("/admin/documents/bulk", {{"ids", std::to_string(a)}, {"action", "unpublish"}});
  ASSERT_EQ(r.status, 303);
  HttpResponse drafts = ed.get("/admin/documents?status=draft");
  EXPECT_TRUE(contains(drafts.body, "湖边音乐会筹备方案"));
  EXPECT_FALSE(contains(drafts.body, kDraftTitle));
  EXPECT_EQ(audit(a).front().action, store::audit_action::kDocumentUnpublish);
  EXPECT_EQ(audit(a).front().actor, "ed1@example.cn");
  HttpResponse found = ed.get("/admin/documents?q=%E6%B9%96%E8%BE%B9");  // 湖边
  EXPECT_TRUE(contains(found.body, "湖边音乐会筹备方案"));
  EXPECT_FALSE(contains(found.body, kDraftTitle));
}

TEST_F(DocumentConsoleTest, ADraftIsInvisibleToReadersUntilPublished) {
  Browser ed = as("ed1@example.cn");
  Fields f = form(kDraftSource, "8.00", "draft");
  f.push_back({"tags", "夜游"});
  HttpResponse created = ed.post("/admin/documents", f);
  ASSERT_EQ(created.status, 303) << created.body;
  int64_t id = edited_id(created);
  ASSERT_GT(id, 0);
  const std::string sid = std::to_string(id);
  Browser reader = as("reader@example.cn");
  Browser other = as("ed2@example.cn");

  auto hidden_everywhere = [&](bool hidden) {
    for (Browser* b : {&reader, &other}) {
      EXPECT_EQ(b->get("/d/" + sid).status, hidden ? 404 : 200);
    }
    HttpResponse anon_page = get("/d/" + sid);
    EXPECT_EQ(anon_page.status, hidden ? 404 : 200);
    EXPECT_EQ(get("/api/v1/documents/" + sid).status, hidden ? 404 : 200);
    EXPECT_EQ(contains(get("/").body, kDraftTitle), !hidden);
    EXPECT_EQ(contains(get("/c/%E6%B4%BB%E5%8A%A8").body, kDraftTitle), !hidden);  // 活动
    // (found in review: the tag page listed drafts)
    HttpResponse tag = get("/t/%E5%A4%9C%E6%B8%B8");  // 夜游
    EXPECT_EQ(tag.status, 200);
    EXPECT_EQ(contains(tag.body, kDraftTitle), !hidden);
    EXPECT_EQ(contains(get("/api/v1/documents").body, kDraftTitle), !hidden);
    EXPECT_EQ(contains(get("/feed.xml").body, kDraftTitle), !hidden);
    EXPECT_EQ(contains(get("/sitemap.xml").body, "/d/" + sid + "</loc>"), !hidden);
    HttpResponse s = reader.get("/search?q=%E8%90%A4%E7%81%AB%E8%99%AB");  // 萤火虫
    EXPECT_EQ(s.status, 200);
    // (the hit's title has the term marked: <mark>萤火虫</mark>观察夜…)
    EXPECT_EQ(contains(s.body, "观察夜活动说明"), !hidden);
    HttpResponse api = get("/api/v1/search?q=%E8%90%A4%E7%81%AB%E8%99%AB");
    ASSERT_EQ(api.status, 200) << api.body;
    EXPECT_EQ(json::parse(api.body)["total"].get<int64_t>(), hidden ? 0 : 1);
    HttpResponse dl = reader.get("/d/" + sid + "/download?format=txt");
    if (hidden) {
      EXPECT_EQ(dl.status, 404);
    }
    HttpResponse order = reader.post("/orders", {{"document_id", sid}});
    EXPECT_EQ(order.status, hidden ? 404 : 303) << order.body;
    for (const std::string& body : {anon_page.body, get("/api/v1/documents/" + sid).body})
      EXPECT_FALSE(contains(body, kDraftPaid));
  };
  hidden_everywhere(true);
  // The publisher (and admins) see their draft.
  EXPECT_EQ(ed.get("/d/" + sid).status, 200);
  EXPECT_EQ(as("admin@example.cn").get("/d/" + sid).status, 200);

  HttpResponse r = ed.post("/admin/documents/bulk", {{"ids", sid}, {"action", "publish"}});
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(audit(id).front().action, store::audit_action::kDocumentPublish);
  hidden_everywhere(false);

  // Unpublished again: hidden again, the cached anonymous page included.
  r = ed.post("/admin/documents/bulk", {{"ids", sid}, {"action", "unpublish"}});
  ASSERT_EQ(r.status, 303);
  EXPECT_EQ(get("/d/" + sid).status, 404);
  EXPECT_EQ(get("/api/v1/documents/" + sid).status, 404);
}

// The editor's tags field: shown as stored, saved with the revision,
// audited, linked from the page; a bad name is refused at its field and
// stores nothing.
TEST_F(DocumentConsoleTest, TheEditorSetsTagsWithTheRevision) {
  Browser ed = as("ed1@example.cn");
  int64_t id = create(ed, kSource);
  ASSERT_GT(id, 0);
  const std::string sid = std::to_string(id);
  const std::string edit = "/admin/documents/" + sid + "/edit";
  HttpResponse page = ed.get(edit);
  ASSERT_EQ(page.status, 200);
  EXPECT_TRUE(contains(page.body, "name=\"tags\"")) << "no tags field";
  const int64_t rev = store_->document_revision(id).value();

  Fields f = form(kSource, "8.00", "published", rev);
  f.push_back({"tags", "音乐，户外、 湖边 ,音乐"});
  HttpResponse saved = ed.post("/admin/documents/" + sid, f);
  ASSERT_EQ(saved.status, 303) << saved.body;
  EXPECT_EQ(store_->document_revision(id).value(), rev + 1);
  auto tags = store_->document_tags(id);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->size(), 3u);
  EXPECT_EQ(audit(id).front().action, store::audit_action::kDocumentTags);
  page = ed.get(edit);
  EXPECT_TRUE(contains(page.body, "湖边")) << "the field shows the stored tags";
  HttpResponse doc = get("/d/" + sid);
  EXPECT_TRUE(contains(doc.body, "/t/%E6%B9%96%E8%BE%B9")) << "the page links its tag 湖边";
  HttpResponse tag_page = get("/t/%E6%B9%96%E8%BE%B9");
  EXPECT_EQ(tag_page.status, 200);
  EXPECT_TRUE(contains(tag_page.body, "湖边音乐会筹备方案"));
  EXPECT_FALSE(contains(tag_page.body, kPaid));

  // A tag with a slash: refused at the field, the form kept, nothing stored.
  Fields bad = form(kSource, "9.00", "published", rev + 1);
  bad.push_back({"tags", "音乐，坏/名"});
  HttpResponse refused = ed.post("/admin/documents/" + sid, bad);
  EXPECT_EQ(refused.status, 422);
  EXPECT_TRUE(contains(refused.body, "标签")) << refused.body;
  EXPECT_TRUE(contains(refused.body, "坏/名")) << "the typed tags stay in the field";
  EXPECT_EQ(store_->document_revision(id).value(), rev + 1);
  EXPECT_EQ(store_->document_tags(id)->size(), 3u);

  // The preview shows the tags as readers will see them.
  Fields pf = form(kSource, "8.00", "published", rev + 1);
  pf.push_back({"tags", "夏夜"});
  HttpResponse preview = ed.post("/admin/documents/" + sid + "/preview", pf);
  EXPECT_EQ(preview.status, 200);
  EXPECT_TRUE(contains(preview.body, "夏夜"));
  EXPECT_EQ(store_->document_tags(id)->size(), 3u);  // a preview stores nothing
}

TEST_F(DocumentConsoleTest, ApiUploadsAreAuditedUnderTheUploader) {
  std::string token;
  {
    HttpResponse r = Browser(port_).post_json(
        "/api/v1/auth/login", {{"email", "ed1@example.cn"}, {"password", testing::kTestPassword}});
    ASSERT_EQ(r.status, 200) << r.body;
    token = json::parse(r.body)["token"].get<std::string>();
  }
  HttpResponse up = HttpClient(port_).request("POST", "/api/v1/documents?name=a.txt&price=2",
                                              {bearer(token), "Content-Type: text/plain"}, kSource);
  ASSERT_EQ(up.status, 201) << up.body;
  int64_t id = json::parse(up.body)["id"].get<int64_t>();
  std::vector<store::AuditEntry> entries = audit(id);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].action, store::audit_action::kDocumentCreate);
  EXPECT_EQ(entries[0].actor, "ed1@example.cn");
  // The uploader edits it in the console; the other editor may not.
  EXPECT_EQ(as("ed1@example.cn").get("/admin/documents/" + std::to_string(id) + "/edit").status,
            200);
  EXPECT_EQ(as("ed2@example.cn").get("/admin/documents/" + std::to_string(id) + "/edit").status,
            403);
}

}  // namespace
}  // namespace paidoc::web
