// The audit log half of the SQLite backend (store/audit.h). Internal to
// store/postgres/.
//
// Thread-safety: as Connection: one thread at a time per connection.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "store/audit.h"
#include "store/postgres/connection.h"

namespace paidoc::store::postgres {

// Checks e without touching the database (empty actor or action, details
// not a JSON object): kInvalidArgument naming the field.
Status check_audit_entry(const AuditEntry& e);
// REQUIRES: inside a write transaction on c; e checked.
Result<int64_t> append_audit_in(Connection& c, const AuditEntry& e);
// REQUIRES: inside a read transaction on c (count and page in one snapshot).
Result<AuditPage> list_audit_in(Connection& c, const AuditQuery& q);

}  // namespace paidoc::store::postgres
