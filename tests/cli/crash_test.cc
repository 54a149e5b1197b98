// Durability of wallet purchases across a crash: readers buy documents over
// HTTP, and one of them tops the wallet up through the sandbox provider,
// while `paidoc serve` is killed with SIGKILL in the middle. After a restart
// on the same data folder every purchase and top-up the server acknowledged
// is there, every balance equals what was credited plus what was topped up
// minus what was paid, and `paidoc ledger verify` finds nothing wrong.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/binary.h"
#include "web/http_client.h"

namespace paidoc::cli::testing {
namespace {

using json = nlohmann::json;
using paidoc::web::testing::HttpClient;
using paidoc::web::testing::HttpResponse;

constexpr int kReaders = 6;
constexpr int kExtraDocuments = 40;
constexpr int64_t kCreditFen = 100000;  // 1,000 yuan each: enough for everything
constexpr int64_t kTopUpFen = 500;

struct Reader {
  std::string email;
  std::string token;
};

struct Purchase {
  int reader = 0;
  int64_t order_id = 0;
  int64_t document_id = 0;  // 0: a top-up
  int64_t amount_fen = 0;
};

HttpResponse call(HttpClient& c, const std::string& method, const std::string& target,
                  const std::string& token, const std::string& body = "") {
  std::vector<std::string> headers = {"Accept: application/json"};
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  if (method == "POST") headers.push_back("Content-Type: application/json");
  return c.request(method, target, headers, body);
}

json parse(const HttpResponse& r) { return json::parse(r.body, nullptr, false); }

// An order answer is the order itself or {"order": {...}, ...}.
const json& order_of(const json& j) {
  if (j.is_object() && j.contains("order") && j["order"].is_object()) return j["order"];
  return j;
}

class CrashTest : public ::testing::Test {
 protected:
  CmdResult run(const std::string& args) { return paidoc(args, dir_.path()); }
  std::string data() const { return dir_ / "data"; }

  std::unique_ptr<ServeProcess> start(const std::string& name) {
    auto p = std::make_unique<ServeProcess>(
        std::vector<std::string>{"--demo", "--data", data(), "--listen", "127.0.0.1:0", "--access-log", "false"},
        dir_ / (name + ".out"), dir_ / (name + ".err"));
    port_ = p->wait_port();
    return p;
  }

  TempDir dir_{"paidoc-crash-"};
  int port_ = 0;
};

TEST_F(CrashTest, AcknowledgedWalletPurchasesSurviveSigkill) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
  const std::string d = " --data " + sh(data());

  // Readers with money, made with the CLI before the server starts.
  std::vector<Reader> readers(kReaders);
  for (int i = 0; i < kReaders; ++i) {
    readers[i].email = "reader" + std::to_string(i) + "@example.cn";
    CmdResult add = shell("echo 'correct horse battery' | " + std::string(PAIDOC_BINARY) + " user add" + d +
                              " --email " + readers[i].email,
                          dir_.path());
    ASSERT_EQ(add.exit_code, 0) << add.err;
    CmdResult credit = run("wallet credit" + d + " --email " + readers[i].email + " --amount 1000");
    ASSERT_EQ(credit.exit_code, 0) << credit.err;
  }

  auto server = start("first");
  ASSERT_GT(port_, 0) << server->logs();

  // More documents to buy, imported by the CLI while the server runs (the
  // demo documents came with --demo).
  fs::create_directories(dir_.path() / "docs");
  for (int i = 0; i < kExtraDocuments; ++i) {
    std::ofstream(dir_ / ("docs/" + std::to_string(i) + ".txt"), std::ios::binary)
        << "第" << i << "号测试材料\n"
        << "这是第" << i << "号材料的免费部分。\n"
        << "##paidbegin##这是第" << i << "号材料的付费部分，共计若干字。##paidend##\n";
  }
  CmdResult imp = run("import" + d + " --price 1.23 " + sh(dir_ / "docs"));
  ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;

  HttpClient api(static_cast<uint16_t>(port_));
  for (auto& r : readers) {
    HttpResponse login = call(api, "POST", "/api/v1/auth/login", "",
                              json{{"email", r.email}, {"password", "correct horse battery"}}.dump());
    ASSERT_EQ(login.status, 200) << login.body;
    r.token = parse(login).value("token", "");
    ASSERT_FALSE(r.token.empty()) << login.body;
  }

  // Every priced document.
  std::vector<std::pair<int64_t, int64_t>> docs;  // (id, price_fen)
  for (int page = 1; page < 50; ++page) {
    HttpResponse list = call(api, "GET", "/api/v1/documents?page=" + std::to_string(page), "");
    ASSERT_EQ(list.status, 200) << list.body;
    json j = parse(list);
    if (!j.contains("items") || j["items"].empty()) break;
    for (const auto& it : j["items"])
      if (it.value("price_fen", int64_t{0}) > 0) docs.emplace_back(it["id"].get<int64_t>(), it["price_fen"].get<int64_t>());
  }
  ASSERT_GE(docs.size(), static_cast<size_t>(kExtraDocuments)) << "documents to buy";

