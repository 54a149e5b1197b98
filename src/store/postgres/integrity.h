// The PostgreSQL side of store/health.h: reading the tables back and the
// cheap probe. Internal to the store.
#pragma once

#include "common/status.h"
#include "store/health.h"
#include "store/postgres/connection.h"

namespace paidoc::store::postgres {

// kQuick: probe_in's reads. kFull: every row of every table of the schema
// (partitions included) read whole, out-of-line values too; a table that
// cannot be read is a problem naming it. PostgreSQL has no quick_check of
// its own and amcheck is an extension a site may not have: indexes are
// checked only as far as these reads use them.
Result<IntegrityReport> check_integrity_in(Connection& c, IntegrityDepth depth);

// HealthStore::probe's reads on `c`: the first and last id of each main
// table, by primary key.
Status probe_in(Connection& c);

}  // namespace paidoc::store::postgres
