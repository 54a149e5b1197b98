// CommerceStore: the commerce domain of the store — orders, wallets, the
// ledger, payment notifications, VIP periods — and the ledger audit.
//
// Money moves only in ledger transactions (double entry): two or more
// ledger rows sharing one txn id, whose amounts sum to zero. A row's amount
// is positive when money comes into its account and negative when it leaves.
// Accounts are text:
//   "wallet:<user_id>"    a user's wallet; its sum is the user's balance
//   "provider:<name>"     money received through a payment provider
//                         ("alipay", "wechat", "sandbox"); its sum is negative
//   "sales"               revenue from documents and plans
//   "operator"            operator credits (paidoc wallet credit)
//   "refunds_due:<name>"  refunds still to be paid back through a provider
//                         (pending or failed tracked refunds)
//   "owed:<user_id>"      what a reader owes the site: a refund made at the
//                         gateway took back more than the wallet still held
//                         (its sum is negative or zero)
// The cached balance in the wallets table is updated in the same
// transaction as the ledger rows; ledger_audit() checks that they agree.
//
// Each write below is ONE store transaction: the order change, its ledger
// rows, the cached balance and the VIP period commit together or not at
// all. Times are unix seconds supplied by the caller (its clock).
//
// Ownership, errors and thread-safety as in documents.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "store/enums.h"

