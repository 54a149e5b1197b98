// PasswordResets against a real store (each backend, a fresh database), a fake
// clock and a transport that keeps the mails it is given: links work once,
// expire, are stored hashed, end every session; the same answer for every
// email; the limits per address, account and client address.

#include "auth/password_reset.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "common/clock.h"
#include "store/store.h"
#include "support/backends.h"

namespace paidoc::auth {
namespace {


constexpr const char* kPassword = "old password 1";
constexpr const char* kNewPassword = "new password 2";
constexpr const char* kBase = "https://wenku.example.cn";
const Client kHome{"203.0.113.7", "Mozilla/5.0 (test)"};

Options fast_options() {
  Options o;
  o.pwhash_opslimit = 1;
  o.pwhash_memlimit = 8192;
  return o;
}

// Keeps every message; fails every send when told to (a server that is down).
class KeptMail : public mail::Transport {
 public:
  Status send(const mail::Message& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) return Status::unavailable("mail: connection refused");
    sent_.push_back(m);
    return Status();
  }
  std::vector<mail::Message> sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }
  void set_down(bool down) {
    std::lock_guard<std::mutex> lock(mu_);
    down_ = down;
  }

 private:
  std::mutex mu_;
  std::vector<mail::Message> sent_;
  bool down_ = false;
};

// The token of the link in a reset mail.
std::string token_of(const mail::Message& m) {
  const std::string key = "/password/reset?token=";
  size_t at = m.body.find(key);
  if (at == std::string::npos) return {};
  size_t start = at + key.size();
  size_t end = m.body.find_first_of("\n ", start);
  return m.body.substr(start, end - start);
}

class PasswordResetTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    Result<std::unique_ptr<store::Store>> s = store::Store::open(db_->url());
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(s).value();
    accounts_ = std::make_unique<Accounts>(*store_, clock_, fast_options());
    make_resets({});
    Result<Account> a = accounts_->add_user("reader@example.cn", kPassword, gate::Role::kReader);
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    user_ = *a;
  }
  void TearDown() override {
    resets_.reset();
    accounts_.reset();
    store_.reset();
  }

  void make_resets(ResetOptions o, mail::Transport* transport = nullptr) {
    resets_.reset();
    o.site_name = "测试文库";
    resets_ = std::make_unique<PasswordResets>(*store_, *store_, transport ? transport : &mail_,
                                               clock_, o, fast_options());
  }

  // Asks for a link and waits for the worker to finish with it.
  Status ask(const std::string& email, const Client& client = kHome) {
    Status s = resets_->request(email, client, kBase);
    resets_->wait_idle();
    return s;
  }

  // Asks for a link for the reader and answers its token ("" if no mail came).
  std::string link_token() {
    size_t before = mail_.sent().size();
    EXPECT_TRUE(ask(user_.email).is_ok());
    std::vector<mail::Message> sent = mail_.sent();
    if (sent.size() != before + 1) return {};
    return token_of(sent.back());
  }

  bool can_login(const std::string& password) {
    return accounts_->login(user_.email, password, kHome).ok();
  }

  // Everything the database holds (on SQLite every byte on disk: the file,
  // its WAL, its journal).
  std::string database_bytes() { return testing_support::database_contents(db_->url()); }

  std::unique_ptr<testing_support::TestDatabase> db_;
  FakeClock clock_;
  KeptMail mail_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<PasswordResets> resets_;
  Account user_;
};

TEST_P(PasswordResetTest, MailsALinkToAKnownEmail) {
  ASSERT_TRUE(ask("  Reader@Example.CN ").is_ok());
  std::vector<mail::Message> sent = mail_.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, "reader@example.cn");
  EXPECT_EQ(sent[0].subject, "【测试文库】重置密码");
  EXPECT_NE(sent[0].body.find(std::string(kBase) + "/password/reset?token="), std::string::npos);
  EXPECT_NE(sent[0].body.find("30 分钟"), std::string::npos);
  std::string token = token_of(sent[0]);
  EXPECT_EQ(token.size(), 43u);  // 32 random bytes, base64url
  EXPECT_TRUE(resets_->check(token).is_ok());
}

