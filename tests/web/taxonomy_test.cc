// Categories and tags over HTTP against a real Server: the console's
// /admin/categories and /admin/tags (admins only, CSRF on every form, each
// change one audit entry), the readers' tag pages /t/{tag}, tag links on
// document pages (fresh after a rename, though the page is cached), and
// the sitemap.
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
#include "web/site.h"
#include "web/test_store.h"
#include "web/util.h"

namespace paidoc::web {
namespace {

using testing::Browser;
using testing::HttpClient;
using testing::HttpResponse;

// Written for these tests.
constexpr std::string_view kGarden =
    "社区花园认领办法\n"
    "居民可以认领社区花园里的一块菜地。\n"
    "##paidbegin##\n"
    "认领名单贴在传达室东墙的布告栏上。\n"
    "##paidend##\n";
constexpr std::string_view kLibrary =
    "楼道图书角管理约定\n"
    "每栋楼的图书角由志愿者轮流整理。\n";
constexpr std::string_view kParking =
    "非机动车停放须知\n"
    "电动自行车请停在指定区域充电。\n";

class TaxonomyWebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-taxonomy-web", clock_, t_));
    commerce_ = std::make_unique<commerce::Commerce>(
        *t_.store, *t_.store, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    garden_ = import(kGarden, "garden.txt", "社区活动");
    library_ = import(kLibrary, "library.txt", "社区活动");
    parking_ = import(kParking, "parking.txt", "");
    add_user("admin@example.cn", gate::Role::kAdmin);
    add_user("editor@example.cn", gate::Role::kEditor);
    add_user("reader@example.cn", gate::Role::kReader);

    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.site_name = "测试文库";
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

  int64_t import(std::string_view text, const std::string& path, const std::string& category) {
    library::ImportOptions io;
    io.price = Fen(300);
    io.category = category;
    library::ImportLine line = t_.library->import_bytes(text, path, io);
    EXPECT_TRUE(line.ok) << line.error;
    return line.id;
  }

  void add_user(const std::string& email, gate::Role role) {
    Result<auth::Account> a = t_.accounts->add_user(email, testing::kTestPassword, role);
    ASSERT_TRUE(a.ok()) << a.status().to_string();
  }

  Browser as(const std::string& email) { return testing::signed_in_browser(port_, email); }

  int64_t term_id(store::TermKind kind, const std::string& name) {
    auto l = t_.store->list_terms(kind);
    EXPECT_TRUE(l.ok());
    if (l.ok())
      for (const auto& t : *l)
        if (t.name == name) return t.id;
    ADD_FAILURE() << "no term " << name;
    return 0;
  }

  std::vector<std::string> names(store::TermKind kind) {
    auto l = t_.store->list_terms(kind);
    EXPECT_TRUE(l.ok());
    std::vector<std::string> out;
    if (l.ok())
      for (const auto& t : *l) out.push_back(t.name);
    return out;
  }

  // Audit entries with this action.
  std::vector<store::AuditEntry> audit(const std::string& action) {
    store::AuditQuery q;
    q.action = action;
    auto p = t_.store->list(q);
    EXPECT_TRUE(p.ok());
    return p.ok() ? p->items : std::vector<store::AuditEntry>{};
  }

  static bool has(const std::string& body, const std::string& text) {
    return body.find(text) != std::string::npos;
  }

  std::string doc_url(int64_t id) const { return "/d/" + std::to_string(id); }

  FakeClock clock_;
  testing::TestStore t_;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t garden_ = 0, library_ = 0, parking_ = 0;
};

using V = std::vector<std::string>;

TEST_F(TaxonomyWebTest, AdminCreatesRenamesReordersAndDeletesCategories) {
  Browser b = as("admin@example.cn");
  HttpResponse page = b.get("/admin/categories");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.header("x-frame-options"), "DENY");
  EXPECT_TRUE(has(page.body, "分类管理"));
  EXPECT_TRUE(has(page.body, "社区活动"));
  EXPECT_TRUE(has(page.body, "2 篇文档"));
  EXPECT_TRUE(has(page.body, "aria-current=\"page\">分类</a>"));

