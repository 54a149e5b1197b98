// Schema migrations of the PostgreSQL backend: its own numbered scripts
// (migrations.cc), independent of the SQLite backend's numbers. Version N is
// the state after scripts 1..N; applied versions are recorded in
// schema_migrations(version, applied_at). Append-only once released.
//
// Thread-safety: migrate() holds a transaction-level advisory lock while it
// applies scripts, so several nodes starting at once apply each script once.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "store/postgres/connection.h"

namespace paidoc::store::postgres {

int latest_schema_version();

// Applies the missing migrations and returns the resulting version. A
// database newer than this program knows is refused (kInternal).
Result<int> migrate(Connection& c, int64_t now);

// The highest applied version, 0 for an empty database.
Result<int> current_schema_version(Connection& c);

}  // namespace paidoc::store::postgres
