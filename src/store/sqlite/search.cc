#include "store/sqlite/search.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "store/sqlite/fts.h"
#include "text/text.h"

namespace paidoc::store::sqlite {
namespace {

// A search runs in two steps. The first finds, filters, orders and pages
// the matching ids using only the FTS table and the narrow search_facts
// table (migration 7); the second reads the summary and free text of the
// page's documents alone.
//   ?1 MATCH expression, ?2 category ('' for all), ?3 price filter
//   (0 any, 1 free to read, 2 paid).
#define PAIDOC_SEARCH_FILTERS                                                     \
  " CROSS JOIN search_facts s ON s.id = f.id"                                     \
  " WHERE (?2 = '' OR s.category_id = (SELECT id FROM categories WHERE name = ?2))" \
  " AND (?3 = 0 OR (?3 = 1 AND (s.price_fen = 0 OR s.has_paid = 0))"              \
  "      OR (?3 = 2 AND s.price_fen > 0 AND s.has_paid = 1))"

constexpr char kSearchByDate[] =
    "SELECT f.id, count(*) OVER ()"
    " FROM (SELECT rowid AS id FROM documents_fts WHERE documents_fts MATCH ?1) f"
    PAIDOC_SEARCH_FILTERS
    " ORDER BY s.created_at DESC, s.id DESC LIMIT ?4 OFFSET ?5";
constexpr char kSearchCount[] =
    "SELECT count(*)"
    " FROM (SELECT rowid AS id FROM documents_fts WHERE documents_fts MATCH ?1) f"
    PAIDOC_SEARCH_FILTERS;
// Without filters, one pass over the matches ranks them (paidoc_collect,
// fts.h) and counts them; newest first is the FTS index's own rowid order
// read backwards, which stops after the page.
constexpr char kCollect[] =
    "SELECT paidoc_collect(documents_fts, ?2) FROM documents_fts WHERE documents_fts MATCH ?1";
constexpr char kNewestIds[] =
    "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?1"
    " ORDER BY rowid DESC LIMIT ?2 OFFSET ?3";
constexpr char kCountMatches[] = "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH ?1";
// The ids a filtered search may return (?1 category or '', ?2 price filter).
constexpr char kAllowedIds[] =
    "SELECT s.id FROM search_facts s"
    " WHERE (?1 = '' OR s.category_id = (SELECT id FROM categories WHERE name = ?1))"
    " AND (?2 = 0 OR (?2 = 1 AND (s.price_fen = 0 OR s.has_paid = 0))"
    "      OR (?2 = 2 AND s.price_fen > 0 AND s.has_paid = 1))";

constexpr char kHitRow[] =
    "SELECT " PAIDOC_SUMMARY_COLUMNS ", d.publisher_id, d.search_free"
    " FROM documents d LEFT JOIN categories c ON c.id = d.category_id WHERE d.id = ?1";
constexpr char kTermColumns[] =
    "SELECT paidoc_columns(documents_fts) FROM documents_fts"
    " WHERE documents_fts MATCH ?1 AND rowid = ?2";

#undef PAIDOC_SEARCH_FILTERS

constexpr char kStaleRows[] =
    "SELECT id, parsed_json FROM documents WHERE search_version < ?1 LIMIT 500";
constexpr char kSetSearchTexts[] =
    "UPDATE documents SET search_free = ?2, search_paid = ?3, search_version = ?4 WHERE id = ?1";

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

// The MATCH expression: (t1 AND t2 ...) NOT x1 NOT x2 ...; phrase i is
// term i, which paidoc_columns() relies on.
Result<std::string> match_expression(const SearchQuery& q) {
  if (q.terms.empty()) return Status::invalid("search needs at least one term");
  if (q.terms.size() > 16 || q.excluded.size() > 16) {
    return Status::invalid("search takes at most 16 terms and 16 exclusions");
  }
  std::string expr = "(";
  for (size_t i = 0; i < q.terms.size(); ++i) {
    auto p = phrase(q.terms[i]);
    if (!p.ok()) return p.status();
    if (i) expr += " AND ";
    expr += *p;
  }
  expr += ")";
  for (const std::string& x : q.excluded) {
    auto p = phrase(x);
    if (!p.ok()) return p.status();
    expr += " NOT " + *p;
  }
  return expr;
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

Result<SearchPage> search_in(Connection& c, const SearchQuery& q) {
  if (q.limit < 1 || q.limit > 100) {
    return Status::invalid("search limit must be 1..100, not " + std::to_string(q.limit));
  }
  if (q.offset < 0) return Status::invalid("search offset must not be negative");
  auto expr = match_expression(q);
  if (!expr.ok()) return expr.status();

  SearchPage page;
  std::vector<int64_t> ids;
  // Column masks already known (from the collector), by id.
  std::vector<std::pair<int64_t, int64_t>> known_masks;
  const bool unfiltered = q.category.empty() && q.price == PriceFilter::kAny;
  if (!q.newest_first) {
    // Relevance, filtered or not: one ranking pass over the matches.
    std::vector<bool> allowed;
    RankCollector collector;
    collector.keep = static_cast<size_t>(q.offset + q.limit);
    collector.terms = static_cast<int>(q.terms.size());
    if (!unfiltered) {
      auto st = c.stmt(kAllowedIds);
      if (!st.ok()) return st.status();
      st->bind(1, q.category).bind(2, price_code(q.price));
      for (;;) {
        auto row = st->step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        const int64_t id = st->int64(0);
        if (id < 0) continue;
        if (static_cast<size_t>(id) >= allowed.size()) allowed.resize(static_cast<size_t>(id) + 1);
        allowed[static_cast<size_t>(id)] = true;
      }
      collector.allowed = &allowed;
    }
    auto st = c.stmt(kCollect);
    if (!st.ok()) return st.status();
    st->bind(1, *expr).bind_pointer(2, &collector, kCollectorPointerType);
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return collector.error.is_ok() ? row.status() : collector.error;
      if (!*row) break;
    }
    page.total = collector.count;
    std::vector<RankCollector::Entry> best = collector.best();
    for (size_t i = static_cast<size_t>(q.offset); i < best.size(); ++i) {
      ids.push_back(best[i].id);
      known_masks.emplace_back(best[i].id, best[i].columns);
    }
  } else if (unfiltered) {
    {
      auto st = c.stmt(kNewestIds);
      if (!st.ok()) return st.status();
      st->bind(1, *expr).bind(2, q.limit).bind(3, q.offset);
      for (;;) {
        auto row = st->step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        ids.push_back(st->int64(0));
      }
    }
    auto st = c.stmt(kCountMatches);
    if (!st.ok()) return st.status();
    st->bind(1, *expr);
    auto row = st->step();
    if (!row.ok()) return row.status();
    page.total = *row ? st->int64(0) : 0;
  } else {
    auto st = c.stmt(kSearchByDate);
    if (!st.ok()) return st.status();
    st->bind(1, *expr).bind(2, q.category).bind(3, price_code(q.price)).bind(4, q.limit)
        .bind(5, q.offset);
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      ids.push_back(st->int64(0));
      page.total = st->int64(1);
    }
  }
  for (int64_t id : ids) {
    auto st = c.stmt(kHitRow);
    if (!st.ok()) return st.status();
    st->bind(1, id);
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) continue;  // cannot happen inside one snapshot
    SearchHit h;
    h.summary = read_summary(*st);
    constexpr int k = kSummaryColumnCount;
    if (!st->is_null(k)) h.publisher_id = st->int64(k);
    h.free_text = st->text(k + 1);
    page.hits.push_back(std::move(h));
  }
  if (page.hits.empty() && q.offset > 0 && q.newest_first && !unfiltered) {
    // Past the last page: the window count came with no row.
    auto n = search_count_in(c, q);
    if (!n.ok()) return n.status();
    page.total = *n;
  }
  for (SearchHit& h : page.hits) {
    auto known = std::find_if(known_masks.begin(), known_masks.end(),
                              [&](const auto& m) { return m.first == h.summary.id; });
    if (known != known_masks.end()) {
      for (size_t i = 0; i < q.terms.size(); ++i) {
        h.term_columns.push_back(static_cast<unsigned>((known->second >> (3 * i)) & 7));
      }
      continue;
    }
    auto st = c.stmt(kTermColumns);
    if (!st.ok()) return st.status();
    st->bind(1, *expr).bind(2, h.summary.id);
    auto row = st->step();
    if (!row.ok()) return row.status();
    const int64_t mask = *row ? st->int64(0) : 0;
    for (size_t i = 0; i < q.terms.size(); ++i) {
      h.term_columns.push_back(static_cast<unsigned>((mask >> (3 * i)) & 7));
    }
  }
  return page;
}