TEST_P(PasswordResetTest, TheDatabaseHoldsOnlyTheTokensHash) {
  std::string token = link_token();
  ASSERT_FALSE(token.empty());
  Result<store::PasswordReset> r = store_->find_password_reset(token_hash(token));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->user_id, user_.id);
  EXPECT_EQ(r->token_hash, token_hash(token));
  EXPECT_EQ(r->expires_at, clock_.now() + 30 * 60);
  EXPECT_FALSE(store_->find_password_reset(token).ok());
  store_.reset();  // everything written out
  std::string bytes = database_bytes();
  EXPECT_EQ(bytes.find(token), std::string::npos);
  EXPECT_NE(bytes.find(token_hash(token)), std::string::npos);
  Result<std::unique_ptr<store::Store>> s = store::Store::open(db_->url());
  ASSERT_TRUE(s.ok());
  store_ = std::move(s).value();
  make_resets({});
}

TEST_P(PasswordResetTest, UnknownEmailGetsTheSameAnswerAndNoMail) {
  Status known = ask("reader@example.cn");
  Status unknown = ask("nobody@example.cn");
  EXPECT_EQ(known.code(), unknown.code());
  EXPECT_EQ(known.message(), unknown.message());
  EXPECT_EQ(mail_.sent().size(), 1u);
}

TEST_P(PasswordResetTest, AnEmailThatIsNotAnAddressIsRefusedNamingTheField) {
  Status s = resets_->request("not-an-address", kHome, kBase);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("邮箱"), std::string::npos);
  resets_->wait_idle();
  EXPECT_TRUE(mail_.sent().empty());
}

TEST_P(PasswordResetTest, TheLinkSetsTheNewPasswordOnce) {
  std::string token = link_token();
  Result<std::string> r = resets_->reset(token, kNewPassword, kHome);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, "reader@example.cn");
  EXPECT_TRUE(can_login(kNewPassword));
  EXPECT_FALSE(can_login(kPassword));
  Result<std::string> again = resets_->reset(token, "third password 3", kHome);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kNotFound);
  EXPECT_EQ(again.status().message(), kResetLinkInvalid);
  EXPECT_EQ(resets_->check(token).code(), Code::kNotFound);
  EXPECT_TRUE(can_login(kNewPassword));
}

TEST_P(PasswordResetTest, TheLinkExpiresAfterThirtyMinutes) {
  std::string token = link_token();
  clock_.advance(30 * 60 - 1);
  EXPECT_TRUE(resets_->check(token).is_ok());
  clock_.advance(1);
  EXPECT_EQ(resets_->check(token).code(), Code::kNotFound);
  Result<std::string> r = resets_->reset(token, kNewPassword, kHome);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_TRUE(can_login(kPassword));
}

TEST_P(PasswordResetTest, UnknownTokensAreRefused) {
  EXPECT_EQ(resets_->check("").code(), Code::kNotFound);
  EXPECT_EQ(resets_->check(new_token()).code(), Code::kNotFound);
  EXPECT_EQ(resets_->reset(new_token(), kNewPassword, kHome).status().code(), Code::kNotFound);
}

TEST_P(PasswordResetTest, AResetEndsEverySessionAndUsesUpEveryOtherLink) {
  Result<LoginResult> phone = accounts_->login(user_.email, kPassword, kHome);
  Result<LoginResult> laptop = accounts_->login(user_.email, kPassword, kHome);
  ASSERT_TRUE(phone.ok() && laptop.ok());
  std::string first = link_token();
  std::string second = link_token();
  ASSERT_FALSE(first.empty());
  ASSERT_NE(first, second);
  ASSERT_TRUE(resets_->reset(second, kNewPassword, kHome).ok());
  EXPECT_EQ(accounts_->authenticate(phone->token).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(accounts_->authenticate(laptop->token).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(resets_->check(first).code(), Code::kNotFound);
  EXPECT_FALSE(resets_->reset(first, "third password 3", kHome).ok());
  EXPECT_TRUE(can_login(kNewPassword));
}

TEST_P(PasswordResetTest, TheNewPasswordFollowsTheRegistrationRules) {
  std::string token = link_token();
  Result<std::string> r = resets_->reset(token, "short", kHome);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), validate_password("short").message());
  // Refused input leaves the link and the password as they were.
  EXPECT_TRUE(resets_->check(token).is_ok());
  EXPECT_TRUE(can_login(kPassword));
}

