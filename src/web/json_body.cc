#include "web/json_body.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "web/site.h"

namespace paidoc::web {

namespace {

// nlohmann's DOM builder behind a depth count: an array or object deeper
// than the limit stops the parse (returning false aborts sax_parse) before
// its value exists.
class BoundedSax {
 public:
  using json = nlohmann::json;
  BoundedSax(json& out, size_t max_depth) : dom_(out, /*allow_exceptions=*/false), max_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return dom_.number_float(v, s);
  }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool key(json::string_t& v) { return dom_.key(v); }
  bool start_object(std::size_t n) { return deeper() && dom_.start_object(n); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return deeper() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }
  bool too_deep() const { return too_deep_; }

 private:
  bool deeper() {
    if (++depth_ <= max_) return true;
    too_deep_ = true;
    return false;
  }
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  size_t max_;
  size_t depth_ = 0;
  bool too_deep_ = false;
};

}  // namespace

JsonBodyError read_json_object(std::string_view body, nlohmann::json* out, size_t max_bytes,
                               size_t max_depth) {
  if (body.size() > max_bytes) return JsonBodyError::kTooLarge;
  if (body.empty()) {
    *out = nlohmann::json::object();
    return JsonBodyError::kNone;
  }
  *out = nlohmann::json();
  BoundedSax sax(*out, max_depth);
  bool ok = nlohmann::json::sax_parse(body, &sax, nlohmann::json::input_format_t::json,
                                      /*strict=*/true);
  if (sax.too_deep()) return JsonBodyError::kTooDeep;
  if (!ok) return JsonBodyError::kMalformed;
  if (!out->is_object()) return JsonBodyError::kNotObject;
  return JsonBodyError::kNone;
}

int json_body_status(JsonBodyError e) { return e == JsonBodyError::kTooLarge ? 413 : 400; }

const char* json_body_code(JsonBodyError e) {
  return e == JsonBodyError::kTooLarge ? "payload_too_large" : "invalid_argument";
}

std::string json_body_message(JsonBodyError e) {
  switch (e) {
    case JsonBodyError::kTooLarge:
      return fmt::format("请求体过大：JSON 请求体不能超过 {} KiB", kJsonBodyMaxBytes / 1024);
    case JsonBodyError::kTooDeep:
      return fmt::format("请求体嵌套过深：JSON 数组和对象最多嵌套 {} 层", kJsonMaxDepth);
    case JsonBodyError::kMalformed:
      return "请求体不是有效的 JSON";
    case JsonBodyError::kNotObject:
      return "请求体必须是 JSON 对象";
    case JsonBodyError::kNone:
      break;
  }
  return "";
}

Response json_body_error(Site& site, const Request& req, JsonBodyError e) {
  if (json_body_status(e) == 413)
    return site.json(413, {{"error", {{"code", json_body_code(e)}, {"message", json_body_message(e)}}}});
  return site.error(req, Code::kInvalidArgument, json_body_message(e));
}

}  // namespace paidoc::web
