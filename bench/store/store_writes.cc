// store_writes: durable wallet purchases per second through the SQLite
// store alone, without HTTP, as a function of how many callers write at
// once, with group commit (the default max_batch) and with one commit per
// write (max_batch = 1: what the store did before group commit, one fsync
// per write).
//
//   store_writes [--dir DIR] [--threads 1,4,16,64] [--seconds 3]
//                [--batches 1,256]
//
// For each (max_batch, threads) pair: a fresh database in DIR (default: a
// temp folder under $TMPDIR or /tmp; it must be on the disk to measure),
// 400 documents, 8 readers per thread with money, then `threads` threads
// each calling Store::buy_from_wallet (order, ledger, entitlement in one
// write) for its own readers, back to back, for `seconds`. Every purchase
// must succeed. Prints one line per run:
//   result max_batch B threads T purchases N per_second R p50_ms X p99_ms X
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using paidoc::Fen;
using namespace paidoc::store;

constexpr int kDocs = 400;
constexpr int kReadersPerThread = 8;

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::atoi(item.c_str()));
  return out;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "store_writes: %s\n", what.c_str());
  std::exit(1);
}

NewDocument document(int i) {
  NewDocument n;
  n.source_path = "/bench/" + std::to_string(i) + ".txt";
  n.source_sha256 = std::string(64, '0');
  std::string num = std::to_string(i);
  n.source_sha256.replace(64 - num.size(), num.size(), num);
  n.parsed.title = "压测文档第" + num + "号";
  n.parsed.blocks.push_back({paidoc::doc::BlockKind::kParagraph, 0, "",
                             {{"免费部分。", false}, {"付费部分，读者付款后可见。", true}}, 2, 0});
  paidoc::doc::compute_figures(n.parsed);
  n.source_text = n.parsed.title;
  n.price = Fen(100);
  return n;
}

struct Run {
  int64_t purchases = 0;
  double seconds = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

Run measure(const fs::path& dir, int max_batch, int threads, int seconds) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  paidoc::store::sqlite::Options options;
  options.max_batch = max_batch;
  auto opened = paidoc::store::sqlite::open_sqlite((dir / "bench.db").string(), options);
  if (!opened.ok()) die(opened.status().to_string());
  Store& store = *opened.value();
  const int64_t now = 1'767'225'600;

  // Seeding, from as many threads as the run uses (it is writes too).
  std::vector<int64_t> docs(kDocs);
  std::vector<int64_t> users(static_cast<size_t>(threads) * kReadersPerThread);
  {
    std::vector<std::thread> seeders;
    std::atomic<int> next_doc{0};
    for (int t = 0; t < threads; ++t) {
      seeders.emplace_back([&, t] {
        for (int i; (i = next_doc++) < kDocs;) {
          auto put = store.put_document(document(i), now);
          if (!put.ok()) die("put_document: " + put.status().to_string());
          docs[static_cast<size_t>(i)] = put->id;
        }
        for (int r = 0; r < kReadersPerThread; ++r) {
          const size_t k = static_cast<size_t>(t) * kReadersPerThread + static_cast<size_t>(r);
          auto u = store.create_user(
              {"r" + std::to_string(k) + "@bench.example", "$argon2id$bench", Role::kReader}, now);
          if (!u.ok()) die("create_user: " + u.status().to_string());
          users[k] = u->id;
          auto c = store.credit_wallet(u->id, Fen(kDocs * 100), "bench", "bench", now);
          if (!c.ok()) die("credit_wallet: " + c.status().to_string());
        }
      });
    }
    for (auto& s : seeders) s.join();
  }

  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
  std::vector<std::thread> buyers;
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    buyers.emplace_back([&, t] {
      auto& lat = latencies[static_cast<size_t>(t)];
      // Reader r buys documents in order; readers take turns.
      for (int n = 0; !stop; ++n) {
        const int r = n % kReadersPerThread;
        const int d = n / kReadersPerThread;
        if (d >= kDocs) die("readers ran out of documents; shorten --seconds");
        NewOrder o;
        o.user_id = users[static_cast<size_t>(t) * kReadersPerThread + static_cast<size_t>(r)];
        o.kind = OrderKind::kDocument;
        o.document_id = docs[static_cast<size_t>(d)];
        o.subject = "一份文档";
        o.amount = Fen(100);
        o.created_at = now;
        o.expires_at = now + 1800;
        o.out_trade_no_prefix = "B";
        const auto a = std::chrono::steady_clock::now();
        auto bought = store.buy_from_wallet(o, now);
        const auto b = std::chrono::steady_clock::now();
        if (!bought.ok()) die("buy_from_wallet: " + bought.status().to_string());
        lat.push_back(std::chrono::duration<double, std::milli>(b - a).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& b : buyers) b.join();
  const auto t1 = std::chrono::steady_clock::now();

  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Run run;
  run.purchases = static_cast<int64_t>(all.size());
  run.seconds = std::chrono::duration<double>(t1 - t0).count();
  if (!all.empty()) {
    run.p50_ms = all[all.size() / 2];
    run.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  auto audit = store.ledger_audit();
  if (!audit.ok()) die("ledger_audit: " + audit.status().to_string());
  if (!audit->problems.empty()) die("the ledger does not balance after the run");
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads = {1, 4, 16, 64};
  std::vector<int> batches = {1, 256};
  int seconds = 3;
  fs::path dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--threads") {
      threads = parse_list(value());
    } else if (a == "--batches") {
      batches = parse_list(value());
    } else if (a == "--seconds") {
      seconds = std::atoi(value().c_str());
    } else if (a == "--dir") {
      dir = value();
    } else {
      die("unknown argument " + a +
          " (--dir DIR --threads 1,4,16,64 --seconds 3 --batches 1,256)");
    }
  }
  if (seconds < 1) die("--seconds must be positive");
  const bool own_dir = dir.empty();
  if (own_dir) {
    std::random_device rd;
    const char* tmp = std::getenv("TMPDIR");
    dir = fs::path(tmp != nullptr ? tmp : "/tmp") / ("paidoc-store-writes-" + std::to_string(rd()));
  }
  for (int b : batches) {
    for (int t : threads) {
      if (b < 1 || t < 1) die("batch sizes and thread counts must be positive");
      Run r = measure(dir, b, t, seconds);
      std::printf(
          "result max_batch %d threads %d purchases %lld per_second %.1f p50_ms %.2f p99_ms %.2f\n",
          b, t, static_cast<long long>(r.purchases), static_cast<double>(r.purchases) / r.seconds,
          r.p50_ms, r.p99_ms);
      std::fflush(stdout);
    }
  }
  if (own_dir) fs::remove_all(dir);
  return 0;
}
