// The HTTP/1.1 server on Boost.Beast. This is the only file that includes
// Beast: handlers see web::Request / web::Response (http.h).
//
// Shape: one io_context run by N threads; the acceptor, the signal set and
// the log flush timer share one strand; each connection (Session) has its
// own strand. A session reads a request with a parser that keeps only the
// headers handlers use (no per-header allocation; bodies up to
// ServerOptions::body_limit), then dispatches it:
//   - Site::try_inline on the I/O thread answers what needs no blocking work
//     (cached anonymous pages, static files, 404s) with no hop;
//   - everything else is posted to the worker pool its route names
//     (Route::work), which runs Site::handle and posts the response back to
//     the session's strand; a pool that is full refuses at once and the
//     session answers Site::busy (503 + Retry-After).
// The request's views point into the session's buffers, which stay put while
// the handler runs (the session reads nothing until it has answered).
// A response is written as the status line and headers formatted here plus
// the body, in one gathered write: a cached page is written straight from
// its shared bytes. The timing in metrics and the access log runs from the
// parsed request to the written-out response's start, queueing included.
//
// Accepting: the site's listener and, when configured, the operations
// listener (ServerOptions::metrics_host: its requests carry
// Request::ops_listener, and Site answers only the operations routes there).
// A connection from an address that has max_connections_per_address open
// already gets a fixed 503 written without waiting and is closed at once
// (AddressCounts). Out of descriptors (EMFILE, ENFILE) a listener stops
// accepting for a delay that doubles from 10 ms to 1 s while the error
// lasts; the log says so at most every 10 s with a count (ThrottledWarning).
//
// Stopping: stop() (or SIGINT/SIGTERM) closes the acceptors, closes idle
// connections, and lets requests being handled finish, also on the pools
// (each holds the io_context's work count until its response is posted);
// their responses go out with "Connection: close". run() returns when no
// connection is left, after shutting the pools down.
#include "web/server.h"

#include <fmt/format.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/work_pool.h"
#include "web/request_parser.h"
#include "web/site.h"

namespace paidoc::web {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// --- access log --------------------------------------------------------------

// Collects formatted lines and writes them to stderr in large chunks: when
// 32 KiB have gathered, and on flush() (a timer calls it twice a second).
class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (buffer_.size() >= 32 * 1024) flush_();
  }
  void flush_() override {
    if (buffer_.empty()) return;
    std::fwrite(buffer_.data(), 1, buffer_.size(), stderr);
    std::fflush(stderr);
    buffer_.clear();
  }

 private:
  std::string buffer_;
};

// --- small formatting helpers --------------------------------------------------

// The Date header value, formatted once per second per thread.
std::string_view http_date() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t last = -1;
  thread_local char buf[40];
  thread_local size_t len = 0;
  std::time_t now = std::time(nullptr);
  if (now != last) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    auto r = fmt::format_to_n(buf, sizeof buf, "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
                              kDays[tm.tm_wday], tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900,
                              tm.tm_hour, tm.tm_min, tm.tm_sec);
    len = r.size;
    last = now;
  }
  return {buf, len};
}

void append_int(std::string& out, uint64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

}  // namespace

// --- connections -----------------------------------------------------------------

