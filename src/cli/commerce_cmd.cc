// `paidoc wallet credit`, `paidoc ledger verify`, `paidoc orders export`,
// `paidoc orders reconcile`: operator commands over the commerce service. They parse, call one service
// method and print; the rules (ledger rows, invariants, CSV columns) live in
// src/commerce.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "auth/auth.h"
#include "cli/commands.h"
#include "commerce/commerce.h"
#include "commerce/reconcile.h"
#include "common/clock.h"
#include "common/money.h"
#include "store/health.h"

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

commerce::Commerce make_commerce(store::Store& st) {
  return commerce::Commerce(st, st, Clock::system(), commerce::Options{}, {});
}

// ---- wallet credit ------------------------------------------------------------

int run_wallet_credit(const Globals& g, const CommerceArgs& a) {
  Result<Fen> amount = Fen::parse_yuan(a.amount);
  if (!amount.ok()) return fail(Status::invalid("--amount: " + amount.status().message()));
  if (amount->value() <= 0) return fail(Status::invalid("--amount: must be more than 0"));
  if (*amount > kMaxAmount)
    return fail(Status::invalid(fmt::format("--amount {}: above the largest amount, {} yuan", a.amount,
                                            kMaxAmount.plain_yuan_string())));
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
  // The command line has no account: user id 0, labelled by the OS user.
  store::AuditActor by;
  by.label = cli_actor();
  Status s = commerce.credit(user->id, *amount, a.note, by.label, by);
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
  if (!st.ok()) return fail(with_damage_advice(g, st.status()));
  return verify_ledger(**st);
}

}  // namespace

