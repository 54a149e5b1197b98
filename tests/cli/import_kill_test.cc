// `paidoc import` stores its sources in batches, one transaction each, and
// prints a file's line only once its batch is durable. Killed at any moment,
// every document it printed as imported is in the database, and running it
// again completes the rest.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli/binary.h"
#include "store/store.h"

namespace paidoc::cli::testing {
namespace {

// Written for this test: small notices, each with a paid part.
std::string notice(int i) {
  return "第" + std::to_string(i) + "号社区通知\n" + "本周社区开展第" + std::to_string(i) +
         "次环境整治活动。\n" + "##paidbegin##\n" + "整治路线从第" + std::to_string(i % 97) +
         "栋楼开始，志愿者在东门集合。\n" + "##paidend##\n" + "欢迎居民参加。\n";
}

TEST(ImportKillTest, KilledImportKeepsEveryDocumentItReportedAndResumes) {
  TempDir dir("paidoc-import-kill");
  constexpr int kFiles = 3000;
  fs::create_directories(dir.path() / "src");
  for (int i = 0; i < kFiles; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "src/%05d.txt", i);
    std::ofstream(dir / name, std::ios::binary) << notice(i);
  }
  const std::string data = dir / "data";
  fs::create_directories(data);

  int fd = -1;
  pid_t pid = spawn_paidoc({"--data", data, "import", "--batch", "25", dir / "src"}, &fd);
  ASSERT_GT(pid, 0);
  // Read until a few batches were reported, then kill it mid-import.
  std::string out;
  char buf[4096];
  size_t lines = 0;
  while (lines < 200) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    lines = static_cast<size_t>(std::count(out.begin(), out.end(), '\n'));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(fd);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the import finished before it could be killed";
  ASSERT_GE(lines, 200u) << out;
  ASSERT_LT(lines, static_cast<size_t>(kFiles));

  auto store = store::Store::open("sqlite:" + data + "/paidoc.db");
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  static const std::regex kLine(R"(^imported (\d+) (.+)$)");
  std::istringstream in(out);
  std::string line;
  size_t checked = 0;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line cut by the kill was never fully reported
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, kLine)) << line;
    auto doc = (*store)->get_document(std::stoll(m[1].str()));
    ASSERT_TRUE(doc.ok()) << line << ": " << doc.status().to_string();
    EXPECT_EQ(doc->summary.title, m[2].str());
    ++checked;
  }
  EXPECT_GE(checked, 200u);
  store->reset();

  // Again: what was stored is unchanged, the rest is imported.
  CmdResult again = paidoc("--data " + sh(data) + " import --batch 25 " + sh(dir / "src"),
                           dir.path());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  size_t unchanged = 0, imported = 0;
  std::istringstream all(again.out);
  while (std::getline(all, line)) {
    if (line.rfind("unchanged ", 0) == 0) ++unchanged;
    if (line.rfind("imported ", 0) == 0) ++imported;
  }
  EXPECT_GE(unchanged, checked);
  EXPECT_EQ(unchanged + imported, static_cast<size_t>(kFiles));
  auto reopened = store::Store::open("sqlite:" + data + "/paidoc.db");
  ASSERT_TRUE(reopened.ok());
  auto n = (*reopened)->count_documents();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, kFiles);
}

}  // namespace
}  // namespace paidoc::cli::testing
