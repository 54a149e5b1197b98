// The store contract: what every backend of store::Store must do. The suite
// is written once and instantiated per backend (bottom of this file); a new
// backend adds one entry to kBackends and passes the same tests.
//
// Tests use only the public interface (store/store.h) and build documents
// from the doc:: structs directly.

#include "store/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/migrations.h"
#include "support/test_database.h"
#ifdef PAIDOC_WITH_POSTGRES
#include "store/postgres/migrations.h"
#endif

namespace paidoc::store {
namespace {

namespace fs = std::filesystem;

// --- backends -----------------------------------------------------------------

using testing_support::make_test_database;
using testing_support::TempDir;
using testing_support::TestDatabase;

struct Backend {
  std::string name;
  std::function<std::unique_ptr<TestDatabase>()> make;
  int latest_schema_version = 0;
};

std::ostream& operator<<(std::ostream& os, const Backend& b) { return os << b.name; }

const Backend kSqlite{"sqlite", [] { return make_test_database("sqlite"); },
                      sqlite::latest_schema_version()};
// Runs where PAIDOC_TEST_PG names a server (make test starts one); skips
// elsewhere (tests/support/test_database.h).
const Backend kPostgres{"postgresql", [] { return make_test_database("postgresql"); },
#ifdef PAIDOC_WITH_POSTGRES
                        postgres::latest_schema_version()
#else
                        0
#endif
};

// --- documents ------------------------------------------------------------------

doc::Run free_run(std::string t) { return {std::move(t), false}; }
doc::Run paid_run(std::string t) { return {std::move(t), true}; }

doc::Block heading(int level, std::string label, doc::Run run, int line) {
  doc::Block b;
  b.kind = doc::BlockKind::kHeading;
  b.level = level;
  b.label = std::move(label);
  b.runs = {std::move(run)};
  b.line = line;
  return b;
}

doc::Block paragraph(std::vector<doc::Run> runs, int line, int indent = 4) {
  doc::Block b;
  b.runs = std::move(runs);
  b.line = line;
  b.indent = indent;
  return b;
}

// A document with free and paid text, headings on both sides and a line
// that is split by a marker.
doc::Document sample_document(const std::string& title) {
  doc::Document d;
  d.title = title;
  d.source_encoding = "utf-8";
  d.blocks = {
      heading(1, "一、", free_run("学习方面"), 2),
      paragraph({free_run("本单位认真组织学习，"), paid_run("但学习深度不够，存在走过场现象。")},
                3),
      heading(2, "（一）", paid_run("在理论学习方面"), 4),
      paragraph({paid_run("一是学习不够系统。二是联系实际不够。")}, 4, 0),
      heading(1, "二、", free_run("整改措施"), 5),
      paragraph({free_run("下一步将持续改进。")}, 6),
  };
  d.figures.paid_sections = 1;
  doc::compute_figures(d);
  return d;
}

doc::Document free_document(const std::string& title) {
  doc::Document d;
  d.title = title;
  d.source_encoding = "gb18030";
  d.blocks = {paragraph({free_run("全部免费的正文。")}, 2)};
  doc::compute_figures(d);
  return d;
}

// A stand-in for a SHA-256 hex digest: 64 hex digits, distinct per seed.
std::string fake_sha(const std::string& seed) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  uint64_t h = std::hash<std::string>{}(seed);
  for (int round = 0; out.size() < 64; ++round) {
    uint64_t x = h ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(round + 1));
    for (int i = 0; i < 16; ++i, x >>= 4) out += kHex[x & 15];
  }
  return out;
}

NewDocument new_document(const std::string& name, const std::string& category = "",
                         int64_t price_fen = 990, const std::string& content_seed = "") {
  NewDocument n;
  n.source_path = "/library/" + name + ".txt";
  n.source_sha256 = fake_sha(name + "|" + content_seed);
  n.parsed = sample_document("标题 " + name + content_seed);
  n.source_text = n.parsed.title + "\n##paidbegin##…##paidend##\n" + content_seed;
  n.price = Fen(price_fen);
  n.category = category;
  n.excerpt = "本单位认真组织学习，";
  return n;
}

// --- fixture --------------------------------------------------------------------

// The time callers pass (the store reads no clock of its own).
constexpr int64_t kT0 = 1'767'225'600;  // 2026-01-01, as FakeClock starts

class StoreContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    db_ = GetParam().make();
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    store_ = open();
  }

  std::unique_ptr<Store> open() {
    auto s = Store::open(db_->url());
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  int64_t put(const NewDocument& n, PutOutcome expected = PutOutcome::kCreated, int64_t at = kT0) {
    auto r = store_->put_document(n, at);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    if (!r.ok()) return 0;
    EXPECT_EQ(r->outcome, expected) << n.source_path;
    return r->id;
  }

  int64_t count() {
    auto c = store_->count_documents();
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? *c : -1;
  }

  ListPage list(const std::string& category, int64_t offset, int64_t limit) {
    auto p = store_->list_documents({category, offset, limit});
    EXPECT_TRUE(p.ok()) << p.status().to_string();
    return p.ok() ? std::move(p).value() : ListPage{};
  }

  static std::vector<int64_t> ids(const ListPage& p) {
    std::vector<int64_t> out;
    for (const auto& s : p.items) out.push_back(s.id);
    return out;
  }

  User create_user(const std::string& email, Role role = Role::kReader) {
    auto u = store_->create_user({email, "$argon2id$v=19$hash-of-" + email, role}, kT0);
    EXPECT_TRUE(u.ok()) << email << ": " << u.status().to_string();
    return u.ok() ? std::move(u).value() : User{};
  }

  // A session of `user` created at `at`, valid for a day.
  Session create_session(int64_t user_id, const std::string& token, int64_t at,
                         int64_t replace_session_id = 0) {
    Session s;
    s.user_id = user_id;
    s.token_hash = fake_sha("token|" + token);
    s.created_at = at;
    s.last_seen_at = at;
    s.expires_at = at + 86400;
    s.user_agent = "Mozilla/5.0 (" + token + ")";
    s.ip = "203.0.113.7";
    auto r = store_->create_session(s, replace_session_id);
    EXPECT_TRUE(r.ok()) << token << ": " << r.status().to_string();
    return r.ok() ? std::move(r).value() : Session{};
  }

  std::vector<int64_t> session_ids(int64_t user_id) {
    auto l = store_->list_sessions(user_id);
    EXPECT_TRUE(l.ok()) << l.status().to_string();
    std::vector<int64_t> out;
    if (l.ok()) {
      for (const auto& s : *l) out.push_back(s.id);
    }
    return out;
  }

  bool session_exists(const Session& s) { return store_->find_session(s.token_hash).ok(); }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
};

void expect_code(const Status& s, Code code, const std::string& what) {
  EXPECT_EQ(s.code(), code) << what << ": " << s.to_string();
}

// --- schema -----------------------------------------------------------------------

TEST_P(StoreContractTest, OpenCreatesSchemaAtLatestVersion) {
  ASSERT_NE(store_, nullptr);
  auto v = store_->schema_version();
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(*v, GetParam().latest_schema_version);
  EXPECT_EQ(count(), 0);
  auto cats = store_->list_categories();
  ASSERT_TRUE(cats.ok());
  EXPECT_TRUE(cats->empty());
}

TEST_P(StoreContractTest, ReopenKeepsDataAndSchemaVersion) {
  int64_t id = put(new_document("a", "党建"));
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto v = store_->schema_version();
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(*v, GetParam().latest_schema_version);
  EXPECT_EQ(count(), 1);
  auto got = store_->get_document(id);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->summary.title, "标题 a");
  // Once more: opening an up-to-date database is a no-op.
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(count(), 1);
}

TEST_P(StoreContractTest, TwoStoresOnOneDatabaseSeeEachOthersWrites) {
  auto other = open();
  ASSERT_NE(other, nullptr);
  int64_t id = put(new_document("shared"));
  auto got = other->get_document(id);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  auto r = other->put_document(new_document("shared"), kT0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, PutOutcome::kUnchanged);
  EXPECT_EQ(r->id, id);
}

// --- put / get --------------------------------------------------------------------

TEST_P(StoreContractTest, PutThenGetRoundTripsEverything) {
  NewDocument n = new_document("round-trip", "对照检查", 1290);
  n.publisher_id = 42;
  auto r = store_->put_document(n, kT0);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->outcome, PutOutcome::kCreated);
  EXPECT_GT(r->id, 0);

  auto got = store_->get_document(r->id);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  const StoredDocument& s = *got;
  // The parsed document comes back equal: title, blocks, kinds, levels,
  // labels, runs with their paid flags, lines, indents, encoding, figures.
  EXPECT_EQ(s.parsed, n.parsed);
  ASSERT_EQ(s.parsed.blocks.size(), 6u);
  EXPECT_EQ(s.parsed.blocks[1].runs[1].text, "但学习深度不够，存在走过场现象。");
  EXPECT_TRUE(s.parsed.blocks[1].runs[1].paid);
  EXPECT_FALSE(s.parsed.blocks[1].runs[0].paid);
  EXPECT_EQ(s.parsed.blocks[2].label, "（一）");
  EXPECT_EQ(s.parsed.blocks[2].level, 2);

  EXPECT_EQ(s.source_path, n.source_path);
  EXPECT_EQ(s.source_sha256, n.source_sha256);
  EXPECT_EQ(s.source_text, n.source_text);
  EXPECT_EQ(s.publisher_id, std::optional<int64_t>(42));

  const DocumentSummary& sum = s.summary;
  EXPECT_EQ(sum.id, r->id);
  EXPECT_EQ(sum.revision, 1);
  EXPECT_EQ(sum.title, n.parsed.title);
  EXPECT_EQ(sum.category, "对照检查");
  EXPECT_EQ(sum.price, Fen(1290));
  EXPECT_EQ(sum.excerpt, n.excerpt);
  EXPECT_EQ(sum.figures, n.parsed.figures);
  EXPECT_GT(sum.figures.paid_chars, 0);
  EXPECT_EQ(sum.figures.paid_sections, 1);
  EXPECT_TRUE(sum.has_paid_text);
  EXPECT_EQ(sum.created_at, kT0);  // the caller's time
  EXPECT_EQ(sum.updated_at, kT0);
}

TEST_P(StoreContractTest, FreeUncategorisedDocumentWithoutPublisher) {
  NewDocument n = new_document("free");
  n.parsed = free_document("免费文档");
  n.price = Fen(0);
  int64_t id = put(n);
  auto got = store_->get_document(id);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->parsed, n.parsed);
  EXPECT_EQ(got->summary.category, "");
  EXPECT_EQ(got->summary.price, Fen(0));
  EXPECT_FALSE(got->summary.has_paid_text);
  EXPECT_EQ(got->summary.figures.paid_chars, 0);
  EXPECT_EQ(got->publisher_id, std::nullopt);
  auto cats = store_->list_categories();
  ASSERT_TRUE(cats.ok());
  EXPECT_TRUE(cats->empty());  // no category is made for uncategorised documents
}

TEST_P(StoreContractTest, SummaryFiguresAgreeWithBlocks) {
  // Figures are counted from the blocks, whatever the caller filled in.
  NewDocument n = new_document("figures");
  doc::Document expected = n.parsed;
  n.parsed.figures.free_chars = 999999;
  n.parsed.figures.paid_paragraphs = 0;
  int64_t id = put(n);
  auto got = store_->get_document(id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->summary.figures, expected.figures);
  EXPECT_EQ(got->parsed.figures, expected.figures);
}

TEST_P(StoreContractTest, SameSha256IsUnchanged) {
  NewDocument n = new_document("same", "甲");
  int64_t id = put(n);
  // Same bytes, even under another path and with other options: unchanged.
  NewDocument again = n;
  again.source_path = "/elsewhere/copy.txt";
  again.price = Fen(1);
  again.category = "乙";
  auto r = store_->put_document(again, kT0);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->outcome, PutOutcome::kUnchanged);
  EXPECT_EQ(r->id, id);
  EXPECT_EQ(count(), 1);
  auto got = store_->get_document(id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->summary.revision, 1);
  EXPECT_EQ(got->summary.price, Fen(990));
  EXPECT_EQ(got->source_path, n.source_path);
  auto cats = store_->list_categories();
  ASSERT_TRUE(cats.ok());
  ASSERT_EQ(cats->size(), 1u);
  EXPECT_EQ((*cats)[0].name, "甲");
}

TEST_P(StoreContractTest, SamePathNewContentIsUpdated) {
  NewDocument v1 = new_document("report", "旧分类", 500, "v1");
  int64_t id = put(v1);
  auto before = store_->get_document(id);
  ASSERT_TRUE(before.ok());

  NewDocument v2 = new_document("report", "新分类", 800, "v2");
  v2.parsed = free_document("新标题");
  v2.publisher_id = 7;
  ASSERT_EQ(v2.source_path, v1.source_path);
  ASSERT_NE(v2.source_sha256, v1.source_sha256);
  EXPECT_EQ(put(v2, PutOutcome::kUpdated, kT0 + 60), id);
  EXPECT_EQ(count(), 1);

  auto after = store_->get_document(id);
  ASSERT_TRUE(after.ok()) << after.status().to_string();
  EXPECT_EQ(after->summary.revision, 2);
  EXPECT_EQ(after->summary.created_at, before->summary.created_at);
  EXPECT_EQ(after->summary.created_at, kT0);
  EXPECT_EQ(after->summary.updated_at, kT0 + 60);
  EXPECT_EQ(after->summary.title, "新标题");
  EXPECT_EQ(after->summary.category, "新分类");
  EXPECT_EQ(after->summary.price, Fen(800));
  EXPECT_FALSE(after->summary.has_paid_text);
  EXPECT_EQ(after->parsed, v2.parsed);
  EXPECT_EQ(after->source_sha256, v2.source_sha256);
  EXPECT_EQ(after->source_text, v2.source_text);
  EXPECT_EQ(after->publisher_id, std::optional<int64_t>(7));
  auto rev = store_->document_revision(id);
  ASSERT_TRUE(rev.ok());
  EXPECT_EQ(*rev, 2);

  // The old content's hash no longer names a document: putting it again is
  // an update back to it (revision 3), not "unchanged".
  EXPECT_EQ(put(v1, PutOutcome::kUpdated), id);
  rev = store_->document_revision(id);
  ASSERT_TRUE(rev.ok());
  EXPECT_EQ(*rev, 3);

  // The old category stays, now empty.
  auto cats = store_->list_categories();
  ASSERT_TRUE(cats.ok());
  ASSERT_EQ(cats->size(), 2u);
  for (const auto& c : *cats) EXPECT_EQ(c.document_count, c.name == "旧分类" ? 1 : 0) << c.name;
}

