// Drafts, revisions, console saves and bulk changes in the store: each
// change writes its revision row and its audit entries in its own
// transaction; drafts stay out of readers' listings, counts and search.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "library/library.h"
#include "sources/sources.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"
#include "store/store.h"
#include "support/backends.h"

namespace paidoc::store {
namespace {

constexpr int64_t kNow = 1'780'000'000;

// Written for these tests.
constexpr std::string_view kLantern =
    "河畔灯会筹备说明\n"
    "今年的灯会沿着河岸摆放一百盏纸灯。\n"
    "##paidbegin##\n"
    "纸灯的骨架用晒干的芦苇扎成。\n"
    "##paidend##\n";

constexpr std::string_view kKite =
    "风筝节报名须知\n"
    "报名者请在周五前交回表格。\n"
    "##paidbegin##\n"
    "最长的风筝尾巴有十二米。\n"
    "##paidend##\n";

class RevisionsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
  }
  void TearDown() override { store_.reset(); }
  Store& open() {
    auto s = Store::open(db_->url());
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(s).value();
    return *store_;
  }
  std::vector<AuditEntry> audit_of(int64_t id) {
    AuditQuery q;
    q.target_kind = "document";
    q.target_id = id;
    q.limit = 100;
    auto page = store_->list(q);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->items : std::vector<AuditEntry>{};
  }
  int64_t import(std::string_view text, const std::string& path, const std::string& actor) {
    library::Library lib(*store_, clock_);
    library::ImportOptions opts;
    opts.price = Fen(800);
    opts.category = "活动";
    opts.actor.label = actor;
    library::ImportLine line = lib.import_bytes(text, path, opts);
    EXPECT_TRUE(line.ok) << line.error;
    return line.id;
  }

  FakeClock clock_{kNow};
  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<Store> store_;
};
PAIDOC_ON_EVERY_BACKEND(RevisionsTest);

// SQLite's own upgrade path (sqlite::migrate_to): SQLite only.
using RevisionsSqliteMigrationTest = RevisionsTest;
INSTANTIATE_TEST_SUITE_P(Sqlite, RevisionsSqliteMigrationTest,
                         ::testing::Values(std::string("sqlite")),
                         testing_support::BackendTestName());

TEST_P(RevisionsTest, ImportsWriteRevisionRowsAndAuditEntries) {
  Store& s = open();
  int64_t id = import(kLantern, "lantern.txt", "cli:tester");
  auto revs = s.document_revisions(id);
  ASSERT_TRUE(revs.ok());
  ASSERT_EQ(revs->size(), 1u);
  EXPECT_EQ((*revs)[0].revision, 1);
  EXPECT_EQ((*revs)[0].actor, "cli:tester");
  EXPECT_EQ((*revs)[0].title, "河畔灯会筹备说明");
  EXPECT_EQ((*revs)[0].price, Fen(800));
  EXPECT_EQ((*revs)[0].category, "活动");

  // The same path with other text: revision 2, audited as an update.
  std::string changed = std::string(kLantern) + "附：请自带手电筒。\n";
  ASSERT_EQ(import(changed, "lantern.txt", "cli:tester"), id);
  revs = s.document_revisions(id);
  ASSERT_TRUE(revs.ok());
  ASSERT_EQ(revs->size(), 2u);
  EXPECT_EQ((*revs)[0].revision, 2);  // newest first
  auto one = s.get_document_revision(id, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->source_text, std::string(kLantern));
  std::vector<AuditEntry> entries = audit_of(id);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].action, audit_action::kDocumentUpdate);
  EXPECT_EQ(entries[1].action, audit_action::kDocumentCreate);
  EXPECT_EQ(entries[1].actor, "cli:tester");

  EXPECT_EQ(s.get_document_revision(id, 9).status().code(), Code::kNotFound);
  EXPECT_EQ(s.document_revisions(id + 100).status().code(), Code::kNotFound);
}

