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

namespace paidoc::web {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };
inline constexpr int kMethodCount = 8;
const char* method_name(Method m);

class Form;    // util.h
struct Caller;  // site.h

struct Request {
  Method method = Method::kGet;
  std::string_view target;         // raw request-target, "/d/1?x=y"
  std::string_view path;           // raw path, before '?'
  std::string_view query;          // raw, after '?' (may be empty)
  std::string_view if_none_match;  // raw header value
  std::string_view cookie;
  std::string_view authorization;
  std::string_view origin;
  std::string_view host;
  std::string_view content_type;
  std::string_view user_agent;
  std::string_view csrf_header;      // X-CSRF-Token
  std::string_view forwarded_for;    // X-Forwarded-For, joined with ", "
  std::string_view remote_address;   // the socket's peer address
  // Payment notifications only (/api/v1/payments/...): every header as
  // "name: value\n" lines, names lower-cased; empty on other paths.
  std::string_view notify_headers;
  std::string_view body;

  // Set by the route's filters (Site::handle) before the handler runs.
  // caller: the signed-in account, or nullptr (anonymous, or a route that
  // does not look at credentials). form: the parsed body of a form route.
  const Caller* caller = nullptr;
  const Form* form = nullptr;

  bool is_api() const { return path.substr(0, 5) == "/api/"; }
};

// Header lines and body built once and served many times (cached pages,
// static files). Immutable once shared.
struct Prepared {
  std::string headers;  // "Name: value\r\n" lines, Content-Length excluded
  std::string body;
  std::string etag;  // quoted entity tag, also present in headers; may be empty
};

struct Response {
  int status = 200;
  // Extra header lines, each "Name: value\r\n". The server adds Date,
  // Content-Length and Connection itself.
  std::string headers;
  std::string body;
  // When set, headers and body come from here instead of the two fields
  // above (which stay empty).
  std::shared_ptr<const Prepared> prepared;

  void add_header(std::string_view name, std::string_view value) {
    headers.append(name).append(": ").append(value).append("\r\n");
  }
  std::string_view header_block() const { return prepared ? prepared->headers : headers; }
  std::string_view body_view() const { return prepared ? prepared->body : body; }
};

// Header sets shared by the handlers.
namespace headers {
// HTML: content type plus nosniff, CSP and Referrer-Policy.
inline constexpr std::string_view kHtml =
    "Content-Type: text/html; charset=utf-8\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'none'; object-src 'none'; base-uri 'self'; form-action 'self'; "
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