  // Each reader buys every document, one after another; all readers at once.
  std::mutex mu;
  std::vector<Purchase> acknowledged;
  std::vector<Purchase> sent;  // every pay request sent, answered or not
  std::atomic<int> acked{0};
  std::atomic<int> refused{0};
  std::vector<std::string> odd;  // unexpected answers before the kill
  std::atomic<bool> killed{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kReaders; ++i) {
    threads.emplace_back([&, i] {
      try {
        HttpClient c(static_cast<uint16_t>(port_));
        // Start at a different document per reader so they spread out.
        for (size_t k = 0; k < docs.size(); ++k) {
          auto [doc, price] = docs[(k + static_cast<size_t>(i) * 7) % docs.size()];
          HttpResponse o = call(c, "POST", "/api/v1/orders", readers[i].token, json{{"document_id", doc}}.dump());
          if (o.status != 200 && o.status != 201) {
            if (!killed) {
              std::lock_guard<std::mutex> l(mu);
              odd.push_back("order: " + std::to_string(o.status) + " " + o.body);
            }
            ++refused;
            continue;
          }
          const json oj = parse(o);
          Purchase p{i, order_of(oj).value("id", int64_t{0}), doc, order_of(oj).value("amount_fen", int64_t{0})};
          {
            std::lock_guard<std::mutex> l(mu);
            sent.push_back(p);
          }
          HttpResponse pay = call(c, "POST", "/api/v1/orders/" + std::to_string(p.order_id) + "/pay",
                                  readers[i].token, json{{"method", "wallet"}}.dump());
          json pj = parse(pay);
          if (pay.status == 200 && order_of(pj).value("status", "") == "paid") {
            std::lock_guard<std::mutex> l(mu);
            acknowledged.push_back(p);
            ++acked;
          } else if (!killed) {
            std::lock_guard<std::mutex> l(mu);
            odd.push_back("pay: " + std::to_string(pay.status) + " " + pay.body);
          }
        }
      } catch (const std::exception&) {
        // The server died under us: expected once it is killed.
      }
    });
  }

  // Reader 0 also tops up its wallet through the sandbox, as a buyer
  // pressing 支付 on the sandbox page would: order, pay with "sandbox",
  // confirm on /sandbox/pay (a form: CSRF double-submit cookie and field).
  std::vector<Purchase> topups_sent;
  std::vector<Purchase> topups_acked;
  std::atomic<int> topped{0};
  threads.emplace_back([&] {
    try {
      HttpClient c(static_cast<uint16_t>(port_));
      for (int k = 0; k < 200 && !killed; ++k) {
        HttpResponse o = call(c, "POST", "/api/v1/orders", readers[0].token, json{{"topup_fen", kTopUpFen}}.dump());
        json oj = parse(o);
        if (o.status != 201 && o.status != 200) {
          std::lock_guard<std::mutex> l(mu);
          if (!killed) odd.push_back("top-up order: " + std::to_string(o.status) + " " + o.body);
          return;
        }
        Purchase p{0, order_of(oj).value("id", int64_t{0}), 0, order_of(oj).value("amount_fen", int64_t{0})};
        HttpResponse pay = call(c, "POST", "/api/v1/orders/" + std::to_string(p.order_id) + "/pay",
                                readers[0].token, json{{"method", "sandbox"}}.dump());
        if (pay.status != 200 || parse(pay).value("redirect_url", "").find("/sandbox/pay") == std::string::npos) {
          std::lock_guard<std::mutex> l(mu);
          if (!killed) odd.push_back("sandbox pay: " + std::to_string(pay.status) + " " + pay.body);
          return;
        }
        {
          std::lock_guard<std::mutex> l(mu);
          topups_sent.push_back(p);
        }
        const std::string form = "out_trade_no=" + order_of(oj).value("out_trade_no", "") +
                                 "&amount_fen=" + std::to_string(p.amount_fen) + "&csrf=crashtestcsrf";
        HttpResponse done = c.request("POST", "/sandbox/pay",
                                      {"Authorization: Bearer " + readers[0].token, "Cookie: paidoc_csrf=crashtestcsrf",
                                       "Content-Type: application/x-www-form-urlencoded"},
                                      form);
        if (done.status == 200 || done.status == 303) {
          std::lock_guard<std::mutex> l(mu);
          topups_acked.push_back(p);
          ++topped;
        } else {
          std::lock_guard<std::mutex> l(mu);
          if (!killed) odd.push_back("sandbox confirm: " + std::to_string(done.status) + " " + done.body);
          return;
        }
      }
    } catch (const std::exception&) {
    }
  });

