#include "store/postgres/pg_store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <exception>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "store/postgres/audit.h"
#include "store/postgres/connection.h"
#include "store/postgres/downloads.h"
#include "store/postgres/integrity.h"
#include "store/postgres/migrations.h"
#include "store/postgres/orders.h"
#include "store/postgres/password_resets.h"
#include "store/postgres/revision_watch.h"
#include "store/postgres/search.h"
#include "store/postgres/taxonomy.h"
#include "store/postgres/transfer.h"
#include "store/health.h"

namespace paidoc::store::postgres {
namespace {

// --- SQL ----------------------------------------------------------------------
// Every statement is a constant: the connection's statement cache is keyed
// by its address.


constexpr char kGetDocument[] =
    "SELECT " PAIDOC_SUMMARY_COLUMNS
    ", d.source_path, d.source_sha256, d.source_text, d.publisher_id, d.parsed_json,"
    " d.title_override, d.summary"
    " FROM documents d LEFT JOIN categories c ON c.id = d.category_id WHERE d.id = ?1";

constexpr char kGetRevision[] = "SELECT revision FROM documents WHERE id = ?1";

// Readers' listings: published documents only.
constexpr char kListAll[] = "SELECT " PAIDOC_SUMMARY_COLUMNS
                            " FROM documents d LEFT JOIN categories c ON c.id = d.category_id"
                            " WHERE d.status = 'published'"
                            " ORDER BY d.created_at DESC, d.id DESC LIMIT ?1 OFFSET ?2";
constexpr char kCountAll[] = "SELECT count(*) FROM documents";
constexpr char kCountPublished[] = "SELECT count(*) FROM documents WHERE status = 'published'";

constexpr char kListInCategory[] =
    "SELECT " PAIDOC_SUMMARY_COLUMNS
    " FROM documents d JOIN categories c ON c.id = d.category_id WHERE c.name = ?3"
    " AND d.status = 'published'"
    " ORDER BY d.created_at DESC, d.id DESC LIMIT ?1 OFFSET ?2";
constexpr char kCountInCategory[] =
    "SELECT count(*) FROM documents d JOIN categories c ON c.id = d.category_id"
    " WHERE c.name = ?1 AND d.status = 'published'";

// The console's listing: every filter optional (?3 category, ?4 status,
// ?5 price code, ?6 publisher id, ?7 publisher email, ?8 title substring),
// with the publisher's email. ?6 is cast: "?6 IS NULL" alone gives the
// server no type to prepare it with.
#define PAIDOC_CONSOLE_FROM                                                              \
  " FROM documents d LEFT JOIN categories c ON c.id = d.category_id"                    \
  " LEFT JOIN users u ON u.id = d.publisher_id"                                         \
  " WHERE (?3 = '' OR c.name = ?3) AND (?4 = '' OR d.status = ?4)"                      \
  " AND (?5 = 0 OR (?5 = 1 AND (d.price_fen = 0 OR d.has_paid = 0))"                    \
  "      OR (?5 = 2 AND d.price_fen > 0 AND d.has_paid = 1))"                           \
  " AND (?6::bigint IS NULL OR d.publisher_id = ?6) AND (?7 = '' OR u.email = ?7)"      \
  " AND (?8 = '' OR strpos(d.title, ?8) > 0)"
constexpr char kConsoleList[] = "SELECT " PAIDOC_SUMMARY_COLUMNS ", coalesce(u.email, '')"
    PAIDOC_CONSOLE_FROM " ORDER BY d.created_at DESC, d.id DESC LIMIT ?1 OFFSET ?2";
constexpr char kConsoleCount[] = "SELECT count(*)" PAIDOC_CONSOLE_FROM;
#undef PAIDOC_CONSOLE_FROM

// Category counts are what readers can reach: published documents.
constexpr char kListCategories[] =
    "SELECT c.id, c.name, count(d.id) FROM categories c"
    " LEFT JOIN documents d ON d.category_id = c.id AND d.status = 'published'"
    " GROUP BY c.id ORDER BY c.position, c.name";

// A document's state as the audit log and the revision rows compare it.
constexpr char kDocState[] =
    "SELECT d.revision, d.status, d.price_fen, coalesce(c.name, ''), d.title, d.title_override,"
    " d.summary, d.source_sha256, d.publisher_id, d.source_path"
    " FROM documents d LEFT JOIN categories c ON c.id = d.category_id WHERE d.id = ?1";
constexpr char kInsertRevision[] =
    "INSERT INTO document_revisions (document_id, revision, source_text, source_sha256, title,"
    " price_fen, category, summary, status, actor, created_at)"
    " SELECT d.id, d.revision, d.source_text, d.source_sha256, d.title, d.price_fen,"
    " coalesce(c.name, ''), d.summary, d.status, ?2, ?3"
    " FROM documents d LEFT JOIN categories c ON c.id = d.category_id WHERE d.id = ?1";
#define PAIDOC_REVISION_COLUMNS \
  "document_id, revision, source_sha256, title, price_fen, category, summary, status, actor, created_at"
constexpr char kListRevisions[] = "SELECT " PAIDOC_REVISION_COLUMNS
                                  " FROM document_revisions WHERE document_id = ?1"
                                  " ORDER BY revision DESC";
constexpr char kGetRevisionRow[] = "SELECT " PAIDOC_REVISION_COLUMNS ", source_text"
                                   " FROM document_revisions WHERE document_id = ?1 AND revision = ?2";
#undef PAIDOC_REVISION_COLUMNS
constexpr char kBulkStatus[] =
    "UPDATE documents SET status = ?2, revision = revision + 1, updated_at = ?3 WHERE id = ?1";
constexpr char kBulkPrice[] =
    "UPDATE documents SET price_fen = ?2, revision = revision + 1, updated_at = ?3 WHERE id = ?1";
constexpr char kBulkCategory[] =
    "UPDATE documents SET category_id = ?2, revision = revision + 1, updated_at = ?3 WHERE id = ?1";

// One document of a put_documents batch.
constexpr char kSavepointDoc[] = "SAVEPOINT put_doc";
constexpr char kRollbackToDoc[] = "ROLLBACK TO put_doc";
constexpr char kReleaseDoc[] = "RELEASE put_doc";

constexpr char kFindBySha[] = "SELECT id FROM documents WHERE source_sha256 = ?1";
constexpr char kFindByPath[] = "SELECT id FROM documents WHERE source_path = ?1";
constexpr char kFindCategory[] = "SELECT id FROM categories WHERE name = ?1";
// A new category goes at the end of the order (taxonomy.h).
constexpr char kInsertCategory[] =
    "INSERT INTO categories (name, created_at, position)"
    " VALUES (?1, ?2, (SELECT coalesce(max(position) + 1, 0) FROM categories))";

// Parameters ?1..?16 and ?18..?24 are bound by bind_document_fields();
// ?17 is the id of the document an update replaces.
constexpr char kInsertDocument[] =
    "INSERT INTO documents (title, category_id, price_fen, source_path, source_sha256,"
    " source_text, parsed_json, excerpt, free_chars, paid_chars, free_paragraphs,"
    " paid_paragraphs, paid_sections, has_paid, publisher_id, revision, created_at, updated_at,"
    " search_free, search_paid, search_version, search_keys, status, summary, title_override)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 1, ?16, ?16,"
    " ?18, ?19, ?20, ?21, ?22, ?23, ?24)";
constexpr char kUpdateDocument[] =
    "UPDATE documents SET title = ?1, category_id = ?2, price_fen = ?3, source_path = ?4,"
    " source_sha256 = ?5, source_text = ?6, parsed_json = ?7, excerpt = ?8, free_chars = ?9,"
    " paid_chars = ?10, free_paragraphs = ?11, paid_paragraphs = ?12, paid_sections = ?13,"
    " has_paid = ?14, publisher_id = ?15, revision = revision + 1, updated_at = ?16,"
    " search_free = ?18, search_paid = ?19, search_version = ?20, search_keys = ?21,"
    " status = ?22, summary = ?23, title_override = ?24"
    " WHERE id = ?17";

// --- accounts -----------------------------------------------------------------

// Columns read into a User by read_user(), in this order.
#define PAIDOC_USER_COLUMNS \
  "id, email, password_hash, role, created_at, deleted_at, disabled_at"

constexpr char kFindUserIdByEmail[] = "SELECT id FROM users WHERE email = ?1";
constexpr char kInsertUser[] =
    "INSERT INTO users (email, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4)";
constexpr char kGetUser[] = "SELECT " PAIDOC_USER_COLUMNS " FROM users WHERE id = ?1";
constexpr char kFindLiveUserByEmail[] =
    "SELECT " PAIDOC_USER_COLUMNS " FROM users WHERE email = ?1 AND deleted_at = 0";
constexpr char kListLiveUsers[] = "SELECT " PAIDOC_USER_COLUMNS
                                  " FROM users WHERE deleted_at = 0"
                                  " ORDER BY created_at, id LIMIT ?1 OFFSET ?2";
// search_users: the page and, in the same row, the total of all matches.
constexpr char kSearchLiveUsers[] = "SELECT " PAIDOC_USER_COLUMNS ", count(*) OVER ()"
                                    " FROM users WHERE deleted_at = 0"
                                    " AND email ILIKE ?1 ESCAPE '\\'"
                                    " ORDER BY created_at, id LIMIT ?2 OFFSET ?3";
// The total alone, for a page past the end (which has no row to carry it).
constexpr char kCountLiveUsers[] =
    "SELECT count(*) FROM users WHERE deleted_at = 0 AND email ILIKE ?1 ESCAPE '\\'";
constexpr char kDisableUser[] =
    "UPDATE users SET disabled_at = ?2 WHERE id = ?1 AND deleted_at = 0 AND disabled_at = 0";
constexpr char kEnableUser[] =
    "UPDATE users SET disabled_at = 0 WHERE id = ?1 AND deleted_at = 0 AND disabled_at <> 0";
constexpr char kSetRole[] = "UPDATE users SET role = ?2 WHERE id = ?1 AND deleted_at = 0";
constexpr char kSetPasswordHash[] =
    "UPDATE users SET password_hash = ?2 WHERE id = ?1 AND deleted_at = 0";
constexpr char kIsLiveUser[] = "SELECT deleted_at FROM users WHERE id = ?1";
constexpr char kAnonymiseUser[] =
    "UPDATE users SET email = ?2, password_hash = '', role = 'deleted', deleted_at = ?3"
    " WHERE id = ?1";

#undef PAIDOC_USER_COLUMNS

// The domain of anonymised addresses. ".invalid" is reserved (RFC 2606), so
// no real address collides with one; create_user refuses it all the same.
constexpr char kDeletedEmailDomain[] = "@deleted.invalid";

// --- sessions -----------------------------------------------------------------

// Columns read into a Session by read_session(), in this order.
#define PAIDOC_SESSION_COLUMNS \
  "id, user_id, token_hash, created_at, last_seen_at, expires_at, user_agent, ip"

constexpr char kInsertSession[] =
    "INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at, expires_at,"
    " user_agent, ip) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kFindSession[] =
    "SELECT " PAIDOC_SESSION_COLUMNS " FROM sessions WHERE token_hash = ?1";
// last_seen_at never moves backwards when two requests of one session touch
// it out of order.
constexpr char kTouchSession[] =
    "UPDATE sessions SET last_seen_at = greatest(last_seen_at, ?2::bigint) WHERE id = ?1";
constexpr char kDeleteSession[] = "DELETE FROM sessions WHERE id = ?1";
constexpr char kDeleteUserSessions[] = "DELETE FROM sessions WHERE user_id = ?1 AND id <> ?2";
constexpr char kListSessions[] = "SELECT " PAIDOC_SESSION_COLUMNS
                                 " FROM sessions WHERE user_id = ?1"
                                 " ORDER BY created_at DESC, id DESC";
constexpr char kDeleteExpiredSessions[] = "DELETE FROM sessions WHERE expires_at <= ?1";

#undef PAIDOC_SESSION_COLUMNS

// --- throttles ----------------------------------------------------------------

constexpr char kGetThrottle[] =
    "SELECT count, window_start, locked_until FROM throttles WHERE key = ?1";
constexpr char kPutThrottle[] =
    "INSERT INTO throttles (key, count, window_start, locked_until) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (key) DO UPDATE SET count = excluded.count,"
    " window_start = excluded.window_start, locked_until = excluded.locked_until";
constexpr char kDeleteThrottle[] = "DELETE FROM throttles WHERE key = ?1";
constexpr char kUndoThrottleHit[] =
    "UPDATE throttles SET count = count - 1 WHERE key = ?1 AND count > 0";

// --- helpers ------------------------------------------------------------------

// Runs `f` and turns any exception (allocation failure, JSON errors, a
// system_error from a mutex) into kInternal: nothing escapes the store.
template <typename T, typename F>
Result<T> guarded(const char* what, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgresql: ") + what + ": " + e.what());
  }
}

// Nothing to return but success.
struct Done {};

// A write that answers a Status, as a writer of in_write_txn<Done>.
template <typename F>
auto as_done(F&& f) {
  return [f = std::forward<F>(f)](Connection& c) -> Result<Done> {
    Status s = f(c);
    if (!s.is_ok()) return s;
    return Done{};
  };
}

// guarded() for the methods that answer a Status.
template <typename F>
Status guarded_status(const char* what, F&& f) {
  return guarded<Done>(what, std::forward<F>(f)).status();
}


// The id in the first column of the single row `sql` returns for `key`, or
// nullopt when there is no row.
Status run_cached(Connection& c, const char* sql) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  return st->exec();
}

