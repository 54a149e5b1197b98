// `paidoc wallet credit`, `paidoc ledger verify`, `paidoc orders export`:
// operator commands over the commerce service. They parse, call one service
// method and print; the rules (ledger rows, invariants, CSV columns) live in
// src/commerce.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "auth/auth.h"
#include "cli/commands.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "common/money.h"

namespace paidoc::cli {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "2026-01-31" -> unix seconds of its 00:00:00 UTC.
Result<int64_t> parse_date(const std::string& flag, const std::string& text) {
  auto bad = [&] {
    return Status::invalid(fmt::format("{}: '{}' is not a date (expected YYYY-MM-DD)", flag, text));
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (text[i] < '0' || text[i] > '9') return bad();
  int y = std::atoi(text.substr(0, 4).c_str());
  unsigned m = static_cast<unsigned>(std::atoi(text.substr(5, 2).c_str()));
  unsigned d = static_cast<unsigned>(std::atoi(text.substr(8, 2).c_str()));
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || m < 1 || m > 12 || d < 1) return bad();
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  unsigned last = kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  if (d > last) return bad();
  return days_from_civil(y, m, d) * 86400;
}

// "cli:alice" for the ledger's who-did-it column; "cli" when $USER is unset.
std::string actor() {
  const char* user = std::getenv("USER");
  if (user && *user) return std::string("cli:") + user;
  return "cli";
}

commerce::Commerce make_commerce(store::Store& st) {
  return commerce::Commerce(st, st, Clock::system(), commerce::Options{}, {});
}

// ---- wallet credit ------------------------------------------------------------

int run_wallet_credit(const Globals& g, const CommerceArgs& a) {
  Result<Fen> amount = Fen::parse_yuan(a.amount);
  if (!amount.ok()) return fail(Status::invalid("--amount: " + amount.status().message()));
  if (amount->value() <= 0) return fail(Status::invalid("--amount: must be more than 0"));
  const std::string email = auth::normalize_email(a.email);
  if (email.empty()) return fail(Status::invalid("--email: empty"));

  auto st = open_store(g);
  if (!st.ok()) return fail(st.status());
  Result<store::User> user = (*st)->find_user_by_email(email);
  if (!user.ok()) {
    if (user.status().code() == Code::kNotFound)
      return fail(Status::not_found(fmt::format("no account with email {}", email)));
    return fail(user.status());
  }
  if (user->deleted_at != 0) return fail(Status::invalid(fmt::format("account {} is deleted", email)));

  commerce::Commerce commerce = make_commerce(**st);
  Status s = commerce.credit(user->id, *amount, a.note, actor());
  if (!s.is_ok()) return fail(s);
  Result<Fen> balance = commerce.balance(user->id);
  if (!balance.ok()) {
    // The credit is committed; only the read-back failed.
    std::cout << fmt::format("credited ¥{} to {}\n", amount->yuan_string(), email);
    return fail(balance.status());
  }
  std::cout << fmt::format("credited ¥{} to {} (balance ¥{})\n", amount->yuan_string(), email,
                           balance->yuan_string());
  return 0;
}

// ---- ledger verify --------------------------------------------------------------

int run_ledger_verify(const Globals& g) {
  auto st = open_store(g);
  if (!st.ok()) return fail(st.status());
  commerce::Commerce commerce = make_commerce(**st);
  Result<commerce::LedgerCheck> check = commerce.verify_ledger();
  if (!check.ok()) return fail(check.status());
  if (check->ok && check->problems.empty()) {
    std::cout << fmt::format("ledger ok: {} entries, {} accounts\n", check->entries, check->accounts);
    return 0;
  }
  for (const auto& p : check->problems) std::cout << p << "\n";
  std::cout << fmt::format("ledger BROKEN: {} problem{} in {} entries, {} accounts\n",
                           check->problems.size(), check->problems.size() == 1 ? "" : "s",
                           check->entries, check->accounts);
  return 1;
}

// ---- orders export --------------------------------------------------------------

int run_orders_export(const Globals& g, const CommerceArgs& a) {
  Result<int64_t> from = parse_date("--from", a.from);
  if (!from.ok()) return fail(from.status());
  Result<int64_t> to = parse_date("--to", a.to);
  if (!to.ok()) return fail(to.status());
  if (*to <= *from)
    return fail(Status::invalid(fmt::format("--to {} must be after --from {} (--to is exclusive)", a.to, a.from)));

  auto st = open_store(g);
  if (!st.ok()) return fail(st.status());
  commerce::Commerce commerce = make_commerce(**st);
  Result<std::string> csv = commerce.export_orders_csv(*from, *to);
  if (!csv.ok()) return fail(csv.status());

  if (a.out.empty() || a.out == "-") {
    std::cout << *csv << std::flush;
    return std::cout ? 0 : fail(Status::unavailable("cannot write to stdout"));
  }
  // Write next to the target and rename, so a half-written file never
  // carries the final name.
  const std::string tmp = a.out + ".part";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return fail(Status::unavailable(fmt::format("--out {}: cannot write ({})", a.out, std::strerror(errno))));
    f << *csv;
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      return fail(Status::unavailable(fmt::format("--out {}: write failed", a.out)));
    }
  }
  if (std::rename(tmp.c_str(), a.out.c_str()) != 0) {
    int e = errno;
    std::remove(tmp.c_str());
    return fail(Status::unavailable(fmt::format("--out {}: cannot write ({})", a.out, std::strerror(e))));
  }
  size_t lines = 0;
  for (char c : *csv) lines += c == '\n';
  std::cerr << fmt::format("wrote {} order{} to {}\n", lines > 0 ? lines - 1 : 0, lines == 2 ? "" : "s", a.out);
  return 0;
}

}  // namespace

void add_commerce_commands(CLI::App& app, CommerceArgs& args) {
  args.wallet = app.add_subcommand("wallet", "readers' wallets");
  args.wallet->require_subcommand(1);
  args.wallet_credit = args.wallet->add_subcommand(
      "credit", "add money to a reader's wallet (a ledger entry naming you and the note)");
  args.wallet_credit->add_option("--email", args.email, "the reader's email")->required();
  args.wallet_credit->add_option("--amount", args.amount, "yuan, e.g. 50 or 9.90")->required();
  args.wallet_credit->add_option("--note", args.note, "why (kept in the ledger)");

  args.ledger = app.add_subcommand("ledger", "the wallet ledger");
  args.ledger->require_subcommand(1);
  args.ledger_verify = args.ledger->add_subcommand(
      "verify", "recompute every balance from the ledger and check its invariants; exit 1 on any problem");

  args.orders = app.add_subcommand("orders", "orders");
  args.orders->require_subcommand(1);
  args.orders_export = args.orders->add_subcommand(
      "export", "CSV of the orders created in [--from, --to) (UTC dates), for reconciliation");
  args.orders_export->add_option("--from", args.from, "first day, YYYY-MM-DD (UTC, included)")->required();
  args.orders_export->add_option("--to", args.to, "day after the last, YYYY-MM-DD (UTC, excluded)")->required();
  args.orders_export->add_option("--out", args.out, "write to FILE instead of stdout");
}

int run_commerce(const Globals& g, const CommerceArgs& args) {
  if (args.wallet_credit && *args.wallet_credit) return run_wallet_credit(g, args);
  if (args.ledger_verify && *args.ledger_verify) return run_ledger_verify(g);
  if (args.orders_export && *args.orders_export) return run_orders_export(g, args);
  return 1;
}

}  // namespace paidoc::cli
