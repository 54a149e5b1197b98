// Operations endpoints: /healthz for load balancers, /metrics for Prometheus.
#include <spdlog/spdlog.h>

#include "store/health.h"
#include "web/handlers.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

// A short reason for a failed check; the store's message goes to the log only.
const char* health_reason(const Status& s) {
  if (store::is_damage(s)) return "database damaged";
  if (s.code() == Code::kUnavailable) return "database unavailable";
  return "database error";
}

// The store's probe. The site hands out no Store, but every store is a
// store::HealthStore (store/health.h), found here by dynamic_cast of the
// audit log's store (one object), as services find the audit log.
Status probe(Site& site) {
  auto* health = dynamic_cast<store::HealthStore*>(&site.audit());
  return health != nullptr ? health->probe() : Status();
}

}  // namespace

// 200 when the store answers and its main tables read (store::HealthStore::
// probe: a few pages, and whether any query has met damaged data), else
// 503 {"status": "unavailable", "reason": …}.
Response healthz(Site& site, const Request&, const Params&) {
  Status probed = probe(site);
  Result<int64_t> n = probed.is_ok() ? site.library().count() : Result<int64_t>(probed);
  Response r;
  if (n.ok()) {
    r.body = dump_json({{"status", "ok"}, {"documents", *n}});
  } else {
    spdlog::warn("healthz: store: {}", n.status().to_string());
    r.status = 503;
    r.body = dump_json({{"status", "unavailable"}, {"reason", health_reason(n.status())}});
  }
  r.headers.append(headers::kJson).append("Cache-Control: no-store\r\n");
  return r;
}

Response metrics(Site& site, const Request&, const Params&) {
  Result<int64_t> n = site.library().count();
  Response r;
  r.body = site.metrics().exposition(n.ok() ? std::optional<int64_t>(*n) : std::nullopt);
  r.headers.append(
      "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
      "Cache-Control: no-store\r\n");
  return r;
}

}  // namespace paidoc::web::handlers
