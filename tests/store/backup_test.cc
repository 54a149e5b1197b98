// store::backup_sqlite and store::restore_sqlite (store/backup.h): an
// online copy taken while purchases keep committing is one consistent
// snapshot holding every purchase acknowledged before it started; refusals
// leave files as they were; a restore puts back exactly what was copied.

#include "store/backup.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"
#include "store/store.h"

namespace paidoc::store {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNow = 1'767'225'600;  // 2026-01-01

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("paidoc-backup-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    fs::create_directories(dir_ / "site");
    fs::create_directories(dir_ / "backups");
    fs::create_directories(dir_ / "fresh");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string site_db() const { return (dir_ / "site" / "paidoc.db").string(); }
  std::string url(const std::string& path) const { return "sqlite:" + path; }
  std::string backup_file(const std::string& name = "site.db") const {
    return (dir_ / "backups" / name).string();
  }

  static std::unique_ptr<Store> open(const std::string& path) {
    auto s = Store::open("sqlite:" + path);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // A document whose source is `bulk` characters long, so a few dozen of
  // them fill hundreds of pages.
  static NewDocument doc(const std::string& name, size_t bulk = 100) {
    NewDocument n;
    n.source_path = "/src/" + name + ".txt";
    n.source_sha256 = std::string(64 - std::min<size_t>(name.size(), 64), '0') + name;
    n.parsed.title = "文档 " + name;
    n.parsed.blocks.push_back(
        {doc::BlockKind::kParagraph, 0, "", {{"免费", false}, {"付费", true}}, 2, 0});
    doc::compute_figures(n.parsed);
    n.source_text = n.parsed.title + "\n";
    while (n.source_text.size() < bulk) n.source_text += "本单位认真组织学习，逐条对照检查。";
    n.price = Fen(100);
    return n;
  }

  static int64_t put(Store& s, const NewDocument& n) {
    auto r = s.put_document(n, kNow);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? r->id : 0;
  }

  // One reader: a top-up (operator credit) and a wallet purchase of
  // `document`. Answers the paid order's id, 0 on a failure.
  static int64_t top_up_and_buy(Store& s, const std::string& email, int64_t document) {
    auto u = s.create_user({email, "$argon2id$v=19$hash", Role::kReader}, kNow);
    if (!u.ok()) return 0;
    if (!s.credit_wallet(u->id, Fen(500), "top-up", "cli:test", kNow).ok()) return 0;
    NewOrder o;
    o.user_id = u->id;
    o.kind = OrderKind::kDocument;
    o.document_id = document;
    o.subject = "文档";
    o.amount = Fen(100);
    o.created_at = kNow;
    o.expires_at = kNow + 1800;
    o.out_trade_no_prefix = "W";
    auto bought = s.buy_from_wallet(o, kNow);
    return bought.ok() ? bought->id : 0;
  }

  fs::path dir_;
};

TEST_F(BackupTest, BackupWhilePurchasesCommitIsOneSnapshotWithEveryEarlierPurchase) {
  auto site = open(site_db());
  ASSERT_NE(site, nullptr);
  std::vector<int64_t> docs;
  for (int i = 0; i < 40; ++i) docs.push_back(put(*site, doc("d" + std::to_string(i), 12000)));

  // A writer keeps topping up wallets and buying, as readers of a serving
  // site would, until told to stop.
  std::mutex mu;
  std::vector<int64_t> acknowledged;  // paid order ids, in commit order
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      int64_t id = top_up_and_buy(*site, "r" + std::to_string(i) + "@example.cn",
                                  docs[static_cast<size_t>(i) % docs.size()]);
      if (id == 0) {
        ++failures;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu);
      acknowledged.push_back(id);
    }
  });
  auto count_acked = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return acknowledged.size();
  };
  while (count_acked() < 5) std::this_thread::sleep_for(std::chrono::milliseconds(2));

  std::vector<int64_t> before;
  {
    std::lock_guard<std::mutex> lock(mu);
    before = acknowledged;
  }
  BackupOptions opts;
  opts.pages_per_step = 4;  // many steps, each followed by a pause
  int steps = 0;
  int64_t last_done = -1, last_total = 0;
  bool restarted = false;
  opts.progress = [&](int64_t done, int64_t total) {
    ++steps;
    // A copy that starts over after a foreign commit (no held snapshot)
    // would never finish while the writer runs: stop the writer and fail.
    if (done <= last_done) {
      restarted = true;
      stop = true;
    }
    last_done = done;
    last_total = total;
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  };
  auto report = backup_sqlite(url(site_db()), backup_file(), opts);
  const size_t acked_after = count_acked();
  stop = true;
  writer.join();
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_FALSE(restarted) << "the copy started over: it did not read one snapshot";
  EXPECT_EQ(failures.load(), 0);

  // The writer went on committing while the copy ran (it was not starved),
  // and the copy ran in many steps to the last page.
  EXPECT_GT(acked_after, before.size() + 2) << "steps: " << steps;
  EXPECT_GT(steps, 20);
  EXPECT_EQ(last_done, last_total);

  EXPECT_TRUE(report->integrity_ok) << report->integrity;
  EXPECT_TRUE(report->ledger_checked);
  EXPECT_TRUE(report->ledger.problems.empty());
  EXPECT_EQ(report->schema_version, sqlite::latest_schema_version());
  EXPECT_EQ(report->documents, 40);
  EXPECT_GE(report->orders, static_cast<int64_t>(before.size()));
  // Each reader is three commits (account, top-up, purchase): a snapshot
  // falls between commits, so at most the newest reader has not bought yet.
  EXPECT_GE(report->users - report->orders, 0);
  EXPECT_LE(report->users - report->orders, 1);
  EXPECT_EQ(report->bytes, report->pages * report->page_size);
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(backup_file())), report->bytes);
  // One self-contained file: nothing beside it.
  EXPECT_FALSE(fs::exists(backup_file() + "-wal"));
  EXPECT_FALSE(fs::exists(backup_file() + "-journal"));
  {
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir_ / "backups")) files += e.is_regular_file();
    EXPECT_EQ(files, 1u);
  }

  site.reset();
  auto copy = open(backup_file());
  ASSERT_NE(copy, nullptr);
  for (int64_t id : before) {
    auto o = copy->get_order(id);
    ASSERT_TRUE(o.ok()) << "order " << id << " acknowledged before the backup is missing";
    EXPECT_EQ(o->status, OrderStatus::kPaid);
    auto bal = copy->wallet_balance(o->user_id);
    ASSERT_TRUE(bal.ok());
    EXPECT_EQ(bal->value(), 400);
  }
  auto audit = copy->ledger_audit();
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->problems.empty());
}

