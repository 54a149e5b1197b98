// Parser tests: docs/format.md §2-§8 (decoding is in encoding_test.cc).
#include "doc/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace paidoc::doc {
namespace {

// Spelled out: inside a TEST body, plain "Run" is testing::Test::Run.
using Runs = std::vector<doc::Run>;

Document parse_ok(std::string_view source) {
  ParseResult r = parse(source, "t.txt");
  EXPECT_TRUE(r.ok) << r.error.to_string();
  return r.document;
}

std::string parse_error(std::string_view source) {
  ParseResult r = parse(source, "t.txt");
  EXPECT_FALSE(r.ok) << "parsed, but an error was expected";
  return r.error.to_string();
}

// One block as a short string: "p 正文", "h2 （一） 标题", "r 。正文" for a
// run-in block; paid runs are in [brackets] (no test text uses ASCII
// brackets).
std::string describe(const Block& b) {
  std::string s = b.kind == BlockKind::kHeading
                      ? "h" + std::to_string(b.level) + " " + b.label + " "
                      : std::string(b.run_in ? "r " : "p ");
  for (const auto& r : b.runs) s += r.paid ? "[" + r.text + "]" : r.text;
  return s;
}

std::vector<std::string> describe(const Document& d) {
  std::vector<std::string> out;
  for (const auto& b : d.blocks) out.push_back(describe(b));
  return out;
}

using Lines = std::vector<std::string>;

// ---------------------------------------------------------------------------
// §2 Lines

TEST(Lines, LfCrlfCrAndMixedGiveTheSameDocument) {
  const std::vector<std::string> lines = {"学习小结",
                                          "一、基本情况",
                                          "　　本年度完成学习任务。",
                                          "##paidbegin##（一）存在不足。一是钻研不深。",
                                          "二是联系实际不够。##paidend##",
                                          "以上为本人小结。"};
  auto join = [&](const std::vector<std::string>& ends) {
    std::string s;
    for (size_t i = 0; i < lines.size(); ++i) s += lines[i] + ends[i % ends.size()];
    return s;
  };
  const Document lf = parse_ok(join({"\n"}));
  ASSERT_EQ(lf.blocks.size(), 6u);
  EXPECT_EQ(lf.blocks.back().line, 6);
  EXPECT_EQ(parse_ok(join({"\r\n"})), lf);
  EXPECT_EQ(parse_ok(join({"\r"})), lf);
  EXPECT_EQ(parse_ok(join({"\r", "\n", "\r\n"})), lf);
  // No line end after the last line.
  std::string no_final = join({"\n"});
  no_final.pop_back();
  EXPECT_EQ(parse_ok(no_final), lf);
}

TEST(Lines, EmptyLinesAreCountedButMakeNoBlocks) {
  const Document d = parse_ok("标题\r\n\r\n\n\r甲\r\r乙");
  ASSERT_EQ(d.blocks.size(), 2u);
  EXPECT_EQ(d.blocks[0].line, 5);  // lines 2, 3 and 4 are empty
  EXPECT_EQ(d.blocks[1].line, 7);
}

// ---------------------------------------------------------------------------
// §3 The title

TEST(Title, FirstLineWithContentTrimmed) {
  const Document d = parse_ok("\n  \n　\t\n　　关于开展自查的报告 　\n正文");
  EXPECT_EQ(d.title, "关于开展自查的报告");
  EXPECT_EQ(describe(d), (Lines{"p 正文"}));
  EXPECT_EQ(d.blocks[0].line, 5);
}

TEST(Title, IsNeverAHeadingNorABlock) {
  const Document d = parse_ok("一、工作总结\n二、下一步打算");
  EXPECT_EQ(d.title, "一、工作总结");
  EXPECT_EQ(describe(d), (Lines{"h1 二、 下一步打算"}));
  EXPECT_EQ(d.figures.free_chars, 7);  // 二、下一步打算; the title is not counted
}

TEST(Title, TitleOnly) {
  const Document d = parse_ok("只有标题\n");
  EXPECT_EQ(d.title, "只有标题");
  EXPECT_TRUE(d.blocks.empty());
  EXPECT_EQ(d.figures, Figures{});
}

// ---------------------------------------------------------------------------
// §5 Paragraphs and indentation

struct IndentCase {
  const char* line;
  int indent;
  Runs runs;
};

TEST(Indentation, LeadingWhitespaceIsIndentTrailingIsDropped) {
  const std::vector<IndentCase> cases = {
      {"正文", 0, {{"正文", false}}},
      {"  正文", 2, {{"正文", false}}},
      {"　　正文", 4, {{"正文", false}}},
      {"\t正文", 4, {{"正文", false}}},
      {" 　\t正文", 7, {{"正文", false}}},
      {"正文 　\t", 0, {{"正文", false}}},
      {"　正 文　内部空格保留", 2, {{"正 文　内部空格保留", false}}},
      {"Plain  ASCII text ", 0, {{"Plain  ASCII text", false}}},
      // Markers among the leading whitespace do not end the indentation.
      {"　　##paidbegin##付费正文##paidend##", 4, {{"付费正文", true}}},
      {"##paidbegin##　　付费正文##paidend##", 4, {{"付费正文", true}}},
      {"　##paidbegin##　付费正文　##paidend##　", 4, {{"付费正文", true}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    const Document d = parse_ok(std::string("标题\n") + c.line);
    ASSERT_EQ(d.blocks.size(), 1u);
    EXPECT_EQ(d.blocks[0].kind, BlockKind::kParagraph);
    EXPECT_EQ(d.blocks[0].indent, c.indent);
    EXPECT_EQ(d.blocks[0].runs, c.runs);
    EXPECT_EQ(d.blocks[0].line, 2);
  }
}

TEST(Indentation, NonBreakingSpaceIsText) {
  const Document d = parse_ok("标题\n\u00A0正文");
  ASSERT_EQ(d.blocks.size(), 1u);
  EXPECT_EQ(d.blocks[0].indent, 0);
  EXPECT_EQ(d.blocks[0].full_text(), "\u00A0正文");
}

// ---------------------------------------------------------------------------
// §4 Markers

TEST(Markers, BothSpellingsAnyCaseMixedPairs) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"##paidbegin##", "##paidend##"}, {"$$paidbegin$$", "$$paidend$$"},
      {"##PAIDBEGIN##", "##PaidEnd##"}, {"$$PaidBegin$$", "$$PAIDEND$$"},
      {"##paidBEGIN##", "$$paidend$$"}, {"$$paidbegin$$", "##pAiDeNd##"},
  };
  for (const auto& [open, close] : pairs) {
    SCOPED_TRACE(open + " " + close);
    const Document d = parse_ok("标题\n公开段落\n" + open + "\n付费段落\n" + close + "\n结尾段落");
    EXPECT_EQ(describe(d), (Lines{"p 公开段落", "p [付费段落]", "p 结尾段落"}));
    EXPECT_EQ(d.figures.paid_sections, 1);
  }
}

