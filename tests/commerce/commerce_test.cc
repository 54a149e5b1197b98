// The commerce service over a real store (each backend): order rules, wallet and
// provider payments, notifications applied exactly once, refunds,
// entitlements seen by the gate, ledger verification and the CSV export.

#include "commerce/commerce.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "commerce_fixture.h"
#include "gate/gate.h"

namespace paidoc::commerce::testing {
namespace {

constexpr int64_t kDay = 86400;

bool contains(const std::vector<int64_t>& v, int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

using CommerceTest = CommerceFixture;

// --- names -----------------------------------------------------------------------------

TEST(CommerceNames, RoundTrip) {
  for (PayMethod m :
       {PayMethod::kWallet, PayMethod::kAlipay, PayMethod::kWechat, PayMethod::kSandbox}) {
    auto back = parse_method(method_name(m));
    ASSERT_TRUE(back.has_value()) << method_name(m);
    EXPECT_EQ(*back, m);
  }
  EXPECT_FALSE(parse_method("paypal").has_value());
  EXPECT_FALSE(parse_method("").has_value());
  EXPECT_EQ(store::to_string(OrderKind::kTopUp), "topup");
  EXPECT_EQ(store::to_string(OrderStatus::kExpired), "expired");
}

// --- buying a document from the wallet ---------------------------------------------------

TEST_P(CommerceTest, WalletPurchaseEntitlesTheBuyer) {
  int64_t u = add_user("buyer@example.cn");
  int64_t d = add_document("a", 990);
  credit(u, 2000);

  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(o->status, OrderStatus::kCreated);
  EXPECT_EQ(o->kind, OrderKind::kDocument);
  EXPECT_EQ(o->amount, Fen(990));
  EXPECT_EQ(o->subject, "标题a");
  EXPECT_EQ(o->expires_at, clock_.now() + Options{}.order_ttl);
  EXPECT_TRUE(std::regex_match(o->out_trade_no, std::regex("P[0-9]{8}[0-9]{10}[0-9A-F]{4}")))
      << o->out_trade_no;
  EXPECT_LE(o->out_trade_no.size(), 32u);

  auto paid = commerce_->pay(u, o->id, PayMethod::kWallet);
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  EXPECT_EQ(paid->order.status, OrderStatus::kPaid);
  EXPECT_EQ(paid->order.paid_with, "wallet");
  EXPECT_EQ(paid->order.paid_at, clock_.now());
  EXPECT_EQ(balance(u), Fen(1010));

  auto v = commerce_->viewer(u, gate::Role::kReader);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(contains(v->purchased, d));
  EXPECT_FALSE(v->vip);
  EXPECT_EQ(gate::decide({d, Fen(990), std::nullopt, true}, *v), gate::Access::kPurchased);

  // Bought: a second order is refused, and paying the first again too.
  auto again = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kConflict);
  EXPECT_EQ(again.status().message(), "您已可阅读该文档");
  auto twice = commerce_->pay(u, o->id, PayMethod::kWallet);
  EXPECT_EQ(twice.status().code(), Code::kConflict);
  EXPECT_EQ(balance(u), Fen(1010));

  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);
  EXPECT_EQ(c.entries, 4);  // credit + purchase, two rows each
}

TEST_P(CommerceTest, InsufficientBalanceChangesNothing) {
  int64_t u = add_user("poor@example.cn");
  int64_t d = add_document("a", 990);
  credit(u, 500);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  auto paid = commerce_->pay(u, o->id, PayMethod::kWallet);
  ASSERT_FALSE(paid.ok());
  EXPECT_EQ(paid.status().code(), Code::kPaymentRequired);
  EXPECT_EQ(paid.status().message(), "余额不足");
  EXPECT_EQ(balance(u), Fen(500));
  auto after = commerce_->order(u, o->id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, OrderStatus::kCreated);
  auto e = commerce_->entitlements(u);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->purchased.empty());
  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);
  EXPECT_EQ(c.entries, 2);
}

TEST_P(CommerceTest, AlreadyReadableDocumentsAreNotSold) {
  int64_t reader = add_user("r@example.cn");
  int64_t publisher = add_user("p@example.cn", "editor");
  int64_t admin = add_user("a@example.cn", "admin");
  int64_t own = add_document("own", 990, true, publisher);
  int64_t free_price = add_document("free", 0);
  int64_t nothing_paid = add_document("open", 990, false);
  int64_t priced = add_document("priced", 990);

  auto expect_conflict = [&](int64_t user, gate::Role role, int64_t doc, const char* what) {
    auto o = commerce_->order_document(user, role, doc);
    ASSERT_FALSE(o.ok()) << what;
    EXPECT_EQ(o.status().code(), Code::kConflict) << what;
    EXPECT_EQ(o.status().message(), "您已可阅读该文档") << what;
  };
  expect_conflict(publisher, gate::Role::kEditor, own, "publisher");
  expect_conflict(admin, gate::Role::kAdmin, priced, "admin");
  expect_conflict(reader, gate::Role::kReader, free_price, "price zero");
  expect_conflict(reader, gate::Role::kReader, nothing_paid, "no paid text");

  // VIP reads everything.
  credit(reader, 3000);
  auto plan = commerce_->order_plan(reader, "vip30");
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(commerce_->pay(reader, plan->id, PayMethod::kWallet).ok());
  expect_conflict(reader, gate::Role::kReader, priced, "vip");

  auto missing = commerce_->order_document(reader, gate::Role::kReader, 999999);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST_P(CommerceTest, TwoOrdersForOneDocumentAreNotBothPaid) {
  int64_t u = add_user("twice@example.cn");
  int64_t d = add_document("a", 990);
  credit(u, 5000);
  auto first = commerce_->order_document(u, gate::Role::kReader, d);
  // Close to its expiry the first is no longer handed out again: a second
  // order exists while the first can still be paid.
  clock_.advance(Options{}.order_ttl - Options{}.query_before_expiry);
  auto second = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->out_trade_no, second->out_trade_no);
  ASSERT_TRUE(commerce_->pay(u, first->id, PayMethod::kWallet).ok());
  auto p = commerce_->pay(u, second->id, PayMethod::kWallet);
  EXPECT_EQ(p.status().code(), Code::kConflict);
  EXPECT_EQ(balance(u), Fen(5000 - 990));
}

TEST_P(CommerceTest, OrdersBelongToTheirUser) {
  int64_t u = add_user("u@example.cn");
  int64_t other = add_user("o@example.cn");
  int64_t d = add_document("a", 990);
  credit(other, 5000);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(commerce_->order(other, o->id).status().code(), Code::kNotFound);
  EXPECT_EQ(commerce_->pay(other, o->id, PayMethod::kWallet).status().code(), Code::kNotFound);
  EXPECT_EQ(commerce_->order(u, 424242).status().code(), Code::kNotFound);
  auto mine = commerce_->orders(u);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].id, o->id);
  auto theirs = commerce_->orders(other);
  ASSERT_TRUE(theirs.ok());
  EXPECT_TRUE(theirs->empty());
}

// --- plans -------------------------------------------------------------------------------

TEST_P(CommerceTest, PlanExtendsVipAndStacks) {
  int64_t u = add_user("vip@example.cn");
  int64_t d = add_document("a", 990);
  credit(u, 10000);
  const int64_t t0 = clock_.now();
  auto o1 = commerce_->order_plan(u, "vip30");
  ASSERT_TRUE(o1.ok()) << o1.status().to_string();
  EXPECT_EQ(o1->kind, OrderKind::kPlan);
  EXPECT_EQ(o1->plan_id, "vip30");
  EXPECT_EQ(o1->amount, Fen(3000));
  EXPECT_EQ(o1->subject, "VIP 月卡");
  ASSERT_TRUE(commerce_->pay(u, o1->id, PayMethod::kWallet).ok());
  auto e = commerce_->entitlements(u);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->vip_until, t0 + 30 * kDay);

  clock_.advance(10 * kDay);
  auto o2 = commerce_->order_plan(u, "vip30");
  ASSERT_TRUE(o2.ok());
  ASSERT_TRUE(commerce_->pay(u, o2->id, PayMethod::kWallet).ok());
  e = commerce_->entitlements(u);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->vip_until, t0 + 60 * kDay);  // stacked on the running period
  EXPECT_EQ(balance(u), Fen(4000));

  auto v = commerce_->viewer(u, gate::Role::kReader);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->vip);
  EXPECT_EQ(gate::decide({d, Fen(990), std::nullopt, true}, *v), gate::Access::kVip);

  // After it runs out the viewer is no longer VIP; a new plan starts from now.
  clock_.set(t0 + 61 * kDay);
  v = commerce_->viewer(u, gate::Role::kReader);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->vip);
  auto o3 = commerce_->order_plan(u, "vip30");
  ASSERT_TRUE(o3.ok());
  ASSERT_TRUE(commerce_->pay(u, o3->id, PayMethod::kWallet).ok());
  e = commerce_->entitlements(u);
  EXPECT_EQ(e->vip_until, t0 + 61 * kDay + 30 * kDay);

  EXPECT_EQ(commerce_->order_plan(u, "vip-forever").status().code(), Code::kNotFound);
  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);
}

