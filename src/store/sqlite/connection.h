// SQLite plumbing for the SQLite backend: one connection with its cache of
// prepared statements, a RAII statement handle, a RAII transaction and a
// pool of connections. Internal to store/sqlite/; nothing outside this folder
// includes it.
//
// Thread-safety: a Connection (and every Stmt and Txn made from it) is used
// by one thread at a time; the Pool hands each connection to one caller at a
// time and is itself safe from many threads. Connections are opened with
// SQLITE_OPEN_NOMUTEX for that reason: the pool, not SQLite, serialises use.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace paidoc::store::sqlite {

// Turns a SQLite result code into a Status carrying SQLite's message.
// BUSY, LOCKED and CANTOPEN are kUnavailable (another writer or the file
// system is in the way; retrying may help); CHECK and NOT NULL constraint
// failures are kInvalidArgument (the input broke a rule of the schema);
// UNIQUE and PRIMARY KEY failures are kConflict (the value is taken);
// anything else is kInternal. `what` names the operation for the message.
// `db` may be null (then only the generic text for `rc` is used).
Status sqlite_status(sqlite3* db, int rc, std::string_view what);

// A LIKE pattern (for "... LIKE ?n ESCAPE '\'") matching any text that
// contains `part`: its "%", "_" and backslashes are escaped, so they match
// only themselves.
std::string like_contains(std::string_view part);

// A borrowed prepared statement from a connection's cache. Binds parameters,
// steps, reads columns; on destruction it resets the statement and clears its
// bindings so the cache can hand it out again. Text is bound with
// SQLITE_TRANSIENT (copied), so arguments need not outlive the call.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Stmt();
  Stmt(Stmt&& o) noexcept
      : db_(o.db_), stmt_(o.stmt_), bind_rc_(o.bind_rc_), bind_index_(o.bind_index_) {
    o.stmt_ = nullptr;
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;

  // Parameter indexes are 1-based, as in SQLite. A failed bind is remembered
  // and reported by the next step().
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, std::optional<int64_t> v);  // nullopt binds NULL
  Stmt& bind_null(int i);
  // sqlite3_bind_pointer: p must outlive the statement's use (until reset).
  Stmt& bind_pointer(int i, void* p, const char* type);

  // Returns true when a row is available, false when done; a SQLite error
  // (or an earlier failed bind) as a Status.
  Result<bool> step();
  // Steps once and expects no row (INSERT/UPDATE/BEGIN...).
  Status exec();

  // Column readers; REQUIRES: the last step() returned true. Columns are
  // 0-based, as in SQLite.
  int64_t int64(int col) const;
  double real(int col) const;
  std::string text(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = SQLITE_OK;
  int bind_index_ = 0;
};

// One open database handle and its prepared statements.
class Connection {
 public:
  // Opens `path` (created if missing), turns on the per-connection pragmas
  // (foreign_keys, synchronous=FULL, busy timeout) and returns it.
  static Result<std::unique_ptr<Connection>> open(const std::string& path, int busy_timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A cached prepared statement for `sql`, prepared on first use.
  // REQUIRES: `sql` has static storage duration (a constant): the cache is
  // keyed by its address. REQUIRES: no other Stmt for the same sql is alive
  // on this connection.
  Result<Stmt> stmt(const char* sql);

  // Runs one or more statements without caching them (migrations, pragmas).
  Status exec_script(const std::string& sql, std::string_view what);

  // True when no transaction is open.
  bool autocommit() const { return sqlite3_get_autocommit(db_) != 0; }

  sqlite3* handle() { return db_; }
  const std::string& path() const { return path_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// A transaction on one connection. begin() opens it, commit() ends it; if
// commit() was not reached (an early return on error), the destructor rolls
// back, so a failed write leaves nothing behind.
class Txn {
 public:
  enum class Kind {
    kRead,   // BEGIN (deferred): one consistent snapshot for several reads
    kWrite,  // BEGIN IMMEDIATE: takes the write lock up front, so the
             // transaction never fails half-way on a lock upgrade
  };
  explicit Txn(Connection& c) : c_(c) {}
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  Status begin(Kind kind);
  Status commit();

 private:
  Connection& c_;
  bool open_ = false;
};

// A bounded set of connections to one database file. Connections are opened
// lazily, up to max_connections; a caller beyond that waits for one to come
// back (at most wait_ms, then kUnavailable).
class Pool {
 public:
  // REQUIRES: every Lease is destroyed before the Pool.
  Pool(std::string path, int max_connections, int busy_timeout_ms)
      : path_(std::move(path)), max_(max_connections), busy_timeout_ms_(busy_timeout_ms) {}
  ~Pool();

  // A connection lent to one caller; returned to the pool on destruction.
  // A connection left inside a transaction is rolled back first, and closed
  // if even that fails.
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() { return *c_; }
    Connection* operator->() { return c_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> c_;
  };

  Result<Lease> acquire();

 private:
  void release(std::unique_ptr<Connection> c);

  const std::string path_;
  const int max_;
  const int busy_timeout_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int open_ = 0;                                   // guarded by mu_
};

}  // namespace paidoc::store::sqlite
