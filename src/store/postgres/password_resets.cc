#include "store/postgres/password_resets.h"


#include "store/postgres/audit.h"

namespace paidoc::store::postgres {
namespace {

constexpr char kLiveUser[] = "SELECT 1 FROM users WHERE id = ?1 AND deleted_at = 0";
constexpr char kInsertReset[] =
    "INSERT INTO password_resets (user_id, token_hash, created_at, expires_at, used_at, ip)"
    " VALUES (?1, ?2, ?3, ?4, 0, ?5)";
constexpr char kFindReset[] =
    "SELECT id, user_id, token_hash, created_at, expires_at, used_at, ip"
    " FROM password_resets WHERE token_hash = ?1";
// The account a live reset belongs to, when that account may sign in.
constexpr char kLiveResetUser[] =
    "SELECT r.user_id FROM password_resets r JOIN users u ON u.id = r.user_id"
    " WHERE r.token_hash = ?1 AND r.used_at = 0 AND r.expires_at > ?2"
    " AND u.deleted_at = 0 AND u.disabled_at = 0";
constexpr char kSetHash[] = "UPDATE users SET password_hash = ?2 WHERE id = ?1";
constexpr char kEndSessions[] = "DELETE FROM sessions WHERE user_id = ?1";
constexpr char kUseUpResets[] =
    "UPDATE password_resets SET used_at = ?2 WHERE user_id = ?1 AND used_at = 0";

}  // namespace

Result<PasswordReset> create_password_reset_in(Connection& c, const PasswordReset& r) {
  if (r.token_hash.empty()) return Status::invalid("create_password_reset: token hash is empty");
  if (r.expires_at <= r.created_at)
    return Status::invalid("create_password_reset: expires_at must be after created_at");
  {
    auto st = c.stmt(kLiveUser);
    if (!st.ok()) return st.status();
    st->bind(1, r.user_id);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::not_found("user " + std::to_string(r.user_id) + " does not exist");
  }
  auto st = c.stmt(kInsertReset);
  if (!st.ok()) return st.status();
  st->bind(1, r.user_id).bind(2, r.token_hash).bind(3, r.created_at).bind(4, r.expires_at).bind(
      5, r.ip);
  if (Status s = st->exec(); !s.is_ok()) return s;
  PasswordReset out = r;
  auto id = c.last_insert_id();
  if (!id.ok()) return id.status();
  out.id = *id;
  out.used_at = 0;
  return out;
}

Result<std::optional<PasswordReset>> find_password_reset_in(Connection& c,
                                                            const std::string& token_hash) {
  auto st = c.stmt(kFindReset);
  if (!st.ok()) return st.status();
  st->bind(1, token_hash);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<PasswordReset>();
  PasswordReset r;
  r.id = st->int64(0);
  r.user_id = st->int64(1);
  r.token_hash = st->text(2);
  r.created_at = st->int64(3);
  r.expires_at = st->int64(4);
  r.used_at = st->int64(5);
  r.ip = st->text(6);
  return std::optional<PasswordReset>(std::move(r));
}

Result<int64_t> complete_password_reset_in(Connection& c, const std::string& token_hash,
                                           const std::string& password_hash, int64_t now,
                                           AuditEntry e) {
  int64_t user_id = 0;
  {
    auto st = c.stmt(kLiveResetUser);
    if (!st.ok()) return st.status();
    st->bind(1, token_hash).bind(2, now);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::not_found("no live password reset with this token");
    user_id = st->int64(0);
  }
  for (const char* sql : {kSetHash, kEndSessions, kUseUpResets}) {
    auto st = c.stmt(sql);
    if (!st.ok()) return st.status();
    st->bind(1, user_id);
    if (sql == kSetHash) st->bind(2, password_hash);
    if (sql == kUseUpResets) st->bind(2, now);
    if (Status s = st->exec(); !s.is_ok()) return s;
  }
  e.target_kind = "user";
  e.target_id = user_id;
  auto id = append_audit_in(c, e);
  if (!id.ok()) return id.status();
  return user_id;
}

}  // namespace paidoc::store::postgres
