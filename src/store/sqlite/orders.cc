#include "store/sqlite/orders.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/money.h"
#include "store/ledger_tally.h"

namespace paidoc::store::sqlite {
namespace {

// --- SQL ----------------------------------------------------------------------
// Constants: the connection's statement cache is keyed by their address.

// Columns read into an Order by read_order(), in this order.
#define PAIDOC_ORDER_COLUMNS                                                             \
  "id, out_trade_no, user_id, kind, coalesce(document_id, 0), coalesce(plan_id, ''), "   \
  "plan_days, subject, amount_fen, status, paid_with, created_at, expires_at, paid_at, " \
  "refunded_at, credited_fen"
#define PAIDOC_ORDER_COLUMNS_O                                                                     \
  "o.id, o.out_trade_no, o.user_id, o.kind, coalesce(o.document_id, 0), coalesce(o.plan_id, ''), " \
  "o.plan_days, o.subject, o.amount_fen, o.status, o.paid_with, o.created_at, o.expires_at, "      \
  "o.paid_at, o.refunded_at, o.credited_fen"

constexpr char kGetOrder[] = "SELECT " PAIDOC_ORDER_COLUMNS " FROM orders WHERE id = ?1";
constexpr char kFindOrder[] = "SELECT " PAIDOC_ORDER_COLUMNS " FROM orders WHERE out_trade_no = ?1";
// The user's newest unpaid order for one document (?4) or plan (?5) of
// this amount, payable past ?6 (open_order).
constexpr char kFindOpenOrder[] =
    "SELECT " PAIDOC_ORDER_COLUMNS
    " FROM orders WHERE user_id = ?1 AND kind = ?2 AND status = 'created' AND amount_fen = ?3"
    " AND coalesce(document_id, 0) = ?4 AND coalesce(plan_id, '') = ?5 AND expires_at > ?6"
    " ORDER BY id DESC LIMIT 1";
constexpr char kUserOrders[] = "SELECT " PAIDOC_ORDER_COLUMNS
                               " FROM orders WHERE user_id = ?1"
                               " ORDER BY created_at DESC, id DESC LIMIT ?2";
constexpr char kOrdersBetween[] = "SELECT " PAIDOC_ORDER_COLUMNS
                                  " FROM orders WHERE created_at >= ?1 AND created_at < ?2"
                                  " ORDER BY created_at, id";

constexpr char kOpenStarts[] =
    "SELECT " PAIDOC_ORDER_COLUMNS_O
    ", s.provider, s.started_at, s.closed_at"
    " FROM payment_starts s JOIN orders o ON o.id = s.order_id"
    " WHERE s.closed_at = 0 AND o.status IN ('created', 'expired') AND o.expires_at <= ?1"
    " ORDER BY o.expires_at, o.id, s.provider LIMIT ?2";

// list_orders: every filter is off when its parameter is '' or 0.
#define PAIDOC_ORDER_FILTER                                                            \
  " FROM orders o JOIN users u ON u.id = o.user_id"                                    \
  " WHERE (?1 = '' OR o.status = ?1) AND (?2 = '' OR o.paid_with = ?2)"                \
  " AND (?3 = 0 OR o.created_at >= ?3) AND (?4 = 0 OR o.created_at < ?4)"              \
  " AND (?5 = '' OR u.email LIKE ?5 ESCAPE '\\')"
// The page with, in each row, the buyer's email and the total of all matches.
constexpr char kListOrders[] = "SELECT " PAIDOC_ORDER_COLUMNS_O ", u.email, count(*) OVER ()"
    PAIDOC_ORDER_FILTER " ORDER BY o.created_at DESC, o.id DESC LIMIT ?6 OFFSET ?7";
// The total alone, for a page past the end (which has no row to carry it).
constexpr char kCountOrders[] = "SELECT count(*)" PAIDOC_ORDER_FILTER;
#undef PAIDOC_ORDER_FILTER

#undef PAIDOC_ORDER_COLUMNS
#undef PAIDOC_ORDER_COLUMNS_O

constexpr char kRecordStart[] =
    "INSERT INTO payment_starts (order_id, provider, started_at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (order_id, provider) DO NOTHING";
constexpr char kCloseStart[] =
    "UPDATE payment_starts SET closed_at = ?3 WHERE order_id = ?1 AND provider = ?2"
    " AND closed_at = 0";

// Columns read into a Refund by read_refund(), in this order.
#define PAIDOC_REFUND_COLUMNS                                                             \
  "id, order_id, provider, transaction_id, out_refund_no, refund_id, amount_fen, state, " \
  "message, from_gateway, created_at, updated_at"
constexpr char kRefundById[] = "SELECT " PAIDOC_REFUND_COLUMNS " FROM refunds WHERE id = ?1";
constexpr char kOurRefund[] = "SELECT " PAIDOC_REFUND_COLUMNS
                              " FROM refunds WHERE out_refund_no = ?1 AND provider = ?2"
                              " AND from_gateway = 0";
constexpr char kGatewayRefund[] = "SELECT " PAIDOC_REFUND_COLUMNS
                                  " FROM refunds WHERE provider = ?1 AND transaction_id = ?2"
                                  " AND refund_key = ?3 AND from_gateway = 1";
constexpr char kOrderRefunds[] =
    "SELECT " PAIDOC_REFUND_COLUMNS " FROM refunds WHERE order_id = ?1 ORDER BY id";
constexpr char kPendingRefunds[] = "SELECT " PAIDOC_REFUND_COLUMNS
                                   " FROM refunds WHERE state = 'pending' AND from_gateway = 0"
                                   " ORDER BY id LIMIT ?1";
#undef PAIDOC_REFUND_COLUMNS

constexpr char kInsertRefund[] =
    "INSERT INTO refunds (order_id, provider, transaction_id, out_refund_no, refund_id,"
    " refund_key, amount_fen, state, message, from_gateway, ledger_txn, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)";
constexpr char kSetOutRefundNo[] = "UPDATE refunds SET out_refund_no = ?2 WHERE id = ?1";
constexpr char kSettleRefund[] =
    "UPDATE refunds SET state = ?2, refund_id = ?3, message = ?4, sent_txn = ?5,"
    " updated_at = ?6 WHERE id = ?1 AND state <> 'succeeded'";
constexpr char kTouchRefund[] = "UPDATE refunds SET message = ?2, updated_at = ?3 WHERE id = ?1";
// What the gateway gave back for an order so far, or may have: succeeded
// refunds (ours and those made there) and ours still pending (a running
// total that arrives before our refund is confirmed must not book it a
// second time as one made at the gateway).
constexpr char kRefundedAtGateway[] =
    "SELECT coalesce(sum(amount_fen), 0) FROM refunds WHERE order_id = ?1"
    " AND state IN ('succeeded', 'pending')";
// Refunds made at the gateway while the order was paid (they took money
// from its sale).
constexpr char kGatewayRefundedOfSale[] =
    "SELECT coalesce(sum(e.amount_fen), 0) FROM refunds r JOIN ledger_entries e"
    " ON e.txn_id = r.ledger_txn AND e.account = 'provider:' || r.provider AND e.kind = 'refund'"
    " WHERE r.order_id = ?1 AND r.from_gateway = 1";
constexpr char kPaymentOf[] =
    "SELECT 1 FROM payment_notifications WHERE provider = ?1 AND transaction_id = ?2"
    " AND order_id = ?3";
constexpr char kPayingTransaction[] =
    "SELECT transaction_id FROM payment_notifications WHERE order_id = ?1 AND provider = ?2"
    " AND outcome = 'applied' ORDER BY id LIMIT 1";
constexpr char kOwnsDocument[] =
    "SELECT 1 FROM orders WHERE user_id = ?1 AND kind = 'document' AND document_id = ?2"
    " AND status = 'paid' AND id <> ?3 LIMIT 1";

// The out_trade_no contains the order id, known only after the INSERT: the
// row is inserted with a placeholder and given its number by the UPDATE, in
// the same transaction.
constexpr char kInsertOrder[] =
    "INSERT INTO orders (out_trade_no, user_id, kind, document_id, plan_id, plan_days, subject,"
    " amount_fen, status, created_at, expires_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'created', ?9, ?10)";
constexpr char kSetOutTradeNo[] = "UPDATE orders SET out_trade_no = ?2 WHERE id = ?1";

constexpr char kUserLive[] = "SELECT deleted_at FROM users WHERE id = ?1";
constexpr char kDocumentExists[] = "SELECT 1 FROM documents WHERE id = ?1";

constexpr char kMarkPaid[] =
    "UPDATE orders SET status = 'paid', paid_with = ?2, paid_at = ?3"
    " WHERE id = ?1 AND status = 'created'";
constexpr char kMarkCredited[] =
    "UPDATE orders SET status = 'credited', paid_with = ?2, paid_at = ?3,"
    " credited_fen = credited_fen + ?4 WHERE id = ?1 AND status = 'created'";
constexpr char kAddCredited[] = "UPDATE orders SET credited_fen = credited_fen + ?2 WHERE id = ?1";
constexpr char kMarkExpired[] =
    "UPDATE orders SET status = 'expired' WHERE id = ?1 AND status = 'created'";
constexpr char kMarkRefunded[] =
    "UPDATE orders SET status = 'refunded', refunded_at = ?2 WHERE id = ?1 AND status = 'paid'";
constexpr char kExpireOrders[] =
    "UPDATE orders SET status = 'expired' WHERE status = 'created' AND expires_at <= ?1";

constexpr char kNextTxnId[] = "SELECT coalesce(max(txn_id), 0) + 1 FROM ledger_entries";
constexpr char kInsertEntry[] =
    "INSERT INTO ledger_entries (txn_id, account, amount_fen, order_id, kind, note, actor,"
    " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

constexpr char kWalletBalance[] = "SELECT balance_fen FROM wallets WHERE user_id = ?1";
// Credits upsert; debits update only (a missing wallet holds nothing, and
// the CHECK would refuse a negative row before any conflict handling).
constexpr char kWalletCredit[] =
    "INSERT INTO wallets (user_id, balance_fen) VALUES (?1, ?2)"
    " ON CONFLICT (user_id) DO UPDATE SET balance_fen = balance_fen + excluded.balance_fen";
constexpr char kWalletDebit[] =
    "UPDATE wallets SET balance_fen = balance_fen - ?2 WHERE user_id = ?1";

constexpr char kVipUntil[] = "SELECT vip_until FROM vip WHERE user_id = ?1";
constexpr char kVipExtend[] =
    "INSERT INTO vip (user_id, vip_until) VALUES (?1, ?2 + ?3)"
    " ON CONFLICT (user_id) DO UPDATE SET vip_until = max(vip.vip_until, ?2) + ?3";
constexpr char kVipShorten[] =
    "UPDATE vip SET vip_until = max(0, vip_until - ?2) WHERE user_id = ?1";

constexpr char kFindNotification[] =
    "SELECT order_id FROM payment_notifications WHERE provider = ?1 AND transaction_id = ?2";
constexpr char kInsertNotification[] =
    "INSERT INTO payment_notifications (provider, transaction_id, order_id, amount_fen,"
    " received_at, outcome, ledger_txn) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

constexpr char kPurchases[] =
    "SELECT DISTINCT document_id FROM orders"
    " WHERE user_id = ?1 AND kind = 'document' AND status = 'paid' ORDER BY document_id";

// --- ledger audit ---------------------------------------------------------------

constexpr char kAuditCounts[] =
    "SELECT count(*), count(DISTINCT txn_id), count(DISTINCT account) FROM ledger_entries";
constexpr char kAuditWalletCount[] = "SELECT count(*) FROM wallets";
// Every amount, for the checked sums of LedgerTally (nothing summed here).
constexpr char kAuditEntryAmounts[] =
    "SELECT id, txn_id, account, amount_fen FROM ledger_entries ORDER BY id";
constexpr char kAuditOrderAmounts[] =
    "SELECT id, coalesce(document_id, 0), amount_fen, credited_fen FROM orders ORDER BY id";
constexpr char kAuditUnbalanced[] =
    "SELECT txn_id, sum(amount_fen) FROM ledger_entries GROUP BY txn_id"
    " HAVING sum(amount_fen) <> 0 ORDER BY txn_id";
// Wallet accounts are "wallet:<user id>"; the id starts at character 8.
constexpr char kAuditWallets[] =
    "SELECT user_id, sum(ledger), sum(cached) FROM ("
    "  SELECT CAST(substr(account, 8) AS INTEGER) AS user_id, amount_fen AS ledger, 0 AS cached"
    "  FROM ledger_entries WHERE account LIKE 'wallet:%'"
    "  UNION ALL SELECT user_id, 0, balance_fen FROM wallets"
    ") AS w GROUP BY user_id HAVING sum(ledger) <> sum(cached) ORDER BY user_id";
constexpr char kAuditNegativeWallets[] =
    "SELECT CAST(substr(account, 8) AS INTEGER), sum(amount_fen) FROM ledger_entries"
    " WHERE account LIKE 'wallet:%' GROUP BY account HAVING sum(amount_fen) < 0 ORDER BY 1";
// A paid (or later refunded) order brought in its amount exactly once
// through 'payment' rows; any other order brought in nothing that way.
constexpr char kAuditOrderPayments[] =
    "SELECT id, expected, actual FROM ("
    "  SELECT o.id AS id,"
    "    CASE WHEN o.status IN ('paid', 'refunded') THEN o.amount_fen ELSE 0 END AS expected,"
    "    coalesce((SELECT sum(e.amount_fen) FROM ledger_entries e WHERE e.order_id = o.id"
    "              AND e.kind = 'payment' AND e.amount_fen > 0), 0) AS actual"
    "  FROM orders o"
    ") AS t WHERE expected <> actual ORDER BY id";
// Refund rows (ours into the wallet or refunds_due, or made at the gateway
// while the order was paid) pay back the amount of a refunded order once; a
// paid order only what was refunded at the gateway so far (partly).
constexpr char kAuditOrderRefunds[] =
    "SELECT id, expected, actual FROM ("
    "  SELECT o.id AS id,"
    "    CASE WHEN o.status = 'refunded' THEN o.amount_fen"
    "         WHEN o.status = 'paid' THEN coalesce((SELECT sum(r.amount_fen) FROM refunds r"
    "              WHERE r.order_id = o.id AND r.from_gateway = 1), 0)"
    "         ELSE 0 END AS expected,"
    "    coalesce((SELECT sum(e.amount_fen) FROM ledger_entries e WHERE e.order_id = o.id"
    "              AND e.kind = 'refund' AND e.amount_fen > 0), 0) AS actual"
    "  FROM orders o"
    ") AS t WHERE expected <> actual ORDER BY id";
// Each recorded notification took exactly its amount from its provider's
// account, in its own ledger transaction, for its order.
constexpr char kAuditNotifications[] =
    "SELECT id, detail, expected, actual FROM ("
    "  SELECT n.id AS id, n.provider || '/' || n.transaction_id AS detail,"
    "    n.amount_fen AS expected,"
    "    coalesce((SELECT -sum(e.amount_fen) FROM ledger_entries e WHERE e.txn_id = n.ledger_txn"
    "              AND e.account = 'provider:' || n.provider AND e.order_id = n.order_id), 0)"
    "      AS actual"
    "  FROM payment_notifications n"
    ") AS t WHERE expected <> actual ORDER BY id";
// Money from a provider arrives only with a recorded notification, and
// leaves only with a succeeded refund.
constexpr char kAuditProviderRows[] =
    "SELECT DISTINCT e.txn_id, e.account FROM ledger_entries e"
    " WHERE e.account LIKE 'provider:%' AND NOT EXISTS"
    "  (SELECT 1 FROM payment_notifications n WHERE n.ledger_txn = e.txn_id)"
    " AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.state = 'succeeded'"
    "  AND ((r.from_gateway = 0 AND r.sent_txn = e.txn_id)"
    "    OR (r.from_gateway = 1 AND r.ledger_txn = e.txn_id)))"
    " ORDER BY e.txn_id";
// A reader holds at most one paid order per document (a second payment
// goes to the wallet: kCredited). A paid order next to a refunded one is
// resolved (the money went back).
constexpr char kAuditDoublePurchases[] =
    "SELECT user_id, 'document ' || document_id || ': orders ' || group_concat(id, ', '), count(*)"
    " FROM (SELECT user_id, document_id, id FROM orders"
    "       WHERE kind = 'document' AND status = 'paid' ORDER BY id)"
    " GROUP BY user_id, document_id HAVING count(*) > 1 ORDER BY user_id, document_id";
// An order's credited amount is what its late_payment rows put into the wallet.
constexpr char kAuditCredited[] =
    "SELECT id, expected, actual FROM ("
    "  SELECT o.id AS id, o.credited_fen AS expected,"
    "    coalesce((SELECT sum(e.amount_fen) FROM ledger_entries e WHERE e.order_id = o.id"
    "              AND e.kind = 'late_payment' AND e.account LIKE 'wallet:%'"
    "              AND e.amount_fen > 0), 0) AS actual"
    "  FROM orders o"
    ") AS t WHERE expected <> actual ORDER BY id";
// Each tracked refund was booked once in its ledger txn: ours into
// refunds_due:<p>, one made at the gateway out to provider:<p>.
constexpr char kAuditRefundBooked[] =
    "SELECT id, detail, expected, actual FROM ("
    "  SELECT r.id AS id, r.out_refund_no AS detail, r.amount_fen AS expected,"
    "    coalesce((SELECT sum(e.amount_fen) FROM ledger_entries e WHERE e.txn_id = r.ledger_txn"
    "              AND e.order_id = r.order_id AND e.amount_fen > 0 AND e.account ="
    "              (CASE WHEN r.from_gateway = 1 THEN 'provider:' ELSE 'refunds_due:' END)"
    "              || r.provider), 0) AS actual"
    "  FROM refunds r"
    ") AS t WHERE expected <> actual ORDER BY id";
// Money left through the gateway for a refund of ours only once it
// succeeded, and then exactly its amount.
constexpr char kAuditRefundSent[] =
    "SELECT id, detail, expected, actual FROM ("
    "  SELECT r.id AS id, r.out_refund_no AS detail,"
    "    CASE WHEN r.state = 'succeeded' THEN r.amount_fen ELSE 0 END AS expected,"
    "    coalesce((SELECT sum(e.amount_fen) FROM ledger_entries e WHERE r.sent_txn IS NOT NULL"
    "              AND e.txn_id = r.sent_txn AND e.account = 'provider:' || r.provider"
    "              AND e.amount_fen > 0), 0) AS actual"
    "  FROM refunds r WHERE r.from_gateway = 0"
    ") AS t WHERE expected <> actual ORDER BY id";
// refunds_due:<p> holds exactly the pending and failed refunds of ours.
constexpr char kAuditRefundsDue[] =
    "SELECT provider, sum(expected), sum(actual) FROM ("
    "  SELECT substr(account, 13) AS provider, 0 AS expected, amount_fen AS actual"
    "  FROM ledger_entries WHERE account LIKE 'refunds\\_due:%' ESCAPE '\\'"
    "  UNION ALL SELECT provider, amount_fen, 0 FROM refunds"
    "  WHERE from_gateway = 0 AND state IN ('pending', 'failed')"
    ") AS d GROUP BY provider HAVING sum(expected) <> sum(actual) ORDER BY provider";

// --- helpers --------------------------------------------------------------------

constexpr int64_t kDay = 86400;

// The columns read_order() reads.
constexpr int kOrderColumnCount = 16;

Order read_order(const Stmt& st) {
  Order o;
  o.id = st.int64(0);
  o.out_trade_no = st.text(1);
  o.user_id = st.int64(2);
  // The schema's CHECK constraints admit only the values enums.h names.
  o.kind = parse_order_kind(st.text(3)).value_or(OrderKind::kDocument);
  o.document_id = st.int64(4);
  o.plan_id = st.text(5);
  o.plan_days = st.int64(6);
  o.subject = st.text(7);
  o.amount = Fen(st.int64(8));
  o.status = parse_order_status(st.text(9)).value_or(OrderStatus::kCreated);
  o.paid_with = st.text(10);
  o.created_at = st.int64(11);
  o.expires_at = st.int64(12);
  o.paid_at = st.int64(13);
  o.refunded_at = st.int64(14);
  o.credited = Fen(st.int64(15));
  return o;
}

Refund read_refund(const Stmt& st, int col = 0) {
  Refund r;
  r.id = st.int64(col + 0);
  r.order_id = st.int64(col + 1);
  r.provider = st.text(col + 2);
  r.transaction_id = st.text(col + 3);
  r.out_refund_no = st.text(col + 4);
  r.refund_id = st.text(col + 5);
  r.amount = Fen(st.int64(col + 6));
  // The schema's CHECK admits only the states enums.h names.
  r.state = parse_refund_state(st.text(col + 7)).value_or(RefundState::kPending);
  r.message = st.text(col + 8);
  r.from_gateway = st.int64(col + 9) != 0;
  r.created_at = st.int64(col + 10);
  r.updated_at = st.int64(col + 11);
  return r;
}

Status order_not_found(int64_t id) {
  return Status::not_found("order " + std::to_string(id) + " does not exist");
}

template <typename Bind>
Result<std::optional<Order>> load_order(Connection& c, const char* sql, Bind&& bind) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  bind(*st);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<Order>();
  return std::optional<Order>(read_order(*st));
}

Result<Order> must_get_order(Connection& c, int64_t id) {
  auto o = load_order(c, kGetOrder, [&](Stmt& st) { st.bind(1, id); });
  if (!o.ok()) return o.status();
  if (!o->has_value()) return order_not_found(id);
  return std::move(**o);
}

template <typename Bind>
Result<std::vector<Order>> load_orders(Connection& c, const char* sql, Bind&& bind) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  bind(*st);
  std::vector<Order> out;
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(read_order(*st));
  }
  return out;
}

