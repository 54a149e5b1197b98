// Accounts against a real store (each backend, a fresh database), with a fake
// clock: registration, login, sessions (expiry, idle timeout, rotation,
// revocation), password changes, account deletion and the stored abuse
// limits, including across a restart.

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "common/clock.h"
#include "store/store.h"
#include "support/backends.h"

namespace paidoc::auth {
namespace {

using gate::Role;

constexpr const char* kPassword = "correct horse";
constexpr const char* kWrong = "wrong password";
const Client kHome{"203.0.113.7", "Mozilla/5.0 (test)"};
const Client kOffice{"198.51.100.20", "curl/8"};

// Cheapest argon2id cost libsodium allows (crypto_pwhash_OPSLIMIT_MIN,
// crypto_pwhash_MEMLIMIT_MIN), so that tests hash quickly.
Options fast_options() {
  Options o;
  o.pwhash_opslimit = 1;
  o.pwhash_memlimit = 8192;
  return o;
}

class AccountsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    open();
  }
  void TearDown() override {
    accounts_.reset();
    store_.reset();
  }

  void open() {
    Result<std::unique_ptr<store::Store>> s = store::Store::open(db_->url());
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(s).value();
    accounts_ = std::make_unique<Accounts>(*store_, clock_, options_);
  }
  // A restart: everything in memory is gone, the database stays.
  void restart() {
    accounts_.reset();
    store_.reset();
    open();
  }

  Account add(const std::string& email, const std::string& password = kPassword,
              Role role = Role::kReader) {
    Result<Account> a = accounts_->add_user(email, password, role);
    EXPECT_TRUE(a.ok()) << a.status().to_string();
    return a.ok() ? *a : Account{};
  }
  LoginResult login_ok(const std::string& email, const std::string& password = kPassword,
                       const Client& client = kHome, const std::string& previous = "") {
    Result<LoginResult> r = accounts_->login(email, password, client, previous);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : LoginResult{};
  }
  Status login_status(const std::string& email, const std::string& password,
                      const Client& client = kHome) {
    return accounts_->login(email, password, client).status();
  }
  bool alive(const std::string& token) { return accounts_->authenticate(token).ok(); }
  store::Throttle throttle(const std::string& key) {
    Result<store::Throttle> t = store_->get_throttle(key);
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    return t.ok() ? *t : store::Throttle{};
  }

  std::unique_ptr<testing_support::TestDatabase> db_;
  FakeClock clock_;
  Options options_ = fast_options();
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Accounts> accounts_;
};

// ---- registration and login ---------------------------------------------------------

TEST_P(AccountsTest, ARoleChangeLeavesOneAuditEntryAndARefusedOneNone) {
  Result<Account> a = accounts_->add_user("role-audit@example.cn", "correct horse battery",
                                          Role::kReader);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  store::AuditActor admin{7, "boss@example.cn", "203.0.113.5"};
  ASSERT_TRUE(accounts_->set_role(a->id, Role::kEditor, admin).is_ok());
  // Refused: unknown user, a role that is not stored; unchanged: nothing to record.
  EXPECT_EQ(accounts_->set_role(a->id + 999, Role::kAdmin, admin).code(), Code::kNotFound);
  EXPECT_EQ(accounts_->set_role(a->id, Role::kSystem, admin).code(), Code::kInvalidArgument);
  ASSERT_TRUE(accounts_->set_role(a->id, Role::kEditor, admin).is_ok());

  auto p = store_->list(store::AuditQuery{});
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  ASSERT_EQ(p->total, 1);
  const store::AuditEntry& e = p->items[0];
  EXPECT_EQ(e.action, "user.role");
  EXPECT_EQ(e.actor, "boss@example.cn");
  EXPECT_EQ(e.actor_user_id, 7);
  EXPECT_EQ(e.ip, "203.0.113.5");
  EXPECT_EQ(e.target_kind, "user");
  EXPECT_EQ(e.target_id, a->id);
  EXPECT_EQ(e.at, clock_.now());
  EXPECT_EQ(e.details,
            R"({"email":"role-audit@example.cn","role":{"from":"reader","to":"editor"}})");
}

