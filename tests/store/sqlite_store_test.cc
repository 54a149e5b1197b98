// SQLite-specific behaviour of the store: what the contract suite
// (store_test.cc) cannot see through the interface. Pragmas, the migrations
// table, open errors, lock timeouts and the connection pool.

#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/migrations.h"
#include "store/store.h"

namespace paidoc::store {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("paidoc-sqlite-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    fs::create_directories(dir_);
    path_ = (dir_ / "paidoc.db").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A raw connection for looking under the hood; closed by the caller.
  sqlite3* raw() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    return db;
  }

  static std::string query_text(sqlite3* db, const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::string out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      if (!out.empty()) out += ";";
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        if (i > 0) out += ",";
        const unsigned char* t = sqlite3_column_text(st, i);
        out += t ? reinterpret_cast<const char*>(t) : "NULL";
      }
    }
    sqlite3_finalize(st);
    return out;
  }

  static NewDocument doc(const std::string& name, int64_t price_fen = 100) {
    NewDocument n;
    n.source_path = "/src/" + name + ".txt";
    n.source_sha256 = std::string(64 - std::min<size_t>(name.size(), 64), '0') + name;
    n.parsed.title = "文档 " + name;
    n.parsed.blocks.push_back(
        {doc::BlockKind::kParagraph, 0, "", {{"免费", false}, {"付费", true}}, 2, 0});
    doc::compute_figures(n.parsed);
    n.source_text = n.parsed.title;
    n.price = Fen(price_fen);
    return n;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, OpenSetsWalAndRecordsEachMigrationOnce) {
  for (int i = 0; i < 3; ++i) {
    auto s = Store::open("sqlite:" + path_);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
  }
  sqlite3* db = raw();
  EXPECT_EQ(query_text(db, "PRAGMA journal_mode"), "wal");
  std::string expected;
  for (int v = 1; v <= sqlite::latest_schema_version(); ++v) {
    expected += (v > 1 ? ";" : "") + std::to_string(v);
  }
  EXPECT_EQ(query_text(db, "SELECT version FROM schema_migrations ORDER BY version"), expected);
  EXPECT_EQ(query_text(db, "SELECT count(*) FROM schema_migrations WHERE applied_at > 1700000000"),
            std::to_string(sqlite::latest_schema_version()));
  EXPECT_EQ(query_text(db,
                       "SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN "
                       "('categories', 'documents') ORDER BY name"),
            "categories;documents");
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, TripleSlashUrlIsAnAbsolutePath) {
  ASSERT_TRUE(fs::path(path_).is_absolute());
  auto s = Store::open("sqlite://" + path_);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_TRUE(fs::exists(path_));
}

TEST_F(SqliteStoreTest, MissingDirectoryIsReportedWithThePath) {
  std::string missing = (dir_ / "no-such-dir" / "paidoc.db").string();
  auto s = Store::open("sqlite:" + missing);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kUnavailable);
  EXPECT_NE(s.status().message().find(missing), std::string::npos) << s.status().message();
  EXPECT_FALSE(fs::exists(dir_ / "no-such-dir"));
}

TEST_F(SqliteStoreTest, InMemoryAndEmptyPathsAreRefused) {
  for (const char* url : {"sqlite:", "sqlite::memory:", "sqlite:file:x.db?mode=memory"}) {
    auto s = Store::open(url);
    ASSERT_FALSE(s.ok()) << url;
    EXPECT_EQ(s.status().code(), Code::kInvalidArgument) << url;
  }
}

TEST_F(SqliteStoreTest, FileThatIsNotADatabaseIsRefused) {
  std::ofstream(path_) << "this is a text file, not a database, and long enough to have a header";
  auto s = Store::open("sqlite:" + path_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(path_), std::string::npos) << s.status().message();
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(Store::open("sqlite:" + path_).ok());
  sqlite3* db = raw();
  ASSERT_EQ(
      sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 0)", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  auto s = Store::open("sqlite:" + path_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("999"), std::string::npos) << s.status().message();
}

TEST_F(SqliteStoreTest, WriteLockedPastTimeoutIsUnavailableAndReadsGoOn) {
  sqlite::Options opts;
  opts.busy_timeout_ms = 100;
  auto s = sqlite::open_sqlite(path_, opts);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  Store& store = *s.value();
  auto first = store.put_document(doc("first"));
  ASSERT_TRUE(first.ok());

  // Another process holds the write lock.
  sqlite3* other = raw();
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto blocked = store.put_document(doc("second"));
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status().code(), Code::kUnavailable) << blocked.status().to_string();
  // WAL: readers are not blocked by the writer.
  auto got = store.get_document(first->id);
  EXPECT_TRUE(got.ok()) << got.status().to_string();
  auto n = store.count_documents();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);

  EXPECT_TRUE(store.put_document(doc("second")).ok());
}

TEST_F(SqliteStoreTest, OneConnectionServesManyThreads) {
  sqlite::Options opts;
  opts.max_connections = 1;
  auto s = sqlite::open_sqlite(path_, opts);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  Store& store = *s.value();
  auto put = store.put_document(doc("only"));
  ASSERT_TRUE(put.ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!store.document_revision(put->id).ok()) ++failures;
        if (i % 50 == 0 && !store.get_document(put->id).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(SqliteStoreTest, PriceIsStoredAsAnInteger) {
  auto s = Store::open("sqlite:" + path_);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s.value()->put_document(doc("p", 990)).ok());
  sqlite3* db = raw();
  EXPECT_EQ(query_text(db, "SELECT typeof(price_fen), price_fen FROM documents"), "integer,990");
  // STRICT tables refuse anything but integers in money columns.
  EXPECT_NE(sqlite3_exec(db, "UPDATE documents SET price_fen = 9.9", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace
}  // namespace paidoc::store