// --- top-ups and notifications ----------------------------------------------------------

TEST_P(CommerceTest, TopUpThroughTheSandboxCreditsTheWallet) {
  int64_t u = add_user("topup@example.cn");
  auto o = commerce_->order_topup(u, Fen(5000));
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(o->kind, OrderKind::kTopUp);
  EXPECT_EQ(o->subject, "钱包充值");

  auto start = commerce_->pay(u, o->id, PayMethod::kSandbox);
  ASSERT_TRUE(start.ok()) << start.status().to_string();
  EXPECT_EQ(start->order.status, OrderStatus::kCreated);
  EXPECT_NE(start->start.redirect_url.find(o->out_trade_no), std::string::npos);
  EXPECT_EQ(balance(u), Fen(0));

  NotifyAnswer a = sandbox_notify(o->out_trade_no, 5000, "SBX-1");
  EXPECT_EQ(a.http_status, 200) << a.reason;
  EXPECT_EQ(a.body, "success");
  EXPECT_TRUE(a.applied) << a.reason;
  EXPECT_EQ(balance(u), Fen(5000));
  auto after = commerce_->order(u, o->id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, OrderStatus::kPaid);
  EXPECT_EQ(after->paid_with, "sandbox");
  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);
}

TEST_P(CommerceTest, DuplicateNotificationsCreditOnce) {
  int64_t u = add_user("dup@example.cn");
  auto o = commerce_->order_topup(u, Fen(1234));
  ASSERT_TRUE(o.ok());
  int applied = 0;
  for (int i = 0; i < 5; ++i) {
    NotifyAnswer a = sandbox_notify(o->out_trade_no, 1234, "SBX-DUP");
    EXPECT_EQ(a.http_status, 200) << a.reason;
    EXPECT_EQ(a.body, "success") << a.reason;
    if (a.applied) ++applied;
  }
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(balance(u), Fen(1234));
  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);
  EXPECT_EQ(c.entries, 2);
}

TEST_P(CommerceTest, ProviderPaidDocumentEntitles) {
  int64_t u = add_user("ali@example.cn");
  int64_t d = add_document("a", 990);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kSandbox).ok());
  NotifyAnswer a = sandbox_notify(o->out_trade_no, 990, "SBX-DOC");
  EXPECT_TRUE(a.applied) << a.reason;
  auto e = commerce_->entitlements(u);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(contains(e->purchased, d));
  EXPECT_EQ(balance(u), Fen(0));  // paid by the provider, not the wallet
  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);
}

// The sandbox's refund "to the original method" succeeds at once: the order
// is refunded, access revoked, and the money leaves through the sandbox.
TEST_P(CommerceTest, SandboxRefundsToTheOriginalMethodSucceedAtOnce) {
  int64_t u = add_user("sbx-refund@example.cn");
  int64_t d = add_document("a", 990);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kSandbox).ok());
  ASSERT_TRUE(sandbox_notify(o->out_trade_no, 990, "SBX-REF").applied);
  EXPECT_TRUE(commerce_->can_refund("sandbox"));
  EXPECT_FALSE(commerce_->can_refund("nonesuch"));

  ASSERT_TRUE(commerce_->refund(o->id, /*to_wallet=*/false, "to the original method").is_ok());
  EXPECT_EQ(commerce_->order(u, o->id)->status, OrderStatus::kRefunded);
  EXPECT_FALSE(contains(commerce_->entitlements(u)->purchased, d));
  auto refunds = commerce_->refunds(o->id);
  ASSERT_TRUE(refunds.ok());
  ASSERT_EQ(refunds->size(), 1u);
  EXPECT_EQ((*refunds)[0].state, RefundState::kSucceeded);
  EXPECT_EQ((*refunds)[0].amount, Fen(990));
  EXPECT_EQ((*refunds)[0].refund_id, "SBXR" + (*refunds)[0].out_refund_no);
  EXPECT_EQ(balance(u), Fen(0));
  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);
}

TEST_P(CommerceTest, UnknownOrderWrongAmountAndForgeriesAreRefusedWithoutEffect) {
  int64_t u = add_user("refuse@example.cn");
  auto o = commerce_->order_topup(u, Fen(1000));
  ASSERT_TRUE(o.ok());

  NotifyAnswer unknown = sandbox_notify("P2026010100000099990000", 1000, "SBX-X");
  EXPECT_EQ(unknown.http_status, 400);
  EXPECT_EQ(unknown.body, "failure");
  EXPECT_FALSE(unknown.applied);
  EXPECT_FALSE(unknown.reason.empty());

  NotifyAnswer wrong = sandbox_notify(o->out_trade_no, 1, "SBX-W");
  EXPECT_EQ(wrong.http_status, 400);
  EXPECT_EQ(wrong.body, "failure");
  EXPECT_FALSE(wrong.applied);

  RawNotification forged =
      sandbox_notification({"not-the-secret", ""}, o->out_trade_no, Fen(1000), "SBX-F");
  NotifyAnswer f = commerce_->notify("sandbox", forged);
  EXPECT_EQ(f.http_status, 400);
  EXPECT_FALSE(f.applied);

  RawNotification tampered =
      sandbox_notification({kSandboxSecret, ""}, o->out_trade_no, Fen(1000), "SBX-T");
  tampered.body.replace(tampered.body.find("1000"), 4, "9000");
  EXPECT_EQ(commerce_->notify("sandbox", tampered).http_status, 400);

  NotifyAnswer nobody = commerce_->notify("paypal", {});
  EXPECT_EQ(nobody.http_status, 404);
  EXPECT_FALSE(nobody.applied);

  EXPECT_EQ(balance(u), Fen(0));
  auto still = commerce_->order(u, o->id);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->status, OrderStatus::kCreated);
  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);
  EXPECT_EQ(c.entries, 0);

  // A refusal is not recorded: the correct delivery of the same transaction
  // id still applies.
  NotifyAnswer right = sandbox_notify(o->out_trade_no, 1000, "SBX-W");
  EXPECT_TRUE(right.applied) << right.reason;
  EXPECT_EQ(balance(u), Fen(1000));
}

TEST_P(CommerceTest, NonPaymentNotificationIsAcknowledgedWithoutEffect) {
  int64_t u = add_user("wait@example.cn");
  auto o = commerce_->order_topup(u, Fen(1000));
  ASSERT_TRUE(o.ok());
  RawNotification raw{{}, o->out_trade_no + "|1000|ALI-1|waiting"};
  NotifyAnswer a = commerce_->notify("alipay", raw);
  EXPECT_EQ(a.http_status, 200);
  EXPECT_EQ(a.body, "OK");
  EXPECT_FALSE(a.applied);
  EXPECT_EQ(balance(u), Fen(0));
  // The paid one later applies.
  NotifyAnswer paid = commerce_->notify("alipay", {{}, o->out_trade_no + "|1000|ALI-1|paid"});
  EXPECT_TRUE(paid.applied) << paid.reason;
  EXPECT_EQ(balance(u), Fen(1000));
}

TEST_P(CommerceTest, ExpiredOrderLateNotificationCreditsTheWallet) {
  Options options;
  options.order_ttl = 60;
  open_commerce(options);
  int64_t u = add_user("late@example.cn");
  int64_t d = add_document("a", 990);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kSandbox).ok());

  clock_.advance(61);
  // Past its expiry the order cannot be paid, even before the sweep.
  EXPECT_EQ(commerce_->pay(u, o->id, PayMethod::kSandbox).status().code(), Code::kConflict);
  auto n = commerce_->expire_orders();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  auto expired = commerce_->order(u, o->id);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->status, OrderStatus::kExpired);

  NotifyAnswer a = sandbox_notify(o->out_trade_no, 990, "SBX-LATE");
  EXPECT_EQ(a.http_status, 200) << a.reason;
  EXPECT_EQ(a.body, "success");
  EXPECT_TRUE(a.applied);
  EXPECT_EQ(balance(u), Fen(990));
  auto after = commerce_->order(u, o->id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, OrderStatus::kExpired);
  auto e = commerce_->entitlements(u);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(contains(e->purchased, d));
  // Redelivered: still once.
  EXPECT_FALSE(sandbox_notify(o->out_trade_no, 990, "SBX-LATE").applied);
  EXPECT_EQ(balance(u), Fen(990));

  // The buyer can now buy it from the wallet.
  auto again = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(commerce_->pay(u, again->id, PayMethod::kWallet).ok());
  EXPECT_EQ(balance(u), Fen(0));
  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);
}

TEST_P(CommerceTest, UnsweptStaleOrderIsTreatedAsExpiredByALateNotification) {
  Options options;
  options.order_ttl = 60;
  open_commerce(options);
  int64_t u = add_user("stale@example.cn");
  auto o = commerce_->order_plan(u, "vip30");
  ASSERT_TRUE(o.ok());
  clock_.advance(120);
  NotifyAnswer a = sandbox_notify(o->out_trade_no, 3000, "SBX-STALE");
  EXPECT_TRUE(a.applied) << a.reason;
  auto after = commerce_->order(u, o->id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, OrderStatus::kExpired);
  EXPECT_EQ(balance(u), Fen(3000));
  auto e = commerce_->entitlements(u);
  EXPECT_EQ(e->vip_until, 0);
}

