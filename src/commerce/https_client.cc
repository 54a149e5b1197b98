// Boost.Beast over Boost.Asio (OpenSSL for TLS). Every operation is started
// asynchronously and the private io_context is run until one shared
// deadline, so a stalled peer or a slow resolver cannot hold the caller for
// longer than the timeout.

#include "commerce/https_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace paidoc::commerce {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr std::uint64_t kMaxResponseBytes = 1 << 20;
constexpr size_t kExcerptBytes = 200;

struct Url {
  bool tls = true;
  std::string host;
  std::string port;
  std::string target;  // path and query, at least "/"
};

bool is_loopback_host(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost";
}

Result<Url> parse_url(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    u.tls = false;
    rest = url.substr(7);
  } else {
    return Status::invalid("https: only https:// URLs are supported: " + url);
  }
  size_t slash = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!u.target.empty() && u.target[0] != '/') u.target = "/" + u.target;
  size_t hash = u.target.find('#');
  if (hash != std::string::npos) u.target.resize(hash);
  if (authority.find('@') != std::string::npos)
    return Status::invalid("https: user info in URLs is not supported: " + url);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
    if (u.port.empty() || u.port.size() > 5 ||
        u.port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(u.port) == 0 || std::stoi(u.port) > 65535)
      return Status::invalid("https: bad port in " + url);
  } else {
    u.host = authority;
    u.port = u.tls ? "443" : "80";
  }
  if (u.host.empty() || u.host.find_first_of("[] \t\r\n") != std::string::npos)
    return Status::invalid("https: bad host in " + url);
  if (!u.tls && !is_loopback_host(u.host))
    return Status::invalid("https: plain http:// is allowed for 127.0.0.1 and localhost only: " +
                           url);
  return u;
}

bool has_line_break(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

std::string excerpt(const std::string& body) {
  if (body.size() <= kExcerptBytes) return body;
  return body.substr(0, kExcerptBytes) + "…";
}

// Starts one asynchronous operation through `initiate` (which receives the
// completion handler) and runs the context until it completes or the
// deadline passes (asio::error::timed_out). After a timeout the caller must
// give up: the operation is abandoned with the connection.
template <class Initiate>
beast::error_code run_op(asio::io_context& ioc, SteadyClock::time_point deadline,
                         Initiate&& initiate) {
  std::optional<beast::error_code> result;
  initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run_until(deadline);
  if (!result) return asio::error::timed_out;
  return *result;
}

Status network_error(const std::string& what, const Url& u, const beast::error_code& ec) {
  return Status::unavailable("https: " + what + " " + u.host + ":" + u.port + ": " + ec.message());
}

// Writes the request on a connected (and, for TLS, handshaken) stream and
// reads the answer, whatever its status.
template <class Stream>
Result<HttpAnswer> exchange(asio::io_context& ioc, SteadyClock::time_point deadline,
                            Stream& stream, const Url& u,
                            const http::request<http::string_body>& req) {
  beast::error_code ec = run_op(ioc, deadline, [&](auto handler) {
    http::async_write(stream, req, std::move(handler));
  });
  if (ec) return network_error("sending to", u, ec);

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  ec = run_op(ioc, deadline, [&](auto handler) {
    http::async_read(stream, buffer, parser, std::move(handler));
  });
  if (ec) return network_error("reading from", u, ec);

  const auto& res = parser.get();
  HttpAnswer a;
  a.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    a.headers[name] = std::string(field.value());
  }
  a.body = res.body();
  return a;
}

}  // namespace

Result<HttpAnswer> https_request(const HttpRequest& request, int timeout_seconds) {
  auto parsed = parse_url(request.url);
  if (!parsed.ok()) return parsed.status();
  const Url& u = *parsed;
  if (has_line_break(u.target)) return Status::invalid("https: line break in the URL");
  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown)
    return Status::invalid("https: unknown method '" + request.method + "'");

  http::request<http::string_body> req{verb, u.target, 11};
  bool default_port = u.port == (u.tls ? "443" : "80");
  req.set(http::field::host, default_port ? u.host : u.host + ":" + u.port);
  req.set(http::field::user_agent, "paidoc");
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || has_line_break(name) || has_line_break(value) ||
        name.find(':') != std::string::npos)
      return Status::invalid("https: line break or colon in a header");
    req.set(name, value);
  }
  if (verb != http::verb::get || !request.body.empty()) {
    req.body() = request.body;
    req.prepare_payload();
  }

  const auto deadline = SteadyClock::now() + std::chrono::seconds(timeout_seconds);
  // Declared first, so destroyed last: abandoned operations are dropped with
  // it, never run.
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  tcp::resolver::results_type endpoints;
  beast::error_code ec = run_op(ioc, deadline, [&](auto handler) {
    resolver.async_resolve(u.host, u.port,
                           [&endpoints, handler = std::move(handler)](
                               beast::error_code e, tcp::resolver::results_type r) mutable {
                             endpoints = std::move(r);
                             handler(e);
                           });
  });
  if (ec) return network_error("resolving", u, ec);

  if (!u.tls) {
    beast::tcp_stream stream(ioc);
    ec = run_op(ioc, deadline,
                [&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
    if (ec) return network_error("connecting to", u, ec);
    return exchange(ioc, deadline, stream, u, req);
  }

  ssl::context ctx(ssl::context::tls_client);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.set_default_verify_paths(ec);
  if (ec) return Status::internal("https: cannot load the system CA store: " + ec.message());
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  // SNI names hosts only, never IP literals.
  beast::error_code not_ip;
  asio::ip::make_address(u.host, not_ip);
  if (not_ip && !SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str()))
    return Status::internal("https: cannot set SNI for " + u.host);
  stream.set_verify_callback(ssl::host_name_verification(u.host));

  ec = run_op(ioc, deadline, [&](auto handler) {
    beast::get_lowest_layer(stream).async_connect(endpoints, std::move(handler));
  });
  if (ec) return network_error("connecting to", u, ec);
  ec = run_op(ioc, deadline, [&](auto handler) {
    stream.async_handshake(ssl::stream_base::client, std::move(handler));
  });
  if (ec) return network_error("TLS handshake with", u, ec);
  // The answer is complete once read (Content-Length or chunked); the TLS
  // close_notify exchange adds nothing, so the connection is simply closed.
  return exchange(ioc, deadline, stream, u, req);
}

Result<std::string> https_post_json(const std::string& url, const std::string& body,
                                    const std::string& authorization, int timeout_seconds) {
  HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.body = body;
  if (!authorization.empty()) r.headers.emplace_back("Authorization", authorization);
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("Accept", "application/json");
  auto a = https_request(r, timeout_seconds);
  if (!a.ok()) return a.status();
  if (a->status < 200 || a->status > 299) {
    auto u = parse_url(url);
    return Status::unavailable("https: " + (u.ok() ? u->host : url) + " answered HTTP " +
                               std::to_string(a->status) + ": " + excerpt(a->body));
  }
  return std::move(a->body);
}

}  // namespace paidoc::commerce
