#include "web/site.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/resources.h"
#include "web/multipart.h"
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

// Identity headers of prepared (cached) renders; make_prepared adds Vary
// and the ETag.
const std::string kPreparedHtmlHeaders =
    std::string(headers::kHtml).append(headers::kPrivate);
const std::string kPreparedJsonHeaders =
    std::string(headers::kJson).append(headers::kPrivate);

// Last resort when a template fails: no template involved.
constexpr std::string_view kInternalErrorPage =
    "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>服务器内部错误</title>"
    "<p>服务器内部错误，请稍后再试。<a href=\"/\">返回首页</a></p></html>";

// A tel: target for a phone number as the operator wrote it: its digits and
// a leading '+'; "" when it has no digit.
std::string tel_href(std::string_view phone) {
  std::string out;
  for (char c : phone)
    if ((c >= '0' && c <= '9') || (c == '+' && out.empty())) out += c;
  if (out.find_first_of("0123456789") == std::string::npos) return "";
  return "tel:" + out;
}

}  // namespace

namespace {

auth::ResetOptions reset_options(const SiteConfig& c) {
  auth::ResetOptions o = c.password_resets;
  o.site_name = c.site_name;
  return o;
}

}  // namespace

Site::Site(store::Store& store, library::Library& library, auth::Accounts& accounts,
           commerce::Commerce& commerce, SiteConfig config)
    : library_(library),
      searcher_(store, library),
      search_limiter_(store, config.clock ? *config.clock : Clock::system(),
                      [&] {
                        // Nodes sharing the store count searches in it.
                        auth::SearchLimits l = config.search_limits;
                        l.shared = l.shared || store.shared_by_nodes();
                        return l;
                      }()),
      accounts_(accounts),
      downloads_(downloads::Stores{store, store, store, store}, library, commerce,
                 config.clock ? *config.clock : Clock::system(), config.downloads),
      commerce_(commerce),
      audit_(store),
      taxonomy_(store, config.clock ? *config.clock : Clock::system()),
      mail_(config.mail ? mail::smtp_transport(*config.mail) : nullptr),
      resets_(store, store, mail_.get(), config.clock ? *config.clock : Clock::system(),
              reset_options(config), accounts.options()),
      config_(std::move(config)),
      router_(routes()),
      page_cache_(config_.cache_bytes / 2),
      api_cache_(config_.cache_bytes / 2),
      metrics_(router_.route_names()) {}