TEST_P(StoreContractTest, MissingDocumentIsNotFound) {
  put(new_document("present"));
  for (int64_t id : {int64_t{0}, int64_t{-1}, int64_t{2}, int64_t{987654321}}) {
    auto got = store_->get_document(id);
    ASSERT_FALSE(got.ok()) << id;
    EXPECT_EQ(got.status().code(), Code::kNotFound) << got.status().to_string();
    auto rev = store_->document_revision(id);
    ASSERT_FALSE(rev.ok()) << id;
    EXPECT_EQ(rev.status().code(), Code::kNotFound) << rev.status().to_string();
  }
}

TEST_P(StoreContractTest, DocumentRevisionMatchesSummary) {
  int64_t a = put(new_document("a"));
  int64_t b = put(new_document("b"));
  put(new_document("b", "", 990, "changed"), PutOutcome::kUpdated);
  auto ra = store_->document_revision(a);
  auto rb = store_->document_revision(b);
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_EQ(*ra, 1);
  EXPECT_EQ(*rb, 2);
  auto gb = store_->get_document(b);
  ASSERT_TRUE(gb.ok());
  EXPECT_EQ(gb->summary.revision, *rb);
}

TEST_P(StoreContractTest, EmptyShaOrPathIsInvalid) {
  NewDocument n = new_document("x");
  n.source_sha256.clear();
  auto r = store_->put_document(n, kT0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  n = new_document("x");
  n.source_path.clear();
  r = store_->put_document(n, kT0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(count(), 0);
}

TEST_P(StoreContractTest, InvalidUtf8IsRefused) {
  NewDocument n = new_document("bad-utf8");
  n.parsed.blocks[0].runs[0].text = "ok \xff\xfe broken";
  auto r = store_->put_document(n, kT0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().to_string();
  EXPECT_EQ(count(), 0);
}

// --- atomicity --------------------------------------------------------------------

TEST_P(StoreContractTest, FailedWriteLeavesDataAsItWas) {
  int64_t id = put(new_document("keep", "原有"));
  // A negative price breaks the schema's rule. The new category would be
  // written before the document row; it must not survive the failure.
  NewDocument bad = new_document("negative", "不应出现", -1);
  auto r = store_->put_document(bad, kT0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().to_string();
  EXPECT_EQ(count(), 1);
  auto cats = store_->list_categories();
  ASSERT_TRUE(cats.ok());
  ASSERT_EQ(cats->size(), 1u);
  EXPECT_EQ((*cats)[0].name, "原有");

  // A failing update leaves the old version in place, revision included.
  NewDocument bad_update = new_document("keep", "另一个新分类", -5, "v2");
  r = store_->put_document(bad_update, kT0);
  ASSERT_FALSE(r.ok());
  auto got = store_->get_document(id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->summary.revision, 1);
  EXPECT_EQ(got->summary.price, Fen(990));
  EXPECT_EQ(got->summary.category, "原有");
  EXPECT_EQ(got->source_sha256, new_document("keep", "原有").source_sha256);
  cats = store_->list_categories();
  ASSERT_TRUE(cats.ok());
  EXPECT_EQ(cats->size(), 1u);

  // And the store still works afterwards.
  put(new_document("after"));
  EXPECT_EQ(count(), 2);
}

// A batch is one transaction in which every document stands alone: the
// refused ones are left out (their partial writes too), the rest is stored
// in the order given.
TEST_P(StoreContractTest, PutDocumentsStoresABatchInOrderAndLeavesOutOnlyTheRefused) {
  int64_t old_id = put(new_document("old", "原有"));
  std::vector<NewDocument> batch;
  batch.push_back(new_document("a", "甲"));
  batch.push_back(new_document("negative", "不应出现", -1));  // refused after its category
  NewDocument copy = new_document("a", "甲");
  copy.source_path = "/elsewhere/a.txt";  // the same bytes: unchanged
  batch.push_back(copy);
  NewDocument no_sha = new_document("no-sha");
  no_sha.source_sha256.clear();
  batch.push_back(no_sha);
  batch.push_back(new_document("old", "原有", 990, "v2"));  // a new version
  batch.push_back(new_document("fbatchword"));

  auto r = store_->put_documents(batch, kT0 + 60);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), batch.size());
  const auto& out = *r;
  ASSERT_TRUE(out[0].ok()) << out[0].status().to_string();
  EXPECT_EQ(out[0]->outcome, PutOutcome::kCreated);
  EXPECT_EQ(out[1].status().code(), Code::kInvalidArgument) << out[1].status().to_string();
  ASSERT_TRUE(out[2].ok()) << out[2].status().to_string();
  EXPECT_EQ(out[2]->outcome, PutOutcome::kUnchanged);
  EXPECT_EQ(out[2]->id, out[0]->id);
  EXPECT_EQ(out[3].status().code(), Code::kInvalidArgument);
  ASSERT_TRUE(out[4].ok()) << out[4].status().to_string();
  EXPECT_EQ(out[4]->outcome, PutOutcome::kUpdated);
  EXPECT_EQ(out[4]->id, old_id);
  ASSERT_TRUE(out[5].ok()) << out[5].status().to_string();
  EXPECT_LT(out[0]->id, out[5]->id);  // created in the order given
  auto created = store_->get_document(out[0]->id);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->summary.created_at, kT0 + 60);  // the caller's time

  store_.reset();  // durable: a new store on the file sees the batch
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(count(), 3);
  auto updated = store_->get_document(old_id);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->summary.revision, 2);
  auto cats = store_->list_categories();
  ASSERT_TRUE(cats.ok());
  for (const auto& c : *cats) EXPECT_NE(c.name, "不应出现");
  EXPECT_EQ(cats->size(), 2u);
  // The index was kept in step inside the batch.
  SearchQuery q;
  q.terms = {"fbatchword"};
  auto found = store_->search(q);
  ASSERT_TRUE(found.ok()) << found.status().to_string();
  ASSERT_EQ(found->total, 1);
  EXPECT_EQ(found->hits[0].summary.id, out[5]->id);

  auto empty = store_->put_documents({}, kT0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// --- listings ---------------------------------------------------------------------

TEST_P(StoreContractTest, ListsNewestFirstWithPaging) {
  std::vector<int64_t> created;
  for (int i = 0; i < 7; ++i) created.push_back(put(new_document("doc" + std::to_string(i))));
  std::vector<int64_t> newest_first(created.rbegin(), created.rend());

  ListPage all = list("", 0, 100);
  EXPECT_EQ(all.total, 7);
  EXPECT_EQ(ids(all), newest_first);

  ListPage p1 = list("", 0, 3);
  ListPage p2 = list("", 3, 3);
  ListPage p3 = list("", 6, 3);
  ListPage past = list("", 50, 3);
  EXPECT_EQ(p1.total, 7);
  EXPECT_EQ(p2.total, 7);
  EXPECT_EQ(p3.total, 7);
  EXPECT_EQ(past.total, 7);
  EXPECT_EQ(ids(p1), std::vector<int64_t>(newest_first.begin(), newest_first.begin() + 3));
  EXPECT_EQ(ids(p2), std::vector<int64_t>(newest_first.begin() + 3, newest_first.begin() + 6));
  EXPECT_EQ(ids(p3), std::vector<int64_t>(newest_first.begin() + 6, newest_first.end()));
  EXPECT_TRUE(past.items.empty());

  // Summaries in listings are filled like get_document's.
  auto got = store_->get_document(newest_first[0]);
  ASSERT_TRUE(got.ok());
  const DocumentSummary& s = all.items[0];
  EXPECT_EQ(s.title, got->summary.title);
  EXPECT_EQ(s.price, got->summary.price);
  EXPECT_EQ(s.excerpt, got->summary.excerpt);
  EXPECT_EQ(s.figures, got->summary.figures);
  EXPECT_EQ(s.has_paid_text, got->summary.has_paid_text);
  EXPECT_EQ(s.revision, got->summary.revision);
  EXPECT_EQ(s.created_at, got->summary.created_at);
  EXPECT_EQ(s.updated_at, got->summary.updated_at);

  // An update keeps the document's place (ordered by creation).
  put(new_document("doc0", "", 990, "new content"), PutOutcome::kUpdated);
  EXPECT_EQ(ids(list("", 0, 100)), newest_first);
}

TEST_P(StoreContractTest, ListFiltersByCategoryAndCountsCategories) {
  int64_t a1 = put(new_document("a1", "公文"));
  int64_t b1 = put(new_document("b1", "党建"));
  int64_t a2 = put(new_document("a2", "公文"));
  int64_t n1 = put(new_document("n1"));
  int64_t a3 = put(new_document("a3", "公文"));
  put(new_document("c1", "Zeta"));

  ListPage gongwen = list("公文", 0, 10);
  EXPECT_EQ(gongwen.total, 3);
  EXPECT_EQ(ids(gongwen), (std::vector<int64_t>{a3, a2, a1}));
  for (const auto& s : gongwen.items) EXPECT_EQ(s.category, "公文");

  ListPage page2 = list("公文", 1, 1);
  EXPECT_EQ(page2.total, 3);
  EXPECT_EQ(ids(page2), (std::vector<int64_t>{a2}));

  EXPECT_EQ(ids(list("党建", 0, 10)), (std::vector<int64_t>{b1}));
  ListPage none = list("不存在", 0, 10);
  EXPECT_EQ(none.total, 0);
  EXPECT_TRUE(none.items.empty());

  ListPage all = list("", 0, 10);
  EXPECT_EQ(all.total, 6);
  auto uncategorised = std::find_if(all.items.begin(), all.items.end(),
                                    [&](const DocumentSummary& s) { return s.id == n1; });
  ASSERT_NE(uncategorised, all.items.end());
  EXPECT_EQ(uncategorised->category, "");

  auto cats = store_->list_categories();
  ASSERT_TRUE(cats.ok()) << cats.status().to_string();
  // In their set order (taxonomy.h): a category made by an import goes
  // last, so here the order they were first used in.
  ASSERT_EQ(cats->size(), 3u);
  EXPECT_EQ((*cats)[0].name, "公文");
  EXPECT_EQ((*cats)[0].document_count, 3);
  EXPECT_EQ((*cats)[1].name, "党建");
  EXPECT_EQ((*cats)[1].document_count, 1);
  EXPECT_EQ((*cats)[2].name, "Zeta");
  EXPECT_EQ((*cats)[2].document_count, 1);
  for (const auto& c : *cats) EXPECT_GT(c.id, 0);
}

TEST_P(StoreContractTest, ListRejectsBadPaging) {
  for (ListQuery q : {page_query("", 0, 0), page_query("", 0, 1001), page_query("", -1, 10)}) {
    auto p = store_->list_documents(q);
    ASSERT_FALSE(p.ok()) << q.offset << " " << q.limit;
    EXPECT_EQ(p.status().code(), Code::kInvalidArgument);
  }
  EXPECT_TRUE(store_->list_documents({"", 0, 1}).ok());
  EXPECT_TRUE(store_->list_documents({"", 0, 1000}).ok());
}

// --- concurrency ------------------------------------------------------------------

TEST_P(StoreContractTest, ConcurrentReadsWhileWriting) {
  constexpr int kPrefilled = 20;
  constexpr int kReaders = 4;
  constexpr int kCallsPerReader = 500;
  constexpr int kWrites = 40;
  std::vector<int64_t> existing;
  for (int i = 0; i < kPrefilled; ++i) {
    existing.push_back(put(new_document("pre" + std::to_string(i), i % 2 ? "单" : "双")));
  }

  std::atomic<int> failures{0};
  std::mutex mu;
  std::string first_failure;
  auto fail = [&](const std::string& what) {
    if (failures++ == 0) {
      std::lock_guard<std::mutex> lock(mu);
      first_failure = what;
    }
  };

  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      // New documents, and updates of prefilled ones (revision changes
      // under the readers' feet).
      NewDocument n = i % 2 ? new_document("w" + std::to_string(i), "写")
                            : new_document("pre" + std::to_string(i % kPrefilled), "双", 990,
                                           "w" + std::to_string(i));
      auto r = store_->put_document(n, kT0);
      if (!r.ok()) fail("put: " + r.status().to_string());
    }
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      for (int i = 0; i < kCallsPerReader; ++i) {
        int64_t id = existing[rng() % existing.size()];
        switch (i % 4) {
          case 0: {
            auto r = store_->get_document(id);
            if (!r.ok())
              fail("get: " + r.status().to_string());
            else if (r->summary.id != id || r->parsed.blocks.empty())
              fail("get: wrong document");
            break;
          }
          case 1:
          case 2: {
            auto r = store_->document_revision(id);
            if (!r.ok())
              fail("revision: " + r.status().to_string());
            else if (*r < 1)
              fail("revision < 1");
            break;
          }
          default: {
            auto r = store_->list_documents({i % 8 == 3 ? "双" : "", 0, 10});
            if (!r.ok())
              fail("list: " + r.status().to_string());
            else if (r->items.empty())
              fail("list: empty");
            break;
          }
        }
      }
    });
  }
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0) << first_failure;
  EXPECT_EQ(count(), kPrefilled + kWrites / 2);
}

// --- accounts ---------------------------------------------------------------------

TEST_P(StoreContractTest, CreateUserThenReadItBack) {
  auto r = store_->create_user({"a@example.cn", "$argon2id$v=19$abc", Role::kEditor}, kT0 + 7);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_GT(r->id, 0);
  EXPECT_EQ(r->email, "a@example.cn");
  EXPECT_EQ(r->password_hash, "$argon2id$v=19$abc");
  EXPECT_EQ(r->role, Role::kEditor);
  EXPECT_EQ(r->created_at, kT0 + 7);  // the caller's time
  EXPECT_EQ(r->deleted_at, 0);

  for (const auto& got : {store_->get_user(r->id), store_->find_user_by_email("a@example.cn")}) {
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ(got->id, r->id);
    EXPECT_EQ(got->email, r->email);
    EXPECT_EQ(got->password_hash, r->password_hash);
    EXPECT_EQ(got->role, Role::kEditor);
    EXPECT_EQ(got->created_at, r->created_at);
    EXPECT_EQ(got->deleted_at, 0);
  }
  // The default role is reader.
  NewUser plain;
  plain.email = "b@example.cn";
  plain.password_hash = "h";
  auto b = store_->create_user(plain, kT0);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(b->role, Role::kReader);
  EXPECT_NE(b->id, r->id);
}

