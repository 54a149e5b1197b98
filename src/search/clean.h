// Search input hygiene: what a reader typed, made safe to parse.
//
// Control characters (C0 U+0000..U+001F, DEL, C1 U+0080..U+009F) are
// separators, like a space: "a\0b" is the two terms a and b, in a quoted
// phrase too. They carry nothing searchable, a reader who pastes a tab or a
// line break means a space, and a separator keeps the page and the API on
// one answer (results, not an error). parse_query (search.h) cleans its
// input with clean_query first, so no control character reaches a term, the
// store or the index's query language.
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace paidoc::search {

// `q` with each control character replaced by one space; nothing else
// changes (invalid UTF-8 is left for parse_query to ignore).
std::string clean_query(std::string_view q);

}  // namespace paidoc::search