Status Site::init() {
  // The download-link key lives in the store; a store that is down now must
  // not keep the site from starting (downloads load the key on first use).
  if (Status s = downloads_.init(); !s.is_ok()) {
    spdlog::warn("download links: cannot load the signing key yet: {}", s.to_string());
  }
  if (Status s = templates_.load_embedded("web/templates/"); !s)
    return Status::internal("templates: " + s.message());
  for (std::string_view path : resource_paths(kStaticPrefix)) {
    std::string_view bytes;
    resource(path, &bytes);
    std::shared_ptr<const Prepared> p = make_prepared(
        fmt::format("Content-Type: {}\r\nCache-Control: public, max-age=31536000, immutable\r\n"
                    "X-Content-Type-Options: nosniff\r\n",
                    mime_type(path)),
        std::string(bytes));
    std::string name(path.substr(kStaticPrefix.size()));
    if (name == "style.css")
      css_href_ = fmt::format("/static/style.css?v={}", p->identity.etag.substr(1, 10));
    statics_.emplace(std::move(name), std::move(p));
  }
  config_.trust.site_name = config_.site_name;
  Result<TrustPages> pages = load_trust_pages(config_.trust);
  if (!pages.ok()) return pages.status();
  trust_pages_ = std::move(pages).value();
  for (const std::string& f : trust_pages_.ignored)
    spdlog::warn("trust pages: {} is not one of about, terms, privacy, refund-policy, contact "
                 "(.md or .txt): ignored", f);
  bool defaults = false;
  for (const TrustPage& p : trust_pages_.pages) {
    if (!p.source.empty()) spdlog::info("trust pages: {} from {}", p.info.path, p.source);
    defaults = defaults || p.source.empty();
  }
  // The built-in pages name the operator: say what they still lack.
  if (defaults && config_.trust.company.empty())
    spdlog::warn("trust pages: --company is not set; the built-in pages show a placeholder for "
                 "the operator's name");
  if (config_.trust.contact_email.empty() && config_.trust.contact_phone.empty())
    spdlog::warn("trust pages: neither --contact-email nor --contact-phone is set; 联系客服 "
                 "shows a placeholder");
  {
    nlohmann::json links = nlohmann::json::array();
    for (const TrustPageInfo& info : trust_page_infos())
      links.push_back({{"path", info.path}, {"label", info.label}});
    footer_ = {{"footer_links", std::move(links)}};
    const TrustOptions& t = config_.trust;
    if (!t.icp.empty()) footer_["footer_icp"] = t.icp;
    if (!t.contact_email.empty()) footer_["footer_email"] = t.contact_email;
    if (!t.contact_phone.empty()) {
      footer_["footer_phone"] = t.contact_phone;
      footer_["footer_tel"] = tel_href(t.contact_phone);
    }
    footer_["footer_contact"] = !t.contact_email.empty() || !t.contact_phone.empty();
  }
  for (const char* needed :
       {"layout_head.html", "layout_foot.html", "home.html", "category.html", "document.html",
        "message.html", "login.html", "register.html", "me.html", "admin.html", "order.html",
        "wechat_pay.html", "wechat_jsapi.html", "vip.html", "topup.html", "sandbox_pay.html", "admin_orders.html",
        "admin_audit.html", "admin_categories.html", "admin_tags.html", "admin_documents.html",
        "admin_editor.html", "trust_page.html", "feed.xml",
        "sitemap.xml", "robots.txt"}) {
    if (!templates_.has(needed))
      return Status::internal(fmt::format("template {} is missing", needed));
  }
  prepare_trust_pages();
  return Status();
}

void Site::set_base_url(std::string url) {
  config_.base_url = std::move(url);
  prepare_trust_pages();
}

void Site::prepare_trust_pages() {
  trust_prepared_.clear();
  for (const TrustPage& p : trust_pages_.pages)
    if (std::shared_ptr<const Prepared> r = prepare_html("trust_page.html", trust_context(p)))
      trust_prepared_.emplace(std::string(p.info.path), std::move(r));
}

std::shared_ptr<const Prepared> Site::trust_prepared(std::string_view path) const {
  auto it = trust_prepared_.find(path);
  return it == trust_prepared_.end() ? nullptr : it->second;
}

nlohmann::json Site::trust_context(const TrustPage& page) const {
  nlohmann::json ctx = page_context(page.title);
  ctx["title"] = page.title;
  ctx["description"] = page.description;
  ctx["canonical"] = config_.base_url + std::string(page.info.path);
  // Pre-escaped by trust_pages.cc (render_markdown / render_plain_text):
  // the one raw value of trust_page.html.
  ctx["body_html"] = page.body_html;
  if (page.info.path == "/contact") {
    const TrustOptions& t = config_.trust;
    nlohmann::json contact = nlohmann::json::object();
    if (!t.contact_email.empty()) contact["email"] = t.contact_email;
    if (!t.contact_phone.empty()) {
      contact["phone"] = t.contact_phone;
      contact["tel"] = tel_href(t.contact_phone);
    }
    ctx["contact_box"] = {{"set", !contact.empty()}, {"details", std::move(contact)}};
  }
  return ctx;
}

Response Site::handle(const Request& req, int* route_index) {
  Response res = dispatch(req, route_index);
  encode_response(req, res);
  return res;
}

