// Connections and descriptors (issue 16, finding 4): idle sockets from one
// address must not lock other clients out, the open-file limit is raised at
// start, and running out of descriptors slows accepting down instead of
// flooding the log, after which the server serves again.
//
// Each test runs `paidoc serve` with a small limit on open files, set soft
// AND hard in the child before exec, so that raising it cannot help. Clients
// bind their sockets to addresses of 127.0.0.0/8 other than 127.0.0.1
// (Linux routes the whole block to the loopback device) to be "another
// address".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/binary.h"

namespace paidoc::cli::testing {
namespace {

using Clock = std::chrono::steady_clock;

// A TCP connection to 127.0.0.1:port from `source` (e.g. "127.0.0.2");
// -1 when it cannot be made.
int connect_from(const std::string& source, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_port = 0;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads what is there until the peer closes or `deadline`; true when it
// closed (EOF or reset). Appends what came to *got.
bool read_until_closed(int fd, Clock::time_point deadline, std::string* got) {
  char buf[4096];
  for (;;) {
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, left);
    if (rc <= 0) return false;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
    got->append(buf, static_cast<size_t>(n));
  }
}

// Without waiting: reads what has come; true when the peer has closed (EOF
// or reset). Appends what came to *got.
bool closed_now(int fd, std::string* got) {
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
    got->append(buf, static_cast<size_t>(n));
  }
}

// One GET on a fresh connection from `source`, "Connection: close": the
// status, or nullopt when no complete answer came within timeout_ms.
std::optional<int> get_status(const std::string& source, uint16_t port, const std::string& target,
                              int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  int fd = connect_from(source, port);
  if (fd < 0) return std::nullopt;
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return std::nullopt;
  }
  std::string got;
  bool closed = read_until_closed(fd, deadline, &got);
  ::close(fd);
  if (!closed || got.size() < 12 || got.compare(0, 9, "HTTP/1.1 ") != 0) return std::nullopt;
  return std::stoi(got.substr(9, 3));
}

// One GET on an open keep-alive connection: the status, or nullopt.
std::optional<int> get_on(int fd, const std::string& target, int timeout_ms) {
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    return std::nullopt;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string got;
  char buf[65536];
  while (got.find("\r\n\r\n") == std::string::npos) {
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, left) <= 0) return std::nullopt;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    got.append(buf, static_cast<size_t>(n));
  }
  // Drain the body (Content-Length) so that the next answer starts clean.
  size_t head_end = got.find("\r\n\r\n") + 4;
  size_t cl = got.find("Content-Length: ");
  size_t len = cl == std::string::npos ? 0 : std::stoul(got.substr(cl + 16));
  while (got.size() < head_end + len) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    got.append(buf, static_cast<size_t>(n));
  }
  return std::stoi(got.substr(9, 3));
}

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

void close_all(std::vector<int>& fds) {
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
  fds.clear();
}

class ConnectionLimitTest : public ::testing::Test {
 protected:
  // Starts `paidoc serve` on a fresh data folder with the open-file limit
  // given; the port, or 0 after failing the test.
  uint16_t start(std::vector<std::string> flags, OpenFileLimit nofile) {
    std::vector<std::string> args = {"--data", dir_ / "data", "--listen", "127.0.0.1:0",
                                     "--access-log", "false"};
    args.insert(args.end(), flags.begin(), flags.end());
    server_ = std::make_unique<ServeProcess>(args, dir_.path() / "serve.out",
                                             dir_.path() / "serve.err",
                                             std::vector<std::string>{}, nofile);
    int port = server_->wait_port();
    EXPECT_NE(port, 0) << server_->logs();
    return static_cast<uint16_t>(port);
  }

  TempDir dir_{"paidoc-conn-test-"};
  std::unique_ptr<ServeProcess> server_;
};

