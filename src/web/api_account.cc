// JSON API v1 for accounts: register, login, logout, /me, document upload
// (publishers) and user administration. Who may call what, CSRF and the
// body's Content-Type are the route table's filters (routes.cc); handlers
// here never compare roles. Times are RFC 3339 UTC; money is integer fen.
#include <fmt/format.h>

#include "web/handlers.h"
#include "web/json_body.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

constexpr int64_t kUsersPerPage = 50;

nlohmann::json account_json(const auth::Account& a) {
  return {{"id", a.id},
          {"email", a.email},
          {"role", auth::role_name(a.role)},
          {"created_at", rfc3339_utc(a.created_at)}};
}

// A string member, or nullopt when absent or not a string.
std::optional<std::string> string_field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

Response error_with_message(Site& site, const Request& req, const Status& s,
                            std::string_view message) {
  Response r = site.error(req, s.code(), message);
  if (s.code() == Code::kTooManyRequests)
    r.add_header("Retry-After", std::to_string(std::max<int64_t>(1, s.retry_after())));
  return r;
}

const char* outcome_name(store::PutOutcome o) {
  switch (o) {
    case store::PutOutcome::kUpdated:
      return "updated";
    case store::PutOutcome::kUnchanged:
      return "unchanged";
    case store::PutOutcome::kCreated:
      break;
  }
  return "created";
}

}  // namespace

Response api_register(Site& site, const Request& req, const Params&) {
  nlohmann::json object;
  if (JsonBodyError e = read_json_object(req.body, &object); e != JsonBodyError::kNone)
    return json_body_error(site, req, e);
  const nlohmann::json* body = &object;
  std::optional<std::string> email = string_field(*body, "email");
  std::optional<std::string> password = string_field(*body, "password");
  if (!email || !password)
    return site.error(req, Code::kInvalidArgument, "email and password are required strings");
  std::string normalized = auth::normalize_email(*email);
  // The auth module's validation messages are ours (zh-CN) and safe to show.
  if (Status s = auth::validate_email(normalized); !s)
    return site.error(req, Code::kInvalidArgument, s.message());
  if (Status s = auth::validate_password(*password); !s)
    return site.error(req, Code::kInvalidArgument, s.message());
  Result<auth::Account> account =
      site.accounts().register_user(normalized, *password, site.client(req));
  if (!account.ok()) {
    const Status& s = account.status();
    switch (s.code()) {
      case Code::kConflict:
        return error_with_message(site, req, s, "email already registered");
      case Code::kInvalidArgument:
        return error_with_message(site, req, s, "invalid email or password");
      case Code::kTooManyRequests:
        return error_with_message(site, req, s, "too many registrations, try again later");
      default:
        return site.error(req, s);
    }
  }
  return site.json(201, {{"id", account->id},
                         {"email", account->email},
                         {"role", auth::role_name(account->role)}});
}

Response api_login(Site& site, const Request& req, const Params&) {
  nlohmann::json object;
  if (JsonBodyError e = read_json_object(req.body, &object); e != JsonBodyError::kNone)
    return json_body_error(site, req, e);
  const nlohmann::json* body = &object;
  std::optional<std::string> email = string_field(*body, "email");
  std::optional<std::string> password = string_field(*body, "password");
  if (!email || !password)
    return site.error(req, Code::kInvalidArgument, "email and password are required strings");
  Result<auth::LoginResult> r = site.accounts().login(*email, *password, site.client(req),
                                                      cookie_value(req.cookie, kSessionCookie));
  if (!r.ok()) {
    const Status& s = r.status();
    switch (s.code()) {
      case Code::kUnauthenticated:
      case Code::kInvalidArgument:
      case Code::kNotFound:
        return error_with_message(site, req, Status::unauthenticated(""),
                                  "wrong email or password");
      case Code::kForbidden:  // the right password for a disabled account
        return site.json(403, {{"error",
                                {{"code", "account_disabled"},
                                 {"message", "this account is disabled; contact an administrator"}}}});
      case Code::kTooManyRequests:
        return error_with_message(site, req, s, "too many failed logins, try again later");
      default:
        return site.error(req, s);
    }
  }
  Response res = site.json(200, {{"token", r->token},
                                 {"expires_at", rfc3339_utc(r->session.expires_at)},
                                 {"user", account_json(r->session.account)}});
  site.set_session_cookie(req, res, *r);
  return res;
}

Response api_logout(Site& site, const Request& req, const Params&) {
  if (!req.caller) return site.error(req, Code::kUnauthenticated, "not signed in");
  if (Status s = site.accounts().logout(req.caller->token); !s) return site.error(req, s);
  Response res = site.json(200, {{"logged_out", true}});
  if (req.caller->by_cookie) site.end_session_cookies(req, res);
  return res;
}

