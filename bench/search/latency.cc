// search_latency: a closed-loop load client for paidoc's search API.
//
//   search_latency --url http://127.0.0.1:PORT --concurrency C --seconds S
//                  --queries KIND|all|FILE [--pages P] [--timeout T]
//
// C threads, each with one keep-alive HTTP/1.1 connection (Boost.Beast,
// synchronous), send GET /api/v1/search?q=<urlencoded query> back to back
// for S seconds, each thread walking the query list from its own offset.
// Every request's latency is recorded (from writing the request to having
// read the whole response). Queries come from corpus.h's classes ("one",
// "two", "three", "rare", "common", "mix"; "all" = every class, each query
// keeping its class) or from a file, one query per line, optionally
// "class<TAB>query".
//
// Reported per class and in total: requests, errors (anything but 200,
// and failed connections or reads), requests/s, latency p50/p99/max over
// the 200 answers, and, when the server sends `Server-Timing: search;dur=MS`,
// the server-side p50/p99/max of that figure; also the mean "total" of the
// answers and how many had no hits. A table goes to stdout, then one
// machine-readable line per class:
//   result CLASS concurrency C requests N errors E rps R p50_ms X p99_ms X
//          max_ms X server_n N server_p50_ms X server_p99_ms X server_max_ms X
//          total_avg X zero_hits N
// ("-" for a figure without samples). Exit 0 even with errors (they are
// reported); exit 1 on bad arguments, 2 when a request hangs past
// S + timeout seconds.
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "corpus.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Query {
  std::string cls;
  std::string text;
  std::string target;  // path + query string, page added per request
};

struct Args {
  std::string host = "127.0.0.1";
  std::string port = "80";
  std::string prefix;  // path prefix from the URL, no trailing slash
  int concurrency = 1;
  double seconds = 10;
  double timeout = 30;
  int pages = 1;
  std::string queries = "all";
  std::string metric = "search";
};

[[noreturn]] void usage(const std::string& why) {
  if (!why.empty()) std::cerr << "search_latency: " << why << "\n";
  std::cerr << "usage: search_latency --url http://HOST:PORT --concurrency C --seconds S\n"
               "                      --queries one|two|three|rare|common|mix|all|FILE\n"
               "                      [--pages P] [--timeout SECONDS] [--server-metric NAME]\n";
  std::exit(1);
}

double parse_number(const std::string& flag, const std::string& v, double min) {
  try {
    size_t used = 0;
    double d = std::stod(v, &used);
    if (used != v.size() || !(d >= min)) throw std::invalid_argument(v);
    return d;
  } catch (const std::exception&) {
    usage(flag + " wants a number >= " + std::to_string(min) + ", got '" + v + "'");
  }
}

void parse_url(const std::string& url, Args& a) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) usage("--url must start with http:// (no TLS here)");
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  a.prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!a.prefix.empty() && a.prefix.back() == '/') a.prefix.pop_back();
  size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) {
    a.host = hostport;
  } else {
    a.host = hostport.substr(0, colon);
    a.port = hostport.substr(colon + 1);
  }
  if (a.host.empty() || a.port.empty()) usage("bad --url '" + url + "'");
}