Response Site::dispatch(const Request& req, int* route_index) {
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
  if (req.ops_listener && !router_.route(m.route).ops) {
    *route_index = router_.not_found_index();
    return not_found(req);
  }
  *route_index = m.route;
  try {
    const Route& route = router_.route(m.route);
    Request filtered = req;
    std::optional<Form> form;
    std::optional<multipart::Body> parts;
    std::optional<Caller> caller;
    if (std::optional<Response> stop = filter(route, filtered, &form, &parts, &caller)) return *stop;
    return route.handler(*this, filtered, m.params);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: unhandled exception: {}", method_name(req.method), req.path, e.what());
  } catch (...) {
    spdlog::error("{} {}: unhandled exception", method_name(req.method), req.path);
  }
  return error(req, Code::kInternal, "internal error");
}

std::optional<Response> Site::try_inline(const Request& req, int* route_index, Work* work) {
  // The operations listener answers its few inline routes and 404 (dispatch).
  if (req.ops_listener) return handle(req, route_index);
  Router::Match m = router_.match(req.method, req.path);
  if (m.outcome != Router::Outcome::kFound) return handle(req, route_index);  // 404, 405
  *route_index = m.route;
  const Route& route = router_.route(m.route);
  *work = route.work;
  if (route.work == Work::kInline) return handle(req, route_index);
  if (!route.fast) return std::nullopt;
  // The fast path stands in for the handler only where the filters would
  // not touch the request: no body or CSRF rule, and no credentials to look
  // up (a session lookup is a store call, which belongs on a pool).
  if (route.body != BodyRule::kNone || route.csrf != CsrfRule::kNone) return std::nullopt;
  if (route.auth != AuthRule::kNone &&
      (route.auth != AuthRule::kOptional || presents_credentials(req)))
    return std::nullopt;
  try {
    return route.fast(*this, req, m.params);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: fast path: {}", method_name(req.method), req.path, e.what());
  } catch (...) {
    spdlog::error("{} {}: fast path threw", method_name(req.method), req.path);
  }
  return std::nullopt;  // the handler, on its pool, answers
}

Response Site::busy(const Request& req) {
  Response r;
  if (req.is_api()) {
    r = json(503, {{"error",
                    {{"code", code_name(Code::kUnavailable)},
                     {"message", "server busy, try again later"},
                     {"retry_after", kBusyRetryAfterSeconds}}}});
  } else {
    nlohmann::json ctx = page_context("服务繁忙");
    ctx["heading"] = "服务繁忙";
    ctx["text"] = "当前访问的人较多，请稍后再试。";
    ctx["home_link"] = true;
    ctx["noindex"] = true;
    r = html(req, 503, "message.html", std::move(ctx));
  }
  r.add_header("Retry-After", std::to_string(kBusyRetryAfterSeconds));
  encode_response(req, r);
  return r;
}

std::optional<Response> Site::cached_anonymous_document(const Request& req, int64_t id,
                                                        RenderCache& cache) {
  Result<int64_t> revision = library().revision(id);
  if (!revision.ok()) return std::nullopt;
  std::shared_ptr<const Prepared> hit = cache.get(id, *revision);
  if (!hit) return std::nullopt;
  metrics().render_cache(true);
  return serve(req, std::move(hit));
}

namespace {

std::optional<auth::Permission> permission_of(AuthRule rule) {
  switch (rule) {
    case AuthRule::kUser:
      return auth::Permission::kReadOwnAccount;
    case AuthRule::kPublish:
      return auth::Permission::kPublish;
    case AuthRule::kManageUsers:
      return auth::Permission::kManageUsers;
    case AuthRule::kManageOrders:
      return auth::Permission::kManageOrders;
    case AuthRule::kViewAudit:
      return auth::Permission::kViewAudit;
    case AuthRule::kManageTaxonomy:
      return auth::Permission::kManageTaxonomy;
    case AuthRule::kNone:
    case AuthRule::kOptional:
    case AuthRule::kMetricsToken:
      break;
  }
  return std::nullopt;
}

// The token of "Authorization: Bearer <token>" (scheme case-insensitive);
// "" otherwise.
std::string_view bearer_token(std::string_view authorization) {
  if (authorization.size() < 7) return {};
  std::string scheme(authorization.substr(0, 7));
  for (char& c : scheme)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (scheme != "bearer ") return {};
  std::string_view t = authorization.substr(7);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return t;
}

}  // namespace

