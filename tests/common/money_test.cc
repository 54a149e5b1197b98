#include "common/money.h"

#include <gtest/gtest.h>

#include <limits>

namespace paidoc {
namespace {

TEST(Fen, ParsesYuan) {
  struct Case {
    const char* text;
    int64_t fen;
  } cases[] = {{"0", 0}, {"12", 1200}, {"9.9", 990}, {"9.90", 990}, {"0.05", 5}, {"19.99", 1999}, {".5", 50}};
  for (const auto& c : cases) {
    Result<Fen> r = Fen::parse_yuan(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().to_string();
    EXPECT_EQ(r->value(), c.fen) << c.text;
  }
}

TEST(Fen, RejectsWithReason) {
  struct Case {
    const char* text;
    const char* reason;
  } cases[] = {{"", "empty amount"},
               {"1.234", "amount '1.234' has more than two decimals"},
               {"-1", "amount '-1' is not a number of yuan like 9.90"},
               {"abc", "amount 'abc' is not a number of yuan like 9.90"},
               {"1.2x", "amount '1.2x' is not a number of yuan like 9.90"},
               {".", "amount '.' is not a number of yuan like 9.90"},
               {"99999999999", "amount '99999999999' is too large"}};
  for (const auto& c : cases) {
    Result<Fen> r = Fen::parse_yuan(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.reason);
  }
}

TEST(Fen, YuanString) {
  EXPECT_EQ(Fen(990).yuan_string(), "9.90");
  EXPECT_EQ(Fen(5).yuan_string(), "0.05");
  EXPECT_EQ(Fen(0).yuan_string(), "0.00");
  EXPECT_EQ(Fen(-250).yuan_string(), "-2.50");
}

// Issue 16, finding 3: amounts were added with plain int64 arithmetic, so
// two prices of 2^63-1 fen wrapped. Checked arithmetic says when a result
// does not fit, and the largest amount leaves room for any real sum.
TEST(Fen, CheckedArithmeticReportsOverflow) {
  const Fen max(std::numeric_limits<int64_t>::max());
  const Fen min(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Fen(990).checked_add(Fen(10)), Fen(1000));
  EXPECT_EQ(Fen(990).checked_sub(Fen(1000)), Fen(-10));
  EXPECT_EQ(max.checked_add(Fen(0)), max);
  EXPECT_EQ(max.checked_add(Fen(1)), std::nullopt);
  EXPECT_EQ(max.checked_add(max), std::nullopt);
  EXPECT_EQ(min.checked_sub(Fen(1)), std::nullopt);
  EXPECT_EQ(Fen(0).checked_sub(min), std::nullopt);
  EXPECT_EQ(min.checked_add(max), Fen(-1));
  // What the page showed for such a price; the most negative amount too.
  EXPECT_EQ(max.yuan_string(), "92233720368547758.07");
  EXPECT_EQ(min.yuan_string(), "-92233720368547758.08");
  // The largest single amount: ¥10,000,000, and 9e9 of them still add up.
  EXPECT_EQ(kMaxAmount.yuan_string(), "10000000.00");
  EXPECT_TRUE(within_max_amount(kMaxAmount));
  EXPECT_FALSE(within_max_amount(Fen(kMaxAmount.value() + 1)));
  EXPECT_FALSE(within_max_amount(Fen(-1)));
  EXPECT_LT(kMaxAmount.value(), std::numeric_limits<int64_t>::max() / 9'000'000'000);
}

TEST(Fen, PlainYuanStringDropsZeroDecimals) {
  EXPECT_EQ(Fen(10'000'000).plain_yuan_string(), "100000");
  EXPECT_EQ(Fen(990).plain_yuan_string(), "9.90");
  EXPECT_EQ(Fen(1).plain_yuan_string(), "0.01");
  EXPECT_EQ(Fen(0).plain_yuan_string(), "0");
}

}  // namespace
}  // namespace paidoc
