// The SQLite side of store/health.h: PRAGMA quick_check / integrity_check
// and the cheap probe. Internal to the store.
#pragma once

#include <string>

#include "common/status.h"
#include "store/health.h"
#include "store/sqlite/connection.h"

namespace paidoc::store::sqlite {

// PRAGMA quick_check (kQuick) or integrity_check (kFull) on `c`, at most
// 100 problems. A check that stops on damage (the schema itself cannot be
// read) reports that as its problem.
Result<IntegrityReport> check_integrity_in(Connection& c, IntegrityDepth depth);

// HealthStore::probe's reads on `c`: the first and last id of each main
// table.
Status probe_in(Connection& c);

// store::check_database for the file at `path`: opened on a connection of
// its own (no migration, no write), checked, closed. kNotFound when there
// is no such file.
Result<IntegrityReport> check_file(const std::string& path, IntegrityDepth depth);

}  // namespace paidoc::store::sqlite