// balance_fen: integer fen. vip_until: RFC 3339 UTC like every time in the
// API, or null when the account never had VIP (a past time: expired).
// vip: whether VIP is active now. purchases: documents bought (paid, not
// refunded).
Response api_me(Site& site, const Request& req, const Params&) {
  const int64_t uid = req.caller->user_id();
  Result<Fen> balance = site.commerce().balance(uid);
  if (!balance.ok()) return site.error(req, balance.status());
  Result<commerce::Entitlements> ent = site.commerce().entitlements(uid);
  if (!ent.ok()) return site.error(req, ent.status());
  nlohmann::json j = account_json(req.caller->account());
  j["balance_fen"] = balance->value();
  j["vip_until"] = ent->vip_until > 0 ? nlohmann::json(rfc3339_utc(ent->vip_until)) : nullptr;
  j["vip"] = ent->vip_until > site.now();
  j["purchases"] = ent->purchased.size();
  j["session"] = {{"id", req.caller->session.session_id},
                  {"expires_at", rfc3339_utc(req.caller->session.expires_at)}};
  return site.json(200, j);
}

// POST /api/v1/documents?name=&price=&category= with the source as a
// text/plain body. price is in yuan ("9.90", like `paidoc import --price`);
// price_fen (integer) may be given instead.
Response api_upload(Site& site, const Request& req, const Params&) {
  bool bad = false;
  std::optional<std::string> name = query_param(req.query, "name", &bad);
  std::optional<std::string> price = query_param(req.query, "price", &bad);
  std::optional<std::string> price_fen = query_param(req.query, "price_fen", &bad);
  std::optional<std::string> category = query_param(req.query, "category", &bad);
  if (bad) return site.error(req, Code::kInvalidArgument, "malformed query parameter");
  if (req.body.empty()) return site.error(req, Code::kInvalidArgument, "empty document");
  std::string file = name.value_or("");
  if (file.empty()) file = "upload.txt";
  library::ImportOptions opts;
  const Fen max_price = site.library().max_price();
  if (price_fen) {
    std::optional<int64_t> fen = *price_fen == "0" ? std::optional<int64_t>(0) : parse_id(*price_fen);
    if (!fen)
      return site.error(req, Code::kInvalidArgument,
                        fmt::format("price_fen must be an integer from 0 to {} (the maximum price)",
                                    max_price.value()));
    opts.price = Fen(*fen);
    if (Status s = site.library().check_price("price_fen", opts.price); !s)
      return site.error(req, s.code(), s.message());
  } else if (price) {
    Result<Fen> fen = Fen::parse_yuan(*price);
    if (!fen.ok())
      return site.error(req, Code::kInvalidArgument,
                        fmt::format("price must be yuan like 9.90, from 0 to {} (the maximum price)",
                                    max_price.plain_yuan_string()));
    opts.price = *fen;
    if (Status s = site.library().check_price("price", opts.price); !s)
      return site.error(req, s.code(), s.message());
  }
  opts.category = category.value_or("");
  opts.actor = site.actor(req);
  Result<library::ImportLine> uploaded =
      site.library().upload_bytes(req.body, file, req.caller->user_id(), opts);
  if (!uploaded.ok())
    return site.error(req, Code::kInvalidArgument, "name: " + uploaded.status().message());
  const library::ImportLine& line = *uploaded;
  if (!line.ok) return site.error(req, Code::kInvalidArgument, line.error);
  return site.json(line.outcome == store::PutOutcome::kCreated ? 201 : 200,
                   {{"id", line.id}, {"title", line.title}, {"outcome", outcome_name(line.outcome)}});
}

Response api_users(Site& site, const Request& req, const Params&) {
  std::optional<int64_t> page = parse_page(req.query);
  if (!page)
    return site.error(req, Code::kInvalidArgument, "page must be an integer from 1 to 100000");
  Result<std::vector<auth::Account>> users =
      site.accounts().list_users((*page - 1) * kUsersPerPage, kUsersPerPage);
  if (!users.ok()) return site.error(req, users.status());
  nlohmann::json items = nlohmann::json::array();
  for (const auth::Account& a : *users) {
    nlohmann::json item = account_json(a);
    item["disabled"] = a.disabled_at != 0;
    items.push_back(std::move(item));
  }
  return site.json(200, {{"page", *page}, {"per_page", kUsersPerPage}, {"items", std::move(items)}});
}

Response api_user_role(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "user id must be a positive integer");
  nlohmann::json object;
  if (JsonBodyError e = read_json_object(req.body, &object); e != JsonBodyError::kNone)
    return json_body_error(site, req, e);
  const nlohmann::json* body = &object;
  std::optional<std::string> role_text = string_field(*body, "role");
  std::optional<gate::Role> role = role_text ? auth::parse_role(*role_text) : std::nullopt;
  if (!role) return site.error(req, Code::kInvalidArgument, "role must be reader, editor or admin");
  if (Status s = site.accounts().set_role(*id, *role, site.actor(req)); !s) return site.error(req, s);
  return site.json(200, {{"id", *id}, {"role", auth::role_name(*role)}});
}

}  // namespace paidoc::web::handlers
