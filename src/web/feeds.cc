// For crawlers and feed readers: robots.txt, sitemap.xml, Atom feed. Made
// from listings (DocumentSummary: title, free excerpt, counts), never from
// document text.
#include <fmt/format.h>

#include "web/handlers.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

constexpr int64_t kFeedEntries = 50;
constexpr int64_t kSitemapMax = 50000;  // the sitemap protocol's limit per file

Response text_response(Site& site, const Request& req, const std::string& name,
                       const nlohmann::json& ctx, std::string_view headers) {
  Response r;
  if (Status s = site.templates().render_to(name, ctx, &r.body); !s)
    return site.error(req, Status::internal(s.message()));
  r.headers.append(headers);
  return r;
}

}  // namespace

Response robots(Site& site, const Request& req, const Params&) {
  return text_response(site, req, "robots.txt", site.page_context(""),
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "Cache-Control: public, max-age=3600\r\n");
}

Response sitemap(Site& site, const Request& req, const Params&) {
  Result<std::vector<store::Category>> cats = site.library().categories();
  if (!cats.ok()) return site.error(req, cats.status());
  nlohmann::json urls = nlohmann::json::array();
  const std::string& base = site.config().base_url;
  urls.push_back({{"loc", base + "/"}});
  for (const auto& c : *cats) urls.push_back({{"loc", base + Site::category_url(c.name)}});
  // Tag pages with documents (an empty one lists nothing worth crawling).
  Result<std::vector<store::Term>> tags = site.taxonomy().list(store::TermKind::kTag);
  if (!tags.ok()) return site.error(req, tags.status());
  for (const auto& t : *tags)
    if (t.document_count > 0) urls.push_back({{"loc", base + Site::tag_url(t.name)}});
  // The trust pages (关于我们, 用户协议, …).
  for (const TrustPageInfo& info : trust_page_infos())
    urls.push_back({{"loc", base + std::string(info.path)}});
  for (int64_t offset = 0; offset < kSitemapMax;) {
    Result<store::ListPage> page = site.library().list(store::page_query("", offset, 1000));
    if (!page.ok()) return site.error(req, page.status());
    for (const auto& s : page->items)
      urls.push_back(
          {{"loc", fmt::format("{}/d/{}", base, s.id)}, {"lastmod", rfc3339_utc(s.updated_at)}});
    offset += static_cast<int64_t>(page->items.size());
    if (page->items.empty() || offset >= page->total) break;
  }
  nlohmann::json ctx = {{"urls", std::move(urls)}};
  return text_response(site, req, "sitemap.xml", ctx,
                       "Content-Type: application/xml; charset=utf-8\r\n"
                       "Cache-Control: public, max-age=300\r\n");
}

Response feed(Site& site, const Request& req, const Params&) {
  Result<store::ListPage> page = site.library().list(store::page_query("", 0, kFeedEntries));
  if (!page.ok()) return site.error(req, page.status());
  nlohmann::json ctx = site.page_context("");
  nlohmann::json entries = nlohmann::json::array();
  int64_t updated = 0;
  for (const auto& s : page->items) {
    entries.push_back(site.summary_context(s));
    updated = std::max(updated, s.updated_at);
  }
  ctx["entries"] = std::move(entries);
  ctx["updated"] = rfc3339_utc(updated);
  return text_response(site, req, "feed.xml", ctx,
                       "Content-Type: application/atom+xml; charset=utf-8\r\n"
                       "Cache-Control: public, max-age=300\r\n");
}

}  // namespace paidoc::web::handlers
