// A randomized property test of the commerce service: several threads fire
// mixed operations at one store — top-ups through signed sandbox
// notifications (with duplicates, forgeries and wrong amounts), wallet and
// provider purchases of documents and plans racing on the same orders,
// refunds, operator credits — with a fixed seed. Afterwards:
//   - verify_ledger() finds nothing wrong;
//   - every wallet equals what the test computed from what it was told
//     succeeded (credits - debits), none is negative;
//   - purchases and VIP periods agree with the orders' final states.
// Thread interleaving is not deterministic, the operation streams are.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "commerce/commerce.h"
#include "commerce_fixture.h"
#include "gate/gate.h"

namespace paidoc::commerce::testing {
namespace {

constexpr uint64_t kSeed = 20260101;
constexpr int kThreads = 4;
constexpr int kOpsPerThread = 1500;
constexpr int kUsers = 6;
constexpr int kDocuments = 10;
constexpr int64_t kDay = 86400;

// An order some thread made that others may pay, each with the one
// provider transaction id its notifications carry.
struct OpenOrder {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string out_trade_no;
  int64_t amount = 0;
  OrderKind kind = OrderKind::kDocument;
  std::string txn;
};

class CommercePropertyTest : public CommerceFixture {
 protected:
  // Shared state of the run, each part behind its own lock.
  std::mutex mu_;
  std::vector<OpenOrder> open_;    // created document/plan orders
  std::vector<OpenOrder> topups_;  // top-ups applied once (for redelivery and refunds)
  std::vector<OpenOrder> paid_;    // document/plan orders the test saw paid
  std::vector<int64_t> users_;
  std::vector<int64_t> docs_;
  std::vector<int64_t> prices_;
  std::vector<std::atomic<int64_t>> expected_ = std::vector<std::atomic<int64_t>>(kUsers);
  std::atomic<int> failures_{0};
  std::string first_failure_;

  void fail(const std::string& what) {
    if (failures_++ == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      first_failure_ = what;
    }
  }

  int index_of(int64_t user_id) const {
    return static_cast<int>(std::find(users_.begin(), users_.end(), user_id) - users_.begin());
  }

  void expect_wallet(int64_t user_id, int64_t delta) { expected_[index_of(user_id)] += delta; }

  template <typename T>
  bool pick(std::vector<T>& from, std::mt19937_64& rng, T* out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (from.empty()) return false;
    *out = from[rng() % from.size()];
    return true;
  }

  void remember(std::vector<OpenOrder>& to, const OpenOrder& o) {
    std::lock_guard<std::mutex> lock(mu_);
    to.push_back(o);
  }

  // One thread's operation stream.
  void run_thread(int t) {
    std::mt19937_64 rng(kSeed * 31 + static_cast<uint64_t>(t));
    auto user = [&] { return users_[rng() % users_.size()]; };
    for (int i = 0; i < kOpsPerThread; ++i) {
      const std::string tag = std::to_string(t) + "-" + std::to_string(i);
      const int op = static_cast<int>(rng() % 100);
      if (op < 18) {
        top_up(rng, user(), tag);
      } else if (op < 26) {
        redeliver(rng);
      } else if (op < 40) {
        order_something(rng, user(), OrderKind::kDocument, tag);
      } else if (op < 46) {
        order_something(rng, user(), OrderKind::kPlan, tag);
      } else if (op < 70) {
        pay_open_order(rng);
      } else if (op < 80) {
        refund_something(rng);
      } else if (op < 86) {
        int64_t u = user();
        int64_t fen = 1 + static_cast<int64_t>(rng() % 3000);
        Status s = commerce_->credit(u, Fen(fen), "补偿", "operator:prop");
        if (s.is_ok()) {
          expect_wallet(u, fen);
        } else {
          fail("credit: " + s.to_string());
        }
      } else if (op < 93) {
        forged_or_wrong(rng, tag);
      } else {
        // Reads racing the writes.
        int64_t u = user();
        auto v = commerce_->viewer(u, gate::Role::kReader);
        auto b = commerce_->balance(u);
        if (!v.ok() || !b.ok() || b->value() < 0) fail("read: " + v.status().to_string());
      }
    }
  }