TEST_P(CommerceTest, SecondProviderPaymentOfAPaidOrderGoesToTheWallet) {
  int64_t u = add_user("paid-twice@example.cn");
  int64_t d = add_document("a", 990);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(sandbox_notify(o->out_trade_no, 990, "SBX-1").applied);
  NotifyAnswer second = commerce_->notify("alipay", {{}, o->out_trade_no + "|990|ALI-9|paid"});
  EXPECT_TRUE(second.applied) << second.reason;
  EXPECT_EQ(balance(u), Fen(990));
  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);
}

// --- pay() dispatch --------------------------------------------------------------------

TEST_P(CommerceTest, ProviderStartGetsNotifyAndReturnUrls) {
  int64_t u = add_user("urls@example.cn");
  int64_t d = add_document("a", 990);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  auto r = commerce_->pay(u, o->id, PayMethod::kAlipay);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->start.redirect_url, "https://pay.example/" + o->out_trade_no);
  ASSERT_EQ(recording_->started.size(), 1u);
  const PaymentOrder& po = recording_->started[0];
  EXPECT_EQ(po.out_trade_no, o->out_trade_no);
  EXPECT_EQ(po.amount, Fen(990));
  EXPECT_EQ(po.subject, "标题a");
  EXPECT_EQ(po.notify_url, "https://shop.example/api/v1/payments/alipay/notify");
  EXPECT_EQ(po.return_url, "https://shop.example/orders/" + std::to_string(o->id));

  // No WeChat provider configured: refused.
  auto w = commerce_->pay(u, o->id, PayMethod::kWechat);
  EXPECT_EQ(w.status().code(), Code::kInvalidArgument);
}

TEST_P(CommerceTest, TopUpRules) {
  int64_t u = add_user("rules@example.cn");
  EXPECT_EQ(commerce_->order_topup(u, Fen(0)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(commerce_->order_topup(u, Fen(-5)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(commerce_->order_topup(u, Fen(500001)).status().code(), Code::kInvalidArgument);
  auto max = commerce_->order_topup(u, Fen(500000));
  ASSERT_TRUE(max.ok());
  credit(u, 1000000);
  auto w = commerce_->pay(u, max->id, PayMethod::kWallet);
  EXPECT_EQ(w.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(balance(u), Fen(1000000));
}

// --- refunds ------------------------------------------------------------------------------

TEST_P(CommerceTest, RefundToWalletRevokesThePurchase) {
  int64_t u = add_user("refund@example.cn");
  int64_t d = add_document("a", 990);
  credit(u, 990);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kWallet).ok());
  EXPECT_EQ(balance(u), Fen(0));

  clock_.advance(3600);
  Status s = commerce_->refund(o->id, true, "文档有误");
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(balance(u), Fen(990));
  auto after = commerce_->order(u, o->id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, OrderStatus::kRefunded);
  EXPECT_EQ(after->refunded_at, clock_.now());
  auto v = commerce_->viewer(u, gate::Role::kReader);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(contains(v->purchased, d));
  EXPECT_EQ(gate::decide({d, Fen(990), std::nullopt, true}, *v), gate::Access::kNone);

  EXPECT_EQ(commerce_->refund(o->id, true, "again").code(), Code::kConflict);
  EXPECT_EQ(commerce_->refund(123456, true, "none").code(), Code::kNotFound);
  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);

  // It can be bought again.
  auto again = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
}

TEST_P(CommerceTest, RefundRules) {
  int64_t u = add_user("rr@example.cn");
  int64_t d = add_document("a", 990);
  // A provider-paid document refunded through the provider: no wallet
  // change, the purchase is revoked, the ledger owes the provider refund.
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(sandbox_notify(o->out_trade_no, 990, "SBX-R1").applied);
  ASSERT_TRUE(commerce_->refund(o->id, false, "原路退回").is_ok());
  EXPECT_EQ(balance(u), Fen(0));
  EXPECT_TRUE(commerce_->entitlements(u)->purchased.empty());

  // A wallet-paid order goes back to the wallet only.
  credit(u, 990);
  auto w = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(commerce_->pay(u, w->id, PayMethod::kWallet).ok());
  EXPECT_EQ(commerce_->refund(w->id, false, "x").code(), Code::kInvalidArgument);

  // An unpaid order has nothing to refund.
  auto unpaid = commerce_->order_topup(u, Fen(100));
  ASSERT_TRUE(unpaid.ok());
  EXPECT_EQ(commerce_->refund(unpaid->id, true, "x").code(), Code::kConflict);

  // A top-up: only to the provider, and only while the wallet holds it.
  auto t = commerce_->order_topup(u, Fen(700));
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(sandbox_notify(t->out_trade_no, 700, "SBX-T1").applied);
  EXPECT_EQ(commerce_->refund(t->id, true, "x").code(), Code::kInvalidArgument);
  ASSERT_TRUE(commerce_->refund(t->id, false, "退回充值").is_ok());
  EXPECT_EQ(balance(u), Fen(0));

  auto t2 = commerce_->order_topup(u, Fen(500));
  ASSERT_TRUE(t2.ok());
  ASSERT_TRUE(sandbox_notify(t2->out_trade_no, 500, "SBX-T2").applied);
  auto d2 = add_document("b", 400);
  auto spend = commerce_->order_document(u, gate::Role::kReader, d2);
  ASSERT_TRUE(spend.ok());
  ASSERT_TRUE(commerce_->pay(u, spend->id, PayMethod::kWallet).ok());
  EXPECT_EQ(commerce_->refund(t2->id, false, "spent").code(), Code::kPaymentRequired);
  EXPECT_EQ(balance(u), Fen(100));

  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);
}

TEST_P(CommerceTest, RefundOfAPlanTakesItsDaysBack) {
  int64_t u = add_user("planrefund@example.cn");
  credit(u, 6000);
  const int64_t t0 = clock_.now();
  auto a = commerce_->order_plan(u, "vip30");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(commerce_->pay(u, a->id, PayMethod::kWallet).ok());
  auto b = commerce_->order_plan(u, "vip30");  // a is paid: a new order
  ASSERT_TRUE(b.ok());
  ASSERT_NE(a->id, b->id);
  ASSERT_TRUE(commerce_->pay(u, b->id, PayMethod::kWallet).ok());
  EXPECT_EQ(commerce_->entitlements(u)->vip_until, t0 + 60 * kDay);
  ASSERT_TRUE(commerce_->refund(b->id, true, "").is_ok());
  EXPECT_EQ(commerce_->entitlements(u)->vip_until, t0 + 30 * kDay);
  EXPECT_EQ(balance(u), Fen(3000));
  LedgerCheck c = verify();
  EXPECT_TRUE(c.ok) << joined(c.problems);
}

TEST_P(CommerceTest, CreditRules) {
  int64_t u = add_user("credit@example.cn");
  EXPECT_EQ(commerce_->credit(u, Fen(0), "x", "op").code(), Code::kInvalidArgument);
  EXPECT_EQ(commerce_->credit(u, Fen(-1), "x", "op").code(), Code::kInvalidArgument);
  EXPECT_EQ(commerce_->credit(999999, Fen(100), "x", "op").code(), Code::kNotFound);
  credit(u, 100);
  credit(u, 250);
  EXPECT_EQ(balance(u), Fen(350));
  EXPECT_EQ(balance(999999), Fen(0));
}

// --- verification -----------------------------------------------------------------------

TEST_P(CommerceTest, VerifyDetectsATamperedWalletBalance) {
  int64_t u = add_user("tamper@example.cn");
  credit(u, 1000);
  ASSERT_TRUE(verify().ok);
  raw_sql("UPDATE wallets SET balance_fen = 100000 WHERE user_id = " + std::to_string(u));
  LedgerCheck c = verify();
  EXPECT_FALSE(c.ok);
  ASSERT_EQ(c.problems.size(), 1u) << joined(c.problems);
  EXPECT_NE(c.problems[0].find("wallet of user " + std::to_string(u)), std::string::npos)
      << c.problems[0];
  EXPECT_NE(c.problems[0].find("100000"), std::string::npos) << c.problems[0];
}

TEST_P(CommerceTest, VerifyDetectsTamperedLedgerRows) {
  int64_t u = add_user("rows@example.cn");
  int64_t d = add_document("a", 990);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(sandbox_notify(o->out_trade_no, 990, "SBX-V").applied);
  ASSERT_TRUE(verify().ok);

  // Someone makes the sale cheaper: the txn no longer balances and the
  // order's payment is short.
  raw_sql("UPDATE ledger_entries SET amount_fen = 1 WHERE account = 'sales'");
  LedgerCheck c = verify();
  EXPECT_FALSE(c.ok);
  std::string all = joined(c.problems);
  EXPECT_NE(all.find("does not balance"), std::string::npos) << all;
  EXPECT_NE(all.find("order " + std::to_string(o->id)), std::string::npos) << all;

  // Someone deletes the notification record: the provider money is
  // unexplained.
  raw_sql("UPDATE ledger_entries SET amount_fen = 990 WHERE account = 'sales'");
  ASSERT_TRUE(verify().ok);
  raw_sql("DELETE FROM payment_notifications");
  c = verify();
  EXPECT_FALSE(c.ok);
  EXPECT_NE(joined(c.problems).find("without a recorded payment notification"), std::string::npos)
      << joined(c.problems);
}

TEST_P(CommerceTest, VerifyDetectsAnOrderMarkedPaidWithoutMoney) {
  int64_t u = add_user("free-lunch@example.cn");
  int64_t d = add_document("a", 990);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  raw_sql("UPDATE orders SET status = 'paid', paid_with = 'wallet', paid_at = 1 WHERE id = " +
          std::to_string(o->id));
  LedgerCheck c = verify();
  EXPECT_FALSE(c.ok);
  ASSERT_EQ(c.problems.size(), 1u) << joined(c.problems);
  EXPECT_NE(c.problems[0].find("order " + std::to_string(o->id)), std::string::npos);
}

// --- export ------------------------------------------------------------------------------

TEST_P(CommerceTest, ExportOrdersCsv) {
  int64_t u = add_user("csv@example.cn");
  int64_t d = add_document("quoted", 990);
  credit(u, 990);
  const int64_t t0 = clock_.now();
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kWallet).ok());
  auto t = commerce_->order_topup(u, Fen(100));
  ASSERT_TRUE(t.ok());

  auto csv = commerce_->export_orders_csv(t0, t0 + 1);
  ASSERT_TRUE(csv.ok()) << csv.status().to_string();
  const std::string header =
      "id,out_trade_no,user_id,kind,subject,amount_fen,status,paid_with,created_at,paid_at,"
      "refunded_at\r\n";
  ASSERT_EQ(csv->substr(0, header.size()), header);
  std::string expect_first = std::to_string(o->id) + "," + o->out_trade_no + "," +
                             std::to_string(u) + ",document,标题quoted,990,paid,wallet,";
  EXPECT_NE(csv->find(expect_first), std::string::npos) << *csv;
  EXPECT_NE(csv->find(",topup,钱包充值,100,created,,"), std::string::npos) << *csv;
  // 3 lines: header + 2 orders; ISO-8601 UTC times.
  EXPECT_EQ(std::count(csv->begin(), csv->end(), '\n'), 3);
  EXPECT_TRUE(std::regex_search(
      *csv, std::regex(",20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z,")));

  auto empty = commerce_->export_orders_csv(t0 + 1, t0 + 100);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, header);
}

