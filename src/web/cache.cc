#include "web/cache.h"

namespace paidoc::web {

RenderCache::RenderCache(size_t max_bytes) : shard_budget_(max_bytes / kShards) {}

std::shared_ptr<const Prepared> RenderCache::get(int64_t id, int64_t revision) const {
  Shard& s = shard(id);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(id);
  if (it == s.map.end() || it->second.revision != revision) return nullptr;
  return it->second.value;
}

void RenderCache::put(int64_t id, int64_t revision, std::shared_ptr<const Prepared> value) {
  size_t c = cost(*value);
  if (c > shard_budget_) return;  // too big to keep (or caching disabled)
  Shard& s = shard(id);
  std::shared_ptr<const Prepared> dropped;  // released outside the lock
  std::lock_guard lock(s.mu);
  auto it = s.map.find(id);
  if (it != s.map.end()) {
    // Never go back to an older revision put by a slower thread.
    if (it->second.revision > revision) return;
    s.bytes -= cost(*it->second.value);
    dropped = std::move(it->second.value);
    s.map.erase(it);
  }
  while (s.bytes + c > shard_budget_ && !s.map.empty()) {
    auto victim = s.map.begin();
    s.bytes -= cost(*victim->second.value);
    s.map.erase(victim);
  }
  s.map.emplace(id, Entry{revision, std::move(value)});
  s.bytes += c;
}

size_t RenderCache::entries() const {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.map.size();
  }
  return n;
}

size_t RenderCache::bytes() const {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.bytes;
  }
  return n;
}

}  // namespace paidoc::web
