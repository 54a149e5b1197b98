#include "text/text.h"

#include <opencc/Config.hpp>
#include <opencc/Conversion.hpp>
#include <opencc/ConversionChain.hpp>
#include <opencc/Converter.hpp>
#include <opencc/Dict.hpp>
#include <opencc/DictEntry.hpp>
#include <opencc/Lexicon.hpp>
#include <opencc/opencc.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <cstdlib>
#include <unordered_map>
#include <stdexcept>

namespace paidoc::text {
namespace {

// Traditional -> simplified, built once from OpenCC. Immutable after
// construction, so lookups and conversions need no lock (OpenCC's
// converters are const).
//
//  - `map`: the character table: every ideograph of the BMP blocks and
//    Extension B converted on its own line by t2s, keeping the characters
//    that come back as a different single character.
//  - `t2s`, `tw2s`, `s2t`: OpenCC's phrase converters. A run of ideographs
//    is converted as a whole by t2s (TSPhrases: 瞭解 -> 了解, 藉此 -> 借此);
//    the run's 著 take the reading tw2s gives the run in traditional
//    script (OpenCC's Taiwan phrase rules: 着 as in 著力 -> 着力, except
//    in 著作, 著名, 顯著, 名著... ; t2s leaves every 著 alone).
//  - `trigger`: the characters whose presence can make a run's phrase
//    conversion differ from the character table: in each phrase of the
//    converters' dictionaries, the characters that the phrase converts
//    differently than the table does, and 著. A run without one converts
//    exactly as the table says, so the converters run only where they can
//    change something (most simplified text never calls them).
struct Simplifier {
  std::unordered_map<UChar32, UChar32> map;
  std::vector<bool> trigger;
  opencc::ConverterPtr t2s;
  opencc::ConverterPtr tw2s;
  opencc::ConverterPtr s2t;
  std::string error;
  bool ok() const { return error.empty(); }
  UChar32 operator()(UChar32 c) const {
    auto it = map.find(c);
    return it == map.end() ? c : it->second;
  }
  bool triggers(UChar32 c) const {
    return c >= 0 && static_cast<size_t>(c) < trigger.size() && trigger[static_cast<size_t>(c)];
  }
};

constexpr UChar32 kZhu = 0x8457;  // 著

void append_utf8(std::string& out, UChar32 cp);
std::vector<UChar32> decode(std::string_view utf8);

void build_simplifier(Simplifier& t) {
  opencc::Config config;
  t.t2s = config.NewFromFile(OPENCC_DEFAULT_CONFIG_TRAD_TO_SIMP);
  t.tw2s = config.NewFromFile("tw2s.json");
  t.s2t = config.NewFromFile("s2t.json");
  const std::pair<UChar32, UChar32> ranges[] = {
      {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xF900, 0xFAFF}, {0x20000, 0x2A6DF}};
  std::string all;
  std::vector<UChar32> order;
  for (auto [lo, hi] : ranges) {
    for (UChar32 c = lo; c <= hi; ++c) {
      append_utf8(all, c);
      all.push_back('\n');
      order.push_back(c);
    }
  }
  const std::string converted = t.t2s->Convert(all);
  size_t line = 0;
  size_t pos = 0;
  std::string_view view(converted);
  while (pos <= view.size() && line < order.size()) {
    size_t nl = view.find('\n', pos);
    if (nl == std::string_view::npos) nl = view.size();
    std::vector<UChar32> cps = decode(view.substr(pos, nl - pos));
    if (cps.size() == 1 && cps[0] != order[line]) t.map.emplace(order[line], cps[0]);
    ++line;
    pos = nl + 1;
  }
  if (line != order.size()) {
    t.error = "OpenCC changed the line structure of the character table";
    t.map.clear();
    return;
  }
  // The triggers, from every dictionary of t2s's conversion chain.
  t.trigger.assign(0x30000, false);
  t.trigger[kZhu] = true;
  for (const opencc::ConversionPtr& conversion : t.t2s->GetConversionChain()->GetConversions()) {
    const opencc::LexiconPtr lexicon = conversion->GetDict()->GetLexicon();
    for (const std::unique_ptr<opencc::DictEntry>& entry : *lexicon) {
      const std::string key = entry->Key();
      const std::vector<UChar32> from = decode(key);
      if (from.size() < 2) continue;
      const std::vector<UChar32> to = decode(t.t2s->Convert(key));
      for (size_t i = 0; i < from.size(); ++i) {
        const bool differs = to.size() != from.size() || to[i] != t(from[i]);
        if (differs && from[i] >= 0 && static_cast<size_t>(from[i]) < t.trigger.size()) {
          t.trigger[static_cast<size_t>(from[i])] = true;
        }
      }
    }
  }
}

const Simplifier& simplifier() {
  static const Simplifier table = [] {
    Simplifier t;
    try {
      build_simplifier(t);
    } catch (const std::exception& e) {
      t.error = std::string("cannot load OpenCC " OPENCC_DEFAULT_CONFIG_TRAD_TO_SIMP
                            ", tw2s.json and s2t.json: ") + e.what();
      t.map.clear();
    }
    return t;
  }();
  return table;
}

const Simplifier& require_simplifier() {
  const Simplifier& t = simplifier();
  if (!t.ok()) throw std::runtime_error(t.error);
  return t;
}

const icu::Normalizer2& nfkc();

// The whole normalisation of one BMP character that NFKC leaves alone
// (most text, all common ideographs), precomputed: lower-cased and
// simplified. kSlow marks characters that need the full path (NFKC
// changes them). One array load per character on the hot path.
constexpr uint32_t kSlow = 0xFFFFFFFF;
// Default-ignorable characters (zero-width spaces and joiners, soft
// hyphen, variation selectors, BOM): invisible, so they belong to no token
// and separate nothing: 党<U+200B>建 reads, and is indexed, as 党建.
constexpr uint32_t kIgnore = 0xFFFFFFFE;

bool ignorable(UChar32 c) { return u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT); }

const std::vector<uint32_t>& bmp_table() {
  static const std::vector<uint32_t> table = [] {
    const Simplifier& simplify = require_simplifier();
    const icu::Normalizer2& norm = nfkc();
    std::vector<uint32_t> t(0x10000, kSlow);
    for (UChar32 c = 0; c < 0x10000; ++c) {
      if (c >= 0xD800 && c <= 0xDFFF) continue;
      if (ignorable(c)) {
        t[c] = kIgnore;
      } else if (c < 0x80) {
        t[c] = static_cast<uint32_t>((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
      } else if (norm.isInert(c)) {
        t[c] = static_cast<uint32_t>(simplify(c));
      }
    }
    return t;
  }();
  return table;
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

bool is_word(UChar32 c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

UChar32 ascii_lower(UChar32 c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

// A normalised code point and the byte range of the original character it
// came from. NFKC may expand one character into several (e.g. U+337B into
// two ideographs); they then share the same range. raw is the character
// after NFKC, before traditional -> simplified.
struct Unit {
  UChar32 cp;
  int start;
  int end;
  UChar32 raw;
};

// Converts a run of ideographs units[a, b) as phrases (see Simplifier),
// where that keeps the run's length: each character then maps to one, so
// offsets still point at the original characters. Otherwise (never seen
// with t2s, but OpenCC's dictionaries allow it) the run keeps the
// character table's reading.
void convert_run(const Simplifier& simplify, std::vector<Unit>& units, size_t a, size_t b) {
  std::string in;
  bool zhu = false;
  for (size_t k = a; k < b; ++k) {
    append_utf8(in, units[k].raw);
    zhu = zhu || units[k].raw == kZhu;
  }
  const std::vector<UChar32> out = decode(simplify.t2s->Convert(in));
  if (out.size() != b - a) return;
  std::vector<UChar32> zhu_out;
  // tw2s reads 著 by phrases written in traditional script (顯著 is one of
  // its exceptions, 显著 is not), so it converts the run in that script.
  if (zhu) zhu_out = decode(simplify.tw2s->Convert(simplify.s2t->Convert(in)));
  for (size_t k = a; k < b; ++k) {
    UChar32 c = out[k - a];
    if (units[k].raw == kZhu && zhu_out.size() == b - a) c = zhu_out[k - a];
    units[k].cp = c;
  }
}

// Phrase-level traditional -> simplified over every run of ideographs that
// holds a trigger character; other runs keep the character table's
// reading, which is what the phrase converters would give them.
void simplify_phrases(const Simplifier& simplify, std::vector<Unit>& units) {
  const size_t n = units.size();
  size_t a = 0;
  while (a < n) {
    if (!is_cjk(static_cast<char32_t>(units[a].raw))) {
      ++a;
      continue;
    }
    size_t b = a;
    bool any = false;
    while (b < n && is_cjk(static_cast<char32_t>(units[b].raw))) {
      any = any || simplify.triggers(units[b].raw);
      ++b;
    }
    if (any) convert_run(simplify, units, a, b);
    a = b;
  }
}

enum class Kind { kSeparator, kWord, kCjk };

Kind kind_of(UChar32 c) {
  if (is_word(c)) return Kind::kWord;
  if (is_cjk(c)) return Kind::kCjk;
  return Kind::kSeparator;
}

}  // namespace

bool is_cjk(char32_t c) {
  // 〇 (U+3007) is the ideograph zero of 二〇二四年, not punctuation.
  return c == 0x3007 || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FFFF);
}

Status init() {
  const Simplifier& t = simplifier();
  if (!t.ok()) return Status::internal(t.error);
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
  const Simplifier& simplify = require_simplifier();
  std::vector<Unit> units;
  for (int32_t k = 0; k < normalized.length(); k = normalized.moveIndex32(k, 1)) {
    const UChar32 c = normalized.char32At(k);
    if (!ignorable(c)) units.push_back({simplify(c), 0, 0, c});
  }
  simplify_phrases(simplify, units);
  icu::UnicodeString simplified;
  for (const Unit& u : units) simplified.append(u.cp);
  std::string out;
  simplified.toLower(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}

namespace {

std::vector<Token> tokenize_impl(std::string_view utf8, bool index_mode) {
  std::vector<Token> tokens;
  if (utf8.empty() || !valid_utf8(utf8)) return tokens;
  const Simplifier& simplify = require_simplifier();
  const std::vector<uint32_t>& fast = bmp_table();

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
    if (c >= 0 && c < 0x10000 && fast[static_cast<size_t>(c)] != kSlow) {
      const uint32_t f = fast[static_cast<size_t>(c)];
      if (f != kIgnore) units.push_back({static_cast<UChar32>(f), start, i, ascii_lower(c)});
      continue;
    }
    if (c >= 0 && ignorable(c)) continue;
    if (norm.isInert(c)) {
      units.push_back({simplify(c), start, i, c});
      continue;
    }
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString mapped = norm.normalize(icu::UnicodeString(c), status);
    if (U_FAILURE(status)) {
      units.push_back({c, start, i, c});
      continue;
    }
    for (int32_t k = 0; k < mapped.length(); k = mapped.moveIndex32(k, 1)) {
      const UChar32 m = mapped.char32At(k);
      if (!ignorable(m)) units.push_back({simplify(ascii_lower(m)), start, i, ascii_lower(m)});
    }
  }

  simplify_phrases(simplify, units);

  // 2. Group into runs of one kind and emit tokens. The first token after
  // a separator run is marked (Token::gap).
  bool gap = false;
  auto emit = [&](Token t) {
    t.gap = gap && !tokens.empty();
    gap = false;
    tokens.push_back(std::move(t));
  };
  size_t a = 0;
  while (a < units.size()) {
    const Kind kind = kind_of(units[a].cp);
    size_t b = a + 1;
    while (b < units.size() && kind_of(units[b].cp) == kind) ++b;
    if (kind == Kind::kSeparator) {
      gap = true;
    } else if (kind == Kind::kWord) {
      // A word that starts with a number followed by letters is two words,
      // the number and the rest, so that 1200 finds 1200㎡ (NFKC: 1200m2)
      // and 5 finds 5g. A word that starts with a letter stays whole (pdf2,
      // and the keyword tokens of keywords.h, which must be one token).
      size_t digits = a;
      while (digits < b && units[digits].cp >= '0' && units[digits].cp <= '9') ++digits;
      const size_t split = digits > a && digits < b ? digits : b;
      for (auto [from, to] : {std::pair{a, split}, std::pair{split, b}}) {
        if (from >= to) continue;
        Token t;
        for (size_t k = from; k < to; ++k) t.text.push_back(static_cast<char>(units[k].cp));
        t.start = units[from].start;
        t.end = units[to - 1].end;
        emit(std::move(t));
      }
    } else if (kind == Kind::kCjk) {
      if (b - a == 1) {
        Token t{{}, units[a].start, units[a].end};
        append_utf8(t.text, units[a].cp);
        emit(std::move(t));
      } else {
        for (size_t k = a; k + 1 < b; ++k) {
          Token t{{}, units[k].start, units[k + 1].end};
          append_utf8(t.text, units[k].cp);
          append_utf8(t.text, units[k + 1].cp);
          emit(std::move(t));
        }
        if (index_mode) {
          Token t{{}, units[b - 1].start, units[b - 1].end, true};
          append_utf8(t.text, units[b - 1].cp);
          emit(std::move(t));
        }
      }
    }
    a = b;
  }
  return tokens;
}

}  // namespace

std::vector<Token> tokenize(std::string_view utf8) { return tokenize_impl(utf8, false); }

std::vector<Token> tokenize_for_index(std::string_view utf8) { return tokenize_impl(utf8, true); }

bool is_single_ideograph(std::string_view token_text) {
  std::vector<UChar32> cps = decode(token_text);
  return cps.size() == 1 && is_cjk(cps[0]);
}

std::vector<std::string> query_terms(std::string_view utf8) {
  std::vector<std::string> terms;
  for (Token& t : tokenize(utf8)) terms.push_back(std::move(t.text));
  return terms;
}

}  // namespace paidoc::text
