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
    for (const text::Token& t : tokens) {
      int rc = emit(ctx, t.colocated ? FTS5_TOKEN_COLOCATED : 0, t.text.data(),
                    static_cast<int>(t.text.size()), t.start, t.end);
      if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
  } catch (const std::exception&) {
    return SQLITE_ERROR;
  }
}

void columns_function(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* out, int,
                      sqlite3_value**) {
  int count = 0;
  int rc = api->xInstCount(fts, &count);
  if (rc != SQLITE_OK) {
    sqlite3_result_error_code(out, rc);
    return;
  }
  sqlite3_int64 mask = 0;
  for (int i = 0; i < count; ++i) {
    int phrase = 0, column = 0, offset = 0;
    rc = api->xInst(fts, i, &phrase, &column, &offset);
    if (rc != SQLITE_OK) {
      sqlite3_result_error_code(out, rc);
      return;
    }
    if (phrase < 20 && column >= 0 && column < 3) {
      mask |= sqlite3_int64{1} << (3 * phrase + column);
    }
  }
  sqlite3_result_int64(out, mask);
}

// Heap order: the WORST entry first (lower score; on equal score, lower id).
bool better(const RankCollector::Entry& a, const RankCollector::Entry& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.id > b.id;
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
  if (c->allowed != nullptr &&
      (rowid < 0 || static_cast<size_t>(rowid) >= c->allowed->size() ||
       !(*c->allowed)[static_cast<size_t>(rowid)])) {
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
  // tf per (phrase, column); queries have at most 16 terms.
  int tf[16][3] = {};
  int64_t mask = 0;
  for (int i = 0; i < count; ++i) {
    int phrase = 0, column = 0, offset = 0;
    rc = api->xInst(fts, i, &phrase, &column, &offset);
    if (rc != SQLITE_OK) {
      c->error = Status::internal("paidoc_collect: xInst failed");
      sqlite3_result_error_code(out, rc);
      return;
    }
    if (phrase < c->terms && phrase < 16 && column >= 0 && column < 3) {
      ++tf[phrase][column];
      mask |= int64_t{1} << (3 * phrase + column);
    }
  }
  double score = 0;
  for (int p = 0; p < c->terms && p < 16; ++p) {
    for (int col = 0; col < 3; ++col) {
      const double f = tf[p][col];
      if (f > 0) score += c->weights[col] * f / (f + 1.2);
    }
  }
  // Round so that near-equal scores fall to the recency tie-break.
  score = static_cast<double>(static_cast<int64_t>(score * 100 + 0.5)) / 100;
  RankCollector::Entry e{score, rowid, mask};
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
  rc = api->xCreateFunction(api, "paidoc_columns", nullptr, columns_function, nullptr);
  if (rc != SQLITE_OK) return Status::internal("sqlite: cannot register paidoc_columns()");
  rc = api->xCreateFunction(api, "paidoc_collect", nullptr, collect_function, nullptr);
  if (rc != SQLITE_OK) return Status::internal("sqlite: cannot register paidoc_collect()");
  return Status();
}

}  // namespace paidoc::store::sqlite