TEST_P(StoreContractTest, DuplicateEmailIsConflict) {
  User a = create_user("dup@example.cn");
  auto r = store_->create_user({"dup@example.cn", "other-hash", Role::kAdmin}, kT0);
  ASSERT_FALSE(r.ok());
  expect_code(r.status(), Code::kConflict, "second registration");
  EXPECT_EQ(r.status().message(), "email already registered");
  // The first account is untouched.
  auto got = store_->get_user(a.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->password_hash, a.password_hash);
  EXPECT_EQ(got->role, Role::kReader);
  auto all = store_->list_users(0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST_P(StoreContractTest, BadNewUserIsInvalidAndNothingIsStored) {
  std::vector<NewUser> bad = {
      {"", "h", Role::kReader},                           // no email
      {"x@example.cn", "", Role::kReader},                // no hash
      {"x@example.cn", "h", static_cast<Role>(42)},       // outside the enum
      {"x@example.cn", "h", Role::kDeleted},              // the store's own marker
      {"deleted-1@deleted.invalid", "h", Role::kReader},  // reserved for anonymised rows
  };
  for (const auto& u : bad) {
    auto r = store_->create_user(u, kT0);
    const std::string what = u.email + " " + std::to_string(static_cast<int>(u.role));
    ASSERT_FALSE(r.ok()) << what;
    expect_code(r.status(), Code::kInvalidArgument, what);
  }
  auto all = store_->list_users(0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  EXPECT_FALSE(store_->find_user_by_email("x@example.cn").ok());
}

TEST_P(StoreContractTest, UnknownUsersAreNotFound) {
  User a = create_user("present@example.cn");
  auto by_email = store_->find_user_by_email("absent@example.cn");
  ASSERT_FALSE(by_email.ok());
  expect_code(by_email.status(), Code::kNotFound, "find_user_by_email");
  // Emails are compared as given: the caller normalises them.
  expect_code(store_->find_user_by_email("Present@example.cn").status(), Code::kNotFound,
              "find_user_by_email, other case");
  for (int64_t id : {int64_t{0}, int64_t{-1}, a.id + 1, int64_t{987654321}}) {
    const std::string what = "user " + std::to_string(id);
    expect_code(store_->get_user(id).status(), Code::kNotFound, what);
    expect_code(store_->set_user_role(id, Role::kAdmin), Code::kNotFound, what);
    expect_code(store_->set_password_hash(id, "h2", 0), Code::kNotFound, what);
    expect_code(store_->delete_user(id, kT0), Code::kNotFound, what);
    Session s;
    s.user_id = id;
    s.token_hash = fake_sha("orphan" + what);
    s.expires_at = kT0 + 60;
    expect_code(store_->create_session(s, 0).status(), Code::kNotFound, what);
  }
  // None of that touched the existing account.
  auto got = store_->get_user(a.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->role, Role::kReader);
  EXPECT_EQ(got->password_hash, a.password_hash);
}

TEST_P(StoreContractTest, ListUsersOldestFirstLiveOnlyWithPaging) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(create_user("u" + std::to_string(i) + "@x.cn").id);
  ASSERT_TRUE(store_->delete_user(ids[2], kT0).is_ok());
  std::vector<int64_t> live = {ids[0], ids[1], ids[3], ids[4], ids[5]};

  auto user_ids = [&](int64_t offset, int64_t limit) {
    auto l = store_->list_users(offset, limit);
    EXPECT_TRUE(l.ok()) << l.status().to_string();
    std::vector<int64_t> out;
    if (l.ok()) {
      for (const auto& u : *l) {
        EXPECT_EQ(u.deleted_at, 0);
        out.push_back(u.id);
      }
    }
    return out;
  };
  EXPECT_EQ(user_ids(0, 100), live);
  EXPECT_EQ(user_ids(0, 2), (std::vector<int64_t>{ids[0], ids[1]}));
  EXPECT_EQ(user_ids(2, 2), (std::vector<int64_t>{ids[3], ids[4]}));
  EXPECT_EQ(user_ids(4, 2), (std::vector<int64_t>{ids[5]}));
  EXPECT_TRUE(user_ids(50, 2).empty());

  for (auto [offset, limit] : {std::pair<int64_t, int64_t>{0, 0}, {0, 1001}, {-1, 10}}) {
    auto l = store_->list_users(offset, limit);
    ASSERT_FALSE(l.ok()) << offset << " " << limit;
    expect_code(l.status(), Code::kInvalidArgument, "list_users paging");
  }
  EXPECT_TRUE(store_->list_users(0, 1000).ok());
}

TEST_P(StoreContractTest, SetUserRole) {
  User a = create_user("role@example.cn");
  ASSERT_TRUE(store_->set_user_role(a.id, Role::kAdmin).is_ok());
  auto got = store_->get_user(a.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->role, Role::kAdmin);
  ASSERT_TRUE(store_->set_user_role(a.id, Role::kEditor).is_ok());
  ASSERT_TRUE(store_->set_user_role(a.id, Role::kEditor).is_ok());  // same role again: fine
  got = store_->find_user_by_email("role@example.cn");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->role, Role::kEditor);

  // Roles no caller may give are refused and change nothing.
  for (Role bad : {Role::kDeleted, static_cast<Role>(42)}) {
    const std::string what = "role " + std::to_string(static_cast<int>(bad));
    expect_code(store_->set_user_role(a.id, bad), Code::kInvalidArgument, what);
    got = store_->get_user(a.id);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->role, Role::kEditor) << what;
  }
  // A bad role on an unknown user: the role is wrong either way.
  expect_code(store_->set_user_role(a.id + 100, Role::kDeleted), Code::kInvalidArgument,
              "bad role, no user");

  // A deleted account's role cannot be set.
  ASSERT_TRUE(store_->delete_user(a.id, kT0).is_ok());
  expect_code(store_->set_user_role(a.id, Role::kAdmin), Code::kNotFound, "deleted user");
  got = store_->get_user(a.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->role, Role::kDeleted);
}

TEST_P(StoreContractTest, PasswordChangeKeepsOnlyTheGivenSession) {
  User a = create_user("pw@example.cn");
  User b = create_user("other@example.cn");
  Session s1 = create_session(a.id, "a1", kT0);
  Session s2 = create_session(a.id, "a2", kT0 + 1);
  Session s3 = create_session(a.id, "a3", kT0 + 2);
  Session other = create_session(b.id, "b1", kT0);

  ASSERT_TRUE(store_->set_password_hash(a.id, "new-hash", s2.id).is_ok());
  auto got = store_->get_user(a.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->password_hash, "new-hash");
  EXPECT_EQ(session_ids(a.id), (std::vector<int64_t>{s2.id}));
  EXPECT_FALSE(session_exists(s1));
  EXPECT_TRUE(session_exists(s2));
  EXPECT_FALSE(session_exists(s3));
  // Another user's sessions are not touched, even when named as the one to keep.
  EXPECT_TRUE(session_exists(other));
  ASSERT_TRUE(store_->set_password_hash(a.id, "newer-hash", other.id).is_ok());
  EXPECT_TRUE(session_ids(a.id).empty());
  EXPECT_TRUE(session_exists(other));

  // 0 keeps none.
  Session s4 = create_session(a.id, "a4", kT0 + 3);
  ASSERT_TRUE(store_->set_password_hash(a.id, "newest-hash", 0).is_ok());
  EXPECT_FALSE(session_exists(s4));
  got = store_->get_user(a.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->password_hash, "newest-hash");

  // An empty hash is refused and changes nothing.
  Session s5 = create_session(a.id, "a5", kT0 + 4);
  expect_code(store_->set_password_hash(a.id, "", 0), Code::kInvalidArgument, "empty hash");
  EXPECT_TRUE(session_exists(s5));
  got = store_->get_user(a.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->password_hash, "newest-hash");
  EXPECT_EQ(store_->get_user(b.id)->password_hash, b.password_hash);
}

TEST_P(StoreContractTest, DeleteUserAnonymisesAndFreesTheEmail) {
  User a = create_user("gone@example.cn", Role::kAdmin);
  User b = create_user("stays@example.cn");
  create_session(a.id, "a1", kT0);
  create_session(a.id, "a2", kT0 + 1);
  Session kept = create_session(b.id, "b1", kT0);

  ASSERT_TRUE(store_->delete_user(a.id, kT0 + 100).is_ok());

  // The row stays, anonymised.
  auto got = store_->get_user(a.id);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->id, a.id);
  EXPECT_EQ(got->email, "deleted-" + std::to_string(a.id) + "@deleted.invalid");
  EXPECT_EQ(got->password_hash, "");
  EXPECT_EQ(got->role, Role::kDeleted);
  EXPECT_EQ(got->created_at, a.created_at);
  EXPECT_EQ(got->deleted_at, kT0 + 100);
  // It cannot be found by either address, and is not listed.
  expect_code(store_->find_user_by_email("gone@example.cn").status(), Code::kNotFound, "old email");
  expect_code(store_->find_user_by_email(got->email).status(), Code::kNotFound, "anonymised email");
  auto all = store_->list_users(0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, b.id);
  // Its sessions are gone; nobody else's are.
  EXPECT_TRUE(session_ids(a.id).empty());
  EXPECT_TRUE(session_exists(kept));
  // No new sessions and no new password for a deleted account.
  Session s;
  s.user_id = a.id;
  s.token_hash = fake_sha("after-delete");
  s.expires_at = kT0 + 1000;
  expect_code(store_->create_session(s, 0).status(), Code::kNotFound, "session for deleted user");
  expect_code(store_->set_password_hash(a.id, "h", 0), Code::kNotFound, "hash for deleted user");

  // Deleting again changes nothing and is not an error.
  ASSERT_TRUE(store_->delete_user(a.id, kT0 + 500).is_ok());
  got = store_->get_user(a.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->deleted_at, kT0 + 100);

  // The old address can register again, as a new account.
  User again = create_user("gone@example.cn");
  EXPECT_NE(again.id, a.id);
  EXPECT_GT(again.id, b.id);  // ids are never reused
  auto found = store_->find_user_by_email("gone@example.cn");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, again.id);
  EXPECT_EQ(found->role, Role::kReader);
  EXPECT_EQ(store_->get_user(a.id)->deleted_at, kT0 + 100);
}

// --- sessions ---------------------------------------------------------------------

TEST_P(StoreContractTest, CreateAndFindSession) {
  User a = create_user("s@example.cn");
  Session in;
  in.user_id = a.id;
  in.token_hash = fake_sha("tok");
  in.created_at = kT0;
  in.last_seen_at = kT0 + 1;
  in.expires_at = kT0 + 3600;
  in.user_agent = "Mozilla/5.0 (X11; Linux x86_64) 浏览器";
  in.ip = "2001:db8::1";
  auto out = store_->create_session(in, 0);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_GT(out->id, 0);
  for (const auto& s : {*out, *store_->find_session(in.token_hash)}) {
    EXPECT_EQ(s.id, out->id);
    EXPECT_EQ(s.user_id, a.id);
    EXPECT_EQ(s.token_hash, in.token_hash);
    EXPECT_EQ(s.created_at, kT0);
    EXPECT_EQ(s.last_seen_at, kT0 + 1);
    EXPECT_EQ(s.expires_at, kT0 + 3600);
    EXPECT_EQ(s.user_agent, in.user_agent);
    EXPECT_EQ(s.ip, in.ip);
  }
  // Expiry is the caller's check: an expired session is still found.
  Session old = create_session(a.id, "old", kT0 - 10 * 86400);
  EXPECT_TRUE(session_exists(old));

  expect_code(store_->find_session(fake_sha("nope")).status(), Code::kNotFound, "unknown token");
  expect_code(store_->find_session("").status(), Code::kNotFound, "empty token");

  // A token hash names one session.
  Session dup = in;
  dup.created_at = kT0 + 5;
  expect_code(store_->create_session(dup, 0).status(), Code::kConflict, "duplicate token hash");
  Session empty = in;
  empty.token_hash.clear();
  expect_code(store_->create_session(empty, 0).status(), Code::kInvalidArgument, "empty token");
  EXPECT_EQ(session_ids(a.id).size(), 2u);
}

TEST_P(StoreContractTest, RotationReplacesTheOldSessionAtomically) {
  User a = create_user("rot@example.cn");
  User b = create_user("rot2@example.cn");
  Session anon = create_session(a.id, "before-login", kT0);
  Session other = create_session(a.id, "other-device", kT0 + 1);
  Session fresh = create_session(a.id, "after-login", kT0 + 2, anon.id);
  EXPECT_NE(fresh.id, anon.id);
  EXPECT_FALSE(session_exists(anon));
  EXPECT_TRUE(session_exists(fresh));
  EXPECT_TRUE(session_exists(other));
  EXPECT_EQ(session_ids(a.id), (std::vector<int64_t>{fresh.id, other.id}));

  // Signing in as someone else on the same browser replaces that session too.
  Session as_b = create_session(b.id, "switch", kT0 + 3, fresh.id);
  EXPECT_FALSE(session_exists(fresh));
  EXPECT_EQ(session_ids(b.id), (std::vector<int64_t>{as_b.id}));

  // Replacing an absent session is fine.
  Session c = create_session(a.id, "replace-absent", kT0 + 4, 987654321);
  EXPECT_TRUE(session_exists(c));

  // A failed insert keeps the session it would have replaced.
  Session clash;
  clash.user_id = a.id;
  clash.token_hash = other.token_hash;  // taken
  clash.expires_at = kT0 + 999;
  expect_code(store_->create_session(clash, c.id).status(), Code::kConflict, "clash");
  EXPECT_TRUE(session_exists(c));
  clash.token_hash = fake_sha("no such user");
  clash.user_id = 987654321;
  expect_code(store_->create_session(clash, c.id).status(), Code::kNotFound, "no user");
  EXPECT_TRUE(session_exists(c));
  EXPECT_EQ(session_ids(a.id), (std::vector<int64_t>{c.id, other.id}));
}

TEST_P(StoreContractTest, TouchSession) {
  User a = create_user("touch@example.cn");
  Session s = create_session(a.id, "t", kT0);
  ASSERT_TRUE(store_->touch_session(s.id, kT0 + 60).is_ok());
  auto got = store_->find_session(s.token_hash);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->last_seen_at, kT0 + 60);
  EXPECT_EQ(got->created_at, kT0);
  EXPECT_EQ(got->expires_at, s.expires_at);
  // An older time (a slower concurrent request) never moves it back.
  ASSERT_TRUE(store_->touch_session(s.id, kT0 + 30).is_ok());
  EXPECT_EQ(store_->find_session(s.token_hash)->last_seen_at, kT0 + 60);
  expect_code(store_->touch_session(s.id + 1000, kT0), Code::kNotFound, "unknown session");
  ASSERT_TRUE(store_->delete_session(s.id).is_ok());
  expect_code(store_->touch_session(s.id, kT0 + 90), Code::kNotFound, "deleted session");
}

