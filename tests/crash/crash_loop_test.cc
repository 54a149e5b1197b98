// The crash loop: cycle after cycle, one process that writes is killed with
// SIGKILL at a random moment while readers buy documents from their wallets,
// one of them tops its wallet up through the sandbox gateway and an editor
// uploads documents, all over HTTP. The victim of a cycle is one of
//
//   server  `paidoc serve` itself, in the middle of that load;
//   import  a running `paidoc import` of a fresh batch of files;
//   credit  `paidoc wallet credit` (a few in a row, each killed or not).
//
// After each kill the victim is started again (the server on the same data
// folder; the import run again over the same batch, which completes it) and
// everything is checked:
//
//   - every acknowledged write is there exactly once: a purchase answered
//     "paid" is paid with one payment transaction and its document is open
//     to its buyer; a confirmed top-up is paid with one notification and one
//     payment transaction; an upload answered with its id, and a file that
//     `paidoc import` printed as imported, is that document; a credit whose
//     command exited 0 is one ledger transaction;
//   - an unacknowledged write is whole or absent: every order is paid with
//     exactly one payment transaction or unpaid with none, every document
//     has its search rows (FTS and search facts) and its revision row, and
//     no document, credit or payment is there twice;
//   - `paidoc ledger verify` exits 0, PRAGMA integrity_check says ok and
//     foreign_key_check finds nothing;
//   - each reader's balance (GET /api/v1/me, the wallets table and the sum
//     of the ledger) equals what was credited plus what was topped up minus
//     what was paid, counting the writes that are there.
//
// PAIDOC_CRASH_CYCLES sets the number of cycles (kDefaultCycles in ctest;
// `make crash-loop` runs 60). The victims and the moments come from a
// seeded generator; the seed is printed, and PAIDOC_CRASH_SEED=N replays
// the same choices (the threads' timing still differs from run to run).
// SQLite only: the checks read the database file beside the server.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/binary.h"
#include "cli/json_api.h"

namespace paidoc::cli::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kDefaultCycles = 9;
constexpr int kReaders = 3;
constexpr int64_t kCreditFen = 500000;  // 5,000 yuan each: more than 60 cycles spend
constexpr int64_t kTopUpFen = 500;
constexpr int kSetupFiles = 120;   // documents to buy from the start
constexpr int kImportFiles = 60;   // per import cycle
constexpr int kCreditsPerCycle = 4;
const char* const kPassword = "correct horse battery";

enum Victim { kServer, kImport, kCredit, kVictims };
const char* const kVictimNames[kVictims] = {"server", "import", "credit"};

int cycles_from_env() {
  const char* v = std::getenv("PAIDOC_CRASH_CYCLES");
  if (v == nullptr || *v == '\0') return kDefaultCycles;
  int n = std::atoi(v);
  return n > 0 ? n : kDefaultCycles;
}

uint64_t seed_from_env() {
  const char* v = std::getenv("PAIDOC_CRASH_SEED");
  if (v != nullptr && *v != '\0') return std::strtoull(v, nullptr, 10);
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) | rd();
}

// A connection to the SQLite database under a data folder, for reading
// behind the program's back (it writes nothing).
class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      error_ = db_ != nullptr ? sqlite3_errmsg(db_) : "cannot open " + path;
    }
    if (db_ != nullptr) sqlite3_busy_timeout(db_, 10000);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Every row `sql` answers, each column as text; text parameters ?1, ?2…
  std::vector<std::vector<std::string>> rows(const std::string& sql,
                                             const std::vector<std::string>& params = {}) {
    std::vector<std::vector<std::string>> out;
    if (!error_.empty()) return out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      error_ = sqlite3_errmsg(db_) + std::string(" in ") + sql;
      return out;
    }
    for (size_t i = 0; i < params.size(); ++i)
      sqlite3_bind_text(st, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const unsigned char* v = sqlite3_column_text(st, c);
        row.emplace_back(v != nullptr ? reinterpret_cast<const char*>(v) : "");
      }
      out.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) error_ = sqlite3_errmsg(db_) + std::string(" in ") + sql;
    sqlite3_finalize(st);
    return out;
  }
  // The first column of the first row ("" when there is none).
  std::string value(const std::string& sql, const std::vector<std::string>& params = {}) {
    auto r = rows(sql, params);
    return r.empty() || r[0].empty() ? "" : r[0][0];
  }
  int64_t number(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::string v = value(sql, params);
    return v.empty() ? 0 : std::stoll(v);
  }
  // The first error met ("" while none).
  const std::string& error() const { return error_; }

 private:
  sqlite3* db_ = nullptr;
  std::string error_;
};

struct Reader {
  std::string email;
  std::string token;
  int64_t user_id = 0;
};

