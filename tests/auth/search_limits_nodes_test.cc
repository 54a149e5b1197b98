// SearchLimiter counting in the store (SearchLimits::shared), as the server
// runs it on a store several nodes share: two limiters on two stores on one
// database behave as one — the same windows, messages and locks as in
// memory, and exact limits when both nodes admit searches at once.
// On SQLite and on PostgreSQL (skipped without PAIDOC_TEST_PG).

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth/search_limits.h"
#include "common/clock.h"
#include "store/store.h"
#include "support/test_database.h"

namespace paidoc::auth {
namespace {

using testing_support::make_test_database;
using testing_support::postgres_skip_reason;

constexpr const char* kHome = "203.0.113.7";

SearchLimits shared_limits() {
  SearchLimits l;
  l.per_minute = 3;
  l.per_day = 10;
  l.account_per_minute = 5;
  l.account_per_day = 8;
  l.shared = true;
  return l;
}

class SharedSearchLimitsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << postgres_skip_reason();
    for (auto* s : {&store_a_, &store_b_}) {
      auto opened = store::Store::open(db_->url());
      ASSERT_TRUE(opened.ok()) << opened.status().message();
      *s = std::move(opened).value();
    }
  }

  void make_nodes(SearchLimits l = shared_limits()) {
    a_ = std::make_unique<SearchLimiter>(*store_a_, clock_, l);
    b_ = std::make_unique<SearchLimiter>(*store_b_, clock_, l);
  }

  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<store::Store> store_a_, store_b_;
  FakeClock clock_{1'767'225'600};
  std::unique_ptr<SearchLimiter> a_, b_;  // node A, node B
};

TEST_P(SharedSearchLimitsTest, MinuteLimitCountsBothNodesAndRefusesUntilTheWindowEnds) {
  make_nodes();
  ASSERT_TRUE(a_->admit(kHome, 0).is_ok());
  ASSERT_TRUE(b_->admit(kHome, 0).is_ok());
  ASSERT_TRUE(a_->admit(kHome, 0).is_ok());
  clock_.advance(20);
  Status refused = b_->admit(kHome, 0);
  ASSERT_EQ(refused.code(), Code::kTooManyRequests) << refused.to_string();
  EXPECT_EQ(refused.retry_after(), 40);
  EXPECT_EQ(refused.message(), "搜索过于频繁，请 40 秒后再试");
  EXPECT_EQ(a_->admit(kHome, 0).code(), Code::kTooManyRequests);
  clock_.advance(40);
  EXPECT_TRUE(b_->admit(kHome, 0).is_ok()) << "a new minute";
  EXPECT_EQ(a_->tracked_keys(), 0u) << "nothing is kept in memory";
}

TEST_P(SharedSearchLimitsTest, DayAndAccountLimitsCountBothNodes) {
  make_nodes();
  // The day limit (10) over four minutes, alternating nodes.
  for (int i = 0; i < 10; ++i) {
    if (i > 0 && i % 3 == 0) clock_.advance(60);
    ASSERT_TRUE((i % 2 ? a_ : b_)->admit(kHome, 0).is_ok()) << i;
  }
  Status refused = a_->admit(kHome, 0);
  ASSERT_EQ(refused.code(), Code::kTooManyRequests);
  EXPECT_EQ(refused.retry_after(), 24 * 3600 - 180);

  // An account (5 a minute) from many addresses, on both nodes.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE((i % 2 ? a_ : b_)->admit("192.0.2." + std::to_string(i + 1), 42).is_ok()) << i;
  }
  EXPECT_EQ(b_->admit("192.0.2.99", 42).code(), Code::kTooManyRequests);
  EXPECT_TRUE(a_->admit("192.0.2.99", 43).is_ok()) << "another account";
}

TEST_P(SharedSearchLimitsTest, ConcurrentSearchesOnTwoNodesPassTheLimitExactly) {
  SearchLimits l;
  l.per_minute = 7;
  l.per_day = 0;
  l.account_per_minute = 0;
  l.account_per_day = 0;
  l.shared = true;
  make_nodes(l);
  std::atomic<int> admitted{0}, refused{0}, failed{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      Status s = (i % 2 ? a_ : b_)->admit(kHome, 0);
      if (s.is_ok()) {
        ++admitted;
      } else if (s.code() == Code::kTooManyRequests) {
        ++refused;
      } else {
        ADD_FAILURE() << s.to_string();
        ++failed;
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 7);
  EXPECT_EQ(refused.load(), 13);
  EXPECT_EQ(failed.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, SharedSearchLimitsTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace paidoc::auth
