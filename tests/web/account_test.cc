// Accounts at the web edge, over HTTP against a real Server: sign-in forms
// and the auth API, cookies and bearer tokens, abuse limits, CSRF, roles,
// and what signed-in viewers see. Each test gets its own store, clock and
// server, so limits counted in one test never reach another.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/test_store.h"
#include "web/server.h"
#include "web/util.h"

namespace paidoc::web {
namespace {

using nlohmann::json;
using testing::bearer;
using testing::Browser;
using testing::HttpClient;
using testing::HttpResponse;

// Written for these tests. The paid part's sentence must reach only viewers
// with access.
constexpr std::string_view kClubPlan =
    "社区读书会活动方案\n"
    "为丰富居民文化生活，社区计划每月举办一次读书会。\n"
    "一、活动安排\n"
    "##paidbegin##\n"
    "（一）场地与时间\n"
    "灯塔管理员把借书卡夹在蓝色雨伞的伞骨里。\n"
    "##paidend##\n"
    "欢迎居民踊跃参加。\n";
constexpr const char* kClubPaid = "蓝色雨伞";

constexpr std::string_view kUpload =
    "编辑上传的测试文档\n"
    "这一段是免费的介绍文字。\n"
    "##paidbegin##\n"
    "月光下的松鼠数着一百零八颗橡果。\n"
    "##paidend##\n";
constexpr const char* kUploadPaid = "一百零八颗橡果";

constexpr std::string_view kUnclosed =
    "未闭合的文档\n"
    "免费段落。\n"
    "##paidbegin##\n"
    "这段付费内容没有结束标记。\n";

// A paid part whose numbered lines are partly headings, partly sentences,
// and a heading line that turns paid in its middle.
constexpr std::string_view kOutlineUpload =
    "防汛工作预案\n"
    "一、总体要求##paidbegin##汛期值守的暗号是三只白鹭\n"
    "（一）组织领导\n"
    "1. 各村要在五月底前完成堤坝巡查，发现隐患立即上报\n"
    "2. 物资储备\n"
    "##paidend##\n"
    "以上预案自印发之日起执行。\n";

// `## paidend ##` on line 5 at column 3 (after two full-width spaces).
constexpr std::string_view kNearMiss =
    "近似标记的文档\n"
    "免费段落。\n"
    "##paidbegin##\n"
    "这段付费内容的结束标记写错了。\n"
    "　　## paidend ##\n";

constexpr const char* kPassword = testing::kTestPassword;


std::vector<std::string> set_cookies(const HttpResponse& r) {
  std::vector<std::string> out;
  auto [b, e] = r.headers.equal_range("set-cookie");
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

std::string set_cookie_named(const HttpResponse& r, const std::string& name) {
  for (const std::string& c : set_cookies(r))
    if (c.rfind(name + "=", 0) == 0) return c;
  return {};
}

class AccountWebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-account-test", clock_, t_));
    commerce_ = std::make_unique<commerce::Commerce>(
        *store_, *store_, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    library::ImportOptions io;
    io.price = Fen(800);
    io.category = "社区活动";
    library::ImportLine line = library_->import_bytes(kClubPlan, "club.txt", io);
    ASSERT_TRUE(line.ok) << line.error;
    doc_id_ = line.id;
    start({});
  }

  void TearDown() override {
    stop();
    commerce_.reset();
    testing::close_test_store(t_);
  }

  void start(ServerOptions opts) {
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.site_name = "测试文库";
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

  // An account made the operator's way (CLI), any role.
  int64_t add_user(const std::string& email, gate::Role role) {
    Result<auth::Account> a = accounts_->add_user(email, kPassword, role);
    EXPECT_TRUE(a.ok()) << a.status().to_string();
    return a.ok() ? a->id : 0;
  }

  // A bearer token from the login API.
  std::string api_token(const std::string& email, const std::string& password = kPassword) {
    HttpResponse r = browser().post_json("/api/v1/auth/login",
                                         {{"email", email}, {"password", password}});
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return json::parse(r.body)["token"].get<std::string>();
  }

  HttpResponse api_get(const std::string& target, const std::string& token) {
    HttpClient c(port_);
    return c.get(target, {bearer(token)});
  }

  json me_json(const std::string& token) {
    HttpResponse r = api_get("/api/v1/me", token);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body) : json();
  }

  std::string origin() const { return "Origin: http://127.0.0.1:" + std::to_string(port_); }
  std::string doc_url() const { return "/d/" + std::to_string(doc_id_); }
  std::string api_doc_url() const { return "/api/v1/documents/" + std::to_string(doc_id_); }

  int64_t document_count() {
    Result<int64_t> n = library_->count();
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : -1;
  }

  FakeClock clock_;
  testing::TestStore t_;  // after the clock: Accounts holds it
  std::unique_ptr<store::Store>& store_ = t_.store;
  std::unique_ptr<library::Library>& library_ = t_.library;
  std::unique_ptr<auth::Accounts>& accounts_ = t_.accounts;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t doc_id_ = 0;
};

// --- register, sign in, sign out ---------------------------------------------------

TEST_F(AccountWebTest, RegisterMeLogoutAndTheOldCookieIsDead) {
  Browser b = browser();
  HttpResponse page = b.get("/register");
  ASSERT_EQ(page.status, 200);
  std::string csrf_cookie = set_cookie_named(page, "__Host-paidoc_csrf");
  EXPECT_NE(csrf_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(csrf_cookie.find("SameSite=Lax"), std::string::npos);
  EXPECT_NE(csrf_cookie.find("Path=/"), std::string::npos);
  EXPECT_NE(page.body.find("value=\"" + b.csrf() + "\""), std::string::npos);

  HttpResponse reg = b.post("/register", {{"email", " Reader@Example.CN "},
                                          {"password", kPassword},
                                          {"password2", kPassword}});
  ASSERT_EQ(reg.status, 303) << reg.body;
  EXPECT_EQ(reg.header("location"), "/me");
  std::string old_session = b.session();
  ASSERT_FALSE(old_session.empty());

  HttpResponse me = b.get("/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_NE(me.body.find("reader@example.cn"), std::string::npos);
  EXPECT_NE(me.body.find("读者"), std::string::npos);
  EXPECT_NE(me.body.find("¥0.00"), std::string::npos);
  EXPECT_NE(me.body.find("还没有购买的文档"), std::string::npos);
  EXPECT_NE(me.body.find("当前设备"), std::string::npos);
  EXPECT_NE(me.body.find("退出所有设备"), std::string::npos);
  EXPECT_NE(me.body.find("action=\"/logout\""), std::string::npos);
  EXPECT_EQ(me.body.find(kPassword), std::string::npos);

  HttpResponse api = b.get("/api/v1/me");
  ASSERT_EQ(api.status, 200);
  json j = json::parse(api.body);
  EXPECT_EQ(j["email"], "reader@example.cn");
  EXPECT_EQ(j["role"], "reader");
  EXPECT_EQ(j["balance_fen"], 0);
  EXPECT_TRUE(j["vip_until"].is_null());
  EXPECT_TRUE(j["id"].is_number_integer());
  EXPECT_TRUE(j["created_at"].is_string());

  HttpResponse out = b.post("/logout");
  ASSERT_EQ(out.status, 303);
  EXPECT_EQ(out.header("location"), "/?msg=logged_out");
  std::string cleared = set_cookie_named(out, "paidoc_session");
  EXPECT_NE(cleared.find("Max-Age=0"), std::string::npos);
  EXPECT_TRUE(b.session().empty());

  // The old cookie no longer works: revoked on the server, not just dropped.
  b.set_cookie("paidoc_session", old_session);
  EXPECT_EQ(b.get("/api/v1/me").status, 401);
  HttpResponse again = b.get("/me");
  EXPECT_EQ(again.status, 303);
  EXPECT_EQ(again.header("location"), "/login?next=%2Fme");
  // Pages treat it as anonymous.
  HttpResponse home = b.get("/");
  EXPECT_EQ(home.status, 200);
  EXPECT_NE(home.body.find("href=\"/login\""), std::string::npos);
}

TEST_F(AccountWebTest, FormLoginSetsCookieAndFollowsOnlyLocalNext) {
  add_user("a@example.cn", gate::Role::kReader);
  Browser b = browser();
  HttpResponse page = b.get("/login?next=" + doc_url());
  EXPECT_NE(page.body.find("name=\"next\" value=\"" + doc_url() + "\""), std::string::npos);
  HttpResponse r = b.login("a@example.cn", kPassword, doc_url());
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.header("location"), doc_url());
  std::string c = set_cookie_named(r, "paidoc_session");
  EXPECT_NE(c.find("HttpOnly"), std::string::npos);
  EXPECT_NE(c.find("SameSite=Lax"), std::string::npos);
  EXPECT_NE(c.find("Path=/"), std::string::npos);
  EXPECT_NE(c.find("Max-Age=2592000"), std::string::npos);
  EXPECT_EQ(c.find("Secure"), std::string::npos);

  for (const char* evil : {"//evil.example/x", "https://evil.example/", "/\\evil.example",
                           "javascript:alert(1)", "/ok\r\nSet-Cookie: x=1"}) {
    Browser other = browser();
    HttpResponse o = other.login("a@example.cn", kPassword, evil);
    ASSERT_EQ(o.status, 303) << evil;
    EXPECT_EQ(o.header("location"), "/me") << evil;
  }
  // Signed in, /login goes straight on.
  EXPECT_EQ(b.get("/login").status, 303);
}

TEST_F(AccountWebTest, SecureCookiesWhenConfigured) {
  ServerOptions o;
  o.secure_cookies = true;
  restart(o);
  add_user("a@example.cn", gate::Role::kReader);
  Browser b = browser();
  HttpResponse page = b.get("/login");
  EXPECT_NE(set_cookie_named(page, "__Host-paidoc_csrf").find("; Secure"), std::string::npos);
  HttpResponse r = b.login("a@example.cn");
  ASSERT_EQ(r.status, 303);
  std::string c = set_cookie_named(r, "paidoc_session");
  EXPECT_NE(c.find("; Secure"), std::string::npos);
  EXPECT_NE(c.find("HttpOnly"), std::string::npos);
  EXPECT_NE(c.find("SameSite=Lax"), std::string::npos);
}

TEST_F(AccountWebTest, FormLoginRotatesTheSession) {
  add_user("a@example.cn", gate::Role::kReader);
  Browser b = browser();
  ASSERT_EQ(b.login("a@example.cn").status, 303);
  std::string first = b.session();
  ASSERT_EQ(b.login("a@example.cn").status, 303);
  std::string second = b.session();
  EXPECT_NE(first, second);
  EXPECT_EQ(api_get("/api/v1/me", first).status, 401);
  EXPECT_EQ(api_get("/api/v1/me", second).status, 200);
}

TEST_F(AccountWebTest, BearerTokenFromLoginApi) {
  add_user("api@example.cn", gate::Role::kReader);
  HttpResponse r =
      browser().post_json("/api/v1/auth/login", {{"email", "api@example.cn"}, {"password", kPassword}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  std::string token = j["token"];
  EXPECT_EQ(token.size(), 43u);
  EXPECT_TRUE(j["expires_at"].is_string());
  EXPECT_EQ(j["user"]["email"], "api@example.cn");
  EXPECT_EQ(j["user"]["role"], "reader");
  EXPECT_NE(set_cookie_named(r, "paidoc_session").find("HttpOnly"), std::string::npos);

  EXPECT_EQ(me_json(token)["email"], "api@example.cn");
  HttpClient c(port_);
  HttpResponse out = c.request("POST", "/api/v1/auth/logout", {bearer(token)});
  EXPECT_EQ(out.status, 200) << out.body;
  HttpResponse after = api_get("/api/v1/me", token);
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(json::parse(after.body)["error"]["code"], "unauthenticated");
  EXPECT_EQ(api_get("/api/v1/me", "not-a-token").status, 401);

  HttpResponse wrong = browser().post_json("/api/v1/auth/login",
                                           {{"email", "api@example.cn"}, {"password", "nope-nope-nope"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(json::parse(wrong.body)["error"]["code"], "unauthenticated");
  EXPECT_EQ(wrong.body.find("nope-nope-nope"), std::string::npos);
}

TEST_F(AccountWebTest, RegisterApi) {
  Browser b = browser();
  HttpResponse r = b.post_json("/api/v1/auth/register", {{"email", "New@Example.CN"}, {"password", kPassword}});
  ASSERT_EQ(r.status, 201) << r.body;
  json j = json::parse(r.body);
  EXPECT_TRUE(j["id"].is_number_integer());
  EXPECT_EQ(j["email"], "new@example.cn");
  EXPECT_EQ(j["role"], "reader");
  EXPECT_EQ(b.post_json("/api/v1/auth/register", {{"email", "new@example.cn"}, {"password", kPassword}}).status,
            409);
  EXPECT_EQ(b.post_json("/api/v1/auth/register", {{"email", "not-an-email"}, {"password", kPassword}}).status,
            400);
  EXPECT_EQ(b.post_json("/api/v1/auth/register", {{"email", "x@example.cn"}, {"password", "short"}}).status,
            400);
  EXPECT_EQ(b.post_json("/api/v1/auth/register", json::array()).status, 400);
  // JSON bodies must say so: a cross-site "simple" form post cannot.
  HttpResponse plain = b.send("POST", "/api/v1/auth/register", {"Content-Type: text/plain"},
                              R"({"email":"y@example.cn","password":"correct-horse-42"})");
  EXPECT_EQ(plain.status, 415);
  EXPECT_EQ(json::parse(plain.body)["error"]["code"], "unsupported_media_type");
  HttpResponse form = b.send("POST", "/api/v1/auth/login",
                             {"Content-Type: application/x-www-form-urlencoded"}, "email=a&password=b");
  EXPECT_EQ(form.status, 415);
}

// --- abuse limits -----------------------------------------------------------------------

TEST_F(AccountWebTest, RepeatedWrongPasswordsBackOffEvenForTheRightOne) {
  add_user("victim@example.cn", gate::Role::kReader);
  Browser b = browser();
  int unauthorized = 0, limited = 0;
  int64_t last_retry = 0;
  for (int i = 0; i < 20; ++i) {
    HttpResponse r = b.post_json("/api/v1/auth/login",
                                 {{"email", "victim@example.cn"}, {"password", "wrong-" + std::to_string(i)}});
    if (r.status == 401) {
      ++unauthorized;
      EXPECT_EQ(limited, 0) << "a 401 after a 429 at attempt " << i;
    } else {
      ASSERT_EQ(r.status, 429) << r.body;
      ++limited;
      ASSERT_FALSE(r.header("retry-after").empty());
      last_retry = std::stoll(r.header("retry-after"));
      EXPECT_GE(last_retry, 1);
      EXPECT_EQ(json::parse(r.body)["error"]["code"], "too_many_requests");
    }
  }
  EXPECT_GE(unauthorized, 1);
  EXPECT_GE(limited, 10);

  // The right password is refused while backing off, on the form too.
  HttpResponse right = b.login("victim@example.cn");
  EXPECT_EQ(right.status, 429);
  EXPECT_FALSE(right.header("retry-after").empty());
  EXPECT_NE(right.body.find("尝试次数过多"), std::string::npos);
  EXPECT_NE(right.body.find("victim@example.cn"), std::string::npos);  // keeps the typed email
  EXPECT_TRUE(b.session().empty());
  EXPECT_EQ(browser().post_json("/api/v1/auth/login",
                                {{"email", "victim@example.cn"}, {"password", kPassword}}).status,
            429);

  clock_.advance(std::stoll(right.header("retry-after")) + 1);
  HttpResponse ok = b.login("victim@example.cn");
  EXPECT_EQ(ok.status, 303);
  EXPECT_FALSE(b.session().empty());
}

TEST_F(AccountWebTest, RegistrationsPerAddressAreLimited) {
  ServerOptions o;
  o.trust_proxy = true;
  restart(o);
  Browser b = browser();
  const std::string from = "X-Forwarded-For: 203.0.113.9, 198.51.100.7";
  int created = 0;
  HttpResponse last;
  for (int i = 0; i < 12; ++i) {
    last = b.post_json("/api/v1/auth/register",
                       {{"email", "u" + std::to_string(i) + "@example.cn"}, {"password", kPassword}},
                       {from});
    if (last.status == 201) ++created;
  }
  EXPECT_EQ(created, 10);
  EXPECT_EQ(last.status, 429);
  EXPECT_FALSE(last.header("retry-after").empty());
  // The form says so too.
  b.prime();
  HttpResponse page = b.post("/register", {{"email", "form@example.cn"}, {"password", kPassword},
                                           {"password2", kPassword}}, true, {from});
  EXPECT_EQ(page.status, 429);
  EXPECT_FALSE(page.header("retry-after").empty());
  // Another address (the LAST X-Forwarded-For entry counts) is not limited.
  EXPECT_EQ(b.post_json("/api/v1/auth/register", {{"email", "other@example.cn"}, {"password", kPassword}},
                        {"X-Forwarded-For: 198.51.100.7, 192.0.2.1"}).status,
            201);
}

TEST_F(AccountWebTest, ClientAddressIsTheSocketUnlessProxyTrusted) {
  add_user("a@example.cn", gate::Role::kReader);
  Browser b = browser();
  ASSERT_EQ(b.login("a@example.cn", kPassword, "").status, 303);
  b.post("/login", {{"email", "a@example.cn"}, {"password", kPassword}}, true,
         {"X-Forwarded-For: 192.0.2.55", "User-Agent: TestPhone/1.0"});
  HttpResponse me = b.get("/me");
  EXPECT_NE(me.body.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(me.body.find("192.0.2.55"), std::string::npos);
  EXPECT_NE(me.body.find("TestPhone/1.0"), std::string::npos);

  ServerOptions o;
  o.trust_proxy = true;
  restart(o);
  Browser p = browser();
  p.prime();
  ASSERT_EQ(p.post("/login", {{"email", "a@example.cn"}, {"password", kPassword}}, true,
                   {"X-Forwarded-For: 10.0.0.1, 192.0.2.66"}).status,
            303);
  EXPECT_NE(p.get("/me").body.find("192.0.2.66"), std::string::npos);
}

// --- CSRF ---------------------------------------------------------------------------------

TEST_F(AccountWebTest, FormsWithoutTheirCsrfTokenChangeNothing) {
  add_user("a@example.cn", gate::Role::kReader);
  Browser b = browser();
  ASSERT_EQ(b.login("a@example.cn").status, 303);
  const std::vector<std::pair<std::string, std::string>> change = {
      {"current_password", kPassword}, {"new_password", "another-pass-99"}};

  HttpResponse none = b.post("/me/password", change, false);
  EXPECT_EQ(none.status, 403);
  EXPECT_NE(none.body.find("操作没有执行"), std::string::npos);
  auto wrong = change;
  std::string forged = b.csrf();
  forged[0] = forged[0] == 'A' ? 'B' : 'A';
  wrong.emplace_back("csrf", forged);
  EXPECT_EQ(b.post("/me/password", wrong, false).status, 403);
  auto empty = change;
  empty.emplace_back("csrf", "");
  EXPECT_EQ(b.post("/me/password", empty, false).status, 403);
  // Without the cookie, a matching-looking field is not enough either.
  Browser cookieless = browser();
  cookieless.set_cookie("paidoc_session", b.session());
  auto guessed = change;
  guessed.emplace_back("csrf", b.csrf());
  EXPECT_EQ(cookieless.post("/me/password", guessed, false).status, 403);

  EXPECT_EQ(b.post("/logout", {}, false).status, 403);
  EXPECT_EQ(b.post("/me/logout-everywhere", {}, false).status, 403);
  EXPECT_EQ(b.post("/me/delete", {{"password", kPassword}}, false).status, 403);

  // Nothing changed: the session lives, the old password still works.
  EXPECT_EQ(b.get("/api/v1/me").status, 200);
  EXPECT_EQ(browser().login("a@example.cn").status, 303);
  EXPECT_EQ(browser().login("a@example.cn", "another-pass-99").status, 401);

  // A form body of another type is refused outright.
  HttpResponse json_body = b.send("POST", "/me/password", {"Content-Type: application/json"}, "{}");
  EXPECT_EQ(json_body.status, 415);
  // Login and register forms need the token too.
  Browser fresh = browser();
  EXPECT_EQ(fresh.post("/login", {{"email", "a@example.cn"}, {"password", kPassword}}, false).status,
            403);
  EXPECT_TRUE(fresh.session().empty());
}

TEST_F(AccountWebTest, CookieAuthenticatedApiCallsNeedCsrfHeaderOrOrigin) {
  add_user("admin@example.cn", gate::Role::kAdmin);
  int64_t reader = add_user("r@example.cn", gate::Role::kReader);
  Browser b = browser();
  ASSERT_EQ(b.login("admin@example.cn").status, 303);
  const std::string target = "/api/v1/admin/users/" + std::to_string(reader) + "/role";
  const json body = {{"role", "editor"}};

  HttpResponse plain = b.post_json(target, body);
  EXPECT_EQ(plain.status, 403);
  EXPECT_EQ(json::parse(plain.body)["error"]["code"], "forbidden");
  EXPECT_EQ(b.post_json(target, body, {"Origin: https://evil.example"}).status, 403);
  EXPECT_EQ(b.post_json(target, body, {"Origin: null"}).status, 403);
  EXPECT_EQ(b.post_json(target, body, {"X-CSRF-Token: wrong"}).status, 403);
  EXPECT_EQ(me_json(api_token("r@example.cn"))["role"], "reader");

  EXPECT_EQ(b.post_json(target, body, {origin()}).status, 200);
  EXPECT_EQ(me_json(api_token("r@example.cn"))["role"], "editor");
  EXPECT_EQ(b.post_json(target, {{"role", "reader"}}, {"X-CSRF-Token: " + b.csrf()}).status, 200);
  EXPECT_EQ(me_json(api_token("r@example.cn"))["role"], "reader");

  // Bearer tokens are exempt (no ambient credentials).
  std::string token = api_token("admin@example.cn");
  HttpClient c(port_);
  HttpResponse r = c.request("POST", target,
                             {bearer(token), "Content-Type: application/json", "Origin: https://evil.example"},
                             R"({"role":"editor"})");
  EXPECT_EQ(r.status, 200) << r.body;

  // Logging out by cookie is state-changing as well.
  EXPECT_EQ(b.send("POST", "/api/v1/auth/logout", {}, "").status, 403);
  EXPECT_EQ(b.get("/api/v1/me").status, 200);
  EXPECT_EQ(b.send("POST", "/api/v1/auth/logout", {"X-CSRF-Token: " + b.csrf()}, "").status, 200);
  EXPECT_EQ(b.get("/api/v1/me").status, 401);
}

TEST_F(AccountWebTest, OriginOfAConfiguredBaseUrl) {
  ServerOptions o;
  o.base_url = "https://docs.example.cn/";
  restart(o);
  add_user("a@example.cn", gate::Role::kReader);
  Browser b = browser();
  ASSERT_EQ(b.login("a@example.cn").status, 303);
  EXPECT_EQ(b.send("POST", "/api/v1/auth/logout", {"Origin: http://127.0.0.1"}, "").status, 403);
  EXPECT_EQ(b.send("POST", "/api/v1/auth/logout", {"Origin: https://docs.example.cn"}, "").status, 200);
}

// --- roles ----------------------------------------------------------------------------------

TEST_F(AccountWebTest, ReadersCannotReachEditorOrAdminRoutes) {
  int64_t reader = add_user("r@example.cn", gate::Role::kReader);
  add_user("ed@example.cn", gate::Role::kEditor);
  Browser b = browser();
  ASSERT_EQ(b.login("r@example.cn").status, 303);
  std::string token = api_token("r@example.cn");
  int64_t docs = document_count();
  const std::string self_role = "/admin/users/" + std::to_string(reader) + "/role";

  EXPECT_EQ(b.send("POST", "/api/v1/documents?name=x.txt", {"Content-Type: text/plain", origin()},
                   std::string(kUpload)).status,
            403);
  HttpClient c(port_);
  EXPECT_EQ(c.request("POST", "/api/v1/documents?name=x.txt", {bearer(token), "Content-Type: text/plain"},
                      std::string(kUpload)).status,
            403);
  HttpResponse admin_page = b.get("/admin/users");
  EXPECT_EQ(admin_page.status, 403);
  EXPECT_EQ(b.get("/admin").status, 403);
  EXPECT_NE(admin_page.body.find("没有权限"), std::string::npos);
  EXPECT_EQ(b.get("/api/v1/admin/users").status, 403);
  EXPECT_EQ(api_get("/api/v1/admin/users", token).status, 403);
  EXPECT_EQ(b.post(self_role, {{"role", "admin"}}).status, 403);
  EXPECT_EQ(b.post_json("/api/v1" + self_role, {{"role", "admin"}}, {origin()}).status, 403);
  EXPECT_EQ(c.request("POST", "/api/v1" + self_role, {bearer(token), "Content-Type: application/json"},
                      R"({"role":"admin"})").status,
            403);
  EXPECT_EQ(document_count(), docs);
  EXPECT_EQ(me_json(token)["role"], "reader");

  // Editors publish but do not manage users.
  std::string ed = api_token("ed@example.cn");
  EXPECT_EQ(api_get("/api/v1/admin/users", ed).status, 403);
  Browser e = browser();
  ASSERT_EQ(e.login("ed@example.cn").status, 303);
  EXPECT_EQ(e.get("/admin/users").status, 403);
  // They open the console's home, whose navigation leaves out what admins alone do.
  HttpResponse console = e.get("/admin");
  EXPECT_EQ(console.status, 200);
  EXPECT_NE(console.body.find("href=\"/admin/documents\""), std::string::npos);
  EXPECT_EQ(console.body.find("href=\"/admin/users\""), std::string::npos);
}

TEST_F(AccountWebTest, AnonymousIsSentToLoginOrGets401) {
  Browser b = browser();
  HttpResponse me = b.get("/me");
  EXPECT_EQ(me.status, 303);
  EXPECT_EQ(me.header("location"), "/login?next=%2Fme");
  HttpResponse admin = b.get("/admin?page=2");
  EXPECT_EQ(admin.status, 303);
  EXPECT_EQ(admin.header("location"), "/login?next=%2Fadmin%3Fpage%3D2");
  // The login page takes the encoded next back.
  HttpResponse login = b.get(admin.header("location"));
  EXPECT_NE(login.body.find("value=\"/admin?page=2\""), std::string::npos);
  for (const char* t : {"/api/v1/me", "/api/v1/admin/users"}) {
    HttpResponse r = b.get(t);
    EXPECT_EQ(r.status, 401) << t;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "unauthenticated");
  }
  int64_t docs = document_count();
  EXPECT_EQ(b.send("POST", "/api/v1/documents?name=x.txt", {"Content-Type: text/plain"},
                   std::string(kUpload)).status,
            401);
  EXPECT_EQ(document_count(), docs);
  EXPECT_EQ(b.post("/me/password", {{"current_password", "a"}, {"new_password", "b"}}).status, 303);
}

// --- who sees paid text ----------------------------------------------------------------------

TEST_F(AccountWebTest, AdminSeesPaidTextReaderDoesNot) {
  add_user("admin@example.cn", gate::Role::kAdmin);
  add_user("r@example.cn", gate::Role::kReader);
  Browser admin = browser();
  ASSERT_EQ(admin.login("admin@example.cn").status, 303);
  HttpResponse page = admin.get(doc_url());
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(kClubPaid), std::string::npos);
  EXPECT_NE(page.body.find("admin@example.cn"), std::string::npos);
  EXPECT_NE(page.body.find("action=\"/logout\""), std::string::npos);
  EXPECT_NE(page.body.find("href=\"/admin\""), std::string::npos);
  HttpResponse api = api_get(api_doc_url(), api_token("admin@example.cn"));
  ASSERT_EQ(api.status, 200);
  json j = json::parse(api.body);
  EXPECT_FALSE(j["locked"].get<bool>());
  EXPECT_EQ(j["access"], "admin");
  EXPECT_NE(api.body.find(kClubPaid), std::string::npos);

  Browser reader = browser();
  ASSERT_EQ(reader.login("r@example.cn").status, 303);
  HttpResponse rp = reader.get(doc_url());
  ASSERT_EQ(rp.status, 200);
  EXPECT_EQ(rp.body.find(kClubPaid), std::string::npos);
  EXPECT_NE(rp.body.find("r@example.cn"), std::string::npos);
  EXPECT_EQ(rp.body.find("href=\"/admin\""), std::string::npos);
  HttpResponse ra = api_get(api_doc_url(), api_token("r@example.cn"));
  EXPECT_TRUE(json::parse(ra.body)["locked"].get<bool>());
  EXPECT_EQ(ra.body.find(kClubPaid), std::string::npos);
}

TEST_F(AccountWebTest, SignedInRequestsBypassTheAnonymousCache) {
  add_user("admin@example.cn", gate::Role::kAdmin);
  HttpClient anon(port_);
  // Fill the anonymous caches.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(anon.get(doc_url()).body.find(kClubPaid), std::string::npos);
    EXPECT_EQ(anon.get(api_doc_url()).body.find(kClubPaid), std::string::npos);
  }
  std::string etag = anon.get(doc_url()).header("etag");
  ASSERT_FALSE(etag.empty());
  std::string token = api_token("admin@example.cn");
  Browser admin = browser();
  ASSERT_EQ(admin.login("admin@example.cn").status, 303);
  // Even with the anonymous page's ETag, the admin gets a fresh full render.
  HttpResponse page = admin.get(doc_url(), {"If-None-Match: " + etag});
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(kClubPaid), std::string::npos);
  HttpResponse api = api_get(api_doc_url(), token);
  EXPECT_NE(api.body.find(kClubPaid), std::string::npos);
  // And nothing of it went into the cache.
  EXPECT_EQ(anon.get(doc_url()).body.find(kClubPaid), std::string::npos);
  EXPECT_EQ(anon.get(api_doc_url()).body.find(kClubPaid), std::string::npos);
  EXPECT_EQ(anon.get(doc_url()).header("etag"), etag);
  // A stale or forged session cookie reads the anonymous page.
  HttpResponse forged = anon.get(doc_url(), {"Cookie: paidoc_session=forged-token"});
  EXPECT_EQ(forged.status, 200);
  EXPECT_EQ(forged.body.find(kClubPaid), std::string::npos);
}

TEST_F(AccountWebTest, EditorUploadsAndReadsOwnDocumentOthersDoNot) {
  add_user("ed1@example.cn", gate::Role::kEditor);
  add_user("ed2@example.cn", gate::Role::kEditor);
  std::string ed1 = api_token("ed1@example.cn");
  std::string ed2 = api_token("ed2@example.cn");
  HttpClient c(port_);
  HttpResponse up = c.request(
      "POST", "/api/v1/documents?name=plan.txt&price=3.50&category=" + percent_encode("编辑上传"),
      {bearer(ed1), "Content-Type: text/plain; charset=utf-8"}, std::string(kUpload));
  ASSERT_EQ(up.status, 201) << up.body;
  json j = json::parse(up.body);
  int64_t id = j["id"];
  EXPECT_EQ(j["title"], "编辑上传的测试文档");
  EXPECT_EQ(j["outcome"], "created");
  const std::string api = "/api/v1/documents/" + std::to_string(id);

  HttpResponse own = api_get(api, ed1);
  json oj = json::parse(own.body);
  EXPECT_FALSE(oj["locked"].get<bool>());
  EXPECT_EQ(oj["access"], "publisher");
  EXPECT_EQ(oj["price_fen"], 350);
  EXPECT_EQ(oj["category"], "编辑上传");
  EXPECT_NE(own.body.find(kUploadPaid), std::string::npos);
  Browser b = browser();
  ASSERT_EQ(b.login("ed1@example.cn").status, 303);
  EXPECT_NE(b.get("/d/" + std::to_string(id)).body.find(kUploadPaid), std::string::npos);

  HttpResponse other = api_get(api, ed2);
  EXPECT_TRUE(json::parse(other.body)["locked"].get<bool>());
  EXPECT_EQ(other.body.find(kUploadPaid), std::string::npos);
  EXPECT_EQ(HttpClient(port_).get(api).body.find(kUploadPaid), std::string::npos);
  EXPECT_EQ(HttpClient(port_).get("/d/" + std::to_string(id)).body.find(kUploadPaid), std::string::npos);

  // The same name from another editor is another document, not a replacement.
  HttpResponse up2 = c.request("POST", "/api/v1/documents?name=plan.txt",
                               {bearer(ed2), "Content-Type: text/plain"},
                               std::string(kUpload) + "追加的免费段落。\n");
  ASSERT_EQ(up2.status, 201) << up2.body;
  EXPECT_NE(json::parse(up2.body)["id"].get<int64_t>(), id);
  EXPECT_NE(api_get(api, ed1).body.find(kUploadPaid), std::string::npos);

  // A bad source: 400 with the parser's position, nothing stored.
  int64_t docs = document_count();
  HttpResponse bad = c.request("POST", "/api/v1/documents?name=bad.txt",
                               {bearer(ed1), "Content-Type: text/plain"}, std::string(kUnclosed));
  ASSERT_EQ(bad.status, 400);
  std::string message = json::parse(bad.body)["error"]["message"];
  EXPECT_TRUE(std::regex_search(message, std::regex("^bad\\.txt:\\d+:\\d+: "))) << message;
  EXPECT_EQ(document_count(), docs);
  // Only text/plain bodies.
  EXPECT_EQ(c.request("POST", "/api/v1/documents?name=x.txt",
                      {bearer(ed1), "Content-Type: application/octet-stream"}, std::string(kUpload))
                .status,
            415);
  EXPECT_EQ(c.request("POST", "/api/v1/documents?name=a/b.txt", {bearer(ed1), "Content-Type: text/plain"},
                      std::string(kUpload)).status,
            400);
  EXPECT_EQ(c.request("POST", "/api/v1/documents?name=x.txt&price=abc",
                      {bearer(ed1), "Content-Type: text/plain"}, std::string(kUpload)).status,
            400);
}

// Issue 16, finding 3: price_fen = 2^63-1 was accepted on upload and the
// page showed ¥92233720368547758.07. The API refuses a price above the
// maximum (in fen or in yuan) naming the field, the price and the limit,
// and stores nothing.
TEST_F(AccountWebTest, UploadOfMaxInt64PriceIsRefused) {
  add_user("ed1@example.cn", gate::Role::kEditor);
  std::string ed1 = api_token("ed1@example.cn");
  HttpClient c(port_);
  const int64_t docs = document_count();
  HttpResponse fen = c.request("POST", "/api/v1/documents?name=dear.txt&price_fen=9223372036854775807",
                               {bearer(ed1), "Content-Type: text/plain"}, std::string(kUpload));
  EXPECT_EQ(fen.status, 400) << fen.body;
  json j = json::parse(fen.body);
  EXPECT_EQ(j["error"]["code"], "invalid_argument") << fen.body;
  EXPECT_EQ(j["error"]["message"],
            "price_fen: ¥92233720368547758.07 (9223372036854775807 fen) is above the maximum price "
            "¥100000.00 (10000000 fen; --max-price)");
  HttpResponse yuan = c.request("POST", "/api/v1/documents?name=dear.txt&price=100000.01",
                                {bearer(ed1), "Content-Type: text/plain"}, std::string(kUpload));
  EXPECT_EQ(yuan.status, 400) << yuan.body;
  EXPECT_NE(yuan.body.find("price: ¥100000.01 (10000001 fen) is above the maximum price ¥100000.00"),
            std::string::npos)
      << yuan.body;
  HttpResponse digits = c.request("POST", "/api/v1/documents?name=dear.txt&price_fen=99999999999999999999",
                                  {bearer(ed1), "Content-Type: text/plain"}, std::string(kUpload));
  EXPECT_EQ(digits.status, 400) << digits.body;
  EXPECT_NE(digits.body.find("price_fen must be an integer from 0 to 10000000"), std::string::npos)
      << digits.body;
  EXPECT_EQ(document_count(), docs);
  // The maximum itself is a price.
  HttpResponse max = c.request("POST", "/api/v1/documents?name=dear.txt&price_fen=10000000",
                               {bearer(ed1), "Content-Type: text/plain"}, std::string(kUpload));
  ASSERT_EQ(max.status, 201) << max.body;
  EXPECT_EQ(api_get("/api/v1/documents/" + std::to_string(json::parse(max.body)["id"].get<int64_t>()), ed1)
                .status,
            200);
  EXPECT_EQ(document_count(), docs + 1);
}

TEST_F(AccountWebTest, UploadedNearMissMarkerIsRefusedWithItsPosition) {
  add_user("ed1@example.cn", gate::Role::kEditor);
  std::string ed1 = api_token("ed1@example.cn");
  int64_t docs = document_count();
  HttpClient c(port_);
  HttpResponse bad = c.request("POST", "/api/v1/documents?name=near.txt",
                               {bearer(ed1), "Content-Type: text/plain"}, std::string(kNearMiss));
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(json::parse(bad.body)["error"]["message"],
            "near.txt:5:3: looks like a paid marker but is not one: \"## paidend ##\"; write "
            "##paidend##");
  EXPECT_EQ(document_count(), docs);
}

TEST_F(AccountWebTest, TeaserOutlineShowsHeadingsOnlyOnPageAndApi) {
  add_user("ed1@example.cn", gate::Role::kEditor);
  std::string ed1 = api_token("ed1@example.cn");
  HttpClient c(port_);
  HttpResponse up = c.request("POST", "/api/v1/documents?name=flood.txt&price=2.00",
                              {bearer(ed1), "Content-Type: text/plain; charset=utf-8"},
                              std::string(kOutlineUpload));
  ASSERT_EQ(up.status, 201) << up.body;
  const std::string id = std::to_string(json::parse(up.body)["id"].get<int64_t>());

  HttpResponse api = HttpClient(port_).get("/api/v1/documents/" + id);
  ASSERT_EQ(api.status, 200);
  json j = json::parse(api.body);
  EXPECT_TRUE(j["locked"].get<bool>());
  EXPECT_EQ(j["teaser"]["outline"],
            json::parse(R"([{"level":1,"label":"一、","text":"总体要求"},
                            {"level":2,"label":"（一）","text":"组织领导"},
                            {"level":3,"label":"2.","text":"物资储备"}])"));
  EXPECT_EQ(j["teaser"]["hidden_paragraphs"], 4);

  HttpResponse page = HttpClient(port_).get("/d/" + id);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<li class=\"outline-l1\">一、总体要求</li>"), std::string::npos);
  EXPECT_NE(page.body.find("<li class=\"outline-l3\">2.物资储备</li>"), std::string::npos);
  EXPECT_EQ(testing::count_of(page.body, "<li class=\"outline-l"), 3u);
  for (const HttpResponse* r : {&api, &page}) {
    EXPECT_EQ(r->body.find("三只白鹭"), std::string::npos);
    EXPECT_EQ(r->body.find("堤坝巡查"), std::string::npos);
  }
}

// --- /me --------------------------------------------------------------------------------------

TEST_F(AccountWebTest, ChangePasswordKeepsThisSessionEndsOthers) {
  add_user("a@example.cn", gate::Role::kReader);
  Browser b = browser();
  ASSERT_EQ(b.login("a@example.cn").status, 303);
  std::string other = api_token("a@example.cn");

  HttpResponse wrong = b.post("/me/password", {{"current_password", "not-my-password"},
                                               {"new_password", "another-pass-99"}});
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("当前密码不正确"), std::string::npos);
  EXPECT_EQ(wrong.body.find("not-my-password"), std::string::npos);
  EXPECT_EQ(wrong.body.find("another-pass-99"), std::string::npos);
  HttpResponse weak = b.post("/me/password", {{"current_password", kPassword}, {"new_password", "short"}});
  EXPECT_EQ(weak.status, 400);
  EXPECT_EQ(api_get("/api/v1/me", other).status, 200);

  HttpResponse ok = b.post("/me/password", {{"current_password", kPassword},
                                            {"new_password", "another-pass-99"}});
  ASSERT_EQ(ok.status, 303) << ok.body;
  EXPECT_EQ(ok.header("location"), "/me?msg=password_changed");
  HttpResponse me = b.get("/me?msg=password_changed");
  EXPECT_EQ(me.status, 200);
  EXPECT_NE(me.body.find("密码已修改"), std::string::npos);
  EXPECT_EQ(api_get("/api/v1/me", other).status, 401);
  EXPECT_EQ(browser().login("a@example.cn").status, 401);
  EXPECT_EQ(browser().login("a@example.cn", "another-pass-99").status, 303);
}

TEST_F(AccountWebTest, LogoutEverywhereEndsEverySession) {
  add_user("a@example.cn", gate::Role::kReader);
  Browser b = browser();
  ASSERT_EQ(b.login("a@example.cn").status, 303);
  std::string mine = b.session();
  std::string other = api_token("a@example.cn");
  HttpResponse r = b.post("/me/logout-everywhere");
  ASSERT_EQ(r.status, 303);
  EXPECT_NE(set_cookie_named(r, "paidoc_session").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(api_get("/api/v1/me", other).status, 401);
  EXPECT_EQ(api_get("/api/v1/me", mine).status, 401);
  EXPECT_EQ(b.get("/me").status, 303);
}

TEST_F(AccountWebTest, SessionsListAndRevokeOne) {
  add_user("a@example.cn", gate::Role::kReader);
  add_user("b@example.cn", gate::Role::kReader);
  Browser b = browser();
  ASSERT_EQ(b.login("a@example.cn").status, 303);
  std::string other = api_token("a@example.cn");
  HttpResponse me = b.get("/me");
  std::smatch m;
  std::regex revoke("action=\"/me/sessions/(\\d+)/revoke\"");
  std::vector<std::string> ids;
  for (std::sregex_iterator it(me.body.begin(), me.body.end(), revoke), end; it != end; ++it)
    ids.push_back((*it)[1]);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(testing::count_of(me.body, "当前设备"), 1u);
  json current = me_json(b.session());
  std::string current_id = std::to_string(current["session"]["id"].get<int64_t>());
  std::string other_id = ids[0] == current_id ? ids[1] : ids[0];

  // Another user's session id is not ours to end.
  std::string stranger = api_token("b@example.cn");
  std::string stranger_id = std::to_string(me_json(stranger)["session"]["id"].get<int64_t>());
  EXPECT_EQ(b.post("/me/sessions/" + stranger_id + "/revoke").status, 404);
  EXPECT_EQ(api_get("/api/v1/me", stranger).status, 200);

  HttpResponse r = b.post("/me/sessions/" + other_id + "/revoke");
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(api_get("/api/v1/me", other).status, 401);
  EXPECT_EQ(b.get("/api/v1/me").status, 200);
}

TEST_F(AccountWebTest, DeleteAccountFreesTheEmail) {
  Browser b = browser();
  b.prime();
  ASSERT_EQ(b.post("/register", {{"email", "gone@example.cn"}, {"password", kPassword},
                                  {"password2", kPassword}}).status,
            303);
  std::string old = b.session();
  HttpResponse wrong = b.post("/me/delete", {{"password", "not-my-password"}});
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("账号未删除"), std::string::npos);
  EXPECT_EQ(b.get("/api/v1/me").status, 200);

  HttpResponse r = b.post("/me/delete", {{"password", kPassword}});
  ASSERT_EQ(r.status, 303);
  EXPECT_EQ(r.header("location"), "/?msg=account_deleted");
  EXPECT_NE(set_cookie_named(r, "paidoc_session").find("Max-Age=0"), std::string::npos);
  HttpResponse home = b.get("/?msg=account_deleted");
  EXPECT_NE(home.body.find("您的账号已删除"), std::string::npos);
  EXPECT_EQ(api_get("/api/v1/me", old).status, 401);
  EXPECT_EQ(browser().login("gone@example.cn").status, 401);
  EXPECT_EQ(browser().post_json("/api/v1/auth/register",
                                {{"email", "gone@example.cn"}, {"password", kPassword}}).status,
            201);
}

TEST_F(AccountWebTest, FormErrorsKeepTheEmailAndNeverEchoPasswords) {
  add_user("taken@example.cn", gate::Role::kReader);
  Browser b = browser();
  b.prime();
  HttpResponse weak = b.post("/register", {{"email", "new@example.cn"}, {"password", "short7"},
                                           {"password2", "short7"}});
  EXPECT_EQ(weak.status, 400);
  EXPECT_NE(weak.body.find("value=\"new@example.cn\""), std::string::npos);
  EXPECT_EQ(weak.body.find("short7"), std::string::npos);
  HttpResponse mismatch = b.post("/register", {{"email", "new@example.cn"}, {"password", kPassword},
                                               {"password2", "different-pass-1"}});
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_NE(mismatch.body.find("两次输入的密码不一致"), std::string::npos);
  HttpResponse taken = b.post("/register", {{"email", "taken@example.cn"}, {"password", kPassword},
                                            {"password2", kPassword}});
  EXPECT_EQ(taken.status, 409);
  EXPECT_NE(taken.body.find("该邮箱已注册"), std::string::npos);
  HttpResponse bad = b.login("taken@example.cn", "wrong-password-1");
  EXPECT_EQ(bad.status, 401);
  EXPECT_NE(bad.body.find("邮箱或密码不正确"), std::string::npos);
  EXPECT_NE(bad.body.find("value=\"taken@example.cn\""), std::string::npos);
  EXPECT_EQ(bad.body.find("wrong-password-1"), std::string::npos);
  HttpResponse script = b.login("<script>@x.cn", "wrong-password-1");
  EXPECT_EQ(script.body.find("<script>@"), std::string::npos);
}

// --- /admin ------------------------------------------------------------------------------------

TEST_F(AccountWebTest, AdminListsUsersAndChangesRoles) {
  add_user("admin@example.cn", gate::Role::kAdmin);
  int64_t reader = add_user("r@example.cn", gate::Role::kReader);
  Browser b = browser();
  ASSERT_EQ(b.login("admin@example.cn").status, 303);
  HttpResponse page = b.get("/admin/users");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("用户管理"), std::string::npos);
  EXPECT_NE(page.body.find("r@example.cn"), std::string::npos);
  EXPECT_NE(page.body.find("action=\"/admin/users/" + std::to_string(reader) + "/role\""),
            std::string::npos);

