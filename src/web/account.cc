// Account pages (zh-CN HTML forms): sign-in, registration, sign-out, /me
// (sessions, password, deletion) and /admin/users (search, roles, disabling
// and enabling accounts).
//
// The route table declares who may call each of these and their CSRF and
// body rules (routes.cc); by the time a handler runs, the form is parsed,
// its CSRF token checked and the caller's permission established. Handlers
// here never compare roles. Forms keep the typed email and never echo a
// password.
#include <fmt/format.h>

#include "web/commerce_view.h"
#include "web/handlers.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

constexpr int64_t kUsersPerPage = 50;
constexpr size_t kRecentOrders = 10;

const char* role_label(gate::Role r) {
  switch (r) {
    case gate::Role::kEditor:
      return "编辑";
    case gate::Role::kAdmin:
      return "管理员";
    case gate::Role::kSystem:
      return "系统";
    case gate::Role::kReader:
    case gate::Role::kAnonymous:
      break;
  }
  return "读者";
}

std::string query_next(const Request& req) {
  std::optional<std::string> next = query_param(req.query, "next");
  if (!next) return {};
  std::optional<std::string> safe = safe_local_path(*next);
  return safe ? *safe : std::string();
}

std::string retry_text(int64_t seconds) {
  if (seconds < 60) return fmt::format("尝试次数过多，请在 {} 秒后再试。", std::max<int64_t>(1, seconds));
  return fmt::format("尝试次数过多，请在 {} 分钟后再试。", (seconds + 59) / 60);
}

// The sign-in or registration form, with an optional inline error.
Response auth_form(Site& site, const Request& req, int status, bool login_form,
                   std::string_view email, std::string_view next, std::string_view error,
                   int64_t retry_after = 0) {
  nlohmann::json ctx = site.page_context(login_form ? "登录" : "注册");
  ctx["has_form"] = true;
  ctx["email"] = email;
  ctx["next"] = next;
  if (!error.empty()) ctx["error"] = error;
  std::string other = login_form ? "/register" : "/login";
  if (!next.empty()) other += "?next=" + percent_encode(next);
  ctx["other_url"] = other;
  ctx["min_password"] = auth::kMinPasswordChars;
  Response r = site.html(req, status, login_form ? "login.html" : "register.html", std::move(ctx));
  if (retry_after > 0) r.add_header("Retry-After", std::to_string(retry_after));
  r.add_header("X-Frame-Options", "DENY");
  return r;
}

struct MeErrors {
  std::string password;
  std::string remove;
};

Response me_page(Site& site, const Request& req, int status, const MeErrors& errors) {
  const Caller& c = *req.caller;
  Result<std::vector<store::Session>> sessions = site.accounts().sessions(c.user_id());
  if (!sessions.ok()) return site.error(req, sessions.status());
  nlohmann::json list = nlohmann::json::array();
  for (const store::Session& s : *sessions) {
    list.push_back({
        {"id", s.id},
        {"current", s.id == c.session.session_id},
        {"created", display_time(s.created_at)},
        {"last_seen", display_time(s.last_seen_at)},
        {"ip", s.ip},
        {"user_agent", s.user_agent.empty() ? std::string("未知设备") : s.user_agent},
    });
  }
  commerce::Commerce& shop = site.commerce();
  Result<Fen> balance = shop.balance(c.user_id());
  if (!balance.ok()) return site.error(req, balance.status());
  Result<commerce::Entitlements> ent = shop.entitlements(c.user_id());
  if (!ent.ok()) return site.error(req, ent.status());
  Result<std::vector<commerce::Order>> orders = shop.orders(c.user_id());
  if (!orders.ok()) return site.error(req, orders.status());
  sort_newest_first(&*orders);
  // 我的购买: documents bought and still held (paid, not refunded).
  nlohmann::json purchases = nlohmann::json::array();
  nlohmann::json recent = nlohmann::json::array();
  for (const commerce::Order& o : *orders) {
    if (o.kind == commerce::OrderKind::kDocument && o.status == commerce::OrderStatus::kPaid)
      purchases.push_back({{"title", o.subject},
                           {"url", fmt::format("/d/{}", o.document_id)},
                           {"date", display_date(o.paid_at)}});
    if (recent.size() < kRecentOrders) recent.push_back(order_context(o));
  }
  nlohmann::json ctx = site.page_context("我的账号");
  ctx["account"] = {
      {"email", c.account().email},
      {"role", role_label(c.account().role)},
      {"created", display_date(c.account().created_at)},
      {"balance", yuan(*balance)},
  };
  if (ent->vip_until > site.now())
    ctx["vip_until"] = display_date(ent->vip_until);
  else if (ent->vip_until > 0)
    ctx["vip_expired"] = display_date(ent->vip_until);
  ctx["has_purchases"] = !purchases.empty();
  ctx["purchases"] = std::move(purchases);
  ctx["has_orders"] = !recent.empty();
  ctx["orders"] = std::move(recent);
  ctx["sessions"] = std::move(list);
  ctx["min_password"] = auth::kMinPasswordChars;
  if (!errors.password.empty()) ctx["password_error"] = errors.password;
  if (!errors.remove.empty()) ctx["delete_error"] = errors.remove;
  Response r = site.html(req, status, "me.html", std::move(ctx));
  r.add_header("X-Frame-Options", "DENY");
  return r;
}

}  // namespace

