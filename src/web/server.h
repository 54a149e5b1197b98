// The HTTP server: Boost.Beast over Asio, HTTP/1.1 with keep-alive, one I/O
// thread per core. Routes are declared in one list (web/routes.cc); handlers
// parse the request, call the library, the accounts or the commerce service,
// render a template or JSON.
//
// The I/O threads only read, route and write. A handler that may block runs
// on a bounded worker pool of its kind (store calls, password hashing, export
// rendering, payment gateway calls; the route table says which); what needs
// no blocking work (a cached anonymous document page, static files,
// /healthz) is answered on the I/O thread. When a request's pool is full it
// is answered at once: 503 with Retry-After (a zh-CN page, or the JSON error
// "unavailable" under /api/).
//
// Connections: at most max_connections_per_address at once from one peer
// address. When the process is out of descriptors, accepting pauses for a
// growing delay (10 ms up to 1 s) and says so in the log at most once every
// 10 s with a count; open connections are served meanwhile.
//
// Thread-safety: start() and run() from one thread; stop() from any thread
// or a signal handler context via asio (SIGINT/SIGTERM are handled inside
// run(): in-flight requests finish, also those on the worker pools, their
// responses are written, then run() returns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "auth/auth.h"
#include "auth/password_reset.h"
#include "auth/search_limits.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "common/status.h"
#include "downloads/downloads.h"
#include "library/library.h"
#include "mail/mail.h"
#include "store/store.h"
#include "web/trust_pages.h"

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
  // Connections open at once from one peer address: the socket's address,
  // never X-Forwarded-For (a connection is counted before any request on it
  // is read). One more is answered a fixed 503 and closed at once, before
  // anything is read or allocated for it, so that idle sockets from one
  // address cannot take every descriptor. 0: no cap (behind a reverse proxy
  // every connection comes from the proxy's address; cap per client there).
  int max_connections_per_address = 128;
  // The operations listener: a second address (metrics_port 0: a free port,
  // see metrics_port()) that answers GET /metrics and /healthz and 404 to
  // everything else. Empty metrics_host: none.
  std::string metrics_host;
  uint16_t metrics_port = 0;
  // Empty (the default): /metrics is 404 on the site's address, served only
  // by the operations listener. Set: it also answers there to a request with
  // "Authorization: Bearer <metrics_token>" (compared in constant time).
  std::string metrics_token;
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
  // Trust pages (关于我们, 用户协议, 隐私政策, 购买与退款说明, 联系客服) and
  // the footer's operator details: ICP number, contact email and phone
  // (web/trust_pages.h). Default: the built-in pages, no ICP, no contact.
  // start() fails, naming the path, when the folder or a page's file cannot
  // be used. (trust.site_name is taken from site_name above.)
  TrustOptions trust;

  // The worker pools (web/router.h: Work). *_threads: workers; *_queue:
  // requests that may wait for a worker, beyond which the pool's requests
  // are answered 503 with Retry-After.
  // Store calls, the default for handlers: many threads, so that many store
  // writes are in flight at once (the store batches concurrent commits).
  int store_threads = 32;
  int store_queue = 1024;
  // Password hashing (login, register, password change, account deletion):
  // argon2id takes 64 MiB per hash. 0 threads: one per core.
  int hash_threads = 0;
  int hash_queue = 64;
  // Rendering downloads (docx, pdf, txt): CPU-bound. 0 threads: one per core.
  int export_threads = 0;
  int export_queue = 64;
  // Starting Alipay / WeChat Pay payments: waits on the gateway (up to 10 s).
  int provider_threads = 16;
  int provider_queue = 256;

  // Outgoing mail (mail/mail.h) for password-reset links; nullopt: resets
  // are off and /password/forgot tells the reader to contact the site.
  // REQUIRES: mail::validate(*mail) is OK.
  std::optional<mail::SmtpOptions> mail;
  // Reset links: lifetime and mail limits (auth/password_reset.h).
  auth::ResetOptions password_resets;
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

  // Binds and listens (the site's address, and the operations listener's
  // when set). kUnavailable naming host:port when binding fails.
  Status start();
  // The bound port (after start()).
  uint16_t port() const;
  // The operations listener's bound port (after start()); 0 without one.
  uint16_t metrics_port() const;
  // Serves until stop() or a signal; returns after in-flight requests end.
  void run();
  // Asks run() to return; safe from any thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace paidoc::web
