// FTS5 glue for the SQLite backend: the "paidoc" tokenizer (text::tokenize
// for queries, text::tokenize_for_index for documents, with a separator
// token "|" at each text::Token::gap) and the auxiliary
// function paidoc_collect(), registered on every connection through
// fts5_api (SELECT fts5(?1) with sqlite3_bind_pointer). Internal to
// store/sqlite/.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "store/proximity.h"

namespace paidoc::store::sqlite {

// paidoc_collect(fts_table, collector) ranks the current row of a MATCH
// query and keeps it if it is among the best `keep` so far; it answers 1
// (0 for a row the collector's filters leave out).
// One pass over the matches gives the count (rows that counted) and the
// top documents, with no per-row sort or table lookup in SQL. collector is
// a RankCollector* bound with sqlite3_bind_pointer(..., kCollectorPointerType).
//
// The query's phrases are described by `phrases`, in the order they appear
// in the MATCH expression: which term each belongs to (or an exclusion),
// which columns' instances count for it, and whether it is one of the
// term's keyword phrases (kKeywordColumn). Instances in other columns are
// ignored, so a phrase that must not consult a column cannot score or flag
// through it whatever FTS5 reports.
//
// Score (higher is better): for each term, the sum over columns of
// weight[column] * tf / (tf + 1.2) — BM25's saturating term frequency
// without its length normalisation and IDF, which would need a table
// lookup per row (document sizes) and a pass per term — where a keyword
// match counts as one occurrence in the paid column; plus the proximity
// bonus of store/proximity.h for neighbouring terms standing together,
// from the positions of text instances in the columns the phrases may
// consult (never keyword instances). Ties go to the higher rowid: ids grow
// with import time, so the newer document wins. With by_id every row
// scores 0: newest first.
inline constexpr char kCollectorPointerType[] = "paidoc_rank_collector";

// Index columns (the FTS table's order).
inline constexpr int kTitleColumn = 0;
inline constexpr int kFreeColumn = 1;
inline constexpr int kPaidColumn = 2;
inline constexpr int kKeywordColumn = 3;

struct PhraseRole {
  int term = -1;         // index into the query's terms; -1: an exclusion
  unsigned columns = 0;  // bit c: instances in column c count
  int key = -1;          // 0: the term as one keyword; 1, 2: its two parts; -1: text
};

struct RankCollector {
  struct Entry {
    double score;
    int64_t id;
    // 3 bits per term (term i at bits 3i..3i+2): MatchColumn bits (1 title,
    // 2 free, 4 paid) where the term matched; a keyword match sets paid.
    int64_t columns;
    // 3 bits per term: bit 0 the whole-term keyword matched, bits 1 and 2
    // both parts matched (always set together).
    int64_t keys;
  };
  size_t keep = 10;
  int terms = 1;  // REQUIRES: 1..16
  std::vector<PhraseRole> phrases;
  // When set, only rows whose id is marked in `allowed` count, and none
  // marked in `denied`; others answer 0.
  const std::vector<bool>* allowed = nullptr;
  const std::vector<bool>* denied = nullptr;
  bool by_id = false;
  // Per term, store::proximity_span of its text; empty: no proximity bonus
  // (one term, or by_id).
  std::vector<int> spans;
  int64_t count = 0;  // rows that counted
  double weights[3] = {10.0, 1.0, 1.0};
  std::vector<Entry> heap;  // the worst kept entry at the front
  Status error;             // an FTS5 API failure while ranking
  // Scratch for the proximity bonus, reused from row to row.
  std::vector<TermPosition> positions;
  ProximityTally proximity;

  // The kept entries, best first.
  std::vector<Entry> best() const;
};

// Best first: higher score, then higher id.
bool better(const RankCollector::Entry& a, const RankCollector::Entry& b);

// REQUIRES: called once per connection, before any FTS table is used.
Status register_fts(sqlite3* db);

}  // namespace paidoc::store::sqlite
