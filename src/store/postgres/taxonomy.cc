#include "store/postgres/taxonomy.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "store/postgres/audit.h"
#include "store/postgres/search.h"

namespace paidoc::store::postgres {

namespace {

// The statements of one kind. Every statement is a constant: the
// connection's statement cache is keyed by its address.
struct Sql {
  const char* list;        // id, name, position, document count
  const char* get;         // id, name, position by ?1 = id
  const char* find;        // id by ?1 = name
  const char* insert;      // ?1 name, ?2 created_at; at the end of the list
  const char* rename;      // ?1 id, ?2 name
  const char* ordered;     // ids in list order
  const char* set_position;  // ?1 id, ?2 position
  const char* users;       // documents using ?1
  const char* remove;      // ?1 id
  const char* bump;        // revision + 1 of the documents using ?1
  const char* label;       // 分类 / 标签
  const char* actions[4];  // create, rename, move, delete
};

constexpr Sql kCategorySql = {
    "SELECT c.id, c.name, c.position, count(d.id) FROM categories c"
    " LEFT JOIN documents d ON d.category_id = c.id GROUP BY c.id ORDER BY c.position, c.name",
    "SELECT id, name, position FROM categories WHERE id = ?1",
    "SELECT id FROM categories WHERE name = ?1",
    "INSERT INTO categories (name, created_at, position)"
    " VALUES (?1, ?2, (SELECT coalesce(max(position) + 1, 0) FROM categories))",
    "UPDATE categories SET name = ?2 WHERE id = ?1",
    "SELECT id FROM categories ORDER BY position, name",
    "UPDATE categories SET position = ?2 WHERE id = ?1",
    "SELECT count(*) FROM documents WHERE category_id = ?1",
    "DELETE FROM categories WHERE id = ?1",
    "UPDATE documents SET revision = revision + 1 WHERE category_id = ?1",
    "分类",
    {audit_action::kCategoryCreate, audit_action::kCategoryRename, audit_action::kCategoryMove,
     audit_action::kCategoryDelete},
};

constexpr Sql kTagSql = {
    "SELECT t.id, t.name, t.position, count(dt.document_id) FROM tags t"
    " LEFT JOIN document_tags dt ON dt.tag_id = t.id GROUP BY t.id ORDER BY t.position, t.name",
    "SELECT id, name, position FROM tags WHERE id = ?1",
    "SELECT id FROM tags WHERE name = ?1",
    "INSERT INTO tags (name, created_at, position)"
    " VALUES (?1, ?2, (SELECT coalesce(max(position) + 1, 0) FROM tags))",
    "UPDATE tags SET name = ?2 WHERE id = ?1",
    "SELECT id FROM tags ORDER BY position, name",
    "UPDATE tags SET position = ?2 WHERE id = ?1",
    "SELECT count(*) FROM document_tags WHERE tag_id = ?1",
    "DELETE FROM tags WHERE id = ?1",
    "UPDATE documents SET revision = revision + 1"
    " WHERE id IN (SELECT document_id FROM document_tags WHERE tag_id = ?1)",
    "标签",
    {audit_action::kTagCreate, audit_action::kTagRename, audit_action::kTagMove,
     audit_action::kTagDelete},
};

const Sql& sql_of(TermKind kind) { return kind == TermKind::kCategory ? kCategorySql : kTagSql; }

enum Act { kCreate = 0, kRename = 1, kMove = 2, kDelete = 3 };

constexpr char kDocumentExists[] = "SELECT count(*) FROM documents WHERE id = ?1";
constexpr char kDocumentTagIds[] = "SELECT tag_id FROM document_tags WHERE document_id = ?1";
constexpr char kDocumentTagNames[] =
    "SELECT t.name FROM document_tags dt JOIN tags t ON t.id = dt.tag_id"
    " WHERE dt.document_id = ?1 ORDER BY t.position, t.name";
constexpr char kClearDocumentTags[] = "DELETE FROM document_tags WHERE document_id = ?1";
constexpr char kAddDocumentTag[] = "INSERT INTO document_tags (document_id, tag_id) VALUES (?1, ?2)";
constexpr char kBumpDocument[] = "UPDATE documents SET revision = revision + 1 WHERE id = ?1";

constexpr char kCountTagged[] =
    "SELECT count(*) FROM document_tags dt JOIN tags t ON t.id = dt.tag_id"
    " JOIN documents d ON d.id = dt.document_id LEFT JOIN categories c ON c.id = d.category_id"
    " WHERE t.name = ?1 AND (?2 = '' OR c.name = ?2) AND (?3 = '' OR d.status = ?3)";
constexpr char kListTagged[] =
    "SELECT " PAIDOC_SUMMARY_COLUMNS
    " FROM document_tags dt JOIN tags t ON t.id = dt.tag_id"
    " JOIN documents d ON d.id = dt.document_id LEFT JOIN categories c ON c.id = d.category_id"
    " WHERE t.name = ?3 AND (?4 = '' OR c.name = ?4) AND (?5 = '' OR d.status = ?5)"
    " ORDER BY d.created_at DESC, d.id DESC LIMIT ?1 OFFSET ?2";

Status exec1(Connection& c, const char* sql, int64_t a) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  return st->bind(1, a).exec();
}

Status exec2(Connection& c, const char* sql, int64_t a, int64_t b) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  return st->bind(1, a).bind(2, b).exec();
}

