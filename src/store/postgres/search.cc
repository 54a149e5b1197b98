#include "store/postgres/search.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "store/proximity.h"
#include "text/keywords.h"
#include "text/text.h"

namespace paidoc::store::postgres {
namespace {

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
    "SELECT k.word, k.df FROM jsonb_array_elements_text(?1::jsonb) j(value)"
    " JOIN keyword_df k ON k.word = j.value";
// The inserted row passes CHECK (df >= 0) before the conflict is seen,
// so a negative delta is applied by the update alone.
constexpr char kAddDf[] =
    "INSERT INTO keyword_df (word, df)"
    " SELECT value, greatest(?2::bigint, 0) FROM jsonb_array_elements_text(?1::jsonb) j(value)"
    " ON CONFLICT (word) DO UPDATE SET df = greatest(keyword_df.df + ?2::bigint, 0)";

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

// --- the index ------------------------------------------------------------------
//
// PostgreSQL has no tokenizer for Chinese, so the application tokenizes:
// each document's four columns (title, free text, paid text, keywords) are
// stored in search_chunks (migration 2) as tsvectors built here from
// text::tokenize_for_index, one row per column and chunk, with the token
// positions FTS5 would give (a colocated token shares the previous one's
// position; a separator run leaves one position empty, see positions_of).
// Besides every token, each position holding a token that
// starts with an ideograph X also holds the lexeme "*X": a query term
// ending in a single ideograph matches that lexeme, which is exactly
// FTS5's prefix match on the position (see prefix_lexeme).
//
// A tsvector keeps positions up to 16383 and at most 256 per lexeme, so a
// column is cut into chunks of at most kChunkPositions positions with no
// lexeme in more than kLexemePositions of them; consecutive chunks overlap
// by kOverlap positions, so every phrase of up to kOverlap + 1 positions
// (its tokens and the gaps between them) lies whole in some chunk. A
// chunk "owns" its positions up to where the next chunk starts (its
// `owned` first positions; the last chunk owns all), and an occurrence is
// counted only by the chunk that owns its first position.
//
// A chunk of free or paid text is stored as up to kBuckets rows, its
// lexemes split by a hash of the lexeme (bucket_of), in partitions by
// bucket; titles and keyword columns are one row each (kShortBucket). A
// search is one statement: the rows of the query's lexemes' buckets that
// hold any query lexeme, cut down to the query's lexemes (ts_filter of
// setweight), of non-draft, filter-passing documents that hold, by the
// GIN index alone, a few of each term's lexemes (conditions_of; phrases
// are not asked of the index). Rows of paid text come only for documents
// whose paid text the viewer may search (PaidScope, decided in that
// statement), keyword rows only for the others: locked paid text never
// leaves the database. A chunk's buckets are joined again here by
// (document, column, chunk), and the exact rules (which columns a term
// may consult for this viewer, phrases, exclusions, keyword probes) and
// the score are applied, exactly as the SQLite backend's collector does;
// only the page's documents are read afterwards, in one statement. So a
// search reads its lexemes' postings, not the whole of every matching
// document's text.

namespace {

constexpr int kChunkPositions = 16000;  // tsvector positions stop at 16383
constexpr int kLexemePositions = 250;   // a tsvector lexeme keeps 256
// Longest exact phrase: 129 positions (the web caps a query at 256 bytes, so
// no term it sends has more than 128 tokens; a term with separators in it,
// each a position, may take up to 256, and is missed where it straddles two
// chunks of a long text). Below kLexemePositions, so every chunk but the
// last owns at least one position.
constexpr int kOverlap = 128;
// tsvector lexemes stop at 2047 bytes; longer tokens (only ASCII words can
// be) are stored as a digest (long_lexeme), in documents and queries alike.
constexpr size_t kLongToken = 512;

constexpr int kPaidCol = 2;
constexpr int kKeysCol = 3;

// A chunk of free or paid text is stored as kBuckets rows, each holding
// the lexemes whose FNV-1a hash falls in its bucket (empty buckets have
// no row): a query reads only its own lexemes' buckets, about 1/kBuckets
// of the chunk, small enough to stay in the heap row instead of TOAST
// (at 16, 10,000 generated documents: 707 bytes a row on average, 1,966
// at most; at 8 many rows pass the 2 KB where PostgreSQL compresses and
// moves values out of line). Titles and keyword columns are short: one
// row, in bucket kShortBucket. search_chunks is partitioned by bucket
// (migration 6), so a bucket's rows lie together. Changing kBuckets
// changes the stored form (raise kSearchVersion, and the partitions).
constexpr int kBuckets = 16;
constexpr int kShortBucket = kBuckets;

constexpr char kDocumentTexts[] =
    "SELECT title, search_free, search_paid, search_keys FROM documents WHERE id = ?1";
constexpr char kDeleteChunks[] = "DELETE FROM search_chunks WHERE document_id = ?1";
constexpr char kInsertChunk[] =
    "INSERT INTO search_chunks (document_id, col, chunk, bucket, owned, tsv)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6::tsvector)";

std::string hex64(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = digits[v & 15];
    v >>= 4;
  }
  return out;
}

// A token as a lexeme: itself, or for a very long one "~" + FNV-1a digest
// + "." + length (no token holds "~").
std::string lexeme(std::string_view token) {
  if (token.size() <= kLongToken) return std::string(token);
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : token) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return "~" + hex64(h) + "." + std::to_string(token.size());
}

bool bucketed(int col) { return col == 1 || col == kPaidCol; }

// The bucket of a lexeme in a bucketed column.
int bucket_of(std::string_view lex) {
  uint32_t h = 2166136261u;
  for (unsigned char ch : lex) {
    h ^= ch;
    h *= 16777619u;
  }
  return static_cast<int>(h % kBuckets);
}

// The first character of a token, when it is an ideograph.
std::string_view first_ideograph(std::string_view token) {
  if (token.empty() || !(static_cast<unsigned char>(token[0]) & 0x80)) return {};
  const unsigned char lead = static_cast<unsigned char>(token[0]);
  const size_t n = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
  if (token.size() < n) return {};
  std::string_view cp = token.substr(0, n);
  return text::is_single_ideograph(cp) ? cp : std::string_view();
}

// The lexeme a position holds when some token there starts with the
// ideograph `cp` (no token holds "*").
std::string prefix_lexeme(std::string_view cp) { return "*" + std::string(cp); }

// A lexeme quoted for tsvector / tsquery input.
std::string lexeme_literal(std::string_view lex) {
  std::string out = "'";
  for (char ch : lex) {
    if (ch == '\'' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '\'';
  return out;
}

// The lexeme a position holds, besides `lex`, when its token is the first
// after a separator run (text::Token::gap; no token holds "^").
std::string run_start_lexeme(std::string_view lex) { return "^" + std::string(lex); }

// The lexemes at each position of a column's text, as FTS5 positions them:
// a separator run between two tokens leaves a position empty (FTS5 puts
// its separator token there), so a phrase never spans one. The token after
// such a gap also holds its lexemes marked as a run start, which a term
// typed with a separator in it asks for: "工作，作风" is 工作, a gap, then
// ^作风 (an empty position alone cannot be seen, as only the query's
// lexemes are read). The keyword column, searched by single tokens only,
// has no run-start lexemes.
std::vector<std::vector<std::string>> positions_of(std::string_view column_text, int col) {
  std::vector<std::vector<std::string>> out;
  bool run_start = false;  // the current position follows a gap
  for (const text::Token& t : text::tokenize_for_index(column_text)) {
    if (t.gap && !out.empty()) out.emplace_back();
    if (!t.colocated || out.empty()) {
      out.emplace_back();
      run_start = t.gap;
    }
    std::vector<std::string>& at = out.back();
    auto add = [&](std::string lex) {
      if (std::find(at.begin(), at.end(), lex) == at.end()) at.push_back(std::move(lex));
    };
    // Every token at that position, as FTS5 sees them all after its
    // separator token (a two-character run's colocated last character too).
    const bool mark = run_start && col != kKeysCol;
    add(lexeme(t.text));
    if (mark) add(run_start_lexeme(lexeme(t.text)));
    std::string_view first = first_ideograph(t.text);
    if (!first.empty()) {
      add(prefix_lexeme(first));
      if (mark) add(run_start_lexeme(prefix_lexeme(first)));
    }
  }
  return out;
}

struct Chunk {
  int owned = 0;
  std::map<int, std::string> tsv;  // bucket -> tsvector input text
};

std::vector<Chunk> chunks_of(std::string_view column_text, int col) {
  const std::vector<std::vector<std::string>> pos = positions_of(column_text, col);
  const size_t n = pos.size();
  std::vector<Chunk> out;
  size_t s = 0;
  while (s < n) {
    std::unordered_map<std::string_view, int> count;
    size_t e = s;
    while (e < n && e - s < static_cast<size_t>(kChunkPositions)) {
      bool full = false;
      for (const std::string& lex : pos[e]) {
        auto it = count.find(lex);
        if (it != count.end() && it->second >= kLexemePositions) full = true;
      }
      if (full) break;
      for (const std::string& lex : pos[e]) ++count[lex];
      ++e;
    }
    // e - s > kOverlap: a chunk ends only at kChunkPositions or when a
    // lexeme filled kLexemePositions positions, both above kOverlap.
    const bool last = e == n;
    Chunk c;
    c.owned = static_cast<int>(last ? e - s : e - s - kOverlap);
    std::map<std::string_view, std::vector<size_t>> by_lexeme;
    for (size_t p = s; p < e; ++p) {
      for (const std::string& lex : pos[p]) by_lexeme[lex].push_back(p - s + 1);
    }
    for (const auto& [lex, ps] : by_lexeme) {
      std::string& tsv = c.tsv[bucketed(col) ? bucket_of(lex) : kShortBucket];
      if (!tsv.empty()) tsv += ' ';
      tsv += lexeme_literal(lex);
      tsv += ':';
      for (size_t i = 0; i < ps.size(); ++i) {
        if (i) tsv += ',';
        tsv += std::to_string(ps[i]);
      }
    }
    out.push_back(std::move(c));
    if (last) break;
    s += static_cast<size_t>(out.back().owned);
  }
  return out;
}

}  // namespace

Status index_document_in(Connection& c, int64_t id) {
  std::string columns[4];
  {
    auto st = c.stmt(kDocumentTexts);
    if (!st.ok()) return st.status();
    st->bind(1, id);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::not_found("document " + std::to_string(id) + " not found");
    for (int i = 0; i < 4; ++i) columns[i] = st->text(i);
  }
  {
    auto st = c.stmt(kDeleteChunks);
    if (!st.ok()) return st.status();
    if (Status s = st->bind(1, id).exec(); !s.is_ok()) return s;
  }
  for (int col = 0; col < 4; ++col) {
    std::vector<Chunk> chunks = chunks_of(columns[col], col);
    for (size_t i = 0; i < chunks.size(); ++i) {
      for (const auto& [bucket, tsv] : chunks[i].tsv) {
        auto st = c.stmt(kInsertChunk);
        if (!st.ok()) return st.status();
        st->bind(1, id)
            .bind(2, int64_t{col})
            .bind(3, static_cast<int64_t>(i))
            .bind(4, int64_t{bucket})
            .bind(5, int64_t{chunks[i].owned})
            .bind(6, tsv);
        if (Status s = st->exec(); !s.is_ok()) return s;
      }
    }
  }
  return Status();
}

namespace {

// --- queries --------------------------------------------------------------------

// A phrase of lexemes, as a term (or an exclusion, or a keyword) matches:
// lexemes[j] at the phrase's first position + at[j].
struct Phrase {
  std::vector<std::string> lexemes;
  std::vector<int> at;
};

// One term as the phrase of its tokens (text::tokenize), the last one as
// a prefix lexeme when it is a single ideograph — as the SQLite backend's
// FTS5 phrase "term"*. A token after a separator run (Token::gap) sits one
// position further, as its run-start lexeme — as FTS5's separator token.
Result<Phrase> phrase(const std::string& term) {
  if (!text::valid_utf8(term)) return Status::invalid("search term is not valid UTF-8");
  std::vector<text::Token> tokens = text::tokenize(term);
  if (tokens.empty()) return Status::invalid("search term '" + term + "' has nothing to search for");
  Phrase p;
  int at = 0;
  for (size_t j = 0; j < tokens.size(); ++j) {
    const text::Token& t = tokens[j];
    std::string lex = j + 1 == tokens.size() && text::is_single_ideograph(t.text)
                          ? prefix_lexeme(t.text)
                          : lexeme(t.text);
    if (t.gap) {
      ++at;
      lex = run_start_lexeme(lex);
    }
    p.lexemes.push_back(std::move(lex));
    p.at.push_back(at++);
  }
  return p;
}

// A keyword (text::keyword_token) as the phrase FTS5 makes of it.
Phrase keyword_phrase(const std::string& keyword) {
  Phrase p;
  for (const text::Token& t : text::tokenize(text::keyword_token(keyword))) {
    p.at.push_back(static_cast<int>(p.lexemes.size()));
    p.lexemes.push_back(lexeme(t.text));
  }
  return p;
}

struct Plan {
  std::vector<Phrase> terms;
  std::vector<Phrase> excluded;
  // Per term, its keyword probe and phrases (whole, then the two parts);
  // used for documents outside the PaidScope.
  std::vector<text::KeywordProbe> probes;
  std::vector<std::vector<Phrase>> keys;
  // Per term, proximity_span of its text (only when there are two terms
  // or more, ranked by relevance).
  std::vector<int> spans;
  // tsqueries a document must match somewhere (any column, any row) to
  // match every term: ORs of single lexemes, which the GIN index decides
  // without reading a row's tsvector (see conditions_of).
  struct Condition {
    std::string query;    // tsquery
    std::string buckets;  // int[] input: the buckets its lexemes can be in
  };
  std::vector<Condition> conditions;
  std::string any_query;     // tsquery: any lexeme of the query
  std::string lexeme_array;  // text[] input: the same lexemes
  std::string bucket_array;  // int[] input: their buckets and kShortBucket
};

// At most this many conditions go into the statement, and this many per
// term: each costs a scan of its lexemes' postings, and the rows read
// are judged exactly anyway.
constexpr size_t kMaxConditions = 16;
constexpr size_t kConditionsPerTerm = 2;

// Lexemes worth testing first: likely rarer ones (whole tokens before
// "*X" prefix lexemes, longer before shorter).
bool likely_rarer(const std::string& a, const std::string& b) {
  const bool pa = !a.empty() && a[0] == '*';
  const bool pb = !b.empty() && b[0] == '*';
  if (pa != pb) return pb;
  if (a.size() != b.size()) return a.size() > b.size();
  return a < b;
}

// The candidate conditions of the query's terms. A document matches term t
// only if it holds every lexeme x of t's phrase, or (outside the
// PaidScope) every lexeme of t's whole keyword, or of both its parts; so
// it holds x, or the whole keyword's first lexeme, or the first part's
// first lexeme: the condition 'x' | 'w' | 'p' for each x, a superset the
// exact rules (judge) then narrow. Phrases (<->) are not asked of the
// index: GIN cannot decide them without reading every candidate's
// tsvector (a recheck), which cost more than everything else. Each term
// gets its likely rarest lexemes' conditions (kConditionsPerTerm).
std::vector<Plan::Condition> conditions_of(const std::vector<Phrase>& terms,
                                           const std::vector<std::vector<Phrase>>& keys) {
  std::vector<std::vector<Plan::Condition>> per_term;
  for (size_t t = 0; t < terms.size(); ++t) {
    std::string alt;
    for (size_t k = 0; k < keys[t].size() && k < 2; ++k) {
      if (!keys[t][k].lexemes.empty()) alt += " | " + lexeme_literal(keys[t][k].lexemes[0]);
    }
    std::vector<std::string> lexemes = terms[t].lexemes;
    std::sort(lexemes.begin(), lexemes.end(), likely_rarer);
    lexemes.erase(std::unique(lexemes.begin(), lexemes.end()), lexemes.end());
    std::vector<Plan::Condition> conds;
    for (const std::string& l : lexemes) {
      // Keyword lexemes are in the keyword column (kShortBucket) only.
      conds.push_back(Plan::Condition{
          lexeme_literal(l) + alt,
          "{" + std::to_string(kShortBucket) + "," + std::to_string(bucket_of(l)) + "}"});
    }
    per_term.push_back(std::move(conds));
  }
  std::vector<Plan::Condition> out;
  for (size_t round = 0; round < kConditionsPerTerm && out.size() < kMaxConditions; ++round) {
    bool any = false;
    for (const std::vector<Plan::Condition>& conds : per_term) {
      if (round >= conds.size() || out.size() >= kMaxConditions) continue;
      any = true;
      const std::string& query = conds[round].query;
      if (std::none_of(out.begin(), out.end(),
                       [&](const Plan::Condition& c) { return c.query == query; })) {
        out.push_back(conds[round]);
      }
    }
    if (!any) break;
  }
  return out;
}

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

Result<Plan> plan_of(const SearchQuery& q) {
  if (q.terms.empty()) return Status::invalid("search needs at least one term");
  if (q.terms.size() > 16 || q.excluded.size() > 16) {
    return Status::invalid("search takes at most 16 terms and 16 exclusions");
  }
  Plan plan;
  std::vector<std::string> lexemes;
  auto note = [&](const Phrase& p) {
    for (const std::string& l : p.lexemes) {
      if (std::find(lexemes.begin(), lexemes.end(), l) == lexemes.end()) lexemes.push_back(l);
    }
  };
  const bool locked_possible = !q.paid_scope.all;
  for (const std::string& term : q.terms) {
    auto p = phrase(term);
    if (!p.ok()) return p.status();
    note(*p);
    text::KeywordProbe probe;
    std::vector<Phrase> keys;
    if (locked_possible) {
      probe = text::keyword_probe(term);
      if (!probe.empty()) {
        keys.push_back(keyword_phrase(probe.whole));
        if (probe.parts.size() == 2) {
          keys.push_back(keyword_phrase(probe.parts[0]));
          keys.push_back(keyword_phrase(probe.parts[1]));
        }
        for (const Phrase& k : keys) note(k);
      }
    }
    plan.terms.push_back(std::move(*p));
    if (q.terms.size() > 1 && !q.newest_first) plan.spans.push_back(proximity_span(term));
    plan.probes.push_back(std::move(probe));
    plan.keys.push_back(std::move(keys));
  }
  plan.conditions = conditions_of(plan.terms, plan.keys);
  for (const std::string& x : q.excluded) {
    auto p = phrase(x);
    if (!p.ok()) return p.status();
    note(*p);
    plan.excluded.push_back(std::move(*p));
  }
  for (size_t i = 0; i < lexemes.size(); ++i) {
    if (i) plan.any_query += " | ";
    plan.any_query += lexeme_literal(lexemes[i]);
  }
  plan.lexeme_array = array_literal(lexemes);
  // Keyword lexemes are looked for in the keyword column only.
  std::vector<std::string> text_lexemes;
  for (const std::vector<Phrase>* ps : {&plan.terms, &plan.excluded}) {
    for (const Phrase& p : *ps) {
      text_lexemes.insert(text_lexemes.end(), p.lexemes.begin(), p.lexemes.end());
    }
  }
  std::vector<std::string> buckets = {std::to_string(kShortBucket)};
  for (const std::string& l : text_lexemes) {
    std::string b = std::to_string(bucket_of(l));
    if (std::find(buckets.begin(), buckets.end(), b) == buckets.end()) buckets.push_back(b);
  }
  plan.bucket_array = "{";
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (i) plan.bucket_array += ',';
    plan.bucket_array += buckets[i];
  }
  plan.bucket_array += '}';
  return plan;
}

// The statement reading the rows of a query with n conditions (?10 + 2i,
// ?11 + 2i: Plan::conditions[i] and its buckets, which prune documents by
// the GIN index alone).
// ?1 category or '', ?2 price filter code, ?3 the query's lexemes, ?4 a
// tsquery of any of them, ?9 the buckets of the lexemes of its terms and
// exclusions (and kShortBucket); the PaidScope as ?5 all, ?6 free_price
// (0/1), ?7 publisher_id (NULL: none), ?8 ids. `open` says whether the
// viewer may search the document's paid text: its paid rows are read only
// then, its keyword rows only otherwise. Each row is a chunk's bucket
// holding a query lexeme, cut down to the query's lexemes. Of free and
// paid text only the buckets of the query's lexemes are read, and the
// rows of one bucket lie together (search_chunks is partitioned by
// bucket), so the work follows the postings of the query's lexemes, not
// the size of the matching documents.
const char* collect_sql(size_t n) {
  static const std::vector<std::string> sqls = [] {
    std::vector<std::string> v(17);
    for (size_t k = 1; k <= 16; ++k) {
      std::string s =
          "SELECT d.id, o.open, h.col, h.chunk, h.owned,"
          " ts_filter(setweight(h.tsv, 'A', ?3::text[]), '{a}')::text"
          " FROM search_chunks h JOIN documents d ON d.id = h.document_id"
          " CROSS JOIN LATERAL (SELECT coalesce(?5::bigint = 1"
          "   OR (?6::bigint = 1 AND d.has_paid = 1 AND d.price_fen = 0)"
          "   OR d.publisher_id = ?7::bigint OR d.id = ANY(?8::bigint[]), false) AS open) o"
          " WHERE h.tsv @@ ?4::tsquery AND h.bucket = ANY(?9::int[])"
          " AND (h.col < 2 OR (h.col = 2 AND o.open) OR (h.col = 3 AND NOT o.open))"
          " AND d.status <> 'draft'"
          " AND (?1::text = '' OR d.category_id = (SELECT id FROM categories WHERE name = ?1::text))"
          " AND (?2::bigint = 0 OR (?2::bigint = 1 AND (d.price_fen = 0 OR d.has_paid = 0))"
          "      OR (?2::bigint = 2 AND d.price_fen > 0 AND d.has_paid = 1))";
      for (size_t t = 0; t < k; ++t) {
        s += " AND d.id IN (SELECT document_id FROM search_chunks WHERE tsv @@ ?" +
             std::to_string(10 + 2 * t) + "::tsquery AND bucket = ANY(?" + std::to_string(11 + 2 * t) +
             "::int[]))";
      }
      v[k] = std::move(s);
    }
    return v;
  }();
  return sqls[n].c_str();
}

int64_t price_code(PriceFilter p) {
  switch (p) {
    case PriceFilter::kAny: return 0;
    case PriceFilter::kFree: return 1;
    case PriceFilter::kPaid: return 2;
  }
  return 0;
}

// A chunk as the search sees it: the positions of the query's lexemes.
struct SeenChunk {
  int col = 0;
  int owned = 0;
  std::unordered_map<std::string, std::vector<int>> positions;
};

struct Candidate {
  int64_t id = 0;
  bool open = false;  // the viewer may search the paid text (PaidScope)
  std::vector<SeenChunk> chunks;
};

// Parses tsvector output ('lex':1A,5A 'other':3A) into positions.
Status parse_tsvector(std::string_view s, SeenChunk& out) {
  size_t i = 0;
  auto bad = [&]() { return Status::internal("postgresql: unreadable tsvector from search"); };
  while (i < s.size()) {
    if (s[i] == ' ') {
      ++i;
      continue;
    }
    if (s[i] != '\'') return bad();
    ++i;
    std::string lex;
    for (;;) {
      if (i >= s.size()) return bad();
      const char ch = s[i];
      if (ch == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
        lex += '\'';
        i += 2;
      } else if (ch == '\\' && i + 1 < s.size()) {
        lex += s[i + 1];
        i += 2;
      } else if (ch == '\'') {
        ++i;
        break;
      } else {
        lex += ch;
        ++i;
      }
    }
    std::vector<int>& ps = out.positions[lex];
    if (i < s.size() && s[i] == ':') {
      ++i;
      for (;;) {
        int v = 0;
        bool digits = false;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          v = v * 10 + (s[i] - '0');
          ++i;
          digits = true;
        }
        if (!digits) return bad();
        ps.push_back(v);
        while (i < s.size() && s[i] >= 'A' && s[i] <= 'D') ++i;
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        break;
      }
    }
    std::sort(ps.begin(), ps.end());
  }
  return Status();
}

Result<std::vector<Candidate>> candidates(Connection& c, const SearchQuery& q, const Plan& plan) {
  // A plan for these lexemes, never the prepared statement's generic one:
  // after a few runs PostgreSQL may keep a plan made without the tsquery
  // and the buckets (no partition left out, guessed selectivities), and
  // every search then took ~0.5 s whatever its terms. SET LOCAL ends with
  // the read transaction.
  if (Status s = c.exec_script("SET LOCAL plan_cache_mode = force_custom_plan",
                               "planning the search");
      !s.is_ok()) {
    return s;
  }
  auto st = c.stmt(collect_sql(plan.conditions.size()));
  if (!st.ok()) return st.status();
  const PaidScope& scope = q.paid_scope;
  std::string ids = "{";
  for (size_t i = 0; i < scope.ids.size(); ++i) {
    if (i) ids += ',';
    ids += std::to_string(scope.ids[i]);
  }
  ids += '}';
  st->bind(1, q.category).bind(2, price_code(q.price)).bind(3, plan.lexeme_array)
      .bind(4, plan.any_query)
      .bind(5, int64_t{scope.all ? 1 : 0})
      .bind(6, int64_t{scope.free_price ? 1 : 0})
      .bind(7, scope.publisher_id)
      .bind(8, ids);
  st->bind(9, plan.bucket_array);
  for (size_t t = 0; t < plan.conditions.size(); ++t) {
    st->bind(static_cast<int>(10 + 2 * t), plan.conditions[t].query);
    st->bind(static_cast<int>(11 + 2 * t), plan.conditions[t].buckets);
  }
  std::vector<Candidate> out;
  std::unordered_map<int64_t, size_t> index;
  // A chunk's buckets come as rows of their own: joined again by
  // (document, column, chunk), as phrases span buckets.
  std::map<std::tuple<int64_t, int, int64_t>, size_t> chunk_at;
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const int64_t id = st->int64(0);
    auto [it, fresh] = index.emplace(id, out.size());
    if (fresh) {
      Candidate cand;
      cand.id = id;
      cand.open = st->int64(1) != 0;
      out.push_back(std::move(cand));
    }
    const int col = static_cast<int>(st->int64(2));
    const int64_t number = st->int64(3);
    std::vector<SeenChunk>& chunks = out[it->second].chunks;
    auto [at, new_chunk] = chunk_at.emplace(std::make_tuple(id, col, number), chunks.size());
    if (new_chunk) {
      SeenChunk chunk;
      chunk.col = col;
      chunk.owned = static_cast<int>(st->int64(4));
      chunks.push_back(std::move(chunk));
    }
    if (Status s = parse_tsvector(st->text(5), chunks[at->second]); !s.is_ok()) return s;
  }
  return out;
}

