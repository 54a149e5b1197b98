// search_corpus: fills a fresh paidoc data folder with N synthetic documents
// (corpus.h) and reports what building the search index costs.
//
//   search_corpus --data DIR --docs N [--seed S] [--no-rebuild]
//   search_corpus --db URL --docs N [--seed S]  # another store (PostgreSQL):
//                                              # the same import, import
//                                              # figures only
//   search_corpus --print INDEX [--seed S]     # one source to stdout
//   search_corpus --stats N [--seed S]         # checks the generator: parses N
//                                              # sources, prints sizes, paid
//                                              # shares, term document frequencies
//
// Documents are imported one by one through library::Library::import_bytes
// into sqlite:DIR/paidoc.db (what `paidoc serve --data DIR` opens), each in
// its own transaction as `paidoc import` does, with its genre as category
// and a price. Then it measures, on the finished database:
//   - the size of the FTS5 tables (dbstat: pages of documents_fts*),
//   - the indexed text (title + search_free + search_paid, in bytes),
//   - a full rebuild of the index ('rebuild' command): pure index build
//     speed, without parsing, hashing or per-document commits.
// With --db URL (e.g. postgresql://…, an empty database) the same documents
// are imported the same way into that store; the size and rebuild figures,
// which read SQLite's files, are skipped.
// Results go to stdout as "key: value" lines (MB = 10^6 bytes); progress to
// stderr. Exit 1 on any failure.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corpus.h"
#include "doc/parser.h"
#include "library/library.h"
#include "store/sqlite/connection.h"
#include "store/store.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string data;
  std::string db;  // --db URL: import into this store instead of DIR/paidoc.db
  int64_t docs = -1;
  uint64_t seed = 1;
  bool rebuild = true;
  std::optional<int64_t> print;
  std::optional<int64_t> stats;
  std::string write;  // --write DIR: sources as files, for `paidoc import`
};

[[noreturn]] void usage(const std::string& why) {
  if (!why.empty()) std::cerr << "search_corpus: " << why << "\n";
  std::cerr << "usage: search_corpus --data DIR --docs N [--seed S] [--no-rebuild]\n"
               "       search_corpus --db URL --docs N [--seed S]\n"
               "       search_corpus --print INDEX [--seed S]\n"
               "       search_corpus --stats N [--seed S]\n"
               "       search_corpus --write DIR --docs N [--seed S]  # sources as DIR/NNN/NNNNNNN.txt\n";
  std::exit(2);
}

int64_t parse_int(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    long long n = std::stoll(v, &used);
    if (used != v.size() || n < 0) throw std::invalid_argument(v);
    return n;
  } catch (const std::exception&) {
    usage(flag + " wants a non-negative integer, got '" + v + "'");
  }
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(f + " needs a value");
      return argv[++i];
    };
    if (f == "--data") a.data = value();
    else if (f == "--db") a.db = value();
    else if (f == "--docs") a.docs = parse_int(f, value());
    else if (f == "--seed") a.seed = static_cast<uint64_t>(parse_int(f, value()));
    else if (f == "--no-rebuild") a.rebuild = false;
    else if (f == "--print") a.print = parse_int(f, value());
    else if (f == "--stats") a.stats = parse_int(f, value());
    else if (f == "--write") a.write = value();
    else if (f == "-h" || f == "--help") usage("");
    else usage("unknown argument '" + f + "'");
  }
  if (a.print || a.stats) return a;
  if (!a.write.empty()) {
    if (a.docs <= 0) usage("--docs is required (a positive number)");
    return a;
  }
  if (!a.db.empty() && !a.data.empty()) usage("give --data or --db, not both");
  if (a.data.empty() && a.db.empty()) usage("--data or --db is required");
  if (a.docs <= 0) usage("--docs is required (a positive number)");
  return a;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double mb(double bytes) { return bytes / 1e6; }

