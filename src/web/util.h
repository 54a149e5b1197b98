// Small helpers for the web layer: URL coding, query strings, ids, dates.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// A parsed application/x-www-form-urlencoded body (or query string): the
// decoded name/value pairs in order.
class Form {
 public:
  // nullopt when a name or value is malformed (bad escape, not UTF-8).
  static std::optional<Form> parse(std::string_view body);
  // The first value of `name`; "" when absent.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// True when a and b are equal ignoring ASCII case (header names, codings).
bool ascii_iequals(std::string_view a, std::string_view b);

// The value of cookie `name` in a Cookie header ("a=1; b=2"); "" when absent.
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);

// The media type of a Content-Type value, lower-cased, parameters dropped:
// "application/json; charset=utf-8" -> "application/json".
std::string media_type(std::string_view content_type);

// A redirect target that stays on this site: a path starting with "/" and
// not "//" or "/\", without control characters or spaces. Bytes outside
// ASCII are percent-encoded. nullopt when `next` is not such a path.
std::optional<std::string> safe_local_path(std::string_view next);

// The origin ("scheme://host[:port]") of an absolute URL; "" when none.
std::string origin_of(std::string_view url);

// True when a Host header value (or a URL's host[:port]) names this
// machine's loopback: "localhost", an address in 127.0.0.0/8 or "[::1]",
// with or without a port, ASCII case ignored. Browsers treat such origins
// as secure even over plain http.
bool is_loopback_host(std::string_view host);

// 2024-05-01 16:00 in China Standard Time, for display.
std::string display_time(int64_t unix_seconds);

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
// "2024-05-01 08:00:05" in China Standard Time (the audit log and its CSV).
std::string display_time_seconds(int64_t unix_seconds);
// "YYYY-MM-DD" (an <input type=date> value, a day in China time) as the
// unix time of that day's 00:00 in China time (UTC+8); nullopt for
// anything else (another shape, a day that does not exist, before 1970).
std::optional<int64_t> parse_china_date(std::string_view s);

// JSON text; invalid UTF-8 is replaced rather than thrown on.
std::string dump_json(const nlohmann::json& j);

// 64-bit FNV-1a, for entity tags and asset versions.
uint64_t fnv1a(std::string_view bytes);

}  // namespace paidoc::web