// §4.4: a near-miss marker is an error at its first delimiter, naming what
// was written and the marker to write instead.
TEST(NearMisses, AreErrorsWithLineAndColumn) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"## paidbegin ##", "##paidbegin##"},   {"##paid begin##", "##paidbegin##"},
      {"##paid_begin##", "##paidbegin##"},    {"##paid-begin##", "##paidbegin##"},
      {"＃＃paidbegin＃＃", "##paidbegin##"}, {"#paidbegin#", "##paidbegin##"},
      {"##paidbegin#", "##paidbegin##"},      {"##paidbegin$$", "##paidbegin##"},
      {"##paidbegin", "##paidbegin##"},       {"＄＄PaidBegin＄＄", "##paidbegin##"},
      {"$$ paidend $$", "##paidend##"},       {"$$paidend##", "##paidend##"},
      {"#PAID END#", "##paidend##"},          {"$paid_end$", "##paidend##"},
  };
  for (const auto& [found, write] : cases) {
    SCOPED_TRACE(found);
    // Column 4: two full-width spaces of indentation and one character before
    // it, counted in code points like every other column.
    EXPECT_EQ(parse_error("标题\n正文\n　　前" + found + "后\n"),
              "t.txt:3:4: looks like a paid marker but is not one: \"" + found + "\"; write " +
                  write);
  }
}