TEST_P(AccountsTest, RegisterLoginAuthenticateLogout) {
  Result<Account> reg = accounts_->register_user("reader@example.cn", kPassword, kHome);
  ASSERT_TRUE(reg.ok()) << reg.status().to_string();
  EXPECT_GT(reg->id, 0);
  EXPECT_EQ(reg->email, "reader@example.cn");
  EXPECT_EQ(reg->role, Role::kReader);

  LoginResult lr = login_ok("reader@example.cn");
  EXPECT_EQ(lr.session.account.id, reg->id);
  EXPECT_EQ(lr.session.account.role, Role::kReader);
  EXPECT_GT(lr.session.session_id, 0);
  EXPECT_EQ(lr.session.expires_at, clock_.now() + options_.idle_timeout);

  Result<SessionInfo> who = accounts_->authenticate(lr.token);
  ASSERT_TRUE(who.ok()) << who.status().to_string();
  EXPECT_EQ(who->session_id, lr.session.session_id);
  EXPECT_EQ(who->account.id, reg->id);
  EXPECT_EQ(who->account.email, "reader@example.cn");

  gate::Viewer v = Accounts::viewer_of(*who);
  EXPECT_EQ(v.user_id, reg->id);
  EXPECT_EQ(v.role, Role::kReader);
  EXPECT_FALSE(v.vip);
  EXPECT_TRUE(v.purchased.empty());

  Result<std::vector<store::Session>> list = accounts_->sessions(reg->id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].ip, kHome.ip);
  EXPECT_EQ((*list)[0].user_agent, kHome.user_agent);

  EXPECT_TRUE(accounts_->logout(lr.token).is_ok());
  Status gone = accounts_->authenticate(lr.token).status();
  EXPECT_EQ(gone.code(), Code::kUnauthenticated);
  EXPECT_FALSE(gone.message().empty());
  // Logging out twice, or with nonsense, is not an error.
  EXPECT_TRUE(accounts_->logout(lr.token).is_ok());
  EXPECT_TRUE(accounts_->logout("").is_ok());
  EXPECT_EQ(accounts_->authenticate("").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(accounts_->authenticate("not-a-token").status().code(), Code::kUnauthenticated);
}

TEST_P(AccountsTest, WrongPasswordAndUnknownEmailAnswerAlike) {
  add("known@example.cn");
  Status wrong = login_status("known@example.cn", kWrong);
  Status unknown = login_status("nobody@example.cn", kPassword);
  Status malformed = login_status("not an email", kPassword);
  EXPECT_EQ(wrong.code(), Code::kUnauthenticated);
  EXPECT_EQ(wrong.message(), "邮箱或密码错误");
  for (const Status& s : {unknown, malformed}) {
    EXPECT_EQ(s.code(), wrong.code());
    EXPECT_EQ(s.message(), wrong.message());
    EXPECT_EQ(s.retry_after(), 0);
  }
}

TEST_P(AccountsTest, EmailIsNormalisedAndUnique) {
  Account a = add("  Alice@Example.CN ");
  EXPECT_EQ(a.email, "alice@example.cn");
  login_ok("ALICE@example.cn\t");

  for (const char* again : {"alice@example.cn", "ALICE@EXAMPLE.CN", "\n alice@example.cn  "}) {
    Result<Account> dup = accounts_->register_user(again, "another password", kHome);
    EXPECT_EQ(dup.status().code(), Code::kConflict) << again;
    EXPECT_EQ(dup.status().message(), "该邮箱已注册") << again;
    EXPECT_EQ(accounts_->add_user(again, "another password", Role::kAdmin).status().code(),
              Code::kConflict)
        << again;
  }
}

TEST_P(AccountsTest, BadInputIsRefusedInChinese) {
  Result<Account> short_pw = accounts_->register_user("a@example.cn", "1234567", kHome);
  EXPECT_EQ(short_pw.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(short_pw.status().message(), "密码至少需要 8 个字符");
  Result<Account> bad_email = accounts_->register_user("a@example", kPassword, kHome);
  EXPECT_EQ(bad_email.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad_email.status().message(), "邮箱格式不正确");
  // Nothing was created.
  EXPECT_EQ(login_status("a@example.cn", "1234567").code(), Code::kUnauthenticated);
  // Anonymous and system are not roles an account can have.
  EXPECT_EQ(accounts_->add_user("s@example.cn", kPassword, Role::kSystem).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(accounts_->add_user("n@example.cn", kPassword, Role::kAnonymous).status().code(),
            Code::kInvalidArgument);
}

TEST_P(AccountsTest, PasswordsAreStoredAsArgon2idWithTheDefaultCost) {
  Accounts real_cost(*store_, clock_, Options{});
  Result<Account> a = real_cost.add_user("cost@example.cn", kPassword, Role::kReader);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  Result<store::User> u = store_->get_user(a->id);
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->password_hash.starts_with("$argon2id$")) << u->password_hash;
  EXPECT_NE(u->password_hash.find("m=65536,t=2"), std::string::npos) << u->password_hash;
  EXPECT_EQ(u->password_hash.find(kPassword), std::string::npos);
  EXPECT_TRUE(real_cost.login("cost@example.cn", kPassword, kHome).ok());
}

// ---- tokens and sessions ------------------------------------------------------------

TEST_P(AccountsTest, OnlyTheTokensHashIsStored) {
  add("t@example.cn");
  LoginResult lr = login_ok("t@example.cn");
  ASSERT_EQ(lr.token.size(), 43u);
  for (char c : lr.token) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << lr.token;
  }

  Result<store::Session> by_hash = store_->find_session(token_hash(lr.token));
  ASSERT_TRUE(by_hash.ok()) << by_hash.status().to_string();
  EXPECT_EQ(by_hash->id, lr.session.session_id);
  EXPECT_EQ(by_hash->token_hash, token_hash(lr.token));
  EXPECT_EQ(store_->find_session(lr.token).status().code(), Code::kNotFound);

  // Look at what the database holds (on SQLite the bytes of the database and
  // journal files): the hash is there, the token is not.
  std::string disk = testing_support::database_contents(db_->url());
  EXPECT_NE(disk.find(token_hash(lr.token)), std::string::npos);
  EXPECT_EQ(disk.find(lr.token), std::string::npos);
}