namespace paidoc::store {

// An order as stored.
struct Order {
  int64_t id = 0;
  std::string out_trade_no;  // unique; sent to payment providers
  int64_t user_id = 0;
  OrderKind kind = OrderKind::kDocument;
  int64_t document_id = 0;  // kDocument orders; 0 otherwise
  std::string plan_id;      // kPlan orders; "" otherwise
  int64_t plan_days = 0;    // kPlan orders: the VIP days a payment grants
  std::string subject;      // document title / plan name / "钱包充值"
  Fen amount;               // > 0
  OrderStatus status = OrderStatus::kCreated;
  std::string paid_with;  // "wallet" or a provider name once paid; "" before
  int64_t created_at = 0;
  int64_t expires_at = 0;   // unpaid at this time: no longer payable
  int64_t paid_at = 0;      // 0: never paid
  int64_t refunded_at = 0;  // 0: not refunded
  // Provider money for this order that went to the buyer's wallet instead
  // (paid when no longer payable, or a second payment for a document the
  // buyer already owned: status kCredited).
  Fen credited;
};

// What list_orders selects; every filter left at its default admits all.
struct OrderQuery {
  std::optional<OrderStatus> status;  // nullopt: any
  std::string paid_with;              // exact ("wallet", "alipay", …); "" any
  std::string email;    // part of the buyer's email, case-insensitive for ASCII;
                        // "%" and "_" are plain characters; "" any
  int64_t from = 0;     // created_at >= from; 0: no lower bound
  int64_t to = 0;       // created_at < to; 0: no upper bound
  int64_t offset = 0;   // REQUIRES: >= 0
  int64_t limit = 50;   // REQUIRES: 1..1000
};

// An order with its buyer's email (the anonymised address of a deleted
// account).
struct OrderListItem {
  Order order;
  std::string email;
};

struct OrderPage {
  std::vector<OrderListItem> items;  // newest (created_at, id) first
  int64_t total = 0;                 // matching orders in all pages
};

struct NewOrder {
  int64_t user_id = 0;
  OrderKind kind = OrderKind::kDocument;
  int64_t document_id = 0;  // REQUIRES: an existing document for kDocument
  std::string plan_id;      // REQUIRES: non-empty for kPlan
  int64_t plan_days = 0;    // REQUIRES: > 0 for kPlan
  std::string subject;
  Fen amount;  // REQUIRES: > 0
  int64_t created_at = 0;
  int64_t expires_at = 0;  // REQUIRES: > created_at
  // out_trade_no = prefix + the new order id zero-padded to 10 digits +
  // suffix; unique because the id is.
  std::string out_trade_no_prefix;
  std::string out_trade_no_suffix;
};

// A provider's payment notification, already verified by the provider and
// the service.
struct PaymentNotice {
  std::string provider;        // "alipay" | "wechat" | "sandbox"
  std::string transaction_id;  // the provider's id: the exactly-once key
  std::string out_trade_no;
  Fen amount;
  int64_t received_at = 0;
};

enum class PaymentOutcome {
  kApplied,           // the order is now paid (a top-up credited its wallet)
  kCreditedToWallet,  // the order was no longer payable (expired, already paid
                      // or refunded), or it was a document the buyer already
                      // owned (the order becomes kCredited): the money went
                      // to the buyer's wallet
  kDuplicate,         // this (provider, transaction id) was applied before: no effect
};

struct AppliedPayment {
  PaymentOutcome outcome = PaymentOutcome::kApplied;
  Order order;  // as it is after this call
};

// A refund through a payment provider, as tracked.
struct Refund {
  int64_t id = 0;
  int64_t order_id = 0;
  std::string provider;
  std::string transaction_id;  // the provider's trade id (of the order's payment)
  std::string out_refund_no;   // ours, unique ("R" + …; "G" + id for one made at the gateway)
  std::string refund_id;       // the gateway's, once known
  Fen amount;
  RefundState state = RefundState::kPending;
  std::string message;        // the gateway's last word
  bool from_gateway = false;  // made at the gateway (its console), not by us
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// refund_to_provider's input.
struct ProviderRefundStart {
  int64_t order_id = 0;
  // out_refund_no = prefix + the refund id zero-padded to 10 digits + suffix.
  std::string out_refund_no_prefix = "R";
  std::string out_refund_no_suffix;
  std::string note;
  std::string actor;
  int64_t now = 0;
};

struct StartedRefund {
  Order order;    // kRefunded
  Refund refund;  // kPending
};

// A verified report of a refund from a gateway: a refund notification, or
// the answer to our refund request or refund query.
struct RefundNotice {
  std::string provider;
  std::string transaction_id;  // the trade's
  std::string out_trade_no;
  std::string refund_id;      // the gateway's id of the refund
  std::string out_refund_no;  // ours, or the gateway's name for one made there
  Fen amount;                 // this refund; 0: refunded_total minus what is booked
  Fen refunded_total;         // 0: unknown
  RefundState state = RefundState::kPending;
  std::string message;
  int64_t received_at = 0;
};

enum class RefundOutcome {
  kSettled,    // a refund of ours changed state (succeeded: booked once)
  kBooked,     // a refund made at the gateway, booked now
  kDuplicate,  // nothing new (seen before, or no change)
  kIgnored,    // a refund made at the gateway that has not succeeded: nothing to book
};

struct AppliedRefund {
  RefundOutcome outcome = RefundOutcome::kDuplicate;
  Order order;    // as it is after this call
  Refund refund;  // the row concerned (id 0 when kIgnored)
};

// A payment started at a provider (pay()), for the sweep job.
struct PaymentStartRow {
  Order order;
  std::string provider;
  int64_t started_at = 0;
  int64_t closed_at = 0;  // 0: not closed at the gateway
};

// What a user may read because of commerce.
struct UserEntitlements {
  std::vector<int64_t> purchased;  // documents with a paid (not refunded) order, ascending
  int64_t vip_until = 0;           // unix seconds; 0: never had VIP
};

// One broken invariant found by ledger_audit().
enum class LedgerProblemKind {
  kUnbalancedTxn,   // id: txn id; actual: the sum of its rows (should be 0)
  kWalletMismatch,  // id: user id; expected: the ledger sum; actual: the cached balance
  kNegativeWallet,  // id: user id; actual: the ledger sum (< 0)
  kOrderPayment,    // id: order id; expected: what its payment rows should
                    // bring in (the amount if paid or refunded, else 0); actual: what they do
  kOrderRefund,     // id: order id; as kOrderPayment for refund rows
  kNotificationUnmatched,     // id: notification id; detail: "provider/transaction";
                              // expected: its amount; actual: what its ledger txn took from
                              // the provider account
  kProviderMoneyUnexplained,  // id: txn id; a provider-account row no notification or
                              // succeeded refund accounts for; detail: the account
  kDoublePurchase,  // id: user id; detail: "document <id>: orders <a>, <b>"; actual: how many
                    // paid orders the user holds for that document (> 1)
  kOrderCredited,   // id: order id; expected: its credited amount; actual: what its
                    // late_payment rows put into the wallet
  kRefundUnbooked,  // id: refund id; detail: out_refund_no; expected: its amount; actual: what
                    // its ledger txn moved (into refunds_due for ours, to the provider for a
                    // refund made at the gateway)
  kRefundSent,      // id: refund id; detail: out_refund_no; expected: its amount if it
                    // succeeded, else 0; actual: what went to the provider for it
  kRefundsDue,      // detail: the provider; expected: the sum of its pending and failed
                    // refunds; actual: the refunds_due:<provider> balance
  // Amounts no operation writes, and sums that overflow int64 (see
  // store/ledger_tally.h): found before anything is summed in SQL.
  kEntryOutOfRange,  // id: ledger row id; detail: "<account> in txn <id>"; expected:
                     // kMaxAmount; actual: the row's amount (beyond ±kMaxAmount)
  kOrderOutOfRange,  // id: order id; detail: "document <id>" ("" for other kinds), with
                     // ", credited" when it is the credited amount; expected: kMaxAmount;
                     // actual: the amount (outside 1..kMaxAmount, credited 0..kMaxAmount)
  kSumOverflow,      // id: the ledger row at which the sum overflowed; detail: "account
                     // <name>" or "txn <id>": its rows do not sum within int64 fen
};

struct LedgerProblem {
  LedgerProblemKind kind = LedgerProblemKind::kUnbalancedTxn;
  int64_t id = 0;
  std::string detail;
  int64_t expected = 0;
  int64_t actual = 0;
};

struct LedgerAudit {
  int64_t entries = 0;                  // ledger rows
  int64_t txns = 0;                     // ledger transactions
  int64_t accounts = 0;                 // distinct accounts
  int64_t wallets = 0;                  // wallet rows
  std::vector<LedgerProblem> problems;  // empty: every invariant holds
  // false: amounts out of range or overflowing sums were found (their
  // problems are listed) and the checks that sum in SQL were not run, as
  // those sums could overflow.
  bool sums_checked = true;
};

class CommerceStore {
 public:
  virtual ~CommerceStore() = default;

