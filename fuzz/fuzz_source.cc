// fuzz_source: the source parser (doc::parse) on raw bytes, in every
// encoding it reads (docs/format.md §1). For each input:
//
//   - the bytes as given: a parsed document keeps the leak invariant and
//     its figures (document_checks.h); an error names a place inside the
//     input;
//   - when the bytes are UTF-8, the same text with a BOM, and encoded as
//     GB18030, must give the same document (only source_encoding differs),
//     or the same error at the same line and column;
//   - the same text as UTF-16 (with a BOM, either byte order) is refused:
//     never read as a document.
#include <unicode/ucnv.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "doc/parser.h"
#include "document_checks.h"

namespace {

using paidoc::fuzz::check;

// `utf8` converted to `charset` by ICU; empty when it cannot be.
std::string encode(std::string_view utf8, const char* charset) {
  UErrorCode err = U_ZERO_ERROR;
  std::string out(utf8.size() * 4 + 16, '\0');
  int32_t n = ucnv_convert(charset, "UTF-8", out.data(), static_cast<int32_t>(out.size()),
                           utf8.data(), static_cast<int32_t>(utf8.size()), &err);
  if (U_FAILURE(err)) return {};
  out.resize(static_cast<size_t>(n));
  return out;
}

paidoc::doc::ParseResult parse_checked(std::string_view bytes) {
  paidoc::doc::ParseResult r = paidoc::doc::parse(bytes, "fuzz.txt");
  if (r.ok) {
    std::string text, encoding;
    paidoc::doc::ParseError e;
    check(paidoc::doc::decode(bytes, &text, &encoding, &e), "parsed but does not decode");
    check(encoding == r.document.source_encoding, "source_encoding differs from decode");
    paidoc::fuzz::check_document(r.document, text);
  } else {
    paidoc::fuzz::check_error(r.error, bytes, "fuzz.txt");
  }
  return r;
}

// Same outcome apart from the encoding.
void check_same(const paidoc::doc::ParseResult& a, const paidoc::doc::ParseResult& b,
                const char* what) {
  check(a.ok == b.ok, what, "accepted in one encoding and refused in the other");
  if (a.ok) {
    paidoc::doc::Document x = a.document, y = b.document;
    x.source_encoding.clear();
    y.source_encoding.clear();
    check(x == y, what, "different documents");
  } else if (a.error.byte_offset < 0 && b.error.byte_offset < 0) {
    check(a.error.line == b.error.line && a.error.column == b.error.column &&
              a.error.reason == b.error.reason,
          what, a.error.to_string() + " vs " + b.error.to_string());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const paidoc::doc::ParseResult plain = parse_checked(bytes);

  std::string text, encoding;
  paidoc::doc::ParseError e;
  if (size > 16 * 1024 || !paidoc::doc::decode(bytes, &text, &encoding, &e) ||
      encoding != "utf-8")
    return 0;

  // The same text with a BOM.
  const paidoc::doc::ParseResult bom = parse_checked("\xEF\xBB\xBF" + text);
  check_same(plain, bom, "UTF-8 with BOM");
  if (bom.ok) check(bom.document.source_encoding == "utf-8-bom", "BOM not recorded");

  // The same text in GB18030, when the bytes are not also valid UTF-8 (then
  // they are read as UTF-8, as format.md §1 says).
  const std::string gb = encode(text, "GB18030");
  std::string gb_text, gb_encoding;
  if (!gb.empty() && paidoc::doc::decode(gb, &gb_text, &gb_encoding, &e) &&
      gb_encoding == "gb18030") {
    const paidoc::doc::ParseResult r = parse_checked(gb);
    check_same(plain, r, "GB18030");
  }

  // UTF-16 with a BOM is refused, in both byte orders.
  for (const char* cs : {"UTF-16LE", "UTF-16BE"}) {
    std::string u16 = encode(text, cs);
    if (u16.empty()) continue;
    u16.insert(0, cs[6] == 'L' ? "\xFF\xFE" : "\xFE\xFF");
    const paidoc::doc::ParseResult r = parse_checked(u16);
    check(!r.ok, "UTF-16 read as a document");
  }
  return 0;
}