// Named (not anonymous) because Core below holds them: a namespace-level
// struct with members of anonymous-namespace types is a different type in
// every unit that includes it, which GCC warns about in unity builds.
namespace server_detail {

// Connections open now per peer address, for the per-address cap. Shared by
// the accepting strand (try_add) and the sessions' destructors (remove).
class AddressCounts {
 public:
  // Counts one more connection from `address`; false, counting nothing,
  // when `cap` are open from it already.
  bool try_add(const std::string& address, int cap) {
    std::lock_guard lock(mu_);
    auto [it, fresh] = counts_.try_emplace(address, 0);
    if (it->second >= cap) return false;
    ++it->second;
    return true;
  }
  void remove(const std::string& address) {
    std::lock_guard lock(mu_);
    auto it = counts_.find(address);
    if (it != counts_.end() && --it->second <= 0) counts_.erase(it);
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, int> counts_;
};

// A warning that can come many times a second (a flood, descriptors running
// out): the first is logged, then at most one line per interval, which says
// how many times it came since the last line. Used on one strand only.
class ThrottledWarning {
 public:
  explicit ThrottledWarning(std::chrono::seconds interval) : interval_(interval) {}
  // Notes one occurrence; true when a line is due, with *count the
  // occurrences it stands for (this one included).
  bool note(uint64_t* count) {
    ++pending_;
    auto now = std::chrono::steady_clock::now();
    if (logged_ && now - last_ < interval_) return false;
    logged_ = true;
    last_ = now;
    *count = pending_;
    pending_ = 0;
    return true;
  }

 private:
  std::chrono::seconds interval_;
  std::chrono::steady_clock::time_point last_{};
  bool logged_ = false;
  uint64_t pending_ = 0;
};

// What a connection over the per-address cap gets, written once without
// waiting (a fresh socket's send buffer is empty) before it is closed.
constexpr std::string_view kTooManyConnections =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Server: paidoc\r\n"
    "Connection: close\r\n"
    "Retry-After: 2\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Length: 55\r\n"
    "\r\n"
    "来自同一地址的连接过多，请稍后再试。\n";
static_assert(kTooManyConnections.size() -
                  kTooManyConnections.find("\r\n\r\n") - 4 == 55,
              "Content-Length of kTooManyConnections");

// The peer's IP address as text (an IPv4-mapped IPv6 address as IPv4);
// empty when the peer is already gone.
std::string peer_address(const tcp::socket& socket) {
  beast::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (ec) return {};
  net::ip::address a = peer.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    a = net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
  return a.to_string();
}

}  // namespace server_detail

using server_detail::AddressCounts;
using server_detail::ThrottledWarning;
using server_detail::kTooManyConnections;
using server_detail::peer_address;

// --- server state --------------------------------------------------------------

class Session;

// The server's state; Server::Impl is this (a namespace-level name so that
// Session can refer to it).
struct Core {
  Core(store::Store& store, library::Library& lib, auth::Accounts& accounts,
       commerce::Commerce& commerce, ServerOptions opts)
      : options(std::move(opts)),
        site(store, lib, accounts, commerce,
             SiteConfig{options.site_name, options.base_url, options.cache_bytes,
                        !options.base_url.empty(), options.secure_cookies, options.trust_proxy,
                        options.sandbox, options.clock, options.downloads, options.search_limits,
                        options.trust, options.mail, options.password_resets,
                        options.metrics_token}),
        ioc(threads()),
        control(net::make_strand(ioc)),
        site_listener(control, false),
        ops_listener(control, true),
        signals(control),
        flush_timer(control) {
    if (options.access_log) {
      auto sink = std::make_shared<BufferedStderrSink>();
      access_log = std::make_shared<spdlog::logger>("access", std::move(sink));
      access_log->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %v");
      access_log->set_level(spdlog::level::info);
      access_log->flush_on(spdlog::level::off);
    }
  }

  int threads() const {
    if (options.threads > 0) return options.threads;
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
  }

  // Threads of a pool: `configured`, or one per core when 0.
  static int pool_threads(int configured) {
    if (configured > 0) return configured;
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
  }
  void start_pools();
  // The pool for `work`; REQUIRES: work != kInline, start_pools() done.
  WorkPool& pool(Work work) { return *pools[static_cast<size_t>(work)]; }

  // A listening socket and its pause after accept errors.
  struct Listener {
    Listener(net::strand<net::io_context::executor_type>& strand, bool ops)
        : acceptor(strand), retry(strand), ops(ops) {}
    tcp::acceptor acceptor;
    net::steady_timer retry;
    bool ops;                                  // the operations listener
    std::chrono::milliseconds backoff{0};      // the pause after the next error
  };
  static constexpr std::chrono::milliseconds kMinBackoff{10};
  static constexpr std::chrono::milliseconds kMaxBackoff{1000};

