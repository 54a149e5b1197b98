// Export: turns a gated document view into a file a buyer downloads —
// .docx laid out as a Chinese official document (GB/T 9704-2012), .pdf with
// the same page geometry, or plain .txt — and stamps each download with an
// invisible trace mark (trace.h).
//
// Input is a gate::DocumentView, never a doc::Document: the exporter can only
// write what the gate let through. Callers pass views with access
// (!view.locked); a locked view is refused with kForbidden, so a bug
// upstream yields no file rather than a teaser-only file that looks complete.
//
// Rendering is split in two so the expensive part is cached per document
// version and format while every download still gets its own mark:
//   prepare(view, format)  -> Prepared   (layout, fonts, XML; no mark)
//   stamp(prepared, mark)  -> file bytes (mark in text and metadata)
//
// Page geometry (docx and pdf, GB/T 9704 §5.2): A4 210 x 297 mm; the text
// block's characters start 37 mm below the top edge (天头, as a ruler
// measures it) and 28 mm from the left edge (订口); the block is 156 mm wide
// (28 characters of 16 pt, each tightened to a 15.8 pt cell) and holds 22
// lines of 28.95 pt (579 twips); title 22 pt (2号) centred, broken between
// words into balanced lines (title.h); body 16 pt (3号) with a
// two-character first-line indent; headings 一、 黑体, （一） 楷体, 1. and
// （1） 仿宋, all 16 pt; page numbers 14 pt (4号) 宋体 "— N —", their dash
// 7 mm below the text block, odd pages right, even pages left.
//
// Thread-safety: pure functions over values; Prepared is immutable and may
// be shared between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "gate/gate.h"

namespace paidoc::exporter {

enum class Format { kDocx, kPdf, kTxt };

// "docx" | "pdf" | "txt" (exactly, lower-case); nullopt otherwise.
std::optional<Format> parse_format(std::string_view name);
const char* format_name(Format f);   // "docx", "pdf", "txt"
const char* content_type(Format f);  // MIME type for Content-Type
const char* extension(Format f);     // ".docx", ".pdf", ".txt"

// Who a file was made for. The store assigns download_id and nonce when it
// records the download; trace recovers them from a file and the store names
// the user and order (paidoc trace).
struct Mark {
  uint32_t download_id = 0;  // the store's download record id
  uint32_t nonce = 0;        // random, kept with the record: a forged id does not verify
  // Shown in the file's metadata only (custom properties / PDF keywords);
  // the text mark carries download_id and nonce alone.
  int64_t user_id = 0;
  int64_t order_id = 0;      // 0: access not by a purchase (VIP, publisher, admin)
};

// A rendered document version waiting for its mark. Opaque; cache it by
// (document id, revision, format).
class Prepared {
 public:
  virtual ~Prepared() = default;
  virtual Format format() const = 0;
  // Approximate memory held, for cache accounting.
  virtual size_t bytes() const = 0;
};

// Renders the view. kForbidden when view.locked; kInternal when a
// library (libzip, cairo/pango, fonts) fails, with its message.
Result<std::shared_ptr<const Prepared>> prepare(const gate::DocumentView& view, Format format);

// The file for one download: the prepared document with `mark` applied.
Result<std::string> stamp(const Prepared& prepared, const Mark& mark);

// Convenience: prepare + stamp.
Result<std::string> render(const gate::DocumentView& view, Format format, const Mark& mark);

// A file name for Content-Disposition: the title (characters unsafe in file
// names replaced) plus the extension. UTF-8; the web layer encodes it.
std::string file_name(const gate::DocumentView& view, Format format);

}  // namespace paidoc::exporter