// A document purchase or a wallet top-up, from its order's creation on.
struct Order {
  int reader = 0;
  int64_t id = 0;
  int64_t document_id = 0;  // 0: a top-up
  int64_t amount_fen = 0;
  bool pay_sent = false;    // the payment (or the sandbox confirmation) was sent
  bool acked = false;       // and answered: paid
  bool view_checked = false;
};

// A document sent by upload or by `paidoc import`.
struct SentDocument {
  std::string title;
  int64_t id = 0;       // the id it was acknowledged with (or found with later)
  bool acked = false;   // answered 201 with its id, or printed as imported
  bool pooled = false;  // offered to the readers
  bool view_checked = false;
};

struct Credit {
  int reader = 0;
  std::string note;  // unique: finds its ledger transaction
  int64_t amount_fen = 0;
  bool acked = false;  // exited 0 having printed "credited"
};

// What a killed (or finished) child wrote to its stdout, and how it ended.
struct Killed {
  std::string out;       // complete lines only
  bool finished = false; // exited before the kill
  int exit_code = -1;
};

// Runs `paidoc ARGS...`, reading its stdout, and kills it with SIGKILL
// `delay` after it started (after its first complete line with
// `after_first_line`) unless it ended first.
Killed run_and_kill(const std::vector<std::string>& args, std::chrono::microseconds delay,
                    bool after_first_line = false) {
  Killed k;
  int fd = -1;
  pid_t pid = spawn_paidoc(args, &fd);
  if (pid <= 0) return k;
  auto kill_at = after_first_line ? Clock::time_point::max() : Clock::now() + delay;
  std::string out;
  char buf[4096];
  bool eof = false;
  while (!eof) {
    if (after_first_line && kill_at == Clock::time_point::max() && out.find('\n') != std::string::npos)
      kill_at = Clock::now() + delay;
    auto left = kill_at == Clock::time_point::max()
                    ? std::chrono::microseconds(100000)
                    : std::chrono::duration_cast<std::chrono::microseconds>(kill_at - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    timespec ts{static_cast<time_t>(left.count() / 1000000), static_cast<long>(left.count() % 1000000) * 1000};
    if (ppoll(&p, 1, &ts, nullptr) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
      eof = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  if (!eof) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  // What it wrote before it died is still in the pipe.
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  k.finished = WIFEXITED(status);
  k.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  // A line cut by the kill was never fully reported.
  size_t end = out.rfind('\n');
  k.out = end == std::string::npos ? "" : out.substr(0, end + 1);
  return k;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) v.push_back(line);
  return v;
}

// "imported ID TITLE" / "unchanged ID TITLE" -> (word, id, title).
bool parse_import_line(const std::string& line, std::string* word, int64_t* id, std::string* title) {
  size_t a = line.find(' ');
  if (a == std::string::npos) return false;
  size_t b = line.find(' ', a + 1);
  if (b == std::string::npos) return false;
  *word = line.substr(0, a);
  *id = std::atoll(line.substr(a + 1, b - a - 1).c_str());
  *title = line.substr(b + 1);
  return *id > 0;
}

std::string source_text(const std::string& title, const std::string& what) {
  return title + "\n这是" + what + "的免费部分，读者都能看到。\n##paidbegin##这是" + title +
         "的付费部分，只有购买的读者能看到。##paidend##\n";
}

std::string yuan(int64_t fen) {
  char b[32];
  std::snprintf(b, sizeof b, "%lld.%02lld", static_cast<long long>(fen / 100), static_cast<long long>(fen % 100));
  return b;
}

class CrashLoopTest : public ::testing::Test {
 protected:
  CmdResult run(const std::string& args) { return paidoc(args, dir_.path()); }
  std::string data() const { return dir_ / "data"; }
  std::string db_path() const { return dir_ / "data/paidoc.db"; }
  std::string d() const { return " --data " + sh(data()); }

  std::unique_ptr<ServeProcess> start(const std::string& name) {
    auto p = std::make_unique<ServeProcess>(
        std::vector<std::string>{"--demo", "--data", data(), "--listen", "127.0.0.1:0", "--access-log", "false"},
        dir_ / (name + ".out"), dir_ / (name + ".err"));
    port_ = p->wait_port();
    return p;
  }

  std::string login(const std::string& email) {
    HttpClient api(static_cast<uint16_t>(port_));
    HttpResponse r = call(api, "POST", "/api/v1/auth/login", "", json{{"email", email}, {"password", kPassword}}.dump());
    return r.status == 200 ? parse(r).value("token", "") : "";
  }

  void add_user(const std::string& email, const std::string& role) {
    CmdResult add = shell("echo " + sh(kPassword) + " | " + std::string(PAIDOC_BINARY) + " user add" + d() +
                              " --email " + email + " --role " + role,
                          dir_.path());
    ASSERT_EQ(add.exit_code, 0) << add.err;
  }

  // Writes `n` sources into a fresh folder for one import; answers it.
  std::string write_batch(const std::string& name, int n, std::vector<std::string>* titles) {
    const std::string folder = dir_ / name;
    fs::create_directories(folder);
    for (int i = 0; i < n; ++i) {
      const std::string title = name + "号批次第" + std::to_string(i) + "份导入材料";
      titles->push_back(title);
      char file[32];
      std::snprintf(file, sizeof file, "/%04d.txt", i);
      std::ofstream(folder + file, std::ios::binary) << source_text(title, "导入材料");
    }
    return folder;
  }

  // The load: readers buying with their wallets, reader 0 topping up
  // through the sandbox, the editor uploading; until `stop_`.
  void start_load(int cycle);
  void stop_load();
  // Every check of the file's header comment; `when` names the moment.
  void check(const std::string& when);

  TempDir dir_{"paidoc-crash-loop-"};
  int port_ = 0;
  std::vector<Reader> readers_;
  Reader editor_;

  std::mutex mu_;
  std::deque<Order> orders_;
  std::deque<SentDocument> uploads_;
  std::deque<SentDocument> imported_;
  std::deque<Credit> credits_;
  std::vector<int64_t> pool_;              // priced documents to buy
  std::vector<size_t> cursor_;             // each reader's next place in pool_
  std::vector<std::string> odd_;           // unexpected answers while the server was up
  std::atomic<bool> stop_{false};
  std::atomic<bool> killed_{false};
  std::atomic<int> in_flight_{0};          // writes sent and not answered
  std::vector<std::thread> threads_;
  uint64_t load_seed_ = 0;

  // For the summary.
  int64_t unacked_imports_ = 0, unacked_imports_there_ = 0;  // files not printed before a kill
  int64_t purchases_checked_ = 0, topups_checked_ = 0, uploads_checked_ = 0, imports_checked_ = 0,
          credits_checked_ = 0;
};

void CrashLoopTest::start_load(int cycle) {
  stop_ = false;
  killed_ = false;
  in_flight_ = 0;  // a killed server left some unanswered
  auto note_odd = [this](const std::string& what, const HttpResponse& r) {
    std::lock_guard<std::mutex> l(mu_);
    if (!killed_) odd_.push_back(what + ": " + std::to_string(r.status) + " " + r.body);
  };
  // Pauses between a client's requests, as people make them.
  auto pause = [](std::mt19937& rng, int lo_ms, int hi_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(lo_ms, hi_ms)(rng)));
  };
  for (int i = 0; i < kReaders; ++i) {
    threads_.emplace_back([this, i, note_odd, pause, seed = load_seed_ + static_cast<uint64_t>(i)] {
      std::mt19937 rng(static_cast<uint32_t>(seed));
      try {
        HttpClient c(static_cast<uint16_t>(port_));
        while (!stop_) {
          int64_t doc = 0;
          {
            std::lock_guard<std::mutex> l(mu_);
            if (cursor_[i] < pool_.size()) doc = pool_[cursor_[i]++];
          }
          if (doc == 0) {  // bought everything there is
            pause(rng, 10, 20);
            continue;
          }
          ++in_flight_;
          HttpResponse o = call(c, "POST", "/api/v1/orders", readers_[i].token, json{{"document_id", doc}}.dump());
          --in_flight_;
          if (o.status != 200 && o.status != 201) {
            note_odd("order", o);
            continue;
          }
          const json oj = parse(o);
          const int64_t id = order_of(oj).value("id", int64_t{0});
          size_t at;
          {
            std::lock_guard<std::mutex> l(mu_);
            orders_.push_back(Order{i, id, doc, order_of(oj).value("amount_fen", int64_t{0})});
            orders_.back().pay_sent = true;
            at = orders_.size() - 1;
          }
          ++in_flight_;
          HttpResponse pay = call(c, "POST", "/api/v1/orders/" + std::to_string(id) + "/pay",
                                  readers_[i].token, json{{"method", "wallet"}}.dump());
          --in_flight_;
          if (pay.status == 200 && order_of(parse(pay)).value("status", "") == "paid") {
            std::lock_guard<std::mutex> l(mu_);
            orders_[at].acked = true;
          } else {
            note_odd("pay", pay);
          }
          pause(rng, 5, 30);
        }
      } catch (const std::exception&) {
        // The server died under us: expected once it is killed.
      }
    });
  }
  // Reader 0 tops its wallet up as a buyer pressing 支付 on the sandbox
  // page would: order, pay with "sandbox", confirm on /sandbox/pay.
  threads_.emplace_back([this, note_odd, pause, seed = load_seed_ + 100] {
    std::mt19937 rng(static_cast<uint32_t>(seed));
    try {
      HttpClient c(static_cast<uint16_t>(port_));
      while (!stop_) {
        const Reader& r = readers_[0];
        ++in_flight_;
        HttpResponse o = call(c, "POST", "/api/v1/orders", r.token, json{{"topup_fen", kTopUpFen}}.dump());
        --in_flight_;
        if (o.status != 200 && o.status != 201) {
          note_odd("top-up order", o);
          return;
        }
        const json oj = parse(o);
        const int64_t id = order_of(oj).value("id", int64_t{0});
        const int64_t amount = order_of(oj).value("amount_fen", int64_t{0});
        size_t at;
        {
          std::lock_guard<std::mutex> l(mu_);
          orders_.push_back(Order{0, id, 0, amount});
          at = orders_.size() - 1;
        }
        ++in_flight_;
        HttpResponse pay = call(c, "POST", "/api/v1/orders/" + std::to_string(id) + "/pay", r.token,
                                json{{"method", "sandbox"}}.dump());
        --in_flight_;
        if (pay.status != 200 || parse(pay).value("redirect_url", "").find("/sandbox/pay") == std::string::npos) {
          note_odd("sandbox pay", pay);
          return;
        }
        {
          std::lock_guard<std::mutex> l(mu_);
          orders_[at].pay_sent = true;
        }
        ++in_flight_;
        HttpResponse done = sandbox_confirm(c, r.token, order_of(oj).value("out_trade_no", ""), amount);
        --in_flight_;
        if (done.status == 200 || done.status == 303) {
          std::lock_guard<std::mutex> l(mu_);
          orders_[at].acked = true;
        } else {
          note_odd("sandbox confirm", done);
          return;
        }
        pause(rng, 20, 60);
      }
    } catch (const std::exception&) {
    }
  });
  // The editor uploads priced documents through the API.
  threads_.emplace_back([this, cycle, note_odd, pause, seed = load_seed_ + 200] {
    std::mt19937 rng(static_cast<uint32_t>(seed));
    try {
      HttpClient c(static_cast<uint16_t>(port_));
      for (int k = 0; !stop_; ++k) {
        const std::string title = "第" + std::to_string(cycle) + "轮第" + std::to_string(k) + "份上传材料";
        size_t at;
        {
          std::lock_guard<std::mutex> l(mu_);
          uploads_.push_back(SentDocument{title});
          at = uploads_.size() - 1;
        }
        ++in_flight_;
        HttpResponse up = c.request(
            "POST", "/api/v1/documents?price=1.23&name=up-" + std::to_string(cycle) + "-" + std::to_string(k) + ".txt",
            {"Accept: application/json", "Authorization: Bearer " + editor_.token, "Content-Type: text/plain"},
            source_text(title, "上传材料"));
        --in_flight_;
        if (up.status == 201) {
          const int64_t id = parse(up).value("id", int64_t{0});
          std::lock_guard<std::mutex> l(mu_);
          uploads_[at].id = id;
          uploads_[at].acked = true;
        } else {
          note_odd("upload", up);
        }
        pause(rng, 20, 80);
      }
    } catch (const std::exception&) {
    }
  });
  load_seed_ += 1000;
}

