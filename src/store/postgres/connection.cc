#include "store/postgres/connection.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "store/health.h"

namespace paidoc::store::postgres {
namespace {
constexpr Oid kTextOid = 25;
}  // namespace

std::string like_contains(std::string_view part) {
  std::string out = "%";
  for (char ch : part) {
    if (ch == '%' || ch == '_' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '%';
  return out;
}

std::string dollar_params(std::string_view sql, std::vector<Oid>* types) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;  // inside '…' or "…"
  for (size_t i = 0; i < sql.size(); ++i) {
    char ch = sql[i];
    if (quote != 0) {
      if (ch == quote) quote = 0;  // a doubled quote reopens at once: same result
      out += ch;
      continue;
    }
    if (ch == '\'' || ch == '"') {
      quote = ch;
      out += ch;
      continue;
    }
    if (ch == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out += '$';
      size_t n = 0;
      for (size_t j = i + 1; j < sql.size() && sql[j] >= '0' && sql[j] <= '9'; ++j) {
        n = n * 10 + static_cast<size_t>(sql[j] - '0');
      }
      if (types != nullptr && n > 0) {
        // 0: the server infers the type; a number the SQL skips (a
        // statement sharing its binding code with another) is sent as text.
        if (types->size() < n) types->resize(n, kTextOid);
        (*types)[n - 1] = 0;
      }
      continue;
    }
    out += ch;
  }
  return out;
}

Status pg_status(const PGresult* res, PGconn* conn, std::string_view what) {
  std::string msg = "postgresql: ";
  msg += what;
  msg += ": ";
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* text = res != nullptr ? PQresultErrorMessage(res) : nullptr;
  if (text == nullptr || *text == '\0') text = conn != nullptr ? PQerrorMessage(conn) : "unknown";
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  msg += t;
  std::string s = state != nullptr ? state : "";
  if (conn != nullptr && PQstatus(conn) != CONNECTION_OK) return Status::unavailable(std::move(msg));
  if (s.empty()) return Status::unavailable(std::move(msg));  // no server answer
  if (s == "23505") return Status::conflict(std::move(msg));
  if (s == "23514" || s == "23502" || s == "22P02" || s == "22003" || s == "22021") {
    return Status::invalid(std::move(msg));
  }
  if (s == kSerializationFailure || s == kDeadlockDetected || s == "55P03" || s == "57014" ||
      s.starts_with("08") || s == "53300" || s == "57P01") {
    return Status::unavailable(std::move(msg));
  }
  // data_corrupted, index_corrupted: damaged pages (store/health.h).
  if (s == "XX001" || s == "XX002") {
    return Status::internal("postgresql: " + std::string(what) + ": " + std::string(kDamaged) + t);
  }
  return Status::internal(std::move(msg));
}

// --- Stmt -------------------------------------------------------------------

Stmt::~Stmt() {
  if (res_ != nullptr) PQclear(res_);
}

Stmt::Stmt(Stmt&& o) noexcept
    : c_(o.c_), name_(o.name_), sql_(o.sql_), params_(std::move(o.params_)), res_(o.res_),
      row_(o.row_), bad_param_(o.bad_param_) {
  o.res_ = nullptr;
}

Stmt& Stmt::bind(int i, int64_t v) {
  if (static_cast<size_t>(i) > params_.size()) params_.resize(i);
  params_[i - 1] = std::to_string(v);
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  if (static_cast<size_t>(i) > params_.size()) params_.resize(i);
  // PostgreSQL text cannot hold NUL, and libpq would cut the value there.
  if (v.find('\0') != std::string_view::npos && bad_param_ == 0) bad_param_ = i;
  params_[i - 1] = std::string(v);
  return *this;
}

Stmt& Stmt::bind(int i, std::optional<int64_t> v) { return v ? bind(i, *v) : bind_null(i); }

Stmt& Stmt::bind_null(int i) {
  if (static_cast<size_t>(i) > params_.size()) params_.resize(i);
  params_[i - 1].reset();
  return *this;
}

namespace {
std::string sql_head(const char* sql) {
  constexpr size_t kMax = 60;
  std::string s = sql;
  if (s.size() > kMax) s = s.substr(0, kMax) + "...";
  return "\"" + s + "\"";
}
}  // namespace

Status Stmt::run() {
  if (bad_param_ != 0) {
    return Status::invalid("postgresql: parameter " + std::to_string(bad_param_) + " of " +
                           sql_head(sql_) + " contains a NUL character");
  }
  std::vector<const char*> values(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    values[i] = params_[i] ? params_[i]->c_str() : nullptr;
  }
  res_ = PQexecPrepared(c_->handle(), name_->c_str(), static_cast<int>(values.size()),
                        values.data(), nullptr, nullptr, 0);
  ExecStatusType st = res_ != nullptr ? PQresultStatus(res_) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    c_->note_error(res_);
    Status s = pg_status(res_, c_->handle(), sql_head(sql_));
    if (res_ != nullptr) PQclear(res_);
    res_ = nullptr;
    return s;
  }
  c_->set_changes(changes());
  return Status();
}

Result<bool> Stmt::step() {
  if (res_ == nullptr) {
    if (Status s = run(); !s.is_ok()) return s;
  }
  ++row_;
  return row_ < PQntuples(res_);
}

Status Stmt::exec() {
  if (res_ == nullptr) return run();
  return Status();
}

int64_t Stmt::changes() const {
  if (res_ == nullptr) return 0;
  const char* n = PQcmdTuples(res_);
  return n != nullptr && *n != '\0' ? std::strtoll(n, nullptr, 10) : 0;
}

int64_t Stmt::int64(int col) const {
  const char* v = PQgetvalue(res_, row_, col);
  if (v == nullptr || *v == '\0') return 0;
  if (v[1] == '\0' && (v[0] == 't' || v[0] == 'f')) return v[0] == 't' ? 1 : 0;
  return std::strtoll(v, nullptr, 10);
}

double Stmt::real(int col) const {
  const char* v = PQgetvalue(res_, row_, col);
  return v != nullptr ? std::strtod(v, nullptr) : 0.0;
}

std::string Stmt::text(int col) const {
  if (PQgetisnull(res_, row_, col)) return {};
  return std::string(PQgetvalue(res_, row_, col), static_cast<size_t>(PQgetlength(res_, row_, col)));
}

bool Stmt::is_null(int col) const { return PQgetisnull(res_, row_, col) != 0; }

// --- Connection -------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::open(const std::string& conninfo,
                                                     int lock_timeout_ms) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return Status::unavailable("postgresql: out of memory connecting");
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names host and port, never the password.
    std::string msg = PQerrorMessage(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(conn);
    return Status::unavailable("postgresql: cannot connect: " + msg);
  }
  std::unique_ptr<Connection> c(new Connection(conn));
  // UTC and UTF-8 whatever the server's defaults; a lock waited for longer
  // than the timeout is kUnavailable, as SQLite's busy timeout; notices
  // (e.g. "relation already exists, skipping") are not printed.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  Status s = c->exec_script("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'; SET lock_timeout = " +
                                std::to_string(lock_timeout_ms) + ";",
                            "setting session options");
  if (!s.is_ok()) return s;
  return c;
}

