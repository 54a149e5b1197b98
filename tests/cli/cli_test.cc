// The paidoc binary as a user runs it: check, import, config file.
#include <gtest/gtest.h>
#include <iconv.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct CmdResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("paidoc-cli-" + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& rel, const std::string& bytes) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }

  CmdResult run(const std::string& args) { return shell(std::string(PAIDOC_BINARY) + " " + args); }

  // Runs a shell command line; stdout and stderr are captured separately.
  CmdResult shell(const std::string& command) {
    fs::path err = dir_ / "stderr.txt";
    std::string cmd = command + " 2>" + err.string();
    CmdResult r;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream e(err);
    std::stringstream ss;
    ss << e.rdbuf();
    r.err = ss.str();
    return r;
  }

  fs::path dir_;
};

// A document written for these tests, in the genre's heading scheme.
const std::string kDoc =
    "某局2025年度安全生产工作总结\n"
    "今年以来，我局坚持安全第一、预防为主。\n"
    "一、主要工作\n"
    "（一）压实责任。层层签订责任书一百二十份。\n"
    "（二）排查隐患。全年排查隐患三百余处。\n"
    "##paidbegin##（三）强化培训。组织消防演练九次，覆盖职工两千人次。\n"
    "二、存在问题\n"
    "1.部分单位台账不够规范。\n"
    "##paidend##\n"
    "以上是本年度工作总结。\n";

std::string to_gb18030_crlf(const std::string& utf8) {
  std::string crlf;
  for (char c : utf8) {
    if (c == '\n') crlf += "\r\n";
    else crlf += c;
  }
  iconv_t cd = iconv_open("GB18030", "UTF-8");
  std::string out(crlf.size() * 2, '\0');
  char* in = crlf.data();
  size_t inleft = crlf.size();
  char* o = out.data();
  size_t outleft = out.size();
  EXPECT_NE(iconv(cd, &in, &inleft, &o, &outleft), static_cast<size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - outleft);
  return out;
}

// Output of `check` without its first line (which names the file and encoding).
std::string body_of(const std::string& out) { return out.substr(out.find('\n') + 1); }