TEST_P(StoreContractTest, DeleteSessions) {
  User a = create_user("del@example.cn");
  User b = create_user("del2@example.cn");
  Session a1 = create_session(a.id, "a1", kT0);
  Session a2 = create_session(a.id, "a2", kT0 + 1);
  Session a3 = create_session(a.id, "a3", kT0 + 2);
  Session b1 = create_session(b.id, "b1", kT0);

  ASSERT_TRUE(store_->delete_session(a1.id).is_ok());
  EXPECT_FALSE(session_exists(a1));
  expect_code(store_->find_session(a1.token_hash).status(), Code::kNotFound, "deleted");
  EXPECT_TRUE(store_->delete_session(a1.id).is_ok());      // absent: fine
  EXPECT_TRUE(store_->delete_session(987654321).is_ok());  // never existed: fine

  // "Sign out everywhere else".
  ASSERT_TRUE(store_->delete_user_sessions(a.id, a3.id).is_ok());
  EXPECT_EQ(session_ids(a.id), (std::vector<int64_t>{a3.id}));
  EXPECT_FALSE(session_exists(a2));
  EXPECT_TRUE(session_exists(b1));
  // "Sign out everywhere".
  ASSERT_TRUE(store_->delete_user_sessions(a.id, 0).is_ok());
  EXPECT_TRUE(session_ids(a.id).empty());
  EXPECT_TRUE(session_exists(b1));
  // A user without sessions, or without an account: nothing to do.
  EXPECT_TRUE(store_->delete_user_sessions(a.id, 0).is_ok());
  EXPECT_TRUE(store_->delete_user_sessions(987654321, 0).is_ok());
}

TEST_P(StoreContractTest, ListSessionsNewestFirst) {
  User a = create_user("list@example.cn");
  User b = create_user("list2@example.cn");
  Session mid = create_session(a.id, "mid", kT0 + 10);
  Session oldest = create_session(a.id, "oldest", kT0);
  Session newest = create_session(a.id, "newest", kT0 + 20);
  Session tie = create_session(a.id, "tie", kT0 + 20);  // same second: later id first
  create_session(b.id, "b", kT0 + 30);
  EXPECT_EQ(session_ids(a.id), (std::vector<int64_t>{tie.id, newest.id, mid.id, oldest.id}));
  auto l = store_->list_sessions(a.id);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)[3].user_agent, oldest.user_agent);
  EXPECT_EQ((*l)[3].ip, oldest.ip);
  EXPECT_EQ((*l)[3].token_hash, oldest.token_hash);
  EXPECT_TRUE(session_ids(987654321).empty());
}

TEST_P(StoreContractTest, DeleteExpiredSessions) {
  User a = create_user("exp@example.cn");
  User b = create_user("exp2@example.cn");
  // create_session() gives each a day: expires_at = created + 86400.
  Session e1 = create_session(a.id, "e1", kT0 - 86400 - 5);     // expired 5 s ago
  Session e2 = create_session(b.id, "e2", kT0 - 86400);         // expires exactly now
  Session live1 = create_session(a.id, "l1", kT0 - 86400 + 1);  // one second left
  Session live2 = create_session(b.id, "l2", kT0);

  auto n = store_->delete_expired_sessions(kT0);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 2);
  EXPECT_FALSE(session_exists(e1));
  EXPECT_FALSE(session_exists(e2));
  EXPECT_TRUE(session_exists(live1));
  EXPECT_TRUE(session_exists(live2));
  n = store_->delete_expired_sessions(kT0);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  n = store_->delete_expired_sessions(kT0 + 86400);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_TRUE(session_ids(a.id).empty());
  EXPECT_TRUE(session_ids(b.id).empty());
}

// --- throttles --------------------------------------------------------------------

TEST_P(StoreContractTest, ThrottleRoundTripUpsertAndDelete) {
  const std::string key = "login-account:a@b.cn";
  auto absent = store_->get_throttle(key);
  ASSERT_TRUE(absent.ok()) << absent.status().to_string();
  EXPECT_EQ(absent->key, key);
  EXPECT_EQ(absent->count, 0);
  EXPECT_EQ(absent->window_start, 0);
  EXPECT_EQ(absent->locked_until, 0);

  ASSERT_TRUE(store_->put_throttle({key, 1, kT0, 0}).is_ok());
  ASSERT_TRUE(store_->put_throttle({"login-ip:192.0.2.1", 7, kT0 - 5, kT0 + 900}).is_ok());
  auto got = store_->get_throttle(key);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->key, key);
  EXPECT_EQ(got->count, 1);
  EXPECT_EQ(got->window_start, kT0);
  EXPECT_EQ(got->locked_until, 0);

  // Putting again replaces every field.
  ASSERT_TRUE(store_->put_throttle({key, 5, kT0 + 10, kT0 + 300}).is_ok());
  got = store_->get_throttle(key);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->count, 5);
  EXPECT_EQ(got->window_start, kT0 + 10);
  EXPECT_EQ(got->locked_until, kT0 + 300);
  auto ip = store_->get_throttle("login-ip:192.0.2.1");
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->count, 7);
  EXPECT_EQ(ip->locked_until, kT0 + 900);

  // Keys are exact.
  EXPECT_EQ(store_->get_throttle("login-account:A@b.cn")->count, 0);

  // Survives reopening.
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->get_throttle(key)->count, 5);

  ASSERT_TRUE(store_->clear_throttle(key).is_ok());
  got = store_->get_throttle(key);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->count, 0);
  EXPECT_EQ(got->locked_until, 0);
  EXPECT_EQ(store_->get_throttle("login-ip:192.0.2.1")->count, 7);
  EXPECT_TRUE(store_->clear_throttle(key).is_ok());  // absent: fine

  expect_code(store_->put_throttle({"", 1, kT0, 0}), Code::kInvalidArgument, "empty key");
  expect_code(store_->put_throttle({"neg", -1, kT0, 0}), Code::kInvalidArgument, "negative count");
  EXPECT_EQ(store_->get_throttle("neg")->count, 0);
}

// A login-style rule: 3 hits free in a run of an hour, then 1 s of lock,
// doubling with each further hit, at most 8 s.
ThrottleRule backoff_rule(const std::string& key) {
  ThrottleRule r;
  r.key = key;
  r.window_seconds = 3600;
  r.max_count = 3;
  r.lock_seconds = 1;
  r.max_lock_seconds = 8;
  return r;
}

TEST_P(StoreContractTest, HitThrottleCountsThenLocksWithBackoff) {
  const ThrottleRule rule = backoff_rule("login-ip:198.51.100.1");
  auto hit = [&](int64_t at) {
    auto t = store_->hit_throttle(rule, at);
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    return t.ok() ? *t : Throttle{};
  };
  Throttle t = hit(kT0);
  EXPECT_EQ(t.key, rule.key);
  EXPECT_EQ(t.count, 1);
  EXPECT_EQ(t.window_start, kT0);
  EXPECT_EQ(t.locked_until, 0);
  EXPECT_EQ(hit(kT0 + 1).count, 2);
  t = hit(kT0 + 2);  // the third hit locks for 1 s
  EXPECT_EQ(t.count, 3);
  EXPECT_EQ(t.locked_until, kT0 + 3);

  // While locked nothing counts.
  t = hit(kT0 + 2);
  EXPECT_EQ(t.count, 3);
  EXPECT_EQ(t.locked_until, kT0 + 3);
  auto refused = store_->hit_throttles({rule}, kT0 + 2);
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->admitted);
  EXPECT_EQ(refused->retry_after, 1);

  // Each hit after a lock ends doubles it, up to the cap.
  EXPECT_EQ(hit(kT0 + 3).locked_until, kT0 + 3 + 2);
  EXPECT_EQ(hit(kT0 + 5).locked_until, kT0 + 5 + 4);
  EXPECT_EQ(hit(kT0 + 9).locked_until, kT0 + 9 + 8);
  t = hit(kT0 + 17);
  EXPECT_EQ(t.count, 7);
  EXPECT_EQ(t.locked_until, kT0 + 17 + 8);  // capped
  EXPECT_EQ(t.window_start, kT0);

  // What hit_throttle stored is what get_throttle reads, after a reopen too.
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto got = store_->get_throttle(rule.key);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->count, 7);
  EXPECT_EQ(got->locked_until, kT0 + 25);
}

TEST_P(StoreContractTest, HitThrottleRestartsAnOldRunAndUndoesAndClears) {
  const ThrottleRule rule = backoff_rule("login-ip:198.51.100.2");
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(store_->hit_throttle(rule, kT0 + i).ok());
  // An hour after the run started (and not locked) it starts again.
  auto t = store_->hit_throttle(rule, kT0 + 3600);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->count, 1);
  EXPECT_EQ(t->window_start, kT0 + 3600);
  // A run without a window lasts until cleared.
  ThrottleRule forever = rule;
  forever.key = "login-account:a@b.cn";
  forever.window_seconds = 0;
  forever.max_count = 100;
  ASSERT_TRUE(store_->hit_throttle(forever, kT0).ok());
  t = store_->hit_throttle(forever, kT0 + 30 * 86400);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->count, 2);
  EXPECT_EQ(t->window_start, kT0);

  // Taking back a hit keeps the window; it never goes below zero.
  ASSERT_TRUE(store_->undo_throttle_hit(forever.key).is_ok());
  EXPECT_EQ(store_->get_throttle(forever.key)->count, 1);
  EXPECT_EQ(store_->get_throttle(forever.key)->window_start, kT0);
  ASSERT_TRUE(store_->undo_throttle_hit(forever.key).is_ok());
  ASSERT_TRUE(store_->undo_throttle_hit(forever.key).is_ok());
  EXPECT_EQ(store_->get_throttle(forever.key)->count, 0);
  EXPECT_TRUE(store_->undo_throttle_hit("absent").is_ok());

  ASSERT_TRUE(store_->clear_throttle(rule.key).is_ok());
  EXPECT_EQ(store_->get_throttle(rule.key)->count, 0);
  EXPECT_EQ(store_->get_throttle(rule.key)->window_start, 0);
  EXPECT_TRUE(store_->clear_throttle(rule.key).is_ok());  // absent: fine
}

TEST_P(StoreContractTest, HitThrottleCanLockUntilTheWindowEnds) {
  ThrottleRule rule;
  rule.key = "register-ip:198.51.100.3";
  rule.window_seconds = 3600;
  rule.max_count = 2;
  rule.lock_until_window_end = true;
  ASSERT_TRUE(store_->hit_throttle(rule, kT0).ok());
  auto t = store_->hit_throttle(rule, kT0 + 10);  // the second of two allowed
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->count, 2);
  EXPECT_EQ(t->locked_until, kT0 + 3600);
  auto refused = store_->hit_throttles({rule}, kT0 + 20);
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->admitted);
  EXPECT_EQ(refused->retry_after, 3580);
  // The window over, a new one starts with this hit.
  t = store_->hit_throttle(rule, kT0 + 3600);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->count, 1);
  EXPECT_EQ(t->window_start, kT0 + 3600);
  EXPECT_LE(t->locked_until, kT0 + 3600);
}

TEST_P(StoreContractTest, HitThrottlesIsAllOrNothing) {
  const ThrottleRule a = backoff_rule("login-account:x@y.cn");
  const ThrottleRule b = backoff_rule("login-ip:198.51.100.4");
  ASSERT_TRUE(store_->put_throttle({b.key, 9, kT0, kT0 + 100}).is_ok());
  auto refused = store_->hit_throttles({a, b}, kT0 + 40);
  ASSERT_TRUE(refused.ok()) << refused.status().to_string();
  EXPECT_FALSE(refused->admitted);
  EXPECT_EQ(refused->retry_after, 60);
  EXPECT_EQ(store_->get_throttle(a.key)->count, 0);  // the unlocked key was not counted
  EXPECT_EQ(store_->get_throttle(b.key)->count, 9);

  auto admitted = store_->hit_throttles({a, b}, kT0 + 100);
  ASSERT_TRUE(admitted.ok());
  EXPECT_TRUE(admitted->admitted);
  ASSERT_EQ(admitted->throttles.size(), 2u);
  EXPECT_EQ(admitted->throttles[0].key, a.key);
  EXPECT_EQ(admitted->throttles[0].count, 1);
  EXPECT_EQ(admitted->throttles[1].key, b.key);
  EXPECT_EQ(admitted->throttles[1].count, 10);

  ThrottleRule empty = a;
  empty.key = "";
  ThrottleRule none = a;
  none.max_count = 0;
  expect_code(store_->hit_throttles({}, kT0).status(), Code::kInvalidArgument, "no rules");
  expect_code(store_->hit_throttles({empty}, kT0).status(), Code::kInvalidArgument, "empty key");
  expect_code(store_->hit_throttles({a, a}, kT0).status(), Code::kInvalidArgument, "twice");
  expect_code(store_->hit_throttles({none}, kT0).status(), Code::kInvalidArgument, "max 0");
  EXPECT_EQ(store_->get_throttle(a.key)->count, 1);
}

