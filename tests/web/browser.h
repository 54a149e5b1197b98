// A browser for the web tests: a cookie jar (the session and CSRF cookies)
// and form / JSON requests that carry it, one connection per request.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "web/http_client.h"
#include "web/util.h"

namespace paidoc::web::testing {

// The password the web tests give their accounts.
inline constexpr const char* kTestPassword = "correct-horse-42";

inline std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += percent_encode(k) + "=" + percent_encode(v);
  }
  return out;
}

// A browser: a cookie jar and requests that carry it.
class Browser {
 public:
  explicit Browser(uint16_t port) : port_(port) {}

  HttpResponse get(const std::string& target, std::vector<std::string> headers = {}) {
    return send("GET", target, std::move(headers), "");
  }
  // A form post; the csrf field is added from the jar unless given.
  HttpResponse post(const std::string& target,
                    std::vector<std::pair<std::string, std::string>> fields = {},
                    bool add_csrf = true, std::vector<std::string> headers = {}) {
    if (add_csrf) fields.emplace_back("csrf", csrf());
    headers.push_back("Content-Type: application/x-www-form-urlencoded");
    return send("POST", target, std::move(headers), form_encode(fields));
  }
  HttpResponse post_json(const std::string& target, const nlohmann::json& body,
                         std::vector<std::string> headers = {}) {
    headers.push_back("Content-Type: application/json");
    return send("POST", target, std::move(headers), body.dump());
  }
  HttpResponse send(const std::string& method, const std::string& target,
                    std::vector<std::string> headers, const std::string& body) {
    if (!host_.empty()) headers.push_back("Host: " + host_);
    if (!jar_.empty()) headers.push_back("Cookie: " + cookie_header());
    HttpClient c(port_);
    HttpResponse r = c.request(method, target, headers, body);
    absorb(r);
    return r;
  }

  // Loads a form page so that the CSRF cookie is set.
  void prime() { get("/login"); }
  // The CSRF token: the __Host- cookie (secure and loopback requests, such
  // as the tests' own to 127.0.0.1), else the plain one.
  std::string csrf() const {
    std::string host = cookie("__Host-paidoc_csrf");
    return host.empty() ? cookie("paidoc_csrf") : host;
  }
  std::string session() const { return cookie("paidoc_session"); }
  std::string cookie(const std::string& name) const {
    auto it = jar_.find(name);
    return it == jar_.end() ? std::string() : it->second;
  }
  void set_cookie(const std::string& name, const std::string& value) { jar_[name] = value; }
  void drop_cookie(const std::string& name) { jar_.erase(name); }
  // The Host header every request carries (default: the client's 127.0.0.1).
  void set_host(const std::string& host) { host_ = host; }

  // Signs in through the form; returns the response (303 on success).
  HttpResponse login(const std::string& email, const std::string& password = kTestPassword,
                     const std::string& next = "") {
    if (csrf().empty()) prime();
    std::vector<std::pair<std::string, std::string>> f = {{"email", email}, {"password", password}};
    if (!next.empty()) f.emplace_back("next", next);
    return post("/login", f);
  }

 private:
  std::string cookie_header() const {
    std::string h;
    for (const auto& [k, v] : jar_) {
      if (!h.empty()) h += "; ";
      h += k + "=" + v;
    }
    return h;
  }
  void absorb(const HttpResponse& r) {
    auto [b, e] = r.headers.equal_range("set-cookie");
    for (auto it = b; it != e; ++it) {
      const std::string& sc = it->second;
      std::string pair = sc.substr(0, sc.find(';'));
      size_t eq = pair.find('=');
      std::string name = pair.substr(0, eq);
      std::string value = pair.substr(eq + 1);
      if (sc.find("Max-Age=0") != std::string::npos || value.empty())
        jar_.erase(name);
      else
        jar_[name] = value;
    }
  }

  uint16_t port_;
  std::string host_;
  std::map<std::string, std::string> jar_;
};

inline std::string bearer(const std::string& token) { return "Authorization: Bearer " + token; }

// A browser signed in as email (with kTestPassword) on the server at port;
// the test fails when the sign-in is not the 303 of success.
inline Browser signed_in_browser(int port, const std::string& email) {
  Browser b(port);
  HttpResponse r = b.login(email);
  EXPECT_EQ(r.status, 303) << r.body;
  return b;
}

}  // namespace paidoc::web::testing
