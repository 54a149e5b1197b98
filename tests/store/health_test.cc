// store::HealthStore: the cheap probe and the integrity checks, per backend,
// and on SQLite against a file with damaged b-tree pages
// (tests/support/corrupt.h).
#include <gtest/gtest.h>

#include <string>

#include "common/clock.h"
#include "library/library.h"
#include "store/health.h"
#include "store/store.h"
#include "support/backends.h"
#include "support/corrupt.h"

namespace paidoc::store {
namespace {

constexpr int64_t kHealthNow = 1'780'000'000;

// Written for these tests: document `i`, long enough that a few dozen of
// them spread the documents table over many pages.
std::string source(int i) {
  std::string s = "仓库盘点记录第" + std::to_string(i) + "号\n";
  for (int p = 0; p < 12; ++p) {
    s += "第" + std::to_string(p) + "段：货架" + std::to_string(i * 100 + p) +
         "上的纸箱已经清点完毕，数量与账面一致，保管员签字确认。\n";
  }
  s += "##paidbegin##\n";
  for (int p = 0; p < 12; ++p) {
    s += "附录" + std::to_string(p) + "：第" + std::to_string(i) +
         "号仓库的温度和湿度每天记录两次，记录表放在门口的木柜里。\n";
  }
  s += "##paidend##\n";
  return s;
}

class HealthTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    reopen();
  }
  void TearDown() override { store_.reset(); }

  void reopen() {
    auto s = Store::open(db_->url());
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(s).value();
    health_ = dynamic_cast<HealthStore*>(store_.get());
    ASSERT_NE(health_, nullptr);
  }

  void import(int n) {
    library::Library lib(*store_, clock_);
    library::ImportOptions opts;
    opts.price = Fen(500);
    for (int i = 0; i < n; ++i) {
      library::ImportLine line = lib.import_bytes(source(i), "d" + std::to_string(i) + ".txt", opts);
      ASSERT_TRUE(line.ok) << line.error;
    }
  }

  FakeClock clock_{kHealthNow};
  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<Store> store_;
  HealthStore* health_ = nullptr;  // store_, as every store is
};
PAIDOC_ON_EVERY_BACKEND(HealthTest);

TEST_P(HealthTest, AHealthyStorePassesItsProbeAndBothChecks) {
  EXPECT_TRUE(health_->probe().is_ok());  // empty tables
  import(5);
  EXPECT_TRUE(health_->probe().is_ok()) << health_->probe().to_string();
  for (IntegrityDepth depth : {IntegrityDepth::kQuick, IntegrityDepth::kFull}) {
    auto r = health_->check_integrity(depth);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_TRUE(r->ok);
    EXPECT_TRUE(r->problems.empty()) << r->problems.front();
    EXPECT_FALSE(r->checked.empty());
  }
  auto r = check_database(db_->url(), IntegrityDepth::kFull);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->checked,
            GetParam() == "sqlite" ? "PRAGMA integrity_check" : "every row of every table, read whole");
}

TEST_P(HealthTest, AMainTableThatCannotBeReadFailsTheProbeAndTheQuickCheck) {
  import(2);
  // (legacy_alter_table: SQLite would otherwise re-parse the search index's
  // triggers, whose tokenizer this connection lacks.)
  const std::string legacy = GetParam() == "sqlite" ? "PRAGMA legacy_alter_table = ON; " : "";
  ASSERT_EQ(testing_support::exec_sql(db_->url(), legacy + "ALTER TABLE wallets RENAME TO wallets_gone"),
            "");
  Status s = health_->probe();
  EXPECT_FALSE(s.is_ok());
  EXPECT_FALSE(is_damage(s)) << s.to_string();
  EXPECT_NE(s.message().find("wallets"), std::string::npos) << s.to_string();
  if (GetParam() == "postgresql") {
    // No quick_check of its own: the quick check is the probe's reads.
    auto r = health_->check_integrity(IntegrityDepth::kQuick);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_FALSE(r->ok);
    ASSERT_EQ(r->problems.size(), 1u);
    EXPECT_NE(r->problems[0].find("wallets"), std::string::npos) << r->problems[0];
  }
}

TEST_P(HealthTest, CheckingAMissingSqliteFileCreatesNothing) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "a SQLite file";
  const std::string url = db_->url() + ".missing";
  auto r = check_database(url, IntegrityDepth::kQuick);
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(url.substr(7)));
}

// The finding (issue 16, 6): garbage over the interior pages of the
// documents table. The file still opens; the checks find the damage, reads
// that meet it answer a damage error, and from then on so does the probe.
TEST_P(HealthTest, DamagedInteriorPagesFailTheChecksAndTheProbeAnswersDataLoss) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "damages a SQLite file";
  import(40);
  store_.reset();
  health_ = nullptr;
  const std::string path = db_->url().substr(7);
  ASSERT_GT(paidoc::testing::damage_interior_pages(path, "documents"), 0);

  for (IntegrityDepth depth : {IntegrityDepth::kQuick, IntegrityDepth::kFull}) {
    auto r = check_database(db_->url(), depth);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_FALSE(r->ok);
    ASSERT_FALSE(r->problems.empty());
    EXPECT_LE(r->problems.size(), 100u);
  }

  reopen();
  ListQuery q;
  q.limit = 50;
  auto page = store_->list_documents(q);
  ASSERT_FALSE(page.ok());
  EXPECT_TRUE(is_damage(page.status())) << page.status().to_string();
  EXPECT_NE(page.status().message().find("database damaged: database disk image is malformed"),
            std::string::npos)
      << page.status().to_string();
  Status probe = health_->probe();
  EXPECT_TRUE(is_damage(probe)) << probe.to_string();
  auto quick = health_->check_integrity(IntegrityDepth::kQuick);
  ASSERT_TRUE(quick.ok());
  EXPECT_FALSE(quick->ok);
}

}  // namespace
}  // namespace paidoc::store