TEST_P(AccountsTest, SessionExpiresAbsolutelyEvenWhenUsed) {
  options_.session_ttl = 3600;
  options_.idle_timeout = 600;
  restart();
  add("ttl@example.cn");
  const int64_t start = clock_.now();
  LoginResult lr = login_ok("ttl@example.cn");
  for (int i = 0; i < 7; ++i) {  // in use every 500 s, up to start + 3500
    clock_.advance(500);
    Result<SessionInfo> s = accounts_->authenticate(lr.token);
    ASSERT_TRUE(s.ok()) << "at +" << clock_.now() - start;
    EXPECT_EQ(s->expires_at, std::min(start + 3600, clock_.now() + 600));
  }
  clock_.set(start + 3599);
  EXPECT_TRUE(alive(lr.token));
  clock_.set(start + 3600);
  EXPECT_EQ(accounts_->authenticate(lr.token).status().code(), Code::kUnauthenticated);
}

TEST_P(AccountsTest, SessionExpiresWhenIdle) {
  options_.session_ttl = 3600;
  options_.idle_timeout = 600;
  restart();
  Account a = add("idle@example.cn");
  LoginResult lr = login_ok("idle@example.cn");
  LoginResult other = login_ok("idle@example.cn", kPassword, kOffice);
  EXPECT_EQ(lr.session.expires_at, clock_.now() + 600);
  clock_.advance(599);
  EXPECT_TRUE(alive(lr.token));  // and last seen now
  EXPECT_TRUE(alive(other.token));
  clock_.advance(599);
  EXPECT_TRUE(alive(lr.token));
  EXPECT_TRUE(alive(other.token));
  clock_.advance(300);
  EXPECT_TRUE(alive(other.token));  // only this one stays in use
  clock_.advance(300);
  // lr has been idle for 600 s: it is no longer listed, nor accepted.
  Result<std::vector<store::Session>> list = accounts_->sessions(a.id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, other.session.session_id);
  EXPECT_EQ(accounts_->authenticate(lr.token).status().code(), Code::kUnauthenticated);
  EXPECT_TRUE(alive(other.token));
}

TEST_P(AccountsTest, LastSeenIsWrittenAtMostOnceAMinute) {
  add("touch@example.cn");
  const int64_t start = clock_.now();
  LoginResult lr = login_ok("touch@example.cn");
  auto last_seen = [&] {
    Result<store::Session> s = store_->find_session(token_hash(lr.token));
    EXPECT_TRUE(s.ok());
    return s.ok() ? s->last_seen_at : -1;
  };
  clock_.advance(30);
  EXPECT_TRUE(alive(lr.token));
  EXPECT_EQ(last_seen(), start);
  clock_.advance(29);
  EXPECT_TRUE(alive(lr.token));
  EXPECT_EQ(last_seen(), start);
  clock_.advance(1);
  EXPECT_TRUE(alive(lr.token));
  EXPECT_EQ(last_seen(), start + 60);
}

