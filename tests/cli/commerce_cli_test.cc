// The operator's money commands as an operator runs them: wallet credit,
// ledger verify (also after the database was tampered with), orders export,
// and serve refusing a partial payment configuration.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cli/binary.h"

namespace paidoc::cli::testing {
namespace {

class CommerceCliTest : public ::testing::Test {
 protected:
  CmdResult run(const std::string& args) { return paidoc(args, dir_.path()); }
  std::string data() const { return dir_ / "data"; }
  std::string d() const { return " --data " + sh(data()); }

  void add_user(const std::string& email) {
    CmdResult r = shell("echo 'correct horse battery' | " + std::string(PAIDOC_BINARY) + " user add" + d() +
                            " --email " + sh(email),
                        dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Runs SQL on the data folder's database directly, as someone with
  // access to the file could.
  void tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "data/paidoc.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    EXPECT_EQ(sqlite3_changes(db), 1);
    sqlite3_close(db);
  }

  TempDir dir_{"paidoc-commerce-cli-"};
};

TEST_F(CommerceCliTest, WalletCreditAddsToTheBalanceAndSaysSo) {
  add_user("Reader@Example.CN");
  CmdResult a = run("wallet credit" + d() + " --email ' reader@example.cn ' --amount 12.5 --note 'refund for #12'");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, "credited ¥12.50 to reader@example.cn (balance ¥12.50)\n");

  CmdResult b = run("wallet credit" + d() + " --email READER@example.cn --amount 0.05");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(b.out, "credited ¥0.05 to reader@example.cn (balance ¥12.55)\n");
}

TEST_F(CommerceCliTest, WalletCreditRefusesUnknownEmailAndBadAmounts) {
  add_user("reader@example.cn");
  CmdResult unknown = run("wallet credit" + d() + " --email nobody@example.cn --amount 10");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.out, "");
  EXPECT_NE(unknown.err.find("no account with email nobody@example.cn"), std::string::npos) << unknown.err;

  CmdResult decimals = run("wallet credit" + d() + " --email reader@example.cn --amount 1.234");
  EXPECT_EQ(decimals.exit_code, 1);
  EXPECT_NE(decimals.err.find("--amount: amount '1.234' has more than two decimals"), std::string::npos)
      << decimals.err;

  for (const char* bad : {"abc", "-5", "0", "0.00"}) {
    CmdResult r = run("wallet credit" + d() + " --email reader@example.cn --amount " + sh(bad));
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_NE(r.err.find("--amount"), std::string::npos) << bad << ": " << r.err;
  }
  CmdResult missing = run("wallet credit" + d() + " --email reader@example.cn");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("--amount"), std::string::npos) << missing.err;

  // Nothing of the refused credits reached the ledger.
  CmdResult v = run("ledger verify" + d());
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(v.out, "ledger ok: 0 entries, 0 accounts\n");
}

