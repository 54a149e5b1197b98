// "忘记密码" over HTTP against a real Server whose mail goes to a local SMTP
// stand-in (tests/support/smtp_standin.py, python3-aiosmtpd; the tests that
// need it skip without it): ask for a link, read the mail, follow the link,
// set a new password, sign in with it. Also: the same page for unknown
// emails, the page for a bad link, and the page without mail settings.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "commerce/commerce.h"
#include "common/clock.h"
#include "support/smtp_standin.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/server.h"
#include "web/test_store.h"

namespace paidoc::web {
namespace {

using testing::Browser;
using testing::HttpResponse;
using paidoc::testing::mail_body;
using paidoc::testing::mail_header;
using paidoc::testing::reset_link;
using paidoc::testing::SmtpStandin;

constexpr const char* kEmail = "reader@example.cn";
constexpr const char* kNewPassword = "brand-new-secret-7";

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

class PasswordResetWebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-reset-web", clock_, t_));
    commerce_ = std::make_unique<commerce::Commerce>(
        *t_.store, *t_.store, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    ASSERT_NE(testing::add_reader(*t_.accounts, kEmail, testing::kTestPassword), 0);
  }
  void TearDown() override {
    stop();
    commerce_.reset();
    testing::close_test_store(t_);
  }

  // Starts the server; with a stand-in, its mail goes there.
  void start(const SmtpStandin* smtp) {
    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.site_name = "测试文库";
    opts.clock = &clock_;
    if (smtp) {
      mail::SmtpOptions m;
      m.host = "127.0.0.1";
      m.port = smtp->port();
      m.security = mail::Security::kNone;
      m.from_address = "noreply@example.cn";
      m.from_name = "测试文库";
      m.timeout_seconds = 10;
      opts.mail = m;
    }
    server_ = std::make_unique<Server>(*t_.store, *t_.library, *t_.accounts, *commerce_, opts);
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

  HttpResponse ask(Browser& b, const std::string& email) {
    if (b.csrf().empty()) b.get("/password/forgot");
    return b.post("/password/forgot", {{"email", email}});
  }

  FakeClock clock_;
  testing::TestStore t_;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

TEST_F(PasswordResetWebTest, ForgotPasswordMailLinkNewPasswordSignIn) {
  SmtpStandin smtp;
  if (!smtp.ok()) GTEST_SKIP() << smtp.why();
  ASSERT_NO_FATAL_FAILURE(start(&smtp));
  // Two signed-in devices, which the reset must sign out.
  Browser phone(port_), laptop(port_);
  ASSERT_EQ(phone.login(kEmail).status, 303);
  ASSERT_EQ(laptop.login(kEmail).status, 303);
  ASSERT_EQ(phone.get("/me").status, 200);

  Browser b(port_);
  HttpResponse login = b.get("/login");
  EXPECT_TRUE(contains(login.body, "href=\"/password/forgot\"")) << login.body;
  EXPECT_TRUE(contains(login.body, "忘记密码？"));
  HttpResponse form = b.get("/password/forgot");
  ASSERT_EQ(form.status, 200);
  EXPECT_TRUE(contains(form.body, "<label for=\"forgot-email\">邮箱</label>"));
  HttpResponse sent = ask(b, kEmail);
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_TRUE(contains(sent.body, "如果该邮箱已注册本站账号，我们已向它发送了一封重置密码的邮件"));

  std::optional<std::string> mail = smtp.message(1);
  ASSERT_TRUE(mail.has_value()) << "no mail arrived";
  EXPECT_EQ(mail_header(*mail, "X-Envelope-To"), kEmail);
  EXPECT_EQ(mail_header(*mail, "Content-Type"), "text/plain; charset=UTF-8");
  std::string link = reset_link(mail_body(*mail));
  std::string base = "http://127.0.0.1:" + std::to_string(port_);
  ASSERT_EQ(link.rfind(base + "/password/reset?token=", 0), 0u) << link;
  std::string path = link.substr(base.size());
  std::string token = path.substr(path.find('=') + 1);

  HttpResponse page = b.get(path);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_TRUE(contains(page.body, "设置新密码"));
  EXPECT_TRUE(contains(page.header("cache-control"), "no-store"));
  HttpResponse mismatch =
      b.post("/password/reset", {{"token", token}, {"password", kNewPassword}, {"password2", "x"}});
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_TRUE(contains(mismatch.body, "两次输入的新密码不一致"));
  HttpResponse weak =
      b.post("/password/reset", {{"token", token}, {"password", "short"}, {"password2", "short"}});
  EXPECT_EQ(weak.status, 400);
  EXPECT_TRUE(contains(weak.body, "密码至少需要"));
  HttpResponse done = b.post(
      "/password/reset", {{"token", token}, {"password", kNewPassword}, {"password2", kNewPassword}});
  ASSERT_EQ(done.status, 303) << done.body;
  EXPECT_EQ(done.header("location"), "/login?msg=password_reset");
  EXPECT_TRUE(contains(b.get("/login?msg=password_reset").body, "密码已重置，请用新密码登录"));

  // Both devices are signed out; the old password no longer works, the new one does.
  EXPECT_NE(phone.get("/me").status, 200);
  EXPECT_NE(laptop.get("/me").status, 200);
  Browser old_pw(port_);
  EXPECT_EQ(old_pw.login(kEmail).status, 401);
  Browser new_pw(port_);
  EXPECT_EQ(new_pw.login(kEmail, kNewPassword).status, 303);
  EXPECT_EQ(new_pw.get("/me").status, 200);

  // The link is used up.
  HttpResponse again = b.get(path);
  EXPECT_EQ(again.status, 410);
  EXPECT_TRUE(contains(again.body, "链接无效或已过期"));
  EXPECT_TRUE(contains(again.body, "href=\"/password/forgot\""));
}

TEST_F(PasswordResetWebTest, UnknownEmailGetsTheSamePageAndNoMail) {
  SmtpStandin smtp;
  if (!smtp.ok()) GTEST_SKIP() << smtp.why();
  ASSERT_NO_FATAL_FAILURE(start(&smtp));
  Browser b(port_);
  HttpResponse unknown = ask(b, "nobody@example.cn");
  HttpResponse known = ask(b, kEmail);
  EXPECT_EQ(unknown.status, known.status);
  EXPECT_EQ(unknown.body, known.body);
  // One worker handles requests in order: once the known email's mail is
  // in, the unknown one has been handled — and sent nothing.
  std::optional<std::string> mail = smtp.message(1);
  ASSERT_TRUE(mail.has_value());
  EXPECT_EQ(mail_header(*mail, "X-Envelope-To"), kEmail);
  EXPECT_EQ(smtp.count(), 1u);
}

TEST_F(PasswordResetWebTest, TheFourthRequestInAnHourSendsNothingAndLooksTheSame) {
  SmtpStandin smtp;
  if (!smtp.ok()) GTEST_SKIP() << smtp.why();
  ASSERT_NO_FATAL_FAILURE(start(&smtp));
  Browser b(port_);
  std::string first_body;
  for (int i = 0; i < 4; ++i) {
    HttpResponse r = ask(b, kEmail);
    EXPECT_EQ(r.status, 200);
    if (i == 0) first_body = r.body;
    EXPECT_EQ(r.body, first_body);
  }
  ASSERT_TRUE(smtp.message(3).has_value());
  // The fourth is handled after the third (one worker, in order); give it
  // the time a mail takes and check that none came.
  EXPECT_FALSE(smtp.message(4, std::chrono::milliseconds(1500)).has_value());
}

TEST_F(PasswordResetWebTest, AnEmailThatIsNotAnAddressIsNamed) {
  SmtpStandin smtp;
  if (!smtp.ok()) GTEST_SKIP() << smtp.why();
  ASSERT_NO_FATAL_FAILURE(start(&smtp));
  Browser b(port_);
  HttpResponse r = ask(b, "not-an-address");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(contains(r.body, "邮箱格式不正确"));
  EXPECT_TRUE(contains(r.body, "value=\"not-an-address\""));
}

TEST_F(PasswordResetWebTest, ABadLinkGetsAPageToAskAgain) {
  ASSERT_NO_FATAL_FAILURE(start(nullptr));
  Browser b(port_);
  for (const char* target : {"/password/reset?token=not-a-token", "/password/reset"}) {
    HttpResponse r = b.get(target);
    EXPECT_EQ(r.status, 410) << target;
    EXPECT_TRUE(contains(r.body, "重置链接无效或已过期，请重新申请。"));
    EXPECT_TRUE(contains(r.body, "href=\"/password/forgot\""));
    EXPECT_FALSE(contains(r.body, "name=\"password\""));
  }
  b.get("/login");
  HttpResponse post = b.post("/password/reset", {{"token", "not-a-token"},
                                                 {"password", kNewPassword},
                                                 {"password2", kNewPassword}});
  EXPECT_EQ(post.status, 410);
  Browser old_pw(port_);
  EXPECT_EQ(old_pw.login(kEmail).status, 303);
}

TEST_F(PasswordResetWebTest, WithoutMailSettingsThePageSaysContactTheSite) {
  ASSERT_NO_FATAL_FAILURE(start(nullptr));
  Browser b(port_);
  EXPECT_TRUE(contains(b.get("/login").body, "href=\"/password/forgot\""));
  HttpResponse r = b.get("/password/forgot");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(contains(r.body, "本站暂未开通邮件找回密码"));
  EXPECT_TRUE(contains(r.body, "请联系本站客服"));
  EXPECT_FALSE(contains(r.body, "<form class=\"stack-form\""));
  b.get("/login");
  HttpResponse post = b.post("/password/forgot", {{"email", kEmail}});
  EXPECT_EQ(post.status, 200);
  EXPECT_TRUE(contains(post.body, "本站暂未开通邮件找回密码"));
}

}  // namespace
}  // namespace paidoc::web
