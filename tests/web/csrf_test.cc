// The CSRF cookie (issue 16, finding 8): on a secure request it is
// `__Host-paidoc_csrf` (Secure, Path=/, no Domain), on plain http to another
// host `paidoc_csrf`, and each request is checked against the one name its
// kind sets; a signed-in reader's token is their session's
// (auth::session_csrf_token), so a token planted before the login or taken
// from another session does not pass, and login and logout change it. On
// every store backend: sessions live in the store.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"
#include "support/backends.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/server.h"

namespace paidoc::web {
namespace {

using testing::Browser;
using testing::HttpResponse;
using testing_support::make_test_database;
using testing_support::postgres_skip_reason;
using testing_support::TestDatabase;

constexpr std::string_view kHostCookie = "__Host-paidoc_csrf";
constexpr std::string_view kPlainCookie = "paidoc_csrf";

// The Set-Cookie line that sets `name`, or "".
std::string set_cookie_named(const HttpResponse& r, std::string_view name) {
  auto [b, e] = r.headers.equal_range("set-cookie");
  for (auto it = b; it != e; ++it)
    if (it->second.rfind(std::string(name) + "=", 0) == 0) return it->second;
  return {};
}

class CsrfTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << postgres_skip_reason();
    auto opened = store::Store::open(db_->url());
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
    library_ = std::make_unique<library::Library>(*store_);
    auth::Options ao;
    ao.pwhash_opslimit = 1;
    ao.pwhash_memlimit = 8192;
    accounts_ = std::make_unique<auth::Accounts>(*store_, clock_, ao);
    commerce_ = std::make_unique<commerce::Commerce>(
        *store_, *store_, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    for (const char* email : {"alice@example.cn", "bob@example.cn"})
      ASSERT_TRUE(accounts_->add_user(email, testing::kTestPassword, gate::Role::kReader).ok());
    start({});
  }

  void TearDown() override {
    stop();
    commerce_.reset();
    accounts_.reset();
    library_.reset();
    store_.reset();
    db_.reset();
  }

  void start(ServerOptions opts) {
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    server_ = std::make_unique<Server>(*store_, *library_, *accounts_, *commerce_, opts);
    Status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    port_ = server_->port();
    thread_ = std::thread([this] { server_->run(); });
  }
  void stop() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }
  void restart(ServerOptions opts) {
    stop();
    start(std::move(opts));
  }

  Browser browser() { return Browser(port_); }

  // What a cookie-planting attacker does: the token under both names.
  static void plant(Browser& b, const std::string& token) {
    b.set_cookie(std::string(kHostCookie), token);
    b.set_cookie(std::string(kPlainCookie), token);
  }

  // True while the browser's session is alive.
  bool signed_in(Browser& b) { return b.get("/api/v1/me").status == 200; }

