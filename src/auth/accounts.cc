// Accounts: registration, login, sessions, password changes and the stored
// abuse limits (see CONTEXT.md for the words and the back-off rules).

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "auth/auth.h"

namespace paidoc::auth {

namespace {

// ---- messages (user-facing, zh-CN) ----------------------------------------------

// One message for an unknown email and a wrong password, so the answer does
// not reveal whether an account exists.
constexpr const char* kBadCredentials = "邮箱或密码错误";
constexpr const char* kEmailTaken = "该邮箱已注册";
constexpr const char* kSessionInvalid = "登录已失效，请重新登录";
constexpr const char* kWrongCurrentPassword = "当前密码不正确";
constexpr const char* kWrongPassword = "密码不正确";
constexpr const char* kSessionNotFound = "会话不存在";
constexpr const char* kUserNotFound = "用户不存在";
constexpr const char* kBadRole = "无效的角色";
constexpr const char* kAccountDisabled = "该账号已停用，请联系管理员。";
constexpr const char* kCannotDisableSelf = "不能停用自己的账号。";
constexpr const char* kCannotDemoteSelf = "不能取消自己的管理员角色，请由另一位管理员操作。";

// "3 秒", "5 分钟": how long to wait, rounded up to whole minutes past 59 s.
std::string wait_text(int64_t seconds) {
  if (seconds < 60) return std::to_string(seconds) + " 秒";
  return std::to_string((seconds + 59) / 60) + " 分钟";
}

Status too_many_logins(int64_t retry_after) {
  return Status::too_many_requests("尝试次数过多，请 " + wait_text(retry_after) + "后再试",
                                   retry_after);
}

Status too_many_registrations(int64_t retry_after) {
  return Status::too_many_requests("注册次数过多，请 " + wait_text(retry_after) + "后再试",
                                   retry_after);
}

// ---- constants ------------------------------------------------------------------

constexpr int64_t kTouchInterval = 60;           // authenticate writes last_seen at most this often
constexpr int64_t kRegistrationWindow = 3600;    // registrations_per_hour counts in this window
constexpr size_t kMaxLoginPasswordBytes = 1024;  // as validate_password: longer never matches
constexpr int kMaxUserAgentChars = 256;
constexpr int kMaxIpChars = 64;
constexpr int64_t kMaxListLimit = 1000;

// Throttle keys. The account key uses the normalised email whether or not an
// account has it, so back-off behaves the same for unknown emails.
std::string account_key(std::string_view email) { return "login-account:" + std::string(email); }
std::string address_key(std::string_view ip) { return "login-ip:" + std::string(ip); }
std::string registration_key(std::string_view ip) { return "register-ip:" + std::string(ip); }

// ---- libsodium ------------------------------------------------------------------

void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) std::abort();
}