// Many threads, on two Store objects over one database (as two processes
// would be), hit one key at the same instant: every hit counts exactly once
// and exactly max_count of them are admitted before the lock.
TEST_P(StoreContractTest, ConcurrentHitsCountExactlyAndNoneSlipsPastTheLock) {
  std::unique_ptr<Store> other = open();
  ASSERT_NE(other, nullptr);
  constexpr int kThreads = 6;
  constexpr int kHits = 15;
  ThrottleRule counting;
  counting.key = "count-only";
  counting.max_count = 1'000'000;
  ThrottleRule locking;
  locking.key = "locks-at-30";
  locking.max_count = 30;
  locking.lock_seconds = 3600;
  locking.max_lock_seconds = 3600;

  std::atomic<int> admitted{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Store& s = t % 2 ? *other : *store_;
      for (int i = 0; i < kHits; ++i) {
        if (!s.hit_throttle(counting, kT0).ok()) ++errors;
        auto h = s.hit_throttles({locking}, kT0);
        if (!h.ok()) {
          ++errors;
        } else if (h->admitted) {
          ++admitted;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(store_->get_throttle(counting.key)->count, kThreads * kHits);
  EXPECT_EQ(admitted.load(), 30);
  auto locked = store_->get_throttle(locking.key);
  ASSERT_TRUE(locked.ok());
  EXPECT_EQ(locked->count, 30);
  EXPECT_EQ(locked->locked_until, kT0 + 3600);
}

// --- accounts under load ----------------------------------------------------------

TEST_P(StoreContractTest, ConcurrentSessionLookupsWhileSigningIn) {
  User a = create_user("busy@example.cn");
  std::vector<Session> existing;
  for (int i = 0; i < 10; ++i)
    existing.push_back(create_session(a.id, "pre" + std::to_string(i), kT0));
  std::atomic<int> failures{0};
  std::mutex mu;
  std::string first_failure;
  auto fail = [&](const std::string& what) {
    if (failures++ == 0) {
      std::lock_guard<std::mutex> lock(mu);
      first_failure = what;
    }
  };
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) {
      Session s;
      s.user_id = a.id;
      s.token_hash = fake_sha("new" + std::to_string(i));
      s.created_at = s.last_seen_at = kT0 + i;
      s.expires_at = kT0 + 3600;
      auto r = store_->create_session(s, 0);
      if (!r.ok()) fail("create: " + r.status().to_string());
      Status t = store_->put_throttle({"k" + std::to_string(i % 5), i, kT0, 0});
      if (!t.is_ok()) fail("throttle: " + t.to_string());
    }
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const Session& s = existing[static_cast<size_t>(i + t) % existing.size()];
        auto f = store_->find_session(s.token_hash);
        if (!f.ok() || f->id != s.id) fail("find: " + f.status().to_string());
        Status touched = store_->touch_session(s.id, kT0 + i);
        if (!touched.is_ok()) fail("touch: " + touched.to_string());
      }
    });
  }
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0) << first_failure;
  EXPECT_EQ(session_ids(a.id).size(), 60u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest, ::testing::Values(kSqlite, kPostgres),
                         [](const auto& info) { return info.param.name; });

// --- commerce: orders, wallets, the ledger ------------------------------------------

// Helpers for the commerce contract: an order of each kind for `user`.
NewOrder document_order(int64_t user_id, int64_t document_id, int64_t amount_fen, int64_t at,
                        const std::string& suffix = "ABCD") {
  NewOrder o;
  o.user_id = user_id;
  o.kind = OrderKind::kDocument;
  o.document_id = document_id;
  o.subject = "一份文档";
  o.amount = Fen(amount_fen);
  o.created_at = at;
  o.expires_at = at + 1800;
  o.out_trade_no_prefix = "P20260101";
  o.out_trade_no_suffix = suffix;
  return o;
}

NewOrder plan_order(int64_t user_id, int64_t days, int64_t amount_fen, int64_t at) {
  NewOrder o = document_order(user_id, 0, amount_fen, at);
  o.kind = OrderKind::kPlan;
  o.document_id = 0;
  o.plan_id = "vip30";
  o.plan_days = days;
  o.subject = "VIP 月卡";
  return o;
}

NewOrder topup_order(int64_t user_id, int64_t amount_fen, int64_t at) {
  NewOrder o = document_order(user_id, 0, amount_fen, at);
  o.kind = OrderKind::kTopUp;
  o.document_id = 0;
  o.subject = "钱包充值";
  return o;
}

class StoreCommerceTest : public StoreContractTest {
 protected:
  Order create_order(const NewOrder& n) {
    auto o = store_->create_order(n);
    EXPECT_TRUE(o.ok()) << o.status().to_string();
    return o.ok() ? std::move(o).value() : Order{};
  }

  Fen balance(int64_t user_id) {
    auto b = store_->wallet_balance(user_id);
    EXPECT_TRUE(b.ok()) << b.status().to_string();
    return b.ok() ? *b : Fen(-1);
  }

  void credit(int64_t user_id, int64_t fen, int64_t at = kT0) {
    auto b = store_->credit_wallet(user_id, Fen(fen), "credit", "operator:test", at);
    ASSERT_TRUE(b.ok()) << b.status().to_string();
  }

  PaymentNotice notice(const Order& o, const std::string& txn, int64_t at = kT0 + 10) {
    return PaymentNotice{"alipay", txn, o.out_trade_no, o.amount, at};
  }

  LedgerAudit audit() {
    auto a = store_->ledger_audit();
    EXPECT_TRUE(a.ok()) << a.status().to_string();
    return a.ok() ? std::move(a).value() : LedgerAudit{};
  }

  void expect_clean_audit() {
    LedgerAudit a = audit();
    for (const auto& p : a.problems) {
      ADD_FAILURE() << "ledger problem kind " << static_cast<int>(p.kind) << " id " << p.id
                    << " " << p.detail << " expected " << p.expected << " actual " << p.actual;
    }
  }
};

TEST_P(StoreCommerceTest, CreateOrdersOfEachKindAndReadThemBack) {
  User u = create_user("orders@example.cn");
  int64_t d = put(new_document("a"));
  Order doc = create_order(document_order(u.id, d, 990, kT0));
  EXPECT_GT(doc.id, 0);
  EXPECT_EQ(doc.out_trade_no, "P20260101" + std::string(10 - std::to_string(doc.id).size(), '0') +
                                  std::to_string(doc.id) + "ABCD");
  EXPECT_EQ(doc.user_id, u.id);
  EXPECT_EQ(doc.kind, OrderKind::kDocument);
  EXPECT_EQ(doc.document_id, d);
  EXPECT_EQ(doc.plan_id, "");
  EXPECT_EQ(doc.subject, "一份文档");
  EXPECT_EQ(doc.amount, Fen(990));
  EXPECT_EQ(doc.status, OrderStatus::kCreated);
  EXPECT_EQ(doc.paid_with, "");
  EXPECT_EQ(doc.created_at, kT0);
  EXPECT_EQ(doc.expires_at, kT0 + 1800);
  EXPECT_EQ(doc.paid_at, 0);
  EXPECT_EQ(doc.refunded_at, 0);

  Order plan = create_order(plan_order(u.id, 30, 3000, kT0 + 1));
  EXPECT_EQ(plan.kind, OrderKind::kPlan);
  EXPECT_EQ(plan.plan_id, "vip30");
  EXPECT_EQ(plan.plan_days, 30);
  EXPECT_EQ(plan.document_id, 0);
  Order top = create_order(topup_order(u.id, 5000, kT0 + 2));
  EXPECT_EQ(top.kind, OrderKind::kTopUp);
  EXPECT_NE(top.out_trade_no, plan.out_trade_no);

  auto got = store_->get_order(plan.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->out_trade_no, plan.out_trade_no);
  EXPECT_EQ(got->plan_days, 30);
  auto found = store_->find_order(top.out_trade_no);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, top.id);
  expect_code(store_->get_order(999999).status(), Code::kNotFound, "get missing");
  expect_code(store_->find_order("P-nope").status(), Code::kNotFound, "find missing");

  auto mine = store_->user_orders(u.id, 100);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 3u);
  EXPECT_EQ((*mine)[0].id, top.id);  // newest first
  EXPECT_EQ((*mine)[2].id, doc.id);
  auto limited = store_->user_orders(u.id, 1);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 1u);

  auto between = store_->orders_between(kT0 + 1, kT0 + 3);
  ASSERT_TRUE(between.ok());
  ASSERT_EQ(between->size(), 2u);
  EXPECT_EQ((*between)[0].id, plan.id);  // oldest first
  EXPECT_EQ((*between)[1].id, top.id);
}

TEST_P(StoreCommerceTest, BadOrdersAreRefusedAndNothingIsStored) {
  User u = create_user("bad-orders@example.cn");
  int64_t d = put(new_document("a"));
  NewOrder kind = document_order(u.id, d, 990, kT0);
  kind.kind = static_cast<OrderKind>(42);  // outside the enum
  expect_code(store_->create_order(kind).status(), Code::kInvalidArgument, "kind");
  expect_code(store_->create_order(document_order(u.id, d, 0, kT0)).status(),
              Code::kInvalidArgument, "zero amount");
  expect_code(store_->create_order(document_order(u.id, d, -5, kT0)).status(),
              Code::kInvalidArgument, "negative amount");
  expect_code(store_->create_order(plan_order(u.id, 0, 3000, kT0)).status(),
              Code::kInvalidArgument, "plan without days");
  expect_code(store_->create_order(document_order(424242, d, 990, kT0)).status(), Code::kNotFound,
              "unknown user");
  expect_code(store_->create_order(document_order(u.id, 424242, 990, kT0)).status(),
              Code::kNotFound, "unknown document");
  NewOrder backwards = topup_order(u.id, 100, kT0);
  backwards.expires_at = kT0;
  expect_code(store_->create_order(backwards).status(), Code::kInvalidArgument, "expiry");
  auto mine = store_->user_orders(u.id, 100);
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(mine->empty());
}

// Order, ledger entries and entitlement in one transaction: a refusal
// leaves no order, and a document is never sold twice to one user.
TEST_P(StoreCommerceTest, BuyFromWalletIsOneTransaction) {
  User u = create_user("onestep@example.cn");
  int64_t d = put(new_document("a"));
  expect_code(store_->buy_from_wallet(document_order(u.id, d, 990, kT0), kT0).status(),
              Code::kPaymentRequired, "no balance");
  EXPECT_TRUE(store_->user_orders(u.id, 100)->empty());

  credit(u.id, 1500);
  auto bought = store_->buy_from_wallet(document_order(u.id, d, 990, kT0), kT0 + 1);
  ASSERT_TRUE(bought.ok()) << bought.status().to_string();
  EXPECT_EQ(bought->status, OrderStatus::kPaid);
  EXPECT_EQ(bought->paid_with, "wallet");
  EXPECT_EQ(bought->paid_at, kT0 + 1);
  EXPECT_EQ(balance(u.id), Fen(510));
  EXPECT_EQ(store_->user_entitlements(u.id)->purchased, std::vector<int64_t>{d});

  expect_code(store_->buy_from_wallet(document_order(u.id, d, 10, kT0), kT0 + 2).status(),
              Code::kConflict, "bought already");
  expect_code(store_->buy_from_wallet(topup_order(u.id, 100, kT0), kT0 + 2).status(),
              Code::kInvalidArgument, "top-up");
  EXPECT_EQ(store_->user_orders(u.id, 100)->size(), 1u);
  EXPECT_EQ(balance(u.id), Fen(510));
  expect_clean_audit();
}

TEST_P(StoreCommerceTest, PayFromWalletDebitsAndEntitles) {
  User u = create_user("wallet@example.cn");
  User other = create_user("other@example.cn");
  int64_t d = put(new_document("a"));
  credit(u.id, 1500);
  Order o = create_order(document_order(u.id, d, 990, kT0));

  expect_code(store_->pay_order_from_wallet(o.id, other.id, kT0 + 1).status(), Code::kNotFound,
              "not the user's order");
  auto paid = store_->pay_order_from_wallet(o.id, u.id, kT0 + 1);
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  EXPECT_EQ(paid->status, OrderStatus::kPaid);
  EXPECT_EQ(paid->paid_with, "wallet");
  EXPECT_EQ(paid->paid_at, kT0 + 1);
  EXPECT_EQ(balance(u.id), Fen(510));
  auto e = store_->user_entitlements(u.id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->purchased, std::vector<int64_t>{d});
  EXPECT_EQ(e->vip_until, 0);

  expect_code(store_->pay_order_from_wallet(o.id, u.id, kT0 + 2).status(), Code::kConflict,
              "paid twice");
  EXPECT_EQ(balance(u.id), Fen(510));

  // Not enough left: nothing changes.
  Order big = create_order(document_order(u.id, d, 990, kT0));
  auto refused = store_->pay_order_from_wallet(big.id, u.id, kT0 + 3);
  expect_code(refused.status(), Code::kPaymentRequired, "insufficient");
  EXPECT_EQ(balance(u.id), Fen(510));
  EXPECT_EQ(store_->get_order(big.id)->status, OrderStatus::kCreated);

  // No wallet at all is a zero balance.
  Order none = create_order(document_order(other.id, d, 1, kT0));
  expect_code(store_->pay_order_from_wallet(none.id, other.id, kT0).status(),
              Code::kPaymentRequired, "no wallet");

  // A top-up cannot be paid from the wallet; an order past its expiry
  // cannot be paid at all.
  Order top = create_order(topup_order(u.id, 100, kT0));
  expect_code(store_->pay_order_from_wallet(top.id, u.id, kT0).status(), Code::kInvalidArgument,
              "top-up");
  Order late = create_order(document_order(u.id, d, 10, kT0));
  expect_code(store_->pay_order_from_wallet(late.id, u.id, kT0 + 1800).status(), Code::kConflict,
              "expired");
  EXPECT_EQ(balance(u.id), Fen(510));
  expect_clean_audit();
}

TEST_P(StoreCommerceTest, PlanPaymentsExtendVipFromTheLaterOfNowAndTheCurrentEnd) {
  User u = create_user("vip@example.cn");
  credit(u.id, 10000);
  Order a = create_order(plan_order(u.id, 30, 3000, kT0));
  Order b = create_order(plan_order(u.id, 30, 3000, kT0));
  ASSERT_TRUE(store_->pay_order_from_wallet(a.id, u.id, kT0).ok());
  EXPECT_EQ(store_->user_entitlements(u.id)->vip_until, kT0 + 30 * 86400);
  ASSERT_TRUE(store_->pay_order_from_wallet(b.id, u.id, kT0 + 100).ok());
  EXPECT_EQ(store_->user_entitlements(u.id)->vip_until, kT0 + 60 * 86400);
  Order c = create_order(plan_order(u.id, 1, 100, kT0 + 100 * 86400));
  ASSERT_TRUE(store_->pay_order_from_wallet(c.id, u.id, kT0 + 100 * 86400).ok());
  EXPECT_EQ(store_->user_entitlements(u.id)->vip_until, kT0 + 101 * 86400);
  // Refunding a plan takes its days back.
  ASSERT_TRUE(store_->refund_order(c.id, true, "", "admin", kT0 + 100 * 86400 + 5).ok());
  EXPECT_EQ(store_->user_entitlements(u.id)->vip_until, kT0 + 100 * 86400);
  expect_clean_audit();
}