TEST_F(CommerceCliTest, LedgerVerifyPassesThenCatchesATamperedBalance) {
  CmdResult fresh = run("ledger verify" + d());
  EXPECT_EQ(fresh.exit_code, 0) << fresh.out << fresh.err;
  EXPECT_EQ(fresh.out.rfind("ledger ok: ", 0), 0u) << fresh.out;

  add_user("a@example.cn");
  add_user("b@example.cn");
  ASSERT_EQ(run("wallet credit" + d() + " --email a@example.cn --amount 100").exit_code, 0);
  ASSERT_EQ(run("wallet credit" + d() + " --email b@example.cn --amount 30").exit_code, 0);
  CmdResult ok = run("ledger verify" + d());
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(ok.out.rfind("ledger ok: ", 0), 0u) << ok.out;

  // One fen appears in a wallet without a ledger entry.
  tamper("UPDATE wallets SET balance_fen = balance_fen + 1 WHERE user_id = "
         "(SELECT id FROM users WHERE email = 'b@example.cn')");
  CmdResult bad = run("ledger verify" + d());
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_EQ(bad.out.find("ledger ok"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("ledger BROKEN: "), std::string::npos) << bad.out;
}

TEST_F(CommerceCliTest, LedgerVerifyCatchesAnEditedLedgerEntry) {
  add_user("a@example.cn");
  ASSERT_EQ(run("wallet credit" + d() + " --email a@example.cn --amount 100").exit_code, 0);
  // One row of the pair is raised by 1 yuan: the double entry no longer sums to zero.
  tamper("UPDATE ledger_entries SET amount_fen = amount_fen + 100 WHERE id = "
         "(SELECT MIN(id) FROM ledger_entries)");
  CmdResult bad = run("ledger verify" + d());
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
}

TEST_F(CommerceCliTest, OrdersExportWritesCsvToStdoutOrAFile) {
  CmdResult r = run("orders export" + d() + " --from 2026-01-01 --to 2026-02-01");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  std::string header = r.out.substr(0, r.out.find('\n'));
  EXPECT_NE(header.find("out_trade_no"), std::string::npos) << header;
  EXPECT_NE(header.find("amount_fen"), std::string::npos) << header;
  EXPECT_NE(header.find("status"), std::string::npos) << header;

  std::string file = dir_ / "orders.csv";
  CmdResult f = run("orders export" + d() + " --from 2026-01-01 --to 2026-02-01 --out " + sh(file));
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(f.out, "");
  EXPECT_EQ(slurp(file), r.out);
  EXPECT_NE(f.err.find("wrote 0 orders to " + file), std::string::npos) << f.err;
}

TEST_F(CommerceCliTest, OrdersExportRefusesBadDates) {
  struct Case {
    const char* args;
    const char* says;
  } cases[] = {
      {"--from 2026-1-1 --to 2026-02-01", "--from: '2026-1-1' is not a date"},
      {"--from 2026-02-30 --to 2026-03-01", "--from: '2026-02-30' is not a date"},
      {"--from 2026-01-01 --to 2026-13-01", "--to: '2026-13-01' is not a date"},
      {"--from 2026-02-01 --to 2026-02-01", "--to 2026-02-01 must be after --from 2026-02-01"},
  };
  for (const auto& c : cases) {
    CmdResult r = run("orders export" + d() + " " + c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.args << ": " << r.err;
  }
  // A leap day is a date.
  EXPECT_EQ(run("orders export" + d() + " --from 2028-02-29 --to 2028-03-01").exit_code, 0);
}

TEST_F(CommerceCliTest, ServeRefusesPartialPaymentConfigNamingTheFlag) {
  const std::string serve = "serve" + d() + " --listen 127.0.0.1:0 ";
  CmdResult alipay = run(serve + "--alipay-app-id 2021000000000000");
  EXPECT_EQ(alipay.exit_code, 1);
  EXPECT_NE(alipay.err.find("Alipay is partly configured: missing --alipay-private-key-file, "
                            "--alipay-public-key-file"),
            std::string::npos)
      << alipay.err;

  CmdResult wechat = run(serve + "--wechat-mchid 1900000000 --wechat-appid wx1");
  EXPECT_EQ(wechat.exit_code, 1);
  EXPECT_NE(wechat.err.find("WeChat Pay is partly configured: missing --wechat-serial-no"), std::string::npos)
      << wechat.err;

  // All Alipay flags, but a key file that is not there: named, exit 1.
  std::string missing = dir_ / "no-such-key.pem";
  std::string pub = dir_ / "alipay-public.pem";
  std::ofstream(pub) << "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n";
  CmdResult nofile = run(serve + "--alipay-app-id 2021000000000000 --alipay-private-key-file " + sh(missing) +
                         " --alipay-public-key-file " + sh(pub));
  EXPECT_EQ(nofile.exit_code, 1);
  EXPECT_NE(nofile.err.find("--alipay-private-key-file " + missing + ": cannot read"), std::string::npos)
      << nofile.err;

  // The same from a config file: the key names are the flags.
  std::string cfg = dir_ / "paidoc.toml";
  std::ofstream(cfg) << "[serve]\nlisten = \"127.0.0.1:0\"\nalipay-public-key-file = \"" << pub << "\"\n";
  CmdResult from_file = run("--config " + sh(cfg) + d() + " serve");
  EXPECT_EQ(from_file.exit_code, 1);
  EXPECT_NE(from_file.err.find("missing --alipay-app-id, --alipay-private-key-file"), std::string::npos)
      << from_file.err;
  // Nothing was served, nothing was created.
  EXPECT_EQ(from_file.out, "");
}

TEST_F(CommerceCliTest, ServeRefusesAShortWechatApiv3Key) {
  std::string pem = dir_ / "key.pem";
  std::ofstream(pem) << "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
  std::string apiv3 = dir_ / "apiv3";
  std::ofstream(apiv3) << "tooshort\n";
  CmdResult r = run("serve" + d() +
                    " --listen 127.0.0.1:0 --wechat-mchid 1900000000 --wechat-appid wx1 --wechat-serial-no S1"
                    " --wechat-private-key-file " + sh(pem) + " --wechat-platform-key-file " + sh(pem) +
                    " --wechat-platform-serial P1 --wechat-apiv3-key-file " + sh(apiv3));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--wechat-apiv3-key-file " + apiv3 + ": the APIv3 key must be 32 bytes, found 8"),
            std::string::npos)
      << r.err;
}

TEST_F(CommerceCliTest, ServeLogsTheEnabledProviders) {
  ServeProcess server({"--data", data(), "--listen", "127.0.0.1:0", "--payment-sandbox", "--access-log",
                       "false", "--plan", "vip7:7:9.90:5:周卡"},
                      dir_ / "serve.out", dir_ / "serve.err");
  ASSERT_GT(server.wait_port(), 0) << server.logs();
  ::kill(server.pid(), SIGTERM);
  EXPECT_EQ(server.wait_exit(10000), 0) << server.logs();
  std::string logs = server.logs();
  EXPECT_NE(logs.find("payments: wallet, sandbox"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("alipay"), std::string::npos) << logs;
}

// RSA key pairs made with the openssl command; empty when it is missing.
bool make_rsa_pair(const fs::path& dir, const std::string& name) {
  std::string priv = (dir / (name + "-private.pem")).string();
  std::string pub = (dir / (name + "-public.pem")).string();
  return std::system(("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + sh(priv) +
                      " 2>/dev/null && openssl pkey -in " + sh(priv) + " -pubout -out " + sh(pub) + " 2>/dev/null")
                         .c_str()) == 0;
}

TEST_F(CommerceCliTest, ServeEnablesFullyConfiguredProvidersAndChecksTheirKeys) {
  if (!make_rsa_pair(dir_.path(), "app") || !make_rsa_pair(dir_.path(), "gateway"))
    GTEST_SKIP() << "no openssl command to make test keys";
  std::string apiv3 = dir_ / "apiv3";
  std::ofstream(apiv3) << "0123456789abcdef0123456789ABCDEF\n";
  std::vector<std::string> args = {
      "--data", data(), "--listen", "127.0.0.1:0", "--access-log", "false",
      "--alipay-app-id", "2021000000000001",
      "--alipay-private-key-file", dir_ / "app-private.pem",
      "--alipay-public-key-file", dir_ / "gateway-public.pem",
      "--wechat-mchid", "1900000001", "--wechat-appid", "wx0000000000000001",
      "--wechat-serial-no", "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
      "--wechat-private-key-file", dir_ / "app-private.pem",
      "--wechat-platform-key-file", dir_ / "gateway-public.pem",
      "--wechat-platform-serial", "PUB_KEY_ID_0001", "--wechat-apiv3-key-file", apiv3};
  {
    ServeProcess server(args, dir_ / "serve.out", dir_ / "serve.err");
    ASSERT_GT(server.wait_port(), 0) << server.logs();
    ::kill(server.pid(), SIGTERM);
    EXPECT_EQ(server.wait_exit(10000), 0) << server.logs();
    std::string logs = server.logs();
    EXPECT_NE(logs.find("payments: wallet, alipay (app 2021000000000001), wechat (mchid 1900000001, appid "
                        "wx0000000000000001)"),
              std::string::npos)
        << logs;
    EXPECT_EQ(logs.find("sandbox"), std::string::npos) << logs;
  }
  // A PEM file whose key does not load: refused at start, naming the flag.
  std::string broken = dir_ / "broken.pem";
  std::ofstream(broken) << "-----BEGIN PRIVATE KEY-----\nMIIEbroken\n-----END PRIVATE KEY-----\n";
  CmdResult r = run("serve" + d() + " --listen 127.0.0.1:0 --alipay-app-id 2021000000000001" +
                    " --alipay-private-key-file " + sh(broken) + " --alipay-public-key-file " +
                    sh(dir_ / "gateway-public.pem"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--alipay-private-key-file " + broken + ": the key does not load"), std::string::npos)
      << r.err;
}

TEST_F(CommerceCliTest, ServeStartsWithTheExampleConfig) {
  // Found from any working directory (the test binary may run from anywhere).
  const fs::path example = fs::path(PAIDOC_SOURCE_DIR) / "paidoc.example.toml";
  ASSERT_TRUE(fs::exists(example)) << example;
  ServeProcess server({"--listen", "127.0.0.1:0"}, dir_ / "serve.out", dir_ / "serve.err", 
                      {"--config", example.string(), "--data", data()});
  ASSERT_GT(server.wait_port(), 0) << server.logs();
  ::kill(server.pid(), SIGTERM);
  EXPECT_EQ(server.wait_exit(10000), 0) << server.logs();
  EXPECT_NE(server.logs().find("payments: wallet\n"), std::string::npos) << server.logs();
}

TEST_F(CommerceCliTest, ServeRefusesABadPlan) {
  CmdResult r = run("serve" + d() + " --listen 127.0.0.1:0 --plan 'vip7:seven:9.90:5:周卡'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--plan 'vip7:seven:9.90:5:周卡'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace paidoc::cli::testing
