// DocumentStore: the documents domain of the store — imported documents,
// their categories, listings and counts.
//
// Ownership: results are values owned by the caller. The store keeps no
// reference to arguments after a call returns.
//
// Thread-safety: an implementation is safe to use from many threads at once.
// put_document is one transaction: it happens whole or leaves stored data
// as it was, and it keeps the search index (search_index.h) in step with
// the document in that same transaction.
//
// Errors: kNotFound for a missing id (never an empty value), kInvalidArgument
// for bad input, kUnavailable when the database cannot be reached or is busy
// past its timeout, kInternal for anything else. Driver exceptions never
// escape.
//
// Time: the store never reads a clock. Times are unix seconds the caller
// passes (`now`), taken from its Clock (common/clock.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "doc/document.h"

namespace paidoc::store {

struct Category {
  int64_t id = 0;
  std::string name;            // as shown and as used in /c/{name}
  int64_t document_count = 0;  // filled by list_categories()
};

// A document to put. source_sha256 identifies the exact source bytes.
struct NewDocument {
  std::string source_path;    // canonical path it was imported from
  std::string source_sha256;  // hex of SHA-256 over the raw source bytes
  std::string source_text;    // decoded UTF-8 source, markers included
  doc::Document parsed;
  Fen price;
  std::string category;  // empty: uncategorised; created if missing
  std::string excerpt;   // gate::public_excerpt(parsed): free text only
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
  int64_t limit = 20;  // REQUIRES: 1..1000
  // Non-empty: only documents with this tag (taxonomy.h). Last, so that
  // {category, offset, limit} initialisers keep their meaning.
  std::string tag = {};
};

struct ListPage {
  std::vector<DocumentSummary> items;  // newest (created_at, id) first
  int64_t total = 0;                   // matching documents in all pages
};

class DocumentStore {
 public:
  virtual ~DocumentStore() = default;

  // Creates or updates a document, atomically, at time `now`:
  //  - a document with the same source_sha256 exists: kUnchanged, its id;
  //  - else one with the same source_path exists: it is replaced (revision
  //    + 1, updated_at = now, created_at kept): kUpdated;
  //  - else a new document (created_at = updated_at = now): kCreated.
  // A new category is created with created_at = now.
  virtual Result<PutResult> put_document(const NewDocument& d, int64_t now) = 0;

  // Puts several documents in ONE write transaction (one durable commit),
  // each as put_document would, at `now`, in the order given, each in its
  // own savepoint: a document that is refused is left out alone, with its
  // error in its place of the answer. The call as a whole fails, storing
  // nothing, only when the transaction cannot begin or commit (or the
  // database gave up on it). For imports; a batch of a few hundred.
  virtual Result<std::vector<Result<PutResult>>> put_documents(const std::vector<NewDocument>& docs,
                                                               int64_t now) = 0;

  // kNotFound when absent.
  virtual Result<StoredDocument> get_document(int64_t id) = 0;

  // The revision alone (cheap; for render caches). kNotFound when absent.
  virtual Result<int64_t> document_revision(int64_t id) = 0;

  // kInvalidArgument for a limit outside 1..1000 or a negative offset; an
  // unknown category or tag is an empty page, not an error.
  virtual Result<ListPage> list_documents(const ListQuery& q) = 0;
  // Every category, in the order set for them (position, then name;
  // taxonomy.h), with its document count (0 for an empty one).
  virtual Result<std::vector<Category>> list_categories() = 0;
  virtual Result<int64_t> count_documents() = 0;
};

}  // namespace paidoc::store
