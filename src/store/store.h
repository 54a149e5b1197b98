// Store: the one storage interface. Callers (library services, CLI) use only
// this header; SQL lives in the backends (store/sqlite/, later
// store/postgres/). Store::open picks the backend from a URL.
//
// Thread-safety: a Store is safe to use from many threads at once; backends
// keep their own connection pools. Every write method is one transaction:
// it either happens whole or leaves stored data as it was.
//
// Errors: kNotFound for a missing id, kInvalidArgument for bad input,
// kUnavailable when the database cannot be reached or is busy past its
// timeout, kInternal for anything else. Driver exceptions never escape.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "doc/document.h"

namespace paidoc::store {

struct Category {
  int64_t id = 0;
  std::string name;          // as shown and as used in /c/{name}
  int64_t document_count = 0;  // filled by list_categories()
};

// A document to put. source_sha256 identifies the exact source bytes.
struct NewDocument {
  std::string source_path;    // canonical path it was imported from
  std::string source_sha256;  // hex of SHA-256 over the raw source bytes
  std::string source_text;    // decoded UTF-8 source, markers included
  doc::Document parsed;
  Fen price;
  std::string category;       // empty: uncategorised; created if missing
  std::string excerpt;        // gate::public_excerpt(parsed): free text only
  std::optional<int64_t> publisher_id;
};

enum class PutOutcome { kCreated, kUpdated, kUnchanged };

struct PutResult {
  int64_t id = 0;
  PutOutcome outcome = PutOutcome::kCreated;
};

// What listings, feeds and the sitemap need; holds no paid text (excerpt is
// free text only, counts are numbers).
struct DocumentSummary {
  int64_t id = 0;
  int64_t revision = 0;
  std::string title;
  std::string category;
  Fen price;
  std::string excerpt;
  doc::Figures figures;
  bool has_paid_text = false;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
};

struct StoredDocument {
  DocumentSummary summary;
  std::string source_path;
  std::string source_sha256;
  std::string source_text;
  std::optional<int64_t> publisher_id;
  doc::Document parsed;
};

struct ListQuery {
  std::string category;  // empty: all
  int64_t offset = 0;
  int64_t limit = 20;    // REQUIRES: 1..1000
};

struct ListPage {
  std::vector<DocumentSummary> items;  // newest (created_at, id) first
  int64_t total = 0;                   // matching documents in all pages
};

// ---- search -------------------------------------------------------------------
//
// The index holds four columns per document — title, free text and paid
// text, tokenized by text::tokenize_for_index, and the paid part's
// keywords (text::choose_keywords, chosen when the document is stored) —
// and is kept in step with the documents table inside the same
// transaction as every change to it.

enum class PriceFilter { kAny, kFree, kPaid };

// The documents whose paid text a viewer may search in full (built by
// gate::paid_scope from the viewer). For every other document the paid
// part is searched only through its keywords (text/keywords.h): a term
// consults them only when it is keyword-shaped (text::keyword_probe), and
// exclusions, phrases, prefixes and single characters never do. The
// default is an anonymous viewer's scope.
struct PaidScope {
  bool all = false;                     // every document (admin, VIP)
  bool free_price = true;               // documents priced 0
  std::optional<int64_t> publisher_id;  // documents this user published
  std::vector<int64_t> ids;             // these documents (purchases)
};

struct SearchQuery {
  // Each term is text as the reader typed it (a word or a quoted phrase).
  // The backend matches it as the phrase of its tokens (text::tokenize) in
  // any column; a term whose last token is a single ideograph matches that
  // token as a prefix, so one-character terms find every occurrence. Every
  // term must match (AND); no excluded term may match anywhere.
  // REQUIRES: at least one term, and every term and excluded term has at
  // least one token (kInvalidArgument otherwise); at most 16 of each.
  std::vector<std::string> terms;
  std::vector<std::string> excluded;
  std::string category;  // empty: all
  PriceFilter price = PriceFilter::kAny;
  PaidScope paid_scope;
  // false: relevance (saturating term frequency with the title weighted
  // far above free and paid text, which weigh the same; a keyword match
  // counts as one paid occurrence), ties broken by the newer document;
  // true: newest first (by id: ids grow with import time).
  bool newest_first = false;
  int64_t offset = 0;
  int64_t limit = 10;  // REQUIRES: 1..100
};

// Where a term was found, as a bit mask.
enum MatchColumn : unsigned { kInTitle = 1, kInFree = 2, kInPaid = 4 };

struct SearchHit {
  DocumentSummary summary;
  std::optional<int64_t> publisher_id;  // for the gate
  // The free runs of the document, one block per line. Never paid text:
  // snippets for readers without access are cut from this.
  std::string free_text;
  // Per SearchQuery::terms entry, a MatchColumn mask of where it matched.
  std::vector<unsigned> term_columns;
  // Per SearchQuery::terms entry, the keywords (normalised) through which
  // it matched a paid part outside the viewer's PaidScope: the whole term,
  // or its two parts; empty when it did not match that way.
  std::vector<std::vector<std::string>> term_keywords;
};

struct SearchPage {
  std::vector<SearchHit> hits;
  int64_t total = 0;  // matching documents in all pages
};

// ---- accounts -----------------------------------------------------------------

// A user account. role is "reader", "editor" or "admin" (the database checks
// it). password_hash is an argon2id string from libsodium (auth module); the
// store never sees a password.
struct User {
  int64_t id = 0;
  std::string email;          // normalised (trimmed, lower-case); unique
  std::string password_hash;  // empty once the account is deleted
  std::string role = "reader";
  int64_t created_at = 0;
  int64_t deleted_at = 0;     // 0: live. Deleted accounts keep their row, anonymised
};

struct NewUser {
  std::string email;
  std::string password_hash;
  std::string role = "reader";
};

// A login session. The token itself is never stored, only its SHA-256.
struct Session {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string token_hash;  // hex SHA-256 of the bearer/cookie token; unique
  int64_t created_at = 0;
  int64_t last_seen_at = 0;
  int64_t expires_at = 0;  // absolute expiry
  std::string user_agent;  // as sent at login, clipped; for the sessions list
  std::string ip;          // client address at login
};

// A rate-limit record that must survive restarts (failed logins per account
// and per address, registrations per address). Absent keys read as zeros.
struct Throttle {
  std::string key;           // e.g. "login-account:a@b.cn", "login-ip:1.2.3.4"
  int64_t count = 0;         // failures (or registrations) in the current run/window
  int64_t window_start = 0;  // unix seconds the count started
  int64_t locked_until = 0;  // unix seconds; 0: not locked
};

// ---- commerce: orders, wallets, the ledger -----------------------------------
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
// Each commerce write below is ONE store transaction: the order change, its
// ledger rows, the cached balance and the VIP period commit together or not
// at all. Times are unix seconds supplied by the caller (its clock).

// An order as stored. kind and status are closed sets, checked by the
// database:
//   kind:   "document" | "plan" | "topup"
//   status: "created" | "paid" | "refunded" | "expired"
struct Order {
  int64_t id = 0;
  std::string out_trade_no;  // unique; sent to payment providers
  int64_t user_id = 0;
  std::string kind;
  int64_t document_id = 0;   // "document" orders; 0 otherwise
  std::string plan_id;       // "plan" orders; "" otherwise
  int64_t plan_days = 0;     // "plan" orders: the VIP days a payment grants
  std::string subject;       // document title / plan name / "钱包充值"
  Fen amount;                // > 0
  std::string status;
  std::string paid_with;     // "wallet" or a provider name once paid; "" before
  int64_t created_at = 0;
  int64_t expires_at = 0;    // unpaid at this time: no longer payable
  int64_t paid_at = 0;       // 0: never paid
  int64_t refunded_at = 0;   // 0: not refunded
};

struct NewOrder {
  int64_t user_id = 0;
  std::string kind;          // "document" | "plan" | "topup"
  int64_t document_id = 0;   // REQUIRES: an existing document for "document"
  std::string plan_id;       // REQUIRES: non-empty for "plan"
  int64_t plan_days = 0;     // REQUIRES: > 0 for "plan"
  std::string subject;
  Fen amount;                // REQUIRES: > 0
  int64_t created_at = 0;
  int64_t expires_at = 0;
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

// ---- downloads ----------------------------------------------------------------
//
// Every file handed to a reader is recorded: the record is what a trace mark
// in the file points at (paidoc trace), and what daily download limits count.

struct Download {
  int64_t id = 0;
  int64_t user_id = 0;
  int64_t document_id = 0;
  int64_t revision = 0;        // the document version the file was made from
  std::string format;          // "docx" | "pdf" | "txt"
  std::string access;          // gate::access_name of the grant: "purchased", "vip", ...
  int64_t order_id = 0;        // the order behind the access (purchase or plan); 0: none
  int64_t nonce = 0;           // 0..2^32-1, random; carried in the trace mark
  int64_t created_at = 0;
};

struct NewDownload {
  int64_t user_id = 0;
  int64_t document_id = 0;
  int64_t revision = 0;
  std::string format;
  std::string access;
  int64_t nonce = 0;
  int64_t created_at = 0;
  // Limit: at most `limit` downloads by this user with this `access`
  // (and, when per_document, of this document) since `since`; 0: none.
  int64_t limit = 0;
  int64_t since = 0;
  bool per_document = false;
};

// One broken invariant found by ledger_audit().
enum class LedgerProblemKind {
  kUnbalancedTxn,      // id: txn id; actual: the sum of its rows (should be 0)
  kWalletMismatch,     // id: user id; expected: the ledger sum; actual: the cached balance
  kNegativeWallet,     // id: user id; actual: the ledger sum (< 0)
  kOrderPayment,       // id: order id; expected: what its payment rows should
                       // bring in (the amount if paid or refunded, else 0); actual: what they do
  kOrderRefund,        // id: order id; as kOrderPayment for refund rows
  kNotificationUnmatched,  // id: notification id; detail: "provider/transaction";
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
  int64_t entries = 0;   // ledger rows
  int64_t txns = 0;      // ledger transactions
  int64_t accounts = 0;  // distinct accounts
  int64_t wallets = 0;   // wallet rows
  std::vector<LedgerProblem> problems;  // empty: every invariant holds
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens "sqlite:PATH" (file created if missing, migrations applied).
  // Other schemes answer kInvalidArgument naming the scheme.
  static Result<std::unique_ptr<Store>> open(const std::string& url);

