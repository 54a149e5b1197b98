// Files compiled into the binary from web/ and demo/ (see cmake/embed.cmake).
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace paidoc {

// The content of an embedded file by its repo-relative path, e.g.
// "web/templates/document.html". Empty optional-like: returns false on a miss.
bool resource(std::string_view path, std::string_view* out);

// Every embedded path that starts with `prefix`, sorted.
std::vector<std::string_view> resource_paths(std::string_view prefix);

// Generated table, terminated by an entry with an empty path.
const std::pair<std::string_view, std::string_view>* resource_table();

}  // namespace paidoc
