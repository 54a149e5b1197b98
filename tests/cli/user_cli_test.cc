// `paidoc user disable` / `paidoc user enable` as an operator runs them:
// the account's sessions end and it cannot sign in, enabling lets it in
// again, and each change is in the audit log as cli:<os user>.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "auth/auth.h"
#include "cli/binary.h"
#include "common/clock.h"
#include "store/audit.h"
#include "store/store.h"

namespace paidoc::cli::testing {
namespace {

class UserCliTest : public ::testing::Test {
 protected:
  std::string data() const { return dir_ / "data"; }
  std::string d() const { return " --data " + sh(data()); }
  CmdResult as_ops(const std::string& args) {
    return shell("USER=opsuser " + std::string(PAIDOC_BINARY) + " " + args, dir_.path());
  }

  void add_user(const std::string& email) {
    CmdResult r = shell("echo 'correct horse battery' | " + std::string(PAIDOC_BINARY) +
                            " user add" + d() + " --email " + sh(email),
                        dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::unique_ptr<store::Store> open() {
    auto s = store::Store::open("sqlite:" + data() + "/paidoc.db");
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  TempDir dir_{"paidoc-user-cli-"};
};

TEST_F(UserCliTest, DisableEndsSessionsAndEnableLetsTheAccountInAgain) {
  add_user("reader@example.cn");
  std::string token;
  {
    std::unique_ptr<store::Store> st = open();
    ASSERT_TRUE(st);
    auth::Accounts accounts(*st, Clock::system());
    Result<auth::LoginResult> in =
        accounts.login("reader@example.cn", "correct horse battery", {"203.0.113.9", "test"});
    ASSERT_TRUE(in.ok()) << in.status().to_string();
    token = in->token;
  }

  CmdResult off = as_ops("user disable" + d() + " --email ' Reader@Example.CN '");
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(off.out, "disabled user 1 reader@example.cn\n");
  CmdResult again = as_ops("user disable" + d() + " --email reader@example.cn");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "user 1 reader@example.cn was already disabled\n");
  {
    std::unique_ptr<store::Store> st = open();
    ASSERT_TRUE(st);
    auth::Accounts accounts(*st, Clock::system());
    EXPECT_EQ(accounts.authenticate(token).status().code(), Code::kUnauthenticated);
    EXPECT_EQ(accounts.login("reader@example.cn", "correct horse battery", {"203.0.113.9", "test"})
                  .status()
                  .code(),
              Code::kForbidden);
  }

  CmdResult on = as_ops("user enable" + d() + " --email reader@example.cn");
  ASSERT_EQ(on.exit_code, 0) << on.err;
  EXPECT_EQ(on.out, "enabled user 1 reader@example.cn\n");

  CmdResult unknown = as_ops("user disable" + d() + " --email nobody@example.cn");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no account with email nobody@example.cn"), std::string::npos)
      << unknown.err;

  std::unique_ptr<store::Store> st = open();
  ASSERT_TRUE(st);
  auth::Accounts accounts(*st, Clock::system());
  EXPECT_TRUE(
      accounts.login("reader@example.cn", "correct horse battery", {"203.0.113.9", "test"}).ok());
  // One entry per change (the repeated disable changed nothing), by the CLI.
  auto log = st->list(store::AuditQuery{});
  ASSERT_TRUE(log.ok()) << log.status().to_string();
  ASSERT_EQ(log->total, 2);
  EXPECT_EQ(log->items[0].action, "user.enable");
  EXPECT_EQ(log->items[1].action, "user.disable");
  for (const store::AuditEntry& e : log->items) {
    EXPECT_EQ(e.actor, "cli:opsuser");
    EXPECT_EQ(e.actor_user_id, 0);
    EXPECT_EQ(e.target_kind, "user");
    EXPECT_EQ(e.target_id, 1);
    EXPECT_EQ(e.details, R"({"email":"reader@example.cn"})");
  }
}

}  // namespace
}  // namespace paidoc::cli::testing
