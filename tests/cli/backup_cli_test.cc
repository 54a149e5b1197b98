// `paidoc backup` and `paidoc restore` as an operator runs them: a backup
// taken while purchases keep committing from another process, refusals
// that leave files alone, a restore into a fresh data folder that answers
// like the original site, and PostgreSQL sites sent to pg_dump.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/binary.h"
#include "store/store.h"

namespace paidoc::cli::testing {
namespace {

constexpr int64_t kNow = 1'767'225'600;  // 2026-01-01
constexpr char kPassword[] = "correct horse battery";

class BackupCliTest : public ::testing::Test {
 protected:
  CmdResult run(const std::string& args) { return paidoc(args, dir_.path()); }
  std::string data(const std::string& name = "data") const { return dir_ / name; }
  std::string d(const std::string& name = "data") const { return " --data " + sh(data(name)); }
  std::string db(const std::string& name = "data") const { return data(name) + "/paidoc.db"; }

  void add_user(const std::string& email) {
    CmdResult r = shell("echo '" + std::string(kPassword) + "' | " + std::string(PAIDOC_BINARY) +
                            " user add" + d() + " --email " + sh(email),
                        dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // A site with one imported document, one reader who topped up ¥20 and
  // bought it from the wallet.
  void make_site() {
    {
      std::ofstream src(dir_ / "notes.txt");
      src << "学习心得\n一、总体情况\n本单位认真组织学习。\n##paidbegin##\n二、存在问题\n"
             "学习深度还不够，联系实际不紧。\n##paidend##\n";
    }
    CmdResult imp = run("import" + d() + " --price 2 " + sh(dir_ / "notes.txt"));
    ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;
    add_user("reader@example.cn");
    ASSERT_EQ(run("wallet credit" + d() + " --email reader@example.cn --amount 20").exit_code, 0);
    auto st = store::Store::open("sqlite:" + db());
    ASSERT_TRUE(st.ok()) << st.status().to_string();
    auto u = (*st)->find_user_by_email("reader@example.cn");
    ASSERT_TRUE(u.ok());
    ASSERT_NE(buy(**st, u->id, 1), 0);
  }

  // A wallet purchase of `document` through the store; the order id, 0 on
  // a failure.
  static int64_t buy(store::Store& s, int64_t user, int64_t document) {
    store::NewOrder o;
    o.user_id = user;
    o.kind = store::OrderKind::kDocument;
    o.document_id = document;
    o.subject = "学习心得";
    o.amount = Fen(200);
    o.created_at = kNow;
    o.expires_at = kNow + 1800;
    o.out_trade_no_prefix = "W";
    auto r = s.buy_from_wallet(o, kNow);
    return r.ok() ? r->id : 0;
  }

  TempDir dir_{"paidoc-backup-cli-"};
};

TEST_F(BackupCliTest, BackupWhileAnotherProcessSellsIsConsistentAndHoldsEveryEarlierPurchase) {
  make_site();
  auto st = store::Store::open("sqlite:" + db());
  ASSERT_TRUE(st.ok());
  store::Store& site = **st;

  // This process keeps topping up wallets and buying while the paidoc
  // process copies the database.
  std::mutex mu;
  std::vector<int64_t> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      auto u = site.create_user({"w" + std::to_string(i) + "@example.cn", "$argon2id$v=19$h",
                                 store::Role::kReader},
                                kNow);
      if (!u.ok() || !site.credit_wallet(u->id, Fen(1000), "top-up", "cli:test", kNow).ok()) {
        ++failures;
        continue;
      }
      int64_t id = buy(site, u->id, 1);
      if (id == 0) {
        ++failures;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu);
      acknowledged.push_back(id);
    }
  });
  auto acked = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return acknowledged;
  };
  while (acked().size() < 5) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const std::vector<int64_t> before = acked();
  CmdResult b = run("backup" + d() + " --out " + sh(dir_ / "site.bak"));
  stop = true;
  writer.join();
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_NE(b.out.find("backup written to " + (dir_ / "site.bak")), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("1 documents"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("integrity ok, ledger ok\n"), std::string::npos) << b.out;

  // The copy verifies on its own and holds every purchase acknowledged
  // before the command started.
  CmdResult v = run("--db " + sh("sqlite:" + (dir_ / "site.bak")) + " ledger verify");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  auto copy = store::Store::open("sqlite:" + (dir_ / "site.bak"));
  ASSERT_TRUE(copy.ok());
  for (int64_t id : before) {
    auto o = (*copy)->get_order(id);
    ASSERT_TRUE(o.ok()) << "order " << id << " is missing from the backup";
    EXPECT_EQ(o->status, store::OrderStatus::kPaid);
  }
}

TEST_F(BackupCliTest, BackupRefusesToOverwriteAFileWithoutForce) {
  make_site();
  { std::ofstream(dir_ / "site.bak") << "keep me"; }
  CmdResult b = run("backup" + d() + " --out " + sh(dir_ / "site.bak"));
  EXPECT_EQ(b.exit_code, 1);
  EXPECT_NE(b.err.find("already exists; pass --force to replace it"), std::string::npos) << b.err;
  EXPECT_EQ(slurp(dir_.path() / "site.bak"), "keep me");

  CmdResult f = run("backup" + d() + " --out " + sh(dir_ / "site.bak") + " --force");
  EXPECT_EQ(f.exit_code, 0) << f.err;
  EXPECT_NE(slurp(dir_.path() / "site.bak"), "keep me");
}

TEST_F(BackupCliTest, RestoreIntoAFreshFolderAnswersLikeTheOriginalSite) {
  make_site();
  CmdResult b = run("backup" + d() + " --out " + sh(dir_ / "site.bak"));
  ASSERT_EQ(b.exit_code, 0) << b.err;
  CmdResult r = run("restore" + d("restored") + " --from " + sh(dir_ / "site.bak"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1 documents, 1 users, 1 orders"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("integrity ok, ledger ok\n"), std::string::npos) << r.out;

  // The money and the orders, as the operator commands see them.
  CmdResult la = run("ledger verify" + d());
  CmdResult lb = run("ledger verify" + d("restored"));
  EXPECT_EQ(lb.exit_code, 0);
  EXPECT_EQ(la.out, lb.out);
  const std::string range = " orders export --from 2000-01-01 --to 2100-01-01";
  CmdResult oa = run(range + d());
  CmdResult ob = run(range + d("restored"));
  ASSERT_EQ(ob.exit_code, 0) << ob.err;
  EXPECT_EQ(oa.out, ob.out);
  EXPECT_NE(ob.out.find(",paid,wallet,"), std::string::npos) << ob.out;

  // The site: the same document, and the reader signs in with the same
  // password and sees the same balance.
  auto answers = [&](const std::string& folder) {
    ServeProcess serve({"--listen", "127.0.0.1:0"}, dir_.path() / (folder + ".out"),
                       dir_.path() / (folder + ".err"), {"--data", data(folder)});
    int port = serve.wait_port();
    EXPECT_GT(port, 0) << serve.logs();
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    std::string doc = shell("curl -s " + base + "/api/v1/documents/1", dir_.path()).out;
    std::string login = shell("curl -s -X POST -H 'Content-Type: application/json' -d " +
                                  sh(std::string("{\"email\":\"reader@example.cn\",\"password\":\"") +
                                     kPassword + "\"}") +
                                  " " + base + "/api/v1/auth/login",
                              dir_.path())
                            .out;
    std::string token;
    size_t at = login.find("\"token\":\"");
    if (at != std::string::npos) token = login.substr(at + 9, login.find('"', at + 9) - at - 9);
    std::string me = shell("curl -s -H " + sh("Authorization: Bearer " + token) + " " + base + "/api/v1/me",
                           dir_.path())
                         .out;
    // The new session differs from site to site: leave it out.
    size_t session = me.find("\"session\":{");
    if (session != std::string::npos) me.erase(session, me.find('}', session) + 1 - session);
    return std::make_pair(doc, me);
  };
  auto original = answers("data");
  auto restored = answers("restored");
  EXPECT_NE(original.first.find("学习心得"), std::string::npos) << original.first;
  EXPECT_EQ(original.first, restored.first);
  EXPECT_NE(restored.second.find("\"balance_fen\":1800"), std::string::npos) << restored.second;
  EXPECT_EQ(original.second, restored.second);
}

TEST_F(BackupCliTest, RestoreRefusesACorruptFileAndLeavesTheDatabaseUntouched) {
  make_site();
  const std::string before = slurp(db());
  {
    std::ofstream out(dir_ / "garbage.bak", std::ios::binary);
    std::mt19937 rng(7);
    for (int i = 0; i < 32 * 1024; ++i) out.put(static_cast<char>(rng() & 0xff));
  }
  CmdResult r = run("restore" + d() + " --from " + sh(dir_ / "garbage.bak") + " --force");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not a usable backup"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("file is not a database"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(db()), before);
  CmdResult v = run("ledger verify" + d());
  EXPECT_EQ(v.exit_code, 0) << v.out;
}

TEST_F(BackupCliTest, RestoreRefusesANonEmptySiteWithoutForceAndOneThatIsServing) {
  make_site();
  ASSERT_EQ(run("backup" + d() + " --out " + sh(dir_ / "site.bak")).exit_code, 0);

  CmdResult r = run("restore" + d() + " --from " + sh(dir_ / "site.bak"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not empty (1 documents, 1 users, 1 orders); pass --force to replace it"),
            std::string::npos)
      << r.err;

  {
    ServeProcess serve({"--listen", "127.0.0.1:0"}, dir_.path() / "serve.out",
                       dir_.path() / "serve.err", {"--data", data()});
    ASSERT_GT(serve.wait_port(), 0) << serve.logs();
    CmdResult busy = run("restore" + d() + " --from " + sh(dir_ / "site.bak") + " --force");
    EXPECT_EQ(busy.exit_code, 1);
    EXPECT_NE(busy.err.find("is in use by another process"), std::string::npos) << busy.err;
  }
  CmdResult forced = run("restore" + d() + " --from " + sh(dir_ / "site.bak") + " --force");
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(forced.out.find("integrity ok, ledger ok"), std::string::npos) << forced.out;
}

TEST_F(BackupCliTest, PostgresqlSitesAreSentToPgDump) {
  const std::string url = " --db " + sh("postgresql://paidoc:s3cret@db.internal:5432/paidoc");
  CmdResult b = run(url + " backup --out " + sh(dir_ / "pg.bak"));
  EXPECT_EQ(b.exit_code, 1);
  EXPECT_EQ(b.err,
            "paidoc: backup/restore are for SQLite sites; for PostgreSQL use pg_dump, see "
            "docs/deploy.md\n");
  CmdResult r = run(url + " restore --from " + sh(dir_ / "pg.bak"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, b.err);
  EXPECT_FALSE(fs::exists(dir_.path() / "pg.bak"));
}

}  // namespace
}  // namespace paidoc::cli::testing