// A console save: the whole new state, from a base revision.
DocumentEdit edit_of(Store& s, int64_t id) {
  auto d = s.get_document(id);
  EXPECT_TRUE(d.ok());
  DocumentEdit e;
  e.id = id;
  e.base_revision = d->summary.revision;
  e.doc.source_path = d->source_path;
  e.doc.source_sha256 = d->source_sha256;
  e.doc.source_text = d->source_text;
  e.doc.parsed = d->parsed;
  e.doc.title = d->summary.title;
  e.doc.price = d->summary.price;
  e.doc.category = d->summary.category;
  e.doc.summary = d->summary_text;
  e.doc.status = d->summary.status;
  e.doc.excerpt = d->summary.excerpt;
  e.doc.actor.label = "editor@example.cn";
  e.doc.actor.user_id = 7;
  return e;
}

TEST_P(RevisionsTest, SaveMakesOneRevisionPerChangeAndRefusesAStaleBase) {
  Store& s = open();
  int64_t id = import(kLantern, "lantern.txt", "cli:tester");

  DocumentEdit same = edit_of(s, id);
  auto put = s.save_document(same, kNow + 10);
  ASSERT_TRUE(put.ok()) << put.status().to_string();
  EXPECT_EQ(put->outcome, PutOutcome::kUnchanged);
  EXPECT_EQ(s.document_revision(id).value(), 1);

  DocumentEdit e = edit_of(s, id);
  e.doc.price = Fen(1200);
  e.doc.status = DocStatus::kDraft;
  e.doc.summary = "灯会的筹备安排。";
  put = s.save_document(e, kNow + 20);
  ASSERT_TRUE(put.ok()) << put.status().to_string();
  EXPECT_EQ(put->outcome, PutOutcome::kUpdated);
  auto d = s.get_document(id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->summary.revision, 2);
  EXPECT_EQ(d->summary.status, DocStatus::kDraft);
  EXPECT_EQ(d->summary.price, Fen(1200));
  EXPECT_EQ(d->summary_text, "灯会的筹备安排。");
  EXPECT_EQ(d->summary.excerpt, "灯会的筹备安排。");  // listings show the summary
  std::vector<AuditEntry> entries = audit_of(id);
  std::vector<std::string> actions;
  for (const auto& a : entries) actions.push_back(a.action);
  EXPECT_NE(std::find(actions.begin(), actions.end(), audit_action::kDocumentPrice), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), audit_action::kDocumentUnpublish),
            actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), audit_action::kDocumentUpdate), actions.end());
  for (const auto& a : entries)
    if (a.action != audit_action::kDocumentCreate) EXPECT_EQ(a.actor, "editor@example.cn");

  // Saved from revision 1 again: someone saved meanwhile. Nothing stored.
  const size_t audited = entries.size();
  e.doc.price = Fen(99);
  put = s.save_document(e, kNow + 30);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), Code::kConflict);
  EXPECT_EQ(s.get_document(id)->summary.price, Fen(1200));
  EXPECT_EQ(s.document_revisions(id)->size(), 2u);
  EXPECT_EQ(audit_of(id).size(), audited);
}

TEST_P(RevisionsTest, RestoreSavesANewRevisionAuditedAsRestore) {
  Store& s = open();
  int64_t id = import(kLantern, "lantern.txt", "cli:tester");
  DocumentEdit e = edit_of(s, id);
  e.doc.price = Fen(300);
  ASSERT_TRUE(s.save_document(e, kNow + 5).ok());
  auto old = s.get_document_revision(id, 1);
  ASSERT_TRUE(old.ok());
  DocumentEdit r = edit_of(s, id);
  r.doc.price = old->price;
  r.restored_from = 1;
  auto put = s.save_document(r, kNow + 9);
  ASSERT_TRUE(put.ok()) << put.status().to_string();
  EXPECT_EQ(s.document_revision(id).value(), 3);
  EXPECT_EQ(s.get_document(id)->summary.price, Fen(800));
  std::vector<AuditEntry> entries = audit_of(id);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries[0].action, audit_action::kDocumentRestore);
  EXPECT_NE(entries[0].details.find("\"restored_revision\":1"), std::string::npos)
      << entries[0].details;
}

