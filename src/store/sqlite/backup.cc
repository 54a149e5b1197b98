// Online backup and restore of the SQLite database (store/backup.h).
//
// Backup: the source connection opens one read transaction before the
// first step and keeps it to the last, so every page comes from one
// snapshot. In WAL mode (every paidoc database) a reader never blocks the
// writer, so `paidoc serve` keeps committing while the copy runs, in steps
// of pages_per_step pages; without the held snapshot SQLite would restart
// the copy after each foreign commit and might never finish on a busy site.
//
// Restore: the backup is copied to a private file and checked there
// (integrity, schema version, ledger); only then is the database locked
// (locking_mode=EXCLUSIVE + BEGIN EXCLUSIVE fails while any other
// connection has a WAL database open) and overwritten through the backup
// API in one transaction, then checked again under the same lock.
#include "store/sqlite/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/health.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/orders.h"
#include "store/sqlite/sqlite_store.h"

namespace paidoc::store::sqlite {
namespace {

namespace fs = std::filesystem;

// --- SQL ----------------------------------------------------------------------
// Constants: the connection's statement cache is keyed by their address.

constexpr char kIntegrityCheck[] = "PRAGMA integrity_check(20)";
constexpr char kPageCount[] = "PRAGMA page_count";
constexpr char kPageSize[] = "PRAGMA page_size";
constexpr char kJournalDelete[] = "PRAGMA journal_mode = DELETE";
constexpr char kJournalWal[] = "PRAGMA journal_mode = WAL";
constexpr char kHasTable[] = "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1";
constexpr char kCountDocuments[] = "SELECT count(*) FROM documents";
constexpr char kCountUsers[] = "SELECT count(*) FROM users";
constexpr char kCountOrders[] = "SELECT count(*) FROM orders";
// Reading any page starts the read transaction that BEGIN only announces.
constexpr char kStartSnapshot[] = "SELECT count(*) FROM sqlite_schema";

// How long restore waits for another connection to let go of the database
// before calling it in use: long enough for a one-shot command to finish,
// short enough not to hang behind a running server.
constexpr int kRestoreLockWaitMs = 2000;

// --- helpers ------------------------------------------------------------------

Result<int64_t> scalar(Connection& c, const char* sql) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::internal(std::string("sqlite: no row from \"") + sql + "\"");
  return st->int64(0);
}

Result<bool> has_table(Connection& c, const char* name) {
  auto st = c.stmt(kHasTable);
  if (!st.ok()) return st.status();
  st->bind(1, std::string_view(name));
  auto row = st->step();
  if (!row.ok()) return row.status();
  return *row && st->int64(0) > 0;
}

// The schema version, 0 when the database has no schema_migrations table
// (empty, or not paidoc's).
Result<int> schema_version_of(Connection& c) {
  auto has = has_table(c, "schema_migrations");
  if (!has.ok()) return has.status();
  if (!*has) return 0;
  return current_schema_version(c);
}

Status set_journal_mode(Connection& c, const char* sql, const char* want) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  auto row = st->step();
  if (!row.ok()) return row.status();
  std::string mode = *row ? st->text(0) : "";
  if (mode != want) {
    return Status::internal("sqlite: cannot switch '" + c.path() + "' to " + want +
                            " journal mode (it stays in '" + mode + "')");
  }
  return Status();
}

// Counts of what the database holds (tables that do not exist count 0).
Status count_rows(Connection& c, CopyReport* r) {
  const struct {
    const char* table;
    const char* sql;
    int64_t* into;
  } counts[] = {{"documents", kCountDocuments, &r->documents},
                {"users", kCountUsers, &r->users},
                {"orders", kCountOrders, &r->orders}};
  for (const auto& k : counts) {
    auto has = has_table(c, k.table);
    if (!has.ok()) return has.status();
    *k.into = 0;
    if (!*has) continue;
    auto n = scalar(c, k.sql);
    if (!n.ok()) return n.status();
    *k.into = *n;
  }
  return Status();
}

