// The console's home (/admin): what an editor or admin can do, as links to
// the console's sections. Each section lives with its domain's pages.
#include "auth/auth.h"
#include "web/handlers.h"
#include "web/site.h"

namespace paidoc::web::handlers {

Response console_home(Site& site, const Request& req, const Params&) {
  const auth::Account& me = req.caller->account();
  nlohmann::json ctx = site.page_context("管理后台");
  ctx["console_section"] = "home";
  ctx["email"] = me.email;
  ctx["role"] = me.role == gate::Role::kAdmin ? "管理员" : "编辑";
  ctx["admin"] = auth::allowed(me.role, auth::Permission::kManageUsers);
  return site.html(req, 200, "admin_home.html", std::move(ctx));
}

}  // namespace paidoc::web::handlers
