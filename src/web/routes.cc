// The route table: every URL the server answers, in one list. Each GET route
// also answers HEAD. The name is the `route` label in /metrics.
#include "web/handlers.h"
#include "web/router.h"

namespace paidoc::web {

const std::vector<Route>& routes() {
  using namespace handlers;
  static const std::vector<Route> kRoutes = {
      // Pages (zh-CN HTML)
      {Method::kGet, "/", "home", home},
      {Method::kGet, "/d/{id}", "document", document},
      {Method::kGet, "/c/{category}", "category", category},
      {Method::kGet, "/login", "login", login},
      {Method::kGet, "/register", "register", register_page},
      {Method::kGet, "/static/{path*}", "static", static_file},
      // For crawlers and feed readers
      {Method::kGet, "/robots.txt", "robots", robots},
      {Method::kGet, "/sitemap.xml", "sitemap", sitemap},
      {Method::kGet, "/feed.xml", "feed", feed},
      // JSON API
      {Method::kGet, "/api/v1/documents", "api_documents", api_documents},
      {Method::kGet, "/api/v1/documents/{id}", "api_document", api_document},
      // Operations
      {Method::kGet, "/healthz", "healthz", healthz},
      {Method::kGet, "/metrics", "metrics", metrics},
  };
  return kRoutes;
}

}  // namespace paidoc::web
