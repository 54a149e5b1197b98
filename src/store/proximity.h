// Proximity: the part of a search score that rewards a document whose
// query terms stand together. Both search backends (sqlite/fts.cc through
// paidoc_collect, postgres/search.cc in judge) feed it the positions of
// the term occurrences they are allowed to consult and add score() to the
// saturating term frequencies, so they rank alike.
//
// The rule: for each pair of neighbouring query terms (term i and i+1, as
// typed), and each text column, the smallest gap between an occurrence of
// one and an occurrence of the other, in either order, measured in index
// positions (for Chinese text one position per character; for Latin text
// and digits one per word). A run of separators takes one position in the
// index, the one a Chinese bigram across it would have taken, so the gap
// is 0 when the two stand side by side (民主生活会 for 民主 生活会) and also
// across punctuation (民主、生活会). The
// pair adds weight[column] * kProximityWeight * (1 - gap / kNearPositions)
// when gap < kNearPositions, nothing otherwise. Only the closest pair
// counts, so repeating the terms adds nothing here (term frequency does
// that).
//
// What a caller may feed: only occurrences in columns the viewer may search
// as text — title, free text, and paid text only for a document in the
// viewer's PaidScope. Never keyword-column hits: keywords have no order,
// and locked paid text must not be ranked by where its words stand.
//
// Not thread-safe; one per ranking pass, reset per document.
#pragma once

#include <array>
#include <string_view>
#include <vector>

namespace paidoc::store {

// A pair's gap at or beyond this adds nothing.
inline constexpr int kNearPositions = 8;
// The most a pair adds in a column, as a fraction of the column's weight:
// 1 is what a term found there many times approaches.
inline constexpr double kProximityWeight = 1.0;

// How many positions one occurrence of `term` (as typed) takes from its
// first position to where a word standing right after it starts: its
// token count (text::tokenize), plus one per separator run inside it, plus
// one when its last token is a Chinese bigram (the bigram's second
// character starts the next position). At least 1.
int proximity_span(std::string_view term);

struct TermPosition {
  int column = 0;    // 0 title, 1 free, 2 paid
  int position = 0;  // index position in that column (or chunk)
  int term = 0;      // index into the query's terms
};

class ProximityTally {
 public:
  // spans[i]: proximity_span of term i. REQUIRES: at most 16 terms.
  void reset(const std::vector<int>& spans);
  // Occurrences from one stretch of positions: all of a document's columns
  // (SQLite), or one chunk of one column (PostgreSQL). Any order; the
  // vector is sorted in place. Positions of different calls are never
  // compared, so a stretch must use one numbering per column.
  void add(std::vector<TermPosition>& occurrences);
  // The bonus so far. REQUIRES: weights has a weight per column (3).
  double score(const double* weights) const;

 private:
  static constexpr int kMaxTerms = 16;
  static constexpr int kColumns = 3;
  int terms_ = 0;
  std::array<int, kMaxTerms> spans_{};
  // Smallest gap per (pair i/i+1, column); kNearPositions when none closer.
  std::array<std::array<int, kColumns>, kMaxTerms> gap_{};
};

}  // namespace paidoc::store
