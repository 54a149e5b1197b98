// Title breaking (export/title.h, GB/T 9704 §7.3.1): long titles break
// between words into balanced lines, never leave one character alone, keep
// a bracketed note whole; checked against ICU's own word boundaries and a
// brute-force search over every break choice. The titles are written for
// these tests.
#include "export/title.h"

#include "export_fixture.h"

#include <gtest/gtest.h>
#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "export/formats.h"
#include "export/layout.h"

namespace paidoc::exporter::internal {
namespace {

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l;
  return out;
}

std::string shown(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "[" + l + "]";
  return out;
}

// ICU's word boundaries of s (zh), as code point indices.
std::set<size_t> icu_boundaries(std::string_view s) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> it(
      icu::BreakIterator::createWordInstance(icu::Locale::getChinese(), status));
  EXPECT_TRUE(U_SUCCESS(status)) << u_errorName(status);
  std::set<size_t> out;
  if (!it) return out;
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  it->setText(u);
  for (int32_t b = it->first(); b != icu::BreakIterator::DONE; b = it->next())
    out.insert(static_cast<size_t>(u.countChar32(0, b)));
  return out;
}

// Code point indices inside a bracketed group: （…） or 《…》.
std::set<size_t> inside_groups(const std::vector<char32_t>& cps) {
  std::set<size_t> out;
  for (size_t i = 0; i < cps.size(); ++i) {
    char32_t close = cps[i] == U'（' ? U'）' : cps[i] == U'《' ? U'》' : 0;
    if (close == 0) continue;
    size_t j = i + 1;
    while (j < cps.size() && cps[j] != close) ++j;
    for (size_t k = i + 1; k <= j && k < cps.size(); ++k) out.insert(k);
  }
  return out;
}

double cells_of(const std::vector<char32_t>& cps, size_t from, size_t to) {
  std::string s;
  for (size_t i = from; i < to; ++i) {
    icu::UnicodeString u(static_cast<UChar32>(cps[i]));
    u.toUTF8String(s);
  }
  return text_cells(s);
}

bool valley(const std::vector<double>& w) {
  for (size_t i = 1; i + 1 < w.size(); ++i)
    if (w[i] < *std::max_element(w.begin(), w.begin() + i) &&
        w[i] < *std::max_element(w.begin() + i + 1, w.end()))
      return true;
  return false;
}

// The least difference of longest and shortest line over every way to
// break the title into `lines` lines at ICU boundaries outside brackets,
// each line within the width and holding two characters or more, without
// a line shorter than one above and one below it; -1 when there is none.
double least_spread(const std::vector<char32_t>& cps, int lines) {
  const std::set<size_t> icu = icu_boundaries([&] {
    std::string s;
    for (char32_t c : cps) icu::UnicodeString(static_cast<UChar32>(c)).toUTF8String(s);
    return s;
  }());
  const std::set<size_t> inside = inside_groups(cps);
  std::vector<size_t> cand;
  for (size_t b : icu)
    if (b > 0 && b < cps.size() && !inside.count(b) && !no_line_start(cps[b]) && !no_line_end(cps[b - 1]))
      cand.push_back(b);
  double best = -1;
  std::vector<size_t> pick;
  std::function<void(size_t)> walk = [&](size_t from) {
    if (static_cast<int>(pick.size()) == lines - 1) {
      std::vector<double> w;
      size_t at = 0;
      for (size_t k = 0; k <= pick.size(); ++k) {
        const size_t to = k < pick.size() ? pick[k] : cps.size();
        if (to - at < 2) return;
        w.push_back(cells_of(cps, at, to));
        if (w.back() > kTitleCharsPerLine) return;
        at = to;
      }
      if (valley(w)) return;
      const double spread = *std::max_element(w.begin(), w.end()) - *std::min_element(w.begin(), w.end());
      if (best < 0 || spread < best) best = spread;
      return;
    }
    for (size_t k = from; k < cand.size(); ++k) {
      pick.push_back(cand[k]);
      walk(k + 1);
      pick.pop_back();
    }
  };
  walk(0);
  return best;
}

struct TitleCase {
  const char* title;
  std::vector<std::string> want;  // empty: check the properties only
};

// Titles of the kinds paidoc sells, written for this test.
const TitleCase kCases[] = {
    // 41 characters: three lines (the old filler gave 20/20/1).
    {"中共青山县委组织部领导班子关于学习贯彻党的二十大精神专题民主生活会个人对照检查材料",
     {"中共青山县委组织部领导班子关于", "学习贯彻党的二十大精神专题", "民主生活会个人对照检查材料"}},
    {"市卫生健康委员会党组领导班子关于省委巡视反馈问题整改专题民主生活会个人对照检查材料",
     {"市卫生健康委员会党组领导班子", "关于省委巡视反馈问题整改专题", "民主生活会个人对照检查材料"}},
    // A regulation: the note in brackets stays whole.
    {"市住房和城乡建设局关于老旧小区改造项目资金管理的实施办法（试行）",
     {"市住房和城乡建设局关于老旧小区改造", "项目资金管理的实施办法（试行）"}},
    // 23 characters: 12 and 11, between two words.
    {"关于印发全市城镇燃气安全专项整治工作方案的通知",
     {"关于印发全市城镇燃气安全", "专项整治工作方案的通知"}},
    // A law's name is never broken, even at the cost of balance.
    {"关于认真学习宣传贯彻《中华人民共和国安全生产法》的通知",
     {"关于认真学习宣传贯彻", "《中华人民共和国安全生产法》的通知"}},
    {"关于做好防汛工作的通知", {"关于做好防汛工作的通知"}},
    {"关于开展2026年度ISO9001质量管理体系内部审核工作的通知", {}},
    {"县应急管理局领导班子关于主题教育专题民主生活会个人对照检查材料", {}},
    {"关于2025年度县直机关领导班子党史学习教育专题民主生活会对照检查材料", {}},
    {"中共某县委办公室县人民政府办公室关于进一步加强和改进新时代基层党组织建设工作的实施意见", {}},
    {"关于进一步加强城乡供水安全管理工作的紧急通知", {}},
};

