// A damaged database (issue 16, finding 6): with garbage over the interior
// pages of the documents table, `serve` used to start, /healthz answered 200
// and `ledger verify` said ok while most listing pages answered 500
// "database disk image is malformed". Now serve refuses to start and says
// what to do, /healthz answers 503 once the store fails its reads,
// `check-db` lists the damage and `ledger verify` does not vouch for it.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "cli/binary.h"
#include "support/corrupt.h"

namespace paidoc::cli::testing {
namespace {

constexpr char kIntegrityPassword[] = "correct horse battery";

class IntegrityFixture : public ::testing::Test {
 protected:
  CmdResult run(const std::string& args) { return paidoc(args, dir_.path()); }
  std::string data() const { return dir_ / "data"; }
  std::string d() const { return " --data " + sh(data()); }
  std::string db() const { return data() + "/paidoc.db"; }

  // Forty documents (written for these tests) and a reader with ¥20 in the
  // wallet, so the documents table spans many pages and the ledger has rows.
  void make_site() {
    const fs::path src = dir_.path() / "sources";
    fs::create_directories(src);
    for (int i = 0; i < 40; ++i) {
      std::ofstream out(src / ("doc" + std::to_string(i) + ".txt"));
      out << "仓库盘点记录第" << i << "号\n";
      for (int p = 0; p < 12; ++p) {
        out << "第" << p << "段：货架" << i * 100 + p
            << "上的纸箱已经清点完毕，数量与账面一致，保管员签字确认。\n";
      }
      out << "##paidbegin##\n";
      for (int p = 0; p < 12; ++p) {
        out << "附录" << p << "：第" << i << "号仓库的温度和湿度每天记录两次，记录表放在门口的木柜里。\n";
      }
      out << "##paidend##\n";
    }
    CmdResult imp = run("import" + d() + " --price 2 " + sh(src.string()));
    ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;
    CmdResult add = shell("echo '" + std::string(kIntegrityPassword) + "' | " + std::string(PAIDOC_BINARY) +
                              " user add" + d() + " --email reader@example.cn",
                          dir_.path());
    ASSERT_EQ(add.exit_code, 0) << add.err;
    ASSERT_EQ(run("wallet credit" + d() + " --email reader@example.cn --amount 20").exit_code, 0);
  }

  void damage() { ASSERT_GT(paidoc::testing::damage_interior_pages(db(), "documents"), 0); }

  // The HTTP status of GET `target`, 0 when nothing answered.
  int status_of(int port, const std::string& target, std::string* body = nullptr) {
    const fs::path out = dir_.path() / "body.txt";
    CmdResult r = shell("curl -s -o " + sh(out.string()) + " -w '%{http_code}' " +
                            sh("http://127.0.0.1:" + std::to_string(port) + target),
                        dir_.path());
    if (body != nullptr) *body = slurp(out);
    return std::atoi(r.out.c_str());
  }