// Constant time in the password (libsodium); an empty or malformed hash
// never matches.
bool verify_password(const std::string& hash, std::string_view password) {
  if (hash.empty()) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

// A hash with the configured cost, verified against when the email is
// unknown so that such a login takes as long as one with a wrong password.
// Made once per cost per process; Accounts' constructor makes it, so the
// first unknown-email login is not slower than the rest.
const std::string& dummy_hash(const Options& o) {
  static std::mutex mu;
  static std::map<std::pair<unsigned long long, size_t>, std::string>* cache =
      new std::map<std::pair<unsigned long long, size_t>, std::string>();
  std::lock_guard<std::mutex> lock(mu);
  auto key = std::make_pair(o.pwhash_opslimit, o.pwhash_memlimit);
  auto it = cache->find(key);
  if (it == cache->end()) {
    Result<std::string> h = hash_password("paidoc-dummy-password", o);
    // On failure the empty string stays: verify_password then answers false
    // at once, which only costs the timing property, never correctness.
    it = cache->emplace(key, h.ok() ? *h : std::string()).first;
  }
  return it->second;
}

// ---- throttles ------------------------------------------------------------------
//
// Counting is one atomic store operation (store::ThrottleStore::hit_throttles:
// read, count and lock in one write transaction), so concurrent requests in
// any number of processes neither lose counts nor slip past a lock.

struct Limit {
  std::string key;
  int free_failures = 0;
  // What a success does to this key. Account keys are cleared. Address keys
  // only take back the success's own pre-count: someone holding a working
  // account must not be able to wipe an address's run of failures between
  // guesses at other accounts.
  bool clear_on_success = true;
  // A run older than this (and not locked) starts again; 0: never. Address
  // keys use it so a shared address does not collect failures forever.
  int64_t window = 0;
};

constexpr int64_t kAddressWindow = 3600;

// One login-like attempt against the given limits. When any is locked:
// kTooManyRequests with the longest remaining wait, nothing counted.
// Otherwise the attempt is counted as a failure *before* the password is
// checked (and the next lock set if due), so attempts running in parallel
// cannot all slip through before the first failure is written; a success
// then clears the counts with clear_limits().
//
// Back-off: the free_failures-th failure of a run locks 1 s, the next 2 s,
// 4 s, ... never more than max_backoff.
Status begin_attempt(store::ThrottleStore& store, const std::vector<Limit>& limits, int64_t now,
                     int64_t max_backoff) {
  std::vector<store::ThrottleRule> rules;
  rules.reserve(limits.size());
  for (const Limit& l : limits) {
    store::ThrottleRule r;
    r.key = l.key;
    r.window_seconds = l.window;
    r.max_count = std::max(l.free_failures, 1);
    r.lock_seconds = 1;
    r.max_lock_seconds = std::max<int64_t>(max_backoff, 1);
    rules.push_back(std::move(r));
  }
  Result<store::ThrottleHit> hit = store.hit_throttles(rules, now);
  if (!hit.ok()) return hit.status();  // fail closed: no limits, no login
  if (!hit->admitted) return too_many_logins(hit->retry_after);
  return Status();
}

// After a successful check of the password. Errors are ignored: the login
// itself has succeeded, and a leftover count only makes a later lock earlier.
void clear_limits(store::ThrottleStore& store, const std::vector<Limit>& limits) {
  for (const Limit& l : limits) {
    if (l.clear_on_success) {
      (void)store.clear_throttle(l.key);
    } else {
      // This attempt was counted before its password was checked.
      (void)store.undo_throttle_hit(l.key);
    }
  }
}

// ---- accounts and sessions ------------------------------------------------------

// The gate's role of a stored role; nullopt for a deleted account, which
// has none.
std::optional<gate::Role> viewer_role(store::Role r) {
  switch (r) {
    case store::Role::kReader:
      return gate::Role::kReader;
    case store::Role::kEditor:
      return gate::Role::kEditor;
    case store::Role::kAdmin:
      return gate::Role::kAdmin;
    case store::Role::kDeleted:
      return std::nullopt;
  }
  return std::nullopt;
}

// The stored role of a gate role; nullopt for the roles no account has
// (anonymous, system).
std::optional<store::Role> stored_role(gate::Role r) {
  switch (r) {
    case gate::Role::kReader:
      return store::Role::kReader;
    case gate::Role::kEditor:
      return store::Role::kEditor;
    case gate::Role::kAdmin:
      return store::Role::kAdmin;
    case gate::Role::kAnonymous:
    case gate::Role::kSystem:
      return std::nullopt;
  }
  return std::nullopt;
}

Result<Account> account_of(const store::User& u) {
  std::optional<gate::Role> role = viewer_role(u.role);
  if (!role) return Status::internal("user " + std::to_string(u.id) + " has no role");
  Account a;
  a.id = u.id;
  a.email = u.email;
  a.role = *role;
  a.created_at = u.created_at;
  a.disabled_at = u.disabled_at;
  return a;
}

// The earlier of the absolute expiry and the idle expiry.
int64_t effective_expiry(const store::Session& s, const Options& o) {
  return std::min(s.expires_at, s.last_seen_at + o.idle_timeout);
}

}  // namespace

Result<std::string> hash_password(std::string_view password, const Options& o) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), o.pwhash_opslimit,
                            o.pwhash_memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::internal("password hashing failed (out of memory or bad cost options)");
  }
  return std::string(out);
}


Accounts::Accounts(store::AccountStore& store, const Clock& clock, Options options)
    : store_(store),
      audit_(dynamic_cast<store::AuditStore*>(&store)),
      clock_(clock),
      options_(std::move(options)) {
  ensure_sodium();
  (void)dummy_hash(options_);
}