// --- sign in / register / sign out --------------------------------------------------

Response login(Site& site, const Request& req, const Params&) {
  std::string next = query_next(req);
  if (req.caller) return Site::redirect(next.empty() ? "/me" : next);
  return auth_form(site, req, 200, true, "", next, "");
}

Response login_post(Site& site, const Request& req, const Params&) {
  const Form& f = *req.form;
  std::string email(f.get("email"));
  std::string next = safe_local_path(f.get("next")).value_or("");
  if (email.empty() || f.get("password").empty())
    return auth_form(site, req, 400, true, email, next, "请输入邮箱和密码。");
  std::string_view previous = cookie_value(req.cookie, kSessionCookie);
  Result<auth::LoginResult> r =
      site.accounts().login(email, f.get("password"), site.client(req), previous);
  if (!r.ok()) {
    const Status& s = r.status();
    switch (s.code()) {
      case Code::kUnauthenticated:
      case Code::kInvalidArgument:
      case Code::kNotFound:
        return auth_form(site, req, 401, true, email, next, "邮箱或密码不正确。");
      case Code::kForbidden:  // a disabled account: auth's message says so
        return auth_form(site, req, 403, true, email, next, s.message());
      case Code::kTooManyRequests:
        return auth_form(site, req, 429, true, email, next, retry_text(s.retry_after()),
                         std::max<int64_t>(1, s.retry_after()));
      default:
        return site.error(req, s);
    }
  }
  Response res = Site::redirect(next.empty() ? "/me" : next);
  site.set_session_cookie(req, res, *r);
  return res;
}

Response register_page(Site& site, const Request& req, const Params&) {
  std::string next = query_next(req);
  if (req.caller) return Site::redirect(next.empty() ? "/me" : next);
  return auth_form(site, req, 200, false, "", next, "");
}

Response register_post(Site& site, const Request& req, const Params&) {
  const Form& f = *req.form;
  std::string email(f.get("email"));
  std::string_view password = f.get("password");
  std::string next = safe_local_path(f.get("next")).value_or("");
  std::string normalized = auth::normalize_email(email);
  if (Status s = auth::validate_email(normalized); !s)
    return auth_form(site, req, 400, false, email, next, s.message());
  if (Status s = auth::validate_password(password); !s)
    return auth_form(site, req, 400, false, email, next, s.message());
  if (f.get("password2") != password)
    return auth_form(site, req, 400, false, email, next, "两次输入的密码不一致。");
  auth::Client client = site.client(req);
  Result<auth::Account> account = site.accounts().register_user(normalized, password, client);
  if (!account.ok()) {
    const Status& s = account.status();
    switch (s.code()) {
      case Code::kConflict:
        return auth_form(site, req, 409, false, email, next, "该邮箱已注册，请直接登录。");
      case Code::kInvalidArgument:
        return auth_form(site, req, 400, false, email, next, "邮箱或密码不符合要求。");
      case Code::kTooManyRequests:
        return auth_form(site, req, 429, false, email, next,
                         "注册过于频繁，请稍后再试。", std::max<int64_t>(1, s.retry_after()));
      default:
        return site.error(req, s);
    }
  }
  // Signed in right away; if that fails (a limit), the sign-in form says so.
  Result<auth::LoginResult> login = site.accounts().login(
      normalized, password, client, cookie_value(req.cookie, kSessionCookie));
  if (!login.ok()) return Site::redirect("/login?msg=registered");
  Response res = Site::redirect(next.empty() ? "/me" : next);
  site.set_session_cookie(req, res, *login);
  return res;
}

