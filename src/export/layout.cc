#include "export/layout.h"

#include <algorithm>

namespace paidoc::exporter::internal {

namespace {

constexpr double kEpsilon = 1e-6;

bool in(char32_t c, char32_t lo, char32_t hi) { return c >= lo && c <= hi; }

// Characters that are neither East Asian Wide nor Full-width but are set as
// full-width in Chinese fonts (curly quotes, dashes, ellipsis, middle dot,
// circled numbers ...): one cell, like their neighbours.
bool chinese_full_width(char32_t c) {
  switch (c) {
    case 0x00B7: case 0x00D7: case 0x00F7: case 0x00B1:  // · × ÷ ±
    case 0x2014: case 0x2015: case 0x2016:               // — ― ‖
    case 0x2018: case 0x2019: case 0x201C: case 0x201D:  // ‘ ’ “ ”
    case 0x2026: case 0x2032: case 0x2033:               // … ′ ″
      return true;
    default:
      break;
  }
  return in(c, 0x2160, 0x217F)     // Roman numerals
         || in(c, 0x2190, 0x21FF)  // arrows
         || in(c, 0x2460, 0x24FF)  // circled numbers
         || in(c, 0x2500, 0x25FF)  // box drawing, geometric shapes
         || in(c, 0x2605, 0x2606);  // ★ ☆
}

bool east_asian_wide(char32_t c) {
  return in(c, 0x1100, 0x115F) || in(c, 0x2E80, 0x303E) || in(c, 0x3041, 0x33FF) ||
         in(c, 0x3400, 0x4DBF) || in(c, 0x4E00, 0x9FFF) || in(c, 0xA000, 0xA4CF) ||
         in(c, 0xA960, 0xA97F) || in(c, 0xAC00, 0xD7A3) || in(c, 0xF900, 0xFAFF) ||
         in(c, 0xFE10, 0xFE19) || in(c, 0xFE30, 0xFE6F) || in(c, 0xFF01, 0xFF60) ||
         in(c, 0xFFE0, 0xFFE6) || in(c, 0x1B000, 0x1B2FF) || in(c, 0x1F300, 0x1F64F) ||
         in(c, 0x1F900, 0x1F9FF) || in(c, 0x20000, 0x3FFFD);
}

bool dash_or_ellipsis(char32_t c) { return c == 0x2014 || c == 0x2026; }

// An unbreakable unit: one wide character, a narrow word, or a run of spaces
// (each with the zero-width characters that follow it).
struct Atom {
  size_t begin = 0;
  size_t end = 0;
  CharClass kind = CharClass::kNarrow;
  char32_t first = 0;  // first and last code points that are not zero-width
  char32_t last = 0;
  double width = 0;
  bool split_tail = false;  // the rest of a word too wide for a line
};

std::vector<Atom> atomize(std::string_view s) {
  std::vector<Atom> atoms;
  size_t i = 0;
  while (i < s.size()) {
    char32_t c;
    size_t j = next_code_point(s, i, &c);
    CharClass cls = char_class(c);
    if (cls == CharClass::kZeroWidth && !atoms.empty()) {
      atoms.back().end = j;
    } else if ((cls == CharClass::kNarrow || cls == CharClass::kSpace) && !atoms.empty() &&
               atoms.back().kind == cls) {
      atoms.back().end = j;
      atoms.back().last = c;
    } else {
      // A zero-width character at the very start begins a narrow word.
      CharClass kind = cls == CharClass::kZeroWidth ? CharClass::kNarrow : cls;
      atoms.push_back({i, j, kind, c, c, 0, false});
    }
    i = j;
  }
  return atoms;
}

double measure(std::string_view s, const MeasureFn& narrow) {
  return narrow ? narrow(s) : estimate_narrow(s);
}

// May a line end between atoms[k - 1] and atoms[k]?
bool can_break(const std::vector<Atom>& a, size_t k) {
  const Atom& before = a[k - 1];
  const Atom& after = a[k];
  if (after.split_tail) return true;
  if (before.kind == CharClass::kSpace || after.kind == CharClass::kSpace) return true;
  if (no_line_start(after.first) || no_line_end(before.last)) return false;
  if (before.last == after.first && dash_or_ellipsis(after.first)) return false;
  return true;
}

// Splits the narrow atom a[k] so that its head is at most `room` cells wide.
// When nothing fits, the head is one code point if `force`, else there is
// no split. Returns whether it split.
bool split_word(std::string_view s, std::vector<Atom>& a, size_t k, double room, bool force,
                const MeasureFn& narrow) {
  Atom& w = a[k];
  // The end of the code point at `at`, with the zero-width characters after it.
  auto step = [&](size_t at, char32_t* c) {
    at = next_code_point(s, at, c);
    while (at < w.end) {
      char32_t z;
      size_t next = next_code_point(s, at, &z);
      if (char_class(z) != CharClass::kZeroWidth) break;
      at = next;
    }
    return at;
  };
  size_t cut = w.begin;
  char32_t head_last = 0;
  while (cut < w.end) {
    char32_t c;
    size_t next = step(cut, &c);
    if (measure(s.substr(w.begin, next - w.begin), narrow) > room + kEpsilon) break;
    cut = next;
    head_last = c;
  }
  if (cut == w.begin) {
    if (!force) return false;
    cut = step(cut, &head_last);
  }
  if (cut >= w.end) return false;
  Atom tail = w;
  tail.begin = cut;
  next_code_point(s, cut, &tail.first);
  tail.width = measure(s.substr(tail.begin, tail.end - tail.begin), narrow);
  tail.split_tail = true;
  w.end = cut;
  w.last = head_last;
  w.width = measure(s.substr(w.begin, w.end - w.begin), narrow);
  a.insert(a.begin() + static_cast<std::ptrdiff_t>(k) + 1, tail);
  return true;
}

}  // namespace

CharClass char_class(char32_t c) {
  if (c == 0x20 || c == 0x09 || in(c, 0x2000, 0x200A) || c == 0x205F) return CharClass::kSpace;
  if (in(c, 0x200B, 0x200F) || in(c, 0x2060, 0x2064) || c == 0xFEFF ||
      in(c, 0x0300, 0x036F) || in(c, 0x1AB0, 0x1AFF) || in(c, 0x1DC0, 0x1DFF) ||
      in(c, 0x20D0, 0x20FF) || in(c, 0xFE00, 0xFE0F) || in(c, 0xFE20, 0xFE2F) ||
      in(c, 0x180B, 0x180D) || in(c, 0xE0000, 0xE01EF) || c == 0x00AD)
    return CharClass::kZeroWidth;
  if (c == 0x3000 || east_asian_wide(c) || chinese_full_width(c)) return CharClass::kWide;
  return CharClass::kNarrow;
}

bool no_line_start(char32_t c) {
  switch (c) {
    case U'。': case U'．': case U'，': case U'、': case U'；': case U'：':
    case U'？': case U'！': case U'）': case U'》': case U'〉': case U'」':
    case U'』': case U'】': case U'〕': case U'〗': case U'〙': case U'〛':
    case U'］': case U'｝': case U'”': case U'’': case U'·': case U'・':
    case U'～': case U'％': case U'‰': case U'℃': case U'′': case U'″':
    case U'!': case U')': case U',': case U'.': case U':': case U';':
    case U'?': case U']': case U'}': case U'%':
      return true;
    default:
      return false;
  }
}

bool no_line_end(char32_t c) {
  switch (c) {
    case U'（': case U'《': case U'〈': case U'“': case U'‘': case U'「':
    case U'『': case U'【': case U'〔': case U'〖': case U'〘': case U'〚':
    case U'［': case U'｛': case U'(': case U'[': case U'{':
      return true;
    default:
      return false;
  }
}

size_t next_code_point(std::string_view s, size_t i, char32_t* cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    *cp = 0xFFFD;
    return i + 1;
  }
  char32_t v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      *cp = 0xFFFD;
      return i + 1;
    }
    v = (v << 6) | (byte(i + k) & 0x3F);
  }
  *cp = v;
  return i + len;
}

