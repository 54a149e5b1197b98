// `paidoc backup --out FILE` and `paidoc restore --from FILE`: online
// copies of a SQLite site and putting one back. They parse, call
// store::backup_sqlite / store::restore_sqlite (the copying and checking
// live in the store) and print what the copy holds.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "store/backup.h"

namespace paidoc::cli {

namespace {

namespace fs = std::filesystem;

// Percent on stderr, redrawn in place, when stderr is a terminal.
class PercentLine {
 public:
  explicit PercentLine(std::string label) : label_(std::move(label)), on_(isatty(STDERR_FILENO)) {}
  void draw(int64_t done, int64_t total) {
    if (!on_ || total <= 0) return;
    int pct = static_cast<int>(100 * done / total);
    if (pct == last_) return;
    last_ = pct;
    std::cerr << "\r" << label_ << ": " << pct << "%" << std::flush;
  }
  void clear() {
    if (on_ && last_ >= 0) std::cerr << "\r\033[K" << std::flush;
  }

 private:
  std::string label_;
  bool on_;
  int last_ = -1;
};

std::string size_text(int64_t bytes) {
  if (bytes >= 10 * 1024 * 1024) return fmt::format("{} MiB", bytes / (1024 * 1024));
  if (bytes >= 10 * 1024) return fmt::format("{} KiB", bytes / 1024);
  return fmt::format("{} bytes", bytes);
}

void print_contents(const store::CopyReport& r) {
  std::cout << fmt::format("  {} documents, {} users, {} orders", r.documents, r.users, r.orders);
  if (r.ledger_checked) std::cout << fmt::format(", {} ledger entries", r.ledger.entries);
  std::cout << "\n";
}

// "integrity ok, ledger ok" or the problems; returns the exit code.
int print_checks(const store::CopyReport& r, const std::string& broken_note) {
  if (!r.ledger_checked) {
    std::cout << fmt::format(
        "integrity ok, ledger not checked (schema version {} is not this paidoc's; "
        "`paidoc ledger verify` checks it once the site runs this version)\n",
        r.schema_version);
    return 0;
  }
  commerce::LedgerCheck check = commerce::ledger_check(r.ledger);
  if (check.ok) {
    std::cout << "integrity ok, ledger ok\n";
    return 0;
  }
  for (const auto& p : check.problems) std::cout << p << "\n";
  std::cout << fmt::format("integrity ok, ledger BROKEN: {} problem{}{}\n", check.problems.size(),
                           check.problems.size() == 1 ? "" : "s", broken_note);
  return 1;
}

// kConflict is what --force overrides: say so.
int fail_forceable(const Status& s) {
  if (s.code() == Code::kConflict) return fail(Status(s.code(), s.message() + "; pass --force to replace it"));
  return fail(s);
}

int run_backup_cmd(const Globals& g, const BackupArgs& a) {
  if (a.out.empty()) return fail(Status::invalid("--out: name the backup file"));
  PercentLine progress("backup");
  store::BackupOptions opts;
  opts.force = a.force;
  opts.progress = [&](int64_t done, int64_t total) { progress.draw(done, total); };
  Result<store::CopyReport> r = store::backup_sqlite(store_url(g), a.out, opts);
  progress.clear();
  if (!r.ok()) return fail_forceable(r.status());
  std::cout << fmt::format("backup written to {}: {} pages of {} bytes ({}), schema version {}\n",
                           a.out, r->pages, r->page_size, size_text(r->bytes), r->schema_version);
  print_contents(*r);
  return print_checks(*r, " (the copy is faithful: the site's ledger has them too)");
}

int run_restore_cmd(const Globals& g, const BackupArgs& a) {
  if (a.from.empty()) return fail(Status::invalid("--from: name the backup file"));
  if (g.db.empty()) {
    // A fresh data folder is where restores usually go.
    std::error_code ec;
    fs::create_directories(g.data, ec);
    if (ec) return fail(Status::unavailable(fmt::format("cannot create data folder {}: {}", g.data, ec.message())));
  }
  PercentLine progress("restore");
  store::RestoreOptions opts;
  opts.force = a.force;
  opts.progress = [&](int64_t done, int64_t total) { progress.draw(done, total); };
  Result<store::CopyReport> r = store::restore_sqlite(store_url(g), a.from, opts, Clock::system());
  progress.clear();
  if (!r.ok()) return fail_forceable(r.status());
  std::cout << fmt::format("restored {} into {}: {} pages of {} bytes ({}), schema version {}", a.from,
                           g.db.empty() ? g.data : g.db, r->pages, r->page_size, size_text(r->bytes),
                           r->schema_version);
  if (r->migrated_from != 0) std::cout << fmt::format(" (migrated from {})", r->migrated_from);
  std::cout << "\n";
  print_contents(*r);
  return print_checks(*r, "");
}

}  // namespace

void add_backup_commands(CLI::App& app, BackupArgs& args) {
  args.backup = app.add_subcommand(
      "backup", "copy a SQLite site's database into one file while the site keeps serving");
  args.backup->add_option("--out", args.out, "the backup file to write")->required();
  args.backup->add_flag("--force", args.force, "replace FILE when it exists");
  args.restore = app.add_subcommand(
      "restore", "check a backup and put it in place of the site's database (site stopped)");
  args.restore->add_option("--from", args.from, "the backup file to restore")->required();
  args.restore->add_flag("--force", args.force,
                         "replace a database that holds documents, users or orders");
}

int run_backup(const Globals& g, const BackupArgs& args) {
  if (args.backup && *args.backup) return run_backup_cmd(g, args);
  return run_restore_cmd(g, args);
}

}  // namespace paidoc::cli
