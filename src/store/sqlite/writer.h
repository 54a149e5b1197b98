// Group commit for the SQLite backend: one thread that owns the write
// connection and commits the writes of many callers in one transaction, so
// one fsync acknowledges a whole batch instead of each write paying its own.
// Internal to store/sqlite/.
//
// How a batch runs. The writer takes every queued operation, up to
// max_batch, opens one transaction (BEGIN IMMEDIATE: the database write
// lock, waited for up to the connection's busy timeout, so other processes
// on the same file keep working) and runs each operation inside its own
// savepoint. An operation that fails is rolled back to its savepoint alone:
// its caller gets its error and its batch-mates go on. Then one COMMIT, and
// only after COMMIT has returned is any caller of the batch answered:
// nothing is acknowledged before it is durable (synchronous=FULL).
//
// Errors:
// - BEGIN fails (another process holds the lock past the busy timeout):
//   every operation of the batch gets that error (kUnavailable) and none ran.
// - COMMIT fails: every operation of the batch gets that error, including
//   those that had failed on their own (their answer may have depended on a
//   batch-mate's write that is now gone). Nothing of the batch is stored.
// - An operation's failure makes SQLite roll back the whole transaction
//   itself (some I/O errors, SQLITE_FULL, SQLITE_NOMEM; seen as autocommit
//   being back on): that operation gets its own error, and the operations
//   before it in the batch, whose work was lost with the transaction, are run
//   again from the start in a fresh transaction, in the same order, together
//   with the ones not run yet. Operations are functions of the database
//   alone, so running one again gives the answer it would have given. An
//   operation is run at most twice: one whose work is lost a second time gets
//   kUnavailable ("rolled back by a failure in another write") and nothing of
//   it is stored. Each round ends at least one operation, so a batch always
//   finishes.
// - An operation that throws is answered kInternal and rolled back to its
//   savepoint like any failure.
//
// Queue and shutdown. At most queue_capacity operations wait for the writer
// (the batch being run does not count); a submit beyond that answers
// kUnavailable at once ("write queue full") without waiting: the caller
// should retry later. shutdown() (also run by the destructor) refuses new
// submits with kUnavailable, runs and acknowledges everything already
// queued, then joins the thread.
//
// Ownership and thread-safety: the Writer owns its connection and its
// thread. submit() and stats() are safe from any number of threads;
// submit() blocks its caller until the operation is answered.
// REQUIRES: an operation runs only statements inside the transaction the
// writer opened: no BEGIN, COMMIT, ROLLBACK or RELEASE of savepoints it did
// not make, and it does not call submit() (the writer would wait for
// itself; such a submit answers kInternal). Operations must not rely on
// deferred constraints: a violation found at COMMIT fails the whole batch.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "common/status.h"
#include "store/sqlite/connection.h"

namespace paidoc::store::sqlite {

struct WriterOptions {
  // Operations committed together at most; a larger queue is committed in
  // several transactions, in order.
  int max_batch = 256;
  // Operations that may wait for the writer; a submit beyond this many is
  // refused with kUnavailable.
  int queue_capacity = 4096;
};

class Writer {
 public:
  // One write: runs on the writer's connection inside the batch
  // transaction, within its own savepoint. A non-OK status undoes it.
  using Op = std::function<Status(Connection&)>;

  // Counters since construction, for tests and metrics.
  struct Stats {
    int64_t batches = 0;   // batches taken from the queue
    int64_t commits = 0;   // transactions committed (one fsync each)
    int64_t ops = 0;       // operations answered, whatever the answer
    int64_t failed = 0;    // of those, answered with an error
    int64_t rejected = 0;  // submits refused because the queue was full or closed
    int64_t reruns = 0;    // runs repeated after SQLite rolled back a transaction
    int64_t largest_batch = 0;
    int64_t queued = 0;    // operations waiting now (not counting the running batch)
    bool accepting = true;  // false once shutdown() has started
  };

  // Takes the connection (its pragmas set, no transaction open) and starts
  // the writer thread. REQUIRES: options.max_batch >= 1 and
  // options.queue_capacity >= 1.
  Writer(std::unique_ptr<Connection> connection, WriterOptions options);
  // shutdown(), then closes the connection.
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues `op` and waits until its batch is committed (OK: durable) or it
  // failed. kUnavailable at once when the queue is full or shutdown has
  // started.
  Status submit(Op op);

  // submit() for an operation that produces a value: f(Connection&) returns
  // Result<T>; the value is returned only once it is durable.
  template <typename T, typename F>
  Result<T> run(F&& f) {
    std::optional<Result<T>> out;
    Status s = submit([&](Connection& c) -> Status {
      out.emplace(f(c));  // a rerun replaces the answer of the lost run
      return out->status();
    });
    if (!s.is_ok()) return s;
    return std::move(*out);
  }

  // Stops taking new operations, completes every queued one, joins the
  // thread. Idempotent; safe from any thread but the writer's own.
  void shutdown();

  Stats stats() const;

 private:
  struct Request;
  void loop();
  void run_batch(std::deque<Request*>& batch);

  const WriterOptions options_;
  std::unique_ptr<Connection> c_;  // used by the writer thread only

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // queue_ not empty, or stopping_
  std::deque<Request*> queue_;       // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  Stats stats_;                      // guarded by mu_
  std::mutex join_mu_;               // one shutdown() joins
  std::thread thread_;
};

}  // namespace paidoc::store::sqlite
