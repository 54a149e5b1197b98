// ThrottleStore: stored rate-limit records — failed logins per account and
// per address, registrations per address, search locks — that must survive
// a restart and be shared by every process on one database.
//
// A throttle is counted with hit_throttles(), which reads, counts and locks
// in ONE write transaction, so concurrent hits from any number of threads or
// processes each count exactly once and none slips past a lock. The rule
// arithmetic (windows, back-off) is apply_hit() below, shared by every
// backend; a backend only supplies the atomicity.
//
// Absent keys read as zeros (never kNotFound). Errors and thread-safety as
// in documents.h; the store reads no clock (`now` is the caller's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace paidoc::store {

// One rate-limit record.
struct Throttle {
  std::string key;           // e.g. "login-account:a@b.cn", "login-ip:1.2.3.4"
  int64_t count = 0;         // hits in the current run/window
  int64_t window_start = 0;  // unix seconds the count started
  int64_t locked_until = 0;  // unix seconds; 0: not locked
};

// How one hit counts against one key.
struct ThrottleRule {
  std::string key;
  // A run this old (window_start more than window_seconds ago, or in the
  // future) restarts at the hit, unless the key is locked; 0: a run lasts
  // until the key is cleared.
  int64_t window_seconds = 0;
  // The hit that brings the count to max_count locks the key, and so does
  // every later hit of the run. REQUIRES: >= 1.
  int64_t max_count = 1;
  // How long such a lock lasts:
  //  - lock_until_window_end: until window_start + window_seconds;
  //  - otherwise lock_seconds after the max_count-th hit, doubling with each
  //    further hit, never more than max_lock_seconds.
  bool lock_until_window_end = false;
  int64_t lock_seconds = 1;
  int64_t max_lock_seconds = 3600;
};

// What hit_throttles() did.
struct ThrottleHit {
  // false: some key was locked at `now`; nothing was counted anywhere.
  bool admitted = false;
  // When refused: seconds until the longest of those locks ends (>= 1).
  int64_t retry_after = 0;
  // Each rule's record as stored after the call, in the order of the rules.
  std::vector<Throttle> throttles;
};

// The record after one admitted hit of `rule` at `now` on `before`
// (REQUIRES: before is not locked at now). Pure; backends call it inside
// their write transaction.
Throttle apply_hit(const Throttle& before, const ThrottleRule& rule, int64_t now);

class ThrottleStore {
 public:
  virtual ~ThrottleStore() = default;

  // The record of `key`; zeros (with the key) when there is none.
  virtual Result<Throttle> get_throttle(const std::string& key) = 0;

  // Replaces the record of t.key (creating it). kInvalidArgument for an
  // empty key or a negative count. For records computed elsewhere (the
  // search limiter's locks); counting goes through hit_throttles().
  virtual Status put_throttle(const Throttle& t) = 0;

  // Counts one hit against every rule, in one write transaction:
  //  - when any key is locked at `now` (locked_until > now): not admitted,
  //    retry_after the longest remaining lock, and nothing is written;
  //  - otherwise each record becomes apply_hit(record, rule, now) and is
  //    stored; admitted.
  // kInvalidArgument for no rules, an empty key, a key given twice or
  // max_count < 1.
  virtual Result<ThrottleHit> hit_throttles(const std::vector<ThrottleRule>& rules,
                                            int64_t now) = 0;

  // hit_throttles() with one rule; the record after the call (not counted
  // when it was locked: then locked_until > now).
  Result<Throttle> hit_throttle(const ThrottleRule& rule, int64_t now);

  // Takes back one hit (count - 1, never below 0), keeping the window and
  // any lock, in one statement. An absent key is not an error.
  virtual Status undo_throttle_hit(const std::string& key) = 0;

  // Forgets the key. An absent key is not an error.
  virtual Status clear_throttle(const std::string& key) = 0;
};

}  // namespace paidoc::store
