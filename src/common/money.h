// Fen: an amount of money in integer fen (1 yuan = 100 fen), CNY only.
//
// Money never passes through floating point. Parsing accepts what an operator
// types ("9.9", "12", "0.05") and rejects anything with more than two
// decimals, a sign, or garbage, saying which.
//
// Arithmetic on amounts is checked: checked_add / checked_sub answer
// nullopt when the result does not fit in int64 fen, and every amount that
// enters from outside (a price, a top-up, a credit, a plan) is at most
// kMaxAmount, so sums of them stay far from the int64 limit.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace paidoc {

class Fen {
 public:
  constexpr Fen() = default;
  constexpr explicit Fen(int64_t fen) : fen_(fen) {}
  constexpr int64_t value() const { return fen_; }
  constexpr auto operator<=>(const Fen&) const = default;
  // this + o and this - o; nullopt when the result overflows int64 fen.
  constexpr std::optional<Fen> checked_add(Fen o) const {
    int64_t r = 0;
    if (__builtin_add_overflow(fen_, o.fen_, &r)) return std::nullopt;
    return Fen(r);
  }
  constexpr std::optional<Fen> checked_sub(Fen o) const {
    int64_t r = 0;
    if (__builtin_sub_overflow(fen_, o.fen_, &r)) return std::nullopt;
    return Fen(r);
  }

  // "9.90" style, always two decimals: for display as ¥9.90.
  std::string yuan_string() const;
  // "100000" for whole yuan, else as yuan_string ("9.90"): as people type
  // amounts, for messages and form labels.
  std::string plain_yuan_string() const;
  // Parses a non-negative yuan amount like "9.9" or "12" into fen.
  static Result<Fen> parse_yuan(std::string_view text);

 private:
  int64_t fen_ = 0;
};

// The largest single amount paidoc accepts anywhere: a document price, a
// plan price, a top-up, an operator credit, an order. ¥10,000,000.00 is
// 1e9 fen: it fits WeChat Pay's 32-bit `total` (fen), is far above any
// real sale, and 9e9 such amounts still sum within int64.
inline constexpr Fen kMaxAmount = Fen(1'000'000'000);

// Whether `f` is an amount paidoc accepts: 0 .. kMaxAmount.
constexpr bool within_max_amount(Fen f) { return f.value() >= 0 && f <= kMaxAmount; }

}  // namespace paidoc