TEST(NearMisses, InsideAPaidSectionAndOnTheTitleLine) {
  EXPECT_EQ(parse_error("标题\n##paidbegin##\n付费正文\n付费正文## paidend ##"),
            "t.txt:4:5: looks like a paid marker but is not one: \"## paidend ##\"; write "
            "##paidend##");
  EXPECT_EQ(parse_error("标题#paidbegin#\n正文"),
            "t.txt:1:3: looks like a paid marker but is not one: \"#paidbegin#\"; write "
            "##paidbegin##");
  // Leftmost problem first: the near miss stands before the real marker.
  EXPECT_EQ(parse_error("标题\n甲##paid begin##乙##paidend##"),
            "t.txt:2:2: looks like a paid marker but is not one: \"##paid begin##\"; write "
            "##paidbegin##");
  EXPECT_EQ(parse_error("标题\n甲##paidend##乙#paidend#"),
            "t.txt:2:2: stray ##paidend##: no paid section is open");
}

TEST(NearMisses, MarkersInAnyCaseAreMarkers) {
  const Document d = parse_ok("标题\n##PaidBegin##付费##PAIDEND##");
  EXPECT_EQ(describe(d), (Lines{"p [付费]"}));
}

TEST(NearMisses, ProseAboutPaidTextIsText) {
  const std::vector<std::string> texts = {
      "## Paid content",
      "## Paid begin",
      "paid begin and paid end",
      "paidbegin",
      "#1 paid end users",
      "C# paid endpoints",
      "$$ paid content $$",
      "##paidbeginning##",
      "# 付费内容 #",
      "价格 $5 paid, end",
  };
  for (const auto& t : texts) {
    SCOPED_TRACE(t);
    const Document d = parse_ok("标题\n" + t);
    EXPECT_EQ(describe(d), (Lines{"p " + t}));
  }
}

TEST(Markers, LeftmostOverlappingMarkerWins) {
  const Document d = parse_ok("标题\n###paidbegin##甲##paidend##paidbegin##");
  EXPECT_EQ(describe(d), (Lines{"p #[甲]paidbegin##"}));
}

TEST(Markers, MidLineOpenSplitsFreeThenPaid) {
  const Document d =
      parse_ok("标题\n　　免费的前半句，##paidbegin##付费的后半句。\n付费段落\n##paidend##");
  ASSERT_EQ(d.blocks.size(), 2u);
  EXPECT_EQ(d.blocks[0].runs, (Runs{{"免费的前半句，", false}, {"付费的后半句。", true}}));
  EXPECT_EQ(d.blocks[0].indent, 4);
  EXPECT_TRUE(d.blocks[0].has_free());
  EXPECT_TRUE(d.blocks[0].has_paid());
  EXPECT_EQ(d.blocks[1].runs, (Runs{{"付费段落", true}}));
}

TEST(Markers, MidLineCloseSplitsPaidThenFree) {
  const Document d = parse_ok("标题\n$$paidbegin$$\n付费的前半句，$$paidend$$免费的后半句。");
  ASSERT_EQ(d.blocks.size(), 1u);
  EXPECT_EQ(d.blocks[0].runs, (Runs{{"付费的前半句，", true}, {"免费的后半句。", false}}));
}

