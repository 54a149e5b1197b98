// RenderCache: fully rendered responses keyed by (document id, revision).
// An entry is one Prepared with all its representations (identity, gzip,
// br), compressed before it was put: a hit does no compression work.
//
// Only responses built from the ANONYMOUS view go in here: they hold no paid
// text, so serving one to anybody cannot leak. A lookup with a different
// revision misses (the caller renders and puts the new bytes, which replace
// the old ones). Entries are spread over shards, each with its own mutex;
// when a shard is over its byte budget, arbitrary entries of that shard are
// dropped (the cache holds what is cheap to recompute, so no LRU bookkeeping
// on the hot path).
//
// Thread-safety: all methods from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "web/http.h"

namespace paidoc::web {

class RenderCache {
 public:
  // max_bytes: total budget for bodies and headers, the compressed
  // representations included (Prepared::bytes); 0 disables caching.
  explicit RenderCache(size_t max_bytes);

  // nullptr on a miss.
  std::shared_ptr<const Prepared> get(int64_t id, int64_t revision) const;
  void put(int64_t id, int64_t revision, std::shared_ptr<const Prepared> value);

  size_t entries() const;
  size_t bytes() const;

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    int64_t revision;
    std::shared_ptr<const Prepared> value;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<int64_t, Entry> map;
    size_t bytes = 0;
  };
  static size_t cost(const Prepared& p) { return p.bytes() + 64; }
  Shard& shard(int64_t id) const { return shards_[static_cast<uint64_t>(id) % kShards]; }

  size_t shard_budget_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace paidoc::web
