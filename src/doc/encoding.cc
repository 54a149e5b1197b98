// Source decoding: docs/format.md §1 "Encoding". Implements doc::decode.
#include <unicode/ucnv.h>
#include <unicode/ustring.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "doc/parser.h"

namespace paidoc::doc {
namespace {

// format.md §1, step 1.
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Encoding names recorded in Document.source_encoding (format.md §1).
constexpr const char* kEncUtf8 = "utf-8";
constexpr const char* kEncUtf8Bom = "utf-8-bom";
constexpr const char* kEncGb18030 = "gb18030";

constexpr int64_t kValid = -1;

bool is_cont(unsigned char b) { return (b & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence at s[i], or 0 when the sequence
// there is ill-formed (format.md §1.1, Unicode Table 3-7).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto at = [&](size_t k) -> int {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : -1;
  };
  const int b0 = at(0);
  if (b0 == 0x00) return 0;  // NUL is never text (§1.3)
  if (b0 < 0x80) return 1;
  // Allowed range of the second byte, and the sequence length, by lead byte.
  int lo = 0x80, hi = 0xBF;
  size_t len = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // continuation byte, C0, C1, F5..FF
  }
  const int b1 = at(1);
  if (b1 < lo || b1 > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    const int b = at(k);
    if (b < 0 || !is_cont(static_cast<unsigned char>(b))) return 0;
  }
  return len;
}

// Offset of the first ill-formed UTF-8 sequence in s, or kValid.
int64_t first_bad_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) return static_cast<int64_t>(i);
    i += n;
  }
  return kValid;
}

struct ConverterCloser {
  void operator()(UConverter* c) const { ucnv_close(c); }
};

// Decodes GB18030 bytes to UTF-8 (format.md §1.2). Returns kValid and sets
// *out, or returns the first bad offset. The ICU converter is told to stop at
// the first illegal, unmapped or truncated sequence; ICU then reports the bad
// bytes it consumed, which gives their starting offset.
int64_t decode_gb18030(std::string_view bytes, std::string* out) {
  // NUL decodes fine in GB18030 but is not text (§1.3). 00 is never a
  // trail byte, so the first 00 byte is a bad sequence of its own.
  const size_t nul = bytes.find('\0');
  const std::string_view head = bytes.substr(0, nul);

  UErrorCode err = U_ZERO_ERROR;
  std::unique_ptr<UConverter, ConverterCloser> cnv(ucnv_open("gb18030", &err));
  if (U_FAILURE(err)) return 0;  // no converter: nothing decodes
  ucnv_setToUCallBack(cnv.get(), UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &err);

  // Every GB18030 sequence of n bytes yields at most n UTF-16 units.
  std::vector<UChar> utf16(head.size() + 1);
  UChar* target = utf16.data();
  const char* source = head.data();
  const char* const source_end = head.data() + head.size();
  ucnv_toUnicode(cnv.get(), &target, utf16.data() + utf16.size(), &source, source_end, nullptr,
                 /*flush=*/true, &err);
  if (U_FAILURE(err)) {
    char invalid[32];
    int8_t invalid_len = sizeof invalid;
    UErrorCode err2 = U_ZERO_ERROR;
    ucnv_getInvalidChars(cnv.get(), invalid, &invalid_len, &err2);
    if (U_FAILURE(err2)) invalid_len = 0;
    return static_cast<int64_t>(source - head.data()) - invalid_len;
  }
  if (nul != std::string_view::npos) return static_cast<int64_t>(nul);

  const int32_t units = static_cast<int32_t>(target - utf16.data());
  int32_t needed = 0;
  err = U_ZERO_ERROR;
  u_strToUTF8(nullptr, 0, &needed, utf16.data(), units, &err);  // preflight
  out->assign(static_cast<size_t>(needed), '\0');
  err = U_ZERO_ERROR;
  u_strToUTF8(out->data(), needed, &needed, utf16.data(), units, &err);
  if (U_FAILURE(err) && err != U_STRING_NOT_TERMINATED_WARNING) return 0;
  return kValid;
}

// Code points in `prefix`, decoded as `gb` says (UTF-8 otherwise); the
// prefix is valid in that encoding (it ends at or before its first bad
// offset).
int code_points(std::string_view prefix, bool gb) {
  if (gb) {
    std::string decoded;
    decode_gb18030(prefix, &decoded);
    int n = 0;
    for (unsigned char ch : decoded) n += (ch & 0xC0) != 0x80;
    return n;
  }
  int n = 0;
  for (unsigned char ch : prefix) n += (ch & 0xC0) != 0x80;
  return n;
}

