// Multi-term queries: documents whose terms stand together rank first
// (store/proximity.h), never by where words stand in locked paid text; and
// snippets show the window holding the most terms (best_snippet).
#include <gtest/gtest.h>

#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "library/library.h"
#include "search/search.h"
#include "store/store.h"
#include "support/backends.h"
#include "support/test_database.h"
#include "search_fixture.h"
#include "text/text.h"

namespace paidoc::search {
namespace {

using Ids = std::vector<int64_t>;

// A filler clause holding none of the query words of this file.
const char* kFiller = "会上通报了近期重点任务的进展情况，各处室逐项说明了下一步安排。";

std::string doc(const std::string& title, const std::string& free, const std::string& paid = "") {
  std::string s = title + "\n" + free + "\n";
  if (!paid.empty()) s += "##paidbegin##\n" + paid + "\n##paidend##\n";
  return s;
}

// The marked texts of a snippet.
std::vector<std::string> marks(const std::vector<Span>& spans) {
  std::vector<std::string> out;
  for (const Span& s : spans) {
    if (s.mark) out.push_back(s.text);
  }
  return out;
}

bool marked(const std::vector<Span>& spans, const std::string& term) {
  for (const std::string& m : marks(spans)) {
    if (m.find(term) != std::string::npos) return true;
  }
  return false;
}

std::string plain(const std::vector<Span>& spans) {
  std::string out;
  for (const Span& s : spans) out += s.text;
  return out;
}

// --- snippets, on text alone -------------------------------------------------

TEST(BestSnippet, ShowsTheLaterWindowHoldingBothTerms) {
  // 整改 alone at the start, then far on 整改 and 台账 side by side.
  std::string text = "本年度整改工作全面启动。";
  for (int i = 0; i < 4; ++i) text += kFiller;
  text += "各单位建立整改台账，逐项销号。";
  const std::vector<Term> terms = parse_query("整改 台账").terms;
  Snippet s = best_snippet(text, terms);
  EXPECT_TRUE(marked(s.spans, "整改")) << plain(s.spans);
  EXPECT_TRUE(marked(s.spans, "台账")) << plain(s.spans);
  EXPECT_EQ(plain(s.spans).find("本年度"), std::string::npos) << plain(s.spans);
  EXPECT_GT(s.start, 0);
  EXPECT_EQ(s.spans.front().text, "…");  // cut before the window
  // The first-match window shows only the first term.
  std::vector<Span> first = cut_snippet(text, find_matches(text, terms), 0);
  EXPECT_FALSE(marked(first, "台账")) << plain(first);
}

TEST(BestSnippet, OneTermKeepsTheFirstMatch) {
  std::string text = "第一处提到整改。";
  for (int i = 0; i < 4; ++i) text += kFiller;
  text += "第二处提到整改。";
  Snippet s = best_snippet(text, parse_query("整改").terms);
  EXPECT_EQ(s.start, 0);
  EXPECT_NE(plain(s.spans).find("第一处"), std::string::npos) << plain(s.spans);
}

TEST(BestSnippet, AmongWindowsWithEveryTermTheClosestWins) {
  // Both terms 20 characters apart early, side by side later.
  std::string text = "整改工作按计划推进，各处室认真组织学习，建立台账。";
  for (int i = 0; i < 4; ++i) text += kFiller;
  text += "年底前完成整改台账的归档。";
  Snippet s = best_snippet(text, parse_query("整改 台账").terms);
  EXPECT_NE(plain(s.spans).find("整改台账的归档"), std::string::npos) << plain(s.spans);
}

TEST(BestSnippet, NoMatchShowsTheStart) {
  Snippet s = best_snippet("会议纪要。", parse_query("台账").terms);
  EXPECT_EQ(s.start, 0);
  EXPECT_EQ(plain(s.spans), "会议纪要。");
}

TEST(BestSnippet, MustShowKeepsAWindowWithThatTerm) {
  // The window with both terms lacks 销号; the one with 销号 is chosen.
  std::string text = "整改台账逐项建立。";
  for (int i = 0; i < 4; ++i) text += kFiller;
  text += "完成后及时销号。";
  const std::vector<Term> terms = parse_query("整改 台账 销号").terms;
  Snippet s = best_snippet(text, terms, {terms[2]});
  EXPECT_TRUE(marked(s.spans, "销号")) << plain(s.spans);
}

// --- ranking and snippets through the service, per backend ---------------------------

class ProximityTest : public testing::SearchServiceTest {};

// Each document holds each term once, in its free text, and is older than
// the next: without the proximity bonus the newest would rank first.
TEST_P(ProximityTest, AdjacentTermsRankAboveTermsApart) {
  const std::string apart = std::string(kFiller) + kFiller;
  int64_t together = import("a.txt", doc("甲单位材料", "全面落实安全生产责任制。" + apart));
  int64_t near = import("b.txt", doc("乙单位材料", "全面落实安全生产岗位责任制。" + apart));
  int64_t far = import("c.txt", doc("丙单位材料", "全面落实安全生产，" + apart + "健全责任制。"));
  Results r = run("安全生产 责任制");
  EXPECT_EQ(ids(r), (Ids{together, near, far}));
  // The same order with the terms typed the other way round.
  EXPECT_EQ(ids(run("责任制 安全生产")), (Ids{together, near, far}));
  // A single term: no bonus, the newest first.
  EXPECT_EQ(ids(run("责任制")), (Ids{far, near, together}));
}

// Punctuation between the words does not count (README): the separator's
// index position is the one a bigram across it would take. The two
// documents tie, and the newer comes first.
TEST_P(ProximityTest, PunctuationBetweenTermsDoesNotCount) {
  const std::string apart = std::string(kFiller) + kFiller;
  int64_t together = import("a.txt", doc("甲单位材料", "全面落实安全生产责任制。" + apart));
  int64_t comma = import("b.txt", doc("乙单位材料", "全面落实安全生产，责任制。" + apart));
  int64_t far = import("c.txt", doc("丙单位材料", "全面落实安全生产，" + apart + "健全责任制。"));
  EXPECT_EQ(ids(run("安全生产 责任制")), (Ids{comma, together, far}));
}

// A quoted term with a separator inside once ranked differently on the two
// backends: PostgreSQL looked for its words one position apart, not across
// the separator's position, and the span after it left the separator out.
TEST_P(ProximityTest, QuotedTermWithPunctuationRanksByProximityOnBothBackends) {
  const std::string apart = std::string(kFiller) + kFiller;
  int64_t together = import("a.txt", doc("甲单位材料", "狠抓安全，生产责任制落实。" + apart));
  int64_t far = import("b.txt", doc("乙单位材料", "狠抓安全，生产，" + apart + "责任制落实。"));
  EXPECT_EQ(ids(run("\"安全，生产\" 责任制")), (Ids{together, far}));
}

TEST_P(ProximityTest, ThreeTermsAllTogetherRankFirst) {
  const std::string apart = std::string(kFiller) + kFiller;
  int64_t all = import("a.txt", doc("甲单位材料", "推进基层治理现代化。" + apart));
  int64_t two = import("b.txt", doc("乙单位材料", "推进基层治理，" + apart + "实现现代化。"));
  int64_t none = import("c.txt", doc("丙单位材料", "推进基层，" + apart + "完善治理，" + apart +
                                                        "实现现代化。"));
  EXPECT_EQ(ids(run("基层 治理 现代化")), (Ids{all, two, none}));
}

// The leak rule: where words stand in locked paid text never moves a
// document. Both documents hold 绩效 and 扣款 as keywords of their paid
// part, side by side in the older one, far apart in the newer one.
TEST_P(ProximityTest, LockedPaidTextIsNeverRankedByWhereItsWordsStand) {
  const std::string apart = std::string(kFiller) + kFiller;
  int64_t adjacent =
      import("a.txt", doc("考核办法甲", "考核每季度开展一次。", "连续两次靠后的科室实行绩效扣款。"));
  int64_t apart_doc = import(
      "b.txt", doc("考核办法乙", "考核每季度开展一次。", "考核结果与绩效挂钩。" + apart + "靠后科室予以扣款。"));
  const gate::Viewer reader{int64_t{7}, gate::Role::kReader, false, {}};
  for (const gate::Viewer& v : {gate::Viewer::anonymous(), reader}) {
    Results r = run("绩效 扣款", v);
    // Found through keywords, ordered by age alone.
    EXPECT_EQ(ids(r), (Ids{apart_doc, adjacent}));
    for (const Hit& h : r.hits) EXPECT_TRUE(h.match_in_paid);
  }
  // A reader of both paid parts is ranked by the paid text itself.
  const gate::Viewer buyer{int64_t{8}, gate::Role::kReader, false, {adjacent, apart_doc}};
  EXPECT_EQ(ids(run("绩效 扣款", buyer)), (Ids{adjacent, apart_doc}));
}

TEST_P(ProximityTest, SnippetShowsTheWindowHoldingBothTerms) {
  std::string free = "本年度整改工作全面启动。";
  for (int i = 0; i < 4; ++i) free += kFiller;
  free += "各单位建立整改台账，逐项销号。";
  int64_t id = import("a.txt", doc("工作总结", free));
  Results r = run("整改 台账");
  ASSERT_EQ(ids(r), (Ids{id}));
  const std::string html = r.hits[0].snippet_html();
  EXPECT_NE(html.find("<mark>整改</mark><mark>台账</mark>"), std::string::npos) << html;
  EXPECT_FALSE(r.hits[0].snippet_from_paid);
}

// A buyer's snippet around a paid match also takes the window with the most
// terms: here the paid sentence holding both, not the first paid 台账.
TEST_P(ProximityTest, PaidSnippetForABuyerHoldsBothTerms) {
  std::string paid = "台账由专人保管。";
  for (int i = 0; i < 4; ++i) paid += kFiller;
  paid += "整改台账按月归档。";
  int64_t id = import("a.txt", doc("工作总结", "本年度整改工作全面启动。", paid));
  const gate::Viewer buyer{int64_t{8}, gate::Role::kReader, false, {id}};
  Results r = run("整改 台账", buyer);
  ASSERT_EQ(ids(r), (Ids{id}));
  EXPECT_TRUE(r.hits[0].snippet_from_paid);
  EXPECT_NE(r.hits[0].snippet_html().find("<mark>整改</mark><mark>台账</mark>"), std::string::npos)
      << r.hits[0].snippet_html();
}

// --- a measurement over a generated library ---------------------------------------

// Words and clauses written for this test.
const std::vector<std::string> kWords = {
    "整改", "台账", "考核", "督查", "落实", "责任", "基层", "治理", "隐患", "排查",
    "学习", "制度", "群众", "服务", "安全", "环境", "会议", "计划", "总结", "问题",
    "预算", "审计", "档案", "培训", "信访", "调研", "宣传", "采购", "验收", "值班"};
const std::vector<std::string> kGlue = {
    "，", "。", "的", "和", "并", "要", "已", "把", "在", "对", "；", "及时", "全面", "认真",
    "各部门", "按要求", "逐步", "进一步", "明确分工", "形成合力", "取得成效", "有序推进"};

// Character index of each byte offset's character.
int chars_before(const std::string& s, size_t byte) {
  int n = 0;
  for (size_t i = 0; i < byte && i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// Whether some window of `width` characters of `text` holds a whole
// occurrence of every term (plain substring search: the text and terms are
// simplified Chinese only, where that is how the index matches).
bool some_window_holds_all(const std::string& text, const std::vector<std::string>& terms, int width) {
  std::vector<std::vector<std::pair<int, int>>> occ(terms.size());
  std::vector<int> starts;
  for (size_t t = 0; t < terms.size(); ++t) {
    for (size_t at = text.find(terms[t]); at != std::string::npos; at = text.find(terms[t], at + 1)) {
      const int a = chars_before(text, at);
      occ[t].emplace_back(a, chars_before(text, at + terms[t].size()));
      starts.push_back(a);
    }
  }
  for (int s : starts) {
    bool all = true;
    for (const auto& list : occ) {
      bool found = false;
      for (const auto& [a, b] : list) found = found || (a >= s && b <= s + width);
      all = all && found;
    }
    if (all) return true;
  }
  return false;
}

TEST_P(ProximityTest, SnippetsShowEveryTermWheneverOneWindowHoldsThem) {
  std::mt19937 rng(20261207);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const std::string paid_secret = "夜间值守人员须在交接班前核对全部监控点位的录像。";
  for (int d = 0; d < 40; ++d) {
    std::string free;
    const int lines = 2 + static_cast<int>(pick(4));
    for (int l = 0; l < lines; ++l) {
      if (l) free += "\n";
      const int pieces = 20 + static_cast<int>(pick(60));
      for (int p = 0; p < pieces; ++p) {
        free += pick(4) ? kGlue[pick(kGlue.size())] : kWords[pick(kWords.size())];
      }
      free += "。";
    }
    import("g" + std::to_string(d) + ".txt",
           doc("材料" + std::to_string(d), free, d % 2 ? paid_secret : ""));
  }
  int hits = 0, possible = 0, shown_new = 0, shown_first_match = 0;
  for (int q = 0; q < 400 && hits < 200; ++q) {
    std::vector<std::string> terms = {kWords[pick(kWords.size())]};
    const size_t n = 2 + pick(2);
    while (terms.size() < n) {
      const std::string& w = kWords[pick(kWords.size())];
      if (std::find(terms.begin(), terms.end(), w) == terms.end()) terms.push_back(w);
    }
    std::string query;
    for (const std::string& t : terms) query += (query.empty() ? "" : " ") + t;
    Results r = run(query);
    for (const Hit& h : r.hits) {
      ++hits;
      // Snippets for a reader without access come from free text only.
      EXPECT_EQ(h.snippet_text().find("交接班"), std::string::npos);
      EXPECT_FALSE(h.snippet_from_paid);
      auto stored = lib_->view(h.id, gate::Viewer::anonymous());
      ASSERT_TRUE(stored.ok());
      std::string free;
      for (const gate::ViewBlock& b : stored->blocks) {
        if (b.kind == gate::ViewBlock::Kind::kLocked || b.paid) continue;
        if (!free.empty()) free += "\n";
        free += b.label + b.text;
      }
      const std::vector<Term> parsed = parse_query(query).terms;
      bool all_new = true, all_first = true;
      const std::vector<Span> first = cut_snippet(free, find_matches(free, parsed), 0);
      for (const std::string& t : terms) {
        all_new = all_new && marked(h.snippet, t);
        all_first = all_first && marked(first, t);
      }
      shown_new += all_new;
      shown_first_match += all_first;
      if (some_window_holds_all(free, terms, 80)) {
        ++possible;
        EXPECT_TRUE(all_new) << query << "\n" << h.snippet_text() << "\n" << free;
      }
    }
  }
  ASSERT_GE(hits, 200);
  ASSERT_GE(possible, 50);  // the corpus exercises the rule
  std::cout << "multi-term hits " << hits << "; a window holds every term in " << possible
            << "; snippet shows every term in " << shown_new << " (first-match window: "
            << shown_first_match << ")\n";
}

PAIDOC_ON_EVERY_BACKEND(ProximityTest);

}  // namespace
}  // namespace paidoc::search
