#include "web/site.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/resources.h"
#include "web/util.h"

namespace paidoc::web {

namespace {

constexpr std::string_view kStaticPrefix = "web/static/";

std::string_view mime_type(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".woff2")) return "font/woff2";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  return "application/octet-stream";
}

// Last resort when a template fails: no template involved.
constexpr std::string_view kInternalErrorPage =
    "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>服务器内部错误</title>"
    "<p>服务器内部错误，请稍后再试。<a href=\"/\">返回首页</a></p></html>";

}  // namespace

Site::Site(library::Library& library, SiteConfig config)
    : library_(library),
      config_(std::move(config)),
      router_(routes()),
      page_cache_(config_.cache_bytes / 2),
      api_cache_(config_.cache_bytes / 2),
      metrics_(router_.route_names()) {}

Status Site::init() {
  if (Status s = templates_.load_embedded("web/templates/"); !s)
    return Status::internal("templates: " + s.message());
  for (std::string_view path : resource_paths(kStaticPrefix)) {
    std::string_view bytes;
    resource(path, &bytes);
    auto p = std::make_shared<Prepared>();
    p->body.assign(bytes);
    p->etag = make_etag(bytes);
    p->headers = fmt::format(
        "Content-Type: {}\r\nCache-Control: public, max-age=31536000, immutable\r\n"
        "X-Content-Type-Options: nosniff\r\nETag: {}\r\n",
        mime_type(path), p->etag);
    std::string name(path.substr(kStaticPrefix.size()));
    if (name == "style.css")
      css_href_ = fmt::format("/static/style.css?v={}", p->etag.substr(1, 10));
    statics_.emplace(std::move(name), std::move(p));
  }
  for (const char* needed :
       {"layout_head.html", "layout_foot.html", "home.html", "category.html", "document.html",
        "message.html", "feed.xml", "sitemap.xml", "robots.txt"}) {
    if (!templates_.has(needed))
      return Status::internal(fmt::format("template {} is missing", needed));
  }
  return Status::ok();
}

Response Site::handle(const Request& req, int* route_index) {
  Router::Match m = router_.match(req.method, req.path);
  switch (m.outcome) {
    case Router::Outcome::kNotFound:
      *route_index = router_.not_found_index();
      return not_found(req);
    case Router::Outcome::kMethodNotAllowed:
      *route_index = router_.method_not_allowed_index();
      return method_not_allowed(req, m.allow);
    case Router::Outcome::kFound:
      break;
  }
  *route_index = m.route;
  try {
    return router_.route(m.route).handler(*this, req, m.params);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: unhandled exception: {}", method_name(req.method), req.path, e.what());
  } catch (...) {
    spdlog::error("{} {}: unhandled exception", method_name(req.method), req.path);
  }
  return error(req, Code::kInternal, "internal error");
}

nlohmann::json Site::page_context(std::string_view title) const {
  return {
      {"site_name", config_.site_name},
      {"css_href", css_href_},
      {"page_title",
       title.empty() ? config_.site_name : fmt::format("{} - {}", title, config_.site_name)},
      {"base_url", config_.base_url},
  };
}

std::shared_ptr<const Prepared> Site::prepare_html(const std::string& name,
                                                   const nlohmann::json& ctx) {
  auto p = std::make_shared<Prepared>();
  p->body.reserve(16384);
  if (Status s = templates_.render_to(name, ctx, &p->body); !s) {
    spdlog::error("rendering {}: {}", name, s.to_string());
    return nullptr;
  }
  p->etag = make_etag(p->body);
  p->headers.reserve(512);
  p->headers.append(headers::kHtml).append(headers::kPrivate);
  p->headers.append("ETag: ").append(p->etag).append("\r\n");
  return p;
}

Response Site::html(int status, const std::string& name, const nlohmann::json& ctx) {
  Response r;
  r.status = status;
  r.body.reserve(16384);
  if (Status s = templates_.render_to(name, ctx, &r.body); !s) {
    spdlog::error("rendering {}: {}", name, s.to_string());
    r.status = 500;
    r.body.assign(kInternalErrorPage);
  }
  r.headers.append(headers::kHtml).append(headers::kPrivate);
  return r;
}

Response Site::json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = dump_json(body);
  r.headers.append(headers::kJson).append(headers::kPrivate);
  return r;
}

std::shared_ptr<const Prepared> Site::prepare_json(const nlohmann::json& body) {
  auto p = std::make_shared<Prepared>();
  p->body = dump_json(body);
  p->etag = make_etag(p->body);
  p->headers.append(headers::kJson).append(headers::kPrivate);
  p->headers.append("ETag: ").append(p->etag).append("\r\n");
  return p;
}

Response Site::serve(const Request& req, std::shared_ptr<const Prepared> p) {
  Response r;
  if (etag_matches(req.if_none_match, p->etag)) r.status = 304;
  r.prepared = std::move(p);
  return r;
}

std::shared_ptr<const Prepared> Site::static_file(std::string_view name) const {
  auto it = statics_.find(name);
  return it == statics_.end() ? nullptr : it->second;
}

std::string Site::price_label(Fen price, bool has_paid_text) {
  if (!has_paid_text || price.value() == 0) return "免费";
  return "¥" + price.yuan_string();
}

std::string Site::category_url(std::string_view name) { return "/c/" + percent_encode(name); }

nlohmann::json Site::summary_context(const store::DocumentSummary& s) const {
  bool locked = s.has_paid_text && s.price.value() > 0;
  nlohmann::json j = {
      {"id", s.id},
      {"url", fmt::format("/d/{}", s.id)},
      {"abs_url", fmt::format("{}/d/{}", config_.base_url, s.id)},
      {"title", s.title},
      {"category", s.category},
      {"category_url", s.category.empty() ? std::string() : category_url(s.category)},
      {"price", price_label(s.price, s.has_paid_text)},
      {"free", !locked},
      {"excerpt", s.excerpt},
      {"has_paid", s.has_paid_text},
      {"hidden_chars", s.figures.paid_chars},
      {"hidden_paragraphs", s.figures.paid_paragraphs},
      {"date", display_date(s.updated_at)},
      {"created", rfc3339_utc(s.created_at)},
      {"updated", rfc3339_utc(s.updated_at)},
  };
  return j;
}

}  // namespace paidoc::web