TEST_F(CliTest, CheckPrintsOutlineAndFiguresSameForEveryEncoding) {
  std::string utf8 = write("utf8.txt", kDoc);
  std::string gb = write("gb.txt", to_gb18030_crlf(kDoc));
  std::string bom = write("bom.txt", "\xEF\xBB\xBF" + kDoc);
  ASSERT_NE(to_gb18030_crlf(kDoc), kDoc);  // really different bytes

  CmdResult a = run("check " + utf8);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("title: 某局2025年度安全生产工作总结"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("\n  一、主要工作\n"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("\n    （一）压实责任\n"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("\n    （三）强化培训  [付费]\n"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("\n  二、存在问题  [付费]\n"), std::string::npos) << a.out;
  // A heading line that ends in 。 keeps it (docs/format.md §6.2).
  EXPECT_NE(a.out.find("\n      1.部分单位台账不够规范。  [付费]\n"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("1 paid section\n"), std::string::npos) << a.out;

  CmdResult b = run("check " + gb);
  CmdResult c = run("check " + bom);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(b.out.find("(gb18030)"), std::string::npos) << b.out;
  EXPECT_NE(c.out.find("(utf-8-bom)"), std::string::npos) << c.out;
  EXPECT_EQ(body_of(b.out), body_of(a.out));
  EXPECT_EQ(body_of(c.out), body_of(a.out));
}

TEST_F(CliTest, CheckFailsWithPlaceAndKeepsGoing) {
  std::string good = write("good.txt", kDoc);
  std::string bad = write("bad.txt", "标题\n正文##paidend##\n");
  CmdResult r = run("check " + bad + " " + good);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error " + bad + ":2:3: "), std::string::npos) << r.err;
  EXPECT_NE(r.out.find(good + ": ok"), std::string::npos) << r.out;
}

TEST_F(CliTest, CheckAndImportRefuseANearMissMarker) {
  std::string doc = kDoc;
  doc.replace(doc.find("##paidend##"), std::string("##paidend##").size(), "　$$ paidend $$");
  std::string bad = write("near.txt", doc);
  auto error_line = [](const std::string& file) {
    return "error " + file +
           ":9:2: looks like a paid marker but is not one: \"$$ paidend $$\"; write ##paidend##\n";
  };

  CmdResult c = run("check " + bad);
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_EQ(c.err, error_line(bad));
  EXPECT_EQ(c.out, "");

  // Imported once in good shape, then refused: the stored document stays as it was.
  std::string data = (dir_ / "data").string();
  std::string src = write("in/plan.txt", kDoc);
  ASSERT_EQ(run("import --data " + data + " " + src).out, "imported 1 某局2025年度安全生产工作总结\n");
  write("in/plan.txt", doc);
  CmdResult r = run("import --data " + data + " " + src);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, error_line(src)) << r.err;
  write("in/plan.txt", kDoc);
  EXPECT_EQ(run("import --data " + data + " " + src).out, "unchanged 1 某局2025年度安全生产工作总结\n");
}

TEST_F(CliTest, ServeRefusesBadDownloadSettingsByName) {
  std::string data = (dir_ / "data").string();
  CmdResult r = run("serve --data " + data + " --listen 127.0.0.1:0 --download-link-ttl 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--download-link-ttl 0"), std::string::npos) << r.err;
  r = run("serve --data " + data + " --listen 127.0.0.1:0 --download-free-daily -1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--download-free-daily -1"), std::string::npos) << r.err;
}

TEST_F(CliTest, ServeRefusesAMissingPagesDirNamingIt) {
  std::string data = (dir_ / "data").string();
  std::string pages = (dir_ / "no-pages-here").string();
  CmdResult r = run("serve --data " + data + " --listen 127.0.0.1:0 --pages-dir " + pages);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--pages-dir " + pages + ": no such folder"), std::string::npos) << r.err;
  r = run("serve --data " + data + " --listen 127.0.0.1:0 --contact-email not-an-address");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--contact-email not-an-address"), std::string::npos) << r.err;
}

TEST_F(CliTest, ImportReportsEachFileAndSkipsBadOnes) {
  write("in/1.txt", kDoc);
  write("in/sub/2.txt", "标题\n##paidbegin##正文\n");
  write("in/sub/3.txt", "街道文明创建简报\n本月开展志愿活动四次。\n");
  std::string data = (dir_ / "data").string();
  CmdResult r = run("import --data " + data + " --price 12.5 --category 工作总结 " + (dir_ / "in").string());
  EXPECT_EQ(r.exit_code, 1);
  std::istringstream lines(r.out);
  std::string l1, l2, l3;
  std::getline(lines, l1);
  std::getline(lines, l2);
  std::getline(lines, l3);
  EXPECT_EQ(l1, "imported 1 某局2025年度安全生产工作总结");
  EXPECT_EQ(l2.rfind("error " + (dir_ / "in/sub/2.txt").string() + ":2:1: ", 0), 0u) << l2;
  EXPECT_EQ(l3, "imported 2 街道文明创建简报");

  CmdResult again = run("import --data " + data + " " + (dir_ / "in/1.txt").string());
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "unchanged 1 某局2025年度安全生产工作总结\n");

  CmdResult bad_price = run("import --data " + data + " --price 1.234 " + (dir_ / "in/1.txt").string());
  EXPECT_EQ(bad_price.exit_code, 1);
  EXPECT_NE(bad_price.err.find("--price: amount '1.234' has more than two decimals"), std::string::npos)
      << bad_price.err;
}

TEST_F(CliTest, ConfigFileKeysAreFlags) {
  std::string data = (dir_ / "cfgdata").string();
  std::string cfg = write("paidoc.toml", "data = \"" + data + "\"\n[import]\nprice = \"x\"\n");
  // The [import] price from the file is used (and rejected, naming the flag).
  CmdResult r = run("--config " + cfg + " import " + write("d.txt", kDoc));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--price: amount 'x'"), std::string::npos) << r.err;
  // A flag on the command line wins over the file; data goes where the file says.
  CmdResult ok = run("--config " + cfg + " import --price 3 " + (dir_ / "d.txt").string());
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(fs::exists(fs::path(data) / "paidoc.db"));
}

}  // namespace

