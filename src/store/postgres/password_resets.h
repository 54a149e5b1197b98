// The password-reset half of the SQLite backend (store/password_resets.h).
// Internal to store/postgres/; same conventions as orders.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "store/audit.h"
#include "store/password_resets.h"
#include "store/postgres/connection.h"

namespace paidoc::store::postgres {

// REQUIRES: inside a write transaction on c.
Result<PasswordReset> create_password_reset_in(Connection& c, const PasswordReset& r);
// nullopt when no reset has this hash.
Result<std::optional<PasswordReset>> find_password_reset_in(Connection& c,
                                                            const std::string& token_hash);
// REQUIRES: inside a write transaction on c; e checked (check_audit_entry).
Result<int64_t> complete_password_reset_in(Connection& c, const std::string& token_hash,
                                           const std::string& password_hash, int64_t now,
                                           AuditEntry e);

}  // namespace paidoc::store::postgres
