// paidoc's command line. Each subcommand parses its flags, opens the store,
// calls a service and prints; no business rules live here.
#include "text/text.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "common/files.h"

#include <cstdlib>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "doc/parser.h"
#include "library/library.h"
#include "sources/sources.h"
#include "store/store.h"
#include "web/server.h"

namespace paidoc::cli {

namespace fs = std::filesystem;

Result<std::unique_ptr<store::Store>> open_store(const Globals& g) {
  if (!g.db.empty()) return store::Store::open(g.db);
  std::error_code ec;
  fs::create_directories(g.data, ec);
  if (ec) return Status::unavailable(fmt::format("cannot create data folder {}: {}", g.data, ec.message()));
  return store::Store::open("sqlite:" + (fs::path(g.data) / "paidoc.db").string());
}

std::string store_url(const Globals& g) {
  if (!g.db.empty()) return g.db;
  return "sqlite:" + (fs::path(g.data) / "paidoc.db").string();
}

int fail(const Status& s) {
  std::cerr << "paidoc: " << s.message() << "\n";
  return 1;
}

namespace {

// ---- check ------------------------------------------------------------------

std::string outline_line(const doc::Block& b) {
  std::string indent(static_cast<size_t>(2 * b.level), ' ');
  return fmt::format("{}{}{}{}", indent, b.label, b.full_text(), b.has_paid() ? "  [付费]" : "");
}

int run_check(const std::vector<std::string>& files) {
  int failed = 0;
  for (const auto& f : files) {
    Result<std::string> bytes = read_file(f);
    if (!bytes.ok()) {
      std::cerr << "error " << bytes.status().message() << "\n";
      ++failed;
      continue;
    }
    doc::ParseResult r = sources::load(*bytes, f).parsed;
    if (!r.ok) {
      std::cerr << "error " << r.error.to_string() << "\n";
      ++failed;
      continue;
    }
    const doc::Document& d = r.document;
    std::cout << f << ": ok (" << d.source_encoding << ")\n";
    std::cout << "  title: " << d.title << "\n";
    for (const auto& b : d.blocks)
      if (b.kind == doc::BlockKind::kHeading) std::cout << outline_line(b) << "\n";
    const doc::Figures& fg = d.figures;
    std::cout << fmt::format(
        "  free: {} chars in {} paragraphs; paid: {} chars in {} paragraphs; {} paid section{}\n",
        fg.free_chars, fg.free_paragraphs, fg.paid_chars, fg.paid_paragraphs, fg.paid_sections,
        fg.paid_sections == 1 ? "" : "s");
  }
  return failed ? 1 : 0;
}

// ---- import -----------------------------------------------------------------

// A one-line progress bar on stderr, drawn only when stderr is a terminal and
// there are enough files for it to help.
class Progress {
 public:
  explicit Progress(size_t total) : total_(total), on_(total >= 20 && isatty(STDERR_FILENO)) {}
  void clear() {
    if (on_) std::cerr << "\r\033[K" << std::flush;
  }
  void draw(size_t done) {
    if (!on_) return;
    const int width = 30;
    int filled = static_cast<int>(width * done / total_);
    std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, '.') << "] "
              << done << "/" << total_ << std::flush;
  }

