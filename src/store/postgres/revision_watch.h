// Document revisions a node may answer without asking PostgreSQL.
//
// The anonymous document page is served from each node's render cache,
// keyed by (document, revision), and the node asks the store for the
// revision on every request so that a change made by another node is
// never served stale. On SQLite that is a page-cache hit; on PostgreSQL it
// was a round trip per page view. RevisionWatch keeps the revisions it
// has read, and a connection of its own LISTENs on `paidoc_documents`,
// where a trigger on the documents table (migration 5) notifies the id of
// every document whose revision changes or that is deleted, by any node,
// CLI or tool, when its transaction commits. A notification forgets that
// id; losing the listening connection forgets everything and answers
// nothing until it is back (each read then goes to the database, as
// before).
//
// A read races a change: the value is kept only if no notification came
// between the start of the read and the keep (`epoch`), so a revision read
// just before a commit is never kept past that commit's notification.
//
// Thread-safety: every method may be called from any thread. The watch
// owns its thread and connection; the destructor stops both.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

namespace paidoc::store::postgres {

class RevisionWatch {
 public:
  // Starts listening at once, in the background. `conninfo` is never
  // printed (it may hold a password).
  explicit RevisionWatch(std::string conninfo);
  ~RevisionWatch();
  RevisionWatch(const RevisionWatch&) = delete;
  RevisionWatch& operator=(const RevisionWatch&) = delete;

  // The kept revision of `id`; nullopt when not kept (or not listening).
  std::optional<int64_t> get(int64_t id);
  // Take before reading a revision from the database, pass to keep().
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // Keeps `revision` for `id` when listening and no notification came
  // since `epoch_before`.
  void keep(int64_t id, int64_t revision, uint64_t epoch_before);
  // Forgets every kept revision (and moves the epoch, so a read in flight
  // is not kept either). The store calls it after its own document and
  // taxonomy writes commit, so the node that wrote reads its write at once
  // instead of until the notification arrives.
  void forget_all();
  // True while the listening connection is up (for tests and metrics).
  bool listening() const { return listening_.load(std::memory_order_acquire); }

  // At most this many documents are kept; past it the map starts over.
  static constexpr size_t kMaxKept = 1'000'000;

 private:
  void run();

  const std::string conninfo_;
  std::mutex mu_;
  std::condition_variable stopped_cv_;
  std::unordered_map<int64_t, int64_t> kept_;  // guarded by mu_
  std::atomic<uint64_t> epoch_{0};
  std::atomic<bool> listening_{false};
  std::atomic<bool> stop_{false};
  int wake_fd_ = -1;  // eventfd: the destructor wakes the thread's poll
  std::thread thread_;
};

}  // namespace paidoc::store::postgres
