// format.md §6.4: the attachment note, signature and date at a document's end.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "doc/document.h"
#include "doc/parser.h"

namespace paidoc::doc {
namespace {

// Each block as "role text": role is "a", "s", "d" for the closing roles,
// "h3" for a heading, "p" for any other paragraph; paid runs in [brackets].
std::vector<std::string> roles(std::string_view source) {
  ParseResult r = parse(source, "t.txt");
  EXPECT_TRUE(r.ok) << r.error.to_string();
  std::vector<std::string> out;
  for (const Block& b : r.document.blocks) {
    std::string s;
    switch (b.closing) {
      case Closing::kAttachment: s = "a "; break;
      case Closing::kSignature: s = "s "; break;
      case Closing::kDate: s = "d "; break;
      case Closing::kNone:
        s = b.kind == BlockKind::kHeading ? "h" + std::to_string(b.level) + " " + b.label
                                          : (b.run_in ? "r " : "p ");
    }
    for (const Run& run : b.runs) s += run.paid ? "[" + run.text + "]" : run.text;
    out.push_back(s);
  }
  return out;
}

using Lines = std::vector<std::string>;

TEST(Closing, ANoticeEndsWithAttachmentsSignatureAndDate) {
  EXPECT_EQ(roles("关于开展安全检查的通知\n"
                  "各科室：\n"
                  "请于月底前完成自查。\n"
                  "\n"
                  "附件：1.安全检查表\n"
                  "　　　2.整改台账模板\n"
                  "\n"
                  "某县应急管理局办公室\n"
                  "2024年3月5日\n"),
            (Lines{"p 各科室：", "p 请于月底前完成自查。", "a 附件：1.安全检查表",
                   "a 2.整改台账模板", "s 某县应急管理局办公室", "d 2024年3月5日"}));
}

TEST(Closing, APersonalReportIsSignedWithANameAndADateInChineseNumerals) {
  EXPECT_EQ(roles("个人对照检查材料\n一、存在的问题\n学习不够深入。\n对照检查人：王某某\n二〇二四年一月十五日\n"),
            (Lines{"h1 一、存在的问题", "p 学习不够深入。", "s 对照检查人：王某某",
                   "d 二〇二四年一月十五日"}));
  // Two signature lines: the organisation, then the office.
  EXPECT_EQ(roles("工作方案\n正文。\n某某街道党工委\n某某街道办事处\n2025年12月31日"),
            (Lines{"p 正文。", "s 某某街道党工委", "s 某某街道办事处", "d 2025年12月31日"}));
}

TEST(Closing, ADateAloneIsADateAndThreeShortLinesAreNotAllSignature) {
  EXPECT_EQ(roles("通知\n正文。\n2024年01月05日"), (Lines{"p 正文。", "d 2024年01月05日"}));
  EXPECT_EQ(roles("通知\n甲单位\n乙单位\n丙单位\n2024年1月5日"),
            (Lines{"p 甲单位", "s 乙单位", "s 丙单位", "d 2024年1月5日"}));
}

TEST(Closing, LinesThatOnlyLookLikeAClosingAreBodyText) {
  // A sentence is not a signature; a date inside a sentence is not a date.
  EXPECT_EQ(roles("总结\n以上报告，请审阅。\n2024年1月5日"),
            (Lines{"p 以上报告，请审阅。", "d 2024年1月5日"}));
  EXPECT_EQ(roles("总结\n某局办公室\n会议定于2024年1月5日召开。"),
            (Lines{"p 某局办公室", "p 会议定于2024年1月5日召开。"}));
  // No date at the end: no signature.
  EXPECT_EQ(roles("总结\n正文。\n某局办公室"), (Lines{"p 正文。", "p 某局办公室"}));
  // Not dates: month 13, day 32, a two-digit year, text after 日.
  for (const char* line : {"2024年13月5日", "2024年1月32日", "24年1月5日", "2024年1月5日上午"}) {
    SCOPED_TRACE(line);
    EXPECT_EQ(roles(std::string("总结\n正文。\n") + line), (Lines{"p 正文。", "p " + std::string(line)}));
  }
  // A numbered line far from the end stays a heading; 附件 in the body is text.
  EXPECT_EQ(roles("总结\n附件：见后。\n1.第一项工作\n正文。"),
            (Lines{"p 附件：见后。", "h3 1.第一项工作", "p 正文。"}));
}

TEST(Closing, AttachmentItemsThatWouldBeHeadingsAreParagraphsWithTheirNumber) {
  EXPECT_EQ(roles("通知\n正文。\n附件：\n1.检查表\n2.台账：样式\n3．说明。\n"),
            (Lines{"p 正文。", "a 附件：", "a 1.检查表", "a 2.台账：样式", "a 3．说明。"}));
}

TEST(Closing, PaidClosingLinesKeepTheirSideAndMixedLinesTakeNoRole) {
  EXPECT_EQ(roles("通知\n正文。\n##paidbegin##某局办公室\n2024年1月5日##paidend##\n"),
            (Lines{"p 正文。", "s [某局办公室]", "d [2024年1月5日]"}));
  EXPECT_EQ(roles("通知\n正文。\n某局##paidbegin##办公室##paidend##\n2024年1月5日\n"),
            (Lines{"p 正文。", "p 某局[办公室]", "d 2024年1月5日"}));
}

TEST(OfficialDate, ArabicNumeralsWithoutLeadingZeros) {
  EXPECT_EQ(official_date("2024年1月5日"), "2024年1月5日");
  EXPECT_EQ(official_date("　2024年01月05日 "), "2024年1月5日");
  EXPECT_EQ(official_date("２０２４年１２月３１日"), "2024年12月31日");
  EXPECT_EQ(official_date("二〇二四年一月五日"), "2024年1月5日");
  EXPECT_EQ(official_date("二〇二四年十二月二十五日"), "2024年12月25日");
  EXPECT_EQ(official_date("二零二四年十月三十一日"), "2024年10月31日");
  EXPECT_EQ(official_date("二〇二四年二月十日"), "2024年2月10日");
  EXPECT_EQ(official_date("2024年1月 5日"), std::nullopt);
  EXPECT_EQ(official_date("2024年十三月5日"), std::nullopt);
  EXPECT_EQ(official_date("2024年一十月5日"), std::nullopt);
  EXPECT_EQ(official_date("2024年1月"), std::nullopt);
  EXPECT_EQ(official_date("20２4年1月5日"), "2024年1月5日");
  EXPECT_EQ(official_date("二0二四年1月5日"), std::nullopt);
}

}  // namespace
}  // namespace paidoc::doc
