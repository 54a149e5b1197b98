#include "common/work_pool.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>

namespace paidoc {

WorkPool::WorkPool(std::string name, int threads, size_t queue_capacity, int nice)
    : name_(std::move(name)),
      threads_(threads < 1 ? 1 : threads),
      capacity_(queue_capacity),
      nice_(nice) {
  workers_.reserve(static_cast<size_t>(threads_));
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { work(); });
}

WorkPool::~WorkPool() { shutdown(); }

bool WorkPool::try_submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    // Running plus waiting is bounded by the workers plus the queue: a task
    // for which no worker is free waits only while the queue has room.
    const size_t in_pool = queue_.size() + static_cast<size_t>(running_);
    if (stopping_ || in_pool >= static_cast<size_t>(threads_) + capacity_) {
      ++rejected_;
      return false;
    }
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void WorkPool::shutdown() {
  std::lock_guard join_lock(join_mu_);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_)
    if (t.joinable()) t.join();
}

WorkPool::Stats WorkPool::stats() const {
  std::lock_guard lock(mu_);
  return Stats{threads_, capacity_, queue_.size(), running_, completed_, rejected_};
}

void WorkPool::work() {
  std::string thread_name = ("paidoc-" + name_).substr(0, 15);
  pthread_setname_np(pthread_self(), thread_name.c_str());
  if (nice_ != 0) {
    // Per thread on Linux; failure (a limit on raising priority) only leaves
    // the worker at its inherited priority.
    errno = 0;
    int current = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    if (errno == 0) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), current + nice_);
  }
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    // Stopping drains the queue first: accepted work always runs.
    if (queue_.empty()) return;
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "work pool %s: task threw: %s\n", name_.c_str(), e.what());
    } catch (...) {
      std::fprintf(stderr, "work pool %s: task threw\n", name_.c_str());
    }
    task = nullptr;  // destroy what it captured before counting it done
    lock.lock();
    --running_;
    ++completed_;
  }
}

}  // namespace paidoc
