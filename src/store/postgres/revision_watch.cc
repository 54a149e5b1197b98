#include "store/postgres/revision_watch.h"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <charconv>
#include <chrono>

namespace paidoc::store::postgres {
namespace {

// The channel migration 5's trigger notifies; the payload is the id.
constexpr char kListen[] = "LISTEN paidoc_documents";

}  // namespace

RevisionWatch::RevisionWatch(std::string conninfo) : conninfo_(std::move(conninfo)) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { run(); });
}

RevisionWatch::~RevisionWatch() {
  stop_.store(true, std::memory_order_release);
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

std::optional<int64_t> RevisionWatch::get(int64_t id) {
  if (!listening()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = kept_.find(id);
  if (it == kept_.end()) return std::nullopt;
  return it->second;
}

void RevisionWatch::keep(int64_t id, int64_t revision, uint64_t epoch_before) {
  if (!listening()) return;
  std::lock_guard<std::mutex> lock(mu_);
  // Checked under the lock the notifications also take: a notification
  // either came before (the epoch moved: not kept) or comes after (it
  // erases this entry).
  if (epoch_.load(std::memory_order_acquire) != epoch_before) return;
  if (kept_.size() >= kMaxKept) kept_.clear();
  kept_[id] = revision;
}

void RevisionWatch::forget_all() {
  std::lock_guard<std::mutex> lock(mu_);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  kept_.clear();
}

void RevisionWatch::run() {
  int failures = 0;
  while (!stop_.load(std::memory_order_acquire)) {
    PGconn* conn = PQconnectdb(conninfo_.c_str());
    bool ok = conn != nullptr && PQstatus(conn) == CONNECTION_OK;
    if (ok) {
      // Server messages (a terminated backend's FATAL) go to our log line,
      // not to stderr.
      PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
      PGresult* r = PQexec(conn, kListen);
      ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
    }
    if (ok) {
      // Anything kept before this LISTEN may have changed unseen.
      forget_all();
      listening_.store(true, std::memory_order_release);
      if (failures > 0) spdlog::info("postgresql: document revision watch is listening again");
      failures = 0;
      pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      while (!stop_.load(std::memory_order_acquire)) {
        int n = poll(fds, 2, 1000);
        if (n < 0 && errno != EINTR) break;
        if (n <= 0) continue;
        if (fds[1].revents != 0) break;  // woken to stop
        if (PQconsumeInput(conn) == 0) break;
        while (PGnotify* note = PQnotifies(conn)) {
          int64_t id = 0;
          const char* p = note->extra;
          const char* end = p + std::char_traits<char>::length(p);
          auto [ptr, ec] = std::from_chars(p, end, id);
          {
            std::lock_guard<std::mutex> lock(mu_);
            epoch_.fetch_add(1, std::memory_order_acq_rel);
            if (ec == std::errc() && ptr == end) {
              kept_.erase(id);
            } else {
              kept_.clear();
            }
          }
          PQfreemem(note);
        }
        if (PQstatus(conn) != CONNECTION_OK) break;
      }
    }
    listening_.store(false, std::memory_order_release);
    forget_all();
    if (conn != nullptr) PQfinish(conn);
    if (stop_.load(std::memory_order_acquire)) break;
    if (failures++ == 0) {
      spdlog::warn("postgresql: document revision watch lost its connection; every page view "
                   "reads the revision from the database until it is back");
    }
    // Back off (100 ms doubling to 5 s), waking at once to stop.
    const auto wait = std::chrono::milliseconds(std::min(100 << std::min(failures, 6), 5000));
    std::unique_lock<std::mutex> lock(mu_);
    stopped_cv_.wait_for(lock, wait, [this] { return stop_.load(std::memory_order_acquire); });
  }
}

}  // namespace paidoc::store::postgres
