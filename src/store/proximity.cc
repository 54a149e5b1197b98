#include "store/proximity.h"

#include <algorithm>
#include <climits>
#include <tuple>

#include "text/text.h"

namespace paidoc::store {

int proximity_span(std::string_view term) {
  const std::vector<text::Token> tokens = text::tokenize(term);
  if (tokens.empty()) return 1;
  const std::string& last = tokens.back().text;
  // Tokens are ASCII words or Chinese unigrams and bigrams.
  const bool bigram = !last.empty() && (static_cast<unsigned char>(last[0]) & 0x80) &&
                      !text::is_single_ideograph(last);
  // A separator run inside the term takes a position of its own.
  int gaps = 0;
  for (size_t i = 1; i < tokens.size(); ++i) gaps += tokens[i].gap ? 1 : 0;
  return static_cast<int>(tokens.size()) + gaps + (bigram ? 1 : 0);
}

void ProximityTally::reset(const std::vector<int>& spans) {
  terms_ = static_cast<int>(std::min<size_t>(spans.size(), kMaxTerms));
  for (int t = 0; t < terms_; ++t) spans_[static_cast<size_t>(t)] = std::max(1, spans[static_cast<size_t>(t)]);
  for (auto& per_column : gap_) per_column.fill(kNearPositions);
}

void ProximityTally::add(std::vector<TermPosition>& occurrences) {
  if (terms_ < 2 || occurrences.size() < 2) return;
  auto before = [](const TermPosition& a, const TermPosition& b) {
    return std::tie(a.column, a.position, a.term) < std::tie(b.column, b.position, b.term);
  };
  // FTS5 reports instances in position order already.
  if (!std::is_sorted(occurrences.begin(), occurrences.end(), before)) {
    std::sort(occurrences.begin(), occurrences.end(), before);
  }
  // One sweep: at each occurrence, the latest earlier occurrence of each
  // neighbouring term is the closest one before it (a later start can only
  // shorten the gap); pairs the other way round are seen from their later
  // member.
  constexpr int kNone = INT_MIN;
  std::array<int, kMaxTerms> last{};
  int column = -1;
  for (const TermPosition& o : occurrences) {
    if (o.column < 0 || o.column >= kColumns || o.term < 0 || o.term >= terms_) continue;
    if (o.column != column) {
      column = o.column;
      last.fill(kNone);
    }
    for (const int u : {o.term - 1, o.term + 1}) {
      if (u < 0 || u >= terms_ || last[static_cast<size_t>(u)] == kNone) continue;
      const int gap = std::max(0, o.position - last[static_cast<size_t>(u)] -
                                      spans_[static_cast<size_t>(u)]);
      int& best = gap_[static_cast<size_t>(std::min(o.term, u))][static_cast<size_t>(column)];
      best = std::min(best, gap);
    }
    last[static_cast<size_t>(o.term)] = o.position;
  }
}

double ProximityTally::score(const double* weights) const {
  double s = 0;
  for (int pair = 0; pair + 1 < terms_; ++pair) {
    for (int col = 0; col < kColumns; ++col) {
      const int gap = gap_[static_cast<size_t>(pair)][static_cast<size_t>(col)];
      if (gap < kNearPositions) {
        s += weights[col] * kProximityWeight *
             (1.0 - static_cast<double>(gap) / kNearPositions);
      }
    }
  }
  return s;
}

}  // namespace paidoc::store
