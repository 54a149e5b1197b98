// SearchLimiter: how many searches a client address and a signed-in account
// may run, in a fixed minute and a fixed day.
//
// Search answers say where a reader's words occur, paid part included, so
// someone firing thousands of queries could learn what the paid part holds.
// The limits are set far above what a person searching ever does (defaults:
// 60 a minute and 1,000 a day, per address and per account) and make such
// a crawl slow.
//
// Counting happens in memory: each key (`search-ip:<address>`,
// `search-account:<user id>`) has a minute window and a day window, each
// starting with the first search counted in it. A search that would pass a
// limit is refused and locks the key until that window ends; only then is
// the key written to the store (store::ThrottleStore::put_throttle, the table the
// login limits use), so a restart keeps the locks while ordinary searches
// never write to the database. A key seen for the first time in this
// process (or again after it was evicted) is read from the store once.
//
// Memory is bounded: at most `max_keys` keys are kept, least recently used
// first out. An evicted key loses its counts unless it was locked (a lock
// is in the store and is read back).
//
// Limits are exact within one process; several processes on one database
// each count on their own and share only the locks. Unless they count in
// the store: with SearchLimits::shared, every search is one
// store::ThrottleStore::hit_throttles() call (one write transaction: each
// key's day window under its own key, the minute window under
// `search-minute-ip:` / `search-minute-account:`), so the limits are exact
// over every node on the database. The server turns it on for a store
// shared by nodes (store::CoordinationStore::shared_by_nodes(): PostgreSQL)
// and leaves SQLite's one-process site on the memory path, which writes
// nothing per search. Nothing is kept in memory then (tracked_keys() 0).
//
// Thread-safety: admit() may be called from many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"
#include "store/throttles.h"

namespace paidoc::auth {

struct SearchLimits {
  // Searches per client address; 0 turns that limit off.
  int per_minute = 60;
  int per_day = 1000;
  // Searches per signed-in account, whatever address they come from; 0: off.
  int account_per_minute = 60;
  int account_per_day = 1000;
  // Keys kept in memory (addresses and accounts together).
  size_t max_keys = 100'000;
  // Count every search in the store instead of in memory (above): for a
  // store several nodes share.
  bool shared = false;
};

class SearchLimiter {
 public:
  // REQUIRES: store and clock outlive this object.
  SearchLimiter(store::ThrottleStore& store, const Clock& clock, SearchLimits limits = {});

  // Counts one search from address `ip` (an empty address is one shared
  // bucket) by account `user_id` (0: anonymous, no account limit).
  // OK: the search may run, and has been counted against both keys.
  // kTooManyRequests: a key is locked (or this search would pass a limit
  // and locks it now); nothing is counted; retry_after() is the seconds
  // until the longest lock ends and the message is zh-CN
  // ("搜索过于频繁，请 N 分钟后再试").
  // Other codes: the store failed while reading or writing a lock; the
  // search should not run.
  Status admit(std::string_view ip, int64_t user_id);

  // Keys held in memory now (never more than max_keys).
  size_t tracked_keys() const;
  const SearchLimits& limits() const { return limits_; }

 private:
  struct Counter {
    int64_t minute_start = 0;
    int64_t minute_count = 0;
    int64_t day_start = 0;
    int64_t day_count = 0;
    int64_t locked_until = 0;
  };
  struct Entry {
    std::string key;
    Counter counter;
  };
  using Lru = std::list<Entry>;

  // The entry of `key`, moved to the front; nullptr when not in memory.
  // REQUIRES: mu_ held.
  Counter* find(const std::string& key);
  // Inserts (evicting the least recently used past max_keys).
  // REQUIRES: mu_ held.
  Counter* insert(const std::string& key, const Counter& c);
  // Reads from the store every key of `keys` that is not in memory and
  // inserts it. Releases `lock` around each store read.
  Status load_missing(const std::string* keys, size_t n, std::unique_lock<std::mutex>& lock);
  // admit() with the limits counted in the store (SearchLimits::shared).
  Status admit_shared(std::string_view ip, int64_t user_id);

  store::ThrottleStore& store_;
  const Clock& clock_;
  SearchLimits limits_;
  mutable std::mutex mu_;
  Lru lru_;  // front: most recently used
  std::unordered_map<std::string, Lru::iterator> index_;
};

}  // namespace paidoc::auth
