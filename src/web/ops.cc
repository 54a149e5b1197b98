// Operations endpoints: /healthz for load balancers, /metrics for Prometheus.
#include <spdlog/spdlog.h>

#include "web/handlers.h"
#include "web/util.h"

namespace paidoc::web::handlers {

Response healthz(Site& site, const Request&, const Params&) {
  Result<int64_t> n = site.library().count();
  Response r;
  if (n.ok()) {
    r.body = dump_json({{"status", "ok"}, {"documents", *n}});
  } else {
    spdlog::warn("healthz: store: {}", n.status().to_string());
    r.status = 503;
    r.body = dump_json({{"status", "unavailable"}});
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
