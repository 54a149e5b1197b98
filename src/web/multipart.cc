#include "web/multipart.h"

#include <utility>

#include "web/util.h"

namespace paidoc::web::multipart {

namespace {

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// RFC 2046 bchars (space allowed, but not as the last character).
bool is_bchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '\'': case '(': case ')': case '+': case '_': case ',': case '-': case '.':
    case '/': case ':': case '=': case '?': case ' ':
      return true;
    default:
      return false;
  }
}

void skip_ows(std::string_view s, size_t* i) {
  while (*i < s.size() && (s[*i] == ' ' || s[*i] == '\t')) ++*i;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A header value "type; a=b; c=\"d\"": the type (lower-cased) and its
// parameters (names lower-cased, values unquoted). nullopt when malformed or
// a parameter repeats.
struct Parameterised {
  std::string type;
  std::vector<std::pair<std::string, std::string>> params;
  const std::string* get(std::string_view name) const {
    for (const auto& [k, v] : params)
      if (k == name) return &v;
    return nullptr;
  }
};

std::optional<Parameterised> parse_parameterised(std::string_view s) {
  Parameterised out;
  size_t i = 0;
  skip_ows(s, &i);
  size_t start = i;
  while (i < s.size() && (is_tchar(static_cast<unsigned char>(s[i])) || s[i] == '/')) ++i;
  if (i == start) return std::nullopt;
  out.type = lower(s.substr(start, i - start));
  for (;;) {
    skip_ows(s, &i);
    if (i == s.size()) break;
    if (s[i] != ';') return std::nullopt;
    ++i;
    skip_ows(s, &i);
    size_t ns = i;
    while (i < s.size() && is_tchar(static_cast<unsigned char>(s[i]))) ++i;
    if (i == ns || i == s.size() || s[i] != '=') return std::nullopt;
    std::string name = lower(s.substr(ns, i - ns));
    ++i;  // '='
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '"') {
          closed = true;
          ++i;
          break;
        }
        if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) {
          value.push_back(s[i + 1]);
          i += 2;
          continue;
        }
        // qdtext: HTAB, SP, visible ASCII, obs-text; never other controls.
        if (c != '\t' && (c < 0x20 || c == 0x7f)) return std::nullopt;
        value.push_back(static_cast<char>(c));
        ++i;
      }
      if (!closed) return std::nullopt;
    } else {
      size_t vs = i;
      while (i < s.size() && is_tchar(static_cast<unsigned char>(s[i]))) ++i;
      if (i == vs) return std::nullopt;
      value.assign(s.substr(vs, i - vs));
    }
    if (out.get(name)) return std::nullopt;
    out.params.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

// A name or file name we keep: UTF-8 without control characters.
bool clean_text(std::string_view s) {
  if (!valid_utf8(s)) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

// RFC 8187 ext-value: UTF-8'[language]'percent-encoded. nullopt when
// malformed or in another charset.
std::optional<std::string> decode_ext_value(std::string_view v) {
  size_t q1 = v.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  size_t q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  if (!ascii_iequals(v.substr(0, q1), "utf-8")) return std::nullopt;
  return percent_decode(v.substr(q2 + 1), /*plus_is_space=*/false);
}

// One part's header block (lines without the final empty one) into *part.
Error parse_headers(std::string_view block, Part* part) {
  bool have_disposition = false, have_type = false;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t eol = block.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = block.size();
    std::string_view line = block.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty() || line[0] == ' ' || line[0] == '\t') return Error::kMalformed;  // folded
    for (char c : line)
      if (c == '\0' || c == '\r' || c == '\n') return Error::kMalformed;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Error::kMalformed;
    std::string_view name = line.substr(0, colon);
    for (char c : name)
      if (!is_tchar(static_cast<unsigned char>(c))) return Error::kMalformed;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (ascii_iequals(name, "content-disposition")) {
      if (have_disposition) return Error::kMalformed;
      have_disposition = true;
      std::optional<Parameterised> cd = parse_parameterised(value);
      if (!cd || cd->type != "form-data") return Error::kMalformed;
      for (const auto& [k, v] : cd->params)
        if (k != "name" && k != "filename" && k != "filename*") return Error::kMalformed;
      const std::string* n = cd->get("name");
      if (!n || n->empty() || !clean_text(*n)) return Error::kBadName;
      part->name = *n;
      if (const std::string* ext = cd->get("filename*")) {
        std::optional<std::string> decoded = decode_ext_value(*ext);
        if (!decoded || !clean_text(*decoded)) return Error::kBadName;
        part->filename = std::move(*decoded);
      } else if (const std::string* f = cd->get("filename")) {
        if (!clean_text(*f)) return Error::kBadName;
        part->filename = *f;
      }
    } else if (ascii_iequals(name, "content-type")) {
      if (have_type) return Error::kMalformed;
      have_type = true;
      part->content_type.assign(value);
    }
    // Other headers (Content-Transfer-Encoding, which RFC 7578 deprecates)
    // are ignored.
  }
  return have_disposition ? Error::kNone : Error::kMalformed;
}

}  // namespace