// The error at byte `offset` of `bytes` (§1.4), also placed at line:column
// (§2 lines; the column counts the code points before it on its line, as
// decoded by the encoding that got that far: UTF-8, or GB18030 when `gb`),
// so that the place reads as every other error's.
void set_byte_error(ParseError* error, std::string_view bytes, int64_t offset, bool gb,
                    std::string reason) {
  if (error == nullptr) return;
  size_t start = bytes.substr(0, kUtf8Bom.size()) == kUtf8Bom ? kUtf8Bom.size() : 0;
  int line = 1;
  const size_t end = std::min(static_cast<size_t>(offset), bytes.size());
  for (size_t i = start; i < end; ++i) {
    if (bytes[i] == '\n' || (bytes[i] == '\r' && (i + 1 >= bytes.size() || bytes[i + 1] != '\n'))) {
      ++line;
      start = i + 1;
    }
  }
  error->line = line;
  error->column = 1 + code_points(bytes.substr(start, end - start), gb);
  error->byte_offset = offset;
  error->reason = std::move(reason);
}

// What a file that is neither UTF-8 nor GB18030 looks like when it is no
// text at all: a known signature, or NUL bytes (text has none; UTF-16 has
// many). nullptr when it may be damaged text.
const char* binary_kind(std::string_view bytes) {
  struct Signature {
    std::string_view magic;
    const char* kind;
  };
  static constexpr Signature kSignatures[] = {
      {"\x89PNG\r\n\x1a\n", "a PNG image"},
      {"\xFF\xD8\xFF", "a JPEG image"},
      {"GIF8", "a GIF image"},
      {"%PDF-", "a PDF document"},
      {"PK\x03\x04", "a zip archive (a .docx must be named .docx)"},
      {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "an old Office document (.doc: save it as .docx)"},
      {"\x7F" "ELF", "a program"},
      {"\xFF\xFE", "UTF-16 text (save it as UTF-8)"},
      {"\xFE\xFF", "UTF-16 text (save it as UTF-8)"},
  };
  for (const Signature& s : kSignatures) {
    if (bytes.substr(0, s.magic.size()) == s.magic) return s.kind;
  }
  if (bytes.substr(0, 8192).find('\0') != std::string_view::npos) {
    return "binary data (it holds NUL bytes)";
  }
  return nullptr;
}

}  // namespace

bool decode(std::string_view bytes, std::string* utf8, std::string* encoding, ParseError* error) {
  // §1 step 1: a BOM declares UTF-8.
  if (bytes.substr(0, kUtf8Bom.size()) == kUtf8Bom) {
    const std::string_view rest = bytes.substr(kUtf8Bom.size());
    const int64_t bad = first_bad_utf8(rest);
    if (bad != kValid) {
      set_byte_error(error, bytes, bad + static_cast<int64_t>(kUtf8Bom.size()), false,
                     "invalid UTF-8 after the byte order mark");  // §8.1
      return false;
    }
    utf8->assign(rest);
    *encoding = kEncUtf8Bom;
    return true;
  }
  // §1 step 2.
  const int64_t bad_utf8 = first_bad_utf8(bytes);
  if (bad_utf8 == kValid) {
    utf8->assign(bytes);
    *encoding = kEncUtf8;
    return true;
  }
  // §1 step 3.
  std::string decoded;
  const int64_t bad_gb = decode_gb18030(bytes, &decoded);
  if (bad_gb == kValid) {
    *utf8 = std::move(decoded);
    *encoding = kEncGb18030;
    return true;
  }
  // §1 step 4, §1.4, §8.1.
  if (const char* kind = binary_kind(bytes)) {
    set_byte_error(error, bytes, std::max(bad_utf8, bad_gb), bad_gb > bad_utf8,
                   std::string("not a text file: the bytes look like ") + kind +
                       "; paidoc reads .txt in UTF-8 or GB18030, .md and .docx");
    return false;
  }
  set_byte_error(error, bytes, std::max(bad_utf8, bad_gb), bad_gb > bad_utf8,
                 "invalid encoding: not UTF-8 (first bad byte at offset " +
                     std::to_string(bad_utf8) + ") nor GB18030 (first bad byte at offset " +
                     std::to_string(bad_gb) + ")");
  return false;
}

}  // namespace paidoc::doc
