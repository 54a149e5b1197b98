// fuzz_docx: the .docx importer (sources::convert_docx, then sources::load).
//
// The first byte picks the shape of the input: even, the rest is the .docx
// as it is (a zip archive); odd, the rest is split at NUL bytes into the
// inner XML of word/document.xml's body, word/styles.xml and
// word/numbering.xml, zipped here (tests/sources/docx_builder.h), so that
// the fuzzer works on the XML rather than on zip checksums. Checks: the
// converted text is UTF-8 and keeps the leak invariant once parsed (document_checks.h),
// load() agrees, and its errors and block lines name body paragraphs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "document_checks.h"
#include "sources/docx_builder.h"
#include "sources/sources.h"

using paidoc::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string bytes;
  if ((data[0] & 1) == 0) {
    bytes.assign(rest);
  } else {
    std::string parts[3];
    for (int i = 0; i < 3; ++i) {
      const size_t nul = i < 2 ? rest.find('\0') : std::string_view::npos;
      parts[i].assign(rest.substr(0, nul));
      if (nul == std::string_view::npos) break;
      rest.remove_prefix(nul + 1);
    }
    bytes = paidoc::testing::docx(parts[0], parts[1], parts[2]);
    if (bytes.empty()) return 0;
  }

  const paidoc::sources::Converted c = paidoc::sources::convert_docx(bytes, "fuzz.docx");
  const paidoc::sources::Loaded l = paidoc::sources::load(bytes, "fuzz.docx");
  if (!c.ok) {
    check(!l.parsed.ok, "load accepts what convert_docx refuses");
    check(!c.error.reason.empty() && c.error.reason.find('\n') == std::string::npos,
          "error reason", c.error.reason);
    return 0;
  }
  std::string decoded, encoding;
  paidoc::doc::ParseError e;
  check(paidoc::doc::decode(c.text, &decoded, &encoding, &e) && encoding.rfind("utf-8", 0) == 0,
        "converted text is not UTF-8");
  size_t lines = 0;
  for (char ch : c.text) lines += ch == '\n';
  check(c.origins.size() == lines, "not one origin per converted line");
  int last = 0;
  for (const auto& o : c.origins) {
    check(o.paragraph >= 1 && o.paragraph >= last, "paragraph origins out of order");
    last = o.paragraph;
  }

  const paidoc::doc::ParseResult parsed = paidoc::doc::parse(c.text, "fuzz.docx");
  check(parsed.ok == l.parsed.ok, "load disagrees with convert + parse");
  if (parsed.ok) {
    paidoc::fuzz::check_document(parsed.document, c.text);
    for (const auto& b : l.parsed.document.blocks)
      check(b.line >= 1 && b.line <= last, "block line is not a body paragraph");
  } else {
    const paidoc::doc::ParseError& e = l.parsed.error;
    check(e.paragraph >= 1 && e.line == 0 && e.column == 0, "docx error place",
          e.to_string());
  }
  return 0;
}
