// SearchLimiter: fixed-window search counters in memory, locks in the store
// (see search_limits.h for the contract and CONTEXT.md for the words).

#include "auth/search_limits.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace paidoc::auth {

namespace {

constexpr int64_t kMinute = 60;
constexpr int64_t kDay = 24 * 3600;

// "30 秒", "5 分钟", "2 小时": how long to wait, rounded up to the unit.
std::string wait_text(int64_t seconds) {
  if (seconds < 60) return std::to_string(std::max<int64_t>(seconds, 1)) + " 秒";
  if (seconds < 3600) return std::to_string((seconds + 59) / 60) + " 分钟";
  return std::to_string((seconds + 3599) / 3600) + " 小时";
}

Status too_many_searches(int64_t retry_after) {
  retry_after = std::max<int64_t>(retry_after, 1);
  return Status::too_many_requests("搜索过于频繁，请 " + wait_text(retry_after) + "后再试",
                                   retry_after);
}

}  // namespace

SearchLimiter::SearchLimiter(store::ThrottleStore& store, const Clock& clock, SearchLimits limits)
    : store_(store), clock_(clock), limits_(limits) {
  // One admission touches two keys; both must fit at once.
  limits_.max_keys = std::max<size_t>(limits_.max_keys, 2);
}

SearchLimiter::Counter* SearchLimiter::find(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &it->second->counter;
}

SearchLimiter::Counter* SearchLimiter::insert(const std::string& key, const Counter& c) {
  if (Counter* have = find(key)) return have;
  lru_.push_front(Entry{key, c});
  index_.emplace(key, lru_.begin());
  while (lru_.size() > limits_.max_keys) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
  return &lru_.front().counter;
}

Status SearchLimiter::load_missing(const std::string* keys, size_t n,
                                   std::unique_lock<std::mutex>& lock) {
  // Other threads may insert (and so evict) while the lock is released for
  // a read; try again until every key is in memory at once.
  for (int attempt = 0; attempt < 3; ++attempt) {
    bool all = true;
    for (size_t i = 0; i < n; ++i) {
      if (find(keys[i])) continue;
      all = false;
      lock.unlock();
      Result<store::Throttle> t = store_.get_throttle(keys[i]);
      const int64_t now = clock_.now();
      lock.lock();
      if (!t.ok()) return t.status();
      Counter c;
      c.locked_until = t->locked_until;
      // The stored count is the day window's (written when the key locked).
      if (t->window_start > 0 && now - t->window_start < kDay) {
        c.day_start = t->window_start;
        c.day_count = t->count;
      }
      insert(keys[i], c);
    }
    if (all) return Status();
  }
  // Still evicted under heavy churn: count from zero rather than loop on.
  for (size_t i = 0; i < n; ++i) insert(keys[i], Counter{});
  return Status();
}

Status SearchLimiter::admit_shared(std::string_view ip, int64_t user_id) {
  // One rule per window and key; a window's limit-th search is admitted and
  // locks the key until the window ends (store::apply_hit), so the next one
  // is refused: the same searches pass as in memory.
  std::vector<store::ThrottleRule> rules;
  auto add = [&](std::string key, int64_t window, int max_count) {
    if (max_count <= 0) return;
    store::ThrottleRule r;
    r.key = std::move(key);
    r.window_seconds = window;
    r.max_count = max_count;
    r.lock_until_window_end = true;
    rules.push_back(std::move(r));
  };
  const std::string addr(ip);
  add("search-ip:" + addr, kDay, limits_.per_day);
  add("search-minute-ip:" + addr, kMinute, limits_.per_minute);
  if (user_id > 0) {
    const std::string id = std::to_string(user_id);
    add("search-account:" + id, kDay, limits_.account_per_day);
    add("search-minute-account:" + id, kMinute, limits_.account_per_minute);
  }
  if (rules.empty()) return Status();
  Result<store::ThrottleHit> hit = store_.hit_throttles(rules, clock_.now());
  if (!hit.ok()) return hit.status();
  if (!hit->admitted) return too_many_searches(hit->retry_after);
  return Status();
}

Status SearchLimiter::admit(std::string_view ip, int64_t user_id) {
  if (limits_.shared) return admit_shared(ip, user_id);
  struct Check {
    std::string key;
    int per_minute;
    int per_day;
  };
  Check checks[2];
  size_t n = 0;
  if (limits_.per_minute > 0 || limits_.per_day > 0)
    checks[n++] = {"search-ip:" + std::string(ip), limits_.per_minute, limits_.per_day};
  if (user_id > 0 && (limits_.account_per_minute > 0 || limits_.account_per_day > 0))
    checks[n++] = {"search-account:" + std::to_string(user_id), limits_.account_per_minute,
                   limits_.account_per_day};
  if (n == 0) return Status();

  std::string keys[2];
  for (size_t i = 0; i < n; ++i) keys[i] = checks[i].key;

  std::vector<store::Throttle> to_write;
  int64_t wait = 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (Status s = load_missing(keys, n, lock); !s.is_ok()) return s;
    const int64_t now = clock_.now();
    Counter* counters[2] = {nullptr, nullptr};
    for (size_t i = 0; i < n; ++i) counters[i] = find(keys[i]);  // all present, max_keys >= 2

    for (size_t i = 0; i < n; ++i) {
      Counter& c = *counters[i];
      if (c.locked_until > now) {
        wait = std::max(wait, c.locked_until - now);
        continue;
      }
      if (now - c.minute_start >= kMinute) c.minute_start = now, c.minute_count = 0;
      if (now - c.day_start >= kDay) c.day_start = now, c.day_count = 0;
      int64_t until = 0;
      if (checks[i].per_minute > 0 && c.minute_count >= checks[i].per_minute)
        until = std::max(until, c.minute_start + kMinute);
      if (checks[i].per_day > 0 && c.day_count >= checks[i].per_day)
        until = std::max(until, c.day_start + kDay);
      if (until > now) {
        c.locked_until = until;
        wait = std::max(wait, until - now);
        to_write.push_back(store::Throttle{keys[i], c.day_count, c.day_start, until});
      }
    }
    if (wait == 0) {
      for (size_t i = 0; i < n; ++i) {
        counters[i]->minute_count += 1;
        counters[i]->day_count += 1;
      }
      return Status();
    }
  }
  // A new lock: the one write, outside the lock (the memory already refuses).
  for (const store::Throttle& t : to_write)
    if (Status s = store_.put_throttle(t); !s.is_ok()) return s;
  return too_many_searches(wait);
}

size_t SearchLimiter::tracked_keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

}  // namespace paidoc::auth