// Reads back what a copy holds, in one snapshot: integrity, size, schema
// version, counts and (at this program's schema version) the ledger audit.
// Stops after a failed integrity check: a damaged file's other answers
// mean nothing.
Result<CopyReport> inspect(Connection& c) {
  CopyReport r;
  Txn txn(c);
  if (Status s = txn.begin(Txn::Kind::kRead); !s.is_ok()) return s;
  {
    auto st = c.stmt(kIntegrityCheck);
    if (!st.ok()) return st.status();
    std::vector<std::string> lines;
    while (true) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      lines.push_back(st->text(0));
    }
    r.integrity_ok = lines.size() == 1 && lines[0] == "ok";
    for (const auto& l : lines) r.integrity += (r.integrity.empty() ? "" : "; ") + l;
  }
  if (!r.integrity_ok) return r;
  auto pages = scalar(c, kPageCount);
  if (!pages.ok()) return pages.status();
  auto page_size = scalar(c, kPageSize);
  if (!page_size.ok()) return page_size.status();
  r.pages = *pages;
  r.page_size = *page_size;
  r.bytes = r.pages * r.page_size;
  auto version = schema_version_of(c);
  if (!version.ok()) return version.status();
  r.schema_version = *version;
  if (Status s = count_rows(c, &r); !s.is_ok()) return s;
  if (r.schema_version == latest_schema_version()) {
    auto audit = ledger_audit_in(c);
    if (!audit.ok()) return audit.status();
    r.ledger = std::move(*audit);
    r.ledger_checked = true;
  }
  if (Status s = txn.commit(); !s.is_ok()) return s;
  return r;
}

// Copies every page of `from` into `to` through the backup API, `step`
// pages at a time (<= 0: all at once), calling progress after each step.
// The destination is written in one transaction: a failure leaves it as
// it was.
Status copy_pages(sqlite3* from, sqlite3* to, int step, const CopyProgress& progress,
                  const std::string& what) {
  sqlite3_backup* b = sqlite3_backup_init(to, "main", from, "main");
  if (b == nullptr) return sqlite_status(to, sqlite3_errcode(to), what);
  int rc = SQLITE_OK;
  int waits = 0;
  while (true) {
    rc = sqlite3_backup_step(b, step > 0 ? step : -1);
    if (rc == SQLITE_OK || rc == SQLITE_DONE) {
      if (progress) {
        const int total = sqlite3_backup_pagecount(b);
        progress(total - sqlite3_backup_remaining(b), total);
      }
      if (rc == SQLITE_DONE) break;
      continue;
    }
    // A lock held for a moment (a checkpoint, WAL recovery): wait and
    // retry, up to about five seconds in all.
    if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && waits++ < 100) {
      sqlite3_sleep(50);
      continue;
    }
    break;
  }
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return sqlite_status(nullptr, rc, what);
  return Status();
}

// A temporary file beside `near` (mode 0600), removed with its journal
// files unless keep() was called.
class TempFile {
 public:
  static Result<std::unique_ptr<TempFile>> make(const std::string& near, const std::string& tag) {
    std::string tmpl = near + "." + tag + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = ::mkstemp(buf.data());
    if (fd < 0) {
      return Status::unavailable("cannot create a temporary file beside '" + near +
                                 "': " + std::strerror(errno));
    }
    ::close(fd);
    return std::unique_ptr<TempFile>(new TempFile(buf.data()));
  }
  ~TempFile() {
    if (!keep_) remove_database_files(path_);
  }
  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }

  // The database file and what SQLite may leave beside it.
  static void remove_database_files(const std::string& path) {
    std::error_code ec;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(path + suffix, ec);
  }

 private:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
  bool keep_ = false;
};

Status fsync_path(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return Status::unavailable("cannot open '" + path + "': " + std::strerror(errno));
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return Status::unavailable("cannot sync '" + path + "': " + std::strerror(e));
  return Status();
}

std::string folder_of(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  return dir.empty() ? "." : dir.string();
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

// A read-only handle on a file that may not be a database at all.
struct ReadOnlyDb {
  sqlite3* db = nullptr;
  ~ReadOnlyDb() { sqlite3_close_v2(db); }
};

}  // namespace

// --- backup -------------------------------------------------------------------