TEST_P(CommerceTest, ExportQuotesAndDefusesSubjects) {
  int64_t u = add_user("csvq@example.cn");
  store::NewDocument n;
  n.source_path = "/library/odd.txt";
  n.source_sha256 = std::string(64, 'e');
  n.parsed = paid_document("=HYPERLINK(\"x\"), 附件");
  n.source_text = n.parsed.title;
  n.price = Fen(500);
  auto put = store_->put_document(n, clock_.now());
  ASSERT_TRUE(put.ok());
  auto o = commerce_->order_document(u, gate::Role::kReader, put->id);
  ASSERT_TRUE(o.ok());
  auto csv = commerce_->export_orders_csv(0, clock_.now() + 1);
  ASSERT_TRUE(csv.ok());
  EXPECT_NE(csv->find(",\"'=HYPERLINK(\"\"x\"\"), 附件\",500,"), std::string::npos) << *csv;
}

// --- gateways as they behave: double payments, refunds, the sweep ------------------------

class GatewayTest : public CommerceFixture {
 protected:
  void SetUp() override {
    open_database();
    if (!IsSkipped()) open_commerce(Options{}, true);
  }

  NotifyAnswer pay_at_gateway(const Order& o, const std::string& txn) {
    return commerce_->notify("wechat",
                             FakeProvider::payment(o.out_trade_no, o.amount.value(), txn));
  }

  // A document order started at the gateway and paid there (notification
  // delivered).
  Order paid_order(int64_t u, int64_t d, const std::string& txn) {
    auto o = commerce_->order_document(u, gate::Role::kReader, d);
    EXPECT_TRUE(o.ok()) << o.status().to_string();
    if (!o.ok()) return {};
    EXPECT_TRUE(commerce_->pay(u, o->id, PayMethod::kWechat).ok());
    NotifyAnswer a = pay_at_gateway(*o, txn);
    EXPECT_TRUE(a.applied) << a.reason;
    return *commerce_->order(u, o->id);
  }

  static TradeReport paid_trade(const std::string& txn, int64_t fen) {
    TradeReport t;
    t.exists = true;
    t.paid = true;
    t.state = "SUCCESS";
    t.transaction_id = txn;
    t.amount = Fen(fen);
    return t;
  }

  void expect_ledger_ok() {
    LedgerCheck c = verify();
    EXPECT_TRUE(c.ok) << joined(c.problems);
  }
};

TEST_P(GatewayTest, SecondPaymentForAnOwnedDocumentGoesToTheWallet) {
  int64_t u = add_user("twotabs@example.cn");
  int64_t d = add_document("a", 990);
  // Two orders for one document, both started before either is paid (the
  // first near its expiry, so the second tab got an order of its own).
  auto first = commerce_->order_document(u, gate::Role::kReader, d);
  clock_.advance(Options{}.order_ttl - Options{}.query_before_expiry);
  auto second = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_NE(first->id, second->id);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(commerce_->pay(u, first->id, PayMethod::kWechat).ok());
  ASSERT_TRUE(commerce_->pay(u, second->id, PayMethod::kWechat).ok());

  NotifyAnswer a = pay_at_gateway(*first, "WX-1");
  ASSERT_EQ(a.http_status, 200);
  ASSERT_TRUE(a.applied) << a.reason;
  NotifyAnswer b = pay_at_gateway(*second, "WX-2");
  ASSERT_EQ(b.http_status, 200);
  ASSERT_TRUE(b.applied) << b.reason;
  EXPECT_EQ(b.body, "OK");

  auto o1 = commerce_->order(u, first->id);
  auto o2 = commerce_->order(u, second->id);
  EXPECT_EQ(o1->status, OrderStatus::kPaid);
  EXPECT_EQ(o1->credited, Fen(0));
  EXPECT_EQ(o2->status, OrderStatus::kCredited);
  EXPECT_EQ(o2->credited, Fen(990));
  EXPECT_EQ(o2->paid_with, "wechat");
  EXPECT_EQ(balance(u), Fen(990));
  EXPECT_EQ(commerce_->entitlements(u)->purchased, std::vector<int64_t>{d});
  expect_ledger_ok();

  // The second payment redelivered: nothing more.
  NotifyAnswer again = pay_at_gateway(*second, "WX-2");
  EXPECT_EQ(again.http_status, 200);
  EXPECT_FALSE(again.applied);
  EXPECT_EQ(balance(u), Fen(990));
  expect_ledger_ok();
}

