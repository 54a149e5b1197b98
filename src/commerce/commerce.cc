// The commerce service: order rules, payment dispatch, notifications,
// entitlements, ledger verification and the reconciliation export. Every
// change of money is one atomic store operation (store.h, "commerce"); this
// file decides what may be asked of the store, never how it is written.

#include "commerce/commerce.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <random>
#include <string>
#include <utility>

namespace paidoc::commerce {

namespace {

constexpr char kAlreadyReadable[] = "您已可阅读该文档";
constexpr char kTopUpSubject[] = "钱包充值";
constexpr int64_t kBeijingOffset = 8 * 3600;  // order numbers carry the date in China
constexpr int64_t kMaxOrdersListed = 1000;

Order from_store(const store::Order& o) {
  Order out;
  out.id = o.id;
  out.out_trade_no = o.out_trade_no;
  out.user_id = o.user_id;
  out.kind = o.kind;
  out.document_id = o.document_id;
  out.plan_id = o.plan_id;
  out.subject = o.subject;
  out.amount = o.amount;
  out.status = o.status;
  out.paid_with = o.paid_with;
  out.created_at = o.created_at;
  out.expires_at = o.expires_at;
  out.paid_at = o.paid_at;
  out.refunded_at = o.refunded_at;
  out.credited = o.credited;
  return out;
}

store::RefundState to_store(RefundState s) {
  switch (s) {
    case RefundState::kPending:
      return store::RefundState::kPending;
    case RefundState::kSucceeded:
      return store::RefundState::kSucceeded;
    case RefundState::kFailed:
      return store::RefundState::kFailed;
  }
  return store::RefundState::kPending;
}

RefundState from_store(store::RefundState s) {
  switch (s) {
    case store::RefundState::kPending:
      return RefundState::kPending;
    case store::RefundState::kSucceeded:
      return RefundState::kSucceeded;
    case store::RefundState::kFailed:
      return RefundState::kFailed;
  }
  return RefundState::kPending;
}

Refund from_store(const store::Refund& r) {
  Refund out;
  out.id = r.id;
  out.order_id = r.order_id;
  out.provider = r.provider;
  out.out_refund_no = r.out_refund_no;
  out.refund_id = r.refund_id;
  out.amount = r.amount;
  out.state = from_store(r.state);
  out.message = r.message;
  out.from_gateway = r.from_gateway;
  out.created_at = r.created_at;
  out.updated_at = r.updated_at;
  return out;
}

Result<Order> from_store(Result<store::Order> r) {
  if (!r.ok()) return r.status();
  return from_store(*r);
}

// "20260101" for the Beijing calendar day of `t`.
std::string beijing_date(int64_t t) {
  std::time_t shifted = static_cast<std::time_t>(t + kBeijingOffset);
  std::tm tm{};
  gmtime_r(&shifted, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

// Four random hex digits: order numbers are not guessable from their
// neighbours (the id alone would be).
std::string random_suffix() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04X", static_cast<unsigned>(rng() & 0xFFFF));
  return buf;
}

// ISO-8601 UTC, "" for 0 (never happened).
std::string iso_utc(int64_t t) {
  if (t == 0) return "";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

// One CSV field (RFC 4180): quoted when it holds a comma, quote or line
// break, quotes doubled.
std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// Free text from publishers (the subject) must not become a formula when
// the file is opened in a spreadsheet.
std::string defuse_formula(const std::string& v) {
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) return "'" + v;
  return v;
}

std::string fen_text(int64_t fen) { return std::to_string(fen) + " fen"; }

std::string describe(const store::LedgerProblem& p) {
  using K = store::LedgerProblemKind;
  const std::string id = std::to_string(p.id);
  switch (p.kind) {
    case K::kUnbalancedTxn:
      return "ledger txn " + id + " does not balance: its rows sum to " + fen_text(p.actual);
    case K::kWalletMismatch:
      return "wallet of user " + id + ": the ledger gives " + fen_text(p.expected) +
             " but the stored balance is " + fen_text(p.actual);
    case K::kNegativeWallet:
      return "wallet of user " + id + " is negative in the ledger: " + fen_text(p.actual);
    case K::kOrderPayment:
      return "order " + id + ": payment rows bring in " + fen_text(p.actual) + ", expected " +
             fen_text(p.expected);
    case K::kOrderRefund:
      return "order " + id + ": refund rows pay back " + fen_text(p.actual) + ", expected " +
             fen_text(p.expected);
    case K::kNotificationUnmatched:
      return "payment notification " + p.detail + " (" + id + "): its ledger txn takes " +
             fen_text(p.actual) + " from the provider for its order, expected " +
             fen_text(p.expected);
    case K::kProviderMoneyUnexplained:
      return "ledger txn " + id + " moves money on " + p.detail +
             " without a recorded payment notification or succeeded refund";
    case K::kDoublePurchase:
      return "user " + id + " holds " + std::to_string(p.actual) + " paid orders for " + p.detail +
             ": a second payment for an owned document must go to the wallet";
    case K::kOrderCredited:
      return "order " + id + ": credited " + fen_text(p.expected) +
             " to the wallet but its late_payment rows put in " + fen_text(p.actual);
    case K::kRefundUnbooked:
      return "refund " + p.detail + " (" + id + "): its ledger txn books " + fen_text(p.actual) +
             ", expected " + fen_text(p.expected);
    case K::kRefundSent:
      return "refund " + p.detail + " (" + id + "): " + fen_text(p.actual) +
             " went back through the provider, expected " + fen_text(p.expected);
    case K::kRefundsDue:
      return "refunds_due:" + p.detail + " holds " + fen_text(p.actual) +
             " but its pending and failed refunds add up to " + fen_text(p.expected);
    case K::kEntryOutOfRange:
      return "ledger row " + id + " (" + p.detail + ") moves " + fen_text(p.actual) +
             ", beyond the largest amount " + fen_text(p.expected);
    case K::kOrderOutOfRange:
      return "order " + id + (p.detail.empty() ? "" : " (" + p.detail + ")") + " is for " +
             fen_text(p.actual) + ", outside 1 fen .. the largest amount " + fen_text(p.expected);
    case K::kSumOverflow:
      return p.detail + ": the sum of its rows overflows int64 fen (at ledger row " + id + ")";
  }
  return "ledger problem with id " + id;
}

std::string yuan(Fen f) { return f.yuan_string(); }

// Applies a payment a provider verified (a notification, or a query
// answer) through the store's exactly-once path, and logs what it did.
Result<store::AppliedPayment> apply_verified_payment(store::CommerceStore& store,
                                                     const std::string& provider,
                                                     const std::string& transaction_id,
                                                     const std::string& out_trade_no, Fen amount,
                                                     int64_t now, const char* via) {
  store::PaymentNotice notice;
  notice.provider = provider;
  notice.transaction_id = transaction_id;
  notice.out_trade_no = out_trade_no;
  notice.amount = amount;
  notice.received_at = now;
  auto applied = store.apply_payment(notice);
  if (!applied.ok()) return applied;
  const store::Order& o = applied->order;
  switch (applied->outcome) {
    case store::PaymentOutcome::kApplied:
      spdlog::info("payment applied ({}): order {} paid, {} yuan, {} transaction {}", via,
                   o.out_trade_no, yuan(amount), provider, transaction_id);
      break;
    case store::PaymentOutcome::kCreditedToWallet:
      spdlog::info(
          "payment applied ({}): order {} is {}, {} yuan credited to the wallet of user {}, {} "
          "transaction {}",
          via, o.out_trade_no, store::to_string(o.status), yuan(amount), o.user_id, provider,
          transaction_id);
      break;
    case store::PaymentOutcome::kDuplicate:
      break;
  }
  return applied;
}

// Applies a refund report a provider verified, and logs what it did.
Result<store::AppliedRefund> apply_verified_refund(
    store::CommerceStore& store, const std::string& provider, const std::string& transaction_id,
    const std::string& out_trade_no, const RefundReport& report, const std::string& message,
    int64_t now, const char* via) {
  store::RefundNotice n;
  n.provider = provider;
  n.transaction_id = transaction_id;
  n.out_trade_no = out_trade_no;
  n.refund_id = report.refund_id;
  n.out_refund_no = report.out_refund_no;
  n.amount = report.amount;
  n.refunded_total = report.refunded_total;
  n.state = to_store(report.state);
  n.message = message;
  n.received_at = now;
  auto applied = store.apply_refund(n);
  if (!applied.ok()) return applied;
  const store::Refund& r = applied->refund;
  switch (applied->outcome) {
    case store::RefundOutcome::kSettled:
      spdlog::info("refund {} ({}): order {}, {} yuan, {} transaction {}, refund {}{}",
                   store::to_string(r.state), via, applied->order.out_trade_no, yuan(r.amount),
                   provider, r.transaction_id, r.out_refund_no,
                   r.message.empty() ? "" : ": " + r.message);
      break;
    case store::RefundOutcome::kBooked:
      spdlog::info(
          "refund applied ({}): made at {} for order {} (now {}), {} yuan, transaction {}, "
          "refund {}",
          via, provider, applied->order.out_trade_no, store::to_string(applied->order.status),
          yuan(r.amount), transaction_id, r.refund_id.empty() ? r.out_refund_no : r.refund_id);
      break;
    case store::RefundOutcome::kDuplicate:
    case store::RefundOutcome::kIgnored:
      break;
  }
  return applied;
}

// Records a gateway's answer to our refund request or refund query. An
// answer settles the refund; a business refusal fails it (the money stays
// owed, the message says why); no answer leaves it pending for sweep().
// Returns "" or a problem line.
std::string record_refund_answer(store::CommerceStore& store, const store::Refund& r,
                                 const store::Order& o, const Result<RefundReport>& answer,
                                 int64_t now, const char* via) {
  if (answer.ok()) {
    RefundReport rep = *answer;
    rep.out_refund_no = r.out_refund_no;  // the one we asked about
    auto a = apply_verified_refund(store, r.provider, r.transaction_id, o.out_trade_no, rep, "",
                                   now, via);
    if (!a.ok()) return "refund " + r.out_refund_no + ": " + a.status().to_string();
    return "";
  }
  const Status& s = answer.status();
  if (s.code() == Code::kInvalidArgument) {
    RefundReport rep;
    rep.out_refund_no = r.out_refund_no;
    rep.state = RefundState::kFailed;
    auto a = apply_verified_refund(store, r.provider, r.transaction_id, o.out_trade_no, rep,
                                   s.message(), now, via);
    if (!a.ok()) return "refund " + r.out_refund_no + ": " + a.status().to_string();
    spdlog::warn("refund {} of order {} refused by {}: {}", r.out_refund_no, o.out_trade_no,
                 r.provider, s.message());
    return "";
  }
  const std::string line =
      "refund " + r.out_refund_no + " of order " + o.out_trade_no + ": " + s.to_string();
  (void)store.touch_refund(r.id, "no answer from the gateway: " + s.message(), now);
  return line;
}

std::string notify_url_for(const std::string& site_url, const std::string& provider) {
  return site_url + "/api/v1/payments/" + provider + "/notify";
}

// Sends our refund request (again: same number, never refunded twice).
Result<RefundReport> send_refund(PaymentProvider& p, const store::Refund& r, const store::Order& o,
                                 const std::string& reason, const std::string& site_url) {
  RefundRequest req;
  req.out_trade_no = o.out_trade_no;
  req.transaction_id = r.transaction_id;
  req.out_refund_no = r.out_refund_no;
  req.amount = r.amount;
  req.total = o.amount;
  req.reason = reason;
  req.notify_url = notify_url_for(site_url, r.provider);
  return p.refund(req);
}

Status order_not_found() { return Status::not_found("订单不存在"); }

// Why an order cannot be paid now, or OK.
Status check_payable(const store::Order& o, int64_t now) {
  if (o.status == OrderStatus::kPaid) return Status::conflict("订单已支付");
  if (o.status == OrderStatus::kRefunded) return Status::conflict("订单已退款");
  if (o.status == OrderStatus::kExpired || now >= o.expires_at) {
    return Status::conflict("订单已过期");
  }
  return Status();
}

}  // namespace

const char* method_name(PayMethod m) {
  switch (m) {
    case PayMethod::kWallet:
      return "wallet";
    case PayMethod::kAlipay:
      return "alipay";
    case PayMethod::kWechat:
      return "wechat";
    case PayMethod::kSandbox:
      return "sandbox";
  }
  return "wallet";
}

std::optional<PayMethod> parse_method(std::string_view s) {
  for (PayMethod m :
       {PayMethod::kWallet, PayMethod::kAlipay, PayMethod::kWechat, PayMethod::kSandbox}) {
    if (s == method_name(m)) return m;
  }
  return std::nullopt;
}

Commerce::Commerce(store::CommerceStore& store, store::DocumentStore& documents, const Clock& clock,
                   Options options,
                   std::map<std::string, std::unique_ptr<PaymentProvider>> providers)
    : store_(store),
      audit_(dynamic_cast<store::AuditStore*>(&store)),
      documents_(documents),
      clock_(clock),
      options_(std::move(options)),
      providers_(std::move(providers)) {
  while (!options_.site_url.empty() && options_.site_url.back() == '/')
    options_.site_url.pop_back();
}

const PaymentProvider* Commerce::provider(const std::string& name) const {
  auto it = providers_.find(name);
  return it == providers_.end() ? nullptr : it->second.get();
}

// --- orders -------------------------------------------------------------------------

namespace {

store::NewOrder new_order(int64_t user_id, OrderKind kind, Fen amount, std::string subject,
                          int64_t now, int64_t ttl) {
  store::NewOrder o;
  o.user_id = user_id;
  o.kind = kind;
  o.amount = amount;
  o.subject = std::move(subject);
  o.created_at = now;
  o.expires_at = now + std::max<int64_t>(ttl, 1);
  // "P20260101" + 10-digit id + 4 hex = 23 characters, within the 32 that
  // Alipay and WeChat accept, [0-9A-Z] only.
  o.out_trade_no_prefix = "P" + beijing_date(now);
  o.out_trade_no_suffix = random_suffix();
  return o;
}

}  // namespace

Result<store::NewOrder> Commerce::document_order(int64_t user_id, gate::Role role,
                                                 int64_t document_id) {
  auto d = documents_.get_document(document_id);
  if (!d.ok()) {
    if (d.status().code() == Code::kNotFound) return Status::not_found("文档不存在");
    return d.status();
  }
  // A draft is not for sale (nor public): as if it did not exist.
  if (d->summary.status != store::DocStatus::kPublished) return Status::not_found("文档不存在");
  auto v = viewer(user_id, role);
  if (!v.ok()) return v.status();
  gate::DocumentFacts facts{document_id, d->summary.price, d->publisher_id,
                            d->summary.has_paid_text};
  if (gate::decide(facts, *v) != gate::Access::kNone) return Status::conflict(kAlreadyReadable);
  // A price no entry accepts (written before the bounds, or behind the
  // store's back) is not sold.
  if (!within_max_amount(d->summary.price)) return Status::invalid("该文档的价格无效，暂不能购买");
  store::NewOrder o = new_order(user_id, OrderKind::kDocument, d->summary.price, d->summary.title,
                                clock_.now(), options_.order_ttl);
  o.document_id = document_id;
  return o;
}

// An unpaid order is reused while it stays payable beyond the sweep's
// window (query_before_expiry): one about to expire is not handed out again.
int64_t Commerce::reuse_until(int64_t now) const {
  return now + std::max<int64_t>(options_.query_before_expiry, 0);
}

Result<Order> Commerce::order_document(int64_t user_id, gate::Role role, int64_t document_id) {
  auto o = document_order(user_id, role, document_id);
  if (!o.ok()) return o.status();
  return from_store(store_.open_order(*o, reuse_until(o->created_at)));
}

Result<Order> Commerce::buy_document_with_wallet(int64_t user_id, gate::Role role,
                                                 int64_t document_id) {
  auto o = document_order(user_id, role, document_id);
  if (!o.ok()) return o.status();
  return from_store(store_.buy_from_wallet(*o, o->created_at));
}

Result<Order> Commerce::order_plan(int64_t user_id, const std::string& plan_id) {
  auto it = std::find_if(options_.plans.begin(), options_.plans.end(),
                         [&](const Plan& p) { return p.id == plan_id; });
  if (it == options_.plans.end()) return Status::not_found("没有这个会员套餐");
  if (it->price.value() <= 0 || it->price > kMaxAmount || it->days <= 0) {
    return Status::invalid("会员套餐 " + plan_id + " 的价格或天数无效");
  }
  store::NewOrder o =
      new_order(user_id, OrderKind::kPlan, it->price, it->name, clock_.now(), options_.order_ttl);
  o.plan_id = it->id;
  o.plan_days = it->days;
  return from_store(store_.open_order(o, reuse_until(o.created_at)));
}

Result<Order> Commerce::order_topup(int64_t user_id, Fen amount) {
  if (amount.value() <= 0) return Status::invalid("充值金额必须大于 0");
  if (amount > topup_limit())
    return Status::invalid("单次充值不能超过 ¥" + topup_limit().yuan_string() + "。");
  return from_store(store_.create_order(new_order(user_id, OrderKind::kTopUp, amount, kTopUpSubject,
                                                  clock_.now(), options_.order_ttl)));
}

Result<Order> Commerce::order(int64_t user_id, int64_t order_id) {
  auto o = store_.get_order(order_id);
  if (!o.ok()) {
    if (o.status().code() == Code::kNotFound) return order_not_found();
    return o.status();
  }
  if (o->user_id != user_id) return order_not_found();
  return from_store(*o);
}

Result<std::vector<Order>> Commerce::orders(int64_t user_id) {
  auto list = store_.user_orders(user_id, kMaxOrdersListed);
  if (!list.ok()) return list.status();
  std::vector<Order> out;
  out.reserve(list->size());
  for (const auto& o : *list) out.push_back(from_store(o));
  return out;
}

Result<OrderList> Commerce::list_orders(const OrderQuery& q) {
  auto page = store_.list_orders(q);
  if (!page.ok()) return page.status();
  OrderList out;
  out.total = page->total;
  out.items.reserve(page->items.size());
  for (const store::OrderListItem& i : page->items)
    out.items.push_back(ListedOrder{from_store(i.order), i.email});
  return out;
}

// --- paying ---------------------------------------------------------------------------

Result<PayResult> Commerce::pay(int64_t user_id, int64_t order_id, PayMethod method,
                                const PayContext& ctx) {
  auto o = store_.get_order(order_id);
  if (!o.ok()) {
    if (o.status().code() == Code::kNotFound) return order_not_found();
    return o.status();
  }
  if (o->user_id != user_id) return order_not_found();
  if (o->kind == OrderKind::kTopUp && method == PayMethod::kWallet) {
    return Status::invalid("充值订单不能用余额支付");
  }
  const int64_t now = clock_.now();
  if (Status s = check_payable(*o, now); !s.is_ok()) return s;
  if (o->kind == OrderKind::kDocument) {
    // Two orders for one document may exist (made before either was paid);
    // the second is refused rather than sold twice.
    auto e = store_.user_entitlements(user_id);
    if (!e.ok()) return e.status();
    if (std::find(e->purchased.begin(), e->purchased.end(), o->document_id) != e->purchased.end()) {
      return Status::conflict(kAlreadyReadable);
    }
  }

  if (method == PayMethod::kWallet) {
    auto paid = store_.pay_order_from_wallet(order_id, user_id, now);
    if (!paid.ok()) return paid.status();
    return PayResult{from_store(*paid), PaymentStart{}};
  }

  const std::string name = method_name(method);
  auto it = providers_.find(name);
  if (it == providers_.end()) return Status::invalid("暂不支持该支付方式：" + name);
  PaymentOrder po;
  po.out_trade_no = o->out_trade_no;
  po.amount = o->amount;
  po.subject = o->subject;
  po.return_url = options_.site_url + "/orders/" + std::to_string(o->id);
  po.notify_url = notify_url_for(options_.site_url, name);
  po.expires_at = o->expires_at;
  po.channel = it->second->supports(ctx.channel) ? ctx.channel : Channel::kDesktop;
  po.client_ip = ctx.client_ip;
  po.openid = ctx.openid;
  // Recorded first: a start that reaches the gateway and then fails here is
  // still queried and closed by sweep().
  if (Status s = store_.record_payment_start(o->id, name, now); !s.is_ok()) return s;
  auto start = it->second->start(po);
  if (!start.ok()) return start.status();
  return PayResult{from_store(*o), std::move(start).value()};
}

NotifyAnswer Commerce::notify(const std::string& provider_name, const RawNotification& raw) {
  NotifyAnswer a;
  auto it = providers_.find(provider_name);
  if (it == providers_.end()) {
    a.http_status = 404;
    a.reason = "no payment provider '" + provider_name + "' is configured";
    return a;
  }
  const PaymentProvider& p = *it->second;
  auto refuse = [&](int http, std::string reason) {
    a.http_status = http;
    a.body = p.failure_body();
    a.applied = false;
    a.reason = std::move(reason);
    return a;
  };

  auto n = p.verify(raw);
  if (!n.ok()) return refuse(400, "not verified: " + n.status().to_string());
  if (n->provider != provider_name) {
    return refuse(400,
                  "verified by '" + provider_name + "' but names provider '" + n->provider + "'");
  }
  const int64_t now = clock_.now();
  auto refuse_store = [&](const Status& s, const std::string& what) {
    switch (s.code()) {
      case Code::kNotFound:
      case Code::kInvalidArgument:
        return refuse(400, "refused " + what + ": " + s.to_string());
      case Code::kUnavailable:
        return refuse(503,
                      "not applied now (the provider will retry) " + what + ": " + s.to_string());
      default:
        return refuse(500, "failed " + what + ": " + s.to_string());
    }
  };

  if (n->kind == NotificationKind::kRefund) {
    const std::string what =
        provider_name + " refund " +
        (n->refund.refund_id.empty() ? n->refund.out_refund_no : n->refund.refund_id) + " of " +
        n->transaction_id + " for " + n->out_trade_no;
    const std::string message =
        n->refund.state == RefundState::kFailed ? "the gateway reports the refund failed" : "";
    auto applied = apply_verified_refund(store_, provider_name, n->transaction_id, n->out_trade_no,
                                         n->refund, message, now, "notification");
    if (!applied.ok()) return refuse_store(applied.status(), what);
    a.body = p.success_body();
    switch (applied->outcome) {
      case store::RefundOutcome::kSettled:
      case store::RefundOutcome::kBooked:
        a.applied = true;
        a.reason = "applied " + what + ": order " + applied->order.out_trade_no + " is " +
                   std::string(store::to_string(applied->order.status));
        break;
      case store::RefundOutcome::kDuplicate:
        a.reason = "duplicate " + what + ": already applied";
        break;
      case store::RefundOutcome::kIgnored:
        a.reason = "ignored " + what + ": a refund made at the gateway that has not succeeded";
        break;
    }
    return a;
  }

  if (!n->paid) {
    // A state change that is not a payment (waiting, closed): acknowledged
    // so the provider stops sending it, and nothing changes.
    a.body = p.success_body();
    a.reason = "not a payment notification; acknowledged without effect";
    return a;
  }
  if (n->amount.value() <= 0) return refuse(400, "amount is not positive");

  const std::string what = provider_name + " " + n->transaction_id + " for " + n->out_trade_no;
  auto applied = apply_verified_payment(store_, provider_name, n->transaction_id, n->out_trade_no,
                                        n->amount, now, "notification");
  if (!applied.ok()) return refuse_store(applied.status(), what);
  a.body = p.success_body();
  const std::string order_no = applied->order.out_trade_no;
  switch (applied->outcome) {
    case store::PaymentOutcome::kApplied:
      a.applied = true;
      a.reason =
          "applied " + provider_name + " " + n->transaction_id + ": order " + order_no + " paid";
      break;
    case store::PaymentOutcome::kCreditedToWallet:
      a.applied = true;
      a.reason = "applied " + provider_name + " " + n->transaction_id + ": order " + order_no +
                 " is " + std::string(store::to_string(applied->order.status)) +
                 ", the money went to the buyer's wallet";
      break;
    case store::PaymentOutcome::kDuplicate:
      a.applied = false;
      a.reason = "duplicate " + provider_name + " " + n->transaction_id + " (order " + order_no +
                 "): already applied";
      break;
  }
  return a;
}

Result<int64_t> Commerce::expire_orders() { return store_.expire_orders(clock_.now()); }

Status Commerce::refund(int64_t order_id, bool to_wallet, const std::string& note,
                        const store::AuditActor& by) {
  const int64_t now = clock_.now();
  auto o = store_.get_order(order_id);
  if (!o.ok()) return o.status();
  const std::string actor = by.label.empty() ? std::string("admin") : by.label;
  // What the audit log keeps of this refund: the order before and after.
  auto entry = [&](bool wallet) {
    store::AuditEntry e;
    e.at = now;
    e.actor_user_id = by.user_id;
    e.actor = actor;
    e.action = store::audit_action::kOrderRefund;
    e.target_kind = "order";
    e.target_id = order_id;
    e.ip = by.ip;
    nlohmann::json d;
    d["out_trade_no"] = o->out_trade_no;
    d["user_id"] = o->user_id;
    d["amount_fen"] = o->amount.value();
    d["to"] = wallet ? "wallet" : "original";
    d["status"] = {{"from", std::string(store::to_string(o->status))}, {"to", "refunded"}};
    if (!note.empty()) d["note"] = note;
    e.details = d.dump();
    return e;
  };
  if (to_wallet || o->paid_with == "wallet" || o->status != OrderStatus::kPaid) {
    // The wallet, or a refusal the store words (not paid, wallet-paid to a
    // provider, a top-up to the wallet).
    auto r = audit_ != nullptr
                 ? audit_->refund_order_audited(order_id, to_wallet, note, actor, now,
                                                entry(to_wallet))
                 : store_.refund_order(order_id, to_wallet, note, actor, now);
    if (!r.ok()) return r.status();
    spdlog::info("refund applied: order {} refunded to the wallet of user {}, {} yuan",
                 r->out_trade_no, r->user_id, yuan(r->amount));
    return Status();
  }
  if (auto p = providers_.find(o->paid_with); p != providers_.end() && !p->second->can_refund())
    return Status::invalid("该订单的支付方式不支持原路退回，请选择退回钱包");
  store::ProviderRefundStart start;
  start.order_id = order_id;
  start.out_refund_no_prefix = "R" + beijing_date(now);
  start.out_refund_no_suffix = random_suffix();
  start.note = note;
  start.actor = actor;
  start.now = now;
  auto started = audit_ != nullptr ? audit_->refund_to_provider_audited(start, entry(false))
                                   : store_.refund_to_provider(start);
  if (!started.ok()) return started.status();
  const store::Refund& r = started->refund;
  spdlog::info("refund started: order {}, {} yuan back through {} (transaction {}), refund {}",
               started->order.out_trade_no, yuan(r.amount), r.provider, r.transaction_id,
               r.out_refund_no);
  // The order is refunded and the money owed from here on; the gateway's
  // answer decides whether it left (refunds() shows it). No provider or no
  // answer: pending, and sweep() sends it.
  auto it = providers_.find(r.provider);
  if (it == providers_.end()) {
    (void)store_.touch_refund(r.id, "no payment provider '" + r.provider + "' is configured", now);
    return Status();
  }
  auto answer = send_refund(*it->second, r, started->order, note, options_.site_url);
  std::string problem = record_refund_answer(store_, r, started->order, answer, now, "refund API");
  if (!problem.empty()) spdlog::warn("{} (sweep retries it)", problem);
  return Status();
}

Result<std::vector<Refund>> Commerce::refunds(int64_t order_id) {
  auto list = store_.order_refunds(order_id);
  if (!list.ok()) return list.status();
  std::vector<Refund> out;
  out.reserve(list->size());
  for (const auto& r : *list) out.push_back(from_store(r));
  return out;
}

Result<SweepReport> Commerce::sweep() {
  constexpr int64_t kBatch = 1000;
  SweepReport rep;
  const int64_t now = clock_.now();
  auto problem = [&](std::string line) {
    spdlog::warn("sweep: {}", line);
    rep.problems.push_back(std::move(line));
  };
  // What the gateway says of a trade, applied when paid. Returns false on
  // a failed call (a problem was reported).
  auto query_and_apply = [&](PaymentProvider& p, const store::Order& o) -> bool {
    ++rep.queried;
    auto t = p.query(o.out_trade_no);
    if (!t.ok()) {
      problem("query " + p.name() + " " + o.out_trade_no + ": " + t.status().to_string());
      return false;
    }
    if (!t->paid) return true;
    auto applied = apply_verified_payment(store_, p.name(), t->transaction_id, o.out_trade_no,
                                          t->amount, clock_.now(), "query");
    if (!applied.ok()) {
      problem("apply " + p.name() + " " + t->transaction_id + " for " + o.out_trade_no + ": " +
              applied.status().to_string());
      return false;
    }
    if (applied->outcome != store::PaymentOutcome::kDuplicate) ++rep.applied;
    return true;
  };

  auto starts =
      store_.open_payment_starts(now + std::max<int64_t>(options_.query_before_expiry, 0), kBatch);
  if (!starts.ok()) return starts.status();
  for (const auto& s : *starts) {
    auto it = providers_.find(s.provider);
    if (it == providers_.end()) {
      problem("order " + s.order.out_trade_no + ": no payment provider '" + s.provider +
              "' is configured");
      continue;
    }
    PaymentProvider& p = *it->second;
    if (now < s.order.expires_at) {
      // Near expiry and still unpaid here: was the notification lost?
      if (s.order.status == OrderStatus::kCreated) query_and_apply(p, s.order);
      continue;
    }
    // Expired: close the trade so a late scan cannot pay it.
    Status closed = p.close(s.order.out_trade_no);
    if (closed.code() == Code::kConflict) {
      // Paid meanwhile: apply it (the wallet gets the money of a late one).
      if (!query_and_apply(p, s.order)) continue;
    } else if (closed.code() == Code::kInvalidArgument) {
      // A business refusal does not change by asking again.
      problem("close " + s.provider + " " + s.order.out_trade_no + ": " + closed.to_string() +
              " (not retried)");
    } else if (!closed.is_ok()) {
      problem("close " + s.provider + " " + s.order.out_trade_no + ": " + closed.to_string());
      continue;
    } else {
      ++rep.closed;
    }
    if (Status c = store_.close_payment_start(s.order.id, s.provider, clock_.now()); !c.is_ok()) {
      problem("remember close of " + s.order.out_trade_no + ": " + c.to_string());
    }
  }
  auto expired = store_.expire_orders(now);
  if (!expired.ok()) {
    problem("expire orders: " + expired.status().to_string());
  } else {
    rep.expired = *expired;
  }

  auto pending = store_.pending_refunds(kBatch);
  if (!pending.ok()) return pending.status();
  for (const auto& r : *pending) {
    ++rep.refunds_checked;
    auto it = providers_.find(r.provider);
    if (it == providers_.end()) {
      problem("refund " + r.out_refund_no + ": no payment provider '" + r.provider +
              "' is configured");
      continue;
    }
    auto o = store_.get_order(r.order_id);
    if (!o.ok()) {
      problem("refund " + r.out_refund_no + ": " + o.status().to_string());
      continue;
    }
    auto q = it->second->query_refund(o->out_trade_no, r.out_refund_no);
    const char* via = "refund query";
    if (!q.ok() && q.status().code() == Code::kNotFound) {
      // The gateway never received it: send it again, same number.
      q = send_refund(*it->second, r, *o, "退款", options_.site_url);
      via = "refund API";
    }
    std::string line = record_refund_answer(store_, r, *o, q, clock_.now(), via);
    if (!line.empty()) problem(line);
  }
  return rep;
}

Result<std::string> Commerce::oauth_url(const std::string& provider,
                                        const std::string& redirect_uri,
                                        const std::string& state) {
  auto it = providers_.find(provider);
  if (it == providers_.end()) return Status::invalid("暂不支持该支付方式：" + provider);
  return it->second->oauth_url(redirect_uri, state);
}

Result<std::string> Commerce::openid(const std::string& provider, const std::string& code) {
  auto it = providers_.find(provider);
  if (it == providers_.end()) return Status::invalid("暂不支持该支付方式：" + provider);
  return it->second->openid(code);
}

bool Commerce::can_refund(const std::string& provider) const {
  auto it = providers_.find(provider);
  return it != providers_.end() && it->second->can_refund();
}

bool Commerce::supports(const std::string& provider, Channel c) const {
  auto it = providers_.find(provider);
  return it != providers_.end() && it->second->supports(c);
}

Status Commerce::credit(int64_t user_id, Fen amount, const std::string& note,
                        const std::string& actor, const store::AuditActor& by) {
  if (amount.value() <= 0) return Status::invalid("入账金额必须大于 0");
  if (amount > kMaxAmount)
    return Status::invalid("单笔入账不能超过 ¥" + kMaxAmount.yuan_string());
  const std::string who = actor.empty() ? std::string("operator") : actor;
  const int64_t now = clock_.now();
  if (audit_ == nullptr) {
    auto r = store_.credit_wallet(user_id, amount, note, who, now);
    return r.ok() ? Status() : r.status();
  }
  store::AuditEntry e;
  e.at = now;
  e.actor_user_id = by.user_id;
  e.actor = by.label.empty() ? who : by.label;
  e.action = store::audit_action::kWalletCredit;
  e.target_kind = "wallet";
  e.target_id = user_id;
  e.ip = by.ip;
  nlohmann::json d;
  d["amount_fen"] = amount.value();
  if (!note.empty()) d["note"] = note;
  e.details = d.dump();
  auto r = audit_->credit_wallet_audited(user_id, amount, note, who, now, e);
  return r.ok() ? Status() : r.status();
}

// --- what a user has ------------------------------------------------------------------

Result<Fen> Commerce::balance(int64_t user_id) { return store_.wallet_balance(user_id); }

Result<Entitlements> Commerce::entitlements(int64_t user_id) {
  auto e = store_.user_entitlements(user_id);
  if (!e.ok()) return e.status();
  return Entitlements{std::move(e->purchased), e->vip_until};
}

Result<gate::Viewer> Commerce::viewer(int64_t user_id, gate::Role role) {
  auto e = store_.user_entitlements(user_id);
  if (!e.ok()) return e.status();
  gate::Viewer v;
  v.user_id = user_id;
  v.role = role;
  v.vip = e->vip_until > clock_.now();
  v.purchased = std::move(e->purchased);
  return v;
}

// --- operators ------------------------------------------------------------------------

LedgerCheck ledger_check(const store::LedgerAudit& audit) {
  LedgerCheck c;
  c.entries = audit.entries;
  c.accounts = audit.accounts;
  for (const auto& p : audit.problems) c.problems.push_back(describe(p));
  if (!audit.sums_checked)
    c.problems.push_back(
        "the checks that add up balances were not run: sums over the amounts above overflow");
  c.ok = c.problems.empty();
  return c;
}

Result<LedgerCheck> Commerce::verify_ledger() {
  auto audit = store_.ledger_audit();
  if (!audit.ok()) return audit.status();
  return ledger_check(*audit);
}

Result<std::string> Commerce::export_orders_csv(int64_t from, int64_t to) {
  auto list = store_.orders_between(from, to);
  if (!list.ok()) return list.status();
  std::string out =
      "id,out_trade_no,user_id,kind,subject,amount_fen,status,paid_with,created_at,paid_at,"
      "refunded_at\r\n";
  for (const auto& o : *list) {
    const std::string fields[] = {
        std::to_string(o.id),
        o.out_trade_no,
        std::to_string(o.user_id),
        std::string(store::to_string(o.kind)),
        defuse_formula(o.subject),
        std::to_string(o.amount.value()),
        std::string(store::to_string(o.status)),
        o.paid_with,
        iso_utc(o.created_at),
        iso_utc(o.paid_at),
        iso_utc(o.refunded_at),
    };
    bool first = true;
    for (const auto& f : fields) {
      if (!first) out += ',';
      first = false;
      out += csv_field(f);
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace paidoc::commerce