Result<int64_t> count1(Connection& c, const char* sql, int64_t a) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  st->bind(1, a);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::internal("postgresql: count returned no row");
  return st->int64(0);
}

Result<std::optional<int64_t>> find_term(Connection& c, const Sql& q, const std::string& name) {
  auto st = c.stmt(q.find);
  if (!st.ok()) return st.status();
  st->bind(1, name);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<int64_t>();
  return std::optional<int64_t>(st->int64(0));
}

Result<Term> get_term(Connection& c, TermKind kind, int64_t id) {
  const Sql& q = sql_of(kind);
  auto st = c.stmt(q.get);
  if (!st.ok()) return st.status();
  st->bind(1, id);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row)
    return Status::not_found(fmt::format("{} {} does not exist", to_string(kind), id));
  return Term{st->int64(0), st->text(1), st->int64(2), 0};
}

Status name_taken(TermKind kind, const std::string& name) {
  return Status::conflict(fmt::format("{}「{}」已存在", sql_of(kind).label, name));
}

Status append_entry(Connection& c, TermKind kind, Act act, int64_t id, nlohmann::json details,
                    const AuditActor& actor, int64_t now) {
  AuditEntry e;
  e.at = now;
  e.actor_user_id = actor.user_id;
  e.actor = actor.label;
  e.action = sql_of(kind).actions[act];
  e.target_kind = to_string(kind);
  e.target_id = id;
  e.details = details.dump();
  e.ip = actor.ip;
  if (Status s = check_audit_entry(e); !s.is_ok()) return s;
  auto appended = append_audit_in(c, e);
  return appended.ok() ? Status() : appended.status();
}

// Inserts a term named `name` (absent) at the end of its list.
Result<int64_t> insert_term(Connection& c, const Sql& q, const std::string& name, int64_t now) {
  auto st = c.stmt(q.insert);
  if (!st.ok()) return st.status();
  if (Status s = st->bind(1, name).bind(2, now).exec(); !s.is_ok()) return s;
  return c.last_insert_id();
}

}  // namespace

Result<std::vector<Term>> list_terms_in(Connection& c, TermKind kind) {
  auto st = c.stmt(sql_of(kind).list);
  if (!st.ok()) return st.status();
  std::vector<Term> out;
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(Term{st->int64(0), st->text(1), st->int64(2), st->int64(3)});
  }
  return out;
}

Result<std::vector<std::string>> document_tags_in(Connection& c, int64_t document_id) {
  auto exists = count1(c, kDocumentExists, document_id);
  if (!exists.ok()) return exists.status();
  if (*exists == 0)
    return Status::not_found(fmt::format("document {} does not exist", document_id));
  auto st = c.stmt(kDocumentTagNames);
  if (!st.ok()) return st.status();
  st->bind(1, document_id);
  std::vector<std::string> out;
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(st->text(0));
  }
  return out;
}

Result<ListPage> list_tagged_in(Connection& c, const ListQuery& q) {
  // Readers see published documents only (q.status's default); the
  // console (nullopt) sees drafts too.
  const std::string_view status =
      q.status ? std::string_view(to_string(*q.status)) : std::string_view();
  ListPage page;
  {
    auto st = c.stmt(kCountTagged);
    if (!st.ok()) return st.status();
    st->bind(1, q.tag).bind(2, q.category).bind(3, status);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::internal("postgresql: count returned no row");
    page.total = st->int64(0);
  }
  if (q.offset >= page.total) return page;
  auto st = c.stmt(kListTagged);
  if (!st.ok()) return st.status();
  st->bind(1, q.limit).bind(2, q.offset).bind(3, q.tag).bind(4, q.category).bind(5, status);
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    page.items.push_back(read_summary(*st));
  }
  return page;
}

Result<Term> create_term_in(Connection& c, TermKind kind, const std::string& name,
                            const AuditActor& actor, int64_t now) {
  const Sql& q = sql_of(kind);
  auto found = find_term(c, q, name);
  if (!found.ok()) return found.status();
  if (found->has_value()) return name_taken(kind, name);
  auto id = insert_term(c, q, name, now);
  if (!id.ok()) return id.status();
  auto term = get_term(c, kind, *id);
  if (!term.ok()) return term;
  if (Status s = append_entry(c, kind, kCreate, *id, {{"name", name}}, actor, now); !s.is_ok())
    return s;
  return term;
}

