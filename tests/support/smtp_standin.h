// SmtpStandin: runs tests/support/smtp_standin.py (Debian's
// python3-aiosmtpd) on a free port on 127.0.0.1 for one test, and reads the
// messages it received. The server stops when this object goes — and also
// when the test process dies, since it exits when its standard input
// closes. Header-only, for tests.
//
// REQUIRES: PAIDOC_SMTP_STANDIN (the script's absolute path) is defined for
// the including source (CMakeLists.txt sets it per file).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>

namespace paidoc::testing {

class SmtpStandin {
 public:
  SmtpStandin() {
    // Debian's interpreter first: aiosmtpd is a Debian package.
    python_ = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    std::string probe = python_ + " -c 'import aiosmtpd.controller' >/dev/null 2>&1";
    if (std::system(probe.c_str()) != 0) {
      why_ = "python3-aiosmtpd is not installed (scripts/install-deps.sh --test installs it)";
      return;
    }
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("paidoc-smtp-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) {
      why_ = "pipe() failed";
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::close(in[1]);
      ::close(out[0]);
      std::string d = dir_.string();
      ::execlp(python_.c_str(), python_.c_str(), PAIDOC_SMTP_STANDIN, "--dir", d.c_str(),
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    ::fcntl(stdin_, F_SETFD, FD_CLOEXEC);
    // The first line is the port, once the server listens.
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    try {
      port_ = static_cast<uint16_t>(std::stoi(line));
    } catch (...) {
      why_ = "the SMTP stand-in did not start";
      port_ = 0;
    }
  }

  ~SmtpStandin() {
    if (stdin_ >= 0) ::close(stdin_);
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  SmtpStandin(const SmtpStandin&) = delete;
  SmtpStandin& operator=(const SmtpStandin&) = delete;

  // False (with why()) when the stand-in cannot run here: the test skips.
  bool ok() const { return port_ != 0; }
  const std::string& why() const { return why_; }
  uint16_t port() const { return port_; }

  // Messages received so far.
  size_t count() const {
    size_t n = 0;
    if (dir_.empty()) return 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_))
      if (e.path().extension() == ".eml") ++n;
    return n;
  }

  // The n-th message received (1-based), as received, waiting up to
  // `timeout` for it; nullopt when it has not come.
  std::optional<std::string> message(size_t n,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    char name[16];
    std::snprintf(name, sizeof name, "%04zu.eml", n);
    auto path = dir_ / name;
    auto until = std::chrono::steady_clock::now() + timeout;
    while (!std::filesystem::exists(path)) {
      if (std::chrono::steady_clock::now() > until) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string python_;
  std::string why_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  uint16_t port_ = 0;
};

// The value of header `name` in a raw message ("" when absent); unfolds
// continuation lines.
inline std::string mail_header(const std::string& raw, const std::string& name) {
  std::string key = name + ":";
  size_t head_end = raw.find("\r\n\r\n");
  std::string head = raw.substr(0, head_end);
  size_t at = 0;
  while (at < head.size()) {
    size_t eol = head.find("\r\n", at);
    if (eol == std::string::npos) eol = head.size();
    if (head.compare(at, key.size(), key) == 0) {
      std::string v = head.substr(at + key.size(), eol - at - key.size());
      size_t next = eol + 2;
      while (next < head.size() && (head[next] == ' ' || head[next] == '\t')) {
        size_t e2 = head.find("\r\n", next);
        if (e2 == std::string::npos) e2 = head.size();
        v += head.substr(next, e2 - next);
        next = e2 + 2;
      }
      size_t s = v.find_first_not_of(' ');
      return s == std::string::npos ? std::string() : v.substr(s);
    }
    at = eol + 2;
  }
  return {};
}

// The body of a message sent as Content-Transfer-Encoding: base64, decoded.
inline std::string mail_body(const std::string& raw) {
  size_t start = raw.find("\r\n\r\n");
  if (start == std::string::npos) return {};
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (size_t i = start + 4; i < raw.size(); ++i) {
    size_t v = kAlphabet.find(raw[i]);
    if (v == std::string::npos) continue;  // line ends, padding
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

// The password-reset link in a mail body: the first http(s) URL containing
// "/password/reset?token=", up to the end of its line.
inline std::string reset_link(const std::string& body) {
  size_t at = body.find("/password/reset?token=");
  if (at == std::string::npos) return {};
  size_t start = body.rfind("http", at);
  size_t end = body.find_first_of("\r\n ", at);
  return body.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace paidoc::testing
