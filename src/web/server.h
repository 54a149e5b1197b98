// The HTTP server: Boost.Beast over Asio, HTTP/1.1 with keep-alive, one I/O
// thread per core. Routes are declared in one list (web/routes.cc); handlers
// parse the request, call the library or the accounts service, render a
// template or JSON.
//
// Thread-safety: start() and run() from one thread; stop() from any thread
// or a signal handler context via asio (SIGINT/SIGTERM are handled inside
// run(): in-flight requests finish, then run() returns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "auth/auth.h"
#include "common/status.h"
#include "library/library.h"

namespace paidoc::web {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port (tests); see port()
  int threads = 0;       // 0: one per core
  std::string site_name = "paidoc 文库";
  std::string base_url;            // absolute URL for feeds/sitemap; empty: http://host:port
  bool access_log = true;          // one line per request to stderr
  bool handle_signals = true;      // SIGINT/SIGTERM stop run(); tests turn it off
  size_t body_limit = 1 << 20;     // larger request bodies are answered 413
  int read_timeout_seconds = 30;   // a request (or an idle keep-alive) must arrive within
  int write_timeout_seconds = 30;  // a response must be taken by the client within
  size_t cache_bytes = 64 << 20;   // budget of the rendered-document caches
  bool secure_cookies = false;     // mark cookies Secure (serve behind HTTPS)
  bool trust_proxy = false;        // client address = last X-Forwarded-For entry
};

class Server {
 public:
  // REQUIRES: library and accounts outlive the server.
  Server(library::Library& library, auth::Accounts& accounts, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. kUnavailable naming host:port when binding fails.
  Status start();
  // The bound port (after start()).
  uint16_t port() const;
  // Serves until stop() or a signal; returns after in-flight requests end.
  void run();
  // Asks run() to return; safe from any thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace paidoc::web
