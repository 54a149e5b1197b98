// Site: what the handlers share — the library, templates, render caches,
// metrics, static files — and the helpers that turn results into responses.
// Internal to src/web; the public interface is server.h.
//
// Handlers (handlers.h) are thin: parse the request, call the library, build
// a context from a gated view or a listing, render. They never see a
// doc::Document.
//
// Thread-safety: after init(), everything here is safe from many threads
// (caches and metrics synchronise themselves; the rest is read-only).
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "library/library.h"
#include "web/cache.h"
#include "web/http.h"
#include "web/metrics.h"
#include "web/router.h"
#include "web/template.h"

namespace paidoc::web {

struct SiteConfig {
  std::string site_name = "paidoc 文库";
  std::string base_url;           // absolute, no trailing slash
  size_t cache_bytes = 64 << 20;  // render caches (pages and API) together
};

// Maps a status code to its HTTP status. The only place that does
// (errors.cc).
int http_status(Code code);

class Site {
 public:
  Site(library::Library& library, SiteConfig config);

  // Parses the templates and prepares the static files. kInternal when an
  // embedded template does not parse.
  Status init();

  // Routes and runs the handler. Exceptions become 500. *route_index is set
  // for metrics (a Router index, incl. its not-found / 405 slots).
  Response handle(const Request& req, int* route_index);

  // --- used by handlers -----------------------------------------------------
  library::Library& library() { return library_; }
  const SiteConfig& config() const { return config_; }
  void set_base_url(std::string url) { config_.base_url = std::move(url); }
  const Templates& templates() const { return templates_; }
  RenderCache& page_cache() { return page_cache_; }
  RenderCache& api_cache() { return api_cache_; }
  Metrics& metrics() { return metrics_; }
  const Router& router() const { return router_; }

  // The context every page template starts from (site name, stylesheet URL,
  // page title).
  nlohmann::json page_context(std::string_view title) const;

  // Renders template `name` into an HTML response with the security headers
  // and Cache-Control: private. A template failure becomes a 500 page.
  Response html(int status, const std::string& name, const nlohmann::json& ctx);
  // Same, into shareable bytes (for the render cache); nullptr on failure.
  std::shared_ptr<const Prepared> prepare_html(const std::string& name, const nlohmann::json& ctx);
  Response json(int status, const nlohmann::json& body);
  std::shared_ptr<const Prepared> prepare_json(const nlohmann::json& body);
  // 304 when If-None-Match matches, else the prepared bytes.
  Response serve(const Request& req, std::shared_ptr<const Prepared> p);

  // An error for this request: a zh-CN HTML page, or JSON
  // {"error":{"code","message"}} under /api/. `message` is ours (never
  // request content, never a store message).
  Response error(const Request& req, Code code, std::string_view message);
  // From a failed library call: logs 5xx details, answers without them.
  Response error(const Request& req, const Status& status);
  Response not_found(const Request& req);
  Response method_not_allowed(const Request& req, std::string_view allow);

  // A static file under web/static/, or nullptr.
  std::shared_ptr<const Prepared> static_file(std::string_view name) const;

  // Listing item context: title, url, category, price, excerpt, counts.
  nlohmann::json summary_context(const store::DocumentSummary& s) const;
  // Price as shown: "¥5.00", or "免费" when nothing is withheld.
  static std::string price_label(Fen price, bool has_paid_text);
  static std::string category_url(std::string_view name);

 private:
  library::Library& library_;
  SiteConfig config_;
  Router router_;
  Templates templates_;
  RenderCache page_cache_;
  RenderCache api_cache_;
  Metrics metrics_;
  std::map<std::string, std::shared_ptr<const Prepared>, std::less<>> statics_;
  std::string css_href_;
};

}  // namespace paidoc::web