// The single integer `sql` answers for `key`; nullopt when there is no row.
Result<std::optional<int64_t>> scalar(Connection& c, const char* sql, int64_t key) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  st->bind(1, key);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<int64_t>();
  return std::optional<int64_t>(st->int64(0));
}

// Runs one writing statement; returns the rows it changed.
template <typename Bind>
Result<int64_t> run(Connection& c, const char* sql, Bind&& bind) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  bind(*st);
  if (Status s = st->exec(); !s.is_ok()) return s;
  return static_cast<int64_t>(sqlite3_changes64(c.handle()));
}

Status check_user_live(Connection& c, int64_t user_id) {
  auto d = scalar(c, kUserLive, user_id);
  if (!d.ok()) return d.status();
  if (!d->has_value() || **d != 0) {
    return Status::not_found("user " + std::to_string(user_id) + " does not exist");
  }
  return Status();
}

std::string wallet_account(int64_t user_id) { return "wallet:" + std::to_string(user_id); }
std::string provider_account(const std::string& p) { return "provider:" + p; }
constexpr char kSales[] = "sales";
constexpr char kOperator[] = "operator";

Result<Fen> balance_of(Connection& c, int64_t user_id) {
  auto b = scalar(c, kWalletBalance, user_id);
  if (!b.ok()) return b.status();
  return Fen(b->value_or(0));
}

