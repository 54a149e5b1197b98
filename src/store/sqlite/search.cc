#include "store/sqlite/search.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "store/proximity.h"
#include "store/sqlite/fts.h"
#include "text/keywords.h"
#include "text/text.h"

namespace paidoc::store::sqlite {
namespace {

// A search runs in two steps. The first finds, filters, ranks and pages the
// matching ids in one pass over the FTS index (paidoc_collect), with the
// filters read first from the narrow search_facts table (migration 7); the
// second reads the summary and free text of the page's documents alone.
constexpr char kCollect[] =
    "SELECT paidoc_collect(documents_fts, ?2) FROM documents_fts WHERE documents_fts MATCH ?1";
// The ids a filtered search may return (?1 category or '', ?2 price filter).
constexpr char kAllowedIds[] =
    "SELECT s.id FROM search_facts s"
    " WHERE (?1 = '' OR s.category_id = (SELECT id FROM categories WHERE name = ?1))"
    " AND (?2 = 0 OR (?2 = 1 AND (s.price_fen = 0 OR s.has_paid = 0))"
    "      OR (?2 = 2 AND s.price_fen > 0 AND s.has_paid = 1))";
// Documents with paid text that everyone may read (price 0), and those a
// publisher published (PaidScope).
constexpr char kFreePricedIds[] =
    "SELECT id FROM search_facts WHERE has_paid = 1 AND price_fen = 0";
constexpr char kPublishedIds[] = "SELECT id FROM search_facts WHERE publisher_id = ?1";
// Drafts: never found by search (documents_drafts index).
constexpr char kDraftIds[] = "SELECT id FROM documents WHERE status = 'draft'";

constexpr char kHitRow[] =
    "SELECT " PAIDOC_SUMMARY_COLUMNS ", d.publisher_id, d.search_free"
    " FROM documents d LEFT JOIN categories c ON c.id = d.category_id WHERE d.id = ?1";
constexpr char kStaleRows[] =
    "SELECT id, parsed_json FROM documents WHERE search_version < ?1 LIMIT 500";
constexpr char kSetSearchTexts[] =
    "UPDATE documents SET search_free = ?2, search_paid = ?3, search_keys = ?4,"
    " search_version = ?5 WHERE id = ?1";
constexpr char kAnyStale[] = "SELECT 1 FROM documents WHERE search_version < ?1 LIMIT 1";
constexpr char kAllParsed[] = "SELECT parsed_json FROM documents";
constexpr char kOneParsed[] = "SELECT parsed_json FROM documents WHERE id = ?1";
constexpr char kClearDf[] = "DELETE FROM keyword_df";
constexpr char kSetDf[] = "INSERT INTO keyword_df (word, df) VALUES (?1, ?2)";
// Word lists go in as one JSON array (?1): one statement per document,
// not one per word.
constexpr char kGetDf[] =
    "SELECT k.word, k.df FROM json_each(?1) j JOIN keyword_df k ON k.word = j.value";
// The inserted row passes CHECK (df >= 0) before the conflict is seen,
// so a negative delta is applied by the update alone. ("WHERE true" lets
// SQLite parse ON CONFLICT after a SELECT.)
constexpr char kAddDf[] =
    "INSERT INTO keyword_df (word, df) SELECT value, max(?2, 0) FROM json_each(?1) WHERE true"
    " ON CONFLICT (word) DO UPDATE SET df = max(df + ?2, 0)";

// One term as an FTS5 phrase: the text in double quotes (FTS5 hands it to
// the paidoc tokenizer, so the phrase is exactly the term's tokens), with
// a trailing * when the last token is a single ideograph.
Result<std::string> phrase(const std::string& term) {
  if (!text::valid_utf8(term)) return Status::invalid("search term is not valid UTF-8");
  std::vector<text::Token> tokens = text::tokenize(term);
  if (tokens.empty()) return Status::invalid("search term '" + term + "' has nothing to search for");
  std::string out = "\"";
  for (char ch : term) {
    if (ch == '"') out += "\"\"";
    else out.push_back(ch);
  }
  out += '"';
  if (text::is_single_ideograph(tokens.back().text)) out += '*';
  return out;
}

// One MATCH expression and what each of its phrases is (fts.h).
struct Expression {
  std::string text;
  std::vector<PhraseRole> phrases;
  // Per term, its keyword probe (locked expressions only).
  std::vector<text::KeywordProbe> probes;
};

constexpr unsigned kTextColumns = (1u << kTitleColumn) | (1u << kFreeColumn);
constexpr unsigned kAllTextColumns = kTextColumns | (1u << kPaidColumn);

std::string column_filter(unsigned columns) {
  return columns == kAllTextColumns ? "{title search_free search_paid} : "
                                    : "{title search_free} : ";
}

// (t1 AND t2 ...) NOT x1 NOT x2 ...
//  - open (the viewer may read the paid text): every phrase over title,
//    free and paid text;
//  - locked: phrases over title and free text only; a keyword-shaped term
//    may also match the keyword column, as a whole or by its two parts.
//    Exclusions never look at paid text.
Result<Expression> match_expression(const SearchQuery& q, bool locked) {
  if (q.terms.empty()) return Status::invalid("search needs at least one term");
  if (q.terms.size() > 16 || q.excluded.size() > 16) {
    return Status::invalid("search takes at most 16 terms and 16 exclusions");
  }
  const unsigned columns = locked ? kTextColumns : kAllTextColumns;
  Expression e;
  e.text = "(";
  for (size_t i = 0; i < q.terms.size(); ++i) {
    auto p = phrase(q.terms[i]);
    if (!p.ok()) return p.status();
    const int term = static_cast<int>(i);
    if (i) e.text += " AND ";
    e.text += "(" + column_filter(columns) + *p;
    e.phrases.push_back({term, columns, -1});
    if (locked) {
      text::KeywordProbe probe = text::keyword_probe(q.terms[i]);
      if (!probe.empty()) {
        constexpr unsigned kKeys = 1u << kKeywordColumn;
        e.text += " OR search_keys : \"" + text::keyword_token(probe.whole) + "\"";
        e.phrases.push_back({term, kKeys, 0});
        if (probe.parts.size() == 2) {
          e.text += " OR (search_keys : \"" + text::keyword_token(probe.parts[0]) +
                    "\" AND search_keys : \"" + text::keyword_token(probe.parts[1]) + "\")";
          e.phrases.push_back({term, kKeys, 1});
          e.phrases.push_back({term, kKeys, 2});
        }
      }
      e.probes.push_back(std::move(probe));
    }
    e.text += ")";
  }
  e.text += ")";
  for (const std::string& x : q.excluded) {
    auto p = phrase(x);
    if (!p.ok()) return p.status();
    e.text += " NOT " + column_filter(columns) + *p;
    e.phrases.push_back({-1, columns, -1});
  }
  return e;
}

int64_t price_code(PriceFilter p) {
  switch (p) {
    case PriceFilter::kAny: return 0;
    case PriceFilter::kFree: return 1;
    case PriceFilter::kPaid: return 2;
  }
  return 0;
}

void append_line(std::string& out, const std::string& s) {
  if (s.empty()) return;
  if (!out.empty()) out += '\n';
  out += s;
}

}  // namespace

DocumentSummary read_summary(const Stmt& st) {
  DocumentSummary s;
  s.id = st.int64(0);
  s.revision = st.int64(1);
  s.title = st.text(2);
  s.category = st.text(3);
  s.price = Fen(st.int64(4));
  s.excerpt = st.text(5);
  s.figures.free_chars = st.int64(6);
  s.figures.paid_chars = st.int64(7);
  s.figures.free_paragraphs = st.int64(8);
  s.figures.paid_paragraphs = st.int64(9);
  s.figures.paid_sections = static_cast<int>(st.int64(10));
  s.has_paid_text = st.int64(11) != 0;
  s.created_at = st.int64(12);
  s.updated_at = st.int64(13);
  s.status = parse_doc_status(st.text(14)).value_or(DocStatus::kDraft);
  if (!st.is_null(15)) s.publisher_id = st.int64(15);
  return s;
}

SearchTexts search_texts(const doc::Document& d) {
  SearchTexts out;
  for (const doc::Block& b : d.blocks) {
    std::string free_line;
    std::string paid_line;
    for (size_t i = 0; i < b.runs.size(); ++i) {
      const doc::Run& r = b.runs[i];
      std::string& line = r.paid ? paid_line : free_line;
      if (i == 0) line += b.label;
      line += r.text;
    }
    if (b.runs.empty()) free_line = b.label;
    append_line(out.free, free_line);
    append_line(out.paid, paid_line);
  }
  return out;
}

namespace {

// Marks every id the statement's first column yields.
Status mark_ids(Stmt& st, std::vector<bool>& set) {
  for (;;) {
    auto row = st.step();
    if (!row.ok()) return row.status();
    if (!*row) return Status();
    const int64_t id = st.int64(0);
    if (id < 0) continue;
    if (static_cast<size_t>(id) >= set.size()) set.resize(static_cast<size_t>(id) + 1);
    set[static_cast<size_t>(id)] = true;
  }
}

// The ids the category and price filters allow.
Status filter_ids(Connection& c, const SearchQuery& q, std::vector<bool>& out) {
  auto st = c.stmt(kAllowedIds);
  if (!st.ok()) return st.status();
  st->bind(1, q.category).bind(2, price_code(q.price));
  return mark_ids(*st, out);
}

// The documents outside `all` whose paid text the scope lets the viewer
// search in full.
Status scope_ids(Connection& c, const PaidScope& scope, std::vector<bool>& out) {
  if (scope.free_price) {
    auto st = c.stmt(kFreePricedIds);
    if (!st.ok()) return st.status();
    if (Status s = mark_ids(*st, out); !s.is_ok()) return s;
  }
  if (scope.publisher_id) {
    auto st = c.stmt(kPublishedIds);
    if (!st.ok()) return st.status();
    st->bind(1, *scope.publisher_id);
    if (Status s = mark_ids(*st, out); !s.is_ok()) return s;
  }
  for (int64_t id : scope.ids) {
    if (id < 0) continue;
    if (static_cast<size_t>(id) >= out.size()) out.resize(static_cast<size_t>(id) + 1);
    out[static_cast<size_t>(id)] = true;
  }
  return Status();
}

bool any(const std::vector<bool>& set) {
  return std::find(set.begin(), set.end(), true) != set.end();
}

// One pass of paidoc_collect with `e` over the rows `allowed` (null: all)
// minus `denied` (null: none).
Status collect(Connection& c, const Expression& e, const SearchQuery& q, size_t keep,
               const std::vector<bool>* allowed, const std::vector<bool>* denied,
               RankCollector& out) {
  out.keep = keep;
  out.terms = static_cast<int>(q.terms.size());
  out.phrases = e.phrases;
  out.allowed = allowed;
  out.denied = denied;
  out.by_id = q.newest_first;
  out.spans.clear();
  if (q.terms.size() > 1 && !q.newest_first) {
    for (const std::string& t : q.terms) out.spans.push_back(proximity_span(t));
  }
  auto st = c.stmt(kCollect);
  if (!st.ok()) return st.status();
  st->bind(1, e.text).bind_pointer(2, &out, kCollectorPointerType);
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return out.error.is_ok() ? row.status() : out.error;
    if (!*row) return Status();
  }
}

struct Ranked {
  int64_t total = 0;
  std::vector<RankCollector::Entry> best;  // best first, at most `keep`
  std::vector<text::KeywordProbe> probes;  // of the locked expression
};

// Counts and ranks the matches as the query's PaidScope says: documents
// in scope through the open expression, all others through the locked
// one; the two sets are disjoint, so counts add and rankings merge.
Result<Ranked> rank(Connection& c, const SearchQuery& q, size_t keep) {
  // Drafts are left out of every count and page.
  std::vector<bool> drafts;
  {
    auto st = c.stmt(kDraftIds);
    if (!st.ok()) return st.status();
    if (Status s = mark_ids(*st, drafts); !s.is_ok()) return s;
  }
  const bool some_drafts = any(drafts);
  std::vector<bool> filter;
  const bool filtered = !q.category.empty() || q.price != PriceFilter::kAny;
  if (filtered) {
    if (Status s = filter_ids(c, q, filter); !s.is_ok()) return s;
    for (size_t i = 0; i < filter.size() && i < drafts.size(); ++i) filter[i] = filter[i] && !drafts[i];
  }
  const std::vector<bool>* allowed = filtered ? &filter : nullptr;
  // Without a filter, drafts are denied instead.
  const std::vector<bool>* denied_drafts = !filtered && some_drafts ? &drafts : nullptr;
  Ranked out;
  std::vector<RankCollector::Entry> all;
  if (q.paid_scope.all) {
    auto open = match_expression(q, false);
    if (!open.ok()) return open.status();
    RankCollector rc;
    if (Status s = collect(c, *open, q, keep, allowed, denied_drafts, rc); !s.is_ok()) return s;
    out.total = rc.count;
    out.best = rc.best();
    return out;
  }
  std::vector<bool> readable;
  if (Status s = scope_ids(c, q.paid_scope, readable); !s.is_ok()) return s;
  for (size_t i = 0; i < readable.size() && i < drafts.size(); ++i)
    readable[i] = readable[i] && !drafts[i];
  auto locked = match_expression(q, true);
  if (!locked.ok()) return locked.status();
  out.probes = locked->probes;
  const bool some_readable = any(readable);
  // The locked pass skips the readable documents (the open pass has them)
  // and, unfiltered, the drafts.
  std::vector<bool> skip;
  const std::vector<bool>* denied = nullptr;
  if (some_readable && denied_drafts) {
    skip = readable;
    if (skip.size() < drafts.size()) skip.resize(drafts.size());
    for (size_t i = 0; i < drafts.size(); ++i) skip[i] = skip[i] || drafts[i];
    denied = &skip;
  } else if (some_readable) {
    denied = &readable;
  } else {
    denied = denied_drafts;
  }
  RankCollector rc;
  if (Status s = collect(c, *locked, q, keep, allowed, denied, rc); !s.is_ok()) return s;
  out.total = rc.count;
  all = rc.best();
  if (some_readable) {
    if (filtered) {
      for (size_t i = 0; i < readable.size(); ++i) {
        readable[i] = readable[i] && i < filter.size() && filter[i];
      }
    }
    auto open = match_expression(q, false);
    if (!open.ok()) return open.status();
    RankCollector rc2;
    if (Status s = collect(c, *open, q, keep, &readable, nullptr, rc2); !s.is_ok()) return s;
    out.total += rc2.count;
    std::vector<RankCollector::Entry> more = rc2.best();
    all.insert(all.end(), more.begin(), more.end());
    std::sort(all.begin(), all.end(), better);
    if (all.size() > keep) all.resize(keep);
  }
  out.best = std::move(all);
  return out;
}

}  // namespace