  // Inserts an order with status kCreated. kNotFound for an unknown user
  // or (document orders) document; kInvalidArgument for a kind outside the
  // enum, a bad amount or expiry, or missing plan fields.
  virtual Result<Order> create_order(const NewOrder& o) = 0;
  // The user's unpaid order for the same thing, or a new one, in one write
  // transaction: a kDocument or kPlan order of o.user_id for the same
  // document (plan), with the same amount, still kCreated and payable past
  // `reuse_until` (expires_at > reuse_until), is answered as it is (the
  // newest when there are several); otherwise `o` is inserted as by
  // create_order. So repeated or concurrent calls for one document or plan
  // leave one unpaid order. A kTopUp is always inserted. create_order's
  // refusals.
  virtual Result<Order> open_order(const NewOrder& o, int64_t reuse_until) = 0;
  // kNotFound when absent.
  virtual Result<Order> get_order(int64_t order_id) = 0;
  virtual Result<Order> find_order(const std::string& out_trade_no) = 0;
  // The user's orders, newest first (at most `limit`, 1..10000); empty for
  // an unknown user.
  virtual Result<std::vector<Order>> user_orders(int64_t user_id, int64_t limit) = 0;
  // Orders created in [from, to), oldest first.
  virtual Result<std::vector<Order>> orders_between(int64_t from, int64_t to) = 0;
  // Every user's orders matching q, newest first, with the total, in one
  // snapshot. kInvalidArgument for a limit outside 1..1000 or a negative
  // offset.
  virtual Result<OrderPage> list_orders(const OrderQuery& q) = 0;