  // Current schema version after migrations.
  virtual Result<int> schema_version() = 0;

  // Creates or updates a document, atomically.
  //  - a document with the same source_sha256 exists: kUnchanged, its id;
  //  - else one with the same source_path exists: it is replaced (revision
  //    + 1, updated_at now, created_at kept): kUpdated;
  //  - else a new document: kCreated.
  virtual Result<PutResult> put_document(const NewDocument& d) = 0;

  // Puts several documents in ONE write transaction (one durable commit),
  // each as put_document would and in the order given, each in its own
  // savepoint: a document that is refused is left out alone, with its
  // error in its place of the answer. The call as a whole fails, storing
  // nothing, only when the transaction cannot begin or commit (or the
  // database gave up on it). For imports; a batch of a few hundred.
  virtual Result<std::vector<Result<PutResult>>> put_documents(
      const std::vector<NewDocument>& docs) = 0;

  // kNotFound when absent.
  virtual Result<StoredDocument> get_document(int64_t id) = 0;

  // The revision alone (cheap; for render caches). kNotFound when absent.
  virtual Result<int64_t> document_revision(int64_t id) = 0;

  virtual Result<ListPage> list_documents(const ListQuery& q) = 0;
  virtual Result<std::vector<Category>> list_categories() = 0;
  virtual Result<int64_t> count_documents() = 0;

