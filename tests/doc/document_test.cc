// A whole 对照检查材料-style document through the parser (outline, figures,
// encodings) and the JSON form of document.h.
#include "doc/document.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "doc/parser.h"

namespace paidoc::doc {
namespace {

// Spelled out: inside a TEST body, plain "Run" is testing::Test::Run.
using Runs = std::vector<doc::Run>;

// Written for these tests. The paid section opens at the third level-2
// heading under 一 and runs to the end.
// clang-format off
const char* const kCheckReport[] = {
    "",
    "区机关支部组织委员2024年度组织生活会个人对照检查材料",
    "　　根据支部组织生活会的通知要求，本人围绕会议主题，逐项对照检查，现将自查情况说明如下。",
    "一、存在的主要问题",
    "（一）在学习贯彻方面。"
        "一是学习的系统性不强。日常学习多停留在读原文、记笔记上，结合岗位开展专题研讨较少。"
        "二是学习成果转化不够。把学习心得运用到具体工作中的办法不多。",
    "（二）在服务群众方面。"
        "一是主动上门服务少。到社区了解群众诉求的频次不高。二是办事流程还需优化。",
    "##paidbegin##（三）在履职尽责方面。"
        "一是调查研究不够扎实。对基层情况的掌握多来自汇报材料。"
        "二是跟踪问效不够。部分工作满足于布置安排。",
    "（四）在纪律规矩方面。一是执行请示报告制度不够严格。二是对身边同志提醒不够直接。",
    "二、问题产生的原因",
    "（一）理论武装还不够到位。挤时间学习的自觉性不强。",
    "（二）为民服务意识有所减退。换位思考不够，主动性不足。",
    "三、下一步整改措施",
    "（一）持续加强理论学习。制定个人学习计划，每月至少参加一次专题研讨。",
    "（二）切实改进工作作风。每季度深入基层调研不少于两次，建立问题台账并逐项销号。",
    "（三）严守纪律规矩。严格执行请示报告制度，经常开展谈心谈话。",
    "##paidend##",
};
// clang-format on

std::string report(const std::string& line_end, const std::string& prefix = "") {
  std::string s = prefix;
  for (const char* line : kCheckReport) s += std::string(line) + line_end;
  return s;
}

// "1 一、存在的主要问题", "2 [（三）在履职尽责方面]" for a paid heading.
std::vector<std::string> outline(const Document& d) {
  std::vector<std::string> out;
  for (const auto& b : d.blocks) {
    if (b.kind != BlockKind::kHeading) continue;
    const std::string text = b.label + b.full_text();
    out.push_back(std::to_string(b.level) + " " + (b.has_paid() ? "[" + text + "]" : text));
  }
  return out;
}

TEST(CheckReport, Outline) {
  const ParseResult r = parse(report("\n"), "report.txt");
  ASSERT_TRUE(r.ok) << r.error.to_string();
  const Document& d = r.document;
  EXPECT_EQ(d.title, "区机关支部组织委员2024年度组织生活会个人对照检查材料");
  EXPECT_EQ(outline(d), (std::vector<std::string>{
                            "1 一、存在的主要问题",
                            "2 （一）在学习贯彻方面",
                            "2 （二）在服务群众方面",
                            "2 [（三）在履职尽责方面]",
                            "2 [（四）在纪律规矩方面]",
                            "1 [二、问题产生的原因]",
                            "2 [（一）理论武装还不够到位]",
                            "2 [（二）为民服务意识有所减退]",
                            "1 [三、下一步整改措施]",
                            "2 [（一）持续加强理论学习]",
                            "2 [（二）切实改进工作作风]",
                            "2 [（三）严守纪律规矩]",
                        }));
}

TEST(CheckReport, PaidPartStartsAtThirdSubheading) {
  const Document d = parse(report("\n"), "report.txt").document;
  size_t first_paid = 0;
  while (first_paid < d.blocks.size() && !d.blocks[first_paid].has_paid()) ++first_paid;
  ASSERT_LT(first_paid, d.blocks.size());
  const Block& b = d.blocks[first_paid];
  EXPECT_EQ(b.kind, BlockKind::kHeading);
  EXPECT_EQ(b.label, "（三）");
  EXPECT_EQ(b.line, 7);
  EXPECT_EQ(b.runs, (Runs{{"在履职尽责方面", true}}));
  // Everything before it is free, everything from it on is paid.
  for (size_t i = 0; i < d.blocks.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(d.blocks[i].has_free(), i < first_paid);
    EXPECT_EQ(d.blocks[i].has_paid(), i >= first_paid);
  }
  // The body of （一）: heading on line 5, its run-in text a second block on
  // line 5 that starts with the heading's 。.
  EXPECT_EQ(d.blocks[2].label, "（一）");
  EXPECT_EQ(d.blocks[3].kind, BlockKind::kParagraph);
  EXPECT_TRUE(d.blocks[3].run_in);
  EXPECT_EQ(d.blocks[3].line, 5);
  EXPECT_EQ(d.blocks[3].full_text().substr(0, 12), "。一是学");
}

TEST(CheckReport, Figures) {
  const Document d = parse(report("\n"), "report.txt").document;
  // Free: intro, 一、, （一）+body, （二）+body. Paid: （三）+body, （四）+body,
  // 二、, two headings with bodies, 三、, three headings with bodies. A
  // run-in heading and its body are one paragraph.
  EXPECT_EQ(d.figures.free_paragraphs, 4);
  EXPECT_EQ(d.figures.paid_paragraphs, 9);
  EXPECT_EQ(d.figures.paid_sections, 1);
  // The intro paragraph, counted by hand.
  EXPECT_EQ(count_chars(d.blocks[0].full_text()), 42);
  int64_t free_chars = 0;
  int64_t paid_chars = 0;
  for (const auto& b : d.blocks)
    (b.has_paid() ? paid_chars : free_chars) += count_chars(b.label) + count_chars(b.full_text());
  EXPECT_EQ(d.figures.free_chars, free_chars);
  EXPECT_EQ(d.figures.paid_chars, paid_chars);
  EXPECT_GT(d.figures.paid_chars, d.figures.free_chars);
}

TEST(CheckReport, SameDocumentInEveryLineEndAndWithBom) {
  const Document lf = parse(report("\n"), "a").document;
  Document crlf_bom = parse(report("\r\n", "\xEF\xBB\xBF"), "a").document;
  EXPECT_EQ(crlf_bom.source_encoding, "utf-8-bom");
  crlf_bom.source_encoding = lf.source_encoding;
  EXPECT_EQ(crlf_bom, lf);
  EXPECT_EQ(parse(report("\r"), "a").document, lf);
}

TEST(DocumentJson, RoundTrip) {
  const Document d = parse(report("\n"), "report.txt").document;
  ASSERT_FALSE(d.blocks.empty());
  nlohmann::json j = d;
  const nlohmann::json reread = nlohmann::json::parse(j.dump());
  const Document back = reread.get<Document>();
  EXPECT_EQ(back, d);
  EXPECT_EQ(back.figures, d.figures);
}

// Run-in blocks (format.md §6.2) and closing roles (§6.4) survive the store's
// JSON; a document stored before they existed reads as having none.
TEST(DocumentJson, RunInAndClosingRolesRoundTrip) {
  const Document d =
      parse("通知\n（一）标题。正文\n附件：1.清单\n某局办公室\n2024年1月5日\n", "c.txt").document;
  ASSERT_EQ(d.blocks.size(), 5u);
  const nlohmann::json j = d;
  EXPECT_EQ(j["blocks"][1].at("ri"), true);
  EXPECT_EQ(j["blocks"][2].at("cl"), "a");
  EXPECT_EQ(j["blocks"][3].at("cl"), "s");
  EXPECT_EQ(j["blocks"][4].at("cl"), "d");
  EXPECT_FALSE(j["blocks"][0].contains("ri"));
  EXPECT_FALSE(j["blocks"][0].contains("cl"));
  EXPECT_EQ(nlohmann::json::parse(j.dump()).get<Document>(), d);
  nlohmann::json old = j;
  for (auto& b : old["blocks"]) {
    b.erase("ri");
    b.erase("cl");
  }
  const Document before = old.get<Document>();
  for (const Block& b : before.blocks) {
    EXPECT_FALSE(b.run_in);
    EXPECT_EQ(b.closing, Closing::kNone);
  }
}

TEST(DocumentJson, MixedRunsAndFields) {
  const Document d =
      parse("标题\n　甲##paidbegin##乙\n（一）丙。丁##paidend##戊", "m.txt").document;
  const nlohmann::json j = d;
  EXPECT_EQ(j.at("title"), "标题");
  EXPECT_EQ(j.at("encoding"), "utf-8");
  EXPECT_EQ(j.at("paid_sections"), 1);
  const auto& blocks = j.at("blocks");
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[0].at("k"), "p");
  EXPECT_EQ(blocks[0].at("in"), 2);
  EXPECT_EQ(blocks[0].at("r").size(), 2u);
  EXPECT_EQ(blocks[0].at("r")[1].at("t"), "乙");
  EXPECT_EQ(blocks[0].at("r")[1].at("p"), true);
  EXPECT_EQ(blocks[1].at("k"), "h");
  EXPECT_EQ(blocks[1].at("lv"), 2);
  EXPECT_EQ(blocks[1].at("lb"), "（一）");
  EXPECT_EQ(blocks[1].at("ln"), 3);
  EXPECT_EQ(blocks[2].at("r")[1].at("t"), "戊");
  EXPECT_EQ(blocks[2].at("r")[1].at("p"), false);

  Document back;
  from_json(j, back);
  EXPECT_EQ(back, d);

  // A changed side in the JSON is a different document with other figures.
  nlohmann::json changed = j;
  changed["blocks"][0]["r"][1]["p"] = false;
  Document other;
  from_json(changed, other);
  EXPECT_NE(other, d);
  EXPECT_EQ(other.figures.paid_chars, d.figures.paid_chars - 1);
}

}  // namespace
}  // namespace paidoc::doc
