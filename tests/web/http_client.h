// A minimal blocking HTTP/1.1 client for the web tests: one TCP connection,
// keep-alive, raw writes for malformed requests. Plain POSIX sockets, so the
// tests do not pay for compiling Beast twice.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace paidoc::web::testing {

// The metrics token the web tests give their servers (ServerOptions::
// metrics_token): /metrics answers on the site's address only with it.
inline constexpr const char* kTestMetricsToken = "metrics-token-for-the-web-tests-0123";
inline std::string metrics_auth() { return std::string("Authorization: Bearer ") + kTestMetricsToken; }

struct HttpResponse {
  int status = 0;
  std::string status_line;
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string raw_head;                             // everything before the body
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_header(const std::string& name) const { return headers.count(name) > 0; }
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port, int timeout_ms = 5000) : port_(port), timeout_ms_(timeout_ms) {
    connect();
  }
  ~HttpClient() { close(); }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void connect() {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect failed");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    buffer_.clear();
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool connected() const { return fd_ >= 0; }

  // Sends a request and reads its response on this connection.
  HttpResponse request(const std::string& method, const std::string& target,
                       const std::vector<std::string>& extra_headers = {},
                       const std::string& body = "") {
    // Host: 127.0.0.1 unless the caller gives its own Host line.
    bool own_host = false;
    for (const auto& h : extra_headers)
      if (h.size() > 5 && (h[0] == 'H' || h[0] == 'h') && h.compare(1, 4, "ost:") == 0) own_host = true;
    std::string req = method + " " + target + " HTTP/1.1\r\n";
    if (!own_host) req += "Host: 127.0.0.1\r\n";
    for (const auto& h : extra_headers) req += h + "\r\n";
    if (!body.empty() || method == "POST")
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    send_raw(req);
    return read_response(method == "HEAD");
  }
  HttpResponse get(const std::string& target, const std::vector<std::string>& headers = {}) {
    return request("GET", target, headers);
  }

  void send_raw(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<size_t>(n);
    }
  }

  // Reads one response. Throws on timeout or when the peer closes early.
  HttpResponse read_response(bool head_request) {
    HttpResponse r;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) fill();
    r.raw_head = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    size_t line_end = r.raw_head.find("\r\n");
    r.status_line = r.raw_head.substr(0, line_end);
    r.status = std::stoi(r.status_line.substr(9, 3));
    size_t pos = line_end + 2;
    while (pos < r.raw_head.size() - 2) {
      size_t e = r.raw_head.find("\r\n", pos);
      std::string line = r.raw_head.substr(pos, e - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers.emplace(name, value);
      pos = e + 2;
    }
    bool no_body = head_request || r.status == 304 || r.status == 204;
    if (!no_body) {
      size_t len = static_cast<size_t>(
          std::stoull(r.header("content-length").empty() ? "0" : r.header("content-length")));
      while (buffer_.size() < len) fill();
      r.body = buffer_.substr(0, len);
      buffer_.erase(0, len);
    }
    return r;
  }

  // True when the server closed the connection (EOF within the timeout).
  bool wait_closed() {
    try {
      fill();
    } catch (const std::exception& e) {
      return std::string(e.what()) == "closed";
    }
    return false;
  }

 private:
  void fill() {
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, timeout_ms_);
    if (rc <= 0) throw std::runtime_error("timeout");
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) throw std::runtime_error("closed");
    if (n < 0) throw std::runtime_error("closed");
    buffer_.append(buf, static_cast<size_t>(n));
  }

  uint16_t port_;
  int timeout_ms_;
  int fd_ = -1;
  std::string buffer_;
};

// Counts non-overlapping occurrences of `needle`.
inline size_t count_of(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size()))
    ++n;
  return n;
}

}  // namespace paidoc::web::testing
