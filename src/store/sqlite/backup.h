// The SQLite side of store/backup.h: online copies through SQLite's backup
// API (sqlite3_backup_init/step/finish) and restores into a locked
// database. Internal to the store; the rest of the program calls
// store::backup_sqlite / store::restore_sqlite.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "store/backup.h"

namespace paidoc::store::sqlite {

// store::backup_sqlite for the database file `db_path`.
Result<CopyReport> backup_file(const std::string& db_path, const std::string& out,
                               const BackupOptions& options);

// store::restore_sqlite for the database file `db_path`; migrations of an
// older backup are stamped with `now`.
Result<CopyReport> restore_file(const std::string& db_path, const std::string& from,
                                const RestoreOptions& options, int64_t now);

}  // namespace paidoc::store::sqlite
