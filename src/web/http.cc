// The HTTP side of compression: prepared representations, Vary and
// Content-Encoding on handler-built responses (http.h). The codecs are in
// compress.cc.
#include "web/http.h"

#include "web/util.h"

namespace paidoc::web {

namespace {

constexpr std::string_view kVary = "Vary: Accept-Encoding\r\n";

// A compressed representation of `id` (identity, ETag included), or an
// empty one when it would not be smaller or the encoder fails.
Representation encoded(const Representation& id, std::string_view base_headers,
                       compress::Coding c) {
  Representation r;
  std::optional<std::string> body = compress::encode(c, id.body, compress::kOnce);
  if (!body || body->size() >= id.body.size()) return r;
  r.body = std::move(*body);
  r.headers.reserve(base_headers.size() + 96);
  r.headers.append(base_headers).append(kVary);
  r.headers.append("Content-Encoding: ").append(compress::name(c)).append("\r\n");
  if (!id.etag.empty()) {
    // "abc" -> "abc-gz": the suffix goes inside the quotes.
    r.etag.assign(id.etag, 0, id.etag.size() - 1);
    r.etag.append(compress::etag_suffix(c)).push_back('"');
    r.headers.append("ETag: ").append(r.etag).append("\r\n");
  }
  return r;
}

}  // namespace

std::string_view header_value(std::string_view block, std::string_view name) {
  while (!block.empty()) {
    size_t end = block.find("\r\n");
    std::string_view line = block.substr(0, end);
    block = end == std::string_view::npos ? std::string_view() : block.substr(end + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !ascii_iequals(line.substr(0, colon), name)) continue;
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  }
  return {};
}

std::shared_ptr<const Prepared> make_prepared(std::string_view headers, std::string body,
                                              bool with_etag) {
  auto p = std::make_shared<Prepared>();
  Representation& id = p->identity;
  id.body = std::move(body);
  if (with_etag) id.etag = make_etag(id.body);
  bool compressible = compress::compressible_type(header_value(headers, "Content-Type"));
  id.headers.reserve(headers.size() + 64);
  id.headers.append(headers);
  if (compressible) id.headers.append(kVary);
  if (!id.etag.empty()) id.headers.append("ETag: ").append(id.etag).append("\r\n");
  if (compressible && id.body.size() >= compress::kMinBytes) {
    p->gzip = encoded(id, headers, compress::Coding::kGzip);
    p->brotli = encoded(id, headers, compress::Coding::kBrotli);
  }
  return p;
}

void encode_response(const Request& req, Response& res) {
  if (res.prepared || res.status < 200 || res.status == 204 || res.status == 304) return;
  if (res.body.empty()) return;
  if (!compress::compressible_type(header_value(res.headers, "Content-Type"))) return;
  res.headers.append(kVary);
  if (!res.may_compress || res.body.size() < compress::kMinBytes) return;
  if (!header_value(res.headers, "Content-Encoding").empty()) return;
  compress::Coding c = compress::Accept::parse(req.accept_encoding).choose(true, true);
  if (c == compress::Coding::kIdentity) return;
  std::optional<std::string> body = compress::encode(c, res.body, compress::kPerRequest);
  if (!body || body->size() >= res.body.size()) return;
  res.body = std::move(*body);
  res.headers.append("Content-Encoding: ").append(compress::name(c)).append("\r\n");
}

}  // namespace paidoc::web