namespace {

// `paidoc serve` as an operator runs it: serves, logs one line per request,
// and on SIGTERM finishes and exits 0.
TEST_F(CliTest, ServeAnswersLogsAndStopsOnSigterm) {
  fs::path out = dir_ / "serve.out";
  fs::path err = dir_ / "serve.err";
  std::string data = (dir_ / "data").string();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    freopen(out.c_str(), "w", stdout);
    freopen(err.c_str(), "w", stderr);
    execl(PAIDOC_BINARY, PAIDOC_BINARY, "serve", "--demo", "--data", data.c_str(), "--listen",
          "127.0.0.1:0", static_cast<char*>(nullptr));
    _exit(127);
  }
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  // Wait for "serving on http://127.0.0.1:PORT/".
  int port = 0;
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::string logs = slurp(out) + slurp(err);
    size_t at = logs.find("serving on http://127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(logs.c_str() + at + 28);
    else usleep(50 * 1000);
  }
  ASSERT_GT(port, 0) << slurp(out) << slurp(err);

  CmdResult page = shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:" +
                         std::to_string(port) + "/d/1");
  EXPECT_EQ(page.out, "200");

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 100 && !exited; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) exited = true;
    else usleep(50 * 1000);
  }
  if (!exited) kill(pid, SIGKILL), waitpid(pid, &status, 0);
  ASSERT_TRUE(exited) << "paidoc serve did not stop within 5 s of SIGTERM";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::string logs = slurp(out) + slurp(err);
  EXPECT_NE(logs.find("GET /d/1 200"), std::string::npos) << logs;  // the access-log line
  EXPECT_NE(logs.find("paidoc stopped"), std::string::npos) << logs;
}

}  // namespace

namespace {

TEST_F(CliTest, UserAddReadsThePasswordFromStdin) {
  std::string data = (dir_ / "users").string();
  CmdResult ok = shell("echo 'correct horse battery' | " + std::string(PAIDOC_BINARY) +
                       " user add --data " + data + " --email ' Admin@Example.CN ' --role admin");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "added user 1 admin@example.cn (admin)\n");

  CmdResult dup = shell("echo 'another password' | " + std::string(PAIDOC_BINARY) + " user add --data " +
                        data + " --email admin@example.cn");
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_NE(dup.err.find("paidoc: "), std::string::npos) << dup.err;

  CmdResult short_pw = shell("echo 'short' | " + std::string(PAIDOC_BINARY) + " user add --data " + data +
                             " --email b@example.cn");
  EXPECT_EQ(short_pw.exit_code, 1);
  EXPECT_NE(short_pw.err.find("8"), std::string::npos) << short_pw.err;

  CmdResult bad_role = shell("echo 'long enough pw' | " + std::string(PAIDOC_BINARY) + " user add --data " +
                             data + " --email c@example.cn --role owner");
  EXPECT_NE(bad_role.exit_code, 0);

  CmdResult no_stdin = shell(std::string(PAIDOC_BINARY) + " user add --data " + data +
                             " --email d@example.cn </dev/null");
  EXPECT_EQ(no_stdin.exit_code, 1);
  EXPECT_NE(no_stdin.err.find("no password on stdin"), std::string::npos) << no_stdin.err;
}

}  // namespace