// Occurrences of `p` in the chunk (each counted by the chunk owning its
// first position).
int occurrences(const SeenChunk& chunk, const Phrase& p, bool stop_at_first) {
  std::vector<const std::vector<int>*> lists;
  for (const std::string& l : p.lexemes) {
    auto it = chunk.positions.find(l);
    if (it == chunk.positions.end()) return 0;
    lists.push_back(&it->second);
  }
  int n = 0;
  for (int start : *lists[0]) {
    if (start > chunk.owned) break;
    bool all = true;
    for (size_t j = 1; j < lists.size() && all; ++j) {
      all = std::binary_search(lists[j]->begin(), lists[j]->end(), start + p.at[j]);
    }
    if (all) {
      ++n;
      if (stop_at_first) return n;
    }
  }
  return n;
}

// The first positions of every occurrence of `p` lying whole in the chunk,
// owned or not, as term `term`'s (for the proximity bonus: chunks overlap
// by kOverlap positions, so two occurrences close enough to count lie
// whole in one chunk, the one owning the earlier).
void occurrence_starts(const SeenChunk& chunk, const Phrase& p, int term,
                       std::vector<TermPosition>& out) {
  std::vector<const std::vector<int>*> lists;
  for (const std::string& l : p.lexemes) {
    auto it = chunk.positions.find(l);
    if (it == chunk.positions.end()) return;
    lists.push_back(&it->second);
  }
  for (int start : *lists[0]) {
    bool all = true;
    for (size_t j = 1; j < lists.size() && all; ++j) {
      all = std::binary_search(lists[j]->begin(), lists[j]->end(), start + p.at[j]);
    }
    if (all) out.push_back({chunk.col, start, term});
  }
}