TEST_F(BackupTest, BackupRefusesToOverwriteAFileUnlessForced) {
  auto site = open(site_db());
  put(*site, doc("one"));
  { std::ofstream(backup_file()) << "last week's backup"; }

  auto refused = backup_sqlite(url(site_db()), backup_file(), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kConflict);
  EXPECT_NE(refused.status().message().find("already exists"), std::string::npos);
  EXPECT_EQ(slurp(backup_file()), "last week's backup");

  BackupOptions force;
  force.force = true;
  auto replaced = backup_sqlite(url(site_db()), backup_file(), force);
  ASSERT_TRUE(replaced.ok()) << replaced.status().to_string();
  EXPECT_EQ(replaced->documents, 1);
  EXPECT_EQ(slurp(backup_file()).substr(0, 16), std::string("SQLite format 3\0", 16));
}

TEST_F(BackupTest, BackupRefusesTheDatabaseItselfAsItsFile) {
  auto site = open(site_db());
  BackupOptions force;
  force.force = true;
  auto r = backup_sqlite(url(site_db()), site_db(), force);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(site->count_documents().ok());
}

TEST_F(BackupTest, AFailedBackupLeavesNoFileBehind) {
  // An empty file is a SQLite database, but not paidoc's: refused after
  // the copy, which must then vanish with its temporary file.
  { std::ofstream(dir_ / "site" / "other.db"); }
  auto r = backup_sqlite(url((dir_ / "site" / "other.db").string()), backup_file(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a paidoc database"), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(fs::is_empty(dir_ / "backups"));

  auto missing = backup_sqlite(url((dir_ / "site" / "nothing.db").string()), backup_file(), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_TRUE(fs::is_empty(dir_ / "backups"));
}

TEST_F(BackupTest, RestoreIntoAFreshDatabaseGivesBackWhatWasCopied) {
  int64_t order = 0, user = 0;
  {
    auto site = open(site_db());
    int64_t d = put(*site, doc("kept", 5000));
    order = top_up_and_buy(*site, "kept@example.cn", d);
    ASSERT_NE(order, 0);
    auto u = site->find_user_by_email("kept@example.cn");
    ASSERT_TRUE(u.ok());
    user = u->id;
    ASSERT_TRUE(backup_sqlite(url(site_db()), backup_file(), {}).ok());
  }
  const std::string fresh = (dir_ / "fresh" / "paidoc.db").string();
  int progress_calls = 0;
  RestoreOptions opts;
  opts.progress = [&](int64_t, int64_t) { ++progress_calls; };
  auto r = restore_sqlite(url(fresh), backup_file(), opts);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_GT(progress_calls, 0);
  EXPECT_TRUE(r->integrity_ok);
  EXPECT_TRUE(r->ledger_checked);
  EXPECT_TRUE(r->ledger.problems.empty());
  EXPECT_EQ(r->migrated_from, 0);
  EXPECT_EQ(r->documents, 1);
  EXPECT_EQ(r->users, 1);
  EXPECT_EQ(r->orders, 1);
  EXPECT_TRUE(fs::is_empty(dir_ / "backups") == false);
  // No temporary file is left beside the database.
  for (const auto& e : fs::directory_iterator(dir_ / "fresh"))
    EXPECT_EQ(e.path().filename().string().find("restore"), std::string::npos) << e.path();

  auto restored = open(fresh);
  ASSERT_NE(restored, nullptr);
  auto o = restored->get_order(order);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->user_id, user);
  EXPECT_EQ(o->status, OrderStatus::kPaid);
  auto bal = restored->wallet_balance(user);
  ASSERT_TRUE(bal.ok());
  EXPECT_EQ(bal->value(), 400);
  auto list = restored->list_documents({"", 0, 10});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0].title, "文档 kept");
}

