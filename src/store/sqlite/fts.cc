#include "store/sqlite/fts.h"

#include <sqlite3.h>

#include <algorithm>
#include <exception>
#include <string>

#include "text/text.h"

namespace paidoc::store::sqlite {
namespace {

// The tokenizer has no options and no state; one static instance serves
// every table.
struct Tokenizer {};
Tokenizer g_tokenizer;

// The token that stands for a separator run. No word token holds "|"
// (text.h: words are ideographs or [a-z0-9]), so no query word matches it,
// and a prefix query (an ideograph) never does either.
constexpr char kSeparatorToken[] = "|";

int tokenizer_create(void*, const char** args, int nargs, Fts5Tokenizer** out) {
  if (nargs > 0) return SQLITE_ERROR;  // tokenize='paidoc' takes no options
  *out = reinterpret_cast<Fts5Tokenizer*>(&g_tokenizer);
  return SQLITE_OK;
}

void tokenizer_delete(Fts5Tokenizer*) {}

int tokenizer_tokenize(Fts5Tokenizer*, void* ctx, int flags, const char* text, int n,
                       int (*emit)(void*, int, const char*, int, int, int)) {
  try {
    std::string_view input(text ? text : "", static_cast<size_t>(n));
    // Queries are tokenized without the colocated unigrams: a query term's
    // last single ideograph is matched as a prefix instead (see text.h).
    const bool document = (flags & FTS5_TOKENIZE_DOCUMENT) || (flags & FTS5_TOKENIZE_AUX);
    const std::vector<text::Token> tokens =
        document ? text::tokenize_for_index(input) : text::tokenize(input);
    int previous_end = 0;
    for (const text::Token& t : tokens) {
      // A separator run between two tokens takes a position of its own (the
      // separator token, spanning the run), in documents and queries alike:
      // a phrase then never spans one, and a term typed with punctuation in
      // it matches the same words across any one separator run.
      if (t.gap) {
        int rc = emit(ctx, 0, kSeparatorToken, 1, previous_end, t.start);
        if (rc != SQLITE_OK) return rc;
      }
      int rc = emit(ctx, t.colocated ? FTS5_TOKEN_COLOCATED : 0, t.text.data(),
                    static_cast<int>(t.text.size()), t.start, t.end);
      if (rc != SQLITE_OK) return rc;
      previous_end = t.end;
    }
    return SQLITE_OK;
  } catch (const std::exception&) {
    return SQLITE_ERROR;
  }
}

bool in(const std::vector<bool>* set, int64_t id) {
  return id >= 0 && static_cast<size_t>(id) < set->size() && (*set)[static_cast<size_t>(id)];
}

void collect_function(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* out,
                      int nargs, sqlite3_value** args) {
  auto* c = nargs == 1 ? static_cast<RankCollector*>(
                             sqlite3_value_pointer(args[0], kCollectorPointerType))
                       : nullptr;
  if (c == nullptr) {
    sqlite3_result_error(out, "paidoc_collect: no collector", -1);
    return;
  }
  const int64_t rowid = api->xRowid(fts);
  if ((c->allowed != nullptr && !in(c->allowed, rowid)) ||
      (c->denied != nullptr && in(c->denied, rowid))) {
    sqlite3_result_int(out, 0);
    return;
  }
  ++c->count;
  int count = 0;
  int rc = api->xInstCount(fts, &count);
  if (rc != SQLITE_OK) {
    c->error = Status::internal("paidoc_collect: xInstCount failed");
    sqlite3_result_error_code(out, rc);
    return;
  }
  // tf per (term, column) from text phrases; keyword hits per (term, key).
  constexpr int kMaxTerms = 16;
  int tf[kMaxTerms][3] = {};
  bool key_hit[kMaxTerms][3] = {};
  const int nphrases = static_cast<int>(c->phrases.size());
  // Positions of text instances, for the proximity bonus (two terms or more).
  const bool near = c->terms > 1 && !c->by_id && !c->spans.empty();
  c->positions.clear();
  for (int i = 0; i < count; ++i) {
    int phrase = 0, column = 0, offset = 0;
    rc = api->xInst(fts, i, &phrase, &column, &offset);
    if (rc != SQLITE_OK) {
      c->error = Status::internal("paidoc_collect: xInst failed");
      sqlite3_result_error_code(out, rc);
      return;
    }
    if (phrase < 0 || phrase >= nphrases || column < 0 || column > kKeywordColumn) continue;
    const PhraseRole& role = c->phrases[static_cast<size_t>(phrase)];
    if (role.term < 0 || role.term >= c->terms || role.term >= kMaxTerms) continue;
    if (!(role.columns & (1u << column))) continue;
    if (role.key >= 0) {
      if (column == kKeywordColumn && role.key < 3) key_hit[role.term][role.key] = true;
    } else if (column < 3) {
      ++tf[role.term][column];
      if (near) c->positions.push_back({column, offset, role.term});
    }
  }
  double score = 0;
  int64_t mask = 0;
  int64_t keys = 0;
  for (int t = 0; t < c->terms && t < kMaxTerms; ++t) {
    for (int col = 0; col < 3; ++col) {
      const double f = tf[t][col];
      if (f > 0) {
        score += c->weights[col] * f / (f + 1.2);
        mask |= int64_t{1} << (3 * t + col);
      }
    }
    const bool whole = key_hit[t][0];
    const bool parts = key_hit[t][1] && key_hit[t][2];
    if (whole || parts) {
      keys |= int64_t{whole ? 1 : 6} << (3 * t);
      // One paid occurrence, whatever the keyword's frequency.
      if (tf[t][kPaidColumn] == 0) score += c->weights[kPaidColumn] / 2.2;
      mask |= int64_t{1} << (3 * t + kPaidColumn);
    }
  }
  if (near) {
    c->proximity.reset(c->spans);
    c->proximity.add(c->positions);
    score += c->proximity.score(c->weights);
  }
  if (c->by_id) score = 0;
  // Round so that near-equal scores fall to the recency tie-break.
  score = static_cast<double>(static_cast<int64_t>(score * 100 + 0.5)) / 100;
  RankCollector::Entry e{score, rowid, mask, keys};
  auto worse_first = [](const RankCollector::Entry& a, const RankCollector::Entry& b) {
    return better(a, b);
  };
  if (c->heap.size() < c->keep) {
    c->heap.push_back(e);
    std::push_heap(c->heap.begin(), c->heap.end(), worse_first);
  } else if (!c->heap.empty() && better(e, c->heap.front())) {
    std::pop_heap(c->heap.begin(), c->heap.end(), worse_first);
    c->heap.back() = e;
    std::push_heap(c->heap.begin(), c->heap.end(), worse_first);
  }
  sqlite3_result_int(out, 1);
}

fts5_api* fts5_api_of(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) != SQLITE_OK) return nullptr;
  sqlite3_bind_pointer(st, 1, reinterpret_cast<void*>(&api), "fts5_api_ptr", nullptr);
  sqlite3_step(st);
  sqlite3_finalize(st);
  return api;
}

}  // namespace

bool better(const RankCollector::Entry& a, const RankCollector::Entry& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.id > b.id;
}

std::vector<RankCollector::Entry> RankCollector::best() const {
  std::vector<Entry> out = heap;
  std::sort(out.begin(), out.end(), better);
  return out;
}

Status register_fts(sqlite3* db) {
  fts5_api* api = fts5_api_of(db);
  if (api == nullptr || api->iVersion < 2) {
    return Status::internal("sqlite: this SQLite library has no FTS5 (needed for search)");
  }
  fts5_tokenizer tok{tokenizer_create, tokenizer_delete, tokenizer_tokenize};
  int rc = api->xCreateTokenizer(api, "paidoc", nullptr, &tok, nullptr);
  if (rc != SQLITE_OK) return Status::internal("sqlite: cannot register the paidoc tokenizer");
  rc = api->xCreateFunction(api, "paidoc_collect", nullptr, collect_function, nullptr);
  if (rc != SQLITE_OK) return Status::internal("sqlite: cannot register paidoc_collect()");
  return Status();
}

}  // namespace paidoc::store::sqlite
