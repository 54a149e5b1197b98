// The gate: decide() over every combination of its inputs, and make_view()
// never letting paid text into a locked view.
#include "gate/gate.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "doc/parser.h"

namespace paidoc::gate {
namespace {

using doc::Block;
using doc::BlockKind;
using doc::Run;

// The reference rule, written as plainly as possible, to check decide()
// against on every combination.
Access expected(bool has_paid, bool zero_price, Role role, bool signed_in, bool publisher,
                bool purchased, bool vip) {
  if (!has_paid) return Access::kNothingPaid;
  if (role == Role::kAdmin || role == Role::kSystem) return Access::kAdmin;
  if (zero_price) return Access::kFreePrice;
  if (!signed_in || role == Role::kAnonymous) return Access::kNone;
  if (publisher) return Access::kPublisher;
  if (purchased) return Access::kPurchased;
  if (vip) return Access::kVip;
  return Access::kNone;
}

TEST(Decide, EveryCombination) {
  const Role roles[] = {Role::kAnonymous, Role::kReader, Role::kEditor, Role::kAdmin, Role::kSystem};
  int checked = 0;
  for (bool has_paid : {false, true})
    for (bool zero_price : {false, true})
      for (Role role : roles)
        for (bool signed_in : {false, true})
          for (bool publisher : {false, true})
            for (bool purchased : {false, true})
              for (bool vip : {false, true}) {
                DocumentFacts f{42, Fen(zero_price ? 0 : 990), std::nullopt, has_paid};
                Viewer v;
                v.role = role;
                v.vip = vip;
                if (signed_in) v.user_id = 7;
                if (publisher) f.publisher_id = 7;
                else f.publisher_id = 8;
                if (purchased) v.purchased = {1, 42, 99};
                else v.purchased = {1, 43};
                Access got = decide(f, v);
                EXPECT_EQ(got, expected(has_paid, zero_price, role, signed_in, publisher, purchased, vip))
                    << "has_paid=" << has_paid << " zero=" << zero_price << " role=" << int(role)
                    << " signed_in=" << signed_in << " publisher=" << publisher
                    << " purchased=" << purchased << " vip=" << vip;
                ++checked;
              }
  EXPECT_EQ(checked, 2 * 2 * 5 * 2 * 2 * 2 * 2);
}

// Search decides access for documents it has not loaded through
// paid_scope(); it must agree with decide() everywhere, or a locked paid
// part would be searched in full.
TEST(PaidScope, AgreesWithDecideOnEveryCombination) {
  const Role roles[] = {Role::kAnonymous, Role::kReader, Role::kEditor, Role::kAdmin, Role::kSystem};
  int checked = 0;
  for (bool zero_price : {false, true})
    for (Role role : roles)
      for (bool signed_in : {false, true})
        for (bool publisher : {false, true})
          for (bool no_publisher : {false, true})
            for (bool purchased : {false, true})
              for (bool vip : {false, true}) {
                DocumentFacts f{42, Fen(zero_price ? 0 : 990), std::nullopt, true};
                if (!no_publisher) f.publisher_id = publisher ? 7 : 8;
                Viewer v;
                v.role = role;
                v.vip = vip;
                if (signed_in) v.user_id = 7;
                v.purchased = purchased ? std::vector<int64_t>{1, 42} : std::vector<int64_t>{1, 43};
                EXPECT_EQ(covered(paid_scope(v), f), !locked(decide(f, v)))
                    << "zero=" << zero_price << " role=" << int(role) << " signed_in=" << signed_in
                    << " publisher=" << publisher << " no_publisher=" << no_publisher
                    << " purchased=" << purchased << " vip=" << vip;
                ++checked;
              }
  EXPECT_EQ(checked, 2 * 5 * 2 * 2 * 2 * 2 * 2);
}

TEST(Decide, AnonymousClaimsAreIgnored) {
  // A viewer struct with purchases but no user id is anonymous: no access.
  Viewer v;
  v.purchased = {5};
  v.vip = true;
  EXPECT_EQ(decide({5, Fen(100), 5, true}, v), Access::kNone);
  EXPECT_TRUE(locked(decide({5, Fen(100), 5, true}, v)));
}

// A document with a free paragraph, a paid stretch of heading + paragraphs, a
// line that starts free and turns paid mid-line, and one that ends paid and
// turns free.
doc::Document sample_document() {
  doc::Document d;
  d.title = "关于推进档案数字化的工作总结";
  auto para = [](std::vector<Run> runs) {
    Block b;
    b.kind = BlockKind::kParagraph;
    b.runs = std::move(runs);
    return b;
  };
  auto heading = [](int level, std::string label, std::string text, bool paid) {
    Block b;
    b.kind = BlockKind::kHeading;
    b.level = level;
    b.label = std::move(label);
    b.runs = {{std::move(text), paid}};
    return b;
  };
  d.blocks.push_back(heading(1, "一、", "基本情况", false));
  d.blocks.push_back(para({{"全年共整理纸质档案四千余卷。", false}}));
  d.blocks.push_back(para({{"扫描工作按期完成，", false}, {"紫色档案柜里藏着第七份备忘录。", true}}));
  d.blocks.push_back(heading(1, "二、", "存在的问题和下一步打算包括很多很多很多很多很多很多很多方面的内容", true));
  d.blocks.push_back(para({{"青铜钥匙由值班室统一保管并登记。", true}}));
  d.blocks.push_back(para({{"夜班巡查记录共计一百零八页。", true}, {"以上为本年度总结。", false}}));
  d.figures.paid_sections = 2;
  doc::compute_figures(d);
  return d;
}

const std::vector<std::string> kPaidSentences = {
    "紫色档案柜里藏着第七份备忘录", "青铜钥匙由值班室统一保管并登记", "夜班巡查记录共计一百零八页"};

std::string everything_in(const DocumentView& v) {
  std::string all = v.title + "\n" + v.category + "\n";
  for (const auto& b : v.blocks) all += b.label + b.text + "\n";
  for (const auto& o : v.teaser.outline) all += o.label + o.text + "\n";
  return all;
}

GateInput input_for(const doc::Document& d, Fen price) {
  GateInput in;
  in.facts = {3, price, 11, true};
  in.revision = 2;
  in.category = "工作总结";
  in.document = &d;
  return in;
}

TEST(MakeView, LockedViewHoldsNoPaidText) {
  doc::Document d = sample_document();
  DocumentView v = make_view(input_for(d, Fen(990)), Viewer::anonymous());
  EXPECT_TRUE(v.locked);
  EXPECT_EQ(v.access, Access::kNone);
  std::string all = everything_in(v);
  for (const auto& s : kPaidSentences) EXPECT_EQ(all.find(s), std::string::npos) << s;
  // Free runs stay in place, including the free half of split lines.
  EXPECT_NE(all.find("全年共整理纸质档案四千余卷。"), std::string::npos);
  EXPECT_NE(all.find("扫描工作按期完成，"), std::string::npos);
  EXPECT_NE(all.find("以上为本年度总结。"), std::string::npos);

  // Shape: heading, para, para(free half), LOCKED, para(free tail).
  ASSERT_EQ(v.blocks.size(), 5u);
  EXPECT_EQ(v.blocks[0].kind, ViewBlock::Kind::kHeading);
  EXPECT_EQ(v.blocks[2].text, "扫描工作按期完成，");
  EXPECT_EQ(v.blocks[3].kind, ViewBlock::Kind::kLocked);
  EXPECT_TRUE(v.blocks[3].text.empty());
  EXPECT_EQ(v.blocks[4].text, "以上为本年度总结。");
}

TEST(MakeView, TeaserCountsAndOutline) {
  doc::Document d = sample_document();
  DocumentView v = make_view(input_for(d, Fen(990)), Viewer::anonymous());
  EXPECT_EQ(v.teaser.hidden_chars, doc::count_chars("紫色档案柜里藏着第七份备忘录。") +
                                       doc::count_chars("二、存在的问题和下一步打算包括很多很多很多很多很多很多很多方面的内容") +
                                       doc::count_chars("青铜钥匙由值班室统一保管并登记。") +
                                       doc::count_chars("夜班巡查记录共计一百零八页。"));
  EXPECT_EQ(v.teaser.hidden_paragraphs, 4);
  // The one paid heading is longer than kOutlineMaxChars: it reads as a
  // sentence, so it is counted but not shown, not even clipped.
  EXPECT_TRUE(v.teaser.outline.empty());
  EXPECT_EQ(everything_in(v).find("存在的问题"), std::string::npos);
}

// Teaser outline entries of a parsed source, as "level label text".
std::vector<std::string> outline_of(std::string_view source) {
  doc::ParseResult r = doc::parse(source, "t.txt");
  EXPECT_TRUE(r.ok) << r.error.to_string();
  DocumentView v = make_view(input_for(r.document, Fen(990)), Viewer::anonymous());
  EXPECT_TRUE(v.locked);
  std::vector<std::string> out;
  for (const auto& o : v.teaser.outline)
    out.push_back(std::to_string(o.level) + " " + o.label + " " + o.text);
  return out;
}

TEST(Teaser, OutlineShowsHeadingsNotPaidSentences) {
  const auto outline = outline_of(
      "整改方案\n"
      "　　公开的导语。\n"
      "##paidbegin##\n"
      "一、整改目标\n"
      "1. 把银杏巷的路灯全部换成节能灯，年底前完成\n"
      "2. 谁来负责？由后勤科牵头\n"
      "（一）责任分工。科长负总责。\n"
      "（二）第二季度以前要把全部十七个老旧小区的雨水管网改造工作完成并组织验收\n"
      "二、保障措施\n"
      "##paidend##\n");
  // "2." ends at its ？ (format.md §6.2): the heading shows, what runs in
  // after it does not.
  EXPECT_EQ(outline, (std::vector<std::string>{"1 一、 整改目标", "3 2. 谁来负责",
                                               "2 （一） 责任分工", "1 二、 保障措施"}));
  EXPECT_EQ(std::string(outline[1]).find("后勤科"), std::string::npos);
}

// A run-in heading (format.md §6.2) reaches renderers as a heading followed by
// a run_in paragraph, and only while the heading is shown just before it.
TEST(MakeView, RunInBlocksFollowTheirHeadingOrStandAlone) {
  doc::ParseResult r = doc::parse(
      "整改方案\n"
      "（一）公开标题。公开正文\n"
      "（二）公开标题##paidbegin##。付费正文##paidend##\n"
      "##paidbegin##（三）付费标题##paidend##。公开的续文\n",
      "t.txt");
  ASSERT_TRUE(r.ok) << r.error.to_string();
  auto shape = [](const DocumentView& v) {
    std::vector<std::string> out;
    for (const auto& b : v.blocks)
      out.push_back(b.kind == ViewBlock::Kind::kLocked    ? std::string("locked")
                    : b.kind == ViewBlock::Kind::kHeading ? "h " + b.label + b.text
                    : b.run_in                            ? "r " + b.text
                                                          : "p " + b.text);
    return out;
  };
  const DocumentView locked = make_view(input_for(r.document, Fen(990)), Viewer::anonymous());
  EXPECT_EQ(shape(locked), (std::vector<std::string>{"h （一）公开标题", "r 。公开正文",
                                                     "h （二）公开标题", "locked",
                                                     "p 。公开的续文"}));
  const DocumentView full = make_view(input_for(r.document, Fen(990)), Viewer::system());
  EXPECT_EQ(shape(full), (std::vector<std::string>{"h （一）公开标题", "r 。公开正文",
                                                   "h （二）公开标题", "r 。付费正文",
                                                   "h （三）付费标题", "r 。公开的续文"}));
}

TEST(Teaser, MarkerInsideAHeadingLineShowsOnlyWhatPrecedesIt) {
  const std::string source =
      "整改方案\n"
      "一、整改目标##paidbegin##青铜钥匙由值班室统一保管\n"
      "##paidend##\n";
  EXPECT_EQ(outline_of(source), (std::vector<std::string>{"1 一、 整改目标"}));
  doc::ParseResult r = doc::parse(source, "t.txt");
  ASSERT_TRUE(r.ok);
  DocumentView v = make_view(input_for(r.document, Fen(990)), Viewer::anonymous());
  EXPECT_EQ(everything_in(v).find("青铜钥匙"), std::string::npos);
  EXPECT_EQ(v.teaser.hidden_chars, doc::count_chars("青铜钥匙由值班室统一保管"));
  EXPECT_EQ(v.teaser.hidden_paragraphs, 1);
}

TEST(MakeView, FullAccessShowsEverything) {
  doc::Document d = sample_document();
  DocumentView v = make_view(input_for(d, Fen(990)), Viewer::system());
  EXPECT_FALSE(v.locked);
  EXPECT_EQ(v.access, Access::kAdmin);
  std::string all = everything_in(v);
  for (const auto& s : kPaidSentences) EXPECT_NE(all.find(s), std::string::npos) << s;
  for (const auto& b : v.blocks) EXPECT_NE(b.kind, ViewBlock::Kind::kLocked);
  EXPECT_EQ(v.blocks.size(), d.blocks.size());
}

TEST(MakeView, PurchaserSeesEverythingOtherReaderDoesNot) {
  doc::Document d = sample_document();
  Viewer buyer{100, Role::kReader, false, {3}};
  Viewer other{101, Role::kReader, false, {4}};
  EXPECT_FALSE(make_view(input_for(d, Fen(990)), buyer).locked);
  DocumentView locked_view = make_view(input_for(d, Fen(990)), other);
  EXPECT_TRUE(locked_view.locked);
  for (const auto& s : kPaidSentences)
    EXPECT_EQ(everything_in(locked_view).find(s), std::string::npos);
}

TEST(PublicExcerpt, FreeRunsOnly) {
  doc::Document d = sample_document();
  std::string e = public_excerpt(d, 1000);
  for (const auto& s : kPaidSentences) EXPECT_EQ(e.find(s), std::string::npos);
  EXPECT_NE(e.find("全年共整理纸质档案四千余卷。"), std::string::npos);
  EXPECT_EQ(public_excerpt(d, 5), "全年共整理…");
}

TEST(ClipChars, CountsCodePoints) {
  EXPECT_EQ(clip_chars("一二三四", 2), "一二");
  EXPECT_EQ(clip_chars("ab一", 5), "ab一");
  EXPECT_EQ(clip_chars("", 3), "");
}

}  // namespace
}  // namespace paidoc::gate