Result<Term> rename_term_in(Connection& c, TermKind kind, int64_t id, const std::string& name,
                            const AuditActor& actor, int64_t now) {
  const Sql& q = sql_of(kind);
  auto term = get_term(c, kind, id);
  if (!term.ok()) return term;
  if (term->name == name) return term;
  auto found = find_term(c, q, name);
  if (!found.ok()) return found.status();
  if (found->has_value()) return name_taken(kind, name);
  {
    auto st = c.stmt(q.rename);
    if (!st.ok()) return st.status();
    if (Status s = st->bind(1, id).bind(2, name).exec(); !s.is_ok()) return s;
  }
  // Pages showing the old name are stale now.
  if (Status s = exec1(c, q.bump, id); !s.is_ok()) return s;
  nlohmann::json details = {{"name", {{"from", term->name}, {"to", name}}}};
  if (Status s = append_entry(c, kind, kRename, id, std::move(details), actor, now); !s.is_ok())
    return s;
  term->name = name;
  return term;
}

Result<bool> move_term_in(Connection& c, TermKind kind, int64_t id, MoveDirection dir,
                          const AuditActor& actor, int64_t now) {
  const Sql& q = sql_of(kind);
  auto term = get_term(c, kind, id);
  if (!term.ok()) return term.status();
  std::vector<int64_t> ids;
  {
    auto st = c.stmt(q.ordered);
    if (!st.ok()) return st.status();
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      ids.push_back(st->int64(0));
    }
  }
  const size_t at = static_cast<size_t>(std::find(ids.begin(), ids.end(), id) - ids.begin());
  if (at >= ids.size()) return Status::internal("postgresql: a term is missing from its own list");
  const bool up = dir == MoveDirection::kUp;
  if ((up && at == 0) || (!up && at + 1 == ids.size())) return false;
  const size_t other = up ? at - 1 : at + 1;
  std::swap(ids[at], ids[other]);
  // Renumbered 0..n-1 in the new order.
  for (size_t i = 0; i < ids.size(); ++i) {
    if (Status s = exec2(c, q.set_position, ids[i], static_cast<int64_t>(i)); !s.is_ok()) return s;
  }
  // A document page lists its tags in tag order: documents using either tag
  // may show them in a new order. Category order shows on no document page.
  if (kind == TermKind::kTag) {
    if (Status s = exec1(c, q.bump, ids[at]); !s.is_ok()) return s;
    if (Status s = exec1(c, q.bump, ids[other]); !s.is_ok()) return s;
  }
  nlohmann::json details = {
      {"name", term->name},
      {"position", {{"from", static_cast<int64_t>(at) + 1}, {"to", static_cast<int64_t>(other) + 1}}}};
  if (Status s = append_entry(c, kind, kMove, id, std::move(details), actor, now); !s.is_ok())
    return s;
  return true;
}

Status delete_term_in(Connection& c, TermKind kind, int64_t id, const AuditActor& actor,
                      int64_t now) {
  const Sql& q = sql_of(kind);
  auto term = get_term(c, kind, id);
  if (!term.ok()) return term.status();
  auto users = count1(c, q.users, id);
  if (!users.ok()) return users.status();
  if (*users > 0) {
    return Status::failed_precondition(
        fmt::format("{}「{}」下还有 {} 篇文档，不能删除", q.label, term->name, *users));
  }
  if (Status s = exec1(c, q.remove, id); !s.is_ok()) return s;
  return append_entry(c, kind, kDelete, id, {{"name", term->name}}, actor, now);
}

Status set_document_tags_in(Connection& c, int64_t document_id,
                            const std::vector<std::string>& names, int64_t now, bool bump) {
  auto exists = count1(c, kDocumentExists, document_id);
  if (!exists.ok()) return exists.status();
  if (*exists == 0) return Status::not_found(fmt::format("document {} does not exist", document_id));
  std::set<int64_t> before;
  {
    auto st = c.stmt(kDocumentTagIds);
    if (!st.ok()) return st.status();
    st->bind(1, document_id);
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      before.insert(st->int64(0));
    }
  }
  std::set<int64_t> after;
  for (const std::string& name : names) {
    auto found = find_term(c, kTagSql, name);
    if (!found.ok()) return found.status();
    if (found->has_value()) {
      after.insert(**found);
      continue;
    }
    auto id = insert_term(c, kTagSql, name, now);
    if (!id.ok()) return id.status();
    after.insert(*id);
  }
  if (after == before) return Status();
  if (Status s = exec1(c, kClearDocumentTags, document_id); !s.is_ok()) return s;
  for (int64_t tag : after) {
    if (Status s = exec2(c, kAddDocumentTag, document_id, tag); !s.is_ok()) return s;
  }
  return bump ? exec1(c, kBumpDocument, document_id) : Status();
}

}  // namespace paidoc::store::postgres
