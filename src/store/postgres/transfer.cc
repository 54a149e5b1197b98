#include "store/postgres/transfer.h"

#include <libpq-fe.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "store/postgres/connection.h"
#include "store/postgres/search.h"

namespace paidoc::store::postgres {
namespace {

// The schema's tables and their columns (schema_migrations is the
// schema's own and never copied).
constexpr char kColumns[] =
    "SELECT c.table_name, c.column_name FROM information_schema.columns c"
    " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
    "  AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'"
    " WHERE c.table_schema = current_schema() AND c.table_name <> 'schema_migrations'"
    " ORDER BY c.table_name, c.ordinal_position";
constexpr char kIdentities[] =
    "SELECT table_name, column_name FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name";
// Copied documents are indexed again by this program's search (whatever
// the source's index held): reindex_stale_in picks up generation 0.
constexpr char kMarkStale[] = "UPDATE documents SET search_version = 0";

// An identifier as SQL text. Names reaching here are the target's own
// (checked against information_schema), quoted all the same.
std::string quoted_identifier(const std::string& name) {
  std::string out = "\"";
  for (char ch : name) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

struct ResultPtr {
  PGresult* r = nullptr;
  ~ResultPtr() { PQclear(r); }
};

// Runs `sql` (no parameters) and expects rows or a command's completion.
Status run(PGconn* conn, const std::string& sql, ResultPtr* out, const std::string& what) {
  out->r = PQexec(conn, sql.c_str());
  ExecStatusType st = PQresultStatus(out->r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return pg_status(out->r, conn, what);
  return Status();
}

Result<int64_t> count_rows(PGconn* conn, const std::string& table) {
  ResultPtr r;
  if (Status s = run(conn, "SELECT count(*) FROM " + quoted_identifier(table), &r, "counting " + table);
      !s.is_ok()) {
    return s;
  }
  return std::stoll(PQgetvalue(r.r, 0, 0));
}

class Importer final : public RowSink {
 public:
  Importer(PGconn* conn, std::map<std::string, std::set<std::string>> columns)
      : conn_(conn), columns_(std::move(columns)) {}

  Status begin_table(const std::string& table, const std::vector<std::string>& cols) override {
    auto it = columns_.find(table);
    if (it == columns_.end()) {
      return Status::invalid("postgresql: the target has no table " + table +
                             " (is this paidoc older than the source's?)");
    }
    for (const TableCount& t : report_.tables) {
      if (t.table == table) return Status::invalid("postgresql: table " + table + " sent twice");
    }
    std::string names;
    std::string values;
    for (size_t i = 0; i < cols.size(); ++i) {
      if (!it->second.contains(cols[i])) {
        return Status::invalid("postgresql: the target's table " + table + " has no column " +
                               cols[i]);
      }
      names += (i ? ", " : "") + quoted_identifier(cols[i]);
      values += (i ? ", $" : "$") + std::to_string(i + 1);
    }
    statement_ = "transfer_" + std::to_string(report_.tables.size() + 1);
    std::string sql = "INSERT INTO " + quoted_identifier(table) + " (" + names + ") VALUES (" + values + ")";
    ResultPtr r;
    r.r = PQprepare(conn_, statement_.c_str(), sql.c_str(), static_cast<int>(cols.size()), nullptr);
    if (PQresultStatus(r.r) != PGRES_COMMAND_OK) return pg_status(r.r, conn_, "preparing " + table);
    report_.tables.push_back(TableCount{table, 0, 0});
    width_ = cols.size();
    return Status();
  }

  Status row(const std::vector<Cell>& cells) override {
    if (report_.tables.empty() || cells.size() != width_) {
      return Status::internal("postgresql: a row does not fit its table");
    }
    TableCount& t = report_.tables.back();
    texts_.resize(cells.size());
    values_.resize(cells.size());
    for (size_t i = 0; i < cells.size(); ++i) {
      const Cell& c = cells[i];
      if (c.kind == Cell::Kind::kNull) {
        values_[i] = nullptr;
        continue;
      }
      texts_[i] = c.kind == Cell::Kind::kInteger ? std::to_string(c.integer) : c.text;
      if (texts_[i].find('\0') != std::string::npos) {
        return Status::invalid("postgresql: " + t.table + " row " +
                               std::to_string(t.source_rows + 1) + " holds text with a NUL byte");
      }
      values_[i] = texts_[i].c_str();
    }
    ResultPtr r;
    r.r = PQexecPrepared(conn_, statement_.c_str(), static_cast<int>(cells.size()), values_.data(),
                         nullptr, nullptr, 0);
    if (PQresultStatus(r.r) != PGRES_COMMAND_OK) {
      return pg_status(r.r, conn_, "copying " + t.table + " row " + std::to_string(t.source_rows + 1));
    }
    ++t.source_rows;
    return Status();
  }

  // What the table holds once its rows are in, read in the transaction:
  // it must be what was sent.
  Status end_table() override {
    if (report_.tables.empty()) return Status::internal("postgresql: end_table before begin_table");
    TableCount& t = report_.tables.back();
    auto n = count_rows(conn_, t.table);
    if (!n.ok()) return n.status();
    t.target_rows = *n;
    if (t.target_rows != t.source_rows) {
      return Status::internal("postgresql: " + t.table + " holds " + std::to_string(t.target_rows) +
                              " rows after copying " + std::to_string(t.source_rows));
    }
    return Status();
  }

  ImportReport& report() { return report_; }

 private:
  PGconn* conn_;
  const std::map<std::string, std::set<std::string>> columns_;
  ImportReport report_;
  std::string statement_;
  size_t width_ = 0;
  std::vector<std::string> texts_;
  std::vector<const char*> values_;
};

Result<ImportReport> import_in(Connection& c, const std::function<Status(RowSink&)>& fill) {
  PGconn* conn = c.handle();
  std::map<std::string, std::set<std::string>> columns;
  {
    ResultPtr r;
    if (Status s = run(conn, kColumns, &r, "reading the target's tables"); !s.is_ok()) return s;
    for (int i = 0; i < PQntuples(r.r); ++i) {
      columns[PQgetvalue(r.r, i, 0)].insert(PQgetvalue(r.r, i, 1));
    }
  }
  // Only an empty database is a target: merging two sites' ids is not a
  // copy.
  std::string holding;
  for (const auto& [table, cols] : columns) {
    ResultPtr r;
    if (Status s = run(conn, "SELECT EXISTS (SELECT 1 FROM " + quoted_identifier(table) + ")", &r,
                       "reading " + table);
        !s.is_ok()) {
      return s;
    }
    if (PQgetvalue(r.r, 0, 0)[0] == 't') holding += (holding.empty() ? "" : ", ") + table;
  }
  if (!holding.empty()) {
    return Status::failed_precondition(
        "postgresql: the target database already holds data (in " + holding +
        "); migrate into an empty database");
  }

  Importer importer(conn, std::move(columns));
  if (Status s = fill(importer); !s.is_ok()) return s;
  ImportReport& report = importer.report();

  // New rows continue after the copied ids.
  {
    ResultPtr ids;
    if (Status s = run(conn, kIdentities, &ids, "reading identity columns"); !s.is_ok()) return s;
    for (int i = 0; i < PQntuples(ids.r); ++i) {
      std::string table = PQgetvalue(ids.r, i, 0);
      std::string column = PQgetvalue(ids.r, i, 1);
      // pg_get_serial_sequence takes the table as SQL text, the column as
      // a name.
      std::string sql = "SELECT setval(pg_get_serial_sequence('" + quoted_identifier(table) + "', '" + column +
                        "'), coalesce(max(" + quoted_identifier(column) + "), 0) + 1, false) FROM " +
                        quoted_identifier(table);
      ResultPtr r;
      if (Status s = run(conn, sql, &r, "moving the id sequence of " + table); !s.is_ok()) return s;
    }
  }
  // Ledger transaction ids (migration 3) continue after the copied ones.
  {
    ResultPtr r;
    if (Status s = run(conn,
                       "SELECT setval('ledger_txn_ids',"
                       " coalesce((SELECT max(txn_id) FROM ledger_entries), 0) + 1, false)",
                       &r, "moving the ledger transaction sequence");
        !s.is_ok()) {
      return s;
    }
  }
  {
    ResultPtr r;
    if (Status s = run(conn, kMarkStale, &r, "marking documents for indexing"); !s.is_ok()) return s;
  }
  auto reindexed = reindex_stale_in(c);
  if (!reindexed.ok()) return reindexed.status();
  report.reindexed = *reindexed;
  auto words = count_rows(conn, "keyword_df");
  if (!words.ok()) return words.status();
  report.words = *words;
  return std::move(report);
}

}  // namespace

Result<ImportReport> import_site(const std::string& conninfo, int lock_timeout_ms,
                                 const std::function<Status(RowSink&)>& fill) {
  auto c = Connection::open(conninfo, lock_timeout_ms);
  if (!c.ok()) return c.status();
  Txn txn(**c);
  if (Status s = txn.begin(Txn::Kind::kWrite); !s.is_ok()) return s;
  auto report = import_in(**c, fill);
  if (!report.ok()) return report.status();
  if (Status s = txn.commit(); !s.is_ok()) return s;
  return report;
}

}  // namespace paidoc::store::postgres
