// The outline rule (doc/outline.h, docs/format.md §9): which paid headings a
// reader without access sees, and with what text.
#include "doc/outline.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "doc/parser.h"

namespace paidoc::doc {
namespace {

Document parse_ok(std::string_view source) {
  ParseResult r = parse(source, "t.txt");
  EXPECT_TRUE(r.ok) << r.error.to_string();
  return r.document;
}

// Every outline entry of a parsed document as "label text".
std::vector<std::string> entries(const Document& d) {
  std::vector<std::string> out;
  for (const auto& b : d.blocks)
    if (std::optional<std::string> t = outline_text(b)) out.push_back(b.label + " " + *t);
  return out;
}

using Lines = std::vector<std::string>;

TEST(OutlineText, ShortPaidHeadingsAreEntries) {
  const Document d = parse_ok(
      "年度总结\n"
      "一、公开部分\n"
      "##paidbegin##\n"
      "二、存在的不足\n"
      "（一）学习不够深入。一是学得不细，二是用得不多。\n"
      "1．制度建设\n"
      "（2）队伍建设\n"
      "第三章 保障措施\n"
      "##paidend##\n");
  EXPECT_EQ(entries(d), (Lines{"二、 存在的不足", "（一） 学习不够深入", "1． 制度建设",
                               "（2） 队伍建设", "第三章 保障措施"}));
}

TEST(OutlineText, PaidLinesThatReadAsSentencesAreNotEntries) {
  const Document d = parse_ok(
      "年度总结\n"
      "##paidbegin##\n"
      "1. 我们认真落实了各项要求，取得了一定成效\n"
      "2. 还有哪些工作需要改进？\n"
      "3. 必须做到三点：学习、落实、检查\n"
      "4. 做好以下工作；不得拖延\n"
      "5. 一定要抓紧！\n"
      "6. Plan, do, check\n"
      "7. Note: this is body text\n"
      "8. Why not?\n"
      "9. Act now!\n"
      "10. one; two\n"
      "一、关于推进档案数字化过程中遇到的若干困难和问题的深入分析以及说明\n"
      "二、本标题共三十字由前面十个字加上中间十个字再加上最后十个字组成\n"
      "##paidend##\n");
  // Only the 30-character heading is short enough; the 31-character one and
  // every heading with sentence punctuation stay body text. "3." ends at its
  // ： (format.md §6.2), and what runs in after it is not in the outline.
  EXPECT_EQ(entries(d), (Lines{"3. 必须做到三点",
                               "二、 本标题共三十字由前面十个字加上中间十个字再加上最后十个字组成"}));
}

TEST(OutlineText, MarkerInsideAHeadingShowsOnlyTheTextBeforeIt) {
  const Document d = parse_ok(
      "年度总结\n"
      "一、工作回顾##paidbegin##全年接待来访群众三百余人次\n"
      "（一）队伍建设 ##paidend##以上为公开内容\n"
      "##paidbegin##二、下一步打算##paidend##公开的结尾\n");
  EXPECT_EQ(entries(d), (Lines{"一、 工作回顾", "（一） 队伍建设", "二、 下一步打算"}));
}

// format.md §6.2 and §9: a heading line ending in 。 or ： keeps it, and the
// outline shows the heading without it; run-in text and articles never show.
TEST(OutlineText, RunInTextAndArticlesAreNeverEntries) {
  const Document d = parse_ok(
      "资料室管理办法\n"
      "##paidbegin##\n"
      "一、存在的主要问题：\n"
      "二、整改措施。\n"
      "（一）在理论学习方面：一是学得不深\n"
      "（二）关于“学习：落实”的认识。下文不得出现\n"
      "第一条　借阅资料应当登记。\n"
      "##paidend##\n");
  // （二）'s heading ends after the quote, but a ： inside it still reads as
  // sentence punctuation to the outline (§9 rule 3).
  EXPECT_EQ(entries(d), (Lines{"一、 存在的主要问题", "二、 整改措施", "（一） 在理论学习方面"}));
}

TEST(OutlineText, FreeHeadingsAndParagraphsAreNotEntries) {
  const Document d = parse_ok(
      "年度总结\n"
      "一、公开标题\n"
      "（一）公开标题。##paidbegin##付费正文##paidend##\n"
      "##paidbegin##付费段落##paidend##\n");
  EXPECT_EQ(entries(d), Lines{});
}

TEST(OutlineText, IsHeadingText) {
  EXPECT_TRUE(is_heading_text("存在的不足"));
  EXPECT_TRUE(is_heading_text(std::string(30, 'a')));
  EXPECT_FALSE(is_heading_text(std::string(31, 'a')));
  EXPECT_FALSE(is_heading_text(""));
  for (std::string_view p : {"，", "；", "：", "。", "？", "！", ",", ";", ":", "?", "!"})
    EXPECT_FALSE(is_heading_text("前" + std::string(p) + "后")) << p;
  EXPECT_TRUE(is_heading_text("学习、工作和生活"));  // 、 is not sentence punctuation
}

}  // namespace
}  // namespace paidoc::doc
