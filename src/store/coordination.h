// CoordinationStore: what the processes sharing one database agree on
// outside any transaction — which one runs a periodic job right now — and
// whether the store is shared by several server nodes at all.
//
//   auto hold = store.try_exclusive("expiry-sweep");
//   if (!hold.ok())   -> the database could not be asked; skip this round
//   if (!*hold)       -> another process holds it; skip this round
//   else              -> run the job; the lock goes with *hold
//
// PostgreSQL: a session advisory lock (pg_try_advisory_lock) on a pooled
// connection kept by the hold, so it spans every node on the database and
// ends with the hold, or with the connection when its node dies. SQLite: an
// flock() on a lock file beside the database file ("PATH.NAME.lock"), so it
// spans every process on the file (the kernel drops it when the process
// dies), and also two stores opened on one file in one process.
//
// A hold is a lease on nothing but the name: work done under it must still
// be correct without it (every write is its own transaction); the lock only
// keeps nodes from doing the same work twice at once.
//
// Thread-safety: try_exclusive() may be called from many threads. A hold is
// released by destroying it, from any thread; it must not outlive its store.
// Never waits for a holder.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace paidoc::store {

// A lock taken by try_exclusive(); released by the destructor.
class ExclusiveHold {
 public:
  virtual ~ExclusiveHold() = default;
};

class CoordinationStore {
 public:
  virtual ~CoordinationStore() = default;

  // Takes the lock `name` when no process sharing this database (this one
  // included) holds it: the hold. nullptr when another holder has it now.
  // kInvalidArgument for a name that is empty, longer than 64 characters,
  // or not made of a-z, 0-9, '-' and '_'; kUnavailable when the database
  // (or the lock file) cannot be reached.
  virtual Result<std::unique_ptr<ExclusiveHold>> try_exclusive(const std::string& name) = 0;

  // True when several server processes are expected to share this store,
  // so that anything a node would count in its memory must be counted in
  // the store instead (PostgreSQL). False for SQLite: a site on one file is
  // served by one `paidoc serve` process (other processes on the file are
  // one-shot commands), so per-process counters are the site's counters.
  virtual bool shared_by_nodes() const = 0;
};

// kInvalidArgument unless `name` is a valid lock name (above).
Status check_exclusive_name(const std::string& name);

}  // namespace paidoc::store
