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

#include "common/status.h"

namespace paidoc::store::sqlite {

// REQUIRES: called once per connection, before any FTS table is used.
Status register_fts(sqlite3* db);

}  // namespace paidoc::store::sqlite