  TempDir dir_{"paidoc-integrity-cli-"};
};

using CorruptionTest = IntegrityFixture;
using IntegrityCliTest = IntegrityFixture;

TEST_F(CorruptionTest, ServeRefusesToStartOnADamagedDatabaseNamingWhatToDo) {
  make_site();
  damage();
  ServeProcess serve({"--listen", "127.0.0.1:0"}, dir_.path() / "serve.out", dir_.path() / "serve.err",
                     {"--data", data()});
  const int port = serve.wait_port();
  std::string health;
  if (port > 0) status_of(port, "/healthz", &health);
  ASSERT_EQ(port, 0) << "serve started on a damaged database; /healthz said " << health;
  EXPECT_EQ(serve.wait_exit(15000), 1);
  const std::string logs = serve.logs();
  EXPECT_NE(logs.find("the database '" + db() + "' is damaged: PRAGMA quick_check found"),
            std::string::npos)
      << logs;
  EXPECT_NE(logs.find("paidoc will not serve it"), std::string::npos) << logs;
  EXPECT_NE(logs.find("paidoc restore --from FILE --force"), std::string::npos) << logs;
  EXPECT_NE(logs.find("paidoc check-db"), std::string::npos) << logs;
}

TEST_F(CorruptionTest, HealthzAnswers503WhenTheStoreFailsItsQueries) {
  make_site();
  ServeProcess serve({"--listen", "127.0.0.1:0"}, dir_.path() / "serve.out", dir_.path() / "serve.err",
                     {"--data", data()});
  const int port = serve.wait_port();
  ASSERT_GT(port, 0) << serve.logs();
  ASSERT_EQ(status_of(port, "/healthz"), 200);
  ASSERT_EQ(status_of(port, "/"), 200);

  damage();  // under the running server
  std::string body;
  EXPECT_EQ(status_of(port, "/healthz", &body), 503) << body;
  EXPECT_EQ(body, R"({"reason":"database damaged","status":"unavailable"})");
  // What readers meet, and what the probe then keeps answering.
  EXPECT_EQ(status_of(port, "/", &body), 500);
  EXPECT_EQ(body.find("malformed"), std::string::npos) << body;
  EXPECT_EQ(status_of(port, "/healthz"), 503);
  EXPECT_NE(serve.logs().find("database disk image is malformed"), std::string::npos) << serve.logs();
}

TEST_F(IntegrityCliTest, CheckDbReportsDamageAndExitsNonZero) {
  make_site();
  CmdResult ok = run("check-db" + d());
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(ok.out, "database ok: PRAGMA integrity_check found no problem\n");
  CmdResult quick = run("check-db --quick" + d());
  EXPECT_EQ(quick.exit_code, 0) << quick.out << quick.err;
  EXPECT_EQ(quick.out, "database ok: PRAGMA quick_check found no problem\n");

  damage();
  CmdResult bad = run("check-db" + d());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "");
  EXPECT_NE(bad.out.find("database DAMAGED: PRAGMA integrity_check found "), std::string::npos)
      << bad.out;
  EXPECT_NE(bad.out.find("restore the last good backup with `paidoc restore --from FILE --force`"),
            std::string::npos)
      << bad.out;
  // One line per problem before the verdict.
  EXPECT_GE(std::count(bad.out.begin(), bad.out.end(), '\n'), 2) << bad.out;
  EXPECT_EQ(run("check-db --quick" + d()).exit_code, 1);

  // No database: nothing is created.
  CmdResult none = run("check-db --data " + sh(dir_ / "nothing"));
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no database file at"), std::string::npos) << none.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "nothing" / "paidoc.db"));
}

TEST_F(IntegrityCliTest, LedgerVerifyFailsOnAMalformedDatabase) {
  make_site();
  CmdResult ok = run("ledger verify" + d());
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("ledger ok"), std::string::npos) << ok.out;

  damage();  // the documents table; the ledger's own pages are intact
  CmdResult bad = run("ledger verify" + d());
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_EQ(bad.out.find("ledger ok"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("ledger NOT VERIFIED: the database is damaged (PRAGMA quick_check found"),
            std::string::npos)
      << bad.out << bad.err;
}

TEST_F(IntegrityCliTest, RestoreWithForceReplacesADamagedDatabase) {
  make_site();
  ASSERT_EQ(run("backup" + d() + " --out " + sh(dir_ / "site.bak")).exit_code, 0);
  damage();
  // Without --force: refused, as damaged (when its rows cannot even be
  // counted) or as not empty.
  CmdResult refused = run("restore" + d() + " --from " + sh(dir_ / "site.bak"));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("pass --force to replace it"), std::string::npos) << refused.err;

  CmdResult forced = run("restore" + d() + " --from " + sh(dir_ / "site.bak") + " --force");
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(run("check-db" + d()).exit_code, 0);
  ServeProcess serve({"--listen", "127.0.0.1:0"}, dir_.path() / "serve.out", dir_.path() / "serve.err",
                     {"--data", data()});
  const int port = serve.wait_port();
  ASSERT_GT(port, 0) << serve.logs();
  EXPECT_EQ(status_of(port, "/healthz"), 200);
  EXPECT_EQ(status_of(port, "/"), 200);
}

}  // namespace
}  // namespace paidoc::cli::testing
