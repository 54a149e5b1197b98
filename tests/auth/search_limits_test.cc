// SearchLimiter against a real store (each backend, a fresh database), with a fake
// clock: the minute and day windows, per-address and per-account keys,
// limits turned off, locks written to the store (and only locks) and read
// back by a fresh limiter, and the bound on keys held in memory.

#include "auth/search_limits.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "common/clock.h"
#include "store/store.h"
#include "support/backends.h"

namespace paidoc::auth {
namespace {


constexpr const char* kHome = "203.0.113.7";
constexpr const char* kOffice = "198.51.100.20";

SearchLimits small_limits() {
  SearchLimits l;
  l.per_minute = 3;
  l.per_day = 10;
  l.account_per_minute = 5;
  l.account_per_day = 8;
  return l;
}

class SearchLimiterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    Result<std::unique_ptr<store::Store>> s = store::Store::open(db_->url());
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(s).value();
  }
  void TearDown() override { store_.reset(); }

  std::unique_ptr<SearchLimiter> limiter(SearchLimits l = small_limits()) {
    return std::make_unique<SearchLimiter>(*store_, clock_, l);
  }

  // n searches that must all be admitted.
  static void admit_n(SearchLimiter& s, int n, const char* ip, int64_t user = 0) {
    for (int i = 0; i < n; ++i) {
      Status st = s.admit(ip, user);
      ASSERT_TRUE(st.is_ok()) << "search " << i + 1 << ": " << st.to_string();
    }
  }

  store::Throttle stored(const std::string& key) {
    Result<store::Throttle> t = store_->get_throttle(key);
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    return t.ok() ? *t : store::Throttle{};
  }

  std::unique_ptr<testing_support::TestDatabase> db_;
  FakeClock clock_{1'767'225'600};
  std::unique_ptr<store::Store> store_;
};

TEST_P(SearchLimiterTest, MinuteLimitRefusesUntilTheWindowEnds) {
  auto s = limiter();
  admit_n(*s, 3, kHome);
  clock_.advance(20);
  Status refused = s->admit(kHome, 0);
  ASSERT_EQ(refused.code(), Code::kTooManyRequests) << refused.to_string();
  // The window started with the first search, 20 s ago.
  EXPECT_EQ(refused.retry_after(), 40);
  EXPECT_EQ(refused.message(), "搜索过于频繁，请 40 秒后再试");
  // Refused searches are not counted and do not move the lock.
  clock_.advance(30);
  EXPECT_EQ(s->admit(kHome, 0).retry_after(), 10);
  clock_.advance(10);
  admit_n(*s, 3, kHome);
  EXPECT_EQ(s->admit(kHome, 0).code(), Code::kTooManyRequests);
}

TEST_P(SearchLimiterTest, DayLimitCountsAcrossMinutesAndSaysHours) {
  auto s = limiter();
  for (int minute = 0; minute < 3; ++minute) {
    admit_n(*s, 3, kHome);
    clock_.advance(60);
  }
  admit_n(*s, 1, kHome);  // the 10th of the day
  Status refused = s->admit(kHome, 0);
  ASSERT_EQ(refused.code(), Code::kTooManyRequests);
  EXPECT_EQ(refused.retry_after(), 24 * 3600 - 180);
  EXPECT_EQ(refused.message(), "搜索过于频繁，请 24 小时后再试");
  clock_.advance(2 * 3600);
  EXPECT_EQ(s->admit(kHome, 0).message(), "搜索过于频繁，请 22 小时后再试");
  clock_.advance(21 * 3600 + 30 * 60);
  EXPECT_EQ(s->admit(kHome, 0).message(), "搜索过于频繁，请 27 分钟后再试");
  clock_.advance(27 * 60);
  EXPECT_TRUE(s->admit(kHome, 0).is_ok());
}

TEST_P(SearchLimiterTest, AddressesAreCountedApart) {
  auto s = limiter();
  admit_n(*s, 3, kHome);
  EXPECT_EQ(s->admit(kHome, 0).code(), Code::kTooManyRequests);
  admit_n(*s, 3, kOffice);
  EXPECT_EQ(s->admit(kOffice, 0).code(), Code::kTooManyRequests);
}

TEST_P(SearchLimiterTest, AnAccountIsLimitedWhateverAddressItUses) {
  SearchLimits l = small_limits();
  l.per_minute = 100;  // only the account limit (5 a minute) can bite
  auto s = limiter(l);
  for (int i = 0; i < 5; ++i) {
    std::string ip = "192.0.2." + std::to_string(i + 1);
    ASSERT_TRUE(s->admit(ip, 42).is_ok()) << i;
  }
  Status refused = s->admit("192.0.2.99", 42);
  ASSERT_EQ(refused.code(), Code::kTooManyRequests);
  EXPECT_EQ(refused.retry_after(), 60);
  // Another account, and the same address without the account, still search.
  EXPECT_TRUE(s->admit("192.0.2.99", 43).is_ok());
  EXPECT_TRUE(s->admit("192.0.2.99", 0).is_ok());
}

TEST_P(SearchLimiterTest, ARefusedSearchCountsOnNoKey) {
  SearchLimits l = small_limits();
  l.account_per_minute = 100;
  auto s = limiter(l);
  admit_n(*s, 3, kHome, 7);
  // The address is locked: the account's attempts there are not counted...
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s->admit(kHome, 7).code(), Code::kTooManyRequests);
  // ...so the account has used 3 of its 8 a day.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(s->admit("192.0.2." + std::to_string(i + 1), 7).is_ok()) << i;
  }
  EXPECT_EQ(s->admit("192.0.2.50", 7).code(), Code::kTooManyRequests);
}

