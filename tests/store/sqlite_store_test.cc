// SQLite-specific behaviour of the store: what the contract suite
// (store_test.cc) cannot see through the interface. Pragmas, the migrations
// table, open errors, lock timeouts and the connection pool.

#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/connection.h"
#include "store/sqlite/fts.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/search.h"
#include "common/resources.h"
#include "doc/parser.h"
#include "store/store.h"

namespace paidoc::store {
namespace {

namespace fs = std::filesystem;

// The time the tests pass to the store (it reads no clock of its own).
constexpr int64_t kNow = 1'767'225'600;  // 2026-01-01

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
                       "('categories', 'documents', 'sessions', 'throttles', 'users')"
                       " ORDER BY name"),
            "categories;documents;sessions;throttles;users");
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
  auto first = store.put_document(doc("first"), kNow);
  ASSERT_TRUE(first.ok());

  // Another process holds the write lock.
  sqlite3* other = raw();
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto blocked = store.put_document(doc("second"), kNow);
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

  EXPECT_TRUE(store.put_document(doc("second"), kNow).ok());
}

TEST_F(SqliteStoreTest, OneConnectionServesManyThreads) {
  sqlite::Options opts;
  opts.max_connections = 1;
  auto s = sqlite::open_sqlite(path_, opts);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  Store& store = *s.value();
  auto put = store.put_document(doc("only"), kNow);
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
  ASSERT_TRUE(s.value()->put_document(doc("p", 990), kNow).ok());
  sqlite3* db = raw();
  EXPECT_EQ(query_text(db, "SELECT typeof(price_fen), price_fen FROM documents"), "integer,990");
  // STRICT tables refuse anything but integers in money columns.
  EXPECT_NE(sqlite3_exec(db, "UPDATE documents SET price_fen = 9.9", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
}

// The audit log is append-only below the interface too: even a raw
// connection cannot change or remove an entry.
TEST_F(SqliteStoreTest, AuditLogRefusesUpdateAndDelete) {
  auto s = Store::open("sqlite:" + path_);
  ASSERT_TRUE(s.ok());
  AuditEntry e;
  e.at = kNow;
  e.actor = "admin@example.cn";
  e.action = "user.role";
  e.target_kind = "user";
  e.target_id = 1;
  e.details = R"({"from":"reader","to":"admin"})";
  ASSERT_TRUE(s.value()->append(e).ok());
  sqlite3* db = raw();
  char* err = nullptr;
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit_log SET actor = 'someone-else'", nullptr, nullptr, &err),
            SQLITE_OK);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err).find("append-only"), std::string::npos) << err;
  sqlite3_free(err);
  err = nullptr;
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit_log", nullptr, nullptr, &err), SQLITE_OK);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err).find("append-only"), std::string::npos) << err;
  sqlite3_free(err);
  EXPECT_EQ(query_text(db, "SELECT actor, action FROM audit_log"), "admin@example.cn,user.role");
  sqlite3_close(db);
}