// Issue 16, finding 7: messages that say what happened and what to do.
namespace {

class ErrorMessagesTest : public CliTest {};

TEST_F(ErrorMessagesTest, AnUnknownCommandIsNamedWithTheCommandsThereAre) {
  CmdResult r = run("frobnicate");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("serve"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("import"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("A subcommand is required"), std::string::npos) << r.err;
  // Global options before the command are still read as options.
  CmdResult g = run("--data " + (dir_ / "d").string() + " frobnicate");
  EXPECT_NE(g.err.find("unknown command 'frobnicate'"), std::string::npos) << g.err;
}

TEST_F(ErrorMessagesTest, AMissingFileSaysWhyOnCheckAndImport) {
  const std::string nope = (dir_ / "nope.txt").string();
  CmdResult c = run("check " + nope);
  EXPECT_NE(c.exit_code, 0);
  EXPECT_NE(c.err.find(nope + ": cannot read: No such file or directory (check the path)"),
            std::string::npos)
      << c.err;
  CmdResult i = run("--data " + (dir_ / "site").string() + " import " + nope);
  EXPECT_NE(i.exit_code, 0);
  EXPECT_NE((i.out + i.err).find(nope + ": no such file or folder"), std::string::npos)
      << i.out << i.err;
  // A file that exists but cannot be read says so, with the reason.
  const std::string locked = write("locked.txt", "标题\n正文\n");
  fs::permissions(locked, fs::perms::none);
  if (::geteuid() != 0) {  // root reads it anyway
    CmdResult l = run("check " + locked);
    EXPECT_NE(l.err.find(locked + ": cannot read: Permission denied"), std::string::npos) << l.err;
  }
  CmdResult d = run("check " + dir_.string());
  EXPECT_NE(d.err.find(": cannot read: Is a directory"), std::string::npos) << d.err;
}

TEST_F(ErrorMessagesTest, ABinaryFileIsCalledBinaryNotBadlyEncoded) {
  std::string png = "\x89PNG\r\n\x1a\n";
  png += std::string("\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0\x1f\xf3\xff\x61", 25);
  const std::string f = write("picture.txt", png);
  CmdResult r = run("check " + f);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not a text file: the bytes look like a PNG image"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("invalid encoding"), std::string::npos) << r.err;
}

TEST_F(ErrorMessagesTest, ANegativeThreadCountIsRefusedByName) {
  CmdResult r = run("serve --data " + (dir_ / "site").string() +
                    " --listen 127.0.0.1:0 --threads -3");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--threads -3: expected 0..1024"), std::string::npos) << r.err;
}

TEST_F(ErrorMessagesTest, AFileThatIsNotADatabaseSaysWhatToDo) {
  fs::create_directories(dir_ / "site");
  write("site/paidoc.db", std::string(8192, 'x'));
  CmdResult r = run("--data " + (dir_ / "site").string() + " ledger verify");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("is not a SQLite database"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("paidoc restore --from"), std::string::npos) << r.err;
}

TEST_F(ErrorMessagesTest, AnEncodingErrorGivesLineAndColumnAsREADMESays) {
  const std::string f = write("bad.txt", "标题\n第二行有坏字节\xFF在这里\n");
  CmdResult r = run("check " + f);
  EXPECT_NE(r.exit_code, 0);
  // Line 2, after 7 characters; the byte offset comes last.
  EXPECT_NE(r.err.find(f + ":2:8: invalid encoding"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(byte offset 28)"), std::string::npos) << r.err;
}

}  // namespace

namespace {

// Issue 16, finding 5: `--max-source-mb` (a global flag and config key).
TEST_F(CliTest, ImportRefusesASourceOverMaxSourceMbAndTheFlagIsBounded) {
  std::string big = "大文件\n";
  while (big.size() < (1u << 20) + 4096) big += "这一段正文只是为了把文件撑大，超过一兆字节。\n";
  const std::string f = write("big.txt", big);
  const std::string data = (dir_ / "site").string();
  CmdResult r = run("--data " + data + " --max-source-mb 1 import " + f);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("big.txt: source too large: the file is 1.0 MB, the limit is 1.0 MB"),
            std::string::npos)
      << r.out << r.err;
  CmdResult ok = run("--data " + data + " --max-source-mb 2 import " + f);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("imported "), std::string::npos) << ok.out;
  CmdResult bad = run("--data " + data + " --max-source-mb 0 import " + f);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--max-source-mb 0: expected 1..64 (MiB)"), std::string::npos) << bad.err;
}

// Issue 16, finding 3: a price of 2^63-1 fen reached the page and the
// orders. `import --price` above the maximum price is refused before
// anything is read, naming the price and the limit; --max-price (yuan,
// also the config key max-price) sets the limit within 0.01..10000000.
TEST_F(CliTest, ImportRefusesAPriceAboveMaxPriceAndTheFlagIsBounded) {
  const std::string f = write("doc.txt", kDoc);
  const std::string data = (dir_ / "site").string();
  CmdResult r = run("--data " + data + " import --price 100000.01 " + f);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--price: ¥100000.01 (10000001 fen) is above the maximum price ¥100000.00 "
                       "(10000000 fen; --max-price)"),
            std::string::npos)
      << r.out << r.err;
  EXPECT_EQ(r.out.find("imported"), std::string::npos) << r.out;
  CmdResult raised = run("--data " + data + " --max-price 200000 import --price 150000 " + f);
  EXPECT_EQ(raised.exit_code, 0) << raised.out << raised.err;
  EXPECT_NE(raised.out.find("imported "), std::string::npos) << raised.out;
  for (const char* bad : {"0", "10000000.01", "abc"}) {
    CmdResult b = run("--data " + data + " --max-price " + bad + " import " + f);
    EXPECT_EQ(b.exit_code, 1) << bad;
    EXPECT_NE(b.err.find(std::string("--max-price ") + bad + ": expected yuan from 0.01 to 10000000"),
              std::string::npos)
        << b.err;
  }
}

}  // namespace
