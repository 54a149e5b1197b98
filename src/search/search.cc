#include "search/search.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include "search/clean.h"
#include "text/text.h"

namespace paidoc::search {
namespace {

// Bytes of the control character (C0, DEL or C1: U+0080..U+009F) at s[i];
// 0 when s[i] does not start one.
size_t control_len(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x20 || c == 0x7F) return 1;
  if (c == 0xC2 && i + 1 < s.size()) {
    const auto d = static_cast<unsigned char>(s[i + 1]);
    if (d >= 0x80 && d <= 0x9F) return 2;
  }
  return 0;
}

// Whitespace between terms: ASCII space/tab/newline and U+3000.
size_t space_len(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return 1;
  if (s.compare(i, 3, "\xE3\x80\x80") == 0) return 3;
  return 0;
}

// An opening or closing quote: ASCII '"' or “ ” (U+201C, U+201D).
size_t quote_len(std::string_view s, size_t i) {
  if (s[i] == '"') return 1;
  if (s.compare(i, 3, "\xE2\x80\x9C") == 0 || s.compare(i, 3, "\xE2\x80\x9D") == 0) return 3;
  return 0;
}

// The exclusion sign before a term: ASCII '-' or the full-width － (U+FF0D)
// that Chinese input methods type.
size_t minus_len(std::string_view s, size_t i) {
  if (s[i] == '-') return 1;
  if (s.compare(i, 3, "\xEF\xBC\x8D") == 0) return 3;
  return 0;
}

bool searchable(const std::string& t) { return !text::tokenize(t).empty(); }

std::string escape_html(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string spans_html(const std::vector<Span>& spans) {
  std::string out;
  for (const Span& s : spans) {
    if (s.mark) {
      out += "<mark>" + escape_html(s.text) + "</mark>";
    } else {
      out += escape_html(s.text);
    }
  }
  return out;
}

// A term as the index matches it: its tokens in order, the last one a
// prefix when it is a single ideograph; an empty token stands for a
// separator run (text::Token::gap), which takes a position of its own.
struct Phrase {
  std::vector<std::string> tokens;
  bool prefix_last = false;
};

Phrase phrase_of(const Term& t) {
  Phrase p;
  for (text::Token& tok : text::tokenize(t.text)) {
    if (tok.gap) p.tokens.emplace_back();
    p.tokens.push_back(std::move(tok.text));
  }
  p.prefix_last = !p.tokens.empty() && text::is_single_ideograph(p.tokens.back());
  return p;
}

// Index-mode tokens grouped by position, as FTS5 sees them: a colocated
// token shares the position of the token before it, and a separator run
// takes an empty position of its own.
struct Position {
  std::vector<const text::Token*> tokens;
};

std::vector<Position> positions_of(const std::vector<text::Token>& tokens) {
  std::vector<Position> out;
  for (const text::Token& t : tokens) {
    if (t.gap && !out.empty()) out.emplace_back();
    if (!t.colocated || out.empty()) out.emplace_back();
    out.back().tokens.push_back(&t);
  }
  return out;
}

const text::Token* match_at(const Position& pos, const std::string& want, bool prefix) {
  for (const text::Token* t : pos.tokens) {
    if (prefix ? t->text.compare(0, want.size(), want) == 0 : t->text == want) return t;
  }
  return nullptr;
}

// Bytes of the UTF-8 character led by b (1 for a stray byte).
int utf8_length(unsigned char b) {
  if (b >= 0xF0) return 4;
  if (b >= 0xE0) return 3;
  if (b >= 0xC0) return 2;
  return 1;
}

void clip_utf8_start(std::string_view text, int& i) {
  while (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) --i;
}

}  // namespace

std::string Query::to_string() const {
  std::string out;
  auto add = [&](const Term& t, bool minus) {
    if (!out.empty()) out += ' ';
    if (minus) out += '-';
    if (t.quoted) {
      out += '"' + t.text + '"';
    } else {
      out += t.text;
    }
  };
  for (const Term& t : terms) add(t, false);
  for (const Term& t : excluded) add(t, true);
  return out;
}

std::string clean_query(std::string_view q) {
  std::string out;
  out.reserve(q.size());
  for (size_t i = 0; i < q.size();) {
    if (size_t c = control_len(q, i)) {
      out.push_back(' ');
      i += c;
    } else {
      out.push_back(q[i++]);
    }
  }
  return out;
}

Query parse_query(std::string_view raw) {
  // Control characters are separators, before anything else reads the
  // text: none of them reaches a term, so none reaches the index's query
  // language (where a NUL ended the string early).
  const std::string cleaned = clean_query(raw);
  const std::string_view q = cleaned;
  Query out;
  size_t i = 0;
  const size_t n = q.size();
  while (i < n) {
    if (size_t sp = space_len(q, i)) {
      i += sp;
      continue;
    }
    bool minus = false;
    if (size_t ml = minus_len(q, i); ml > 0 && i + ml < n && !space_len(q, i + ml)) {
      minus = true;
      i += ml;
    }
    Term term;
    if (size_t ql = quote_len(q, i)) {
      // A quoted phrase runs to the next quote (or the end).
      size_t j = i + ql;
      size_t close = j;
      while (close < n && !quote_len(q, close)) ++close;
      term.text = std::string(q.substr(j, close - j));
      term.quoted = true;
      i = close < n ? close + quote_len(q, close) : n;
    } else {
      size_t j = i;
      while (j < n && !space_len(q, j) && !quote_len(q, j)) ++j;
      term.text = std::string(q.substr(i, j - i));
      i = j;
    }
    if (term.text.empty()) continue;
    if (!text::valid_utf8(term.text) || !searchable(term.text)) {
      out.ignored.push_back(term.text);
      continue;
    }
    std::vector<Term>& list = minus ? out.excluded : out.terms;
    if (list.size() >= kMaxTerms) {
      out.ignored.push_back(term.text);
      continue;
    }
    if (std::find(list.begin(), list.end(), term) == list.end()) list.push_back(std::move(term));
  }
  // Excluding without including anything is not a search.
  if (out.terms.empty()) {
    for (const Term& t : out.excluded) out.ignored.push_back("-" + t.text);
    out.excluded.clear();
  }
  return out;
}

namespace {

// One occurrence of one term: bytes [start, end) of the text, and the
// term's index in the list searched for.
struct TermMatch {
  int start = 0;
  int end = 0;
  size_t term = 0;
};

// Every occurrence of every term, sorted by start (then end); occurrences
// of different terms may overlap.
std::vector<TermMatch> term_matches(std::string_view text, const std::vector<Term>& terms) {
  std::vector<TermMatch> out;
  if (terms.empty() || text.empty()) return out;
  const std::vector<text::Token> tokens = text::tokenize_for_index(text);
  const std::vector<Position> positions = positions_of(tokens);
  for (size_t ti = 0; ti < terms.size(); ++ti) {
    const Phrase p = phrase_of(terms[ti]);
    if (p.tokens.empty()) continue;
    const size_t k = p.tokens.size();
    for (size_t at = 0; at + k <= positions.size(); ++at) {
      const text::Token* first = nullptr;
      const text::Token* last = nullptr;
      bool ok = true;
      for (size_t j = 0; j < k && ok; ++j) {
        if (p.tokens[j].empty()) {  // a separator run
          ok = positions[at + j].tokens.empty();
          continue;
        }
        const text::Token* t = match_at(positions[at + j], p.tokens[j], p.prefix_last && j + 1 == k);
        if (!t) {
          ok = false;
        } else {
          if (j == 0) first = t;
          last = t;
        }
      }
      if (!ok) continue;
      int end = last->end;
      // A prefix match marks only the typed character, not the whole bigram.
      if (p.prefix_last && last->text.size() > p.tokens.back().size()) {
        end = last->start + utf8_length(static_cast<unsigned char>(text[last->start]));
      }
      out.push_back({first->start, end, ti});
    }
  }
  std::sort(out.begin(), out.end(), [](const TermMatch& a, const TermMatch& b) {
    return a.start != b.start ? a.start < b.start : a.end < b.end;
  });
  return out;
}

// Sorted, overlapping ranges merged.
std::vector<std::pair<int, int>> merged_ranges(const std::vector<TermMatch>& matches) {
  std::vector<std::pair<int, int>> merged;
  for (const TermMatch& m : matches) {
    const std::pair<int, int> r(m.start, m.end);
    if (!merged.empty() && r.first < merged.back().second) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

}  // namespace

std::vector<std::pair<int, int>> find_matches(std::string_view text,
                                              const std::vector<Term>& terms) {
  return merged_ranges(term_matches(text, terms));
}

std::vector<Span> mark_all(std::string_view text, const std::vector<std::pair<int, int>>& ranges) {
  std::vector<Span> out;
  int at = 0;
  for (const auto& [a, b] : ranges) {
    if (a > at) out.push_back({std::string(text.substr(at, a - at)), false});
    out.push_back({std::string(text.substr(a, b - a)), true});
    at = b;
  }
  if (at < static_cast<int>(text.size())) out.push_back({std::string(text.substr(at)), false});
  return out;
}

namespace {

// Characters of context shown before the first match of a snippet.
constexpr int kLeadChars = 16;

// The byte offset `count` characters before `from`, stopping at the start
// of from's line (a snippet does not reach into the previous block).
int back_chars(std::string_view text, int from, int count) {
  int i = from;
  while (count > 0 && i > 0) {
    --i;
    clip_utf8_start(text, i);
    if (text[i] == '\n') {
      ++i;
      break;
    }
    --count;
  }
  return i;
}

// max_chars characters of `text` from byte `start` (longer if a marked
// range would be cut at the end), with the ranges inside marked.
Snippet cut_at(std::string_view text, const std::vector<std::pair<int, int>>& ranges, int start,
               int max_chars) {
  int end = start;
  int chars = 0;
  const int n = static_cast<int>(text.size());
  while (end < n && chars < max_chars) {
    end = std::min(n, end + utf8_length(static_cast<unsigned char>(text[end])));
    ++chars;
  }
  // Do not cut through a marked range at the end.
  for (const auto& [a, b] : ranges) {
    if (a < end && b > end) end = b;
  }
  std::vector<std::pair<int, int>> inside;
  for (const auto& [a, b] : ranges) {
    if (a >= start && b <= end) inside.emplace_back(a - start, b - start);
  }
  std::string window(text.substr(start, end - start));
  std::replace(window.begin(), window.end(), '\n', ' ');
  Snippet out;
  out.start = start;
  out.end = end;
  out.spans = mark_all(window, inside);
  if (start > 0) out.spans.insert(out.spans.begin(), Span{"…", false});
  if (end < n) out.spans.push_back(Span{"…", false});
  return out;
}

// Character index of each offset (sorted or not) in `text`, in one pass.
std::vector<int> char_indexes(std::string_view text, const std::vector<int>& offsets) {
  std::vector<size_t> order(offsets.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return offsets[a] < offsets[b]; });
  std::vector<int> out(offsets.size());
  int at = 0;
  int chars = 0;
  for (size_t k : order) {
    for (; at < offsets[k] && at < static_cast<int>(text.size()); ++at) {
      if ((static_cast<unsigned char>(text[at]) & 0xC0) != 0x80) ++chars;
    }
    out[k] = chars;
  }
  return out;
}

}  // namespace

std::vector<Span> cut_snippet(std::string_view text, const std::vector<std::pair<int, int>>& ranges,
                              size_t focus, int max_chars) {
  // Start a few characters before the focused match.
  const int start = focus < ranges.size() ? back_chars(text, ranges[focus].first, kLeadChars) : 0;
  return cut_at(text, ranges, start, max_chars).spans;
}

Snippet best_snippet(std::string_view text, const std::vector<Term>& terms,
                     const std::vector<Term>& must_show, int max_chars) {
  const std::vector<TermMatch> matches = term_matches(text, terms);
  const std::vector<std::pair<int, int>> ranges = merged_ranges(matches);
  if (matches.empty()) return cut_at(text, ranges, 0, max_chars);
  // Terms beyond 64 are not told apart (the service sends at most kMaxTerms).
  auto bit = [](size_t term) { return term < 64 ? uint64_t{1} << term : 0; };
  uint64_t required = 0;
  for (size_t t = 0; t < terms.size(); ++t) {
    if (std::find(must_show.begin(), must_show.end(), terms[t]) != must_show.end()) required |= bit(t);
  }
  bool required_seen = false;
  for (const TermMatch& m : matches) required_seen = required_seen || (bit(m.term) & required);
  if (!required_seen) required = 0;

  std::vector<int> offsets;
  offsets.reserve(matches.size() * 2);
  for (const TermMatch& m : matches) {
    offsets.push_back(m.start);
    offsets.push_back(m.end);
  }
  const std::vector<int> at = char_indexes(text, offsets);
  auto first_char = [&](size_t i) { return at[2 * i]; };
  auto end_char = [&](size_t i) { return at[2 * i + 1]; };

  // A window that holds some matches can slide right until its first
  // match starts it, still holding them all: so the windows worth trying
  // start at a match. Each is judged by the distinct terms it holds whole
  // (more is better), then by how many characters it takes to show them
  // (fewer: the terms stand closer), then by its start (earlier).
  size_t best = matches.size();
  int best_terms = 0;
  int best_extent = 0;
  for (size_t i = 0; i < matches.size(); ++i) {
    uint64_t seen = 0;
    int count = 0;
    int reach = end_char(i);  // the end of the furthest match taken
    int extent = 0;
    for (size_t j = i; j < matches.size() && first_char(j) - first_char(i) < max_chars; ++j) {
      if (end_char(j) - first_char(i) > max_chars) continue;
      reach = std::max(reach, end_char(j));
      const uint64_t b = bit(matches[j].term);
      if (seen & b) continue;
      seen |= b;
      ++count;
      extent = reach - first_char(i);
    }
    if (required != 0 && !(seen & required)) continue;
    const bool better = best == matches.size() || count > best_terms ||
                        (count == best_terms && count > 1 && extent < best_extent);
    if (better) {
      best = i;
      best_terms = count;
      best_extent = extent;
    }
  }
  if (best == matches.size()) {
    // Only a match longer than a window holds a term that must show: start
    // at the first such match.
    best = 0;
    while (best + 1 < matches.size() && !(bit(matches[best].term) & required)) ++best;
  }
  // Context before the window's first match, as much as leaves room for
  // what it holds.
  const int lead = std::clamp(max_chars - best_extent, 0, kLeadChars);
  return cut_at(text, ranges, back_chars(text, matches[best].start, lead), max_chars);
}

std::string Hit::snippet_text() const {
  std::string out;
  for (const Span& s : snippet) out += s.text;
  return out;
}

std::string Hit::title_html() const { return spans_html(title_spans); }
std::string Hit::snippet_html() const { return spans_html(snippet); }

namespace {

std::vector<std::string> term_texts(const std::vector<Term>& terms) {
  std::vector<std::string> out;
  for (const Term& t : terms) out.push_back(t.text);
  return out;
}

// The full text of a view a reader may see, one block per line, and the
// byte ranges of blocks that came from the paid part.
struct ViewText {
  std::string text;
  std::vector<std::pair<int, int>> paid;
};

ViewText view_text(const gate::DocumentView& v) {
  ViewText out;
  for (const gate::ViewBlock& b : v.blocks) {
    if (b.kind == gate::ViewBlock::Kind::kLocked) continue;
    if (!out.text.empty()) out.text += '\n';
    const int start = static_cast<int>(out.text.size());
    out.text += b.label;
    out.text += b.text;
    if (b.paid) out.paid.emplace_back(start, static_cast<int>(out.text.size()));
  }
  return out;
}

store::PaidScope store_scope(const gate::PaidScope& g) {
  store::PaidScope s;
  s.all = g.all;
  s.free_price = g.free_price;
  s.publisher_id = g.publisher_id;
  s.ids = g.purchased;
  return s;
}

// Whether bytes [start, end) share a byte with one of the blocks.
bool overlaps(const std::vector<std::pair<int, int>>& blocks, int start, int end) {
  for (const auto& [a, b] : blocks) {
    if (a < end && start < b) return true;
  }
  return false;
}

}  // namespace

Result<Results> Searcher::search(const Request& request, const gate::Viewer& viewer) {
  Results out;
  out.query = parse_query(request.q);
  out.per_page = std::clamp<int64_t>(request.per_page, 1, 50);
  out.page = std::max<int64_t>(request.page, 1);
  if (out.query.empty()) return out;

  store::SearchQuery sq;
  sq.terms = term_texts(out.query.terms);
  sq.excluded = term_texts(out.query.excluded);
  sq.category = request.category;
  sq.price = request.price;
  sq.newest_first = request.newest_first;
  sq.paid_scope = store_scope(gate::paid_scope(viewer));
  sq.limit = out.per_page;
  // Far pages are not worth the sort: stop at page 100.
  out.page = std::min<int64_t>(out.page, 100);
  sq.offset = (out.page - 1) * out.per_page;

  Result<store::SearchPage> page = index_.search(sq);
  if (!page.ok()) return page.status();
  out.total = page->total;
  out.pages = (out.total + out.per_page - 1) / out.per_page;

  for (store::SearchHit& h : page->hits) {
    Hit hit;
    const store::DocumentSummary& s = h.summary;
    hit.id = s.id;
    hit.title = s.title;
    hit.category = s.category;
    hit.price = s.price;
    hit.created_at = s.created_at;
    hit.updated_at = s.updated_at;
    hit.has_paid_text = s.has_paid_text;
    hit.title_spans = mark_all(s.title, find_matches(s.title, out.query.terms));

    std::vector<Term> paid_only;
    for (size_t i = 0; i < out.query.terms.size() && i < h.term_columns.size(); ++i) {
      const unsigned cols = h.term_columns[i];
      if ((cols & store::kInPaid) && !(cols & (store::kInTitle | store::kInFree))) {
        paid_only.push_back(out.query.terms[i]);
        // Through keywords: the term as typed when it is one keyword, else
        // the two keywords it matched (they need not stand together).
        const std::vector<std::string>* keys =
            i < h.term_keywords.size() ? &h.term_keywords[i] : nullptr;
        if (keys != nullptr && keys->size() > 1) {
          hit.paid_terms.insert(hit.paid_terms.end(), keys->begin(), keys->end());
        } else {
          hit.paid_terms.push_back(out.query.terms[i].text);
        }
      }
    }
    hit.match_in_paid = !paid_only.empty();

    const gate::Access access =
        gate::decide({s.id, s.price, h.publisher_id, s.has_paid_text}, viewer);
    hit.locked = s.has_paid_text && gate::locked(access);

    if (hit.match_in_paid && !gate::locked(access)) {
      // The viewer may read the paid part: cut the snippet around the paid
      // match from the gated view (never from the store row directly).
      Result<gate::DocumentView> view = library_.view(s.id, viewer);
      if (!view.ok()) return view.status();
      if (!view->locked) {
        ViewText vt = view_text(*view);
        // A window holding a paid match, and as many terms as one can.
        Snippet snippet = best_snippet(vt.text, out.query.terms, paid_only);
        hit.snippet_from_paid = overlaps(vt.paid, snippet.start, snippet.end);
        hit.snippet = std::move(snippet.spans);
        out.hits.push_back(std::move(hit));
        continue;
      }
    }
    // Free text only.
    hit.snippet = best_snippet(h.free_text, out.query.terms).spans;
    out.hits.push_back(std::move(hit));
  }

  if (out.total == 0) {
    // Suggestions: each term dropped in turn, then the filters removed.
    if (out.query.terms.size() > 1) {
      for (size_t i = 0; i < out.query.terms.size(); ++i) {
        Query q = out.query;
        q.terms.erase(q.terms.begin() + static_cast<long>(i));
        store::SearchQuery cq = sq;
        cq.terms = term_texts(q.terms);
        cq.offset = 0;
        Result<int64_t> n = index_.search_count(cq);
        if (!n.ok()) return n.status();
        if (*n > 0) out.suggestions.push_back({q.to_string(), out.query.terms[i].text, false, *n});
      }
      std::stable_sort(out.suggestions.begin(), out.suggestions.end(),
                       [](const Suggestion& a, const Suggestion& b) { return a.total > b.total; });
    }
    if (!request.category.empty() || request.price != store::PriceFilter::kAny) {
      store::SearchQuery cq = sq;
      cq.category.clear();
      cq.price = store::PriceFilter::kAny;
      cq.offset = 0;
      Result<int64_t> n = index_.search_count(cq);
      if (!n.ok()) return n.status();
      if (*n > 0) out.suggestions.push_back({out.query.to_string(), "", true, *n});
    }
  }
  return out;
}

}  // namespace paidoc::search
