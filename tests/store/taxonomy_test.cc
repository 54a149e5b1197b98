// The taxonomy contract (store/taxonomy.h) over Store::open: categories
// and tags in their order with counts, create / rename / move / delete with
// their refusals and audit entries, document tags, tag listings, and the
// revision bumps that keep cached document pages fresh. Plus the upgrade of
// an existing SQLite database (categories numbered in name order).
#include "store/taxonomy.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"
#include "store/store.h"
#include "support/backends.h"

namespace paidoc::store {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kT0 = 1'767'225'600;

doc::Document simple_document(const std::string& title) {
  doc::Document d;
  d.title = title;
  d.source_encoding = "utf-8";
  doc::Block b;
  b.runs = {{"正文的免费部分。", false}, {"付费部分。", true}};
  b.line = 2;
  d.blocks = {b};
  doc::compute_figures(d);
  return d;
}

NewDocument new_document(const std::string& name, const std::string& category = "") {
  NewDocument n;
  n.source_path = "/library/" + name + ".txt";
  std::string sha = std::to_string(std::hash<std::string>{}(name));
  n.source_sha256 = std::string(64 - sha.size(), 'a') + sha;
  n.parsed = simple_document("标题" + name);
  n.source_text = n.parsed.title + "\n正文";
  n.price = Fen(500);
  n.category = category;
  n.excerpt = "正文的免费部分。";
  return n;
}

AuditActor admin() { return {7, "admin@example.cn", "203.0.113.9"}; }

class TaxonomyStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    auto s = Store::open(db_->url());
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(s).value();
  }
  void TearDown() override { store_.reset(); }

  int64_t put(const NewDocument& n) {
    auto r = store_->put_document(n, kT0);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? r->id : 0;
  }
  Term create(TermKind kind, const std::string& name) {
    auto t = store_->create_term(kind, name, admin(), kT0);
    EXPECT_TRUE(t.ok()) << name << ": " << t.status().to_string();
    return t.ok() ? *t : Term{};
  }
  std::vector<std::string> names(TermKind kind) {
    auto l = store_->list_terms(kind);
    EXPECT_TRUE(l.ok()) << l.status().to_string();
    std::vector<std::string> out;
    if (l.ok())
      for (const Term& t : *l) out.push_back(t.name);
    return out;
  }
  int64_t count_of(TermKind kind, const std::string& name) {
    auto l = store_->list_terms(kind);
    EXPECT_TRUE(l.ok());
    if (l.ok())
      for (const Term& t : *l)
        if (t.name == name) return t.document_count;
    return -1;
  }
  int64_t revision(int64_t id) {
    auto r = store_->document_revision(id);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : -1;
  }
  std::vector<std::string> tags_of(int64_t id) {
    auto t = store_->document_tags(id);
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    return t.ok() ? *t : std::vector<std::string>{};
  }
  AuditPage audit(const std::string& action) {
    AuditQuery q;
    q.action = action;
    auto p = store_->list(q);
    EXPECT_TRUE(p.ok());
    return p.ok() ? *p : AuditPage{};
  }
  std::vector<std::string> listed_titles(const std::string& tag) {
    ListQuery q = page_query("", 0, 100);
    q.tag = tag;
    auto p = store_->list_documents(q);
    EXPECT_TRUE(p.ok()) << p.status().to_string();
    std::vector<std::string> out;
    if (p.ok())
      for (const auto& s : p->items) out.push_back(s.title);
    return out;
  }

  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<Store> store_;
};
PAIDOC_ON_EVERY_BACKEND(TaxonomyStoreTest);

using V = std::vector<std::string>;

TEST_P(TaxonomyStoreTest, NewTermsGoLastAndListsFollowPositionWithCounts) {
  create(TermKind::kCategory, "通知");
  create(TermKind::kCategory, "公告");
  // A category made by an import goes last too.
  put(new_document("a", "总结"));
  put(new_document("b", "总结"));
  EXPECT_EQ(names(TermKind::kCategory), (V{"通知", "公告", "总结"}));
  EXPECT_EQ(count_of(TermKind::kCategory, "总结"), 2);
  EXPECT_EQ(count_of(TermKind::kCategory, "通知"), 0);
  // The readers' category list (DocumentStore) uses the same order.
  auto cats = store_->list_categories();
  ASSERT_TRUE(cats.ok());
  ASSERT_EQ(cats->size(), 3u);
  EXPECT_EQ((*cats)[0].name, "通知");
  EXPECT_EQ((*cats)[2].name, "总结");
  EXPECT_EQ((*cats)[2].document_count, 2);
}

