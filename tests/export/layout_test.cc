// Line filling for the PDF (export/layout.h): 28 cells, the first-line
// indent, 避头尾, Latin words, and the invariants over a long mixed text.
#include "export/layout.h"

#include "export_fixture.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace paidoc::exporter::internal {
namespace {

char32_t first_cp(std::string_view s) { return testing::code_points(s).front(); }
char32_t last_cp(std::string_view s) { return testing::code_points(s).back(); }

std::string repeat(std::string_view unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

// 26 distinct characters: exactly the first line of a paragraph with a
// two-cell indent.
constexpr std::string_view k26 = "各部门要切实提高政治站位充分认识做好此项工作重要意义";

TEST(LayoutChars, Classes) {
  EXPECT_EQ(char_class(U'中'), CharClass::kWide);
  EXPECT_EQ(char_class(U'。'), CharClass::kWide);
  EXPECT_EQ(char_class(U'“'), CharClass::kWide);
  EXPECT_EQ(char_class(U'—'), CharClass::kWide);
  EXPECT_EQ(char_class(U'（'), CharClass::kWide);
  EXPECT_EQ(char_class(U'　'), CharClass::kWide);
  EXPECT_EQ(char_class(U'A'), CharClass::kNarrow);
  EXPECT_EQ(char_class(U'7'), CharClass::kNarrow);
  EXPECT_EQ(char_class(U'%'), CharClass::kNarrow);
  EXPECT_EQ(char_class(U' '), CharClass::kSpace);
  EXPECT_EQ(char_class(0x200B), CharClass::kZeroWidth);
  EXPECT_EQ(char_class(0xFEFF), CharClass::kZeroWidth);
  EXPECT_EQ(char_class(0x0301), CharClass::kZeroWidth);
}

TEST(LayoutChars, ForbiddenPunctuation) {
  for (char32_t c : testing::code_points("。，、；：？！）》”’」』】"))
    EXPECT_TRUE(no_line_start(c)) << static_cast<uint32_t>(c);
  for (char32_t c : testing::code_points("（《“‘「『【"))
    EXPECT_TRUE(no_line_end(c)) << static_cast<uint32_t>(c);
  EXPECT_FALSE(no_line_start(U'中'));
  EXPECT_FALSE(no_line_start(U'（'));
  EXPECT_FALSE(no_line_end(U'）'));
  EXPECT_FALSE(no_line_end(U'中'));
}

TEST(LayoutChars, Utf8Decoding) {
  EXPECT_EQ(testing::code_points("a中𠀀"), (std::vector<char32_t>{U'a', U'中', 0x20000}));
  // A stray continuation byte and a truncated sequence decode as U+FFFD.
  EXPECT_EQ(testing::code_points("\x80" "b"), (std::vector<char32_t>{0xFFFD, U'b'}));
  EXPECT_EQ(testing::code_points("\xE4\xB8"), (std::vector<char32_t>{0xFFFD, 0xFFFD}));
}

TEST(LayoutCells, Widths) {
  EXPECT_DOUBLE_EQ(text_cells("通知"), 2);
  EXPECT_DOUBLE_EQ(text_cells("2025年"), 3);        // four digits are two cells
  EXPECT_DOUBLE_EQ(text_cells("“ISO 9001”"), 6);    // quotes 2, "ISO" 1.5, space 0.5, "9001" 2
  EXPECT_DOUBLE_EQ(text_cells("\u200B\u200C"), 0);  // zero-width
  // A measure function replaces the estimate for narrow runs only.
  MeasureFn one_per_byte = [](std::string_view s) { return static_cast<double>(s.size()); };
  EXPECT_DOUBLE_EQ(text_cells("共12次", one_per_byte), 4);
}

TEST(LayoutFill, EmptyAndBlank) {
  EXPECT_TRUE(fill_lines("", 2, 28).empty());
  EXPECT_TRUE(fill_lines("   ", 2, 28).empty());
}

TEST(LayoutFill, IndentAndFullLines) {
  // 26 + 28 + 5 characters: the first line holds 26 after the indent.
  const std::string text =
      std::string(k26) + repeat("按照统一部署", 4) + "认真组织" + "落实到位。";
  auto lines = fill_lines(text, 2, 28);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].indent, 2);
  EXPECT_EQ(lines[0].text, k26);
  EXPECT_DOUBLE_EQ(lines[0].cells, 26);
  EXPECT_EQ(lines[1].indent, 0);
  EXPECT_DOUBLE_EQ(lines[1].cells, 28);
  EXPECT_EQ(lines[1].text, repeat("按照统一部署", 4) + "认真组织");
  EXPECT_EQ(lines[2].text, "落实到位。");
  EXPECT_FALSE(lines[0].last);
  EXPECT_FALSE(lines[1].last);
  EXPECT_TRUE(lines[2].last);
  // Without indent the first line holds 28.
  auto flat = fill_lines(text, 0, 28);
  EXPECT_DOUBLE_EQ(flat[0].cells, 28);
  EXPECT_EQ(flat[0].indent, 0);
}