// A database made by a program that knew only schema version 1, holding one
// document, is brought to the latest version when opened; the document stays.
TEST_F(SqliteStoreTest, VersionOneDatabaseIsMigratedAtOpen) {
  NewDocument n = doc("old");
  {
    auto c = sqlite::Connection::open(path_, 1000);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    auto v = sqlite::migrate_to(*c.value(), 1, 1700000000);
    ASSERT_TRUE(v.ok()) << v.status().to_string();
    ASSERT_EQ(*v, 1);
    // What a version-1 put_document wrote.
    std::string sql =
        "INSERT INTO categories (name, created_at) VALUES ('旧', 1700000000);"
        "INSERT INTO documents (title, category_id, price_fen, source_path, source_sha256,"
        " source_text, parsed_json, excerpt, free_chars, paid_chars, free_paragraphs,"
        " paid_paragraphs, paid_sections, has_paid, publisher_id, revision, created_at,"
        " updated_at) VALUES ('" +
        n.parsed.title + "', 1, 250, '" + n.source_path + "', '" + n.source_sha256 + "', '" +
        n.source_text + "', '" + nlohmann::json(n.parsed).dump() + "', '免费', " +
        std::to_string(n.parsed.figures.free_chars) + ", " +
        std::to_string(n.parsed.figures.paid_chars) +
        ", 1, 1, 0, 1, NULL, 3, 1700000000,"
        " 1700000100);";
    ASSERT_TRUE(c.value()->exec_script(sql, "filling a v1 database").is_ok());
  }
  {
    sqlite3* db = raw();
    EXPECT_EQ(query_text(db, "SELECT group_concat(version) FROM schema_migrations"), "1");
    EXPECT_EQ(query_text(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'users'"), "0");
    sqlite3_close(db);
  }

  auto s = Store::open("sqlite:" + path_);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  Store& store = *s.value();
  auto v = store.schema_version();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, sqlite::latest_schema_version());
  EXPECT_GE(*v, 2);

  auto count = store.count_documents();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);
  auto got = store.get_document(1);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->summary.title, n.parsed.title);
  EXPECT_EQ(got->summary.category, "旧");
  EXPECT_EQ(got->summary.price, Fen(250));
  EXPECT_EQ(got->summary.revision, 3);
  EXPECT_EQ(got->summary.created_at, 1700000000);
  EXPECT_EQ(got->parsed, n.parsed);
  EXPECT_EQ(got->source_sha256, n.source_sha256);

  // The new tables work, and the old data can still be written.
  auto u = store.create_user({"first@example.cn", "h", Role::kAdmin}, kNow);
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  EXPECT_EQ(u->id, 1);
  auto put = store.put_document(doc("new"), kNow);
  ASSERT_TRUE(put.ok()) << put.status().to_string();
  EXPECT_EQ(put->id, 2);

  sqlite3* db = raw();
  std::string expected;
  for (int i = 1; i <= sqlite::latest_schema_version(); ++i) {
    expected += (i > 1 ? "," : "") + std::to_string(i);
  }
  EXPECT_EQ(query_text(db,
                       "SELECT group_concat(version) FROM "
                       "(SELECT version FROM schema_migrations ORDER BY version)"),
            expected);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, MigrateToAVersionStopsThere) {
  auto c = sqlite::Connection::open(path_, 1000);
  ASSERT_TRUE(c.ok());
  sqlite::Connection& conn = *c.value();
  for (int bad : {-1, sqlite::latest_schema_version() + 1}) {
    auto v = sqlite::migrate_to(conn, bad, 1700000000);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), Code::kInvalidArgument);
  }
  auto v = sqlite::migrate_to(conn, 1, 1700000000);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 1);
  v = sqlite::migrate(conn, 1700000000);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, sqlite::latest_schema_version());
  // Asking for an older version than the database has changes nothing.
  v = sqlite::migrate_to(conn, 1, 1700000000);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, sqlite::latest_schema_version());
  auto current = sqlite::current_schema_version(conn);
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(*current, sqlite::latest_schema_version());
}