Args parse_args(int argc, char** argv) {
  Args a;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(f + " needs a value");
      return argv[++i];
    };
    if (f == "--url") parse_url(value(), a), have_url = true;
    else if (f == "--concurrency") a.concurrency = static_cast<int>(parse_number(f, value(), 1));
    else if (f == "--seconds") a.seconds = parse_number(f, value(), 0.1);
    else if (f == "--timeout") a.timeout = parse_number(f, value(), 1);
    else if (f == "--pages") a.pages = static_cast<int>(parse_number(f, value(), 1));
    else if (f == "--queries") a.queries = value();
    else if (f == "--server-metric") a.metric = value();
    else if (f == "-h" || f == "--help") usage("");
    else usage("unknown argument '" + f + "'");
  }
  if (!have_url) usage("--url is required");
  return a;
}

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string urlencode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::vector<Query> load_queries(const Args& a) {
  std::vector<std::pair<std::string, std::string>> raw;  // class, text
  using paidoc::bench::QueryKind;
  if (a.queries == "all") {
    for (QueryKind k : paidoc::bench::query_kinds())
      for (auto& q : paidoc::bench::query_set(k))
        raw.emplace_back(std::string(paidoc::bench::query_kind_name(k)), q);
  } else if (auto kind = paidoc::bench::parse_query_kind(a.queries)) {
    for (auto& q : paidoc::bench::query_set(*kind)) raw.emplace_back(a.queries, q);
  } else {
    std::ifstream in(a.queries);
    if (!in) usage("--queries: '" + a.queries + "' is neither a query class nor a readable file");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      size_t tab = line.find('\t');
      if (tab == std::string::npos) raw.emplace_back("file", line);
      else raw.emplace_back(line.substr(0, tab), line.substr(tab + 1));
    }
  }
  if (raw.empty()) usage("no queries");
  std::vector<Query> out;
  for (auto& [cls, text] : raw)
    out.push_back(Query{cls, text, a.prefix + "/api/v1/search?q=" + urlencode(text)});
  return out;
}

struct Sample {
  uint32_t query = 0;    // index into the query list
  int status = 0;        // HTTP status; 0: the connection failed
  int64_t micros = 0;    // client-side latency
  double server_ms = -1; // Server-Timing metric; < 0: absent
  int64_t total = -1;    // "total" of the JSON answer; < 0: absent
};

// "a;dur=1.5, search;desc=\"x\";dur=2.25" -> 2.25 for metric "search".
double server_timing(std::string_view header, std::string_view metric) {
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view entry = header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    size_t semi = entry.find(';');
    std::string_view name = entry.substr(0, semi);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name == metric && semi != std::string_view::npos) {
      size_t dur = entry.find("dur=", semi);
      if (dur != std::string_view::npos) {
        std::string v(entry.substr(dur + 4));
        try {
          return std::stod(v);
        } catch (const std::exception&) {
          return -1;
        }
      }
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return -1;
}

// The top-level "total" of a JSON object, or -1. Nested objects (such as
// the suggestions of an empty answer) may carry their own "total", so keys
// are matched at depth 1 only; strings are skipped with their escapes.
int64_t json_total(const std::string& body) {
  int depth = 0;
  size_t i = 0;
  const size_t n = body.size();
  while (i < n) {
    char c = body[i];
    if (c == '"') {
      size_t begin = ++i;
      while (i < n && body[i] != '"') i += body[i] == '\\' ? 2 : 1;
      if (i >= n) return -1;
      std::string_view str(body.data() + begin, i - begin);
      ++i;
      if (depth != 1 || str != "total") continue;
      size_t k = i;
      while (k < n && (body[k] == ' ' || body[k] == '\n' || body[k] == '\t' || body[k] == '\r')) ++k;
      if (k >= n || body[k] != ':') continue;  // a value, not a key
      ++k;
      while (k < n && (body[k] == ' ' || body[k] == '\n' || body[k] == '\t' || body[k] == '\r')) ++k;
      int64_t v = 0;
      bool any = false;
      while (k < n && body[k] >= '0' && body[k] <= '9') {
        v = v * 10 + (body[k++] - '0');
        any = true;
      }
      return any ? v : -1;
    }
    if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') --depth;
    ++i;
  }
  return -1;
}

struct Worker {
  const Args& args;
  const std::vector<Query>& queries;
  const tcp::resolver::results_type& endpoints;
  Clock::time_point deadline;
  size_t first;  // where this worker starts in the query list
  std::vector<Sample> samples;
  std::map<std::string, int64_t> failures;  // what went wrong with status-0 samples
  Clock::time_point finished;