TEST(Markers, WholeSectionInsideOneLine) {
  const Document d = parse_ok("标题\n甲 ##paidbegin##乙##paidend## 丙");
  EXPECT_EQ(d.blocks[0].runs, (Runs{{"甲 ", false}, {"乙", true}, {" 丙", false}}));
}

TEST(Markers, EmptyRunsDroppedAndSameSideJoined) {
  const Document d = parse_ok("标题\n甲##paidbegin####paidend##乙");
  EXPECT_EQ(d.blocks[0].runs, (Runs{{"甲乙", false}}));
  EXPECT_EQ(d.figures.paid_sections, 1);
}

TEST(Markers, MarkerOnlyLinesMakeNoBlocks) {
  const Document d =
      parse_ok("标题\n##paidbegin##\n　 ##paidend##　\n$$paidbegin$$ $$paidend$$\n正文");
  EXPECT_EQ(describe(d), (Lines{"p 正文"}));
  EXPECT_EQ(d.blocks[0].line, 5);
  EXPECT_EQ(d.figures.paid_sections, 2);
}

TEST(Markers, SeveralSections) {
  const Document d = parse_ok(
      "标题\n甲\n##paidbegin##乙\n丙##paidend##\n丁\n$$paidbegin$$戊$$paidend$$己\n"
      "##paidbegin##\n庚\n##paidend##");
  EXPECT_EQ(describe(d), (Lines{"p 甲", "p [乙]", "p [丙]", "p 丁", "p [戊]己", "p [庚]"}));
  EXPECT_EQ(d.figures.paid_sections, 3);
}

// ---------------------------------------------------------------------------
// §8 Errors, with their exact text.

struct ErrorCase {
  const char* name;
  std::string source;
  std::string expected;
};

TEST(Errors, ExactMessages) {
  const std::vector<ErrorCase> cases = {
      {"nested", "标题\n##paidbegin##\n甲\n　　乙$$PaidBegin$$",
       "t.txt:4:4: nested $$PaidBegin$$: a paid section opened at 2:1 is still open"},
      {"nested same line", "标题\n甲##paidbegin##乙##PAIDBEGIN##丙##paidend##",
       "t.txt:2:16: nested ##PAIDBEGIN##: a paid section opened at 2:2 is still open"},
      {"stray", "标题\n正文##PAIDEND##", "t.txt:2:3: stray ##PAIDEND##: no paid section is open"},
      {"stray after a closed section", "标题\n##paidbegin##甲##paidend##乙$$paidend$$",
       "t.txt:2:27: stray $$paidend$$: no paid section is open"},
      {"unclosed", "标题\n甲\n　乙##paidbegin##丙\n丁\n",
       "t.txt:3:3: unclosed ##paidbegin##: the paid section is not closed before the end of the "
       "file"},
      {"unclosed second section", "标题\n$$paidbegin$$甲$$paidend$$\n乙\n  $$PAIDBEGIN$$\n丙",
       "t.txt:4:3: unclosed $$PAIDBEGIN$$: the paid section is not closed before the end of the "
       "file"},
      {"first error wins over unclosed", "标题\n##paidbegin##\n##paidbegin##\n",
       "t.txt:3:1: nested ##paidbegin##: a paid section opened at 2:1 is still open"},
      {"marker in title line", "标题##paidbegin##\n正文##paidend##",
       "t.txt:1:3: ##paidbegin## in the title line: the title is always public"},
      {"close marker in title line", "　标题$$paidend$$",
       "t.txt:1:4: $$paidend$$ in the title line: the title is always public"},
      {"marker starting the title line", "##paidbegin##标题\n##paidend##",
       "t.txt:1:1: ##paidbegin## in the title line: the title is always public"},
      {"marker before title", "\n  ##PaidBegin##\n标题\n正文##paidend##",
       "t.txt:2:3: ##PaidBegin## before the title: the title is always public"},
      {"only markers", "##paidbegin##\n##paidend##",
       "t.txt:1:1: ##paidbegin## before the title: the title is always public"},
      {"empty", "", "t.txt:1:1: empty document: no title"},
      {"whitespace only", " \n　\r\n\t\r", "t.txt:1:1: empty document: no title"},
      {"crlf does not shift columns", "标题\r\n甲乙丙##paidend##\r\n",
       "t.txt:2:4: stray ##paidend##: no paid section is open"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(parse_error(c.source), c.expected);
  }
}

TEST(Errors, FieldsAreSet) {
  const ParseResult r = parse("标题\n甲\n乙##paidend##", "dir/a.txt");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.file, "dir/a.txt");
  EXPECT_EQ(r.error.line, 3);
  EXPECT_EQ(r.error.column, 2);
  EXPECT_EQ(r.error.byte_offset, -1);
  EXPECT_EQ(r.error.reason, "stray ##paidend##: no paid section is open");
}

