#include "store/postgres/audit.h"

#include <nlohmann/json.hpp>

#include <string>

namespace paidoc::store::postgres {

namespace {

constexpr char kInsert[] =
    "INSERT INTO audit_log (at, actor_user_id, actor, action, target_kind, target_id, details, ip)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

// Every filter is written so that its "any" value matches every row; one
// cached statement serves every combination.
#define PAIDOC_AUDIT_WHERE                                     \
  " WHERE (?1 = '' OR actor = ?1) AND (?2 = '' OR action = ?2)" \
  " AND (?3 = '' OR target_kind = ?3) AND (?4 = 0 OR target_id = ?4)" \
  " AND (?5 = 0 OR at >= ?5) AND (?6 = 0 OR at < ?6)"

constexpr char kCount[] = "SELECT count(*) FROM audit_log" PAIDOC_AUDIT_WHERE;
constexpr char kPage[] =
    "SELECT id, at, actor_user_id, actor, action, target_kind, target_id, details, ip"
    " FROM audit_log" PAIDOC_AUDIT_WHERE " ORDER BY at DESC, id DESC LIMIT ?7 OFFSET ?8";

#undef PAIDOC_AUDIT_WHERE

void bind_filters(Stmt& st, const AuditQuery& q) {
  st.bind(1, q.actor).bind(2, q.action).bind(3, q.target_kind).bind(4, q.target_id);
  st.bind(5, q.from).bind(6, q.to);
}

}  // namespace

Status check_audit_entry(const AuditEntry& e) {
  if (e.actor.empty()) return Status::invalid("audit entry: actor is empty");
  if (e.action.empty()) return Status::invalid("audit entry: action is empty");
  if (!e.details.empty()) {
    auto j = nlohmann::json::parse(e.details, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return Status::invalid("audit entry: details is not a JSON object");
  }
  return Status();
}

Result<int64_t> append_audit_in(Connection& c, const AuditEntry& e) {
  auto st = c.stmt(kInsert);
  if (!st.ok()) return st.status();
  st->bind(1, e.at).bind(2, e.actor_user_id).bind(3, e.actor).bind(4, e.action);
  st->bind(5, e.target_kind).bind(6, e.target_id);
  st->bind(7, e.details.empty() ? std::string("{}") : e.details).bind(8, e.ip);
  if (Status s = st->exec(); !s.is_ok()) return s;
  return c.last_insert_id();
}

Result<AuditPage> list_audit_in(Connection& c, const AuditQuery& q) {
  if (q.limit < 1 || q.limit > 10000) {
    return Status::invalid("audit list limit must be 1..10000, not " + std::to_string(q.limit));
  }
  if (q.offset < 0) {
    return Status::invalid("audit list offset must not be negative: " + std::to_string(q.offset));
  }
  AuditPage page;
  {
    auto st = c.stmt(kCount);
    if (!st.ok()) return st.status();
    bind_filters(*st, q);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::internal("postgresql: audit count returned no row");
    page.total = st->int64(0);
  }
  auto st = c.stmt(kPage);
  if (!st.ok()) return st.status();
  bind_filters(*st, q);
  st->bind(7, q.limit).bind(8, q.offset);
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    AuditEntry e;
    e.id = st->int64(0);
    e.at = st->int64(1);
    e.actor_user_id = st->int64(2);
    e.actor = st->text(3);
    e.action = st->text(4);
    e.target_kind = st->text(5);
    e.target_id = st->int64(6);
    e.details = st->text(7);
    e.ip = st->text(8);
    page.items.push_back(std::move(e));
  }
  return page;
}

}  // namespace paidoc::store::postgres