  void run() {
    asio::io_context io;
    std::optional<tcp::socket> sock;
    beast::flat_buffer buf;
    const std::string host = args.host + ":" + args.port;
    size_t i = first;
    const size_t n = queries.size();
    while (Clock::now() < deadline) {
      const size_t qi = i % n;
      const int page = args.pages > 1 ? static_cast<int>((i / n) % static_cast<size_t>(args.pages)) + 1 : 1;
      ++i;
      Sample s;
      s.query = static_cast<uint32_t>(qi);
      http::request<http::empty_body> req{http::verb::get, queries[qi].target, 11};
      if (page > 1) req.target(queries[qi].target + "&page=" + std::to_string(page));
      req.set(http::field::host, host);
      req.set(http::field::user_agent, "paidoc-search-latency");
      req.set(http::field::accept, "application/json");
      req.keep_alive(true);
      auto t0 = Clock::now();
      try {
        if (!sock) {
          sock.emplace(io);
          asio::connect(*sock, endpoints);
          sock->set_option(tcp::no_delay(true));
          buf.clear();
          t0 = Clock::now();  // connecting is not part of a request's latency
        }
        http::write(*sock, req);
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        http::read(*sock, buf, parser);
        auto t1 = Clock::now();
        auto& res = parser.get();
        s.status = static_cast<int>(res.result_int());
        s.micros = std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count();
        auto st = res.find("Server-Timing");
        if (st != res.end())
          s.server_ms = server_timing(std::string_view(st->value().data(), st->value().size()), args.metric);
        if (s.status == 200) s.total = json_total(res.body());
        if (!res.keep_alive()) sock.reset();
      } catch (const std::exception& e) {
        s.status = 0;
        s.micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
        ++failures[e.what()];
        sock.reset();
        buf.clear();
        // Do not spin on a server that refuses connections.
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      samples.push_back(s);
    }
    finished = Clock::now();
  }
};

// Nearest-rank percentile of sorted values; REQUIRES: !v.empty().
template <typename T>
T percentile(const std::vector<T>& v, double p) {
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

struct Stats {
  int64_t requests = 0, errors = 0, zero_hits = 0, totals = 0;
  double total_sum = 0;
  std::vector<int64_t> micros;     // 200 answers
  std::vector<double> server_ms;   // 200 answers with the metric
  std::map<int, int64_t> statuses; // non-200 statuses
};

std::string fmt_ms(const std::vector<int64_t>& v, double p) {
  if (v.empty()) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", static_cast<double>(percentile(v, p)) / 1000.0);
  return b;
}
std::string fmt_ms(const std::vector<double>& v, double p) {
  if (v.empty()) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", percentile(v, p));
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse_args(argc, argv);
  std::vector<Query> queries = load_queries(a);

  asio::io_context io;
  tcp::resolver::results_type endpoints;
  try {
    endpoints = tcp::resolver(io).resolve(a.host, a.port);
  } catch (const std::exception& e) {
    std::cerr << "search_latency: cannot resolve " << a.host << ":" << a.port << ": " << e.what() << "\n";
    return 1;
  }

  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < a.concurrency; ++t) {
    size_t first = queries.size() * static_cast<size_t>(t) / static_cast<size_t>(a.concurrency);
    workers.push_back(std::make_unique<Worker>(Worker{a, queries, endpoints, deadline, first, {}, {}, {}}));
  }
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&w, &done] {
      w->run();
      done.fetch_add(1);
    });
  }
  // Synchronous sockets have no timeout: watch for a hung server here.
  const auto give_up = deadline + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.timeout));
  while (done.load() < a.concurrency) {
    if (Clock::now() > give_up) {
      std::cerr << "search_latency: requests still unanswered " << a.timeout
                << " s after the end of the run; giving up\n";
      std::fflush(stdout);
      std::_Exit(2);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& t : threads) t.join();
  Clock::time_point end = start;
  for (auto& w : workers) end = std::max(end, w->finished);
  const double elapsed = std::chrono::duration<double>(end - start).count();

  // ---- aggregate per class, in first-seen order ---------------------------------
  std::map<std::string, Stats> by_class;
  Stats all;
  std::map<std::string, int64_t> failures;
  for (auto& w : workers) {
    for (auto& [what, n] : w->failures) failures[what] += n;
    for (const Sample& s : w->samples) {
      const std::string& cls = queries[s.query].cls;
      for (Stats* st : {&by_class[cls], &all}) {
        ++st->requests;
        if (s.status != 200) {
          ++st->errors;
          ++st->statuses[s.status];
          continue;
        }
        st->micros.push_back(s.micros);
        if (s.server_ms >= 0) st->server_ms.push_back(s.server_ms);
        if (s.total >= 0) {
          st->total_sum += static_cast<double>(s.total);
          ++st->totals;
          if (s.total == 0) ++st->zero_hits;
        }
      }
    }
  }
  // Keep the class order of the query list.
  std::vector<std::string> classes;
  for (const Query& q : queries)
    if (by_class.count(q.cls) && std::find(classes.begin(), classes.end(), q.cls) == classes.end())
      classes.push_back(q.cls);
  if (classes.size() > 1) classes.push_back("ALL");
  by_class["ALL"] = all;

  std::printf("%d connection(s), %.1f s, %zu queries (%s)\n", a.concurrency, elapsed, queries.size(),
              a.queries.c_str());
  std::printf("%-7s %8s %7s %9s %8s %8s %8s %9s %9s %9s %10s %6s\n", "class", "requests", "errors",
              "req/s", "p50 ms", "p99 ms", "max ms", "srv p50", "srv p99", "srv max", "avg total",
              "zero");
  std::vector<std::string> lines;
  for (const std::string& cls : classes) {
    Stats& st = by_class[cls];
    std::sort(st.micros.begin(), st.micros.end());
    std::sort(st.server_ms.begin(), st.server_ms.end());
    double rps = elapsed > 0 ? static_cast<double>(st.requests) / elapsed : 0;
    std::string avg = "-";
    if (st.totals > 0) {
      char b[32];
      std::snprintf(b, sizeof b, "%.1f", st.total_sum / static_cast<double>(st.totals));
      avg = b;
    }
    std::printf("%-7s %8lld %7lld %9.1f %8s %8s %8s %9s %9s %9s %10s %6lld\n", cls.c_str(),
                static_cast<long long>(st.requests), static_cast<long long>(st.errors), rps,
                fmt_ms(st.micros, 50).c_str(), fmt_ms(st.micros, 99).c_str(), fmt_ms(st.micros, 100).c_str(),
                fmt_ms(st.server_ms, 50).c_str(), fmt_ms(st.server_ms, 99).c_str(),
                fmt_ms(st.server_ms, 100).c_str(), avg.c_str(), static_cast<long long>(st.zero_hits));
    char line[512];
    std::snprintf(line, sizeof line,
                  "result %s concurrency %d requests %lld errors %lld rps %.1f p50_ms %s p99_ms %s "
                  "max_ms %s server_n %zu server_p50_ms %s server_p99_ms %s server_max_ms %s "
                  "total_avg %s zero_hits %lld",
                  cls.c_str(), a.concurrency, static_cast<long long>(st.requests),
                  static_cast<long long>(st.errors), rps, fmt_ms(st.micros, 50).c_str(),
                  fmt_ms(st.micros, 99).c_str(), fmt_ms(st.micros, 100).c_str(), st.server_ms.size(),
                  fmt_ms(st.server_ms, 50).c_str(), fmt_ms(st.server_ms, 99).c_str(),
                  fmt_ms(st.server_ms, 100).c_str(), avg.c_str(), static_cast<long long>(st.zero_hits));
    lines.push_back(line);
  }
  if (all.errors > 0) {
    std::printf("errors:");
    for (auto& [status, n] : all.statuses) {
      if (status == 0) std::printf(" connection failures x %lld;", static_cast<long long>(n));
      else std::printf(" HTTP %d x %lld;", status, static_cast<long long>(n));
    }
    std::printf("\n");
    for (auto& [what, n] : failures) std::printf("  %s (x %lld)\n", what.c_str(), static_cast<long long>(n));
  }
  if (all.micros.size() > 0 && all.server_ms.empty())
    std::printf("note: no Server-Timing %s;dur= header in the answers: server-side figures unavailable\n",
                a.metric.c_str());
  for (auto& l : lines) std::printf("%s\n", l.c_str());
  return 0;
}