TEST_P(PasswordResetTest, ACompletedResetIsAudited) {
  std::string token = link_token();
  ASSERT_TRUE(resets_->reset(token, kNewPassword, kHome).ok());
  store::AuditQuery q;
  q.action = store::audit_action::kUserPasswordReset;
  Result<store::AuditPage> p = store_->list(q);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->items.size(), 1u);
  EXPECT_EQ(p->items[0].actor, "reader@example.cn");
  EXPECT_EQ(p->items[0].target_kind, "user");
  EXPECT_EQ(p->items[0].target_id, user_.id);
  EXPECT_EQ(p->items[0].ip, kHome.ip);
  EXPECT_EQ(p->items[0].details.find(token), std::string::npos);
}

TEST_P(PasswordResetTest, ThreeMailsPerAddressAnHourAndPerAccountADay) {
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ask(user_.email).is_ok());
  EXPECT_EQ(mail_.sent().size(), 3u);
  // A new hour frees the address, but the account has had its three today.
  clock_.advance(3600);
  EXPECT_TRUE(ask(user_.email).is_ok());
  EXPECT_EQ(mail_.sent().size(), 3u);
  clock_.advance(24 * 3600);
  EXPECT_TRUE(ask(user_.email).is_ok());
  EXPECT_EQ(mail_.sent().size(), 4u);
}

TEST_P(PasswordResetTest, UnknownEmailsCountAgainstTheClientAddress) {
  ResetOptions o;
  o.requests_per_ip_per_hour = 3;
  make_resets(o);
  EXPECT_TRUE(ask("nobody1@example.cn").is_ok());
  EXPECT_TRUE(ask("nobody2@example.cn").is_ok());
  EXPECT_TRUE(ask("nobody3@example.cn").is_ok());
  // The address is spent: the known email gets the same answer, no mail.
  EXPECT_TRUE(ask(user_.email).is_ok());
  EXPECT_TRUE(mail_.sent().empty());
  // From another address it works.
  EXPECT_TRUE(ask(user_.email, Client{"198.51.100.20", "curl/8"}).is_ok());
  EXPECT_EQ(mail_.sent().size(), 1u);
}

TEST_P(PasswordResetTest, ADisabledAccountGetsNoMailAndItsLinksStopWorking) {
  std::string token = link_token();
  ASSERT_TRUE(accounts_->disable(user_.id).is_ok());
  EXPECT_TRUE(ask(user_.email).is_ok());
  EXPECT_EQ(mail_.sent().size(), 1u);
  EXPECT_EQ(resets_->check(token).code(), Code::kNotFound);
  EXPECT_EQ(resets_->reset(token, kNewPassword, kHome).status().code(), Code::kNotFound);
}

TEST_P(PasswordResetTest, AFailedSendChangesNothingInTheAnswer) {
  mail_.set_down(true);
  Status down = ask(user_.email);
  mail_.set_down(false);
  Status up = ask("nobody@example.cn");
  EXPECT_EQ(down.code(), up.code());
  EXPECT_EQ(down.message(), up.message());
  EXPECT_TRUE(mail_.sent().empty());
}

TEST_P(PasswordResetTest, WithoutMailResetsAreOff) {
  resets_.reset();
  PasswordResets off(*store_, *store_, nullptr, clock_, {}, fast_options());
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.request(user_.email, kHome, kBase).code(), Code::kFailedPrecondition);
}

PAIDOC_ON_EVERY_BACKEND(PasswordResetTest);

}  // namespace
}  // namespace paidoc::auth
