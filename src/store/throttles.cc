// The throttle arithmetic every backend shares (throttles.h).

#include "store/throttles.h"

#include <algorithm>

namespace paidoc::store {

Throttle apply_hit(const Throttle& before, const ThrottleRule& rule, int64_t now) {
  Throttle t = before;
  t.key = rule.key;
  if (rule.window_seconds > 0 && t.locked_until <= now &&
      (now - t.window_start >= rule.window_seconds || t.window_start > now)) {
    t.count = 0;
  }
  if (t.count <= 0) {
    t.count = 0;
    t.window_start = now;
  }
  t.count += 1;
  const int64_t first = std::max<int64_t>(rule.max_count, 1);
  if (t.count < first) return t;
  if (rule.lock_until_window_end) {
    t.locked_until = t.window_start + rule.window_seconds;
    return t;
  }
  const int64_t cap = std::max<int64_t>(rule.max_lock_seconds, 1);
  const int64_t base = std::max<int64_t>(rule.lock_seconds, 1);
  const int64_t doublings = t.count - first;
  int64_t lock = base;
  for (int64_t i = 0; i < doublings && lock < cap; ++i) lock *= 2;
  t.locked_until = now + std::min(lock, cap);
  return t;
}

Result<Throttle> ThrottleStore::hit_throttle(const ThrottleRule& rule, int64_t now) {
  Result<ThrottleHit> hit = hit_throttles({rule}, now);
  if (!hit.ok()) return hit.status();
  if (hit->throttles.empty()) return Status::internal("hit_throttles returned no record");
  return hit->throttles.front();
}

}  // namespace paidoc::store