 private:
  size_t total_;
  bool on_;
};

// --max-source-mb in bytes; kInvalidArgument naming the flag outside
// 1..library::kMaxSourceMb.
Result<int64_t> max_source_bytes(const Globals& g) {
  if (g.max_source_mb < 1 || g.max_source_mb > library::kMaxSourceMb) {
    return Status::invalid(fmt::format("--max-source-mb {}: expected 1..{} (MiB)", g.max_source_mb,
                                       library::kMaxSourceMb));
  }
  return int64_t{g.max_source_mb} << 20;
}

// --max-price in fen; kInvalidArgument naming the flag unless it is a yuan
// amount from 0.01 to kMaxAmount.
Result<Fen> max_price(const Globals& g) {
  Result<Fen> fen = Fen::parse_yuan(g.max_price);
  if (!fen.ok() || fen->value() <= 0 || *fen > kMaxAmount) {
    return Status::invalid(fmt::format("--max-price {}: expected yuan from 0.01 to {}", g.max_price,
                                       kMaxAmount.plain_yuan_string()));
  }
  return *fen;
}

int run_import(const Globals& g, const std::string& price_text, const std::string& category,
               int batch, const std::vector<std::string>& paths) {
  if (batch < 1 || batch > 10000)
    return fail(Status::invalid("--batch: documents per transaction must be 1..10000, not " +
                                std::to_string(batch)));
  library::ImportOptions opts;
  Result<Fen> price = Fen::parse_yuan(price_text);
  if (!price.ok()) return fail(Status::invalid("--price: " + price.status().message()));
  opts.price = *price;
  opts.category = category;
  // Imports are audited as the command line's user ("cli:<os user>").
  {
    const char* user = std::getenv("USER");
    opts.actor.label = std::string("cli:") + (user && *user ? user : "unknown");
  }

  auto st = open_store(g);
  if (!st.ok()) return fail(st.status());
  auto limit = max_source_bytes(g);
  if (!limit.ok()) return fail(limit.status());
  auto most = max_price(g);
  if (!most.ok()) return fail(most.status());
  library::Library lib(**st, Clock::system(), *limit, *most);
  if (Status s = lib.check_price("--price", opts.price); !s.is_ok()) return fail(s);

  std::vector<std::string> missing;
  std::vector<std::string> files = library::Library::collect_sources(paths, &missing);
  int failed = 0;
  for (const auto& m : missing) {
    std::cout << "error " << m << ": no such file or folder\n";
    ++failed;
  }
  Progress progress(files.size());
  library::ImportBatching batching;
  batching.batch = batch;
  batching.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  size_t done = 0;
  // Lines come once their batch is durable, so each printed line stays true
  // whatever happens to the process next.
  lib.import_files(files, opts, batching, [&](const library::ImportLine& line) {
    progress.clear();
    std::cout << line.to_string() << std::endl;
    if (!line.ok) ++failed;
    progress.draw(++done);
  });
  std::cout << std::flush;
  progress.clear();
  return failed ? 1 : 0;
}

// ---- serve ------------------------------------------------------------------

bool split_host_port(const std::string& listen, std::string* host, uint16_t* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[') *host = host->substr(1, host->size() - 2);
  try {
    int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    *port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return !host->empty();
}

bool split_listen(const std::string& listen, web::ServerOptions* o) {
  return split_host_port(listen, &o->host, &o->port);
}

// One descriptor per open connection: the soft limit on open files (often
// 1024) is raised to the hard limit once, at start, and the outcome logged.
void raise_open_file_limit() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    spdlog::warn("open files: cannot read the limit: {}", std::strerror(errno));
    return;
  }
  const rlim_t before = rl.rlim_cur;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      spdlog::warn("open files: limit {}; raising it to the hard limit {} failed: {}",
                   static_cast<uint64_t>(before), static_cast<uint64_t>(rl.rlim_max),
                   std::strerror(errno));
      return;
    }
    spdlog::info("open files: limit raised from {} to {} (the hard limit)",
                 static_cast<uint64_t>(before), static_cast<uint64_t>(rl.rlim_cur));
  } else {
    spdlog::info("open files: limit {} (the hard limit)", static_cast<uint64_t>(before));
  }
  if (rl.rlim_cur < 4096)
    spdlog::warn("open files: {} is low for a server (one per connection); raise the hard limit, "
                 "e.g. LimitNOFILE=65536 in the systemd unit",
                 static_cast<uint64_t>(rl.rlim_cur));
}

// A --metrics-token: 16 to 256 visible ASCII characters (no spaces), so that
// it travels unchanged in an Authorization header.
Status check_metrics_token(const std::string& token) {
  if (token.size() < 16 || token.size() > 256)
    return Status::invalid(fmt::format(
        "--metrics-token: expected 16 to 256 characters, got {}", token.size()));
  for (size_t i = 0; i < token.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(token[i]);
    if (c <= 0x20 || c >= 0x7f)
      return Status::invalid(fmt::format(
          "--metrics-token: character {} is not a visible ASCII character (no spaces)", i + 1));
  }
  return Status();
}

// A free TCP port on host, for when --listen asks for port 0 and the site
// URL must be known before the server binds (payment return/notify URLs).
// 0 when none can be had (the server then picks one itself).
uint16_t pick_free_port(const std::string& host) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return 0;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  uint16_t port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