// One side of a transfer; wallet_user != 0 for a user's wallet, whose
// cached balance moves with the row.
struct Account {
  std::string name;
  int64_t wallet_user = 0;
};

Account wallet(int64_t user_id) { return {wallet_account(user_id), user_id}; }
Account system_account(std::string name) { return {std::move(name), 0}; }

struct Entry {
  std::optional<int64_t> order_id;
  const char* kind = "payment";  // 'payment' | 'late_payment' | 'refund' | 'credit'
  std::string note;
  std::string actor;
  int64_t now = 0;
};

// Books one ledger transaction: one row per leg (+ into the account, -
// out of it; the legs sum to zero) and updates cached wallet balances. A
// wallet that would go below zero fails the schema's CHECK; callers check
// the balance first to answer kPaymentRequired. Returns the txn id.
Result<int64_t> book(Connection& c, const std::vector<std::pair<Account, int64_t>>& legs,
                     const Entry& e) {
  Fen sum;
  for (const auto& [account, delta] : legs) {
    if (delta == 0) return Status::invalid("ledger: a row of " + account.name + " moves nothing");
    // No operation moves more than the largest amount in one row; so no
    // sum of rows comes near the int64 limit (store/ledger_tally.h).
    if (delta < -kMaxAmount.value() || delta > kMaxAmount.value()) {
      return Status::invalid("ledger: a row of " + account.name + " moves " +
                             std::to_string(delta) + " fen, beyond the largest amount (" +
                             std::to_string(kMaxAmount.value()) + " fen)");
    }
    std::optional<Fen> next = sum.checked_add(Fen(delta));
    if (!next) return Status::invalid("ledger: the rows of a transaction overflow");
    sum = *next;
  }
  if (sum.value() != 0 || legs.size() < 2) return Status::invalid("ledger: a transaction must balance");
  int64_t txn = 0;
  {
    auto next = c.stmt(kNextTxnId);
    if (!next.ok()) return next.status();
    auto row = next->step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::internal("ledger: no next txn id");
    txn = next->int64(0);
  }
  // Named references rather than a structured binding: lambdas capture
  // them, which clang before 16 does not allow for bindings.
  for (const auto& leg : legs) {
    const Account& account = leg.first;
    const int64_t delta = leg.second;
    auto ins = run(c, kInsertEntry, [&](Stmt& st) {
      st.bind(1, txn)
          .bind(2, account.name)
          .bind(3, delta)
          .bind(4, e.order_id)
          .bind(5, std::string_view(e.kind))
          .bind(6, e.note)
          .bind(7, e.actor)
          .bind(8, e.now);
    });
    if (!ins.ok()) return ins.status();
    if (account.wallet_user != 0) {
      const bool credit = delta > 0;
      auto w = run(c, credit ? kWalletCredit : kWalletDebit, [&](Stmt& st) {
        st.bind(1, account.wallet_user).bind(2, credit ? delta : -delta);
      });
      if (!w.ok()) return w.status();
      if (*w != 1) return Status(Code::kPaymentRequired, "余额不足");
    }
  }
  return txn;
}

