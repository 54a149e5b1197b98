// Two `paidoc serve` nodes on one PostgreSQL database, driven at the same
// moment through their HTTP API as a load balancer would spread readers:
//   - wallet purchases: three readers each try to buy eight documents on both
//     nodes at once (sixteen requests each) with a balance for three;
//   - duplicate Alipay and WeChat Pay notifications, each delivered twice to
//     each node at once;
//   - failed logins for one account on both nodes;
//   - anonymous searches and downloads of one file past their limits, on
//     both nodes.
// Then `paidoc ledger verify` passes and the figures are checked exactly:
// balances = credits - purchases, no document bought twice, each
// notification applied once (one order paid, one ledger transaction), the
// login lock after exactly the configured failures in total, and the
// search and download limits exact over both nodes.
//
// Skipped without PAIDOC_TEST_PG (make test runs ctest beside a throw-away
// PostgreSQL: scripts/with-postgres.sh).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/binary.h"
#include "commerce/alipay_standin.h"
#include "commerce/wechat_standin.h"
#include "common/clock.h"
#include "common/http_standin.h"
#include "store/store.h"
#include "support/test_database.h"

namespace paidoc::cluster {
namespace {

namespace gw = commerce::fake_gateway;
using cli::testing::CmdResult;
using cli::testing::ServeProcess;
using cli::testing::sh;
using cli::testing::TempDir;
using json = nlohmann::json;
using paidoc::testing::http_request;
using paidoc::testing::StandinPostAnswer;

constexpr const char* kPassword = "correct horse battery";
constexpr const char* kAlipayAppId = "2021000000000001";
constexpr const char* kWxAppId = "wx8888888888888888";
constexpr const char* kWxMchId = "1900000001";
constexpr const char* kWxMerchantSerial = "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C";
constexpr const char* kWxPlatformSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";

constexpr int kDocuments = 10;       // 1..8 for wallet purchases, 9 Alipay, 10 WeChat
constexpr int kWalletDocuments = 8;
constexpr int64_t kPriceFen = 300;   // ¥3 each
constexpr int64_t kCreditFen = 1000; // ¥10: three documents, ¥1 left
constexpr int kBuyers = 3;
constexpr int kLoginFreeFailures = 5;  // auth::Options::account_free_failures
constexpr int kSearchesPerMinute = 5;
constexpr int kDownloadsPerDay = 2;

// Runs every function at once, each on its own thread, and waits for all.
void all_at_once(const std::vector<std::function<void()>>& work) {
  std::atomic<bool> go{false};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (const auto& f : work) {
    threads.emplace_back([&, f] {
      ++ready;
      while (!go) std::this_thread::yield();
      f();
    });
  }
  while (ready < static_cast<int>(work.size())) std::this_thread::yield();
  go = true;
  for (auto& t : threads) t.join();
}

std::string write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

class TwoNodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing_support::make_test_database("postgresql");
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    url_ = db_->url();
    // Side by side: the gateways' keys take a while, and so does each
    // account's password hash.
    auto gateways = std::async(std::launch::async, [this] { start_gateways(); });
    import_documents();
    std::vector<std::function<void()>> accounts;
    for (int i = 0; i < kBuyers; ++i) accounts.push_back([this, i] { add_user(buyer(i)); });
    accounts.push_back([this] { add_user("payer@example.cn"); });
    accounts.push_back([this] { add_user("target@example.cn"); });
    all_at_once(accounts);
    gateways.get();
    ASSERT_FALSE(HasFatalFailure());
    // The expiry sweep's lock, held here while the nodes start: each node's
    // first sweep (at start) must find it taken and skip.
    st_ = open_store();
    ASSERT_NE(st_, nullptr);
    auto hold = st_->try_exclusive("expiry-sweep");
    ASSERT_TRUE(hold.ok()) << hold.status().message();
    ASSERT_NE(*hold, nullptr);
    sweep_hold_ = std::move(*hold);
    start_nodes();
  }

