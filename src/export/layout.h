// Internal to src/export: line filling for the PDF writer (pdf.cc), kept
// free of cairo and pango so it is tested as a plain table (layout_test.cc).
//
// Widths are in cells: one cell is one character of the body size (16 pt),
// so a line of the text block holds kCharsPerLine = 28 cells. A CJK
// character or full-width punctuation mark is one cell. Everything else
// (Latin letters, digits, ASCII punctuation) is "narrow": the default
// estimate is half a cell per code point, but Fandol's Latin glyphs are
// proportional ("W" is a full cell, "i" a third), so the PDF writer passes a
// MeasureFn that shapes narrow runs with pango and the estimate is used only
// when none is given (tests).
//
// Breaking follows the Chinese rules (避头尾, as in CLReq):
//  - closing punctuation (。，、；：？！）》”’」』】 …) never starts a line;
//  - opening punctuation (（《“‘「『【 …) never ends a line;
//  - "——" and "……" are not split;
//  - a run of narrow characters between spaces (an English word, a number,
//    "ISO9001", "v2.1") is not broken, unless it is wider than a whole line.
// When the break that fills the line is forbidden, the line ends earlier and
// the character before the break moves down with the punctuation (推出法).
// Punctuation never hangs into the margin, so no line is wider than its
// cells; the PDF writer justifies the shortened line back to the full
// width when that spreads it by little (pdf.cc).
// A line with no permitted break at all (pathological: 28 closing marks) is
// broken where it is full.
//
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace paidoc::exporter::internal {

enum class CharClass {
  kWide,       // CJK, full-width forms, Chinese punctuation: one cell, breakable on both sides
  kNarrow,     // Latin, digits, other scripts: grouped into unbreakable words
  kSpace,      // breakable space; dropped at line starts and ends
  kZeroWidth,  // combining marks, zero-width characters: stick to the previous character
};
CharClass char_class(char32_t c);

// 避头 / 避尾.
bool no_line_start(char32_t c);
bool no_line_end(char32_t c);

// Decodes the code point at s[i] and returns the index after it; invalid
// UTF-8 decodes as U+FFFD, one byte at a time.
size_t next_code_point(std::string_view s, size_t i, char32_t* cp);

// Width in cells of a run of narrow text (one word, or spaces).
using MeasureFn = std::function<double(std::string_view utf8)>;

// Half a cell per code point.
double estimate_narrow(std::string_view utf8);

// Width in cells of text laid out on one line (wide characters one cell,
// narrow runs by `narrow`, estimate_narrow when it is empty).
double text_cells(std::string_view utf8, const MeasureFn& narrow = {});

struct FilledLine {
  std::string text;     // the line's text, without leading or trailing spaces
  int indent = 0;       // cells left blank before the text (first line only)
  double cells = 0;     // width of text, indent excluded
  bool last = false;    // the paragraph's last line: not justified
};

// Fills text into lines of cells_per_line cells, the first line indented by
// first_line_indent_cells. Empty text gives no lines.
// REQUIRES: 0 <= first_line_indent_cells < cells_per_line.
std::vector<FilledLine> fill_lines(std::string_view text, int first_line_indent_cells,
                                   int cells_per_line, const MeasureFn& narrow = {});

}  // namespace paidoc::exporter::internal