TEST_F(BackupTest, RestoreRefusesANonEmptyDatabaseUnlessForced) {
  {
    auto site = open(site_db());
    put(*site, doc("old"));
    put(*site, doc("older"));
  }
  {
    auto other = open((dir_ / "fresh" / "paidoc.db").string());
    put(*other, doc("new"));
  }
  ASSERT_TRUE(backup_sqlite(url((dir_ / "fresh" / "paidoc.db").string()), backup_file(), {}).ok());

  auto refused = restore_sqlite(url(site_db()), backup_file(), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kConflict);
  EXPECT_NE(refused.status().message().find("2 documents"), std::string::npos)
      << refused.status().message();
  {
    auto site = open(site_db());
    EXPECT_EQ(*site->count_documents(), 2);
  }

  RestoreOptions force;
  force.force = true;
  auto r = restore_sqlite(url(site_db()), backup_file(), force);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->documents, 1);
  auto site = open(site_db());
  auto list = site->list_documents({"", 0, 10});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0].title, "文档 new");
}

TEST_F(BackupTest, RestoreRefusesGarbageAndLeavesTheDatabaseUntouched) {
  {
    auto site = open(site_db());
    put(*site, doc("precious"));
  }
  const std::string before = slurp(site_db());
  {
    std::ofstream out(backup_file("garbage.db"), std::ios::binary);
    std::mt19937 rng(15);
    for (int i = 0; i < 64 * 1024; ++i) out.put(static_cast<char>(rng() & 0xff));
  }
  RestoreOptions force;
  force.force = true;
  auto r = restore_sqlite(url(site_db()), backup_file("garbage.db"), force);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("not a usable backup"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("file is not a database"), std::string::npos)
      << r.status().message();

  EXPECT_EQ(slurp(site_db()), before);
  for (const auto& e : fs::directory_iterator(dir_ / "site"))
    EXPECT_EQ(e.path().filename().string(), "paidoc.db");
  auto site = open(site_db());
  EXPECT_EQ(*site->count_documents(), 1);
}