void CrashLoopTest::stop_load() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::lock_guard<std::mutex> l(mu_);
  // Acknowledged uploads are documents to buy from now on.
  for (SentDocument& u : uploads_)
    if (u.acked && !u.pooled) {
      pool_.push_back(u.id);
      u.pooled = true;
    }
}

void CrashLoopTest::check(const std::string& when) {
  {
    Db db(db_path());
    // The file itself.
    EXPECT_EQ(db.value("PRAGMA integrity_check"), "ok") << when;
    auto fk = db.rows("PRAGMA foreign_key_check");
    EXPECT_TRUE(fk.empty()) << when << ": foreign_key_check: " << fk[0][0];

    // Orders: paid with exactly one payment transaction, or unpaid with none.
    std::map<int64_t, std::vector<std::string>> by_id;  // id -> status, payment txns, notifications
    for (auto& r : db.rows("SELECT o.id, o.status,"
                           " (SELECT count(DISTINCT e.txn_id) FROM ledger_entries e"
                           "   WHERE e.order_id = o.id AND e.kind = 'payment'),"
                           " (SELECT count(*) FROM payment_notifications n WHERE n.order_id = o.id)"
                           " FROM orders o"))
      by_id[std::stoll(r[0])] = {r[1], r[2], r[3]};
    ASSERT_EQ(db.error(), "") << when;
    for (const auto& [id, r] : by_id) {
      const bool paid = r[0] == "paid";
      // (An unpaid order may expire in a long run.)
      ASSERT_TRUE(paid || r[0] == "created" || r[0] == "expired") << when << ": order " << id << " is " << r[0];
      ASSERT_EQ(r[1], paid ? "1" : "0") << when << ": order " << id << " (" << r[0] << ") has " << r[1]
                                        << " payment transactions";
    }
    std::map<int, int64_t> spent;  // by reader: paid purchases minus paid top-ups
    for (const Order& o : orders_) {
      auto it = by_id.find(o.id);
      ASSERT_TRUE(it != by_id.end()) << when << ": order " << o.id << " was answered with its id and is gone";
      const bool paid = it->second[0] == "paid";
      if (o.acked) {
        ASSERT_TRUE(paid) << when << ": order " << o.id << " was answered paid and is " << it->second[0];
      } else {
        ASSERT_TRUE(paid ? o.pay_sent : true) << when << ": order " << o.id << " is paid but was never paid for";
      }
      if (o.document_id == 0) {
        // A top-up: one notification applied, or none.
        ASSERT_EQ(it->second[2], paid ? "1" : "0") << when << ": top-up " << o.id;
      }
      if (paid) spent[o.reader] += o.document_id != 0 ? o.amount_fen : -o.amount_fen;
    }

    // Documents: each with its search rows and its revision row, and none
    // there twice.
    auto half = db.rows(
        "SELECT d.id, d.title,"
        " EXISTS (SELECT 1 FROM documents_fts_docsize s WHERE s.id = d.id),"
        " EXISTS (SELECT 1 FROM search_facts f WHERE f.id = d.id),"
        " EXISTS (SELECT 1 FROM document_revisions r WHERE r.document_id = d.id AND r.revision = d.revision)"
        " FROM documents d WHERE NOT EXISTS (SELECT 1 FROM documents_fts_docsize s WHERE s.id = d.id)"
        " OR NOT EXISTS (SELECT 1 FROM search_facts f WHERE f.id = d.id)"
        " OR NOT EXISTS (SELECT 1 FROM document_revisions r WHERE r.document_id = d.id AND r.revision = d.revision)");
    ASSERT_EQ(db.error(), "") << when;
    ASSERT_TRUE(half.empty()) << when << ": document " << half[0][0] << " " << half[0][1] << " has fts " << half[0][2]
                              << ", search facts " << half[0][3] << ", revision " << half[0][4];
    EXPECT_EQ(db.number("SELECT count(*) FROM documents_fts_docsize s"
                        " WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = s.id)"),
              0)
        << when << ": search rows without their document";
    auto twice = db.rows("SELECT title, count(*) FROM documents GROUP BY title HAVING count(*) > 1");
    ASSERT_TRUE(twice.empty()) << when << ": " << twice[0][0] << " is there " << twice[0][1] << " times";
    std::map<std::string, int64_t> title_id;
    for (auto& r : db.rows("SELECT title, id FROM documents")) title_id[r[0]] = std::stoll(r[1]);
    for (const auto* docs : {&uploads_, &imported_}) {
      for (const SentDocument& s : *docs) {
        auto it = title_id.find(s.title);
        if (s.acked) {
          ASSERT_TRUE(it != title_id.end()) << when << ": " << s.title << " (id " << s.id << ") was acknowledged and is gone";
          ASSERT_EQ(it->second, s.id) << when << ": " << s.title;
        }
      }
    }

    // Credits: each acknowledged one once, each killed one at most once.
    std::map<std::string, int64_t> credit_txns;
    for (auto& r : db.rows("SELECT note, count(DISTINCT txn_id) FROM ledger_entries"
                           " WHERE kind = 'credit' GROUP BY note"))
      credit_txns[r[0]] = std::stoll(r[1]);
    std::map<int, int64_t> credited;
    for (const Credit& c : credits_) {
      const int64_t n = credit_txns.count(c.note) ? credit_txns[c.note] : 0;
      if (c.acked) {
        ASSERT_EQ(n, 1) << when << ": credit " << c.note << " exited 0";
      }
      ASSERT_LE(n, 1) << when << ": credit " << c.note;
      if (n == 1) credited[c.reader] += c.amount_fen;
    }

    // Balances: the wallets table and the ledger against what happened.
    for (int i = 0; i < kReaders; ++i) {
      const std::string uid = std::to_string(readers_[i].user_id);
      const int64_t expected = kCreditFen + credited[i] - spent[i];
      EXPECT_EQ(db.number("SELECT balance_fen FROM wallets WHERE user_id = " + uid), expected)
          << when << ": " << readers_[i].email;
      EXPECT_EQ(db.number("SELECT coalesce(sum(amount_fen), 0) FROM ledger_entries WHERE account = 'wallet:" + uid + "'"),
                expected)
          << when << ": " << readers_[i].email << " in the ledger";
    }
    ASSERT_EQ(db.error(), "") << when;
    if (HasFatalFailure()) return;
  }

  // What the users see: balances, bought documents open, new documents there.
  HttpClient api(static_cast<uint16_t>(port_));
  {
    Db db(db_path());
    for (int i = 0; i < kReaders; ++i) {
      HttpResponse me = call(api, "GET", "/api/v1/me", readers_[i].token);
      ASSERT_EQ(me.status, 200) << when << ": " << me.body;
      EXPECT_EQ(parse(me).value("balance_fen", int64_t{-1}),
                db.number("SELECT balance_fen FROM wallets WHERE user_id = " + std::to_string(readers_[i].user_id)))
          << when << ": " << readers_[i].email;
    }
  }
  for (Order& o : orders_) {
    if (!o.acked) continue;
    if (o.document_id == 0) {
      ++topups_checked_;
      continue;
    }
    ++purchases_checked_;
    if (o.view_checked) continue;
    HttpResponse doc = call(api, "GET", "/api/v1/documents/" + std::to_string(o.document_id), readers_[o.reader].token);
    ASSERT_EQ(doc.status, 200) << when << ": " << doc.body;
    ASSERT_EQ(parse(doc).value("locked", true), false) << when << ": document " << o.document_id << " bought in order " << o.id;
    o.view_checked = true;
  }
  for (auto* docs : {&uploads_, &imported_}) {
    for (SentDocument& s : *docs) {
      if (!s.acked) continue;
      ++(docs == &uploads_ ? uploads_checked_ : imports_checked_);
      if (s.view_checked) continue;
      HttpResponse doc = call(api, "GET", "/api/v1/documents/" + std::to_string(s.id), "");
      ASSERT_EQ(doc.status, 200) << when << ": " << s.title << " " << doc.body;
      ASSERT_EQ(parse(doc).value("title", ""), s.title) << when;
      s.view_checked = true;
    }
  }
  for (const Credit& c : credits_) credits_checked_ += c.acked ? 1 : 0;

  CmdResult verify = run("ledger verify" + d());
  ASSERT_EQ(verify.exit_code, 0) << when << ": " << verify.out << verify.err;
  ASSERT_EQ(verify.out.rfind("ledger ok: ", 0), 0u) << when << ": " << verify.out;
}

