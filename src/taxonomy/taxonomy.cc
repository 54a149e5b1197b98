#include "taxonomy/taxonomy.h"

namespace paidoc::taxonomy {

Result<Term> Taxonomy::find(TermKind kind, std::string_view name) {
  Result<std::string> clean = store::normalize_term_name(kind, name);
  if (!clean.ok()) return Status::not_found("no such term");
  Result<std::vector<Term>> all = store_.list_terms(kind);
  if (!all.ok()) return all.status();
  for (Term& t : *all)
    if (t.name == *clean) return std::move(t);
  return Status::not_found("no such term");
}

Result<Term> Taxonomy::create(TermKind kind, std::string_view name,
                              const store::AuditActor& actor) {
  Result<std::string> clean = store::normalize_term_name(kind, name);
  if (!clean.ok()) return clean.status();
  return store_.create_term(kind, *clean, actor, clock_.now());
}

Result<Term> Taxonomy::rename(TermKind kind, int64_t id, std::string_view name,
                              const store::AuditActor& actor) {
  Result<std::string> clean = store::normalize_term_name(kind, name);
  if (!clean.ok()) return clean.status();
  return store_.rename_term(kind, id, *clean, actor, clock_.now());
}

Result<bool> Taxonomy::move(TermKind kind, int64_t id, MoveDirection dir,
                            const store::AuditActor& actor) {
  return store_.move_term(kind, id, dir, actor, clock_.now());
}

Status Taxonomy::remove(TermKind kind, int64_t id, const store::AuditActor& actor) {
  return store_.delete_term(kind, id, actor, clock_.now());
}

Status Taxonomy::set_document_tags(int64_t document_id, const std::vector<std::string>& names) {
  return store_.set_document_tags(document_id, names, clock_.now());
}

std::vector<std::string> Taxonomy::split_names(std::string_view text) {
  return store::split_term_names(text);
}

}  // namespace paidoc::taxonomy
