// fuzz_markdown: the .md importer (sources::convert_markdown, then
// sources::load) on raw bytes. Checks:
//
//   - converted text is UTF-8 source text with one origin per line, each
//     origin a line of the Markdown file;
//   - what doc::parse makes of the converted text keeps the leak invariant
//     (document_checks.h);
//   - load() agrees with convert + parse, and its errors and block lines are
//     places in the Markdown file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "document_checks.h"
#include "sources/sources.h"

using paidoc::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const paidoc::sources::Converted c = paidoc::sources::convert_markdown(bytes, "fuzz.md");
  const paidoc::sources::Loaded l = paidoc::sources::load(bytes, "fuzz.md");
  if (!c.ok) {
    check(!l.parsed.ok, "load accepts what convert_markdown refuses");
    paidoc::fuzz::check_error(c.error, bytes, "fuzz.md");
    return 0;
  }
  size_t lines = 0;
  for (char ch : c.text) lines += ch == '\n';
  check(c.text.empty() || c.text.back() == '\n', "converted text does not end with a newline");
  check(c.origins.size() == lines, "not one origin per converted line");
  for (const auto& o : c.origins)
    check(o.line >= 1 && static_cast<size_t>(o.line) <= c.source_lines.size(),
          "origin outside the Markdown file");

  const paidoc::doc::ParseResult parsed = paidoc::doc::parse(c.text, "fuzz.md");
  check(parsed.ok == l.parsed.ok, "load disagrees with convert + parse");
  if (parsed.ok) {
    paidoc::fuzz::check_document(parsed.document, c.text);
    check(l.source_text == c.text, "load keeps another source text");
    for (const auto& b : l.parsed.document.blocks)
      check(b.line >= 1 && static_cast<size_t>(b.line) <= c.source_lines.size(),
            "block line outside the Markdown file");
  } else {
    paidoc::fuzz::check_error(l.parsed.error, bytes, "fuzz.md");
  }
  return 0;
}