bool Site::presents_credentials(const Request& req) {
  return !bearer_token(req.authorization).empty() ||
         !cookie_value(req.cookie, kSessionCookie).empty();
}

namespace {

// Flash messages named by ?msg= after a redirect. Fixed texts: the query
// value only selects one.
const char* flash_text(std::string_view key) {
  static constexpr std::pair<std::string_view, const char*> kFlash[] = {
      {"logged_out", "您已退出登录。"},
      {"logged_out_everywhere", "已退出所有设备，请重新登录。"},
      {"session_revoked", "已注销该登录设备。"},
      {"password_changed", "密码已修改，其他设备上的登录已失效。"},
      {"account_deleted", "您的账号已删除。"},
      {"registered", "注册成功，请登录。"},
      {"password_reset", "密码已重置，请用新密码登录。所有设备上的登录都已退出。"},
      {"role_changed", "角色已更新。"},
      {"already_readable", "您已可阅读该文档，无需再次购买。"},
      {"paid", "支付成功，感谢您的购买。"},
      {"vip_on", "VIP 会员已开通，会员期内可阅读全部付费文档。"},
      {"topped_up", "充值成功，余额已到账。"},
      {"refunded", "订单已退款。"},
      {"user_disabled", "账号已停用，其登录已全部失效。"},
      {"user_enabled", "账号已启用。"},
      {"category_created", "分类已新建。"},
      {"category_renamed", "分类已改名。"},
      {"category_moved", "分类顺序已调整。"},
      {"category_deleted", "分类已删除。"},
      {"tag_created", "标签已新建。"},
      {"tag_renamed", "标签已改名。"},
      {"tag_moved", "标签顺序已调整。"},
      {"tag_deleted", "标签已删除。"},
      {"doc_created", "文档已创建。"},
      {"doc_saved", "已保存为新版本。"},
      {"doc_unchanged", "没有改动，未保存新版本。"},
      {"doc_restored", "已恢复所选版本（保存为新版本）。"},
  };
  for (const auto& [k, text] : kFlash)
    if (k == key) return text;
  return nullptr;
}

}  // namespace