// ---------------------------------------------------------------------------
// §6 Headings

struct HeadingCase {
  const char* line;
  std::string expected;  // describe() of the line's first block
};

TEST(Headings, Levels) {
  const std::vector<HeadingCase> cases = {
      // Level 1: Chinese numeral + 、
      {"一、总体情况", "h1 一、 总体情况"},
      {"九、其他事项", "h1 九、 其他事项"},
      {"十、附则", "h1 十、 附则"},
      {"十一、补充说明", "h1 十一、 补充说明"},
      {"二十、后记", "h1 二十、 后记"},
      {"九十九、末项", "h1 九十九、 末项"},
      // Level 2: bracketed Chinese numeral, full- or half-width
      {"（一）学习方面", "h2 （一） 学习方面"},
      {"(二)作风方面", "h2 (二) 作风方面"},
      {"（十二）其他方面", "h2 （十二） 其他方面"},
      {"（三)混合括号", "h2 （三) 混合括号"},
      // Level 3: Arabic number + . ． or 、
      {"1.加强学习", "h3 1. 加强学习"},
      {"2、落实责任", "h3 2、 落实责任"},
      {"2．深化认识", "h3 2． 深化认识"},
      {"12. 带空格的标题", "h3 12. 带空格的标题"},
      {"３．全角数字", "h3 ３． 全角数字"},
      // Level 4: bracketed Arabic number
      {"（1）细化措施", "h4 （1） 细化措施"},
      {"(2)细化措施", "h4 (2) 细化措施"},
      {"（１０）全角数字", "h4 （１０） 全角数字"},
      {"⑴细化措施", "h4 ⑴ 细化措施"},
      {"⒇第二十项", "h4 ⒇ 第二十项"},
      {"①压实责任", "h4 ① 压实责任"},
      // 第…编 / 部分 / 章 / 节 followed by whitespace (outside regulations);
      // alone in its document, each is level 1 (its rank among those used).
      {"第一章 总则", "h1 第一章 总则"},
      {"第3章 方法", "h1 第3章 方法"},
      {"第二节　学习制度", "h1 第二节 学习制度"},
      {"第一编 总则", "h1 第一编 总则"},
      {"第二部分　主要任务", "h1 第二部分 主要任务"},
      // 第X条 is never a heading label; without whitespace neither is 第X章.
      {"第十条 本办法自发布之日起施行。", "p 第十条 本办法自发布之日起施行。"},
      {"第一百零一条 附则", "p 第一百零一条 附则"},
      {"第一章总则", "p 第一章总则"},
      // Not headings
      {"1.5亿元的投入已经到位。", "p 1.5亿元的投入已经到位。"},
      {"2．5倍于去年", "p 2．5倍于去年"},
      {"1234.不是编号", "p 1234.不是编号"},
      {"一是学习不够深入。", "p 一是学习不够深入。"},
      {"十十、不是编号", "p 十十、不是编号"},
      {"一十、不是编号", "p 一十、不是编号"},
      {"一二、不是编号", "p 一二、不是编号"},
      {"（一不是编号", "p （一不是编号"},
      {"一、", "p 一、"},
      {"（二）。", "p （二）。"},
      {"第一次会议", "p 第一次会议"},
      {"2、3号楼已经完工。", "p 2、3号楼已经完工。"},
      {"三、四月份经济运行总体平稳。", "p 三、四月份经济运行总体平稳。"},
      {"①2号方案", "p ①2号方案"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    const Document d = parse_ok(std::string("标题\n") + c.line);
    ASSERT_FALSE(d.blocks.empty());
    EXPECT_EQ(describe(d.blocks[0]), c.expected);
  }
}

TEST(Headings, TextRunsToFirstFullStopAndTheRestRunsIn) {
  const Document d =
      parse_ok("标题\n　　（一）在制度执行方面。一是执行标准不够统一。二是检查不够经常。");
  ASSERT_EQ(d.blocks.size(), 2u);
  const Block& h = d.blocks[0];
  EXPECT_EQ(h.kind, BlockKind::kHeading);
  EXPECT_EQ(h.level, 2);
  EXPECT_EQ(h.label, "（一）");
  EXPECT_EQ(h.runs, (Runs{{"在制度执行方面", false}}));
  EXPECT_EQ(h.line, 2);
  EXPECT_EQ(h.indent, 4);
  EXPECT_FALSE(h.run_in);
  // The 。 stays: the heading and the rest are one paragraph (format.md §6.2).
  const Block& body = d.blocks[1];
  EXPECT_EQ(body.kind, BlockKind::kParagraph);
  EXPECT_TRUE(body.run_in);
  EXPECT_EQ(body.level, 0);
  EXPECT_EQ(body.label, "");
  EXPECT_EQ(body.runs, (Runs{{"。一是执行标准不够统一。二是检查不够经常。", false}}));
  EXPECT_EQ(body.line, 2);
  EXPECT_EQ(body.indent, 0);
  // One paragraph in the figures; every character counted, the 。 included.
  EXPECT_EQ(d.figures.free_paragraphs, 1);
  EXPECT_EQ(d.figures.free_chars, 3 + 7 + 21);
}

TEST(Headings, WhitespaceAroundHeadingTextIsDroppedAndTheRunInTextKept) {
  const Document d = parse_ok("标题\n一、 存在问题 。　 问题如下：");
  EXPECT_EQ(describe(d), (Lines{"h1 一、 存在问题", "r 。　 问题如下："}));
}

TEST(Headings, FullStopAtLineEndStaysInTheHeading) {
  const Document d = parse_ok("标题\n1.按时完成。\n2．按质完成。 ");
  EXPECT_EQ(describe(d), (Lines{"h3 1. 按时完成。", "h3 2． 按质完成。"}));
}

TEST(Headings, RunInTextIsNeverAHeading) {
  const Document d = parse_ok("标题\n一、总体要求。二、这不是标题。");
  EXPECT_EQ(describe(d), (Lines{"h1 一、 总体要求", "r 。二、这不是标题。"}));
}

// A run-in heading once lost its 。 and was split into a heading and a new
// paragraph in every export (format.md §6.2).
TEST(Headings, RunInHeadingKeepsItsFullStopInTheDocument) {
  const Document d = parse_ok("标题\n（一）在理论学习方面。一是学得不深。\n（二）在纪律方面：一是执行不严。");
  std::string all;
  for (size_t i = 0; i < d.blocks.size(); ++i) {
    all += d.blocks[i].label + d.blocks[i].full_text();
    if (i + 1 == d.blocks.size() || !d.blocks[i + 1].run_in) all += "|";
  }
  // "|" ends a paragraph: each heading and its run-in text make one.
  EXPECT_EQ(all, "（一）在理论学习方面。一是学得不深。|（二）在纪律方面：一是执行不严。|");
  EXPECT_EQ(d.figures.free_paragraphs, 2);
}

TEST(Headings, LineStartingInPaidSectionIsPaid) {
  const Document d = parse_ok("标题\n##paidbegin##（三）在履职方面。一是方法不多。\n##paidend##");
  ASSERT_EQ(d.blocks.size(), 2u);
  EXPECT_EQ(describe(d), (Lines{"h2 （三） [在履职方面]", "r [。一是方法不多。]"}));
  EXPECT_FALSE(d.blocks[0].has_free());
  // The label counts as paid (format.md §7): （三） + 在履职方面 + 。一是方法不多。
  EXPECT_EQ(d.figures.paid_chars, 3 + 5 + 8);
  EXPECT_EQ(d.figures.paid_paragraphs, 1);
  EXPECT_EQ(d.figures.free_chars, 0);
}

TEST(Headings, MarkerInsideHeadingTextSplitsItsRuns) {
  const Document d = parse_ok("标题\n一、公开部分##paidbegin##付费部分。付费正文##paidend##");
  EXPECT_EQ(describe(d), (Lines{"h1 一、 公开部分[付费部分]", "r [。付费正文]"}));
}

TEST(Headings, MarkerBetweenLabelAndTextMakesAParagraph) {
  // The label would be shown on a different side from its text (§6.3).
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"（三）##paidbegin##在履职方面##paidend##", "p （三）[在履职方面]"},
      {"##paidbegin##（三）##paidend##在履职方面", "p [（三）]在履职方面"},
      {"（##paidbegin##三）在履职方面##paidend##", "p （[三）在履职方面]"},
      // A paid character inside a free label must not be shown as free.
      {"（##paidbegin##三##paidend##）在履职方面", "p （[三]）在履职方面"},
  };
  for (const auto& [line, expected] : cases) {
    SCOPED_TRACE(line);
    const Document d = parse_ok("标题\n" + line);
    EXPECT_EQ(describe(d), (Lines{expected}));
  }
}

