// Taxonomy: the service the console and the command line call to organise
// documents — categories and tags: list, create, rename, reorder, delete —
// and to read or replace a document's tags.
//
// It checks names (store::normalize_term_name: trimmed, 1..32 characters,
// no control characters, no '/', '?', '#'; a zh-CN message naming the
// field) before the store is asked, and passes who acts (store::AuditActor:
// the admin on the web, "cli:<os user>" on the command line) so every
// change is recorded with its audit entry in the same transaction.
// Permission (auth::Permission::kManageTaxonomy) is the caller's route
// filter; this service does not know about accounts.
//
// Errors are the store's (store/taxonomy.h): kInvalidArgument, kConflict
// and kFailedPrecondition carry zh-CN messages meant for the user.
//
// Thread-safety: safe from many threads (the store is).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "store/audit.h"
#include "store/taxonomy.h"

namespace paidoc::taxonomy {

using store::MoveDirection;
using store::Term;
using store::TermKind;

class Taxonomy {
 public:
  // REQUIRES: store and clock outlive the service. Changes are stamped with
  // clock.now().
  explicit Taxonomy(store::TaxonomyStore& store, const Clock& clock = Clock::system())
      : store_(store), clock_(clock) {}

  // In order (position, then name), with document counts.
  Result<std::vector<Term>> list(TermKind kind) { return store_.list_terms(kind); }
  // The term named `name` (exact, after trimming), or kNotFound.
  Result<Term> find(TermKind kind, std::string_view name);

  Result<Term> create(TermKind kind, std::string_view name, const store::AuditActor& actor);
  Result<Term> rename(TermKind kind, int64_t id, std::string_view name,
                      const store::AuditActor& actor);
  // False when the term is already first (up) or last (down).
  Result<bool> move(TermKind kind, int64_t id, MoveDirection dir, const store::AuditActor& actor);
  Status remove(TermKind kind, int64_t id, const store::AuditActor& actor);

  // Replaces the document's tags (missing ones are created).
  Status set_document_tags(int64_t document_id, const std::vector<std::string>& names);
  Result<std::vector<std::string>> document_tags(int64_t document_id) {
    return store_.document_tags(document_id);
  }

  // Tag names typed in one field: separated by commas (',' '，' '、') or
  // new lines; empty items dropped. "公文, 范文，通知" → 公文, 范文, 通知.
  static std::vector<std::string> split_names(std::string_view text);

 private:
  store::TaxonomyStore& store_;
  const Clock& clock_;
};

}  // namespace paidoc::taxonomy