// A plain read-only SQLite handle for dbstat and plain tables: it never
// touches documents_fts itself, so it needs no tokenizer.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::cerr << "search_corpus: cannot open " << path << ": " << sqlite3_errmsg(db_) << "\n";
      std::exit(1);
    }
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // The integer columns of the first row of `sql`; nullopt (with the error
  // in *err) when it fails.
  std::optional<std::vector<int64_t>> row(const char* sql, std::string* err) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
      *err = sqlite3_errmsg(db_);
      return std::nullopt;
    }
    std::vector<int64_t> out;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(st); ++c) out.push_back(sqlite3_column_int64(st, c));
    } else if (rc != SQLITE_DONE) {
      *err = sqlite3_errmsg(db_);
      sqlite3_finalize(st);
      return std::nullopt;
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

struct IndexSize {
  int64_t fts_bytes = 0;   // documents_fts* tables (the index and its config/docsize)
  int64_t fts_pages = 0;
  int64_t data_bytes = 0;  // of which documents_fts_data (the inverted index proper)
  int64_t db_bytes = 0;    // the whole database file (page_count * page_size)
};

// dbstat counts a page under the table or index that owns it; every
// documents_fts shadow table starts with that name.
std::optional<IndexSize> index_size(const std::string& path, std::string* err) {
  RawDb db(path);
  IndexSize s;
  auto fts = db.row(
      "SELECT coalesce(sum(pgsize), 0), count(*), "
      "       coalesce(sum(CASE WHEN name = 'documents_fts_data' THEN pgsize END), 0) "
      "FROM dbstat WHERE name LIKE 'documents\\_fts%' ESCAPE '\\'",
      err);
  if (!fts) return std::nullopt;
  s.fts_bytes = (*fts)[0];
  s.fts_pages = (*fts)[1];
  s.data_bytes = (*fts)[2];
  auto pages = db.row("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", err);
  if (!pages) return std::nullopt;
  s.db_bytes = (*pages)[0];
  return s;
}

void print_index(const char* key, const IndexSize& s, double text_bytes) {
  std::printf("%s_mb: %.2f\n", key, mb(static_cast<double>(s.fts_bytes)));
  std::printf("%s_data_mb: %.2f\n", key, mb(static_cast<double>(s.data_bytes)));
  if (text_bytes > 0)
    std::printf("%s_ratio: %.3f\n", key, static_cast<double>(s.fts_bytes) / text_bytes);
}

// --stats: generates and parses n sources and prints what the corpus
// promises (corpus.h): sizes, paid sections and shares, headings, and the
// share of documents each query term occurs in (a substring count over the
// title and text, so a rough stand-in for the index's answer).
int print_stats(uint64_t seed, int64_t n) {
  std::vector<int64_t> sizes;
  int64_t paid_docs = 0, two_sections = 0, bad = 0;
  double paid_share = 0;
  int64_t headings_min = 1 << 30, headings_max = 0, headings_sum = 0;
  int64_t levels[5] = {};
  std::vector<std::pair<std::string, std::string>> terms;  // class, term
  for (auto k : paidoc::bench::query_kinds()) {
    if (k == paidoc::bench::QueryKind::kMix) continue;
    for (const std::string& q : paidoc::bench::query_set(k)) {
      size_t at = 0;
      while (at <= q.size()) {  // every space-separated term once
        size_t sp = q.find(' ', at);
        std::string t = q.substr(at, sp == std::string::npos ? std::string::npos : sp - at);
        bool seen = false;
        for (auto& [c, x] : terms) seen = seen || x == t;
        if (!t.empty() && !seen) terms.emplace_back(std::string(paidoc::bench::query_kind_name(k)), t);
        if (sp == std::string::npos) break;
        at = sp + 1;
      }
    }
  }
  std::vector<int64_t> df(terms.size());
  for (int64_t i = 0; i < n; ++i) {
    paidoc::bench::CorpusDocument d = paidoc::bench::make_document(seed, i);
    sizes.push_back(static_cast<int64_t>(d.source.size()));
    paidoc::doc::ParseResult r = paidoc::doc::parse(d.source, "corpus");
    if (!r.ok) {
      if (++bad <= 5) std::fprintf(stderr, "document %lld: %s\n", static_cast<long long>(i), r.error.to_string().c_str());
      continue;
    }
    const auto& f = r.document.figures;
    if (f.paid_chars > 0) {
      ++paid_docs;
      paid_share += static_cast<double>(f.paid_chars) / static_cast<double>(f.free_chars + f.paid_chars);
      if (f.paid_sections >= 2) ++two_sections;
    }
    if ((f.paid_chars > 0) != d.has_paid) ++bad;
    int64_t h = 0;
    std::string text = r.document.title;
    for (const auto& b : r.document.blocks) {
      if (b.kind == paidoc::doc::BlockKind::kHeading) {
        ++h;
        ++levels[std::clamp(b.level, 0, 4)];
      }
      text += '\n';
      text += b.label;
      text += b.full_text();
    }
    headings_min = std::min(headings_min, h);
    headings_max = std::max(headings_max, h);
    headings_sum += h;
    for (size_t t = 0; t < terms.size(); ++t)
      if (text.find(terms[t].second) != std::string::npos) ++df[t];
  }
  std::sort(sizes.begin(), sizes.end());
  double total = 0;
  for (int64_t s : sizes) total += static_cast<double>(s);
  auto pct = [&](double p) { return sizes[std::min<size_t>(sizes.size() - 1, static_cast<size_t>(p * static_cast<double>(sizes.size())))]; };
  std::printf("documents: %lld (seed %llu), parse failures or mismatches: %lld\n", static_cast<long long>(n),
              static_cast<unsigned long long>(seed), static_cast<long long>(bad));
  std::printf("source bytes: mean %.0f, min %lld, p10 %lld, p50 %lld, p90 %lld, max %lld\n",
              total / static_cast<double>(n), static_cast<long long>(sizes.front()), static_cast<long long>(pct(0.1)),
              static_cast<long long>(pct(0.5)), static_cast<long long>(pct(0.9)), static_cast<long long>(sizes.back()));
  std::printf("with paid text: %.1f%% (two or more sections: %.1f%%), mean paid share of their characters: %.1f%%\n",
              100.0 * static_cast<double>(paid_docs) / static_cast<double>(n),
              100.0 * static_cast<double>(two_sections) / static_cast<double>(n),
              paid_docs ? 100.0 * paid_share / static_cast<double>(paid_docs) : 0.0);
  std::printf("headings per document: min %lld, mean %.1f, max %lld; by level: 1: %lld, 2: %lld, 3: %lld, 4: %lld\n",
              static_cast<long long>(headings_min), static_cast<double>(headings_sum) / static_cast<double>(n),
              static_cast<long long>(headings_max), static_cast<long long>(levels[1]), static_cast<long long>(levels[2]),
              static_cast<long long>(levels[3]), static_cast<long long>(levels[4]));
  std::printf("document frequency of query terms (substring of title and text):\n");
  for (size_t t = 0; t < terms.size(); ++t)
    std::printf("  %-7s %-16s %7lld  %6.2f%%\n", terms[t].first.c_str(), terms[t].second.c_str(),
                static_cast<long long>(df[t]), 100.0 * static_cast<double>(df[t]) / static_cast<double>(n));
  return bad == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse_args(argc, argv);
  if (a.stats) return print_stats(a.seed, *a.stats);
  if (a.print) {
    paidoc::bench::CorpusDocument d = paidoc::bench::make_document(a.seed, *a.print);
    std::fputs(d.source.c_str(), stdout);
    return 0;
  }
  if (!a.write.empty()) {
    // 1000 files a folder; `paidoc import DIR` finds them recursively.
    char rel[64];
    for (int64_t i = 0; i < a.docs; ++i) {
      std::snprintf(rel, sizeof rel, "%03lld/%07lld.txt", static_cast<long long>(i / 1000),
                    static_cast<long long>(i));
      fs::path p = fs::path(a.write) / rel;
      std::error_code dir_ec;
      fs::create_directories(p.parent_path(), dir_ec);
      std::ofstream out(p, std::ios::binary);
      out << paidoc::bench::make_document(a.seed, i).source;
      if (!out) {
        std::cerr << "search_corpus: cannot write " << p.string() << "\n";
        return 1;
      }
    }
    return 0;
  }

  std::string db_path;  // the SQLite file; empty with --db
  if (a.db.empty()) {
    std::error_code ec;
    fs::create_directories(a.data, ec);
    if (ec) {
      std::cerr << "search_corpus: cannot create " << a.data << ": " << ec.message() << "\n";
      return 1;
    }
    db_path = (fs::path(a.data) / "paidoc.db").string();
    if (fs::exists(db_path)) {
      std::cerr << "search_corpus: " << db_path << " exists; give a fresh data folder\n";
      return 1;
    }
  }

  auto opened = paidoc::store::Store::open(a.db.empty() ? "sqlite:" + db_path : a.db);
  if (!opened.ok()) {
    std::cerr << "search_corpus: opening the store: " << opened.status().to_string() << "\n";
    return 1;
  }
  std::unique_ptr<paidoc::store::Store> store = std::move(*opened);
  paidoc::library::Library lib(*store);

  // ---- import --------------------------------------------------------------------
  int64_t source_bytes = 0, with_paid = 0;
  double generate_s = 0, import_s = 0;
  const auto wall0 = Clock::now();
  const int64_t step = std::max<int64_t>(1, a.docs / 10);
  char path[64];
  for (int64_t i = 0; i < a.docs; ++i) {
    auto g0 = Clock::now();
    paidoc::bench::CorpusDocument d = paidoc::bench::make_document(a.seed, i);
    auto g1 = Clock::now();
    paidoc::library::ImportOptions opts;
    opts.price = paidoc::Fen(d.price_fen);
    opts.category = d.genre;
    std::snprintf(path, sizeof path, "corpus/%07lld.txt", static_cast<long long>(i));
    paidoc::library::ImportLine line = lib.import_bytes(d.source, path, opts);
    auto g2 = Clock::now();
    generate_s += std::chrono::duration<double>(g1 - g0).count();
    import_s += std::chrono::duration<double>(g2 - g1).count();
    if (!line.ok) {
      std::cerr << "search_corpus: document " << i << ": " << line.error << "\n";
      return 1;
    }
    if (line.outcome != paidoc::store::PutOutcome::kCreated) {
      std::cerr << "search_corpus: document " << i << " was not new (" << line.to_string()
                << "); the generator repeated a source\n";
      return 1;
    }
    source_bytes += static_cast<int64_t>(d.source.size());
    with_paid += d.has_paid ? 1 : 0;
    if ((i + 1) % step == 0 || i + 1 == a.docs) {
      std::fprintf(stderr, "[search_corpus] %lld/%lld documents, %.1f MB, %.2f MB/s\n",
                   static_cast<long long>(i + 1), static_cast<long long>(a.docs),
                   mb(static_cast<double>(source_bytes)), mb(static_cast<double>(source_bytes)) / import_s);
    }
  }
  const double wall_s = seconds_since(wall0);
  store.reset();  // closes every connection; the last one checkpoints the WAL

  std::printf("documents: %lld\n", static_cast<long long>(a.docs));
  std::printf("documents_with_paid: %lld\n", static_cast<long long>(with_paid));
  std::printf("seed: %llu\n", static_cast<unsigned long long>(a.seed));
  std::printf("source_mb: %.2f\n", mb(static_cast<double>(source_bytes)));
  std::printf("source_avg_kb: %.2f\n", static_cast<double>(source_bytes) / 1e3 / static_cast<double>(a.docs));
  std::printf("generate_seconds: %.2f\n", generate_s);
  std::printf("import_seconds: %.2f\n", import_s);
  std::printf("import_docs_per_s: %.1f\n", static_cast<double>(a.docs) / import_s);
  std::printf("import_mb_per_s: %.2f\n", mb(static_cast<double>(source_bytes)) / import_s);
  std::printf("wall_seconds: %.2f\n", wall_s);
  if (db_path.empty()) return 0;  // not SQLite: no dbstat, no FTS5 rebuild

  // ---- sizes ------------------------------------------------------------------------
  double text_bytes = 0;
  {
    RawDb db(db_path);
    std::string err;
    auto text = db.row(
        "SELECT coalesce(sum(length(CAST(title AS BLOB))), 0), "
        "       coalesce(sum(length(CAST(search_free AS BLOB))), 0), "
        "       coalesce(sum(length(CAST(search_paid AS BLOB))), 0) FROM documents",
        &err);
    if (!text) {
      std::cerr << "search_corpus: no search text columns (" << err
                << "): this build has no search index\n";
      return 1;
    }
    text_bytes = static_cast<double>((*text)[0] + (*text)[1] + (*text)[2]);
    std::printf("text_mb: %.2f\n", mb(text_bytes));
    std::printf("text_title_mb: %.2f\n", mb(static_cast<double>((*text)[0])));
    std::printf("text_free_mb: %.2f\n", mb(static_cast<double>((*text)[1])));
    std::printf("text_paid_mb: %.2f\n", mb(static_cast<double>((*text)[2])));
    std::printf("import_text_mb_per_s: %.2f\n", mb(text_bytes) / import_s);
  }
  std::string err;
  auto size = index_size(db_path, &err);
  if (!size) {
    std::cerr << "search_corpus: dbstat: " << err << "\n";
    return 1;
  }
  if (size->fts_pages == 0) {
    std::cerr << "search_corpus: no documents_fts tables in " << db_path << "\n";
    return 1;
  }
  print_index("index", *size, text_bytes);
  std::printf("db_mb: %.2f\n", mb(static_cast<double>(size->db_bytes)));

  // ---- a full rebuild ---------------------------------------------------------------
  // Through the store's own connection code, which registers the "paidoc"
  // tokenizer: a bare sqlite3 handle cannot write documents_fts.
  if (a.rebuild) {
    auto conn = paidoc::store::sqlite::Connection::open(db_path, 60000);
    if (!conn.ok()) {
      std::cerr << "search_corpus: " << conn.status().to_string() << "\n";
      return 1;
    }
    const auto r0 = Clock::now();
    paidoc::Status s = (*conn)->exec_script(
        "INSERT INTO documents_fts(documents_fts) VALUES('rebuild')", "rebuilding documents_fts");
    const double rebuild_s = seconds_since(r0);
    if (!s.is_ok()) {
      std::cerr << "search_corpus: " << s.to_string() << "\n";
      return 1;
    }
    conn->reset();
    std::printf("rebuild_seconds: %.2f\n", rebuild_s);
    std::printf("rebuild_text_mb_per_s: %.2f\n", mb(text_bytes) / rebuild_s);
    std::printf("rebuild_source_mb_per_s: %.2f\n", mb(static_cast<double>(source_bytes)) / rebuild_s);
    auto after = index_size(db_path, &err);
    if (!after) {
      std::cerr << "search_corpus: dbstat: " << err << "\n";
      return 1;
    }
    print_index("rebuilt_index", *after, text_bytes);
  }
  return 0;
}