// Runs Commerce::sweep() at start and then every `period` until stop():
// unpaid orders near expiry are asked about at their gateway (a lost
// notification), expired ones are closed there and marked expired here (so
// listings and exports say so), and pending refunds are followed up.
// Nodes sharing a database take turns: each round runs only under the
// store's "expiry-sweep" lock (store/coordination.h), and a node that finds
// another holding it skips the round and says so.
class ExpirySweeper {
 public:
  ExpirySweeper(commerce::Commerce& commerce, store::CoordinationStore& coordination,
                std::chrono::seconds period)
      : commerce_(commerce), coordination_(coordination), period_(period),
        thread_([this] { loop(); }) {}
  ~ExpirySweeper() { stop(); }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      sweep_once();
      lock.lock();
      cv_.wait_for(lock, period_, [this] { return stopping_; });
    }
  }

  void sweep_once() {
    Result<std::unique_ptr<store::ExclusiveHold>> hold =
        coordination_.try_exclusive("expiry-sweep");
    if (!hold.ok()) {
      spdlog::warn("payment sweep: skipped, the sweep lock cannot be taken: {}",
                   hold.status().message());
      return;
    }
    if (*hold == nullptr) {
      spdlog::info("payment sweep: skipped, another node is sweeping");
      return;
    }
    {
      // Asks the gateways about unpaid orders near expiry, closes expired
      // ones, expires them here and follows up pending refunds; each failed
      // call is logged by the sweep and retried next time.
      Result<commerce::SweepReport> r = commerce_.sweep();
      if (!r.ok()) {
        spdlog::warn("payment sweep: {}", r.status().message());
      } else if (r->queried + r->applied + r->closed + r->expired + r->refunds_checked > 0 ||
                 !r->problems.empty()) {
        spdlog::info(
            "payment sweep: {} trade(s) queried, {} payment(s) found and applied, {} closed at "
            "the gateway, {} order(s) expired, {} refund(s) followed up, {} problem(s)",
            r->queried, r->applied, r->closed, r->expired, r->refunds_checked, r->problems.size());
      }
    }
  }

  commerce::Commerce& commerce_;
  store::CoordinationStore& coordination_;
  std::chrono::seconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the fields above exist
};

