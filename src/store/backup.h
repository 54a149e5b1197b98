// Backup and restore of a SQLite site: a consistent copy of the live
// database in one file, and putting such a copy back. The CLI's `paidoc
// backup` and `paidoc restore` call these; the SQL and SQLite calls behind
// them live in store/sqlite/backup.{h,cc}.
//
// Both take the site's store URL ("sqlite:PATH", as Store::open does). A
// PostgreSQL URL is refused with kInvalidArgument: PostgreSQL sites are
// backed up with pg_dump (docs/deploy.md). Messages name the scheme only,
// never the URL (it may carry a password).
//
// Thread-safety: each call opens its own connections; calls may run while
// other processes (or a Store in this process) read and write the database.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "store/commerce.h"

namespace paidoc::store {

// Called after each step of a copy with the pages copied so far and the
// pages in the database; from the calling thread.
using CopyProgress = std::function<void(int64_t copied_pages, int64_t total_pages)>;

// What a copy holds, as read back from the copy after it was made.
struct CopyReport {
  int64_t pages = 0;
  int64_t page_size = 0;
  int64_t bytes = 0;          // pages * page_size
  int schema_version = 0;     // of the copy
  int migrated_from = 0;      // restore: the backup's version when it was older (then
                              // migrated to schema_version), else 0
  int64_t documents = 0;
  int64_t users = 0;
  int64_t orders = 0;
  bool integrity_ok = false;  // PRAGMA integrity_check answered "ok"
  std::string integrity;      // its answer otherwise (first lines)
  // The ledger audit of the copy (the check `paidoc ledger verify` runs).
  // Only run when the copy has this program's schema version: an older
  // copy's tables may lack what the audit reads. ledger.problems empty and
  // ledger_checked: the money balances.
  bool ledger_checked = false;
  LedgerAudit ledger;
};

struct BackupOptions {
  // Replace `out` when it exists (otherwise kConflict).
  bool force = false;
  // Pages copied per step; the copy reads one snapshot throughout, so a
  // small step only makes the progress finer.
  int pages_per_step = 1024;
  CopyProgress progress;  // may be empty
};

// Copies the database of `url` into the file `out`, online: the site may
// keep serving and writing. The copy is one consistent snapshot (the
// database as of the moment the copy started; writes committed later are
// not in it). It is written to a temporary file beside `out` (mode 0600:
// it holds password hashes) and renamed to `out` only after
// PRAGMA integrity_check passed on it, so a failed backup leaves no file
// behind. The copy is a single self-contained file (rollback journal mode,
// no -wal beside it). A ledger audit that finds problems does not fail the
// backup (the copy is faithful; the report says what is wrong).
// kConflict when `out` exists and !force; kInvalidArgument when `out` is
// the database itself or the URL is not sqlite:; kNotFound when the
// database file does not exist; kInternal when the copy fails its
// integrity check; kUnavailable for I/O errors.
Result<CopyReport> backup_sqlite(const std::string& url, const std::string& out,
                                 const BackupOptions& options);

struct RestoreOptions {
  // Replace a database that holds documents, users or orders (otherwise
  // kConflict naming what it holds).
  bool force = false;
  CopyProgress progress;  // may be empty
};

// Restores the backup file `from` into the database of `url` (created when
// missing; its folder must exist). The backup is checked first, on a
// temporary copy beside the database: it must be a SQLite file
// (kInvalidArgument otherwise), pass PRAGMA integrity_check
// (kInvalidArgument), be a paidoc database with a schema version not newer
// than this program's (kInvalidArgument; an older one is migrated, each
// migration stamped with clock.now()) and pass the ledger audit
// (kInvalidArgument listing the count of problems). Only then is the
// database touched: it is locked exclusively (kFailedPrecondition "in use"
// when a running `paidoc serve` or any other process has it open, after
// waiting two seconds for it to let go), refused when
// it holds data and !force (kConflict), and replaced in one transaction
// through SQLite's backup API, so its -wal and -shm stay consistent and a
// failure leaves it as it was. The restored database is then checked again
// (integrity, ledger) under the same lock and the report describes it.
// REQUIRES: clock outlives the call.
Result<CopyReport> restore_sqlite(const std::string& url, const std::string& from,
                                  const RestoreOptions& options, const Clock& clock = Clock::system());

}  // namespace paidoc::store