std::optional<Response> Site::filter(const Route& route, Request& req, std::optional<Form>* form,
                                     std::optional<multipart::Body>* parts,
                                     std::optional<Caller>* caller) {
  // 1. The body.
  switch (route.body) {
    case BodyRule::kNone:
      break;
    case BodyRule::kForm:
      if (media_type(req.content_type) != "application/x-www-form-urlencoded")
        return unsupported_media_type(req);
      *form = Form::parse(req.body);
      if (!*form) return error(req, Code::kInvalidArgument, "malformed form");
      req.form = &**form;
      break;
    case BodyRule::kJson:
      if (!req.body.empty() && media_type(req.content_type) != "application/json")
        return unsupported_media_type(req);
      break;
    case BodyRule::kText:
      if (media_type(req.content_type) != "text/plain") return unsupported_media_type(req);
      break;
    case BodyRule::kMultipart: {
      if (media_type(req.content_type) != "multipart/form-data") return unsupported_media_type(req);
      parts->emplace();
      multipart::Error e = multipart::parse(req.content_type, req.body, multipart::Limits{}, &**parts);
      if (e != multipart::Error::kNone) {
        spdlog::info("{} {}: refused multipart body: {}", method_name(req.method), req.path,
                     multipart::error_text(e));
        const char* text = "上传的表单格式不正确，未导入任何文件，请返回重新上传。";
        if (e == multipart::Error::kTooManyFiles)
          text = "一次最多上传 100 个文件，未导入任何文件，请分批上传。";
        else if (e == multipart::Error::kBadName)
          text = "有文件名或字段名为空、不是 UTF-8 或含有控制字符，未导入任何文件。";
        return service_error(req, Status::invalid(text));
      }
      req.multipart = &**parts;
      break;
    }
  }

  // 2. Credentials: only when the route looks at them and some are present,
  // so an anonymous request costs nothing here. The metrics token is no
  // account's: compared here, in constant time, and a miss is the 404 of a
  // path that does not exist (the site's address does not reveal /metrics).
  if (route.auth == AuthRule::kMetricsToken) {
    if (req.ops_listener) return std::nullopt;
    std::string_view token = bearer_token(req.authorization);
    if (config_.metrics_token.empty() || token.empty() ||
        !auth::constant_time_equal(token, config_.metrics_token))
      return not_found(req);
    return std::nullopt;
  }
  if (route.auth != AuthRule::kNone) {
    std::string_view token = bearer_token(req.authorization);
    bool by_cookie = false;
    if (token.empty()) {
      token = cookie_value(req.cookie, kSessionCookie);
      by_cookie = true;
    }
    if (!token.empty()) {
      Result<auth::SessionInfo> s = accounts_.authenticate(token);
      if (s.ok()) {
        caller->emplace(Caller{std::move(s).value(), std::string(token), by_cookie});
        req.caller = &**caller;
      } else if (s.status().code() != Code::kUnauthenticated) {
        return error(req, s.status());
      }
    }
  }

  // 3. Permission: the one check, through auth::allowed().
  if (std::optional<auth::Permission> need = permission_of(route.auth)) {
    if (!req.caller) {
      if (req.is_api()) return error(req, Code::kUnauthenticated, "sign in required");
      if (req.method == Method::kGet || req.method == Method::kHead)
        return redirect("/login?next=" + percent_encode(req.target));
      return redirect("/login");
    }
    if (!auth::allowed(req.caller->account().role, *need))
      return error(req, Code::kForbidden, "permission denied");
  }

  // 4. CSRF.
  switch (route.csrf) {
    case CsrfRule::kNone:
      break;
    case CsrfRule::kForm: {
      std::string_view field = req.form        ? req.form->get("csrf")
                               : req.multipart ? req.multipart->field("csrf")
                                               : std::string_view();
      if (!csrf_matches(req, field)) return csrf_failed(req);
      break;
    }
    case CsrfRule::kApi: {
      if (!req.caller || !req.caller->by_cookie) break;  // bearer or anonymous: exempt
      if (!csrf_matches(req, req.csrf_header) && !same_origin(req)) return csrf_failed(req);
      break;
    }
  }
  return std::nullopt;
}

Result<gate::Viewer> Site::viewer(const Request& req) {
  if (!req.caller) return gate::Viewer::anonymous();
  return commerce_.viewer(req.caller->user_id(), req.caller->account().role);
}

std::optional<Response> Site::admit_search(const Request& req) {
  const int64_t user_id = req.caller ? req.caller->user_id() : 0;
  Status s = search_limiter_.admit(client(req).ip, user_id);
  if (s.is_ok()) return std::nullopt;
  if (s.code() != Code::kTooManyRequests) return error(req, s);
  const int64_t retry_after = std::max<int64_t>(1, s.retry_after());
  Response r;
  if (req.is_api()) {
    r = json(429, {{"error",
                    {{"code", code_name(Code::kTooManyRequests)},
                     {"message", s.message()},
                     {"retry_after", retry_after}}}});
  } else {
    nlohmann::json ctx = page_context("搜索过于频繁");
    ctx["heading"] = "搜索过于频繁";
    ctx["text"] = s.message();  // the limiter's own zh-CN words
    ctx["home_link"] = true;
    ctx["noindex"] = true;
    r = html(req, 429, "message.html", std::move(ctx));
  }
  r.add_header("Retry-After", std::to_string(retry_after));
  return r;
}

