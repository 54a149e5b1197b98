// FTS5 glue for the SQLite backend: the "paidoc" tokenizer (text::tokenize
// for queries, text::tokenize_for_index for documents) and the auxiliary
// function paidoc_columns(), registered on every connection through
// fts5_api (SELECT fts5(?1) with sqlite3_bind_pointer). Internal to
// store/sqlite/.
//
// paidoc_columns(fts_table) answers, for the current row of a MATCH query,
// an integer holding 3 bits per phrase of the query (phrase i at bits
// 3i..3i+2): bit c is set when phrase i has an instance in column c (0
// title, 1 free text, 2 paid text). Queries built by search.cc have one
// phrase per term, included terms first.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <vector>

#include "common/status.h"

namespace paidoc::store::sqlite {

// paidoc_collect(fts_table, collector) ranks the current row of a MATCH
// query and keeps it if it is among the best `keep` so far; it answers 1
// (0 for a row the collector's filter leaves out).
// One pass over the matches gives the count (rows stepped) and the top
// documents, with no per-row sort or table lookup in SQL. collector is a
// RankCollector* bound with sqlite3_bind_pointer(..., kCollectorPointerType).
//
// Score (higher is better): for each of the first `terms` phrases, the sum
// over columns of weight[column] * tf / (tf + 1.2) — BM25's saturating term
// frequency without its length normalisation and IDF, which would need a
// table lookup per row (document sizes) and a pass per term. Ties go to the
// higher rowid: ids grow with import time, so the newer document wins.
inline constexpr char kCollectorPointerType[] = "paidoc_rank_collector";

struct RankCollector {
  struct Entry {
    double score;
    int64_t id;
    int64_t columns;  // paidoc_columns() mask of this row
  };
  size_t keep = 10;
  int terms = 1;
  // When set, only rows whose id is marked here count and rank (search
  // filters, read from search_facts before the pass); others answer 0.
  const std::vector<bool>* allowed = nullptr;
  int64_t count = 0;  // rows that counted
  double weights[3] = {10.0, 1.0, 1.0};
  std::vector<Entry> heap;  // the worst kept entry at the front
  Status error;             // an FTS5 API failure while ranking

  // The kept entries, best first.
  std::vector<Entry> best() const;
};

// REQUIRES: called once per connection, before any FTS table is used.
Status register_fts(sqlite3* db);

}  // namespace paidoc::store::sqlite