Connection::~Connection() { PQfinish(conn_); }

Result<Stmt> Connection::stmt(const char* sql) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    std::vector<Oid> types;
    std::string text = dollar_params(sql, &types);
    PGresult* res = PQprepare(conn_, name.c_str(), text.c_str(), static_cast<int>(types.size()),
                              types.empty() ? nullptr : types.data());
    bool ok = res != nullptr && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) {
      note_error(res);
      Status s = pg_status(res, conn_, std::string("preparing ") + sql_head(sql));
      if (res != nullptr) PQclear(res);
      return s;
    }
    PQclear(res);
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  return Stmt(this, &it->second, sql);
}

Status Connection::exec_script(const std::string& sql, std::string_view what) {
  PGresult* res = PQexec(conn_, sql.c_str());
  ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  Status s;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
    note_error(res);
    s = pg_status(res, conn_, what);
  }
  if (res != nullptr) PQclear(res);
  return s;
}

Result<int64_t> Connection::last_insert_id() {
  static constexpr char kLastval[] = "SELECT lastval()";
  auto st = stmt(kLastval);
  if (!st.ok()) return st.status();
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::internal("postgresql: lastval() returned no row");
  return st->int64(0);
}

bool Connection::idle() const {
  return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

void Connection::note_error(const PGresult* res) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  last_state_ = state != nullptr ? state : "08000";
  const char* constraint = res != nullptr ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : nullptr;
  last_constraint_ = constraint != nullptr ? constraint : "";
}

// --- Txn --------------------------------------------------------------------

Txn::~Txn() {
  if (open_) (void)c_.exec_script("ROLLBACK", "rolling back");
}

Status Txn::begin(Kind kind) {
  const char* sql = kind == Kind::kWrite    ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                    : kind == Kind::kLocked ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                            : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  Status s = c_.exec_script(sql, "BEGIN");
  open_ = s.is_ok();
  return s;
}

Status Txn::commit() {
  Status s = c_.exec_script("COMMIT", "COMMIT");
  // A failed COMMIT ends the transaction on the server all the same.
  open_ = false;
  if (s.is_ok() && !c_.idle()) return Status::internal("postgresql: COMMIT left a transaction open");
  return s;
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
  bool ready = cv_.wait_for(lock, std::chrono::milliseconds(wait_ms_),
                            [this] { return !idle_.empty() || open_ < max_; });
  if (!ready) {
    return Status::unavailable("postgresql: all " + std::to_string(max_) +
                               " connections are busy");
  }
  if (!idle_.empty()) {
    std::unique_ptr<Connection> c = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(c));
  }
  ++open_;
  lock.unlock();
  auto c = Connection::open(conninfo_, lock_timeout_ms_);
  if (!c.ok()) {
    lock.lock();
    --open_;
    cv_.notify_one();
    return c.status();
  }
  return Lease(this, std::move(c).value());
}

void Pool::release(std::unique_ptr<Connection> c) {
  if (!c->broken() && !c->idle()) (void)c->exec_script("ROLLBACK", "rolling back a returned connection");
  // A connection that lost its server or is stuck in a transaction is
  // closed; the next caller opens a new one.
  if (c->broken() || !c->idle()) c.reset();
  if (c != nullptr) c->clear_error();
  std::lock_guard<std::mutex> lock(mu_);
  if (c != nullptr) {
    idle_.push_back(std::move(c));
  } else {
    --open_;
  }
  cv_.notify_one();
}

}  // namespace paidoc::store::postgres
