// Store: the one storage interface. Callers (library services, CLI) use only
// this header; SQL lives in the backends (store/sqlite/, later
// store/postgres/). Store::open picks the backend from a URL.
//
// Thread-safety: a Store is safe to use from many threads at once; backends
// keep their own connection pools. Every write method is one transaction:
// it either happens whole or leaves stored data as it was.
//
// Errors: kNotFound for a missing id, kInvalidArgument for bad input,
// kUnavailable when the database cannot be reached or is busy past its
// timeout, kInternal for anything else. Driver exceptions never escape.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "doc/document.h"

namespace paidoc::store {

struct Category {
  int64_t id = 0;
  std::string name;          // as shown and as used in /c/{name}
  int64_t document_count = 0;  // filled by list_categories()
};

// A document to put. source_sha256 identifies the exact source bytes.
struct NewDocument {
  std::string source_path;    // canonical path it was imported from
  std::string source_sha256;  // hex of SHA-256 over the raw source bytes
  std::string source_text;    // decoded UTF-8 source, markers included
  doc::Document parsed;
  Fen price;
  std::string category;       // empty: uncategorised; created if missing
  std::string excerpt;        // gate::public_excerpt(parsed): free text only
  std::optional<int64_t> publisher_id;
};

enum class PutOutcome { kCreated, kUpdated, kUnchanged };

struct PutResult {
  int64_t id = 0;
  PutOutcome outcome = PutOutcome::kCreated;
};

// What listings, feeds and the sitemap need; holds no paid text (excerpt is
// free text only, counts are numbers).
struct DocumentSummary {
  int64_t id = 0;
  int64_t revision = 0;
  std::string title;
  std::string category;
  Fen price;
  std::string excerpt;
  doc::Figures figures;
  bool has_paid_text = false;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
};

struct StoredDocument {
  DocumentSummary summary;
  std::string source_path;
  std::string source_sha256;
  std::string source_text;
  std::optional<int64_t> publisher_id;
  doc::Document parsed;
};

struct ListQuery {
  std::string category;  // empty: all
  int64_t offset = 0;
  int64_t limit = 20;    // REQUIRES: 1..1000
};

struct ListPage {
  std::vector<DocumentSummary> items;  // newest (created_at, id) first
  int64_t total = 0;                   // matching documents in all pages
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens "sqlite:PATH" (file created if missing, migrations applied).
  // Other schemes answer kInvalidArgument naming the scheme.
  static Result<std::unique_ptr<Store>> open(const std::string& url);

  // Current schema version after migrations.
  virtual Result<int> schema_version() = 0;

  // Creates or updates a document, atomically.
  //  - a document with the same source_sha256 exists: kUnchanged, its id;
  //  - else one with the same source_path exists: it is replaced (revision
  //    + 1, updated_at now, created_at kept): kUpdated;
  //  - else a new document: kCreated.
  virtual Result<PutResult> put_document(const NewDocument& d) = 0;

  // kNotFound when absent.
  virtual Result<StoredDocument> get_document(int64_t id) = 0;

  // The revision alone (cheap; for render caches). kNotFound when absent.
  virtual Result<int64_t> document_revision(int64_t id) = 0;

  virtual Result<ListPage> list_documents(const ListQuery& q) = 0;
  virtual Result<std::vector<Category>> list_categories() = 0;
  virtual Result<int64_t> count_documents() = 0;
};

}  // namespace paidoc::store
