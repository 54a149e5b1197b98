// Group commit (store/sqlite/writer.h): batches, a failing write among
// others, SQLite rolling a whole batch back, a failed COMMIT, a full queue
// and shutdown, each seen from the callers' side and checked again in the
// database file through a connection of its own.
//
// Most tests hold the writer inside a "gate" write, queue the writes they
// want batched together behind it (waiting until the writer's queue shows
// them all), then open the gate: the queued writes then form one batch.

#include "store/sqlite/writer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/connection.h"

namespace paidoc::store::sqlite {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kInsert[] = "INSERT INTO t (k) VALUES (?1)";

// A write that inserts `key` into t.
Writer::Op insert(std::string key) {
  return [key](Connection& c) -> Status {
    auto st = c.stmt(kInsert);
    if (!st.ok()) return st.status();
    return st->bind(1, key).exec();
  };
}

// A failure that makes SQLite roll back the whole transaction (an I/O error,
// a full disk), simulated by a write that writes, rolls the transaction back
// itself and fails.
Status rolls_back_everything(Connection& c) {
  (void)insert("lost")(c);
  if (Status s = c.exec_script("ROLLBACK", "simulated I/O error"); !s.is_ok()) return s;
  return Status::internal("simulated disk I/O error");
}

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("paidoc-writer-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    fs::create_directories(dir_);
    path_ = (dir_ / "w.db").string();
  }
  void TearDown() override {
    writer_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A writer on a fresh WAL database with table t (k TEXT PRIMARY KEY),
  // whose rows the tests write.
  Writer& start(WriterOptions options = {}, int busy_timeout_ms = 2000) {
    auto c = Connection::open(path_, busy_timeout_ms);
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    Status s = (*c)->exec_script(
        "PRAGMA journal_mode = WAL;"
        "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY);"
        "CREATE TABLE IF NOT EXISTS parent (id INTEGER PRIMARY KEY);"
        "CREATE TABLE IF NOT EXISTS child (parent_id INTEGER"
        "  REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);",
        "test schema");
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    writer_ = std::make_unique<Writer>(std::move(c).value(), options);
    return *writer_;
  }

  // The keys in t, read by a connection of its own (what a reopen sees).
  std::set<std::string> keys() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT k FROM t", -1, &st, nullptr), SQLITE_OK);
    std::set<std::string> out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      out.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  // Holds the writer inside one write until open() is called.
  class Gate {
   public:
    explicit Gate(Writer& w) {
      done_ = std::async(std::launch::async, [&w, this] {
        return w.submit([this](Connection&) {
          entered_.set_value();
          release_.get_future().wait();
          return Status();
        });
      });
      entered_.get_future().wait();
    }
    ~Gate() { open(); }
    Status open() {
      if (!opened_) {
        opened_ = true;
        release_.set_value();
      }
      return done_.valid() ? done_.get() : Status();
    }

   private:
    std::promise<void> entered_;
    std::promise<void> release_;
    std::future<Status> done_;
    bool opened_ = false;
  };

  // The answer to a write submitted with submit_async(). A write left
  // unanswered is a bug that would hang the test (the future's thread
  // waits for ever), so it aborts the test binary instead, saying why.
  static Status answer(std::future<Status>& f, std::chrono::milliseconds within = 10s) {
    if (f.wait_for(within) != std::future_status::ready) {
      std::fprintf(stderr, "a write was not answered within %lld ms\n",
                   static_cast<long long>(within.count()));
      std::abort();
    }
    return f.get();
  }

  // Submits `op` from a thread of its own; the future holds its answer.
  static std::future<Status> submit_async(Writer& w, Writer::Op op) {
    return std::async(std::launch::async, [&w, op = std::move(op)] { return w.submit(op); });
  }

  // Waits until `n` writes are queued behind the running batch.
  static void wait_queued(Writer& w, int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (w.stats().queued < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(w.stats().queued, n);
  }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<Writer> writer_;
};

TEST_F(WriterTest, ConcurrentWritersShareCommitsAndAllAreDurable) {
  Writer& w = start();
  constexpr int kThreads = 16;
  constexpr int kEach = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (!w.submit(insert(std::to_string(t) + "/" + std::to_string(i))).is_ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const Writer::Stats s = w.stats();
  EXPECT_EQ(s.ops, kThreads * kEach);
  EXPECT_EQ(s.failed, 0);
  EXPECT_LT(s.commits, s.ops) << "every write paid its own commit";
  EXPECT_GT(s.largest_batch, 1);
  writer_.reset();

  std::set<std::string> want;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kEach; ++i) want.insert(std::to_string(t) + "/" + std::to_string(i));
  EXPECT_EQ(keys(), want);
}

TEST_F(WriterTest, QueuedWritesAreCommittedInBatchesOfAtMostMaxBatch) {
  Writer& w = start({.max_batch = 16, .queue_capacity = 4096});
  Gate gate(w);
  std::vector<std::future<Status>> answers;
  for (int i = 0; i < 100; ++i) answers.push_back(submit_async(w, insert("k" + std::to_string(i))));
  wait_queued(w, 100);
  ASSERT_TRUE(gate.open().is_ok());
  for (auto& a : answers) EXPECT_TRUE(answer(a).is_ok());
  const Writer::Stats s = w.stats();
  // The gate's own batch, then ceil(100 / 16) = 7.
  EXPECT_EQ(s.commits, 8);
  EXPECT_EQ(s.batches, 8);
  EXPECT_EQ(s.largest_batch, 16);
  EXPECT_EQ(s.ops, 101);
  EXPECT_EQ(keys().size(), 100u);
}

TEST_F(WriterTest, FailingWriteIsUndoneAloneAndItsBatchMatesCommit) {
  Writer& w = start();
  auto before = w.submit(insert("taken"));
  ASSERT_TRUE(before.is_ok()) << before.to_string();
  Gate gate(w);
  auto a = submit_async(w, insert("a"));
  wait_queued(w, 1);
  // Writes one row, then breaks the primary key: the whole write must go.
  auto b = submit_async(w, [](Connection& c) -> Status {
    if (Status s = insert("b-partial")(c); !s.is_ok()) return s;
    return insert("taken")(c);
  });
  wait_queued(w, 2);
  auto thrower = submit_async(w, [](Connection& c) -> Status {
    (void)insert("thrown-partial")(c);
    throw std::runtime_error("boom");
  });
  wait_queued(w, 3);
  auto c = submit_async(w, insert("c"));
  wait_queued(w, 4);
  const int64_t commits_before = w.stats().commits;
  ASSERT_TRUE(gate.open().is_ok());

  EXPECT_TRUE(answer(a).is_ok());
  Status bs = answer(b);
  EXPECT_EQ(bs.code(), Code::kConflict) << bs.to_string();
  EXPECT_NE(bs.message().find("UNIQUE"), std::string::npos) << bs.to_string();
  Status ts = answer(thrower);
  EXPECT_EQ(ts.code(), Code::kInternal) << ts.to_string();
  EXPECT_NE(ts.message().find("boom"), std::string::npos) << ts.to_string();
  EXPECT_TRUE(answer(c).is_ok());
  // The gate's batch and one for the four.
  EXPECT_EQ(w.stats().commits - commits_before, 2);
  EXPECT_EQ(keys(), (std::set<std::string>{"taken", "a", "c"}));
}

TEST_F(WriterTest, WritesLostWithARolledBackTransactionAreRunAgain) {
  Writer& w = start();
  Gate gate(w);
  auto a = submit_async(w, insert("a"));
  wait_queued(w, 1);
  auto dup = submit_async(w, insert("a"));  // fails on its own: a's row is there
  wait_queued(w, 2);
  auto bad = submit_async(w, rolls_back_everything);
  wait_queued(w, 3);
  auto d = submit_async(w, insert("d"));
  wait_queued(w, 4);
  ASSERT_TRUE(gate.open().is_ok());

  EXPECT_TRUE(answer(a).is_ok());
  // Run again after a's rerun, it still finds a's row.
  EXPECT_EQ(answer(dup).code(), Code::kConflict);
  Status bs = answer(bad);
  EXPECT_EQ(bs.code(), Code::kInternal);
  EXPECT_EQ(bs.message(), "simulated disk I/O error");
  EXPECT_TRUE(answer(d).is_ok());
  EXPECT_EQ(w.stats().reruns, 2);  // a and dup
  EXPECT_EQ(keys(), (std::set<std::string>{"a", "d"}));
}

TEST_F(WriterTest, AWriteLostTwiceIsUnavailableAndNotStored) {
  Writer& w = start();
  Gate gate(w);
  auto a = submit_async(w, insert("a"));
  wait_queued(w, 1);
  auto bad1 = submit_async(w, rolls_back_everything);
  wait_queued(w, 2);
  auto bad2 = submit_async(w, rolls_back_everything);
  wait_queued(w, 3);
  auto d = submit_async(w, insert("d"));
  wait_queued(w, 4);
  ASSERT_TRUE(gate.open().is_ok());

  Status as = answer(a);
  EXPECT_EQ(as.code(), Code::kUnavailable) << as.to_string();
  EXPECT_NE(as.message().find("another write"), std::string::npos) << as.to_string();
  EXPECT_EQ(answer(bad1).code(), Code::kInternal);
  EXPECT_EQ(answer(bad2).code(), Code::kInternal);
  EXPECT_TRUE(answer(d).is_ok());
  EXPECT_EQ(keys(), (std::set<std::string>{"d"}));
  // The writer goes on.
  EXPECT_TRUE(w.submit(insert("later")).is_ok());
  EXPECT_EQ(keys(), (std::set<std::string>{"d", "later"}));
}

TEST_F(WriterTest, FailedCommitFailsEveryWriteOfTheBatchAndStoresNone) {
  Writer& w = start();
  Gate gate(w);
  auto a = submit_async(w, insert("a"));
  wait_queued(w, 1);
  // A deferred foreign key is checked only at COMMIT, which then fails.
  auto orphan = submit_async(w, [](Connection& c) -> Status {
    return c.exec_script("INSERT INTO child (parent_id) VALUES (42)", "orphan");
  });
  wait_queued(w, 2);
  auto dup = submit_async(w, insert("a"));  // fails on its own, against a's uncommitted row
  wait_queued(w, 3);
  auto d = submit_async(w, insert("d"));
  wait_queued(w, 4);
  const int64_t commits_before = w.stats().commits;
  ASSERT_TRUE(gate.open().is_ok());

  std::vector<Status> answers = {answer(a), answer(orphan), answer(dup), answer(d)};
  for (const Status& s : answers) {
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("FOREIGN KEY"), std::string::npos) << s.to_string();
    EXPECT_EQ(s.message(), answers[0].message());
  }
  EXPECT_EQ(w.stats().commits - commits_before, 1);  // only the gate's
  EXPECT_TRUE(keys().empty());
  // The writer goes on.
  EXPECT_TRUE(w.submit(insert("later")).is_ok());
  EXPECT_EQ(keys(), (std::set<std::string>{"later"}));
}

TEST_F(WriterTest, ShutdownCommitsAndAnswersEveryQueuedWrite) {
  Writer& w = start();
  Gate gate(w);
  std::vector<std::future<Status>> answers;
  for (int i = 0; i < 50; ++i) answers.push_back(submit_async(w, insert("q" + std::to_string(i))));
  wait_queued(w, 50);
  auto stopper = std::async(std::launch::async, [&w] { w.shutdown(); });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (w.stats().accepting && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_FALSE(w.stats().accepting);
  Status late = w.submit(insert("late"));
  EXPECT_EQ(late.code(), Code::kUnavailable) << late.to_string();
  EXPECT_NE(late.message().find("shutting down"), std::string::npos) << late.to_string();

  ASSERT_TRUE(gate.open().is_ok());
  stopper.get();
  for (auto& a : answers) EXPECT_TRUE(answer(a).is_ok());
  writer_.reset();  // closes the connection

  std::set<std::string> want;
  for (int i = 0; i < 50; ++i) want.insert("q" + std::to_string(i));
  EXPECT_EQ(keys(), want);
}

TEST_F(WriterTest, FullQueueRefusesAtOnceAndChangesNothing) {
  Writer& w = start({.max_batch = 256, .queue_capacity = 4});
  std::vector<std::future<Status>> answers;
  std::future<Status> extra;
  Gate gate(w);  // the running write does not count against the queue
  for (int i = 0; i < 4; ++i) answers.push_back(submit_async(w, insert("q" + std::to_string(i))));
  wait_queued(w, 4);

  // Answered at once, while the writer is still held.
  extra = submit_async(w, insert("one too many"));
  Status full = answer(extra, 2s);
  EXPECT_EQ(full.code(), Code::kUnavailable) << full.to_string();
  EXPECT_NE(full.message().find("write queue full"), std::string::npos) << full.to_string();
  EXPECT_EQ(w.stats().rejected, 1);
  EXPECT_TRUE(keys().empty());  // the writer is still held: nothing is in

  ASSERT_TRUE(gate.open().is_ok());
  for (auto& a : answers) EXPECT_TRUE(answer(a).is_ok());
  EXPECT_EQ(keys(), (std::set<std::string>{"q0", "q1", "q2", "q3"}));
  // Room again.
  EXPECT_TRUE(w.submit(insert("after")).is_ok());
}

TEST_F(WriterTest, TypedRunReturnsTheValueOnlyWhenCommitted) {
  Writer& w = start();
  auto id = w.run<int64_t>([](Connection& c) -> Result<int64_t> {
    if (Status s = insert("x")(c); !s.is_ok()) return s;
    return sqlite3_last_insert_rowid(c.handle());
  });
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_GT(*id, 0);
  auto refused = w.run<int64_t>([](Connection& c) -> Result<int64_t> {
    (void)insert("y")(c);
    return Status::not_found("no such thing");
  });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kNotFound);
  EXPECT_EQ(keys(), (std::set<std::string>{"x"}));
}

TEST_F(WriterTest, WriteSubmittedFromInsideAWriteIsRefused) {
  Writer& w = start();
  Status inner;
  Status outer = w.submit([&](Connection& c) -> Status {
    inner = w.submit(insert("inner"));
    return insert("outer")(c);
  });
  EXPECT_TRUE(outer.is_ok()) << outer.to_string();
  EXPECT_EQ(inner.code(), Code::kInternal) << inner.to_string();
  EXPECT_EQ(keys(), (std::set<std::string>{"outer"}));
}

TEST_F(WriterTest, AnotherProcessHoldingTheLockPastTheTimeoutFailsTheBatch) {
  Writer& w = start({}, 200);
  ASSERT_TRUE(w.submit(insert("first")).is_ok());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &other, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  Status blocked = w.submit(insert("second"));  // after the 200 ms busy timeout
  EXPECT_EQ(blocked.code(), Code::kUnavailable) << blocked.to_string();
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_TRUE(w.submit(insert("second")).is_ok());
  EXPECT_EQ(keys(), (std::set<std::string>{"first", "second"}));
}

}  // namespace
}  // namespace paidoc::store::sqlite