TEST_F(CrashLoopTest, AcknowledgedWritesSurviveSigkillOfServerImportAndCredit) {
  const int cycles = cycles_from_env();
  const uint64_t seed = seed_from_env();
  std::cout << "[          ] crash loop: " << cycles << " cycles, seed " << seed
            << " (PAIDOC_CRASH_SEED=" << seed << " replays the choices)" << std::endl;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  load_seed_ = seed;

  // Readers with money and an editor, made with the CLI before the server
  // starts; the time a credit takes sets the window its kills fall in.
  readers_.resize(kReaders);
  cursor_.assign(kReaders, 0);
  auto credit_time = Clock::duration::zero();
  for (int i = 0; i < kReaders; ++i) {
    readers_[i].email = "reader" + std::to_string(i) + "@example.cn";
    add_user(readers_[i].email, "reader");
    if (HasFatalFailure()) return;
    const auto t = Clock::now();
    CmdResult credit = run("wallet credit" + d() + " --email " + readers_[i].email + " --amount " + yuan(kCreditFen));
    credit_time += Clock::now() - t;
    ASSERT_EQ(credit.exit_code, 0) << credit.err;
  }
  credit_time /= kReaders;
  editor_.email = "editor@example.cn";
  add_user(editor_.email, "editor");
  if (HasFatalFailure()) return;

  // Documents to buy from the start, imported before the server runs; the
  // time it takes sets the window of the import kills.
  std::vector<std::string> titles;
  const std::string first = write_batch("0", kSetupFiles, &titles);
  const auto t_import = Clock::now();
  CmdResult imp = run("import" + d() + " --price 1.23 " + sh(first));
  const auto import_time = (Clock::now() - t_import) * kImportFiles / kSetupFiles + credit_time;
  ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;
  for (const std::string& line : lines_of(imp.out)) {
    std::string word, title;
    int64_t id = 0;
    ASSERT_TRUE(parse_import_line(line, &word, &id, &title)) << line;
    pool_.push_back(id);
  }
  ASSERT_EQ(pool_.size(), static_cast<size_t>(kSetupFiles));

  auto server = start("start");
  ASSERT_GT(port_, 0) << server->logs();
  for (Reader& r : readers_) {
    r.token = login(r.email);
    ASSERT_FALSE(r.token.empty()) << r.email;
    Db db(db_path());
    r.user_id = db.number("SELECT id FROM users WHERE email = ?1", {r.email});
    ASSERT_GT(r.user_id, 0) << db.error();
  }
  editor_.token = login(editor_.email);
  ASSERT_FALSE(editor_.token.empty());
  check("before the first cycle");
  if (HasFatalFailure()) return;

  int by_victim[kVictims] = {};
  int kills[kVictims] = {};  // SIGKILLs that found their victim running
  int finished_before_kill = 0;  // CLI victims that ended before their kill
  int kills_with_writes_in_flight = 0;
  const auto t0 = Clock::now();
  for (int cycle = 1; cycle <= cycles; ++cycle) {
    const Victim victim = static_cast<Victim>(rng() % kVictims);
    ++by_victim[victim];
    const std::string when = "cycle " + std::to_string(cycle) + " (" + kVictimNames[victim] + ", seed " +
                             std::to_string(seed) + ")";
    odd_.clear();
    std::string moment;

    // Files for an import are written before the load starts.
    std::vector<std::string> batch_titles;
    std::string batch;
    if (victim == kImport) batch = write_batch(std::to_string(cycle), kImportFiles, &batch_titles);

    start_load(cycle);
    if (victim == kServer) {
      // A random moment after the load began, moved to the next time a
      // write is in flight (the clients pause between requests), then on
      // by up to 3 ms so that it falls anywhere in that write.
      const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 900)(rng));
      const auto extra = std::chrono::microseconds(std::uniform_int_distribution<int>(0, 3000)(rng));
      std::this_thread::sleep_for(delay);
      for (const auto give_up = Clock::now() + std::chrono::seconds(2); in_flight_ == 0 && Clock::now() < give_up;)
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      std::this_thread::sleep_for(extra);
      killed_ = true;
      const int unanswered = in_flight_;
      if (unanswered > 0) ++kills_with_writes_in_flight;
      server->kill_now();
      EXPECT_TRUE(server->killed_by(SIGKILL)) << when;
      ++kills[kServer];
      moment = "killed after " + std::to_string(delay.count()) + " ms of load + " + std::to_string(extra.count()) +
               " us, " + std::to_string(unanswered) + " requests unanswered";
      stop_load();
      server = start("cycle" + std::to_string(cycle));
      ASSERT_GT(port_, 0) << when << ": " << server->logs();
    } else if (victim == kImport) {
      const std::string batch_size = std::to_string(std::uniform_int_distribution<int>(1, 20)(rng));
      // Every other import dies at any moment up to twice the time the
      // setup's import took for as many files (the load slows it down); the
      // others in their writing phase: up to 40 ms after the first batch
      // was printed (the files are read and parsed before).
      const bool in_writes = rng() % 2 == 0;
      const auto window = in_writes ? std::chrono::microseconds(40000)
                                    : std::chrono::duration_cast<std::chrono::microseconds>(import_time * 2);
      const auto delay = std::chrono::microseconds(std::uniform_int_distribution<int64_t>(0, window.count())(rng));
      Killed k = run_and_kill({"--data", data(), "import", "--batch", batch_size, "--price", "1.23", batch}, delay,
                              in_writes);
      stop_load();
      if (k.finished) {
        ++finished_before_kill;
      } else {
        ++kills[kImport];
        ++kills_with_writes_in_flight;
      }
      std::set<std::string> acked;
      for (const std::string& line : lines_of(k.out)) {
        std::string word, title;
        int64_t id = 0;
        ASSERT_TRUE(parse_import_line(line, &word, &id, &title) && word == "imported") << when << ": " << line;
        imported_.push_back(SentDocument{title, id, true});
        acked.insert(title);
      }
      moment = std::string(k.finished ? "finished before its kill at " : "killed at ") +
               std::to_string(delay.count() / 1000) + " ms" + (in_writes ? " after its first line" : "") + " (--batch " + batch_size + ", " +
               std::to_string(acked.size()) + " of " + std::to_string(kImportFiles) + " printed";
      check("after the kill of " + when);
      if (HasFatalFailure()) return;
      {
        // The files it did not print: each whole (checked above) or absent.
        Db db(db_path());
        int64_t there = 0;
        for (const std::string& t : batch_titles) {
          if (acked.count(t)) continue;
          ++unacked_imports_;
          there += db.number("SELECT count(*) FROM documents WHERE title = ?1", {t});
        }
        unacked_imports_there_ += there;
        moment += ", " + std::to_string(there) + " more there)";
      }
      // Run again: what it printed is unchanged, the rest is imported.
      CmdResult again = run("import" + d() + " --batch " + batch_size + " --price 1.23 " + sh(batch));
      ASSERT_EQ(again.exit_code, 0) << when << ": " << again.out << again.err;
      std::map<std::string, int64_t> ids;
      for (const std::string& line : lines_of(again.out)) {
        std::string word, title;
        int64_t id = 0;
        ASSERT_TRUE(parse_import_line(line, &word, &id, &title)) << when << ": " << line;
        ASSERT_TRUE(word == "imported" || word == "unchanged") << when << ": " << line;
        if (acked.count(title)) {
          ASSERT_EQ(word, "unchanged") << when << ": " << line;
        }
        ids[title] = id;
      }
      ASSERT_EQ(ids.size(), static_cast<size_t>(kImportFiles)) << when << ": " << again.out;
      for (SentDocument& s : imported_) {
        if (acked.count(s.title)) {
          ASSERT_EQ(s.id, ids[s.title]) << when << ": " << s.title;
        }
      }
      // Now every file of the batch is acknowledged, and to be bought.
      for (const std::string& t : batch_titles) {
        if (!acked.count(t)) imported_.push_back(SentDocument{t, ids[t], true});
        pool_.push_back(ids[t]);
      }
    } else {
      int done = 0;
      for (int k = 0; k < kCreditsPerCycle; ++k) {
        Credit c;
        c.reader = static_cast<int>(rng() % kReaders);
        c.amount_fen = std::uniform_int_distribution<int64_t>(1, 5000)(rng);
        c.note = "crash loop " + std::to_string(cycle) + "." + std::to_string(k);
        // Up to twice the time a credit took before the load.
        const auto window = std::chrono::duration_cast<std::chrono::microseconds>(credit_time * 2);
        const auto delay = std::chrono::microseconds(std::uniform_int_distribution<int64_t>(0, window.count())(rng));
        Killed r = run_and_kill({"--data", data(), "wallet", "credit", "--email", readers_[c.reader].email,
                                 "--amount", yuan(c.amount_fen), "--note", c.note},
                                delay);
        if (r.finished) {
          ++finished_before_kill;
          ASSERT_EQ(r.exit_code, 0) << when << ": " << r.out;
          ASSERT_EQ(r.out.rfind("credited ¥" + yuan(c.amount_fen) + " to " + readers_[c.reader].email, 0), 0u)
              << when << ": " << r.out;
          c.acked = true;
          ++done;
        } else {
          ++kills[kCredit];
          ++kills_with_writes_in_flight;
        }
        credits_.push_back(c);
      }
      stop_load();
      moment = std::to_string(kCreditsPerCycle - done) + " of " + std::to_string(kCreditsPerCycle) + " credits killed";
    }
    ASSERT_TRUE(odd_.empty()) << when << ": " << odd_.front();
    check("after " + when);
    if (HasFatalFailure()) return;
    std::cout << "[          ] cycle " << cycle << ": " << kVictimNames[victim] << " " << moment << std::endl;
  }

  // The last word: a clean stop, and the same checks after it.
  ::kill(server->pid(), SIGTERM);
  EXPECT_EQ(server->wait_exit(15000), 0) << server->logs();
  server = start("last");
  ASSERT_GT(port_, 0) << server->logs();
  purchases_checked_ = topups_checked_ = uploads_checked_ = imports_checked_ = credits_checked_ = 0;
  check("after the last restart");
  if (HasFatalFailure()) return;

  int64_t unacked_orders = 0, unacked_paid = 0, unacked_uploads = 0, unacked_uploads_there = 0,
          unacked_credits = 0, unacked_credits_there = 0;
  {
    Db db(db_path());
    for (const Order& o : orders_) {
      if (o.acked || !o.pay_sent) continue;
      ++unacked_orders;
      unacked_paid += db.value("SELECT status FROM orders WHERE id = " + std::to_string(o.id)) == "paid";
    }
    for (const SentDocument& s : uploads_) {
      if (s.acked) continue;
      ++unacked_uploads;
      unacked_uploads_there += db.number("SELECT count(*) FROM documents WHERE title = ?1", {s.title});
    }
    for (const Credit& c : credits_) {
      if (c.acked) continue;
      ++unacked_credits;
      unacked_credits_there += db.number(
          "SELECT count(DISTINCT txn_id) FROM ledger_entries WHERE kind = 'credit' AND note = ?1", {c.note});
    }
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - t0).count();
  std::cout << "[          ] crash loop summary (seed " << seed << ", " << cycles << " cycles in " << seconds << " s):\n"
            << "[          ]   cycles by victim: server " << by_victim[kServer] << ", import " << by_victim[kImport]
            << ", credit " << by_victim[kCredit] << "; SIGKILLs: " << kills[kServer] + kills[kImport] + kills[kCredit]
            << " (server " << kills[kServer] << ", import " << kills[kImport] << ", credit " << kills[kCredit] << "; "
            << finished_before_kill << " CLI runs ended before their kill; " << kills_with_writes_in_flight
            << " kills with a write unanswered)\n"
            << "[          ]   acknowledged writes checked after the last restart: " << purchases_checked_
            << " purchases, " << topups_checked_ << " top-ups, " << uploads_checked_ << " uploads, " << imports_checked_
            << " imported documents, " << credits_checked_ << " credits\n"
            << "[          ]   unacknowledged, each whole or absent: " << unacked_orders << " payments ("
            << unacked_paid << " paid), " << unacked_uploads << " uploads (" << unacked_uploads_there << " there), "
            << unacked_imports_ << " imported files (" << unacked_imports_there_ << " there before the rerun), "
            << unacked_credits << " credits (" << unacked_credits_there << " there)" << std::endl;
  RecordProperty("cycles", cycles);
  RecordProperty("server_kills", kills[kServer]);
  RecordProperty("import_kills", kills[kImport]);
  RecordProperty("credit_kills", kills[kCredit]);
  ::kill(server->pid(), SIGTERM);
  EXPECT_EQ(server->wait_exit(15000), 0) << server->logs();
}

}  // namespace
}  // namespace paidoc::cli::testing