TEST_P(RevisionsTest, DraftsAreLeftOutOfReadersListingsCountsAndSearch) {
  Store& s = open();
  int64_t lantern = import(kLantern, "lantern.txt", "cli:tester");
  int64_t kite = import(kKite, "kite.txt", "cli:tester");
  DocumentEdit e = edit_of(s, kite);
  e.doc.status = DocStatus::kDraft;
  ASSERT_TRUE(s.save_document(e, kNow + 1).ok());

  auto page = s.list_documents(ListQuery{});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 1);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, lantern);
  auto in_cat = s.list_documents({.category = "活动"});
  ASSERT_TRUE(in_cat.ok());
  EXPECT_EQ(in_cat->total, 1);
  auto cats = s.list_categories();
  ASSERT_TRUE(cats.ok());
  ASSERT_EQ(cats->size(), 1u);
  EXPECT_EQ((*cats)[0].document_count, 1);

  // The console sees both, and filters by status, title, publisher.
  auto all = s.list_documents({.status = std::nullopt});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->total, 2);
  auto drafts = s.list_documents({.status = DocStatus::kDraft});
  ASSERT_TRUE(drafts.ok());
  ASSERT_EQ(drafts->items.size(), 1u);
  EXPECT_EQ(drafts->items[0].id, kite);
  auto titled = s.list_documents({.status = std::nullopt, .title_contains = "灯会"});
  ASSERT_TRUE(titled.ok());
  ASSERT_EQ(titled->items.size(), 1u);
  EXPECT_EQ(titled->items[0].id, lantern);
  auto nobody = s.list_documents({.status = std::nullopt, .publisher_id = 42});
  ASSERT_TRUE(nobody.ok());
  EXPECT_EQ(nobody->total, 0);

  SearchQuery q;
  q.terms = {"报名"};
  auto hits = s.search(q);
  ASSERT_TRUE(hits.ok()) << hits.status().to_string();
  EXPECT_EQ(hits->total, 0);
  EXPECT_EQ(s.search_count(q).value(), 0);
  q.paid_scope.all = true;
  EXPECT_EQ(s.search(q)->total, 0);
  q.category = "活动";
  EXPECT_EQ(s.search(q)->total, 0);
  SearchQuery lq;
  lq.terms = {"灯会"};
  EXPECT_EQ(s.search(lq)->total, 1);

  // Published again: found again.
  DocumentEdit p = edit_of(s, kite);
  p.doc.status = DocStatus::kPublished;
  ASSERT_TRUE(s.save_document(p, kNow + 2).ok());
  q = SearchQuery{};
  q.terms = {"报名"};
  EXPECT_EQ(s.search(q)->total, 1);
  EXPECT_EQ(s.list_documents(ListQuery{})->total, 2);
}