Result<Account> Accounts::register_user(std::string_view email, std::string_view password,
                                        const Client& client) {
  const int64_t now = clock_.now();
  const std::string norm = normalize_email(email);
  if (Status s = validate_email(norm); !s.is_ok()) return s;
  if (Status s = validate_password(password); !s.is_ok()) return s;

  // Every valid attempt counts, taken email or not: the answer "该邮箱已注册"
  // tells whether an address has an account, so probing must be limited too.
  // The registrations_per_hour-th registration of a window locks the
  // address until the window ends.
  if (options_.registrations_per_hour <= 0) return too_many_registrations(kRegistrationWindow);
  {
    store::ThrottleRule rule;
    rule.key = registration_key(client.ip);
    rule.window_seconds = kRegistrationWindow;
    rule.max_count = options_.registrations_per_hour;
    rule.lock_until_window_end = true;
    Result<store::ThrottleHit> hit = store_.hit_throttles({rule}, now);
    if (!hit.ok()) return hit.status();
    if (!hit->admitted) return too_many_registrations(hit->retry_after);
  }

  // Cheap check first, so a taken email does not cost a password hash.
  Result<store::User> existing = store_.find_user_by_email(norm);
  if (existing.ok()) return Status::conflict(kEmailTaken);
  if (existing.status().code() != Code::kNotFound) return existing.status();
  return add_user(norm, password, gate::Role::kReader);
}

Result<Account> Accounts::add_user(std::string_view email, std::string_view password,
                                   gate::Role role) {
  const std::string norm = normalize_email(email);
  if (Status s = validate_email(norm); !s.is_ok()) return s;
  if (Status s = validate_password(password); !s.is_ok()) return s;
  std::optional<store::Role> stored = stored_role(role);
  if (!stored) return Status::invalid(kBadRole);
  Result<std::string> hash = hash_password(password, options_);
  if (!hash.ok()) return hash.status();
  store::NewUser nu;
  nu.email = norm;
  nu.password_hash = std::move(*hash);
  nu.role = *stored;
  Result<store::User> u = store_.create_user(nu, clock_.now());
  if (!u.ok()) {
    if (u.status().code() == Code::kConflict) return Status::conflict(kEmailTaken);
    return u.status();
  }
  return account_of(*u);
}

Result<LoginResult> Accounts::login(std::string_view email, std::string_view password,
                                    const Client& client, std::string_view previous_token) {
  const int64_t now = clock_.now();
  const std::string norm = normalize_email(email);
  // Input that can never match is refused at once, without counting or
  // hashing: its shape is known to the sender, so the timing tells nothing.
  if (!validate_email(norm).is_ok() || password.size() > kMaxLoginPasswordBytes) {
    return Status::unauthenticated(kBadCredentials);
  }

  const std::vector<Limit> limits = {
      {account_key(norm), options_.account_free_failures},
      {address_key(client.ip), options_.address_free_failures, false, kAddressWindow},
  };
  if (Status s = begin_attempt(store_, limits, now, options_.max_backoff); !s.is_ok()) return s;

  Result<store::User> user = store_.find_user_by_email(norm);
  if (!user.ok()) {
    if (user.status().code() != Code::kNotFound) return user.status();
    (void)verify_password(dummy_hash(options_), password);  // same work as a real check
    return Status::unauthenticated(kBadCredentials);
  }
  if (!verify_password(user->password_hash, password)) {
    return Status::unauthenticated(kBadCredentials);
  }
  clear_limits(store_, limits);
  // Told only to someone who knows the password: a guesser learns nothing.
  if (user->disabled_at != 0) return Status::forbidden(kAccountDisabled);

  Result<Account> account = account_of(*user);
  if (!account.ok()) return account.status();

  // Rotation: the session the client already holds (any user's) is replaced.
  int64_t replace_id = 0;
  if (!previous_token.empty()) {
    Result<store::Session> prev = store_.find_session(token_hash(previous_token));
    if (prev.ok()) replace_id = prev->id;
  }

  LoginResult out;
  out.token = new_token();
  store::Session s;
  s.user_id = user->id;
  s.token_hash = token_hash(out.token);
  s.created_at = now;
  s.last_seen_at = now;
  s.expires_at = now + options_.session_ttl;
  s.user_agent = gate::clip_chars(client.user_agent, kMaxUserAgentChars);
  s.ip = gate::clip_chars(client.ip, kMaxIpChars);
  Result<store::Session> created = store_.create_session(s, replace_id);
  if (!created.ok()) return created.status();

  out.session.session_id = created->id;
  out.session.account = std::move(*account);
  out.session.expires_at = effective_expiry(*created, options_);
  return out;
}