TEST_P(TaxonomyStoreTest, NamesAreTrimmedAndCheckedWithTheFieldNamed) {
  Term t = create(TermKind::kTag, "  范文\u3000");
  EXPECT_EQ(t.name, "范文");
  struct Bad {
    std::string name;
    std::string words;
  };
  for (const Bad& b : {Bad{"   ", "标签名称不能为空"}, Bad{"a/b", "标签名称不能包含"},
                       Bad{"why?", "标签名称不能包含"}, Bad{"#1", "标签名称不能包含"},
                       Bad{"x\ty", "标签名称不能包含控制字符"},
                       Bad{std::string(33, 'x'), "标签名称不能超过 32 个字符"},
                       Bad{"\xff\xfe", "标签名称不是有效的 UTF-8"}}) {
    auto r = store_->create_term(TermKind::kTag, b.name, admin(), kT0);
    ASSERT_FALSE(r.ok()) << b.name;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(b.words), std::string::npos) << r.status().message();
  }
  // 32 Chinese characters are fine: characters, not bytes, are counted.
  std::string longest;
  for (int i = 0; i < 32; ++i) longest += "字";
  create(TermKind::kCategory, longest);
  auto r = store_->create_term(TermKind::kCategory, "a/b", admin(), kT0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("分类名称"), std::string::npos);
  EXPECT_EQ(names(TermKind::kTag), (V{"范文"}));
  EXPECT_EQ(audit(audit_action::kTagCreate).total, 1);
}

TEST_P(TaxonomyStoreTest, CreateAndRenameRefuseATakenName) {
  create(TermKind::kCategory, "通知");
  Term b = create(TermKind::kCategory, "公告");
  auto dup = store_->create_term(TermKind::kCategory, "通知", admin(), kT0);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), Code::kConflict);
  EXPECT_NE(dup.status().message().find("分类「通知」已存在"), std::string::npos);
  auto ren = store_->rename_term(TermKind::kCategory, b.id, "通知", admin(), kT0);
  ASSERT_FALSE(ren.ok());
  EXPECT_EQ(ren.status().code(), Code::kConflict);
  EXPECT_EQ(names(TermKind::kCategory), (V{"通知", "公告"}));
  // Categories and tags are separate name spaces.
  create(TermKind::kTag, "通知");
  auto missing = store_->rename_term(TermKind::kTag, 999, "新名", admin(), kT0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(audit(audit_action::kCategoryRename).total, 0);
}

TEST_P(TaxonomyStoreTest, RenameIsAuditedAndBumpsTheRevisionOfDocumentsUsingIt) {
  int64_t in = put(new_document("in", "旧名"));
  int64_t out = put(new_document("out", "别的"));
  int64_t rin = revision(in), rout = revision(out);
  auto cats = store_->list_terms(TermKind::kCategory);
  ASSERT_TRUE(cats.ok());
  int64_t id = (*cats)[0].name == "旧名" ? (*cats)[0].id : (*cats)[1].id;
  auto r = store_->rename_term(TermKind::kCategory, id, "新名", admin(), kT0 + 60);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->name, "新名");
  EXPECT_EQ(revision(in), rin + 1);
  EXPECT_EQ(revision(out), rout);
  auto got = store_->get_document(in);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->summary.category, "新名");
  AuditPage p = audit(audit_action::kCategoryRename);
  ASSERT_EQ(p.total, 1);
  EXPECT_EQ(p.items[0].actor, "admin@example.cn");
  EXPECT_EQ(p.items[0].actor_user_id, 7);
  EXPECT_EQ(p.items[0].ip, "203.0.113.9");
  EXPECT_EQ(p.items[0].target_kind, "category");
  EXPECT_EQ(p.items[0].target_id, id);
  EXPECT_EQ(p.items[0].at, kT0 + 60);
  auto details = nlohmann::json::parse(p.items[0].details);
  EXPECT_EQ(details["name"]["from"], "旧名");
  EXPECT_EQ(details["name"]["to"], "新名");

  // A tag rename bumps exactly the tagged documents.
  ASSERT_TRUE(store_->set_document_tags(out, {"范文"}, kT0).is_ok());
  rin = revision(in), rout = revision(out);
  auto tags = store_->list_terms(TermKind::kTag);
  ASSERT_TRUE(tags.ok());
  ASSERT_TRUE(store_->rename_term(TermKind::kTag, (*tags)[0].id, "样文", admin(), kT0).ok());
  EXPECT_EQ(revision(out), rout + 1);
  EXPECT_EQ(revision(in), rin);
  EXPECT_EQ(tags_of(out), (V{"样文"}));
  EXPECT_EQ(audit(audit_action::kTagRename).total, 1);
}