Result<CopyReport> backup_file(const std::string& db_path, const std::string& out,
                               const BackupOptions& options) {
  std::error_code ec;
  if (!fs::is_regular_file(db_path, ec)) {
    return Status::not_found("no database at '" + db_path + "'");
  }
  if (out.empty()) return Status::invalid("no backup file named");
  if (same_file(db_path, out)) {
    return Status::invalid("the backup file '" + out + "' is the database itself");
  }
  if (fs::exists(out, ec) && !options.force) {
    return Status::conflict("the backup file '" + out + "' already exists");
  }
  const std::string out_dir = folder_of(out);
  if (!fs::is_directory(out_dir, ec)) {
    return Status::unavailable("cannot write the backup: folder '" + out_dir + "' does not exist");
  }
  auto tmp = TempFile::make(out, "partial");
  if (!tmp.ok()) return tmp.status();

  {
    auto src = Connection::open(db_path, Options{}.busy_timeout_ms);
    if (!src.ok()) return src.status();
    auto dst = Connection::open((*tmp)->path(), Options{}.busy_timeout_ms);
    if (!dst.ok()) return dst.status();
    // One snapshot for the whole copy (see the top of this file).
    Txn snapshot(**src);
    if (Status s = snapshot.begin(Txn::Kind::kRead); !s.is_ok()) return s;
    if (auto n = scalar(**src, kStartSnapshot); !n.ok()) return n.status();
    if (Status s = copy_pages((*src)->handle(), (*dst)->handle(), options.pages_per_step,
                              options.progress, "copying '" + db_path + "'");
        !s.is_ok()) {
      return s;
    }
    if (Status s = snapshot.commit(); !s.is_ok()) return s;
  }

  // The copy carries the source's WAL flag; a backup is one file that
  // needs nothing beside it, so it goes back to a rollback journal.
  CopyReport report;
  {
    auto dst = Connection::open((*tmp)->path(), Options{}.busy_timeout_ms);
    if (!dst.ok()) return dst.status();
    if (Status s = set_journal_mode(**dst, kJournalDelete, "delete"); !s.is_ok()) return s;
    auto r = inspect(**dst);
    if (!r.ok()) return r.status();
    report = std::move(*r);
  }
  if (!report.integrity_ok) {
    return Status::internal("the copy of '" + db_path + "' fails PRAGMA integrity_check (" +
                            report.integrity +
                            "); the database itself may be damaged; no backup was written");
  }
  if (report.schema_version == 0) {
    return Status::invalid("'" + db_path + "' is not a paidoc database (no schema version)");
  }
  if (Status s = fsync_path((*tmp)->path(), false); !s.is_ok()) return s;
  if (::rename((*tmp)->path().c_str(), out.c_str()) != 0) {
    return Status::unavailable("cannot rename the backup to '" + out + "': " + std::strerror(errno));
  }
  (*tmp)->keep();
  if (Status s = fsync_path(out_dir, true); !s.is_ok()) return s;
  return report;
}

// --- restore ------------------------------------------------------------------

