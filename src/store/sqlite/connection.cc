#include "store/sqlite/connection.h"

#include "store/sqlite/fts.h"
#include "store/health.h"

#include <chrono>
#include <string>

namespace paidoc::store::sqlite {

std::string like_contains(std::string_view part) {
  std::string out = "%";
  for (char ch : part) {
    if (ch == '%' || ch == '_' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '%';
  return out;
}

Status sqlite_status(sqlite3* db, int rc, std::string_view what) {
  std::string msg = "sqlite: ";
  msg += what;
  msg += ": ";
  // CORRUPT ("database disk image is malformed") and NOTADB: the file is
  // damaged (store/health.h).
  if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) msg += kDamaged;
  // sqlite3_errmsg describes the most recent failure on the connection,
  // which is `rc` as long as nothing ran in between (callers ensure that).
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
      return Status::unavailable(std::move(msg));
    default:
      break;
  }
  if (rc == SQLITE_CONSTRAINT_CHECK || rc == SQLITE_CONSTRAINT_NOTNULL) {
    return Status::invalid(std::move(msg));
  }
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Status::conflict(std::move(msg));
  }
  return Status::internal(std::move(msg));
}

// --- Stmt -------------------------------------------------------------------

Stmt::~Stmt() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

namespace {
// The start of a statement's SQL, enough to tell which one failed without
// quoting a long INSERT whole.
std::string sql_head(sqlite3_stmt* stmt) {
  constexpr size_t kMax = 40;
  std::string sql = sqlite3_sql(stmt);
  if (sql.size() > kMax) sql = sql.substr(0, kMax) + "...";
  return "\"" + sql + "\"";
}

void note_bind(int rc, int i, int* bind_rc, int* bind_index) {
  if (rc != SQLITE_OK && *bind_rc == SQLITE_OK) {
    *bind_rc = rc;
    *bind_index = i;
  }
}
}  // namespace

Stmt& Stmt::bind(int i, int64_t v) {
  note_bind(sqlite3_bind_int64(stmt_, i, v), i, &bind_rc_, &bind_index_);
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  // A non-null pointer even for empty text: a null pointer would bind NULL.
  note_bind(sqlite3_bind_text64(stmt_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT,
                                SQLITE_UTF8),
            i, &bind_rc_, &bind_index_);
  return *this;
}

Stmt& Stmt::bind(int i, std::optional<int64_t> v) { return v ? bind(i, *v) : bind_null(i); }

Stmt& Stmt::bind_null(int i) {
  note_bind(sqlite3_bind_null(stmt_, i), i, &bind_rc_, &bind_index_);
  return *this;
}