TEST_F(ConnectionLimitTest, IdleSocketsFromOneAddressDoNotLockOutAnother) {
  // 128 descriptors in all, so that the idle sockets below would take every
  // one of them if they were all accepted.
  uint16_t port = start({"--max-connections-per-address", "8"}, {128, 128});
  ASSERT_NE(port, 0);
  ASSERT_EQ(get_status("127.0.0.1", port, "/healthz", 5000), 200) << server_->logs();

  // 300 connections from 127.0.0.1 that never send a byte.
  constexpr int kIdle = 300;
  std::vector<int> idle;
  for (int i = 0; i < kIdle; ++i) {
    int fd = connect_from("127.0.0.1", port);
    ASSERT_GE(fd, 0) << "connection " << i;
    idle.push_back(fd);
  }

  // A reader at another address gets the home page at once, not after the
  // idle ones time out (30 s).
  auto t0 = Clock::now();
  std::optional<int> status = get_status("127.0.0.2", port, "/", 5000);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  EXPECT_EQ(status, 200) << "no answer within 5 s; " << server_->logs();
  EXPECT_LT(took, 3000);

  // The server closed every idle connection over the cap at once, after a
  // 503 that says why; the 8 within it stay open.
  std::vector<std::string> got(kIdle);
  std::vector<bool> is_closed(kIdle, false);
  int closed = 0;
  auto sweep = [&] {
    for (int i = 0; i < kIdle; ++i)
      if (!is_closed[i] && closed_now(idle[i], &got[i])) {
        is_closed[i] = true;
        ++closed;
      }
  };
  for (auto deadline = Clock::now() + std::chrono::seconds(5);
       closed < kIdle - 8 && Clock::now() < deadline;)
    sweep(), std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  sweep();
  EXPECT_EQ(closed, kIdle - 8);
  std::string some_answer;
  for (int i = 0; i < kIdle && some_answer.empty(); ++i)
    if (is_closed[i]) some_answer = got[i];
  EXPECT_EQ(some_answer.rfind("HTTP/1.1 503 ", 0), 0u) << some_answer;
  EXPECT_NE(some_answer.find("Retry-After: 2\r\n"), std::string::npos) << some_answer;
  EXPECT_NE(some_answer.find("连接过多"), std::string::npos) << some_answer;

  // 127.0.0.1 itself is served again once its connections close.
  close_all(idle);
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    served = get_status("127.0.0.1", port, "/healthz", 2000) == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(served);

  // The refusals are in the log, throttled: not one line per connection.
  std::string logs = server_->logs();
  size_t lines = count_of(logs, "connections: refused 127.0.0.1");
  EXPECT_GE(lines, 1u) << logs;
  EXPECT_LE(lines, 3u) << logs;
}

TEST_F(ConnectionLimitTest, AcceptErrorsBackOffAndTheServerRecovers) {
  // 64 descriptors, soft and hard: a few dozen connections exhaust them.
  // The per-address cap (default 128) never applies: one connection per
  // address.
#if defined(__SANITIZE_ADDRESS__)
  // Not under the sanitizers: UndefinedBehaviorSanitizer checks a virtual
  // call's object by writing its vtable into a pipe(), and with every
  // descriptor taken pipe() fails and it reports "object has invalid vptr"
  // on a sound object (it did, on the expiry sweep's lock), which stops the
  // server. Its suppressions file cannot help: it is read at the first
  // report, by then without a descriptor to read it with. The normal build
  // runs this test.
  GTEST_SKIP() << "the sanitizer runtime itself needs descriptors; run in the normal build";
#endif
  uint16_t port = start({}, {64, 64});
  ASSERT_NE(port, 0);

  // A reader already connected before the flood, on a keep-alive connection.
  int reader = connect_from("127.0.0.250", port);
  ASSERT_GE(reader, 0);
  ASSERT_EQ(get_on(reader, "/healthz", 5000), 200) << server_->logs();

  // 200 idle connections, each from its own address 127.0.1.1 ...
  std::vector<int> flood;
  for (int i = 0; i < 200; ++i) {
    std::string source = "127.0.1." + std::to_string(i + 1);
    int fd = connect_from(source, port);
    ASSERT_GE(fd, 0) << source;
    flood.push_back(fd);
  }
  // ... held for 3 s, while the server is out of descriptors.
  std::this_thread::sleep_for(std::chrono::seconds(3));

  // The open connection is still served meanwhile.
  EXPECT_EQ(get_on(reader, "/healthz", 3000), 200);

  std::string logs = server_->logs();
  size_t lines = count_of(logs, "Too many open files");
  EXPECT_GE(lines, 1u) << "the flood did not exhaust the descriptors; " << logs;
  // Before: a line every 50 ms (60 in these 3 s, 595 in the report's 29.5 s).
  EXPECT_LE(lines, 3u) << logs;

  // Once the flood is gone, a new reader is served within a few seconds.
  close_all(flood);
  ::close(reader);
  auto t0 = Clock::now();
  std::optional<int> status;
  while (Clock::now() - t0 < std::chrono::seconds(5) && status != 200) {
    status = get_status("127.0.0.2", port, "/", 2000);
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 200) << server_->logs();
  EXPECT_TRUE(server_->running() && !server_->exited());
}