int run_serve(const Globals& g, const std::string& listen, bool demo, web::ServerOptions opts,
              const PaymentArgs& pay_args, const std::string& metrics_listen) {
  if (!split_listen(listen, &opts))
    return fail(Status::invalid(fmt::format("--listen {}: expected HOST:PORT", listen)));
  if (!metrics_listen.empty() &&
      !split_host_port(metrics_listen, &opts.metrics_host, &opts.metrics_port))
    return fail(Status::invalid(fmt::format("--metrics-listen {}: expected HOST:PORT", metrics_listen)));
  if (!opts.metrics_token.empty())
    if (Status s = check_metrics_token(opts.metrics_token); !s.is_ok()) return fail(s);
  if (opts.max_connections_per_address < 0 || opts.max_connections_per_address > 100000)
    return fail(Status::invalid(
        fmt::format("--max-connections-per-address {}: expected 0..100000 (0: no cap)",
                    opts.max_connections_per_address)));
  if (opts.threads < 0 || opts.threads > 1024)
    return fail(Status::invalid(
        fmt::format("--threads {}: expected 0..1024 (0: one per core)", opts.threads)));
  if (opts.downloads.link_ttl_seconds < 10 || opts.downloads.link_ttl_seconds > 86400)
    return fail(Status::invalid(fmt::format("--download-link-ttl {}: expected 10..86400 seconds",
                                            opts.downloads.link_ttl_seconds)));
  if (opts.downloads.per_document_daily < 0)
    return fail(Status::invalid(fmt::format("--download-per-document-daily {}: must not be negative",
                                            opts.downloads.per_document_daily)));
  if (opts.downloads.free_daily < 0)
    return fail(Status::invalid(
        fmt::format("--download-free-daily {}: must not be negative", opts.downloads.free_daily)));
  const std::pair<const char*, int> search_limits[] = {
      {"--search-per-minute", opts.search_limits.per_minute},
      {"--search-per-day", opts.search_limits.per_day},
      {"--search-account-per-minute", opts.search_limits.account_per_minute},
      {"--search-account-per-day", opts.search_limits.account_per_day}};
  for (const auto& [flag, value] : search_limits) {
    if (value < 0)
      return fail(Status::invalid(fmt::format("{} {}: must not be negative (0 turns it off)", flag, value)));
  }
  const std::pair<const char*, int> pool_sizes[] = {
      {"--store-threads", opts.store_threads},       {"--store-queue", opts.store_queue},
      {"--hash-threads", opts.hash_threads},         {"--hash-queue", opts.hash_queue},
      {"--export-threads", opts.export_threads},     {"--export-queue", opts.export_queue},
      {"--provider-threads", opts.provider_threads}, {"--provider-queue", opts.provider_queue}};
  for (const auto& [flag, value] : pool_sizes) {
    if (value < 0 || value > 100000)
      return fail(Status::invalid(fmt::format("{} {}: expected 0..100000", flag, value)));
  }
  for (const auto& [flag, value] : {std::pair<const char*, int>{"--store-threads", opts.store_threads},
                                    {"--provider-threads", opts.provider_threads}}) {
    if (value == 0) return fail(Status::invalid(fmt::format("{} 0: needs at least one thread", flag)));
  }
  std::string site_url = opts.base_url;
  if (site_url.empty()) {
    if (opts.port == 0) opts.port = pick_free_port(opts.host);
    bool v6 = opts.host.find(':') != std::string::npos;
    site_url = fmt::format("http://{}{}{}:{}", v6 ? "[" : "", opts.host, v6 ? "]" : "", opts.port);
  }
  while (site_url.size() > 1 && site_url.back() == '/') site_url.pop_back();

  // Payment configuration first: a bad key file stops the start before the
  // database is touched.
  Result<Payments> payments = make_payments(pay_args, demo, site_url, Clock::system());
  if (!payments.ok()) return fail(payments.status());
  std::vector<std::string> provider_names;
  for (const auto& [name, provider] : payments->providers) provider_names.push_back(name);
  const std::string notify_warning = notify_url_warning(opts.base_url, site_url, provider_names);
  if (!notify_warning.empty()) std::cerr << "paidoc: warning: " << notify_warning << "\n";

  // Search needs the traditional->simplified table; a missing OpenCC data
  // package is named here rather than failing inside the first query.
  if (Status s = text::init(); !s.is_ok()) return fail(s);
  // A damaged database is refused before anything reads or migrates it:
  // serving it would answer 500 on whichever page meets the damage.
  if (Status s = check_before_serving(g); !s.is_ok()) return fail(s);
  auto st = open_store(g);
  if (!st.ok()) return fail(with_damage_advice(g, st.status()));
  auto limit = max_source_bytes(g);
  if (!limit.ok()) return fail(limit.status());
  auto most = max_price(g);
  if (!most.ok()) return fail(most.status());
  library::Library lib(**st, Clock::system(), *limit, *most);
  if (demo) {
    Result<int> n = lib.seed_demo();
    if (!n.ok()) return fail(n.status());
    if (*n > 0) spdlog::info("demo: imported {} documents", *n);
  }
  auth::Accounts accounts(**st, Clock::system());
  std::string enabled = "wallet";
  for (const auto& e : payments->enabled) enabled += ", " + e;
  opts.sandbox = payments->sandbox;
  commerce::Commerce commerce(**st, **st, Clock::system(), std::move(payments->options),
                              std::move(payments->providers));
  raise_open_file_limit();
  web::Server server(**st, lib, accounts, commerce, opts);
  Status s = server.start();
  if (!s.is_ok()) return fail(s);
  if (opts.max_connections_per_address > 0)
    spdlog::info("connections: at most {} at once from one address", opts.max_connections_per_address);
  else
    spdlog::info("connections: no cap per address{}",
                 opts.trust_proxy ? " (behind --trust-proxy; the proxy caps connections per client)" : "");
  if (!opts.metrics_host.empty()) {
    bool v6 = opts.metrics_host.find(':') != std::string::npos;
    spdlog::info("metrics on http://{}{}{}:{}/metrics", v6 ? "[" : "", opts.metrics_host,
                 v6 ? "]" : "", server.metrics_port());
  }
  spdlog::info("payments: {}", enabled);
  if (!notify_warning.empty()) spdlog::warn("payments: {}", notify_warning);
  if (payments->sandbox)
    spdlog::warn("payments: the sandbox is on; its payments are not real money (never on a live site)");
  spdlog::info("paidoc serving on http://{}:{}/ (data: {})", opts.host, server.port(),
               g.db.empty() ? g.data : g.db);
  {
    ExpirySweeper sweeper(commerce, **st, std::chrono::seconds(60));
    server.run();
  }
  spdlog::info("paidoc stopped");
  return 0;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"paidoc: publish and sell documents with free and paid parts"};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_config("--config", "", "TOML config file (see paidoc.example.toml); its keys are these flags");
  Globals g;
  app.add_option("--data", g.data, "data folder (SQLite database inside)")->capture_default_str();
  app.add_option("--db", g.db, "database URL: sqlite:PATH (overrides --data)");
  app.add_option("--max-source-mb", g.max_source_mb,
                 "largest source accepted by import, upload and the editor, in MiB (the file "
                 "and its text; 1..64)")
      ->capture_default_str();
  app.add_option("--max-price", g.max_price,
                 "highest document price accepted by import, upload, the editor and the API, in "
                 "yuan (0.01..10000000)")
      ->capture_default_str();

  // serve
  auto* serve = app.add_subcommand("serve", "serve the site and the JSON API");
  std::string listen = "127.0.0.1:8080";
  bool demo = false;
  web::ServerOptions sopts;
  serve->add_option("--listen", listen, "HOST:PORT to listen on")->capture_default_str();
  serve->add_flag("--demo", demo, "fill an empty data folder with demo documents; turns the payment sandbox on");
  serve->add_option("--threads", sopts.threads, "I/O threads (0: one per core)")->capture_default_str();
  serve->add_option("--site-name", sopts.site_name, "site name shown in pages and feeds");
  serve->add_option("--base-url", sopts.base_url, "absolute site URL for feeds and sitemap");
  serve->add_option("--access-log", sopts.access_log, "one log line per request (true/false)")
      ->capture_default_str();
  serve->add_flag("--secure-cookies", sopts.secure_cookies,
                  "mark cookies Secure (when the site is served over HTTPS)");
  serve->add_flag("--trust-proxy", sopts.trust_proxy,
                  "take the client address from the last X-Forwarded-For entry (behind a reverse proxy)");
  auto* max_conn_opt =
      serve->add_option("--max-connections-per-address", sopts.max_connections_per_address,
                        "connections open at once from one address (the socket's); more are "
                        "answered 503 and closed. 0: no cap. Default with --trust-proxy: no cap "
                        "(every connection is the proxy's; cap per client at the proxy)")
          ->capture_default_str();
  std::string metrics_listen;
  serve->add_option("--metrics-listen", metrics_listen,
                    "HOST:PORT of a second listener serving /metrics and /healthz only (keep it "
                    "private); without it or --metrics-token, /metrics is not served");
  serve->add_option("--metrics-token", sopts.metrics_token,
                    "serve /metrics on --listen too, to 'Authorization: Bearer TOKEN' (16..256 "
                    "visible ASCII characters; better in the --config file than on the command line)");
  {
    const char* g = "Trust pages and footer";
    serve->add_option("--pages-dir", sopts.trust.pages_dir,
                      "folder of the trust pages: about, terms, privacy, refund-policy, contact "
                      "(.md or .txt); a page without a file there is the built-in text")
        ->group(g);
    serve->add_option("--company", sopts.trust.company,
                      "the operator's (company) name, filled into the trust pages")->group(g);
    serve->add_option("--icp", sopts.trust.icp,
                      "ICP licence number shown in the footer, e.g. 京ICP备12345678号")->group(g);
    serve->add_option("--contact-email", sopts.trust.contact_email,
                      "customer-service email, on 联系客服 and in the footer")->group(g);
    serve->add_option("--contact-phone", sopts.trust.contact_phone,
                      "customer-service phone, on 联系客服 and in the footer")->group(g);
  }
  serve->add_option("--download-link-ttl", sopts.downloads.link_ttl_seconds,
                    "seconds a signed download link stays valid")->capture_default_str();
  serve->add_option("--download-per-document-daily", sopts.downloads.per_document_daily,
                    "downloads a day of one bought document (0: unlimited)")->capture_default_str();
  serve->add_option("--download-free-daily", sopts.downloads.free_daily,
                    "downloads a day of free documents, per reader (0: unlimited)")->capture_default_str();
  serve->add_option("--search-per-minute", sopts.search_limits.per_minute,
                    "searches a minute from one client address (0: unlimited)")->capture_default_str();
  serve->add_option("--search-per-day", sopts.search_limits.per_day,
                    "searches a day from one client address (0: unlimited)")->capture_default_str();
  serve->add_option("--search-account-per-minute", sopts.search_limits.account_per_minute,
                    "searches a minute by one signed-in account (0: unlimited)")->capture_default_str();
  serve->add_option("--search-account-per-day", sopts.search_limits.account_per_day,
                    "searches a day by one signed-in account (0: unlimited)")->capture_default_str();
  {
    const char* g = "Worker pools";
    serve->add_option("--store-threads", sopts.store_threads,
                      "threads for store calls (most requests)")->capture_default_str()->group(g);
    serve->add_option("--store-queue", sopts.store_queue,
                      "requests that may wait for a store thread; more are answered 503")
        ->capture_default_str()->group(g);
    serve->add_option("--hash-threads", sopts.hash_threads,
                      "threads for password hashing: login, register, password change (0: one per core)")
        ->capture_default_str()->group(g);
    serve->add_option("--hash-queue", sopts.hash_queue,
                      "requests that may wait for a hashing thread; more are answered 503")
        ->capture_default_str()->group(g);
    serve->add_option("--export-threads", sopts.export_threads,
                      "threads rendering downloads: docx, pdf, txt (0: one per core)")
        ->capture_default_str()->group(g);
    serve->add_option("--export-queue", sopts.export_queue,
                      "downloads that may wait for a rendering thread; more are answered 503")
        ->capture_default_str()->group(g);
    serve->add_option("--provider-threads", sopts.provider_threads,
                      "threads starting Alipay / WeChat Pay payments (they wait on the gateway)")
        ->capture_default_str()->group(g);
    serve->add_option("--provider-queue", sopts.provider_queue,
                      "payment starts that may wait for a provider thread; more are answered 503")
        ->capture_default_str()->group(g);
  }
  PaymentArgs pay_args;
  add_payment_options(serve, pay_args);
  MailArgs mail_args;
  add_mail_options(serve, mail_args);

  // check
  auto* check = app.add_subcommand("check", "validate source files; print outline and figures");
  std::vector<std::string> check_files;
  check->add_option("FILE", check_files, "source files")->required();

  // import
  auto* import = app.add_subcommand("import", "import .txt, .md and .docx sources (files or folders)");
  std::string price = "5.00";
  std::string category;
  std::vector<std::string> import_paths;
  import->add_option("--price", price, "price in yuan for documents with paid text")->capture_default_str();
  import->add_option("--category", category, "category name");
  int import_batch = 256;
  import->add_option("--batch", import_batch, "documents stored per transaction (one durable commit each)")
      ->capture_default_str();
  import->add_option("PATH", import_paths, "files or folders (recursive: *.txt, *.md, *.docx)")->required();

  // user
  UserArgs user_args;
  auto* user = add_user_commands(app, user_args);

  // wallet, ledger, orders
  CommerceArgs commerce_args;
  add_commerce_commands(app, commerce_args);

  // export, trace
  DownloadArgs download_args;
  add_download_commands(app, download_args);

  // backup, restore
  BackupArgs backup_args;
  add_backup_commands(app, backup_args);
  // migrate
  MigrateArgs migrate_args;
  add_migrate_command(app, migrate_args);
  // check-db
  CheckDbArgs check_db_args;
  add_check_db_command(app, check_db_args);

  // A misspelt command: CLI11 would only say "A subcommand is required".
  {
    std::vector<std::string> names;
    for (const CLI::App* sc : app.get_subcommands([](const CLI::App*) { return true; }))
      names.push_back(sc->get_name());
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (a == "--data" || a == "--db" || a == "--config" || a == "--max-source-mb" ||
          a == "--max-price") {
        ++i;  // its value
        continue;
      }
      if (a.starts_with("-")) continue;
      if (std::find(names.begin(), names.end(), a) == names.end()) {
        std::string list;
        for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
        std::cerr << "error: unknown command '" << a << "'. Commands: " << list
                  << ". Run 'paidoc --help', or 'paidoc COMMAND --help' for a command's flags.\n";
        return 2;
      }
      break;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*serve) {
    if (Status s = apply_mail_options(mail_args, &sopts); !s.is_ok()) return fail(s);
    // Behind a proxy every connection comes from the proxy's address, so a
    // cap per address would cap the whole site: off unless asked for.
    if (sopts.trust_proxy && max_conn_opt->count() == 0) sopts.max_connections_per_address = 0;
    return run_serve(g, listen, demo, sopts, pay_args, metrics_listen);
  }
  if (*check) return run_check(check_files);
  if (*import) return run_import(g, price, category, import_batch, import_paths);
  if (*user) return run_user(g, user_args);
  if (commerce_args.chosen()) return run_commerce(g, commerce_args);
  if (download_args.chosen()) return run_downloads(g, download_args);
  if (backup_args.chosen()) return run_backup(g, backup_args);
  if (migrate_args.chosen()) return run_migrate(migrate_args);
  if (check_db_args.chosen()) return run_check_db(g, check_db_args);
  return 1;
}

}  // namespace paidoc::cli
