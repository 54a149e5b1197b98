// Internal to src/export: breaking a document title into lines, as GB/T
// 9704-2012 §7.3.1 asks for a multi-line title. One rule for every format:
// the docx writes the lines with explicit line breaks, the PDF places the
// same lines, so a title looks alike in both.
//
// The rule, in order:
//  1. A title that fits one line (cells_per_line cells; widths as
//     text_cells() with the default estimate, so the result does not depend
//     on a font) stays one line.
//  2. Otherwise the title takes the fewest lines it can, broken only where
//     the words allow: at word boundaries of ICU's dictionary-based Chinese
//     word segmentation (zh locale), never inside a bracketed group such as
//     "（试行）" or "《…》", never before 的 (it belongs to the word it
//     follows), and with the 避头尾 rules of layout.h (no closing
//     punctuation at a line start, no opening punctuation at a line end).
//  3. No line holds a single character (punctuation does not count as one).
//  4. The lines form a 梯形 (lengths growing or shrinking) or a 菱形 (longest
//     in the middle): never a line shorter than both a line above and a line
//     below it.
//  5. Among the break choices left, the one whose longest and shortest lines
//     differ least; then the one with the least spread of lengths (sum of
//     squares); then the one with the longer lines first.
// ICU leaves the characters of words it does not know as single segments
// (办公室 as 办公 + 室), so a boundary beside a lone ideograph (other than
// a function word such as 的, 和, 与) is used only when it balances the lines
// better than the other boundaries by more than two cells.
// When no choice satisfies 2-4, brackets may be broken at word boundaries;
// then any two characters may be parted (避头尾 still holds); and as a last
// resort (a word longer than a line) the title is filled as plain text by
// fill_lines().
//
// Thread-safety: pure function; each thread keeps its own ICU iterator.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace paidoc::exporter::internal {

// The title's lines, without leading or trailing spaces; empty for an empty
// (or all-space) title. Concatenated they give the title with the spaces at
// the breaks removed.
// REQUIRES: cells_per_line >= 2.
std::vector<std::string> break_title(std::string_view title, int cells_per_line);

}  // namespace paidoc::exporter::internal
