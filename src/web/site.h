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
#include <optional>
#include <string>

#include "auth/auth.h"
#include "auth/password_reset.h"
#include "auth/search_limits.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "common/status.h"
#include "downloads/downloads.h"
#include "gate/gate.h"
#include "library/library.h"
#include "mail/mail.h"
#include "search/search.h"
#include "store/store.h"
#include "taxonomy/taxonomy.h"
#include "web/cache.h"
#include "web/http.h"
#include "web/metrics.h"
#include "web/router.h"
#include "web/template.h"
#include "web/trust_pages.h"
#include "web/util.h"

namespace paidoc::web {

struct SiteConfig {
  std::string site_name = "paidoc 文库";
  std::string base_url;           // absolute, no trailing slash
  size_t cache_bytes = 64 << 20;  // render caches (pages and API) together
  bool base_url_configured = false;  // base_url was given (else derived from the listen address)
  bool secure_cookies = false;       // add "Secure" to the cookies we set
  bool trust_proxy = false;          // client address from the last X-Forwarded-For entry
  std::optional<commerce::SandboxConfig> sandbox;  // set: /sandbox/pay is served
  const Clock* clock = nullptr;                    // null: Clock::system()
  downloads::Options downloads;                    // link lifetime, daily limits
  auth::SearchLimits search_limits;                // searches per address / account
  // The trust pages' folder and the operator details of the footer
  // (trust_pages.h); its site_name is set from site_name above.
  TrustOptions trust;
  // Outgoing mail for password-reset links; nullopt: resets are off and
  // /password/forgot tells the reader to contact the site.
  std::optional<mail::SmtpOptions> mail;
  auth::ResetOptions password_resets;  // link lifetime, mail limits (site_name is filled in)
  // Set: /metrics also answers on the site's address to
  // "Authorization: Bearer <metrics_token>" (AuthRule::kMetricsToken).
  // Empty: there it is 404; only the operations listener serves it.
  std::string metrics_token;
};

inline constexpr std::string_view kSessionCookie = "paidoc_session";
// Retry-After of a 503: a full worker pool, an unavailable store.
inline constexpr int kBusyRetryAfterSeconds = 2;
// The CSRF cookie: kHostCsrfCookie on a secure request (Site::secure_request),
// else kCsrfCookie. A request is checked against the one name its kind sets.
inline constexpr std::string_view kHostCsrfCookie = "__Host-paidoc_csrf";
inline constexpr std::string_view kCsrfCookie = "paidoc_csrf";

// The signed-in account behind a request, resolved by the route's filters
// (Request::caller). Only routes that declare AuthRule::kOptional or
// stronger look at credentials. The gate viewer (purchases, VIP) is not part
// of it: the handlers that render a document ask Site::viewer(), so other
// routes cost no entitlement lookup.
struct Caller {
  auth::SessionInfo session;
  std::string token;       // the session token as presented
  bool by_cookie = false;  // presented in the session cookie (not as a bearer token)
  int64_t user_id() const { return session.account.id; }
  const auth::Account& account() const { return session.account; }
};

// How a personal response may be kept by the browser. kPrivate: "private,
// max-age=0" (revalidate). kNoStore: "private, no-store" — for renders that
// hold paid text for a signed-in viewer (a buyer, VIP, publisher, admin).
enum class Caching { kPrivate, kNoStore };

// True when the view shows text from the paid part (a viewer with access).
bool shows_paid_text(const gate::DocumentView& view);

// Maps a status code to its HTTP status. The only place that does
// (errors.cc).
int http_status(Code code);

class Site {
 public:
  // The one place the site's own services are wired: the searcher gets the
  // search index, the search limiter the throttles, downloads their stores
  // (downloads::Stores); none of them, and nothing here, keeps the whole
  // store. REQUIRES: everything outlives the site.
  Site(store::Store& store, library::Library& library, auth::Accounts& accounts,
       commerce::Commerce& commerce, SiteConfig config);

  // Parses the templates, prepares the static files and loads the trust
  // pages. kInternal when an embedded template does not parse;
  // kInvalidArgument naming the path when a trust page's folder or file
  // cannot be used (load_trust_pages).
  Status init();