bool shows_paid_text(const gate::DocumentView& view) {
  return std::any_of(view.blocks.begin(), view.blocks.end(),
                     [](const gate::ViewBlock& b) { return b.paid; });
}

auth::Client Site::client(const Request& req) const {
  auth::Client c;
  std::string_view ip = req.remote_address;
  if (config_.trust_proxy && !req.forwarded_for.empty()) {
    std::string_view xff = req.forwarded_for;
    size_t comma = xff.rfind(',');
    std::string_view last = comma == std::string_view::npos ? xff : xff.substr(comma + 1);
    while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
    while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
    if (!last.empty() && last.size() <= 64) ip = last;
  }
  c.ip.assign(ip);
  c.user_agent.assign(req.user_agent.substr(0, 512));
  return c;
}

store::AuditActor Site::actor(const Request& req) const {
  store::AuditActor a;
  if (req.caller != nullptr) {
    a.user_id = req.caller->user_id();
    a.label = req.caller->account().email;
  }
  a.ip = client(req).ip;
  return a;
}

bool Site::same_origin(const Request& req) const {
  if (req.origin.empty() || req.origin == "null") return false;
  std::string origin = origin_of(req.origin);
  if (origin.empty()) return false;
  if (origin == origin_of(config_.base_url)) return true;
  if (config_.base_url_configured || req.host.empty()) return false;
  std::string host = media_type(req.host);  // lower-cased, trimmed
  return origin == "http://" + host || origin == "https://" + host;
}

std::string Site::session_cookie(std::string_view token, int64_t max_age) const {
  return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}", kSessionCookie, token,
                     max_age, config_.secure_cookies ? "; Secure" : "");
}

std::string Site::clear_session_cookie() const { return session_cookie("", 0); }

void Site::set_session_cookie(const Request& req, Response& res, const auth::LoginResult& login) {
  // Max-Age is the session's absolute lifetime, as the store keeps it.
  int64_t max_age = 30 * 24 * 3600;
  if (auto list = accounts_.sessions(login.session.account.id); list.ok()) {
    for (const store::Session& s : *list)
      if (s.id == login.session.session_id && s.expires_at > s.created_at)
        max_age = s.expires_at - s.created_at;
  }
  res.add_header("Set-Cookie", session_cookie(login.token, max_age));
  // A token from before the login (perhaps planted) is not this session's.
  res.add_header("Set-Cookie", csrf_cookie(req, auth::session_csrf_token(login.token)));
}

void Site::end_session_cookies(const Request& req, Response& res) const {
  res.add_header("Set-Cookie", clear_session_cookie());
  res.add_header("Set-Cookie", csrf_cookie(req, auth::new_token()));
}

bool Site::secure_request(const Request& req) const {
  if (config_.secure_cookies) return true;
  if (config_.base_url_configured) {
    std::string origin = origin_of(config_.base_url);
    if (origin.starts_with("https://")) return true;
    return origin.starts_with("http://") && is_loopback_host(std::string_view(origin).substr(7)) &&
           is_loopback_host(req.host);
  }
  // Behind a trusted proxy the browser's origin is the proxy's, whatever
  // Host says; decided by configuration, not per request, so every request
  // of one site uses the same cookie name.
  return is_loopback_host(req.host) && !config_.trust_proxy;
}

std::string_view Site::csrf_cookie_name(const Request& req) const {
  return secure_request(req) ? kHostCsrfCookie : kCsrfCookie;
}

