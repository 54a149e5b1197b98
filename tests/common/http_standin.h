// A loopback HTTP/1.1 server for tests that play a remote service (a payment
// gateway, WeChat's OAuth API): each request is parsed and handed to a
// handler, which answers as the real service documents it, or hangs (a
// timeout) or answers garbage. Every request is kept for assertions.
//
// One connection at a time, one request per connection (it answers with
// Connection: close), plain sockets: deliberately independent of the
// production HTTP code it tests. A connection that sends no complete request
// within kIdleMs is dropped, so a browser's idle preconnection cannot hold
// the server. http_request() / http_post() are the other direction: a
// gateway posting a notification to the site under test.
//
// Thread-safety: the handler runs on the server's thread; requests() may be
// read from the test thread at any time.
#pragma once

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace paidoc::testing {

struct StandinRequest {
  std::string method;
  std::string target;  // path and query, as sent
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string path() const { return target.substr(0, target.find('?')); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct StandinReply {
  int status = 200;
  std::map<std::string, std::string> headers;  // Content-Length is added
  std::string body;
  bool hang = false;  // never answer (the client's timeout is tested)
  std::string raw;    // when set, sent as is instead of a well-formed answer
};

class HttpStandin {
 public:
  // How long a connection may stay silent before its request is complete.
  static constexpr int kIdleMs = 5000;

  using Handler = std::function<StandinReply(const StandinRequest&)>;

  explicit HttpStandin(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~HttpStandin() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<StandinRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // Requests whose path is `path`.
  std::vector<StandinRequest> requests_to(const std::string& path) const {
    std::vector<StandinRequest> out;
    for (auto& r : requests())
      if (r.path() == path) out.push_back(r);
    return out;
  }
  void set_handler(Handler h) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(h);
  }

 private:
  // Waits up to 50 ms for `fd` to be readable, so stop is noticed.
  bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 50) > 0;
  }

  void serve() {
    while (!stopping_) {
      if (!readable(fd_)) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      handle(c);
      ::close(c);
    }
  }

  void handle(int c) {
    std::string data;
    char buf[8192];
    size_t want = std::string::npos;
    size_t head_end = std::string::npos;
    int idle_ms = 0;
    while (!stopping_ && data.size() < want) {
      if (!readable(c)) {
        if ((idle_ms += 50) >= kIdleMs) return;  // silent: an idle preconnection
        continue;
      }
      idle_ms = 0;
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return;
      data.append(buf, static_cast<size_t>(n));
      if (head_end == std::string::npos) {
        head_end = data.find("\r\n\r\n");
        if (head_end != std::string::npos) want = head_end + 4 + content_length(data, head_end);
      }
    }
    if (head_end == std::string::npos) return;
    StandinRequest r = parse(data, head_end);
    Handler h;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(r);
      h = handler_;
    }
    StandinReply reply = h(r);
    if (reply.hang) {
      while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return;
    }
    std::string out = reply.raw;
    if (out.empty()) {
      out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\n";
      for (const auto& [k, v] : reply.headers) out += k + ": " + v + "\r\n";
      out += "Content-Length: " + std::to_string(reply.body.size()) +
             "\r\nConnection: close\r\n\r\n" + reply.body;
    }
    size_t sent = 0;
    while (sent < out.size()) {
      ssize_t n = ::write(c, out.data() + sent, out.size() - sent);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
  }

  static std::string lower(std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }

  static size_t content_length(const std::string& data, size_t head_end) {
    std::string head = lower(data.substr(0, head_end));
    size_t at = head.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    return std::stoul(head.substr(at + 17));
  }

  static StandinRequest parse(const std::string& data, size_t head_end) {
    StandinRequest r;
    size_t line_end = data.find("\r\n");
    std::string first = data.substr(0, line_end);
    size_t sp1 = first.find(' ');
    size_t sp2 = first.find(' ', sp1 + 1);
    r.method = first.substr(0, sp1);
    r.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t at = line_end + 2;
    while (at < head_end) {
      size_t end = data.find("\r\n", at);
      if (end == std::string::npos || end > head_end) end = head_end;
      std::string line = data.substr(at, end - at);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        r.headers[lower(line.substr(0, colon))] = value;
      }
      at = end + 2;
    }
    r.body = data.substr(head_end + 4);
    return r;
  }

  Handler handler_;
  mutable std::mutex mu_;
  std::vector<StandinRequest> requests_;
  std::atomic<bool> stopping_{false};
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// The answer to http_request(); status 0 when nothing came back (the
// message in `body` says why).
struct StandinPostAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// Sends `method` `url` (http://HOST:PORT/path only, no TLS) with `headers`
// (name -> value, Content-Length added) and `body`, and reads the whole
// answer, waiting at most `timeout_ms` for each read. Blocking; for a
// stand-in that plays a gateway posting its notification to the server
// under test, and for tests that play the buyer's browser.
inline StandinPostAnswer http_request(const std::string& method, const std::string& url,
                                      const std::map<std::string, std::string>& headers,
                                      const std::string& body, int timeout_ms = 10000) {
  StandinPostAnswer out;
  if (url.rfind("http://", 0) != 0) {
    out.body = "not an http:// URL: " + url;
    return out;
  }
  std::string rest = url.substr(7);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  std::string host = authority.substr(0, colon);
  std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
    out.body = "cannot resolve " + authority;
    return out;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  bool connected = fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0;
  ::freeaddrinfo(found);
  if (!connected) {
    if (fd >= 0) ::close(fd);
    out.body = "cannot connect to " + authority;
    return out;
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::write(fd, request.data() + sent, request.size() - sent);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string data;
  char buf[8192];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t head_end = data.find("\r\n\r\n");
  size_t sp = data.find(' ');
  if (head_end == std::string::npos || sp == std::string::npos || sp > head_end) {
    out.body = "no HTTP answer from " + url;
    return out;
  }
  out.status = std::atoi(data.c_str() + sp + 1);
  out.body = data.substr(head_end + 4);
  size_t line = data.find("\r\n");
  while (line != std::string::npos && line < head_end) {
    size_t end = data.find("\r\n", line + 2);
    std::string h = data.substr(line + 2, end - line - 2);
    size_t colon = h.find(':');
    if (colon != std::string::npos) {
      std::string name = h.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      size_t v = h.find_first_not_of(' ', colon + 1);
      out.headers[name] = v == std::string::npos ? "" : h.substr(v);
    }
    line = end;
  }
  // A chunked answer: join the chunks (the site may send one).
  if (out.headers["transfer-encoding"] == "chunked") {
    std::string joined, chunked = out.body;
    size_t at = 0;
    while (at < chunked.size()) {
      size_t eol = chunked.find("\r\n", at);
      if (eol == std::string::npos) break;
      size_t len = std::strtoul(chunked.substr(at, eol - at).c_str(), nullptr, 16);
      if (len == 0) break;
      joined += chunked.substr(eol + 2, len);
      at = eol + 2 + len + 2;
    }
    out.body = joined;
  }
  return out;
}

inline StandinPostAnswer http_post(const std::string& url,
                                   const std::map<std::string, std::string>& headers,
                                   const std::string& body, int timeout_ms = 10000) {
  return http_request("POST", url, headers, body, timeout_ms);
}

}  // namespace paidoc::testing
