#include "common/money.h"

#include <fmt/format.h>

namespace paidoc {

std::string Fen::yuan_string() const {
  // In unsigned arithmetic: -INT64_MIN does not fit in int64.
  const uint64_t v = fen_ < 0 ? 0 - static_cast<uint64_t>(fen_) : static_cast<uint64_t>(fen_);
  return fmt::format("{}{}.{:02}", fen_ < 0 ? "-" : "", v / 100, v % 100);
}

std::string Fen::plain_yuan_string() const {
  std::string s = yuan_string();
  if (s.ends_with(".00")) s.resize(s.size() - 3);
  return s;
}

Result<Fen> Fen::parse_yuan(std::string_view text) {
  std::string_view t = text;
  if (t.empty()) return Status::invalid("empty amount");
  int64_t whole = 0;
  size_t i = 0;
  size_t digits = 0;
  for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i, ++digits) {
    whole = whole * 10 + (t[i] - '0');
    if (whole > 1'000'000'000) return Status::invalid(fmt::format("amount '{}' is too large", text));
  }
  int64_t frac = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    size_t fd = 0;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i, ++fd) {
      if (fd >= 2) return Status::invalid(fmt::format("amount '{}' has more than two decimals", text));
      frac = frac * 10 + (t[i] - '0');
    }
    if (fd == 1) frac *= 10;
    digits += fd;
  }
  if (i != t.size() || digits == 0)
    return Status::invalid(fmt::format("amount '{}' is not a number of yuan like 9.90", text));
  return Fen(whole * 100 + frac);
}

}  // namespace paidoc
