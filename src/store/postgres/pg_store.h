// The PostgreSQL backend of store::Store. Store::open("postgresql://…") and
// Store::open("postgres://…") land here; tests and tools that need other
// options call open_postgres directly.
//
// Several `paidoc serve` nodes may share one database: everything a node
// decides together with others is decided in the database. Every write
// method is one SERIALIZABLE transaction (wallet payments: READ COMMITTED
// under row locks on the wallet and the order, see in_locked_txn), run
// again from the start when
// PostgreSQL reports that it collided with a concurrent one (a
// serialization failure or a deadlock), at least max_attempts times and for
// at least wait_ms, then kUnavailable. So a business operation (a wallet purchase, a payment
// notification, a throttle hit) behaves as if the nodes took turns, with
// no lock held in any process. Multi-statement reads run in one
// REPEATABLE READ snapshot. Migrations (migrations.h) run at open, under an
// advisory lock, so nodes starting together apply each once.
//
// The returned Store is also a store::SiteImport (transfer.h): `paidoc
// migrate` copies a whole site into an empty database through it.
//
// Thread-safety: the returned Store is safe from many threads; each call
// borrows one pooled connection (opened on demand up to max_connections)
// for its duration.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "store/store.h"

namespace paidoc::store::postgres {

struct Options {
  // Connections opened on demand; a caller beyond that waits up to wait_ms
  // for one to be returned, then kUnavailable. 64 as the SQLite backend's
  // pool: `paidoc serve`'s store threads plus its I/O threads. The server's
  // max_connections must cover every node's pool.
  int max_connections = 64;
  int wait_ms = 5000;
  // How long a statement waits for a row or table lock another
  // transaction holds (lock_timeout) before kUnavailable.
  int lock_timeout_ms = 5000;
  // Runs of one write when it keeps colliding with concurrent writes: it
  // gives up (kUnavailable) once it has run max_attempts times and wait_ms
  // have passed since its first run, whichever comes later.
  int max_attempts = 30;
};

// Connects with a libpq connection URI or string ("postgresql://user@host:
// port/db?…"), migrates the database and returns the store. Messages never
// quote the URI (it may hold a password).
Result<std::unique_ptr<Store>> open_postgres(const std::string& conninfo,
                                             const Options& options = {},
                                             const Clock& clock = Clock::system());

}  // namespace paidoc::store::postgres
