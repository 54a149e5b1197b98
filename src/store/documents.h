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
#include <string_view>
#include <utility>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "doc/document.h"
#include "store/audit.h"

namespace paidoc::store {

// Whether readers see a document. A draft is seen only by those who may
// edit it (library::Library::may_edit): listings, search, feeds, the
// sitemap and category counts leave drafts out. The strings are the stored
// values and the console's filter values.
enum class DocStatus { kPublished, kDraft };
inline const char* to_string(DocStatus s) { return s == DocStatus::kDraft ? "draft" : "published"; }
inline std::optional<DocStatus> parse_doc_status(std::string_view s) {
  if (s == "published") return DocStatus::kPublished;
  if (s == "draft") return DocStatus::kDraft;
  return std::nullopt;
}

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
  // The publisher's title; empty: the parsed title (the source's first
  // line). Listings, pages and search show the override when set.
  std::string title;
  // The publisher's summary, shown in listings and as the meta description
  // instead of the free excerpt when set. Never paid text (the publisher
  // writes it).
  std::string summary;
  // A new document's status. A put that replaces a document by source path
  // (an import) keeps the stored status, title and summary.
  DocStatus status = DocStatus::kPublished;
  // Who puts it, for the audit log and the revision row; an empty label
  // records no audit entry (the revision row is written all the same).
  AuditActor actor;
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
  std::string title;     // the publisher's title when set, else the parsed one
  std::string category;
  Fen price;
  std::string excerpt;   // the publisher's summary when set, else the free excerpt
  doc::Figures figures;
  bool has_paid_text = false;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
  DocStatus status = DocStatus::kPublished;
  std::optional<int64_t> publisher_id;
  std::string publisher_email;  // "" when none (filled by list_documents)
};

struct StoredDocument {
  DocumentSummary summary;
  std::string source_path;
  std::string source_sha256;
  std::string source_text;
  std::optional<int64_t> publisher_id;
  doc::Document parsed;
  std::string title_override;  // NewDocument::title as stored ("" : none)
  std::string summary_text;    // NewDocument::summary as stored
};

enum class ListPrice { kAny, kFree, kPaid };

struct ListQuery {
  std::string category;  // empty: all
  int64_t offset = 0;
  int64_t limit = 20;  // REQUIRES: 1..1000
  // Readers' listings see published documents only (the default);
  // nullopt: both (the console).
  std::optional<DocStatus> status = DocStatus::kPublished;
  std::string title_contains;           // "" any; else a substring of the title
  ListPrice price = ListPrice::kAny;    // kFree: price 0 or nothing withheld
  std::optional<int64_t> publisher_id;  // only this publisher's documents
  std::string publisher_email;          // "" any; else the publisher's exact email
  // Non-empty: only documents with this tag (taxonomy.h). Last, so that
  // {category, offset, limit} initialisers keep their meaning.
  std::string tag = {};
};

// A readers' listing page: published documents, all or in one category.
inline ListQuery page_query(std::string category, int64_t offset, int64_t limit) {
  ListQuery q;
  q.category = std::move(category);
  q.offset = offset;
  q.limit = limit;
  return q;
}

struct ListPage {
  std::vector<DocumentSummary> items;  // newest (created_at, id) first
  int64_t total = 0;                   // matching documents in all pages
};

// One stored revision of a document: what it was after a change.
struct DocumentRevision {
  int64_t document_id = 0;
  int64_t revision = 0;
  std::string source_text;  // empty in document_revisions() lists
  std::string source_sha256;
  std::string title;  // the title shown at that revision
  Fen price;
  std::string category;
  std::string summary;
  DocStatus status = DocStatus::kPublished;
  std::string actor;  // who made it ("" when unknown: imports before revisions)
  int64_t created_at = 0;
};

// A change made in the console: the whole new state of a document.
struct DocumentEdit {
  int64_t id = 0;  // 0: a new document
  // id != 0: the revision the change was made from; kConflict when the
  // stored revision differs (someone saved meanwhile).
  int64_t base_revision = 0;
  // The new state. For an existing document source_path and publisher_id
  // are kept as stored. doc.actor records who.
  NewDocument doc;
  // Set when the state comes from this earlier revision (audited as
  // document.restore).
  std::optional<int64_t> restored_from;
  // The document's tags (taxonomy.h; normalised as normalize_tag_names, a
  // bad name is kInvalidArgument), replaced in the same transaction and
  // audited as document.tags; nullopt keeps them as they are. A save that
  // changes only the tags still makes a new revision.
  std::optional<std::vector<std::string>> tags;
};

// A change to many documents at once (the console's bulk actions).
struct BulkChange {
  enum class Kind { kPublish, kUnpublish, kPrice, kCategory };
  Kind kind = Kind::kPublish;
  Fen price;             // kPrice
  std::string category;  // kCategory ("" : uncategorised)
};

class DocumentStore {
 public:
  virtual ~DocumentStore() = default;

  // Creates or updates a document, atomically, at time `now`:
  //  - a document with the same source_sha256 exists: kUnchanged, its id;
  //  - else one with the same source_path exists: it is replaced (revision
  //    + 1, updated_at = now, created_at kept): kUpdated;
  //  - else a new document (created_at = updated_at = now): kCreated.
  // A new category is created with created_at = now. A created or
  // replaced document gets its revision row (document_revisions) and, when
  // d.actor has a label, its audit entry (document.create, or
  // document.update plus document.price / document.category when those
  // changed) in the same transaction.
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
  // Every document, drafts included.
  virtual Result<int64_t> count_documents() = 0;

  // Saves a console change in one transaction: the document (revision + 1,
  // updated_at = now; a new one created at now), its revision row and its
  // audit entries (document.create, or document.restore, or per change:
  // document.update for text, title or summary, document.price,
  // document.category, document.publish / document.unpublish). A state
  // equal to the stored one changes nothing: kUnchanged. kNotFound for an
  // unknown id, kConflict for a stale base_revision or a source another
  // document already has (same source_sha256), kInvalidArgument as
  // put_document.
  virtual Result<PutResult> save_document(const DocumentEdit& e, int64_t now) = 0;

  // Applies `change` to each of `ids` that exists (and, when only_publisher
  // is set, that this publisher published), in ONE transaction: each
  // changed document gets revision + 1, its revision row and its audit entry
  // (actor). Documents the change leaves as they were are not counted.
  // Returns how many documents changed.
  virtual Result<int64_t> bulk_update_documents(const std::vector<int64_t>& ids,
                                                const BulkChange& change,
                                                std::optional<int64_t> only_publisher,
                                                const AuditActor& actor, int64_t now) = 0;

  // A document's revisions, newest first, without their source text.
  // kNotFound when the document does not exist.
  virtual Result<std::vector<DocumentRevision>> document_revisions(int64_t id) = 0;
  // One revision, with its source text. kNotFound when absent.
  virtual Result<DocumentRevision> get_document_revision(int64_t id, int64_t revision) = 0;
};

}  // namespace paidoc::store
