// Routes and the router. Every route is declared in the one list in
// routes.cc: method, path pattern, a name (used as the metrics label) and a
// handler. A GET route also answers HEAD (same headers, no body).
//
// Patterns are split on '/': a literal segment matches itself, "{name}"
// matches one non-empty segment, and a final "{name*}" matches the non-empty
// rest of the path. Parameters are raw (still percent-encoded).
//
// Thread-safety: a Router is immutable after construction.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "web/http.h"

namespace paidoc::web {

class Site;

struct Params {
  static constexpr int kMax = 4;
  std::array<std::pair<std::string_view, std::string_view>, kMax> items;
  int size = 0;
  // The raw value of `name`, or "" when absent.
  std::string_view get(std::string_view name) const {
    for (int i = 0; i < size; ++i)
      if (items[i].first == name) return items[i].second;
    return {};
  }
};

using Handler = Response (*)(Site& site, const Request& req, const Params& params);

// The filters a route declares; Site::handle runs them before the handler,
// in this order: body, credentials, permission, CSRF. Handlers never check
// roles, tokens or CSRF themselves.

// Who may call the route.
enum class AuthRule {
  kNone,         // credentials are not looked at (static files, feeds, ops)
  kOptional,     // public; a valid session or bearer token personalises it
  kUser,         // signed in: auth::Permission::kReadOwnAccount
  kPublish,      // auth::Permission::kPublish (editor, admin)
  kManageUsers,  // auth::Permission::kManageUsers (admin)
  kManageOrders, // auth::Permission::kManageOrders (admin)
  kViewAudit,    // auth::Permission::kViewAudit (admin)
  kManageTaxonomy,  // auth::Permission::kManageTaxonomy (admin)
  // /metrics: on the operations listener (ServerOptions::metrics_host), or
  // on the site's address with "Authorization: Bearer <metrics token>" when
  // one is configured; anything else is answered 404, as if there were no
  // such route. Accounts are never looked at.
  kMetricsToken,
};

// Cross-site request forgery defence for state-changing routes.
enum class CsrfRule {
  kNone,
  // HTML form: the "csrf" field must equal the CSRF cookie of the
  // request's kind (__Host-paidoc_csrf on secure requests, else
  // paidoc_csrf: Site::csrf_cookie_name) and, for a caller signed in by the
  // session cookie, that session's token (Site::csrf_matches), else 403.
  // For a kMultipart body the field is the multipart TEXT part named "csrf"
  // (a file part never counts).
  kForm,
  // JSON API: a call authenticated by the session COOKIE must carry
  // X-CSRF-Token passing the same check or an Origin equal to the site's
  // own; bearer-token calls are exempt. Else 403.
  kApi,
};

// What the request body must be (else 415); kForm bodies are parsed into
// Request::form, kMultipart bodies into Request::multipart (a malformed one
// is answered 400 before credentials are looked at).
enum class BodyRule {
  kNone,
  kForm,  // application/x-www-form-urlencoded
  kJson,  // application/json (an empty body is allowed and reads as {})
  kText,  // text/plain: raw bytes for the handler
  kMultipart,  // multipart/form-data (web/multipart.h): file uploads from a form
};

// The largest request body the server reads for most routes is
// ServerOptions::body_limit; a route that takes files declares its own.
inline constexpr size_t kUploadBodyLimit = 32u << 20;  // 32 MiB: several files at once

// Where a route's handler runs. The server's I/O threads only read, route
// and write; a handler that may block runs on the bounded worker pool of its
// kind (ServerOptions::pools), so that one slow kind of work (a burst of
// logins, a payment gateway that answers in seconds) cannot hold up the
// others or the pages served from memory.
enum class Work {
  kInline,    // never blocks: on the I/O thread (static files, robots.txt,
              // health and metrics: at most one cached-statement read)
  kStore,     // store calls, rendering from the store: the default
  kHash,      // password hashing (argon2id: tens of MiB and milliseconds each)
  kExport,    // rendering document files (docx, pdf, txt)
  kProvider,  // calls to a payment gateway over the network (up to seconds)
};
inline constexpr int kWorkKinds = 5;
// "inline", "store", "hash", "export", "provider" (flags and metrics).
const char* work_name(Work w);

// A route's fast path: run on the I/O thread before the handler goes to its
// pool, and only for a request the route's filters would pass untouched
// (no credentials presented, no body or CSRF rule). Answers the response
// when it needs no blocking work (e.g. a render-cache hit), else nullopt
// and the handler runs as usual. It must answer exactly what the handler
// would.
using FastPath = std::optional<Response> (*)(Site& site, const Request& req,
                                             const Params& params);

struct Route {
  Method method;
  std::string_view pattern;
  std::string_view name;
  Handler handler;
  AuthRule auth = AuthRule::kNone;
  CsrfRule csrf = CsrfRule::kNone;
  BodyRule body = BodyRule::kNone;
  Work work = Work::kStore;
  FastPath fast = nullptr;
  // The largest body read for this route; 0: ServerOptions::body_limit.
  // Checked before the body is read (a larger Content-Length is 413 at once).
  size_t body_limit = 0;
  // Also answered on the operations listener (ServerOptions::metrics_host),
  // where every other route is 404.
  bool ops = false;
};

// The route table (routes.cc).
const std::vector<Route>& routes();

class Router {
 public:
  explicit Router(const std::vector<Route>& routes);

  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    int route = -1;  // index into the table when found
    Params params;
    std::string allow;  // "GET, HEAD" when kMethodNotAllowed
  };
  Match match(Method method, std::string_view path) const;

  // Names for metrics: the table's names, then the ones below.
  const std::vector<std::string>& route_names() const { return names_; }
  int not_found_index() const { return static_cast<int>(table_.size()); }
  int method_not_allowed_index() const { return not_found_index() + 1; }
  int bad_request_index() const { return not_found_index() + 2; }  // unparsable HTTP
  const Route& route(int i) const { return table_[i].route; }

 private:
  struct Segment {
    std::string_view text;  // literal, or the parameter name
    bool param = false;
    bool rest = false;
  };
  struct Compiled {
    Route route;
    std::vector<Segment> segments;
  };
  static bool match_one(const Compiled& c, std::string_view path, Params* params);

  std::vector<Compiled> table_;
  std::vector<std::string> names_;
};

}  // namespace paidoc::web