  // Routes and runs the handler. Exceptions become 500. *route_index is set
  // for metrics (a Router index, incl. its not-found / 405 slots). The
  // response is encoded for the request's Accept-Encoding (encode_response;
  // a prepared one was already chosen by serve()). May block (store,
  // hashing, rendering, gateways): the server calls it on the worker pool
  // the route names (Route::work), after try_inline().
  Response handle(const Request& req, int* route_index);

  // The I/O thread's part of a request: answers it when that needs no
  // blocking work — an unknown path or method (404 / 405), a kInline route,
  // or a route's fast path that hits (the anonymous document page from the
  // render cache). Otherwise nullopt, and *work names the pool that must run
  // handle(req). *route_index is set as by handle().
  std::optional<Response> try_inline(const Request& req, int* route_index, Work* work);

  // The answer when the pool a request needs is full: 503 with Retry-After
  // (kBusyRetryAfterSeconds), a zh-CN page, or under /api/ the JSON error
  // {"error": {"code": "unavailable", "message", "retry_after"}}.
  Response busy(const Request& req);

  // --- used by handlers -----------------------------------------------------
  library::Library& library() { return library_; }
  search::Searcher& searcher() { return searcher_; }
  // Counts one search query by this request's client address and account
  // (auth::SearchLimiter). nullopt: the search may run. Otherwise the
  // response to send instead: 429 with Retry-After, as a zh-CN page
  // ("搜索过于频繁，请 N 分钟后再试") or a JSON error with code
  // "too_many_requests" and "retry_after" seconds; or an error page when the
  // store fails. Every route that runs a search query calls this first.
  std::optional<Response> admit_search(const Request& req);
  downloads::Service& downloads() { return downloads_; }
  auth::Accounts& accounts() { return accounts_; }
  commerce::Commerce& commerce() { return commerce_; }
  // The audit log, read by /admin/audit (changes are recorded by the
  // services that make them, never here).
  store::AuditStore& audit() { return audit_; }
  // Categories and tags (the console's /admin/categories and /admin/tags,
  // tag pages).
  taxonomy::Taxonomy& taxonomy() { return taxonomy_; }
  // "忘记密码": reset links by mail (off without mail settings).
  auth::PasswordResets& password_resets() { return resets_; }
  // The gate viewer of this request: anonymous without a caller, else the
  // caller's role with their purchases and VIP (commerce::Commerce::viewer).
  Result<gate::Viewer> viewer(const Request& req);
  const SiteConfig& config() const { return config_; }
  // Unix seconds, from the configured clock.
  int64_t now() const { return (config_.clock ? *config_.clock : Clock::system()).now(); }
  // Sets the absolute site URL (feeds, sitemap, canonical links) and
  // prepares the anonymous trust pages with it. REQUIRES: after init(),
  // before the site serves requests (Server::start).
  void set_base_url(std::string url);
  const Templates& templates() const { return templates_; }
  RenderCache& page_cache() { return page_cache_; }
  // The trust pages (关于我们, 用户协议, …) loaded by init().
  const TrustPages& trust_pages() const { return trust_pages_; }
  // The anonymous render of the trust page at `path`, prepared at start;
  // nullptr for any other path.
  std::shared_ptr<const Prepared> trust_prepared(std::string_view path) const;
  // The template context of a trust page (page_context plus its title,
  // body and, on /contact, the contact details).
  nlohmann::json trust_context(const TrustPage& page) const;
  RenderCache& api_cache() { return api_cache_; }
  Metrics& metrics() { return metrics_; }
  const Router& router() const { return router_; }

  // The context every page template starts from (site name, stylesheet URL,
  // page title, the footer's trust links, ICP number and contact line).
  nlohmann::json page_context(std::string_view title) const;