// The schema itself guards accounts, whatever code writes to it.
TEST_F(SqliteStoreTest, AccountTablesEnforceTheirRules) {
  auto s = Store::open("sqlite:" + path_);
  ASSERT_TRUE(s.ok());
  Store& store = *s.value();
  auto u = store.create_user({"rules@example.cn", "h", Role::kReader}, kNow);
  ASSERT_TRUE(u.ok());
  Session in;
  in.user_id = u->id;
  in.token_hash = std::string(64, 'a');
  in.expires_at = 1;
  ASSERT_TRUE(store.create_session(in, 0).ok());
  ASSERT_TRUE(store.put_throttle({"k", 1, 2, 3}).is_ok());

  sqlite3* db = raw();
  sqlite3_exec(db, "PRAGMA foreign_keys = ON", nullptr, nullptr, nullptr);
  auto fails = [&](const char* sql) {
    return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK;
  };
  EXPECT_TRUE(fails("UPDATE users SET role = 'root'"));
  EXPECT_TRUE(fails("UPDATE users SET role = ''"));
  // 'deleted' goes with deleted_at and an empty hash, and only with them.
  EXPECT_TRUE(fails("UPDATE users SET role = 'deleted'"));
  EXPECT_TRUE(fails("UPDATE users SET deleted_at = 5"));
  EXPECT_TRUE(fails("UPDATE users SET role = 'deleted', deleted_at = 5"));
  EXPECT_TRUE(fails("UPDATE users SET created_at = 'yesterday'"));  // STRICT
  EXPECT_TRUE(
      fails("INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at,"
            " expires_at, user_agent, ip) VALUES (999, 'x', 0, 0, 0, '', '')"));
  EXPECT_TRUE(fails("UPDATE throttles SET count = -1"));
  EXPECT_EQ(query_text(db, "SELECT role, deleted_at FROM users"), "reader,0");
  EXPECT_EQ(query_text(db, "SELECT typeof(role) FROM users"), "text");
  // Removing a user row removes its sessions.
  ASSERT_FALSE(fails("DELETE FROM users"));
  EXPECT_EQ(query_text(db, "SELECT count(*) FROM sessions"), "0");
  // Only the token's hash is stored.
  EXPECT_EQ(query_text(db,
                       "SELECT name FROM pragma_table_info('sessions') WHERE name LIKE "
                       "'%token%'"),
            "token_hash");
  sqlite3_close(db);
}

// How a deleted account looks in the database: the role 'deleted' is
// internal and reads back as "".
TEST_F(SqliteStoreTest, DeletedAccountRow) {
  auto s = Store::open("sqlite:" + path_);
  ASSERT_TRUE(s.ok());
  auto u = s.value()->create_user({"who@example.cn", "h", Role::kAdmin}, kNow);
  ASSERT_TRUE(u.ok());
  ASSERT_TRUE(s.value()->delete_user(u->id, 1800000000).is_ok());
  sqlite3* db = raw();
  EXPECT_EQ(query_text(db, "SELECT email, password_hash, role, deleted_at FROM users"),
            "deleted-" + std::to_string(u->id) + "@deleted.invalid,,deleted,1800000000");
  sqlite3_close(db);
  auto got = s.value()->get_user(u->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->role, Role::kDeleted);
}

