// Downloads: files of a document for the readers who may read all of it,
// through short-lived links bound to the reader, within daily limits, each
// file carrying a trace mark that names its download (export/trace.h).
//
// The flow:
//   link(document, format, viewer)   -> "/download/{id}?format=&exp=&sig="
//       for a signed-in viewer with access (the gate decides); the
//       signature covers the viewer's user id, the document, the format
//       and the expiry, so the link is useless to anyone else and after
//       expiry;
//   fetch(..., viewer)               -> the file
//       re-checks the signature against the CURRENT viewer, re-checks
//       access, applies the daily limit, records the download (store), and
//       stamps the cached rendering of (document revision, format) with
//       the download's mark.
//
// Daily limits (per user, per day since 00:00 China Standard Time):
//   VIP access:       the plan's daily_downloads (commerce::Plan), over all
//                     documents read through VIP; 0: unlimited;
//   purchased access: Options::per_document_daily per bought document;
//   free documents:   Options::free_daily over all free documents;
//   publisher, admin: unlimited.
//
// Thread-safety: safe from many threads (the render cache locks itself).
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "commerce/commerce.h"
#include "common/clock.h"
#include "common/status.h"
#include "export/export.h"
#include "export/trace.h"
#include "gate/gate.h"
#include "library/library.h"
#include "store/accounts.h"
#include "store/documents.h"
#include "store/downloads.h"
#include "store/settings.h"

namespace paidoc::downloads {

struct Options {
  int64_t link_ttl_seconds = 300;
  int64_t per_document_daily = 10;
  int64_t free_daily = 30;
  size_t cache_bytes = 32 << 20;  // rendered (unstamped) files
};

struct Link {
  std::string url;         // site-relative: "/download/12?format=docx&exp=...&sig=..."
  int64_t expires_at = 0;  // unix seconds
};

struct File {
  std::string bytes;
  std::string content_type;
  std::string file_name;   // UTF-8, for Content-Disposition
  store::Download record;  // id 0 for an operator export
};

// What `paidoc trace` reports.
struct TraceReport {
  exporter::TraceFound found;
  std::optional<exporter::TracePayload> payload;  // the mark used (text first, else metadata)
  bool operator_export = false;     // a mark of an operator export (download id 0)
  std::optional<store::Download> download;  // the record the mark names, when it verifies
  std::optional<store::User> user;
  std::optional<commerce::Order> order;
  std::string document_title;
  std::string problem;              // why nothing was verified ("" when verified)
};

// The parts of the store the service uses (one Store is all of them).
struct Stores {
  store::DownloadStore& downloads;  // the records fetch() writes and trace() reads
  store::SettingsStore& settings;   // the link-signing key
  store::DocumentStore& documents;  // trace(): the title of the document downloaded
  store::AccountStore& accounts;    // trace(): the account a download names (read only)
};

class Service {
 public:
  // REQUIRES: everything outlives the service.
  Service(Stores stores, library::Library& library, commerce::Commerce& commerce,
          const Clock& clock, Options options = {});

  // Loads the link-signing key from the store, creating it on first use
  // (one key for every node sharing the database). Optional: link() and
  // fetch() load it on first use when init() did not (or failed).
  Status init();

  // kUnauthenticated for an anonymous viewer; kInvalidArgument for an
  // unknown format; kNotFound for an unknown document; kForbidden when the
  // viewer may not read the paid part.
  Result<Link> link(int64_t document_id, std::string_view format, const gate::Viewer& viewer);

  // The file behind a link. kUnauthenticated for an anonymous viewer;
  // kForbidden when the signature does not verify for THIS viewer, the link
  // has expired, or access is gone; kTooManyRequests past the daily limit.
  Result<File> fetch(int64_t document_id, std::string_view format, int64_t expires_at,
                     std::string_view signature, const gate::Viewer& viewer);

  // An operator export (paidoc export): the full document, no record, a
  // mark with download id 0.
  Result<File> export_file(int64_t document_id, exporter::Format format);

  // Reads the mark in a file (or pasted text) and names the download, user
  // and order it belongs to. A mark whose nonce does not match its record
  // is reported as not verified.
  Result<TraceReport> trace(std::string_view bytes);

 private:
  Result<std::string> key();
  static std::string sign(const std::string& key, int64_t user_id, int64_t document_id,
                          std::string_view format, int64_t expires_at);
  Result<std::shared_ptr<const exporter::Prepared>> prepared(const gate::DocumentView& view,
                                                             exporter::Format format);
  // The limit for this access: (limit, per_document); limit 0: none.
  Result<std::pair<int64_t, bool>> limit_for(gate::Access access, int64_t user_id);

  Stores stores_;
  library::Library& library_;
  commerce::Commerce& commerce_;
  const Clock& clock_;
  Options options_;
  std::mutex key_mu_;
  std::string key_;  // guarded by key_mu_; empty until loaded

  // Rendered files by (document id, revision, format), least recently used
  // first in lru_.
  using CacheKey = std::tuple<int64_t, int64_t, int>;
  std::mutex mu_;
  std::list<CacheKey> lru_;
  std::map<CacheKey, std::pair<std::shared_ptr<const exporter::Prepared>,
                               std::list<CacheKey>::iterator>> cache_;
  size_t cache_used_ = 0;
};

// The start of the current day in China Standard Time (UTC+8), unix seconds.
int64_t day_start(int64_t now);

}  // namespace paidoc::downloads
