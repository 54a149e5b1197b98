// The request and response as handlers see them, free of Beast types so that
// only server.cc includes Boost.Beast (it is slow to compile).
//
// A Request holds views into the connection's buffers: valid for the duration
// of the handler call only. A Response owns its bytes, or shares a Prepared
// response (render caches, static files) without copying it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "web/compress.h"

namespace paidoc::web {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };
inline constexpr int kMethodCount = 8;
const char* method_name(Method m);

class Form;    // util.h
namespace multipart {
class Body;     // multipart.h
}
struct Caller;  // site.h

struct Request {
  Method method = Method::kGet;
  std::string_view target;         // raw request-target, "/d/1?x=y"
  std::string_view path;           // raw path, before '?'
  std::string_view query;          // raw, after '?' (may be empty)
  std::string_view if_none_match;  // raw header value
  std::string_view accept_encoding;  // raw header value(s), joined with ", "
  std::string_view cookie;
  std::string_view authorization;
  std::string_view origin;
  std::string_view host;
  std::string_view content_type;
  std::string_view user_agent;
  std::string_view csrf_header;      // X-CSRF-Token
  std::string_view forwarded_for;    // X-Forwarded-For, joined with ", "
  std::string_view remote_address;   // the socket's peer address
  // Arrived on the operations listener (ServerOptions::metrics_host), which
  // answers only the routes marked Route::ops.
  bool ops_listener = false;
  // Payment notifications only (/api/v1/payments/...): every header as
  // "name: value\n" lines, names lower-cased; empty on other paths.
  std::string_view notify_headers;
  std::string_view body;

  // Set by the route's filters (Site::handle) before the handler runs.
  // caller: the signed-in account, or nullptr (anonymous, or a route that
  // does not look at credentials). form: the parsed body of a form route;
  const Caller* caller = nullptr;
  const Form* form = nullptr;
  // multipart: the parsed body of a kMultipart route (its views point into body).
  const multipart::Body* multipart = nullptr;

  bool is_api() const { return path.substr(0, 5) == "/api/"; }
};

// One representation of a prepared response: its header lines
// ("Name: value\r\n", Content-Length excluded; Content-Encoding and Vary
// included when they apply), its body and its quoted entity tag (also in
// `headers`; may be empty).
struct Representation {
  std::string headers;
  std::string body;
  std::string etag;
};

// Header lines and body built once and served many times (cached pages,
// static files), with their compressed representations made at the same
// time (make_prepared). Immutable once shared.
struct Prepared {
  Representation identity;
  // Compressed once, when prepared; body empty when not offered (type not
  // compressible, body under compress::kMinBytes, no saving, or the encoder
  // failed). Their ETags are the identity one with a "-gz" / "-br" suffix,
  // so a cache never takes one representation for another.
  Representation gzip;
  Representation brotli;

  const Representation& get(compress::Coding c) const {
    switch (c) {
      case compress::Coding::kGzip:
        return gzip;
      case compress::Coding::kBrotli:
        return brotli;
      case compress::Coding::kIdentity:
        break;
    }
    return identity;
  }
  // The representation to send for this Accept-Encoding.
  compress::Coding choose(const compress::Accept& accept) const {
    return accept.choose(!gzip.body.empty(), !brotli.body.empty());
  }
  // Memory held, for cache budgets.
  size_t bytes() const {
    return identity.headers.size() + identity.body.size() + gzip.headers.size() +
           gzip.body.size() + brotli.headers.size() + brotli.body.size();
  }
};

// Builds a prepared response from its identity header lines (without ETag,
// Vary: Accept-Encoding or Content-Encoding) and body. `with_etag`: adds a
// strong ETag made from the body. When the Content-Type is compressible,
// every representation carries "Vary: Accept-Encoding", and gzip and Brotli
// representations are made (compress::kOnce) for bodies of
// compress::kMinBytes or more when they come out smaller.
std::shared_ptr<const Prepared> make_prepared(std::string_view headers, std::string body,
                                              bool with_etag = true);

struct Response {
  int status = 200;
  // Extra header lines, each "Name: value\r\n". The server adds Date,
  // Content-Length and Connection itself.
  std::string headers;
  std::string body;
  // When set, headers and body come from prepared->get(coding) instead of
  // the two fields above (which stay empty).
  std::shared_ptr<const Prepared> prepared;
  compress::Coding coding = compress::Coding::kIdentity;
  // False: never compress this response. Set on pages that hold the CSRF
  // token and may reflect request text (BREACH; see CONTEXT.md).
  bool may_compress = true;

  void add_header(std::string_view name, std::string_view value) {
    headers.append(name).append(": ").append(value).append("\r\n");
  }
  std::string_view header_block() const {
    return prepared ? std::string_view(prepared->get(coding).headers) : headers;
  }
  std::string_view body_view() const {
    return prepared ? std::string_view(prepared->get(coding).body) : body;
  }
};

// Content negotiation for a response the handler built itself (not
// prepared: Site::serve picks a prepared representation): when its
// Content-Type is compressible and it has a body, adds "Vary:
// Accept-Encoding"; then, when the body is at least compress::kMinBytes,
// `res.may_compress` is set, no Content-Encoding is there yet and the request
// accepts gzip or Brotli, replaces the body by its compressed form
// (compress::kPerRequest) and adds Content-Encoding. HEAD responses are
// compressed too, so that their Content-Length is the one a GET gets.
// 1xx, 204 and 304 responses are left alone. Compression failures or no
// saving leave the identity body.
void encode_response(const Request& req, Response& res);

// The value of header `name` (case-insensitive) in a block of
// "Name: value\r\n" lines; empty when absent.
std::string_view header_value(std::string_view block, std::string_view name);

// Header sets shared by the handlers.
namespace headers {
// HTML: content type plus nosniff, CSP and Referrer-Policy.
inline constexpr std::string_view kHtml =
    "Content-Type: text/html; charset=utf-8\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'\r\n"
    "Referrer-Policy: strict-origin-when-cross-origin\r\n";
inline constexpr std::string_view kJson =
    "Content-Type: application/json; charset=utf-8\r\n"
    "X-Content-Type-Options: nosniff\r\n";
// Anything made from a gated view (and every page that may become
// personalised once accounts exist).
inline constexpr std::string_view kPrivate =
    "Cache-Control: private, max-age=0\r\n"
    "Vary: Cookie, Authorization\r\n";
// Paid text shown to a signed-in viewer: not kept by the browser at all.
inline constexpr std::string_view kPrivateNoStore =
    "Cache-Control: private, no-store\r\n"
    "Vary: Cookie, Authorization\r\n";
}  // namespace headers

// True when an If-None-Match header value matches `etag` (a quoted tag);
// weak comparison, "*" matches.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

// Quoted strong entity tag from a hash of `bytes`: "\"1a2b3c4d5e6f7a8b\"".
std::string make_etag(std::string_view bytes);

}  // namespace paidoc::web
