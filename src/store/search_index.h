// SearchIndex: the full-text search domain of the store.
//
// The index holds four columns per document — title, free text and paid
// text, tokenized by text::tokenize_for_index, and the paid part's
// keywords (text::choose_keywords, chosen when the document is stored) —
// and is kept in step with the documents table inside the same
// transaction as every change to it (DocumentStore::put_document). There is
// no separate write path: the index is written only through documents.
//
// Ownership and errors as in documents.h. Thread-safety: safe from many
// threads; each call reads one consistent snapshot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/documents.h"

namespace paidoc::store {

enum class PriceFilter { kAny, kFree, kPaid };

// The documents whose paid text a viewer may search in full (built by
// gate::paid_scope from the viewer). For every other document the paid
// part is searched only through its keywords (text/keywords.h): a term
// consults them only when it is keyword-shaped (text::keyword_probe), and
// exclusions, phrases, prefixes and single characters never do. The
// default is an anonymous viewer's scope.
struct PaidScope {
  bool all = false;                     // every document (admin, VIP)
  bool free_price = true;               // documents priced 0
  std::optional<int64_t> publisher_id;  // documents this user published
  std::vector<int64_t> ids;             // these documents (purchases)
};

struct SearchQuery {
  // Each term is text as the reader typed it (a word or a quoted phrase).
  // The backend matches it as the phrase of its tokens (text::tokenize) in
  // any column; a term whose last token is a single ideograph matches that
  // token as a prefix, so one-character terms find every occurrence. Every
  // term must match (AND); no excluded term may match anywhere.
  // REQUIRES: at least one term, and every term and excluded term has at
  // least one token (kInvalidArgument otherwise); at most 16 of each.
  std::vector<std::string> terms;
  std::vector<std::string> excluded;
  std::string category;  // empty: all
  PriceFilter price = PriceFilter::kAny;
  PaidScope paid_scope;
  // false: relevance (saturating term frequency with the title weighted
  // far above free and paid text, which weigh the same; a keyword match
  // counts as one paid occurrence; plus a bonus for neighbouring terms
  // standing together, store/proximity.h, read only from text the
  // viewer may search as text), ties broken by the newer document;
  // true: newest first (by id: ids grow with import time).
  bool newest_first = false;
  int64_t offset = 0;
  int64_t limit = 10;  // REQUIRES: 1..100
};

// Where a term was found, as a bit mask.
enum MatchColumn : unsigned { kInTitle = 1, kInFree = 2, kInPaid = 4 };

struct SearchHit {
  DocumentSummary summary;
  std::optional<int64_t> publisher_id;  // for the gate
  // The free runs of the document, one block per line. Never paid text:
  // snippets for readers without access are cut from this.
  std::string free_text;
  // Per SearchQuery::terms entry, a MatchColumn mask of where it matched.
  std::vector<unsigned> term_columns;
  // Per SearchQuery::terms entry, the keywords (normalised) through which
  // it matched a paid part outside the viewer's PaidScope: the whole term,
  // or its two parts; empty when it did not match that way.
  std::vector<std::vector<std::string>> term_keywords;
};

struct SearchPage {
  std::vector<SearchHit> hits;
  int64_t total = 0;  // matching documents in all pages
};

class SearchIndex {
 public:
  virtual ~SearchIndex() = default;

  // Full-text search (see SearchQuery). Hits carry no paid text. No match
  // is an empty page, not an error.
  virtual Result<SearchPage> search(const SearchQuery& q) = 0;
  // How many documents match (category and price filters apply; paging
  // does not). For "no results" suggestions.
  virtual Result<int64_t> search_count(const SearchQuery& q) = 0;
};

}  // namespace paidoc::store
