// The --mail-* flags of `paidoc serve`: listed by --help, refused by name
// before anything starts (no TLS to another machine, an unreadable password
// file, a user without a password), and what /password/forgot shows with
// and without them.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "cli/binary.h"
#include "web/http_client.h"

namespace paidoc::cli::testing {
namespace {

using paidoc::web::testing::HttpClient;

class MailFlagsTest : public ::testing::Test {
 protected:
  CmdResult run(const std::string& args) {
    return paidoc("serve --data " + sh(dir_ / "data") + " --listen 127.0.0.1:0 " + args,
                  dir_.path());
  }
  int start(std::vector<std::string> flags, const std::string& name) {
    std::vector<std::string> args = {"--data", dir_ / ("data-" + name), "--listen", "127.0.0.1:0",
                                     "--access-log", "false"};
    args.insert(args.end(), flags.begin(), flags.end());
    servers_.push_back(std::make_unique<ServeProcess>(args, dir_ / (name + ".out"),
                                                      dir_ / (name + ".err")));
    return servers_.back()->wait_port();
  }

  TempDir dir_{"paidoc-mail-flags-"};
  std::vector<std::unique_ptr<ServeProcess>> servers_;
};

TEST_F(MailFlagsTest, HelpListsTheFlags) {
  CmdResult r = paidoc("serve --help", dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* flag : {"--mail-host", "--mail-port", "--mail-security", "--mail-user",
                           "--mail-password-file", "--mail-from", "--mail-from-name",
                           "--reset-link-ttl"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  EXPECT_EQ(r.out.find("--mail-password "), std::string::npos) << "no password on the command line";
}

TEST_F(MailFlagsTest, BadSettingsAreRefusedByName) {
  CmdResult plain = run("--mail-host smtp.example.cn --mail-security none --mail-from a@example.cn");
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_NE(plain.err.find("--mail-security none"), std::string::npos) << plain.err;

  CmdResult missing = run("--mail-host smtp.example.cn --mail-from a@example.cn --mail-user a "
                          "--mail-password-file " + sh(dir_ / "absent"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("--mail-password-file"), std::string::npos) << missing.err;

  CmdResult nopass = run("--mail-host smtp.example.cn --mail-from a@example.cn --mail-user a");
  EXPECT_EQ(nopass.exit_code, 1);
  EXPECT_NE(nopass.err.find("--mail-password-file"), std::string::npos) << nopass.err;

  CmdResult from = run("--mail-host smtp.example.cn --mail-from not-an-address");
  EXPECT_EQ(from.exit_code, 1);
  EXPECT_NE(from.err.find("--mail-from"), std::string::npos) << from.err;

  CmdResult security = run("--mail-host smtp.example.cn --mail-from a@example.cn --mail-security ssl");
  EXPECT_EQ(security.exit_code, 1);
  EXPECT_NE(security.err.find("--mail-security ssl"), std::string::npos) << security.err;

  CmdResult orphan = run("--mail-from a@example.cn");
  EXPECT_EQ(orphan.exit_code, 1);
  EXPECT_NE(orphan.err.find("--mail-from needs --mail-host"), std::string::npos) << orphan.err;
}

TEST_F(MailFlagsTest, TheForgotPageFollowsTheSettings) {
  int off = start({}, "off");
  ASSERT_GT(off, 0) << servers_.back()->logs();
  HttpClient a(static_cast<uint16_t>(off));
  std::string body = a.get("/password/forgot").body;
  EXPECT_NE(body.find("本站暂未开通邮件找回密码"), std::string::npos) << body;

  std::ofstream(dir_ / "smtp-password") << "s3cret\n";
  int on = start({"--mail-host", "127.0.0.1", "--mail-security", "none", "--mail-port", "2525",
                  "--mail-user", "noreply", "--mail-password-file", dir_ / "smtp-password",
                  "--mail-from", "noreply@example.cn"},
                 "on");
  ASSERT_GT(on, 0) << servers_.back()->logs();
  HttpClient b(static_cast<uint16_t>(on));
  body = b.get("/password/forgot").body;
  EXPECT_NE(body.find("<label for=\"forgot-email\">邮箱</label>"), std::string::npos) << body;
  EXPECT_EQ(servers_.back()->logs().find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace paidoc::cli::testing