Response logout_post(Site& site, const Request& req, const Params&) {
  std::string_view token =
      req.caller ? std::string_view(req.caller->token) : cookie_value(req.cookie, kSessionCookie);
  if (!token.empty())
    if (Status s = site.accounts().logout(token); !s) return site.error(req, s);
  Response res = Site::redirect("/?msg=logged_out");
  site.end_session_cookies(req, res);
  return res;
}

// --- /me ------------------------------------------------------------------------------

Response me(Site& site, const Request& req, const Params&) {
  return me_page(site, req, 200, {});
}

Response me_revoke(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "session id must be a positive integer");
  if (Status s = site.accounts().revoke_session(req.caller->user_id(), *id); !s)
    return site.error(req, s);
  if (*id == req.caller->session.session_id) {
    Response res = Site::redirect("/login?msg=logged_out");
    site.end_session_cookies(req, res);
    return res;
  }
  return Site::redirect("/me?msg=session_revoked");
}

Response me_logout_everywhere(Site& site, const Request& req, const Params&) {
  if (Status s = site.accounts().logout_everywhere(req.caller->user_id()); !s)
    return site.error(req, s);
  Response res = Site::redirect("/login?msg=logged_out_everywhere");
  site.end_session_cookies(req, res);
  return res;
}

Response me_password(Site& site, const Request& req, const Params&) {
  const Form& f = *req.form;
  std::string_view current = f.get("current_password");
  std::string_view fresh = f.get("new_password");
  if (current.empty()) return me_page(site, req, 400, {"请输入当前密码。", ""});
  if (Status s = auth::validate_password(fresh); !s) return me_page(site, req, 400, {s.message(), ""});
  if (f.has("new_password2") && f.get("new_password2") != fresh)
    return me_page(site, req, 400, {"两次输入的新密码不一致。", ""});
  Status s = site.accounts().change_password(req.caller->user_id(), req.caller->session.session_id,
                                             current, fresh);
  if (!s) {
    switch (s.code()) {
      case Code::kUnauthenticated:
        return me_page(site, req, 400, {"当前密码不正确。", ""});
      case Code::kInvalidArgument:
        return me_page(site, req, 400, {"新密码不符合要求。", ""});
      case Code::kTooManyRequests: {
        Response r = me_page(site, req, 429, {retry_text(s.retry_after()), ""});
        r.add_header("Retry-After", std::to_string(std::max<int64_t>(1, s.retry_after())));
        return r;
      }
      default:
        return site.error(req, s);
    }
  }
  return Site::redirect("/me?msg=password_changed");
}

Response me_delete(Site& site, const Request& req, const Params&) {
  std::string_view password = req.form->get("password");
  if (password.empty()) return me_page(site, req, 400, {"", "请输入密码以确认删除。"});
  Status s = site.accounts().delete_account(req.caller->user_id(), password);
  if (!s) {
    switch (s.code()) {
      case Code::kUnauthenticated:
        return me_page(site, req, 400, {"", "密码不正确，账号未删除。"});
      case Code::kTooManyRequests: {
        Response r = me_page(site, req, 429, {"", retry_text(s.retry_after())});
        r.add_header("Retry-After", std::to_string(std::max<int64_t>(1, s.retry_after())));
        return r;
      }
      default:
        return site.error(req, s);
    }
  }
  Response res = Site::redirect("/?msg=account_deleted");
  site.end_session_cookies(req, res);
  return res;
}