Result<bool> Stmt::step() {
  if (bind_rc_ != SQLITE_OK) {
    return sqlite_status(
        nullptr, bind_rc_,
        "binding parameter " + std::to_string(bind_index_) + " of " + sql_head(stmt_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_status(db_, rc, sql_head(stmt_));
}

Status Stmt::exec() {
  auto r = step();
  if (!r.ok()) return r.status();
  return Status();
}

Stmt& Stmt::bind_pointer(int i, void* p, const char* type) {
  int rc = sqlite3_bind_pointer(stmt_, i, p, type, nullptr);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
    bind_index_ = i;
  }
  return *this;
}

double Stmt::real(int col) const { return sqlite3_column_double(stmt_, col); }

int64_t Stmt::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

bool Stmt::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

// --- Connection -------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path, int busy_timeout_ms) {
  sqlite3* db = nullptr;
  // NOMUTEX: the pool guarantees one thread per connection at a time.
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = sqlite_status(db, rc, "cannot open database '" + path + "'");
    sqlite3_close_v2(db);  // a handle is returned even on failure
    return s;
  }
  std::unique_ptr<Connection> c(new Connection(db, path));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  // foreign_keys: SQLite leaves them off unless asked, per connection.
  // synchronous=FULL: in WAL mode NORMAL may lose the last commits on a power
  // failure (they stay durable only up to the last checkpoint); the store
  // will hold orders and ledger rows, which must never be lost once
  // acknowledged, so every commit is synced.
  // mmap_size: reads map the file instead of copying pages into each
  // connection's small private cache; a search touches many index pages,
  // and every pooled connection then shares the OS page cache.
  Status s = c->exec_script(
      "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA mmap_size = 4294967296;",
      "setting pragmas on '" + path + "'");
  if (!s.is_ok() && (sqlite3_errcode(db) & 0xff) == SQLITE_NOTADB) {
    // The first read of the file found no SQLite header: a wrong path, or
    // a file overwritten or encrypted by something else.
    return Status(s.code(), "'" + path + "' is not a SQLite database (" + sqlite3_errmsg(db) +
                                "): check --data / --db; if this was the site's database, "
                                "restore it from a backup (paidoc restore --from FILE)");
  }
  if (!s.is_ok()) return s;
  // The search index's tokenizer must exist on every connection that
  // writes documents or searches (the FTS table names it).
  if (Status fts = register_fts(db); !fts.is_ok()) return fts;
  return c;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Result<Stmt> Connection::stmt(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Stmt(db_, it->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_status(db_, rc, std::string("preparing \"") + sql + "\" on '" + path_ + "'");
  }
  cache_.emplace(sql, stmt);
  return Stmt(db_, stmt);
}

Status Connection::exec_script(const std::string& sql, std::string_view what) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);  // the same text is still available from sqlite3_errmsg
  if (rc != SQLITE_OK) return sqlite_status(db_, rc, what);
  return Status();
}

// --- Txn --------------------------------------------------------------------

namespace {
constexpr char kBegin[] = "BEGIN";
constexpr char kBeginImmediate[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";

Status run_cached(Connection& c, const char* sql) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  return st->exec();
}
}  // namespace

Txn::~Txn() {
  // Rolling back can fail only when SQLite already rolled back by itself
  // (some I/O errors do); the pool checks autocommit before reusing the
  // connection, so the result needs no handling here.
  if (open_ && !c_.autocommit()) (void)run_cached(c_, kRollback);
}

Status Txn::begin(Kind kind) {
  Status s = run_cached(c_, kind == Kind::kWrite ? kBeginImmediate : kBegin);
  open_ = s.is_ok();
  return s;
}

Status Txn::commit() {
  Status s = run_cached(c_, kCommit);
  if (s.is_ok()) open_ = false;
  return s;  // on failure the destructor rolls back
}

// --- Pool -------------------------------------------------------------------

Pool::~Pool() {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.clear();
}

Pool::Lease::~Lease() {
  if (c_ != nullptr) pool_->release(std::move(c_));
}

Result<Pool::Lease> Pool::acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  // Waiting as long as SQLite would wait for a lock keeps the two limits
  // consistent: a caller is told kUnavailable after about the same time
  // whether the pool or the database file was the bottleneck.
  bool ready = cv_.wait_for(lock, std::chrono::milliseconds(busy_timeout_ms_),
                            [this] { return !idle_.empty() || open_ < max_; });
  if (!ready) {
    return Status::unavailable("sqlite: all " + std::to_string(max_) + " connections to '" + path_ +
                               "' are busy");
  }
  if (!idle_.empty()) {
    std::unique_ptr<Connection> c = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(c));
  }
  ++open_;
  lock.unlock();
  auto c = Connection::open(path_, busy_timeout_ms_);
  if (!c.ok()) {
    lock.lock();
    --open_;
    cv_.notify_one();
    return c.status();
  }
  return Lease(this, std::move(c).value());
}

void Pool::release(std::unique_ptr<Connection> c) {
  if (!c->autocommit()) {
    // A transaction left open (a bug or a failed rollback): try once more,
    // and drop the connection if it is still stuck rather than hand a
    // half-done transaction to the next caller.
    (void)c->exec_script("ROLLBACK", "rolling back a returned connection");
    if (!c->autocommit()) c.reset();
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (c != nullptr) {
    idle_.push_back(std::move(c));
  } else {
    --open_;
  }
  cv_.notify_one();
}

}  // namespace paidoc::store::sqlite
