// The SQLite backend of store::Store. Store::open("sqlite:PATH") lands here;
// tests and tools that need non-default options call open_sqlite directly.
//
// One database file in WAL mode (readers never wait for the writer), with
// foreign keys on, synchronous=FULL (every acknowledged commit survives a
// power failure) and a busy timeout. Migrations (migrations.h) run at open.
//
// Thread-safety: the returned Store is safe from many threads. Reads use a
// pool of connections, one per concurrent caller, each with its prepared
// statements cached, so a read costs one pool checkout and one cached
// statement. Writes go to one writer thread with its own connection, which
// commits the writes waiting for it together: one transaction and one fsync
// per batch, each write in its own savepoint so a failing write undoes only
// itself (group commit, writer.h). A write method returns once its batch is
// committed. The writer takes the database write lock (BEGIN IMMEDIATE), so
// several processes may share one file. When more than write_queue_capacity
// writes are waiting, a write answers kUnavailable at once ("write queue
// full"); destroying the Store first commits and answers every queued write.
//
// The returned Store is also a store::SiteExport (transfer.h): `paidoc
// migrate` reads every table from it in one snapshot.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "store/store.h"

namespace paidoc::store::sqlite {

struct Options {
  // Reading connections are opened on demand up to this many; a reader
  // beyond that waits (up to busy_timeout_ms) for one to be returned. The
  // writer's connection comes on top. 64 covers `paidoc serve`'s default
  // store pool (32 threads) plus its I/O threads, so a cached page's
  // revision read on an I/O thread does not wait for a connection held by
  // a store thread; connections that are never needed are never opened.
  int max_connections = 64;
  // How long a statement waits for another connection's lock (the writer
  // for another process's write lock, a reader for a free connection) before
  // answering kUnavailable.
  int busy_timeout_ms = 5000;
  // Writes committed together in one transaction at most. Bounds how long
  // one transaction holds the database write lock (another process waits
  // for it) and how many writes one failed COMMIT fails.
  int max_batch = 256;
  // Writes that may wait for the writer; one more is refused at once with
  // kUnavailable ("write queue full"). At the rates in BENCHMARKS.md (about
  // a thousand purchases a second) 4096 queued writes are seconds of work: a
  // longer queue would only make callers wait longer for their answer.
  int write_queue_capacity = 4096;
};

// Opens (creating if missing) the database file at `path` and migrates it.
// The parent directory must exist. `path` is a file name, not a URI;
// ":memory:" and "" are refused (each pooled connection would see its own
// empty database). Migrations applied now are stamped with clock.now().
Result<std::unique_ptr<Store>> open_sqlite(const std::string& path, const Options& options = {},
                                           const Clock& clock = Clock::system());

}  // namespace paidoc::store::sqlite
