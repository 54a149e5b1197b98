// multipart/form-data bodies (RFC 7578), as browsers send file uploads.
//
// A small, strict parser: the boundary comes from the Content-Type (quoted or
// not, 1..70 characters of RFC 2046's set); every part starts with a
// delimiter line, has CRLF-terminated headers (no bare LF, no NUL, no folded
// lines), a Content-Disposition of form-data with a name, and ends at the
// next CRLF + delimiter. A body that ends before the close delimiter is
// refused. Names and file names must be UTF-8 without control characters;
// `filename*=UTF-8''…` (RFC 8187) wins over `filename=`. Limits bound the
// number of parts, the size of each part's headers and of each text field.
//
// Thread-safety: pure functions. A Body's views point into the body it was
// parsed from, which must outlive it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paidoc::web::multipart {

struct Part {
  std::string name;                     // the form field's name
  std::optional<std::string> filename;  // set for file inputs ("" when no file was chosen)
  std::string content_type;             // as sent; "" when absent
  std::string_view data;                // the part's bytes, a view into the body
  bool is_file() const { return filename.has_value(); }
};

struct Limits {
  size_t max_parts = 128;               // all parts, fields and files
  size_t max_files = 100;               // parts with a filename
  size_t max_header_bytes = 4096;       // one part's header block
  size_t max_field_bytes = 64 * 1024;   // one text field's value (files are bounded by the body limit)
};

enum class Error {
  kNone,
  kNoBoundary,       // Content-Type is not multipart/form-data with a valid boundary
  kMalformed,        // delimiters, headers or Content-Disposition not as RFC 7578 says
  kTruncated,        // the body ends before the close delimiter
  kBadName,          // a name or file name that is missing, not UTF-8 or holds control characters
  kTooManyParts,     // more than max_parts parts
  kTooManyFiles,     // more than max_files file parts
  kHeaderTooLarge,   // a part's headers over max_header_bytes
  kFieldTooLarge,    // a text field over max_field_bytes
};

// An English description of the error, for logs and tests.
const char* error_text(Error e);

class Body {
 public:
  const std::vector<Part>& parts() const { return parts_; }
  // The first TEXT field named `name` (file parts never count); "" when absent.
  std::string_view field(std::string_view name) const;
  // The file parts named `name`, in the order sent.
  std::vector<const Part*> files(std::string_view name) const;

 private:
  friend Error parse(std::string_view, std::string_view, const Limits&, Body*);
  std::vector<Part> parts_;
};

// The boundary of a multipart/form-data Content-Type, or nullopt.
std::optional<std::string> boundary_of(std::string_view content_type);

// Parses `body` sent with `content_type`. On kNone, *out holds the parts;
// otherwise *out is left empty.
Error parse(std::string_view content_type, std::string_view body, const Limits& limits, Body* out);

}  // namespace paidoc::web::multipart
