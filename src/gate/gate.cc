#include "gate/gate.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

namespace paidoc::gate {

Access decide(const DocumentFacts& doc, const Viewer& viewer) {
  if (!doc.has_paid_text) return Access::kNothingPaid;
  if (viewer.role == Role::kAdmin || viewer.role == Role::kSystem) return Access::kAdmin;
  if (doc.price.value() == 0) return Access::kFreePrice;
  // Below here the viewer must be a signed-in user: an anonymous viewer has
  // no purchases, plan or publications, whatever the struct claims.
  if (!viewer.user_id || viewer.role == Role::kAnonymous) return Access::kNone;
  if (doc.publisher_id && *doc.publisher_id == *viewer.user_id) return Access::kPublisher;
  if (std::find(viewer.purchased.begin(), viewer.purchased.end(), doc.id) != viewer.purchased.end())
    return Access::kPurchased;
  if (viewer.vip) return Access::kVip;
  return Access::kNone;
}

const char* access_name(Access a) {
  switch (a) {
    case Access::kNone: return "none";
    case Access::kNothingPaid: return "nothing_paid";
    case Access::kFreePrice: return "free";
    case Access::kPurchased: return "purchased";
    case Access::kVip: return "vip";
    case Access::kPublisher: return "publisher";
    case Access::kAdmin: return "admin";
  }
  return "none";
}

std::string clip_chars(std::string_view s, int n) {
  size_t i = 0;
  int count = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (count == n) break;
    i += len;
    ++count;
  }
  return std::string(s.substr(0, std::min(i, s.size())));
}

std::string public_excerpt(const doc::Document& d, int max_chars) {
  std::string out;
  int64_t have = 0;
  for (const auto& b : d.blocks) {
    if (b.kind != doc::BlockKind::kParagraph) continue;
    for (const auto& r : b.runs) {
      if (r.paid) continue;  // free runs only, whoever asks
      out += r.text;
      have += doc::count_chars(r.text);
    }
    if (have >= max_chars) break;
  }
  std::string clipped = clip_chars(out, max_chars);
  if (clipped.size() < out.size()) clipped += "…";
  return clipped;
}

namespace {

ViewBlock::Kind kind_of(const doc::Block& b) {
  return b.kind == doc::BlockKind::kHeading ? ViewBlock::Kind::kHeading
                                            : ViewBlock::Kind::kParagraph;
}

// Appends a kLocked marker unless the previous shown block already is one, so
// a contiguous paid stretch becomes a single paywall.
void push_locked(std::vector<ViewBlock>& out) {
  if (!out.empty() && out.back().kind == ViewBlock::Kind::kLocked) return;
  ViewBlock v;
  v.kind = ViewBlock::Kind::kLocked;
  out.push_back(std::move(v));
}

Teaser make_teaser(const doc::Document& d) {
  Teaser t;
  t.hidden_chars = d.figures.paid_chars;
  t.hidden_paragraphs = d.figures.paid_paragraphs;
  // doc::outline_text is the whole rule: which paid headings show, and with
  // what text. Nothing else of a paid block reaches the teaser.
  for (const auto& b : d.blocks)
    if (std::optional<std::string> text = doc::outline_text(b))
      t.outline.push_back({b.level, b.label, std::move(*text)});
  return t;
}

}  // namespace

DocumentView make_view(const GateInput& in, const Viewer& viewer) {
  const doc::Document& d = *in.document;
  DocumentView v;
  v.id = in.facts.id;
  v.revision = in.revision;
  v.title = d.title;
  v.category = in.category;
  v.tags = in.tags;
  v.price = in.facts.price;
  v.access = decide(in.facts, viewer);
  v.locked = locked(v.access);
  v.created_at = in.created_at;
  v.updated_at = in.updated_at;
  v.summary = in.summary;
  v.figures = d.figures;
  if (in.facts.has_paid_text) v.teaser = make_teaser(d);

  for (const auto& b : d.blocks) {
    if (!v.locked) {
      ViewBlock vb{kind_of(b), b.level, b.label, b.full_text(), b.has_paid(), b.indent};
      vb.run_in = b.run_in && !v.blocks.empty() && v.blocks.back().kind == ViewBlock::Kind::kHeading;
      vb.closing = b.closing;
      v.blocks.push_back(std::move(vb));
      continue;
    }
    // Locked: walk the runs; free runs are kept in place, each paid stretch
    // becomes one kLocked block. The label belongs to the first run's side.
    bool label_paid = !b.runs.empty() && b.runs.front().paid;
    std::string label = label_paid ? std::string() : b.label;
    std::string free_text;
    bool first_segment = true;
    auto flush_free = [&]() {
      if (free_text.empty() && label.empty()) return;
      ViewBlock vb{first_segment ? kind_of(b) : ViewBlock::Kind::kParagraph,
                   first_segment ? b.level : 0, label, std::move(free_text), false,
                   first_segment ? b.indent : 0};
      if (vb.kind == ViewBlock::Kind::kParagraph) vb.level = 0;
      // A run-in block whose heading was withheld stands as a paragraph.
      vb.run_in = first_segment && b.run_in && !v.blocks.empty() &&
                  v.blocks.back().kind == ViewBlock::Kind::kHeading;
      vb.closing = b.closing;  // a block with a closing role is wholly on one side
      v.blocks.push_back(std::move(vb));
      free_text.clear();
      label.clear();
      first_segment = false;
    };
    for (const auto& r : b.runs) {
      if (r.paid) {
        flush_free();
        push_locked(v.blocks);
        first_segment = false;
      } else {
        free_text += r.text;
      }
    }
    flush_free();
  }
  return v;
}

PaidScope paid_scope(const Viewer& viewer) {
  PaidScope s;
  s.free_price = true;
  if (viewer.role == Role::kAdmin || viewer.role == Role::kSystem) {
    s.all = true;
    return s;
  }
  if (!viewer.user_id || viewer.role == Role::kAnonymous) return s;
  s.publisher_id = viewer.user_id;
  s.purchased = viewer.purchased;
  s.all = viewer.vip;
  return s;
}

bool covered(const PaidScope& scope, const DocumentFacts& doc) {
  if (scope.all) return true;
  if (scope.free_price && doc.price.value() == 0) return true;
  if (scope.publisher_id && doc.publisher_id && *doc.publisher_id == *scope.publisher_id) {
    return true;
  }
  return std::find(scope.purchased.begin(), scope.purchased.end(), doc.id) !=
         scope.purchased.end();
}

}  // namespace paidoc::gate
