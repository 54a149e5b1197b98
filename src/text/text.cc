#include "text/text.h"

#include <opencc/opencc.h>
#include <unicode/normalizer2.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <cstdlib>
#include <stdexcept>

namespace paidoc::text {
namespace {

// The shared traditional -> simplified converter. OpenCC documents every C
// API function except opencc_error() as thread-safe, so concurrent
// opencc_convert_utf8 calls on one instance need no lock. The instance lives
// for the whole process.
struct Converter {
  opencc_t handle = reinterpret_cast<opencc_t>(-1);
  std::string error;
  bool ok() const { return error.empty(); }
};

const Converter& converter() {
  static const Converter c = [] {
    Converter conv;
    conv.handle = opencc_open(OPENCC_DEFAULT_CONFIG_TRAD_TO_SIMP);
    if (conv.handle == reinterpret_cast<opencc_t>(-1)) {
      const char* why = opencc_error();
      conv.error = std::string("cannot load OpenCC " OPENCC_DEFAULT_CONFIG_TRAD_TO_SIMP ": ") +
                   (why ? why : "unknown error");
    }
    return conv;
  }();
  return c;
}

const Converter& require_converter() {
  const Converter& c = converter();
  if (!c.ok()) throw std::runtime_error(c.error);
  return c;
}

std::string to_simplified(std::string_view utf8) {
  if (utf8.empty()) return {};
  const Converter& c = require_converter();
  char* out = opencc_convert_utf8(c.handle, utf8.data(), utf8.size());
  if (out == nullptr) throw std::runtime_error("OpenCC conversion failed");
  std::string result(out);
  opencc_convert_utf8_free(out);
  return result;
}

const icu::Normalizer2& nfkc() {
  static const icu::Normalizer2* n = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* p = icu::Normalizer2::getNFKCInstance(status);
    if (U_FAILURE(status) || p == nullptr) {
      throw std::runtime_error(std::string("ICU NFKC unavailable: ") + u_errorName(status));
    }
    return p;
  }();
  return *n;
}

void append_utf8(std::string& out, UChar32 cp) {
  char buf[U8_MAX_LENGTH];
  int32_t len = 0;
  UBool error = false;
  U8_APPEND(buf, len, U8_MAX_LENGTH, cp, error);
  if (!error) out.append(buf, static_cast<size_t>(len));
}

std::vector<UChar32> decode(std::string_view utf8) {
  std::vector<UChar32> cps;
  const char* s = utf8.data();
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(utf8.size());
  while (i < n) {
    UChar32 c;
    U8_NEXT(s, i, n, c);
    cps.push_back(c < 0 ? 0xFFFD : c);
  }
  return cps;
}

bool is_cjk(UChar32 c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FFFF);
}

bool is_word(UChar32 c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

UChar32 ascii_lower(UChar32 c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

// A normalised code point and the byte range of the original character it
// came from. NFKC may expand one character into several (e.g. U+337B into
// two ideographs); they then share the same range.
struct Unit {
  UChar32 cp;
  int start;
  int end;
};

enum class Kind { kSeparator, kWord, kCjk };

Kind kind_of(UChar32 c) {
  if (is_word(c)) return Kind::kWord;
  if (is_cjk(c)) return Kind::kCjk;
  return Kind::kSeparator;
}

// Converts a run of ideographs to simplified Chinese in place. The whole run
// is converted at once so OpenCC can use its phrase tables; if that changes
// the number of code points, the offset mapping would break, so each
// character is converted on its own instead (a character whose conversion is
// not a single code point is kept as is).
void simplify_run(std::vector<Unit>& units, size_t begin, size_t end) {
  std::string run;
  for (size_t i = begin; i < end; ++i) append_utf8(run, units[i].cp);
  std::vector<UChar32> converted = decode(to_simplified(run));
  if (converted.size() == end - begin) {
    for (size_t i = begin; i < end; ++i) units[i].cp = converted[i - begin];
    return;
  }
  for (size_t i = begin; i < end; ++i) {
    std::string one;
    append_utf8(one, units[i].cp);
    std::vector<UChar32> c = decode(to_simplified(one));
    if (c.size() == 1) units[i].cp = c[0];
  }
}

}  // namespace

Status init() {
  const Converter& c = converter();
  if (!c.ok()) return Status::internal(c.error);
  return Status();
}

bool valid_utf8(std::string_view utf8) {
  const char* s = utf8.data();
  const size_t n = utf8.size();
  size_t i = 0;
  while (i < n) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    uint32_t min;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string normalize(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString normalized = nfkc().normalize(
      icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size()))),
      status);
  if (U_FAILURE(status)) throw std::runtime_error(std::string("NFKC failed: ") + u_errorName(status));
  std::string nfkc_utf8;
  normalized.toUTF8String(nfkc_utf8);
  std::string simplified = to_simplified(nfkc_utf8);
  std::string out;
  icu::UnicodeString::fromUTF8(simplified).toLower(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}

std::vector<Token> tokenize(std::string_view utf8) {
  std::vector<Token> tokens;
  if (utf8.empty() || !valid_utf8(utf8)) return tokens;

  // 1. Normalise character by character, remembering where each came from.
  const icu::Normalizer2& norm = nfkc();
  std::vector<Unit> units;
  units.reserve(utf8.size());
  const char* s = utf8.data();
  const int32_t n = static_cast<int32_t>(utf8.size());
  int32_t i = 0;
  while (i < n) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (c < 0x80 || norm.isInert(c)) {
      units.push_back({ascii_lower(c), start, i});
      continue;
    }
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString mapped = norm.normalize(icu::UnicodeString(c), status);
    if (U_FAILURE(status)) {
      units.push_back({c, start, i});
      continue;
    }
    for (int32_t k = 0; k < mapped.length(); k = mapped.moveIndex32(k, 1)) {
      units.push_back({ascii_lower(mapped.char32At(k)), start, i});
    }
  }

  // 2. Group into runs of one kind and emit tokens.
  size_t a = 0;
  while (a < units.size()) {
    const Kind kind = kind_of(units[a].cp);
    size_t b = a + 1;
    while (b < units.size() && kind_of(units[b].cp) == kind) ++b;
    if (kind == Kind::kWord) {
      Token t;
      for (size_t k = a; k < b; ++k) t.text.push_back(static_cast<char>(units[k].cp));
      t.start = units[a].start;
      t.end = units[b - 1].end;
      tokens.push_back(std::move(t));
    } else if (kind == Kind::kCjk) {
      simplify_run(units, a, b);
      if (b - a == 1) {
        Token t{{}, units[a].start, units[a].end};
        append_utf8(t.text, units[a].cp);
        tokens.push_back(std::move(t));
      } else {
        for (size_t k = a; k + 1 < b; ++k) {
          Token t{{}, units[k].start, units[k + 1].end};
          append_utf8(t.text, units[k].cp);
          append_utf8(t.text, units[k + 1].cp);
          tokens.push_back(std::move(t));
        }
      }
    }
    a = b;
  }
  return tokens;
}

std::vector<std::string> query_terms(std::string_view utf8) {
  std::vector<std::string> terms;
  for (Token& t : tokenize(utf8)) terms.push_back(std::move(t.text));
  return terms;
}

}  // namespace paidoc::text