double estimate_narrow(std::string_view s) {
  double w = 0;
  for (size_t i = 0; i < s.size();) {
    char32_t c;
    i = next_code_point(s, i, &c);
    CharClass cls = char_class(c);
    if (cls == CharClass::kWide) w += 1;
    else if (cls != CharClass::kZeroWidth) w += 0.5;
  }
  return w;
}

double text_cells(std::string_view s, const MeasureFn& narrow) {
  double w = 0;
  for (const Atom& a : atomize(s))
    w += a.kind == CharClass::kWide ? 1 : measure(s.substr(a.begin, a.end - a.begin), narrow);
  return w;
}

std::vector<FilledLine> fill_lines(std::string_view s, int first_line_indent_cells,
                                   int cells_per_line, const MeasureFn& narrow) {
  std::vector<Atom> a = atomize(s);
  for (Atom& at : a)
    at.width = at.kind == CharClass::kWide ? 1 : measure(s.substr(at.begin, at.end - at.begin), narrow);

  std::vector<FilledLine> lines;
  size_t i = 0;
  while (true) {
    while (i < a.size() && a[i].kind == CharClass::kSpace) ++i;
    if (i >= a.size()) break;
    const int indent = lines.empty() ? first_line_indent_cells : 0;
    const double avail = cells_per_line - indent;

    // Take atoms while they fit.
    size_t j = i;
    double w = 0;
    while (j < a.size()) {
      if (w + a[j].width <= avail + kEpsilon) {
        w += a[j].width;
        ++j;
        continue;
      }
      // A word wider than any line is broken where the line is full.
      if (a[j].kind == CharClass::kNarrow && a[j].width > cells_per_line + kEpsilon &&
          split_word(s, a, j, avail - w, false, narrow))
        continue;
      break;
    }
    if (j == i) {
      // Nothing fits an empty line: a word wider than the room left by the
      // indent is broken; a single code point wider than it goes alone.
      if (a[i].kind == CharClass::kNarrow) split_word(s, a, i, avail, true, narrow);
      j = i + 1;
    }

    size_t k = j;
    if (j < a.size()) {
      // Full: back off to the nearest permitted break (推出法).
      while (k > i + 1 && !can_break(a, k)) --k;
      if (!can_break(a, k)) k = j;  // no permitted break: break where full
    }
    size_t end = k;
    while (end > i && a[end - 1].kind == CharClass::kSpace) --end;

    FilledLine line;
    line.indent = indent;
    line.text = std::string(s.substr(a[i].begin, a[end - 1].end - a[i].begin));
    for (size_t m = i; m < end; ++m) line.cells += a[m].width;
    lines.push_back(std::move(line));
    i = k;
  }
  if (!lines.empty()) lines.back().last = true;
  return lines;
}

}  // namespace paidoc::exporter::internal