TEST_P(AccountsTest, LoginRotatesThePreviousSession) {
  add("rot@example.cn");
  LoginResult first = login_ok("rot@example.cn");
  LoginResult second = login_ok("rot@example.cn", kPassword, kHome, first.token);
  EXPECT_NE(second.token, first.token);
  EXPECT_FALSE(alive(first.token));
  EXPECT_TRUE(alive(second.token));
  Result<std::vector<store::Session>> list = accounts_->sessions(second.session.account.id);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);

  // Without a previous token a login adds a session (another device).
  LoginResult third = login_ok("rot@example.cn", kPassword, kOffice);
  EXPECT_TRUE(alive(second.token));
  EXPECT_TRUE(alive(third.token));
  // A stale or unknown previous token does not stop a login.
  LoginResult fourth = login_ok("rot@example.cn", kPassword, kHome, first.token);
  EXPECT_TRUE(alive(fourth.token));
}

TEST_P(AccountsTest, LogoutEverywhereEndsEverySessionOfThatUserOnly) {
  Account a = add("a@example.cn");
  add("b@example.cn");
  LoginResult a1 = login_ok("a@example.cn");
  LoginResult a2 = login_ok("a@example.cn", kPassword, kOffice);
  LoginResult b1 = login_ok("b@example.cn");
  ASSERT_TRUE(accounts_->logout_everywhere(a.id).is_ok());
  EXPECT_FALSE(alive(a1.token));
  EXPECT_FALSE(alive(a2.token));
  EXPECT_TRUE(alive(b1.token));
}

TEST_P(AccountsTest, RevokeSessionOnlyForItsOwner) {
  Account a = add("a@example.cn");
  Account b = add("b@example.cn");
  LoginResult a1 = login_ok("a@example.cn");
  LoginResult a2 = login_ok("a@example.cn", kPassword, kOffice);
  LoginResult b1 = login_ok("b@example.cn");

  Status foreign = accounts_->revoke_session(a.id, b1.session.session_id);
  EXPECT_EQ(foreign.code(), Code::kNotFound);
  EXPECT_TRUE(alive(b1.token));
  EXPECT_EQ(accounts_->revoke_session(b.id, 999999).code(), Code::kNotFound);

  ASSERT_TRUE(accounts_->revoke_session(a.id, a2.session.session_id).is_ok());
  EXPECT_FALSE(alive(a2.token));
  EXPECT_TRUE(alive(a1.token));
}

// ---- password change and account deletion -------------------------------------------

