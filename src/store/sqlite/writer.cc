#include "store/sqlite/writer.h"

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

namespace paidoc::store::sqlite {

namespace {

constexpr char kBeginImmediate[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";
constexpr char kSavepoint[] = "SAVEPOINT op";
constexpr char kRollbackTo[] = "ROLLBACK TO op";
constexpr char kRelease[] = "RELEASE op";

// How many times one operation is run at most (see writer.h: an operation
// whose work is lost with the transaction is run once more).
constexpr int kMaxRuns = 2;

Status exec(Connection& c, const char* sql) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  return st->exec();
}

// Ends a transaction the writer cannot go on with. Rolling back fails only
// when SQLite already did it; autocommit tells.
void abandon(Connection& c) {
  if (!c.autocommit()) (void)exec(c, kRollback);
}

// The writer whose thread this is, if any: a write submitted from inside a
// batch would wait for itself.
thread_local const Writer* running_writer = nullptr;

Status call(const Writer::Op& op, Connection& c) {
  try {
    return op(c);
  } catch (const std::exception& e) {
    return Status::internal(std::string("sqlite: write threw: ") + e.what());
  } catch (...) {
    return Status::internal("sqlite: write threw an unknown exception");
  }
}

}  // namespace

struct Writer::Request {
  explicit Request(Op o) : op(std::move(o)) {}
  Op op;
  Status result;  // written by the writer thread before done
  bool done = false;  // guarded by Writer::mu_
  std::condition_variable cv;
};

Writer::Writer(std::unique_ptr<Connection> connection, WriterOptions options)
    : options_(options), c_(std::move(connection)) {
  thread_ = std::thread([this] { loop(); });
}

Writer::~Writer() { shutdown(); }

void Writer::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_one();
  std::lock_guard<std::mutex> join_lock(join_mu_);
  if (thread_.joinable()) thread_.join();
}

Writer::Stats Writer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.queued = static_cast<int64_t>(queue_.size());
  s.accepting = !stopping_;
  return s;
}

Status Writer::submit(Op op) {
  if (running_writer == this) {
    return Status::internal("sqlite: a write submitted another write from inside its batch");
  }
  Request req(std::move(op));
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) {
    ++stats_.rejected;
    return Status::unavailable("sqlite: the store is shutting down; write refused");
  }
  if (queue_.size() >= static_cast<size_t>(options_.queue_capacity)) {
    ++stats_.rejected;
    return Status::unavailable("sqlite: write queue full (" +
                               std::to_string(options_.queue_capacity) +
                               " writes waiting); retry later");
  }
  queue_.push_back(&req);
  const bool was_empty = queue_.size() == 1;
  if (was_empty) work_cv_.notify_one();
  // The writer sets done and notifies while holding mu_, so `req` (on this
  // stack) outlives every use the writer makes of it.
  req.cv.wait(lock, [&] { return req.done; });
  return std::move(req.result);
}

void Writer::loop() {
  running_writer = this;
  std::deque<Request*> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything queued is answered
      const size_t n = std::min(queue_.size(), static_cast<size_t>(options_.max_batch));
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      ++stats_.batches;
      stats_.largest_batch = std::max(stats_.largest_batch, static_cast<int64_t>(n));
    }
    run_batch(batch);
    std::lock_guard<std::mutex> lock(mu_);
    for (Request* r : batch) {
      ++stats_.ops;
      if (!r->result.is_ok()) ++stats_.failed;
      r->done = true;
      r->cv.notify_one();
    }
    batch.clear();
  }
}

void Writer::run_batch(std::deque<Request*>& batch) {
  Connection& c = *c_;
  std::vector<int> runs(batch.size(), 0);
  // Indexes into `batch` of the operations still to run, in queue order.
  std::vector<size_t> pending(batch.size());
  for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  int64_t commits = 0;
  int64_t reruns = 0;

  while (!pending.empty()) {
    // A transaction left open by an earlier failure would make BEGIN fail
    // for every later batch.
    abandon(c);
    if (Status s = exec(c, kBeginImmediate); !s.is_ok()) {
      for (size_t i : pending) batch[i]->result = s;
      break;
    }
    std::vector<size_t> ran;  // run in this transaction, their work in it
    size_t next = 0;          // pending[next] is the next to run
    bool lost = false;        // the transaction is gone (or had to be dropped)
    for (; next < pending.size() && !lost; ++next) {
      const size_t i = pending[next];
      Request& r = *batch[i];
      if (runs[i] > 0) ++reruns;
      ++runs[i];
      Status s = exec(c, kSavepoint);
      if (s.is_ok()) s = call(r.op, c);
      if (c.autocommit()) {
        // SQLite rolled the whole transaction back (or the operation ended
        // it, against the contract): this operation's answer stands, its
        // predecessors' work is gone.
        r.result = s.is_ok() ? Status::internal("sqlite: a write ended the batch transaction")
                             : std::move(s);
        lost = true;
        continue;
      }
      if (s.is_ok()) {
        s = exec(c, kRelease);
        if (s.is_ok()) {
          r.result = Status();
          ran.push_back(i);
          continue;
        }
      } else {
        Status undo = exec(c, kRollbackTo);
        if (undo.is_ok()) undo = exec(c, kRelease);
        if (undo.is_ok()) {
          r.result = std::move(s);
          ran.push_back(i);
          continue;
        }
      }
      // The savepoint could not be released or rolled back: the transaction
      // can no longer tell this operation's work from the others'. Drop it
      // and start again without this one.
      r.result = std::move(s);
      abandon(c);
      lost = true;
    }

    if (lost) {
      std::vector<size_t> again;
      for (size_t i : ran) {
        if (runs[i] < kMaxRuns) {
          again.push_back(i);
        } else {
          batch[i]->result = Status::unavailable(
              "sqlite: write rolled back by a failure in another write of its batch; not stored");
        }
      }
      again.insert(again.end(), pending.begin() + static_cast<std::ptrdiff_t>(next),
                   pending.end());
      pending = std::move(again);
      continue;
    }

    if (Status s = exec(c, kCommit); !s.is_ok()) {
      abandon(c);
      for (size_t i : ran) batch[i]->result = s;
    } else {
      ++commits;
    }
    pending.clear();
  }

  std::lock_guard<std::mutex> lock(mu_);
  stats_.commits += commits;
  stats_.reruns += reruns;
}

}  // namespace paidoc::store::sqlite