std::string Site::csrf_cookie(const Request& req, std::string_view token) const {
  // __Host-: Secure, Path=/ and no Domain, so neither a sibling subdomain
  // nor a plain-http response can set or overwrite it.
  if (secure_request(req))
    return fmt::format("{}={}; Path=/; Secure; HttpOnly; SameSite=Lax", kHostCsrfCookie, token);
  return fmt::format("{}={}; Path=/; HttpOnly; SameSite=Lax", kCsrfCookie, token);
}

bool Site::csrf_matches(const Request& req, std::string_view presented) const {
  std::string_view cookie = cookie_value(req.cookie, csrf_cookie_name(req));
  if (cookie.empty() || presented.empty()) return false;
  if (!auth::constant_time_equal(cookie, presented)) return false;
  // Signed in by cookie: only this session's token, so a token planted
  // before the login, or taken from another session, does not pass.
  if (req.caller && req.caller->by_cookie)
    return auth::constant_time_equal(presented, auth::session_csrf_token(req.caller->token));
  return true;
}

Response Site::redirect(std::string_view location) {
  Response r;
  r.status = 303;
  r.add_header("Location", location);
  r.headers.append(headers::kPrivate);
  r.add_header("Content-Type", "text/plain; charset=utf-8");
  return r;
}

Response Site::allow_gateway_forms(Response r) {
  constexpr std::string_view kSelfOnly = "form-action 'self';";
  size_t at = r.headers.find(kSelfOnly);
  if (at != std::string::npos) r.headers.replace(at, kSelfOnly.size(), "form-action 'self' https:;");
  return r;
}

std::string Site::ensure_csrf(const Request& req, Response* res) const {
  std::string_view have = cookie_value(req.cookie, csrf_cookie_name(req));
  if (req.caller && req.caller->by_cookie) {
    std::string bound = auth::session_csrf_token(req.caller->token);
    if (!auth::constant_time_equal(have, bound)) res->add_header("Set-Cookie", csrf_cookie(req, bound));
    return bound;
  }
  bool well_formed = have.size() >= 32 && have.size() <= 128 &&
                     std::all_of(have.begin(), have.end(), [](char c) {
                       return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                              (c >= '0' && c <= '9') || c == '-' || c == '_';
                     });
  if (well_formed) return std::string(have);
  std::string token = auth::new_token();
  res->add_header("Set-Cookie", csrf_cookie(req, token));
  return token;
}

nlohmann::json Site::page_context(std::string_view title) const {
  nlohmann::json ctx = {
      {"site_name", config_.site_name},
      {"css_href", css_href_},
      {"page_title",
       title.empty() ? config_.site_name : fmt::format("{} - {}", title, config_.site_name)},
      {"base_url", config_.base_url},
  };
  if (footer_.is_object()) ctx.update(footer_);
  return ctx;
}

std::shared_ptr<const Prepared> Site::prepare_html(const std::string& name,
                                                   const nlohmann::json& ctx) {
  std::string body;
  body.reserve(16384);
  if (Status s = templates_.render_to(name, ctx, &body); !s) {
    spdlog::error("rendering {}: {}", name, s.to_string());
    return nullptr;
  }
  return make_prepared(kPreparedHtmlHeaders, std::move(body));
}