// What an operator reads in the log: each applied payment and refund with
// order number, amount in yuan and the provider's transaction id, whether
// a notification or the sweep applied it.
TEST_P(GatewayTest, AppliedPaymentsAndRefundsAreLogged) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  auto logger = spdlog::default_logger();
  logger->sinks().push_back(sink);
  const auto old_level = logger->level();
  logger->set_level(spdlog::level::info);
  auto lines = [&] {
    std::string all;
    for (const auto& l : sink->last_formatted()) all += l;
    return all;
  };

  int64_t u = add_user("logged@example.cn");
  Order o = paid_order(u, add_document("a", 990), "WX-LOG-1");
  auto o2 = commerce_->order_topup(u, Fen(1250));
  ASSERT_TRUE(o2.ok());
  ASSERT_TRUE(commerce_->pay(u, o2->id, PayMethod::kWechat).ok());
  gateway_->set_trade(o2->out_trade_no, paid_trade("WX-LOG-2", 1250));
  clock_.advance(Options{}.order_ttl - 60);
  ASSERT_TRUE(commerce_->sweep().ok());
  ASSERT_TRUE(commerce_->refund(o.id, false, "").is_ok());
  const std::string no = commerce_->refunds(o.id)->at(0).out_refund_no;
  ASSERT_TRUE(commerce_
                  ->notify("wechat", FakeProvider::refund_notice(o.out_trade_no, "WX-LOG-1", 990,
                                                                 "RID-LOG", no, 990, 0,
                                                                 RefundState::kSucceeded))
                  .applied);

  logger->sinks().pop_back();
  logger->set_level(old_level);
  const std::string all = lines();
  EXPECT_NE(all.find("payment applied (notification): order " + o.out_trade_no +
                     " paid, 9.90 yuan, wechat transaction WX-LOG-1"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("payment applied (query): order " + o2->out_trade_no +
                     " paid, 12.50 yuan, wechat transaction WX-LOG-2"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("refund succeeded (notification): order " + o.out_trade_no +
                     ", 9.90 yuan, wechat transaction WX-LOG-1, refund " + no),
            std::string::npos)
      << all;
}

TEST_P(GatewayTest, LatePaymentSaysHowMuchWentToTheWallet) {
  int64_t u = add_user("late@example.cn");
  int64_t d = add_document("a", 500);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  clock_.advance(Options{}.order_ttl + 1);
  ASSERT_TRUE(pay_at_gateway(*o, "WX-LATE").applied);
  auto after = commerce_->order(u, o->id);
  EXPECT_EQ(after->status, OrderStatus::kExpired);
  EXPECT_EQ(after->credited, Fen(500));
  EXPECT_EQ(balance(u), Fen(500));
  expect_ledger_ok();
}

TEST_P(GatewayTest, DoublePurchaseIsFlaggedByVerify) {
  int64_t u = add_user("forged@example.cn");
  int64_t d1 = add_document("a", 300);
  int64_t d2 = add_document("b", 300);
  Order a = paid_order(u, d1, "WX-A");
  Order b = paid_order(u, d2, "WX-B");
  expect_ledger_ok();
  // Both orders now name one document, as if the second payment had been
  // sold again instead of credited.
  const std::string tamper = "UPDATE orders SET document_id = " + std::to_string(d1) +
                             " WHERE id = " + std::to_string(b.id);
  if (std::string(GetParam()) == "postgresql") {
    // PostgreSQL refuses the row outright (the unique index of migration
    // 4); verify must still catch it in a database without that index.
    EXPECT_NE(testing_support::exec_sql(db_->url(), tamper), "");
    raw_sql("DROP INDEX orders_one_purchase");
  }
  raw_sql(tamper);
  LedgerCheck c = verify();
  EXPECT_FALSE(c.ok);
  ASSERT_EQ(c.problems.size(), 1u) << joined(c.problems);
  EXPECT_NE(c.problems[0].find("user " + std::to_string(u) + " holds 2 paid orders for document " +
                               std::to_string(d1)),
            std::string::npos)
      << c.problems[0];
  EXPECT_NE(c.problems[0].find(std::to_string(a.id)), std::string::npos) << c.problems[0];
}

// On PostgreSQL a wallet purchase runs READ COMMITTED under row locks and
// a gateway notification SERIALIZABLE; neither sees the other as a
// conflict, so without the unique index of migration 4 both could sell
// the document. Whichever commits first sells it; the other finds it sold:
// the wallet purchase is refused, or the gateway's money goes to the
// wallet.
TEST_P(GatewayTest, WalletPurchaseAndGatewayPaymentOfOneDocumentAtOnceSellItOnce) {
  int64_t u = add_user("bothways@example.cn");
  constexpr int kRounds = 12;
  credit(u, 300 * kRounds);
  std::vector<int64_t> docs;
  std::vector<Order> started;
  for (int i = 0; i < kRounds; ++i) {
    docs.push_back(add_document("race " + std::to_string(i), 300));
    auto o = commerce_->order_document(u, gate::Role::kReader, docs.back());
    ASSERT_TRUE(o.ok());
    ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kWechat).ok());
    started.push_back(*o);
  }
  int sold_by_wallet = 0;
  int refused = 0;
  int credited = 0;
  for (int i = 0; i < kRounds; ++i) {
    Result<Order> bought = Status::internal("not run");
    NotifyAnswer a;
    std::thread wallet([&] { bought = commerce_->buy_document_with_wallet(u, gate::Role::kReader, docs[i]); });
    std::thread gateway([&] { a = pay_at_gateway(started[i], "WX-BOTH-" + std::to_string(i)); });
    wallet.join();
    gateway.join();
    ASSERT_EQ(a.http_status, 200) << a.reason;
    ASSERT_TRUE(a.applied) << a.reason;
    auto o = commerce_->order(u, started[i].id);
    ASSERT_TRUE(o.ok());
    if (bought.ok()) {
      ++sold_by_wallet;
      EXPECT_EQ(o->status, OrderStatus::kCredited) << "round " << i;
      ++credited;
    } else {
      EXPECT_EQ(bought.status().code(), Code::kConflict) << bought.status().message();
      EXPECT_EQ(o->status, OrderStatus::kPaid) << "round " << i;
      ++refused;
    }
  }
  EXPECT_EQ(sold_by_wallet + refused, kRounds);
  // Every document sold once: the wallet paid for the ones it bought and
  // got back the gateway's payment for each of those.
  EXPECT_EQ(commerce_->entitlements(u)->purchased.size(), static_cast<size_t>(kRounds));
  EXPECT_EQ(balance(u), Fen(300 * kRounds - 300 * sold_by_wallet + 300 * credited));
  expect_ledger_ok();
}

TEST_P(GatewayTest, RefundToTheOriginalMethodCallsTheGatewayAndSettlesOnce) {
  int64_t u = add_user("refundapi@example.cn");
  int64_t d = add_document("a", 990);
  Order o = paid_order(u, d, "WX-R1");
  ASSERT_EQ(o.status, OrderStatus::kPaid);

  ASSERT_TRUE(commerce_->refund(o.id, false, "原路退回").is_ok());
  auto asked = gateway_->refunds_asked();
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].out_trade_no, o.out_trade_no);
  EXPECT_EQ(asked[0].transaction_id, "WX-R1");
  EXPECT_EQ(asked[0].amount, Fen(990));
  EXPECT_EQ(asked[0].total, Fen(990));
  EXPECT_EQ(asked[0].reason, "原路退回");
  EXPECT_EQ(asked[0].notify_url, "https://shop.example/api/v1/payments/wechat/notify");
  EXPECT_TRUE(std::regex_match(asked[0].out_refund_no, std::regex("R[0-9]{8}[0-9]{10}[0-9A-F]{4}")))
      << asked[0].out_refund_no;

  // Refunded here at once; the money is owed until the gateway confirms.
  EXPECT_EQ(commerce_->order(u, o.id)->status, OrderStatus::kRefunded);
  EXPECT_TRUE(commerce_->entitlements(u)->purchased.empty());
  auto rs = commerce_->refunds(o.id);
  ASSERT_TRUE(rs.ok());
  ASSERT_EQ(rs->size(), 1u);
  EXPECT_EQ((*rs)[0].state, RefundState::kPending);
  EXPECT_EQ((*rs)[0].out_refund_no, asked[0].out_refund_no);
  EXPECT_EQ((*rs)[0].refund_id, "RID-" + asked[0].out_refund_no);
  EXPECT_EQ((*rs)[0].amount, Fen(990));
  EXPECT_FALSE((*rs)[0].from_gateway);
  expect_ledger_ok();

  RawNotification done =
      FakeProvider::refund_notice(o.out_trade_no, "WX-R1", 990, "RID-" + asked[0].out_refund_no,
                                  asked[0].out_refund_no, 990, 0, RefundState::kSucceeded);
  // The gateway's REFUND.SUCCESS, delivered eight times at once.
  constexpr int kDeliveries = 8;
  std::atomic<int> applied{0}, ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kDeliveries; ++i) {
    threads.emplace_back([&] {
      NotifyAnswer a = commerce_->notify("wechat", done);
      if (a.http_status == 200 && a.body == "OK") ++ok;
      if (a.applied) ++applied;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kDeliveries);
  EXPECT_EQ(applied.load(), 1);
  NotifyAnswer later = commerce_->notify("wechat", done);
  EXPECT_EQ(later.http_status, 200);
  EXPECT_FALSE(later.applied) << later.reason;
  rs = commerce_->refunds(o.id);
  EXPECT_EQ((*rs)[0].state, RefundState::kSucceeded);
  EXPECT_EQ(balance(u), Fen(0));
  expect_ledger_ok();
  // Nothing left to follow up.
  auto sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(sw->refunds_checked, 0);
  EXPECT_EQ(gateway_->refunds_asked().size(), 1u);
}

TEST_P(GatewayTest, VerifyCatchesARefundThatDoesNotMatchItsLedger) {
  int64_t u = add_user("tamperrefund@example.cn");
  Order o = paid_order(u, add_document("a", 990), "WX-V1");
  ASSERT_TRUE(commerce_->refund(o.id, false, "").is_ok());
  expect_ledger_ok();
  const std::string no = commerce_->refunds(o.id)->at(0).out_refund_no;
  raw_sql("UPDATE refunds SET amount_fen = 900");
  LedgerCheck c = verify();
  EXPECT_FALSE(c.ok);
  const std::string all = joined(c.problems);
  EXPECT_NE(all.find("refund " + no), std::string::npos) << all;
  EXPECT_NE(all.find("refunds_due:wechat holds 990 fen but its pending and failed refunds add up "
                     "to 900 fen"),
            std::string::npos)
      << all;
}

TEST_P(GatewayTest, RefundRefusedByTheGatewayStaysOwedWithItsMessage) {
  int64_t u = add_user("refused@example.cn");
  int64_t d = add_document("a", 700);
  Order o = paid_order(u, d, "WX-F1");
  gateway_->set_refund_answer([](const RefundRequest&) -> Result<RefundReport> {
    return Status::invalid("NOT_ENOUGH: 基本账户余额不足");
  });
  ASSERT_TRUE(commerce_->refund(o.id, false, "").is_ok());
  auto rs = commerce_->refunds(o.id);
  ASSERT_EQ(rs->size(), 1u);
  EXPECT_EQ((*rs)[0].state, RefundState::kFailed);
  EXPECT_NE((*rs)[0].message.find("基本账户余额不足"), std::string::npos) << (*rs)[0].message;
  EXPECT_EQ(commerce_->order(u, o.id)->status, OrderStatus::kRefunded);
  expect_ledger_ok();
  // A failed refund is not sent again by the sweep.
  ASSERT_TRUE(commerce_->sweep().ok());
  EXPECT_EQ(gateway_->refunds_asked().size(), 1u);
}

TEST_P(GatewayTest, RefundWithoutAnAnswerIsSentAgainWithTheSameNumber) {
  int64_t u = add_user("noanswer@example.cn");
  int64_t d = add_document("a", 990);
  Order o = paid_order(u, d, "WX-N1");
  gateway_->set_refund_answer(
      [](const RefundRequest&) -> Result<RefundReport> { return Status::unavailable("timeout"); });
  ASSERT_TRUE(commerce_->refund(o.id, false, "").is_ok());
  ASSERT_EQ(commerce_->refunds(o.id)->at(0).state, RefundState::kPending);

  // Still no answer: pending, and the sweep reports it.
  auto sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(sw->refunds_checked, 1);
  ASSERT_EQ(sw->problems.size(), 1u);
  EXPECT_NE(sw->problems[0].find("timeout"), std::string::npos) << sw->problems[0];
  ASSERT_EQ(gateway_->refunds_asked().size(), 2u);  // the query said kNotFound: sent again

  // The gateway answers now: succeeded.
  gateway_->set_refund_answer([](const RefundRequest& r) -> Result<RefundReport> {
    RefundReport rep;
    rep.refund_id = "RID-OK";
    rep.out_refund_no = r.out_refund_no;
    rep.amount = r.amount;
    rep.state = RefundState::kSucceeded;
    return rep;
  });
  sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_TRUE(sw->problems.empty());
  auto asked = gateway_->refunds_asked();
  ASSERT_EQ(asked.size(), 3u);
  EXPECT_EQ(asked[0].out_refund_no, asked[2].out_refund_no);
  auto r = commerce_->refunds(o.id)->at(0);
  EXPECT_EQ(r.state, RefundState::kSucceeded);
  EXPECT_EQ(r.refund_id, "RID-OK");
  expect_ledger_ok();

  // A pending refund the gateway knows is asked about, not sent again.
  Order o2 = paid_order(u, add_document("b", 300), "WX-N2");
  gateway_->set_refund_answer(nullptr);
  ASSERT_TRUE(commerce_->refund(o2.id, false, "").is_ok());
  gateway_->set_refund_query([](const std::string& no) -> Result<RefundReport> {
    RefundReport rep;
    rep.refund_id = "RID-" + no;
    rep.out_refund_no = no;
    rep.amount = Fen(300);
    rep.state = RefundState::kSucceeded;
    return rep;
  });
  sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(gateway_->refunds_asked().size(), 4u);  // only the first request of o2
  EXPECT_EQ(commerce_->refunds(o2.id)->at(0).state, RefundState::kSucceeded);
  expect_ledger_ok();
}

TEST_P(GatewayTest, RefundMadeAtTheGatewayRevokesOnceEvenWhenRepeatedConcurrently) {
  int64_t u = add_user("console@example.cn");
  int64_t d = add_document("a", 990);
  Order o = paid_order(u, d, "WX-C1");
  RawNotification n = FakeProvider::refund_notice(o.out_trade_no, "WX-C1", 990, "GW-REFUND-1", "",
                                                  990, 0, RefundState::kSucceeded);
  constexpr int kThreads = 8;
  std::atomic<int> applied{0}, ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      NotifyAnswer a = commerce_->notify("wechat", n);
      if (a.http_status == 200) ++ok;
      if (a.applied) ++applied;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads);
  EXPECT_EQ(applied.load(), 1);
  auto after = commerce_->order(u, o.id);
  EXPECT_EQ(after->status, OrderStatus::kRefunded);
  EXPECT_TRUE(commerce_->entitlements(u)->purchased.empty());
  auto rs = commerce_->refunds(o.id);
  ASSERT_EQ(rs->size(), 1u);
  EXPECT_TRUE((*rs)[0].from_gateway);
  EXPECT_EQ((*rs)[0].state, RefundState::kSucceeded);
  EXPECT_EQ((*rs)[0].refund_id, "GW-REFUND-1");
  EXPECT_EQ(balance(u), Fen(0));
  expect_ledger_ok();
}

