// Store::open: picks the backend from the URL's scheme.

#include "store/store.h"

#include <string>
#include <string_view>

#include "store/health.h"
#include "store/sqlite/integrity.h"
#include "store/sqlite/sqlite_store.h"
#ifdef PAIDOC_WITH_POSTGRES
#include "store/postgres/pg_store.h"
#endif

namespace paidoc::store {

namespace {
constexpr std::string_view kSqlitePrefix = "sqlite:";
constexpr std::string_view kExpected = "expected sqlite:PATH or postgresql://...";

// The file of a "sqlite:" URL. "sqlite:///abs/file.db" is accepted as a
// courtesy for URL habits and means "/abs/file.db"; "sqlite:relative.db" is
// relative to the working directory.
std::string sqlite_path(std::string_view u) {
  std::string_view path = u.substr(kSqlitePrefix.size());
  if (path.starts_with("//")) path.remove_prefix(2);
  return std::string(path);
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& url, const Clock& clock) {
  std::string_view u = url;
  if (u.starts_with(kSqlitePrefix)) {
    return sqlite::open_sqlite(sqlite_path(u), sqlite::Options{}, clock);
  }
  // The URL may carry a password: messages name the scheme only.
  if (u.starts_with("postgresql://") || u.starts_with("postgres://")) {
#ifdef PAIDOC_WITH_POSTGRES
    return postgres::open_postgres(url, postgres::Options{}, clock);
#else
    return Status::invalid(
        "store URL: this paidoc was built without the PostgreSQL backend "
        "(PAIDOC_WITH_POSTGRES=OFF); use sqlite:PATH or a build with libpq");
#endif
  }
  size_t colon = u.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::invalid("store URL has no scheme; " + std::string(kExpected));
  }
  return Status::invalid("store URL scheme '" + std::string(u.substr(0, colon)) +
                         "' is not supported; " + std::string(kExpected));
}

Result<IntegrityReport> check_database(const std::string& url, IntegrityDepth depth) {
  if (std::string_view(url).starts_with(kSqlitePrefix)) {
    return sqlite::check_file(sqlite_path(url), depth);
  }
  auto st = Store::open(url);
  if (!st.ok()) return st.status();
  auto* health = dynamic_cast<HealthStore*>(st->get());
  if (health == nullptr) return Status::internal("this store has no integrity check");
  return health->check_integrity(depth);
}

}  // namespace paidoc::store