TEST_P(SearchLimiterTest, ZeroTurnsALimitOff) {
  auto off = limiter(SearchLimits{0, 0, 0, 0});
  admit_n(*off, 500, kHome, 9);
  EXPECT_EQ(off->tracked_keys(), 0u);

  SearchLimits day_only = small_limits();
  day_only.per_minute = 0;  // 10 a day, any number a minute
  auto s = limiter(day_only);
  admit_n(*s, 10, kOffice);
  EXPECT_EQ(s->admit(kOffice, 0).code(), Code::kTooManyRequests);

  SearchLimits minute_only = small_limits();
  minute_only.per_day = 0;
  auto m = limiter(minute_only);
  for (int minute = 0; minute < 10; ++minute) {
    admit_n(*m, 3, "192.0.2.1");
    clock_.advance(60);
  }
}

TEST_P(SearchLimiterTest, OnlyALockIsWrittenAndAFreshLimiterKeepsIt) {
  auto s = limiter();
  admit_n(*s, 3, kHome, 5);
  // Admitted searches leave the store alone.
  EXPECT_EQ(stored("search-ip:" + std::string(kHome)).locked_until, 0);
  EXPECT_EQ(stored("search-account:5").count, 0);
  clock_.advance(15);
  ASSERT_EQ(s->admit(kHome, 5).code(), Code::kTooManyRequests);
  store::Throttle t = stored("search-ip:" + std::string(kHome));
  EXPECT_EQ(t.locked_until, clock_.now() + 45);
  EXPECT_EQ(t.count, 3);
  // The account was not over its limit: not written.
  EXPECT_EQ(stored("search-account:5").locked_until, 0);

  // A restart: a new limiter over the same store.
  s.reset();
  clock_.advance(5);
  auto again = limiter();
  Status refused = again->admit(kHome, 0);
  ASSERT_EQ(refused.code(), Code::kTooManyRequests) << refused.to_string();
  EXPECT_EQ(refused.retry_after(), 40);
  clock_.advance(40);
  EXPECT_TRUE(again->admit(kHome, 0).is_ok());
}

TEST_P(SearchLimiterTest, ADayLockAndItsCountSurviveARestart) {
  SearchLimits l = small_limits();
  l.per_minute = 0;
  auto s = limiter(l);
  admit_n(*s, 10, kHome);
  ASSERT_EQ(s->admit(kHome, 0).code(), Code::kTooManyRequests);
  s.reset();
  clock_.advance(3600);
  auto again = limiter(l);
  Status refused = again->admit(kHome, 0);
  ASSERT_EQ(refused.code(), Code::kTooManyRequests);
  EXPECT_EQ(refused.retry_after(), 23 * 3600);
}

TEST_P(SearchLimiterTest, MemoryIsBoundedAndAnEvictedLockIsReadBack) {
  SearchLimits l = small_limits();
  l.max_keys = 50;
  auto s = limiter(l);
  admit_n(*s, 3, kHome);
  ASSERT_EQ(s->admit(kHome, 0).code(), Code::kTooManyRequests);
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(s->admit("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250), 0)
                    .is_ok());
    EXPECT_LE(s->tracked_keys(), 50u);
  }
  EXPECT_EQ(s->tracked_keys(), 50u);
  // kHome was evicted long ago; its lock comes back from the store.
  Status refused = s->admit(kHome, 0);
  ASSERT_EQ(refused.code(), Code::kTooManyRequests) << refused.to_string();
  EXPECT_GT(refused.retry_after(), 0);
}

PAIDOC_ON_EVERY_BACKEND(SearchLimiterTest);

}  // namespace
}  // namespace paidoc::auth
