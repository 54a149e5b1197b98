// The PostgreSQL half of store/transfer.h: taking a whole site into an
// empty database in one transaction. Internal to store/postgres/.
#pragma once

#include <functional>
#include <string>

#include "common/status.h"
#include "store/transfer.h"

namespace paidoc::store::postgres {

// SiteImport::import_site on its own connection to `conninfo` (opened for
// the import and closed after it, so the statements it prepares per table
// never reach the store's pool). REQUIRES: the database is migrated.
Result<ImportReport> import_site(const std::string& conninfo, int lock_timeout_ms,
                                 const std::function<Status(RowSink&)>& fill);

}  // namespace paidoc::store::postgres
