// Store: the whole of storage, as one object that is every domain interface
// at once. A backend (store/sqlite/, store/postgres/) implements
// Store (store/postgres/ is the PostgreSQL one); services take only the
// domain interface they need:
//
//   documents.h     DocumentStore   documents, categories, listings
//   search_index.h  SearchIndex     full-text search over documents
//   accounts.h      AccountStore    users, sessions (+ ThrottleStore)
//   throttles.h     ThrottleStore   stored rate limits, counted atomically
//   commerce.h      CommerceStore   orders, wallets, ledger, audit
//   downloads.h     DownloadStore   download records
//   coordination.h  CoordinationStore  one node at a time (advisory locks)
//   settings.h      SettingsStore   named values shared by every node
//   audit.h         AuditStore      the append-only audit log
//   taxonomy.h      TaxonomyStore   categories and tags: order, names, document tags
//   password_resets.h PasswordResetStore  password-reset links (hashed tokens)
//   enums.h         OrderKind, OrderStatus, Role and their strings
//
// Only the code that wires services together (web::Server, the CLI) holds
// a Store; CONTEXT.md has the words, the transaction rules and how to add a
// backend.
//
// Thread-safety: a Store is safe to use from many threads at once; backends
// keep their own connection pools. Every write method is one transaction:
// it either happens whole or leaves stored data as it was.
//
// Errors: kNotFound for a missing id, kInvalidArgument for bad input,
// kUnavailable when the database cannot be reached or is busy past its
// timeout, kInternal for anything else. Driver exceptions never escape.
//
// Time: the store reads no clock. Every time it writes comes from its
// caller: a `now` argument or a field of the input.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "store/accounts.h"
#include "store/audit.h"
#include "store/commerce.h"
#include "store/coordination.h"
#include "store/documents.h"
#include "store/password_resets.h"
#include "store/downloads.h"
#include "store/enums.h"
#include "store/search_index.h"
#include "store/settings.h"
#include "store/taxonomy.h"
#include "store/throttles.h"

namespace paidoc::store {

class Store : public DocumentStore,
              public SearchIndex,
              public AccountStore,
              public CommerceStore,
              public DownloadStore,
              public SettingsStore,
              public AuditStore,
              public TaxonomyStore,
              public PasswordResetStore,
              public CoordinationStore {
 public:
  ~Store() override = default;

  // Opens "sqlite:PATH" (file created if missing, migrations applied; each
  // applied migration is stamped with clock.now()) or "postgresql://…" /
  // "postgres://…" (a libpq URI; store/postgres/pg_store.h; kInvalidArgument
  // in a build without PAIDOC_WITH_POSTGRES). Other schemes answer
  // kInvalidArgument naming the scheme. REQUIRES: clock outlives the call
  // (the store keeps no reference to it).
  static Result<std::unique_ptr<Store>> open(const std::string& url,
                                             const Clock& clock = Clock::system());

  // Current schema version after migrations.
  virtual Result<int> schema_version() = 0;
};

}  // namespace paidoc::store
