// Search: the /search page and /api/v1/search. Thin: read the parameters,
// admit the query (Site::admit_search: limits per address and account), ask
// search::Searcher (which applies the gate per hit), render. A hit for
// a reader without access carries no paid text by construction; the page
// only says which of the reader's own words were found in the paid part.
#include <fmt/format.h>

#include <chrono>

#include "search/clean.h"
#include "search/search.h"
#include "web/handlers.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

struct SearchParams {
  search::Request request;
  std::string price_name;  // "", "free", "paid"
  std::string sort_name;   // "", "date"
};

// Reads q, page, category, price, sort. nullopt + message on bad input.
std::optional<SearchParams> read_params(const Request& req, std::string* error) {
  SearchParams p;
  bool bad = false;
  p.request.q = query_param(req.query, "q", &bad).value_or("");
  if (bad) {
    *error = "搜索词编码不正确";
    return std::nullopt;
  }
  if (p.request.q.size() > 256) p.request.q.resize(256);
  while (!p.request.q.empty() && !valid_utf8(p.request.q)) p.request.q.pop_back();
  // Echoed in the page and the answer as it is searched: control characters
  // are separators (search::clean_query), never bytes of a term.
  p.request.q = search::clean_query(p.request.q);
  std::optional<int64_t> page = parse_page(req.query);
  if (!page) {
    *error = "页码必须是正整数";
    return std::nullopt;
  }
  p.request.page = *page;
  p.request.category = query_param(req.query, "category", &bad).value_or("");
  p.price_name = query_param(req.query, "price", &bad).value_or("");
  p.sort_name = query_param(req.query, "sort", &bad).value_or("");
  if (bad) {
    *error = "查询参数编码不正确";
    return std::nullopt;
  }
  if (p.price_name == "free") {
    p.request.price = store::PriceFilter::kFree;
  } else if (p.price_name == "paid") {
    p.request.price = store::PriceFilter::kPaid;
  } else if (!p.price_name.empty() && p.price_name != "all") {
    *error = "price 只能是 free、paid 或 all";
    return std::nullopt;
  }
  if (p.sort_name == "date") {
    p.request.newest_first = true;
  } else if (!p.sort_name.empty() && p.sort_name != "relevance") {
    *error = "sort 只能是 relevance 或 date";
    return std::nullopt;
  }
  return p;
}

// The /search URL for the same filters with another q / page / sort.
std::string search_url(const SearchParams& p, std::string_view q, int64_t page, std::string_view sort,
                       std::string_view price, std::string_view category) {
  std::string url = "/search?q=" + percent_encode(q);
  if (!category.empty()) url += "&category=" + percent_encode(category);
  if (!price.empty() && price != "all") url += "&price=" + std::string(price);
  if (sort == "date") url += "&sort=date";
  if (page > 1) url += fmt::format("&page={}", page);
  return url;
}

nlohmann::json spans_json(const std::vector<search::Span>& spans) {
  nlohmann::json out = nlohmann::json::array();
  for (const search::Span& s : spans) out.push_back({{"text", s.text}, {"mark", s.mark}});
  return out;
}

// Snippets cut from paid text (only ever for a viewer with access) make the
// answer a buyer render: not kept in the browser's cache.
Caching caching_of(const search::Results& r) {
  for (const search::Hit& h : r.hits)
    if (h.snippet_from_paid) return Caching::kNoStore;
  return Caching::kPrivate;
}

void add_timing(Response& res, std::chrono::steady_clock::time_point start) {
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  res.add_header("Server-Timing", fmt::format("search;dur={:.2f}", ms));
}

}  // namespace