  void TearDown() override {
    for (auto& n : nodes_) {
      if (!n || !HasFailure()) continue;
      std::cerr << "--- node log ---\n" << n->logs() << "\n";
      if (n->exited()) {
        for (int sig : {SIGABRT, SIGSEGV, SIGPIPE, SIGTERM, SIGKILL, SIGBUS})
          if (n->killed_by(sig)) std::cerr << "(the node was killed by signal " << sig << ")\n";
      }
    }
  }

  static std::string buyer(int i) { return "buyer" + std::to_string(i) + "@example.cn"; }

  // A folder of its own for each command's stderr (commands run side by side).
  std::filesystem::path scratch() {
    std::filesystem::path p = dir_.path() / ("cmd" + std::to_string(commands_++));
    std::filesystem::create_directories(p);
    return p;
  }

  CmdResult run(const std::string& args) {
    return cli::testing::paidoc("--db " + sh(url_) + " " + args, scratch());
  }

  void add_user(const std::string& email) {
    CmdResult r = cli::testing::shell(std::string("echo ") + sh(kPassword) + " | " + PAIDOC_BINARY +
                                          " --db " + sh(url_) + " user add --email " + sh(email),
                                      scratch());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  void import_documents() {
    std::filesystem::create_directories(dir_.path() / "docs");
    std::string paths;
    for (int i = 1; i <= kDocuments; ++i) {
      std::string text = "第" + std::to_string(i) +
                         "号集群测试材料\n"
                         "本材料用于检验两个节点共用一个数据库时的计费。\n"
                         "一、基本情况\n"
                         "公开部分介绍背景。\n"
                         "##paidbegin##二、具体做法\n"
                         "付费部分写明第" +
                         std::to_string(i) + "号材料的具体做法和要求。\n##paidend##\n";
      paths += " " + sh(write_file(dir_.path() / "docs" / ("doc" + std::to_string(i) + ".txt"), text));
    }
    CmdResult r = run("import --price 3" + paths);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    // "imported ID TITLE" per document, in the order given.
    std::istringstream lines(r.out);
    std::string word;
    int64_t id = 0;
    while (lines >> word) {
      if (word == "imported" && lines >> id) doc_ids_.push_back(id);
    }
    ASSERT_EQ(static_cast<int>(doc_ids_.size()), kDocuments) << r.out;
  }

  void start_gateways() {
    auto make = [] { return std::async(std::launch::async, gw::generate_rsa_2048); };
    auto app_f = make(), alipay_f = make(), merchant_f = make(), platform_f = make();
    gw::KeyPair app = app_f.get(), alipay = alipay_f.get(), merchant = merchant_f.get(),
                platform = platform_f.get();
    const std::string apiv3 = "0123456789abcdefghijklmnopqrstuv";
    alipay_ = std::make_unique<gw::AlipayStandin>(kAlipayAppId, app.public_pem, alipay.private_pem);
    gw::WechatStandin::Options o;
    o.appid = kWxAppId;
    o.mchid = kWxMchId;
    o.merchant_serial = kWxMerchantSerial;
    o.merchant_public_pem = merchant.public_pem;
    o.platform_serial = kWxPlatformSerial;
    o.platform_private_pem = platform.private_pem;
    o.apiv3_key = apiv3;
    wechat_ = std::make_unique<gw::WechatStandin>(o, Clock::system());
    const auto& d = dir_.path();
    gateway_args_ = {
        "--alipay-app-id", kAlipayAppId,
        "--alipay-private-key-file", write_file(d / "alipay-app.pem", app.private_pem),
        "--alipay-public-key-file", write_file(d / "alipay-public.pem", alipay.public_pem),
        "--alipay-gateway", alipay_->gateway_url(),
        "--wechat-mchid", kWxMchId,
        "--wechat-appid", kWxAppId,
        "--wechat-serial-no", kWxMerchantSerial,
        "--wechat-private-key-file", write_file(d / "wechat-merchant.pem", merchant.private_pem),
        "--wechat-platform-key-file", write_file(d / "wechat-platform.pem", platform.public_pem),
        "--wechat-platform-serial", kWxPlatformSerial,
        "--wechat-apiv3-key-file", write_file(d / "wechat-apiv3.key", apiv3 + "\n"),
        "--wechat-api-base", wechat_->url()};
  }

  void start_nodes() {
    for (int i = 0; i < 2; ++i) {
      std::vector<std::string> args = {"--listen", "127.0.0.1:0",
                                       "--search-per-minute", std::to_string(kSearchesPerMinute),
                                       "--download-per-document-daily",
                                       std::to_string(kDownloadsPerDay)};
      args.insert(args.end(), gateway_args_.begin(), gateway_args_.end());
      const std::string n = std::to_string(i);
      nodes_[i] = std::make_unique<ServeProcess>(args, dir_.path() / ("node" + n + ".out"),
                                                 dir_.path() / ("node" + n + ".err"),
                                                 std::vector<std::string>{"--db", url_});
    }
    for (int i = 0; i < 2; ++i) {
      const int port = nodes_[i]->wait_port(30000);
      ASSERT_GT(port, 0) << nodes_[i]->logs();
      base_[i] = "http://127.0.0.1:" + std::to_string(port);
    }
  }

  // One request to node `node` (0 or 1).
  StandinPostAnswer call(int node, const std::string& method, const std::string& path,
                         const std::string& token = "", const std::string& body = "") {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return http_request(method, base_[node] + path, headers, body, 30000);
  }

  std::string login(int node, const std::string& email) {
    StandinPostAnswer r = call(node, "POST", "/api/v1/auth/login", "",
                               json{{"email", email}, {"password", kPassword}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return "";
    return json::parse(r.body).value("token", "");
  }

  std::unique_ptr<store::Store> open_store() {
    auto s = store::Store::open(url_);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  TempDir dir_{"paidoc-two-nodes-"};
  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<store::Store> st_;  // the database, as the test reads it
  std::unique_ptr<store::ExclusiveHold> sweep_hold_;
  std::string url_;
  std::unique_ptr<gw::AlipayStandin> alipay_;
  std::unique_ptr<gw::WechatStandin> wechat_;
  std::vector<std::string> gateway_args_;
  std::vector<int64_t> doc_ids_;
  std::atomic<int> commands_{0};
  std::unique_ptr<ServeProcess> nodes_[2];
  std::string base_[2];
};

TEST_F(TwoNodesTest, PurchasesNotificationsAndLoginsSpreadOverTwoNodesAddUpExactly) {
  store::Store* st = st_.get();

  // --- the expiry sweep: one node at a time. While the test holds the lock,
  // both nodes skip their first sweep and say so.
  for (auto& n : nodes_) {
    bool skipped = false;
    for (int waited = 0; waited < 15000 && !skipped; waited += 50) {
      skipped = n->logs().find("payment sweep: skipped, another node is sweeping") !=
                std::string::npos;
      if (!skipped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(skipped) << n->logs();
  }
  sweep_hold_.reset();
  auto after = st->try_exclusive("expiry-sweep");
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, nullptr) << "no node kept the lock after its skipped round";
  after->reset();

  // --- wallets: credited with the CLI; a session works on either node.
  std::vector<int64_t> buyer_ids;
  std::vector<std::string> tokens(kBuyers);
  std::vector<std::function<void()>> setup;
  for (int i = 0; i < kBuyers; ++i) {
    setup.push_back([&, i] {
      CmdResult c = run("wallet credit --email " + buyer(i) + " --amount 10");
      EXPECT_EQ(c.exit_code, 0) << c.err;
      tokens[i] = login(i % 2, buyer(i));
    });
  }
  all_at_once(setup);
  for (int i = 0; i < kBuyers; ++i) {
    ASSERT_FALSE(tokens[i].empty());
    StandinPostAnswer me = call(1 - i % 2, "GET", "/api/v1/me", tokens[i]);
    ASSERT_EQ(me.status, 200) << "a session made on one node is valid on the other: " << me.body;
    EXPECT_EQ(json::parse(me.body)["balance_fen"], kCreditFen);
    auto u = st->find_user_by_email(buyer(i));
    ASSERT_TRUE(u.ok());
    buyer_ids.push_back(u->id);
  }
  auto audit0 = st->ledger_audit();
  ASSERT_TRUE(audit0.ok()) << audit0.status().message();
  ASSERT_TRUE(audit0->problems.empty());

  // --- wallet purchases: every buyer asks for documents 1..8 on BOTH nodes
  // at once: 48 requests, room for 3 purchases per buyer.
  std::mutex mu;
  std::map<int, std::vector<int64_t>> bought;  // buyer -> documents (201 answers)
  std::map<int, int> answers;                  // HTTP status -> count
  std::vector<std::function<void()>> work;
  for (int b = 0; b < kBuyers; ++b) {
    for (int d = 0; d < kWalletDocuments; ++d) {
      for (int node = 0; node < 2; ++node) {
        work.push_back([&, b, d, node] {
          StandinPostAnswer r = call(node, "POST", "/api/v1/orders", tokens[b],
                                     json{{"document_id", doc_ids_[d]}, {"pay", "wallet"}}.dump());
          std::lock_guard<std::mutex> lock(mu);
          ++answers[r.status];
          if (r.status == 201) {
            json o = json::parse(r.body);
            EXPECT_EQ(o["status"], "paid") << r.body;
            EXPECT_EQ(o["amount_fen"], kPriceFen);
            bought[b].push_back(doc_ids_[d]);
          }
        });
      }
    }
  }
  all_at_once(work);
  int purchases = 0;
  for (const auto& [status, n] : answers) {
    EXPECT_TRUE(status == 201 || status == 402 || status == 409)
        << n << " purchase(s) answered " << status;
  }
  for (int b = 0; b < kBuyers; ++b) {
    const auto& docs = bought[b];
    std::set<int64_t> distinct(docs.begin(), docs.end());
    EXPECT_EQ(docs.size(), 3u) << buyer(b) << " could afford exactly three documents";
    EXPECT_EQ(distinct.size(), docs.size()) << buyer(b) << " paid twice for one document";
    purchases += static_cast<int>(docs.size());
    auto balance = st->wallet_balance(buyer_ids[b]);
    ASSERT_TRUE(balance.ok());
    EXPECT_EQ(balance->value(), kCreditFen - kPriceFen * static_cast<int64_t>(docs.size()));
    EXPECT_GE(balance->value(), 0);
    auto orders = st->user_orders(buyer_ids[b], 1000);
    ASSERT_TRUE(orders.ok());
    int paid = 0;
    for (const auto& o : *orders) paid += o.status == store::OrderStatus::kPaid;
    EXPECT_EQ(paid, static_cast<int>(docs.size())) << "one paid order per purchase, none left over";
  }
  std::cout << "[ figures  ] wallet purchases: 48 requests, " << answers[201] << " bought, "
            << answers[402] << " short of money, " << answers[409] << " already bought\n";
  auto audit1 = st->ledger_audit();
  ASSERT_TRUE(audit1.ok());
  EXPECT_EQ(audit1->txns - audit0->txns, purchases) << "one ledger transaction per purchase";

  // --- duplicate payment notifications, twice to each node at once.
  const std::string payer_token = login(0, "payer@example.cn");
  ASSERT_FALSE(payer_token.empty());
  auto pay = [&](int node, int64_t doc, const std::string& method) -> json {
    StandinPostAnswer o = call(node, "POST", "/api/v1/orders", payer_token,
                               json{{"document_id", doc}}.dump());
    EXPECT_EQ(o.status, 201) << o.body;
    if (o.status != 201) return json();
    const int64_t id = json::parse(o.body)["id"];
    StandinPostAnswer p = call(node, "POST", "/api/v1/orders/" + std::to_string(id) + "/pay",
                               payer_token, json{{"method", method}, {"channel", "desktop"}}.dump());
    EXPECT_EQ(p.status, 200) << p.body;
    return p.status == 200 ? json::parse(p.body) : json();
  };
  json ali = pay(0, doc_ids_[8], "alipay");
  ASSERT_TRUE(ali.contains("redirect_url")) << ali.dump();
  const std::string ali_trade = alipay_->pay_redirect(ali["redirect_url"]);
  ASSERT_EQ(ali_trade, ali["out_trade_no"]);
  json wx = pay(1, doc_ids_[9], "wechat");
  ASSERT_TRUE(wx.contains("code_url")) << wx.dump();
  const std::string wx_trade = wx["out_trade_no"];
  wechat_->mark_paid(wx_trade);

  const auto ali_note = alipay_->payment_notification(ali_trade);
  const auto wx_note = wechat_->transaction_notification(wx_trade);
  std::vector<int> notify_status;
  work.clear();
  for (int copy = 0; copy < 2; ++copy) {
    for (int node = 0; node < 2; ++node) {
      work.push_back([&, node] {
        auto a = http_request("POST", base_[node] + "/api/v1/payments/alipay/notify",
                              ali_note.headers, ali_note.body, 30000);
        std::lock_guard<std::mutex> lock(mu);
        notify_status.push_back(a.status);
        EXPECT_EQ(a.body, "success") << "Alipay is told the notification was taken";
      });
      work.push_back([&, node] {
        auto w = http_request("POST", base_[node] + "/api/v1/payments/wechat/notify",
                              wx_note.headers, wx_note.body, 30000);
        std::lock_guard<std::mutex> lock(mu);
        notify_status.push_back(w.status);
      });
    }
  }
  all_at_once(work);
  ASSERT_EQ(notify_status.size(), 8u);
  for (int s : notify_status) EXPECT_TRUE(s >= 200 && s < 300) << "answered " << s;
  for (const std::string& trade : {ali_trade, wx_trade}) {
    auto o = st->find_order(trade);
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->status, store::OrderStatus::kPaid) << trade;
  }
  auto payer = st->find_user_by_email("payer@example.cn");
  ASSERT_TRUE(payer.ok());
  auto payer_orders = st->user_orders(payer->id, 100);
  ASSERT_TRUE(payer_orders.ok());
  EXPECT_EQ(payer_orders->size(), 2u);
  auto audit2 = st->ledger_audit();
  ASSERT_TRUE(audit2.ok());
  EXPECT_EQ(audit2->txns - audit1->txns, 2) << "each notification applied once, 8 deliveries";
  std::cout << "[ figures  ] notifications: 4 Alipay + 4 WeChat deliveries over both nodes, all "
               "answered 2xx; 2 orders paid, " << audit2->txns - audit1->txns
            << " ledger transaction(s)\n";
  auto payer_balance = st->wallet_balance(payer->id);
  ASSERT_TRUE(payer_balance.ok());
  EXPECT_EQ(payer_balance->value(), 0) << "nothing of a duplicate went to the wallet";

  // --- failed logins for one account on both nodes. Four at once: all
  // counted, none locked yet. Then six at once: the fifth failure in total
  // locks the account (1 s, then doubling), so one more is checked, and
  // another only each time a lock runs out while the six are still coming
  // (locks are whole seconds; on a slow machine, under the sanitizers, the
  // six took over a second and a second attempt was rightly checked).
  auto wrong_logins = [&](int n) {
    std::map<int, int> by_status;
    std::vector<std::function<void()>> w;
    for (int i = 0; i < n; ++i) {
      w.push_back([&, i] {
        StandinPostAnswer r =
            call(i % 2, "POST", "/api/v1/auth/login", "",
                 json{{"email", "target@example.cn"}, {"password", "not the password"}}.dump());
        std::lock_guard<std::mutex> lock(mu);
        ++by_status[r.status];
      });
    }
    all_at_once(w);
    return by_status;
  };
  auto first = wrong_logins(kLoginFreeFailures - 1);
  EXPECT_EQ(first[401], kLoginFreeFailures - 1) << "four failures, no lock yet";
  const auto wave_start = std::chrono::steady_clock::now();
  auto second = wrong_logins(6);
  const double wave_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wave_start).count();
  // Locks of 1, 2, 4, ... s: k of them run out after 2^k - 1 s, and a lock
  // set within a second may end at the next second's start.
  const int may_check = 1 + static_cast<int>(std::floor(std::log2(wave_seconds + 2)));
  EXPECT_GE(second[401], 1) << "the fifth failure over both nodes is checked";
  EXPECT_LE(second[401], may_check)
      << "the fifth failure locks the account: in " << wave_seconds << " s at most " << may_check
      << " of the six may be checked";
  EXPECT_EQ(second[401] + second[429], 6) << "the rest are refused without a password check";
  auto throttle = st->get_throttle("login-account:target@example.cn");
  ASSERT_TRUE(throttle.ok());
  EXPECT_EQ(throttle->count, first[401] + second[401])
      << "every checked failure counted once, over both nodes";
  EXPECT_GT(throttle->locked_until, 0);
  std::cout << "[ figures  ] logins: 4 + 6 wrong passwords -> " << first[401] + second[401]
            << " checked, " << second[429] << " refused (429); stored count " << throttle->count
            << "\n";

  // --- anonymous searches from one address on both nodes at once.
  std::map<int, int> searches;
  work.clear();
  for (int i = 0; i < 2 * kSearchesPerMinute; ++i) {
    work.push_back([&, i] {
      StandinPostAnswer r = call(i % 2, "GET", "/api/v1/search?q=%E5%81%9A%E6%B3%95");
      std::lock_guard<std::mutex> lock(mu);
      ++searches[r.status == 429 ? 429 : 0];
    });
  }
  all_at_once(work);
  EXPECT_EQ(searches[0], kSearchesPerMinute) << "the per-minute search limit is the site's";
  EXPECT_EQ(searches[429], kSearchesPerMinute);
  std::cout << "[ figures  ] searches: " << 2 * kSearchesPerMinute << " at once, " << searches[0]
            << " admitted, " << searches[429] << " refused (limit " << kSearchesPerMinute
            << " a minute)\n";

  // --- downloads of one bought file, both nodes at once: the daily limit is
  // the reader's, not each node's.
  const int64_t doc = bought[0].front();
  StandinPostAnswer link =
      call(0, "GET", "/api/v1/documents/" + std::to_string(doc) + "/download?format=txt", tokens[0]);
  ASSERT_EQ(link.status, 302) << link.body;
  const std::string file = link.headers["location"];
  ASSERT_FALSE(file.empty());
  std::map<int, int> downloads;
  work.clear();
  for (int i = 0; i < 6; ++i) {
    work.push_back([&, i] {
      StandinPostAnswer r = call(i % 2, "GET", file, tokens[0]);
      std::lock_guard<std::mutex> lock(mu);
      ++downloads[r.status];
    });
  }
  all_at_once(work);
  EXPECT_EQ(downloads[200], kDownloadsPerDay);
  EXPECT_EQ(downloads[429], 6 - kDownloadsPerDay);
  std::cout << "[ figures  ] downloads: 6 at once, " << downloads[200] << " served, "
            << downloads[429] << " refused (limit " << kDownloadsPerDay << " a day)\n";

  // --- the nodes stop; the ledger balances.
  for (auto& n : nodes_) n->kill_now();
  CmdResult verify = run("ledger verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  auto audit = st->ledger_audit();
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->problems.empty());
  std::cout << "[ figures  ] ledger: " << audit->txns << " transactions, " << audit->entries
            << " entries, " << audit->wallets << " wallets; " << verify.out;
}

}  // namespace
}  // namespace paidoc::cluster
