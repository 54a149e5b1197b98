// The categories-and-tags half of the SQLite backend (store/taxonomy.h),
// and the tag listing of DocumentStore::list_documents. Internal to
// store/postgres/.
//
// Thread-safety: as Connection: one thread at a time per connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/audit.h"
#include "store/documents.h"
#include "store/postgres/connection.h"
#include "store/taxonomy.h"

namespace paidoc::store::postgres {

// Reads: a single statement each, or (document_tags_in) two.
Result<std::vector<Term>> list_terms_in(Connection& c, TermKind kind);
Result<std::vector<std::string>> document_tags_in(Connection& c, int64_t document_id);
// REQUIRES: inside a read transaction on c (count and page in one
// snapshot); q.tag non-empty; limit and offset checked.
Result<ListPage> list_tagged_in(Connection& c, const ListQuery& q);

// Writes. REQUIRES: inside a write transaction on c; names already
// normalised (normalize_term_name); actor checked (non-empty label).
Result<Term> create_term_in(Connection& c, TermKind kind, const std::string& name,
                            const AuditActor& actor, int64_t now);
Result<Term> rename_term_in(Connection& c, TermKind kind, int64_t id, const std::string& name,
                            const AuditActor& actor, int64_t now);
Result<bool> move_term_in(Connection& c, TermKind kind, int64_t id, MoveDirection dir,
                          const AuditActor& actor, int64_t now);
Status delete_term_in(Connection& c, TermKind kind, int64_t id, const AuditActor& actor,
                      int64_t now);
// Bumps the document's revision when its tag set changes, unless `bump` is
// false (save_document, which bumps it itself).
Status set_document_tags_in(Connection& c, int64_t document_id,
                            const std::vector<std::string>& names, int64_t now,
                            bool bump = true);

}  // namespace paidoc::store::postgres