// The schema itself guards money, whatever code writes to it: integer fen,
// no negative wallet, one record per provider transaction, closed sets of
// kinds and statuses, paid/refunded columns that go together.
TEST_F(SqliteStoreTest, CommerceTablesEnforceTheirRules) {
  auto s = Store::open("sqlite:" + path_);
  ASSERT_TRUE(s.ok());
  Store& store = *s.value();
  auto u = store.create_user({"money@example.cn", "h", Role::kReader}, kNow);
  ASSERT_TRUE(u.ok());
  auto d = store.put_document(doc("m"), kNow);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(store.credit_wallet(u->id, Fen(100), "", "op", 1800000000).ok());
  NewOrder n;
  n.user_id = u->id;
  n.kind = OrderKind::kDocument;
  n.document_id = d->id;
  n.subject = "m";
  n.amount = Fen(100);
  n.created_at = 1800000000;
  n.expires_at = 1800001800;
  n.out_trade_no_prefix = "P";
  auto o = store.create_order(n);
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(o->out_trade_no, "P" + std::string(9, '0') + std::to_string(o->id));
  PaymentNotice pn{"alipay", "T1", o->out_trade_no, Fen(100), 1800000001};
  ASSERT_TRUE(store.apply_payment(pn).ok());

  sqlite3* db = raw();
  sqlite3_exec(db, "PRAGMA foreign_keys = ON", nullptr, nullptr, nullptr);
  auto fails = [&](const std::string& sql) {
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK;
  };
  EXPECT_TRUE(fails("UPDATE wallets SET balance_fen = -1"));
  EXPECT_TRUE(fails("UPDATE wallets SET balance_fen = 1.5"));  // STRICT: no floats
  EXPECT_TRUE(fails("UPDATE orders SET amount_fen = 0"));
  EXPECT_TRUE(fails("UPDATE orders SET amount_fen = '9.9'"));
  EXPECT_TRUE(fails("UPDATE orders SET status = 'shipped'"));
  EXPECT_TRUE(fails("UPDATE orders SET kind = 'gift'"));
  EXPECT_TRUE(fails("UPDATE orders SET status = 'refunded'"));  // without refunded_at
  EXPECT_TRUE(fails("UPDATE orders SET paid_at = 0"));          // paid without a time
  EXPECT_TRUE(fails("UPDATE orders SET document_id = NULL"));   // a document order
  EXPECT_TRUE(fails("UPDATE ledger_entries SET amount_fen = 0"));
  EXPECT_TRUE(fails("UPDATE ledger_entries SET kind = 'gift'"));
  EXPECT_TRUE(
      fails("INSERT INTO payment_notifications (provider, transaction_id, order_id, amount_fen,"
            " received_at, outcome, ledger_txn) VALUES ('alipay', 'T1', " +
            std::to_string(o->id) + ", 100, 0, 'applied', 1)"));
  EXPECT_TRUE(fails("INSERT INTO orders (out_trade_no, user_id, kind, document_id, subject,"
                    " amount_fen, status, created_at, expires_at)"
                    " VALUES ('X', 999, 'topup', NULL, '', 1, 'created', 0, 1)"));  // no user
  EXPECT_EQ(query_text(db, "SELECT balance_fen, typeof(balance_fen) FROM wallets"),
            "100,integer");
  EXPECT_EQ(query_text(db, "SELECT account, amount_fen FROM ledger_entries ORDER BY id"),
            "operator,-100;wallet:" + std::to_string(u->id) + ",100;provider:alipay,-100;sales,100");
  sqlite3_close(db);
}

// --- the search index stays in step with the documents table -----------------

// A document whose free text holds `free_word` and paid text `paid_word`.
NewDocument search_doc(const std::string& name, const std::string& free_word,
                       const std::string& paid_word, int64_t price_fen) {
  NewDocument n;
  n.source_path = "/src/" + name + ".txt";
  n.source_sha256 = std::string(64 - std::min<size_t>(name.size(), 64), '0') + name;
  n.parsed.title = "通知" + name;
  n.parsed.blocks.push_back({doc::BlockKind::kParagraph, 0, "",
                             {{"前言" + free_word + "。", false}, {"正文" + paid_word + "。", true}},
                             2, 0});
  doc::compute_figures(n.parsed);
  n.source_text = n.parsed.title;
  n.price = Fen(price_fen);
  return n;
}

int64_t hits(Store& st, const std::string& term, PriceFilter price = PriceFilter::kAny) {
  SearchQuery q;
  q.terms = {term};
  q.price = price;
  auto r = st.search(q);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? r->total : -1;
}

