#include "store/sqlite/integrity.h"

#include <filesystem>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace paidoc::store::sqlite {

namespace {

// Constants: the connection's statement cache is keyed by their address.
constexpr char kQuickCheck[] = "PRAGMA quick_check(100)";
constexpr char kIntegrityCheck[] = "PRAGMA integrity_check(100)";
// Each pair walks a table's b-tree from its root to its first and to its
// last leaf: a handful of pages, whatever the table's size.
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

const char* pragma_name(IntegrityDepth depth) {
  return depth == IntegrityDepth::kQuick ? "PRAGMA quick_check" : "PRAGMA integrity_check";
}

// A check that could not run because the file is damaged is a finding.
Result<IntegrityReport> damaged(IntegrityDepth depth, const Status& s) {
  if (!is_damage(s)) return s;
  IntegrityReport r;
  r.checked = pragma_name(depth);
  r.problems.push_back(s.message());
  return r;
}

}  // namespace

Result<IntegrityReport> check_integrity_in(Connection& c, IntegrityDepth depth) {
  auto st = c.stmt(depth == IntegrityDepth::kQuick ? kQuickCheck : kIntegrityCheck);
  if (!st.ok()) return damaged(depth, st.status());
  std::vector<std::string> lines;
  while (true) {
    auto row = st->step();
    if (!row.ok()) return damaged(depth, row.status());
    if (!*row) break;
    lines.push_back(st->text(0));
  }
  IntegrityReport r;
  r.checked = pragma_name(depth);
  r.ok = lines.size() == 1 && lines[0] == "ok";
  if (!r.ok) r.problems = std::move(lines);
  if (!r.ok && r.problems.empty()) r.problems.push_back("no answer from " + r.checked);
  return r;
}

Status probe_in(Connection& c) {
  auto st = c.stmt(kProbe);
  if (!st.ok()) return st.status();
  auto row = st->step();
  if (!row.ok()) return row.status();
  return Status();
}

Result<IntegrityReport> check_file(const std::string& path, IntegrityDepth depth) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::not_found("sqlite: no database file at '" + path + "'");
  }
  auto c = Connection::open(path, Options{}.busy_timeout_ms);
  if (!c.ok()) return damaged(depth, c.status());
  return check_integrity_in(**c, depth);
}

}  // namespace paidoc::store::sqlite
