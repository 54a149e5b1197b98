// Search: the gated full-text search service behind /search and
// /api/v1/search.
//
// The store finds and ranks documents over title, free text and paid text
// (store::SearchIndex::search). This service parses what the reader typed, asks
// the store, and decides per hit — through the gate — what may be shown:
//   - a reader without access to a document gets its title and a snippet
//     cut from its FREE text only. Its paid part is consulted only through
//     its keywords (text/keywords.h; CONTEXT.md has the rule): when a term
//     matched one the hit says so (match_in_paid, paid_terms: the term as
//     typed, or the two keywords it matched), and carries no byte of paid
//     text. Phrases, exclusions, prefixes and single characters never
//     consult a locked paid part;
//   - a reader with access (buyer, VIP, publisher, admin) gets the snippet
//     around the paid-text match, cut from the gated view of the document.
//
// Query syntax (parse_query): words separated by spaces (ASCII or U+3000)
// are AND-ed; each word is a phrase of its tokens, so 民主生活会 matches that
// run exactly; "quoted words" (ASCII or “” quotes) form one phrase; a word
// starting with '-' must not appear. A term whose last token is a single
// ideograph matches it as a prefix, so a one-character term finds every
// occurrence of that character.
//
// Thread-safety: Searcher is safe from many threads (the store is).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "gate/gate.h"
#include "library/library.h"
#include "store/search_index.h"

namespace paidoc::search {

// At most this many terms (and as many exclusions) are used; more are
// ignored and reported in Query::ignored.
inline constexpr size_t kMaxTerms = 8;

struct Term {
  std::string text;     // as typed (quotes and leading '-' removed)
  bool quoted = false;
  bool operator==(const Term&) const = default;
};

struct Query {
  std::vector<Term> terms;
  std::vector<Term> excluded;
  // Words that cannot be searched: no letters, digits or ideographs
  // ("，", "😀"), or beyond kMaxTerms.
  std::vector<std::string> ignored;
  bool empty() const { return terms.empty(); }
  // The query written back in the syntax above ("a b -c \"d e\"").
  std::string to_string() const;
};

Query parse_query(std::string_view q);

struct Request {
  std::string q;
  std::string category;  // empty: all
  store::PriceFilter price = store::PriceFilter::kAny;
  bool newest_first = false;  // false: by relevance
  int64_t page = 1;           // 1-based; values below 1 are read as 1
  int64_t per_page = 10;      // clamped to 1..50
};

// A piece of shown text; mark: a matched term, shown highlighted.
struct Span {
  std::string text;
  bool mark = false;
  bool operator==(const Span&) const = default;
};

struct Hit {
  int64_t id = 0;
  std::string title;
  std::vector<Span> title_spans;  // the title with matched terms marked
  std::string category;
  Fen price;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  bool has_paid_text = false;
  bool locked = false;           // the viewer cannot read the paid part
  std::vector<Span> snippet;     // see the file comment
  bool snippet_from_paid = false;  // only ever true for a viewer with access
  bool match_in_paid = false;      // some term was found only in the paid text
  // Those terms, as typed; a term that matched a locked paid part through
  // two keywords (绩效扣款 -> 绩效, 扣款) gives those two.
  std::vector<std::string> paid_terms;

  // The snippet as plain text, and the title / snippet as HTML with
  // matched terms in <mark> (everything escaped).
  std::string snippet_text() const;
  std::string title_html() const;
  std::string snippet_html() const;
};

// For a query without results: the same query with one term dropped (or a
// filter removed) and how many documents it finds.
struct Suggestion {
  std::string q;
  std::string dropped;       // the term left out; empty when a filter was removed
  bool without_filters = false;
  int64_t total = 0;
};

struct Results {
  Query query;
  int64_t total = 0;
  int64_t page = 1;
  int64_t pages = 0;
  int64_t per_page = 10;
  std::vector<Hit> hits;
  std::vector<Suggestion> suggestions;  // only when total == 0
};

class Searcher {
 public:
  // Finds documents in `index` and gates each hit through the library's
  // views. REQUIRES: both outlive the searcher.
  Searcher(store::SearchIndex& index, library::Library& library)
      : index_(index), library_(library) {}

  // An empty query (nothing searchable) answers empty Results, not an
  // error. Store failures come back as their Status.
  Result<Results> search(const Request& request, const gate::Viewer& viewer);

 private:
  store::SearchIndex& index_;
  library::Library& library_;
};

// Snippet helpers, public for tests.
//
// Byte ranges [first, second) in `text` where one of `terms` matches with
// the same token rules as the index (see the file comment), in text order.
std::vector<std::pair<int, int>> find_matches(std::string_view text,
                                              const std::vector<Term>& terms);
// `text` with the ranges marked (ranges sorted, non-overlapping).
std::vector<Span> mark_all(std::string_view text, const std::vector<std::pair<int, int>>& ranges);
// A window of about `max_chars` characters of `text` around ranges[focus]
// (the start of the text when ranges is empty), with "…" where it was cut
// and the ranges inside it marked. Newlines become spaces.
std::vector<Span> cut_snippet(std::string_view text, const std::vector<std::pair<int, int>>& ranges,
                              size_t focus, int max_chars = 80);

// A snippet, and the bytes [start, end) of the text it shows.
struct Snippet {
  std::vector<Span> spans;
  int start = 0;
  int end = 0;
};
// The snippet of `text` for a query: of all windows of max_chars
// characters, the one holding whole matches of the most distinct `terms`;
// among those, the one where they take the fewest characters (the terms
// stand closest); then the earliest. So whenever some window of that
// length holds every term, the snippet shows every term. It starts up to
// 16 characters before the window's first match (less when what the
// window holds needs the room, or at the start of a line), every match
// inside marked. With `must_show` (some of `terms`), only windows holding
// a match of one of them count, when the text has one. No match: the
// start of the text.
Snippet best_snippet(std::string_view text, const std::vector<Term>& terms,
                     const std::vector<Term>& must_show = {}, int max_chars = 80);

}  // namespace paidoc::search
