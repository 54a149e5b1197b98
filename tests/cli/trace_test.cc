// `paidoc trace` and `paidoc export` as an operator runs them. The data
// folder is set up through the binary (import, user add, wallet credit); the
// purchase and the reader's download happen in-process through the library,
// commerce and downloads services on the same database, as the server would
// do them; then the binary names the download a leaked file came from.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <string_view>

#include "cli/binary.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "downloads/downloads.h"
#include "library/library.h"
#include "store/store.h"

namespace paidoc::cli::testing {
namespace {

// Written for these tests: a municipal bureau's notice on document handling.
constexpr std::string_view kTitle = "关于规范机关公文处理工作的通知";
constexpr std::string_view kNotice =
    "关于规范机关公文处理工作的通知\n"
    "局属各单位、机关各处室：\n"
    "为进一步提高公文处理质量和效率，根据有关规定，结合我局实际，现就有关事项通知如下。\n"
    "一、严格公文起草\n"
    "起草公文应当做到观点明确、条理清晰、文字精炼，篇幅力求简短。\n"
    "##paidbegin##\n"
    "（一）严把审核关口\n"
    "办公室对拟印发的公文实行三级审核，未经法制科审核的规范性文件一律不得提交局长办公会。\n"
    "（二）规范办理时限\n"
    "一般来文须在五个工作日内办结，紧急来文须当日批办，逾期未办结的由督查科发出催办单。\n"
    "（三）加强归档管理\n"
    "办结的公文应于次年三月底前整理归档，电子文件与纸质文件同步移交档案室。\n"
    "##paidend##\n"
    "请认真遵照执行。\n";
constexpr std::string_view kPaid1 = "未经法制科审核的规范性文件一律不得提交局长办公会";
constexpr std::string_view kPaid2 = "逾期未办结的由督查科发出催办单";
constexpr std::string_view kPaid3 = "电子文件与纸质文件同步移交档案室";
constexpr std::string_view kFree = "起草公文应当做到观点明确、条理清晰、文字精炼";

class TraceCliTest : public ::testing::Test {
 protected:
  CmdResult run(const std::string& args) { return paidoc(args, dir_.path()); }
  std::string data() const { return dir_ / "data"; }
  std::string d() const { return " --data " + sh(data()); }