  // Renders template `name` into an HTML response with the security headers
  // and Cache-Control: private. A template failure becomes a 500 page.
  // Adds what every page of this request shows: the signed-in header
  // ("me"), a flash message named by ?msg=, and — when the caller is signed
  // in or ctx["has_form"] is true — the CSRF token ("csrf"), setting the
  // CSRF cookie when the request lacks it (ensure_csrf). A console page
  // (ctx["console_section"] set) also gets X-Frame-Options: DENY and the
  // console's navigation ("console").
  // `caching` kNoStore: the page shows paid text to a signed-in viewer
  // (Cache-Control: private, no-store, so it does not outlive a logout in
  // the browser's cache).
  Response html(const Request& req, int status, const std::string& name, nlohmann::json ctx,
                Caching caching = Caching::kPrivate);
  // Same, into shareable bytes (for the render cache); nullptr on failure.
  std::shared_ptr<const Prepared> prepare_html(const std::string& name, const nlohmann::json& ctx);
  Response json(int status, const nlohmann::json& body, Caching caching = Caching::kPrivate);
  std::shared_ptr<const Prepared> prepare_json(const nlohmann::json& body);
  // The representation of `p` the request's Accept-Encoding selects (gzip,
  // Brotli or identity; no compression work: they were made with `p`); 304
  // when If-None-Match matches that representation's ETag.
  Response serve(const Request& req, std::shared_ptr<const Prepared> p);

  // The ANONYMOUS render of document `id`: from `cache` when the stored
  // revision still matches, else `prepare(view)` on the anonymous view,
  // cached by (id, revision). Renders for any other viewer must not come
  // here. `prepare` answers nullptr on failure (a 500).
  template <typename Prepare>
  Response serve_anonymous_document(const Request& req, int64_t id, RenderCache& cache,
                                    Prepare&& prepare) {
    if (std::optional<Response> hit = cached_anonymous_document(req, id, cache))
      return std::move(*hit);
    metrics().render_cache(false);
    Result<gate::DocumentView> view = library().view(id, gate::Viewer::anonymous());
    if (!view.ok()) return error(req, view.status());
    std::shared_ptr<const Prepared> body = prepare(*view);
    if (!body) return error(req, Code::kInternal, "internal error");
    cache.put(id, view->revision, body);
    return serve(req, std::move(body));
  }

  // The ANONYMOUS render of document `id` from `cache` when the stored
  // revision still matches it (one cached-statement read; counted as a
  // render-cache hit). nullopt on a miss, and when the revision cannot be
  // read: the caller renders, or reports the error.
  std::optional<Response> cached_anonymous_document(const Request& req, int64_t id,
                                                    RenderCache& cache);

  // An error for this request: a zh-CN HTML page, or JSON
  // {"error":{"code","message"}} under /api/. `message` is ours (never
  // request content, never a store message). kUnavailable (503) carries
  // Retry-After: kBusyRetryAfterSeconds.
  Response error(const Request& req, Code code, std::string_view message);
  // From a failed library call: logs 5xx details, answers without them.
  Response error(const Request& req, const Status& status);
  // From a failed commerce call whose 4xx message is the service's own
  // zh-CN words ("余额不足", "您已可阅读该文档"): kPaymentRequired,
  // kConflict and kInvalidArgument show that message; everything else is
  // error(req, status). `link` (url, label) adds a way back on the HTML page.
  Response service_error(const Request& req, const Status& status,
                         std::pair<std::string, std::string> link = {});
  Response not_found(const Request& req);
  Response unsupported_media_type(const Request& req);
  // 403 for a failed CSRF check (page or JSON).
  Response csrf_failed(const Request& req);

  // --- accounts at the edge --------------------------------------------------
  // Where the request came from: the socket's address, or the last
  // X-Forwarded-For entry when trust_proxy is on; and the user agent.
  auth::Client client(const Request& req) const;
  // Who makes a change through this request, for the audit log: the
  // signed-in account (id, email) and the client address.
  store::AuditActor actor(const Request& req) const;
  // True when Origin names this site (base_url's origin; without a
  // configured base_url also http(s)://Host).
  bool same_origin(const Request& req) const;
  // Set-Cookie values.
  std::string session_cookie(std::string_view token, int64_t max_age) const;
  std::string clear_session_cookie() const;
  // Sets the session cookie for a fresh login on `res`, and the CSRF
  // cookie to the new session's token (auth::session_csrf_token).
  void set_session_cookie(const Request& req, Response& res, const auth::LoginResult& login);
  // Clears the session cookie on `res` (logout, the session revoked or
  // ended) and sets a fresh anonymous CSRF token, so no token of the ended
  // session stays usable in this browser.
  void end_session_cookies(const Request& req, Response& res) const;

