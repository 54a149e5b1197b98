// TaxonomyStore: the two ways documents are organised — categories (a
// document has at most one) and tags (a document has any number) — with
// their order, and the tags of each document.
//
// Categories and tags are both **terms** (`Term`) of a kind (`TermKind`):
// a name (unique within its kind, as used in /c/{name} and /t/{name}), a
// position (lists come in position order, then name) and the number of
// documents that use it.
//
// Ownership: results are values owned by the caller; the store keeps no
// reference to arguments after a call returns.
//
// Thread-safety: an implementation is safe to use from many threads at once.
// Every write method is one transaction: it happens whole or not at all.
//
// Audit: create_term, rename_term, move_term and delete_term append their
// audit entry (audit.h: category.* / tag.*, target_kind "category" | "tag",
// the term's id, details with the names) for `actor` at `now` in the SAME
// transaction as the change; a refused change appends nothing. An actor
// without a label is refused (kInvalidArgument).
//
// Render caches: a change that alters what a document's page shows bumps
// that document's revision in the same transaction (renaming its category
// or one of its tags, moving one of its tags — the page lists tags in
// position order — and changing its tag set), so caches keyed by
// (document id, revision) never serve a stale page.
//
// Errors: kNotFound for a missing id, kInvalidArgument for a bad name
// (normalize_term_name's zh-CN message, naming the field), kConflict for a
// name its kind already has, kFailedPrecondition for deleting a term that
// documents still use, kUnavailable when the database is busy or
// unreachable, kInternal otherwise. Driver exceptions never escape.
//
// Time: the store reads no clock; `now` comes from the caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/audit.h"

namespace paidoc::store {

enum class TermKind { kCategory, kTag };

// "category" / "tag": the audit log's target_kind and action prefix.
const char* to_string(TermKind kind);

struct Term {
  int64_t id = 0;
  std::string name;
  int64_t position = 0;        // lists are ordered by (position, name)
  int64_t document_count = 0;  // documents using it (list_terms; 0 elsewhere)
};

enum class MoveDirection { kUp, kDown };

// Longest name, in characters (code points).
inline constexpr int kMaxTermNameChars = 32;
// Most tags one document may have.
inline constexpr size_t kMaxDocumentTags = 20;

// The name as stored: trimmed (ASCII white space and U+3000), then checked:
// 1..kMaxTermNameChars characters of valid UTF-8, no control characters and
// none of '/', '?', '#' (names are path segments of /c/… and /t/…).
// kInvalidArgument with a zh-CN message naming the field ("分类名称…" /
// "标签名称…") otherwise.
Result<std::string> normalize_term_name(TermKind kind, std::string_view raw);

// A document's tag names as stored: each normalised (normalize_term_name),
// duplicates after normalising counted once, in the given order; at most
// kMaxDocumentTags (kInvalidArgument "标签：…" otherwise).
Result<std::vector<std::string>> normalize_tag_names(const std::vector<std::string>& names);

// Tag names typed in one field: separated by commas (',' '，' '、') or
// new lines; blank items dropped. "公文, 范文，通知" → 公文, 范文, 通知
// (untrimmed: normalize_tag_names trims).
std::vector<std::string> split_term_names(std::string_view text);

class TaxonomyStore {
 public:
  virtual ~TaxonomyStore() = default;

  // Every term of `kind`, in (position, name) order, with its document
  // count (0 for an unused one). The category links readers see follow
  // this order (DocumentStore::list_categories uses it too).
  virtual Result<std::vector<Term>> list_terms(TermKind kind) = 0;

  // A new term at the end of the list (position after the last). kConflict
  // when the name is taken.
  virtual Result<Term> create_term(TermKind kind, const std::string& name, const AuditActor& actor,
                                   int64_t now) = 0;

  // Renames term `id`; renaming to its own name changes nothing and is no
  // error (and appends no entry). kConflict when another term has the name.
  // Bumps the revision of every document that uses it.
  virtual Result<Term> rename_term(TermKind kind, int64_t id, const std::string& name,
                                   const AuditActor& actor, int64_t now) = 0;

  // Swaps term `id` with its neighbour above or below. False (nothing
  // changed, nothing appended) when it is already first / last. The list is
  // renumbered 0..n-1 in its current order first, so equal positions (rows
  // from before positions existed) move predictably. Moving a tag bumps the
  // revision of the documents that use either of the two swapped tags.
  virtual Result<bool> move_term(TermKind kind, int64_t id, MoveDirection dir,
                                 const AuditActor& actor, int64_t now) = 0;

  // Deletes term `id`. kFailedPrecondition while any document uses it,
  // with the message "分类「X」下还有 N 篇文档，不能删除" (or "标签「X」…").
  virtual Status delete_term(TermKind kind, int64_t id, const AuditActor& actor,
                             int64_t now) = 0;

  // Replaces the tags of document `document_id` with `names` (each
  // normalised as normalize_term_name does; duplicates after normalising
  // count once; at most kMaxDocumentTags). Missing tags are created at the
  // end of the list with created_at = now. Bumps the document's revision
  // when its set changes. An empty list removes every tag. kNotFound for a
  // missing document. Not audited here: the change is part of editing the
  // document, which its caller records.
  virtual Status set_document_tags(int64_t document_id, const std::vector<std::string>& names,
                                   int64_t now) = 0;

  // The names of the document's tags, in tag (position, name) order; empty
  // for a document without tags. kNotFound for a missing document.
  virtual Result<std::vector<std::string>> document_tags(int64_t document_id) = 0;
};

}  // namespace paidoc::store
