// commerce: orders, the wallet ledger, VIP plans, entitlements, and applying
// payment notifications exactly once.
//
// Money is integer fen (Fen). Every balance change is a pair of ledger rows
// (double entry: a user's wallet account and a system account such as
// "provider:alipay", "sales", "topups", "refunds", "operator") written in the
// same store transaction as the order change it belongs to. A wallet payment
// never takes a balance below zero, whatever runs concurrently. A provider
// notification is applied at most once (its transaction id is unique in the
// store), and only after the provider verified it and its amount and order
// match; a late notification for an expired order credits the wallet instead
// of being lost.
//
// Entitlement (who may read a document's paid part) is computed here and
// handed to the gate as a gate::Viewer: bought the document, VIP active,
// publisher, admin.
//
// Storage: the commerce part of the store (store::CommerceStore) and, for a
// document's price, title and publisher, its documents (store::DocumentStore).
//
// Thread-safety: safe from many threads (the store is).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commerce/provider.h"
#include "common/clock.h"
#include "common/money.h"
#include "common/status.h"
#include "gate/gate.h"
#include "store/audit.h"
#include "store/commerce.h"
#include "store/documents.h"
#include "store/enums.h"

namespace paidoc::commerce {

// The store's enums (store/enums.h): their strings, store::to_string and
// store::parse_order_kind / parse_order_status, are for the edges only.
using store::OrderKind;
using store::OrderStatus;

enum class PayMethod { kWallet, kAlipay, kWechat, kSandbox };

const char* method_name(PayMethod m);      // "wallet" | "alipay" | "wechat" | "sandbox"
std::optional<PayMethod> parse_method(std::string_view s);

struct Plan {
  std::string id;            // "vip30"
  std::string name;          // "VIP 月卡"
  int64_t days = 30;
  Fen price;
  int64_t daily_downloads = 0;  // 0: unlimited
};

struct Order {
  int64_t id = 0;
  std::string out_trade_no;  // unique, sent to providers
  int64_t user_id = 0;
  OrderKind kind = OrderKind::kDocument;
  int64_t document_id = 0;   // kDocument
  std::string plan_id;       // kPlan
  std::string subject;       // document title / plan name / "钱包充值"
  Fen amount;
  OrderStatus status = OrderStatus::kCreated;
  std::string paid_with;     // method name once paid
  int64_t created_at = 0;
  int64_t expires_at = 0;
  int64_t paid_at = 0;
  int64_t refunded_at = 0;
  // Provider money for this order that went to the buyer's wallet instead
  // (paid after expiry, or paid although the reader already owned the
  // document: status kCredited). The order page says so.
  Fen credited;
};

// Every buyer's orders, filtered, for the admins' order list
// (Commerce::list_orders).
using store::OrderQuery;
struct ListedOrder {
  Order order;
  std::string buyer_email;  // a deleted account's anonymised address
};
struct OrderList {
  std::vector<ListedOrder> items;  // newest first
  int64_t total = 0;               // matching orders in all pages
};

// A refund of an order through its provider (退回原支付渠道), as tracked.
struct Refund {
  int64_t id = 0;
  int64_t order_id = 0;
  std::string provider;       // "alipay" | "wechat" | "sandbox"
  std::string out_refund_no;  // ours ("R" + …), unique; idempotency key at the gateway
  std::string refund_id;      // the gateway's, once known
  Fen amount;
  RefundState state = RefundState::kPending;  // pending until the gateway confirms
  std::string message;        // the gateway's last word (business error text)
  bool from_gateway = false;  // made at the gateway (its console), not by us
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// Where and how the buyer pays (Commerce::pay with a provider).
struct PayContext {
  Channel channel = Channel::kDesktop;  // the web layer decides from User-Agent
  std::string client_ip;                // WeChat H5
  std::string openid;                   // WeChat JSAPI (from Commerce::openid)
};

// What one run of Commerce::sweep() did.
struct SweepReport {
  int64_t queried = 0;       // trades asked about
  int64_t applied = 0;       // payments found by asking and applied (notification lost)
  int64_t closed = 0;        // expired trades closed at their gateway
  int64_t expired = 0;       // orders marked expired here
  int64_t refunds_checked = 0;  // pending refunds asked about or sent again
  std::vector<std::string> problems;  // one line per call that failed (retried next run)
};

struct Options {
  int64_t order_ttl = 30 * 60;  // unpaid orders expire after this
  std::vector<Plan> plans = {
      {"vip30", "VIP 月卡", 30, Fen(3000), 20},
      {"vip365", "VIP 年卡", 365, Fen(19800), 50},
  };
  Fen max_topup = Fen(500000);  // 5,000 yuan per top-up; never above kMaxAmount
  std::string site_url;         // for provider return/notify URLs
  // sweep(): trades still unpaid this close to expiry are queried (a lost
  // notification is found before the order expires).
  int64_t query_before_expiry = 5 * 60;
};

// What starting a payment gives the buyer.
struct PayResult {
  Order order;              // status kPaid at once for the wallet
  PaymentStart start;       // provider methods: where to go / what to scan
};

// What to answer a provider's notification.
struct NotifyAnswer {
  int http_status = 200;
  std::string body;
  bool applied = false;     // this delivery changed something
  std::string reason;       // for the log when refused or a duplicate
};

struct Entitlements {
  std::vector<int64_t> purchased;  // documents bought (paid, not refunded)
  int64_t vip_until = 0;           // unix seconds; 0: never
};

struct LedgerCheck {
  bool ok = true;
  std::vector<std::string> problems;  // one line per broken invariant
  int64_t entries = 0;
  int64_t accounts = 0;
};

// The check of a store's ledger audit, one line per problem: what
// Commerce::verify_ledger answers, also for an audit read elsewhere (the
// copy that `paidoc backup` makes).
LedgerCheck ledger_check(const store::LedgerAudit& audit);

class Commerce {
 public:
  // REQUIRES: store, documents and clock outlive this. Providers are keyed
  // by name ("alipay", "wechat", "sandbox"); a method without a provider is
  // refused.
  Commerce(store::CommerceStore& store, store::DocumentStore& documents, const Clock& clock,
           Options options, std::map<std::string, std::unique_ptr<PaymentProvider>> providers);

