// Fen: an amount of money in integer fen (1 yuan = 100 fen), CNY only.
//
// Money never passes through floating point. Parsing accepts what an operator
// types ("9.9", "12", "0.05") and rejects anything with more than two
// decimals, a sign, or garbage, saying which.
#pragma once

#include <compare>
#include <cstdint>
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
  constexpr Fen operator+(Fen o) const { return Fen(fen_ + o.fen_); }
  constexpr Fen operator-(Fen o) const { return Fen(fen_ - o.fen_); }

  // "9.90" style, always two decimals: for display as ¥9.90.
  std::string yuan_string() const;
  // Parses a non-negative yuan amount like "9.9" or "12" into fen.
  static Result<Fen> parse_yuan(std::string_view text);

 private:
  int64_t fen_ = 0;
};

}  // namespace paidoc