Result<std::optional<int64_t>> find_id(Connection& c, const char* sql, const std::string& key) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  st->bind(1, key);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<int64_t>();
  return std::optional<int64_t>(st->int64(0));
}

Result<int64_t> count(Connection& c, const char* sql, const std::string* category) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  if (category != nullptr) st->bind(1, *category);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::internal("postgresql: count returned no row");
  return st->int64(0);
}

// The category's id, inserting it when missing. REQUIRES: inside a write
// transaction.
Result<int64_t> ensure_category(Connection& c, const std::string& name, int64_t now) {
  auto found = find_id(c, kFindCategory, name);
  if (!found.ok()) return found.status();
  if (found->has_value()) return **found;
  auto st = c.stmt(kInsertCategory);
  if (!st.ok()) return st.status();
  if (Status s = st->bind(1, name).bind(2, now).exec(); !s.is_ok()) return s;
  return c.last_insert_id();
}

User read_user(const Stmt& st) {
  User u;
  u.id = st.int64(0);
  u.email = st.text(1);
  u.password_hash = st.text(2);
  // The schema's CHECK admits only the roles enums.h names; should a newer
  // program have added one, this one grants it the least: a reader's.
  u.role = parse_role(st.text(3)).value_or(Role::kReader);
  u.created_at = st.int64(4);
  u.deleted_at = st.int64(5);
  u.disabled_at = st.int64(6);
  return u;
}

Session read_session(const Stmt& st) {
  Session s;
  s.id = st.int64(0);
  s.user_id = st.int64(1);
  s.token_hash = st.text(2);
  s.created_at = st.int64(3);
  s.last_seen_at = st.int64(4);
  s.expires_at = st.int64(5);
  s.user_agent = st.text(6);
  s.ip = st.text(7);
  return s;
}

// The roles a caller may give; kDeleted is the store's own.
Status check_role(Role role) {
  if (role == Role::kReader || role == Role::kEditor || role == Role::kAdmin) return Status();
  return Status::invalid("role '" + std::string(to_string(role)) +
                         "' cannot be given (reader, editor or admin)");
}

Status user_not_found(int64_t id) {
  return Status::not_found("user " + std::to_string(id) + " does not exist");
}

// Rows changed by the last INSERT/UPDATE/DELETE on the connection.
int64_t changes(Connection& c) { return c.changes(); }

// set_user_disabled's body. REQUIRES: inside a write transaction on c.
Result<bool> set_user_disabled_in(Connection& c, int64_t user_id, bool disabled, int64_t now) {
  {
    auto st = c.stmt(disabled ? kDisableUser : kEnableUser);
    if (!st.ok()) return st.status();
    st->bind(1, user_id);
    if (disabled) st->bind(2, now);
    if (Status s = st->exec(); !s.is_ok()) return s;
  }
  const bool changed = changes(c) != 0;
  if (!changed) {
    auto st = c.stmt(kIsLiveUser);
    if (!st.ok()) return st.status();
    st->bind(1, user_id);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row || st->int64(0) != 0) return user_not_found(user_id);
  }
  if (disabled) {
    // Whatever was open ends now, also when the account was disabled
    // already (a session created in a race with the first disable).
    auto st = c.stmt(kDeleteUserSessions);
    if (!st.ok()) return st.status();
    if (Status s = st->bind(1, user_id).bind(2, int64_t{0}).exec(); !s.is_ok()) return s;
  }
  return changed;
}

// What put_document writes, prepared before the write is queued so the
// writer (and the database write lock) spends its time on the statements
// alone.
struct Row {
  const NewDocument* in = nullptr;
  doc::Figures figures;
  std::string parsed_json;
  bool has_paid = false;
  std::optional<int64_t> category_id;
  int64_t now = 0;
  SearchTexts search;
  text::KeywordCandidates paid_words;  // of search.paid, for choose_keywords_in
  std::vector<std::string> words;      // document_words(), for keyword_df
  std::string keys;                // the keyword column, chosen in the transaction
  // Set in the transaction (afresh on each run): where it is stored, who
  // published it, and the publisher's fields (kept from the stored
  // document when an import replaces it).
  std::string source_path;
  std::optional<int64_t> publisher_id;
  DocStatus status = DocStatus::kPublished;
  std::string summary;
  std::string title_override;
};

void bind_document_fields(Stmt& st, const Row& r) {
  const NewDocument& d = *r.in;
  st.bind(1, r.title_override.empty() ? d.parsed.title : r.title_override)
      .bind(2, r.category_id)
      .bind(3, d.price.value())
      .bind(4, r.source_path)
      .bind(5, d.source_sha256)
      .bind(6, d.source_text)
      .bind(7, r.parsed_json)
      .bind(8, d.excerpt)
      .bind(9, r.figures.free_chars)
      .bind(10, r.figures.paid_chars)
      .bind(11, r.figures.free_paragraphs)
      .bind(12, r.figures.paid_paragraphs)
      .bind(13, int64_t{r.figures.paid_sections})
      .bind(14, int64_t{r.has_paid ? 1 : 0})
      .bind(15, r.publisher_id)
      .bind(16, r.now)
      .bind(18, r.search.free)
      .bind(19, r.search.paid)
      .bind(20, int64_t{kSearchVersion})
      .bind(21, r.keys)
      .bind(22, to_string(r.status))
      .bind(23, r.summary)
      .bind(24, r.title_override);
}

// A document's state, as revisions and the audit log compare it.
struct DocState {
  int64_t revision = 0;
  std::string status;
  int64_t price_fen = 0;
  std::string category;
  std::string title;  // as shown
  std::string title_override;
  std::string summary;
  std::string sha256;
  std::optional<int64_t> publisher_id;
  std::string source_path;
};

Result<std::optional<DocState>> read_state_in(Connection& c, int64_t id) {
  auto st = c.stmt(kDocState);
  if (!st.ok()) return st.status();
  st->bind(1, id);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<DocState>();
  DocState s;
  s.revision = st->int64(0);
  s.status = st->text(1);
  s.price_fen = st->int64(2);
  s.category = st->text(3);
  s.title = st->text(4);
  s.title_override = st->text(5);
  s.summary = st->text(6);
  s.sha256 = st->text(7);
  if (!st->is_null(8)) s.publisher_id = st->int64(8);
  s.source_path = st->text(9);
  return std::optional<DocState>(std::move(s));
}

nlohmann::json from_to(const nlohmann::json& a, const nlohmann::json& b) {
  return {{"from", a}, {"to", b}};
}

// After a change to document `id` (from `before`; nullopt: created): its
// revision row and, when the actor has a label, its audit entries.
// REQUIRES: inside a write transaction.
// The tags of a document before and after a save, when they changed.
struct TagChange {
  std::vector<std::string> before, after;
};

Status record_change_in(Connection& c, int64_t id, const std::optional<DocState>& before,
                        const AuditActor& actor, std::optional<int64_t> restored_from,
                        int64_t now, const std::optional<TagChange>& tags = std::nullopt) {
  auto after = read_state_in(c, id);
  if (!after.ok()) return after.status();
  if (!after->has_value()) return Status::internal("postgresql: changed document vanished");
  const DocState& a = **after;
  {
    auto st = c.stmt(kInsertRevision);
    if (!st.ok()) return st.status();
    if (Status s = st->bind(1, id).bind(2, actor.label).bind(3, now).exec(); !s.is_ok()) return s;
  }
  if (actor.label.empty()) return Status();
  std::vector<std::pair<const char*, nlohmann::json>> entries;
  if (!before) {
    entries.push_back({audit_action::kDocumentCreate,
                       {{"title", a.title},
                        {"status", a.status},
                        {"price_fen", a.price_fen},
                        {"category", a.category},
                        {"revision", a.revision}}});
    if (tags) entries.back().second["tags"] = tags->after;
  } else if (restored_from) {
    entries.push_back({audit_action::kDocumentRestore,
                       {{"restored_revision", *restored_from},
                        {"revision", from_to(before->revision, a.revision)}}});
  } else {
    const DocState& b = *before;
    if (b.sha256 != a.sha256 || b.title != a.title || b.summary != a.summary) {
      nlohmann::json d = {{"revision", from_to(b.revision, a.revision)}};
      if (b.title != a.title) d["title"] = from_to(b.title, a.title);
      entries.push_back({audit_action::kDocumentUpdate, std::move(d)});
    }
    if (b.price_fen != a.price_fen)
      entries.push_back({audit_action::kDocumentPrice,
                         {{"price_fen", from_to(b.price_fen, a.price_fen)}, {"revision", a.revision}}});
    if (b.category != a.category)
      entries.push_back({audit_action::kDocumentCategory,
                         {{"category", from_to(b.category, a.category)}, {"revision", a.revision}}});
    if (b.status != a.status)
      entries.push_back({a.status == "draft" ? audit_action::kDocumentUnpublish
                                             : audit_action::kDocumentPublish,
                         {{"status", from_to(b.status, a.status)}, {"revision", a.revision}}});
  }
  if (tags && before)
    entries.push_back({audit_action::kDocumentTags,
                       {{"tags", from_to(tags->before, tags->after)}, {"revision", a.revision}}});
  for (auto& [action, details] : entries) {
    AuditEntry e;
    e.at = now;
    e.actor_user_id = actor.user_id;
    e.actor = actor.label;
    e.action = action;
    e.target_kind = "document";
    e.target_id = id;
    e.details = details.dump();
    e.ip = actor.ip;
    if (Status s = check_audit_entry(e); !s.is_ok()) return s;
    auto appended = append_audit_in(c, e);
    if (!appended.ok()) return appended.status();
  }
  return Status();
}