TEST(Headings, MarkerAfterFullStopKeepsHeadingFree) {
  const Document d = parse_ok("标题\n（二）公开标题。##paidbegin##付费正文\n##paidend##");
  EXPECT_EQ(describe(d), (Lines{"h2 （二） 公开标题", "r 。[付费正文]"}));
  EXPECT_TRUE(d.blocks[0].has_free());
  EXPECT_FALSE(d.blocks[0].has_paid());
}

// ---------------------------------------------------------------------------
// §7 Figures

TEST(Figures, HandCountedDocument) {
  const Document d = parse_ok(
      "计数用的标题\n"                  // title: not counted
      "一、概况\n"                      // free: 一、概况 = 4
      "　　今年 完成了 任务。\n"        // free: 今年完成了任务。 = 8 (spaces excluded)
      "前言##paidbegin##后语\n"         // free 2, paid 2; counts in both paragraph figures
      "（一）付费标题。付费的正文。\n"  // paid, one paragraph: （一）付费标题 = 7; 。付费的正文。 = 7
      "结尾##paidend##\n"               // paid 2
      "公开的结尾\n"                    // free 5
      "再见");                          // free 2
  EXPECT_EQ(describe(d),
            (Lines{"h1 一、 概况", "p 今年 完成了 任务。", "p 前言[后语]", "h2 （一） [付费标题]",
                   "r [。付费的正文。]", "p [结尾]", "p 公开的结尾", "p 再见"}));
  Figures expected;
  expected.free_chars = 4 + 8 + 2 + 5 + 2;
  expected.paid_chars = 2 + 7 + 7 + 2;
  expected.free_paragraphs = 5;
  expected.paid_paragraphs = 3;
  expected.paid_sections = 1;
  EXPECT_EQ(d.figures, expected);
}

TEST(Figures, CountCharsExcludesWhitespace) {
  EXPECT_EQ(count_chars("甲 乙　丙\t丁"), 4);
  EXPECT_EQ(count_chars("abc😀"), 4);
  EXPECT_EQ(count_chars(""), 0);
}

}  // namespace
}  // namespace paidoc::doc
