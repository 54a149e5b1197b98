// Library: the document services the web layer and the CLI call. It imports
// sources into the store and hands out gated views; it is the only caller
// of gate::make_view.
//
// It holds only the documents part of the store (store::DocumentStore);
// search and downloads get their own store interfaces where the services
// are wired (web::Server, the CLI), not through the library.
//
// Thread-safety: safe from many threads (the store is).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/money.h"
#include "common/status.h"
#include "gate/gate.h"
#include "store/documents.h"

namespace paidoc::library {

struct ImportOptions {
  Fen price = Fen(500);   // used for documents with paid text
  std::string category;   // empty: uncategorised
  // The account publishing it (an editor uploading); it reads its own
  // document in full. Empty for CLI imports.
  std::optional<int64_t> publisher_id;
  // Who imports, for the audit log: "cli:<os user>" on the command line,
  // the uploading account on the web. An empty label records no entry.
  store::AuditActor actor;
  // The status of a document the import creates (an import that replaces
  // one keeps its status).
  store::DocStatus status = store::DocStatus::kPublished;
};

// The highest price a publisher may set by default: 100000.00 yuan. An
// operator may set another (`--max-price`, 0.01 .. kMaxAmount yuan): the
// Library's max_price.
inline constexpr Fen kMaxPrice = Fen(10'000'000);

// What a publisher types in the console's editor, as typed.
struct DocumentForm {
  std::string source;      // paidoc source text with its ##paidbegin##/##paidend## markers
  std::string title;       // "" : the source's first line
  std::string price_yuan;  // "9.90"
  std::string category;    // "" : uncategorised; a new name creates the category
  std::string summary;     // "" : listings show the free excerpt
  std::string status;      // "draft" | "published"
  // Tag names as typed, separated by commas (',' '，' '、') or new lines
  // (store::split_term_names); "" removes every tag; nullopt keeps them.
  std::optional<std::string> tags;
  int64_t base_revision = 0;  // the revision the editor was opened at
};

// Why a form was refused: the field ("source", "title", "price_yuan",
// "category", "tags", "summary", "status", "base_revision") and a zh-CN message
// naming it; a source that does not parse has its line and column.
struct FormError {
  std::string field;
  std::string message;
  int line = 0;
  int column = 0;
};

// The editor's preview: what a buyer sees (everything) and what a reader
// without access sees (free part and teaser), both from gate::make_view.
struct Preview {
  gate::DocumentView buyer;
  gate::DocumentView reader;
};

// A document as the editor opens it, with its revisions (newest first).
struct Editable {
  store::StoredDocument doc;
  std::vector<std::string> tags;  // in tag order
  std::vector<store::DocumentRevision> revisions;
};

// How import_files batches: documents per transaction, threads parsing.
struct ImportBatching {
  int batch = 256;
  int threads = 2;
};

// One imported (or rejected) file, as `paidoc import` prints it.
struct ImportLine {
  bool ok = false;
  std::string path;
  int64_t id = 0;
  store::PutOutcome outcome = store::PutOutcome::kCreated;
  std::string title;
  std::string error;  // "FILE:LINE:COL: reason" when !ok
  // "imported 12 标题" / "updated 12 标题" / "unchanged 12 标题" /
  // "error FILE:LINE:COL: reason"
  std::string to_string() const;
};

// The largest source accepted by default, by import, upload and the
// editor alike: 5 MiB, both as given (file bytes) and as text (decoded, or
// converted from .md / .docx). A 200 MB source once took 6.5 GB of memory
// to import and served a 100 MB page.
inline constexpr int64_t kDefaultMaxSourceBytes = int64_t{5} << 20;
// What an operator may raise it to (`--max-source-mb`, 1..64).
inline constexpr int64_t kMaxSourceMb = 64;

class Library {
 public:
  // REQUIRES: store and clock outlive the library; 0 < max_price <=
  // kMaxAmount. Imports are stamped with clock.now(). Sources larger than
  // max_source_bytes (file or text) are refused, naming the size and the
  // limit; so is a price above max_price, wherever it enters (import,
  // upload, editor, bulk change), naming the price and the limit.
  explicit Library(store::DocumentStore& store, const Clock& clock = Clock::system(),
                   int64_t max_source_bytes = kDefaultMaxSourceBytes, Fen max_price = kMaxPrice)
      : store_(store), clock_(clock), max_source_bytes_(max_source_bytes), max_price_(max_price) {}

  int64_t max_source_bytes() const { return max_source_bytes_; }
  Fen max_price() const { return max_price_; }

  // Parses and stores one source. `path`'s extension picks the format
  // (sources::format_of: .md/.markdown, .docx, else .txt). Never stores
  // anything of a source that does not parse, nor with opts.price outside
  // 0 .. max_price ("PATH: price ¥X is above the maximum price ¥Y").
  ImportLine import_bytes(std::string_view bytes, const std::string& path,
                          const ImportOptions& opts);
  // Reads and imports one file.
  ImportLine import_file(const std::string& path, const ImportOptions& opts);

  // Imports a file a publisher uploads (the console's upload page, the API's
  // POST /documents): stored under the source path "upload/<publisher
  // id>/<file_name>", so a publisher's upload replaces only their own
  // document of that name, never another publisher's. opts.publisher_id is
  // set to publisher_id. Rules and messages as import_bytes, but the line's
  // path and error name the file as uploaded (no "upload/<id>/" prefix).
  // Bytes identical to another publisher's document (the store keeps one
  // document per content) fail with "not stored" rather than name theirs.
  // kInvalidArgument (zh-CN message, nothing stored) when file_name is
  // empty, over kMaxUploadName bytes, or holds '/', '\\' or NUL.
  static constexpr size_t kMaxUploadName = 200;
  Result<ImportLine> upload_bytes(std::string_view bytes, const std::string& file_name,
                                  int64_t publisher_id, ImportOptions opts);