TEST_F(ConnectionLimitTest, OpenFileLimitIsRaisedAtStart) {
  struct rlimit mine {};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &mine), 0);
  rlim_t hard = std::min<rlim_t>(mine.rlim_max, 4096);
  if (hard <= 256) GTEST_SKIP() << "hard limit on open files too low here: " << mine.rlim_max;
  uint16_t port = start({}, {256, hard});
  ASSERT_NE(port, 0);

  std::string limits = slurp("/proc/" + std::to_string(server_->pid()) + "/limits");
  size_t at = limits.find("Max open files");
  ASSERT_NE(at, std::string::npos) << limits;
  std::istringstream line(limits.substr(at + std::string("Max open files").size()));
  unsigned long long soft = 0, hard_now = 0;
  line >> soft >> hard_now;
  EXPECT_EQ(soft, hard) << limits;
  EXPECT_EQ(hard_now, hard) << limits;
  std::string logs = server_->logs();
  EXPECT_EQ(count_of(logs, "open files: limit raised from 256 to " + std::to_string(hard)), 1u)
      << logs;
}

TEST_F(ConnectionLimitTest, BadConnectionAndMetricsFlagsAreRefusedByName) {
  const std::string data = " --data " + sh(dir_ / "data") + " --listen 127.0.0.1:0";
  struct Case {
    std::string flags;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"--max-connections-per-address -1", "--max-connections-per-address -1: expected 0..100000"},
           {"--max-connections-per-address 100001",
            "--max-connections-per-address 100001: expected 0..100000"},
           {"--metrics-listen nowhere", "--metrics-listen nowhere: expected HOST:PORT"},
           {"--metrics-token short", "--metrics-token: expected 16 to 256 characters, got 5"},
           {"--metrics-token " + sh("sixteen chars and a space"),
            "--metrics-token: character 8 is not a visible ASCII character"},
       }) {
    CmdResult r = paidoc("serve" + data + " " + c.flags, dir_.path());
    EXPECT_EQ(r.exit_code, 1) << c.flags << "\n" << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.flags << "\n" << r.err;
  }
}

// `serve --metrics-listen HOST:0` picks a free port, logs where the metrics
// are, and serves them there only.
TEST(MetricsAccessTest, ServeMetricsListenFlagServesThemOnItsOwnAddress) {
  TempDir dir("paidoc-metrics-cli-test-");
  ServeProcess server({"--data", dir / "data", "--listen", "127.0.0.1:0", "--metrics-listen",
                       "127.0.0.1:0"},
                      dir.path() / "serve.out", dir.path() / "serve.err");
  int port = server.wait_port();
  ASSERT_NE(port, 0) << server.logs();
  const std::string mark = "metrics on http://127.0.0.1:";
  std::string logs = server.logs();
  size_t at = logs.find(mark);
  ASSERT_NE(at, std::string::npos) << logs;
  int metrics_port = std::atoi(logs.c_str() + at + mark.size());
  ASSERT_GT(metrics_port, 0);
  EXPECT_EQ(get_status("127.0.0.1", static_cast<uint16_t>(metrics_port), "/metrics", 5000), 200);
  EXPECT_EQ(get_status("127.0.0.1", static_cast<uint16_t>(metrics_port), "/", 5000), 404);
  EXPECT_EQ(get_status("127.0.0.1", static_cast<uint16_t>(port), "/metrics", 5000), 404);
  EXPECT_EQ(get_status("127.0.0.1", static_cast<uint16_t>(port), "/healthz", 5000), 200);
}

}  // namespace
}  // namespace paidoc::cli::testing
