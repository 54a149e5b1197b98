// `paidoc check-db`, and the check `paidoc serve` runs before it opens the
// store. They parse, call store::check_database (the checking lives in the
// store, store/health.h) and print what it found.
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "store/health.h"

namespace paidoc::cli {

namespace {

bool is_sqlite(const std::string& url) { return url.starts_with("sqlite:"); }

// Where a damaged database's data comes back from.
std::string restore_advice(const std::string& url) {
  if (is_sqlite(url)) {
    return "restore the last good backup with `paidoc restore --from FILE --force` (site "
           "stopped)";
  }
  return "restore the last good dump of the database (pg_restore), or repair it with "
         "PostgreSQL's own tools";
}

// Names the database without quoting a PostgreSQL URL (it may hold a
// password).
std::string database_name(const std::string& url) {
  if (is_sqlite(url)) return "'" + url.substr(7) + "'";
  return "(PostgreSQL)";
}

}  // namespace

Status with_damage_advice(const Globals& g, const Status& s) {
  if (!store::is_damage(s)) return s;
  const std::string url = store_url(g);
  return Status(s.code(), fmt::format("{}\nthe database {} is damaged: {}, or run `paidoc "
                                      "check-db` for every problem",
                                      s.message(), database_name(url), restore_advice(url)));
}

Status check_before_serving(const Globals& g) {
  const std::string url = store_url(g);
  Result<store::IntegrityReport> r = store::check_database(url, store::IntegrityDepth::kQuick);
  if (!r.ok()) {
    // No database yet: serve creates it.
    if (r.status().code() == Code::kNotFound && is_sqlite(url)) return Status();
    return with_damage_advice(g, r.status());
  }
  if (r->ok) return Status();
  const size_t n = r->problems.size();
  return Status::internal(fmt::format(
      "the database {} is damaged: {} found {} problem{}, the first: {}\n"
      "paidoc will not serve it. To fix it, {}; `paidoc check-db` lists every problem",
      database_name(url), r->checked, n, n == 1 ? "" : "s", r->problems.front(),
      restore_advice(url)));
}

void add_check_db_command(CLI::App& app, CheckDbArgs& args) {
  args.check_db = app.add_subcommand(
      "check-db",
      "check the whole database for damage (SQLite: PRAGMA integrity_check; PostgreSQL: read "
      "every row of every table); exit 1 on any problem");
  args.check_db->add_flag("--quick", args.quick,
                          "the check `serve` runs at start (SQLite: PRAGMA quick_check)");
}

int run_check_db(const Globals& g, const CheckDbArgs& args) {
  const std::string url = store_url(g);
  Result<store::IntegrityReport> r = store::check_database(
      url, args.quick ? store::IntegrityDepth::kQuick : store::IntegrityDepth::kFull);
  if (!r.ok()) return fail(with_damage_advice(g, r.status()));
  if (r->ok) {
    std::cout << fmt::format("database ok: {} found no problem\n", r->checked);
    return 0;
  }
  for (const auto& p : r->problems) std::cout << p << "\n";
  const size_t n = r->problems.size();
  std::cout << fmt::format("database DAMAGED: {} found {} problem{}; {}\n", r->checked, n,
                           n == 1 ? "" : "s", restore_advice(url));
  return 1;
}

}  // namespace paidoc::cli
