// auth: accounts, passwords, sessions, roles and abuse limits.
//
// Passwords are stored only as argon2id hashes (libsodium crypto_pwhash_str)
// and verified in constant time. A session is a 256-bit random token handed
// to the client (cookie and/or bearer); the store keeps only its SHA-256.
// Sessions expire absolutely (Options::session_ttl) and after idleness
// (Options::idle_timeout); a login rotates the session; sessions can be
// revoked one by one or all at once.
//
// Who may do what is decided in one place: allowed(Role, Permission).
//
// Abuse limits are stored (they survive a restart): failed logins per account
// and per client address back off exponentially once past a free allowance;
// registrations are limited per address per hour. A limited call answers
// Code::kTooManyRequests with Status::retry_after().
//
// Thread-safety: Accounts is safe from many threads (the store is).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "gate/gate.h"
#include "store/accounts.h"
#include "store/audit.h"

namespace paidoc::auth {

// ---- roles and permissions ------------------------------------------------------

enum class Permission {
  kReadOwnAccount,  // /me and friends: any signed-in user
  kPublish,         // upload and edit documents: editor, admin
  kManageUsers,     // list users, change roles: admin
  kManageOrders,    // list all orders, refund: admin
  kViewAudit,       // read and export the audit log (/admin/audit): admin
  kManageTaxonomy,  // create, rename, order, delete categories and tags: admin
};

// The one place that says which role may do what. kSystem (the CLI) may do
// everything; kAnonymous nothing.
bool allowed(gate::Role role, Permission p);

// "reader" | "editor" | "admin" <-> Role. parse_role answers nullopt for
// anything else (anonymous and system are not stored roles).
std::optional<gate::Role> parse_role(std::string_view s);
const char* role_name(gate::Role r);

// ---- helpers --------------------------------------------------------------------

// Trimmed, lower-cased. Does not validate.
std::string normalize_email(std::string_view email);
// kInvalidArgument with a zh-CN message when the email is not plausibly an
// address (one '@', a dot in the domain, no spaces, <= 254 bytes).
Status validate_email(std::string_view normalized);
// kInvalidArgument when shorter than kMinPasswordChars code points or longer
// than 1024 bytes.
inline constexpr int kMinPasswordChars = 8;
Status validate_password(std::string_view password);

// 32 random bytes, base64url without padding (43 characters).
std::string new_token();
// Hex SHA-256 of a token: what the store keeps.
std::string token_hash(std::string_view token);
// Compares in time independent of where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b);
// The cross-site request forgery token bound to a session: HMAC-SHA256
// keyed by the session token over a fixed label, base64url without padding
// (43 characters). Only a holder of the session token can compute it, it
// says nothing about that token, and every new session (login, rotation)
// has another one. Pure; thread-safe.
std::string session_csrf_token(std::string_view session_token);

// ---- accounts -------------------------------------------------------------------

struct Options {
  int64_t session_ttl = 30 * 24 * 3600;  // absolute session lifetime
  int64_t idle_timeout = 7 * 24 * 3600;  // a session unused this long expires
  // Failed logins allowed per account before back-off starts; then each
  // further failure doubles the wait: 1 s, 2 s, 4 s, ... up to max_backoff.
  int account_free_failures = 5;
  // The same per client address (a larger allowance: shared NATs).
  int address_free_failures = 20;
  int64_t max_backoff = 3600;
  // Registrations allowed per client address per hour.
  int registrations_per_hour = 10;
  // argon2id cost; tests lower these. Defaults: libsodium INTERACTIVE.
  unsigned long long pwhash_opslimit = 2;
  size_t pwhash_memlimit = 64u * 1024 * 1024;
};

// An argon2id hash of `password` at the cost `o` names (libsodium
// crypto_pwhash_str). kInternal when hashing fails (out of memory).
Result<std::string> hash_password(std::string_view password, const Options& o);

struct Account {
  int64_t id = 0;
  std::string email;
  gate::Role role = gate::Role::kReader;
  int64_t created_at = 0;
  int64_t disabled_at = 0;  // 0: enabled; else when it was disabled (no sign-in)
};

// One page of Accounts::search_users.
struct AccountPage {
  std::vector<Account> items;  // oldest first
  int64_t total = 0;           // matching accounts in all pages
};

struct SessionInfo {
  int64_t session_id = 0;
  Account account;
  int64_t expires_at = 0;  // the earlier of absolute expiry and idle expiry
};

struct LoginResult {
  std::string token;  // give to the client; never stored
  SessionInfo session;
};

// Where a request came from, for limits and the sessions list.
struct Client {
  std::string ip;
  std::string user_agent;
};

class Accounts {
 public:
  // REQUIRES: store and clock outlive this object.
  Accounts(store::AccountStore& store, const Clock& clock, Options options = {});

