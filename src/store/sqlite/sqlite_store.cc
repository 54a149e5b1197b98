#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"

namespace paidoc::store::sqlite {
namespace {

// --- SQL ----------------------------------------------------------------------
// Every statement is a constant: the connection's statement cache is keyed
// by its address.

// Columns read into a DocumentSummary by read_summary(), in this order.
#define PAIDOC_SUMMARY_COLUMNS                                                          \
  "d.id, d.revision, d.title, coalesce(c.name, ''), d.price_fen, d.excerpt, "           \
  "d.free_chars, d.paid_chars, d.free_paragraphs, d.paid_paragraphs, d.paid_sections, " \
  "d.has_paid, d.created_at, d.updated_at"
constexpr int kSummaryColumnCount = 14;

constexpr char kGetDocument[] =
    "SELECT " PAIDOC_SUMMARY_COLUMNS
    ", d.source_path, d.source_sha256, d.source_text, d.publisher_id, d.parsed_json"
    " FROM documents d LEFT JOIN categories c ON c.id = d.category_id WHERE d.id = ?1";

constexpr char kGetRevision[] = "SELECT revision FROM documents WHERE id = ?1";

constexpr char kListAll[] = "SELECT " PAIDOC_SUMMARY_COLUMNS
                            " FROM documents d LEFT JOIN categories c ON c.id = d.category_id"
                            " ORDER BY d.created_at DESC, d.id DESC LIMIT ?1 OFFSET ?2";
constexpr char kCountAll[] = "SELECT count(*) FROM documents";

constexpr char kListInCategory[] =
    "SELECT " PAIDOC_SUMMARY_COLUMNS
    " FROM documents d JOIN categories c ON c.id = d.category_id WHERE c.name = ?3"
    " ORDER BY d.created_at DESC, d.id DESC LIMIT ?1 OFFSET ?2";
constexpr char kCountInCategory[] =
    "SELECT count(*) FROM documents d JOIN categories c ON c.id = d.category_id"
    " WHERE c.name = ?1";

#undef PAIDOC_SUMMARY_COLUMNS

constexpr char kListCategories[] =
    "SELECT c.id, c.name, count(d.id) FROM categories c"
    " LEFT JOIN documents d ON d.category_id = c.id"
    " GROUP BY c.id ORDER BY c.name";

constexpr char kFindBySha[] = "SELECT id FROM documents WHERE source_sha256 = ?1";
constexpr char kFindByPath[] = "SELECT id FROM documents WHERE source_path = ?1";
constexpr char kFindCategory[] = "SELECT id FROM categories WHERE name = ?1";
constexpr char kInsertCategory[] = "INSERT INTO categories (name, created_at) VALUES (?1, ?2)";

// Parameters ?1..?16 are bound by bind_document_fields().
constexpr char kInsertDocument[] =
    "INSERT INTO documents (title, category_id, price_fen, source_path, source_sha256,"
    " source_text, parsed_json, excerpt, free_chars, paid_chars, free_paragraphs,"
    " paid_paragraphs, paid_sections, has_paid, publisher_id, revision, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 1, ?16, ?16)";
constexpr char kUpdateDocument[] =
    "UPDATE documents SET title = ?1, category_id = ?2, price_fen = ?3, source_path = ?4,"
    " source_sha256 = ?5, source_text = ?6, parsed_json = ?7, excerpt = ?8, free_chars = ?9,"
    " paid_chars = ?10, free_paragraphs = ?11, paid_paragraphs = ?12, paid_sections = ?13,"
    " has_paid = ?14, publisher_id = ?15, revision = revision + 1, updated_at = ?16"
    " WHERE id = ?17";

// --- helpers ------------------------------------------------------------------

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs `f` and turns any exception (allocation failure, JSON errors, a
// system_error from a mutex) into kInternal: nothing escapes the store.
template <typename T, typename F>
Result<T> guarded(const char* what, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return Status::internal(std::string("sqlite: ") + what + ": " + e.what());
  }
}

DocumentSummary read_summary(const Stmt& st) {
  DocumentSummary s;
  s.id = st.int64(0);
  s.revision = st.int64(1);
  s.title = st.text(2);
  s.category = st.text(3);
  s.price = Fen(st.int64(4));
  s.excerpt = st.text(5);
  s.figures.free_chars = st.int64(6);
  s.figures.paid_chars = st.int64(7);
  s.figures.free_paragraphs = st.int64(8);
  s.figures.paid_paragraphs = st.int64(9);
  s.figures.paid_sections = static_cast<int>(st.int64(10));
  s.has_paid_text = st.int64(11) != 0;
  s.created_at = st.int64(12);
  s.updated_at = st.int64(13);
  return s;
}

// The id in the first column of the single row `sql` returns for `key`, or
// nullopt when there is no row.
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
  if (!*row) return Status::internal("sqlite: count returned no row");
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
  return sqlite3_last_insert_rowid(c.handle());
}

// What put_document writes, prepared before the transaction starts so the
// write lock is held only for the statements themselves.
struct Row {
  const NewDocument* in = nullptr;
  doc::Figures figures;
  std::string parsed_json;
  bool has_paid = false;
  std::optional<int64_t> category_id;
  int64_t now = 0;
};

void bind_document_fields(Stmt& st, const Row& r) {
  const NewDocument& d = *r.in;
  st.bind(1, d.parsed.title)
      .bind(2, r.category_id)
      .bind(3, d.price.value())
      .bind(4, d.source_path)
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
      .bind(15, d.publisher_id)
      .bind(16, r.now);
}

// --- the store ----------------------------------------------------------------

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Result<int> schema_version() override {
    return guarded<int>("schema_version", [&]() -> Result<int> {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      return current_schema_version(*lease.value());
    });
  }

