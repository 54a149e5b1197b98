// DownloadStore: the downloads domain of the store. Every file handed to a
// reader is recorded: the record is what a trace mark in the file points at
// (paidoc trace), and what daily download limits count.
//
// Ownership, errors and thread-safety as in documents.h; the store reads no
// clock (NewDownload carries the time).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace paidoc::store {

struct Download {
  int64_t id = 0;
  int64_t user_id = 0;
  int64_t document_id = 0;
  int64_t revision = 0;  // the document version the file was made from
  std::string format;    // "docx" | "pdf" | "txt"
  std::string access;    // gate::access_name of the grant: "purchased", "vip", ...
  int64_t order_id = 0;  // the order behind the access (purchase or plan); 0: none
  int64_t nonce = 0;     // 0..2^32-1, random; carried in the trace mark
  int64_t created_at = 0;
};

struct NewDownload {
  int64_t user_id = 0;
  int64_t document_id = 0;
  int64_t revision = 0;
  std::string format;
  std::string access;
  int64_t nonce = 0;
  int64_t created_at = 0;  // the caller's now
  // Limit: at most `limit` downloads by this user with this `access`
  // (and, when per_document, of this document) since `since`; 0: none.
  int64_t limit = 0;
  int64_t since = 0;
  bool per_document = false;
};

class DownloadStore {
 public:
  virtual ~DownloadStore() = default;

  // Records a download, atomically with its limit check: kTooManyRequests
  // (retry_after: seconds until `since` + 1 day) when the limit is reached.
  // order_id is filled in by the store: for access "purchased" the user's
  // latest paid order of the document, for "vip" their latest paid plan
  // order. kNotFound for an unknown user or document.
  virtual Result<Download> record_download(const NewDownload& d) = 0;
  // kNotFound when absent.
  virtual Result<Download> get_download(int64_t id) = 0;
};

}  // namespace paidoc::store
