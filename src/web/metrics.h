// Request metrics in Prometheus text exposition format.
//
// Counters are fixed arrays of relaxed atomics indexed by (route, method,
// status slot): recording a request is a few atomic increments, no lock and
// no allocation.
//
// Thread-safety: observe() and exposition() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/work_pool.h"
#include "web/http.h"

namespace paidoc::web {

class Metrics {
 public:
  explicit Metrics(std::vector<std::string> route_names);
  ~Metrics();

  // One finished request. `route` indexes route_names.
  void observe(int route, Method method, int status, int64_t micros);
  void render_cache(bool hit) {
    (hit ? cache_hits_ : cache_misses_).fetch_add(1, std::memory_order_relaxed);
  }
  // A connection closed at accept for the per-address cap; an accept that
  // failed (out of descriptors and the like).
  void connection_refused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  void accept_error() { accept_errors_.fetch_add(1, std::memory_order_relaxed); }

  // The worker pools to report (threads, queue, running, queued, refused).
  // REQUIRES: called before the server serves; the pools outlive every
  // exposition() call.
  void set_pools(std::vector<const WorkPool*> pools) { pools_ = std::move(pools); }

  // The exposition text; `documents` is the paidoc_documents gauge (omitted
  // when nullopt).
  std::string exposition(std::optional<int64_t> documents) const;

 private:
  struct Histogram;
  std::vector<std::string> routes_;
  size_t statuses_;  // slots per (route, method)
  std::unique_ptr<std::atomic<uint64_t>[]> requests_;
  std::unique_ptr<Histogram[]> durations_;
  std::atomic<uint64_t> cache_hits_{0};
  std::atomic<uint64_t> cache_misses_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> accept_errors_{0};
  std::vector<const WorkPool*> pools_;
};

}  // namespace paidoc::web