DocumentRevision read_revision(const Stmt& st) {
  DocumentRevision r;
  r.document_id = st.int64(0);
  r.revision = st.int64(1);
  r.source_sha256 = st.text(2);
  r.title = st.text(3);
  r.price = Fen(st.int64(4));
  r.category = st.text(5);
  r.summary = st.text(6);
  r.status = parse_doc_status(st.text(7)).value_or(DocStatus::kDraft);
  r.actor = st.text(8);
  r.created_at = st.int64(9);
  return r;
}

// --- the store ----------------------------------------------------------------

class PgStore final : public Store, public SiteImport, public HealthStore {
 public:
  PgStore(std::unique_ptr<Pool> pool, Options options, std::string conninfo)
      : pool_(std::move(pool)), options_(options), conninfo_(std::move(conninfo)) {}

  // ---- health (store/health.h) -------------------------------------------------
  Status probe() override {
    return guarded_status("probe", [&]() -> Result<Done> {
      if (Status d = damage(); !d.is_ok()) return d;
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      if (Status s = probe_in(*lease.value()); !s.is_ok()) return s;
      return Done{};
    });
  }

  Result<IntegrityReport> check_integrity(IntegrityDepth depth) override {
    return guarded<IntegrityReport>("check_integrity", [&]() -> Result<IntegrityReport> {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      auto r = check_integrity_in(*lease.value(), depth);
      if (r.ok() && !r->ok) {
        note(Status::internal("postgresql: " + std::string(kDamaged) + "reading " + r->checked +
                              " found: " + r->problems.front()));
      }
      return r;
    });
  }

  // SiteImport: on a connection of its own (transfer.h).
  Result<ImportReport> import_site(const std::function<Status(RowSink&)>& fill) override {
    return guarded<ImportReport>("import_site", [&]() -> Result<ImportReport> {
      return postgres::import_site(conninfo_, options_.lock_timeout_ms, fill);
    });
  }

  Result<int> schema_version() override {
    return guarded<int>("schema_version", [&]() -> Result<int> {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      return current_schema_version(*lease.value());
    });
  }

  Result<PutResult> put_document(const NewDocument& d, int64_t now) override {
    return forgetting_revisions(guarded<PutResult>("put_document", [&]() -> Result<PutResult> { return put(d, now); }));
  }

  Result<std::vector<Result<PutResult>>> put_documents(const std::vector<NewDocument>& docs,
                                                       int64_t now) override {
    return forgetting_revisions(guarded<std::vector<Result<PutResult>>>(
        "put_documents",
        [&]() -> Result<std::vector<Result<PutResult>>> { return put_many(docs, now); }));
  }

