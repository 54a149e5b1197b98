// AccountStore: the accounts domain of the store — users, login sessions,
// and (inherited from ThrottleStore) the stored abuse limits.
//
// password_hash is an argon2id string from libsodium (auth module); the
// store never sees a password. A session's token is never stored, only its
// SHA-256.
//
// Ownership, errors and thread-safety as in documents.h: every write is one
// transaction; kNotFound for a missing user or session (each method says
// where a miss is not an error); the store reads no clock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/enums.h"
#include "store/throttles.h"

namespace paidoc::store {

// A user account.
struct User {
  int64_t id = 0;
  std::string email;          // normalised (trimmed, lower-case); unique
  std::string password_hash;  // empty once the account is deleted
  Role role = Role::kReader;  // kDeleted once the account is deleted
  int64_t created_at = 0;
  int64_t deleted_at = 0;  // 0: live. Deleted accounts keep their row, anonymised
  int64_t disabled_at = 0;  // 0: enabled; else when an admin disabled it (no sign-in)
};

// One page of search_users.
struct UserPage {
  std::vector<User> items;  // oldest (created_at, id) first
  int64_t total = 0;        // matching users in all pages
};

struct NewUser {
  std::string email;
  std::string password_hash;
  Role role = Role::kReader;  // REQUIRES: not kDeleted
};

// A login session.
struct Session {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string token_hash;  // hex SHA-256 of the bearer/cookie token; unique
  int64_t created_at = 0;
  int64_t last_seen_at = 0;
  int64_t expires_at = 0;  // absolute expiry
  std::string user_agent;  // as sent at login, clipped; for the sessions list
  std::string ip;          // client address at login
};

class AccountStore : public ThrottleStore {
 public:
  // ---- users ----
  // Creates the user with created_at = now. kConflict when a live or
  // deleted account already has the email; kInvalidArgument for an empty
  // email or hash, a reserved address, or the role kDeleted.
  virtual Result<User> create_user(const NewUser& u, int64_t now) = 0;
  // kNotFound when absent or deleted.
  virtual Result<User> find_user_by_email(const std::string& email) = 0;
  // kNotFound when absent; deleted users are returned (deleted_at != 0).
  virtual Result<User> get_user(int64_t id) = 0;
  // Live users, oldest first. kInvalidArgument for a limit outside 1..1000
  // or a negative offset.
  virtual Result<std::vector<User>> list_users(int64_t offset, int64_t limit) = 0;
  // kInvalidArgument for kDeleted (checked first); kNotFound when the user
  // is absent or deleted.
  virtual Status set_user_role(int64_t user_id, Role role) = 0;
  // Live users whose email contains `query` (case-insensitive for ASCII;
  // "%" and "_" are plain characters; "" matches every live user), oldest
  // first, with the total. kInvalidArgument for a limit outside 1..1000 or a
  // negative offset.
  virtual Result<UserPage> search_users(const std::string& query, int64_t offset,
                                        int64_t limit) = 0;
  // Disables (disabled_at = now, and every session of the user deleted in
  // the same transaction) or enables (disabled_at = 0) the account. Answers
  // whether the state changed: disabling a disabled account keeps its first
  // disabled_at (its sessions are still deleted) and answers false, as does
  // enabling an enabled one. kNotFound when the user is absent or deleted;
  // kInvalidArgument for now <= 0 when disabling.
  virtual Result<bool> set_user_disabled(int64_t user_id, bool disabled, int64_t now) = 0;
  // Sets a new hash and deletes every session of the user except
  // keep_session_id (0: all), in one transaction.
  virtual Status set_password_hash(int64_t user_id, const std::string& hash,
                                   int64_t keep_session_id) = 0;
  // Deletes personal data in one transaction: email becomes
  // "deleted-<id>@deleted.invalid", hash cleared, role kDeleted,
  // deleted_at = now, sessions removed. The row (and its purchase records)
  // stays. Deleting a deleted account changes nothing and is not an error.
  virtual Status delete_user(int64_t user_id, int64_t now) = 0;

  // ---- sessions ----
  // Inserts s (id assigned); when replace_session_id != 0 that session is
  // deleted in the same transaction (rotation at login). kNotFound when the
  // user is absent or deleted; kConflict when the token hash is taken.
  virtual Result<Session> create_session(const Session& s, int64_t replace_session_id) = 0;
  // kNotFound when no session has this hash (expiry is the caller's check).
  virtual Result<Session> find_session(const std::string& token_hash) = 0;
  // last_seen_at = max(last_seen_at, now). kNotFound when absent.
  virtual Status touch_session(int64_t session_id, int64_t now) = 0;
  // Deleting an absent session is not an error.
  virtual Status delete_session(int64_t session_id) = 0;
  // Every session of the user except except_session_id (0: all). An unknown
  // user has none: not an error.
  virtual Status delete_user_sessions(int64_t user_id, int64_t except_session_id) = 0;
  // Newest first; empty for an unknown user.
  virtual Result<std::vector<Session>> list_sessions(int64_t user_id) = 0;
  // Removes sessions with expires_at <= now; returns how many.
  virtual Result<int64_t> delete_expired_sessions(int64_t now) = 0;
};

}  // namespace paidoc::store