TEST(Title, BreaksBetweenWordsIntoBalancedLines) {
  for (const TitleCase& c : kCases) {
    SCOPED_TRACE(c.title);
    const std::vector<std::string> lines = break_title(c.title, kTitleCharsPerLine);
    if (!c.want.empty()) {
      EXPECT_EQ(lines, c.want) << shown(lines);
    }
    EXPECT_EQ(joined(lines), c.title);

    // The fewest lines the width allows.
    const double cells = text_cells(c.title);
    EXPECT_EQ(static_cast<int>(lines.size()),
              static_cast<int>(std::ceil(cells / kTitleCharsPerLine)))
        << shown(lines);

    const std::vector<char32_t> cps = testing::code_points(c.title);
    const std::set<size_t> icu = icu_boundaries(c.title);
    const std::set<size_t> inside = inside_groups(cps);
    size_t at = 0;
    std::vector<double> widths;
    for (size_t i = 0; i < lines.size(); ++i) {
      const size_t n = testing::code_points(lines[i]).size();
      // Never one character alone; never wider than the line.
      EXPECT_GE(n, 2u) << shown(lines);
      EXPECT_LE(text_cells(lines[i]), kTitleCharsPerLine) << lines[i];
      widths.push_back(text_cells(lines[i]));
      at += n;
      if (i + 1 == lines.size()) break;
      // Breaks only where ICU puts a word boundary, never inside brackets.
      EXPECT_TRUE(icu.count(at)) << "break inside a word: " << shown(lines);
      EXPECT_FALSE(inside.count(at)) << "break inside brackets: " << shown(lines);
    }
    // 梯形 or 菱形, and as balanced as any choice of word boundaries allows
    // (within two cells: a boundary beside a lone ideograph, where ICU
    // does not know the word, is avoided when it gains no more).
    EXPECT_FALSE(valley(widths)) << shown(lines);
    if (lines.size() > 1) {
      const double spread = *std::max_element(widths.begin(), widths.end()) -
                            *std::min_element(widths.begin(), widths.end());
      const double least = least_spread(cps, static_cast<int>(lines.size()));
      ASSERT_GE(least, 0) << shown(lines);
      EXPECT_LE(spread, least + 2.0) << shown(lines);
    }
  }
}

TEST(Title, NeverLeavesOneCharacterAlone) {
  // 21 characters: the old filler put the last one on a line of its own.
  const std::string t = "关于做好全市城乡居民基本医疗保险工作的通知";
  ASSERT_GT(text_cells(t), kTitleCharsPerLine);
  const auto lines = break_title(t, kTitleCharsPerLine);
  ASSERT_EQ(lines.size(), 2u) << shown(lines);
  for (const auto& l : lines) EXPECT_GE(testing::code_points(l).size(), 8u) << shown(lines);
}

TEST(Title, EdgeCases) {
  EXPECT_TRUE(break_title("", kTitleCharsPerLine).empty());
  EXPECT_TRUE(break_title("   ", kTitleCharsPerLine).empty());
  EXPECT_EQ(break_title("  关于做好防汛工作的通知 ", kTitleCharsPerLine),
            std::vector<std::string>{"关于做好防汛工作的通知"});
  // A word longer than a line still breaks, and nothing is lost.
  const std::string latin(60, 'W');
  const auto lines = break_title(latin, kTitleCharsPerLine);
  EXPECT_GT(lines.size(), 1u);
  EXPECT_EQ(joined(lines), latin);
  // A very long title still takes the fewest lines, quickly.
  std::string very_long;
  for (int i = 0; i < 6; ++i) very_long += "关于进一步加强和改进基层党组织建设";
  const auto start = std::chrono::steady_clock::now();
  const auto many = break_title(very_long, kTitleCharsPerLine);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(many.size(), 6u) << shown(many);  // 102 characters
  EXPECT_EQ(joined(many), very_long);
  for (const auto& l : many) EXPECT_LE(text_cells(l), kTitleCharsPerLine) << l;
  // A line break at a space drops the space.
  const std::string spaced = "Annual Report on the Implementation of the Regional Water Supply Plan";
  std::string without;
  for (char c : spaced)
    if (c != ' ') without += c;
  std::string got;
  for (const auto& l : break_title(spaced, kTitleCharsPerLine))
    for (char c : l)
      if (c != ' ') got += c;
  EXPECT_EQ(got, without);
}

}  // namespace
}  // namespace paidoc::exporter::internal