// Tags travel with a save: one transaction, one revision, one audit entry.
TEST_P(RevisionsTest, SaveWithTagsMakesOneRevisionAndAnAuditEntry) {
  Store& s = open();
  int64_t id = import(kLantern, "lantern.txt", "cli:tester");
  DocumentEdit e = edit_of(s, id);
  e.tags = std::vector<std::string>{" 灯会 ", "节庆", "灯会"};
  auto put = s.save_document(e, kNow + 1);
  ASSERT_TRUE(put.ok()) << put.status().to_string();
  EXPECT_EQ(put->outcome, PutOutcome::kUpdated);
  EXPECT_EQ(s.document_revision(id).value(), 2);  // one revision, not two
  EXPECT_EQ(s.document_revisions(id)->size(), 2u);
  auto tags = s.document_tags(id);
  ASSERT_TRUE(tags.ok());
  std::vector<std::string> got = *tags;
  std::sort(got.begin(), got.end());
  std::vector<std::string> want{"灯会", "节庆"};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  std::vector<AuditEntry> entries = audit_of(id);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries[0].action, audit_action::kDocumentTags);
  EXPECT_EQ(entries[0].actor, "editor@example.cn");
  EXPECT_NE(entries[0].details.find("节庆"), std::string::npos) << entries[0].details;

  // The same tags in another order: unchanged, no revision, no entry.
  DocumentEdit again = edit_of(s, id);
  again.tags = std::vector<std::string>{"节庆", "灯会"};
  put = s.save_document(again, kNow + 2);
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->outcome, PutOutcome::kUnchanged);
  EXPECT_EQ(s.document_revision(id).value(), 2);
  EXPECT_EQ(audit_of(id).size(), entries.size());

  // nullopt keeps the tags; a bad name refuses the whole save.
  DocumentEdit price = edit_of(s, id);
  price.doc.price = Fen(100);
  ASSERT_TRUE(s.save_document(price, kNow + 3).ok());
  EXPECT_EQ(s.document_tags(id)->size(), 2u);
  DocumentEdit bad = edit_of(s, id);
  bad.doc.price = Fen(200);
  bad.tags = std::vector<std::string>{"好", "坏/名"};
  auto refused = s.save_document(bad, kNow + 4);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s.get_document(id)->summary.price, Fen(100));
  EXPECT_EQ(s.document_tags(id)->size(), 2u);

  // An empty list removes them.
  DocumentEdit none = edit_of(s, id);
  none.tags = std::vector<std::string>{};
  ASSERT_TRUE(s.save_document(none, kNow + 5).ok());
  EXPECT_TRUE(s.document_tags(id)->empty());
}

// Found in review: the tag listing counted and listed drafts, so /t/{tag}
// showed readers a draft's title and excerpt.
TEST_P(RevisionsTest, TagListingLeavesOutDraftsForReaders) {
  Store& s = open();
  int64_t lantern = import(kLantern, "lantern.txt", "cli:tester");
  int64_t kite = import(kKite, "kite.txt", "cli:tester");
  ASSERT_TRUE(s.set_document_tags(lantern, {"户外"}, kNow).is_ok());
  DocumentEdit e = edit_of(s, kite);
  e.doc.status = DocStatus::kDraft;
  e.tags = std::vector<std::string>{"户外"};
  ASSERT_TRUE(s.save_document(e, kNow + 1).ok());

  ListQuery q = page_query("", 0, 20);
  q.tag = "户外";
  auto page = s.list_documents(q);
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  EXPECT_EQ(page->total, 1);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, lantern);
  // The console (any status) sees both.
  q.status = std::nullopt;
  EXPECT_EQ(s.list_documents(q)->total, 2);
}