// Moves `amount` from `from` to `to` as one ledger transaction (two rows).
Result<int64_t> transfer(Connection& c, const Account& from, const Account& to, Fen amount,
                         const Entry& e) {
  if (amount.value() <= 0) return Status::invalid("ledger: transfer amount must be positive");
  return book(c, {{from, -amount.value()}, {to, amount.value()}}, e);
}

Status extend_vip(Connection& c, int64_t user_id, int64_t days, int64_t now) {
  auto n =
      run(c, kVipExtend, [&](Stmt& st) { st.bind(1, user_id).bind(2, now).bind(3, days * kDay); });
  return n.ok() ? Status() : n.status();
}

Status shorten_vip(Connection& c, int64_t user_id, int64_t days) {
  auto n = run(c, kVipShorten, [&](Stmt& st) { st.bind(1, user_id).bind(2, days * kDay); });
  return n.ok() ? Status() : n.status();
}

Status mark_paid(Connection& c, int64_t order_id, const std::string& with, int64_t now) {
  auto n = run(c, kMarkPaid, [&](Stmt& st) { st.bind(1, order_id).bind(2, with).bind(3, now); });
  if (!n.ok()) return n.status();
  if (*n != 1) return Status::internal("order " + std::to_string(order_id) + " changed under us");
  return Status();
}

// What the money of a paid order buys: the document (a row in orders is
// the purchase) or the plan's VIP days; a top-up's money is in the wallet.
Status grant(Connection& c, const Order& o, int64_t now) {
  if (o.kind == OrderKind::kPlan) return extend_vip(c, o.user_id, o.plan_days, now);
  return Status();
}

// "created" and payable at `now`.
bool payable(const Order& o, int64_t now) {
  return o.status == OrderStatus::kCreated && now < o.expires_at;
}

Status not_payable(const Order& o, int64_t now) {
  if (o.status == OrderStatus::kPaid) return Status::conflict("订单已支付");
  if (o.status == OrderStatus::kRefunded) return Status::conflict("订单已退款");
  if (o.status == OrderStatus::kExpired || now >= o.expires_at) {
    return Status::conflict("订单已过期");
  }
  return Status::conflict("订单状态为 " + std::string(to_string(o.status)));
}

std::string zero_padded(int64_t id, int width) {
  std::string s = std::to_string(id);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<size_t>(width) - s.size(), '0');
  return s;
}

}  // namespace

// --- writers --------------------------------------------------------------------

Result<Order> create_order_in(Connection& c, const NewOrder& o) {
  if (to_string(o.kind).empty()) {
    return Status::invalid("create_order: unknown kind " +
                           std::to_string(static_cast<int>(o.kind)));
  }
  if (o.amount.value() <= 0) return Status::invalid("create_order: amount must be positive");
  if (o.amount > kMaxAmount) {
    return Status::invalid("create_order: amount " + std::to_string(o.amount.value()) +
                           " fen is beyond the largest amount (" +
                           std::to_string(kMaxAmount.value()) + " fen)");
  }
  if (o.kind == OrderKind::kPlan && (o.plan_id.empty() || o.plan_days <= 0)) {
    return Status::invalid("create_order: a plan order needs plan_id and plan_days > 0");
  }
  if (o.expires_at <= o.created_at) {
    return Status::invalid("create_order: expires_at must be after created_at");
  }
  if (Status s = check_user_live(c, o.user_id); !s.is_ok()) return s;
  if (o.kind == OrderKind::kDocument) {
    auto d = scalar(c, kDocumentExists, o.document_id);
    if (!d.ok()) return d.status();
    if (!d->has_value()) {
      return Status::not_found("document " + std::to_string(o.document_id) + " does not exist");
    }
  }
  // Write transactions are serialised and the placeholder is replaced
  // before commit, so it never meets another row's.
  const std::string placeholder = "pending";
  auto ins = run(c, kInsertOrder, [&](Stmt& st) {
    st.bind(1, placeholder)
        .bind(2, o.user_id)
        .bind(3, to_string(o.kind))
        .bind(4,
              o.kind == OrderKind::kDocument ? std::optional<int64_t>(o.document_id) : std::nullopt)
        .bind(7, o.subject)
        .bind(8, o.amount.value())
        .bind(9, o.created_at)
        .bind(10, o.expires_at);
    if (o.kind == OrderKind::kPlan) {
      st.bind(5, o.plan_id).bind(6, o.plan_days);
    } else {
      st.bind_null(5).bind(6, int64_t{0});
    }
  });
  if (!ins.ok()) return ins.status();
  const int64_t id = sqlite3_last_insert_rowid(c.handle());
  const std::string no = o.out_trade_no_prefix + zero_padded(id, 10) + o.out_trade_no_suffix;
  auto up = run(c, kSetOutTradeNo, [&](Stmt& st) { st.bind(1, id).bind(2, no); });
  if (!up.ok()) return up.status();
  return must_get_order(c, id);
}

