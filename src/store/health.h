// HealthStore: whether the database can still be read, cheaply (for
// /healthz, polled by load balancers) and thoroughly (for `paidoc serve` at
// start, `paidoc check-db` and `paidoc ledger verify`).
//
// A damaged database answers kInternal with kDamaged in the message
// (is_damage()) from whichever query reads a damaged page: SQLite's
// "database disk image is malformed" (SQLITE_CORRUPT, SQLITE_NOTADB),
// PostgreSQL's data_corrupted / index_corrupted (XX001, XX002). Damage is
// found by the checks here, not by waiting for a reader to hit it.
//
// Every Store that Store::open returns is also a HealthStore (as it is a
// SiteExport or a SiteImport): callers find it by dynamic_cast.
//
// Thread-safety: every method is safe from many threads, like the rest of
// the store.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace paidoc::store {

// In the message of every error that is damaged data ("sqlite: list:
// database damaged: database disk image is malformed"). Retrying does not
// help; restoring a backup does.
inline constexpr std::string_view kDamaged = "database damaged: ";

// True when `s` reports damaged data.
inline bool is_damage(const Status& s) {
  return !s.is_ok() && s.message().find(kDamaged) != std::string::npos;
}

enum class IntegrityDepth {
  // SQLite: PRAGMA quick_check — every page of every table and index is
  // read and its b-tree structure checked (not index contents against
  // their tables). Linear in the size of the file. PostgreSQL (which has
  // no quick_check): the reads of HealthStore::probe.
  kQuick,
  // SQLite: PRAGMA integrity_check — quick_check plus every index checked
  // against its table, UNIQUE and NOT NULL constraints. PostgreSQL: every
  // row of every table of ours read whole (out-of-line values too), table
  // by table. The amcheck extension is not assumed, so index pages are
  // checked only as far as the scans use them; damage that PostgreSQL
  // reports with data checksums on (initdb -k) is found.
  kFull,
};

// What a check found.
struct IntegrityReport {
  // True when no problem was found.
  bool ok = false;
  // One line per problem, as the database words it (at most 100).
  std::vector<std::string> problems;
  // What was checked, one line ("PRAGMA quick_check", …).
  std::string checked;
};

class HealthStore {
 public:
  virtual ~HealthStore() = default;

  // Cheap (a few page reads, for every /healthz): OK when the database
  // answers and a read reaches the first and the last row of each main
  // table (documents, users, orders, ledger entries, wallets, sessions).
  // A damage error (is_damage) once any query of this store has met
  // damaged data (kept until the store is opened again: damage does not
  // heal by itself), or when the reads here meet it; kUnavailable when the database cannot be
  // reached or is busy. It does not read every page: damage elsewhere is
  // found by check_integrity or by the first query that reads it.
  virtual Status probe() = 0;

  // Checks the whole database to `depth`. Damage is an answer, not an error
  // (ok false, the problems listed); an error means the check could not
  // run (kUnavailable: busy, unreachable).
  virtual Result<IntegrityReport> check_integrity(IntegrityDepth depth) = 0;
};

// Checks the database at `url` (as Store::open takes it) WITHOUT opening it
// as a store: no migration, no re-index and no write runs first, so a
// damaged SQLite file is reported rather than half-read by the open. A
// SQLite file that does not exist is kNotFound (nothing is created).
// PostgreSQL databases are opened as a store (migrations under their lock)
// and asked check_integrity.
Result<IntegrityReport> check_database(const std::string& url, IntegrityDepth depth);

}  // namespace paidoc::store
