// The route table: every URL the server answers, in one list, with the
// filters each one needs (router.h: AuthRule, CsrfRule, BodyRule) and where
// its handler runs (Work: the I/O thread, or the store / hash / export /
// provider pool; kStore when not given), plus an optional fast path tried on
// the I/O thread first. Each GET route also answers HEAD. The name is the
// `route` label in /metrics.
#include "web/handlers.h"
#include "web/router.h"

namespace paidoc::web {

const std::vector<Route>& routes() {
  using namespace handlers;
  using A = AuthRule;
  using C = CsrfRule;
  using B = BodyRule;
  using W = Work;
  constexpr Method kGet = Method::kGet;
  constexpr Method kPost = Method::kPost;
  static const std::vector<Route> kRoutes = {
      // Pages (zh-CN HTML)
      {kGet, "/", "home", home, A::kOptional},
      {kGet, "/d/{id}", "document", document, A::kOptional, C::kNone, B::kNone, W::kStore,
       document_cached},
      {kGet, "/c/{category}", "category", category, A::kOptional},
      {kGet, "/t/{tag}", "tag", tag, A::kOptional},
      {kGet, "/search", "search", search_page, A::kOptional},
      // Downloads: the page button / API call answers a redirect to a
      // short-lived link signed for the caller; the link serves the file.
      {kGet, "/d/{id}/download", "download_link", download_link, A::kOptional},
      {kGet, "/download/{id}", "download_file", download_file, A::kOptional, C::kNone, B::kNone,
       W::kExport},
      {kGet, "/static/{path*}", "static", static_file, A::kNone, C::kNone, B::kNone, W::kInline},
      // Accounts (HTML forms)
      {kGet, "/login", "login", login, A::kOptional},
      {kPost, "/login", "login_post", login_post, A::kOptional, C::kForm, B::kForm, W::kHash},
      {kGet, "/register", "register", register_page, A::kOptional},
      {kPost, "/register", "register_post", register_post, A::kOptional, C::kForm, B::kForm,
       W::kHash},
      {kPost, "/logout", "logout", logout_post, A::kOptional, C::kForm, B::kForm},
      // Password reset by mail (password_pages.cc): the same answer for
      // every email; setting the new password hashes it (hash pool).
      {kGet, "/password/forgot", "password_forgot", password_forgot, A::kOptional},
      {kPost, "/password/forgot", "password_forgot_post", password_forgot_post, A::kOptional,
       C::kForm, B::kForm},
      {kGet, "/password/reset", "password_reset", password_reset, A::kOptional},
      {kPost, "/password/reset", "password_reset_post", password_reset_post, A::kOptional,
       C::kForm, B::kForm, W::kHash},
      {kGet, "/me", "me", me, A::kUser},
      {kPost, "/me/sessions/{id}/revoke", "me_revoke", me_revoke, A::kUser, C::kForm, B::kForm},
      {kPost, "/me/logout-everywhere", "me_logout_everywhere", me_logout_everywhere, A::kUser,
       C::kForm, B::kForm},
      {kPost, "/me/password", "me_password", me_password, A::kUser, C::kForm, B::kForm, W::kHash},
      {kPost, "/me/delete", "me_delete", me_delete, A::kUser, C::kForm, B::kForm, W::kHash},
      // Buying (HTML forms)
      {kPost, "/orders", "order_create", order_create, A::kUser, C::kForm, B::kForm},
      {kGet, "/orders/{id}", "order", order_view, A::kUser},
      // Paying by Alipay or WeChat Pay may call the gateway: provider pool.
      {kPost, "/orders/{id}/pay", "order_pay", order_pay, A::kUser, C::kForm, B::kForm,
       W::kProvider},
      {kGet, "/orders/{id}/wechat", "order_wechat", order_wechat, A::kUser, C::kNone, B::kNone,
       W::kProvider},
      // WeChat's OAuth step (JSAPI inside WeChat) comes back here; it asks
      // WeChat for the openid, then starts the payment.
      {kGet, "/pay/wechat/oauth", "wechat_oauth", wechat_oauth, A::kUser, C::kNone, B::kNone,
       W::kProvider},
      {kGet, "/vip", "vip", vip, A::kOptional},
      {kGet, "/wallet/topup", "topup", topup_page, A::kUser},
      // The sandbox gateway's pages (404 unless sandbox payments are on)
      {kGet, "/sandbox/pay", "sandbox_page", sandbox_page, A::kOptional},
      {kPost, "/sandbox/pay", "sandbox_pay", sandbox_pay, A::kOptional, C::kForm, B::kForm},
      // Administration (HTML forms)
      // The console's home: editors and admins (console.cc).
      {kGet, "/admin", "admin", console_home, A::kPublish},
      // The console's documents (document_console.cc): editors and admins;
      // which documents each may change is the library's rule. Literal
      // paths come before the {id} ones they would otherwise match.
      {kGet, "/admin/documents", "admin_documents", admin_documents, A::kPublish},
      {kPost, "/admin/documents/bulk", "admin_documents_bulk", admin_documents_bulk, A::kPublish,
       C::kForm, B::kForm},
      {kGet, "/admin/documents/new", "admin_document_new", admin_document_new, A::kPublish},
      {kPost, "/admin/documents/new/preview", "admin_document_new_preview",
       admin_document_preview, A::kPublish, C::kForm, B::kForm},
      {kPost, "/admin/documents", "admin_document_create", admin_document_save, A::kPublish,
       C::kForm, B::kForm},
      {kGet, "/admin/documents/{id}/edit", "admin_document_edit", admin_document_edit,
       A::kPublish},
      {kPost, "/admin/documents/{id}/preview", "admin_document_preview", admin_document_preview,
       A::kPublish, C::kForm, B::kForm},
      {kPost, "/admin/documents/{id}", "admin_document_save", admin_document_save, A::kPublish,
       C::kForm, B::kForm},
      {kPost, "/admin/documents/{id}/revisions/{rev}/restore", "admin_document_restore",
       admin_document_restore, A::kPublish, C::kForm, B::kForm},
      // Uploading files (upload_pages.cc): multipart, with a body limit of its own.
      {kGet, "/admin/upload", "admin_upload", admin_upload, A::kPublish},
      {kPost, "/admin/upload", "admin_upload_post", admin_upload_post, A::kPublish, C::kForm,
       B::kMultipart, W::kStore, nullptr, kUploadBodyLimit},
      {kGet, "/admin/users", "admin_users", admin_users, A::kManageUsers},
      {kPost, "/admin/users/{id}/role", "admin_role", admin_role, A::kManageUsers, C::kForm,
       B::kForm},
      {kGet, "/admin/orders", "admin_orders", admin_orders, A::kManageOrders},
      {kPost, "/admin/orders/{id}/refund", "admin_refund", admin_refund, A::kManageOrders, C::kForm,
       B::kForm},
      // The audit log: who changed what and when (GET filters).
      {kGet, "/admin/audit", "admin_audit", admin_audit, A::kViewAudit},
      {kGet, "/admin/audit.csv", "admin_audit_csv", admin_audit_csv, A::kViewAudit},
      // Disabling and enabling accounts (admins).
      {kPost, "/admin/users/{id}/disable", "admin_user_disable", admin_user_disable,
       A::kManageUsers, C::kForm, B::kForm},
      {kPost, "/admin/users/{id}/enable", "admin_user_enable", admin_user_enable,
       A::kManageUsers, C::kForm, B::kForm},
      // Categories and tags (taxonomy_pages.cc): admins only.
      {kGet, "/admin/categories", "admin_categories", admin_categories, A::kManageTaxonomy},
      {kPost, "/admin/categories", "admin_category_create", admin_category_create,
       A::kManageTaxonomy, C::kForm, B::kForm},
      {kPost, "/admin/categories/{id}/rename", "admin_category_rename", admin_category_rename,
       A::kManageTaxonomy, C::kForm, B::kForm},
      {kPost, "/admin/categories/{id}/move", "admin_category_move", admin_category_move,
       A::kManageTaxonomy, C::kForm, B::kForm},
      {kPost, "/admin/categories/{id}/delete", "admin_category_delete", admin_category_delete,
       A::kManageTaxonomy, C::kForm, B::kForm},
      {kGet, "/admin/tags", "admin_tags", admin_tags, A::kManageTaxonomy},
      {kPost, "/admin/tags", "admin_tag_create", admin_tag_create, A::kManageTaxonomy, C::kForm,
       B::kForm},
      {kPost, "/admin/tags/{id}/rename", "admin_tag_rename", admin_tag_rename, A::kManageTaxonomy,
       C::kForm, B::kForm},
      {kPost, "/admin/tags/{id}/move", "admin_tag_move", admin_tag_move, A::kManageTaxonomy,
       C::kForm, B::kForm},
      {kPost, "/admin/tags/{id}/delete", "admin_tag_delete", admin_tag_delete, A::kManageTaxonomy,
       C::kForm, B::kForm},
      // Trust pages (trust_page_handlers.cc): operator-configured Markdown,
      // rendered at start; anonymous readers are answered on the I/O thread.
      {kGet, "/about", "about", trust_page, A::kOptional, C::kNone, B::kNone, W::kStore,
       trust_page_cached},
      {kGet, "/terms", "terms", trust_page, A::kOptional, C::kNone, B::kNone, W::kStore,
       trust_page_cached},
      {kGet, "/privacy", "privacy", trust_page, A::kOptional, C::kNone, B::kNone, W::kStore,
       trust_page_cached},
      {kGet, "/refund-policy", "refund_policy", trust_page, A::kOptional, C::kNone, B::kNone,
       W::kStore, trust_page_cached},
      {kGet, "/contact", "contact", trust_page, A::kOptional, C::kNone, B::kNone, W::kStore,
       trust_page_cached},
      // For crawlers and feed readers
      {kGet, "/robots.txt", "robots", robots, A::kNone, C::kNone, B::kNone, W::kInline},
      {kGet, "/sitemap.xml", "sitemap", sitemap},
      {kGet, "/feed.xml", "feed", feed},
      // JSON API
      {kGet, "/api/v1/documents", "api_documents", api_documents},
      {kPost, "/api/v1/documents", "api_upload", api_upload, A::kPublish, C::kApi, B::kText},
      {kGet, "/api/v1/documents/{id}", "api_document", api_document, A::kOptional, C::kNone,
       B::kNone, W::kStore, api_document_cached},
      {kGet, "/api/v1/search", "api_search", api_search, A::kOptional},
      {kGet, "/api/v1/documents/{id}/download", "api_download", download_link, A::kOptional},
      {kPost, "/api/v1/auth/register", "api_register", api_register, A::kOptional, C::kApi,
       B::kJson, W::kHash},
      {kPost, "/api/v1/auth/login", "api_login", api_login, A::kOptional, C::kApi, B::kJson,
       W::kHash},
      {kPost, "/api/v1/auth/logout", "api_logout", api_logout, A::kOptional, C::kApi, B::kJson},
      {kGet, "/api/v1/me", "api_me", api_me, A::kUser},
      {kPost, "/api/v1/orders", "api_order_create", api_order_create, A::kUser, C::kApi, B::kJson},
      {kGet, "/api/v1/orders", "api_orders", api_orders, A::kUser},
      {kGet, "/api/v1/orders/{id}", "api_order", api_order, A::kUser},
      {kPost, "/api/v1/orders/{id}/pay", "api_order_pay", api_order_pay, A::kUser, C::kApi,
       B::kJson, W::kProvider},
      // Payment providers call this: no credentials, no CSRF; the signature
      // over the raw body is the check (Commerce::notify).
      {kPost, "/api/v1/payments/{provider}/notify", "api_payment_notify", api_payment_notify},
      {kGet, "/api/v1/admin/users", "api_users", api_users, A::kManageUsers},
      {kPost, "/api/v1/admin/users/{id}/role", "api_user_role", api_user_role, A::kManageUsers,
       C::kApi, B::kJson},
      // Operations: answered on the I/O thread (one cached-statement read),
      // so they still answer when every pool is busy. The only routes of the
      // operations listener (--metrics-listen); /metrics is 404 on the site's
      // address unless the metrics token is presented (--metrics-token).
      {kGet, "/healthz", "healthz", healthz, A::kNone, C::kNone, B::kNone, W::kInline, nullptr, 0,
       true},
      {kGet, "/metrics", "metrics", metrics, A::kMetricsToken, C::kNone, B::kNone, W::kInline,
       nullptr, 0, true},
  };
  return kRoutes;
}

}  // namespace paidoc::web