Result<Order> open_order_in(Connection& c, const NewOrder& o, int64_t reuse_until) {
  if (o.kind == OrderKind::kDocument || o.kind == OrderKind::kPlan) {
    // Inside the write transaction: no other writer runs between this look
    // and the insert, so two taps cannot both miss and both insert.
    auto found = load_order(c, kFindOpenOrder, [&](Stmt& st) {
      st.bind(1, o.user_id)
          .bind(2, to_string(o.kind))
          .bind(3, o.amount.value())
          .bind(4, o.kind == OrderKind::kDocument ? o.document_id : int64_t{0})
          .bind(5, o.kind == OrderKind::kPlan ? o.plan_id : std::string())
          .bind(6, reuse_until);
    });
    if (!found.ok()) return found.status();
    if (found->has_value()) return std::move(**found);
  }
  return create_order_in(c, o);
}

Result<Order> pay_order_from_wallet_in(Connection& c, int64_t order_id, int64_t user_id,
                                       int64_t now) {
  auto o = must_get_order(c, order_id);
  if (!o.ok()) return o.status();
  if (o->user_id != user_id) return order_not_found(order_id);
  if (o->kind == OrderKind::kTopUp) return Status::invalid("充值订单不能用余额支付");
  if (!payable(*o, now)) return not_payable(*o, now);
  auto balance = balance_of(c, user_id);
  if (!balance.ok()) return balance.status();
  if (*balance < o->amount) return Status(Code::kPaymentRequired, "余额不足");
  auto txn = transfer(c, wallet(user_id), system_account(kSales), o->amount,
                      {order_id, "payment", o->subject, "user:" + std::to_string(user_id), now});
  if (!txn.ok()) return txn.status();
  if (Status s = mark_paid(c, order_id, "wallet", now); !s.is_ok()) return s;
  if (Status s = grant(c, *o, now); !s.is_ok()) return s;
  return must_get_order(c, order_id);
}

Result<Order> buy_from_wallet_in(Connection& c, const NewOrder& o, int64_t now) {
  if (o.kind == OrderKind::kTopUp) return Status::invalid("充值订单不能用余额支付");
  if (o.kind == OrderKind::kDocument) {
    auto e = user_entitlements_in(c, o.user_id);
    if (!e.ok()) return e.status();
    if (std::find(e->purchased.begin(), e->purchased.end(), o.document_id) != e->purchased.end()) {
      return Status::conflict("您已可阅读该文档");
    }
  }
  auto created = create_order_in(c, o);
  if (!created.ok()) return created.status();
  return pay_order_from_wallet_in(c, created->id, o.user_id, now);
}

Result<AppliedPayment> apply_payment_in(Connection& c, const PaymentNotice& n) {
  if (n.provider.empty() || n.transaction_id.empty()) {
    return Status::invalid("apply_payment: provider and transaction id are required");
  }
  if (n.amount.value() <= 0) return Status::invalid("apply_payment: amount must be positive");
  std::optional<int64_t> seen;  // the order of an earlier delivery
  {
    auto st = c.stmt(kFindNotification);
    if (!st.ok()) return st.status();
    st->bind(1, n.provider).bind(2, n.transaction_id);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (*row) seen = st->int64(0);
  }
  if (seen) {
    auto o = must_get_order(c, *seen);
    if (!o.ok()) return o.status();
    return AppliedPayment{PaymentOutcome::kDuplicate, std::move(o).value()};
  }
  auto found = load_order(c, kFindOrder, [&](Stmt& st) { st.bind(1, n.out_trade_no); });
  if (!found.ok()) return found.status();
  if (!found->has_value()) {
    return Status::not_found("no order with out_trade_no '" + n.out_trade_no + "'");
  }
  Order o = std::move(**found);
  if (o.amount != n.amount) {
    return Status::invalid("amount " + std::to_string(n.amount.value()) +
                           " fen does not match order " + std::to_string(o.id) + " (" +
                           std::to_string(o.amount.value()) + " fen)");
  }
  const Account from = system_account(provider_account(n.provider));
  const std::string actor = provider_account(n.provider);
  PaymentOutcome outcome;
  Result<int64_t> txn = int64_t{0};
  bool owned = false;  // a document the buyer already holds through another paid order
  if (payable(o, n.received_at) && o.kind == OrderKind::kDocument) {
    auto st = c.stmt(kOwnsDocument);
    if (!st.ok()) return st.status();
    st->bind(1, o.user_id).bind(2, o.document_id).bind(3, o.id);
    auto row = st->step();
    if (!row.ok()) return row.status();
    owned = *row;
  }
  if (owned) {
    // Paid twice for one document (two orders, both paid at the gateway):
    // the second payment is the reader's money, kept in the wallet.
    outcome = PaymentOutcome::kCreditedToWallet;
    auto m = run(c, kMarkCredited, [&](Stmt& st) {
      st.bind(1, o.id).bind(2, n.provider).bind(3, n.received_at).bind(4, o.amount.value());
    });
    if (!m.ok()) return m.status();
    if (*m != 1) return Status::internal("order " + std::to_string(o.id) + " changed under us");
    txn =
        transfer(c, from, wallet(o.user_id), o.amount,
                 {o.id, "late_payment", "已购文档的重复付款（订单" + o.out_trade_no + "）转入余额",
                  actor, n.received_at});
    if (!txn.ok()) return txn.status();
  } else if (payable(o, n.received_at)) {
    outcome = PaymentOutcome::kApplied;
    const Account to = o.kind == OrderKind::kTopUp ? wallet(o.user_id) : system_account(kSales);
    txn = transfer(c, from, to, o.amount, {o.id, "payment", o.subject, actor, n.received_at});
    if (!txn.ok()) return txn.status();
    if (Status s = mark_paid(c, o.id, n.provider, n.received_at); !s.is_ok()) return s;
    if (Status s = grant(c, o, n.received_at); !s.is_ok()) return s;
  } else {
    // The buyer paid for something we can no longer sell them on this
    // order: keep the money for them rather than lose it.
    outcome = PaymentOutcome::kCreditedToWallet;
    if (o.status == OrderStatus::kCreated) {
      auto e = run(c, kMarkExpired, [&](Stmt& st) { st.bind(1, o.id); });
      if (!e.ok()) return e.status();
    }
    txn = transfer(
        c, from, wallet(o.user_id), o.amount,
        {o.id, "late_payment",
         "订单" + o.out_trade_no + "（" + std::string(to_string(o.status)) + "）的付款转入余额",
         actor, n.received_at});
    if (!txn.ok()) return txn.status();
  }
  if (outcome == PaymentOutcome::kCreditedToWallet && !owned) {
    auto up = run(c, kAddCredited, [&](Stmt& st) { st.bind(1, o.id).bind(2, o.amount.value()); });
    if (!up.ok()) return up.status();
  }
  auto ins = run(c, kInsertNotification, [&](Stmt& st) {
    st.bind(1, n.provider)
        .bind(2, n.transaction_id)
        .bind(3, o.id)
        .bind(4, n.amount.value())
        .bind(5, n.received_at)
        .bind(6, std::string_view(outcome == PaymentOutcome::kApplied ? "applied"
                                                                      : "credited_to_wallet"))
        .bind(7, *txn);
  });
  if (!ins.ok()) return ins.status();
  auto after = must_get_order(c, o.id);
  if (!after.ok()) return after.status();
  return AppliedPayment{outcome, std::move(after).value()};
}

Result<int64_t> expire_orders_in(Connection& c, int64_t now) {
  return run(c, kExpireOrders, [&](Stmt& st) { st.bind(1, now); });
}

namespace {

template <typename Bind>
Result<std::optional<Refund>> load_refund(Connection& c, const char* sql, Bind&& bind) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  bind(*st);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<Refund>();
  return std::optional<Refund>(read_refund(*st));
}

Result<Refund> must_get_refund(Connection& c, int64_t id) {
  auto r = load_refund(c, kRefundById, [&](Stmt& st) { st.bind(1, id); });
  if (!r.ok()) return r.status();
  if (!r->has_value()) return Status::not_found("refund " + std::to_string(id) + " does not exist");
  return std::move(**r);
}

