#include "common/money.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace paidoc