TEST_P(TaxonomyStoreTest, MoveSwapsWithTheNeighbourAndStopsAtTheEnds) {
  Term a = create(TermKind::kTag, "甲");
  Term b = create(TermKind::kTag, "乙");
  Term c = create(TermKind::kTag, "丙");
  auto moved = store_->move_term(TermKind::kTag, c.id, MoveDirection::kUp, admin(), kT0);
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE(*moved);
  EXPECT_EQ(names(TermKind::kTag), (V{"甲", "丙", "乙"}));
  moved = store_->move_term(TermKind::kTag, a.id, MoveDirection::kDown, admin(), kT0);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(names(TermKind::kTag), (V{"丙", "甲", "乙"}));
  // At the ends nothing moves and nothing is recorded.
  moved = store_->move_term(TermKind::kTag, c.id, MoveDirection::kUp, admin(), kT0);
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(*moved);
  moved = store_->move_term(TermKind::kTag, b.id, MoveDirection::kDown, admin(), kT0);
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(*moved);
  EXPECT_EQ(names(TermKind::kTag), (V{"丙", "甲", "乙"}));
  AuditPage p = audit(audit_action::kTagMove);
  ASSERT_EQ(p.total, 2);
  auto details = nlohmann::json::parse(p.items[0].details);
  EXPECT_EQ(details["name"], "甲");
  EXPECT_EQ(details["position"]["from"], 1);
  EXPECT_EQ(details["position"]["to"], 2);
  auto missing = store_->move_term(TermKind::kTag, 999, MoveDirection::kUp, admin(), kT0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST_P(TaxonomyStoreTest, MovingATagReordersDocumentTagsAndBumpsTheirRevision) {
  int64_t d = put(new_document("d"));
  ASSERT_TRUE(store_->set_document_tags(d, {"甲", "乙"}, kT0).is_ok());
  EXPECT_EQ(tags_of(d), (V{"甲", "乙"}));
  int64_t rev = revision(d);
  auto tags = store_->list_terms(TermKind::kTag);
  ASSERT_TRUE(tags.ok());
  ASSERT_TRUE(store_->move_term(TermKind::kTag, (*tags)[1].id, MoveDirection::kUp, admin(), kT0).ok());
  EXPECT_EQ(tags_of(d), (V{"乙", "甲"}));
  EXPECT_GT(revision(d), rev);
}

TEST_P(TaxonomyStoreTest, DeleteIsRefusedWhileInUseAndAllowedWhenEmpty) {
  int64_t d = put(new_document("d", "公文"));
  ASSERT_TRUE(store_->set_document_tags(d, {"范文"}, kT0).is_ok());
  put(new_document("e", "公文"));
  auto cats = store_->list_terms(TermKind::kCategory);
  ASSERT_TRUE(cats.ok());
  Status s = store_->delete_term(TermKind::kCategory, (*cats)[0].id, admin(), kT0);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_EQ(s.message(), "分类「公文」下还有 2 篇文档，不能删除");
  auto tags = store_->list_terms(TermKind::kTag);
  ASSERT_TRUE(tags.ok());
  s = store_->delete_term(TermKind::kTag, (*tags)[0].id, admin(), kT0);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_EQ(s.message(), "标签「范文」下还有 1 篇文档，不能删除");
  EXPECT_EQ(names(TermKind::kCategory), (V{"公文"}));
  EXPECT_EQ(names(TermKind::kTag), (V{"范文"}));
  EXPECT_EQ(audit(audit_action::kCategoryDelete).total, 0);
  EXPECT_EQ(audit(audit_action::kTagDelete).total, 0);

  // Once unused, it goes.
  ASSERT_TRUE(store_->set_document_tags(d, {}, kT0).is_ok());
  ASSERT_TRUE(store_->delete_term(TermKind::kTag, (*tags)[0].id, admin(), kT0).is_ok());
  EXPECT_EQ(names(TermKind::kTag), V{});
  Term empty = create(TermKind::kCategory, "空分类");
  ASSERT_TRUE(store_->delete_term(TermKind::kCategory, empty.id, admin(), kT0).is_ok());
  EXPECT_EQ(names(TermKind::kCategory), (V{"公文"}));
  AuditPage p = audit(audit_action::kCategoryDelete);
  ASSERT_EQ(p.total, 1);
  EXPECT_EQ(nlohmann::json::parse(p.items[0].details)["name"], "空分类");
  EXPECT_EQ(audit(audit_action::kTagDelete).total, 1);
  EXPECT_EQ(store_->delete_term(TermKind::kCategory, empty.id, admin(), kT0).code(),
            Code::kNotFound);
}

TEST_P(TaxonomyStoreTest, SetDocumentTagsCreatesReplacesAndBumpsOnlyOnChange) {
  int64_t d = put(new_document("d"));
  int64_t rev = revision(d);
  create(TermKind::kTag, "已有");
  ASSERT_TRUE(store_->set_document_tags(d, {" 新标签 ", "已有", "新标签"}, kT0).is_ok());
  // Tag order, not the order given; the duplicate counts once.
  EXPECT_EQ(tags_of(d), (V{"已有", "新标签"}));
  EXPECT_EQ(names(TermKind::kTag), (V{"已有", "新标签"}));
  EXPECT_EQ(revision(d), rev + 1);
  // The same set again changes nothing.
  ASSERT_TRUE(store_->set_document_tags(d, {"新标签", "已有"}, kT0).is_ok());
  EXPECT_EQ(revision(d), rev + 1);
  // Replaced, not added to.
  ASSERT_TRUE(store_->set_document_tags(d, {"第三"}, kT0).is_ok());
  EXPECT_EQ(tags_of(d), (V{"第三"}));
  EXPECT_EQ(revision(d), rev + 2);
  EXPECT_EQ(count_of(TermKind::kTag, "已有"), 0);
  EXPECT_EQ(count_of(TermKind::kTag, "第三"), 1);
  // A bad name refuses the whole set.
  Status bad = store_->set_document_tags(d, {"好", "坏/名"}, kT0);
  EXPECT_EQ(bad.code(), Code::kInvalidArgument);
  EXPECT_EQ(tags_of(d), (V{"第三"}));
  std::vector<std::string> many;
  for (int i = 0; i < 21; ++i) many.push_back("t" + std::to_string(i));
  EXPECT_EQ(store_->set_document_tags(d, many, kT0).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->set_document_tags(999, {"x"}, kT0).code(), Code::kNotFound);
  EXPECT_EQ(store_->document_tags(999).status().code(), Code::kNotFound);
  // Creating tags through a document is not a console action: no entry.
  EXPECT_EQ(audit(audit_action::kTagCreate).total, 1);
}

TEST_P(TaxonomyStoreTest, ListingByTagHasExactlyTheTaggedDocuments) {
  int64_t a = put(new_document("a", "公文"));
  int64_t b = put(new_document("b", "报告"));
  put(new_document("c", "公文"));
  ASSERT_TRUE(store_->set_document_tags(a, {"范文", "通用"}, kT0).is_ok());
  ASSERT_TRUE(store_->set_document_tags(b, {"范文"}, kT0).is_ok());
  std::vector<std::string> titles = listed_titles("范文");
  std::sort(titles.begin(), titles.end());
  EXPECT_EQ(titles, (V{"标题a", "标题b"}));
  EXPECT_EQ(listed_titles("通用"), (V{"标题a"}));
  EXPECT_EQ(listed_titles("没有"), V{});
  // With a category too: both must hold.
  ListQuery q = page_query("报告", 0, 10);
  q.tag = "范文";
  auto p = store_->list_documents(q);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->total, 1);
  ASSERT_EQ(p->items.size(), 1u);
  EXPECT_EQ(p->items[0].id, b);
  // Paging.
  ListQuery q2 = page_query("", 1, 1);
  q2.tag = "范文";
  p = store_->list_documents(q2);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->total, 2);
  EXPECT_EQ(p->items.size(), 1u);
}

