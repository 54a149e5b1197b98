// Documents' shared row reading and the search half of the SQLite backend.
// Internal to store/sqlite/.
//
// Thread-safety: as Connection: one thread at a time per connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "doc/document.h"
#include "store/search_index.h"
#include "store/sqlite/connection.h"
#include "text/keywords.h"

namespace paidoc::store::sqlite {

// Columns read into a DocumentSummary by read_summary(), in this order
// ("d" is documents, "c" categories).
// The excerpt is the publisher's summary when set, else the free excerpt.
#define PAIDOC_SUMMARY_COLUMNS                                                          \
  "d.id, d.revision, d.title, coalesce(c.name, ''), d.price_fen,"                       \
  " coalesce(nullif(d.summary, ''), d.excerpt), "                                        \
  "d.free_chars, d.paid_chars, d.free_paragraphs, d.paid_paragraphs, d.paid_sections, " \
  "d.has_paid, d.created_at, d.updated_at, d.status, d.publisher_id"
inline constexpr int kSummaryColumnCount = 16;

DocumentSummary read_summary(const Stmt& st);

// The tokenizer generation documents are indexed with. Raise it when
// text::tokenize_for_index changes: rows below it are re-indexed on open
// (4: separator tokens, phrase-level traditional -> simplified).
inline constexpr int kSearchVersion = 4;

// The text columns the index reads: free runs and paid runs, one block per
// line (a heading's label goes with its first run's side).
struct SearchTexts {
  std::string free;
  std::string paid;
};
SearchTexts search_texts(const doc::Document& d);

// The distinct keyword-shaped words of a document (title, free and paid
// text), for the library's document frequencies (keyword_df). The second
// form reuses the paid part's candidates (text::keyword_candidates of
// t.paid), so a writer segments the paid text once, before its lock.
std::vector<std::string> document_words(const std::string& title, const SearchTexts& t);
std::vector<std::string> document_words(const std::string& title, const SearchTexts& t,
                                        const text::KeywordCandidates& paid);
// document_words() of a stored document (kNotFound when absent).
Result<std::vector<std::string>> stored_document_words_in(Connection& c, int64_t id);
// Adds delta to the document frequency of each word and to the document
// count. REQUIRES: a write transaction.
Status add_document_words_in(Connection& c, const std::vector<std::string>& words, int64_t delta);
// The keyword column of a document with these texts: its paid part's
// keywords (text::choose_keywords, TF-IDF over keyword_df) as index
// tokens. REQUIRES: a transaction; the document already counted in
// keyword_df.
Result<std::string> choose_keywords_in(Connection& c, const text::KeywordCandidates& paid);

// REQUIRES: a read transaction on c (total and page from one snapshot).
Result<SearchPage> search_in(Connection& c, const SearchQuery& q);
Result<int64_t> search_count_in(Connection& c, const SearchQuery& q);

// Fills the text and keyword columns of rows indexed by an older
// generation (and so re-indexes them, through the triggers), after
// recounting keyword_df over the whole library. REQUIRES: a write
// transaction.
// Returns how many rows it updated.
Result<int64_t> reindex_stale_in(Connection& c);

}  // namespace paidoc::store::sqlite
