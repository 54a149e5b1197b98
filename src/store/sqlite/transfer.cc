#include "store/sqlite/transfer.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <memory>
#include <set>
#include <string_view>

#include "store/sqlite/migrations.h"

namespace paidoc::store::sqlite {
namespace {

// Every table that holds stored facts, parents before the tables whose
// foreign keys point at them. A new table goes here (or in kDerived).
constexpr std::array<std::string_view, 20> kExported = {
    "categories",   "tags",          "users",   "documents",
    "document_tags", "document_revisions", "keyword_df", "sessions",
    "password_resets", "throttles",  "wallets", "vip",
    "orders",       "payment_starts", "payment_notifications", "ledger_entries",
    "refunds",      "downloads",     "settings", "audit_log",
};

// Tables the export leaves out: the schema's own bookkeeping and what the
// database derives from documents (the target builds its own index).
bool derived(std::string_view table) {
  return table == "schema_migrations" || table == "sqlite_sequence" || table == "search_facts" ||
         table.starts_with("documents_fts") || table.starts_with("sqlite_");
}

constexpr char kTables[] = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";

// A statement prepared for one call (the export's SQL is built per table,
// so it stays out of the connection's cache).
struct Owned {
  sqlite3_stmt* st = nullptr;
  ~Owned() { sqlite3_finalize(st); }
};

Status export_table(Connection& c, std::string_view table, RowSink& sink) {
  // Table names come from kExported, never from input; quoted all the same.
  // Rows go in the table's own order: ids travel with them, so the order
  // does not matter to the target.
  std::string sql = "SELECT * FROM \"" + std::string(table) + "\"";
  Owned st;
  int rc = sqlite3_prepare_v2(c.handle(), sql.c_str(), -1, &st.st, nullptr);
  if (rc != SQLITE_OK) return sqlite_status(c.handle(), rc, "reading " + std::string(table));
  const int n = sqlite3_column_count(st.st);
  std::vector<std::string> columns;
  for (int i = 0; i < n; ++i) columns.emplace_back(sqlite3_column_name(st.st, i));
  if (Status s = sink.begin_table(std::string(table), columns); !s.is_ok()) return s;
  std::vector<Cell> cells(static_cast<size_t>(n));
  for (;;) {
    rc = sqlite3_step(st.st);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return sqlite_status(c.handle(), rc, "reading " + std::string(table));
    for (int i = 0; i < n; ++i) {
      switch (sqlite3_column_type(st.st, i)) {
        case SQLITE_NULL:
          cells[i] = Cell::null();
          break;
        case SQLITE_INTEGER:
          cells[i] = Cell::of(static_cast<int64_t>(sqlite3_column_int64(st.st, i)));
          break;
        case SQLITE_TEXT: {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st.st, i));
          cells[i] = Cell::of(std::string(p, static_cast<size_t>(sqlite3_column_bytes(st.st, i))));
          break;
        }
        default:
          // The schema stores integers and text only.
          return Status::internal("sqlite: " + std::string(table) + "." + columns[i] +
                                  " holds a value that is neither integer nor text");
      }
    }
    if (Status s = sink.row(cells); !s.is_ok()) return s;
  }
  return sink.end_table();
}

}  // namespace

Status export_site_in(Connection& c, RowSink& sink) {
  std::vector<std::string> unknown;
  {
    auto st = c.stmt(kTables);
    if (!st.ok()) return st.status();
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      std::string name = st->text(0);
      if (derived(name)) continue;
      if (std::find(kExported.begin(), kExported.end(), name) == kExported.end()) {
        unknown.push_back(name);
      }
    }
  }
  if (!unknown.empty()) {
    std::string names;
    for (const auto& u : unknown) names += (names.empty() ? "" : ", ") + u;
    return Status::internal("sqlite: the database holds tables this program cannot copy: " + names);
  }
  for (std::string_view table : kExported) {
    if (Status s = export_table(c, table, sink); !s.is_ok()) return s;
  }
  return Status();
}

Result<StoredVersion> stored_schema_version(const std::string& path) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::is_regular_file(path, ec)) {
    return Status::not_found("sqlite: there is no database file at '" + path + "'");
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close_v2);
  if (rc != SQLITE_OK) return sqlite_status(raw, rc, "cannot open database '" + path + "'");
  sqlite3_busy_timeout(raw, 5000);
  Owned st;
  rc = sqlite3_prepare_v2(raw,
                          "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                          " AND name = 'schema_migrations'",
                          -1, &st.st, nullptr);
  if (rc == SQLITE_NOTADB || (rc != SQLITE_OK && sqlite3_errcode(raw) == SQLITE_NOTADB)) {
    return Status::invalid("'" + path + "' is not a SQLite database");
  }
  if (rc != SQLITE_OK) return sqlite_status(raw, rc, "reading '" + path + "'");
  rc = sqlite3_step(st.st);
  if (rc == SQLITE_NOTADB) return Status::invalid("'" + path + "' is not a SQLite database");
  if (rc != SQLITE_ROW) return sqlite_status(raw, rc, "reading '" + path + "'");
  if (sqlite3_column_int64(st.st, 0) == 0) {
    return Status::invalid("'" + path + "' is not a paidoc database (it has no schema_migrations table)");
  }
  Owned v;
  rc = sqlite3_prepare_v2(raw, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &v.st,
                          nullptr);
  if (rc != SQLITE_OK) return sqlite_status(raw, rc, "reading '" + path + "'");
  rc = sqlite3_step(v.st);
  if (rc != SQLITE_ROW) return sqlite_status(raw, rc, "reading '" + path + "'");
  StoredVersion out;
  out.version = static_cast<int>(sqlite3_column_int64(v.st, 0));
  out.latest = latest_schema_version();
  return out;
}

}  // namespace paidoc::store::sqlite