  Result<PutResult> put_document(const NewDocument& d) override {
    return guarded<PutResult>("put_document", [&]() -> Result<PutResult> { return put(d); });
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
      try {
        nlohmann::json::parse(st->text(k + 4)).get_to(out.parsed);
      } catch (const nlohmann::json::exception& e) {
        return Status::internal("sqlite: document " + std::to_string(id) +
                                " has unreadable parsed_json: " + e.what());
      }
      return out;
    });
  }

  Result<int64_t> document_revision(int64_t id) override {
    return guarded<int64_t>("document_revision", [&]() -> Result<int64_t> {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      auto st = lease.value()->stmt(kGetRevision);
      if (!st.ok()) return st.status();
      st->bind(1, id);
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) return Status::not_found("document " + std::to_string(id) + " does not exist");
      return st->int64(0);
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
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Connection& c = *lease.value();
      // One read transaction: the total and the page come from one snapshot.
      Txn txn(c);
      if (Status s = txn.begin(Txn::Kind::kRead); !s.is_ok()) return s;
      ListPage page;
      {
        auto total = all ? count(c, kCountAll, nullptr) : count(c, kCountInCategory, &q.category);
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

 private:
  Result<PutResult> put(const NewDocument& d) {
    if (d.source_sha256.empty()) return Status::invalid("put_document: source_sha256 is empty");
    if (d.source_path.empty()) return Status::invalid("put_document: source_path is empty");

    // Work that needs no database happens before the write lock is taken.
    Row r;
    r.in = &d;
    {
      // Figures are stored as compute_figures() counts them, the same
      // function doc::from_json applies when the document is read back, so
      // summary.figures and parsed.figures always agree.
      doc::Document copy = d.parsed;
      doc::compute_figures(copy);
      r.figures = copy.figures;
      for (const auto& b : copy.blocks) r.has_paid = r.has_paid || b.has_paid();
      try {
        r.parsed_json = nlohmann::json(copy).dump();
      } catch (const nlohmann::json::exception& e) {
        // dump() refuses invalid UTF-8, the only way this can fail.
        return Status::invalid("put_document: document text is not valid UTF-8: " +
                               std::string(e.what()));
      }
    }

    // One writer at a time in this process: waiting here is cheaper and
    // fairer than every writer polling SQLite's lock in its busy handler.
    // Taken before the connection, so queued writers hold no connection that
    // readers could use (readers never take this lock: no deadlock).
    std::lock_guard<std::mutex> write_lock(write_mu_);
    auto lease = pool_->acquire();
    if (!lease.ok()) return lease.status();
    Connection& c = *lease.value();
    Txn txn(c);
    if (Status s = txn.begin(Txn::Kind::kWrite); !s.is_ok()) return s;
    r.now = now_seconds();

    auto same = find_id(c, kFindBySha, d.source_sha256);
    if (!same.ok()) return same.status();
    if (same->has_value()) {
      if (Status s = txn.commit(); !s.is_ok()) return s;
      return PutResult{**same, PutOutcome::kUnchanged};
    }

    if (!d.category.empty()) {
      auto cid = ensure_category(c, d.category, r.now);
      if (!cid.ok()) return cid.status();
      r.category_id = *cid;
    }

    auto by_path = find_id(c, kFindByPath, d.source_path);
    if (!by_path.ok()) return by_path.status();
    PutResult result;
    if (by_path->has_value()) {
      result = {**by_path, PutOutcome::kUpdated};
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
      result = {sqlite3_last_insert_rowid(c.handle()), PutOutcome::kCreated};
    }
    if (Status s = txn.commit(); !s.is_ok()) return s;
    return result;
  }

  std::unique_ptr<Pool> pool_;
  std::mutex write_mu_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite(const std::string& path, const Options& options) {
  return guarded<std::unique_ptr<Store>>("open", [&]() -> Result<std::unique_ptr<Store>> {
    if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) {
      return Status::invalid("sqlite: need a database file path, not '" + path +
                             "' (in-memory databases and URIs are not supported)");
    }
    // The pool uses connections from several threads (one at a time each),
    // which a library built with SQLITE_THREADSAFE=0 does not allow.
    if (sqlite3_threadsafe() == 0) {
      return Status::internal("sqlite: the linked SQLite library is built without thread support");
    }
    if (options.max_connections < 1 || options.busy_timeout_ms < 0) {
      return Status::invalid("sqlite: max_connections must be >= 1 and busy_timeout_ms >= 0");
    }
    // SQLite would only say "unable to open database file"; name what is
    // missing instead.
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
      return Status::unavailable("sqlite: cannot open database '" + path + "': directory '" +
                                 dir.string() + "' does not exist");
    }

    auto first = Connection::open(path, options.busy_timeout_ms);
    if (!first.ok()) return first.status();
    Connection& c = *first.value();
    // WAL is a property of the file, set once; every later connection uses
    // it. It cannot be switched inside a transaction, so it precedes the
    // migrations.
    {
      auto st = c.stmt("PRAGMA journal_mode = WAL");
      if (!st.ok()) return st.status();
      auto row = st->step();
      if (!row.ok()) return row.status();
      std::string mode = *row ? st->text(0) : "";
      if (mode != "wal") {
        return Status::internal("sqlite: cannot switch '" + path +
                                "' to WAL journal mode (it stays in '" + mode + "')");
      }
    }
    auto version = migrate(c);
    if (!version.ok()) return version.status();

    auto pool = std::make_unique<Pool>(path, options.max_connections, options.busy_timeout_ms);
    pool->adopt(std::move(first).value());
    return std::unique_ptr<Store>(new SqliteStore(std::move(pool)));
  });
}

}  // namespace paidoc::store::sqlite