  // Pays a kDocument or kPlan order from the user's wallet, atomically:
  // checks the order, debits the wallet (ledger wallet:<user> -> sales),
  // marks the order paid with "wallet", extends VIP for a plan.
  //  - kNotFound: no such order, or not the user's;
  //  - kInvalidArgument: a top-up (the wallet cannot pay itself);
  //  - kConflict: the order is not kCreated, or now >= expires_at;
  //  - kPaymentRequired "余额不足": the balance is below the amount.
  // Whatever runs concurrently, a balance never goes below zero.
  virtual Result<Order> pay_order_from_wallet(int64_t order_id, int64_t user_id, int64_t now) = 0;

  // Buying in one step: creates the kDocument or kPlan order and pays it
  // from the user's wallet in one transaction, so the order, its ledger
  // entries and the entitlement commit together or not at all (nothing is
  // left behind on a refusal). create_order's and pay_order_from_wallet's
  // refusals, plus kConflict "您已可阅读该文档" when the user already bought
  // the document (checked inside the transaction, so two concurrent buys
  // of one document sell it once).
  virtual Result<Order> buy_from_wallet(const NewOrder& o, int64_t now) = 0;

  // Applies a verified provider payment exactly once per (provider,
  // transaction_id), at n.received_at:
  //  - seen before: kDuplicate, nothing changes (whatever the rest says);
  //  - no order with out_trade_no: kNotFound, nothing recorded (so a later
  //    correct delivery still applies);
  //  - amount differs from the order's: kInvalidArgument, nothing recorded;
  //  - order kCreated and received_at < expires_at: paid with `provider`;
  //    ledger provider:<p> -> sales (document, plan; VIP extended) or
  //    provider:<p> -> wallet:<user> (top-up): kApplied;
  //  - a kDocument order still payable whose user already holds a paid order
  //    for the same document: the order becomes kCredited (paid_with and
  //    paid_at set) and the money goes provider:<p> -> wallet:<user>:
  //    kCreditedToWallet;
  //  - otherwise (expired, past expires_at, already paid, refunded): the
  //    order is left as it is (a created order past expires_at is marked
  //    expired) and the money goes provider:<p> -> wallet:<user>:
  //    kCreditedToWallet.
  // Either way a credit adds the amount to the order's `credited`.
  // The notification is recorded in the same transaction as its effect.
  virtual Result<AppliedPayment> apply_payment(const PaymentNotice& n) = 0;

  // Marks kCreated orders with expires_at <= now kExpired; returns how many.
  virtual Result<int64_t> expire_orders(int64_t now) = 0;

  // Refunds a paid order and revokes what it gave (the document purchase,
  // the plan's VIP days), atomically; the order becomes kRefunded.
  //  - to_wallet, document/plan order: sales -> wallet:<user>;
  //  - !to_wallet, provider-paid document/plan: sales -> refunds_due:<provider>
  //    and a pending tracked Refund, as refund_to_provider with the number
  //    "R" + id (the service uses refund_to_provider to number it itself);
  //  - !to_wallet, top-up: wallet:<user> -> refunds_due:<provider>
  //    (kPaymentRequired when the balance no longer holds it).
  // kNotFound for an unknown order; kConflict unless it is kPaid;
  // kInvalidArgument for a top-up to the wallet or a wallet-paid order to a
  // provider. note and actor are kept on the ledger rows.
  virtual Result<Order> refund_order(int64_t order_id, bool to_wallet, const std::string& note,
                                     const std::string& actor, int64_t now) = 0;