TEST(LayoutFill, ShortParagraphIsOneLastLine) {
  auto lines = fill_lines("特此通知。", 2, 28);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "特此通知。");
  EXPECT_DOUBLE_EQ(lines[0].cells, 5);
  EXPECT_TRUE(lines[0].last);
}

struct KinsokuCase {
  const char* name;
  std::string text;     // the paragraph (indent 2, 28 cells)
  std::string first;    // expected first line
  std::string second_starts_with;
};

class LayoutKinsoku : public ::testing::TestWithParam<KinsokuCase> {};

TEST_P(LayoutKinsoku, Breaks) {
  const KinsokuCase& c = GetParam();
  auto lines = fill_lines(c.text, 2, 28);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, c.first);
  EXPECT_EQ(lines[1].text.substr(0, c.second_starts_with.size()), c.second_starts_with)
      << lines[1].text;
  for (const auto& l : lines) {
    EXPECT_FALSE(no_line_start(first_cp(l.text))) << l.text;
    EXPECT_FALSE(no_line_end(last_cp(l.text))) << l.text;
  }
}

// k26 without its last character ("义"), and that character.
const std::string k25 = std::string(k26.substr(0, k26.size() - 3));

INSTANTIATE_TEST_SUITE_P(
    Layout, LayoutKinsoku,
    ::testing::Values(
        // The 27th cell would be "。": "义" moves down with it.
        KinsokuCase{"FullStopPullsCharDown", std::string(k26) + "。下一步将继续抓好落实。", k25,
                    "义。下一步"},
        KinsokuCase{"CommaPullsCharDown", std::string(k26) + "，确保取得实效。", k25, "义，确保"},
        KinsokuCase{"EnumerationComma", std::string(k26) + "、公平、公开的原则。", k25, "义、公平"},
        KinsokuCase{"ClosingBracket", std::string(k26) + "）执行。", k25, "义）执行"},
        KinsokuCase{"ClosingTitleMark", std::string(k26) + "》有关规定。", k25, "义》有关"},
        KinsokuCase{"ClosingQuotes", std::string(k26) + "”。会议强调。", k25, "义”。会议"},
        KinsokuCase{"ColonAndQuestion", std::string(k26) + "：是否落实？", k25, "义：是否"},
        // "（" would end the line: it moves to the next one.
        KinsokuCase{"OpeningBracketAtEnd", k25 + "（试行）的通知。", k25, "（试行）"},
        KinsokuCase{"OpeningTitleMarkAtEnd", k25 + "《办法》。", k25, "《办法》"},
        KinsokuCase{"OpeningQuoteAtEnd", k25 + "“放管服”改革。", k25, "“放管服”"},
        KinsokuCase{"DashNotSplit", k25 + "——这是关键。", k25, "——这是"},
        KinsokuCase{"EllipsisNotSplit", k25 + "……等等。", k25, "……等等"}),
    [](const ::testing::TestParamInfo<KinsokuCase>& info) { return info.param.name; });

TEST(LayoutFill, ChainOfClosers) {
  // The line is full after "义"; neither "。" nor "”" may start a line, so
  // "义" moves down and takes both along.
  const std::string text = std::string(k26) + "。”" + "随后";
  auto lines = fill_lines(text, 2, 28);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, k25);
  EXPECT_EQ(lines[1].text, "义。”随后");
}

TEST(LayoutFill, OpenerBeforeCloserBacksOffFurther) {
  // Cell 26 is "（" and cell 27 is "）": the break before "）" is forbidden
  // and the one after "（" too, so the line ends before "（".
  const std::string text = k25 + "（）" + "附后。";
  auto lines = fill_lines(text, 2, 28);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, k25);
  EXPECT_EQ(lines[1].text, "（）附后。");
}

TEST(LayoutFill, LatinWordMovesWhole) {
  // 24 characters + "HTTPS" (2.5 cells): only 2 cells remain on the first
  // line, so the word goes to the next one and the first line is short.
  const std::string text = std::string(k26.substr(0, 24 * 3)) + "HTTPS协议传输数据。";
  auto lines = fill_lines(text, 2, 28);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, k26.substr(0, 24 * 3));
  EXPECT_DOUBLE_EQ(lines[0].cells, 24);
  EXPECT_EQ(lines[1].text, "HTTPS协议传输数据。");
}

TEST(LayoutFill, LatinWordThatFitsStays) {
  const std::string text = std::string(k26.substr(0, 23 * 3)) + "HTTPS协议。";
  auto lines = fill_lines(text, 2, 28);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, std::string(k26.substr(0, 23 * 3)) + "HTTPS");
  EXPECT_DOUBLE_EQ(lines[0].cells, 25.5);
  EXPECT_EQ(lines[1].text, "协议。");
}

