// The server's HTTP request parser: Boost.Beast's basic_parser keeping only
// the header fields handlers use (no allocation per header field), with the
// strictness rules of RFC 9112 that Beast leaves out, and the Request that
// handlers see made from what it kept. Used by server.cc, the only part of
// the program that includes Beast, and by the fuzz target fuzz/fuzz_http.cc,
// which feeds it bytes without a socket.
//
// Thread-safety: one parser per connection and request; RequestData is
// reused by the connection between requests (clear()).
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/optional.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "web/http.h"
#include "web/site.h"

namespace paidoc::web {

// The largest request header the server reads (431 beyond).
inline constexpr size_t kHeaderLimit = 16 * 1024;

namespace beast = boost::beast;
namespace http = beast::http;

inline Method to_method(http::verb v) {
  switch (v) {
    case http::verb::get:
      return Method::kGet;
    case http::verb::head:
      return Method::kHead;
    case http::verb::post:
      return Method::kPost;
    case http::verb::put:
      return Method::kPut;
    case http::verb::delete_:
      return Method::kDelete;
    case http::verb::patch:
      return Method::kPatch;
    case http::verb::options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

// What the parser keeps of a request. Strings keep their capacity between
// requests on a connection.
struct RequestData {
  Method method = Method::kGet;
  int version = 11;
  std::string target;
  std::string if_none_match;
  std::string accept_encoding;
  std::string cookie;
  std::string authorization;
  std::string origin;
  std::string host;
  std::string content_type;
  std::string user_agent;
  std::string csrf_token;
  std::string forwarded_for;
  // Every header, "name: value\n" with the name lower-cased; kept only for
  // payment notifications (/api/v1/payments/...), whose signatures travel in
  // provider-specific headers.
  std::string notify_headers;
  bool keep_all_headers = false;
  std::string body;
  int host_fields = 0;
  // Why a well-formed request is refused anyway (RequestParser::on_header_impl);
  // nullptr when it is not.
  const char* refused = nullptr;
  void clear() {
    method = Method::kGet;
    version = 11;
    target.clear();
    if_none_match.clear();
    accept_encoding.clear();
    cookie.clear();
    authorization.clear();
    origin.clear();
    host.clear();
    content_type.clear();
    user_agent.clear();
    csrf_token.clear();
    forwarded_for.clear();
    notify_headers.clear();
    keep_all_headers = false;
    body.clear();
    host_fields = 0;
    refused = nullptr;
  }
};

// A request parser that stores only the fields handlers use. Beast's own
// request parser allocates for every header field; this one does not.
class RequestParser final : public http::basic_parser<true> {
 public:
  // `limit_of` gives the body limit of a request line's route (Site::body_limit)
  // and is asked as soon as the line is read, before any of the body.
  // `raw` is the buffer the request is read from: the header's own bytes,
  // checked for folded lines once the header is complete.
  RequestParser(RequestData& data, const Site& site, size_t default_limit,
                const beast::flat_buffer& raw)
      : data_(data), site_(site), default_limit_(default_limit), raw_(raw) {
    body_limit(default_limit);
  }
  // The body limit this request was read with.
  size_t limit() const { return limit_; }

 private:
  void on_request_impl(http::verb method, beast::string_view, beast::string_view target,
                       int version, beast::error_code&) override {
    data_.method = to_method(method);
    data_.version = version;
    data_.target.assign(target.data(), target.size());
    data_.keep_all_headers = data_.target.rfind("/api/v1/payments/", 0) == 0;
    limit_ = site_.body_limit(data_.method, data_.target, default_limit_);
    if (limit_ != default_limit_) body_limit(limit_);
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(http::field name, beast::string_view name_string, beast::string_view value,
                     beast::error_code&) override {
    if (data_.keep_all_headers) {
      for (char c : name_string)
        data_.notify_headers.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      data_.notify_headers.append(": ").append(value.data(), value.size()).push_back('\n');
    }
    switch (name) {
      case http::field::origin:
        assign(data_.origin, value);
        break;
      case http::field::host:
        assign(data_.host, value);
        ++data_.host_fields;
        break;
      case http::field::content_type:
        assign(data_.content_type, value);
        break;
      case http::field::user_agent:
        assign(data_.user_agent, value);
        break;
      case http::field::unknown:
        if (beast::iequals(name_string, "x-csrf-token"))
          assign(data_.csrf_token, value);
        else if (beast::iequals(name_string, "x-forwarded-for"))
          assign_or_join(data_.forwarded_for, value, ", ");
        break;
      case http::field::if_none_match:
        assign_or_join(data_.if_none_match, value, ", ");
        break;
      case http::field::accept_encoding:
        assign_or_join(data_.accept_encoding, value, ", ");
        break;
      case http::field::cookie:
        assign_or_join(data_.cookie, value, "; ");
        break;
      case http::field::authorization:
        data_.authorization.assign(value.data(), value.size());
        break;
      default:
        break;
    }
  }
  // HTTP strictness (RFC 9112): an HTTP/1.1 request names exactly one Host
  // (section 3.2), and a header line folded onto the next (obs-fold,
  // section 5.2) is refused. Beast 1.74 accepts a folded line and joins it
  // with a space, so the raw header is looked at here: at this point it is
  // all in the read buffer, from the request line on.
  void on_header_impl(beast::error_code& ec) override {
    if (data_.version >= 11 && data_.host_fields == 0) {
      data_.refused = "missing_host";
    } else if (data_.host_fields > 1) {
      data_.refused = "duplicate_host";
    } else if (folded()) {
      data_.refused = "folded_header";
    }
    if (data_.refused != nullptr) ec = http::error::bad_field;
  }
  bool folded() const {
    auto b = raw_.data();
    std::string_view head(static_cast<const char*>(b.data()), b.size());
    size_t end = head.find("\r\n\r\n");
    if (end != std::string_view::npos) head = head.substr(0, end + 2);
    for (size_t i = head.find("\r\n"); i != std::string_view::npos && i + 2 < head.size();
         i = head.find("\r\n", i + 2)) {
      if (head[i + 2] == ' ' || head[i + 2] == '\t') return true;
    }
    return false;
  }
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    if (length) data_.body.reserve(static_cast<size_t>(*length));
  }
  size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    data_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code&) override {
    data_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  static void assign(std::string& to, beast::string_view value) {
    to.assign(value.data(), value.size());
  }
  static void assign_or_join(std::string& to, beast::string_view value, std::string_view sep) {
    if (!to.empty()) to.append(sep);
    to.append(value.data(), value.size());
  }

  RequestData& data_;
  const Site& site_;
  size_t default_limit_;
  const beast::flat_buffer& raw_;
  size_t limit_ = 0;
};


// The Request handlers see: views into `data` (and `remote_address`), which
// must outlive it.
inline Request request_of(const RequestData& data, std::string_view remote_address) {
  Request req;
  req.method = data.method;
  req.target = data.target;
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string_view::npos) req.query = req.target.substr(q + 1);
  req.if_none_match = data.if_none_match;
  req.accept_encoding = data.accept_encoding;
  req.cookie = data.cookie;
  req.authorization = data.authorization;
  req.origin = data.origin;
  req.host = data.host;
  req.content_type = data.content_type;
  req.user_agent = data.user_agent;
  req.csrf_header = data.csrf_token;
  req.forwarded_for = data.forwarded_for;
  req.notify_headers = data.notify_headers;
  req.remote_address = remote_address;
  req.body = data.body;
  return req;
}

}  // namespace paidoc::web