Result<SearchPage> search_in(Connection& c, const SearchQuery& q) {
  if (q.limit < 1 || q.limit > 100) {
    return Status::invalid("search limit must be 1..100, not " + std::to_string(q.limit));
  }
  if (q.offset < 0) return Status::invalid("search offset must not be negative");
  auto ranked = rank(c, q, static_cast<size_t>(q.offset + q.limit));
  if (!ranked.ok()) return ranked.status();

  SearchPage page;
  page.total = ranked->total;
  for (size_t i = static_cast<size_t>(q.offset); i < ranked->best.size(); ++i) {
    const RankCollector::Entry& e = ranked->best[i];
    auto st = c.stmt(kHitRow);
    if (!st.ok()) return st.status();
    st->bind(1, e.id);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) continue;  // cannot happen inside one snapshot
    SearchHit h;
    h.summary = read_summary(*st);
    constexpr int k = kSummaryColumnCount;
    if (!st->is_null(k)) h.publisher_id = st->int64(k);
    h.free_text = st->text(k + 1);
    for (size_t t = 0; t < q.terms.size(); ++t) {
      h.term_columns.push_back(static_cast<unsigned>((e.columns >> (3 * t)) & 7));
      const int64_t keys = (e.keys >> (3 * t)) & 7;
      std::vector<std::string> words;
      if (t < ranked->probes.size()) {
        const text::KeywordProbe& probe = ranked->probes[t];
        if (keys & 1) {
          words.push_back(probe.whole);
        } else if ((keys & 6) == 6 && probe.parts.size() == 2) {
          words = probe.parts;
        }
      }
      h.term_keywords.push_back(std::move(words));
    }
    page.hits.push_back(std::move(h));
  }
  return page;
}