  void do_accept(Listener& l);
  void on_accept(Listener& l, beast::error_code ec, tcp::socket socket);
  void accept_failed(Listener& l, beast::error_code ec);
  void refuse_over_cap(tcp::socket& socket, const std::string& address);
  void do_stop();
  void schedule_flush();

  ServerOptions options;
  Site site;
  std::shared_ptr<spdlog::logger> access_log;
  std::atomic<bool> stopping{false};
  bool started = false;
  uint16_t bound_port = 0;

  // Live sessions, so that stop() can close idle ones. Declared before the
  // io_context: sessions still queued in it unregister while it is destroyed.
  std::mutex sessions_mu;
  std::unordered_set<Session*> sessions;
  // Open connections per peer address (only with a cap). Before the
  // io_context for the same reason.
  AddressCounts connections;

  net::io_context ioc;
  net::strand<net::io_context::executor_type> control;
  Listener site_listener;
  Listener ops_listener;  // open only with ServerOptions::metrics_host
  uint16_t ops_port = 0;
  // On the control strand: accept errors and refused connections.
  ThrottledWarning accept_warning{std::chrono::seconds(10)};
  ThrottledWarning cap_warning{std::chrono::seconds(10)};
  net::signal_set signals;
  net::steady_timer flush_timer;

  // The worker pools by Work (none for kInline), made by start(). Last: they
  // are shut down (their threads joined) before the io_context they post to
  // and the site their tasks use are destroyed.
  std::array<std::unique_ptr<WorkPool>, kWorkKinds> pools;
};

// --- one connection --------------------------------------------------------------

class Session : public std::enable_shared_from_this<Session> {
 public:
  static constexpr std::chrono::seconds kStopGrace{5};

  // `counted`: the connection is counted in Core::connections under
  // `address`, and uncounted when the session ends.
  Session(tcp::socket&& socket, Core& server, std::string address, bool ops, bool counted)
      : stream_(std::move(socket)),
        server_(server),
        remote_address_(std::move(address)),
        ops_(ops),
        counted_(counted) {}

  ~Session() {
    if (counted_) server_.connections.remove(remote_address_);
    std::lock_guard lock(server_.sessions_mu);
    server_.sessions.erase(this);
  }

