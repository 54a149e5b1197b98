// JSON request bodies, read with bounds.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace paidoc::web {

class Site;
struct Request;
struct Response;

// Every JSON body a handler reads goes through read_json_object. The bounds
// are checked while the text is read (a SAX pass), before any value of the
// refused body is built: a body over max_bytes is refused without parsing,
// and the parse stops at the first array or object nested deeper than
// max_depth, so a megabyte of '[' costs nothing beyond its bytes.
inline constexpr size_t kJsonBodyMaxBytes = 64 * 1024;  // orders, logins: < 1 KiB
inline constexpr size_t kJsonMaxDepth = 32;             // ours are 1 or 2 deep

enum class JsonBodyError { kNone, kTooLarge, kTooDeep, kMalformed, kNotObject };

// Reads `body` as a JSON object into *out; an empty body is the empty
// object. Anything else (too large, too deep, not JSON, not an object) is
// an error and leaves *out unspecified.
JsonBodyError read_json_object(std::string_view body, nlohmann::json* out,
                               size_t max_bytes = kJsonBodyMaxBytes,
                               size_t max_depth = kJsonMaxDepth);

// 413 for kTooLarge, else 400.
int json_body_status(JsonBodyError e);
// The JSON error code: "payload_too_large" or "invalid_argument".
const char* json_body_code(JsonBodyError e);
// What was wrong, in zh-CN, naming the request body and the limit.
std::string json_body_message(JsonBodyError e);

// The answer to a body read_json_object refused: 413 or 400,
// {"error": {"code", "message"}} with the zh-CN message. Every API handler
// that reads a JSON body answers a refusal with this.
Response json_body_error(Site& site, const Request& req, JsonBodyError e);

}  // namespace paidoc::web
