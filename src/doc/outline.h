// The outline rule: which headings of the paid part a reader without access
// may see, and with what text (docs/format.md §9). This is the only place
// the rule is written; the gate's teaser (gate::make_view) is built with it,
// and every page, API answer or feed shows the teaser, never a Block.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "doc/document.h"

namespace paidoc::doc {

// An outline entry's text is at most this many code points (its label not
// counted). A longer heading reads as a sentence and is not an entry.
inline constexpr int kOutlineMaxChars = 30;

// True when `text` reads as heading text: not empty, at most
// kOutlineMaxChars code points, and free of sentence punctuation (，；：。？！
// and ASCII , ; : ? !). `text` is taken as given (trim it first).
bool is_heading_text(std::string_view text);

// The text a paid heading shows in the teaser outline, or nullopt when the
// block has no entry there.
//
// Contract:
// - nullopt unless `b` is a heading (BlockKind::kHeading with a label, as the
//   parser recognises them, format.md §6.1) holding paid text;
// - the candidate text is the heading's first run only, that is the text up
//   to the first marker inside the heading that switches between free and
//   paid: for `一、标题##paidbegin##正文` it is `标题`, never anything after
//   the marker;
// - leading and trailing whitespace is removed from the candidate, and it is
//   returned only when is_heading_text() accepts it; otherwise the block
//   stays body text, seen by readers without access only in the counts.
//
// The result never holds more than kOutlineMaxChars code points and never
// holds text from after a marker.
std::optional<std::string> outline_text(const Block& b);

}  // namespace paidoc::doc
