// The trust pages' routes (/about, /terms, /privacy, /refund-policy,
// /contact): the same bytes for every anonymous reader, prepared at start
// (Site::trust_prepared) and answered on the I/O thread with an ETag; a
// signed-in reader gets the page with their header, rendered per request
// from the same pre-rendered body.
#include "web/handlers.h"

namespace paidoc::web::handlers {

Response trust_page(Site& site, const Request& req, const Params&) {
  const TrustPage* page = site.trust_pages().find(req.path);
  if (!page) return site.not_found(req);
  if (!req.caller) {
    if (std::shared_ptr<const Prepared> p = site.trust_prepared(req.path))
      return site.serve(req, std::move(p));
  }
  return site.html(req, 200, "trust_page.html", site.trust_context(*page));
}

std::optional<Response> trust_page_cached(Site& site, const Request& req, const Params&) {
  std::shared_ptr<const Prepared> p = site.trust_prepared(req.path);
  if (!p) return std::nullopt;
  return site.serve(req, std::move(p));
}

}  // namespace paidoc::web::handlers