  Result<StoredDocument> get_document(int64_t id) override {
    return guarded<StoredDocument>("get_document", [&]() -> Result<StoredDocument> {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Connection& c = *lease.value();
      auto st = c.stmt(kGetDocument);
      if (!st.ok()) return st.status();
      st->bind(1, id);
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) return Status::not_found("document " + std::to_string(id) + " does not exist");
      StoredDocument out;
      out.summary = read_summary(*st);
      constexpr int k = kSummaryColumnCount;
      out.source_path = st->text(k);
      out.source_sha256 = st->text(k + 1);
      out.source_text = st->text(k + 2);
      if (!st->is_null(k + 3)) out.publisher_id = st->int64(k + 3);
      out.title_override = st->text(k + 5);
      out.summary_text = st->text(k + 6);
      try {
        nlohmann::json::parse(st->text(k + 4)).get_to(out.parsed);
      } catch (const nlohmann::json::exception& e) {
        return Status::internal("postgresql: document " + std::to_string(id) +
                                " has unreadable parsed_json: " + e.what());
      }
      return out;
    });
  }

  // Asked on every anonymous page view (the render cache's key): answered
  // from the revision watch when it holds the document, else read and kept
  // there (revision_watch.h).
  Result<int64_t> document_revision(int64_t id) override {
    return guarded<int64_t>("document_revision", [&]() -> Result<int64_t> {
      RevisionWatch& watch = revision_watch();
      if (std::optional<int64_t> kept = watch.get(id)) return *kept;
      const uint64_t epoch = watch.epoch();
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      auto st = lease.value()->stmt(kGetRevision);
      if (!st.ok()) return st.status();
      st->bind(1, id);
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) return Status::not_found("document " + std::to_string(id) + " does not exist");
      const int64_t revision = st->int64(0);
      watch.keep(id, revision, epoch);
      return revision;
    });
  }

  Result<SearchPage> search(const SearchQuery& q) override {
    return guarded<SearchPage>("search", [&]() -> Result<SearchPage> {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Connection& c = *lease.value();
      Txn txn(c);
      if (Status s = txn.begin(Txn::Kind::kRead); !s.is_ok()) return s;
      auto page = search_in(c, q);
      if (!page.ok()) return page.status();
      if (Status s = txn.commit(); !s.is_ok()) return s;
      return page;
    });
  }

  Result<int64_t> search_count(const SearchQuery& q) override {
    return guarded<int64_t>("search_count", [&]() -> Result<int64_t> {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      return search_count_in(*lease.value(), q);
    });
  }

  Result<ListPage> list_documents(const ListQuery& q) override {
    return guarded<ListPage>("list_documents", [&]() -> Result<ListPage> {
      if (q.limit < 1 || q.limit > 1000) {
        return Status::invalid("list limit must be 1..1000, not " + std::to_string(q.limit));
      }
      if (q.offset < 0) {
        return Status::invalid("list offset must not be negative: " + std::to_string(q.offset));
      }
      const bool all = q.category.empty();
      const bool readers = q.status == DocStatus::kPublished && q.title_contains.empty() &&
                           q.price == ListPrice::kAny && !q.publisher_id &&
                           q.publisher_email.empty();
      if (!readers) return list_console(q);
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Connection& c = *lease.value();
      // One read transaction: the total and the page come from one snapshot.
      Txn txn(c);
      if (Status s = txn.begin(Txn::Kind::kRead); !s.is_ok()) return s;
      ListPage page;
      if (!q.tag.empty()) {
        auto tagged = list_tagged_in(c, q);
        if (!tagged.ok()) return tagged.status();
        if (Status s = txn.commit(); !s.is_ok()) return s;
        return tagged;
      }
      {
        auto total =
            all ? count(c, kCountPublished, nullptr) : count(c, kCountInCategory, &q.category);
        if (!total.ok()) return total.status();
        page.total = *total;
      }
      if (q.offset < page.total) {
        auto st = c.stmt(all ? kListAll : kListInCategory);
        if (!st.ok()) return st.status();
        st->bind(1, q.limit).bind(2, q.offset);
        if (!all) st->bind(3, q.category);
        page.items.reserve(static_cast<size_t>(std::min(q.limit, page.total - q.offset)));
        for (;;) {
          auto row = st->step();
          if (!row.ok()) return row.status();
          if (!*row) break;
          page.items.push_back(read_summary(*st));
        }
      }
      if (Status s = txn.commit(); !s.is_ok()) return s;
      return page;
    });
  }

  Result<std::vector<Category>> list_categories() override {
    return guarded<std::vector<Category>>(
        "list_categories", [&]() -> Result<std::vector<Category>> {
          auto lease = pool_->acquire();
          if (!lease.ok()) return lease.status();
          auto st = lease.value()->stmt(kListCategories);
          if (!st.ok()) return st.status();
          std::vector<Category> out;
          for (;;) {
            auto row = st->step();
            if (!row.ok()) return row.status();
            if (!*row) break;
            out.push_back(Category{st->int64(0), st->text(1), st->int64(2)});
          }
          return out;
        });
  }

  Result<int64_t> count_documents() override {
    return guarded<int64_t>("count_documents", [&]() -> Result<int64_t> {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      return count(*lease.value(), kCountAll, nullptr);
    });
  }

  Result<PutResult> save_document(const DocumentEdit& e, int64_t now) override {
    return forgetting_revisions(guarded<PutResult>("save_document", [&]() -> Result<PutResult> {
      if (e.id < 0) return Status::invalid("save_document: negative id");
      auto row = prepare_row(e.doc);
      if (!row.ok()) return row.status();
      Row& r = *row;
      r.now = now;
      const NewDocument& d = e.doc;
      std::optional<std::vector<std::string>> tags;
      if (e.tags) {
        auto clean = normalize_tag_names(*e.tags);
        if (!clean.ok()) return clean.status();
        tags = std::move(*clean);
      }
      return in_write_txn<PutResult>([&](Connection& c) -> Result<PutResult> {
        std::optional<DocState> before;
        std::optional<TagChange> tag_change;
        if (e.id != 0) {
          auto state = read_state_in(c, e.id);
          if (!state.ok()) return state.status();
          if (!state->has_value())
            return Status::not_found("document " + std::to_string(e.id) + " does not exist");
          before = std::move(*state);
          if (before->revision != e.base_revision) {
            return Status::conflict("document " + std::to_string(e.id) + " is at revision " +
                                    std::to_string(before->revision) + ", not " +
                                    std::to_string(e.base_revision));
          }
        }
        auto same = find_id(c, kFindBySha, d.source_sha256);
        if (!same.ok()) return same.status();
        if (same->has_value() && **same != e.id) {
          return Status::conflict("document " + std::to_string(**same) +
                                  " already has this source");
        }
        r.status = d.status;
        r.summary = d.summary;
        r.title_override = d.title == d.parsed.title ? std::string() : d.title;
        if (tags) {
          std::vector<std::string> had;
          if (before) {
            auto names = document_tags_in(c, e.id);
            if (!names.ok()) return names.status();
            had = std::move(*names);
          }
          // Compared as sets: the stored order is the tags' list order.
          if (std::set<std::string>(had.begin(), had.end()) !=
              std::set<std::string>(tags->begin(), tags->end()))
            tag_change = TagChange{std::move(had), *tags};
        }
        if (before) {
          r.source_path = before->source_path;
          r.publisher_id = before->publisher_id;
          const std::string title = r.title_override.empty() ? d.parsed.title : r.title_override;
          if (!tag_change && before->sha256 == d.source_sha256 && before->title == title &&
              before->title_override == r.title_override && before->summary == r.summary &&
              before->status == to_string(r.status) && before->price_fen == d.price.value() &&
              before->category == d.category) {
            return PutResult{e.id, PutOutcome::kUnchanged};
          }
        } else {
          if (d.source_path.empty()) return Status::invalid("save_document: source_path is empty");
          r.source_path = d.source_path;
          r.publisher_id = d.publisher_id;
        }
        auto result = write_row_in(c, r, before ? std::optional<int64_t>(e.id) : std::nullopt);
        if (!result.ok()) return result.status();
        if (tag_change) {
          // write_row_in made the new revision; the tags join it.
          if (Status s = set_document_tags_in(c, result->id, tag_change->after, now, false);
              !s.is_ok())
            return s;
        }
        if (Status s =
                record_change_in(c, result->id, before, d.actor, e.restored_from, now, tag_change);
            !s.is_ok()) {
          return s;
        }
        return result;
      });
    }));
  }

  Result<int64_t> bulk_update_documents(const std::vector<int64_t>& ids, const BulkChange& change,
                                        std::optional<int64_t> only_publisher,
                                        const AuditActor& actor, int64_t now) override {
    return forgetting_revisions(guarded<int64_t>("bulk_update_documents", [&]() -> Result<int64_t> {
      if (change.kind == BulkChange::Kind::kPrice && change.price.value() < 0)
        return Status::invalid("bulk_update_documents: negative price");
      return in_write_txn<int64_t>([&](Connection& c) -> Result<int64_t> {
        int64_t changed = 0;  // afresh on each run
        std::set<int64_t> seen;
        std::optional<int64_t> category_id;
        if (change.kind == BulkChange::Kind::kCategory && !change.category.empty()) {
          auto cid = ensure_category(c, change.category, now);
          if (!cid.ok()) return cid.status();
          category_id = *cid;
        }
        for (int64_t id : ids) {
          if (!seen.insert(id).second) continue;
          auto state = read_state_in(c, id);
          if (!state.ok()) return state.status();
          if (!state->has_value()) continue;
          const DocState& b = **state;
          if (only_publisher && b.publisher_id != only_publisher) continue;
          const char* sql = nullptr;
          const char* to_status = change.kind == BulkChange::Kind::kPublish ? "published" : "draft";
          switch (change.kind) {
            case BulkChange::Kind::kPublish:
            case BulkChange::Kind::kUnpublish:
              if (b.status == to_status) continue;
              sql = kBulkStatus;
              break;
            case BulkChange::Kind::kPrice:
              if (b.price_fen == change.price.value()) continue;
              sql = kBulkPrice;
              break;
            case BulkChange::Kind::kCategory:
              if (b.category == change.category) continue;
              sql = kBulkCategory;
              break;
          }
          auto st = c.stmt(sql);
          if (!st.ok()) return st.status();
          if (change.kind == BulkChange::Kind::kPrice) st->bind(2, change.price.value());
          else if (change.kind == BulkChange::Kind::kCategory) st->bind(2, category_id);
          else st->bind(2, std::string_view(to_status));
          if (Status s = st->bind(1, id).bind(3, now).exec(); !s.is_ok()) return s;
          if (Status s = record_change_in(c, id, *state, actor, std::nullopt, now); !s.is_ok())
            return s;
          ++changed;
        }
        return changed;
      });
    }));
  }

  Result<std::vector<DocumentRevision>> document_revisions(int64_t id) override {
    return guarded<std::vector<DocumentRevision>>(
        "document_revisions", [&]() -> Result<std::vector<DocumentRevision>> {
          return in_read_txn<std::vector<DocumentRevision>>(
              [&](Connection& c) -> Result<std::vector<DocumentRevision>> {
                auto state = read_state_in(c, id);
                if (!state.ok()) return state.status();
                if (!state->has_value())
                  return Status::not_found("document " + std::to_string(id) + " does not exist");
                auto st = c.stmt(kListRevisions);
                if (!st.ok()) return st.status();
                st->bind(1, id);
                std::vector<DocumentRevision> out;
                for (;;) {
                  auto row = st->step();
                  if (!row.ok()) return row.status();
                  if (!*row) break;
                  out.push_back(read_revision(*st));
                }
                return out;
              });
        });
  }

  Result<DocumentRevision> get_document_revision(int64_t id, int64_t revision) override {
    return guarded<DocumentRevision>("get_document_revision", [&]() -> Result<DocumentRevision> {
      auto r = read_one<DocumentRevision>(
          kGetRevisionRow,
          [](const Stmt& st) {
            DocumentRevision out = read_revision(st);
            out.source_text = st.text(10);
            return out;
          },
          [&](Stmt& st) { st.bind(1, id).bind(2, revision); });
      if (!r.ok()) return r.status();
      if (!r->has_value())
        return Status::not_found("document " + std::to_string(id) + " has no revision " +
                                 std::to_string(revision));
      return std::move(**r);
    });
  }

  // ---- accounts ----

  Result<User> create_user(const NewUser& u, int64_t now) override {
    return guarded<User>("create_user", [&]() -> Result<User> {
      if (u.email.empty()) return Status::invalid("create_user: email is empty");
      if (u.email.ends_with(kDeletedEmailDomain)) {
        return Status::invalid("create_user: addresses at " +
                               std::string(kDeletedEmailDomain).substr(1) + " are reserved");
      }
      if (u.password_hash.empty()) return Status::invalid("create_user: password hash is empty");
      if (Status s = check_role(u.role); !s.is_ok()) return s;
      return in_write_txn<User>([&](Connection& c) -> Result<User> {
        // Checked first so the answer does not depend on how the driver
        // words a UNIQUE failure; the constraint still guards races with
        // other processes (and then answers kConflict as well).
        auto existing = find_id(c, kFindUserIdByEmail, u.email);
        if (!existing.ok()) return existing.status();
        if (existing->has_value()) return Status::conflict("email already registered");
        User out;
        out.email = u.email;
        out.password_hash = u.password_hash;
        out.role = u.role;
        out.created_at = now;
        auto st = c.stmt(kInsertUser);
        if (!st.ok()) return st.status();
        st->bind(1, u.email)
            .bind(2, u.password_hash)
            .bind(3, to_string(u.role))
            .bind(4, out.created_at);
        if (Status s = st->exec(); !s.is_ok()) return s;
        auto id = c.last_insert_id();
        if (!id.ok()) return id.status();
        out.id = *id;
        return out;
      });
    });
  }

  Result<User> find_user_by_email(const std::string& email) override {
    return guarded<User>("find_user_by_email", [&]() -> Result<User> {
      auto u =
          read_one<User>(kFindLiveUserByEmail, read_user, [&](Stmt& st) { st.bind(1, email); });
      if (!u.ok()) return u.status();
      if (!u->has_value()) return Status::not_found("no account with this email");
      return std::move(**u);
    });
  }

  Result<User> get_user(int64_t id) override {
    return guarded<User>("get_user", [&]() -> Result<User> {
      auto u = read_one<User>(kGetUser, read_user, [&](Stmt& st) { st.bind(1, id); });
      if (!u.ok()) return u.status();
      if (!u->has_value()) return user_not_found(id);
      return std::move(**u);
    });
  }

  Result<std::vector<User>> list_users(int64_t offset, int64_t limit) override {
    return guarded<std::vector<User>>("list_users", [&]() -> Result<std::vector<User>> {
      if (limit < 1 || limit > 1000) {
        return Status::invalid("list limit must be 1..1000, not " + std::to_string(limit));
      }
      if (offset < 0) {
        return Status::invalid("list offset must not be negative: " + std::to_string(offset));
      }
      return read_all<User>(kListLiveUsers, read_user,
                            [&](Stmt& st) { st.bind(1, limit).bind(2, offset); });
    });
  }

  Result<UserPage> search_users(const std::string& query, int64_t offset,
                                int64_t limit) override {
    return guarded<UserPage>("search_users", [&]() -> Result<UserPage> {
      if (limit < 1 || limit > 1000) {
        return Status::invalid("list limit must be 1..1000, not " + std::to_string(limit));
      }
      if (offset < 0) {
        return Status::invalid("list offset must not be negative: " + std::to_string(offset));
      }
      const std::string pattern = like_contains(query);
      return in_read_txn<UserPage>([&](Connection& c) -> Result<UserPage> {
        UserPage page;
        auto st = c.stmt(kSearchLiveUsers);
        if (!st.ok()) return st.status();
        st->bind(1, pattern).bind(2, limit).bind(3, offset);
        for (;;) {
          auto row = st->step();
          if (!row.ok()) return row.status();
          if (!*row) break;
          page.items.push_back(read_user(*st));
          page.total = st->int64(7);
        }
        if (page.items.empty() && offset > 0) {
          auto n = c.stmt(kCountLiveUsers);
          if (!n.ok()) return n.status();
          n->bind(1, pattern);
          auto row = n->step();
          if (!row.ok()) return row.status();
          if (*row) page.total = n->int64(0);
        }
        return page;
      });
    });
  }

  Result<bool> set_user_disabled(int64_t user_id, bool disabled, int64_t now) override {
    return guarded<bool>("set_user_disabled", [&]() -> Result<bool> {
      if (disabled && now <= 0) return Status::invalid("set_user_disabled: now must be positive");
      return in_write_txn<bool>(
          [&](Connection& c) { return set_user_disabled_in(c, user_id, disabled, now); });
    });
  }

  Status set_user_role(int64_t user_id, Role role) override {
    return guarded_status("set_user_role", [&]() -> Result<Done> {
      if (Status s = check_role(role); !s.is_ok()) return s;
      auto n = write_one(kSetRole, [&](Stmt& st) { st.bind(1, user_id).bind(2, to_string(role)); });
      if (!n.ok()) return n.status();
      if (*n == 0) return user_not_found(user_id);
      return Done{};
    });
  }

  Status set_password_hash(int64_t user_id, const std::string& hash,
                           int64_t keep_session_id) override {
    return guarded_status("set_password_hash", [&]() -> Result<Done> {
      if (hash.empty()) return Status::invalid("set_password_hash: hash is empty");
      return in_write_txn<Done>([&](Connection& c) -> Result<Done> {
        {
          auto st = c.stmt(kSetPasswordHash);
          if (!st.ok()) return st.status();
          if (Status s = st->bind(1, user_id).bind(2, hash).exec(); !s.is_ok()) return s;
          if (changes(c) == 0) return user_not_found(user_id);
        }
        auto st = c.stmt(kDeleteUserSessions);
        if (!st.ok()) return st.status();
        if (Status s = st->bind(1, user_id).bind(2, keep_session_id).exec(); !s.is_ok()) {
          return s;
        }
        return Done{};
      });
    });
  }

  // Deleting an account that is already deleted changes nothing (the first
  // deleted_at stays) and is not an error.
  Status delete_user(int64_t user_id, int64_t now) override {
    return guarded_status("delete_user", [&]() -> Result<Done> {
      if (now <= 0) return Status::invalid("delete_user: now must be positive");
      return in_write_txn<Done>([&](Connection& c) -> Result<Done> {
        {
          auto st = c.stmt(kIsLiveUser);
          if (!st.ok()) return st.status();
          st->bind(1, user_id);
          auto row = st->step();
          if (!row.ok()) return row.status();
          if (!*row) return user_not_found(user_id);
          if (st->int64(0) != 0) return Done{};
        }
        {
          auto st = c.stmt(kAnonymiseUser);
          if (!st.ok()) return st.status();
          std::string email =
              "deleted-" + std::to_string(user_id) + std::string(kDeletedEmailDomain);
          if (Status s = st->bind(1, user_id).bind(2, email).bind(3, now).exec(); !s.is_ok()) {
            return s;
          }
        }
        auto st = c.stmt(kDeleteUserSessions);
        if (!st.ok()) return st.status();
        if (Status s = st->bind(1, user_id).bind(2, int64_t{0}).exec(); !s.is_ok()) {
          return s;
        }
        return Done{};
      });
    });
  }

  // ---- sessions ----

  // kNotFound when the user is absent or deleted; kConflict when another
  // session already has the token hash.
  Result<Session> create_session(const Session& s, int64_t replace_session_id) override {
    return guarded<Session>("create_session", [&]() -> Result<Session> {
      if (s.token_hash.empty()) return Status::invalid("create_session: token hash is empty");
      return in_write_txn<Session>([&](Connection& c) -> Result<Session> {
        {
          auto st = c.stmt(kIsLiveUser);
          if (!st.ok()) return st.status();
          st->bind(1, s.user_id);
          auto row = st->step();
          if (!row.ok()) return row.status();
          if (!*row || st->int64(0) != 0) return user_not_found(s.user_id);
        }
        if (replace_session_id != 0) {
          auto st = c.stmt(kDeleteSession);
          if (!st.ok()) return st.status();
          if (Status r = st->bind(1, replace_session_id).exec(); !r.is_ok()) return r;
        }
        auto st = c.stmt(kInsertSession);
        if (!st.ok()) return st.status();
        st->bind(1, s.user_id)
            .bind(2, s.token_hash)
            .bind(3, s.created_at)
            .bind(4, s.last_seen_at)
            .bind(5, s.expires_at)
            .bind(6, s.user_agent)
            .bind(7, s.ip);
        if (Status r = st->exec(); !r.is_ok()) return r;
        Session out = s;
        auto id = c.last_insert_id();
        if (!id.ok()) return id.status();
        out.id = *id;
        return out;
      });
    });
  }

  // Runs on every signed-in request: one pooled connection, one cached
  // statement, no explicit transaction.
  Result<Session> find_session(const std::string& token_hash) override {
    return guarded<Session>("find_session", [&]() -> Result<Session> {
      auto s =
          read_one<Session>(kFindSession, read_session, [&](Stmt& st) { st.bind(1, token_hash); });
      if (!s.ok()) return s.status();
      if (!s->has_value()) return Status::not_found("no session with this token");
      return std::move(**s);
    });
  }

  // Also on the request path, and a write: callers should touch only when
  // last_seen_at is noticeably old (each touch is a synced commit).
  // kNotFound when the session does not exist.
  Status touch_session(int64_t session_id, int64_t now) override {
    return guarded_status("touch_session", [&]() -> Result<Done> {
      auto n = write_one(kTouchSession, [&](Stmt& st) { st.bind(1, session_id).bind(2, now); });
      if (!n.ok()) return n.status();
      if (*n == 0) {
        return Status::not_found("session " + std::to_string(session_id) + " does not exist");
      }
      return Done{};
    });
  }

  Status delete_session(int64_t session_id) override {
    return guarded_status("delete_session", [&]() -> Result<Done> {
      auto n = write_one(kDeleteSession, [&](Stmt& st) { st.bind(1, session_id); });
      if (!n.ok()) return n.status();
      return Done{};
    });
  }

  // An unknown user has no sessions: not an error.
  Status delete_user_sessions(int64_t user_id, int64_t except_session_id) override {
    return guarded_status("delete_user_sessions", [&]() -> Result<Done> {
      auto n = write_one(kDeleteUserSessions,
                         [&](Stmt& st) { st.bind(1, user_id).bind(2, except_session_id); });
      if (!n.ok()) return n.status();
      return Done{};
    });
  }

  // An unknown user has no sessions: an empty list.
  Result<std::vector<Session>> list_sessions(int64_t user_id) override {
    return guarded<std::vector<Session>>("list_sessions", [&]() -> Result<std::vector<Session>> {
      return read_all<Session>(kListSessions, read_session, [&](Stmt& st) { st.bind(1, user_id); });
    });
  }

  Result<int64_t> delete_expired_sessions(int64_t now) override {
    return guarded<int64_t>("delete_expired_sessions", [&]() -> Result<int64_t> {
      return write_one(kDeleteExpiredSessions, [&](Stmt& st) { st.bind(1, now); });
    });
  }

  // ---- throttles ----

  Result<Throttle> get_throttle(const std::string& key) override {
    return guarded<Throttle>("get_throttle", [&]() -> Result<Throttle> {
      auto t = read_one<Throttle>(
          kGetThrottle,
          [&](const Stmt& st) {
            Throttle t;
            t.key = key;
            t.count = st.int64(0);
            t.window_start = st.int64(1);
            t.locked_until = st.int64(2);
            return t;
          },
          [&](Stmt& st) { st.bind(1, key); });
      if (!t.ok()) return t.status();
      if (!t->has_value()) {
        Throttle zero;
        zero.key = key;
        return zero;
      }
      return std::move(**t);
    });
  }

  Status put_throttle(const Throttle& t) override {
    return guarded_status("put_throttle", [&]() -> Result<Done> {
      if (t.key.empty()) return Status::invalid("put_throttle: key is empty");
      auto n = write_one(kPutThrottle, [&](Stmt& st) {
        st.bind(1, t.key).bind(2, t.count).bind(3, t.window_start).bind(4, t.locked_until);
      });
      if (!n.ok()) return n.status();
      return Done{};
    });
  }

  // Reads every key, then writes every record, in one write transaction:
  // the counting rules (store::apply_hit) run between the two with the
  // database write lock held, so no other hit can interleave.
  Result<ThrottleHit> hit_throttles(const std::vector<ThrottleRule>& rules, int64_t now) override {
    return guarded<ThrottleHit>("hit_throttles", [&]() -> Result<ThrottleHit> {
      if (rules.empty()) return Status::invalid("hit_throttles: no rules");
      std::set<std::string> keys;
      for (const ThrottleRule& r : rules) {
        if (r.key.empty()) return Status::invalid("hit_throttles: key is empty");
        if (r.max_count < 1) return Status::invalid("hit_throttles: max_count must be >= 1");
        if (!keys.insert(r.key).second) {
          return Status::invalid("hit_throttles: key '" + r.key + "' given twice");
        }
      }
      return in_write_txn<ThrottleHit>([&](Connection& c) -> Result<ThrottleHit> {
        ThrottleHit hit;
        for (const ThrottleRule& r : rules) {
          auto st = c.stmt(kGetThrottle);
          if (!st.ok()) return st.status();
          st->bind(1, r.key);
          auto row = st->step();
          if (!row.ok()) return row.status();
          Throttle t;
          t.key = r.key;
          if (*row) {
            t.count = st->int64(0);
            t.window_start = st->int64(1);
            t.locked_until = st->int64(2);
          }
          if (t.locked_until > now) {
            hit.retry_after = std::max(hit.retry_after, t.locked_until - now);
          }
          hit.throttles.push_back(std::move(t));
        }
        if (hit.retry_after > 0) return hit;  // locked: nothing counted
        for (size_t i = 0; i < rules.size(); ++i) {
          Throttle& t = hit.throttles[i];
          t = apply_hit(t, rules[i], now);
          auto st = c.stmt(kPutThrottle);
          if (!st.ok()) return st.status();
          st->bind(1, t.key).bind(2, t.count).bind(3, t.window_start).bind(4, t.locked_until);
          if (Status s = st->exec(); !s.is_ok()) return s;
        }
        hit.admitted = true;
        return hit;
      });
    });
  }

  Status undo_throttle_hit(const std::string& key) override {
    return guarded_status("undo_throttle_hit", [&]() -> Result<Done> {
      auto n = write_one(kUndoThrottleHit, [&](Stmt& st) { st.bind(1, key); });
      if (!n.ok()) return n.status();
      return Done{};
    });
  }

  Status clear_throttle(const std::string& key) override {
    return guarded_status("clear_throttle", [&]() -> Result<Done> {
      auto n = write_one(kDeleteThrottle, [&](Stmt& st) { st.bind(1, key); });
      if (!n.ok()) return n.status();
      return Done{};
    });
  }

  // ---- commerce (the SQL is in orders.cc) ----

  Result<Order> create_order(const NewOrder& o) override {
    return guarded<Order>("create_order", [&]() -> Result<Order> {
      return in_write_txn<Order>([&](Connection& c) { return create_order_in(c, o); });
    });
  }

  Result<Order> open_order(const NewOrder& o, int64_t reuse_until) override {
    return guarded<Order>("open_order", [&]() -> Result<Order> {
      return in_write_txn<Order>(
          [&](Connection& c) { return open_order_in(c, o, reuse_until); });
    });
  }

  Result<Order> get_order(int64_t order_id) override {
    return guarded<Order>("get_order", [&]() -> Result<Order> {
      return on_connection<Order>([&](Connection& c) { return get_order_in(c, order_id); });
    });
  }

  Result<Order> find_order(const std::string& out_trade_no) override {
    return guarded<Order>("find_order", [&]() -> Result<Order> {
      return on_connection<Order>([&](Connection& c) { return find_order_in(c, out_trade_no); });
    });
  }

  Result<std::vector<Order>> user_orders(int64_t user_id, int64_t limit) override {
    return guarded<std::vector<Order>>("user_orders", [&]() -> Result<std::vector<Order>> {
      return on_connection<std::vector<Order>>(
          [&](Connection& c) { return user_orders_in(c, user_id, limit); });
    });
  }

  Result<std::vector<Order>> orders_between(int64_t from, int64_t to) override {
    return guarded<std::vector<Order>>("orders_between", [&]() -> Result<std::vector<Order>> {
      return on_connection<std::vector<Order>>(
          [&](Connection& c) { return orders_between_in(c, from, to); });
    });
  }

  Result<OrderPage> list_orders(const OrderQuery& q) override {
    return guarded<OrderPage>("list_orders", [&]() -> Result<OrderPage> {
      return in_read_txn<OrderPage>([&](Connection& c) { return list_orders_in(c, q); });
    });
  }


  Result<Order> pay_order_from_wallet(int64_t order_id, int64_t user_id, int64_t now) override {
    return guarded<Order>("pay_order_from_wallet", [&]() -> Result<Order> {
      return in_locked_txn<Order>(
          [&](Connection& c) { return pay_order_from_wallet_in(c, order_id, user_id, now); });
    });
  }

  Result<Order> buy_from_wallet(const NewOrder& o, int64_t now) override {
    return guarded<Order>("buy_from_wallet", [&]() -> Result<Order> {
      return in_locked_txn<Order>([&](Connection& c) { return buy_from_wallet_in(c, o, now); });
    });
  }

  Result<AppliedPayment> apply_payment(const PaymentNotice& n) override {
    return guarded<AppliedPayment>("apply_payment", [&]() -> Result<AppliedPayment> {
      return in_write_txn<AppliedPayment>([&](Connection& c) { return apply_payment_in(c, n); });
    });
  }

  Result<int64_t> expire_orders(int64_t now) override {
    return guarded<int64_t>("expire_orders", [&]() -> Result<int64_t> {
      return in_write_txn<int64_t>([&](Connection& c) { return expire_orders_in(c, now); });
    });
  }

  Result<Order> refund_order(int64_t order_id, bool to_wallet, const std::string& note,
                             const std::string& actor, int64_t now) override {
    return guarded<Order>("refund_order", [&]() -> Result<Order> {
      return in_write_txn<Order>([&](Connection& c) {
        return refund_order_in(c, order_id, to_wallet, note, actor, now);
      });
    });
  }

  Result<StartedRefund> refund_to_provider(const ProviderRefundStart& r) override {
    return guarded<StartedRefund>("refund_to_provider", [&]() -> Result<StartedRefund> {
      return in_write_txn<StartedRefund>(
          [&](Connection& c) { return refund_to_provider_in(c, r); });
    });
  }

  Result<AppliedRefund> apply_refund(const RefundNotice& n) override {
    return guarded<AppliedRefund>("apply_refund", [&]() -> Result<AppliedRefund> {
      return in_write_txn<AppliedRefund>([&](Connection& c) { return apply_refund_in(c, n); });
    });
  }

  Result<std::vector<Refund>> order_refunds(int64_t order_id) override {
    return guarded<std::vector<Refund>>("order_refunds", [&]() -> Result<std::vector<Refund>> {
      return on_connection<std::vector<Refund>>(
          [&](Connection& c) { return order_refunds_in(c, order_id); });
    });
  }

  Result<std::vector<Refund>> pending_refunds(int64_t limit) override {
    return guarded<std::vector<Refund>>("pending_refunds", [&]() -> Result<std::vector<Refund>> {
      return on_connection<std::vector<Refund>>(
          [&](Connection& c) { return pending_refunds_in(c, limit); });
    });
  }

  Status touch_refund(int64_t refund_id, const std::string& message, int64_t now) override {
    return guarded_status("touch_refund", [&]() -> Result<Done> {
      return in_write_txn<Done>(
          as_done([&](Connection& c) { return touch_refund_in(c, refund_id, message, now); }));
    });
  }

  Status record_payment_start(int64_t order_id, const std::string& provider, int64_t now) override {
    return guarded_status("record_payment_start", [&]() -> Result<Done> {
      return in_write_txn<Done>(as_done(
          [&](Connection& c) { return record_payment_start_in(c, order_id, provider, now); }));
    });
  }

  Result<std::vector<PaymentStartRow>> open_payment_starts(int64_t expires_before,
                                                           int64_t limit) override {
    return guarded<std::vector<PaymentStartRow>>(
        "open_payment_starts", [&]() -> Result<std::vector<PaymentStartRow>> {
          return on_connection<std::vector<PaymentStartRow>>(
              [&](Connection& c) { return open_payment_starts_in(c, expires_before, limit); });
        });
  }

  Status close_payment_start(int64_t order_id, const std::string& provider, int64_t now) override {
    return guarded_status("close_payment_start", [&]() -> Result<Done> {
      return in_write_txn<Done>(as_done(
          [&](Connection& c) { return close_payment_start_in(c, order_id, provider, now); }));
    });
  }

  Result<Fen> credit_wallet(int64_t user_id, Fen amount, const std::string& note,
                            const std::string& actor, int64_t now) override {
    return guarded<Fen>("credit_wallet", [&]() -> Result<Fen> {
      return in_write_txn<Fen>(
          [&](Connection& c) { return credit_wallet_in(c, user_id, amount, note, actor, now); });
    });
  }

  // ---- audit log ----

  Result<int64_t> append(const AuditEntry& e) override {
    return guarded<int64_t>("append", [&]() -> Result<int64_t> {
      if (Status s = check_audit_entry(e); !s.is_ok()) return s;
      return in_write_txn<int64_t>([&](Connection& c) { return append_audit_in(c, e); });
    });
  }

  Result<AuditPage> list(const AuditQuery& q) override {
    return guarded<AuditPage>("list", [&]() -> Result<AuditPage> {
      return in_read_txn<AuditPage>([&](Connection& c) { return list_audit_in(c, q); });
    });
  }

  Status set_user_role_audited(int64_t user_id, Role role, const AuditEntry& e) override {
    return guarded_status("set_user_role_audited", [&]() -> Result<Done> {
      if (Status s = check_role(role); !s.is_ok()) return s;
      if (Status s = check_audit_entry(e); !s.is_ok()) return s;
      return in_write_txn<Done>([&](Connection& c) -> Result<Done> {
        auto st = c.stmt(kSetRole);
        if (!st.ok()) return st.status();
        st->bind(1, user_id).bind(2, to_string(role));
        if (Status s = st->exec(); !s.is_ok()) return s;
        if (changes(c) == 0) return user_not_found(user_id);
        auto id = append_audit_in(c, e);
        if (!id.ok()) return id.status();
        return Done{};
      });
    });
  }

  // --- password resets (password_resets.h) ---

  Result<PasswordReset> create_password_reset(const PasswordReset& r) override {
    return guarded<PasswordReset>("create_password_reset", [&]() -> Result<PasswordReset> {
      return in_write_txn<PasswordReset>(
          [&](Connection& c) { return create_password_reset_in(c, r); });
    });
  }

  Result<PasswordReset> find_password_reset(const std::string& token_hash) override {
    return guarded<PasswordReset>("find_password_reset", [&]() -> Result<PasswordReset> {
      auto r = on_connection<std::optional<PasswordReset>>(
          [&](Connection& c) { return find_password_reset_in(c, token_hash); });
      if (!r.ok()) return r.status();
      if (!*r) return Status::not_found("no password reset with this token");
      return std::move(**r);
    });
  }

  Result<int64_t> complete_password_reset(const std::string& token_hash,
                                          const std::string& password_hash, int64_t now,
                                          const AuditEntry& e) override {
    return guarded<int64_t>("complete_password_reset", [&]() -> Result<int64_t> {
      if (password_hash.empty())
        return Status::invalid("complete_password_reset: password hash is empty");
      if (Status s = check_audit_entry(e); !s.is_ok()) return s;
      return in_write_txn<int64_t>([&](Connection& c) {
        return complete_password_reset_in(c, token_hash, password_hash, now, e);
      });
    });
  }

  Result<bool> set_user_disabled_audited(int64_t user_id, bool disabled, int64_t now,
                                         const AuditEntry& e) override {
    return guarded<bool>("set_user_disabled_audited", [&]() -> Result<bool> {
      if (disabled && now <= 0) return Status::invalid("set_user_disabled: now must be positive");
      if (Status s = check_audit_entry(e); !s.is_ok()) return s;
      return in_write_txn<bool>([&](Connection& c) -> Result<bool> {
        auto changed = set_user_disabled_in(c, user_id, disabled, now);
        if (!changed.ok() || !*changed) return changed;
        auto id = append_audit_in(c, e);
        if (!id.ok()) return id.status();
        return true;
      });
    });
  }

  Result<Order> refund_order_audited(int64_t order_id, bool to_wallet, const std::string& note,
                                     const std::string& actor, int64_t now,
                                     const AuditEntry& e) override {
    return guarded<Order>("refund_order_audited", [&]() -> Result<Order> {
      if (Status s = check_audit_entry(e); !s.is_ok()) return s;
      return in_write_txn<Order>([&](Connection& c) -> Result<Order> {
        auto o = refund_order_in(c, order_id, to_wallet, note, actor, now);
        if (!o.ok()) return o;
        auto id = append_audit_in(c, e);
        if (!id.ok()) return id.status();
        return o;
      });
    });
  }

  Result<StartedRefund> refund_to_provider_audited(const ProviderRefundStart& r,
                                                   const AuditEntry& e) override {
    return guarded<StartedRefund>("refund_to_provider_audited", [&]() -> Result<StartedRefund> {
      if (Status s = check_audit_entry(e); !s.is_ok()) return s;
      return in_write_txn<StartedRefund>([&](Connection& c) -> Result<StartedRefund> {
        auto started = refund_to_provider_in(c, r);
        if (!started.ok()) return started;
        auto id = append_audit_in(c, e);
        if (!id.ok()) return id.status();
        return started;
      });
    });
  }

  Result<Fen> credit_wallet_audited(int64_t user_id, Fen amount, const std::string& note,
                                    const std::string& actor, int64_t now,
                                    const AuditEntry& e) override {
    return guarded<Fen>("credit_wallet_audited", [&]() -> Result<Fen> {
      if (Status s = check_audit_entry(e); !s.is_ok()) return s;
      return in_write_txn<Fen>([&](Connection& c) -> Result<Fen> {
        auto balance = credit_wallet_in(c, user_id, amount, note, actor, now);
        if (!balance.ok()) return balance;
        auto id = append_audit_in(c, e);
        if (!id.ok()) return id.status();
        return balance;
      });
    });
  }

  // ---- categories and tags ----

  Result<std::vector<Term>> list_terms(TermKind kind) override {
    return guarded<std::vector<Term>>("list_terms", [&]() -> Result<std::vector<Term>> {
      return on_connection<std::vector<Term>>([&](Connection& c) { return list_terms_in(c, kind); });
    });
  }

  Result<Term> create_term(TermKind kind, const std::string& name, const AuditActor& actor,
                           int64_t now) override {
    return guarded<Term>("create_term", [&]() -> Result<Term> {
      auto n = normalize_term_name(kind, name);
      if (!n.ok()) return n.status();
      if (actor.label.empty()) return Status::invalid("create_term: actor is empty");
      return in_write_txn<Term>(
          [&](Connection& c) { return create_term_in(c, kind, *n, actor, now); });
    });
  }

  Result<Term> rename_term(TermKind kind, int64_t id, const std::string& name,
                           const AuditActor& actor, int64_t now) override {
    return forgetting_revisions(guarded<Term>("rename_term", [&]() -> Result<Term> {
      auto n = normalize_term_name(kind, name);
      if (!n.ok()) return n.status();
      if (actor.label.empty()) return Status::invalid("rename_term: actor is empty");
      return in_write_txn<Term>(
          [&](Connection& c) { return rename_term_in(c, kind, id, *n, actor, now); });
    }));
  }

  Result<bool> move_term(TermKind kind, int64_t id, MoveDirection dir, const AuditActor& actor,
                         int64_t now) override {
    return forgetting_revisions(guarded<bool>("move_term", [&]() -> Result<bool> {
      if (actor.label.empty()) return Status::invalid("move_term: actor is empty");
      return in_write_txn<bool>(
          [&](Connection& c) { return move_term_in(c, kind, id, dir, actor, now); });
    }));
  }

  Status delete_term(TermKind kind, int64_t id, const AuditActor& actor, int64_t now) override {
    return forgetting_revisions(guarded_status("delete_term", [&]() -> Result<Done> {
      if (actor.label.empty()) return Status::invalid("delete_term: actor is empty");
      return in_write_txn<Done>(
          as_done([&](Connection& c) { return delete_term_in(c, kind, id, actor, now); }));
    }));
  }

  Status set_document_tags(int64_t document_id, const std::vector<std::string>& names,
                           int64_t now) override {
    return forgetting_revisions(guarded_status("set_document_tags", [&]() -> Result<Done> {
      auto clean = normalize_tag_names(names);
      if (!clean.ok()) return clean.status();
      return in_write_txn<Done>(as_done(
          [&](Connection& c) { return set_document_tags_in(c, document_id, *clean, now); }));
    }));
  }

  Result<std::vector<std::string>> document_tags(int64_t document_id) override {
    return guarded<std::vector<std::string>>(
        "document_tags", [&]() -> Result<std::vector<std::string>> {
          return in_read_txn<std::vector<std::string>>(
              [&](Connection& c) { return document_tags_in(c, document_id); });
        });
  }

  Result<Fen> wallet_balance(int64_t user_id) override {
    return guarded<Fen>("wallet_balance", [&]() -> Result<Fen> {
      return on_connection<Fen>([&](Connection& c) { return wallet_balance_in(c, user_id); });
    });
  }

  Result<UserEntitlements> user_entitlements(int64_t user_id) override {
    return guarded<UserEntitlements>("user_entitlements", [&]() -> Result<UserEntitlements> {
      return in_read_txn<UserEntitlements>(
          [&](Connection& c) { return user_entitlements_in(c, user_id); });
    });
  }

  Result<LedgerAudit> ledger_audit() override {
    return guarded<LedgerAudit>("ledger_audit", [&]() -> Result<LedgerAudit> {
      return in_read_txn<LedgerAudit>([&](Connection& c) { return ledger_audit_in(c); });
    });
  }

  Result<Download> record_download(const NewDownload& d) override {
    return guarded<Download>("record_download", [&]() -> Result<Download> {
      return in_write_txn<Download>([&](Connection& c) { return record_download_in(c, d); });
    });
  }

  Result<Download> get_download(int64_t id) override {
    return guarded<Download>("get_download", [&]() -> Result<Download> {
      return on_connection<Download>([&](Connection& c) { return get_download_in(c, id); });
    });
  }

  Result<std::string> setting_or_init(const std::string& name,
                                      const std::string& value_if_absent) override {
    return guarded<std::string>("setting_or_init", [&]() -> Result<std::string> {
      return in_write_txn<std::string>(
          [&](Connection& c) { return setting_or_init_in(c, name, value_if_absent); });
    });
  }

 private:
  // Runs f(connection) on a pooled connection without an explicit
  // transaction (a single statement is its own snapshot).
  template <typename T, typename F>
  Result<T> on_connection(F&& f) {
    auto lease = pool_->acquire();
    if (!lease.ok()) return lease.status();
    return f(*lease.value());
  }

  // Runs f(connection) in one read transaction: every statement in f sees
  // the same snapshot.
  template <typename T, typename F>
  Result<T> in_read_txn(F&& f) {
    auto lease = pool_->acquire();
    if (!lease.ok()) return lease.status();
    Connection& c = *lease.value();
    Txn txn(c);
    if (Status s = txn.begin(Txn::Kind::kRead); !s.is_ok()) return s;
    Result<T> r = f(c);
    if (!r.ok()) return r;
    if (Status s = txn.commit(); !s.is_ok()) return s;
    return r;
  }

  // The row `sql` returns after `bind`, read by `read`; nullopt when none.
  template <typename T, typename Read, typename Bind>
  Result<std::optional<T>> read_one(const char* sql, Read&& read, Bind&& bind) {
    auto lease = pool_->acquire();
    if (!lease.ok()) return lease.status();
    auto st = lease.value()->stmt(sql);
    if (!st.ok()) return st.status();
    bind(*st);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<T>();
    return std::optional<T>(read(*st));
  }

  // Every row `sql` returns after `bind`, read by `read`.
  template <typename T, typename Read, typename Bind>
  Result<std::vector<T>> read_all(const char* sql, Read&& read, Bind&& bind) {
    auto lease = pool_->acquire();
    if (!lease.ok()) return lease.status();
    auto st = lease.value()->stmt(sql);
    if (!st.ok()) return st.status();
    bind(*st);
    std::vector<T> out;
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      out.push_back(read(*st));
    }
    return out;
  }

  // Runs one writing statement as one write of a group-committed batch
  // (writer.h). Returns the rows changed once they are durable.
  template <typename Bind>
  Result<int64_t> write_one(const char* sql, Bind&& bind) {
    return in_write_txn<int64_t>([&](Connection& c) -> Result<int64_t> {
      auto st = c.stmt(sql);
      if (!st.ok()) return st.status();
      bind(*st);
      if (Status s = st->exec(); !s.is_ok()) return s;
      return changes(c);
    });
  }

  // Runs f(connection) as one write of a group-committed batch (writer.h):
  // on the writer's connection, inside its own savepoint, so a failure of f
  // leaves nothing behind. The answer comes once the batch is committed.
  // f may run twice (writer.h), so it must depend only on its arguments and
  // the database.
  template <typename T, typename F>
  Result<T> in_write_txn(F&& f) {
    return in_txn_of_kind<T>(Txn::Kind::kWrite, std::forward<F>(f));
  }

  // Runs f(connection) in one READ COMMITTED transaction, retried like
  // in_write_txn. For writes that serialise themselves with row locks
  // (SELECT … FOR UPDATE before they decide): wallet purchases lock the
  // reader's wallet row first, so purchases of different readers never
  // wait for or abort each other, where SERIALIZABLE's page-granular
  // predicate locks on the orders indexes made about three of every four
  // concurrent purchases run again.
  template <typename T, typename F>
  Result<T> in_locked_txn(F&& f) {
    return in_txn_of_kind<T>(Txn::Kind::kLocked, std::forward<F>(f));
  }

  template <typename T, typename F>
  Result<T> in_txn_of_kind(Txn::Kind kind, F&& f) {
    auto lease = pool_->acquire();
    if (!lease.ok()) return lease.status();
    Connection& c = *lease.value();
    Status last;
    // Gives up after max_attempts runs and no sooner than wait_ms after the
    // first: under a burst of colliding writes (every ledger write reads
    // the last txn_id) a count alone ran out in well under a second, where
    // SQLite's writers wait their busy timeout.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.wait_ms);
    int attempt = 0;
    for (; attempt < options_.max_attempts || std::chrono::steady_clock::now() < deadline;
         ++attempt) {
      if (attempt > 0) backoff(attempt);
      c.clear_error();
      Txn txn(c);
      if (Status s = txn.begin(kind); !s.is_ok()) return s;
      Result<T> r = f(c);
      if (r.ok()) {
        Status s = txn.commit();
        if (s.is_ok()) return r;
        if (!retryable(c)) return s;
        last = s;
        continue;
      }
      // A failure caused by another transaction's concurrent write: run the
      // whole write again on a fresh snapshot.
      if (!retryable(c)) return r;
      last = r.status();
    }
    return Status::unavailable("postgresql: gave up after " + std::to_string(attempt) +
                               " attempts of a write that kept colliding with others (" +
                               last.message() + ")");
  }

  static bool retryable(const Connection& c) {
    const std::string& state = c.last_error_state();
    // A second paid order for one reader and document, refused by the
    // unique index of migration 4, means another write paid for it first
    // (under READ COMMITTED, no serialization failure says so): run again,
    // and the write finds the document bought.
    return state == kSerializationFailure || state == kDeadlockDetected ||
           (state == kUniqueViolation && c.last_error_constraint() == kOnePurchaseIndex);
  }

  // Waits a little before a retry, longer each time, jittered so colliding
  // writers spread out.
  static void backoff(int attempt) {
    thread_local std::minstd_rand rng(std::random_device{}());
    int cap_us = std::min(200 << std::min(attempt, 8), 50'000);
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % cap_us));
  }

  // The work of a put that needs no database: validation, figures, search
  // texts, keyword candidates, the parsed form as JSON. Runs before the
  // write is queued (and, for a batch, on several threads).
  static Result<Row> prepare_row(const NewDocument& d) {
    if (d.source_sha256.empty()) return Status::invalid("put_document: source_sha256 is empty");
    if (d.source_path.empty()) return Status::invalid("put_document: source_path is empty");
    Row r;
    r.in = &d;
    // Figures are stored as compute_figures() counts them, the same
    // function doc::from_json applies when the document is read back, so
    // summary.figures and parsed.figures always agree.
    doc::Document copy = d.parsed;
    doc::compute_figures(copy);
    r.figures = copy.figures;
    for (const auto& b : copy.blocks) r.has_paid = r.has_paid || b.has_paid();
    r.search = search_texts(copy);
    r.paid_words = text::keyword_candidates(r.search.paid);
    r.words = document_words(copy.title, r.search, r.paid_words);
    try {
      r.parsed_json = nlohmann::json(copy).dump();
    } catch (const nlohmann::json::exception& e) {
      // dump() refuses invalid UTF-8, the only way this can fail.
      return Status::invalid("put_document: document text is not valid UTF-8: " +
                             std::string(e.what()));
    }
    return r;
  }

  // The database part of a put, inside the caller's write transaction.
  // Sets r.category_id and r.keys afresh on each run (a write may run twice,
  // writer.h).
  static Result<PutResult> put_in(Connection& c, Row& r) {
    const NewDocument& d = *r.in;
    auto same = find_id(c, kFindBySha, d.source_sha256);
    if (!same.ok()) return same.status();
    if (same->has_value()) return PutResult{**same, PutOutcome::kUnchanged};
    auto by_path = find_id(c, kFindByPath, d.source_path);
    if (!by_path.ok()) return by_path.status();
    std::optional<DocState> before;
    r.source_path = d.source_path;
    r.publisher_id = d.publisher_id;
    r.status = d.status;
    r.summary = d.summary;
    r.title_override = d.title;
    if (by_path->has_value()) {
      // An import replacing a document keeps what its publisher set.
      auto state = read_state_in(c, **by_path);
      if (!state.ok()) return state.status();
      before = std::move(*state);
      if (before) {
        r.status = parse_doc_status(before->status).value_or(DocStatus::kDraft);
        r.summary = before->summary;
        r.title_override = before->title_override;
      }
    }
    auto result = write_row_in(c, r, *by_path);
    if (!result.ok()) return result.status();
    if (Status s = record_change_in(c, result->id, before, d.actor, std::nullopt, r.now);
        !s.is_ok()) {
      return s;
    }
    return result;
  }

  // Writes r as document `existing` (replacing it: revision + 1) or as a
  // new document, keeping the library's word counts in step. REQUIRES:
  // inside a write transaction; r's transaction fields set.
  static Result<PutResult> write_row_in(Connection& c, Row& r, std::optional<int64_t> existing) {
    const NewDocument& d = *r.in;
    r.category_id.reset();
    if (!d.category.empty()) {
      auto cid = ensure_category(c, d.category, r.now);
      if (!cid.ok()) return cid.status();
      r.category_id = *cid;
    }
    // The library's document frequencies count this version instead of
    // the one it replaces; the keywords are chosen against them.
    if (existing) {
      auto old_words = stored_document_words_in(c, *existing);
      if (!old_words.ok()) return old_words.status();
      if (Status s = add_document_words_in(c, *old_words, -1); !s.is_ok()) return s;
    }
    if (Status s = add_document_words_in(c, r.words, 1); !s.is_ok()) return s;
    auto keys = choose_keywords_in(c, r.paid_words);
    if (!keys.ok()) return keys.status();
    r.keys = std::move(*keys);
    PutResult result;
    if (existing) {
      result = {*existing, PutOutcome::kUpdated};
      auto st = c.stmt(kUpdateDocument);
      if (!st.ok()) return st.status();
      bind_document_fields(*st, r);
      st->bind(17, result.id);
      if (Status s = st->exec(); !s.is_ok()) return s;
    } else {
      auto st = c.stmt(kInsertDocument);
      if (!st.ok()) return st.status();
      bind_document_fields(*st, r);
      if (Status s = st->exec(); !s.is_ok()) return s;
      auto id = c.last_insert_id();
      if (!id.ok()) return id.status();
      result = {*id, PutOutcome::kCreated};
    }
    // The search index, in the same transaction (search.h).
    if (Status s = index_document_in(c, result.id); !s.is_ok()) return s;
    return result;
  }

  Result<PutResult> put(const NewDocument& d, int64_t now) {
    // Work that needs no database happens before the write is queued.
    auto row = prepare_row(d);
    if (!row.ok()) return row.status();
    Row& r = *row;
    r.now = now;
    return in_write_txn<PutResult>([&](Connection& c) { return put_in(c, r); });
  }

  Result<std::vector<Result<PutResult>>> put_many(const std::vector<NewDocument>& docs,
                                                 int64_t now) {
    // Preparing is most of a document's CPU time (ICU word breaks, search
    // texts, JSON): spread over the cores, each thread taking the next one.
    std::vector<Result<Row>> rows(docs.size(), Result<Row>(Status::internal("not prepared")));
    {
      std::atomic<size_t> next{0};
      auto work = [&] {
        for (size_t i = next++; i < docs.size(); i = next++) rows[i] = prepare_row(docs[i]);
      };
      size_t n = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), docs.size());
      std::vector<std::thread> helpers;
      for (size_t t = 1; t < n; ++t) helpers.emplace_back(work);
      work();
      for (auto& t : helpers) t.join();
    }
    for (auto& row : rows) {
      if (row.ok()) row->now = now;
    }

    // The whole list is one write of the writer's batch (its own savepoint
    // there), and each document a savepoint inside it.
    using Answers = std::vector<Result<PutResult>>;
    return in_write_txn<Answers>([&](Connection& c) -> Result<Answers> {
      Answers out;  // afresh on each run
      out.reserve(docs.size());
      for (auto& row : rows) {
        if (!row.ok()) {
          out.push_back(row.status());
          continue;
        }
        // Each document in its own savepoint: one that fails is undone alone.
        if (Status s = run_cached(c, kSavepointDoc); !s.is_ok()) return s;
        Result<PutResult> r = put_in(c, *row);
        if (!r.ok()) {
          // A collision with another transaction (or a lost connection)
          // ends the whole list's transaction: in_write_txn runs it again.
          if (retryable(c) || c.broken()) return r.status();
          if (Status s = run_cached(c, kRollbackToDoc); !s.is_ok()) return s;
        }
        if (Status s = run_cached(c, kReleaseDoc); !s.is_ok()) return s;
        out.push_back(std::move(r));
      }
      return out;
    });
  }

  // list_documents with the console's filters (ListQuery), in one snapshot.
  Result<ListPage> list_console(const ListQuery& q) {
    return in_read_txn<ListPage>([&](Connection& c) -> Result<ListPage> {
      auto bind = [&](Stmt& st) {
        st.bind(3, q.category)
            .bind(4, q.status ? std::string_view(to_string(*q.status)) : std::string_view())
            .bind(5, int64_t{q.price == ListPrice::kAny ? 0 : q.price == ListPrice::kFree ? 1 : 2})
            .bind(6, q.publisher_id)
            .bind(7, q.publisher_email)
            .bind(8, q.title_contains);
      };
      ListPage page;
      {
        auto st = c.stmt(kConsoleCount);
        if (!st.ok()) return st.status();
        bind(*st);
        auto row = st->step();
        if (!row.ok()) return row.status();
        if (!*row) return Status::internal("postgresql: count returned no row");
        page.total = st->int64(0);
      }
      if (q.offset >= page.total) return page;
      auto st = c.stmt(kConsoleList);
      if (!st.ok()) return st.status();
      bind(*st);
      st->bind(1, q.limit).bind(2, q.offset);
      for (;;) {
        auto row = st->step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        DocumentSummary s = read_summary(*st);
        s.publisher_email = st->text(kSummaryColumnCount);
        page.items.push_back(std::move(s));
      }
      return page;
    });
  }

  // ---- coordination (store/coordination.h) ------------------------------------
  // One node at a time: a session advisory lock, taken on a pooled
  // connection that the hold keeps until it is destroyed (or until the
  // connection, and so the lock, dies with its node).
 public:
  Result<std::unique_ptr<ExclusiveHold>> try_exclusive(const std::string& name) override {
    return guarded<std::unique_ptr<ExclusiveHold>>(
        "try_exclusive", [&]() -> Result<std::unique_ptr<ExclusiveHold>> {
          if (Status s = check_exclusive_name(name); !s.is_ok()) return s;
          auto lease = pool_->acquire();
          if (!lease.ok()) return lease.status();
          const int64_t key = advisory_key(name);
          auto st = (*lease)->stmt(kTryAdvisoryLock);
          if (!st.ok()) return st.status();
          st->bind(1, key);
          auto row = st->step();
          if (!row.ok()) return row.status();
          if (!*row || st->int64(0) != 1) return std::unique_ptr<ExclusiveHold>();
          return std::unique_ptr<ExclusiveHold>(new AdvisoryHold(std::move(lease).value(), key));
        });
  }

  bool shared_by_nodes() const override { return true; }

 private:
  static constexpr char kTryAdvisoryLock[] = "SELECT pg_try_advisory_lock(?1::bigint)";
  static constexpr char kAdvisoryUnlock[] = "SELECT pg_advisory_unlock(?1::bigint)";

  // The lock's 64-bit key: FNV-1a of "paidoc-exclusive:" + name (the
  // migrations' lock, 7461696401, is a plain number outside this use).
  static int64_t advisory_key(const std::string& name) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : "paidoc-exclusive:" + name) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    return static_cast<int64_t>(h);
  }

  class AdvisoryHold final : public ExclusiveHold {
   public:
    AdvisoryHold(Pool::Lease lease, int64_t key) : lease_(std::move(lease)), key_(key) {}
    ~AdvisoryHold() override {
      // Unlocked before the connection goes back to the pool. Should the
      // unlock fail, every advisory lock of the session is dropped; a
      // connection that lost its server is closed by the pool, and its
      // locks end with it.
      bool unlocked = false;
      auto st = lease_->stmt(kAdvisoryUnlock);
      if (st.ok()) {
        st->bind(1, key_);
        auto row = st->step();
        unlocked = row.ok() && *row && st->int64(0) == 1;
      }
      if (!unlocked) (void)lease_->exec_script("SELECT pg_advisory_unlock_all()", "unlock");
    }

   private:
    Pool::Lease lease_;
    int64_t key_;
  };

  // Started by the first document_revision call (page views), so stores
  // opened by commands and tests that never ask hold no extra connection.
  RevisionWatch& revision_watch() {
    std::call_once(watch_once_, [this] {
      watch_ = std::make_unique<RevisionWatch>(conninfo_);
      watch_started_.store(true, std::memory_order_release);
    });
    return *watch_;
  }

  // Read-your-writes: after a write that may change documents' revisions
  // (documents, their tags, categories and tags) this node forgets what
  // it kept, rather than serving a kept revision until the notification
  // of its own commit arrives. Writes of this kind are editors' actions,
  // rare next to page views. Passes `r` through.
  template <typename R>
  R forgetting_revisions(R r) {
    if (watch_started_.load(std::memory_order_acquire)) watch_->forget_all();
    return r;
  }

  // The free guarded() and guarded_status(), noting damage: every method
  // runs through these (they hide the free ones inside the class).
  template <typename T, typename F>
  Result<T> guarded(const char* what, F&& f) {
    Result<T> r = postgres::guarded<T>(what, std::forward<F>(f));
    if (!r.ok()) note(r.status());
    return r;
  }
  template <typename F>
  Status guarded_status(const char* what, F&& f) {
    return guarded<Done>(what, std::forward<F>(f)).status();
  }

  // Remembers the first damage a query met; probe() answers it from then on.
  void note(const Status& s) {
    if (!is_damage(s)) return;
    std::lock_guard<std::mutex> lock(damage_mu_);
    if (damage_.empty()) damage_ = s.message();
  }
  Status damage() {
    std::lock_guard<std::mutex> lock(damage_mu_);
    if (damage_.empty()) return Status();
    return Status::internal(damage_);
  }

  std::mutex damage_mu_;
  std::string damage_;  // guarded by damage_mu_: the first damage met, "" when none
  std::unique_ptr<Pool> pool_;  // every read and write
  const Options options_;
  const std::string conninfo_;  // for import_site's own connection; never printed
  std::once_flag watch_once_;
  std::unique_ptr<RevisionWatch> watch_;
  std::atomic<bool> watch_started_{false};
};

}  // namespace