TEST_P(AccountsTest, ChangePasswordKeepsOnlyTheCurrentSession) {
  Account a = add("pw@example.cn");
  LoginResult here = login_ok("pw@example.cn");
  LoginResult there = login_ok("pw@example.cn", kPassword, kOffice);

  Status wrong =
      accounts_->change_password(a.id, here.session.session_id, kWrong, "new password 1");
  EXPECT_EQ(wrong.code(), Code::kUnauthenticated);
  EXPECT_EQ(wrong.message(), "当前密码不正确");
  EXPECT_EQ(accounts_->change_password(a.id, here.session.session_id, kPassword, "short").code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(alive(there.token));  // failed attempts change nothing

  ASSERT_TRUE(accounts_->change_password(a.id, here.session.session_id, kPassword, "new password 1")
                  .is_ok());
  EXPECT_TRUE(alive(here.token));
  EXPECT_FALSE(alive(there.token));
  EXPECT_EQ(login_status("pw@example.cn", kPassword).code(), Code::kUnauthenticated);
  login_ok("pw@example.cn", "new password 1");
}

TEST_P(AccountsTest, DeleteAccount) {
  Account a = add("gone@example.cn");
  LoginResult lr = login_ok("gone@example.cn");

  Status wrong = accounts_->delete_account(a.id, kWrong);
  EXPECT_EQ(wrong.code(), Code::kUnauthenticated);
  EXPECT_TRUE(alive(lr.token));

  ASSERT_TRUE(accounts_->delete_account(a.id, kPassword).is_ok());
  EXPECT_EQ(accounts_->authenticate(lr.token).status().code(), Code::kUnauthenticated);
  Status login = login_status("gone@example.cn", kPassword);
  EXPECT_EQ(login.code(), Code::kUnauthenticated);
  EXPECT_EQ(login.message(), "邮箱或密码错误");
  EXPECT_EQ(accounts_->delete_account(a.id, kPassword).code(), Code::kNotFound);

  // The email is free again, for a new account with a new id.
  Result<Account> again = accounts_->register_user("gone@example.cn", "another password", kHome);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_NE(again->id, a.id);
  login_ok("gone@example.cn", "another password");
  EXPECT_EQ(login_status("gone@example.cn", kPassword).code(), Code::kUnauthenticated);
}

// ---- roles ---------------------------------------------------------------------------

TEST_P(AccountsTest, RolesTakeEffectOnTheNextRequest) {
  Account admin = add("admin@example.cn", kPassword, Role::kAdmin);
  Account ed = add("ed@example.cn", kPassword, Role::kEditor);
  EXPECT_EQ(admin.role, Role::kAdmin);
  EXPECT_EQ(ed.role, Role::kEditor);

  LoginResult lr = login_ok("ed@example.cn");
  EXPECT_EQ(lr.session.account.role, Role::kEditor);
  ASSERT_TRUE(accounts_->set_role(ed.id, Role::kReader).is_ok());
  Result<SessionInfo> s = accounts_->authenticate(lr.token);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->account.role, Role::kReader);
  EXPECT_FALSE(allowed(Accounts::viewer_of(*s).role, Permission::kPublish));

  EXPECT_EQ(accounts_->set_role(ed.id, Role::kSystem).code(), Code::kInvalidArgument);
  EXPECT_EQ(accounts_->set_role(424242, Role::kAdmin).code(), Code::kNotFound);

  Result<std::vector<Account>> users = accounts_->list_users(0, 10);
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].email, "admin@example.cn");  // oldest first
  EXPECT_EQ((*users)[1].role, Role::kReader);
  EXPECT_EQ(accounts_->list_users(0, 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(accounts_->list_users(-1, 10).status().code(), Code::kInvalidArgument);
}

TEST_P(AccountsTest, ADisabledAccountCannotSignInAndItsSessionsEnd) {
  Account admin = add("boss@example.cn", kPassword, Role::kAdmin);
  Account reader = add("quiet@example.cn");
  LoginResult cookie = login_ok("quiet@example.cn");
  LoginResult bearer = login_ok("quiet@example.cn", kPassword, kOffice);
  store::AuditActor by{admin.id, "boss@example.cn", "203.0.113.5"};

  ASSERT_TRUE(accounts_->disable(reader.id, by).is_ok());
  // Both sessions ended; the right password is refused with its own message,
  // the wrong one as ever (a guesser learns nothing).
  EXPECT_EQ(accounts_->authenticate(cookie.token).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(accounts_->authenticate(bearer.token).status().code(), Code::kUnauthenticated);
  Result<LoginResult> refused = accounts_->login("quiet@example.cn", kPassword, kHome);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kForbidden);
  EXPECT_EQ(refused.status().message(), "该账号已停用，请联系管理员。");
  EXPECT_EQ(accounts_->login("quiet@example.cn", kWrong, kHome).status().code(),
            Code::kUnauthenticated);
  Result<AccountPage> listed = accounts_->search_users("QUIET", 0, 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->total, 1);
  EXPECT_EQ(listed->items[0].disabled_at, clock_.now());
  // Disabling again changes and records nothing.
  ASSERT_TRUE(accounts_->disable(reader.id, by).is_ok());

  clock_.advance(60);
  ASSERT_TRUE(accounts_->enable(reader.id, by).is_ok());
  LoginResult again = login_ok("quiet@example.cn");
  EXPECT_TRUE(accounts_->authenticate(again.token).ok());

  auto p = store_->list(store::AuditQuery{});
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->total, 2);
  EXPECT_EQ(p->items[0].action, "user.enable");
  EXPECT_EQ(p->items[1].action, "user.disable");
  for (const store::AuditEntry& e : p->items) {
    EXPECT_EQ(e.actor, "boss@example.cn");
    EXPECT_EQ(e.actor_user_id, admin.id);
    EXPECT_EQ(e.target_kind, "user");
    EXPECT_EQ(e.target_id, reader.id);
    EXPECT_EQ(e.details, R"({"email":"quiet@example.cn"})");
  }
  EXPECT_EQ(accounts_->disable(reader.id + 999, by).code(), Code::kNotFound);
}

TEST_P(AccountsTest, AnAdminCannotDisableOrDemoteThemself) {
  Account admin = add("boss@example.cn", kPassword, Role::kAdmin);
  Account other = add("second@example.cn", kPassword, Role::kAdmin);
  store::AuditActor self{admin.id, "boss@example.cn", ""};
  LoginResult s = login_ok("boss@example.cn");

  Status off = accounts_->disable(admin.id, self);
  EXPECT_EQ(off.code(), Code::kForbidden);
  EXPECT_EQ(off.message(), "不能停用自己的账号。");
  for (Role r : {Role::kEditor, Role::kReader}) {
    Status down = accounts_->set_role(admin.id, r, self);
    EXPECT_EQ(down.code(), Code::kForbidden);
    EXPECT_NE(down.message().find("不能取消自己的管理员角色"), std::string::npos);
  }
  // Nothing changed or was recorded; the session still works.
  Result<SessionInfo> info = accounts_->authenticate(s.token);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->account.role, Role::kAdmin);
  EXPECT_EQ(store_->list(store::AuditQuery{})->total, 0);
  // Keeping one's own role is no change; another admin may demote them.
  EXPECT_TRUE(accounts_->set_role(admin.id, Role::kAdmin, self).is_ok());
  store::AuditActor by_other{other.id, "second@example.cn", ""};
  EXPECT_TRUE(accounts_->set_role(admin.id, Role::kEditor, by_other).is_ok());
  EXPECT_EQ(accounts_->authenticate(s.token)->account.role, Role::kEditor);
}