  // Full-text search (see SearchQuery). Hits carry no paid text.
  virtual Result<SearchPage> search(const SearchQuery& q) = 0;
  // How many documents match (category and price filters apply; paging
  // does not). For "no results" suggestions.
  virtual Result<int64_t> search_count(const SearchQuery& q) = 0;

  // ---- accounts ----
  // kConflict when a live or deleted account already has the email.
  virtual Result<User> create_user(const NewUser& u) = 0;
  // kNotFound when absent or deleted.
  virtual Result<User> find_user_by_email(const std::string& email) = 0;
  // kNotFound when absent; deleted users are returned (deleted_at != 0).
  virtual Result<User> get_user(int64_t id) = 0;
  // Live users, oldest first.
  virtual Result<std::vector<User>> list_users(int64_t offset, int64_t limit) = 0;
  // kNotFound when absent or deleted; kInvalidArgument for an unknown role.
  virtual Status set_user_role(int64_t user_id, const std::string& role) = 0;
  // Sets a new hash and deletes every session of the user except
  // keep_session_id (0: all), in one transaction.
  virtual Status set_password_hash(int64_t user_id, const std::string& hash,
                                   int64_t keep_session_id) = 0;
  // Deletes personal data in one transaction: email becomes
  // "deleted-<id>@deleted.invalid", hash and role cleared, deleted_at set,
  // sessions removed. The row (and later, purchase records) stays.
  virtual Status delete_user(int64_t user_id, int64_t now) = 0;

  // ---- sessions ----
  // Inserts s (id assigned); when replace_session_id != 0 that session is
  // deleted in the same transaction (rotation at login).
  virtual Result<Session> create_session(const Session& s, int64_t replace_session_id) = 0;
  // kNotFound when no session has this hash (expiry is the caller's check).
  virtual Result<Session> find_session(const std::string& token_hash) = 0;
  virtual Status touch_session(int64_t session_id, int64_t now) = 0;
  // Deleting an absent session is not an error.
  virtual Status delete_session(int64_t session_id) = 0;
  // Every session of the user except except_session_id (0: all).
  virtual Status delete_user_sessions(int64_t user_id, int64_t except_session_id) = 0;
  // Newest first.
  virtual Result<std::vector<Session>> list_sessions(int64_t user_id) = 0;
  // Removes sessions with expires_at <= now; returns how many.
  virtual Result<int64_t> delete_expired_sessions(int64_t now) = 0;

