// Schema migrations of the SQLite backend.
//
// The schema is a numbered list of SQL scripts (migrations.cc); version N is
// the state after scripts 1..N. migrate() brings a database up to the latest
// version inside one write transaction and records each applied version in
// schema_migrations(version, applied_at). Scripts are append-only: a released
// script is never edited, a change is a new script.
//
// Thread-safety: migrate() takes the database write lock (BEGIN IMMEDIATE),
// so several processes opening the same file at once apply each script once.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "store/sqlite/connection.h"

namespace paidoc::store::sqlite {

// The version a freshly migrated database has.
int latest_schema_version();

// Applies the missing migrations on `c` and returns the resulting version.
// Each applied version is recorded with applied_at = now (the caller's
// clock: the store reads none).
// A database whose version is newer than this program knows is refused
// (kInternal) rather than used with a schema the code does not understand.
Result<int> migrate(Connection& c, int64_t now);

// Applies the missing migrations up to target_version only (tests build
// databases at an older version with it, to check the upgrade path). A
// database already past target_version is left as it is; its version is
// returned. kInvalidArgument for a version this program does not have.
Result<int> migrate_to(Connection& c, int target_version, int64_t now);

// The highest applied version, 0 for an empty database.
Result<int> current_schema_version(Connection& c);

}  // namespace paidoc::store::sqlite
