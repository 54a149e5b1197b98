// The SQLite backend of store::Store. Store::open("sqlite:PATH") lands here;
// tests and tools that need non-default options call open_sqlite directly.
//
// One database file in WAL mode (readers never wait for the writer), with
// foreign keys on, synchronous=FULL (every acknowledged commit survives a
// power failure) and a busy timeout. Migrations (migrations.h) run at open.
//
// Thread-safety: the returned Store is safe from many threads. It keeps a
// pool of connections, one per concurrent caller, each with its prepared
// statements cached, so reads cost one pool checkout and one cached
// statement. Writes are serialised in-process and take the database write
// lock (BEGIN IMMEDIATE), so several processes may share one file.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "store/store.h"

namespace paidoc::store::sqlite {

struct Options {
  // Connections are opened on demand up to this many; a caller beyond that
  // waits (up to busy_timeout_ms) for one to be returned.
  int max_connections = 8;
  // How long a statement waits for another connection's lock (and a caller
  // for a free connection) before answering kUnavailable.
  int busy_timeout_ms = 5000;
};

// Opens (creating if missing) the database file at `path` and migrates it.
// The parent directory must exist. `path` is a file name, not a URI;
// ":memory:" and "" are refused (each pooled connection would see its own
// empty database). Migrations applied now are stamped with clock.now().
Result<std::unique_ptr<Store>> open_sqlite(const std::string& path, const Options& options = {},
                                           const Clock& clock = Clock::system());

}  // namespace paidoc::store::sqlite
