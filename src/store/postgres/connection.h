// libpq plumbing for the PostgreSQL backend: one connection with its
// prepared statements, a statement handle with the same shape as the SQLite
// backend's (bind by 1-based index, step through rows, read 0-based
// columns), a RAII transaction and a pool of connections. Internal to
// store/postgres/; nothing outside this folder includes it.
//
// Statements are written with numbered parameters ?1, ?2 … as in the SQLite
// backend; Connection::stmt() rewrites them to $1, $2 … (outside quoted
// text) and prepares the statement once per connection. Parameters are
// sent as text with no declared type, so the server infers each from its
// place in the statement (a cast, e.g. ?1::bigint, settles the rare case it
// cannot). Results arrive as text; int64() reads booleans ("t"/"f") as 1/0.
//
// Thread-safety: a Connection (and every Stmt and Txn made from it) is used
// by one thread at a time; the Pool hands each connection to one caller at
// a time and is itself safe from many threads.
#pragma once

#include <libpq-fe.h>

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

namespace paidoc::store::postgres {

// SQLSTATE classes the backend acts on.
inline constexpr char kSerializationFailure[] = "40001";
inline constexpr char kDeadlockDetected[] = "40P01";
inline constexpr char kUniqueViolation[] = "23505";
// The unique index allowing one paid order per reader and document
// (migration 4).
inline constexpr char kOnePurchaseIndex[] = "orders_one_purchase";

// A status for a failed result: unique violations are kConflict, check and
// not-null violations kInvalidArgument, a lost connection, a lock or
// statement timeout, a serialization failure or a deadlock kUnavailable,
// anything else kInternal. `what` names the operation.
Status pg_status(const PGresult* res, PGconn* conn, std::string_view what);

// A LIKE pattern (for "... LIKE ?n ESCAPE '\'") matching any text that
// contains `part`: its "%", "_" and backslashes are escaped.
std::string like_contains(std::string_view part);

// The SQL with ?N parameters rewritten to $N, outside quoted text.
// `types` (when given) gets one entry per parameter number up to the
// highest: 0 (inferred) for those the SQL uses, text for numbers it skips.
std::string dollar_params(std::string_view sql, std::vector<Oid>* types = nullptr);

class Connection;

// A prepared statement of a connection with its bound parameters; step()
// executes it on the first call and then walks the rows.
class Stmt {
 public:
  Stmt(Connection* c, const std::string* name, const char* sql) : c_(c), name_(name), sql_(sql) {}
  ~Stmt();
  Stmt(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;

  // 1-based parameter indexes, as ?N in the SQL.
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, std::optional<int64_t> v);  // nullopt binds NULL
  Stmt& bind_null(int i);

  // True when a row is available, false when done; an error as a Status.
  Result<bool> step();
  // Executes and ignores any rows (INSERT/UPDATE/DELETE …).
  Status exec();
  // Rows changed by the executed INSERT/UPDATE/DELETE.
  int64_t changes() const;

  // Column readers; REQUIRES: the last step() returned true. 0-based.
  int64_t int64(int col) const;
  double real(int col) const;
  std::string text(int col) const;
  bool is_null(int col) const;

 private:
  Status run();

  Connection* c_;
  const std::string* name_;
  const char* sql_;
  std::vector<std::optional<std::string>> params_;
  PGresult* res_ = nullptr;
  int row_ = -1;
  int bad_param_ = 0;  // a parameter that cannot be sent (text with NUL)
};

class Connection {
 public:
  // Connects with a libpq connection string or URI.
  static Result<std::unique_ptr<Connection>> open(const std::string& conninfo,
                                                  int lock_timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A prepared statement for `sql`, prepared on first use. REQUIRES: `sql`
  // has static storage duration (the cache is keyed by its address).
  Result<Stmt> stmt(const char* sql);

  // Runs one or more statements without parameters (migrations, BEGIN …).
  Status exec_script(const std::string& sql, std::string_view what);

  // True when no transaction is open and the connection is healthy.
  bool idle() const;
  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }

  // The SQLSTATE of the last failed statement since clear_error() ("" when
  // none): the write path retries a transaction that failed with a
  // serialization failure or a deadlock.
  const std::string& last_error_state() const { return last_state_; }
  // The constraint the last failed statement broke ("" when none or not a
  // constraint failure).
  const std::string& last_error_constraint() const { return last_constraint_; }
  void clear_error() {
    last_state_.clear();
    last_constraint_.clear();
  }
  void note_error(const PGresult* res);

  // Rows changed by the last INSERT/UPDATE/DELETE run through a Stmt.
  int64_t changes() const { return changes_; }
  void set_changes(int64_t n) { changes_ = n; }
  // The id the last INSERT on this connection gave its identity column
  // (lastval(): the store's tables have no triggers that insert).
  Result<int64_t> last_insert_id();

  PGconn* handle() { return conn_; }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
  std::unordered_map<const char*, std::string> prepared_;  // sql address -> name
  std::string last_state_;
  std::string last_constraint_;
  int64_t changes_ = 0;
};

// A transaction on one connection. begin() opens it, commit() ends it; a
// transaction not committed is rolled back by the destructor.
class Txn {
 public:
  enum class Kind {
    kRead,   // REPEATABLE READ, READ ONLY: one snapshot for several reads
    kWrite,  // SERIALIZABLE: as if every write ran alone; may fail with a
             // serialization failure, which the caller retries
    kLocked,  // READ COMMITTED: the write serialises itself with row locks
              // (SELECT … FOR UPDATE) on what it decides from; may fail
              // with a deadlock, which the caller retries
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

// A bounded set of connections to one database. Connections are opened
// lazily, up to max_connections; a caller beyond that waits up to wait_ms.
class Pool {
 public:
  Pool(std::string conninfo, int max_connections, int wait_ms, int lock_timeout_ms)
      : conninfo_(std::move(conninfo)),
        max_(max_connections),
        wait_ms_(wait_ms),
        lock_timeout_ms_(lock_timeout_ms) {}
  ~Pool();

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

  const std::string conninfo_;
  const int max_;
  const int wait_ms_;
  const int lock_timeout_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int open_ = 0;                                   // guarded by mu_
};

}  // namespace paidoc::store::postgres