  void top_up(std::mt19937_64& rng, int64_t u, const std::string& tag) {
    int64_t fen = 100 + static_cast<int64_t>(rng() % 20000);
    auto o = commerce_->order_topup(u, Fen(fen));
    if (!o.ok()) return fail("order_topup: " + o.status().to_string());
    const std::string txn = "TOP-" + tag;
    if (rng() % 4 == 0) {
      NotifyAnswer wrong = sandbox_notify(o->out_trade_no, fen + 1, txn);
      if (wrong.http_status != 400 || wrong.applied) fail("wrong amount applied: " + wrong.reason);
    }
    NotifyAnswer a = sandbox_notify(o->out_trade_no, fen, txn);
    if (a.http_status != 200 || !a.applied) return fail("top-up not applied: " + a.reason);
    expect_wallet(u, fen);
    remember(topups_, {o->id, u, o->out_trade_no, fen, OrderKind::kTopUp, txn});
  }

  void redeliver(std::mt19937_64& rng) {
    OpenOrder o;
    if (!pick(topups_, rng, &o)) return;
    NotifyAnswer a = sandbox_notify(o.out_trade_no, o.amount, o.txn);
    if (a.http_status != 200 || a.applied) fail("redelivery applied: " + a.reason);
  }

  void order_something(std::mt19937_64& rng, int64_t u, OrderKind kind, const std::string& tag) {
    Result<Order> o = Status::internal("unset");
    if (kind == OrderKind::kPlan) {
      o = commerce_->order_plan(u, "vip30");
    } else {
      o = commerce_->order_document(u, gate::Role::kReader, docs_[rng() % docs_.size()]);
      // Already bought (or bought by a racing thread): refused, fine.
      if (!o.ok() && o.status().code() == Code::kConflict) return;
    }
    if (!o.ok()) return fail("order: " + o.status().to_string());
    // An unpaid order for the same thing is reused (Commerce::order_document):
    // it keeps the one provider transaction it was remembered with.
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const OpenOrder& known : open_)
        if (known.id == o->id) return;
    }
    remember(open_, {o->id, u, o->out_trade_no, o->amount.value(), kind, "PAY-" + tag});
  }

  // Pays a random open order, from the wallet or by its (one) provider
  // transaction; other threads may be paying the same order at once.
  void pay_open_order(std::mt19937_64& rng) {
    OpenOrder o;
    if (!pick(open_, rng, &o)) return;
    if (rng() % 2 == 0) {
      auto r = commerce_->pay(o.user_id, o.id, PayMethod::kWallet);
      if (r.ok()) {
        expect_wallet(o.user_id, -o.amount);
        remember(paid_, o);
      } else if (r.status().code() != Code::kPaymentRequired &&
                 r.status().code() != Code::kConflict) {
        fail("wallet pay: " + r.status().to_string());
      }
      return;
    }
    NotifyAnswer a = sandbox_notify(o.out_trade_no, o.amount, o.txn);
    if (a.http_status != 200) return fail("provider pay refused: " + a.reason);
    if (!a.applied) return;  // a redelivery
    // This order has exactly one provider transaction, so what it did is
    // told by how the order ended up paid: by it (nothing reaches the
    // wallet) or already by the wallet (the money went to the wallet).
    auto after = commerce_->order(o.user_id, o.id);
    if (!after.ok()) return fail("order after notify: " + after.status().to_string());
    if (after->status == OrderStatus::kCredited) {
      // Paid for a document the buyer already owned (another order): the
      // money went to the wallet.
      expect_wallet(o.user_id, o.amount);
    } else if (after->paid_with == "sandbox") {
      remember(paid_, o);
    } else if (after->paid_with == "wallet") {
      expect_wallet(o.user_id, o.amount);
    } else {
      fail("notification applied but order " + std::to_string(o.id) + " is " +
           std::string(store::to_string(after->status)));
    }
  }

