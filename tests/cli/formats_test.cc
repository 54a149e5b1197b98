// `paidoc import` and `paidoc check` on .md and .docx sources, as a
// publisher runs them on a folder of mixed files.
#include <gtest/gtest.h>

#include <string>

#include "cli/binary.h"
#include "sources/docx_builder.h"

namespace paidoc::cli::testing {
namespace {

using paidoc::testing::docx;
using paidoc::testing::p;

std::string write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

TEST(CliFormats, ImportsAFolderOfTxtMdAndDocx) {
  TempDir dir("paidoc-formats-");
  write(dir.path() / "in/a.txt", "防汛值班安排\n各单位落实二十四小时值班。\n##paidbegin##一、值班名单\n##paidend##\n");
  write(dir.path() / "in/b.md",
        "# 夏季用电提示\n\n请**错峰**用电。\n\n##paidbegin##\n## 一、检修计划\n##paidend##\n");
  const std::string numbering =
      "<w:abstractNum w:abstractNumId=\"0\"><w:lvl w:ilvl=\"0\"><w:numFmt w:val=\"chineseCounting\"/>"
      "<w:lvlText w:val=\"%1、\"/></w:lvl></w:abstractNum><w:num w:numId=\"1\"><w:abstractNumId w:val=\"0\"/></w:num>";
  const std::string heading_style =
      "<w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/>"
      "<w:pPr><w:numPr><w:numId w:val=\"1\"/></w:numPr></w:pPr></w:style>";
  const std::string docx_path = write(
      dir.path() / "in/sub/c.docx",
      docx(p({"秋季运动会", "通知"}) + p({"定于十月举行。"}) + p({"##paid", "begin##"}) +
               p({"比赛项目"}, "Heading1") + p({"##paidend##"}),
           heading_style, numbering));
  write(dir.path() / "in/notes.json", "{}");  // not a source: not collected

  const std::string data = dir / "data";
  CmdResult r = paidoc("import --data " + sh(data) + " " + sh(dir / "in"), dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "imported 1 防汛值班安排\nimported 2 夏季用电提示\nimported 3 秋季运动会通知\n");

  // Unchanged bytes are unchanged documents, whatever the format.
  r = paidoc("import --data " + sh(data) + " " + sh(dir / "in"), dir.path());
  EXPECT_EQ(r.out, "unchanged 1 防汛值班安排\nunchanged 2 夏季用电提示\nunchanged 3 秋季运动会通知\n");

  // The Word numbering of the heading style is the outline's label.
  r = paidoc("check " + sh(docx_path), dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, docx_path + ": ok (utf-8)\n  title: 秋季运动会通知\n  一、比赛项目  [付费]\n"
                               "  free: 7 chars in 1 paragraphs; paid: 6 chars in 1 paragraphs; 1 paid section\n");
}

TEST(CliFormats, CheckNamesADocxErrorByParagraph) {
  TempDir dir("paidoc-formats-");
  const std::string bad = write(dir.path() / "bad.docx",
                                docx(p({"社区通知"}) + p({"本周六停水。"}) + p({"详情", "##paid", "end##"})));
  const std::string broken = write(dir.path() / "broken.docx", "社区通知\n");
  CmdResult r = paidoc("check " + sh(bad) + " " + sh(broken), dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "error " + bad + ": paragraph 3: stray ##paidend##: no paid section is open\n" +
                       "error " + broken + ": not a .docx file: not a zip archive\n");
}

}  // namespace
}  // namespace paidoc::cli::testing