Result<CopyReport> restore_file(const std::string& db_path, const std::string& from,
                                const RestoreOptions& options, int64_t now) {
  std::error_code ec;
  if (!fs::is_regular_file(from, ec)) {
    return Status::not_found("no backup file at '" + from + "'");
  }
  if (same_file(db_path, from)) {
    return Status::invalid("the backup file '" + from + "' is the database itself");
  }
  const std::string db_dir = folder_of(db_path);
  if (!fs::is_directory(db_dir, ec)) {
    return Status::unavailable("cannot restore: folder '" + db_dir + "' does not exist");
  }

  // 1. The backup, checked on a private copy: the database is not touched
  // until the backup is known good.
  auto tmp = TempFile::make(db_path, "restore");
  if (!tmp.ok()) return tmp.status();
  CopyReport checked;
  {
    auto copy = Connection::open((*tmp)->path(), Options{}.busy_timeout_ms);
    if (!copy.ok()) return copy.status();
    {
      ReadOnlyDb src;
      int rc = sqlite3_open_v2(from.c_str(), &src.db, SQLITE_OPEN_READONLY, nullptr);
      if (rc != SQLITE_OK) {
        return Status::invalid("cannot open the backup '" + from + "': " + sqlite3_errstr(rc));
      }
      Status s = copy_pages(src.db, (*copy)->handle(), -1, nullptr, "reading the backup");
      if (!s.is_ok()) {
        return Status::invalid("'" + from + "' is not a usable backup: " + s.message());
      }
    }
    if (Status s = set_journal_mode(**copy, kJournalDelete, "delete"); !s.is_ok()) return s;
    auto first = inspect(**copy);
    if (!first.ok()) {
      return Status::invalid("'" + from + "' is not a usable backup: " + first.status().message());
    }
    if (!first->integrity_ok) {
      return Status::invalid("the backup '" + from + "' fails PRAGMA integrity_check (" +
                             first->integrity + ")");
    }
    if (first->schema_version == 0) {
      return Status::invalid("'" + from + "' is not a paidoc backup (no schema version)");
    }
    if (first->schema_version > latest_schema_version()) {
      return Status::invalid("the backup '" + from + "' has schema version " +
                             std::to_string(first->schema_version) +
                             ", newer than this paidoc knows (" +
                             std::to_string(latest_schema_version()) +
                             "); restore it with a newer paidoc");
    }
    int migrated_from = 0;
    if (first->schema_version < latest_schema_version()) {
      migrated_from = first->schema_version;
      auto v = migrate(**copy, now);
      if (!v.ok()) return v.status();
      auto again = inspect(**copy);
      if (!again.ok()) return again.status();
      *first = std::move(*again);
    }
    checked = std::move(*first);
    checked.migrated_from = migrated_from;
  }
  if (!checked.ledger_checked || !checked.ledger.problems.empty()) {
    return Status::invalid("the ledger of the backup '" + from + "' does not verify (" +
                           std::to_string(checked.ledger.problems.size()) +
                           " problem(s)); nothing was restored");
  }

  // 2. The database, locked against every other connection.
  const bool existed = fs::exists(db_path, ec);
  struct RemoveIfCreated {
    std::string path;
    bool armed;
    ~RemoveIfCreated() {
      if (armed) TempFile::remove_database_files(path);
    }
  } cleanup{db_path, !existed};

  CopyReport restored;
  {
    auto target = Connection::open(db_path, kRestoreLockWaitMs);
    if (!target.ok()) return target.status();
    Connection& t = **target;
    if (Status s = t.exec_script("PRAGMA locking_mode = EXCLUSIVE", "locking '" + db_path + "'");
        !s.is_ok()) {
      return s;
    }
    if (Status s = t.exec_script("BEGIN EXCLUSIVE", "locking '" + db_path + "'"); !s.is_ok()) {
      if (s.code() == Code::kUnavailable) {
        return Status::failed_precondition(
            "the database '" + db_path +
            "' is in use by another process (is `paidoc serve` running?); stop it and restore "
            "again");
      }
      return s;
    }
    CopyReport held;
    // A damaged database may not even count its rows: it is what a restore
    // is for, so under --force it is replaced all the same.
    Status counted = count_rows(t, &held);
    if (!counted.is_ok() && !is_damage(counted)) return counted;
    // The lock stays after COMMIT in exclusive locking mode.
    if (Status s = t.exec_script("COMMIT", "locking '" + db_path + "'"); !s.is_ok()) return s;
    if (!options.force && !counted.is_ok()) {
      return Status::conflict("the database '" + db_path + "' is damaged (" + counted.message() +
                              ")");
    }
    if (!options.force && held.documents + held.users + held.orders > 0) {
      return Status::conflict("the database '" + db_path + "' is not empty (" +
                              std::to_string(held.documents) + " documents, " +
                              std::to_string(held.users) + " users, " +
                              std::to_string(held.orders) + " orders)");
    }
    cleanup.armed = false;  // from here on a failure leaves the old content

    // 3. Replace. A rollback journal lets the copy change the page size
    // and makes it one transaction; WAL comes back afterwards.
    if (Status s = set_journal_mode(t, kJournalDelete, "delete"); !s.is_ok()) return s;
    {
      auto copy = Connection::open((*tmp)->path(), Options{}.busy_timeout_ms);
      if (!copy.ok()) return copy.status();
      if (Status s = copy_pages((*copy)->handle(), t.handle(), 1024, options.progress,
                                "restoring into '" + db_path + "'");
          !s.is_ok()) {
        return s;
      }
    }
    if (Status s = set_journal_mode(t, kJournalWal, "wal"); !s.is_ok()) return s;

    // 4. What the database holds now, read under the same lock.
    auto r = inspect(t);
    if (!r.ok()) return r.status();
    restored = std::move(*r);
  }
  restored.migrated_from = checked.migrated_from;
  if (!restored.integrity_ok) {
    return Status::internal("the restored database '" + db_path +
                            "' fails PRAGMA integrity_check (" + restored.integrity + ")");
  }
  return restored;
}

}  // namespace paidoc::store::sqlite