TEST_P(RevisionsTest, BulkChangesAreOneTransactionAuditedPerDocument) {
  Store& s = open();
  int64_t a = import(kLantern, "lantern.txt", "cli:tester");
  int64_t b = import(kKite, "kite.txt", "cli:tester");
  AuditActor actor{3, "admin@example.cn", "10.0.0.1"};
  BulkChange to_draft;
  to_draft.kind = BulkChange::Kind::kUnpublish;
  auto n = s.bulk_update_documents({a, b, b, 9999}, to_draft, std::nullopt, actor, kNow + 1);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(s.list_documents(ListQuery{})->total, 0);
  EXPECT_EQ(s.document_revision(a).value(), 2);
  EXPECT_EQ(s.document_revisions(b)->size(), 2u);
  EXPECT_EQ(audit_of(a)[0].action, audit_action::kDocumentUnpublish);
  EXPECT_EQ(audit_of(a)[0].actor, "admin@example.cn");
  EXPECT_EQ(audit_of(a)[0].ip, "10.0.0.1");

  // Again: nothing left to change.
  n = s.bulk_update_documents({a, b}, to_draft, std::nullopt, actor, kNow + 2);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);

  // Restricted to a publisher: documents of others (here: of nobody) are
  // left alone.
  BulkChange price;
  price.kind = BulkChange::Kind::kPrice;
  price.price = Fen(1500);
  n = s.bulk_update_documents({a, b}, price, int64_t{42}, actor, kNow + 3);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(s.get_document(a)->summary.price, Fen(800));

  n = s.bulk_update_documents({a, b}, price, std::nullopt, actor, kNow + 3);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(s.get_document(b)->summary.price, Fen(1500));
  EXPECT_EQ(audit_of(b)[0].action, audit_action::kDocumentPrice);

  BulkChange cat;
  cat.kind = BulkChange::Kind::kCategory;
  cat.category = "节庆";
  ASSERT_EQ(s.bulk_update_documents({a}, cat, std::nullopt, actor, kNow + 4).value(), 1);
  EXPECT_EQ(s.get_document(a)->summary.category, "节庆");
  EXPECT_EQ(audit_of(a)[0].action, audit_action::kDocumentCategory);

  // A bad audit entry refuses the whole bulk change: nothing changed.
  BulkChange publish;
  publish.kind = BulkChange::Kind::kPublish;
  AuditActor bad{0, "", ""};  // no label: no entry, but the change happens
  ASSERT_EQ(s.bulk_update_documents({a}, publish, std::nullopt, bad, kNow + 5).value(), 1);
}

// The migration keeps existing documents: published, one revision row each.
// It is migration 15 (drafts, summaries, revisions; migrations.cc): the
// database is built at the version before it, whatever came after.
constexpr int kRevisionsMigration = 15;
TEST_P(RevisionsSqliteMigrationTest, MigrationGivesExistingDocumentsARevisionRow) {
  {
    const std::string path = db_->url().substr(std::string("sqlite:").size());
    auto c = sqlite::Connection::open(path, 1000);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    auto v = sqlite::migrate_to(*c.value(), kRevisionsMigration - 1, kNow);
    ASSERT_TRUE(v.ok()) << v.status().to_string();
    sources::Loaded old = sources::load("旧文档\n正文。\n", "old.txt");
    ASSERT_TRUE(old.parsed.ok);
    const std::string sql =
        "INSERT INTO categories (name, created_at) VALUES ('旧', 1700000000);"
        "INSERT INTO documents (title, category_id, price_fen, source_path, source_sha256,"
        " source_text, parsed_json, excerpt, free_chars, paid_chars, free_paragraphs,"
        " paid_paragraphs, paid_sections, has_paid, publisher_id, revision, created_at,"
        " updated_at) VALUES ('旧文档', 1, 250, 'old.txt', 'abc', '" + old.source_text + "', '" +
        nlohmann::json(old.parsed.document).dump() +
        "', '正文。', 3, 0, 1, 0, 0, 0, NULL, 4, 1700000000, 1700000100);";
    ASSERT_TRUE(c.value()->exec_script(sql, "filling an older database").is_ok());
  }
  Store& s = open();
  auto revs = s.document_revisions(1);
  ASSERT_TRUE(revs.ok()) << revs.status().to_string();
  ASSERT_EQ(revs->size(), 1u);
  EXPECT_EQ((*revs)[0].revision, 4);
  EXPECT_EQ((*revs)[0].title, "旧文档");
  EXPECT_EQ((*revs)[0].price, Fen(250));
  EXPECT_EQ((*revs)[0].category, "旧");
  EXPECT_EQ((*revs)[0].status, DocStatus::kPublished);
  EXPECT_EQ((*revs)[0].created_at, 1700000100);
  auto page = s.list_documents(ListQuery{});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 1);
}

}  // namespace
}  // namespace paidoc::store