Result<int64_t> search_count_in(Connection& c, const SearchQuery& q) {
  auto expr = match_expression(q);
  if (!expr.ok()) return expr.status();
  auto st = c.stmt(kSearchCount);
  if (!st.ok()) return st.status();
  st->bind(1, *expr).bind(2, q.category).bind(3, price_code(q.price));
  auto row = st->step();
  if (!row.ok()) return row.status();
  return *row ? st->int64(0) : 0;
}

Result<int64_t> reindex_stale_in(Connection& c) {
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
        doc::Document d;
        try {
          nlohmann::json::parse(st->text(1)).get_to(d);
        } catch (const nlohmann::json::exception& e) {
          return Status::internal("sqlite: document " + std::to_string(st->int64(0)) +
                                  " has unreadable parsed_json: " + e.what());
        }
        batch.emplace_back(st->int64(0), search_texts(d));
      }
    }
    if (batch.empty()) return updated;
    for (const auto& [id, texts] : batch) {
      auto st = c.stmt(kSetSearchTexts);
      if (!st.ok()) return st.status();
      st->bind(1, id).bind(2, texts.free).bind(3, texts.paid).bind(4, int64_t{kSearchVersion});
      if (Status s = st->exec(); !s.is_ok()) return s;
      ++updated;
    }
  }
}

}  // namespace paidoc::store::sqlite
