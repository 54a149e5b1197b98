// Trace marks: an invisible, verifiable tag of one download, hidden in the
// text of the file so that it survives copy-paste of the text.
//
// Encoding: the 64-bit payload (download_id << 32 | nonce) plus an 8-bit
// CRC is written as a run of zero-width characters, two bits per character
// (U+200B, U+200C, U+200D, U+2060), framed by U+FEFF at both ends. The run
// is inserted into the text at several places (after the title and after
// every few paragraphs), so a paste of a part of the document usually still
// holds one whole copy. decode() finds every intact copy in any text.
//
// What it survives and what it does not is in the README ("Downloads and trace marks").
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "export/export.h"

namespace paidoc::exporter {

struct TracePayload {
  uint32_t download_id = 0;
  uint32_t nonce = 0;
  bool operator==(const TracePayload&) const = default;
};

// The zero-width run for one payload (UTF-8).
std::string encode_mark(const TracePayload& p);

// Every intact copy found in utf8 text, in order (duplicates kept). Copies
// with a bad CRC or the wrong length are skipped.
std::vector<TracePayload> decode_marks(std::string_view utf8);

// The payload found most often in utf8 (ties: the first); nullopt if none.
std::optional<TracePayload> find_mark(std::string_view utf8);

// Extracts the text of a file this module wrote (or text pasted from it):
// .docx (word/document.xml text), .pdf (via the text layer; needs
// poppler-cpp), anything else is taken as UTF-8 text. Also reads the metadata
// copy of the mark (docx custom properties, pdf keywords) when present.
struct TraceFound {
  std::optional<TracePayload> text_mark;      // from the text
  std::optional<TracePayload> metadata_mark;  // from properties / metadata
  std::string kind;                           // "docx", "pdf" or "text"
};
Result<TraceFound> trace_bytes(std::string_view bytes);

}  // namespace paidoc::exporter
