// Route handlers, grouped by file: pages.cc, search_pages.cc, account.cc and
// commerce_pages.cc (HTML), api.cc, api_account.cc and api_commerce.cc
// (JSON v1), feeds.cc (robots, sitemap, Atom), ops.cc
// (health, metrics). routes.cc lists them with their filters, the pool each
// runs on, and their fast paths (router.h: FastPath; the *_cached ones).
#pragma once

#include "web/http.h"
#include "web/router.h"
#include "web/site.h"

namespace paidoc::web::handlers {

// pages.cc
Response home(Site& site, const Request& req, const Params& params);
Response document(Site& site, const Request& req, const Params& params);
// The anonymous document page from the render cache, on the I/O thread.
std::optional<Response> document_cached(Site& site, const Request& req, const Params& params);
Response category(Site& site, const Request& req, const Params& params);
Response static_file(Site& site, const Request& req, const Params& params);

// account.cc (HTML forms: sign-in, /me, /admin)
Response login(Site& site, const Request& req, const Params& params);
Response login_post(Site& site, const Request& req, const Params& params);
Response register_page(Site& site, const Request& req, const Params& params);
Response register_post(Site& site, const Request& req, const Params& params);
Response logout_post(Site& site, const Request& req, const Params& params);
Response me(Site& site, const Request& req, const Params& params);
Response me_revoke(Site& site, const Request& req, const Params& params);
Response me_logout_everywhere(Site& site, const Request& req, const Params& params);
Response me_password(Site& site, const Request& req, const Params& params);
Response me_delete(Site& site, const Request& req, const Params& params);
Response admin_users(Site& site, const Request& req, const Params& params);
Response admin_role(Site& site, const Request& req, const Params& params);
Response admin_user_disable(Site& site, const Request& req, const Params& params);
Response admin_user_enable(Site& site, const Request& req, const Params& params);

// search_pages.cc (the /search page and /api/v1/search)
Response search_page(Site& site, const Request& req, const Params& params);
Response api_search(Site& site, const Request& req, const Params& params);

// download_pages.cc (download links and the signed file endpoint)
Response download_link(Site& site, const Request& req, const Params& params);
Response download_file(Site& site, const Request& req, const Params& params);

// api.cc
Response api_documents(Site& site, const Request& req, const Params& params);
Response api_document(Site& site, const Request& req, const Params& params);
// The anonymous document JSON from the render cache, on the I/O thread.
std::optional<Response> api_document_cached(Site& site, const Request& req, const Params& params);

// api_account.cc (JSON: auth, me, upload, admin)
Response api_register(Site& site, const Request& req, const Params& params);
Response api_login(Site& site, const Request& req, const Params& params);
Response api_logout(Site& site, const Request& req, const Params& params);
Response api_me(Site& site, const Request& req, const Params& params);
Response api_upload(Site& site, const Request& req, const Params& params);
Response api_users(Site& site, const Request& req, const Params& params);
Response api_user_role(Site& site, const Request& req, const Params& params);

// password_pages.cc (HTML: "忘记密码" — a reset link by mail, a new password)
Response password_forgot(Site& site, const Request& req, const Params& params);
Response password_forgot_post(Site& site, const Request& req, const Params& params);
Response password_reset(Site& site, const Request& req, const Params& params);
Response password_reset_post(Site& site, const Request& req, const Params& params);

// commerce_pages.cc (HTML: orders, paying, VIP, top-up, sandbox, admin orders)
Response order_create(Site& site, const Request& req, const Params& params);
Response order_view(Site& site, const Request& req, const Params& params);
Response order_pay(Site& site, const Request& req, const Params& params);
Response order_wechat(Site& site, const Request& req, const Params& params);
Response wechat_oauth(Site& site, const Request& req, const Params& params);
Response vip(Site& site, const Request& req, const Params& params);
Response topup_page(Site& site, const Request& req, const Params& params);
Response sandbox_page(Site& site, const Request& req, const Params& params);
Response sandbox_pay(Site& site, const Request& req, const Params& params);
Response admin_orders(Site& site, const Request& req, const Params& params);
Response admin_refund(Site& site, const Request& req, const Params& params);

// audit_pages.cc (the audit log: admins only)
// console.cc
Response console_home(Site& site, const Request& req, const Params& params);
// document_console.cc (the console's documents: list, bulk, editor, revisions)
Response admin_documents(Site& site, const Request& req, const Params& params);
Response admin_documents_bulk(Site& site, const Request& req, const Params& params);
Response admin_document_new(Site& site, const Request& req, const Params& params);
Response admin_document_edit(Site& site, const Request& req, const Params& params);
Response admin_document_preview(Site& site, const Request& req, const Params& params);
Response admin_document_save(Site& site, const Request& req, const Params& params);
Response admin_document_restore(Site& site, const Request& req, const Params& params);

// upload_pages.cc (the console's multi-file upload)
Response admin_upload(Site& site, const Request& req, const Params& params);
Response admin_upload_post(Site& site, const Request& req, const Params& params);

Response admin_audit(Site& site, const Request& req, const Params& params);
Response admin_audit_csv(Site& site, const Request& req, const Params& params);

// taxonomy_pages.cc (categories and tags: the console's pages, admins only;
// the readers' tag page)
Response admin_categories(Site& site, const Request& req, const Params& params);
Response admin_category_create(Site& site, const Request& req, const Params& params);
Response admin_category_rename(Site& site, const Request& req, const Params& params);
Response admin_category_move(Site& site, const Request& req, const Params& params);
Response admin_category_delete(Site& site, const Request& req, const Params& params);
Response admin_tags(Site& site, const Request& req, const Params& params);
Response admin_tag_create(Site& site, const Request& req, const Params& params);
Response admin_tag_rename(Site& site, const Request& req, const Params& params);
Response admin_tag_move(Site& site, const Request& req, const Params& params);
Response admin_tag_delete(Site& site, const Request& req, const Params& params);
Response tag(Site& site, const Request& req, const Params& params);

// api_commerce.cc (JSON: orders, paying, provider notifications)
Response api_order_create(Site& site, const Request& req, const Params& params);
Response api_orders(Site& site, const Request& req, const Params& params);
Response api_order(Site& site, const Request& req, const Params& params);
Response api_order_pay(Site& site, const Request& req, const Params& params);
Response api_payment_notify(Site& site, const Request& req, const Params& params);

// feeds.cc
Response robots(Site& site, const Request& req, const Params& params);
Response sitemap(Site& site, const Request& req, const Params& params);
Response feed(Site& site, const Request& req, const Params& params);

// trust_page_handlers.cc (关于我们, 用户协议, 隐私政策, 购买与退款说明, 联系客服)
Response trust_page(Site& site, const Request& req, const Params& params);
// The anonymous trust page prepared at start, on the I/O thread.
std::optional<Response> trust_page_cached(Site& site, const Request& req, const Params& params);

// ops.cc
Response healthz(Site& site, const Request& req, const Params& params);
Response metrics(Site& site, const Request& req, const Params& params);

}  // namespace paidoc::web::handlers