  HttpResponse r = b.post("/admin/categories", {{"name", " 通知公告 "}});
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.header("location"), "/admin/categories?msg=category_created");
  page = b.get(r.header("location"));
  EXPECT_TRUE(has(page.body, "分类已新建。"));
  EXPECT_EQ(names(store::TermKind::kCategory), (V{"社区活动", "通知公告"}));

  // Up: the new one first, for readers too.
  r = b.post("/admin/categories/" + std::to_string(term_id(store::TermKind::kCategory, "通知公告")) +
                 "/move",
             {{"dir", "up"}});
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(names(store::TermKind::kCategory), (V{"通知公告", "社区活动"}));
  HttpResponse home = HttpClient(port_).get("/");
  size_t first = home.body.find(Site::category_url("通知公告"));
  size_t second = home.body.find(Site::category_url("社区活动"));
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(first, second);

  // Rename: the category page moves with it.
  int64_t id = term_id(store::TermKind::kCategory, "社区活动");
  r = b.post("/admin/categories/" + std::to_string(id) + "/rename", {{"name", "邻里活动"}});
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(HttpClient(port_).get(Site::category_url("邻里活动")).status, 200);
  EXPECT_EQ(HttpClient(port_).get(Site::category_url("社区活动")).status, 404);

  // Delete the empty one.
  r = b.post("/admin/categories/" +
                 std::to_string(term_id(store::TermKind::kCategory, "通知公告")) + "/delete");
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(names(store::TermKind::kCategory), (V{"邻里活动"}));

  // One entry per change, by the admin.
  for (const char* action : {store::audit_action::kCategoryCreate, store::audit_action::kCategoryMove,
                             store::audit_action::kCategoryRename,
                             store::audit_action::kCategoryDelete}) {
    std::vector<store::AuditEntry> e = audit(action);
    ASSERT_EQ(e.size(), 1u) << action;
    EXPECT_EQ(e[0].actor, "admin@example.cn") << action;
    EXPECT_EQ(e[0].target_kind, "category");
  }
  EXPECT_EQ(audit(store::audit_action::kCategoryRename)[0].target_id, id);
  // The audit log page names the action.
  HttpResponse log = b.get("/admin/audit");
  EXPECT_TRUE(has(log.body, "分类改名")) << log.body;
}

TEST_F(TaxonomyWebTest, DeletingACategoryInUseIsRefusedWithItsCount) {
  Browser b = as("admin@example.cn");
  int64_t id = term_id(store::TermKind::kCategory, "社区活动");
  HttpResponse r = b.post("/admin/categories/" + std::to_string(id) + "/delete");
  EXPECT_EQ(r.status, 409);
  EXPECT_TRUE(has(r.body, "role=\"alert\">分类「社区活动」下还有 2 篇文档，不能删除")) << r.body;
  EXPECT_EQ(names(store::TermKind::kCategory), (V{"社区活动"}));
  EXPECT_TRUE(audit(store::audit_action::kCategoryDelete).empty());

  // A tag in use as well.
  ASSERT_TRUE(t_.store->set_document_tags(garden_, {"菜地"}, 1).is_ok());
  r = b.post("/admin/tags/" + std::to_string(term_id(store::TermKind::kTag, "菜地")) + "/delete");
  EXPECT_EQ(r.status, 409);
  EXPECT_TRUE(has(r.body, "标签「菜地」下还有 1 篇文档，不能删除"));
  EXPECT_EQ(names(store::TermKind::kTag), (V{"菜地"}));
}

