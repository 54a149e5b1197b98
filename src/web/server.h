// The HTTP server: Boost.Beast over Asio, HTTP/1.1 with keep-alive, one I/O
// thread per core. Routes are declared in one list (web/routes.cc); handlers
// parse the request, call the library, the accounts or the commerce service,
// render a template or JSON.
//
// Thread-safety: start() and run() from one thread; stop() from any thread
// or a signal handler context via asio (SIGINT/SIGTERM are handled inside
// run(): in-flight requests finish, then run() returns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "auth/auth.h"
#include "auth/search_limits.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "common/status.h"
#include "downloads/downloads.h"
#include "library/library.h"
#include "store/store.h"

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
  // Set when sandbox payments are enabled: the same config the "sandbox"
  // provider was made with. Enables /sandbox/pay (the local stand-in for a
  // payment gateway); without it that page answers 404.
  std::optional<commerce::SandboxConfig> sandbox;
  // "Now" for pages that show whether something is current (VIP status, the
  // admin order list's window); null: the system clock. Tests pass the
  // FakeClock their services run on. Must outlive the server.
  const Clock* clock = nullptr;
  // Download links and daily limits (downloads/downloads.h).
  downloads::Options downloads;
  // Searches per client address and per account, a minute and a day
  // (auth/search_limits.h); 0 turns a limit off.
  auth::SearchLimits search_limits;
};

class Server {
 public:
  // REQUIRES: store, library, accounts and commerce outlive the server.
  // The site's own services (search, search limits, downloads) are wired
  // here, each to only the part of `store` it needs (Site's constructor);
  // the server keeps no other use of the store.
  Server(store::Store& store, library::Library& library, auth::Accounts& accounts,
         commerce::Commerce& commerce, ServerOptions options);
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
