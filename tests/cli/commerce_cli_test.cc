// The operator's money commands as an operator runs them: wallet credit,
// ledger verify (also after the database was tampered with), orders export,
// orders reconcile against a gateway statement, and serve refusing a partial
// payment configuration.
#include <gtest/gtest.h>
#include <iconv.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cli/binary.h"
#include "store/store.h"

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
  void tamper(const std::string& sql, int rows = 1) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "data/paidoc.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    EXPECT_EQ(sqlite3_changes(db), rows);
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

TEST_F(CommerceCliTest, WalletCreditLeavesAnAuditEntryByTheCommandLine) {
  add_user("reader@example.cn");
  CmdResult ok = shell("USER=opsuser " + std::string(PAIDOC_BINARY) + " wallet credit" + d() +
                           " --email reader@example.cn --amount 3 --note 'goodwill'",
                       dir_.path());
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  CmdResult refused = shell("USER=opsuser " + std::string(PAIDOC_BINARY) + " wallet credit" + d() +
                                " --email nobody@example.cn --amount 3",
                            dir_.path());
  EXPECT_NE(refused.exit_code, 0);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "data/paidoc.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT actor, actor_user_id, action, target_kind, details, ip"
                               " FROM audit_log",
                               -1, &st, nullptr),
            SQLITE_OK);
  std::vector<std::string> rows;
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < 6; ++i) {
      const unsigned char* t = sqlite3_column_text(st, i);
      row += (i ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "");
    }
    rows.push_back(row);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], R"(cli:opsuser|0|wallet.credit|wallet|{"amount_fen":300,"note":"goodwill"}|)");
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

