// Durability of wallet purchases across crashes: readers buy documents over
// HTTP, and one of them tops the wallet up through the sandbox provider,
// while `paidoc serve` is killed with SIGKILL in the middle, again and again
// (kCycles times), each time restarted on the same data folder. After every
// restart each purchase and top-up the server ever acknowledged is there and
// `paidoc ledger verify` (run while the server is up, as an operator would)
// finds nothing wrong; at the end every balance equals what was credited
// plus what was topped up minus what was paid. Writes are group-committed
// (store/sqlite/writer.h): no answer may come before its batch's COMMIT,
// wherever in a batch the kill lands.
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
constexpr int kCycles = 20;
constexpr int kExtraDocuments = 60;  // enough for every cycle: no reader buys twice
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

TEST_F(CrashTest, AcknowledgedWalletPurchasesSurviveRepeatedSigkill) {
  const auto t0 = std::chrono::steady_clock::now();
  // A safety net for a loaded machine; a run takes about 35 s.
  const auto deadline = t0 + std::chrono::seconds(100);
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

  auto server = start("start");
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

  // Signed in once: sessions live in the database and outlive every crash.
  {
    HttpClient api(static_cast<uint16_t>(port_));
    for (auto& r : readers) {
      HttpResponse login = call(api, "POST", "/api/v1/auth/login", "",
                                json{{"email", r.email}, {"password", "correct horse battery"}}.dump());
      ASSERT_EQ(login.status, 200) << login.body;
      r.token = parse(login).value("token", "");
      ASSERT_FALSE(r.token.empty()) << login.body;
    }
  }

  // Every priced document.
  std::vector<std::pair<int64_t, int64_t>> docs;  // (id, price_fen)
  {
    HttpClient api(static_cast<uint16_t>(port_));
    for (int page = 1; page < 50; ++page) {
      HttpResponse list = call(api, "GET", "/api/v1/documents?page=" + std::to_string(page), "");
      ASSERT_EQ(list.status, 200) << list.body;
      json j = parse(list);
      if (!j.contains("items") || j["items"].empty()) break;
      for (const auto& it : j["items"])
        if (it.value("price_fen", int64_t{0}) > 0) docs.emplace_back(it["id"].get<int64_t>(), it["price_fen"].get<int64_t>());
    }
  }
  ASSERT_GE(docs.size(), static_cast<size_t>(kExtraDocuments)) << "documents to buy";

  // What happened so far, across every cycle.
  std::mutex mu;
  std::vector<Purchase> acknowledged;   // answered 200 "paid"
  std::vector<Purchase> sent;           // every pay request sent, answered or not
  std::vector<Purchase> topups_sent;    // sandbox confirmations sent
  std::vector<Purchase> topups_acked;   // and answered
  std::vector<std::string> odd;         // unexpected answers while the server was up
  std::vector<size_t> next(kReaders, 0);  // each reader's next document (never bought twice)
  int killed_in_flight = 0;             // cycles killed with a payment unanswered

  // Every acknowledged purchase and top-up is there, the documents bought in
  // the last cycle are open to their buyer, and the books balance.
  size_t checked_docs = 0;  // acknowledged[0, checked_docs) had their documents checked
  auto check_so_far = [&](const std::string& when) {
    HttpClient after(static_cast<uint16_t>(port_));
    for (const auto& p : acknowledged) {
      HttpResponse o = call(after, "GET", "/api/v1/orders/" + std::to_string(p.order_id), readers[p.reader].token);
      ASSERT_EQ(o.status, 200) << when << ": " << o.body;
      ASSERT_EQ(order_of(parse(o)).value("status", ""), "paid") << when << ": order " << p.order_id << " " << o.body;
    }
    for (; checked_docs < acknowledged.size(); ++checked_docs) {
      const Purchase& p = acknowledged[checked_docs];
      HttpResponse doc = call(after, "GET", "/api/v1/documents/" + std::to_string(p.document_id), readers[p.reader].token);
      ASSERT_EQ(doc.status, 200) << when << ": " << doc.body;
      ASSERT_EQ(parse(doc).value("locked", true), false) << when << ": document " << p.document_id;
    }
    for (const auto& p : topups_acked) {
      HttpResponse o = call(after, "GET", "/api/v1/orders/" + std::to_string(p.order_id), readers[0].token);
      ASSERT_EQ(o.status, 200) << when << ": " << o.body;
      ASSERT_EQ(order_of(parse(o)).value("status", ""), "paid") << when << ": top-up " << p.order_id << " " << o.body;
    }
    CmdResult verify = run("ledger verify" + d);
    ASSERT_EQ(verify.exit_code, 0) << when << ": " << verify.out << verify.err;
    ASSERT_EQ(verify.out.rfind("ledger ok: ", 0), 0u) << when << ": " << verify.out;
  };

  int cycles = 0;
  for (; cycles < kCycles && std::chrono::steady_clock::now() < deadline; ++cycles) {
    const std::string when = "cycle " + std::to_string(cycles);
    if (cycles > 0) {
      server = start("cycle" + std::to_string(cycles));
      ASSERT_GT(port_, 0) << when << ": " << server->logs();
      check_so_far("after the restart of " + when);
      if (HasFatalFailure()) return;
    }

    std::atomic<bool> killed{false};
    std::atomic<int> acked{0};      // this cycle
    std::atomic<int> in_flight{0};  // payments sent and not answered
    std::atomic<int> topped{0};     // sandbox top-ups acknowledged this cycle
    std::vector<std::thread> threads;
    for (int i = 0; i < kReaders; ++i) {
      threads.emplace_back([&, i] {
        try {
          HttpClient c(static_cast<uint16_t>(port_));
          // Readers start at different documents so they spread out.
          while (!killed && next[i] < docs.size()) {
            auto [doc, price] = docs[(next[i]++ + static_cast<size_t>(i) * 7) % docs.size()];
            HttpResponse o = call(c, "POST", "/api/v1/orders", readers[i].token, json{{"document_id", doc}}.dump());
            if (o.status != 200 && o.status != 201) {
              std::lock_guard<std::mutex> l(mu);
              if (!killed) odd.push_back("order: " + std::to_string(o.status) + " " + o.body);
              continue;
            }
            const json oj = parse(o);
            Purchase p{i, order_of(oj).value("id", int64_t{0}), doc, order_of(oj).value("amount_fen", int64_t{0})};
            {
              std::lock_guard<std::mutex> l(mu);
              sent.push_back(p);
            }
            ++in_flight;
            HttpResponse pay = call(c, "POST", "/api/v1/orders/" + std::to_string(p.order_id) + "/pay",
                                    readers[i].token, json{{"method", "wallet"}}.dump());
            --in_flight;
            json pj = parse(pay);
            std::lock_guard<std::mutex> l(mu);
            if (pay.status == 200 && order_of(pj).value("status", "") == "paid") {
              acknowledged.push_back(p);
              ++acked;
            } else if (!killed) {
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
    threads.emplace_back([&] {
      try {
        HttpClient c(static_cast<uint16_t>(port_));
        for (int k = 0; k < 3 && !killed; ++k) {
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
                                        {"Authorization: Bearer " + readers[0].token, "Cookie: __Host-paidoc_csrf=crashtestcsrf",
                                         "Content-Type: application/x-www-form-urlencoded"},
                                        form);
          std::lock_guard<std::mutex> l(mu);
          if (done.status == 200 || done.status == 303) {
            topups_acked.push_back(p);
            ++topped;
          } else {
            if (!killed) odd.push_back("sandbox confirm: " + std::to_string(done.status) + " " + done.body);
            return;
          }
        }
      } catch (const std::exception&) {
      }
    });

    // SIGKILL once a few purchases of this cycle were acknowledged (a
    // different number each cycle, so the kill falls at different points of
    // the writer's batches), while the others are in flight. Every fourth
    // cycle also waits for a top-up (a slower path: a signed notification).
    const int target = 4 + (cycles * 5) % 9;
    const int topups_wanted = cycles % 4 == 0 ? 1 : 0;
    const auto cycle_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((acked < target || topped < topups_wanted) &&
           std::chrono::steady_clock::now() < cycle_deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const int acked_at_kill = acked.load();
    killed = true;
    if (in_flight > 0) ++killed_in_flight;
    server->kill_now();
    EXPECT_TRUE(server->killed_by(SIGKILL)) << when;
    for (auto& t : threads) t.join();
    ASSERT_TRUE(odd.empty()) << when << ": " << odd.front();
    ASSERT_GE(acked_at_kill, target) << when << ": purchases acknowledged before the kill; logs:\n"
                                     << server->logs();
    ASSERT_GE(topped.load(), topups_wanted) << when << ": top-ups acknowledged before the kill";
  }
  ASSERT_EQ(cycles, kCycles) << "out of time after " << cycles << " cycles";
  std::cout << "[          ] " << kCycles << " SIGKILLs: " << acknowledged.size() << " purchases acknowledged ("
            << sent.size() << " paid for), " << topups_acked.size() << " sandbox top-ups acknowledged ("
            << topups_sent.size() << " sent); " << killed_in_flight << " kills with a payment unanswered"
            << std::endl;
  ::testing::Test::RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
  ::testing::Test::RecordProperty("kills_with_payment_in_flight", killed_in_flight);
  // The kills came while purchases were being paid, not between them.
  EXPECT_GE(killed_in_flight, kCycles / 2);

  // A last restart on the same data folder.
  server = start("last");
  ASSERT_GT(port_, 0) << server->logs();
  check_so_far("after the last restart");
  if (HasFatalFailure()) return;
  HttpClient after(static_cast<uint16_t>(port_));

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

  // The server still sells after the crashes.
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

  ::kill(server->pid(), SIGTERM);
  EXPECT_EQ(server->wait_exit(10000), 0) << server->logs();
  EXPECT_LT(std::chrono::steady_clock::now(), deadline + std::chrono::seconds(10));
}

}  // namespace
}  // namespace paidoc::cli::testing
