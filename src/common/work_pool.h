// WorkPool: a fixed set of threads running tasks from a bounded queue.
//
// Used by the web server to keep blocking work (store calls, password
// hashing, export rendering, payment gateway calls) off its I/O threads,
// one pool per kind of work, so that one kind cannot starve the others.
//
// Bounded: at most `threads + queue_capacity` tasks are in the pool at once
// (running or waiting for a worker). try_submit() never blocks and never
// grows the queue past that: when the pool is full, or shutting down, it
// refuses the task and returns false. What a refusal means is the caller's
// business (the server answers 503 with Retry-After).
//
// Tasks start in submission order, each on one worker. A task that throws
// is reported on stderr and counted as completed; tasks should not throw.
//
// Priority: `nice` is added to each worker's scheduling niceness (Linux
// schedules threads, so it applies to the workers only). A pool of CPU-bound
// work (hashing, rendering) given a positive value yields the CPU to the
// threads that serve quick requests, while still using every idle cycle.
//
// Shutdown: shutdown() refuses new tasks, lets the workers finish every task
// already accepted (running and queued), and joins them. The destructor
// calls it.
//
// Thread-safety: try_submit() and stats() from any thread, including from
// inside a task. shutdown() from any thread except this pool's workers
// (a worker cannot join itself).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace paidoc {

class WorkPool {
 public:
  struct Stats {
    int threads = 0;
    size_t capacity = 0;     // queue_capacity as constructed
    size_t queued = 0;       // accepted, waiting for a worker
    int running = 0;         // being run by a worker now
    uint64_t completed = 0;  // finished since construction
    uint64_t rejected = 0;   // refused by try_submit since construction
  };

  // Starts `threads` workers (REQUIRES: threads >= 1). queue_capacity 0: a
  // task is accepted only when a worker is free for it. `name` names the
  // worker threads ("paidoc-" + name, cut to 15 characters) and the pool in
  // messages. `nice`: see above; 0 leaves the priority as it is.
  WorkPool(std::string name, int threads, size_t queue_capacity, int nice = 0);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Accepts `task` to run on a worker, or returns false (and drops it) when
  // the pool is full or shutting down.
  bool try_submit(std::function<void()> task);

  // Refuses new tasks, waits for every accepted task to finish, joins the
  // workers. Idempotent.
  void shutdown();

  Stats stats() const;
  const std::string& name() const { return name_; }

 private:
  void work();

  const std::string name_;
  const int threads_;
  const size_t capacity_;
  const int nice_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  int running_ = 0;                          // guarded by mu_
  uint64_t completed_ = 0;                   // guarded by mu_
  uint64_t rejected_ = 0;                    // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::mutex join_mu_;                       // one shutdown() joins
  std::vector<std::thread> workers_;         // last: started after the fields above
};

}  // namespace paidoc