TEST_P(AccountsTest, SearchUsersFindsPartOfTheEmailAndPages) {
  for (int i = 0; i < 5; ++i) add("member" + std::to_string(i) + "@club.cn");
  add("guest@elsewhere.cn");
  Result<AccountPage> page = accounts_->search_users("  Club.CN ", 2, 2);
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  EXPECT_EQ(page->total, 5);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].email, "member2@club.cn");
  EXPECT_EQ(page->items[1].email, "member3@club.cn");
  EXPECT_EQ(accounts_->search_users("", 0, 100)->total, 6);
  EXPECT_EQ(accounts_->search_users("", 0, 0).status().code(), Code::kInvalidArgument);
}

// ---- abuse limits --------------------------------------------------------------------

TEST_P(AccountsTest, FailedLoginsBackOffExponentially) {
  add("victim@example.cn");
  const std::string key = "login-account:victim@example.cn";
  auto expect_locked = [&](int64_t retry_after) {
    // While locked even the right password is refused, and the refusal is
    // neither checked nor counted.
    const int64_t before = throttle(key).count;
    for (const char* pw : {kPassword, kWrong}) {
      Status s = login_status("victim@example.cn", pw);
      EXPECT_EQ(s.code(), Code::kTooManyRequests) << pw;
      EXPECT_EQ(s.retry_after(), retry_after) << pw;
    }
    EXPECT_EQ(throttle(key).count, before);
  };

  // Five free failures; the fifth starts the back-off.
  for (int i = 1; i <= 5; ++i) {
    Status s = login_status("victim@example.cn", kWrong);
    EXPECT_EQ(s.code(), Code::kUnauthenticated) << "failure " << i;
    EXPECT_EQ(throttle(key).count, i);
  }
  Status locked = login_status("victim@example.cn", kPassword);
  EXPECT_EQ(locked.code(), Code::kTooManyRequests);
  EXPECT_EQ(locked.retry_after(), 1);
  EXPECT_EQ(locked.message(), "尝试次数过多，请 1 秒后再试");
  expect_locked(1);

  clock_.advance(1);

  // Each further failure, once the wait is over, doubles the wait.
  for (int64_t next : {2, 4, 8, 16}) {
    EXPECT_EQ(login_status("victim@example.cn", kWrong).code(), Code::kUnauthenticated);
    expect_locked(next);
    clock_.advance(next - 1);
    expect_locked(1);
    clock_.advance(1);
  }

  // After the wait the right password works and the run starts over.
  login_ok("victim@example.cn");
  EXPECT_EQ(throttle(key).count, 0);
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(login_status("victim@example.cn", kWrong).code(), Code::kUnauthenticated);
  }
  login_ok("victim@example.cn");  // four failures are still free
}

TEST_P(AccountsTest, BackOffIsCappedAtMaxBackoff) {
  options_.max_backoff = 5;
  restart();
  add("cap@example.cn");
  for (int i = 0; i < 5; ++i) login_status("cap@example.cn", kWrong);
  int64_t wait = 1;
  for (int64_t next : {2, 4, 5, 5}) {
    clock_.advance(wait);
    EXPECT_EQ(login_status("cap@example.cn", kWrong).code(), Code::kUnauthenticated);
    EXPECT_EQ(login_status("cap@example.cn", kPassword).retry_after(), next);
    wait = next;
  }
}

TEST_P(AccountsTest, TwentyWrongPasswordsInARowAreThrottled) {
  add("brute@example.cn");
  int unauthenticated = 0, throttled = 0;
  for (int i = 0; i < 20; ++i) {
    Status s = login_status("brute@example.cn", kWrong);
    if (s.code() == Code::kUnauthenticated) ++unauthenticated;
    if (s.code() == Code::kTooManyRequests) {
      ++throttled;
      EXPECT_GT(s.retry_after(), 0);
      EXPECT_EQ(unauthenticated, 5) << "a 429 came before the free failures were used";
    }
  }
  EXPECT_EQ(unauthenticated, 5);
  EXPECT_EQ(throttled, 15);
  Status right = login_status("brute@example.cn", kPassword);
  EXPECT_EQ(right.code(), Code::kTooManyRequests);
  EXPECT_GT(right.retry_after(), 0);
  clock_.advance(right.retry_after());
  login_ok("brute@example.cn");
}