TEST(LayoutFill, SpacesBreakAndAreDropped) {
  // English words separated by spaces break at the spaces, which vanish at
  // line ends and starts.
  const std::string text = "附件 " + repeat("Guideline ", 12);
  auto lines = fill_lines(text, 0, 28);
  ASSERT_GE(lines.size(), 2u);
  for (const auto& l : lines) {
    EXPECT_NE(l.text.front(), ' ');
    EXPECT_NE(l.text.back(), ' ');
    EXPECT_LE(l.cells, 28);
    // Words stay whole.
    size_t from = 0;
    while (from <= l.text.size()) {
      size_t to = l.text.find(' ', from);
      if (to == std::string::npos) to = l.text.size();
      std::string word = l.text.substr(from, to - from);
      EXPECT_TRUE(word == "附件" || word == "Guideline") << l.text;
      from = to + 1;
    }
  }
}

TEST(LayoutFill, OverlongWordIsBrokenWhereFull) {
  const std::string url = "https://www.example.gov.cn/zwgk/" + repeat("abcdefghij", 8);
  auto lines = fill_lines("详见" + url + "。", 2, 28);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0].text.substr(0, 6), "详见");
  std::string joined;
  for (const auto& l : lines) {
    EXPECT_LE(l.cells + l.indent, 28) << l.text;
    joined += l.text;
  }
  EXPECT_EQ(joined, "详见" + url + "。");
  // Broken where full: the first two lines are exactly full.
  EXPECT_DOUBLE_EQ(lines[0].cells, 26);
  EXPECT_DOUBLE_EQ(lines[1].cells, 28);
}

TEST(LayoutFill, MeasureFunctionDecidesNarrowWidths) {
  // With "W" one cell wide, "推进" and 26 "W" (26 cells) do not fit the
  // first line; estimated at half a cell they do.
  MeasureFn wide_w = [](std::string_view s) {
    double w = 0;
    for (char c : s) w += c == 'W' ? 1 : 0.5;
    return w;
  };
  const std::string text = "推进" + repeat("W", 26) + "工作";
  auto est = fill_lines(text, 2, 28);
  auto measured = fill_lines(text, 2, 28, wide_w);
  ASSERT_EQ(est.size(), 1u);
  EXPECT_DOUBLE_EQ(est[0].cells, 17);
  ASSERT_EQ(measured.size(), 2u);
  EXPECT_EQ(measured[0].text, "推进");
  EXPECT_DOUBLE_EQ(measured[1].cells, 28);
}

TEST(LayoutFill, PathologicalClosersBreakWhereFull) {
  auto lines = fill_lines(repeat("。", 40), 0, 28);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_DOUBLE_EQ(lines[0].cells, 28);
  EXPECT_DOUBLE_EQ(lines[1].cells, 12);
}

TEST(LayoutFill, ZeroWidthCharactersStayAttached) {
  const std::string zw = "\u200B\u200C\u200D";
  const std::string text = std::string(k26) + zw + "。其余部分。";
  auto lines = fill_lines(text, 2, 28);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, k25);
  EXPECT_EQ(lines[1].text, "义" + zw + "。其余部分。");
}

// The invariants over a long mixed paragraph, at several widths.
TEST(LayoutFill, InvariantsOnMixedText) {
  const std::string text =
      "根据《中华人民共和国政府信息公开条例》（国务院令第711号）和省政府办公厅《关于做好2025年"
      "政务公开工作的通知》要求，现就有关事项通知如下：一是各单位应于每月10日前通过“政务服务网”"
      "（www.example.gov.cn）报送上月工作情况，报送格式见附件1；二是对群众反映强烈的问题，要做到"
      "“件件有着落、事事有回音”；三是严格执行ISO 9001质量管理体系，确保数据准确率达到99.5%以上"
      "……对工作推进不力的，将予以通报批评——情节严重的，依规依纪追究责任。请遵照执行！";
  for (int width : {28, 20, 13, 8}) {
    auto lines = fill_lines(text, 2, width);
    std::string joined;
    for (size_t i = 0; i < lines.size(); ++i) {
      const auto& l = lines[i];
      EXPECT_LE(l.cells + l.indent, width + 1e-9) << width << ": " << l.text;
      EXPECT_DOUBLE_EQ(l.cells, text_cells(l.text)) << l.text;
      EXPECT_FALSE(no_line_start(first_cp(l.text))) << width << ": " << l.text;
      EXPECT_FALSE(no_line_end(last_cp(l.text))) << width << ": " << l.text;
      EXPECT_EQ(l.indent, i == 0 ? 2 : 0);
      EXPECT_EQ(l.last, i + 1 == lines.size());
      joined += l.text;
    }
    std::string no_spaces;
    for (char c : text)
      if (c != ' ') no_spaces += c;
    std::string joined_no_spaces;
    for (char c : joined)
      if (c != ' ') joined_no_spaces += c;
    EXPECT_EQ(joined_no_spaces, no_spaces) << width;
    // Nothing is lost but spaces at breaks; the lines are reasonably full.
    for (size_t i = 0; i + 1 < lines.size(); ++i)
      EXPECT_GE(lines[i].cells + lines[i].indent, width - 8) << lines[i].text;
  }
}

}  // namespace
}  // namespace paidoc::exporter::internal
