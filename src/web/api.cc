// JSON API v1. Money is integer fen (fields end in _fen); times are RFC 3339
// UTC strings. A document is rendered from its gated view only: withheld
// stretches are not blocks, "locked_before" says where they stand.
#include <fmt/format.h>

#include "gate/gate.h"
#include "web/handlers.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

constexpr int64_t kPerPage = 20;

const char* kind_name(gate::ViewBlock::Kind k) {
  return k == gate::ViewBlock::Kind::kHeading ? "heading" : "paragraph";
}

nlohmann::json summary_json(const store::DocumentSummary& s) {
  return {
      {"id", s.id},
      {"title", s.title},
      {"category", s.category},
      {"price_fen", s.price.value()},
      {"excerpt", s.excerpt},
      {"hidden_chars", s.figures.paid_chars},
      {"hidden_paragraphs", s.figures.paid_paragraphs},
      {"has_paid", s.has_paid_text},
      {"created_at", rfc3339_utc(s.created_at)},
      {"updated_at", rfc3339_utc(s.updated_at)},
  };
}

nlohmann::json view_json(const gate::DocumentView& v) {
  nlohmann::json blocks = nlohmann::json::array();
  nlohmann::json locked_before = nlohmann::json::array();
  for (const auto& b : v.blocks) {
    if (b.kind == gate::ViewBlock::Kind::kLocked) {
      locked_before.push_back(blocks.size());
      continue;
    }
    blocks.push_back({{"kind", kind_name(b.kind)},
                      {"level", b.level},
                      {"label", b.label},
                      {"text", b.text},
                      {"paid", b.paid}});
    // format.md §6.2: this paragraph continues the heading before it.
    if (b.run_in) blocks.back()["run_in"] = true;
  }
  nlohmann::json outline = nlohmann::json::array();
  for (const auto& o : v.teaser.outline)
    outline.push_back({{"level", o.level}, {"label", o.label}, {"text", o.text}});
  return {
      {"id", v.id},
      {"revision", v.revision},
      {"title", v.title},
      {"category", v.category},
      {"price_fen", v.price.value()},
      {"locked", v.locked},
      {"access", gate::access_name(v.access)},
      {"blocks", std::move(blocks)},
      {"locked_before", std::move(locked_before)},
      {"teaser",
       {{"hidden_chars", v.teaser.hidden_chars},
        {"hidden_paragraphs", v.teaser.hidden_paragraphs},
        {"outline", std::move(outline)}}},
      {"free_chars", v.figures.free_chars},
      {"created_at", rfc3339_utc(v.created_at)},
      {"updated_at", rfc3339_utc(v.updated_at)},
  };
}

}  // namespace

Response api_documents(Site& site, const Request& req, const Params&) {
  bool bad = false;
  std::optional<std::string> category = query_param(req.query, "category", &bad);
  if (bad) return site.error(req, Code::kInvalidArgument, "malformed category");
  std::optional<int64_t> page = parse_page(req.query);
  if (!page)
    return site.error(req, Code::kInvalidArgument, "page must be an integer from 1 to 100000");
  Result<store::ListPage> list =
      site.library().list(store::page_query(category.value_or(""), (*page - 1) * kPerPage, kPerPage));
  if (!list.ok()) return site.error(req, list.status());
  nlohmann::json items = nlohmann::json::array();
  for (const auto& s : list->items) items.push_back(summary_json(s));
  return site.json(200, {{"total", list->total},
                         {"page", *page},
                         {"per_page", kPerPage},
                         {"items", std::move(items)}});
}

Response api_document(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "document id must be a positive integer");
  if (req.caller) {
    // Signed in: the caller's own view, never from or into the cache.
    Result<gate::Viewer> viewer = site.viewer(req);
    if (!viewer.ok()) return site.error(req, viewer.status());
    Result<gate::DocumentView> view = site.library().view(*id, *viewer);
    if (!view.ok()) return site.error(req, view.status());
    // Paid text for this viewer: not kept in the browser's cache.
    return site.json(200, view_json(*view),
                     shows_paid_text(*view) ? Caching::kNoStore : Caching::kPrivate);
  }
  return site.serve_anonymous_document(
      req, *id, site.api_cache(),
      [&](const gate::DocumentView& view) { return site.prepare_json(view_json(view)); });
}

std::optional<Response> api_document_cached(Site& site, const Request& req,
                                            const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return std::nullopt;
  return site.cached_anonymous_document(req, *id, site.api_cache());
}

}  // namespace paidoc::web::handlers