  // Orders. A document order is refused with kConflict "您已可阅读该文档"
  // when the user can already read it (bought, VIP, publisher, admin, free).
  // An unpaid order of the user for the same document (plan) at today's
  // price, payable for longer than Options::query_before_expiry, is
  // answered again instead of a new one (repeated taps, the back button,
  // two tabs): the look and the insert are one store transaction
  // (store::CommerceStore::open_order), so concurrent calls give one order.
  Result<Order> order_document(int64_t user_id, gate::Role role, int64_t document_id);
  // Buys a document from the wallet in one step and one transaction: the
  // order, the ledger entries and the entitlement commit together, and a
  // refusal leaves nothing behind. order_document's refusals, plus
  // kPaymentRequired "余额不足" when the balance is below the price.
  Result<Order> buy_document_with_wallet(int64_t user_id, gate::Role role, int64_t document_id);
  // As order_document, an unpaid order for the same plan is reused.
  Result<Order> order_plan(int64_t user_id, const std::string& plan_id);
  // kInvalidArgument unless 0 < amount <= topup_limit().
  Result<Order> order_topup(int64_t user_id, Fen amount);
  // The largest single top-up: Options::max_topup, at most kMaxAmount.
  Fen topup_limit() const { return std::min(options_.max_topup, kMaxAmount); }
  // kNotFound unless the order is the user's.
  Result<Order> order(int64_t user_id, int64_t order_id);
  Result<std::vector<Order>> orders(int64_t user_id);
  // Every user's orders matching q (status, method, creation time, part of
  // the buyer's email), newest first, with the total. kInvalidArgument for
  // a limit outside 1..1000 or a negative offset.
  Result<OrderList> list_orders(const OrderQuery& q);

  // Pays an order. Wallet: atomically checks the balance (kPaymentRequired
  // "余额不足" otherwise), debits it and marks the order paid. Providers:
  // answers where to send the buyer; the order is paid by the notification.
  // kConflict for an order that is not kCreated; kInvalidArgument for a
  // top-up paid from the wallet.
  // With a provider, `ctx` picks the product (see Channel); the channel
  // falls back to kDesktop when the provider does not support it. Records
  // that the order was sent to that provider (for sweep()).
  Result<PayResult> pay(int64_t user_id, int64_t order_id, PayMethod method,
                        const PayContext& ctx = {});