int verify_ledger(store::Store& st) {
  // A ledger read from a damaged database proves nothing: its pages may be
  // among the damaged ones, or the damage may sit where no ledger query
  // looks. The quick check reads every page first.
  auto* health = dynamic_cast<store::HealthStore*>(&st);
  Result<store::IntegrityReport> integrity =
      health != nullptr ? health->check_integrity(store::IntegrityDepth::kQuick)
                        : Result<store::IntegrityReport>(Status::internal("no integrity check"));
  if (!integrity.ok()) return fail(integrity.status());
  if (!integrity->ok) {
    for (const auto& p : integrity->problems) std::cout << p << "\n";
    std::cout << fmt::format(
        "ledger NOT VERIFIED: the database is damaged ({} found {} problem{}); run `paidoc "
        "check-db` and restore the last good backup\n",
        integrity->checked, integrity->problems.size(), integrity->problems.size() == 1 ? "" : "s");
    return 1;
  }
  commerce::Commerce commerce = make_commerce(st);
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

namespace {

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

// ---- orders reconcile -------------------------------------------------------------

namespace rc = commerce::reconcile;

// "2026-03-01 00:00" in Beijing time (the statements' clock).
std::string beijing(int64_t t) {
  int64_t local = t + 8 * 3600;
  int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  int64_t secs = local - days * 86400;
  // civil_from_days (H. Hinnant).
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", y, m, d, secs / 3600, secs / 60 % 60);
}

// What we hold for an order, through the service (read only).
Result<rc::LocalOrder> local_order(commerce::Commerce& commerce, const store::Order& so,
                                   const std::string& provider) {
  rc::LocalOrder o;
  o.out_trade_no = so.out_trade_no;
  o.amount = so.amount;
  o.status = std::string(store::to_string(so.status));
  o.paid_with = so.paid_with;
  o.paid_at = so.paid_at;
  Result<commerce::Order> full = commerce.order(so.user_id, so.id);
  if (!full.ok()) return full.status();
  o.credited = full->credited;
  Result<std::vector<commerce::Refund>> refunds = commerce.refunds(so.id);
  if (!refunds.ok()) return refunds.status();
  for (const auto& r : *refunds) {
    if (r.provider != provider) continue;
    o.refunds.push_back({r.out_refund_no, r.refund_id, r.amount, r.state == commerce::RefundState::kSucceeded,
                         r.updated_at});
  }
  return o;
}

// Exit 0: no difference; 1: differences (one line each, then the summary);
// 2: the statement cannot be read or is malformed, or the orders cannot be.
int run_orders_reconcile(const Globals& g, const CommerceArgs& a) {
  auto fail2 = [](const Status& s) {
    fail(s);
    return 2;
  };
  std::ifstream in(a.file, std::ios::binary);
  if (!in) return fail2(Status::invalid(fmt::format("--file {}: cannot read ({})", a.file, std::strerror(errno))));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return fail2(Status::invalid(fmt::format("--file {}: read failed", a.file)));
  Result<rc::Statement> statement = rc::parse_statement(a.provider, buf.str(), a.file);
  if (!statement.ok()) return fail2(statement.status());

  auto st = open_store(g);
  if (!st.ok()) return fail2(st.status());
  commerce::Commerce commerce = make_commerce(**st);
  std::map<std::string, rc::LocalOrder> local;
  for (const auto& e : statement->entries) {
    if (local.count(e.out_trade_no)) continue;
    Result<store::Order> so = (*st)->find_order(e.out_trade_no);
    if (!so.ok()) {
      if (so.status().code() == Code::kNotFound) continue;
      return fail2(so.status());
    }
    Result<rc::LocalOrder> o = local_order(commerce, *so, a.provider);
    if (!o.ok()) return fail2(o.status());
    local.emplace(e.out_trade_no, std::move(*o));
  }
  // Orders that may have moved money in the period: created up to 31 days
  // before it (an order expires long before; a refund may come weeks later,
  // older ones are not looked at).
  std::vector<rc::LocalOrder> nearby;
  if (statement->to > statement->from) {
    Result<std::vector<store::Order>> orders = (*st)->orders_between(statement->from - 31 * 86400, statement->to);
    if (!orders.ok()) return fail2(orders.status());
    for (const auto& so : *orders) {
      if (so.paid_with != a.provider) continue;
      auto known = local.find(so.out_trade_no);
      if (known != local.end()) {
        nearby.push_back(known->second);
        continue;
      }
      Result<rc::LocalOrder> o = local_order(commerce, so, a.provider);
      if (!o.ok()) return fail2(o.status());
      nearby.push_back(std::move(*o));
    }
  }

  rc::Report report = rc::compare(*statement, local, nearby);
  for (const auto& d : report.differences) {
    std::cout << fmt::format("{}  {}: {}", d.out_trade_no, rc::difference_name(d.kind), d.what);
    if (d.line > 0) std::cout << fmt::format(" ({}:{})", a.file, d.line);
    std::cout << "\n";
  }
  std::string period = statement->to > statement->from
                           ? fmt::format("{} to {} Beijing time", beijing(statement->from), beijing(statement->to))
                           : "no period";
  std::cout << fmt::format("{} statement {} ({}): {} payment{}, {} refund{}; {} order{} agree{}; {} difference{}\n",
                           a.provider, a.file, period, report.payments, report.payments == 1 ? "" : "s",
                           report.refunds, report.refunds == 1 ? "" : "s", report.matched,
                           report.matched == 1 ? "" : "s", report.matched == 1 ? "s" : "", report.differences.size(),
                           report.differences.size() == 1 ? "" : "s");
  return report.differences.empty() ? 0 : 1;
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
  args.orders_reconcile = args.orders->add_subcommand(
      "reconcile",
      "compare a statement downloaded from Alipay or WeChat Pay with our orders; one line per difference, "
      "exit 1 on any, 2 on a malformed file");
  args.orders_reconcile->add_option("--provider", args.provider, "alipay or wechat")
      ->required()
      ->check(CLI::IsMember({"alipay", "wechat"}));
  args.orders_reconcile->add_option("--file", args.file, "the statement (交易账单 CSV, GBK or UTF-8)")->required();
}

int run_commerce(const Globals& g, const CommerceArgs& args) {
  if (args.wallet_credit && *args.wallet_credit) return run_wallet_credit(g, args);
  if (args.ledger_verify && *args.ledger_verify) return run_ledger_verify(g);
  if (args.orders_export && *args.orders_export) return run_orders_export(g, args);
  if (args.orders_reconcile && *args.orders_reconcile) return run_orders_reconcile(g, args);
  return 1;
}

}  // namespace paidoc::cli
