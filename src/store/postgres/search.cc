#include "store/postgres/search.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

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

// The search itself (search_in, search_count_in) is not written yet for
// this backend: it answers kInternal, so nothing pretends to have searched.
Result<SearchPage> search_in(Connection& c, const SearchQuery& q) {
  return Status::internal("postgresql: search is not implemented yet");
}

Result<int64_t> search_count_in(Connection& c, const SearchQuery& q) {
  return Status::internal("postgresql: search is not implemented yet");
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
  // Copies, not views: out grows below, and a short word's bytes live
  // inside its std::string, which moves when out reallocates.
  std::unordered_set<std::string> seen(out.begin(), out.end());
  for (const text::KeywordCandidates::Occurrence& o : paid.occurrences) {
    if (seen.insert(o.word).second) out.push_back(o.word);
  }
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

}  // namespace paidoc::store::postgres