  void refund_something(std::mt19937_64& rng) {
    OpenOrder o;
    if (rng() % 3 == 0) {
      if (!pick(topups_, rng, &o)) return;
      Status s = commerce_->refund(o.id, false, "退回充值");
      if (s.is_ok()) {
        expect_wallet(o.user_id, -o.amount);
      } else if (s.code() != Code::kConflict && s.code() != Code::kPaymentRequired) {
        fail("top-up refund: " + s.to_string());
      }
      return;
    }
    if (!pick(paid_, rng, &o)) return;
    Status s = commerce_->refund(o.id, true, "退款");
    if (s.is_ok()) {
      expect_wallet(o.user_id, o.amount);
    } else if (s.code() != Code::kConflict) {
      fail("refund: " + s.to_string());
    }
  }

  void forged_or_wrong(std::mt19937_64& rng, const std::string& tag) {
    OpenOrder o;
    if (!pick(open_, rng, &o)) return;
    NotifyAnswer a;
    switch (rng() % 3) {
      case 0:
        a = commerce_->notify("sandbox", sandbox_notification({"forger", ""}, o.out_trade_no,
                                                              Fen(o.amount), "FORGED-" + tag));
        break;
      case 1:
        a = sandbox_notify(o.out_trade_no, o.amount + 1 + static_cast<int64_t>(rng() % 100),
                           "WRONG-" + tag);
        break;
      default:
        a = sandbox_notify("P20260101999999999" + std::to_string(rng() % 10000), o.amount,
                           "NOORDER-" + tag);
        break;
    }
    if (a.http_status != 400 || a.applied) fail("refusal expected: " + a.reason);
  }
};

TEST_P(CommercePropertyTest, RandomConcurrentOperationsKeepTheLedgerRight) {
  const auto started = std::chrono::steady_clock::now();
  std::mt19937_64 setup(kSeed);
  for (int i = 0; i < kUsers; ++i)
    users_.push_back(add_user("p" + std::to_string(i) + "@example.cn"));
  for (int i = 0; i < kDocuments; ++i) {
    int64_t price = 100 + static_cast<int64_t>(setup() % 2000);
    docs_.push_back(add_document("prop" + std::to_string(i), price));
    prices_.push_back(price);
  }
  for (int i = 0; i < kUsers; ++i) {
    credit(users_[i], 5000);
    expected_[i] = 5000;
  }
  const int64_t t0 = clock_.now();

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back([this, t] { run_thread(t); });
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures_.load(), 0) << failures_.load() << " failures; first: " << first_failure_;

  LedgerCheck check = verify();
  EXPECT_TRUE(check.ok) << joined(check.problems);
  EXPECT_GT(check.entries, 1000);

  int64_t sum_expected = 0, sum_actual = 0;
  for (int i = 0; i < kUsers; ++i) {
    const int64_t u = users_[i];
    Fen b = balance(u);
    EXPECT_GE(b.value(), 0) << "user " << u;
    EXPECT_EQ(b.value(), expected_[i].load()) << "user " << u;
    sum_expected += expected_[i].load();
    sum_actual += b.value();

    // Purchases and VIP follow from the orders' final states.
    auto orders = commerce_->orders(u);
    ASSERT_TRUE(orders.ok());
    std::set<int64_t> bought;
    int64_t plans_paid = 0, plans_ever = 0;
    for (const Order& o : *orders) {
      if (o.kind == OrderKind::kDocument && o.status == OrderStatus::kPaid)
        bought.insert(o.document_id);
      if (o.kind == OrderKind::kPlan && o.status == OrderStatus::kPaid) ++plans_paid;
      if (o.kind == OrderKind::kPlan && o.paid_at != 0) ++plans_ever;
    }
    auto e = commerce_->entitlements(u);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(std::set<int64_t>(e->purchased.begin(), e->purchased.end()), bought) << "user " << u;
    EXPECT_EQ(e->purchased.size(), bought.size()) << "a document is listed twice";
    EXPECT_EQ(e->vip_until, plans_ever == 0 ? 0 : t0 + plans_paid * 30 * kDay) << "user " << u;
  }
  EXPECT_EQ(sum_actual, sum_expected);

  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
          .count();
  EXPECT_LT(seconds, 60) << "the property test should stay well under a minute";
}

PAIDOC_ON_EVERY_BACKEND(CommercePropertyTest);

}  // namespace
}  // namespace paidoc::commerce::testing