Response search_page(Site& site, const Request& req, const Params&) {
  const auto start = std::chrono::steady_clock::now();
  std::string error;
  std::optional<SearchParams> p = read_params(req, &error);
  if (!p) return site.error(req, Code::kInvalidArgument, error);
  if (!p->request.q.empty()) {
    if (std::optional<Response> refused = site.admit_search(req)) return std::move(*refused);
  }
  Result<gate::Viewer> viewer = site.viewer(req);
  if (!viewer.ok()) return site.error(req, viewer.status());
  Result<search::Results> r = site.searcher().search(p->request, *viewer);
  if (!r.ok()) return site.error(req, r.status());
  Result<std::vector<store::Category>> cats = site.library().categories();
  if (!cats.ok()) return site.error(req, cats.status());

  const std::string& q = p->request.q;
  nlohmann::json ctx = site.page_context(q.empty() ? "搜索" : q + " - 搜索");
  ctx["q"] = q;
  ctx["searched"] = !r->query.empty();
  ctx["total"] = r->total;
  ctx["has_hits"] = !r->hits.empty();
  ctx["no_results"] = !r->query.empty() && r->total == 0;
  ctx["nothing_to_search"] = !q.empty() && r->query.empty();
  nlohmann::json ignored = nlohmann::json::array();
  for (const std::string& w : r->query.ignored) ignored.push_back(w);
  ctx["ignored"] = ignored;
  ctx["has_ignored"] = !ignored.empty();

  // Filters: category options, price and sort links.
  nlohmann::json categories = nlohmann::json::array();
  for (const auto& c : *cats) {
    categories.push_back({{"name", c.name}, {"selected", c.name == p->request.category}});
  }
  ctx["categories"] = std::move(categories);
  ctx["category"] = p->request.category;
  ctx["price_all"] = p->price_name.empty() || p->price_name == "all";
  ctx["price_free"] = p->price_name == "free";
  ctx["price_paid"] = p->price_name == "paid";
  ctx["sort_date"] = p->request.newest_first;
  ctx["sort_relevance_url"] = search_url(*p, q, 1, "", p->price_name, p->request.category);
  ctx["sort_date_url"] = search_url(*p, q, 1, "date", p->price_name, p->request.category);

  nlohmann::json hits = nlohmann::json::array();
  for (const search::Hit& h : r->hits) {
    hits.push_back({
        {"url", fmt::format("/d/{}", h.id)},
        {"title_spans", spans_json(h.title_spans)},
        {"category", h.category},
        {"category_url", h.category.empty() ? std::string() : Site::category_url(h.category)},
        {"price", Site::price_label(h.price, h.has_paid_text)},
        {"free", !h.has_paid_text || h.price.value() == 0},
        {"locked", h.locked},
        {"snippet", spans_json(h.snippet)},
        {"has_snippet", !h.snippet.empty()},
        {"snippet_from_paid", h.snippet_from_paid},
        {"match_in_paid", h.match_in_paid && h.locked},
        {"paid_terms", h.paid_terms},
        {"date", display_date(h.updated_at)},
    });
  }
  ctx["hits"] = std::move(hits);

  nlohmann::json suggestions = nlohmann::json::array();
  for (const search::Suggestion& s : r->suggestions) {
    suggestions.push_back({
        {"url", s.without_filters ? search_url(*p, s.q, 1, p->sort_name, "", "")
                                  : search_url(*p, s.q, 1, p->sort_name, p->price_name,
                                               p->request.category)},
        {"q", s.q},
        {"dropped", s.dropped},
        {"without_filters", s.without_filters},
        {"total", s.total},
    });
  }
  ctx["suggestions"] = std::move(suggestions);
  ctx["has_suggestions"] = !r->suggestions.empty();

  nlohmann::json pager = {{"page", r->page}, {"pages", std::max<int64_t>(1, r->pages)}};
  if (r->page > 1) {
    pager["prev_url"] =
        search_url(*p, q, r->page - 1, p->sort_name, p->price_name, p->request.category);
  }
  if (r->page < r->pages) {
    pager["next_url"] =
        search_url(*p, q, r->page + 1, p->sort_name, p->price_name, p->request.category);
  }
  pager["show"] = r->pages > 1;
  ctx["pager"] = std::move(pager);
  // Search pages are not for indexing.
  ctx["noindex"] = true;
  Response res = site.html(req, 200, "search.html", std::move(ctx), caching_of(*r));
  add_timing(res, start);
  return res;
}

Response api_search(Site& site, const Request& req, const Params&) {
  const auto start = std::chrono::steady_clock::now();
  std::string error;
  std::optional<SearchParams> p = read_params(req, &error);
  if (!p) return site.error(req, Code::kInvalidArgument, error);
  if (auto per = query_param(req.query, "per_page")) {
    std::optional<int64_t> n = parse_id(*per);
    if (!n || *n > 50) return site.error(req, Code::kInvalidArgument, "per_page 必须是 1 到 50 的整数");
    p->request.per_page = *n;
  }
  if (!p->request.q.empty()) {
    if (std::optional<Response> refused = site.admit_search(req)) return std::move(*refused);
  }
  Result<gate::Viewer> viewer = site.viewer(req);
  if (!viewer.ok()) return site.error(req, viewer.status());
  Result<search::Results> r = site.searcher().search(p->request, *viewer);
  if (!r.ok()) return site.error(req, r.status());

  nlohmann::json hits = nlohmann::json::array();
  for (const search::Hit& h : r->hits) {
    hits.push_back({
        {"id", h.id},
        {"title", h.title},
        {"title_html", h.title_html()},
        {"category", h.category},
        {"price_fen", h.price.value()},
        {"locked", h.locked},
        {"snippet", h.snippet_text()},
        {"snippet_html", h.snippet_html()},
        {"snippet_from_paid", h.snippet_from_paid},
        {"match_in_paid", h.match_in_paid},
        {"paid_terms", h.paid_terms},
        {"created_at", rfc3339_utc(h.created_at)},
        {"updated_at", rfc3339_utc(h.updated_at)},
    });
  }
  nlohmann::json suggestions = nlohmann::json::array();
  for (const search::Suggestion& s : r->suggestions) {
    suggestions.push_back({{"q", s.q},
                           {"dropped", s.dropped},
                           {"without_filters", s.without_filters},
                           {"total", s.total}});
  }
  nlohmann::json ignored = nlohmann::json::array();
  for (const std::string& w : r->query.ignored) ignored.push_back(w);
  nlohmann::json body = {
      {"q", p->request.q},
      {"query", r->query.to_string()},
      {"ignored", ignored},
      {"total", r->total},
      {"page", r->page},
      {"pages", r->pages},
      {"per_page", r->per_page},
      {"hits", std::move(hits)},
      {"suggestions", std::move(suggestions)},
  };
  Response res = site.json(200, body, caching_of(*r));
  add_timing(res, start);
  return res;
}

}  // namespace paidoc::web::handlers
