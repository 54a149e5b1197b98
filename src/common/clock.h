// Clock: the time, behind an interface so tests can move it (expiry, idle
// timeouts, back-off). Unix seconds.
//
// Thread-safety: implementations are safe from many threads.
#pragma once

#include <atomic>
#include <cstdint>

namespace paidoc {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now() const = 0;  // unix seconds
  // The real clock (process-wide, never destroyed).
  static Clock& system();
};

// A clock that stands still until told to move. For tests.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start = 1'767'225'600) : t_(start) {}  // 2026-01-01
  int64_t now() const override { return t_.load(); }
  void advance(int64_t seconds) { t_ += seconds; }
  void set(int64_t t) { t_ = t; }

 private:
  std::atomic<int64_t> t_;
};

}  // namespace paidoc
