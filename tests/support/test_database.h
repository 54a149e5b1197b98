// Empty databases for tests, one per test, on either backend.
//
//   auto db = make_test_database("sqlite");      // a file in a temp dir
//   auto db = make_test_database("postgresql");  // a fresh database
//   Store::open(db->url());
//
// PostgreSQL databases are created on the server named by the environment
// variable PAIDOC_TEST_PG (a libpq URI of a database the test may CREATE
// DATABASE from, as scripts/with-postgres.sh exports), and dropped when the
// TestDatabase goes. Without PAIDOC_TEST_PG, or in a build without the
// PostgreSQL backend, make_test_database("postgresql") returns nullptr and
// postgres_skip_reason() says why: tests skip (make test always sets it).
#pragma once

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#ifdef PAIDOC_WITH_POSTGRES
#include <libpq-fe.h>
#endif

namespace paidoc::testing_support {

class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  virtual std::string url() const = 0;
};

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("paidoc-test-" + std::to_string(rd()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class SqliteTestDatabase : public TestDatabase {
 public:
  std::string url() const override { return "sqlite:" + (dir_.path() / "paidoc.db").string(); }

 private:
  TempDir dir_;
};

inline const char* postgres_admin_url() {
  const char* u = std::getenv("PAIDOC_TEST_PG");
  return u != nullptr && *u != '\0' ? u : nullptr;
}

inline std::string postgres_skip_reason() {
#ifndef PAIDOC_WITH_POSTGRES
  return "built without the PostgreSQL backend (PAIDOC_WITH_POSTGRES=OFF)";
#else
  return postgres_admin_url() == nullptr
             ? "PAIDOC_TEST_PG is not set (make test runs the tests under scripts/with-postgres.sh)"
             : "";
#endif
}

#ifdef PAIDOC_WITH_POSTGRES
// The admin URL with its database name replaced by `db`.
inline std::string with_database(const std::string& admin, const std::string& db) {
  std::string base = admin;
  size_t q = base.find('?');
  std::string query = q == std::string::npos ? "" : base.substr(q);
  if (q != std::string::npos) base.resize(q);
  size_t slash = base.rfind('/');
  if (slash != std::string::npos && slash > base.find("//") + 1) base.resize(slash);
  return base + "/" + db + query;
}

class PostgresTestDatabase : public TestDatabase {
 public:
  PostgresTestDatabase() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    name_ = "paidoc_test_" + std::to_string(rd()) + "_" + std::to_string(counter++);
    ok_ = admin("CREATE DATABASE " + name_);
  }
  ~PostgresTestDatabase() override { admin("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"); }
  std::string url() const override {
    return ok_ ? with_database(postgres_admin_url(), name_) : "postgresql://not-created/" + name_;
  }
  const std::string& name() const { return name_; }

 private:
  static bool admin(const std::string& sql) {
    PGconn* c = PQconnectdb(postgres_admin_url());
    bool ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
      PGresult* r = PQexec(c, sql.c_str());
      ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
    }
    PQfinish(c);
    return ok;
  }
  std::string name_;
  bool ok_ = false;
};
#endif

// nullptr when the backend cannot be tested here (postgres_skip_reason()).
inline std::unique_ptr<TestDatabase> make_test_database(const std::string& backend) {
  if (backend == "sqlite") return std::make_unique<SqliteTestDatabase>();
#ifdef PAIDOC_WITH_POSTGRES
  if (backend == "postgresql" && postgres_admin_url() != nullptr) {
    return std::make_unique<PostgresTestDatabase>();
  }
#endif
  return nullptr;
}

}  // namespace paidoc::testing_support
