// The JSON API as the crash tests speak it: a call with a bearer token, the
// answer parsed, an order out of an answer, and the sandbox gateway's
// confirmation form (what a buyer's 支付 on /sandbox/pay posts).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "web/http_client.h"

namespace paidoc::cli::testing {

using json = nlohmann::json;
using paidoc::web::testing::HttpClient;
using paidoc::web::testing::HttpResponse;

// METHOD TARGET with "Accept: application/json", the bearer token (when not
// empty) and, for POST, a JSON body.
inline HttpResponse call(HttpClient& c, const std::string& method, const std::string& target,
                         const std::string& token, const std::string& body = "") {
  std::vector<std::string> headers = {"Accept: application/json"};
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  if (method == "POST") headers.push_back("Content-Type: application/json");
  return c.request(method, target, headers, body);
}

// The body as JSON; a discarded value when it is not JSON.
inline json parse(const HttpResponse& r) { return json::parse(r.body, nullptr, false); }

// An order answer is the order itself or {"order": {...}, ...}.
inline const json& order_of(const json& j) {
  if (j.is_object() && j.contains("order") && j["order"].is_object()) return j["order"];
  return j;
}

// Confirms a sandbox payment of `amount_fen` for the order `out_trade_no`
// as the buyer's browser would: a form with the CSRF double-submit cookie
// and field. The site answers 200 or 303 once the payment is applied.
inline HttpResponse sandbox_confirm(HttpClient& c, const std::string& token,
                                    const std::string& out_trade_no, int64_t amount_fen) {
  const std::string form = "out_trade_no=" + out_trade_no + "&amount_fen=" + std::to_string(amount_fen) +
                           "&csrf=crashtestcsrf";
  return c.request("POST", "/sandbox/pay",
                   {"Authorization: Bearer " + token, "Cookie: __Host-paidoc_csrf=crashtestcsrf",
                    "Content-Type: application/x-www-form-urlencoded"},
                   form);
}

}  // namespace paidoc::cli::testing