Result<int64_t> sum_for_order(Connection& c, const char* sql, int64_t order_id) {
  auto v = scalar(c, sql, order_id);
  if (!v.ok()) return v.status();
  return v->value_or(0);
}

// Takes back what a paid order gave (the plan's VIP days; a document's
// purchase ends with the status) and marks it refunded.
Status revoke(Connection& c, const Order& o, int64_t now) {
  if (o.kind == OrderKind::kPlan) {
    if (Status s = shorten_vip(c, o.user_id, o.plan_days); !s.is_ok()) return s;
  }
  auto n = run(c, kMarkRefunded, [&](Stmt& st) { st.bind(1, o.id).bind(2, now); });
  if (!n.ok()) return n.status();
  if (*n != 1) return Status::internal("order " + std::to_string(o.id) + " changed under us");
  return Status();
}

// Inserts a refunds row; an empty out_refund_no is given prefix + padded id +
// suffix. Returns the row.
Result<Refund> insert_refund(Connection& c, const Order& o, const std::string& provider,
                             const std::string& transaction_id, const std::string& prefix,
                             const std::string& suffix, const std::string& refund_id,
                             const std::optional<std::string>& refund_key, Fen amount,
                             RefundState state, const std::string& message, bool from_gateway,
                             int64_t ledger_txn, int64_t now) {
  // Write transactions are serialised and the placeholder is replaced
  // before commit, so it never meets another row's.
  const std::string placeholder = "pending";
  auto ins = run(c, kInsertRefund, [&](Stmt& st) {
    st.bind(1, o.id)
        .bind(2, provider)
        .bind(3, transaction_id)
        .bind(4, placeholder)
        .bind(5, refund_id)
        .bind(7, amount.value())
        .bind(8, to_string(state))
        .bind(9, message)
        .bind(10, int64_t{from_gateway ? 1 : 0})
        .bind(11, ledger_txn)
        .bind(12, now);
    if (refund_key) {
      st.bind(6, *refund_key);
    } else {
      st.bind_null(6);
    }
  });
  if (!ins.ok()) return ins.status();
  const int64_t id = sqlite3_last_insert_rowid(c.handle());
  const std::string no = prefix + zero_padded(id, 10) + suffix;
  auto up = run(c, kSetOutRefundNo, [&](Stmt& st) { st.bind(1, id).bind(2, no); });
  if (!up.ok()) return up.status();
  return must_get_refund(c, id);
}

// The common part of refund_order and refund_to_provider. Books the refund
// of what the order still holds (its amount minus what the gateway already
// refunded of the sale) and revokes; returns the txn and the amount.
struct BookedRefund {
  int64_t txn = 0;
  Fen amount;
};

Result<BookedRefund> refund_paid_order(Connection& c, const Order& o, bool to_wallet,
                                       const std::string& note, const std::string& actor,
                                       int64_t now) {
  if (o.status == OrderStatus::kRefunded) return Status::conflict("订单已退款");
  if (o.status != OrderStatus::kPaid) return Status::conflict("订单未支付，不能退款");
  auto already = sum_for_order(c, kGatewayRefundedOfSale, o.id);
  if (!already.ok()) return already.status();
  const Fen amount(o.amount.value() - *already);
  if (amount.value() <= 0) return Status::conflict("订单已全部退款");
  const Entry e{o.id, "refund", note, actor, now};
  Result<int64_t> txn = int64_t{0};
  if (o.kind == OrderKind::kTopUp) {
    if (to_wallet) return Status::invalid("充值订单的钱已在余额中，只能退回原支付渠道");
    auto balance = balance_of(c, o.user_id);
    if (!balance.ok()) return balance.status();
    if (*balance < amount) return Status(Code::kPaymentRequired, "余额不足，无法退回充值");
    txn = transfer(c, wallet(o.user_id), system_account("refunds_due:" + o.paid_with), amount, e);
  } else if (to_wallet) {
    txn = transfer(c, system_account(kSales), wallet(o.user_id), amount, e);
  } else {
    if (o.paid_with == "wallet") return Status::invalid("余额支付的订单只能退回余额");
    txn = transfer(c, system_account(kSales), system_account("refunds_due:" + o.paid_with), amount,
                   e);
  }
  if (!txn.ok()) return txn.status();
  if (Status s = revoke(c, o, now); !s.is_ok()) return s;
  return BookedRefund{*txn, amount};
}

}  // namespace

Result<StartedRefund> refund_to_provider_in(Connection& c, const ProviderRefundStart& r) {
  auto o = must_get_order(c, r.order_id);
  if (!o.ok()) return o.status();
  if (o->status == OrderStatus::kPaid && o->paid_with == "wallet") {
    return Status::invalid("余额支付的订单只能退回余额");
  }
  auto booked = refund_paid_order(c, *o, false, r.note, r.actor, r.now);
  if (!booked.ok()) return booked.status();
  std::string transaction_id;
  {
    auto st = c.stmt(kPayingTransaction);
    if (!st.ok()) return st.status();
    st->bind(1, o->id).bind(2, o->paid_with);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (*row) transaction_id = st->text(0);
  }
  auto refund = insert_refund(c, *o, o->paid_with, transaction_id, r.out_refund_no_prefix,
                              r.out_refund_no_suffix, "", std::nullopt, booked->amount,
                              RefundState::kPending, "", false, booked->txn, r.now);
  if (!refund.ok()) return refund.status();
  auto after = must_get_order(c, o->id);
  if (!after.ok()) return after.status();
  return StartedRefund{std::move(after).value(), std::move(refund).value()};
}

Result<Order> refund_order_in(Connection& c, int64_t order_id, bool to_wallet,
                              const std::string& note, const std::string& actor, int64_t now) {
  if (!to_wallet) {
    auto o = must_get_order(c, order_id);
    if (!o.ok()) return o.status();
    if (o->kind == OrderKind::kTopUp || o->paid_with != "wallet") {
      ProviderRefundStart r;
      r.order_id = order_id;
      r.note = note;
      r.actor = actor;
      r.now = now;
      auto started = refund_to_provider_in(c, r);
      if (!started.ok()) return started.status();
      return std::move(started->order);
    }
  }
  auto o = must_get_order(c, order_id);
  if (!o.ok()) return o.status();
  auto booked = refund_paid_order(c, *o, to_wallet, note, actor, now);
  if (!booked.ok()) return booked.status();
  return must_get_order(c, order_id);
}