TEST_F(TaxonomyWebTest, BadOrTakenNamesAreShownWithWhatWasTyped) {
  Browser b = as("admin@example.cn");
  HttpResponse r = b.post("/admin/tags", {{"name", "好/坏"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(has(r.body, "标签名称不能包含")) << r.body;
  EXPECT_TRUE(has(r.body, "value=\"好/坏\""));
  r = b.post("/admin/tags", {{"name", "   "}});
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(has(r.body, "标签名称不能为空"));
  EXPECT_EQ(names(store::TermKind::kTag), V{});

  ASSERT_EQ(b.post("/admin/tags", {{"name", "通知"}}).status, 303);
  ASSERT_EQ(b.post("/admin/tags", {{"name", "范文"}}).status, 303);
  r = b.post("/admin/tags", {{"name", "通知"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_TRUE(has(r.body, "标签「通知」已存在"));
  // A rename to a taken name keeps the typed name in that item's field.
  int64_t id = term_id(store::TermKind::kTag, "范文");
  r = b.post("/admin/tags/" + std::to_string(id) + "/rename", {{"name", "通知"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_TRUE(has(r.body, "id=\"term-" + std::to_string(id) + "\" name=\"name\" value=\"通知\""))
      << r.body;
  EXPECT_EQ(names(store::TermKind::kTag), (V{"通知", "范文"}));
  EXPECT_EQ(audit(store::audit_action::kTagCreate).size(), 2u);
  EXPECT_TRUE(audit(store::audit_action::kTagRename).empty());
}

TEST_F(TaxonomyWebTest, TagsAreManagedAndReorderedLikeCategories) {
  Browser b = as("admin@example.cn");
  for (const char* n : {"甲", "乙", "丙"}) ASSERT_EQ(b.post("/admin/tags", {{"name", n}}).status, 303);
  int64_t c = term_id(store::TermKind::kTag, "丙");
  HttpResponse r = b.post("/admin/tags/" + std::to_string(c) + "/move", {{"dir", "up"}});
  ASSERT_EQ(r.status, 303);
  EXPECT_EQ(r.header("location"), "/admin/tags?msg=tag_moved");
  EXPECT_EQ(names(store::TermKind::kTag), (V{"甲", "丙", "乙"}));
  HttpResponse page = b.get("/admin/tags");
  ASSERT_EQ(page.status, 200);
  EXPECT_LT(page.body.find(">丙</a>"), page.body.find(">乙</a>"));
  // The last one's ↓ is disabled; asking anyway changes nothing.
  r = b.post("/admin/tags/" + std::to_string(term_id(store::TermKind::kTag, "乙")) + "/move",
             {{"dir", "down"}});
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(names(store::TermKind::kTag), (V{"甲", "丙", "乙"}));
  r = b.post("/admin/tags/" + std::to_string(c) + "/move", {{"dir", "sideways"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(audit(store::audit_action::kTagMove).size(), 1u);
  r = b.post("/admin/tags/" + std::to_string(c) + "/rename", {{"name", "丁"}});
  EXPECT_EQ(r.status, 303);
  r = b.post("/admin/tags/" + std::to_string(c) + "/delete");
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(names(store::TermKind::kTag), (V{"甲", "乙"}));
  EXPECT_EQ(audit(store::audit_action::kTagRename).size(), 1u);
  EXPECT_EQ(audit(store::audit_action::kTagDelete).size(), 1u);
  EXPECT_EQ(b.post("/admin/tags/99999/delete").status, 404);
}

TEST_F(TaxonomyWebTest, EditorsReadersAndStrangersCannotTouchTaxonomy) {
  ASSERT_TRUE(t_.store->set_document_tags(garden_, {"菜地"}, 1).is_ok());
  const std::string cat = std::to_string(term_id(store::TermKind::kCategory, "社区活动"));
  const std::string tag = std::to_string(term_id(store::TermKind::kTag, "菜地"));
  const std::vector<std::string> gets = {"/admin/categories", "/admin/tags"};
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> posts =
      {{"/admin/categories", {{"name", "新"}}},
       {"/admin/categories/" + cat + "/rename", {{"name", "新"}}},
       {"/admin/categories/" + cat + "/move", {{"dir", "up"}}},
       {"/admin/categories/" + cat + "/delete", {}},
       {"/admin/tags", {{"name", "新"}}},
       {"/admin/tags/" + tag + "/rename", {{"name", "新"}}},
       {"/admin/tags/" + tag + "/move", {{"dir", "up"}}},
       {"/admin/tags/" + tag + "/delete", {}}};
  for (const char* email : {"editor@example.cn", "reader@example.cn"}) {
    Browser b = as(email);
    for (const auto& g : gets) EXPECT_EQ(b.get(g).status, 403) << email << " " << g;
    for (const auto& [url, fields] : posts)
      EXPECT_EQ(b.post(url, fields).status, 403) << email << " " << url;
  }
  // Not signed in: the pages send to the login form, forms are refused.
  Browser anon(port_);
  anon.prime();
  for (const auto& g : gets) {
    HttpResponse r = anon.get(g);
    EXPECT_EQ(r.status, 303) << g;
    EXPECT_EQ(r.header("location").rfind("/login?next=", 0), 0u) << g;
  }
  for (const auto& [url, fields] : posts) {
    HttpResponse r = anon.post(url, fields);
    if (r.status == 303)
      EXPECT_EQ(r.header("location").rfind("/login", 0), 0u) << url;
    else
      EXPECT_GE(r.status, 400) << url;
  }
  // The editor's console does not offer the sections.
  HttpResponse console = as("editor@example.cn").get("/admin");
  ASSERT_EQ(console.status, 200);
  EXPECT_FALSE(has(console.body, "/admin/categories"));
  EXPECT_EQ(names(store::TermKind::kCategory), (V{"社区活动"}));
  EXPECT_EQ(names(store::TermKind::kTag), (V{"菜地"}));
  store::AuditQuery q;
  auto all = t_.store->list(q);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->total, 0);
}

TEST_F(TaxonomyWebTest, EveryFormWithoutCsrfIsRefused) {
  ASSERT_TRUE(t_.store->set_document_tags(parking_, {"停车"}, 1).is_ok());
  Browser b = as("admin@example.cn");
  const std::string cat = std::to_string(term_id(store::TermKind::kCategory, "社区活动"));
  const std::string tag = std::to_string(term_id(store::TermKind::kTag, "停车"));
  for (const std::string& url :
       {std::string("/admin/categories"), "/admin/categories/" + cat + "/rename",
        "/admin/categories/" + cat + "/move", "/admin/categories/" + cat + "/delete",
        std::string("/admin/tags"), "/admin/tags/" + tag + "/rename",
        "/admin/tags/" + tag + "/move", "/admin/tags/" + tag + "/delete"}) {
    HttpResponse r = b.post(url, {{"name", "偷改"}, {"dir", "up"}}, /*add_csrf=*/false);
    EXPECT_EQ(r.status, 403) << url;
    // A wrong token is no better.
    r = b.post(url, {{"name", "偷改"}, {"dir", "up"}, {"csrf", "not-the-token"}}, false);
    EXPECT_EQ(r.status, 403) << url;
  }
  EXPECT_EQ(names(store::TermKind::kCategory), (V{"社区活动"}));
  EXPECT_EQ(names(store::TermKind::kTag), (V{"停车"}));
  auto all = t_.store->list(store::AuditQuery{});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->total, 0);
}

TEST_F(TaxonomyWebTest, TagPageListsExactlyTheTaggedDocuments) {
  ASSERT_TRUE(t_.store->set_document_tags(garden_, {"邻里", "菜地"}, 1).is_ok());
  ASSERT_TRUE(t_.store->set_document_tags(parking_, {"邻里"}, 1).is_ok());
  HttpClient c(port_);
  HttpResponse r = c.get(Site::tag_url("邻里"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(has(r.body, "标签：邻里"));
  EXPECT_TRUE(has(r.body, "共 2 篇文档"));
  EXPECT_TRUE(has(r.body, "社区花园认领办法"));
  EXPECT_TRUE(has(r.body, "非机动车停放须知"));
  EXPECT_FALSE(has(r.body, "楼道图书角管理约定"));
  // The free excerpt only; the paid sentence never.
  EXPECT_FALSE(has(r.body, "传达室东墙"));
  r = c.get(Site::tag_url("菜地"));
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(has(r.body, "社区花园认领办法"));
  EXPECT_FALSE(has(r.body, "非机动车停放须知"));
  EXPECT_EQ(c.get(Site::tag_url("没有这个标签")).status, 404);
  EXPECT_EQ(c.get("/t/%E9%82%BB%E9%87%8C?page=0").status, 400);
  // An existing tag without documents is a page with none.
  ASSERT_TRUE(t_.store->create_term(store::TermKind::kTag, "空", {1, "cli:test", ""}, 1).ok());
  r = c.get(Site::tag_url("空"));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(has(r.body, "共 0 篇文档"));
  // The sitemap lists the tag pages that have documents.
  HttpResponse map = c.get("/sitemap.xml");
  ASSERT_EQ(map.status, 200);
  EXPECT_TRUE(has(map.body, Site::tag_url("邻里") + "</loc>"));
  EXPECT_TRUE(has(map.body, Site::tag_url("菜地") + "</loc>"));
  EXPECT_FALSE(has(map.body, Site::tag_url("空") + "</loc>"));
}

TEST_F(TaxonomyWebTest, DocumentPageLinksItsTagsAndStaysFreshAfterARename) {
  ASSERT_TRUE(t_.store->set_document_tags(garden_, {"菜地", "邻里"}, 1).is_ok());
  HttpClient c(port_);
  HttpResponse page = c.get(doc_url(garden_));
  ASSERT_EQ(page.status, 200);
  std::string link = "href=\"" + Site::tag_url("菜地") + "\">#菜地</a>";
  EXPECT_TRUE(has(page.body, link)) << page.body;
  EXPECT_TRUE(has(page.body, "href=\"" + Site::tag_url("邻里") + "\">#邻里</a>"));
  // The anonymous page is now cached; a second read is served from there.
  EXPECT_EQ(c.get(doc_url(garden_)).body, page.body);
  EXPECT_FALSE(has(c.get(doc_url(library_)).body, "#菜地"));

  Browser admin = as("admin@example.cn");
  int64_t id = term_id(store::TermKind::kTag, "菜地");
  ASSERT_EQ(admin.post("/admin/tags/" + std::to_string(id) + "/rename", {{"name", "小菜园"}}).status,
            303);
  page = c.get(doc_url(garden_));
  ASSERT_EQ(page.status, 200);
  EXPECT_TRUE(has(page.body, "href=\"" + Site::tag_url("小菜园") + "\">#小菜园</a>")) << page.body;
  EXPECT_FALSE(has(page.body, "#菜地"));
  // Reordering the tags reorders them on the page, cached or not.
  ASSERT_EQ(admin.post("/admin/tags/" + std::to_string(term_id(store::TermKind::kTag, "邻里")) +
                           "/move",
                       {{"dir", "up"}})
                .status,
            303);
  page = c.get(doc_url(garden_));
  EXPECT_LT(page.body.find("#邻里"), page.body.find("#小菜园"));
  // A renamed category shows at once too.
  ASSERT_EQ(admin.post("/admin/categories/" +
                           std::to_string(term_id(store::TermKind::kCategory, "社区活动")) +
                           "/rename",
                       {{"name", "邻里活动"}})
                .status,
            303);
  EXPECT_TRUE(has(c.get(doc_url(garden_)).body, ">邻里活动</a>"));
}

}  // namespace
}  // namespace paidoc::web
