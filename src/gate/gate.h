// The gate: the one place where a stored document and a viewer become the
// view that may be rendered. Every outward rendering (HTML page, JSON API,
// listing, feed, sitemap, metadata, export) is made from a DocumentView or a
// Listing built here, never from a doc::Document.
//
// A view for a viewer without access holds no paid text at all: paid runs
// are dropped before the view exists, and what remains of the paid part is
// the teaser (price, hidden character and paragraph counts, and the paid
// headings that doc::outline_text() admits). Templates, snippets and feeds
// cannot leak what they never receive.
//
// decide() is pure (no I/O) and tested over every combination of inputs in
// tests/gate/gate_test.cc.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/money.h"
#include "doc/document.h"
#include "doc/outline.h"

namespace paidoc::gate {

enum class Role { kAnonymous, kReader, kEditor, kAdmin, kSystem };

// Who is looking, with what they are entitled to. Accounts and commerce fill
// in user_id, role, vip and purchases; today's web viewer is anonymous and
// the CLI is kSystem.
struct Viewer {
  std::optional<int64_t> user_id;
  Role role = Role::kAnonymous;
  bool vip = false;                        // an active VIP plan
  std::vector<int64_t> purchased;          // document ids bought (any order)

  static Viewer anonymous() { return {}; }
  static Viewer system() { return {std::nullopt, Role::kSystem, false, {}}; }
};

// The facts about a document that access depends on.
struct DocumentFacts {
  int64_t id = 0;
  Fen price;
  std::optional<int64_t> publisher_id;
  bool has_paid_text = false;
};

// Why a viewer may or may not read the paid part. kNone is the only value
// that locks.
enum class Access {
  kNone,        // no access: the view carries the teaser only
  kNothingPaid, // the document has no paid text, nothing to withhold
  kFreePrice,   // price is zero: everyone reads everything
  kPurchased,
  kVip,
  kPublisher,
  kAdmin,       // admin or system (CLI)
};

Access decide(const DocumentFacts& doc, const Viewer& viewer);
inline bool locked(Access a) { return a == Access::kNone; }
const char* access_name(Access a);

// Outline entries hold at most this many characters (doc/outline.h).
inline constexpr int kOutlineMaxChars = doc::kOutlineMaxChars;

struct OutlineEntry {
  int level = 0;
  std::string label;  // "（三）"
  std::string text;   // doc::outline_text(): at most kOutlineMaxChars code
                      // points (label excluded), no sentence punctuation
};

struct Teaser {
  int64_t hidden_chars = 0;
  int64_t hidden_paragraphs = 0;
  // Paid headings that read as headings (doc::outline_text), in order.
  std::vector<OutlineEntry> outline;
};

// A block as it may be shown. kLocked stands where a stretch of paid text was
// withheld (one per contiguous paid stretch); it has no text.
struct ViewBlock {
  enum class Kind { kHeading, kParagraph, kLocked };
  Kind kind = Kind::kParagraph;
  int level = 0;
  std::string label;
  std::string text;   // what may be shown; never paid text when locked
  bool paid = false;  // shown text came from the paid part (viewer has access)
  int indent = 0;
  // A kParagraph that continues the kHeading just before it in one paragraph
  // (a run-in heading, doc::Block::run_in). Only set when the block before it
  // in the view is that heading; renderers show the two as one paragraph.
  bool run_in = false;
  // A kParagraph's closing role (doc::Block::closing, format.md §6.4).
  doc::Closing closing = doc::Closing::kNone;
};

struct DocumentView {
  int64_t id = 0;
  int64_t revision = 0;
  std::string title;
  std::string category;  // may be empty
  std::vector<std::string> tags;  // tag names in tag order; may be empty
  Fen price;
  Access access = Access::kNone;
  bool locked = false;   // == gate::locked(access) && document has paid text
  std::vector<ViewBlock> blocks;
  Teaser teaser;         // filled whenever the document has paid text
  doc::Figures figures;  // free figures always; paid figures are counts only
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
  // The publisher's summary (free text they wrote; "" when none): the meta
  // description when set.
  std::string summary;
};

// The input to the gate: a stored document with its metadata.
struct GateInput {
  DocumentFacts facts;
  int64_t revision = 0;
  std::string category;
  std::vector<std::string> tags;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  const doc::Document* document = nullptr;  // REQUIRES: non-null
  std::string summary;  // the publisher's summary, never paid text
};

DocumentView make_view(const GateInput& in, const Viewer& viewer);

// The public excerpt shown in listings, feeds and meta descriptions: the
// first free paragraphs' text, clipped to max_chars code points (with "…").
// Built from free runs only, whatever the viewer.
std::string public_excerpt(const doc::Document& d, int max_chars = 120);

// Clips UTF-8 text to n code points (no ellipsis).
std::string clip_chars(std::string_view utf8, int n);

// decide() as a rule over documents rather than for one document: the
// documents with paid text whose paid part the viewer may read. Search
// needs it for documents it has not loaded. For every document with paid
// text, covered(paid_scope(v), facts) == !locked(decide(facts, v))
// (tests/gate checks every combination).
struct PaidScope {
  bool all = false;                     // every document
  bool free_price = false;              // documents priced 0
  std::optional<int64_t> publisher_id;  // documents this user published
  std::vector<int64_t> purchased;       // these documents
};
PaidScope paid_scope(const Viewer& viewer);
bool covered(const PaidScope& scope, const DocumentFacts& doc);

}  // namespace paidoc::gate
