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
                      // or refunded): the money went to the buyer's wallet
  kDuplicate,         // this (provider, transaction id) was applied before: no effect
};

struct AppliedPayment {
  PaymentOutcome outcome = PaymentOutcome::kApplied;
  Order order;  // as it is after this call
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
  kProviderMoneyUnexplained,  // id: txn id; a provider-account row no notification accounts for
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
};

class CommerceStore {
 public:
  virtual ~CommerceStore() = default;

  // Inserts an order with status kCreated. kNotFound for an unknown user
  // or (document orders) document; kInvalidArgument for a kind outside the
  // enum, a bad amount or expiry, or missing plan fields.
  virtual Result<Order> create_order(const NewOrder& o) = 0;
  // kNotFound when absent.
  virtual Result<Order> get_order(int64_t order_id) = 0;
  virtual Result<Order> find_order(const std::string& out_trade_no) = 0;
  // The user's orders, newest first (at most `limit`, 1..10000); empty for
  // an unknown user.
  virtual Result<std::vector<Order>> user_orders(int64_t user_id, int64_t limit) = 0;
  // Orders created in [from, to), oldest first.
  virtual Result<std::vector<Order>> orders_between(int64_t from, int64_t to) = 0;

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
  //  - otherwise (expired, past expires_at, already paid, refunded): the
  //    order is left as it is (a created order past expires_at is marked
  //    expired) and the money goes provider:<p> -> wallet:<user>:
  //    kCreditedToWallet.
  // The notification is recorded in the same transaction as its effect.
  virtual Result<AppliedPayment> apply_payment(const PaymentNotice& n) = 0;

  // Marks kCreated orders with expires_at <= now kExpired; returns how many.
  virtual Result<int64_t> expire_orders(int64_t now) = 0;

  // Refunds a paid order and revokes what it gave (the document purchase,
  // the plan's VIP days), atomically; the order becomes kRefunded.
  //  - to_wallet, document/plan order: sales -> wallet:<user>;
  //  - !to_wallet, provider-paid document/plan: sales -> refunds_due:<provider>
  //    (an operator pays it back through the provider);
  //  - !to_wallet, top-up: wallet:<user> -> refunds_due:<provider>
  //    (kPaymentRequired when the balance no longer holds it).
  // kNotFound for an unknown order; kConflict unless it is kPaid;
  // kInvalidArgument for a top-up to the wallet or a wallet-paid order to a
  // provider. note and actor are kept on the ledger rows.
  virtual Result<Order> refund_order(int64_t order_id, bool to_wallet, const std::string& note,
                                     const std::string& actor, int64_t now) = 0;

  // Operator credit: operator -> wallet:<user>. kNotFound for an unknown
  // user; kInvalidArgument unless amount > 0. Returns the new balance.
  virtual Result<Fen> credit_wallet(int64_t user_id, Fen amount, const std::string& note,
                                    const std::string& actor, int64_t now) = 0;

  // The cached balance; 0 for a user without a wallet (or an unknown user).
  virtual Result<Fen> wallet_balance(int64_t user_id) = 0;
  // Purchases and VIP in one snapshot; empty for an unknown user.
  virtual Result<UserEntitlements> user_entitlements(int64_t user_id) = 0;

  // Recomputes every balance from the ledger and checks every invariant
  // (see LedgerProblemKind), in one read snapshot.
  virtual Result<LedgerAudit> ledger_audit() = 0;
};

}  // namespace paidoc::store