  // Refunds a provider-paid order to the original method, atomically: what
  // refund_order(!to_wallet) does to the order, its rights and the ledger
  // (sales or, for a top-up, the wallet -> refunds_due:<provider>), plus a
  // pending Refund for its full amount numbered from `r`, against the
  // transaction id of the payment that paid it. Same refusals as
  // refund_order; kInvalidArgument for a wallet-paid order.
  virtual Result<StartedRefund> refund_to_provider(const ProviderRefundStart& r) = 0;

  // Applies a verified refund report exactly once:
  //  - a refund of ours (provider, out_refund_no): succeeded -> the row
  //    succeeds and refunds_due:<p> -> provider:<p> is booked, once (a later
  //    report changes nothing); failed -> failed, the money stays owed;
  //    pending -> stays pending (refund_id, message kept). A succeeded
  //    refund never changes again: kDuplicate.
  //  - otherwise a refund made at the gateway, once per (provider,
  //    transaction_id, refund_id or, without one, out_refund_no); only a
  //    succeeded one is booked (kIgnored otherwise). Its amount is
  //    n.amount, or n.refunded_total minus what the order's succeeded and
  //    pending refunds hold;
  //    nothing left: kDuplicate. A paid document/plan order: sales ->
  //    provider:<p>; a top-up, or an order no longer paid: wallet:<user> ->
  //    provider:<p> up to the balance and the rest from owed:<user> (no
  //    wallet goes negative). When the order's refunds reach its amount a
  //    paid order becomes kRefunded and what it gave is revoked.
  // kNotFound: no order with out_trade_no, or no payment of it recorded
  // with that transaction id (nothing recorded; a later delivery applies).
  virtual Result<AppliedRefund> apply_refund(const RefundNotice& n) = 0;

  // The refunds of an order, oldest first; empty for an unknown order.
  virtual Result<std::vector<Refund>> order_refunds(int64_t order_id) = 0;
  // Refunds of ours still pending, oldest first (at most `limit`).
  virtual Result<std::vector<Refund>> pending_refunds(int64_t limit) = 0;
  // Records that the refund was asked for again or queried (updated_at, message).
  virtual Status touch_refund(int64_t refund_id, const std::string& message, int64_t now) = 0;

  // Records that a payment of the order was started at `provider` (once per
  // pair; a repeat keeps the first time). kNotFound for an unknown order.
  virtual Status record_payment_start(int64_t order_id, const std::string& provider,
                                      int64_t now) = 0;
  // Starts not yet closed whose order is kCreated or kExpired and expires
  // at or before `expires_before`, soonest expiry first (at most `limit`).
  virtual Result<std::vector<PaymentStartRow>> open_payment_starts(int64_t expires_before,
                                                                   int64_t limit) = 0;
  // Remembers that the trade is closed (or settled) at the gateway: it is
  // no longer listed by open_payment_starts.
  virtual Status close_payment_start(int64_t order_id, const std::string& provider,
                                     int64_t now) = 0;

  // Operator credit: operator -> wallet:<user>. kNotFound for an unknown
  // user; kInvalidArgument unless amount > 0. Returns the new balance.
  virtual Result<Fen> credit_wallet(int64_t user_id, Fen amount, const std::string& note,
                                    const std::string& actor, int64_t now) = 0;

  // The cached balance; 0 for a user without a wallet (or an unknown user).
  virtual Result<Fen> wallet_balance(int64_t user_id) = 0;
  // Purchases and VIP in one snapshot; empty for an unknown user.
  virtual Result<UserEntitlements> user_entitlements(int64_t user_id) = 0;

  // Recomputes every balance from the ledger and checks every invariant
  // (see LedgerProblemKind), in one read snapshot. Amounts are first added
  // up in checked arithmetic (store::LedgerTally): amounts beyond
  // kMaxAmount and overflowing sums are problems, never a wrapped number.
  virtual Result<LedgerAudit> ledger_audit() = 0;
};

}  // namespace paidoc::store