  void start() {
    {
      std::lock_guard lock(server_.sessions_mu);
      server_.sessions.insert(this);
    }
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

  // From any thread: close the connection if it is waiting for a request;
  // otherwise finish the current request and close after it. A request that
  // has started to arrive gets kStopGrace to arrive whole.
  void shutdown() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->stopping_ = true;
      if (!self->reading_) return;
      if (self->buffer_.size() == 0 && !(self->parser_ && self->parser_->got_some())) {
        self->stream_.cancel();
        return;
      }
      self->stop_timer_.emplace(self->stream_.get_executor(), kStopGrace);
      self->stop_timer_->async_wait([weak = self->weak_from_this()](beast::error_code ec) {
        auto s = weak.lock();
        if (!ec && s && s->reading_) s->stream_.cancel();
      });
    });
  }

 private:
  void do_read() {
    if (stopping_ || server_.stopping.load(std::memory_order_relaxed)) return do_close();
    data_.clear();
    parser_.emplace(data_, server_.site, server_.options.body_limit, buffer_);
    parser_->header_limit(kHeaderLimit);
    reading_ = true;
    stream_.expires_after(std::chrono::seconds(server_.options.read_timeout_seconds));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    reading_ = false;
    if (ec) return on_read_error(ec);
    auto t0 = std::chrono::steady_clock::now();

    Request req = request_of(data_, remote_address_);
    req.ops_listener = ops_;

    int route = -1;
    Work work = Work::kStore;
    if (std::optional<Response> res = server_.site.try_inline(req, &route, &work))
      return respond(std::move(*res), route, t0);
    // The task holds the session (and so the buffers req points into) and
    // counts as work for the io_context, so that run() does not return
    // before the response has been posted back.
    auto tracked =
        net::prefer(server_.ioc.get_executor(), net::execution::outstanding_work.tracked);
    bool accepted = server_.pool(work).try_submit(
        [self = shared_from_this(), req, route, t0, tracked]() {
          int handled_route = route;
          Response res = self->server_.site.handle(req, &handled_route);
          net::post(self->stream_.get_executor(),
                    [self, res = std::move(res), handled_route, t0]() mutable {
                      self->respond(std::move(res), handled_route, t0);
                    });
        });
    if (!accepted) respond(server_.site.busy(req), route, t0);
  }

  // Sends the answer to the request just read; on the session's strand.
  void respond(Response&& res, int route, std::chrono::steady_clock::time_point t0) {
    bool keep_alive =
        parser_->keep_alive() && !stopping_ && !server_.stopping.load(std::memory_order_relaxed);
    send(std::move(res), route, data_.method, keep_alive, data_.version == 10, t0);
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit) return too_large();
    if (ec == http::error::header_limit)
      return fail_request(431, "header_too_large", "request header too large", "请求头过大");
    if (data_.refused != nullptr) {
      std::string_view why = data_.refused;
      if (why == "missing_host")
        return fail_request(400, "bad_request", "HTTP/1.1 request without a Host header",
                            "请求格式有误：HTTP/1.1 请求缺少 Host 请求头");
      if (why == "duplicate_host")
        return fail_request(400, "bad_request", "more than one Host header",
                            "请求格式有误：Host 请求头出现了多次");
      return fail_request(400, "bad_request", "folded header line (obs-fold)",
                          "请求格式有误：请求头不能折行（以空格或制表符开头的续行）");
    }
    bool http_error = ec.category() == http::make_error_code(http::error::bad_target).category();
    if (http_error && ec != http::error::end_of_stream && ec != http::error::partial_message)
      return fail_request(400, "bad_request", "malformed HTTP request", "请求格式有误");
    // Closed by the peer, timed out, or cancelled by stop().
    do_close();
  }

  // A body over the route's limit: the 413 page (Site::body_too_large), then
  // a lingering close (drain_), so that a browser still sending the body
  // reads the answer instead of a connection reset.
  void too_large() {
    Request req;
    req.method = data_.method;
    req.target = data_.target;
    size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string_view::npos) req.query = req.target.substr(q + 1);
    req.cookie = data_.cookie;
    req.host = data_.host;
    req.remote_address = remote_address_;
    req.ops_listener = ops_;
    Response res = server_.site.body_too_large(req, parser_->limit());
    drain_ = true;
    send(std::move(res), server_.site.router().bad_request_index(), data_.method, false, false,
         std::chrono::steady_clock::now());
  }

  // After the 413: read and drop what the client still sends, for up to
  // kDrainTime or kDrainBytes, then close.
  static constexpr std::chrono::seconds kDrainTime{5};
  static constexpr size_t kDrainBytes = 256u << 20;
  void drain() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(kDrainTime);
    drain_buffer_.resize(64 * 1024);
    read_drain();
  }
  void read_drain() {
    stream_.async_read_some(
        net::buffer(drain_buffer_),
        [self = shared_from_this()](beast::error_code ec, size_t n) {
          self->drained_ += n;
          if (ec || self->drained_ > kDrainBytes) return self->do_close();
          self->read_drain();
        });
  }

  // A request the server could not read: answer and close.
  void fail_request(int status, std::string_view code, std::string_view message,
                    std::string_view message_zh) {
    Response res;
    res.status = status;
    if (std::string_view(data_.target).substr(0, 5) == "/api/") {
      res.body = fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})", code, message);
      res.headers.append(headers::kJson);
    } else {
      res.body = fmt::format("{}\n", message_zh);
      res.headers.append(
          "Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n");
    }
    send(std::move(res), server_.site.router().bad_request_index(), data_.method, false, false,
         std::chrono::steady_clock::now());
  }

  void send(Response&& res, int route, Method method, bool keep_alive, bool http10,
            std::chrono::steady_clock::time_point t0) {
    res_ = std::move(res);
    std::string_view body = res_.body_view();
    bool no_body_status = res_.status == 304 || res_.status == 204 || res_.status < 200;
    bool send_body = !no_body_status && method != Method::kHead;

    head_.clear();
    head_.append("HTTP/1.1 ");
    append_int(head_, static_cast<uint64_t>(res_.status));
    head_.push_back(' ');
    beast::string_view reason = http::obsolete_reason(static_cast<http::status>(res_.status));
    head_.append(reason.data(), reason.size());
    head_.append("\r\nDate: ").append(http_date()).append("\r\nServer: paidoc\r\n");
    if (!no_body_status) {
      head_.append("Content-Length: ");
      append_int(head_, body.size());
      head_.append("\r\n");
    }
    if (!keep_alive) {
      head_.append("Connection: close\r\n");
    } else if (http10) {
      head_.append("Connection: keep-alive\r\n");
    }
    std::string_view block = res_.header_block();
    head_.append(block);
    // Every answer, whatever made it (feeds, robots.txt, redirects, errors):
    // the browser takes Content-Type as sent and never sniffs.
    if (block.find("X-Content-Type-Options:") == std::string_view::npos)
      head_.append("X-Content-Type-Options: nosniff\r\n");
    head_.append("\r\n");

    size_t bytes = head_.size() + (send_body ? body.size() : 0);
    int64_t micros =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    server_.site.metrics().observe(route, method, res_.status, micros);
    if (server_.access_log)
      server_.access_log->info("{} {} {} {} {}us", method_name(method), data_.target, res_.status,
                               bytes, micros);

    std::array<net::const_buffer, 2> buffers = {
        net::buffer(head_), net::buffer(body.data(), send_body ? body.size() : 0)};
    stream_.expires_after(std::chrono::seconds(server_.options.write_timeout_seconds));
    net::async_write(
        stream_, buffers,
        beast::bind_front_handler(&Session::on_write, shared_from_this(), !keep_alive));
  }

  void on_write(bool close, beast::error_code ec, size_t) {
    res_ = Response();
    if (!ec && drain_) return drain();
    if (ec || close) return do_close();
    do_read();
  }

  void do_close() {
    if (stop_timer_) stop_timer_->cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  Core& server_;
  beast::flat_buffer buffer_;
  RequestData data_;
  std::string remote_address_;  // the peer's IP address, as text
  bool ops_ = false;            // on the operations listener
  bool counted_ = false;        // counted in server_.connections
  std::optional<RequestParser> parser_;
  Response res_;      // kept alive until written
  std::string head_;  // status line and headers of res_
  bool drain_ = false;  // after this response, drain the request body (too_large)
  std::vector<char> drain_buffer_;
  size_t drained_ = 0;
  bool reading_ = false;
  bool stopping_ = false;
  std::optional<net::steady_timer> stop_timer_;
};