TEST_P(AccountsTest, ParallelGuessesCannotSlipPastTheLock) {
  // Attempts are counted before the password is checked, so guesses sent at
  // once get exactly the free allowance, not one check each.
  add("parallel@example.cn");
  std::atomic<int> unauthenticated{0}, throttled{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&] {
      Code c = accounts_->login("parallel@example.cn", kWrong, kHome).status().code();
      if (c == Code::kUnauthenticated) ++unauthenticated;
      if (c == Code::kTooManyRequests) ++throttled;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(unauthenticated.load(), 5);
  EXPECT_EQ(throttled.load(), 15);
}

TEST_P(AccountsTest, ParallelGuessesThroughTwoProcessesShareOneAllowance) {
  // Two servers on one database (each with its own store and Accounts, as
  // two processes would have): the store counts the attempts atomically, so
  // together they still allow exactly the free allowance.
  add("two-processes@example.cn");
  Result<std::unique_ptr<store::Store>> other_store = store::Store::open(db_->url());
  ASSERT_TRUE(other_store.ok()) << other_store.status().to_string();
  Accounts other(**other_store, clock_, options_);
  std::atomic<int> unauthenticated{0}, throttled{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      Accounts& a = i % 2 ? other : *accounts_;
      Code c = a.login("two-processes@example.cn", kWrong, kHome).status().code();
      if (c == Code::kUnauthenticated) ++unauthenticated;
      if (c == Code::kTooManyRequests) ++throttled;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(unauthenticated.load(), 5);
  EXPECT_EQ(throttled.load(), 15);
}

TEST_P(AccountsTest, PacedGuessingStillMeetsTheLock) {
  // One guess a second: the back-off outgrows the pace, most guesses are
  // refused unchecked, and the right password is refused at the end too.
  add("paced@example.cn");
  int throttled = 0;
  for (int i = 0; i < 20; ++i) {
    if (login_status("paced@example.cn", kWrong).code() == Code::kTooManyRequests) ++throttled;
    clock_.advance(1);
  }
  EXPECT_GE(throttled, 10);
  EXPECT_EQ(login_status("paced@example.cn", kPassword).code(), Code::kTooManyRequests);
}

TEST_P(AccountsTest, UnknownEmailsBackOffLikeKnownOnes) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(login_status("ghost@example.cn", kWrong).code(), Code::kUnauthenticated);
  }
  Status s = login_status("ghost@example.cn", kWrong);
  EXPECT_EQ(s.code(), Code::kTooManyRequests);
  EXPECT_EQ(s.retry_after(), 1);
}

TEST_P(AccountsTest, AccountLimitCountsEveryAddress) {
  add("shared@example.cn");
  const Client a{"192.0.2.1", ""}, b{"192.0.2.2", ""}, c{"192.0.2.3", ""};
  for (const Client& cl : {a, b, c, a, b}) login_status("shared@example.cn", kWrong, cl);
  EXPECT_EQ(login_status("shared@example.cn", kPassword, kOffice).code(), Code::kTooManyRequests);
}

TEST_P(AccountsTest, AddressLimitSpansAccounts) {
  add("real@example.cn");
  // 20 free failures per address, one per (unknown) account, so no account
  // limit is reached.
  for (int i = 1; i <= 20; ++i) {
    EXPECT_EQ(login_status("guess" + std::to_string(i) + "@example.cn", kWrong).code(),
              Code::kUnauthenticated)
        << i;
  }
  Status s = login_status("real@example.cn", kPassword, kHome);
  EXPECT_EQ(s.code(), Code::kTooManyRequests);
  EXPECT_EQ(s.retry_after(), 1);
  // Another address is not affected.
  login_ok("real@example.cn", kPassword, kOffice);
  clock_.advance(1);
  login_ok("real@example.cn", kPassword, kHome);
}

TEST_P(AccountsTest, SuccessResetsTheAccountButNotTheAddressFailures) {
  add("mine@example.cn");
  for (int i = 0; i < 4; ++i) login_status("mine@example.cn", kWrong);
  for (int i = 0; i < 10; ++i) login_status("x" + std::to_string(i) + "@example.cn", kWrong);
  EXPECT_EQ(throttle("login-account:mine@example.cn").count, 4);
  EXPECT_EQ(throttle("login-ip:" + kHome.ip).count, 14);
  login_ok("mine@example.cn");
  EXPECT_EQ(throttle("login-account:mine@example.cn").count, 0);
  // The address keeps its failures: a working account cannot wipe them.
  EXPECT_EQ(throttle("login-ip:" + kHome.ip).count, 14);
  // Successes alone never add up (an office logging in all day).
  for (int i = 0; i < 30; ++i) login_ok("mine@example.cn");
  EXPECT_EQ(throttle("login-ip:" + kHome.ip).count, 14);
  // Other accounts' runs are theirs.
  EXPECT_EQ(throttle("login-account:x0@example.cn").count, 1);
}