bool found_in(const Candidate& d, const Phrase& p, int col) {
  for (const SeenChunk& ch : d.chunks) {
    if (ch.col == col && occurrences(ch, p, true) > 0) return true;
  }
  return false;
}

struct Entry {
  double score;
  int64_t id;
  int64_t columns;  // 3 bits per term: MatchColumn
  int64_t keys;     // 3 bits per term: 1 whole keyword, 6 both parts
  bool locked;
};

bool better(const Entry& a, const Entry& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.id > b.id;
}

constexpr double kWeights[3] = {10.0, 1.0, 1.0};

// The document's entry when it matches the query, as the SQLite backend's
// match expressions and paidoc_collect() would have it.
std::optional<Entry> judge(const Candidate& d, const SearchQuery& q, const Plan& plan) {
  const bool locked = !d.open;
  const int text_cols = locked ? 2 : 3;  // title, free (, paid)
  for (const Phrase& x : plan.excluded) {
    for (int col = 0; col < text_cols; ++col) {
      if (found_in(d, x, col)) return std::nullopt;
    }
  }
  double score = 0;
  int64_t mask = 0;
  int64_t keys = 0;
  for (size_t t = 0; t < plan.terms.size(); ++t) {
    int tf[3] = {0, 0, 0};
    for (const SeenChunk& ch : d.chunks) {
      if (ch.col < text_cols) tf[ch.col] += occurrences(ch, plan.terms[t], false);
    }
    bool whole = false;
    bool parts = false;
    if (locked && !plan.keys[t].empty()) {
      whole = found_in(d, plan.keys[t][0], kKeysCol);
      parts = plan.keys[t].size() == 3 && found_in(d, plan.keys[t][1], kKeysCol) &&
              found_in(d, plan.keys[t][2], kKeysCol);
    }
    if (tf[0] == 0 && tf[1] == 0 && tf[2] == 0 && !whole && !parts) return std::nullopt;
    const int shift = 3 * static_cast<int>(t);
    for (int col = 0; col < 3; ++col) {
      const double f = tf[col];
      if (f > 0) {
        score += kWeights[col] * f / (f + 1.2);
        mask |= int64_t{1} << (shift + col);
      }
    }
    if (whole || parts) {
      keys |= int64_t{whole ? 1 : 6} << shift;
      if (tf[kPaidCol] == 0) score += kWeights[kPaidCol] / 2.2;
      mask |= int64_t{1} << (shift + kPaidCol);
    }
  }
  // Terms standing together, in the text columns this viewer may search
  // (keyword rows never: they have no order).
  if (plan.terms.size() > 1 && !q.newest_first) {
    ProximityTally proximity;
    proximity.reset(plan.spans);
    std::vector<TermPosition> positions;
    for (const SeenChunk& ch : d.chunks) {
      if (ch.col >= text_cols) continue;
      positions.clear();
      for (size_t t = 0; t < plan.terms.size(); ++t) {
        occurrence_starts(ch, plan.terms[t], static_cast<int>(t), positions);
      }
      proximity.add(positions);
    }
    score += proximity.score(kWeights);
  }
  if (q.newest_first) score = 0;
  score = static_cast<double>(static_cast<int64_t>(score * 100 + 0.5)) / 100;
  return Entry{score, d.id, mask, keys, locked};
}