// --- /admin/users ---------------------------------------------------------------------

namespace {

// The user list: ?q= (part of the email) and ?page=, the total, each user
// with the role form and a disable / enable button. `error`: what a refused
// change answered, shown above the list (role=alert).
Response admin_users_page(Site& site, const Request& req, int status, std::string_view error) {
  std::optional<int64_t> page = parse_page(req.query);
  if (!page) return site.error(req, Code::kInvalidArgument, "page must be a positive integer");
  std::string q = query_param(req.query, "q").value_or("");
  Result<auth::AccountPage> users =
      site.accounts().search_users(q, (*page - 1) * kUsersPerPage, kUsersPerPage);
  if (!users.ok()) return site.error(req, users.status());
  nlohmann::json list = nlohmann::json::array();
  for (const auth::Account& a : users->items) {
    nlohmann::json roles = nlohmann::json::array();
    for (gate::Role r : {gate::Role::kReader, gate::Role::kEditor, gate::Role::kAdmin})
      roles.push_back(
          {{"value", auth::role_name(r)}, {"label", role_label(r)}, {"selected", r == a.role}});
    nlohmann::json item = {
        {"id", a.id},
        {"email", a.email},
        {"role", role_label(a.role)},
        {"created", display_date(a.created_at)},
        {"self", a.id == req.caller->user_id()},
        {"disabled", a.disabled_at != 0},
        {"roles", std::move(roles)},
    };
    if (a.disabled_at != 0) item["disabled_on"] = display_time(a.disabled_at);
    list.push_back(std::move(item));
  }
  const std::string base =
      q.empty() ? std::string("/admin/users?") : "/admin/users?q=" + percent_encode(q) + "&";
  const bool more = *page * kUsersPerPage < users->total;
  nlohmann::json ctx = site.page_context("用户管理");
  ctx["console_section"] = "users";
  ctx["users"] = std::move(list);
  ctx["q"] = q;
  ctx["total"] = users->total;
  nlohmann::json pager = {{"page", *page}, {"show", *page > 1 || more}};
  if (*page > 1) pager["prev_url"] = fmt::format("{}page={}", base, *page - 1);
  if (more) pager["next_url"] = fmt::format("{}page={}", base, *page + 1);
  ctx["pager"] = std::move(pager);
  if (!error.empty()) ctx["error"] = error;
  return site.html(req, status, "admin.html", std::move(ctx));
}

// A refused change to a user: its own message when it has one to show
// (a refusal of the rules, in zh-CN), else the error page.
Response user_change_refused(Site& site, const Request& req, const Status& s) {
  switch (s.code()) {
    case Code::kForbidden:
    case Code::kInvalidArgument:
      return admin_users_page(site, req, http_status(s.code()), s.message());
    case Code::kNotFound:
      return admin_users_page(site, req, 404, "账号不存在或已删除。");
    default:
      return site.error(req, s);
  }
}

}  // namespace

Response admin_users(Site& site, const Request& req, const Params&) {
  return admin_users_page(site, req, 200, {});
}

Response admin_role(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "user id must be a positive integer");
  std::optional<gate::Role> role = auth::parse_role(req.form->get("role"));
  if (!role) return admin_users_page(site, req, 400, "角色无效：请选择读者、编辑或管理员。");
  if (Status s = site.accounts().set_role(*id, *role, site.actor(req)); !s)
    return user_change_refused(site, req, s);
  return Site::redirect("/admin/users?msg=role_changed");
}

// POST /admin/users/{id}/disable: the account can no longer sign in and
// its sessions end.
Response admin_user_disable(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "user id must be a positive integer");
  if (Status s = site.accounts().disable(*id, site.actor(req)); !s)
    return user_change_refused(site, req, s);
  return Site::redirect("/admin/users?msg=user_disabled");
}

// POST /admin/users/{id}/enable
Response admin_user_enable(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "user id must be a positive integer");
  if (Status s = site.accounts().enable(*id, site.actor(req)); !s)
    return user_change_refused(site, req, s);
  return Site::redirect("/admin/users?msg=user_enabled");
}

}  // namespace paidoc::web::handlers