TEST_P(GatewayTest, RunningTotalRefundsArePartialUntilTheyReachTheAmount) {
  int64_t u = add_user("partial@example.cn");
  int64_t d = add_document("a", 990);
  Order o = paid_order(u, d, "WX-P1");
  // Alipay style: only the running total, refund numbered by the console.
  auto refund = [&](const std::string& no, int64_t total) {
    return commerce_->notify(
        "wechat", FakeProvider::refund_notice(o.out_trade_no, "WX-P1", 990, "", no, 0, total,
                                              RefundState::kSucceeded));
  };
  ASSERT_TRUE(refund("B1", 300).applied);
  EXPECT_EQ(commerce_->order(u, o.id)->status, OrderStatus::kPaid);
  EXPECT_EQ(commerce_->entitlements(u)->purchased, std::vector<int64_t>{d});
  expect_ledger_ok();
  EXPECT_FALSE(refund("B1", 300).applied);  // repeated
  ASSERT_TRUE(refund("B2", 990).applied);
  auto rs = commerce_->refunds(o.id);
  ASSERT_EQ(rs->size(), 2u);
  EXPECT_EQ((*rs)[0].amount, Fen(300));
  EXPECT_EQ((*rs)[1].amount, Fen(690));
  EXPECT_EQ(commerce_->order(u, o.id)->status, OrderStatus::kRefunded);
  EXPECT_TRUE(commerce_->entitlements(u)->purchased.empty());
  expect_ledger_ok();
}

TEST_P(GatewayTest, RunningTotalThatCoversOurPendingRefundBooksNothingMore) {
  int64_t u = add_user("covered@example.cn");
  Order o = paid_order(u, add_document("a", 990), "WX-CV1");
  ASSERT_TRUE(commerce_->refund(o.id, false, "").is_ok());  // pending at the gateway
  // The trade is closed after the full refund; the report names no refund
  // number, only the running total.
  NotifyAnswer a = commerce_->notify(
      "wechat", FakeProvider::refund_notice(o.out_trade_no, "WX-CV1", 990, "", "TRADE_CLOSED", 0,
                                            990, RefundState::kSucceeded));
  EXPECT_EQ(a.http_status, 200);
  EXPECT_FALSE(a.applied) << a.reason;
  ASSERT_EQ(commerce_->refunds(o.id)->size(), 1u);
  // The sweep learns that ours succeeded.
  gateway_->set_refund_query([](const std::string& no) -> Result<RefundReport> {
    RefundReport rep;
    rep.out_refund_no = no;
    rep.amount = Fen(990);
    rep.state = RefundState::kSucceeded;
    return rep;
  });
  ASSERT_TRUE(commerce_->sweep().ok());
  EXPECT_EQ(commerce_->refunds(o.id)->at(0).state, RefundState::kSucceeded);
  EXPECT_EQ(balance(u), Fen(0));
  expect_ledger_ok();
}

TEST_P(GatewayTest, TopUpRefundedAtTheGatewayTakesTheWalletAndNeverBelowZero) {
  int64_t u = add_user("topupback@example.cn");
  auto t = commerce_->order_topup(u, Fen(1000));
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(pay_at_gateway(*t, "WX-T1").applied);
  EXPECT_EQ(balance(u), Fen(1000));
  // The reader spends 600 of it, then the merchant refunds all 1000 at the console.
  int64_t d = add_document("a", 600);
  ASSERT_TRUE(commerce_->buy_document_with_wallet(u, gate::Role::kReader, d).ok());
  NotifyAnswer a = commerce_->notify(
      "wechat", FakeProvider::refund_notice(t->out_trade_no, "WX-T1", 1000, "GW-T1", "", 1000, 0,
                                            RefundState::kSucceeded));
  ASSERT_TRUE(a.applied) << a.reason;
  EXPECT_EQ(balance(u), Fen(0));
  EXPECT_EQ(commerce_->order(u, t->id)->status, OrderStatus::kRefunded);
  expect_ledger_ok();
}

TEST_P(GatewayTest, RefundNotificationsForUnknownOrdersOrPaymentsAreRefused) {
  int64_t u = add_user("unknownrefund@example.cn");
  NotifyAnswer a = commerce_->notify(
      "wechat", FakeProvider::refund_notice("P20260101000000099999ABCD", "WX-X", 990, "GW-X", "",
                                            990, 0, RefundState::kSucceeded));
  EXPECT_EQ(a.http_status, 400);
  EXPECT_EQ(a.body, "FAIL");
  EXPECT_FALSE(a.applied);
  // A known order whose payment was never recorded here.
  auto o = commerce_->order_document(u, gate::Role::kReader, add_document("a", 100));
  ASSERT_TRUE(o.ok());
  NotifyAnswer b = commerce_->notify(
      "wechat", FakeProvider::refund_notice(o->out_trade_no, "WX-NEVER", 100, "GW-Y", "", 100, 0,
                                            RefundState::kSucceeded));
  EXPECT_EQ(b.http_status, 400);
  EXPECT_EQ(commerce_->order(u, o->id)->status, OrderStatus::kCreated);
  expect_ledger_ok();
}

