#include "common/work_pool.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <chrono>
#include <future>
#include <thread>
#include <mutex>
#include <stdexcept>

#include "common/gate.h"

namespace paidoc {
namespace {

using testing::Gate;

TEST(WorkPool, RunsEveryAcceptedTask) {
  std::atomic<int> ran{0};
  WorkPool pool("test", 4, 1000);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(pool.try_submit([&] { ran.fetch_add(1); }));
  pool.shutdown();
  EXPECT_EQ(ran.load(), 1000);
  WorkPool::Stats s = pool.stats();
  EXPECT_EQ(s.completed, 1000u);
  EXPECT_EQ(s.rejected, 0u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.running, 0);
}

TEST(WorkPool, RunsTasksOnItsOwnThreads) {
  std::promise<std::thread::id> where;
  WorkPool pool("test", 1, 1);
  ASSERT_TRUE(pool.try_submit([&] { where.set_value(std::this_thread::get_id()); }));
  EXPECT_NE(where.get_future().get(), std::this_thread::get_id());
}

TEST(WorkPool, RefusesWhenWorkersAndQueueAreFull) {
  Gate gate;
  std::atomic<int> ran{0};
  WorkPool pool("test", 1, 1);
  ASSERT_TRUE(pool.try_submit([&] { gate.wait(); ran.fetch_add(1); }));
  gate.wait_arrived(1);  // the only worker is busy now
  EXPECT_TRUE(pool.try_submit([&] { ran.fetch_add(1); }));   // waits in the queue
  EXPECT_FALSE(pool.try_submit([&] { ran.fetch_add(100); }));  // no room
  WorkPool::Stats s = pool.stats();
  EXPECT_EQ(s.running, 1);
  EXPECT_EQ(s.queued, 1u);
  EXPECT_EQ(s.rejected, 1u);
  gate.open();
  pool.shutdown();
  EXPECT_EQ(ran.load(), 2);  // the refused task never ran
}

TEST(WorkPool, RoomComesBackWhenATaskFinishes) {
  Gate gate;
  WorkPool pool("test", 1, 0);
  std::promise<void> first_done;
  ASSERT_TRUE(pool.try_submit([&] { gate.wait(); first_done.set_value(); }));
  gate.wait_arrived(1);
  EXPECT_FALSE(pool.try_submit([] {}));  // queue 0: only a free worker takes a task
  gate.open();
  first_done.get_future().get();
  // The worker is free once the task's bookkeeping is done; until then a
  // refusal is correct, so ask until it takes the task.
  std::promise<void> second_done;
  bool accepted = false;
  // Bounded by time, not tries: on a loaded machine the worker may not run
  // again for a while.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!accepted && std::chrono::steady_clock::now() < deadline) {
    accepted = pool.try_submit([&] { second_done.set_value(); });
    if (!accepted) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  ASSERT_TRUE(accepted);
  second_done.get_future().get();
}

TEST(WorkPool, QueueZeroAcceptsOneTaskPerFreeWorker) {
  Gate gate;
  WorkPool pool("test", 2, 0);
  ASSERT_TRUE(pool.try_submit([&] { gate.wait(); }));
  ASSERT_TRUE(pool.try_submit([&] { gate.wait(); }));
  gate.wait_arrived(2);
  EXPECT_FALSE(pool.try_submit([] {}));
  gate.open();
}

TEST(WorkPool, ShutdownFinishesAcceptedTasksThenRefuses) {
  Gate gate;
  std::atomic<int> ran{0};
  WorkPool pool("test", 1, 8);
  ASSERT_TRUE(pool.try_submit([&] { gate.wait(); ran.fetch_add(1); }));
  gate.wait_arrived(1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.try_submit([&] { ran.fetch_add(1); }));
  auto stopped = std::async(std::launch::async, [&] { pool.shutdown(); });
  gate.open();
  stopped.get();
  EXPECT_EQ(ran.load(), 6);  // the running task and all five queued ones
  EXPECT_FALSE(pool.try_submit([&] { ran.fetch_add(1); }));
  EXPECT_EQ(ran.load(), 6);
  pool.shutdown();  // idempotent
}

TEST(WorkPool, TasksMaySubmitMoreTasks) {
  std::promise<void> inner_ran;
  WorkPool pool("test", 1, 1);
  ASSERT_TRUE(pool.try_submit([&] { EXPECT_TRUE(pool.try_submit([&] { inner_ran.set_value(); })); }));
  inner_ran.get_future().get();
}

TEST(WorkPool, ATaskThatThrowsDoesNotStopItsWorker) {
  WorkPool pool("test", 1, 2);
  ASSERT_TRUE(pool.try_submit([] { throw std::runtime_error("expected by the test"); }));
  std::promise<void> after;
  ASSERT_TRUE(pool.try_submit([&] { after.set_value(); }));
  after.get_future().get();
  pool.shutdown();
  EXPECT_EQ(pool.stats().completed, 2u);
}

TEST(WorkPool, NiceLowersOnlyTheWorkersPriority) {
  errno = 0;
  const int mine = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  ASSERT_EQ(errno, 0);
  if (mine + 5 > 19) GTEST_SKIP() << "already at the lowest priority";
  std::promise<int> theirs;
  WorkPool pool("test", 1, 1, 5);
  ASSERT_TRUE(pool.try_submit(
      [&] { theirs.set_value(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()))); }));
  EXPECT_EQ(theirs.get_future().get(), mine + 5);
  EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), mine);
}

}  // namespace
}  // namespace paidoc