// Migration 11 rebuilds orders and the ledger: ids, AUTOINCREMENT counters
// and money stay; late payments become the orders' credited amount; a
// provider refund owed before refunds were tracked becomes a failed refund
// (never sent by itself) so the audit still balances.
TEST_F(SqliteStoreTest, VersionTenCommerceIsCarriedIntoTrackedRefunds) {
  {
    auto c = sqlite::Connection::open(path_, 1000);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    auto v = sqlite::migrate_to(*c.value(), 10, 1700000000);
    ASSERT_TRUE(v.ok()) << v.status().to_string();
    const std::string sql = R"sql(
INSERT INTO users (email, password_hash, role, created_at)
  VALUES ('old@example.cn', 'h', 'reader', 1700000000);
INSERT INTO orders (id, out_trade_no, user_id, kind, subject, amount_fen, status, paid_with,
                    created_at, expires_at, paid_at, refunded_at)
  VALUES (1, 'P1', 1, 'topup', '钱包充值', 1000, 'refunded', 'alipay', 1700000000, 1700001800,
          1700000100, 1700000200),
         (2, 'P2', 1, 'topup', '钱包充值', 500, 'expired', '', 1700000000, 1700001800, 0, 0),
         (9, 'P9', 1, 'topup', '钱包充值', 500, 'created', '', 1700000000, 1700001800, 0, 0);
DELETE FROM orders WHERE id = 9;
INSERT INTO ledger_entries (txn_id, account, amount_fen, order_id, kind, note, actor, created_at)
  VALUES (1, 'provider:alipay', -1000, 1, 'payment', '', 'provider:alipay', 1700000100),
         (1, 'wallet:1', 1000, 1, 'payment', '', 'provider:alipay', 1700000100),
         (2, 'wallet:1', -1000, 1, 'refund', '', 'admin', 1700000200),
         (2, 'refunds_due:alipay', 1000, 1, 'refund', '', 'admin', 1700000200),
         (3, 'provider:alipay', -500, 2, 'late_payment', '', 'provider:alipay', 1700002000),
         (3, 'wallet:1', 500, 2, 'late_payment', '', 'provider:alipay', 1700002000);
INSERT INTO wallets (user_id, balance_fen) VALUES (1, 500);
INSERT INTO payment_notifications (provider, transaction_id, order_id, amount_fen, received_at,
                                   outcome, ledger_txn)
  VALUES ('alipay', 'T1', 1, 1000, 1700000100, 'applied', 1),
         ('alipay', 'T2', 2, 500, 1700002000, 'credited_to_wallet', 3);
)sql";
    ASSERT_TRUE(c.value()->exec_script(sql, "filling a v10 database").is_ok());
  }
  auto s = Store::open("sqlite:" + path_);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  Store& store = *s.value();
  auto late = store.get_order(2);
  ASSERT_TRUE(late.ok()) << late.status().to_string();
  EXPECT_EQ(late->status, OrderStatus::kExpired);
  EXPECT_EQ(late->credited, Fen(500));
  EXPECT_EQ(store.get_order(1)->credited, Fen(0));
  auto refunds = store.order_refunds(1);
  ASSERT_TRUE(refunds.ok()) << refunds.status().to_string();
  ASSERT_EQ(refunds->size(), 1u);
  EXPECT_EQ((*refunds)[0].state, RefundState::kFailed);
  EXPECT_EQ((*refunds)[0].amount, Fen(1000));
  EXPECT_EQ((*refunds)[0].provider, "alipay");
  EXPECT_EQ((*refunds)[0].transaction_id, "T1");
  EXPECT_FALSE((*refunds)[0].message.empty());
  EXPECT_TRUE(store.pending_refunds(10)->empty());
  auto audit = store.ledger_audit();
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->entries, 6);
  for (const auto& p : audit->problems) {
    ADD_FAILURE() << "problem kind " << static_cast<int>(p.kind) << " id " << p.id << " "
                  << p.detail;
  }
  // The order counter went on from the deleted row 9, and new rows take the
  // new statuses.
  NewOrder n;
  n.user_id = 1;
  n.kind = OrderKind::kTopUp;
  n.subject = "钱包充值";
  n.amount = Fen(100);
  n.created_at = kNow;
  n.expires_at = kNow + 1800;
  n.out_trade_no_prefix = "P";
  auto o = store.create_order(n);
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(o->id, 10);
  sqlite3* db = raw();
  EXPECT_EQ(query_text(db,
                       "SELECT count(*) FROM sqlite_schema WHERE name IN ('orders_purchases',"
                       " 'orders_by_user', 'orders_created_by_expiry', 'orders_by_created',"
                       " 'ledger_by_txn', 'ledger_by_account', 'ledger_by_order')"),
            "7");
  EXPECT_EQ(query_text(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE '%v10%'"), "0");
  sqlite3_close(db);
}

// A reader with two paid orders for one document (which apply_payment never
// makes: the second is credited) is flagged by the audit.
TEST_F(SqliteStoreTest, ForcedDoublePurchaseIsFlagged) {
  auto s = Store::open("sqlite:" + path_);
  ASSERT_TRUE(s.ok());
  Store& store = *s.value();
  auto u = store.create_user({"twice@example.cn", "h", Role::kReader}, kNow);
  auto d1 = store.put_document(doc("one"), kNow);
  auto d2 = store.put_document(doc("two"), kNow);
  ASSERT_TRUE(u.ok() && d1.ok() && d2.ok());
  std::vector<int64_t> ids;
  int i = 0;
  for (int64_t d : {d1->id, d2->id}) {
    NewOrder n;
    n.user_id = u->id;
    n.kind = OrderKind::kDocument;
    n.document_id = d;
    n.subject = "d";
    n.amount = Fen(100);
    n.created_at = kNow;
    n.expires_at = kNow + 1800;
    n.out_trade_no_prefix = "P";
    auto o = store.create_order(n);
    ASSERT_TRUE(o.ok());
    ids.push_back(o->id);
    PaymentNotice pn{"wechat", "WX" + std::to_string(i++), o->out_trade_no, Fen(100), kNow + 1};
    auto a = store.apply_payment(pn);
    ASSERT_TRUE(a.ok());
    ASSERT_EQ(a->outcome, PaymentOutcome::kApplied);
  }
  ASSERT_TRUE(store.ledger_audit()->problems.empty());
  sqlite3* db = raw();
  ASSERT_EQ(sqlite3_exec(db,
                         ("UPDATE orders SET document_id = " + std::to_string(d1->id) +
                          " WHERE id = " + std::to_string(ids[1]))
                             .c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto audit = store.ledger_audit();
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->problems.size(), 1u);
  const LedgerProblem& p = audit->problems[0];
  EXPECT_EQ(p.kind, LedgerProblemKind::kDoublePurchase);
  EXPECT_EQ(p.id, u->id);
  EXPECT_EQ(p.actual, 2);
  EXPECT_EQ(p.detail, "document " + std::to_string(d1->id) + ": orders " + std::to_string(ids[0]) +
                          ", " + std::to_string(ids[1]));
}

TEST_F(SqliteStoreTest, IndexFollowsDeletesAndPriceChangesInTheSameTransaction) {
  auto opened = Store::open("sqlite:" + path_);
  ASSERT_TRUE(opened.ok());
  Store& st = **opened;
  auto a = st.put_document(search_doc("a", "河道清淤", "闸门检修", 500), kNow);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(st.put_document(search_doc("b", "河道清淤", "泵站值守", 500), kNow).ok());
  EXPECT_EQ(hits(st, "河道清淤"), 2);
  EXPECT_EQ(hits(st, "闸门检修"), 1);
  EXPECT_EQ(hits(st, "河道清淤", PriceFilter::kFree), 0);

  // Changes made straight in SQL (as a future delete or price edit would
  // be) reach the index and the facts through the triggers.
  sqlite3* db = raw();
  ASSERT_TRUE(sqlite::register_fts(db).is_ok());
  ASSERT_EQ(sqlite3_exec(db, ("UPDATE documents SET price_fen = 0 WHERE id = " +
                              std::to_string(a->id)).c_str(), nullptr, nullptr, nullptr),
            SQLITE_OK) << sqlite3_errmsg(db);
  EXPECT_EQ(hits(st, "河道清淤", PriceFilter::kFree), 1);
  EXPECT_EQ(hits(st, "河道清淤", PriceFilter::kPaid), 1);
  // A failed transaction leaves the index as it was.
  ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, ("DELETE FROM documents WHERE id = " + std::to_string(a->id)).c_str(),
                         nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  ASSERT_EQ(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(hits(st, "闸门检修"), 1);
  ASSERT_EQ(sqlite3_exec(db, ("DELETE FROM documents WHERE id = " + std::to_string(a->id)).c_str(),
                         nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
  EXPECT_EQ(hits(st, "闸门检修"), 0);
  EXPECT_EQ(hits(st, "河道清淤"), 1);
}

TEST_F(SqliteStoreTest, StaleRowsAreReindexedOnOpen) {
  {
    auto opened = Store::open("sqlite:" + path_);
    ASSERT_TRUE(opened.ok());
    ASSERT_TRUE((*opened)->put_document(search_doc("a", "农田水利", "渠道衬砌", 500), kNow).ok());
  }
  // As a database written before search existed (or by an older
  // tokenizer generation) looks.
  sqlite3* db = raw();
  ASSERT_TRUE(sqlite::register_fts(db).is_ok());
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE documents SET search_free = '', search_paid = '', search_keys = '',"
                         " search_version = 0; DELETE FROM keyword_df",
                         nullptr, nullptr, nullptr),
            SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto opened = Store::open("sqlite:" + path_);
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  EXPECT_EQ(hits(**opened, "农田水利"), 1);
  // Locked paid text: found through the keywords chosen again on open.
  EXPECT_EQ(hits(**opened, "渠道衬砌"), 1);
  EXPECT_EQ(hits(**opened, "渠道衬"), 0);
}

TEST_F(SqliteStoreTest, SearchRefusesTermsWithNothingToSearch) {
  auto opened = Store::open("sqlite:" + path_);
  ASSERT_TRUE(opened.ok());
  SearchQuery q;
  q.terms = {"，。"};
  EXPECT_EQ((*opened)->search(q).status().code(), Code::kInvalidArgument);
  q.terms = {};
  EXPECT_EQ((*opened)->search(q).status().code(), Code::kInvalidArgument);
  q.terms = {"水利"};
  q.limit = 0;
  EXPECT_EQ((*opened)->search(q).status().code(), Code::kInvalidArgument);
}


// document_words() once kept views into its own growing result: when the
// paid part added enough new words for the vector to reallocate, the views
// of short (inline-stored) words dangled, so words already listed could be
// listed again and counted twice in keyword_df (PostgreSQL refused the
// duplicate; SQLite silently double-counted).
TEST(DocumentWordsTest, DocumentWordsStayDistinctWhenThePaidPartAddsMany) {
  std::string free_text;
  std::string paid_text;
  const char* kWords[] = {"组织", "学习", "制度", "建设", "作风", "纪律", "群众", "基层",
                          "调研", "整改", "落实", "责任", "考核", "监督", "培训", "服务"};
  // Free words first, then a paid part that repeats them among many new ones.
  for (const char* w : kWords) free_text += std::string("加强") + w + "工作。\n";
  for (int i = 0; i < 40; ++i) {
    for (const char* w : kWords) paid_text += std::string("深化") + w + "第" + std::to_string(i) + "项，";
    paid_text += "\n";
  }
  sqlite::SearchTexts t{free_text, paid_text};
  std::vector<std::string> words = sqlite::document_words("标题", t);
  std::set<std::string> distinct(words.begin(), words.end());
  EXPECT_EQ(distinct.size(), words.size());
  EXPECT_GT(words.size(), 16u);
  // And every demo document (the one PostgreSQL refused among them).
  for (std::string_view path : resource_paths("demo/")) {
    if (!path.ends_with(".txt")) continue;
    std::string_view bytes;
    ASSERT_TRUE(resource(path, &bytes)) << path;
    doc::ParseResult parsed = doc::parse(bytes, path);
    ASSERT_TRUE(parsed.ok) << path;
    sqlite::SearchTexts texts = sqlite::search_texts(parsed.document);
    std::vector<std::string> w = sqlite::document_words(parsed.document.title, texts);
    std::set<std::string> d(w.begin(), w.end());
    EXPECT_EQ(d.size(), w.size()) << path;
  }
}

}  // namespace
}  // namespace paidoc::store