  // Self-service registration as a reader. kInvalidArgument (bad email or
  // password), kConflict (email taken), kTooManyRequests (address limit).
  Result<Account> register_user(std::string_view email, std::string_view password,
                                const Client& client);

  // Creates a user with any role, without limits (operators, CLI).
  Result<Account> add_user(std::string_view email, std::string_view password, gate::Role role);

  // Verifies the password and opens a new session. When previous_token names
  // a live session it is replaced (rotation). Wrong email and wrong password
  // both answer kUnauthenticated with the same message. While an account or
  // address is backing off: kTooManyRequests, even with the right password.
  // A disabled account with the right password: kForbidden
  // "该账号已停用，请联系管理员。" (only the right password learns it).
  Result<LoginResult> login(std::string_view email, std::string_view password,
                            const Client& client, std::string_view previous_token = {});

  // The session a token belongs to; kUnauthenticated when unknown, expired,
  // idle too long or its user is deleted or disabled. Refreshes last_seen (at most once
  // a minute, to keep reads cheap).
  Result<SessionInfo> authenticate(std::string_view token);

  // Ends the token's session (no error if it is already gone).
  Status logout(std::string_view token);
  // Ends every session of the user.
  Status logout_everywhere(int64_t user_id);
  // Ends one session of the user (kNotFound when it is not theirs).
  Status revoke_session(int64_t user_id, int64_t session_id);
  Result<std::vector<store::Session>> sessions(int64_t user_id);

  // Checks the current password, sets the new one, ends every other session.
  // kUnauthenticated for a wrong current password.
  Status change_password(int64_t user_id, int64_t current_session_id,
                         std::string_view current_password, std::string_view new_password);

  // Checks the password, then removes personal data (store::delete_user).
  Status delete_account(int64_t user_id, std::string_view password);

  Result<std::vector<Account>> list_users(int64_t offset, int64_t limit);
  // Live accounts whose email contains `query` (trimmed, lower-cased; ""
  // matches all), oldest first, with the total. kInvalidArgument for a
  // limit outside 1..1000 or a negative offset.
  Result<AccountPage> search_users(std::string_view query, int64_t offset, int64_t limit);
  // Recorded in the audit log ("user.role", by `by`; "system" when
  // by.label is empty) in the same store transaction as the change; a
  // refused change records nothing. kForbidden with a zh-CN message when
  // `by` is the admin themself giving up the admin role (an admin never
  // locks themself out; another admin or the CLI can do it).
  Status set_role(int64_t user_id, gate::Role role, const store::AuditActor& by = {});

  // Disables an account: it can no longer sign in, and every session it
  // has ends in the same store transaction. Recorded in the audit log
  // ("user.disable", by `by`; "system" when by.label is empty) with the
  // change; disabling a disabled account changes and records nothing.
  // kForbidden with a zh-CN message when `by` is the account itself;
  // kNotFound for an absent or deleted account.
  Status disable(int64_t user_id, const store::AuditActor& by = {});
  // Enables a disabled account again ("user.enable", recorded as disable
  // is); enabling an enabled account changes and records nothing.
  // kNotFound for an absent or deleted account.
  Status enable(int64_t user_id, const store::AuditActor& by = {});

  // The options this service was made with (the password-reset service
  // hashes new passwords at the same cost).
  const Options& options() const { return options_; }

  // The gate's viewer for a signed-in session (purchases and VIP come with
  // commerce).
  static gate::Viewer viewer_of(const SessionInfo& s);

 private:
  Status set_disabled(int64_t user_id, bool disabled, const store::AuditActor& by);

  store::AccountStore& store_;
  // The same store as an audit log (every store::Store is one); null for an
  // AccountStore that is not, whose role changes then go unrecorded.
  store::AuditStore* audit_ = nullptr;
  const Clock& clock_;
  Options options_;
};

}  // namespace paidoc::auth
