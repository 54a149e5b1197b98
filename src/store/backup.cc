// store::backup_sqlite / store::restore_sqlite: pick the database file from
// the store URL and hand it to the SQLite backend.

#include "store/backup.h"

#include <string>
#include <string_view>

#include "store/sqlite/backup.h"

namespace paidoc::store {

namespace {

// The database file of a "sqlite:PATH" URL (as Store::open reads it), or
// why there is none. The URL may carry a password: messages name the
// scheme only.
Result<std::string> sqlite_path(const std::string& url) {
  std::string_view u = url;
  if (u.starts_with("sqlite:")) {
    std::string_view path = u.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);
    if (path.empty()) return Status::invalid("store URL sqlite: names no file");
    return std::string(path);
  }
  if (u.starts_with("postgresql://") || u.starts_with("postgres://")) {
    return Status::invalid(
        "backup/restore are for SQLite sites; for PostgreSQL use pg_dump, see docs/deploy.md");
  }
  size_t colon = u.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::invalid("store URL has no scheme; backup/restore expect sqlite:PATH");
  }
  return Status::invalid("store URL scheme '" + std::string(u.substr(0, colon)) +
                         "' is not supported; backup/restore expect sqlite:PATH");
}

}  // namespace

Result<CopyReport> backup_sqlite(const std::string& url, const std::string& out,
                                 const BackupOptions& options) {
  auto path = sqlite_path(url);
  if (!path.ok()) return path.status();
  return sqlite::backup_file(*path, out, options);
}

Result<CopyReport> restore_sqlite(const std::string& url, const std::string& from,
                                  const RestoreOptions& options, const Clock& clock) {
  auto path = sqlite_path(url);
  if (!path.ok()) return path.status();
  return sqlite::restore_file(*path, from, options, clock.now());
}

}  // namespace paidoc::store