TEST_P(StoreCommerceTest, ApplyPaymentOncePerTransaction) {
  User u = create_user("notify@example.cn");
  int64_t d = put(new_document("a"));
  Order doc = create_order(document_order(u.id, d, 990, kT0));
  Order top = create_order(topup_order(u.id, 5000, kT0));

  auto first = store_->apply_payment(notice(doc, "T-1"));
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(first->outcome, PaymentOutcome::kApplied);
  EXPECT_EQ(first->order.status, OrderStatus::kPaid);
  EXPECT_EQ(first->order.paid_with, "alipay");
  EXPECT_EQ(first->order.paid_at, kT0 + 10);
  for (int i = 0; i < 3; ++i) {
    auto again = store_->apply_payment(notice(doc, "T-1", kT0 + 20 + i));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->outcome, PaymentOutcome::kDuplicate);
    EXPECT_EQ(again->order.paid_at, kT0 + 10);
  }
  // A duplicate is a duplicate whatever else it claims.
  PaymentNotice odd = notice(top, "T-1");
  odd.amount = Fen(1);
  auto dup = store_->apply_payment(odd);
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(dup->outcome, PaymentOutcome::kDuplicate);
  EXPECT_EQ(dup->order.id, doc.id);
  // The same transaction id at another provider is another payment.
  PaymentNotice wechat = notice(top, "T-1");
  wechat.provider = "wechat";
  auto other = store_->apply_payment(wechat);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->outcome, PaymentOutcome::kApplied);
  EXPECT_EQ(balance(u.id), Fen(5000));

  auto e = store_->user_entitlements(u.id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->purchased, std::vector<int64_t>{d});
  LedgerAudit a = audit();
  EXPECT_TRUE(a.problems.empty());
  EXPECT_EQ(a.entries, 4);
  EXPECT_EQ(a.txns, 2);
}

TEST_P(StoreCommerceTest, RefusedNotificationsAreNotRecorded) {
  User u = create_user("refused@example.cn");
  Order top = create_order(topup_order(u.id, 5000, kT0));
  PaymentNotice unknown = notice(top, "T-9");
  unknown.out_trade_no = "P-unknown";
  expect_code(store_->apply_payment(unknown).status(), Code::kNotFound, "unknown order");
  PaymentNotice wrong = notice(top, "T-9");
  wrong.amount = Fen(4999);
  expect_code(store_->apply_payment(wrong).status(), Code::kInvalidArgument, "wrong amount");
  PaymentNotice empty = notice(top, "");
  expect_code(store_->apply_payment(empty).status(), Code::kInvalidArgument, "no txn id");
  EXPECT_EQ(balance(u.id), Fen(0));
  EXPECT_EQ(audit().entries, 0);
  // The same transaction id, now right, applies.
  auto right = store_->apply_payment(notice(top, "T-9"));
  ASSERT_TRUE(right.ok());
  EXPECT_EQ(right->outcome, PaymentOutcome::kApplied);
  EXPECT_EQ(balance(u.id), Fen(5000));
}

TEST_P(StoreCommerceTest, LateOrRepeatedPaymentsGoToTheWallet) {
  User u = create_user("late@example.cn");
  int64_t d = put(new_document("a"));
  Order swept = create_order(document_order(u.id, d, 300, kT0));
  Order stale = create_order(plan_order(u.id, 30, 3000, kT0));
  Order live = create_order(document_order(u.id, d, 990, kT0 + 1000));

  auto n = store_->expire_orders(kT0 + 1800);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);  // swept and stale; live expires at kT0 + 2800
  EXPECT_EQ(store_->get_order(live.id)->status, OrderStatus::kCreated);
  EXPECT_EQ(store_->get_order(swept.id)->status, OrderStatus::kExpired);

  auto late = store_->apply_payment(notice(swept, "T-L1", kT0 + 2000));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->outcome, PaymentOutcome::kCreditedToWallet);
  EXPECT_EQ(late->order.status, OrderStatus::kExpired);
  EXPECT_EQ(balance(u.id), Fen(300));

  // Past its expiry but not swept yet: treated the same, and marked expired.
  Order unswept = create_order(plan_order(u.id, 30, 3000, kT0 + 2000));
  auto stale_pay = store_->apply_payment(notice(unswept, "T-L2", kT0 + 2000 + 1800));
  ASSERT_TRUE(stale_pay.ok());
  EXPECT_EQ(stale_pay->outcome, PaymentOutcome::kCreditedToWallet);
  EXPECT_EQ(stale_pay->order.status, OrderStatus::kExpired);
  EXPECT_EQ(store_->user_entitlements(u.id)->vip_until, 0);
  EXPECT_EQ(balance(u.id), Fen(3300));

  // Paid once by one provider, then again by another: the second goes to
  // the wallet.
  ASSERT_EQ(store_->apply_payment(notice(live, "T-L3", kT0 + 1001))->outcome,
            PaymentOutcome::kApplied);
  PaymentNotice again = notice(live, "W-L3", kT0 + 1002);
  again.provider = "wechat";
  ASSERT_EQ(store_->apply_payment(again)->outcome, PaymentOutcome::kCreditedToWallet);
  EXPECT_EQ(balance(u.id), Fen(3300 + 990));
  expect_clean_audit();
}

TEST_P(StoreCommerceTest, RefundsMoveMoneyBackAndRevoke) {
  User u = create_user("refunds@example.cn");
  int64_t d = put(new_document("a"));
  credit(u.id, 990);
  Order wallet_paid = create_order(document_order(u.id, d, 990, kT0));
  ASSERT_TRUE(store_->pay_order_from_wallet(wallet_paid.id, u.id, kT0).ok());
  expect_code(store_->refund_order(wallet_paid.id, false, "", "admin", kT0 + 1).status(),
              Code::kInvalidArgument, "wallet-paid order to a provider");
  auto r = store_->refund_order(wallet_paid.id, true, "重复购买", "admin", kT0 + 1);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->status, OrderStatus::kRefunded);
  EXPECT_EQ(r->refunded_at, kT0 + 1);
  EXPECT_EQ(r->paid_with, "wallet");
  EXPECT_EQ(balance(u.id), Fen(990));
  EXPECT_TRUE(store_->user_entitlements(u.id)->purchased.empty());
  expect_code(store_->refund_order(wallet_paid.id, true, "", "admin", kT0 + 2).status(),
              Code::kConflict, "refunded twice");

  Order provider_paid = create_order(document_order(u.id, d, 500, kT0));
  ASSERT_TRUE(store_->apply_payment(notice(provider_paid, "T-R1")).ok());
  ASSERT_TRUE(store_->refund_order(provider_paid.id, false, "", "admin", kT0 + 3).ok());
  EXPECT_EQ(balance(u.id), Fen(990));

  Order top = create_order(topup_order(u.id, 700, kT0));
  expect_code(store_->refund_order(top.id, true, "", "admin", kT0).status(), Code::kConflict,
              "unpaid");
  ASSERT_TRUE(store_->apply_payment(notice(top, "T-R2")).ok());
  EXPECT_EQ(balance(u.id), Fen(1690));
  expect_code(store_->refund_order(top.id, true, "", "admin", kT0).status(),
              Code::kInvalidArgument, "top-up to the wallet");
  ASSERT_TRUE(store_->refund_order(top.id, false, "", "admin", kT0 + 4).ok());
  EXPECT_EQ(balance(u.id), Fen(990));
  expect_code(store_->refund_order(777777, true, "", "admin", kT0).status(), Code::kNotFound,
              "missing");
  expect_clean_audit();
}

TEST_P(StoreCommerceTest, SecondPaymentForAnOwnedDocumentIsCredited) {
  User u = create_user("double@example.cn");
  int64_t d = put(new_document("a"));
  Order first = create_order(document_order(u.id, d, 990, kT0));
  Order second = create_order(document_order(u.id, d, 990, kT0));
  ASSERT_EQ(store_->apply_payment(notice(first, "D-1"))->outcome, PaymentOutcome::kApplied);
  auto again = store_->apply_payment(notice(second, "D-2"));
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->outcome, PaymentOutcome::kCreditedToWallet);
  EXPECT_EQ(again->order.status, OrderStatus::kCredited);
  EXPECT_EQ(again->order.credited, Fen(990));
  EXPECT_EQ(again->order.paid_with, "alipay");
  EXPECT_EQ(balance(u.id), Fen(990));
  EXPECT_EQ(store_->user_entitlements(u.id)->purchased, std::vector<int64_t>{d});
  EXPECT_EQ(store_->apply_payment(notice(second, "D-2"))->outcome, PaymentOutcome::kDuplicate);
  EXPECT_EQ(balance(u.id), Fen(990));
  expect_clean_audit();
}

TEST_P(StoreCommerceTest, ProviderRefundIsTrackedAndSettledOnce) {
  User u = create_user("tracked@example.cn");
  int64_t d = put(new_document("a"));
  Order o = create_order(document_order(u.id, d, 990, kT0));
  ASSERT_TRUE(store_->apply_payment(notice(o, "T-P1")).ok());
  ProviderRefundStart r;
  r.order_id = o.id;
  r.out_refund_no_prefix = "R20260101";
  r.out_refund_no_suffix = "ABCD";
  r.note = "原路退回";
  r.actor = "admin";
  r.now = kT0 + 100;
  auto started = store_->refund_to_provider(r);
  ASSERT_TRUE(started.ok()) << started.status().to_string();
  EXPECT_EQ(started->order.status, OrderStatus::kRefunded);
  const Refund& ref = started->refund;
  EXPECT_EQ(ref.out_refund_no, "R20260101" + std::string(10 - std::to_string(ref.id).size(), '0') +
                                   std::to_string(ref.id) + "ABCD");
  EXPECT_EQ(ref.state, RefundState::kPending);
  EXPECT_EQ(ref.transaction_id, "T-P1");
  EXPECT_EQ(ref.amount, Fen(990));
  EXPECT_FALSE(ref.from_gateway);
  EXPECT_TRUE(store_->user_entitlements(u.id)->purchased.empty());
  ASSERT_EQ(store_->pending_refunds(10)->size(), 1u);
  expect_clean_audit();
  expect_code(store_->refund_to_provider(r).status(), Code::kConflict, "refunded twice");

  RefundNotice n{"alipay", "T-P1", o.out_trade_no,          "RID-1", ref.out_refund_no,
                 Fen(990), Fen(0), RefundState::kSucceeded, "",      kT0 + 200};
  auto settled = store_->apply_refund(n);
  ASSERT_TRUE(settled.ok()) << settled.status().to_string();
  EXPECT_EQ(settled->outcome, RefundOutcome::kSettled);
  EXPECT_EQ(settled->refund.state, RefundState::kSucceeded);
  EXPECT_EQ(settled->refund.refund_id, "RID-1");
  EXPECT_EQ(settled->refund.updated_at, kT0 + 200);
  EXPECT_EQ(store_->apply_refund(n)->outcome, RefundOutcome::kDuplicate);
  n.state = RefundState::kFailed;  // a stale report after success changes nothing
  EXPECT_EQ(store_->apply_refund(n)->outcome, RefundOutcome::kDuplicate);
  EXPECT_TRUE(store_->pending_refunds(10)->empty());
  auto rows = store_->order_refunds(o.id);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].state, RefundState::kSucceeded);
  expect_clean_audit();

  // A wallet-paid order cannot go to a provider.
  credit(u.id, 500);
  Order w = create_order(document_order(u.id, d, 500, kT0));
  ASSERT_TRUE(store_->pay_order_from_wallet(w.id, u.id, kT0).ok());
  r.order_id = w.id;
  expect_code(store_->refund_to_provider(r).status(), Code::kInvalidArgument, "wallet-paid");
}

TEST_P(StoreCommerceTest, RefundMadeAtTheGatewayIsBookedOncePerRefundId) {
  User u = create_user("gwrefund@example.cn");
  int64_t d = put(new_document("a"));
  Order o = create_order(document_order(u.id, d, 990, kT0));
  ASSERT_TRUE(store_->apply_payment(notice(o, "T-G1")).ok());
  RefundNotice n{"alipay", "T-G1", o.out_trade_no,          "G-1", "",
                 Fen(400), Fen(0), RefundState::kSucceeded, "",    kT0 + 50};
  auto a = store_->apply_refund(n);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->outcome, RefundOutcome::kBooked);
  EXPECT_EQ(a->order.status, OrderStatus::kPaid);  // partly refunded
  EXPECT_TRUE(a->refund.from_gateway);
  EXPECT_EQ(store_->apply_refund(n)->outcome, RefundOutcome::kDuplicate);
  expect_clean_audit();
  // Not yet succeeded: nothing to book.
  RefundNotice waiting = n;
  waiting.refund_id = "G-2";
  waiting.state = RefundState::kPending;
  EXPECT_EQ(store_->apply_refund(waiting)->outcome, RefundOutcome::kIgnored);
  // The rest: the order is refunded and the purchase revoked.
  RefundNotice rest = n;
  rest.refund_id = "G-3";
  rest.amount = Fen(590);
  auto b = store_->apply_refund(rest);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->order.status, OrderStatus::kRefunded);
  EXPECT_TRUE(store_->user_entitlements(u.id)->purchased.empty());
  EXPECT_EQ(store_->order_refunds(o.id)->size(), 2u);
  expect_clean_audit();

  RefundNotice unknown = n;
  unknown.out_trade_no = "NOPE";
  expect_code(store_->apply_refund(unknown).status(), Code::kNotFound, "unknown order");
  RefundNotice other = n;
  other.transaction_id = "T-OTHER";
  expect_code(store_->apply_refund(other).status(), Code::kNotFound, "payment not recorded");
}

TEST_P(StoreCommerceTest, PaymentStartsAreListedUntilClosed) {
  User u = create_user("starts@example.cn");
  Order soon = create_order(topup_order(u.id, 100, kT0));  // expires kT0 + 1800
  expect_code(store_->record_payment_start(777777, "wechat", kT0), Code::kNotFound, "no order");
  ASSERT_TRUE(store_->record_payment_start(soon.id, "wechat", kT0).is_ok());
  ASSERT_TRUE(store_->record_payment_start(soon.id, "wechat", kT0 + 5).is_ok());  // kept once
  ASSERT_TRUE(store_->record_payment_start(soon.id, "alipay", kT0 + 6).is_ok());
  EXPECT_TRUE(store_->open_payment_starts(soon.expires_at - 1, 10)->empty());
  auto open = store_->open_payment_starts(soon.expires_at, 10);
  ASSERT_TRUE(open.ok()) << open.status().to_string();
  ASSERT_EQ(open->size(), 2u);
  EXPECT_EQ((*open)[0].provider, "alipay");
  EXPECT_EQ((*open)[1].provider, "wechat");
  EXPECT_EQ((*open)[1].started_at, kT0);
  EXPECT_EQ((*open)[1].order.id, soon.id);
  ASSERT_TRUE(store_->close_payment_start(soon.id, "wechat", kT0 + 2000).is_ok());
  ASSERT_EQ(store_->open_payment_starts(soon.expires_at, 10)->size(), 1u);
  // A paid order is no longer listed.
  ASSERT_TRUE(store_->apply_payment(notice(soon, "T-S1")).ok());
  EXPECT_TRUE(store_->open_payment_starts(soon.expires_at + 100000, 10)->empty());
}