  std::string write(const std::string& rel, std::string_view bytes) {
    std::string p = dir_ / rel;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  void SetUp() override {
    std::string src = write("notice.txt", kNotice);
    CmdResult imported = run("import" + d() + " --price 6 " + sh(src));
    ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
    ASSERT_NE(imported.out.find("imported 1 "), std::string::npos) << imported.out;
    CmdResult added = shell("echo 'correct horse battery' | " + std::string(PAIDOC_BINARY) +
                                " user add" + d() + " --email buyer@example.cn",
                            dir_.path());
    ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
    CmdResult credited = run("wallet credit" + d() + " --email buyer@example.cn --amount 20");
    ASSERT_EQ(credited.exit_code, 0) << credited.out << credited.err;
  }

  struct Bought {
    int64_t user_id = 0;
    int64_t order_id = 0;
    std::string out_trade_no;
    int64_t download_id = 0;
  };

  // The buyer buys document 1 from the wallet and downloads it as `format`
  // through a signed link, in-process on the data folder's database; the
  // file is written to `out`.
  Bought buy_and_download(const std::string& format, const std::string& out) {
    Bought b;
    auto opened = store::Store::open("sqlite:" + (dir_.path() / "data" / "paidoc.db").string());
    EXPECT_TRUE(opened.ok()) << opened.status().to_string();
    if (!opened.ok()) return b;
    std::unique_ptr<store::Store> st = std::move(opened).value();
    library::Library lib(*st);
    commerce::Commerce commerce(*st, *st, Clock::system(), commerce::Options{}, {});
    downloads::Service svc(downloads::Stores{*st, *st, *st, *st}, lib, commerce, Clock::system());
    Status init = svc.init();
    EXPECT_TRUE(init.is_ok()) << init.to_string();

    auto user = st->find_user_by_email("buyer@example.cn");
    EXPECT_TRUE(user.ok()) << user.status().to_string();
    if (!user.ok()) return b;
    b.user_id = user->id;
    auto viewer = commerce.viewer(b.user_id, gate::Role::kReader);
    EXPECT_TRUE(viewer.ok());
    if (!viewer.ok()) return b;
    if (viewer->purchased.empty()) {
      auto order = commerce.order_document(b.user_id, gate::Role::kReader, 1);
      EXPECT_TRUE(order.ok()) << order.status().to_string();
      if (!order.ok()) return b;
      auto paid = commerce.pay(b.user_id, order->id, commerce::PayMethod::kWallet);
      EXPECT_TRUE(paid.ok()) << paid.status().to_string();
      if (!paid.ok()) return b;
      viewer = commerce.viewer(b.user_id, gate::Role::kReader);
    }
    auto orders = commerce.orders(b.user_id);
    EXPECT_TRUE(orders.ok());
    for (const commerce::Order& o : *orders) {
      if (o.kind == commerce::OrderKind::kDocument && o.status == commerce::OrderStatus::kPaid) {
        b.order_id = o.id;
        b.out_trade_no = o.out_trade_no;
      }
    }

    auto link = svc.link(1, format, *viewer);
    EXPECT_TRUE(link.ok()) << link.status().to_string();
    if (!link.ok()) return b;
    static const std::regex re(R"(^/download/1\?format=(\w+)&exp=(\d+)&sig=(\w+)$)");
    std::smatch m;
    EXPECT_TRUE(std::regex_match(link->url, m, re)) << link->url;
    if (m.empty()) return b;
    auto file = svc.fetch(1, m[1].str(), std::stoll(m[2].str()), m[3].str(), *viewer);
    EXPECT_TRUE(file.ok()) << file.status().to_string();
    if (!file.ok()) return b;
    b.download_id = file->record.id;
    std::ofstream(out, std::ios::binary) << file->bytes;
    return b;
  }

  TempDir dir_{"paidoc-trace-cli-"};
};

TEST_F(TraceCliTest, TraceNamesTheBuyerAndTheOrderOfADownloadedFile) {
  for (const std::string format : {"txt", "docx", "pdf"}) {
    SCOPED_TRACE(format);
    const std::string file = dir_ / ("leaked." + format);
    Bought b = buy_and_download(format, file);
    ASSERT_GT(b.download_id, 0);
    ASSERT_FALSE(b.out_trade_no.empty());

    CmdResult r = run("trace" + d() + " " + sh(file));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("download " + std::to_string(b.download_id) + " of document 1 《" +
                         std::string(kTitle) + "》 as " + format),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("\nuser " + std::to_string(b.user_id) + " buyer@example.cn\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("\norder " + std::to_string(b.order_id) + " " + b.out_trade_no + " "),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("not traced"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("warning"), std::string::npos) << r.out;
  }
}

TEST_F(TraceCliTest, TraceReadsStdinAndPastedText) {
  const std::string file = dir_ / "leaked.txt";
  Bought b = buy_and_download("txt", file);
  ASSERT_GT(b.download_id, 0);

  CmdResult r = shell(std::string(PAIDOC_BINARY) + " trace" + d() + " - < " + sh(file), dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("stdin: text", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("download " + std::to_string(b.download_id) + " "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("buyer@example.cn"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(b.out_trade_no), std::string::npos) << r.out;

  // A few lines copied out of the middle of the file, piped in.
  std::string text = slurp(file);
  size_t from = text.find("（一）");
  size_t to = text.find("请认真遵照执行");
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  const std::string pasted = write("pasted.txt", text.substr(from, to - from));
  ASSERT_NE(slurp(pasted).find(kPaid2), std::string::npos);
  CmdResult p = shell("cat " + sh(pasted) + " | " + std::string(PAIDOC_BINARY) + " trace" + d(),
                      dir_.path());
  EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_NE(p.out.find("download " + std::to_string(b.download_id) + " "), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("buyer@example.cn"), std::string::npos) << p.out;
}

TEST_F(TraceCliTest, FileWithoutAMarkIsNotTraced) {
  const std::string plain = write("plain.txt", std::string(kNotice));
  CmdResult r = run("trace" + d() + " " + sh(plain));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("not traced: "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\nuser "), std::string::npos) << r.out;

  CmdResult missing = run("trace" + d() + " " + sh(dir_ / "nonexistent.docx"));
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_EQ(missing.out.find("\nuser "), std::string::npos) << missing.out;
}

TEST_F(TraceCliTest, ExportWritesTheWholeDocumentAndIsNoReadersDownload) {
  const std::string txt = dir_ / "export.txt";
  CmdResult r = run("export" + d() + " --id 1 --format txt --out " + sh(txt));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("exported 1 ("), std::string::npos) << r.out;
  std::string text = slurp(txt);
  EXPECT_EQ(text.rfind(kTitle, 0), 0u);
  for (std::string_view s : {kFree, kPaid1, kPaid2, kPaid3})
    EXPECT_NE(text.find(s), std::string::npos) << s;
  EXPECT_NE(text.find("请认真遵照执行。"), std::string::npos);

  const std::string docx = dir_ / "export.docx";
  CmdResult dr = run("export" + d() + " --id 1 --format docx --out " + sh(docx));
  ASSERT_EQ(dr.exit_code, 0) << dr.out << dr.err;
  EXPECT_EQ(slurp(docx).substr(0, 2), "PK");

  // An export is the operator's copy: trace says so and names no reader.
  CmdResult t = run("trace" + d() + " " + sh(docx));
  EXPECT_EQ(t.exit_code, 1) << t.out << t.err;
  EXPECT_NE(t.out.find("not traced: "), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("operator export"), std::string::npos) << t.out;

  CmdResult bad = run("export" + d() + " --id 1 --format odt --out " + sh(dir_ / "x.odt"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--format"), std::string::npos) << bad.err;
  CmdResult unknown = run("export" + d() + " --id 99 --format txt --out " + sh(dir_ / "x.txt"));
  EXPECT_EQ(unknown.exit_code, 1);
}

}  // namespace
}  // namespace paidoc::cli::testing