// The sweep of a demo site: sandbox orders left unpaid are expired without a
// warning on every run (the sandbox cannot lose a notification).
TEST_P(GatewayTest, SweepOfSandboxOrdersReportsNoProblems) {
  int64_t u = add_user("demo@example.cn");
  int64_t d = add_document("a", 990);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kSandbox).ok());
  clock_.advance(Options{}.order_ttl - 60);
  auto sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(sw->queried, 1);
  EXPECT_TRUE(sw->problems.empty()) << sw->problems.front();
  clock_.advance(120);
  sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_TRUE(sw->problems.empty()) << sw->problems.front();
  EXPECT_EQ(sw->expired, 1);
  EXPECT_EQ(commerce_->order(u, o->id)->status, OrderStatus::kExpired);
}

TEST_P(GatewayTest, SweepFindsAPaymentWhoseNotificationWasLost) {
  int64_t u = add_user("lost@example.cn");
  int64_t d = add_document("a", 990);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kWechat).ok());
  gateway_->set_trade(o->out_trade_no, paid_trade("WX-LOST", 990));

  // Far from expiry: not asked yet.
  auto sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(sw->queried, 0);
  // Within query_before_expiry of it: asked, found, applied.
  clock_.advance(Options{}.order_ttl - Options{}.query_before_expiry + 1);
  sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(sw->queried, 1);
  EXPECT_EQ(sw->applied, 1);
  EXPECT_TRUE(sw->problems.empty());
  EXPECT_EQ(gateway_->queried(), std::vector<std::string>{o->out_trade_no});
  auto after = commerce_->order(u, o->id);
  EXPECT_EQ(after->status, OrderStatus::kPaid);
  EXPECT_EQ(after->paid_with, "wechat");
  EXPECT_EQ(commerce_->entitlements(u)->purchased, std::vector<int64_t>{d});
  // The notification arrives after all: a duplicate.
  NotifyAnswer late = pay_at_gateway(*o, "WX-LOST");
  EXPECT_EQ(late.http_status, 200);
  EXPECT_FALSE(late.applied);
  // Paid: not asked again, nothing to close.
  clock_.advance(3600);
  sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(sw->queried, 0);
  EXPECT_EQ(sw->closed, 0);
  EXPECT_EQ(balance(u), Fen(0));
  expect_ledger_ok();
}

TEST_P(GatewayTest, NotificationAndQueryAtTheSameMomentApplyOnce) {
  int64_t u = add_user("race@example.cn");
  constexpr int kRounds = 6;
  for (int i = 0; i < kRounds; ++i) {
    auto o = commerce_->order_topup(u, Fen(100 + i));
    ASSERT_TRUE(o.ok());
    ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kWechat).ok());
    const std::string txn = "WX-RACE-" + std::to_string(i);
    gateway_->set_trade(o->out_trade_no, paid_trade(txn, 100 + i));
  }
  clock_.advance(Options{}.order_ttl - 60);
  std::atomic<int> applied{0};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    auto sw = commerce_->sweep();
    ASSERT_TRUE(sw.ok());
    EXPECT_TRUE(sw->problems.empty());
    applied += static_cast<int>(sw->applied);
  });
  threads.emplace_back([&] {
    auto list = commerce_->orders(u);
    ASSERT_TRUE(list.ok());
    for (const auto& o : *list) {
      NotifyAnswer a = commerce_->notify(
          "wechat", FakeProvider::payment(o.out_trade_no, o.amount.value(),
                                          "WX-RACE-" + std::to_string(o.amount.value() - 100)));
      EXPECT_EQ(a.http_status, 200) << a.reason;
      if (a.applied) ++applied;
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(applied.load(), kRounds);
  int64_t total = 0;
  for (int i = 0; i < kRounds; ++i) total += 100 + i;
  EXPECT_EQ(balance(u), Fen(total));
  auto orders = commerce_->orders(u);  // kept: the loop reads into it
  ASSERT_TRUE(orders.ok());
  for (const auto& o : *orders) EXPECT_EQ(o.status, OrderStatus::kPaid);
  expect_ledger_ok();
}

TEST_P(GatewayTest, ExpiredOrderIsClosedAtTheGatewayOnce) {
  int64_t u = add_user("close@example.cn");
  auto o = commerce_->order_document(u, gate::Role::kReader, add_document("a", 990));
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kWechat).ok());
  clock_.advance(Options{}.order_ttl);
  auto sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(sw->closed, 1);
  EXPECT_EQ(sw->expired, 1);
  EXPECT_EQ(gateway_->closed(), std::vector<std::string>{o->out_trade_no});
  EXPECT_EQ(commerce_->order(u, o->id)->status, OrderStatus::kExpired);
  sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(sw->closed, 0);
  EXPECT_EQ(gateway_->closed().size(), 1u);
}

TEST_P(GatewayTest, CloseThatFailsIsRetriedAndAPaidTradeGoesToTheWallet) {
  int64_t u = add_user("closepaid@example.cn");
  auto o = commerce_->order_document(u, gate::Role::kReader, add_document("a", 990));
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kWechat).ok());
  clock_.advance(Options{}.order_ttl + 10);
  gateway_->set_close(o->out_trade_no, Status::unavailable("gateway timeout"));
  auto sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  ASSERT_EQ(sw->problems.size(), 1u);
  EXPECT_NE(sw->problems[0].find("gateway timeout"), std::string::npos);
  EXPECT_EQ(sw->expired, 1);  // not payable here anyway
  // Next run: the buyer had paid meanwhile, so the gateway will not close.
  gateway_->set_close(o->out_trade_no, Status::conflict("ORDER_PAID"));
  gateway_->set_trade(o->out_trade_no, paid_trade("WX-PAIDLATE", 990));
  sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_TRUE(sw->problems.empty());
  EXPECT_EQ(sw->applied, 1);
  auto after = commerce_->order(u, o->id);
  EXPECT_EQ(after->status, OrderStatus::kExpired);
  EXPECT_EQ(after->credited, Fen(990));
  EXPECT_EQ(balance(u), Fen(990));
  // Settled: not closed or asked again.
  sw = commerce_->sweep();
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(gateway_->closed().size(), 2u);
  EXPECT_EQ(sw->queried, 0);
  expect_ledger_ok();
}

// --- the audit log -----------------------------------------------------------------

store::AuditPage audit_entries(store::Store& st, const std::string& action) {
  store::AuditQuery q;
  q.action = action;
  auto p = st.list(q);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  return p.ok() ? std::move(p).value() : store::AuditPage{};
}

TEST_P(CommerceTest, ARefundLeavesOneAuditEntryByTheAdminAndARefusedOneNone) {
  int64_t u = add_user("audit-refund@example.cn");
  int64_t d = add_document("a", 990);
  credit(u, 990);
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kWallet).ok());
  store::AuditActor admin{42, "boss@example.cn", "198.51.100.7"};
  ASSERT_TRUE(commerce_->refund(o->id, true, "文档有误", admin).is_ok());
  EXPECT_EQ(commerce_->refund(o->id, true, "again", admin).code(), Code::kConflict);
  EXPECT_EQ(commerce_->refund(123456, true, "none", admin).code(), Code::kNotFound);

  store::AuditPage p = audit_entries(*store_, "order.refund");
  ASSERT_EQ(p.total, 1);
  const store::AuditEntry& e = p.items[0];
  EXPECT_EQ(e.actor, "boss@example.cn");
  EXPECT_EQ(e.actor_user_id, 42);
  EXPECT_EQ(e.ip, "198.51.100.7");
  EXPECT_EQ(e.target_kind, "order");
  EXPECT_EQ(e.target_id, o->id);
  EXPECT_EQ(e.at, clock_.now());
  auto details = nlohmann::json::parse(e.details);
  EXPECT_EQ(details["amount_fen"], 990);
  EXPECT_EQ(details["to"], "wallet");
  EXPECT_EQ(details["status"]["from"], "paid");
  EXPECT_EQ(details["status"]["to"], "refunded");
  EXPECT_EQ(details["note"], "文档有误");
}

TEST_P(CommerceTest, ACreditLeavesOneAuditEntryAndARefusedOneNone) {
  int64_t u = add_user("audit-credit@example.cn");
  store::AuditActor cli{0, "cli:ops", ""};
  ASSERT_TRUE(commerce_->credit(u, Fen(1250), "补偿", "cli:ops", cli).is_ok());
  EXPECT_EQ(commerce_->credit(u, Fen(0), "zero", "cli:ops", cli).code(), Code::kInvalidArgument);
  EXPECT_EQ(commerce_->credit(u + 999, Fen(5), "nobody", "cli:ops", cli).code(), Code::kNotFound);
  store::AuditPage p = audit_entries(*store_, "wallet.credit");
  ASSERT_EQ(p.total, 1);
  EXPECT_EQ(p.items[0].actor, "cli:ops");
  EXPECT_EQ(p.items[0].actor_user_id, 0);
  EXPECT_EQ(p.items[0].target_kind, "wallet");
  EXPECT_EQ(p.items[0].target_id, u);
  auto details = nlohmann::json::parse(p.items[0].details);
  EXPECT_EQ(details["amount_fen"], 1250);
  EXPECT_EQ(details["note"], "补偿");
}