Result<SessionInfo> Accounts::authenticate(std::string_view token) {
  const int64_t now = clock_.now();
  // Tokens are 43 characters; anything much longer is not one of ours.
  if (token.empty() || token.size() > 256) return Status::unauthenticated(kSessionInvalid);
  Result<store::Session> found = store_.find_session(token_hash(token));
  if (!found.ok()) {
    if (found.status().code() == Code::kNotFound) return Status::unauthenticated(kSessionInvalid);
    return found.status();
  }
  store::Session s = *found;
  if (now >= effective_expiry(s, options_)) {
    (void)store_.delete_session(s.id);  // tidy up; the answer is the same either way
    return Status::unauthenticated(kSessionInvalid);
  }
  Result<store::User> user = store_.get_user(s.user_id);
  if (!user.ok() && user.status().code() != Code::kNotFound) return user.status();
  // Disabling deletes the sessions; this refuses one that slipped past
  // (created while the account was being disabled).
  if (!user.ok() || user->deleted_at != 0 || user->disabled_at != 0) {
    (void)store_.delete_session(s.id);
    return Status::unauthenticated(kSessionInvalid);
  }
  Result<Account> account = account_of(*user);
  if (!account.ok()) return account.status();

  if (now - s.last_seen_at >= kTouchInterval) {
    // A failed touch costs at most an earlier idle expiry; the request goes on.
    if (store_.touch_session(s.id, now).is_ok()) s.last_seen_at = now;
  }
  SessionInfo info;
  info.session_id = s.id;
  info.account = std::move(*account);
  info.expires_at = effective_expiry(s, options_);
  return info;
}

Status Accounts::logout(std::string_view token) {
  if (token.empty()) return Status();
  Result<store::Session> found = store_.find_session(token_hash(token));
  if (!found.ok()) {
    return found.status().code() == Code::kNotFound ? Status() : found.status();
  }
  return store_.delete_session(found->id);
}

Status Accounts::logout_everywhere(int64_t user_id) {
  return store_.delete_user_sessions(user_id, 0);
}

Status Accounts::revoke_session(int64_t user_id, int64_t session_id) {
  Result<std::vector<store::Session>> list = store_.list_sessions(user_id);
  if (!list.ok()) return list.status();
  const bool theirs = std::any_of(list->begin(), list->end(),
                                  [&](const store::Session& s) { return s.id == session_id; });
  if (!theirs) return Status::not_found(kSessionNotFound);
  return store_.delete_session(session_id);
}

Result<std::vector<store::Session>> Accounts::sessions(int64_t user_id) {
  const int64_t now = clock_.now();
  Result<std::vector<store::Session>> list = store_.list_sessions(user_id);
  if (!list.ok()) return list;
  std::vector<store::Session> live;
  for (store::Session& s : *list) {
    if (now < effective_expiry(s, options_)) live.push_back(std::move(s));
  }
  return live;
}

Status Accounts::change_password(int64_t user_id, int64_t current_session_id,
                                 std::string_view current_password, std::string_view new_password) {
  const int64_t now = clock_.now();
  Result<store::User> user = store_.get_user(user_id);
  if (!user.ok() && user.status().code() != Code::kNotFound) return user.status();
  if (!user.ok() || user->deleted_at != 0) return Status::unauthenticated(kSessionInvalid);
  if (Status s = validate_password(new_password); !s.is_ok()) return s;

  // Guessing through a stolen session is limited like guessing at login.
  const std::vector<Limit> limits = {{account_key(user->email), options_.account_free_failures}};
  if (Status s = begin_attempt(store_, limits, now, options_.max_backoff); !s.is_ok()) return s;
  if (!verify_password(user->password_hash, current_password)) {
    return Status::unauthenticated(kWrongCurrentPassword);
  }
  clear_limits(store_, limits);

  Result<std::string> hash = hash_password(new_password, options_);
  if (!hash.ok()) return hash.status();
  return store_.set_password_hash(user_id, *hash, current_session_id);
}

Status Accounts::delete_account(int64_t user_id, std::string_view password) {
  const int64_t now = clock_.now();
  Result<store::User> user = store_.get_user(user_id);
  if (!user.ok() && user.status().code() != Code::kNotFound) return user.status();
  if (!user.ok() || user->deleted_at != 0) return Status::not_found(kUserNotFound);

  const std::vector<Limit> limits = {{account_key(user->email), options_.account_free_failures}};
  if (Status s = begin_attempt(store_, limits, now, options_.max_backoff); !s.is_ok()) return s;
  if (!verify_password(user->password_hash, password)) {
    return Status::unauthenticated(kWrongPassword);
  }
  clear_limits(store_, limits);
  return store_.delete_user(user_id, now);
}