TEST_F(BackupTest, RestoreRefusesABackupWithAnUnbalancedLedger) {
  {
    auto site = open(site_db());
    int64_t d = put(*site, doc("x"));
    ASSERT_NE(top_up_and_buy(*site, "x@example.cn", d), 0);
    ASSERT_TRUE(backup_sqlite(url(site_db()), backup_file(), {}).ok());
  }
  {
    // Someone edits the cached balance in the backup file.
    auto c = sqlite::Connection::open(backup_file(), 1000);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->exec_script("UPDATE wallets SET balance_fen = balance_fen + 1", "tamper").is_ok());
  }
  const std::string fresh = (dir_ / "fresh" / "paidoc.db").string();
  auto r = restore_sqlite(url(fresh), backup_file(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("ledger"), std::string::npos) << r.status().message();
  EXPECT_TRUE(fs::is_empty(dir_ / "fresh"));
}

TEST_F(BackupTest, RestoreRefusesADatabaseInUse) {
  {
    auto site = open(site_db());
    put(*site, doc("a"));
    ASSERT_TRUE(backup_sqlite(url(site_db()), backup_file(), {}).ok());
  }
  auto serving = open(site_db());  // as `paidoc serve` holds it
  ASSERT_TRUE(serving->count_documents().ok());
  RestoreOptions force;
  force.force = true;
  auto r = restore_sqlite(url(site_db()), backup_file(), force);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition) << r.status().to_string();
  EXPECT_NE(r.status().message().find("in use"), std::string::npos);
  EXPECT_EQ(*serving->count_documents(), 1);
  serving.reset();

  EXPECT_TRUE(restore_sqlite(url(site_db()), backup_file(), force).ok());
}

TEST_F(BackupTest, RestoreMigratesABackupOfAnOlderVersion) {
  const int old_version = sqlite::latest_schema_version() - 1;
  {
    auto c = sqlite::Connection::open(backup_file("old.db"), 1000);
    ASSERT_TRUE(c.ok());
    auto v = sqlite::migrate_to(**c, old_version, kNow);
    ASSERT_TRUE(v.ok()) << v.status().to_string();
  }
  const std::string fresh = (dir_ / "fresh" / "paidoc.db").string();
  auto r = restore_sqlite(url(fresh), backup_file("old.db"), {});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->migrated_from, old_version);
  EXPECT_EQ(r->schema_version, sqlite::latest_schema_version());
  EXPECT_TRUE(r->ledger_checked);
}

TEST_F(BackupTest, PostgresqlSitesAreReferredToPgDump) {
  for (const std::string u : {"postgresql://paidoc:secret@db.internal/paidoc", "postgres://x@y/z"}) {
    auto b = backup_sqlite(u, backup_file(), {});
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().message(),
              "backup/restore are for SQLite sites; for PostgreSQL use pg_dump, see docs/deploy.md");
    auto r = restore_sqlite(u, backup_file(), {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), b.status().message());
    EXPECT_EQ(r.status().message().find("secret"), std::string::npos);
  }
  EXPECT_TRUE(fs::is_empty(dir_ / "backups"));
}

}  // namespace
}  // namespace paidoc::store
