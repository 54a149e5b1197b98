// "忘记密码" (zh-CN HTML forms): asking for a reset link by mail and setting
// a new password through it. The rules — limits, the same answer for every
// email, single-use hashed links — are auth::PasswordResets'; these
// handlers parse, call it once, and render.
//
// /password/forgot answers one page for every well-formed email, known or
// not, limited or not. Without mail settings it tells the reader to contact
// the site instead of showing a form. The reset page carries the token in
// its form only (never in a link of ours) and is not kept by the browser's
// cache.
#include <fmt/format.h>

#include "web/handlers.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

Response forgot_page(Site& site, const Request& req, int status, std::string_view email,
                     std::string_view error, bool sent) {
  nlohmann::json ctx = site.page_context("找回密码");
  if (!site.password_resets().enabled()) {
    ctx["off"] = true;
  } else if (sent) {
    ctx["sent"] = true;
    ctx["minutes"] = (site.config().password_resets.link_ttl + 59) / 60;
  } else {
    ctx["has_form"] = true;
    ctx["email"] = email;
    if (!error.empty()) ctx["error"] = error;
  }
  Response r = site.html(req, status, "password_forgot.html", std::move(ctx));
  r.add_header("X-Frame-Options", "DENY");
  return r;
}

Response reset_page(Site& site, const Request& req, int status, std::string_view token,
                    std::string_view error) {
  nlohmann::json ctx = site.page_context("设置新密码");
  ctx["has_form"] = true;
  ctx["token"] = token;
  ctx["min_password"] = auth::kMinPasswordChars;
  if (!error.empty()) ctx["error"] = error;
  Response r = site.html(req, status, "password_reset.html", std::move(ctx), Caching::kNoStore);
  r.add_header("X-Frame-Options", "DENY");
  return r;
}

// The page for a link that is unknown, used or expired: a way to ask again.
Response invalid_link(Site& site, const Request& req) {
  nlohmann::json ctx = site.page_context("链接无效或已过期");
  ctx["invalid"] = true;
  ctx["message"] = auth::kResetLinkInvalid;
  ctx["minutes"] = (site.config().password_resets.link_ttl + 59) / 60;
  Response r = site.html(req, 410, "password_reset.html", std::move(ctx), Caching::kNoStore);
  r.add_header("X-Frame-Options", "DENY");
  return r;
}

}  // namespace

Response password_forgot(Site& site, const Request& req, const Params&) {
  return forgot_page(site, req, 200, "", "", false);
}

Response password_forgot_post(Site& site, const Request& req, const Params&) {
  std::string email(req.form->get("email"));
  if (!site.password_resets().enabled()) return forgot_page(site, req, 200, "", "", false);
  if (email.empty()) return forgot_page(site, req, 400, email, "请输入邮箱。", false);
  Status s = site.password_resets().request(email, site.client(req), site.config().base_url);
  if (s.code() == Code::kInvalidArgument) return forgot_page(site, req, 400, email, s.message(), false);
  if (!s.is_ok()) return site.error(req, s);
  return forgot_page(site, req, 200, "", "", true);
}

Response password_reset(Site& site, const Request& req, const Params&) {
  std::string token = query_param(req.query, "token").value_or("");
  Status s = site.password_resets().check(token);
  if (s.code() == Code::kNotFound) return invalid_link(site, req);
  if (!s.is_ok()) return site.error(req, s);
  return reset_page(site, req, 200, token, "");
}

Response password_reset_post(Site& site, const Request& req, const Params&) {
  const Form& f = *req.form;
  std::string token(f.get("token"));
  std::string_view password = f.get("password");
  if (f.get("password2") != password)
    return reset_page(site, req, 400, token, "两次输入的新密码不一致。");
  Result<std::string> r = site.password_resets().reset(token, password, site.client(req));
  if (!r.ok()) {
    const Status& s = r.status();
    if (s.code() == Code::kNotFound) return invalid_link(site, req);
    if (s.code() == Code::kInvalidArgument) return reset_page(site, req, 400, token, s.message());
    return site.error(req, s);
  }
  // Every session of the account has ended, this browser's too.
  Response res = Site::redirect("/login?msg=password_reset");
  site.end_session_cookies(req, res);
  return res;
}

}  // namespace paidoc::web::handlers