TEST_P(StoreCommerceTest, CreditWalletRules) {
  User u = create_user("credit@example.cn");
  auto b = store_->credit_wallet(u.id, Fen(250), "活动赠送", "operator:alice", kT0);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, Fen(250));
  b = store_->credit_wallet(u.id, Fen(50), "", "operator:alice", kT0);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, Fen(300));
  expect_code(store_->credit_wallet(u.id, Fen(0), "", "x", kT0).status(), Code::kInvalidArgument,
              "zero");
  expect_code(store_->credit_wallet(u.id, Fen(-10), "", "x", kT0).status(),
              Code::kInvalidArgument, "negative");
  expect_code(store_->credit_wallet(99999, Fen(10), "", "x", kT0).status(), Code::kNotFound,
              "unknown user");
  ASSERT_TRUE(store_->delete_user(u.id, kT0).is_ok());
  expect_code(store_->credit_wallet(u.id, Fen(10), "", "x", kT0).status(), Code::kNotFound,
              "deleted user");
  EXPECT_EQ(balance(u.id), Fen(300));
  EXPECT_EQ(balance(123456), Fen(0));
  LedgerAudit a = audit();
  EXPECT_TRUE(a.problems.empty());
  EXPECT_EQ(a.entries, 4);
  EXPECT_EQ(a.txns, 2);
  EXPECT_EQ(a.accounts, 2);  // operator and the wallet
  EXPECT_EQ(a.wallets, 1);
}

