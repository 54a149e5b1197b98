#include "web/metrics.h"

#include <fmt/format.h>

namespace paidoc::web {

namespace {

// Status codes with their own label; anything else counts as "other".
constexpr int kStatuses[] = {200, 204, 301, 302, 304, 400, 401, 402, 403,
                             404, 405, 409, 413, 429, 431, 500, 501, 503};
constexpr size_t kStatusSlots = std::size(kStatuses) + 1;

size_t status_slot(int status) {
  for (size_t i = 0; i < std::size(kStatuses); ++i)
    if (kStatuses[i] == status) return i;
  return std::size(kStatuses);
}

// Upper bounds in microseconds; exposed in seconds.
constexpr int64_t kBucketsUs[] = {100,     250,     500,     1000,    2500,   5000,
                                  10000,   25000,   50000,   100000,  250000, 500000,
                                  1000000, 2500000, 5000000, 10000000};
constexpr size_t kBuckets = std::size(kBucketsUs);

// Prometheus accepts only these methods as labels from us; the rest are "OTHER".
constexpr Method kMethods[] = {Method::kGet,    Method::kHead,  Method::kPost,    Method::kPut,
                               Method::kDelete, Method::kPatch, Method::kOptions, Method::kOther};

}  // namespace

struct Metrics::Histogram {
  std::atomic<uint64_t> buckets[kBuckets + 1] = {};  // last: +Inf
  std::atomic<uint64_t> sum_us{0};
  std::atomic<uint64_t> count{0};
};

Metrics::Metrics(std::vector<std::string> route_names)
    : routes_(std::move(route_names)),
      statuses_(kStatusSlots),
      requests_(new std::atomic<uint64_t>[routes_.size() * kMethodCount * kStatusSlots]()),
      durations_(new Histogram[routes_.size()]) {}

Metrics::~Metrics() = default;

void Metrics::observe(int route, Method method, int status, int64_t micros) {
  if (route < 0 || static_cast<size_t>(route) >= routes_.size()) return;
  size_t m = static_cast<size_t>(method);
  requests_[(route * kMethodCount + m) * statuses_ + status_slot(status)].fetch_add(
      1, std::memory_order_relaxed);
  Histogram& h = durations_[route];
  size_t b = 0;
  while (b < kBuckets && micros > kBucketsUs[b]) ++b;
  h.buckets[b].fetch_add(1, std::memory_order_relaxed);  // cumulated when exposed
  h.sum_us.fetch_add(static_cast<uint64_t>(micros < 0 ? 0 : micros), std::memory_order_relaxed);
  h.count.fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::exposition(std::optional<int64_t> documents) const {
  std::string out;
  out.reserve(16384);
  auto it = std::back_inserter(out);
  out +=
      "# HELP paidoc_http_requests_total HTTP requests answered, by route, method and status.\n"
      "# TYPE paidoc_http_requests_total counter\n";
  for (size_t r = 0; r < routes_.size(); ++r) {
    for (Method method : kMethods) {
      size_t m = static_cast<size_t>(method);
      for (size_t s = 0; s < kStatusSlots; ++s) {
        uint64_t v =
            requests_[(r * kMethodCount + m) * statuses_ + s].load(std::memory_order_relaxed);
        if (!v) continue;
        std::string status = s < std::size(kStatuses) ? std::to_string(kStatuses[s]) : "other";
        fmt::format_to(
            it, "paidoc_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
            routes_[r], method_name(method), status, v);
      }
    }
  }
  out +=
      "# HELP paidoc_http_request_duration_seconds Time from a parsed request to its response "
      "being ready to send.\n"
      "# TYPE paidoc_http_request_duration_seconds histogram\n";
  for (size_t r = 0; r < routes_.size(); ++r) {
    const Histogram& h = durations_[r];
    uint64_t count = h.count.load(std::memory_order_relaxed);
    if (!count) continue;
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      cumulative += h.buckets[b].load(std::memory_order_relaxed);
      fmt::format_to(it,
                     "paidoc_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                     routes_[r], static_cast<double>(kBucketsUs[b]) / 1e6, cumulative);
    }
    cumulative += h.buckets[kBuckets].load(std::memory_order_relaxed);
    // Read concurrently with observe(): keep +Inf and _count consistent.
    count = std::max(count, cumulative);
    fmt::format_to(it,
                   "paidoc_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                   routes_[r], count);
    fmt::format_to(it, "paidoc_http_request_duration_seconds_sum{{route=\"{}\"}} {:.6f}\n",
                   routes_[r], static_cast<double>(h.sum_us.load(std::memory_order_relaxed)) / 1e6);
    fmt::format_to(it, "paidoc_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                   routes_[r], count);
  }
  fmt::format_to(it,
                 "# HELP paidoc_render_cache_total Anonymous document renders served from the "
                 "cache (hit) or rendered anew (miss).\n"
                 "# TYPE paidoc_render_cache_total counter\n"
                 "paidoc_render_cache_total{{result=\"hit\"}} {}\n"
                 "paidoc_render_cache_total{{result=\"miss\"}} {}\n",
                 cache_hits_.load(std::memory_order_relaxed),
                 cache_misses_.load(std::memory_order_relaxed));
  fmt::format_to(it,
                 "# HELP paidoc_connections_refused_total Connections closed when accepted "
                 "because their address had max-connections-per-address open.\n"
                 "# TYPE paidoc_connections_refused_total counter\n"
                 "paidoc_connections_refused_total {}\n"
                 "# HELP paidoc_accept_errors_total Accepts that failed (out of descriptors and "
                 "the like); accepting pauses after each.\n"
                 "# TYPE paidoc_accept_errors_total counter\n"
                 "paidoc_accept_errors_total {}\n",
                 refused_.load(std::memory_order_relaxed),
                 accept_errors_.load(std::memory_order_relaxed));
  if (!pools_.empty()) {
    struct Family {
      const char* name;
      const char* type;
      const char* help;
      uint64_t (*value)(const WorkPool::Stats&);
    };
    static constexpr Family kFamilies[] = {
        {"paidoc_pool_threads", "gauge", "Worker threads of each pool.",
         [](const WorkPool::Stats& s) { return static_cast<uint64_t>(s.threads); }},
        {"paidoc_pool_queue_capacity", "gauge",
         "Requests that may wait for a worker of each pool; more are answered 503.",
         [](const WorkPool::Stats& s) { return static_cast<uint64_t>(s.capacity); }},
        {"paidoc_pool_running", "gauge", "Requests being handled by each pool now.",
         [](const WorkPool::Stats& s) { return static_cast<uint64_t>(s.running); }},
        {"paidoc_pool_queued", "gauge", "Requests waiting for a worker of each pool now.",
         [](const WorkPool::Stats& s) { return static_cast<uint64_t>(s.queued); }},
        {"paidoc_pool_rejected_total", "counter",
         "Requests refused because their pool was full (answered 503).",
         [](const WorkPool::Stats& s) { return s.rejected; }},
    };
    std::vector<WorkPool::Stats> stats;
    for (const WorkPool* p : pools_) stats.push_back(p->stats());
    for (const Family& f : kFamilies) {
      fmt::format_to(it, "# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, f.type);
      for (size_t i = 0; i < pools_.size(); ++i)
        fmt::format_to(it, "{}{{pool=\"{}\"}} {}\n", f.name, pools_[i]->name(), f.value(stats[i]));
    }
  }
  if (documents) {
    fmt::format_to(it,
                   "# HELP paidoc_documents Documents in the store.\n"
                   "# TYPE paidoc_documents gauge\n"
                   "paidoc_documents {}\n",
                   *documents);
  }
  return out;
}

}  // namespace paidoc::web