// --- acceptor, signals, stop -----------------------------------------------------

void Core::start_pools() {
  struct Size {
    Work work;
    int threads;
    int queue;
    int nice;
  };
  // Hashing and rendering keep a CPU busy for a while per request: their
  // workers run at a lower priority (nice +10), so that the I/O threads and
  // the store workers, whose requests are short, get a CPU when they need
  // one. Idle CPU time still goes to them.
  const Size sizes[] = {
      {Work::kStore, options.store_threads, options.store_queue, 0},
      {Work::kHash, pool_threads(options.hash_threads), options.hash_queue, 10},
      {Work::kExport, pool_threads(options.export_threads), options.export_queue, 10},
      {Work::kProvider, options.provider_threads, options.provider_queue, 0},
  };
  std::vector<const WorkPool*> all;
  for (const Size& s : sizes) {
    auto& p = pools[static_cast<size_t>(s.work)];
    p = std::make_unique<WorkPool>(work_name(s.work), std::max(1, s.threads),
                                   static_cast<size_t>(std::max(0, s.queue)), s.nice);
    all.push_back(p.get());
  }
  site.metrics().set_pools(std::move(all));
}

void Core::do_accept(Listener& l) {
  l.acceptor.async_accept(net::make_strand(ioc),
                          [this, &l](beast::error_code ec, tcp::socket socket) {
                            on_accept(l, ec, std::move(socket));
                          });
}