Result<int64_t> search_count_in(Connection& c, const SearchQuery& q) {
  auto ranked = rank(c, q, 0);
  if (!ranked.ok()) return ranked.status();
  return ranked->total;
}

namespace {

Result<doc::Document> parse_row_json(const Stmt& st, int column, int64_t id) {
  doc::Document d;
  try {
    nlohmann::json::parse(st.text(column)).get_to(d);
  } catch (const nlohmann::json::exception& e) {
    return Status::internal("sqlite: document " + std::to_string(id) +
                            " has unreadable parsed_json: " + e.what());
  }
  return d;
}

}  // namespace

std::vector<std::string> document_words(const std::string& title, const SearchTexts& t,
                                        const text::KeywordCandidates& paid) {
  // Lines are segmented apart (a line break ends every candidate), so
  // this equals keyword_words(title + "\n" + free + "\n" + paid).
  std::vector<std::string> out = text::keyword_words(title + "\n" + t.free);
  // Views into the candidates, which outlive the loop; not into `out`, whose
  // short strings move (and their views dangle) when it grows.
  std::unordered_set<std::string_view> seen;
  for (const std::string& w : out) seen.insert(w);
  std::vector<std::string_view> more;
  for (const text::KeywordCandidates::Occurrence& o : paid.occurrences) {
    if (seen.insert(o.word).second) more.push_back(o.word);
  }
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

std::vector<std::string> document_words(const std::string& title, const SearchTexts& t) {
  return document_words(title, t, text::keyword_candidates(t.paid));
}

Result<std::vector<std::string>> stored_document_words_in(Connection& c, int64_t id) {
  auto st = c.stmt(kOneParsed);
  if (!st.ok()) return st.status();
  st->bind(1, id);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::not_found("document " + std::to_string(id) + " not found");
  auto d = parse_row_json(*st, 0, id);
  if (!d.ok()) return d.status();
  return document_words(d->title, search_texts(*d));
}

namespace {

// Words as a JSON array, the empty word (the document count) first.
std::string word_array(const std::vector<std::string>& words) {
  nlohmann::json a = nlohmann::json::array();
  a.push_back("");
  for (const std::string& w : words) a.push_back(w);
  return a.dump();
}

}  // namespace

Status add_document_words_in(Connection& c, const std::vector<std::string>& words, int64_t delta) {
  // The empty word counts the documents themselves.
  auto add = c.stmt(kAddDf);
  if (!add.ok()) return add.status();
  return add->bind(1, word_array(words)).bind(2, delta).exec();
}

Result<std::string> choose_keywords_in(Connection& c, const text::KeywordCandidates& paid) {
  if (paid.occurrences.empty()) return std::string();
  std::unordered_map<std::string, int64_t> known;
  {
    auto st = c.stmt(kGetDf);
    if (!st.ok()) return st.status();
    st->bind(1, word_array(paid.words()));
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      known[st->text(0)] = st->int64(1);
    }
  }
  auto df = [&](const std::string& word) -> int64_t {
    auto it = known.find(word);
    return it == known.end() ? 0 : it->second;
  };
  const int64_t documents = df(std::string());
  std::vector<std::string> keywords = text::choose_keywords(paid, df, documents);
  std::string out;
  for (const std::string& k : keywords) {
    if (!out.empty()) out += ' ';
    out += text::keyword_token(k);
  }
  return out;
}