  // Imports many files, in batches: each batch is read and parsed on
  // `batching.threads` threads and stored in ONE store transaction
  // (Store::put_documents), while the next batch is parsed. on_line gets
  // one line per path, in the order of `paths`, from one thread at a time,
  // and only once the batch holding it is durable: a line reported as
  // imported survives a crash that follows. Documents are created in the
  // order of `paths` (ids ascending), as one-by-one imports would.
  void import_files(const std::vector<std::string>& paths, const ImportOptions& opts,
                    const ImportBatching& batching,
                    const std::function<void(const ImportLine&)>& on_line);

  // Expands files and folders (recursively, *.txt, *.md, *.markdown,
  // *.docx, sorted) into file paths.
  // A path that does not exist comes back in *missing.
  static std::vector<std::string> collect_sources(
      const std::vector<std::string>& paths, std::vector<std::string>* missing);

  // The view of document `id` for `viewer`. kNotFound when absent, and for
  // a draft when the viewer may not edit it (a draft is not public).
  Result<gate::DocumentView> view(int64_t id, const gate::Viewer& viewer);

  // --- the console --------------------------------------------------------
  // THE rule of who may change a document: an admin (or the CLI) any; an
  // editor only documents they published; nobody else (and documents with
  // no publisher, CLI imports, only admins). Every console action asks it.
  static bool may_edit(const gate::Viewer& who, std::optional<int64_t> publisher_id);

  // The console's listing: editors see only their own documents
  // (q.publisher_id is forced to theirs, q.publisher_email ignored).
  // kForbidden for viewers who are neither editors nor admins.
  Result<store::ListPage> console_list(const gate::Viewer& who, store::ListQuery q);

  // The document with its revisions, to edit. kNotFound when absent,
  // kForbidden when `who` may not edit it.
  Result<Editable> editable(const gate::Viewer& who, int64_t id);

  // The preview of a form for document `id` (0: a new one). Refusals as
  // save(); nothing is stored.
  Result<Preview> preview(const gate::Viewer& who, int64_t id, const DocumentForm& form,
                          FormError* error);

  // Parses the form as an import would and saves it as a new revision of
  // document `id` (0: creates one published by `who`). kInvalidArgument
  // with *error filled for bad input (nothing stored), kConflict when the
  // document changed since form.base_revision (or another document has
  // exactly this source), kForbidden, kNotFound.
  Result<store::PutResult> save(const gate::Viewer& who, int64_t id, const DocumentForm& form,
                                const store::AuditActor& actor, FormError* error);

  // Saves revision `revision`'s source and settings as a new revision
  // (audited as document.restore). Errors as save().
  Result<store::PutResult> restore(const gate::Viewer& who, int64_t id, int64_t revision,
                                   const store::AuditActor& actor);

  // Applies a bulk change to `ids` (unknown ids skipped), in one
  // transaction; returns how many changed. kForbidden, changing nothing,
  // when `who` may not edit one of them; kInvalidArgument for a price
  // outside 0..max_price.
  Result<int64_t> bulk(const gate::Viewer& who, const std::vector<int64_t>& ids,
                       const store::BulkChange& change, const store::AuditActor& actor);

  // Parses a price typed in yuan, 0..max_price; kInvalidArgument with a
  // zh-CN message naming the field (价格), the price and the limit
  // otherwise. The upload page, the editor and bulk changes ask it.
  Result<Fen> parse_price(std::string_view yuan) const;
  // A price given otherwise (fen from the API, --price): kInvalidArgument
  // with an English message naming `field`, the price and the limit when
  // it is outside 0..max_price.
  Status check_price(const std::string& field, Fen price) const;
  // A category name typed by a publisher: "" (blank) for none, else
  // store::normalize_term_name's rule (trimmed, 1..32 characters, no
  // control characters, no '/', '?', '#'); kInvalidArgument with its zh-CN
  // message (分类名称…) otherwise. The editor, bulk changes and uploads all
  // ask it.
  static Result<std::string> parse_category(std::string_view raw);
  // Cheap: the document's revision, for caches keyed by (id, revision).
  Result<int64_t> revision(int64_t id) { return store_.document_revision(id); }

  Result<store::ListPage> list(const store::ListQuery& q) { return store_.list_documents(q); }
  Result<std::vector<store::Category>> categories() { return store_.list_categories(); }
  Result<int64_t> count() { return store_.count_documents(); }

  // Imports the embedded demo documents (demo/*.txt, with category and price
  // from demo/manifest.json) when the store holds no documents.
  // Returns how many were imported.
  Result<int> seed_demo();

 private:
  // Parses a source into the document to put; nullopt (line->error set)
  // when it does not parse. Fills line->path and line->title.
  std::optional<store::NewDocument> prepare(std::string_view bytes, const std::string& path,
                                            const ImportOptions& opts, ImportLine* line) const;
  // Fills the line from the store's answer.
  static void finish(const Result<store::PutResult>& put, ImportLine* line);

  store::DocumentStore& store_;
  const Clock& clock_;
  const int64_t max_source_bytes_;
  const Fen max_price_;
};

}  // namespace paidoc::library
