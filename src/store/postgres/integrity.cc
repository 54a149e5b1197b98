#include "store/postgres/integrity.h"

#include <string>
#include <vector>

namespace paidoc::store::postgres {

namespace {

// Constants: the connection's prepared statements are keyed by their address.
constexpr char kProbe[] =
    "SELECT (SELECT id FROM documents ORDER BY id LIMIT 1),"
    " (SELECT id FROM documents ORDER BY id DESC LIMIT 1),"
    " (SELECT id FROM users ORDER BY id LIMIT 1),"
    " (SELECT id FROM users ORDER BY id DESC LIMIT 1),"
    " (SELECT id FROM orders ORDER BY id LIMIT 1),"
    " (SELECT id FROM orders ORDER BY id DESC LIMIT 1),"
    " (SELECT id FROM ledger_entries ORDER BY id LIMIT 1),"
    " (SELECT id FROM ledger_entries ORDER BY id DESC LIMIT 1),"
    " (SELECT user_id FROM wallets ORDER BY user_id LIMIT 1),"
    " (SELECT user_id FROM wallets ORDER BY user_id DESC LIMIT 1),"
    " (SELECT id FROM sessions ORDER BY id LIMIT 1),"
    " (SELECT id FROM sessions ORDER BY id DESC LIMIT 1)";
// Plain tables and partitions (not partitioned parents: their rows are the
// partitions'), quoted for use as identifiers.
constexpr char kTables[] =
    "SELECT quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.relname";

constexpr size_t kMaxProblems = 100;

}  // namespace

Status probe_in(Connection& c) {
  auto st = c.stmt(kProbe);
  if (!st.ok()) return st.status();
  auto row = st->step();
  if (!row.ok()) return row.status();
  return Status();
}

Result<IntegrityReport> check_integrity_in(Connection& c, IntegrityDepth depth) {
  IntegrityReport r;
  if (depth == IntegrityDepth::kQuick) {
    r.checked = "the first and last row of each main table";
    Status s = probe_in(c);
    if (s.code() == Code::kUnavailable) return s;
    if (!s.is_ok()) r.problems.push_back(s.message());
    r.ok = r.problems.empty();
    return r;
  }
  r.checked = "every row of every table, read whole";
  std::vector<std::string> tables;
  {
    auto st = c.stmt(kTables);
    if (!st.ok()) return st.status();
    while (true) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      tables.push_back(st->text(0));
    }
  }
  for (const std::string& t : tables) {
    // Each row turned into text, so every column of every row (and each
    // out-of-line value) is read; the sum keeps the planner from dropping it.
    const std::string sql =
        "SELECT count(*), coalesce(sum(length(paidoc_row::text)), 0) FROM " + t + " paidoc_row";
    PGresult* res = PQexec(c.handle(), sql.c_str());
    Status s;
    if (res == nullptr || PQresultStatus(res) != PGRES_TUPLES_OK) {
      s = pg_status(res, c.handle(), "reading table " + t);
    }
    if (res != nullptr) PQclear(res);
    if (s.code() == Code::kUnavailable) return s;
    if (!s.is_ok() && r.problems.size() < kMaxProblems) r.problems.push_back(s.message());
  }
  r.ok = r.problems.empty();
  return r;
}

}  // namespace paidoc::store::postgres