Result<std::unique_ptr<Store>> open_postgres(const std::string& conninfo, const Options& options,
                                             const Clock& clock) {
  return guarded<std::unique_ptr<Store>>("open", [&]() -> Result<std::unique_ptr<Store>> {
    if (options.max_connections < 1 || options.wait_ms < 0 || options.lock_timeout_ms < 0 ||
        options.max_attempts < 1) {
      return Status::invalid(
          "postgresql: max_connections and max_attempts must be >= 1, the timeouts >= 0");
    }
    auto pool = std::make_unique<Pool>(conninfo, options.max_connections, options.wait_ms,
                                       options.lock_timeout_ms);
    {
      auto lease = pool->acquire();
      if (!lease.ok()) return lease.status();
      Connection& c = *lease.value();
      auto version = migrate(c, clock.now());
      if (!version.ok()) return version.status();
      // Documents indexed by an older tokenizer generation are re-indexed
      // now, in one transaction (several nodes starting at once: the
      // serializable write makes one of them do it, the others retry and
      // find nothing left).
      for (int attempt = 0;; ++attempt) {
        c.clear_error();
        Txn txn(c);
        if (Status s = txn.begin(Txn::Kind::kWrite); !s.is_ok()) return s;
        auto reindexed = reindex_stale_in(c);
        Status s = reindexed.ok() ? txn.commit() : reindexed.status();
        if (s.is_ok()) break;
        const std::string& state = c.last_error_state();
        if (attempt + 1 >= options.max_attempts ||
            (state != kSerializationFailure && state != kDeadlockDetected)) {
          return s;
        }
      }
    }
    return std::unique_ptr<Store>(new PgStore(std::move(pool), options, conninfo));
  });
}

}  // namespace paidoc::store::postgres