namespace {

// Recounts keyword_df over every document (used before re-indexing, when
// the word rules may have changed).
Status rebuild_df_in(Connection& c) {
  if (Status s = c.exec_script(kClearDf, "clearing keyword_df"); !s.is_ok()) return s;
  std::map<std::string, int64_t> df;
  int64_t documents = 0;
  {
    auto st = c.stmt(kAllParsed);
    if (!st.ok()) return st.status();
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      auto d = parse_row_json(*st, 0, -1);
      if (!d.ok()) return d.status();
      ++documents;
      for (const std::string& w : document_words(d->title, search_texts(*d))) ++df[w];
    }
  }
  df[std::string()] = documents;
  for (const auto& [word, n] : df) {
    auto st = c.stmt(kSetDf);
    if (!st.ok()) return st.status();
    if (Status s = st->bind(1, word).bind(2, n).exec(); !s.is_ok()) return s;
  }
  return Status();
}

}  // namespace

Result<int64_t> reindex_stale_in(Connection& c) {
  {
    auto st = c.stmt(kAnyStale);
    if (!st.ok()) return st.status();
    st->bind(1, int64_t{kSearchVersion});
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) return int64_t{0};
  }
  if (Status s = rebuild_df_in(c); !s.is_ok()) return s;
  int64_t updated = 0;
  for (;;) {
    std::vector<std::pair<int64_t, SearchTexts>> batch;
    {
      auto st = c.stmt(kStaleRows);
      if (!st.ok()) return st.status();
      st->bind(1, int64_t{kSearchVersion});
      for (;;) {
        auto row = st->step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        auto d = parse_row_json(*st, 1, st->int64(0));
        if (!d.ok()) return d.status();
        batch.emplace_back(st->int64(0), search_texts(*d));
      }
    }
    if (batch.empty()) return updated;
    for (const auto& [id, texts] : batch) {
      auto keys = choose_keywords_in(c, text::keyword_candidates(texts.paid));
      if (!keys.ok()) return keys.status();
      auto st = c.stmt(kSetSearchTexts);
      if (!st.ok()) return st.status();
      st->bind(1, id).bind(2, texts.free).bind(3, texts.paid).bind(4, *keys)
          .bind(5, int64_t{kSearchVersion});
      if (Status s = st->exec(); !s.is_ok()) return s;
      ++updated;
    }
  }
}

}  // namespace paidoc::store::sqlite
