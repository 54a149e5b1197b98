// Service and store suites run once per store backend.
//
//   class FooTest : public ::testing::TestWithParam<std::string> {
//     void SetUp() override {
//       db_ = make_test_database(GetParam());
//       if (db_ == nullptr) GTEST_SKIP() << postgres_skip_reason();
//       auto s = store::Store::open(db_->url());
//       …
//     }
//   };
//   TEST_P(FooTest, Something) { … }
//   PAIDOC_ON_EVERY_BACKEND(FooTest);
//
// Test names end with the backend ("Backends/FooTest.Something/postgresql"),
// so ctest lists each test once per backend and `--gtest_filter=*postgresql*`
// picks one. exec_sql() runs a statement on the database behind the store's
// back, as a tamperer or an older release would.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/test_database.h"

namespace paidoc::testing_support {

inline auto every_backend() {
  return ::testing::Values(std::string("sqlite"), std::string("postgresql"));
}

struct BackendTestName {
  std::string operator()(const ::testing::TestParamInfo<std::string>& info) const {
    return info.param;
  }
};

// Runs `sql` (one or more statements) on the database at `url` over a
// connection of its own; "" when it ran, else the database's message.
inline std::string exec_sql(const std::string& url, const std::string& sql) {
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    sqlite3* db = nullptr;
    std::string msg;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
      msg = db != nullptr ? sqlite3_errmsg(db) : "cannot open";
    } else {
      sqlite3_busy_timeout(db, 5000);
      char* err = nullptr;
      if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        msg = err != nullptr ? err : "failed";
      }
      sqlite3_free(err);
    }
    sqlite3_close(db);
    return msg;
  }
#ifdef PAIDOC_WITH_POSTGRES
  PGconn* c = PQconnectdb(url.c_str());
  std::string msg;
  if (PQstatus(c) != CONNECTION_OK) {
    msg = PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
      msg = PQresultErrorMessage(r);
    }
    PQclear(r);
  }
  PQfinish(c);
  return msg;
#else
  return "no backend for " + url.substr(0, url.find(':'));
#endif
}

// The first column of the first row `sql` answers on the database at `url`,
// as text ("" when there is no row; "error: …" when it fails).
inline std::string query_value(const std::string& url, const std::string& sql) {
  std::string out;
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    sqlite3* db = nullptr;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      out = std::string("error: ") + (db != nullptr ? sqlite3_errmsg(db) : "cannot open");
    } else if (int rc = sqlite3_step(st); rc == SQLITE_ROW) {
      const unsigned char* v = sqlite3_column_text(st, 0);
      out = v != nullptr ? reinterpret_cast<const char*>(v) : "";
    } else if (rc != SQLITE_DONE) {
      out = std::string("error: ") + sqlite3_errmsg(db);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }
#ifdef PAIDOC_WITH_POSTGRES
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    out = std::string("error: ") + PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      out = std::string("error: ") + PQresultErrorMessage(r);
    } else if (PQntuples(r) > 0) {
      out = PQgetvalue(r, 0, 0);
    }
    PQclear(r);
  }
  PQfinish(c);
  return out;
#else
  return "error: no backend for " + url.substr(0, url.find(':'));
#endif
}

// Everything the database at `url` holds, as text to search: for SQLite
// every byte of the database file and of its journal and WAL beside it; for
// PostgreSQL the text form of every row of every table of the schema.
inline std::string database_contents(const std::string& url) {
  std::string all;
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    std::filesystem::path file(path);
    for (const auto& e : std::filesystem::directory_iterator(file.parent_path())) {
      if (e.path().filename().string().rfind(file.filename().string(), 0) != 0) continue;
      std::ifstream in(e.path(), std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }
#ifdef PAIDOC_WITH_POSTGRES
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) == CONNECTION_OK) {
    std::vector<std::string> tables;
    PGresult* r = PQexec(c,
                         "SELECT quote_ident(table_name) FROM information_schema.tables "
                         "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'");
    for (int i = 0; i < PQntuples(r); ++i) tables.emplace_back(PQgetvalue(r, i, 0));
    PQclear(r);
    for (const std::string& t : tables) {
      r = PQexec(c, ("SELECT t::text FROM " + t + " t").c_str());
      for (int i = 0; i < PQntuples(r); ++i) all += std::string(PQgetvalue(r, i, 0)) + "\n";
      PQclear(r);
    }
  }
  PQfinish(c);
#endif
  return all;
}

}  // namespace paidoc::testing_support

#define PAIDOC_ON_EVERY_BACKEND(Fixture)                                            \
  INSTANTIATE_TEST_SUITE_P(Backends, Fixture, ::paidoc::testing_support::every_backend(), \
                           ::paidoc::testing_support::BackendTestName())