TEST_P(AccountsTest, AddressRunExpiresAfterAnHourWithoutLock) {
  add("mine@example.cn");
  for (int i = 0; i < 19; ++i) login_status("y" + std::to_string(i) + "@example.cn", kWrong);
  EXPECT_EQ(throttle("login-ip:" + kHome.ip).count, 19);
  clock_.advance(3600);
  login_status("z@example.cn", kWrong);  // a new run: no lock from the old failures
  EXPECT_EQ(throttle("login-ip:" + kHome.ip).count, 1);
  login_ok("mine@example.cn");
}

TEST_P(AccountsTest, WrongCurrentPasswordsAreLimitedToo) {
  Account a = add("chg@example.cn");
  LoginResult lr = login_ok("chg@example.cn");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(
        accounts_->change_password(a.id, lr.session.session_id, kWrong, "new password 1").code(),
        Code::kUnauthenticated);
  }
  Status s = accounts_->change_password(a.id, lr.session.session_id, kPassword, "new password 1");
  EXPECT_EQ(s.code(), Code::kTooManyRequests);
  EXPECT_EQ(accounts_->delete_account(a.id, kPassword).code(), Code::kTooManyRequests);
  EXPECT_EQ(login_status("chg@example.cn", kPassword).code(), Code::kTooManyRequests);
  clock_.advance(1);
  EXPECT_TRUE(
      accounts_->change_password(a.id, lr.session.session_id, kPassword, "new password 1").is_ok());
}

TEST_P(AccountsTest, LimitsSurviveARestart) {
  add("persist@example.cn");
  for (int i = 0; i < 5; ++i) login_status("persist@example.cn", kWrong);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        accounts_->register_user("r" + std::to_string(i) + "@example.cn", kPassword, kOffice).ok());
  }

  restart();

  Status login = login_status("persist@example.cn", kPassword);
  EXPECT_EQ(login.code(), Code::kTooManyRequests);
  EXPECT_EQ(login.retry_after(), 1);
  Status reg = accounts_->register_user("r10@example.cn", kPassword, kOffice).status();
  EXPECT_EQ(reg.code(), Code::kTooManyRequests);
  clock_.advance(1);
  login_ok("persist@example.cn");
}

TEST_P(AccountsTest, RegistrationsArePerAddressPerHour) {
  const int64_t start = clock_.now();
  for (int i = 0; i < 10; ++i) {
    clock_.advance(60);
    Result<Account> r =
        accounts_->register_user("u" + std::to_string(i) + "@example.cn", kPassword, kHome);
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().to_string();
  }
  // The window started with the first registration, at start + 60.
  Status s = accounts_->register_user("u10@example.cn", kPassword, kHome).status();
  EXPECT_EQ(s.code(), Code::kTooManyRequests);
  EXPECT_EQ(s.retry_after(), start + 60 + 3600 - clock_.now());
  EXPECT_EQ(s.message(), "注册次数过多，请 51 分钟后再试");
  // Probing for taken emails counts the same.
  EXPECT_EQ(accounts_->register_user("u0@example.cn", kPassword, kHome).status().code(),
            Code::kTooManyRequests);
  // Another address is not affected; operators are never limited.
  EXPECT_TRUE(accounts_->register_user("u10@example.cn", kPassword, kOffice).ok());
  EXPECT_TRUE(accounts_->add_user("u11@example.cn", kPassword, Role::kReader).ok());

  clock_.set(start + 60 + 3600);
  EXPECT_TRUE(accounts_->register_user("u12@example.cn", kPassword, kHome).ok());
}

TEST_P(AccountsTest, TakenEmailsCountTowardTheRegistrationLimit) {
  add("taken@example.cn");
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(accounts_->register_user("taken@example.cn", kPassword, kHome).status().code(),
              Code::kConflict);
  }
  EXPECT_EQ(accounts_->register_user("fresh@example.cn", kPassword, kHome).status().code(),
            Code::kTooManyRequests);
}

PAIDOC_ON_EVERY_BACKEND(AccountsTest);

}  // namespace
}  // namespace paidoc::auth
