// Route handlers, grouped by file: pages.cc (HTML), api.cc (JSON v1),
// feeds.cc (robots, sitemap, Atom), ops.cc (health, metrics). routes.cc
// lists them.
#pragma once

#include "web/http.h"
#include "web/router.h"
#include "web/site.h"

namespace paidoc::web::handlers {

// pages.cc
Response home(Site& site, const Request& req, const Params& params);
Response document(Site& site, const Request& req, const Params& params);
Response category(Site& site, const Request& req, const Params& params);
Response login(Site& site, const Request& req, const Params& params);
Response register_page(Site& site, const Request& req, const Params& params);
Response static_file(Site& site, const Request& req, const Params& params);

// api.cc
Response api_documents(Site& site, const Request& req, const Params& params);
Response api_document(Site& site, const Request& req, const Params& params);

// feeds.cc
Response robots(Site& site, const Request& req, const Params& params);
Response sitemap(Site& site, const Request& req, const Params& params);
Response feed(Site& site, const Request& req, const Params& params);

// ops.cc
Response healthz(Site& site, const Request& req, const Params& params);
Response metrics(Site& site, const Request& req, const Params& params);

}  // namespace paidoc::web::handlers
