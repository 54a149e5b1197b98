// Small helpers for the web layer: URL coding, query strings, ids, dates.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace paidoc::web {

// Decodes %XX escapes (and '+' as space when `plus_is_space`). nullopt on a
// malformed escape or when the result is not valid UTF-8.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

// Encodes everything but RFC 3986 unreserved characters: for a path segment
// or a query value.
std::string percent_encode(std::string_view in);

bool valid_utf8(std::string_view s);

// The first value of `name` in a raw query string, decoded. nullopt when
// absent; an empty string when present without a value. A malformed value
// comes back as nullopt in *bad (set true) when bad is non-null.
std::optional<std::string> query_param(std::string_view query, std::string_view name,
                                       bool* bad = nullptr);

// A positive decimal int64 without sign or spaces ("7"); nullopt otherwise
// ("0", "-1", "abc", "99999999999999999999").
std::optional<int64_t> parse_id(std::string_view s);

// A page number from ?page=: absent -> 1; "1".."100000" -> the number;
// anything else -> nullopt.
std::optional<int64_t> parse_page(std::string_view query);

// 2024-05-01T08:00:00Z
std::string rfc3339_utc(int64_t unix_seconds);
// 2024-05-01 in China Standard Time (UTC+8), for display.
std::string display_date(int64_t unix_seconds);

// JSON text; invalid UTF-8 is replaced rather than thrown on.
std::string dump_json(const nlohmann::json& j);

// 64-bit FNV-1a, for entity tags and asset versions.
uint64_t fnv1a(std::string_view bytes);

}  // namespace paidoc::web