  FakeClock clock_;
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<library::Library> library_;
  std::unique_ptr<auth::Accounts> accounts_;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

TEST_P(CsrfTest, TheCsrfCookieHasTheHostPrefixOnSecureRequests) {
  // Loopback (the tests' own 127.0.0.1, no base URL): browsers treat it as a
  // secure context.
  Browser local = browser();
  HttpResponse page = local.get("/login");
  ASSERT_EQ(page.status, 200);
  std::string c = set_cookie_named(page, kHostCookie);
  ASSERT_FALSE(c.empty()) << page.header("set-cookie");
  EXPECT_NE(c.find("; Secure"), std::string::npos) << c;
  EXPECT_NE(c.find("; Path=/;"), std::string::npos) << c;
  EXPECT_NE(c.find("HttpOnly"), std::string::npos) << c;
  EXPECT_NE(c.find("SameSite=Lax"), std::string::npos) << c;
  EXPECT_EQ(c.find("Domain"), std::string::npos) << c;
  EXPECT_TRUE(set_cookie_named(page, kPlainCookie).empty());

  // An https base URL: every request is secure, whatever its Host says.
  ServerOptions o;
  o.base_url = "https://docs.example.cn";
  restart(o);
  Browser b = browser();
  b.set_host("docs.example.cn");
  page = b.get("/login");
  c = set_cookie_named(page, kHostCookie);
  ASSERT_FALSE(c.empty()) << page.header("set-cookie");
  EXPECT_NE(c.find("; Secure"), std::string::npos) << c;
  EXPECT_EQ(c.find("Domain"), std::string::npos) << c;
  const std::string token = b.csrf();
  ASSERT_EQ(token.size(), 43u);
  EXPECT_NE(page.body.find("name=\"csrf\" value=\"" + token + "\""), std::string::npos);

  // The check reads the __Host- cookie only: the same token in the plain
  // cookie (which a sibling subdomain or plain http could have set) fails.
  b.drop_cookie(std::string(kHostCookie));
  b.set_cookie(std::string(kPlainCookie), token);
  HttpResponse refused = b.post("/login", {{"email", "alice@example.cn"}, {"password", testing::kTestPassword}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_TRUE(b.session().empty());
  b.drop_cookie(std::string(kPlainCookie));
  b.set_cookie(std::string(kHostCookie), token);
  HttpResponse ok = b.post("/login", {{"email", "alice@example.cn"}, {"password", testing::kTestPassword}});
  EXPECT_EQ(ok.status, 303) << ok.body;
  EXPECT_FALSE(b.session().empty());
}

TEST_P(CsrfTest, PlainHttpOnAnotherHostKeepsAPlainCookieThatWorks) {
  // No base URL, reached as http://wenku.example.cn: a Secure cookie would
  // be dropped by the browser, so the plain one, without Secure.
  Browser b = browser();
  b.set_host("wenku.example.cn");
  HttpResponse page = b.get("/login");
  std::string c = set_cookie_named(page, kPlainCookie);
  ASSERT_FALSE(c.empty()) << page.header("set-cookie");
  EXPECT_EQ(c.find("Secure"), std::string::npos) << c;
  EXPECT_TRUE(set_cookie_named(page, kHostCookie).empty());
  // The __Host- name is not read on such a request.
  const std::string token = b.csrf();
  b.drop_cookie(std::string(kPlainCookie));
  b.set_cookie(std::string(kHostCookie), token);
  EXPECT_EQ(b.post("/login", {{"email", "alice@example.cn"}, {"password", testing::kTestPassword}}).status,
            403);
  b.drop_cookie(std::string(kHostCookie));
  b.set_cookie(std::string(kPlainCookie), token);
  ASSERT_EQ(b.post("/login", {{"email", "alice@example.cn"}, {"password", testing::kTestPassword}}).status,
            303);
  // Signed in, the forms still work over plain http, and logging out too.
  EXPECT_FALSE(b.cookie(std::string(kPlainCookie)).empty());
  EXPECT_EQ(b.post("/logout").status, 303);
  EXPECT_FALSE(signed_in(b));

  // Loopback behind a trusted proxy is not the browser's origin; decided
  // by configuration, so a page loaded with or without X-Forwarded-For
  // sets the same name.
  ServerOptions proxy;
  proxy.trust_proxy = true;
  restart(proxy);
  Browser proxied = browser();
  page = proxied.get("/login", {"X-Forwarded-For: 203.0.113.7"});
  EXPECT_FALSE(set_cookie_named(page, kPlainCookie).empty()) << page.header("set-cookie");
  page = proxied.get("/login");
  EXPECT_TRUE(set_cookie_named(page, kHostCookie).empty()) << page.header("set-cookie");

  // Nor is it with a plain-http base URL on another host (a proxy that
  // passes Host 127.0.0.1 on).
  ServerOptions o;
  o.base_url = "http://wenku.example.cn";
  restart(o);
  Browser behind = browser();
  page = behind.get("/login");
  c = set_cookie_named(page, kPlainCookie);
  ASSERT_FALSE(c.empty()) << page.header("set-cookie");
  EXPECT_EQ(c.find("Secure"), std::string::npos) << c;
}

TEST_P(CsrfTest, ATokenFromAnotherSessionIsRefused) {
  Browser alice = testing::signed_in_browser(port_, "alice@example.cn");
  Browser bob = testing::signed_in_browser(port_, "bob@example.cn");
  const std::string bobs = bob.csrf();
  ASSERT_FALSE(bobs.empty());
  ASSERT_NE(bobs, alice.csrf());

  // Bob's token, in Alice's cookie and in the form: refused, nothing ends.
  Browser forged = alice;
  plant(forged, bobs);
  HttpResponse r = forged.post("/me/logout-everywhere", {{"csrf", bobs}}, /*add_csrf=*/false);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("操作没有执行"), std::string::npos);
  EXPECT_EQ(forged.send("POST", "/api/v1/auth/logout", {"X-CSRF-Token: " + bobs}, "").status, 403);
  EXPECT_TRUE(signed_in(alice));
  EXPECT_TRUE(signed_in(bob));

  // Alice's own token is her session's, shown on her pages, and passes.
  const std::string hers = auth::session_csrf_token(alice.session());
  EXPECT_EQ(alice.csrf(), hers);
  EXPECT_NE(alice.get("/me").body.find("value=\"" + hers + "\""), std::string::npos);
  EXPECT_EQ(alice.post("/logout").status, 303);
  EXPECT_FALSE(signed_in(alice));
  EXPECT_TRUE(signed_in(bob));
}

TEST_P(CsrfTest, ATokenPlantedBeforeLoginIsRefusedAfterIt) {
  // The attacker's own token, planted in the victim's browser before the
  // victim signs in.
  Browser attacker = browser();
  attacker.prime();
  const std::string planted = attacker.csrf();
  ASSERT_FALSE(planted.empty());

  Browser victim = browser();
  plant(victim, planted);
  HttpResponse login = victim.login("alice@example.cn");
  ASSERT_EQ(login.status, 303) << login.body;
  // The login replaced the token with the new session's.
  EXPECT_NE(victim.csrf(), planted);
  EXPECT_EQ(victim.csrf(), auth::session_csrf_token(victim.session()));

  // The attacker plants the old token again and forges a form with it.
  Browser forged = victim;
  plant(forged, planted);
  EXPECT_EQ(forged.post("/me/logout-everywhere", {{"csrf", planted}}, /*add_csrf=*/false).status, 403);
  EXPECT_EQ(forged.send("POST", "/api/v1/auth/logout", {"X-CSRF-Token: " + planted}, "").status, 403);
  EXPECT_TRUE(signed_in(victim));
}

TEST_P(CsrfTest, LogoutChangesTheToken) {
  Browser b = testing::signed_in_browser(port_, "alice@example.cn");
  const std::string during = b.csrf();
  ASSERT_FALSE(during.empty());
  HttpResponse out = b.post("/logout");
  ASSERT_EQ(out.status, 303);
  const std::string after = b.csrf();
  EXPECT_FALSE(after.empty());
  EXPECT_NE(after, during);
  // The signed-in token does not pass with the browser's cookie any more.
  EXPECT_EQ(b.post("/login", {{"email", "alice@example.cn"},
                              {"password", testing::kTestPassword},
                              {"csrf", during}},
                   /*add_csrf=*/false)
                .status,
            403);
  EXPECT_TRUE(b.session().empty());
  // Signing in again: yet another token, the new session's.
  ASSERT_EQ(b.login("alice@example.cn").status, 303);
  EXPECT_NE(b.csrf(), during);
  EXPECT_NE(b.csrf(), after);
  EXPECT_EQ(b.csrf(), auth::session_csrf_token(b.session()));

  // Logging out through the API (by cookie) changes it as well.
  const std::string second = b.csrf();
  ASSERT_EQ(b.send("POST", "/api/v1/auth/logout", {"X-CSRF-Token: " + second}, "").status, 200);
  EXPECT_FALSE(b.csrf().empty());
  EXPECT_NE(b.csrf(), second);
}

PAIDOC_ON_EVERY_BACKEND(CsrfTest);

}  // namespace
}  // namespace paidoc::web
