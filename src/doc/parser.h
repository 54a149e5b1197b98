// The source parser: bytes of a .txt file -> Document, or an error that names
// file:line:column. The grammar is docs/format.md; constants here point back
// to its sections.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "doc/document.h"

namespace paidoc::doc {

// Where and why a source was rejected. line and column are 1-based; column
// counts Unicode code points of the decoded line. Encoding errors also set
// byte_offset (format.md §1.4), and place it at line:column, the column
// counting the code points before it as decoded by the encoding that got
// that far. For a .docx source
// (sources/sources.h) line and column are 0 and paragraph is set instead.
struct ParseError {
  std::string file;
  int line = 0;
  int column = 0;
  int64_t byte_offset = -1;
  std::string reason;  // one line, no trailing period
  // Last, so that existing aggregate initialisers stay valid.
  int paragraph = 0;  // 1-based .docx body paragraph; 0 otherwise
  // "file:line:col: reason", "file:line:col: reason (byte offset N)" for
  // encoding errors, "file: byte offset N: reason" when only the offset is
  // known,
  // "file: paragraph N: reason", or "file: reason" when no place is set
  // (line 0: the file as a whole, such as a .docx that is not a zip).
  std::string to_string() const;
};

struct ParseResult {
  bool ok = false;
  Document document;  // valid when ok
  ParseError error;   // valid when !ok
};

// Decodes `bytes` (UTF-8 with/without BOM, else GB18030; format.md
// "Encoding") and parses it. `file` is only used in the error.
ParseResult parse(std::string_view bytes, std::string_view file);

// Decoding alone: on success sets *utf8 and *encoding ("utf-8",
// "utf-8-bom", "gb18030").
bool decode(std::string_view bytes, std::string* utf8, std::string* encoding,
            ParseError* error);

}  // namespace paidoc::doc
