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

class Library {
 public:
  // REQUIRES: store and clock outlive the library. Imports are stamped with
  // clock.now().
  explicit Library(store::DocumentStore& store, const Clock& clock = Clock::system())
      : store_(store), clock_(clock) {}

  // Parses and stores one source. `path`'s extension picks the format
  // (sources::format_of: .md/.markdown, .docx, else .txt). Never stores
  // anything of a source that does not parse.
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

  // The view of document `id` for `viewer` (kNotFound when absent).
  Result<gate::DocumentView> view(int64_t id, const gate::Viewer& viewer);
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
  static std::optional<store::NewDocument> prepare(std::string_view bytes, const std::string& path,
                                                   const ImportOptions& opts, ImportLine* line);
  // Fills the line from the store's answer.
  static void finish(const Result<store::PutResult>& put, ImportLine* line);

  store::DocumentStore& store_;
  const Clock& clock_;
};

}  // namespace paidoc::library