Result<AppliedRefund> apply_refund_in(Connection& c, const RefundNotice& n) {
  if (n.provider.empty()) return Status::invalid("apply_refund: provider is required");
  if (n.amount.value() < 0 || n.refunded_total.value() < 0) {
    return Status::invalid("apply_refund: amounts must not be negative");
  }
  // A refund of ours, by its number.
  if (!n.out_refund_no.empty()) {
    auto ours = load_refund(c, kOurRefund,
                            [&](Stmt& st) { st.bind(1, n.out_refund_no).bind(2, n.provider); });
    if (!ours.ok()) return ours.status();
    if (ours->has_value()) {
      Refund r = std::move(**ours);
      auto o = must_get_order(c, r.order_id);
      if (!o.ok()) return o.status();
      if (!n.out_trade_no.empty() && n.out_trade_no != o->out_trade_no) {
        return Status::invalid("refund " + r.out_refund_no + " belongs to order " +
                               o->out_trade_no + ", not " + n.out_trade_no);
      }
      const std::string refund_id = n.refund_id.empty() ? r.refund_id : n.refund_id;
      const std::string message = n.message.empty() ? r.message : n.message;
      if (r.state == RefundState::kSucceeded ||
          (r.state == n.state && refund_id == r.refund_id && message == r.message)) {
        return AppliedRefund{RefundOutcome::kDuplicate, std::move(o).value(), std::move(r)};
      }
      std::optional<int64_t> sent;
      if (n.state == RefundState::kSucceeded) {
        // The money left through the gateway: no longer owed.
        auto txn = transfer(c, system_account("refunds_due:" + r.provider),
                            system_account(provider_account(r.provider)), r.amount,
                            {o->id, "refund_sent", "退款 " + r.out_refund_no + " 已退回原支付渠道",
                             provider_account(r.provider), n.received_at});
        if (!txn.ok()) return txn.status();
        sent = *txn;
      }
      auto up = run(c, kSettleRefund, [&](Stmt& st) {
        st.bind(1, r.id)
            .bind(2, to_string(n.state))
            .bind(3, refund_id)
            .bind(4, message)
            .bind(5, sent)
            .bind(6, n.received_at);
      });
      if (!up.ok()) return up.status();
      if (*up != 1) return Status::internal("refund " + std::to_string(r.id) + " changed under us");
      auto after = must_get_refund(c, r.id);
      if (!after.ok()) return after.status();
      return AppliedRefund{RefundOutcome::kSettled, std::move(o).value(), std::move(after).value()};
    }
  }
  // A refund made at the gateway.
  auto found = load_order(c, kFindOrder, [&](Stmt& st) { st.bind(1, n.out_trade_no); });
  if (!found.ok()) return found.status();
  if (!found->has_value()) {
    return Status::not_found("no order with out_trade_no '" + n.out_trade_no + "'");
  }
  Order o = std::move(**found);
  {
    auto st = c.stmt(kPaymentOf);
    if (!st.ok()) return st.status();
    st->bind(1, n.provider).bind(2, n.transaction_id).bind(3, o.id);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) {
      return Status::not_found("no " + n.provider + " payment " + n.transaction_id +
                               " is recorded for order " + o.out_trade_no);
    }
  }
  const std::string key = n.refund_id.empty() ? n.out_refund_no : n.refund_id;
  if (key.empty()) return Status::invalid("apply_refund: a refund id or refund number is required");
  {
    auto seen = load_refund(c, kGatewayRefund, [&](Stmt& st) {
      st.bind(1, n.provider).bind(2, n.transaction_id).bind(3, key);
    });
    if (!seen.ok()) return seen.status();
    if (seen->has_value()) {
      return AppliedRefund{RefundOutcome::kDuplicate, std::move(o), std::move(**seen)};
    }
  }
  if (n.state != RefundState::kSucceeded) return AppliedRefund{RefundOutcome::kIgnored, o, {}};
  Fen amount = n.amount;
  if (amount.value() == 0) {
    auto booked = sum_for_order(c, kRefundedAtGateway, o.id);
    if (!booked.ok()) return booked.status();
    amount = Fen(n.refunded_total.value() - *booked);
    if (amount.value() <= 0) return AppliedRefund{RefundOutcome::kDuplicate, std::move(o), {}};
  }
  const Account to = system_account(provider_account(n.provider));
  const std::string note =
      "在支付平台发起的退款" +
      (n.out_refund_no.empty() ? std::string() : "（" + n.out_refund_no + "）");
  Result<int64_t> txn = int64_t{0};
  const bool sale = o.status == OrderStatus::kPaid && o.kind != OrderKind::kTopUp;
  if (sale) {
    txn = transfer(c, system_account(kSales), to, amount,
                   {o.id, "refund", note, provider_account(n.provider), n.received_at});
  } else {
    // The money is the reader's (a top-up, or an order whose payment already
    // went back or to the wallet): take it from the wallet, and what the
    // wallet no longer holds is owed by the reader.
    auto balance = balance_of(c, o.user_id);
    if (!balance.ok()) return balance.status();
    const int64_t from_wallet = std::min(balance->value(), amount.value());
    std::vector<std::pair<Account, int64_t>> legs;
    if (from_wallet > 0) legs.push_back({wallet(o.user_id), -from_wallet});
    if (amount.value() > from_wallet) {
      legs.push_back(
          {system_account("owed:" + std::to_string(o.user_id)), -(amount.value() - from_wallet)});
    }
    legs.push_back({to, amount.value()});
    const char* kind = o.status == OrderStatus::kPaid ? "refund" : "gateway_refund";
    txn = book(c, legs, {o.id, kind, note, provider_account(n.provider), n.received_at});
  }
  if (!txn.ok()) return txn.status();
  auto refund = insert_refund(c, o, n.provider, n.transaction_id, "G", "", n.refund_id, key, amount,
                              RefundState::kSucceeded, note, true, *txn, n.received_at);
  if (!refund.ok()) return refund.status();
  if (o.status == OrderStatus::kPaid) {
    auto refunded = sum_for_order(c, kGatewayRefundedOfSale, o.id);
    if (!refunded.ok()) return refunded.status();
    if (*refunded >= o.amount.value()) {
      if (Status s = revoke(c, o, n.received_at); !s.is_ok()) return s;
    }
  }
  auto after = must_get_order(c, o.id);
  if (!after.ok()) return after.status();
  return AppliedRefund{RefundOutcome::kBooked, std::move(after).value(), std::move(refund).value()};
}

Status touch_refund_in(Connection& c, int64_t refund_id, const std::string& message, int64_t now) {
  auto n =
      run(c, kTouchRefund, [&](Stmt& st) { st.bind(1, refund_id).bind(2, message).bind(3, now); });
  if (!n.ok()) return n.status();
  if (*n != 1) return Status::not_found("refund " + std::to_string(refund_id) + " does not exist");
  return Status();
}

Status record_payment_start_in(Connection& c, int64_t order_id, const std::string& provider,
                               int64_t now) {
  auto o = must_get_order(c, order_id);
  if (!o.ok()) return o.status();
  auto n =
      run(c, kRecordStart, [&](Stmt& st) { st.bind(1, order_id).bind(2, provider).bind(3, now); });
  return n.ok() ? Status() : n.status();
}

Status close_payment_start_in(Connection& c, int64_t order_id, const std::string& provider,
                              int64_t now) {
  auto n =
      run(c, kCloseStart, [&](Stmt& st) { st.bind(1, order_id).bind(2, provider).bind(3, now); });
  return n.ok() ? Status() : n.status();
}

Result<Fen> credit_wallet_in(Connection& c, int64_t user_id, Fen amount, const std::string& note,
                             const std::string& actor, int64_t now) {
  if (amount.value() <= 0) return Status::invalid("credit amount must be positive");
  if (Status s = check_user_live(c, user_id); !s.is_ok()) return s;
  auto txn = transfer(c, system_account(kOperator), wallet(user_id), amount,
                      {std::nullopt, "credit", note, actor, now});
  if (!txn.ok()) return txn.status();
  return balance_of(c, user_id);
}

// --- readers --------------------------------------------------------------------

Result<Order> get_order_in(Connection& c, int64_t order_id) { return must_get_order(c, order_id); }

Result<Order> find_order_in(Connection& c, const std::string& out_trade_no) {
  auto o = load_order(c, kFindOrder, [&](Stmt& st) { st.bind(1, out_trade_no); });
  if (!o.ok()) return o.status();
  if (!o->has_value())
    return Status::not_found("no order with out_trade_no '" + out_trade_no + "'");
  return std::move(**o);
}

Result<std::vector<Order>> user_orders_in(Connection& c, int64_t user_id, int64_t limit) {
  if (limit < 1 || limit > 10000) {
    return Status::invalid("orders limit must be 1..10000, not " + std::to_string(limit));
  }
  return load_orders(c, kUserOrders, [&](Stmt& st) { st.bind(1, user_id).bind(2, limit); });
}

Result<std::vector<Order>> orders_between_in(Connection& c, int64_t from, int64_t to) {
  return load_orders(c, kOrdersBetween, [&](Stmt& st) { st.bind(1, from).bind(2, to); });
}

