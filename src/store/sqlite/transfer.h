// The SQLite half of store/transfer.h: exporting every stored table of a
// database, and reading a database's schema version without migrating it.
// Internal to store/sqlite/.
//
// Thread-safety: as Connection: one thread at a time per connection.
#pragma once

#include <string>

#include "common/status.h"
#include "store/sqlite/connection.h"
#include "store/transfer.h"

namespace paidoc::store::sqlite {

// Sends every table of the export list to `sink`, in dependency order.
// REQUIRES: a read transaction on c (one snapshot). kInternal when the
// database holds a table that is neither exported nor derived (a table
// added without teaching the export about it).
Status export_site_in(Connection& c, RowSink& sink);

// The schema version of the database at `path`, opened read-only (nothing
// is created or changed). kNotFound when there is no file, kInvalidArgument
// when it is not a SQLite database or has no schema_migrations table.
Result<StoredVersion> stored_schema_version(const std::string& path);

}  // namespace paidoc::store::sqlite