  // ---- throttles ----
  virtual Result<Throttle> get_throttle(const std::string& key) = 0;
  virtual Status put_throttle(const Throttle& t) = 0;
  virtual Status delete_throttle(const std::string& key) = 0;

  // ---- commerce ----
  // Inserts an order with status "created". kNotFound for an unknown user
  // or (document orders) document; kInvalidArgument for a bad kind, amount,
  // or missing plan fields.
  virtual Result<Order> create_order(const NewOrder& o) = 0;
  // kNotFound when absent.
  virtual Result<Order> get_order(int64_t order_id) = 0;
  virtual Result<Order> find_order(const std::string& out_trade_no) = 0;
  // The user's orders, newest first (at most `limit`, 1..10000).
  virtual Result<std::vector<Order>> user_orders(int64_t user_id, int64_t limit) = 0;
  // Orders created in [from, to), oldest first.
  virtual Result<std::vector<Order>> orders_between(int64_t from, int64_t to) = 0;

  // Pays a "document" or "plan" order from the user's wallet, atomically:
  // checks the order, debits the wallet (ledger wallet:<user> -> sales),
  // marks the order paid with "wallet", extends VIP for a plan.
  //  - kNotFound: no such order, or not the user's;
  //  - kInvalidArgument: a top-up (the wallet cannot pay itself);
  //  - kConflict: the order is not "created", or now >= expires_at;
  //  - kPaymentRequired "余额不足": the balance is below the amount.
  // Whatever runs concurrently, a balance never goes below zero.
  virtual Result<Order> pay_order_from_wallet(int64_t order_id, int64_t user_id, int64_t now) = 0;

  // Buying in one step: creates the "document" or "plan" order and pays it
  // from the user's wallet in one transaction, so the order, its ledger
  // entries and the entitlement commit together or not at all (nothing is
  // left behind on a refusal). create_order's and pay_order_from_wallet's
  // refusals, plus kConflict "您已可阅读该文档" when the user already bought
  // the document (checked inside the transaction, so two concurrent buys
  // of one document sell it once).
  virtual Result<Order> buy_from_wallet(const NewOrder& o, int64_t now) = 0;

  // Applies a verified provider payment exactly once per (provider,
  // transaction_id):
  //  - seen before: kDuplicate, nothing changes (whatever the rest says);
  //  - no order with out_trade_no: kNotFound, nothing recorded (so a later
  //    correct delivery still applies);
  //  - amount differs from the order's: kInvalidArgument, nothing recorded;
  //  - order "created" and now < expires_at: paid with `provider`; ledger
  //    provider:<p> -> sales (document, plan; VIP extended) or
  //    provider:<p> -> wallet:<user> (top-up): kApplied;
  //  - otherwise (expired, past expires_at, already paid, refunded): the
  //    order is left as it is (a created order past expires_at is marked
  //    expired) and the money goes provider:<p> -> wallet:<user>:
  //    kCreditedToWallet.
  // The notification is recorded in the same transaction as its effect.
  virtual Result<AppliedPayment> apply_payment(const PaymentNotice& n) = 0;

  // Marks "created" orders with expires_at <= now "expired"; returns how many.
  virtual Result<int64_t> expire_orders(int64_t now) = 0;

  // Refunds a paid order and revokes what it gave (the document purchase,
  // the plan's VIP days), atomically; the order becomes "refunded".
  //  - to_wallet, document/plan order: sales -> wallet:<user>;
  //  - !to_wallet, provider-paid document/plan: sales -> refunds_due:<provider>
  //    (an operator pays it back through the provider);
  //  - !to_wallet, top-up: wallet:<user> -> refunds_due:<provider>
  //    (kPaymentRequired when the balance no longer holds it).
  // kNotFound for an unknown order; kConflict unless it is "paid";
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

  // ---- downloads ----
  // Records a download, atomically with its limit check: kTooManyRequests
  // (retry_after: seconds until `since` + 1 day) when the limit is reached.
  // order_id is filled in by the store: for access "purchased" the user's
  // latest paid order of the document, for "vip" their latest paid plan
  // order. kNotFound for an unknown user or document.
  virtual Result<Download> record_download(const NewDownload& d) = 0;
  // kNotFound when absent.
  virtual Result<Download> get_download(int64_t id) = 0;

  // ---- settings ----
  // The value stored under `name`; when there is none, stores
  // `value_if_absent` and returns it. Atomic: concurrent callers on any
  // node get the same value (used for the download-link signing key).
  virtual Result<std::string> setting_or_init(const std::string& name,
                                              const std::string& value_if_absent) = 0;
};

}  // namespace paidoc::store