Result<std::vector<Account>> Accounts::list_users(int64_t offset, int64_t limit) {
  if (offset < 0 || limit < 1 || limit > kMaxListLimit) {
    return Status::invalid("offset must be >= 0 and limit 1.." + std::to_string(kMaxListLimit));
  }
  Result<std::vector<store::User>> users = store_.list_users(offset, limit);
  if (!users.ok()) return users.status();
  std::vector<Account> out;
  out.reserve(users->size());
  for (const store::User& u : *users) {
    Result<Account> a = account_of(u);
    if (!a.ok()) return a.status();
    out.push_back(std::move(*a));
  }
  return out;
}

Result<AccountPage> Accounts::search_users(std::string_view query, int64_t offset,
                                           int64_t limit) {
  if (offset < 0 || limit < 1 || limit > kMaxListLimit) {
    return Status::invalid("offset must be >= 0 and limit 1.." + std::to_string(kMaxListLimit));
  }
  Result<store::UserPage> users = store_.search_users(normalize_email(query), offset, limit);
  if (!users.ok()) return users.status();
  AccountPage out;
  out.total = users->total;
  out.items.reserve(users->items.size());
  for (const store::User& u : users->items) {
    Result<Account> a = account_of(u);
    if (!a.ok()) return a.status();
    out.items.push_back(std::move(*a));
  }
  return out;
}

namespace {

// The audit entry of a change to a user made by `by` now.
store::AuditEntry user_entry(const store::AuditActor& by, const char* action, int64_t user_id,
                             int64_t now) {
  store::AuditEntry e;
  e.at = now;
  e.actor_user_id = by.user_id;
  e.actor = by.label.empty() ? std::string("system") : by.label;
  e.action = action;
  e.target_kind = "user";
  e.target_id = user_id;
  e.ip = by.ip;
  return e;
}

}  // namespace

Status Accounts::set_role(int64_t user_id, gate::Role role, const store::AuditActor& by) {
  std::optional<store::Role> stored = stored_role(role);
  if (!stored) return Status::invalid(kBadRole);
  // The old role is read before the change: two admins changing one role
  // at the same moment may both record the same "from".
  auto before = store_.get_user(user_id);
  if (!before.ok()) return before.status();
  if (before->deleted_at != 0) return Status::not_found("no live user " + std::to_string(user_id));
  if (by.user_id != 0 && by.user_id == user_id && before->role == store::Role::kAdmin &&
      *stored != store::Role::kAdmin) {
    return Status::forbidden(kCannotDemoteSelf);
  }
  if (audit_ == nullptr) return store_.set_user_role(user_id, *stored);
  // Nothing changes, so there is nothing to record.
  if (before->role == *stored) return Status();
  store::AuditEntry e =
      user_entry(by, store::audit_action::kUserRole, user_id, clock_.now());
  nlohmann::json d;
  d["email"] = before->email;
  d["role"] = {{"from", std::string(store::to_string(before->role))},
               {"to", std::string(store::to_string(*stored))}};
  e.details = d.dump();
  return audit_->set_user_role_audited(user_id, *stored, e);
}

Status Accounts::disable(int64_t user_id, const store::AuditActor& by) {
  if (by.user_id != 0 && by.user_id == user_id) return Status::forbidden(kCannotDisableSelf);
  return set_disabled(user_id, true, by);
}

Status Accounts::enable(int64_t user_id, const store::AuditActor& by) {
  return set_disabled(user_id, false, by);
}

Status Accounts::set_disabled(int64_t user_id, bool disabled, const store::AuditActor& by) {
  const int64_t now = clock_.now();
  if (audit_ == nullptr) return store_.set_user_disabled(user_id, disabled, now).status();
  auto user = store_.get_user(user_id);
  if (!user.ok()) return user.status();
  if (user->deleted_at != 0) return Status::not_found("no live user " + std::to_string(user_id));
  store::AuditEntry e = user_entry(
      by, disabled ? store::audit_action::kUserDisable : store::audit_action::kUserEnable,
      user_id, now);
  nlohmann::json d;
  d["email"] = user->email;
  e.details = d.dump();
  // The store appends the entry only when the state changed.
  return audit_->set_user_disabled_audited(user_id, disabled, now, e).status();
}

gate::Viewer Accounts::viewer_of(const SessionInfo& s) {
  gate::Viewer v;
  v.user_id = s.account.id;
  v.role = s.account.role;
  return v;
}

}  // namespace paidoc::auth