const char* error_text(Error e) {
  switch (e) {
    case Error::kNone: return "ok";
    case Error::kNoBoundary: return "not multipart/form-data with a valid boundary";
    case Error::kMalformed: return "malformed multipart body";
    case Error::kTruncated: return "multipart body ends before its close delimiter";
    case Error::kBadName: return "a part's name or file name is missing or not clean UTF-8";
    case Error::kTooManyParts: return "too many parts";
    case Error::kTooManyFiles: return "too many files";
    case Error::kHeaderTooLarge: return "a part's headers are too large";
    case Error::kFieldTooLarge: return "a field is too large";
  }
  return "?";
}

std::string_view Body::field(std::string_view name) const {
  for (const Part& p : parts_)
    if (!p.is_file() && p.name == name) return p.data;
  return {};
}

std::vector<const Part*> Body::files(std::string_view name) const {
  std::vector<const Part*> out;
  for (const Part& p : parts_)
    if (p.is_file() && p.name == name) out.push_back(&p);
  return out;
}

std::optional<std::string> boundary_of(std::string_view content_type) {
  std::optional<Parameterised> ct = parse_parameterised(content_type);
  if (!ct || ct->type != "multipart/form-data") return std::nullopt;
  const std::string* b = ct->get("boundary");
  if (!b || b->empty() || b->size() > 70 || b->back() == ' ') return std::nullopt;
  for (unsigned char c : *b)
    if (!is_bchar(c)) return std::nullopt;
  return *b;
}

Error parse(std::string_view content_type, std::string_view body, const Limits& limits, Body* out) {
  out->parts_.clear();
  std::optional<std::string> boundary = boundary_of(content_type);
  if (!boundary) return Error::kNoBoundary;
  const std::string delimiter = "--" + *boundary;
  const std::string next_delimiter = "\r\n" + delimiter;

  // The first delimiter opens the body (a preamble before it is ignored).
  size_t pos;
  if (body.substr(0, delimiter.size()) == delimiter) {
    pos = delimiter.size();
  } else {
    size_t first = body.find(next_delimiter);
    if (first == std::string_view::npos) return body.empty() ? Error::kTruncated : Error::kMalformed;
    pos = first + next_delimiter.size();
  }

  std::vector<Part> parts;
  size_t files = 0;
  for (;;) {
    // Just after a delimiter: "--" closes the body; else padding and CRLF.
    if (body.substr(pos, 2) == "--") break;  // the epilogue, if any, is ignored
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (pos + 2 > body.size()) return Error::kTruncated;
    if (body.substr(pos, 2) != "\r\n") return Error::kMalformed;
    pos += 2;

    if (parts.size() == limits.max_parts) return Error::kTooManyParts;
    Part part;
    // Headers end at an empty line; a part with none starts with one.
    std::string_view headers;
    size_t data_start;
    if (body.substr(pos, 2) == "\r\n") {
      data_start = pos + 2;
    } else {
      size_t window = std::min(body.size() - pos, limits.max_header_bytes + 4);
      size_t end = body.substr(pos, window).find("\r\n\r\n");
      if (end == std::string_view::npos)
        return body.size() - pos < limits.max_header_bytes + 4 ? Error::kTruncated
                                                              : Error::kHeaderTooLarge;
      if (end > limits.max_header_bytes) return Error::kHeaderTooLarge;
      headers = body.substr(pos, end);
      data_start = pos + end + 4;
    }
    if (Error e = parse_headers(headers, &part); e != Error::kNone) return e;

    size_t data_end = body.find(next_delimiter, data_start);
    if (data_end == std::string_view::npos) return Error::kTruncated;
    part.data = body.substr(data_start, data_end - data_start);
    if (part.is_file()) {
      if (++files > limits.max_files) return Error::kTooManyFiles;
    } else if (part.data.size() > limits.max_field_bytes) {
      return Error::kFieldTooLarge;
    }
    parts.push_back(std::move(part));
    pos = data_end + next_delimiter.size();
  }
  out->parts_ = std::move(parts);
  return Error::kNone;
}

}  // namespace paidoc::web::multipart
