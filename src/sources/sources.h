// Sources: the files a publisher hands in (.txt, .md, .docx) turned into a
// parsed Document. A .txt goes to doc::parse as it is; a .md or .docx is
// first converted into paidoc source text (docs/format.md) with a map from
// each produced line back to where it came from, then parsed, and errors and
// Block.line are given in the original file's terms:
//
//   file.md:LINE:COL: reason        (the Markdown line and column)
//   file.docx: paragraph N: reason  (N counts body paragraphs from 1)
//
// The rules for .md and .docx are docs/format.md §10.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "doc/parser.h"

namespace paidoc::sources {

enum class Format { kText, kMarkdown, kDocx };

// By the file name's extension, ASCII case-insensitive: ".md" and
// ".markdown" are Markdown, ".docx" is Word; anything else is text (a file
// named explicitly is read as .txt whatever its extension).
Format format_of(std::string_view path);

// True for the extensions a folder import collects: .txt, .md, .markdown,
// .docx.
bool is_source_name(std::string_view path);

// Where one line of converted text came from.
struct Origin {
  int line = 0;       // Markdown: 1-based source line; 0 for .docx
  int paragraph = 0;  // .docx: 1-based body paragraph; 0 for Markdown
};

// A .md or .docx converted into paidoc source text.
struct Converted {
  bool ok = false;
  std::string text;             // UTF-8 source text, lines end with '\n'
  std::vector<Origin> origins;  // one per line of `text`
  std::string encoding;         // Markdown: as decoded; .docx: "utf-8"
  // Markdown: the decoded source lines, to give error columns in them.
  std::vector<std::string> source_lines;
  doc::ParseError error;        // when !ok: names the file and the place
};

Converted convert_markdown(std::string_view bytes, std::string_view file);
Converted convert_docx(std::string_view bytes, std::string_view file);

struct Loaded {
  doc::ParseResult parsed;
  // The paidoc source text the document was parsed from (decoded .txt, or
  // the converted text of a .md/.docx): doc::parse rebuilds `parsed` from
  // it. Empty when !parsed.ok.
  std::string source_text;
};

// Converts (by format_of(file)) and parses. Errors name `file`.
Loaded load(std::string_view bytes, std::string_view file);

}  // namespace paidoc::sources