Result<OrderPage> list_orders_in(Connection& c, const OrderQuery& q) {
  if (q.limit < 1 || q.limit > 1000) {
    return Status::invalid("orders limit must be 1..1000, not " + std::to_string(q.limit));
  }
  if (q.offset < 0) {
    return Status::invalid("orders offset must not be negative: " + std::to_string(q.offset));
  }
  const std::string status(q.status ? to_string(*q.status) : std::string_view());
  const std::string email = q.email.empty() ? std::string() : like_contains(q.email);
  auto bind_filters = [&](Stmt& st) {
    st.bind(1, status).bind(2, q.paid_with).bind(3, q.from).bind(4, q.to).bind(5, email);
  };
  OrderPage page;
  {
    auto st = c.stmt(kListOrders);
    if (!st.ok()) return st.status();
    bind_filters(*st);
    st->bind(6, q.limit).bind(7, q.offset);
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      OrderListItem item;
      item.order = read_order(*st);
      item.email = st->text(kOrderColumnCount);
      page.total = st->int64(kOrderColumnCount + 1);
      page.items.push_back(std::move(item));
    }
  }
  if (page.items.empty() && q.offset > 0) {
    auto st = c.stmt(kCountOrders);
    if (!st.ok()) return st.status();
    bind_filters(*st);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (*row) page.total = st->int64(0);
  }
  return page;
}

Result<Fen> wallet_balance_in(Connection& c, int64_t user_id) { return balance_of(c, user_id); }

Result<UserEntitlements> user_entitlements_in(Connection& c, int64_t user_id) {
  UserEntitlements out;
  {
    auto st = c.stmt(kPurchases);
    if (!st.ok()) return st.status();
    st->bind(1, user_id);
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      out.purchased.push_back(st->int64(0));
    }
  }
  auto vip = scalar(c, kVipUntil, user_id);
  if (!vip.ok()) return vip.status();
  out.vip_until = vip->value_or(0);
  return out;
}

namespace {

template <typename Bind>
Result<std::vector<Refund>> load_refunds(Connection& c, const char* sql, Bind&& bind) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  bind(*st);
  std::vector<Refund> out;
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(read_refund(*st));
  }
  return out;
}

}  // namespace

Result<std::vector<Refund>> order_refunds_in(Connection& c, int64_t order_id) {
  return load_refunds(c, kOrderRefunds, [&](Stmt& st) { st.bind(1, order_id); });
}

Result<std::vector<Refund>> pending_refunds_in(Connection& c, int64_t limit) {
  if (limit < 1 || limit > 10000) {
    return Status::invalid("refunds limit must be 1..10000, not " + std::to_string(limit));
  }
  return load_refunds(c, kPendingRefunds, [&](Stmt& st) { st.bind(1, limit); });
}

Result<std::vector<PaymentStartRow>> open_payment_starts_in(Connection& c, int64_t expires_before,
                                                            int64_t limit) {
  if (limit < 1 || limit > 10000) {
    return Status::invalid("payment starts limit must be 1..10000, not " + std::to_string(limit));
  }
  auto st = c.stmt(kOpenStarts);
  if (!st.ok()) return st.status();
  st->bind(1, expires_before).bind(2, limit);
  std::vector<PaymentStartRow> out;
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    PaymentStartRow r;
    r.order = read_order(*st);
    r.provider = st->text(16);
    r.started_at = st->int64(17);
    r.closed_at = st->int64(18);
    out.push_back(std::move(r));
  }
  return out;
}

Result<LedgerAudit> ledger_audit_in(Connection& c) {
  LedgerAudit a;
  {
    auto st = c.stmt(kAuditCounts);
    if (!st.ok()) return st.status();
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (*row) {
      a.entries = st->int64(0);
      a.txns = st->int64(1);
      a.accounts = st->int64(2);
    }
  }
  {
    auto st = c.stmt(kAuditWalletCount);
    if (!st.ok()) return st.status();
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (*row) a.wallets = st->int64(0);
  }
  // The amounts, added up in checked arithmetic first: amounts beyond
  // kMaxAmount or sums beyond int64 are reported as such, and then the
  // queries below, which sum in SQL, are not run (they could overflow).
  {
    LedgerTally tally;
    auto entries = c.stmt(kAuditEntryAmounts);
    if (!entries.ok()) return entries.status();
    for (;;) {
      auto row = entries->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      tally.add_entry(entries->int64(0), entries->int64(1), entries->text(2), entries->int64(3));
    }
    auto orders = c.stmt(kAuditOrderAmounts);
    if (!orders.ok()) return orders.status();
    for (;;) {
      auto row = orders->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      tally.add_order(orders->int64(0), orders->int64(1), orders->int64(2), orders->int64(3));
    }
    a.problems = tally.problems();
    if (!a.problems.empty()) {
      a.sums_checked = false;
      return a;
    }
  }
  // Each query's rows become problems of one kind; columns are read as
  // (id, expected, actual) unless `read` says otherwise.
  auto collect = [&](const char* sql, auto&& read) -> Status {
    auto st = c.stmt(sql);
    if (!st.ok()) return st.status();
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      a.problems.push_back(read(*st));
    }
    return Status();
  };
  Status s = collect(kAuditUnbalanced, [](const Stmt& st) {
    return LedgerProblem{LedgerProblemKind::kUnbalancedTxn, st.int64(0), "", 0, st.int64(1)};
  });
  if (s.is_ok()) {
    s = collect(kAuditWallets, [](const Stmt& st) {
      return LedgerProblem{LedgerProblemKind::kWalletMismatch, st.int64(0), "", st.int64(1),
                           st.int64(2)};
    });
  }
  if (s.is_ok()) {
    s = collect(kAuditNegativeWallets, [](const Stmt& st) {
      return LedgerProblem{LedgerProblemKind::kNegativeWallet, st.int64(0), "", 0, st.int64(1)};
    });
  }
  if (s.is_ok()) {
    s = collect(kAuditOrderPayments, [](const Stmt& st) {
      return LedgerProblem{LedgerProblemKind::kOrderPayment, st.int64(0), "", st.int64(1),
                           st.int64(2)};
    });
  }
  if (s.is_ok()) {
    s = collect(kAuditOrderRefunds, [](const Stmt& st) {
      return LedgerProblem{LedgerProblemKind::kOrderRefund, st.int64(0), "", st.int64(1),
                           st.int64(2)};
    });
  }
  if (s.is_ok()) {
    s = collect(kAuditNotifications, [](const Stmt& st) {
      return LedgerProblem{LedgerProblemKind::kNotificationUnmatched, st.int64(0), st.text(1),
                           st.int64(2), st.int64(3)};
    });
  }
  if (s.is_ok()) {
    s = collect(kAuditProviderRows, [](const Stmt& st) {
      return LedgerProblem{LedgerProblemKind::kProviderMoneyUnexplained, st.int64(0), st.text(1), 0,
                           0};
    });
  }
  if (s.is_ok()) {
    s = collect(kAuditDoublePurchases, [](const Stmt& st) {
      return LedgerProblem{LedgerProblemKind::kDoublePurchase, st.int64(0), st.text(1), 1,
                           st.int64(2)};
    });
  }
  if (s.is_ok()) {
    s = collect(kAuditCredited, [](const Stmt& st) {
      return LedgerProblem{LedgerProblemKind::kOrderCredited, st.int64(0), "", st.int64(1),
                           st.int64(2)};
    });
  }
  if (s.is_ok()) {
    s = collect(kAuditRefundBooked, [](const Stmt& st) {
      return LedgerProblem{LedgerProblemKind::kRefundUnbooked, st.int64(0), st.text(1), st.int64(2),
                           st.int64(3)};
    });
  }
  if (s.is_ok()) {
    s = collect(kAuditRefundSent, [](const Stmt& st) {
      return LedgerProblem{LedgerProblemKind::kRefundSent, st.int64(0), st.text(1), st.int64(2),
                           st.int64(3)};
    });
  }
  if (s.is_ok()) {
    s = collect(kAuditRefundsDue, [](const Stmt& st) {
      return LedgerProblem{LedgerProblemKind::kRefundsDue, 0, st.text(0), st.int64(1), st.int64(2)};
    });
  }
  if (!s.is_ok()) return s;
  return a;
}

}  // namespace paidoc::store::sqlite
