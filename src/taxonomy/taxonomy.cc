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
  std::vector<std::string> out;
  std::string item;
  auto flush = [&] {
    if (item.find_first_not_of(" \t\r") != std::string::npos) out.push_back(item);
    item.clear();
  };
  for (size_t i = 0; i < text.size();) {
    std::string_view rest = text.substr(i);
    if (rest[0] == ',' || rest[0] == '\n') {
      flush();
      ++i;
    } else if (rest.starts_with("，") || rest.starts_with("、")) {
      flush();
      i += 3;  // both are three bytes in UTF-8
    } else {
      item += rest[0];
      ++i;
    }
  }
  flush();
  return out;
}

}  // namespace paidoc::taxonomy