  // --- CSRF ------------------------------------------------------------------------
  // True when the browser sees this site over a secure origin, where it
  // keeps a Secure cookie: --secure-cookies; a configured https base URL;
  // or loopback (the Host, and a configured base URL, name localhost,
  // 127.0.0.0/8 or [::1], and no X-Forwarded-For says a proxy is in front).
  bool secure_request(const Request& req) const;
  // The CSRF cookie's name for this request: kHostCsrfCookie when
  // secure_request, else kCsrfCookie.
  std::string_view csrf_cookie_name(const Request& req) const;
  // True when `presented` (a form's "csrf" field, an X-CSRF-Token header)
  // passes: non-empty, equal to the CSRF cookie of this request's name and,
  // for a caller signed in by the session cookie, equal to that session's
  // token (auth::session_csrf_token). Compared in constant time.
  bool csrf_matches(const Request& req, std::string_view presented) const;
  // 303 See Other.
  static Response redirect(std::string_view location);
  // A page with payment forms (the order page, a signed-in reader's
  // paywall): their POST answers a 303 to the gateway (Alipay's gateway,
  // WeChat's h5_url), and browsers check form-action on that redirect too.
  // So these pages admit https: form targets; every other directive stays
  // the site's.
  static Response allow_gateway_forms(Response r);

  // The largest body the server reads for `method target` (the route's
  // Route::body_limit), or `fallback` when the route declares none. Called
  // on the I/O thread as soon as the request line is read.
  size_t body_limit(Method method, std::string_view target, size_t fallback) const;
  // The 413 answer to a body over that limit: JSON under /api/, else the
  // zh-CN page naming the limit (no credentials are looked at).
  Response body_too_large(const Request& req, size_t limit);
  Response method_not_allowed(const Request& req, std::string_view allow);

  // A static file under web/static/, or nullptr.
  std::shared_ptr<const Prepared> static_file(std::string_view name) const;

  // Listing item context: title, url, category, price, excerpt, counts.
  nlohmann::json summary_context(const store::DocumentSummary& s) const;
  // Price as shown: "¥5.00", or "免费" when nothing is withheld.
  static std::string price_label(Fen price, bool has_paid_text);
  static std::string category_url(std::string_view name);
  static std::string tag_url(std::string_view name);

 private:
  // Renders every trust page for anonymous readers into trust_prepared_.
  void prepare_trust_pages();
  // handle() before encoding.
  Response dispatch(const Request& req, int* route_index);
  // The route's filters (router.h). Returns a response when the request
  // stops here; fills *form and *caller and points req at them otherwise.
  // *parts holds a kMultipart route's parsed body.
  std::optional<Response> filter(const Route& route, Request& req, std::optional<Form>* form,
                                 std::optional<multipart::Body>* parts,
                                 std::optional<Caller>* caller);
  // True when the request carries a bearer token or a session cookie (which
  // the credentials filter would look up in the store).
  static bool presents_credentials(const Request& req);
  // The CSRF token this request's forms carry. Signed in by the session
  // cookie: the session's token (auth::session_csrf_token). Otherwise the
  // CSRF cookie's value, or a new random token when it has none. Adds the
  // Set-Cookie to res when the cookie does not already hold the token.
  std::string ensure_csrf(const Request& req, Response* res) const;
  // The Set-Cookie value that stores `token` in this request's CSRF cookie.
  std::string csrf_cookie(const Request& req, std::string_view token) const;

  library::Library& library_;
  search::Searcher searcher_;
  auth::SearchLimiter search_limiter_;
  auth::Accounts& accounts_;
  downloads::Service downloads_;
  commerce::Commerce& commerce_;
  store::AuditStore& audit_;
  taxonomy::Taxonomy taxonomy_;
  std::unique_ptr<mail::Transport> mail_;  // null without mail settings
  auth::PasswordResets resets_;            // after mail_: stops (drains) before it goes
  SiteConfig config_;
  Router router_;
  Templates templates_;
  RenderCache page_cache_;
  RenderCache api_cache_;
  Metrics metrics_;
  std::map<std::string, std::shared_ptr<const Prepared>, std::less<>> statics_;
  std::string css_href_;
  TrustPages trust_pages_;
  nlohmann::json footer_;  // the footer's part of page_context, made by init()
  std::map<std::string, std::shared_ptr<const Prepared>, std::less<>> trust_prepared_;
};

}  // namespace paidoc::web