Response Site::html(const Request& req, int status, const std::string& name,
                    nlohmann::json ctx, Caching caching) {
  Response r;
  r.status = status;
  if (req.caller) {
    const gate::Role role = req.caller->account().role;
    const bool publish = auth::allowed(role, auth::Permission::kPublish);
    ctx["me"] = {{"email", req.caller->account().email}, {"console", publish}};
    // The console's navigation (admin_nav.html): the sections this role may
    // open, and the one this page belongs to (ctx "console_section").
    if (publish) {
      nlohmann::json nav = {{"publish", true},
                            {"users", auth::allowed(role, auth::Permission::kManageUsers)},
                            {"orders", auth::allowed(role, auth::Permission::kManageOrders)},
                            {"audit", auth::allowed(role, auth::Permission::kViewAudit)},
                            {"taxonomy", auth::allowed(role, auth::Permission::kManageTaxonomy)}};
      if (auto it = ctx.find("console_section"); it != ctx.end() && it->is_string())
        nav["on_" + it->get<std::string>()] = true;
      ctx["console"] = std::move(nav);
    }
  }
  if (req.caller || ctx.value("has_form", false)) {
    ctx["csrf"] = ensure_csrf(req, &r);
    // BREACH: a page holding the token must not be compressed when it may
    // reflect request text (the query string or a form body).
    if (!req.query.empty() || !req.body.empty()) r.may_compress = false;
  }
  if (!req.query.empty()) {
    if (std::optional<std::string> msg = query_param(req.query, "msg"))
      if (const char* text = flash_text(*msg)) ctx["flash"] = text;
  }
  r.body.reserve(16384);
  if (Status s = templates_.render_to(name, ctx, &r.body); !s) {
    spdlog::error("rendering {}: {}", name, s.to_string());
    r.status = 500;
    r.body.assign(kInternalErrorPage);
  }
  r.headers.append(headers::kHtml)
      .append(caching == Caching::kNoStore ? headers::kPrivateNoStore : headers::kPrivate);
  // Console pages hold forms that change the site: never inside a frame.
  if (ctx.contains("console_section")) r.add_header("X-Frame-Options", "DENY");
  return r;
}

Response Site::json(int status, const nlohmann::json& body, Caching caching) {
  Response r;
  r.status = status;
  r.body = dump_json(body);
  r.headers.append(headers::kJson)
      .append(caching == Caching::kNoStore ? headers::kPrivateNoStore : headers::kPrivate);
  return r;
}

std::shared_ptr<const Prepared> Site::prepare_json(const nlohmann::json& body) {
  return make_prepared(kPreparedJsonHeaders, dump_json(body));
}

Response Site::serve(const Request& req, std::shared_ptr<const Prepared> p) {
  Response r;
  r.coding = p->choose(compress::Accept::parse(req.accept_encoding));
  // The validator of the representation this request gets: an ETag of the
  // identity bytes does not validate the gzip ones, nor the reverse.
  if (etag_matches(req.if_none_match, p->get(r.coding).etag)) r.status = 304;
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
std::string Site::tag_url(std::string_view name) { return "/t/" + percent_encode(name); }

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

size_t Site::body_limit(Method method, std::string_view target, size_t fallback) const {
  std::string_view path = target.substr(0, target.find('?'));
  Router::Match m = router_.match(method, path);
  if (m.outcome != Router::Outcome::kFound) return fallback;
  size_t limit = router_.route(m.route).body_limit;
  return limit == 0 ? fallback : limit;
}

Response Site::body_too_large(const Request& req, size_t limit) {
  Response r;
  if (req.is_api()) {
    r = json(413, {{"error", {{"code", "payload_too_large"}, {"message", "request body too large"}}}});
  } else {
    nlohmann::json ctx = page_context("内容过大");
    ctx["heading"] = "内容过大";
    // A route with a limit of its own takes files: its GET is the form.
    std::string_view path = req.target.substr(0, req.target.find('?'));
    Router::Match m = router_.match(Method::kGet, path);
    bool form_page = m.outcome == Router::Outcome::kFound &&
                     router_.match(req.method, path).outcome == Router::Outcome::kFound &&
                     router_.route(router_.match(req.method, path).route).body_limit != 0;
    ctx["text"] = fmt::format("一次提交的内容超过 {} MiB 的上限，未保存任何内容。{}",
                              std::max<size_t>(1, limit >> 20),
                              form_page ? "请减少文件数量或大小，分批上传。" : "");
    if (form_page)
      ctx["link"] = {{"url", std::string(path)}, {"label", "返回重新上传"}};
    else
      ctx["home_link"] = true;
    r = html(req, 413, "message.html", std::move(ctx));
  }
  return r;
}

}  // namespace paidoc::web