TEST_P(StoreCommerceTest, TwoPaymentsWithMoneyForOneNeverOverdraw) {
  // Each round: a wallet holds enough for exactly one of two orders, and
  // two threads pay them at once.
  for (int round = 0; round < 20; ++round) {
    User u = create_user("race" + std::to_string(round) + "@example.cn");
    int64_t d1 = put(new_document("r" + std::to_string(round) + "a"));
    int64_t d2 = put(new_document("r" + std::to_string(round) + "b"));
    credit(u.id, 1000);
    Order a = create_order(document_order(u.id, d1, 700, kT0));
    Order b = create_order(document_order(u.id, d2, 800, kT0));
    std::atomic<int> ok{0}, short_of_money{0}, other{0};
    std::vector<std::thread> threads;
    for (int64_t id : {a.id, b.id}) {
      threads.emplace_back([&, id] {
        auto r = store_->pay_order_from_wallet(id, u.id, kT0 + 1);
        if (r.ok()) {
          ++ok;
        } else if (r.status().code() == Code::kPaymentRequired) {
          ++short_of_money;
        } else {
          ++other;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
    EXPECT_EQ(short_of_money.load(), 1) << "round " << round;
    EXPECT_EQ(other.load(), 0) << "round " << round;
    Fen left = balance(u.id);
    EXPECT_TRUE(left == Fen(300) || left == Fen(200)) << left.value();
  }
  expect_clean_audit();
}

TEST_P(StoreCommerceTest, ConcurrentDeliveriesOfOneNotificationApplyOnce) {
  User u = create_user("storm@example.cn");
  Order top = create_order(topup_order(u.id, 800, kT0));
  std::atomic<int> applied{0}, duplicates{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto r = store_->apply_payment(notice(top, "T-STORM"));
        if (!r.ok()) {
          ++failures;
        } else if (r->outcome == PaymentOutcome::kDuplicate) {
          ++duplicates;
        } else {
          ++applied;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(applied.load(), 1);
  EXPECT_EQ(duplicates.load(), 29);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(balance(u.id), Fen(800));
  expect_clean_audit();
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreCommerceTest, ::testing::Values(kSqlite, kPostgres),
                         [](const auto& info) { return info.param.name; });

// --- the audit log ---------------------------------------------------------------------

AuditEntry audit_entry(const std::string& actor, const std::string& action, int64_t at,
                       const std::string& kind = "user", int64_t target = 1) {
  AuditEntry e;
  e.at = at;
  e.actor_user_id = actor.rfind("cli:", 0) == 0 ? 0 : 7;
  e.actor = actor;
  e.action = action;
  e.target_kind = kind;
  e.target_id = target;
  e.details = R"({"from":"reader","to":"editor"})";
  e.ip = actor.rfind("cli:", 0) == 0 ? "" : "203.0.113.9";
  return e;
}

class StoreAuditTest : public StoreCommerceTest {
 protected:
  int64_t append(const AuditEntry& e) {
    auto id = store_->append(e);
    EXPECT_TRUE(id.ok()) << id.status().to_string();
    return id.ok() ? *id : 0;
  }
  AuditPage list(const AuditQuery& q) {
    auto p = store_->list(q);
    EXPECT_TRUE(p.ok()) << p.status().to_string();
    return p.ok() ? std::move(p).value() : AuditPage{};
  }
  static std::vector<int64_t> ids(const AuditPage& p) {
    std::vector<int64_t> out;
    for (const auto& e : p.items) out.push_back(e.id);
    return out;
  }
};

TEST_P(StoreAuditTest, AppendedEntriesReadBackWholeNewestFirst) {
  int64_t a = append(audit_entry("admin@example.cn", "user.role", kT0 + 5, "user", 3));
  int64_t b = append(audit_entry("cli:ops", "wallet.credit", kT0 + 9, "wallet", 4));
  int64_t c = append(audit_entry("admin@example.cn", "order.refund", kT0 + 5, "order", 11));
  AuditPage p = list({});
  EXPECT_EQ(p.total, 3);
  // Newest first; entries of the same second by id, newest first.
  EXPECT_EQ(ids(p), (std::vector<int64_t>{b, c, a}));
  const AuditEntry& e = p.items[2];
  EXPECT_EQ(e.at, kT0 + 5);
  EXPECT_EQ(e.actor_user_id, 7);
  EXPECT_EQ(e.actor, "admin@example.cn");
  EXPECT_EQ(e.action, "user.role");
  EXPECT_EQ(e.target_kind, "user");
  EXPECT_EQ(e.target_id, 3);
  EXPECT_EQ(e.details, R"({"from":"reader","to":"editor"})");
  EXPECT_EQ(e.ip, "203.0.113.9");
  EXPECT_EQ(p.items[0].actor_user_id, 0);
  EXPECT_EQ(p.items[0].ip, "");
}

TEST_P(StoreAuditTest, ListFiltersByEachFieldAndPages) {
  int64_t a = append(audit_entry("admin@example.cn", "user.role", kT0 + 10, "user", 3));
  int64_t b = append(audit_entry("cli:ops", "wallet.credit", kT0 + 20, "wallet", 4));
  int64_t c = append(audit_entry("admin@example.cn", "order.refund", kT0 + 30, "order", 11));
  int64_t d = append(audit_entry("boss@example.cn", "user.role", kT0 + 40, "user", 4));

  AuditQuery q;
  q.actor = "admin@example.cn";
  EXPECT_EQ(ids(list(q)), (std::vector<int64_t>{c, a}));
  q = {};
  q.action = "user.role";
  EXPECT_EQ(ids(list(q)), (std::vector<int64_t>{d, a}));
  q = {};
  q.target_kind = "user";
  q.target_id = 4;
  EXPECT_EQ(ids(list(q)), (std::vector<int64_t>{d}));
  q = {};
  q.target_id = 4;
  EXPECT_EQ(ids(list(q)), (std::vector<int64_t>{d, b}));
  q = {};
  q.from = kT0 + 20;  // inclusive
  q.to = kT0 + 40;    // exclusive
  EXPECT_EQ(ids(list(q)), (std::vector<int64_t>{c, b}));
  q = {};
  q.actor = "nobody@example.cn";
  AuditPage none = list(q);
  EXPECT_TRUE(none.items.empty());
  EXPECT_EQ(none.total, 0);

  q = {};
  q.limit = 3;
  AuditPage first = list(q);
  EXPECT_EQ(ids(first), (std::vector<int64_t>{d, c, b}));
  EXPECT_EQ(first.total, 4);
  q.offset = 3;
  AuditPage second = list(q);
  EXPECT_EQ(ids(second), (std::vector<int64_t>{a}));
  EXPECT_EQ(second.total, 4);
}

TEST_P(StoreAuditTest, RefusesBadEntriesAndBadPages) {
  AuditEntry e = audit_entry("", "user.role", kT0);
  EXPECT_EQ(store_->append(e).status().code(), Code::kInvalidArgument);
  e = audit_entry("admin@example.cn", "", kT0);
  EXPECT_EQ(store_->append(e).status().code(), Code::kInvalidArgument);
  e = audit_entry("admin@example.cn", "user.role", kT0);
  e.details = "[1,2]";
  EXPECT_EQ(store_->append(e).status().code(), Code::kInvalidArgument);
  e.details = "{not json";
  EXPECT_EQ(store_->append(e).status().code(), Code::kInvalidArgument);
  AuditQuery q;
  q.limit = 0;
  EXPECT_EQ(store_->list(q).status().code(), Code::kInvalidArgument);
  q.limit = 10;
  q.offset = -1;
  EXPECT_EQ(store_->list(q).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(list({}).total, 0);
}

TEST_P(StoreAuditTest, AuditedRoleChangeWritesTheEntryWithTheChangeAndNothingOnARefusal) {
  User u = create_user("role-audit@example.cn");
  AuditEntry e = audit_entry("admin@example.cn", "user.role", kT0, "user", u.id);
  ASSERT_TRUE(store_->set_user_role_audited(u.id, Role::kEditor, e).is_ok());
  EXPECT_EQ(store_->get_user(u.id)->role, Role::kEditor);
  AuditPage p = list({});
  ASSERT_EQ(p.total, 1);
  EXPECT_EQ(p.items[0].target_id, u.id);

  // Refused changes leave no entry.
  EXPECT_EQ(store_->set_user_role_audited(u.id + 1000, Role::kAdmin, e).code(),
            Code::kNotFound);
  EXPECT_EQ(store_->set_user_role_audited(u.id, Role::kDeleted, e).code(),
            Code::kInvalidArgument);
  // A bad entry refuses the change too: no change without its record.
  AuditEntry bad = e;
  bad.actor = "";
  EXPECT_EQ(store_->set_user_role_audited(u.id, Role::kAdmin, bad).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store_->get_user(u.id)->role, Role::kEditor);
  EXPECT_EQ(list({}).total, 1);
}

TEST_P(StoreAuditTest, AuditedCreditAndRefundWriteOneEntryEachAndNoneWhenRefused) {
  User u = create_user("credit-audit@example.cn");
  AuditEntry e = audit_entry("cli:ops", "wallet.credit", kT0, "wallet", u.id);
  auto b = store_->credit_wallet_audited(u.id, Fen(500), "gift", "cli:ops", kT0, e);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(*b, Fen(500));
  EXPECT_EQ(store_->credit_wallet_audited(u.id, Fen(0), "gift", "cli:ops", kT0, e).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(
      store_->credit_wallet_audited(u.id + 999, Fen(5), "gift", "cli:ops", kT0, e).status().code(),
      Code::kNotFound);
  EXPECT_EQ(list({}).total, 1);

  int64_t d = put(new_document("audited-refund"));
  auto paid = store_->buy_from_wallet(document_order(u.id, d, 300, kT0 + 1), kT0 + 1);
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  AuditEntry r = audit_entry("admin@example.cn", "order.refund", kT0 + 2, "order", paid->id);
  auto refunded = store_->refund_order_audited(paid->id, true, "n", "admin@example.cn", kT0 + 2, r);
  ASSERT_TRUE(refunded.ok()) << refunded.status().to_string();
  EXPECT_EQ(refunded->status, OrderStatus::kRefunded);
  // Refunding again is refused and records nothing.
  EXPECT_EQ(store_->refund_order_audited(paid->id, true, "n", "admin@example.cn", kT0 + 3, r)
                .status()
                .code(),
            Code::kConflict);
  AuditQuery q;
  q.action = "order.refund";
  EXPECT_EQ(list(q).total, 1);
  EXPECT_EQ(list({}).total, 2);
  expect_clean_audit();
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreAuditTest, ::testing::Values(kSqlite, kPostgres),
                         [](const auto& info) { return info.param.name; });

// --- Store::open ------------------------------------------------------------------

TEST(StoreOpenTest, UnknownSchemeIsInvalidArgument) {
  for (const char* url : {"mysql://localhost/paidoc", "redis:6379", "nothing-here", ":x"}) {
    auto s = Store::open(url);
    ASSERT_FALSE(s.ok()) << url;
    EXPECT_EQ(s.status().code(), Code::kInvalidArgument) << url;
  }
  auto s = Store::open("mysql://user:secret@localhost/paidoc");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("'mysql'"), std::string::npos) << s.status().message();
  EXPECT_EQ(s.status().message().find("secret"), std::string::npos) << s.status().message();
}

// --- the console's user and order lists, disabled accounts ---------------------------

TEST_P(StoreContractTest, SearchUsersByPartOfTheEmailWithTotalAndPaging) {
  std::vector<int64_t> ann;
  for (int i = 0; i < 5; ++i) ann.push_back(create_user("ann" + std::to_string(i) + "@shop.cn").id);
  int64_t bob = create_user("bob@other.cn").id;
  int64_t pct = create_user("50%_off@shop.cn").id;
  int64_t gone = create_user("ann-gone@shop.cn").id;
  ASSERT_TRUE(store_->delete_user(gone, kT0).is_ok());

  auto search = [&](const std::string& q, int64_t offset, int64_t limit) {
    auto p = store_->search_users(q, offset, limit);
    EXPECT_TRUE(p.ok()) << p.status().to_string();
    std::pair<std::vector<int64_t>, int64_t> out;
    if (p.ok()) {
      for (const User& u : p->items) out.first.push_back(u.id);
      out.second = p->total;
    }
    return out;
  };
  // A part of the email, ASCII case ignored; deleted accounts never match.
  EXPECT_EQ(search("ann", 0, 100), std::make_pair(ann, int64_t{5}));
  EXPECT_EQ(search("ANN", 0, 2),
            std::make_pair(std::vector<int64_t>{ann[0], ann[1]}, int64_t{5}));
  EXPECT_EQ(search("ann", 4, 2), std::make_pair(std::vector<int64_t>{ann[4]}, int64_t{5}));
  // A page past the end still knows the total.
  EXPECT_EQ(search("ann", 50, 2), std::make_pair(std::vector<int64_t>{}, int64_t{5}));
  EXPECT_EQ(search("other.cn", 0, 10), std::make_pair(std::vector<int64_t>{bob}, int64_t{1}));
  // LIKE's wildcards are plain characters.
  EXPECT_EQ(search("%", 0, 10), std::make_pair(std::vector<int64_t>{pct}, int64_t{1}));
  EXPECT_EQ(search("0%_", 0, 10), std::make_pair(std::vector<int64_t>{pct}, int64_t{1}));
  EXPECT_EQ(search("n_@", 0, 10).second, 0);
  // "" is everyone live.
  EXPECT_EQ(search("", 0, 100).second, 7);

  for (auto [offset, limit] : {std::pair<int64_t, int64_t>{0, 0}, {0, 1001}, {-1, 10}}) {
    expect_code(store_->search_users("", offset, limit).status(), Code::kInvalidArgument,
                "search_users paging");
  }
}

TEST_P(StoreContractTest, DisablingEndsEverySessionAndEnablingClearsIt) {
  User u = create_user("off@example.cn");
  User other = create_user("on@example.cn");
  Session a = create_session(u.id, "a", kT0);
  Session b = create_session(u.id, "b", kT0 + 1);
  Session keep = create_session(other.id, "c", kT0);

  auto changed = store_->set_user_disabled(u.id, true, kT0 + 100);
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(store_->get_user(u.id)->disabled_at, kT0 + 100);
  EXPECT_FALSE(session_exists(a));
  EXPECT_FALSE(session_exists(b));
  EXPECT_TRUE(session_exists(keep));
  EXPECT_EQ(store_->get_user(other.id)->disabled_at, 0);
  // Listed, with its state.
  auto found = store_->search_users("off@", 0, 10);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->items.size(), 1u);
  EXPECT_EQ(found->items[0].disabled_at, kT0 + 100);

  // Again: no change, the first time stays, and a session that slipped in
  // is ended all the same.
  Session late = create_session(u.id, "late", kT0 + 150);
  changed = store_->set_user_disabled(u.id, true, kT0 + 200);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  EXPECT_EQ(store_->get_user(u.id)->disabled_at, kT0 + 100);
  EXPECT_FALSE(session_exists(late));

  changed = store_->set_user_disabled(u.id, false, kT0 + 300);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_EQ(store_->get_user(u.id)->disabled_at, 0);
  changed = store_->set_user_disabled(u.id, false, kT0 + 300);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);

  expect_code(store_->set_user_disabled(u.id + 1000, true, kT0).status(), Code::kNotFound,
              "unknown user");
  expect_code(store_->set_user_disabled(u.id, true, 0).status(), Code::kInvalidArgument,
              "no time");
  ASSERT_TRUE(store_->delete_user(other.id, kT0).is_ok());
  expect_code(store_->set_user_disabled(other.id, true, kT0).status(), Code::kNotFound,
              "deleted user");
}

TEST_P(StoreAuditTest, AuditedDisableRecordsOnlyARealChange) {
  User u = create_user("disable-audit@example.cn");
  AuditEntry e = audit_entry("admin@example.cn", "user.disable", kT0, "user", u.id);
  auto changed = store_->set_user_disabled_audited(u.id, true, kT0, e);
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(list({}).total, 1);
  // Nothing changes a second time, so nothing more is recorded.
  changed = store_->set_user_disabled_audited(u.id, true, kT0 + 1, e);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  EXPECT_EQ(list({}).total, 1);
  // A bad entry refuses the change; a refused change records nothing.
  AuditEntry bad = audit_entry("", "user.enable", kT0, "user", u.id);
  EXPECT_EQ(store_->set_user_disabled_audited(u.id, false, kT0, bad).status().code(),
            Code::kInvalidArgument);
  EXPECT_NE(store_->get_user(u.id)->disabled_at, 0);
  EXPECT_EQ(store_->set_user_disabled_audited(u.id + 1000, false, kT0, e).status().code(),
            Code::kNotFound);
  EXPECT_EQ(list({}).total, 1);
  AuditEntry on = audit_entry("admin@example.cn", "user.enable", kT0 + 2, "user", u.id);
  changed = store_->set_user_disabled_audited(u.id, false, kT0 + 2, on);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  AuditPage p = list({});
  ASSERT_EQ(p.total, 2);
  EXPECT_EQ(p.items[0].action, "user.enable");
  EXPECT_EQ(store_->get_user(u.id)->disabled_at, 0);
}

TEST_P(StoreCommerceTest, ListOrdersFiltersJoinsTheEmailAndPages) {
  User ann = create_user("ann@shop.cn");
  User bob = create_user("bob@other.cn");
  int64_t d = put(new_document("list"));
  Order a1 = create_order(document_order(ann.id, d, 990, kT0));
  Order a2 = create_order(topup_order(ann.id, 5000, kT0 + 100));
  Order b1 = create_order(topup_order(bob.id, 700, kT0 + 200));
  Order b2 = create_order(plan_order(bob.id, 30, 3000, kT0 + 300));
  ASSERT_TRUE(store_->apply_payment(notice(a1, "T-a1")).ok());
  PaymentNotice wx = notice(b1, "T-b1");
  wx.provider = "wechat";
  ASSERT_TRUE(store_->apply_payment(wx).ok());
  credit(bob.id, 3000);
  ASSERT_TRUE(store_->pay_order_from_wallet(b2.id, bob.id, kT0 + 310).ok());
  ASSERT_TRUE(store_->delete_user(bob.id, kT0 + 400).is_ok());

  auto ids = [&](OrderQuery q) {
    auto p = store_->list_orders(q);
    EXPECT_TRUE(p.ok()) << p.status().to_string();
    std::pair<std::vector<int64_t>, int64_t> out;
    if (p.ok()) {
      for (const OrderListItem& i : p->items) out.first.push_back(i.order.id);
      out.second = p->total;
    }
    return out;
  };
  using Ids = std::vector<int64_t>;
  EXPECT_EQ(ids({}), std::make_pair(Ids{b2.id, b1.id, a2.id, a1.id}, int64_t{4}));
  // The buyer's email; a deleted account's anonymised address.
  auto all = store_->list_orders({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items[3].email, "ann@shop.cn");
  EXPECT_EQ(all->items[0].email, "deleted-" + std::to_string(bob.id) + "@deleted.invalid");
  EXPECT_EQ(all->items[3].order.paid_with, "alipay");

  OrderQuery q;
  q.status = OrderStatus::kPaid;
  EXPECT_EQ(ids(q), std::make_pair(Ids{b2.id, b1.id, a1.id}, int64_t{3}));
  q.status = OrderStatus::kCreated;
  EXPECT_EQ(ids(q), std::make_pair(Ids{a2.id}, int64_t{1}));
  q = {};
  q.paid_with = "wechat";
  EXPECT_EQ(ids(q), std::make_pair(Ids{b1.id}, int64_t{1}));
  q.paid_with = "wallet";
  EXPECT_EQ(ids(q), std::make_pair(Ids{b2.id}, int64_t{1}));
  q = {};
  q.from = kT0 + 100;
  q.to = kT0 + 300;  // exclusive
  EXPECT_EQ(ids(q), std::make_pair(Ids{b1.id, a2.id}, int64_t{2}));
  q = {};
  q.email = "ANN@";
  EXPECT_EQ(ids(q), std::make_pair(Ids{a2.id, a1.id}, int64_t{2}));
  q.email = "%";
  EXPECT_EQ(ids(q).second, 0);
  q = {};
  q.limit = 3;
  q.offset = 3;
  EXPECT_EQ(ids(q), std::make_pair(Ids{a1.id}, int64_t{4}));
  q.offset = 10;
  EXPECT_EQ(ids(q), std::make_pair(Ids{}, int64_t{4}));

  for (auto [offset, limit] : {std::pair<int64_t, int64_t>{0, 0}, {0, 1001}, {-1, 10}}) {
    OrderQuery bad;
    bad.offset = offset;
    bad.limit = limit;
    expect_code(store_->list_orders(bad).status(), Code::kInvalidArgument, "list_orders paging");
  }
}

// A PostgreSQL URL that cannot be reached is kUnavailable (kInvalidArgument
// in a build without the backend), and the message never repeats the
// password the URL carries.
TEST(StoreOpenTest, UnreachablePostgresqlIsUnavailableAndKeepsThePasswordOut) {
  auto s = Store::open("postgresql://paidoc:secret@127.0.0.1:1/paidoc?connect_timeout=2");
  ASSERT_FALSE(s.ok());
#ifdef PAIDOC_WITH_POSTGRES
  EXPECT_EQ(s.status().code(), Code::kUnavailable) << s.status().to_string();
  EXPECT_NE(s.status().message().find("postgresql"), std::string::npos);
#else
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_NE(s.status().message().find("PostgreSQL"), std::string::npos);
#endif
  EXPECT_EQ(s.status().message().find("secret"), std::string::npos) << s.status().to_string();
}

// --- password resets (password_resets.h) -----------------------------------------

PasswordReset reset_link(int64_t user_id, const std::string& token, int64_t at) {
  PasswordReset r;
  r.user_id = user_id;
  r.token_hash = fake_sha("reset|" + token);
  r.created_at = at;
  r.expires_at = at + 1800;
  r.ip = "203.0.113.7";
  return r;
}

AuditEntry reset_entry(const std::string& actor, int64_t at) {
  AuditEntry e;
  e.at = at;
  e.actor = actor;
  e.action = audit_action::kUserPasswordReset;
  e.details = "{}";
  return e;
}

TEST_P(StoreContractTest, PasswordResetsAreKeptByTokenHash) {
  User u = create_user("reset@example.cn");
  auto made = store_->create_password_reset(reset_link(u.id, "one", kT0));
  ASSERT_TRUE(made.ok()) << made.status().to_string();
  EXPECT_GT(made->id, 0);
  auto found = store_->find_password_reset(fake_sha("reset|one"));
  ASSERT_TRUE(found.ok()) << found.status().to_string();
  EXPECT_EQ(found->user_id, u.id);
  EXPECT_EQ(found->created_at, kT0);
  EXPECT_EQ(found->expires_at, kT0 + 1800);
  EXPECT_EQ(found->used_at, 0);
  EXPECT_EQ(found->ip, "203.0.113.7");
  expect_code(store_->find_password_reset(fake_sha("reset|other")).status(), Code::kNotFound,
              "unknown hash");
  expect_code(store_->create_password_reset(reset_link(u.id, "one", kT0)).status(),
              Code::kConflict, "hash taken");
  expect_code(store_->create_password_reset(reset_link(u.id + 100, "two", kT0)).status(),
              Code::kNotFound, "no such user");
  PasswordReset bad = reset_link(u.id, "three", kT0);
  bad.expires_at = kT0;
  expect_code(store_->create_password_reset(bad).status(), Code::kInvalidArgument, "no lifetime");
  bad = reset_link(u.id, "four", kT0);
  bad.token_hash.clear();
  expect_code(store_->create_password_reset(bad).status(), Code::kInvalidArgument, "empty hash");
}

TEST_P(StoreContractTest, CompletingAPasswordResetIsOneTransaction) {
  User u = create_user("reset@example.cn");
  User other = create_user("other@example.cn");
  Session s1 = create_session(u.id, "phone", kT0);
  Session s2 = create_session(u.id, "laptop", kT0);
  Session keep = create_session(other.id, "theirs", kT0);
  ASSERT_TRUE(store_->create_password_reset(reset_link(u.id, "first", kT0)).ok());
  ASSERT_TRUE(store_->create_password_reset(reset_link(u.id, "second", kT0 + 1)).ok());
  ASSERT_TRUE(store_->create_password_reset(reset_link(other.id, "theirs", kT0)).ok());

  auto done = store_->complete_password_reset(fake_sha("reset|second"), "$argon2id$new", kT0 + 60,
                                              reset_entry(u.email, kT0 + 60));
  ASSERT_TRUE(done.ok()) << done.status().to_string();
  EXPECT_EQ(*done, u.id);
  EXPECT_EQ(store_->get_user(u.id)->password_hash, "$argon2id$new");
  EXPECT_FALSE(session_exists(s1));
  EXPECT_FALSE(session_exists(s2));
  EXPECT_TRUE(session_exists(keep));
  EXPECT_EQ(store_->find_password_reset(fake_sha("reset|first"))->used_at, kT0 + 60);
  EXPECT_EQ(store_->find_password_reset(fake_sha("reset|second"))->used_at, kT0 + 60);
  EXPECT_EQ(store_->find_password_reset(fake_sha("reset|theirs"))->used_at, 0);
  AuditQuery q;
  q.action = audit_action::kUserPasswordReset;
  auto log = store_->list(q);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->items.size(), 1u);
  EXPECT_EQ(log->items[0].target_kind, "user");
  EXPECT_EQ(log->items[0].target_id, u.id);

  // Used links do nothing more, and append nothing.
  for (const char* token : {"first", "second"}) {
    expect_code(store_->complete_password_reset(fake_sha(std::string("reset|") + token), "$x",
                                                kT0 + 61, reset_entry(u.email, kT0 + 61))
                    .status(),
                Code::kNotFound, token);
  }
  EXPECT_EQ(store_->get_user(u.id)->password_hash, "$argon2id$new");
  EXPECT_EQ(store_->list(q)->total, 1);
}

TEST_P(StoreContractTest, ExpiredOrDisabledPasswordResetsChangeNothing) {
  User u = create_user("reset@example.cn");
  ASSERT_TRUE(store_->create_password_reset(reset_link(u.id, "late", kT0)).ok());
  expect_code(store_->complete_password_reset(fake_sha("reset|late"), "$x", kT0 + 1800,
                                              reset_entry(u.email, kT0 + 1800))
                  .status(),
              Code::kNotFound, "expired");
  ASSERT_TRUE(store_->create_password_reset(reset_link(u.id, "off", kT0 + 10)).ok());
  ASSERT_TRUE(store_->set_user_disabled(u.id, true, kT0 + 11).ok());
  expect_code(store_->complete_password_reset(fake_sha("reset|off"), "$x", kT0 + 12,
                                              reset_entry(u.email, kT0 + 12))
                  .status(),
              Code::kNotFound, "disabled");
  ASSERT_TRUE(store_->set_user_disabled(u.id, false, kT0 + 13).ok());
  expect_code(store_->complete_password_reset(fake_sha("reset|off"), "", kT0 + 14,
                                              reset_entry(u.email, kT0 + 14))
                  .status(),
              Code::kInvalidArgument, "empty hash");
  EXPECT_EQ(store_->get_user(u.id)->password_hash, u.password_hash);
  EXPECT_EQ(store_->find_password_reset(fake_sha("reset|off"))->used_at, 0);
}

}  // namespace
}  // namespace paidoc::store