  // A provider's notification, raw: verify, check against the order, apply
  // once. Payments: a second payment for a document the reader already
  // bought goes to the wallet (the order becomes kCredited). Refunds: a
  // full refund revokes what the order gave and is booked once per
  // (provider, refund id); a refund we asked for is settled. Duplicates
  // answer success without effect; unknown order, wrong amount, wrong app:
  // refused. Every applied payment and refund is logged at info level with
  // order, amount and the provider's transaction id.
  NotifyAnswer notify(const std::string& provider, const RawNotification& raw);

  // Marks unpaid orders past expires_at as expired; returns how many.
  Result<int64_t> expire_orders();

  // The background job (serve runs it every minute; safe to run anywhere,
  // any number of times):
  //  - asks the gateway about every order sent to a provider and still
  //    unpaid within query_before_expiry of its expiry, and applies a
  //    payment it finds through the same exactly-once path as notify();
  //  - closes expired orders at their gateway (a paid one is applied
  //    instead), then marks them expired here;
  //  - asks about refunds still pending and sends again those the gateway
  //    never received (same refund number: never refunded twice).
  // A failing call is reported in `problems` and retried next run.
  Result<SweepReport> sweep();

  // Admin refund of a paid order; the entitlement it gave is revoked at once.
  // to_wallet: ledger rows into the wallet. Otherwise to the original
  // method: a provider-paid order is refunded through the provider's refund
  // API (a tracked Refund, pending until the gateway confirms by answer,
  // notification or sweep()); the money is owed (refunds_due) until then.
  // OK once the refund is recorded here: what the gateway answered
  // (pending, succeeded, or failed with its message) is in refunds().
  // The refund is recorded in the audit log (action "order.refund", by `by`;
  // "admin" when by.label is empty) in the same store transaction as the
  // refund; a refused refund records nothing.
  Status refund(int64_t order_id, bool to_wallet, const std::string& note,
                const store::AuditActor& by = {});
  // The refunds of an order, oldest first.
  Result<std::vector<Refund>> refunds(int64_t order_id);

  // WeChat JSAPI's OAuth step, passed to the named provider (see
  // PaymentProvider::oauth_url / openid).
  Result<std::string> oauth_url(const std::string& provider, const std::string& redirect_uri,
                                const std::string& state);
  Result<std::string> openid(const std::string& provider, const std::string& code);
  // Whether orders paid through the provider named can be refunded to the
  // original method (it has a refund API; refund() refuses the others).
  bool can_refund(const std::string& provider) const;
  // Whether the provider named can start a payment for this channel itself.
  bool supports(const std::string& provider, Channel c) const;

  // Operator credit (paidoc wallet credit): ledger rows with who and why.
  // kInvalidArgument unless 0 < amount <= kMaxAmount.
  // Recorded in the audit log ("wallet.credit", by `by`; labelled `actor`
  // when by.label is empty) in the same store transaction as the credit.
  Status credit(int64_t user_id, Fen amount, const std::string& note, const std::string& actor,
                const store::AuditActor& by = {});

  Result<Fen> balance(int64_t user_id);
  Result<Entitlements> entitlements(int64_t user_id);
  // The gate's viewer for a signed-in user: role plus purchases and VIP.
  Result<gate::Viewer> viewer(int64_t user_id, gate::Role role);

  // Recomputes every balance from the ledger and checks every invariant,
  // including: no reader holds two paid orders for one document (a second
  // payment must have gone to the wallet).
  Result<LedgerCheck> verify_ledger();

  // CSV of orders created in [from, to) (unix seconds), for reconciliation.
  Result<std::string> export_orders_csv(int64_t from, int64_t to);

  const Options& options() const { return options_; }
  const PaymentProvider* provider(const std::string& name) const;

 private:
  // The order a document purchase makes, after the checks both ways of
  // buying share (the document exists; the user cannot read it yet).
  Result<store::NewOrder> document_order(int64_t user_id, gate::Role role, int64_t document_id);
  // Unpaid orders expiring after this are reused (order_document, order_plan).
  int64_t reuse_until(int64_t now) const;

  store::CommerceStore& store_;
  // The same store as an audit log (every store::Store is one); null for a
  // CommerceStore that is not, whose changes then go unrecorded.
  store::AuditStore* audit_ = nullptr;
  store::DocumentStore& documents_;
  const Clock& clock_;
  Options options_;
  std::map<std::string, std::unique_ptr<PaymentProvider>> providers_;
};

}  // namespace paidoc::commerce