// Issue 16, finding 3: ledger rows of 2^63-1 fen overflow the sum of an
// account, and `ledger verify` said ok. It fails, naming the account, the
// rows and why the other checks did not run.
TEST_F(CommerceCliTest, LedgerVerifyFailsOnSumOverflow) {
  add_user("a@example.cn");
  add_user("b@example.cn");
  ASSERT_EQ(run("wallet credit" + d() + " --email a@example.cn --amount 100").exit_code, 0);
  ASSERT_EQ(run("wallet credit" + d() + " --email b@example.cn --amount 100").exit_code, 0);
  // Both credits raised to 2^63-1 fen, the wallets to match: each wallet
  // agrees with its rows, but the operator account's two rows overflow.
  tamper("UPDATE ledger_entries SET amount_fen = CASE WHEN amount_fen > 0"
         " THEN 9223372036854775807 ELSE -9223372036854775807 END",
         4);
  tamper("UPDATE wallets SET balance_fen = 9223372036854775807", 2);
  CmdResult bad = run("ledger verify" + d());
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_EQ(bad.out.find("ledger ok"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("account operator: the sum of its rows overflows int64 fen"),
            std::string::npos)
      << bad.out;
  EXPECT_NE(bad.out.find("(operator in txn 1) moves -9223372036854775807 fen, beyond the largest "
                         "amount 1000000000 fen"),
            std::string::npos)
      << bad.out;
  EXPECT_NE(bad.out.find("the checks that add up balances were not run"), std::string::npos)
      << bad.out;
  EXPECT_NE(bad.out.find("ledger BROKEN: "), std::string::npos) << bad.out;
}

// Issue 16, finding 3: amounts an operator gives are bounded too: a credit,
// the largest top-up and a plan's price at most 10000000 yuan.
TEST_F(CommerceCliTest, OperatorAmountsAboveTheLargestAmountAreRefused) {
  add_user("a@example.cn");
  CmdResult credit = run("wallet credit" + d() + " --email a@example.cn --amount 10000000.01");
  EXPECT_EQ(credit.exit_code, 1);
  EXPECT_NE(credit.err.find("--amount 10000000.01: above the largest amount, 10000000 yuan"),
            std::string::npos)
      << credit.err;
  EXPECT_EQ(run("wallet credit" + d() + " --email a@example.cn --amount 10000000").exit_code, 0);
  CmdResult topup = run("serve" + d() + " --listen 127.0.0.1:0 --max-topup 10000000.01");
  EXPECT_EQ(topup.exit_code, 1);
  EXPECT_NE(topup.err.find("--max-topup 10000000.01: expected yuan from 0.01 to 10000000"),
            std::string::npos)
      << topup.err;
  CmdResult plan = run("serve" + d() + " --listen 127.0.0.1:0 --plan 'vip7:7:10000000.01:5:周卡'");
  EXPECT_EQ(plan.exit_code, 1);
  EXPECT_NE(plan.err.find("the price must be from 0.01 to 10000000 yuan"), std::string::npos)
      << plan.err;
  // Days become seconds added to vip_until: bounded as well.
  CmdResult days = run("serve" + d() + " --listen 127.0.0.1:0 --plan 'vip7:200000000000000:9.90:5:周卡'");
  EXPECT_EQ(days.exit_code, 1);
  EXPECT_NE(days.err.find("days must be a whole number from 1 to 36500"), std::string::npos)
      << days.err;
  CmdResult v = run("ledger verify" + d());
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
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

// 2026-03-01 00:00:00 Beijing time.
constexpr int64_t kMar1 = 1772294400;

std::string to_gbk(const std::string& utf8) {
  iconv_t cd = iconv_open("GB18030", "UTF-8");
  std::string out(utf8.size() * 2, '\0');
  char* in = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size();
  char* o = out.data();
  size_t out_left = out.size();
  iconv(cd, &in, &in_left, &o, &out_left);
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

std::string alipay_statement(const std::string& rows) {
  return "#支付宝业务明细查询\n#账号：[20880000000000000156]\n"
         "#起始日期：[2026年03月01日 00:00:00]   终止日期：[2026年03月02日 00:00:00]\n"
         "#-----------------------------------------业务明细列表----------------------------------------\n"
         "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
         "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,"
         "券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,"
         "分润（元）,备注\n" +
         rows +
         "#-----------------------------------------业务明细列表结束------------------------------------\n"
         "#导出时间：[2026年03月02日 09:12:01]\n";
}

std::string alipay_line(const std::string& trade, const std::string& out, const std::string& time,
                        const std::string& yuan) {
  return trade + "\t," + out + "\t,交易,钱包充值," + time + "," + time + ",,,,,b***@example.cn," + yuan + "," +
         yuan + ",0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,0.00,0.00,\n";
}

TEST_F(CommerceCliTest, OrdersReconcileListsEachDifferenceAndExitsOneOnAny) {
  add_user("reader@example.cn");
  std::string paid_both, lost_notification, missing_there;
  {
    auto st = store::Store::open("sqlite:" + (dir_ / "data/paidoc.db"));
    ASSERT_TRUE(st.ok()) << st.status().message();
    Result<store::User> user = (*st)->find_user_by_email("reader@example.cn");
    ASSERT_TRUE(user.ok());
    auto topup = [&](int64_t fen, int64_t created) {
      store::NewOrder o;
      o.user_id = user->id;
      o.kind = store::OrderKind::kTopUp;
      o.subject = "钱包充值";
      o.amount = Fen(fen);
      o.created_at = created;
      o.expires_at = created + 1800;
      o.out_trade_no_prefix = "P20260301";
      o.out_trade_no_suffix = "A1B2";
      Result<store::Order> r = (*st)->create_order(o);
      EXPECT_TRUE(r.ok()) << r.status().message();
      return r.ok() ? r->out_trade_no : std::string();
    };
    auto pay = [&](const std::string& no, int64_t fen, int64_t at) {
      Result<store::AppliedPayment> r =
          (*st)->apply_payment({"alipay", "2026030122001400" + no.substr(15, 4), no, Fen(fen), at});
      ASSERT_TRUE(r.ok()) << r.status().message();
      ASSERT_EQ(r->outcome, store::PaymentOutcome::kApplied);
    };
    paid_both = topup(990, kMar1 + 3600);
    pay(paid_both, 990, kMar1 + 3700);
    lost_notification = topup(1990, kMar1 + 7200);  // paid at Alipay, never heard of here
    missing_there = topup(500, kMar1 + 5 * 3600);
    pay(missing_there, 500, kMar1 + 5 * 3600 + 60);
  }
  std::string statement = dir_ / "alipay-20260301.csv";
  std::ofstream(statement, std::ios::binary) << to_gbk(alipay_statement(
      alipay_line("2026030122001400001", paid_both, "2026-03-01 09:01:30", "9.90") +
      alipay_line("2026030122001400002", lost_notification, "2026-03-01 10:00:40", "19.90") +
      alipay_line("2026030122001400009", "P2026030199999999991A2B", "2026-03-01 12:00:00", "1.00")));

  CmdResult r = run("orders reconcile" + d() + " --provider alipay --file " + sh(statement));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out,
            lost_notification + "  paid-there-not-here: paid ¥19.90 there (trade 2026030122001400002), here: status "
                                "created (" + statement + ":7)\n" +
                missing_there + "  paid-here-not-there: paid ¥5.00 here with alipay, not in the statement\n" +
                "P2026030199999999991A2B  unknown-order: paid ¥1.00 there (trade 2026030122001400009), no such order "
                "here (" + statement + ":8)\n" +
                "alipay statement " + statement +
                " (2026-03-01 00:00 to 2026-03-02 00:00 Beijing time): 3 payments, 0 refunds; 1 order agrees; "
                "3 differences\n");

  // A statement that agrees with every order: exit 0.
  std::string agreeing = dir_ / "agreeing.csv";
  std::ofstream(agreeing, std::ios::binary) << alipay_statement(
      alipay_line("2026030122001400001", paid_both, "2026-03-01 09:01:30", "9.90") +
      alipay_line("2026030122001400003", missing_there, "2026-03-01 13:01:00", "5.00"));
  CmdResult ok = run("orders reconcile" + d() + " --provider alipay --file " + sh(agreeing));
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("2 payments, 0 refunds; 2 orders agree; 0 differences"), std::string::npos) << ok.out;

  // A malformed one: exit 2, naming file, line and column.
  std::string bad = dir_ / "bad.csv";
  std::ofstream(bad, std::ios::binary) << alipay_statement(
      alipay_line("2026030122001400001", paid_both, "2026-03-01 09:01:30", "9,90"));
  CmdResult malformed = run("orders reconcile" + d() + " --provider alipay --file " + sh(bad));
  EXPECT_EQ(malformed.exit_code, 2) << malformed.out << malformed.err;
  EXPECT_EQ(malformed.out, "");
  EXPECT_NE(malformed.err.find(bad + ":6: "), std::string::npos) << malformed.err;

  // A WeChat statement given as Alipay's: its header lacks Alipay's columns.
  std::string wx = dir_ / "wx.csv";
  std::ofstream(wx, std::ios::binary) << "交易时间,公众账号ID,商户号,微信订单号,商户订单号,交易状态,订单金额\n";
  CmdResult wrong = run("orders reconcile" + d() + " --provider alipay --file " + sh(wx));
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find(wx + ":1: column 支付宝交易号: missing from the header row"), std::string::npos) << wrong.err;

  CmdResult nofile = run("orders reconcile" + d() + " --provider wechat --file " + sh(dir_ / "none.csv"));
  EXPECT_EQ(nofile.exit_code, 2);
  EXPECT_NE(nofile.err.find("--file " + (dir_ / "none.csv") + ": cannot read"), std::string::npos) << nofile.err;

  CmdResult provider = run("orders reconcile" + d() + " --provider paypal --file " + sh(agreeing));
  EXPECT_NE(provider.exit_code, 0);
  EXPECT_NE(provider.err.find("--provider"), std::string::npos) << provider.err;
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
