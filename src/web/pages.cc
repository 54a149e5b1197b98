// HTML pages: home, document, category, static files (account pages are in
// account.cc).
// Document pages are rendered from a gated view only; the anonymous page is
// cached by (id, revision).
#include <fmt/format.h>

#include <algorithm>

#include "gate/gate.h"
#include "web/commerce_view.h"
#include "web/handlers.h"
#include "web/util.h"
#include "web/view_blocks.h"

namespace paidoc::web::handlers {

namespace {

constexpr int64_t kPerPage = 20;
constexpr int kDescriptionChars = 120;
// Paid headings the paywall card lists before folding the rest (<details>).
constexpr size_t kOutlineShown = 3;

// ?page= links for a listing at `base` ("/", "/c/公文").
nlohmann::json pager(std::string_view base, int64_t page, int64_t total) {
  int64_t pages = std::max<int64_t>(1, (total + kPerPage - 1) / kPerPage);
  nlohmann::json p = {{"page", page}, {"pages", pages}};
  if (page > 1)
    p["prev_url"] = page == 2 ? std::string(base) : fmt::format("{}?page={}", base, page - 1);
  if (page < pages) p["next_url"] = fmt::format("{}?page={}", base, page + 1);
  p["show"] = pages > 1;
  return p;
}

nlohmann::json listing(Site& site, const store::ListPage& page) {
  nlohmann::json docs = nlohmann::json::array();
  for (const auto& s : page.items) docs.push_back(site.summary_context(s));
  return docs;
}

// The meta description: the publisher's summary, else free paragraph text
// of the view, clipped. The view
// of an anonymous reader holds no paid text; blocks marked paid (a viewer
// with access) are skipped anyway, so metadata is the same for everyone.
std::string description_of(const gate::DocumentView& v) {
  // The publisher's summary, when they wrote one.
  if (!v.summary.empty()) {
    std::string clipped = gate::clip_chars(v.summary, kDescriptionChars);
    if (clipped.size() < v.summary.size()) clipped += "…";
    return clipped;
  }
  std::string text;
  for (const auto& b : v.blocks) {
    if (b.kind != gate::ViewBlock::Kind::kParagraph || b.paid) continue;
    text += b.text;
    if (text.size() > kDescriptionChars * 4) break;
  }
  if (text.empty()) return v.title;
  std::string clipped = gate::clip_chars(text, kDescriptionChars);
  if (clipped.size() < text.size()) clipped += "…";
  return clipped;
}

// `signed_in`: the paywall's buy button is an order form (POST /orders);
// for an anonymous reader it is a link to sign in first.
nlohmann::json document_context(Site& site, const gate::DocumentView& v, bool signed_in) {
  std::string description = description_of(v);
  nlohmann::json ctx = site.page_context(v.title);
  std::string url = fmt::format("/d/{}", v.id);
  ctx["description"] = description;
  ctx["canonical"] = site.config().base_url + url;
  ctx["og"] = {
      {"title", v.title}, {"description", description}, {"url", site.config().base_url + url}};
  bool has_paid = v.teaser.hidden_chars > 0 || v.teaser.hidden_paragraphs > 0;
  ctx["doc"] = {
      {"id", v.id},
      {"title", v.title},
      {"category", v.category},
      {"category_url", v.category.empty() ? std::string() : Site::category_url(v.category)},
      {"price", Site::price_label(v.price, has_paid)},
      {"locked", v.locked},
      {"unlocked_paid", !v.locked && has_paid},
      // Download buttons: for a signed-in viewer who may read everything;
      // an anonymous reader of a free document is asked to sign in.
      {"can_download", !v.locked && signed_in},
      {"download_login", !v.locked && !signed_in},
      {"date", display_date(v.updated_at)},
      {"free_chars", v.figures.free_chars},
  };
  nlohmann::json tags = nlohmann::json::array();
  for (const auto& t : v.tags) tags.push_back({{"name", t}, {"url", Site::tag_url(t)}});
  ctx["doc"]["has_tags"] = !tags.empty();
  ctx["doc"]["tags"] = std::move(tags);
  // The outline: the first few headings, the rest folded.
  nlohmann::json outline = nlohmann::json::array();
  nlohmann::json folded = nlohmann::json::array();
  for (const auto& o : v.teaser.outline)
    (outline.size() < kOutlineShown ? outline : folded)
        .push_back({{"level", o.level}, {"label", o.label}, {"text", o.text}});
  ctx["teaser"] = {
      {"hidden_chars", v.teaser.hidden_chars},
      {"hidden_paragraphs", v.teaser.hidden_paragraphs},
      {"has_outline", !outline.empty()},
      {"outline", std::move(outline)},
      {"has_folded", !folded.empty()},
      {"folded_count", folded.size()},
      {"outline_count", v.teaser.outline.size()},
      {"folded", std::move(folded)},
  };
  // An anonymous reader registers (or signs in) and comes back to the
  // paywall card of this document, its buy buttons ready.
  std::string back = percent_encode(url + "#buy");
  ctx["buy_url"] = "/register?next=" + back;
  ctx["login_url"] = "/login?next=" + back;
  ctx["vip_url"] = "/vip?back=" + url;
  ctx["buy_form"] = signed_in;
  ctx["pay_methods"] = pay_methods_line(site.commerce());

  ctx["blocks"] = view_blocks_json(v);
  return ctx;
}

}  // namespace

Response home(Site& site, const Request& req, const Params&) {
  std::optional<int64_t> page = parse_page(req.query);
  if (!page) return site.error(req, Code::kInvalidArgument, "page must be a positive integer");
  Result<store::ListPage> list = site.library().list(store::page_query("", (*page - 1) * kPerPage, kPerPage));
  if (!list.ok()) return site.error(req, list.status());
  Result<std::vector<store::Category>> cats = site.library().categories();
  if (!cats.ok()) return site.error(req, cats.status());

  nlohmann::json ctx = site.page_context("");
  ctx["description"] =
      fmt::format("{}：公文范文与资料文档，免费部分直接阅读，付费后阅读全文。", site.config().site_name);
  ctx["canonical"] = site.config().base_url + "/";
  nlohmann::json categories = nlohmann::json::array();
  for (const auto& c : *cats)
    categories.push_back(
        {{"name", c.name}, {"url", Site::category_url(c.name)}, {"count", c.document_count}});
  ctx["has_categories"] = !categories.empty();
  ctx["categories"] = std::move(categories);
  ctx["docs"] = listing(site, *list);
  ctx["total"] = list->total;
  ctx["pager"] = pager("/", *page, list->total);
  return site.html(req, 200, "home.html", std::move(ctx));
}

Response category(Site& site, const Request& req, const Params& params) {
  std::optional<std::string> name = percent_decode(params.get("category"), false);
  if (!name) return site.error(req, Code::kInvalidArgument, "malformed category name");
  std::optional<int64_t> page = parse_page(req.query);
  if (!page) return site.error(req, Code::kInvalidArgument, "page must be a positive integer");
  Result<std::vector<store::Category>> cats = site.library().categories();
  if (!cats.ok()) return site.error(req, cats.status());
  auto it =
      std::find_if(cats->begin(), cats->end(), [&](const auto& c) { return c.name == *name; });
  if (it == cats->end()) return site.error(req, Code::kNotFound, "no such category");
  Result<store::ListPage> list = site.library().list(store::page_query(*name, (*page - 1) * kPerPage, kPerPage));
  if (!list.ok()) return site.error(req, list.status());

  std::string url = Site::category_url(*name);
  nlohmann::json ctx = site.page_context(*name);
  ctx["description"] = fmt::format("{}分类下的文档，共 {} 篇。", *name, list->total);
  ctx["canonical"] = site.config().base_url + url;
  ctx["category"] = {{"name", *name}, {"url", url}, {"count", list->total}};
  ctx["docs"] = listing(site, *list);
  ctx["pager"] = pager(url, *page, list->total);
  return site.html(req, 200, "category.html", std::move(ctx));
}

Response document(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "document id must be a positive integer");
  if (req.caller) {
    // Signed in: the caller's own view (they may see more, and the header
    // names them), never from or into the anonymous cache.
    Result<gate::Viewer> viewer = site.viewer(req);
    if (!viewer.ok()) return site.error(req, viewer.status());
    Result<gate::DocumentView> view = site.library().view(*id, *viewer);
    if (!view.ok()) return site.error(req, view.status());
    nlohmann::json ctx = document_context(site, *view, true);
    // The buy buttons. A wallet that covers the price is offered first: one
    // tap buys and unlocks (POST /orders with pay=wallet, one transaction).
    // Otherwise the gateways come first, each paying for this document
    // directly (POST /orders with pay=<method>), and the wallet follows
    // with its balance and a top-up that comes back here.
    if (view->locked && view->price.value() > 0) {
      Result<Fen> balance = site.commerce().balance(req.caller->user_id());
      bool enough = balance.ok() && *balance >= view->price;
      if (enough) ctx["wallet_pay"] = {{"balance", balance->yuan_string()}};
      nlohmann::json gateways = gateway_methods(site.commerce());
      if (!enough && !gateways.empty()) gateways[0]["primary"] = true;
      ctx["gateways"] = std::move(gateways);
      if (!enough && balance.ok())
        ctx["wallet_short"] = {{"balance", balance->yuan_string()},
                               {"topup_url", "/wallet/topup?back=" +
                                                 percent_encode(fmt::format("/d/{}#buy", *id))}};
    }
    // Paid text for this viewer: not kept in the browser's cache.
    const bool pays_here = ctx.contains("gateways") && !ctx["gateways"].empty();
    Response page = site.html(req, 200, "document.html", std::move(ctx),
                              shows_paid_text(*view) ? Caching::kNoStore : Caching::kPrivate);
    // The card's gateway buttons hand the reader to the gateway.
    return pays_here ? Site::allow_gateway_forms(std::move(page)) : page;
  }
  // Anonymous: only these renders are cached.
  return site.serve_anonymous_document(req, *id, site.page_cache(),
                                       [&](const gate::DocumentView& view) {
                                         return site.prepare_html(
                                             "document.html", document_context(site, view, false));
                                       });
}

std::optional<Response> document_cached(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return std::nullopt;
  return site.cached_anonymous_document(req, *id, site.page_cache());
}

Response static_file(Site& site, const Request& req, const Params& params) {
  std::shared_ptr<const Prepared> p = site.static_file(params.get("path"));
  if (!p) return site.not_found(req);
  return site.serve(req, std::move(p));
}

}  // namespace paidoc::web::handlers
