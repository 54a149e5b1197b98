// `paidoc migrate`: a whole site from SQLite into an empty PostgreSQL
// database, through store/transfer.h (the backends copy the rows; this
// file checks the two ends, prints and verifies).
#include <iostream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "cli/commands.h"
#include "store/store.h"
#include "store/transfer.h"

namespace paidoc::cli {

std::string redact_url(const std::string& url) {
  std::string out = url;
  // URI form: scheme://user:PASSWORD@host…
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t at = out.find('@', start);
    size_t slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=… in a query string (?password=…&…) or a key=value string.
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    size_t v = p + 9;
    size_t end = out.find_first_of("& ", v);
    if (end == std::string::npos) end = out.size();
    out.replace(v, end - v, "***");
  }
  return out;
}

namespace {

bool is_postgres(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

}  // namespace

void add_migrate_command(CLI::App& app, MigrateArgs& args) {
  args.migrate = app.add_subcommand(
      "migrate",
      "copy a whole site (documents, accounts, orders, ledger, settings, audit log…) from a SQLite "
      "database into an empty PostgreSQL database, then verify the copy's ledger");
  args.migrate->add_option("--from", args.from, "the site: sqlite:PATH (e.g. sqlite:paidoc-data/paidoc.db)")
      ->required();
  args.migrate->add_option("--to", args.to, "an empty PostgreSQL database: postgresql://USER@HOST/DB")
      ->required();
}

int run_migrate(const MigrateArgs& a) {
  if (!a.from.starts_with("sqlite:")) {
    return fail(Status::invalid("--from: expected sqlite:PATH (the site to copy)"));
  }
  if (!is_postgres(a.to)) {
    return fail(Status::invalid("--to: expected postgresql://… (the database to copy into)"));
  }
  // The source as it is on disk, before anything opens (and so migrates) it.
  auto stored = store::stored_schema_version(a.from);
  if (!stored.ok()) return fail(Status(stored.status().code(), "--from: " + stored.status().message()));
  if (stored->version > stored->latest) {
    return fail(Status::failed_precondition(fmt::format(
        "--from: the database has schema version {}, newer than this paidoc knows ({}); use a newer paidoc",
        stored->version, stored->latest)));
  }
  if (stored->version < stored->latest) {
    std::cout << fmt::format(
        "source schema version {} is older than this paidoc's ({}): opening it upgrades it to {} first, "
        "as paidoc serve would\n",
        stored->version, stored->latest, stored->latest);
  }
  auto source = store::Store::open(a.from);
  if (!source.ok()) return fail(Status(source.status().code(), "--from: " + source.status().message()));
  auto* exporter = dynamic_cast<store::SiteExport*>(source->get());
  if (exporter == nullptr) return fail(Status::invalid("--from: this database cannot be exported"));

  const std::string shown = redact_url(a.to);
  auto target = store::Store::open(a.to);
  if (!target.ok()) {
    return fail(Status(target.status().code(), "--to " + shown + ": " + target.status().message()));
  }
  auto* importer = dynamic_cast<store::SiteImport*>(target->get());
  if (importer == nullptr) return fail(Status::invalid("--to: this database cannot take a site"));

  std::cout << fmt::format("copying {} into {}\n", a.from, shown) << std::flush;
  auto report = importer->import_site([&](store::RowSink& sink) { return exporter->export_site(sink); });
  if (!report.ok()) {
    return fail(Status(report.status().code(), "migrate: nothing was copied: " + report.status().message()));
  }
  std::cout << fmt::format("{:<24}{:>10}{:>10}\n", "table", "source", "target");
  int64_t total = 0;
  for (const auto& t : report->tables) {
    std::cout << fmt::format("{:<24}{:>10}{:>10}\n", t.table, t.source_rows, t.target_rows);
    total += t.target_rows;
  }
  std::cout << fmt::format(
      "copied {} rows in {} tables; search index rebuilt for {} documents ({} words counted)\n", total,
      report->tables.size(), report->reindexed, report->words);
  // The copy's money, checked as `paidoc ledger verify` does.
  int verified = verify_ledger(**target);
  if (verified != 0) std::cout << "the copy was kept; its ledger needs attention before serving it\n";
  return verified;
}

}  // namespace paidoc::cli