TEST_P(TaxonomyStoreTest, AnActorIsRequired) {
  auto r = store_->create_term(TermKind::kTag, "甲", AuditActor{}, kT0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(names(TermKind::kTag), V{});
}

// An existing database: categories are numbered in the name order readers
// saw until now, and new ones go after them.
TEST(TaxonomyMigrationTest, ExistingCategoriesKeepTheirNameOrder) {
  fs::path dir = fs::temp_directory_path() /
                 ("paidoc-taxonomy-migration-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  const std::string path = (dir / "paidoc.db").string();
  {
    auto c = sqlite::Connection::open(path, 1000);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    auto v = sqlite::migrate_to(*c.value(), 1, kT0);
    ASSERT_TRUE(v.ok()) << v.status().to_string();
    ASSERT_TRUE(c.value()
                    ->exec_script("INSERT INTO categories (name, created_at) VALUES"
                                  " ('丙', 1), ('甲', 2), ('乙', 3)",
                                  "seeding")
                    .is_ok());
  }
  {
    auto s = Store::open("sqlite:" + path);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    auto before = (*s)->list_terms(TermKind::kCategory);
    ASSERT_TRUE(before.ok());
    ASSERT_EQ(before->size(), 3u);
    // Byte order of the UTF-8 names, as ORDER BY name listed them.
    std::vector<std::string> expected = {"丙", "甲", "乙"};
    std::sort(expected.begin(), expected.end());
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ((*before)[i].name, expected[i]);
      EXPECT_EQ((*before)[i].position, static_cast<int64_t>(i));
    }
    ASSERT_TRUE((*s)->create_term(TermKind::kCategory, "新", admin(), kT0).ok());
    auto after = (*s)->list_terms(TermKind::kCategory);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->back().name, "新");
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace paidoc::store
