// A door threads wait at until the test opens it, and a count of who
// arrived: for tests that hold work in flight (a pool's task, a store call)
// and then let it go. Header-only, for tests.
#pragma once

#include <condition_variable>
#include <mutex>

namespace paidoc::testing {

class Gate {
 public:
  // Counts the caller as arrived, then blocks until open().
  void wait() {
    std::unique_lock lock(mu_);
    ++arrived_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  // Blocks until at least n callers have arrived at wait().
  void wait_arrived(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return arrived_ >= n; });
  }
  // Lets every waiter (and every later one) through.
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  bool open_ = false;
};

}  // namespace paidoc::testing
