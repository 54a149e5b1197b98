// PasswordResetStore: the password-reset links of the accounts domain — one
// row per link mailed, keyed by the SHA-256 of its token. The raw token is
// never stored: it exists only in the mail and in the reader's browser.
//
// A reset is live while used_at = 0 and now < expires_at. Completing one
// (complete_password_reset) is a single transaction: the new hash is set,
// every session of the account ends, every live reset of the account is
// used up, and the audit entry is appended — so a link works at most once,
// also when it is followed twice at the same moment.
//
// Ownership, errors and thread-safety as in documents.h; the store reads
// no clock (`now` and the times in the input are the caller's).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "store/audit.h"

namespace paidoc::store {

struct PasswordReset {
  int64_t id = 0;           // assigned by create_password_reset
  int64_t user_id = 0;
  std::string token_hash;   // hex SHA-256 of the token in the link; unique
  int64_t created_at = 0;
  int64_t expires_at = 0;   // the link works while now < expires_at
  int64_t used_at = 0;      // 0: not used (nor superseded by another reset)
  std::string ip;           // the client address that asked for it
};

class PasswordResetStore {
 public:
  virtual ~PasswordResetStore() = default;

  // Inserts r (id assigned; used_at is stored as 0). kInvalidArgument for an
  // empty token hash or expires_at <= created_at; kNotFound when the user is
  // absent or deleted; kConflict when the token hash is taken.
  virtual Result<PasswordReset> create_password_reset(const PasswordReset& r) = 0;

  // The reset with this token hash, live or not (the caller checks
  // used_at and expires_at). kNotFound when there is none.
  virtual Result<PasswordReset> find_password_reset(const std::string& token_hash) = 0;

  // In one transaction: REQUIRES the reset `token_hash` to be live at `now`
  // and its account live and enabled, else kNotFound and nothing changes.
  // Then sets the account's password hash, deletes every session of the
  // account, sets used_at = now on every unused reset of the account, and
  // appends `e` with target_kind "user" and target_id the account's id.
  // Answers the account's id. kInvalidArgument for an empty hash or an
  // audit entry check_audit_entry refuses.
  virtual Result<int64_t> complete_password_reset(const std::string& token_hash,
                                                  const std::string& password_hash, int64_t now,
                                                  const AuditEntry& e) = 0;
};

}  // namespace paidoc::store