// --- issue 14: no duplicate unpaid orders under repeated taps -------------------------------

int64_t count_orders(Commerce& shop, int64_t user, OrderKind kind, OrderStatus status) {
  auto mine = shop.orders(user);
  EXPECT_TRUE(mine.ok());
  if (!mine.ok()) return -1;
  return std::count_if(mine->begin(), mine->end(),
                       [&](const Order& o) { return o.kind == kind && o.status == status; });
}

TEST_P(CommerceTest, RepeatedTapsReuseTheUnpaidDocumentOrder) {
  int64_t u = add_user("taps@example.cn");
  int64_t other = add_user("other-tab@example.cn");
  int64_t d = add_document("a", 990);
  int64_t d2 = add_document("b", 500);
  auto first = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  // The back button, a second tab, a minute later: the same order.
  for (int i = 0; i < 3; ++i) {
    clock_.advance(60);
    auto again = commerce_->order_document(u, gate::Role::kReader, d);
    ASSERT_TRUE(again.ok()) << again.status().to_string();
    EXPECT_EQ(again->id, first->id);
    EXPECT_EQ(again->out_trade_no, first->out_trade_no);
    EXPECT_EQ(again->expires_at, first->expires_at);
  }
  EXPECT_EQ(count_orders(*commerce_, u, OrderKind::kDocument, OrderStatus::kCreated), 1);
  // Another document, another reader: orders of their own.
  auto second_doc = commerce_->order_document(u, gate::Role::kReader, d2);
  ASSERT_TRUE(second_doc.ok());
  EXPECT_NE(second_doc->id, first->id);
  auto theirs = commerce_->order_document(other, gate::Role::kReader, d);
  ASSERT_TRUE(theirs.ok());
  EXPECT_NE(theirs->id, first->id);
  // A top-up is never reused: each is money of its own.
  auto t1 = commerce_->order_topup(u, Fen(1000));
  auto t2 = commerce_->order_topup(u, Fen(1000));
  ASSERT_TRUE(t1.ok() && t2.ok());
  EXPECT_NE(t1->id, t2->id);
}

TEST_P(CommerceTest, PaidExpiredOrRepricedOrdersAreNotReused) {
  int64_t u = add_user("fresh@example.cn");
  int64_t d = add_document("a", 990);
  auto first = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(first.ok());
  // Expired: a new order.
  clock_.advance(Options{}.order_ttl + 1);
  ASSERT_TRUE(commerce_->expire_orders().ok());
  auto second = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->id, first->id);
  EXPECT_EQ(second->status, OrderStatus::kCreated);
  // About to expire (within the sweep's window): not handed out again.
  clock_.advance(Options{}.order_ttl - Options{}.query_before_expiry);
  auto third = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_TRUE(third.ok());
  EXPECT_NE(third->id, second->id);
  // Paid: the document is bought, no order at all.
  credit(u, 990);
  ASSERT_TRUE(commerce_->pay(u, third->id, PayMethod::kWallet).ok());
  EXPECT_EQ(commerce_->order_document(u, gate::Role::kReader, d).status().code(),
            Code::kConflict);
}

TEST_P(CommerceTest, ConcurrentTapsLeaveOneUnpaidOrder) {
  int64_t u = add_user("racer@example.cn");
  int64_t d = add_document("a", 990);
  constexpr int kThreads = 8;
  constexpr int kTapsEach = 5;
  std::vector<int64_t> ids(kThreads * kTapsEach, 0);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTapsEach; ++i) {
        auto o = commerce_->order_document(u, gate::Role::kReader, d);
        if (o.ok()) ids[t * kTapsEach + i] = o->id;
        else ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (int64_t id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(count_orders(*commerce_, u, OrderKind::kDocument, OrderStatus::kCreated), 1);
}

TEST_P(CommerceTest, ConcurrentPlanOrdersLeaveOneUnpaidOrder) {
  int64_t u = add_user("vip-racer@example.cn");
  std::vector<int64_t> ids(6, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < ids.size(); ++t)
    threads.emplace_back([&, t] {
      auto o = commerce_->order_plan(u, "vip30");
      if (o.ok()) ids[t] = o->id;
    });
  for (auto& th : threads) th.join();
  for (int64_t id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_GT(ids[0], 0);
  EXPECT_EQ(count_orders(*commerce_, u, OrderKind::kPlan, OrderStatus::kCreated), 1);
  // Another plan is another order.
  auto year = commerce_->order_plan(u, "vip365");
  ASSERT_TRUE(year.ok());
  EXPECT_NE(year->id, ids[0]);
}

// Issue 16, finding 3: two sales at 2^63-1 fen overflow SUM(amount_fen) of
// the sales account, and `ledger verify` said ok. The verify adds every
// account up in checked arithmetic and fails, naming the accounts, the
// rows and the orders with their document; such a price is not sold again.
TEST_P(CommerceTest, LedgerVerifyFailsOnSumOverflow) {
  int64_t d = add_document("dear", 990);
  std::vector<std::string> orders;
  for (const char* who : {"big-a", "big-b"}) {
    int64_t u = add_user(std::string(who) + "@example.cn");
    auto o = commerce_->order_document(u, gate::Role::kReader, d);
    ASSERT_TRUE(o.ok()) << o.status().to_string();
    ASSERT_TRUE(commerce_->pay(u, o->id, PayMethod::kSandbox).ok());
    ASSERT_TRUE(sandbox_notify(o->out_trade_no, 990, std::string("SBX-") + who).applied);
    orders.push_back(std::to_string(o->id));
  }
  ASSERT_TRUE(verify().ok);
  // As if both had been sold at 2^63-1 fen: orders, notifications and
  // ledger rows agree with each other, one sale at a time.
  const std::string ids = orders[0] + ", " + orders[1];
  raw_sql("UPDATE orders SET amount_fen = 9223372036854775807 WHERE id IN (" + ids + ")");
  raw_sql("UPDATE payment_notifications SET amount_fen = 9223372036854775807 WHERE order_id IN (" +
          ids + ")");
  raw_sql("UPDATE ledger_entries SET amount_fen = CASE WHEN amount_fen > 0 THEN 9223372036854775807"
          " ELSE -9223372036854775807 END WHERE order_id IN (" + ids + ")");
  LedgerCheck c = verify();
  EXPECT_FALSE(c.ok);
  const std::string all = joined(c.problems);
  EXPECT_NE(all.find("account sales: the sum of its rows overflows int64 fen"), std::string::npos)
      << all;
  EXPECT_NE(all.find("account provider:sandbox: the sum of its rows overflows int64 fen"),
            std::string::npos)
      << all;
  for (const std::string& id : orders) {
    EXPECT_NE(all.find("order " + id + " (document " + std::to_string(d) +
                       ") is for 9223372036854775807 fen, outside 1 fen .. the largest amount "
                       "1000000000 fen"),
              std::string::npos)
        << all;
  }
  EXPECT_NE(all.find("(sales in txn "), std::string::npos) << all;
  EXPECT_NE(all.find("moves 9223372036854775807 fen, beyond the largest amount 1000000000 fen"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("the checks that add up balances were not run"), std::string::npos) << all;

  // A document at such a price is not sold.
  raw_sql("UPDATE documents SET price_fen = 9223372036854775807 WHERE id = " + std::to_string(d));
  int64_t u = add_user("big-c@example.cn");
  auto o = commerce_->order_document(u, gate::Role::kReader, d);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(o.status().message(), "该文档的价格无效，暂不能购买");
  credit(u, 1000);
  EXPECT_FALSE(commerce_->buy_document_with_wallet(u, gate::Role::kReader, d).ok());
}

// Issue 16, finding 3: amounts entering commerce are bounded: a credit and
// a top-up above the largest amount are refused whatever the options say.
TEST_P(CommerceTest, AmountsAboveTheLargestAmountAreRefused) {
  Options big;
  big.max_topup = Fen(std::numeric_limits<int64_t>::max());
  open_commerce(big);
  int64_t u = add_user("rich@example.cn");
  EXPECT_EQ(commerce_->topup_limit(), kMaxAmount);
  auto t = commerce_->order_topup(u, Fen(kMaxAmount.value() + 1));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "单次充值不能超过 ¥10000000.00。");
  EXPECT_TRUE(commerce_->order_topup(u, kMaxAmount).ok());
  Status s = commerce_->credit(u, Fen(std::numeric_limits<int64_t>::max()), "", "tester");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "单笔入账不能超过 ¥10000000.00");
  // The store refuses such a ledger row itself.
  auto r = store_->credit_wallet(u, Fen(kMaxAmount.value() + 1), "", "tester", clock_.now());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(balance(u), Fen(0));
  EXPECT_TRUE(verify().ok);
}

PAIDOC_ON_EVERY_BACKEND(CommerceTest);
PAIDOC_ON_EVERY_BACKEND(GatewayTest);

}  // namespace
}  // namespace paidoc::commerce::testing
