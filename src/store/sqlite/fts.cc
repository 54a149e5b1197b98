#include "store/sqlite/fts.h"

#include <sqlite3.h>

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
  return Status();
}

}  // namespace paidoc::store::sqlite