  HttpResponse r = b.post("/admin/users/" + std::to_string(reader) + "/role", {{"role", "editor"}});
  ASSERT_EQ(r.status, 303) << r.body;
  std::string reader_token = api_token("r@example.cn");
  EXPECT_EQ(me_json(reader_token)["role"], "editor");
  EXPECT_EQ(b.post("/admin/users/" + std::to_string(reader) + "/role", {{"role", "system"}}).status, 400);
  EXPECT_EQ(b.post("/admin/users/999999/role", {{"role", "editor"}}).status, 404);

  std::string token = api_token("admin@example.cn");
  HttpResponse list = api_get("/api/v1/admin/users", token);
  ASSERT_EQ(list.status, 200);
  json items = json::parse(list.body)["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1]["email"], "r@example.cn");
  EXPECT_EQ(items[1]["role"], "editor");
  HttpClient c(port_);
  EXPECT_EQ(c.request("POST", "/api/v1/admin/users/" + std::to_string(reader) + "/role",
                      {bearer(token), "Content-Type: application/json"}, R"({"role":"boss"})").status,
            400);
}

// --- the audit log ----------------------------------------------------------------

// Splits a CSV body into its lines (records here hold no line breaks).
std::vector<std::string> csv_lines(const std::string& body) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find("\r\n", start);
    if (end == std::string::npos) end = body.size();
    out.push_back(body.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

TEST_F(AccountWebTest, AdminReadsTheAuditLogOfRoleChangesAndFiltersIt) {
  int64_t admin = add_user("admin@example.cn", gate::Role::kAdmin);
  int64_t reader = add_user("r@example.cn", gate::Role::kReader);
  int64_t other = add_user("o@example.cn", gate::Role::kReader);
  Browser b = browser();
  ASSERT_EQ(b.login("admin@example.cn").status, 303);
  ASSERT_EQ(b.post("/admin/users/" + std::to_string(reader) + "/role", {{"role", "editor"}}).status,
            303);
  // A refused change leaves no entry.
  ASSERT_EQ(b.post("/admin/users/999999/role", {{"role", "editor"}}).status, 404);
  // Through the API, a second admin action, one day later (China time).
  clock_.advance(24 * 3600);
  std::string token = api_token("admin@example.cn");
  HttpClient c(port_);
  ASSERT_EQ(c.request("POST", "/api/v1/admin/users/" + std::to_string(other) + "/role",
                      {bearer(token), "Content-Type: application/json"}, R"({"role":"admin"})")
                .status,
            200);
  // The CLI credits a wallet (no account: user id 0).
  ASSERT_TRUE(commerce_->credit(other, Fen(1234), "补偿", "cli:ops", {0, "cli:ops", ""}).is_ok());

  HttpResponse page = b.get("/admin/audit");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("操作日志"), std::string::npos);
  EXPECT_NE(page.body.find("共 3 条"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("修改角色"), std::string::npos);
  EXPECT_NE(page.body.find("钱包入账"), std::string::npos);
  EXPECT_NE(page.body.find("reader → editor"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("用户 #" + std::to_string(reader)), std::string::npos);
  EXPECT_NE(page.body.find("cli:ops（命令行）"), std::string::npos);
  // The entries are newest first: the credit, then the API change, then the form change.
  EXPECT_LT(page.body.find("钱包入账"), page.body.find("reader → admin"));
  EXPECT_LT(page.body.find("reader → admin"), page.body.find("reader → editor"));
  // The admin pages link to it.
  EXPECT_NE(b.get("/admin").body.find("href=\"/admin/audit\""), std::string::npos);

  // Filters: by actor, by action, by date (the first day only).
  HttpResponse by_cli = b.get("/admin/audit?actor=cli%3Aops");
  EXPECT_NE(by_cli.body.find("共 1 条"), std::string::npos);
  HttpResponse roles = b.get("/admin/audit?action=user.role&actor=ADMIN%40example.cn");
  EXPECT_NE(roles.body.find("共 2 条"), std::string::npos);
  EXPECT_EQ(roles.body.find("钱包入账 ·"), std::string::npos);
  HttpResponse first_day = b.get("/admin/audit?from=2026-01-01&to=2026-01-01");
  EXPECT_NE(first_day.body.find("共 1 条"), std::string::npos) << first_day.body;
  EXPECT_NE(first_day.body.find("reader → editor"), std::string::npos);
  HttpResponse bad_date = b.get("/admin/audit?from=2026-13-01");
  EXPECT_NE(bad_date.body.find("开始日期格式"), std::string::npos);

  // The CSV: a header and one row per entry, same filters.
  HttpResponse csv = b.get("/admin/audit.csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.header("content-type"), "text/csv; charset=utf-8");
  std::vector<std::string> lines = csv_lines(csv.body);
  ASSERT_EQ(lines.size(), 4u) << csv.body;
  EXPECT_EQ(lines[0],
            "id,time_china,time_utc,actor,actor_user_id,action,action_label,target_kind,target_id,"
            "details,ip");
  EXPECT_NE(lines[1].find(",cli:ops,0,wallet.credit,钱包入账,wallet," + std::to_string(other) + ","),
            std::string::npos)
      << lines[1];
  EXPECT_NE(lines[3].find(",admin@example.cn," + std::to_string(admin) + ",user.role,修改角色,user," +
                          std::to_string(reader) + ","),
            std::string::npos)
      << lines[3];
  // The details are one quoted field (RFC 4180: quotes doubled).
  EXPECT_NE(lines[3].find(R"("{""email"":""r@example.cn"",""role"":{""from"":""reader"",""to"":""editor""}}")"),
            std::string::npos)
      << lines[3];
  EXPECT_NE(lines[3].find("2026-01-01 08:00:00"), std::string::npos) << lines[3];
  std::vector<std::string> filtered = csv_lines(b.get("/admin/audit.csv?action=wallet.credit").body);
  ASSERT_EQ(filtered.size(), 2u);
  EXPECT_NE(filtered[1].find("wallet.credit"), std::string::npos);
}

TEST_F(AccountWebTest, AuditCsvDefusesFormulas) {
  add_user("admin@example.cn", gate::Role::kAdmin);
  int64_t u = add_user("r@example.cn", gate::Role::kReader);
  ASSERT_TRUE(commerce_->credit(u, Fen(100), "=HYPERLINK(\"x\")", "cli:ops",
                                {0, "=cmd|' /C calc'!A0", ""})
                  .is_ok());
  Browser b = browser();
  ASSERT_EQ(b.login("admin@example.cn").status, 303);
  std::vector<std::string> lines = csv_lines(b.get("/admin/audit.csv").body);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find(",'=cmd|' /C calc'!A0,"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[1].find(",=cmd"), std::string::npos) << lines[1];
}

TEST_F(AccountWebTest, ReadersAndEditorsCannotReadTheAuditLog) {
  int64_t admin = add_user("admin@example.cn", gate::Role::kAdmin);
  int64_t reader = add_user("r@example.cn", gate::Role::kReader);
  add_user("ed@example.cn", gate::Role::kEditor);
  // There is something to hide.
  ASSERT_TRUE(accounts_->set_role(reader, gate::Role::kReader, {admin, "admin@example.cn", ""}).is_ok());
  ASSERT_TRUE(commerce_->credit(reader, Fen(100), "x", "cli:ops", {0, "cli:ops", ""}).is_ok());
  for (const char* who : {"r@example.cn", "ed@example.cn"}) {
    SCOPED_TRACE(who);
    Browser b = browser();
    ASSERT_EQ(b.login(who).status, 303);
    EXPECT_EQ(b.get("/admin/audit").status, 403);
    HttpResponse csv = b.get("/admin/audit.csv");
    EXPECT_EQ(csv.status, 403);
    EXPECT_EQ(csv.body.find("user.role"), std::string::npos);
  }
  // Anonymous: sent to sign in, never the log.
  HttpResponse anon = HttpClient(port_).get("/admin/audit.csv");
  EXPECT_NE(anon.status, 200);
}

TEST_F(AccountWebTest, HeaderShowsWhoIsSignedIn) {
  add_user("a@example.cn", gate::Role::kReader);
  HttpResponse anon = HttpClient(port_).get("/");
  EXPECT_NE(anon.body.find("href=\"/login\">登录"), std::string::npos);
  EXPECT_NE(anon.body.find("href=\"/register\">注册"), std::string::npos);
  EXPECT_FALSE(anon.has_header("set-cookie"));
  Browser b = browser();
  ASSERT_EQ(b.login("a@example.cn").status, 303);
  for (const std::string& t : {std::string("/"), doc_url(), std::string("/c/") + percent_encode("社区活动")}) {
    HttpResponse r = b.get(t);
    ASSERT_EQ(r.status, 200) << t;
    EXPECT_NE(r.body.find("href=\"/me\">a@example.cn"), std::string::npos) << t;
    EXPECT_NE(r.body.find("<input type=\"hidden\" name=\"csrf\" value=\"" + b.csrf() + "\">"),
              std::string::npos)
        << t;
    EXPECT_EQ(r.body.find("href=\"/login\">登录"), std::string::npos) << t;
  }
}

}  // namespace
}  // namespace paidoc::web