void Core::on_accept(Listener& l, beast::error_code ec, tcp::socket socket) {
  if (stopping.load() || !l.acceptor.is_open()) {
    beast::error_code ignored;
    socket.close(ignored);
    return;
  }
  if (ec) return accept_failed(l, ec);
  l.backoff = std::chrono::milliseconds(0);
  std::string address = peer_address(socket);
  bool counted = false;
  if (address.empty()) {
    // Gone before we looked: nothing to serve.
    beast::error_code ignored;
    socket.close(ignored);
    return do_accept(l);
  }
  if (options.max_connections_per_address > 0) {
    if (!connections.try_add(address, options.max_connections_per_address)) {
      refuse_over_cap(socket, address);
      return do_accept(l);
    }
    counted = true;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::make_shared<Session>(std::move(socket), *this, std::move(address), l.ops, counted)->start();
  do_accept(l);
}

// Out of descriptors and the like: the listener waits, longer each time the
// error comes again, rather than retry at once (the pending connection stays
// in the kernel's queue, so it would fail again at once). Connections
// already open are served meanwhile: only this listener waits.
void Core::accept_failed(Listener& l, beast::error_code ec) {
  if (ec == net::error::operation_aborted) return;  // closed by stop()
  site.metrics().accept_error();
  l.backoff = l.backoff.count() == 0 ? kMinBackoff : std::min(l.backoff * 2, kMaxBackoff);
  uint64_t count = 0;
  if (accept_warning.note(&count))
    spdlog::warn("accept: {}{}; accepting again in {} ms (at most {} ms apart while it lasts), "
                 "open connections are served",
                 ec.message(),
                 count > 1 ? fmt::format(" ({} times since the last such line)", count) : "",
                 l.backoff.count(), kMaxBackoff.count());
  l.retry.expires_after(l.backoff);
  l.retry.async_wait([this, &l](beast::error_code e) {
    if (!e && !stopping.load()) do_accept(l);
  });
}

// A connection over the per-address cap: the fixed 503 if the socket takes
// it without waiting, then closed; nothing is read or kept.
void Core::refuse_over_cap(tcp::socket& socket, const std::string& address) {
  beast::error_code ec;
  socket.non_blocking(true, ec);
  if (!ec) socket.write_some(net::buffer(kTooManyConnections.data(), kTooManyConnections.size()), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  site.metrics().connection_refused();
  uint64_t count = 0;
  if (cap_warning.note(&count))
    spdlog::warn("connections: refused {}{}: over {} at once from one address "
                 "(--max-connections-per-address)",
                 address, count > 1 ? fmt::format(" ({} times since the last such line)", count) : "",
                 options.max_connections_per_address);
}

void Core::do_stop() {
  stopping.store(true);
  beast::error_code ec;
  for (Listener* l : {&site_listener, &ops_listener}) {
    l->acceptor.close(ec);
    l->retry.cancel();
  }
  signals.cancel(ec);
  flush_timer.cancel();
  // Collect under the lock, act outside it: dropping the last reference to a
  // session runs its destructor, which takes the lock.
  std::vector<std::shared_ptr<Session>> alive;
  {
    std::lock_guard lock(sessions_mu);
    alive.reserve(sessions.size());
    for (Session* s : sessions)
      if (auto p = s->weak_from_this().lock()) alive.push_back(std::move(p));
  }
  for (auto& s : alive) s->shutdown();
}

void Core::schedule_flush() {
  flush_timer.expires_after(std::chrono::milliseconds(500));
  flush_timer.async_wait([this](beast::error_code ec) {
    if (access_log) access_log->flush();
    if (!ec && !stopping.load()) schedule_flush();
  });
}

// --- Server ------------------------------------------------------------------------

struct Server::Impl : Core {
  using Core::Core;
};

Server::Server(store::Store& store, library::Library& library, auth::Accounts& accounts,
               commerce::Commerce& commerce, ServerOptions options)
    : impl_(std::make_unique<Impl>(store, library, accounts, commerce, std::move(options))) {}

Server::~Server() {
  if (impl_->access_log) impl_->access_log->flush();
}

namespace {

// Resolves host:port (numeric port) and binds `acceptor` there, listening.
// The bound endpoint, or kUnavailable naming host:port.
Result<tcp::endpoint> listen_on(net::io_context& ioc, tcp::acceptor& acceptor,
                                const std::string& host, uint16_t port) {
  std::string where = fmt::format("{}:{}", host, port);
  beast::error_code ec;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, std::to_string(port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty())
    return Status::unavailable(
        fmt::format("cannot listen on {}: {}", where, ec ? ec.message() : "no address"));
  tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return Status::unavailable(fmt::format("cannot listen on {}: {}", where, ec.message()));
  }
  return acceptor.local_endpoint();
}

}  // namespace

Status Server::start() {
  Impl& s = *impl_;
  if (Status st = s.site.init(); !st) return st;
  Result<tcp::endpoint> bound = listen_on(s.ioc, s.site_listener.acceptor, s.options.host, s.options.port);
  if (!bound.ok()) return bound.status();
  tcp::endpoint endpoint = *bound;
  if (!s.options.metrics_host.empty()) {
    Result<tcp::endpoint> ops =
        listen_on(s.ioc, s.ops_listener.acceptor, s.options.metrics_host, s.options.metrics_port);
    if (!ops.ok()) {
      beast::error_code ignored;
      s.site_listener.acceptor.close(ignored);
      return ops.status();
    }
    s.ops_port = ops->port();
  }
  s.bound_port = endpoint.port();
  if (s.options.base_url.empty()) {
    std::string host =
        endpoint.address().is_v6() ? fmt::format("[{}]", s.options.host) : s.options.host;
    s.site.set_base_url(fmt::format("http://{}:{}", host, s.bound_port));
  } else {
    std::string base = s.options.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    s.site.set_base_url(base);
  }
  if (s.options.handle_signals) {
    s.signals.add(SIGINT);
    s.signals.add(SIGTERM);
    s.signals.async_wait([&s](beast::error_code e, int signal) {
      if (e) return;
      spdlog::info("signal {}: stopping", signal);
      s.do_stop();
    });
  }
  if (s.access_log) s.schedule_flush();
  s.start_pools();
  net::post(s.control, [&s] {
    s.do_accept(s.site_listener);
    if (s.ops_listener.acceptor.is_open()) s.do_accept(s.ops_listener);
  });
  s.started = true;
  return Status();
}

uint16_t Server::port() const { return impl_->bound_port; }

uint16_t Server::metrics_port() const { return impl_->ops_port; }

void Server::run() {
  Impl& s = *impl_;
  if (!s.started) return;
  auto work = [&s] {
    for (;;) {
      try {
        s.ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("I/O thread: {}", e.what());
      }
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < s.threads(); ++i) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  // Every pool task has posted its response by now (each held the
  // io_context's work count); this joins the idle workers.
  for (auto& p : s.pools)
    if (p) p->shutdown();
  if (s.access_log) s.access_log->flush();
}

void Server::stop() {
  Impl& s = *impl_;
  s.stopping.store(true);
  net::post(s.control, [&s] { s.do_stop(); });
}

}  // namespace paidoc::web
