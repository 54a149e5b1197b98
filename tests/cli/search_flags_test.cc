// The search-limit flags of `paidoc serve`: listed by --help, refused by
// name when negative, and in force on the running server (0 turns a limit
// off).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/binary.h"
#include "web/http_client.h"

namespace paidoc::cli::testing {
namespace {

using paidoc::web::testing::HttpClient;

class SearchFlagsTest : public ::testing::Test {
 protected:
  CmdResult run(const std::string& args) { return paidoc(args, dir_.path()); }

  // Starts `paidoc serve` with `flags` on an empty data folder; the port.
  int start(std::vector<std::string> flags, const std::string& name) {
    std::vector<std::string> args = {"--data", dir_ / ("data-" + name), "--listen", "127.0.0.1:0",
                                     "--access-log", "false"};
    args.insert(args.end(), flags.begin(), flags.end());
    servers_.push_back(std::make_unique<ServeProcess>(args, dir_ / (name + ".out"),
                                                      dir_ / (name + ".err")));
    return servers_.back()->wait_port();
  }

  // Status codes of n searches in a row.
  static std::vector<int> search_n(int port, int n, const std::string& target) {
    std::vector<int> codes;
    for (int i = 0; i < n; ++i) {
      HttpClient c(static_cast<uint16_t>(port));
      codes.push_back(c.get(target).status);
    }
    return codes;
  }

  TempDir dir_{"paidoc-search-flags-"};
  std::vector<std::unique_ptr<ServeProcess>> servers_;
};

TEST_F(SearchFlagsTest, HelpListsTheFlags) {
  CmdResult r = run("serve --help");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* flag : {"--search-per-minute", "--search-per-day", "--search-account-per-minute",
                           "--search-account-per-day"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << "\n" << r.out;
}

TEST_F(SearchFlagsTest, ANegativeLimitIsRefusedByName) {
  CmdResult r = run("serve --data " + sh(dir_ / "data") +
                    " --listen 127.0.0.1:0 --search-account-per-day -1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--search-account-per-day -1"), std::string::npos) << r.err;
}

TEST_F(SearchFlagsTest, TheServerKeepsTheLimitsGiven) {
  int port = start({"--search-per-minute", "2"}, "two");
  ASSERT_GT(port, 0) << servers_.back()->logs();
  EXPECT_EQ(search_n(port, 3, "/api/v1/search?q=abc"), (std::vector<int>{200, 200, 429}));

  int day = start({"--search-per-day", "3"}, "day");
  ASSERT_GT(day, 0) << servers_.back()->logs();
  EXPECT_EQ(search_n(day, 4, "/search?q=abc"), (std::vector<int>{200, 200, 200, 429}));

  // 0 turns them off: more than the default 60 a minute.
  int off = start({"--search-per-minute", "0", "--search-per-day", "0"}, "off");
  ASSERT_GT(off, 0) << servers_.back()->logs();
  std::vector<int> codes = search_n(off, 70, "/api/v1/search?q=abc");
  EXPECT_EQ(codes, std::vector<int>(70, 200));
}

}  // namespace
}  // namespace paidoc::cli::testing