struct Ranked {
  int64_t total = 0;
  std::vector<Entry> best;  // best first, at most `keep`
  Plan plan;
};

Result<Ranked> rank(Connection& c, const SearchQuery& q, size_t keep) {
  auto plan = plan_of(q);
  if (!plan.ok()) return plan.status();
  auto cands = candidates(c, q, *plan);
  if (!cands.ok()) return cands.status();
  Ranked out;
  std::vector<Entry> all;
  for (const Candidate& d : *cands) {
    if (auto e = judge(d, q, *plan)) all.push_back(*e);
  }
  out.total = static_cast<int64_t>(all.size());
  const size_t k = std::min(keep, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(), better);
  all.resize(k);
  out.best = std::move(all);
  out.plan = std::move(*plan);
  return out;
}

constexpr char kHitRows[] =
    "SELECT " PAIDOC_SUMMARY_COLUMNS ", d.publisher_id, d.search_free"
    " FROM documents d LEFT JOIN categories c ON c.id = d.category_id"
    " WHERE d.id = ANY(?1::bigint[])";

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
  const size_t first = static_cast<size_t>(q.offset);
  if (first >= ranked->best.size()) return page;
  std::string ids = "{";
  for (size_t i = first; i < ranked->best.size(); ++i) {
    if (i > first) ids += ',';
    ids += std::to_string(ranked->best[i].id);
  }
  ids += '}';
  std::unordered_map<int64_t, SearchHit> rows;
  {
    auto st = c.stmt(kHitRows);
    if (!st.ok()) return st.status();
    st->bind(1, ids);
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      SearchHit h;
      h.summary = read_summary(*st);
      constexpr int k = kSummaryColumnCount;
      if (!st->is_null(k)) h.publisher_id = st->int64(k);
      h.free_text = st->text(k + 1);
      rows.emplace(h.summary.id, std::move(h));
    }
  }
  const Plan& plan = ranked->plan;
  for (size_t i = first; i < ranked->best.size(); ++i) {
    const Entry& e = ranked->best[i];
    auto it = rows.find(e.id);
    if (it == rows.end()) continue;  // cannot happen inside one snapshot
    SearchHit h = std::move(it->second);
    for (size_t t = 0; t < q.terms.size(); ++t) {
      h.term_columns.push_back(static_cast<unsigned>((e.columns >> (3 * t)) & 7));
      const int64_t keys = (e.keys >> (3 * t)) & 7;
      std::vector<std::string> words;
      if (t < plan.probes.size()) {
        const text::KeywordProbe& probe = plan.probes[t];
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
    return Status::internal("postgresql: document " + std::to_string(id) +
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
      if (Status s = index_document_in(c, id); !s.is_ok()) return s;
      ++updated;
    }
  }
}

}  // namespace paidoc::store::postgres