  // SIGKILL once a good part of the purchases were acknowledged, while the
  // others are in flight.
  const int total = static_cast<int>(docs.size()) * kReaders;
  while ((acked < total / 3 || topped < 3) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (refused > total) break;
  }
  killed = true;
  server->kill_now();
  EXPECT_TRUE(server->killed_by(SIGKILL));
  for (auto& t : threads) t.join();
  EXPECT_TRUE(odd.empty()) << odd.front();
  EXPECT_GE(topped.load(), 3) << "sandbox top-ups acknowledged before the kill";
  ASSERT_GE(acked.load(), total / 3) << "purchases acknowledged before the kill; logs:\n" << server->logs();
  EXPECT_LT(acked.load(), total) << "the kill came after the last purchase; nothing was in flight";
  ::testing::Test::RecordProperty("acknowledged_before_kill", acked.load());
  ::testing::Test::RecordProperty("pay_requests_sent", static_cast<int>(sent.size()));
  std::cout << "[          ] before SIGKILL: " << acked.load() << " of " << total << " purchases acknowledged ("
            << sent.size() << " paid for), " << topped.load() << " sandbox top-ups acknowledged ("
            << topups_sent.size() << " sent)" << std::endl;

  // Restart on the same data folder.
  server = start("second");
  ASSERT_GT(port_, 0) << server->logs();
  HttpClient after(static_cast<uint16_t>(port_));

  // Every acknowledged purchase is there: the order is paid, the document open.
  for (const auto& p : acknowledged) {
    const std::string& token = readers[p.reader].token;  // sessions live in the database
    HttpResponse o = call(after, "GET", "/api/v1/orders/" + std::to_string(p.order_id), token);
    ASSERT_EQ(o.status, 200) << o.body;
    EXPECT_EQ(order_of(parse(o)).value("status", ""), "paid") << o.body;
    HttpResponse doc = call(after, "GET", "/api/v1/documents/" + std::to_string(p.document_id), token);
    ASSERT_EQ(doc.status, 200) << doc.body;
    EXPECT_EQ(parse(doc).value("locked", true), false) << "document " << p.document_id;
  }

  for (const auto& p : topups_acked) {
    HttpResponse o = call(after, "GET", "/api/v1/orders/" + std::to_string(p.order_id), readers[0].token);
    ASSERT_EQ(o.status, 200) << o.body;
    EXPECT_EQ(order_of(parse(o)).value("status", ""), "paid") << o.body;
  }

  // Balances: what was credited plus top-ups minus purchases, counting every
  // order that is paid now (an unanswered payment may or may not have
  // committed, but never half).
  std::map<int, int64_t> spent;
  for (const auto& p : topups_sent) {
    HttpResponse o = call(after, "GET", "/api/v1/orders/" + std::to_string(p.order_id), readers[0].token);
    ASSERT_EQ(o.status, 200) << o.body;
    std::string status = order_of(parse(o)).value("status", "");
    EXPECT_TRUE(status == "paid" || status == "created") << o.body;
    if (status == "paid") spent[0] -= p.amount_fen;
  }
  for (const auto& p : sent) {
    HttpResponse o = call(after, "GET", "/api/v1/orders/" + std::to_string(p.order_id), readers[p.reader].token);
    ASSERT_EQ(o.status, 200) << o.body;
    std::string status = order_of(parse(o)).value("status", "");
    EXPECT_TRUE(status == "paid" || status == "created") << o.body;
    if (status == "paid") spent[p.reader] += p.amount_fen;
  }
  for (int i = 0; i < kReaders; ++i) {
    HttpResponse me = call(after, "GET", "/api/v1/me", readers[i].token);
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(parse(me).value("balance_fen", int64_t{-1}), kCreditFen - spent[i]) << readers[i].email;
  }

  // The server still sells after the crash.
  {
    std::set<int64_t> bought;
    for (const auto& p : sent)
      if (p.reader == 0) bought.insert(p.document_id);
    int64_t fresh = 0;
    for (const auto& [id, price] : docs)
      if (!bought.count(id)) fresh = id;
    if (fresh != 0) {
      HttpResponse o = call(after, "POST", "/api/v1/orders", readers[0].token, json{{"document_id", fresh}}.dump());
      ASSERT_TRUE(o.status == 200 || o.status == 201) << o.body;
      int64_t id = order_of(parse(o)).value("id", int64_t{0});
      HttpResponse pay = call(after, "POST", "/api/v1/orders/" + std::to_string(id) + "/pay", readers[0].token,
                              json{{"method", "wallet"}}.dump());
      EXPECT_EQ(pay.status, 200) << pay.body;
    }
  }

  CmdResult verify = run("ledger verify" + d);
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(verify.out.rfind("ledger ok: ", 0), 0u) << verify.out;

  ::kill(server->pid(), SIGTERM);
  EXPECT_EQ(server->wait_exit(10000), 0) << server->logs();
  EXPECT_LT(std::chrono::steady_clock::now(), deadline + std::chrono::seconds(5));
}

}  // namespace
}  // namespace paidoc::cli::testing
