// Search: query parsing, matching rules, ranking, filters, and the leak rule
// on results (paid text reaches only readers with access).
#include "search/search.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>

#include "library/library.h"
#include "store/store.h"
#include "support/test_database.h"
#include "search_fixture.h"
#include "text/text.h"

namespace paidoc::search {
namespace {


// --- query parsing --------------------------------------------------------------

std::vector<std::string> texts(const std::vector<Term>& terms) {
  std::vector<std::string> out;
  for (const Term& t : terms) out.push_back(t.text);
  return out;
}

using Strings = std::vector<std::string>;

TEST(ParseQuery, SpacesSeparateTermsAsciiAndIdeographic) {
  Query q = parse_query("民主生活会 对照检查\xE3\x80\x80" "2023");
  EXPECT_EQ(texts(q.terms), (Strings{"民主生活会", "对照检查", "2023"}));
  EXPECT_TRUE(q.excluded.empty());
}

TEST(ParseQuery, QuotedPhraseAndExclusion) {
  Query q = parse_query("\"work plan\" 整改 -草稿 “年度 总结”");
  ASSERT_EQ(q.terms.size(), 3u);
  EXPECT_EQ(q.terms[0], (Term{"work plan", true}));
  EXPECT_EQ(q.terms[1], (Term{"整改", false}));
  EXPECT_EQ(q.terms[2], (Term{"年度 总结", true}));
  EXPECT_EQ(texts(q.excluded), (Strings{"草稿"}));
  EXPECT_EQ(q.to_string(), "\"work plan\" 整改 \"年度 总结\" -草稿");
}

TEST(ParseQuery, FullWidthMinusExcludesLikeTheAsciiOne) {
  Query q = parse_query("整改 －党建 -草稿 － 总结");
  EXPECT_EQ(texts(q.terms), (Strings{"整改", "总结"}));
  EXPECT_EQ(texts(q.excluded), (Strings{"党建", "草稿"}));
  // A lone sign (followed by a space) excludes nothing and is named as ignored.
  EXPECT_EQ(q.ignored, (Strings{"－"}));
}

TEST(ParseQuery, UnsearchableWordsAreIgnoredAndNamed) {
  Query q = parse_query("， 😀 党建 -");
  EXPECT_EQ(texts(q.terms), (Strings{"党建"}));
  EXPECT_EQ(q.ignored, (Strings{"，", "😀", "-"}));
}

TEST(ParseQuery, OnlyExclusionsIsNotASearch) {
  Query q = parse_query("-草稿 -模板");
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.excluded.empty());
  EXPECT_EQ(q.ignored, (Strings{"-草稿", "-模板"}));
}

TEST(ParseQuery, DuplicatesOnceAndAtMostMaxTerms) {
  Query q = parse_query("甲乙 甲乙 丙丁 戊己 庚辛 壬癸 子丑 寅卯 辰巳 午未");
  EXPECT_EQ(q.terms.size(), kMaxTerms);
  EXPECT_EQ(q.terms[0].text, "甲乙");
  EXPECT_EQ(q.terms[1].text, "丙丁");
  EXPECT_EQ(q.ignored, (Strings{"午未"}));
}

TEST(ParseQuery, HyphenInsideAWordIsText) {
  Query q = parse_query("covid-19");
  EXPECT_EQ(texts(q.terms), (Strings{"covid-19"}));
}

// --- matching for snippets ------------------------------------------------------

std::vector<std::string> matched(std::string_view text, const std::string& q) {
  std::vector<std::string> out;
  for (auto [a, b] : find_matches(text, parse_query(q).terms)) {
    out.emplace_back(text.substr(a, b - a));
  }
  return out;
}

TEST(FindMatches, PhraseMatchesOnlyContiguousRuns) {
  EXPECT_EQ(matched("落实整改措施，整改的措施", "整改措施"), (Strings{"整改措施"}));
}

TEST(FindMatches, SingleCharacterAnywhereInARun) {
  // Start, middle and end of runs, and alone.
  EXPECT_EQ(matched("党建引领，政党建设，依靠政党。党", "党"), (Strings{"党", "党", "党", "党"}));
}

TEST(FindMatches, TraditionalTextMatchesSimplifiedQueryWithOriginalBytes) {
  EXPECT_EQ(matched("要求全面從嚴治黨。", "全面从严治党"), (Strings{"全面從嚴治黨"}));
}

TEST(FindMatches, FullWidthDigitsAndLatinCase) {
  EXPECT_EQ(matched("２０２３年GDP增长", "2023年 gdp"), (Strings{"２０２３年", "GDP"}));
}

TEST(FindMatches, APhraseNeverSpansASeparatorRun) {
  EXPECT_EQ(matched("中心工作，作风建设", "工作风"), Strings{});
  EXPECT_EQ(matched("改进工作风气", "工作风"), (Strings{"工作风"}));
  // A term typed with a separator in it marks the words and what lies
  // between them, across any one separator run.
  EXPECT_EQ(matched("中心工作、作风建设；工作作风", "\"工作，作风\""), (Strings{"工作、作风"}));
  // An invisible character inside a word is part of the marked range.
  EXPECT_EQ(matched("加强党\u200B建", "党建"), (Strings{"党\u200B建"}));
}

TEST(FindMatches, PhraseLevelTraditionalMarksTheOriginalCharacters) {
  EXPECT_EQ(matched("我們要深入瞭解情況", "了解"), (Strings{"瞭解"}));
  EXPECT_EQ(matched("著力解決問題", "着力"), (Strings{"著力"}));
  EXPECT_EQ(matched("藉此機會", "借此"), (Strings{"藉此"}));
}

TEST(CutSnippet, WindowAroundMatchWithEllipses) {
  std::string text;
  for (int i = 0; i < 60; ++i) text += "甲";
  text += "绩效扣款";
  for (int i = 0; i < 60; ++i) text += "乙";
  auto ranges = find_matches(text, parse_query("绩效扣款").terms);
  std::vector<Span> spans = cut_snippet(text, ranges, 0, 40);
  ASSERT_GE(spans.size(), 3u);
  EXPECT_EQ(spans.front().text, "…");
  EXPECT_EQ(spans.back().text, "…");
  bool marked = false;
  for (const Span& s : spans) marked = marked || (s.mark && s.text == "绩效扣款");
  EXPECT_TRUE(marked);
}

// --- the service over a real store ---------------------------------------------------

// Paid sentences: tests check that no 8-character window of them reaches a
// reader without access.
const char* kPaidSentence = "对连续两个季度考核靠后的科室实行绩效扣款并约谈负责人。";
const char* kPaidSentence2 = "夜间巡查发现的渗漏点须在四十八小时内完成封堵。";

// The service over each store backend (PostgreSQL where PAIDOC_TEST_PG
// names a server; tests/support/test_database.h).
class SearchTest : public testing::SearchServiceTest {};

std::string doc(const std::string& title, const std::string& free, const std::string& paid = "") {
  std::string s = title + "\n一、基本情况\n" + free + "\n";
  if (!paid.empty()) s += "##paidbegin##\n二、具体措施\n" + paid + "\n##paidend##\n";
  return s;
}

// Every 8-character window of `secret` (code points) that occurs in `shown`.
std::vector<std::string> leaked_windows(const std::string& shown, const std::string& secret) {
  std::vector<std::string> cps;
  for (size_t i = 0; i < secret.size();) {
    size_t len = 1;
    unsigned char b = secret[i];
    if (b >= 0xF0) len = 4; else if (b >= 0xE0) len = 3; else if (b >= 0xC0) len = 2;
    cps.push_back(secret.substr(i, len));
    i += len;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i + 8 <= cps.size(); ++i) {
    std::string w;
    for (size_t k = i; k < i + 8; ++k) w += cps[k];
    if (shown.find(w) != std::string::npos) out.push_back(w);
  }
  return out;
}

std::string everything_shown(const Results& r) {
  std::string all;
  for (const Hit& h : r.hits) {
    all += h.title + "|" + h.snippet_text() + "|" + h.snippet_html() + "|" + h.title_html() + "|";
    for (const std::string& t : h.paid_terms) all += t + "|";
  }
  return all;
}

TEST_P(SearchTest, PhraseFindsOnlyTheContiguousRun) {
  int64_t together = import("a.txt", doc("甲单位报告", "本年度认真落实整改措施。"));
  import("b.txt", doc("乙单位报告", "提出整改意见，明确具体措施。"));
  EXPECT_EQ(ids(run("整改措施")), (std::vector<int64_t>{together}));
}

TEST_P(SearchTest, TitleMatchRanksAboveBodyMatch) {
  int64_t body = import("body.txt", doc("年度工作报告", "推进乡村振兴，乡村振兴取得成效，乡村振兴见实效。"));
  int64_t title = import("title.txt", doc("乡村振兴工作报告", "全年完成各项任务。"));
  Results r = run("乡村振兴");
  EXPECT_EQ(ids(r), (std::vector<int64_t>{title, body}));
  EXPECT_EQ(r.total, 2);
}

TEST_P(SearchTest, NewerDocumentWinsATie) {
  int64_t older = import("o.txt", doc("调研报告之一", "围绕基层减负开展调研。"));
  int64_t newer = import("n.txt", doc("调研报告之二", "围绕基层减负开展调研。"));
  EXPECT_EQ(ids(run("基层减负")), (std::vector<int64_t>{newer, older}));
}

TEST_P(SearchTest, TermsAreAndedAndExclusionsRemove) {
  int64_t both = import("1.txt", doc("一号文件", "安全生产与消防演练同步开展。"));
  int64_t one = import("2.txt", doc("二号文件", "安全生产检查全面铺开。"));
  EXPECT_EQ(ids(run("安全生产 消防演练")), (std::vector<int64_t>{both}));
  EXPECT_EQ(ids(run("安全生产 -消防")), (std::vector<int64_t>{one}));
}

TEST_P(SearchTest, FullWidthMinusExcludes) {
  import("1.txt", doc("一号文件", "党建引领基层治理。"));
  int64_t other = import("2.txt", doc("二号文件", "基层治理取得实效。"));
  EXPECT_EQ(ids(run("基层治理 －党建")), (std::vector<int64_t>{other}));
}

TEST_P(SearchTest, IdeographicZeroYearsMatchOnlyTheirOwnYear) {
  int64_t y2020 = import("a.txt", doc("年度报告甲", "二〇二〇年完成改造。"));
  import("b.txt", doc("年度报告乙", "二〇二三年完成改造。"));
  EXPECT_EQ(ids(run("二〇二〇")), (std::vector<int64_t>{y2020}));
}

TEST_P(SearchTest, ANumberFindsItBeforeAUnit) {
  int64_t area = import("a.txt", doc("改造方案", "新建厂房1200㎡，配套道路。"));
  EXPECT_EQ(ids(run("1200")), (std::vector<int64_t>{area}));
  EXPECT_EQ(ids(run("1200㎡")), (std::vector<int64_t>{area}));
  EXPECT_EQ(ids(run("1200m2")), (std::vector<int64_t>{area}));
}

TEST_P(SearchTest, APhraseNeverSpansASeparatorRun) {
  int64_t apart = import("a.txt", doc("甲文", "围绕中心工作，作风建设常抓不懈。"));
  int64_t together = import("b.txt", doc("乙文", "持续改进工作风气。"));
  int64_t plain = import("c.txt", doc("丙文", "转变工作作风。"));
  EXPECT_EQ(ids(run("工作风")), (std::vector<int64_t>{together}));
  EXPECT_EQ(ids(run("工作作风")), (std::vector<int64_t>{plain}));
  // Across 、, a space and a line break (a paragraph ends a line).
  import("d.txt", doc("丁文", "推进党建、建设阵地。"));
  int64_t spaced = import("e.txt", doc("戊文", "重点项目 联合申报。"));
  import("f.txt", doc("己文", "要坚持问题\n导向抓落实。"));
  EXPECT_EQ(run("党建设").total, 0);
  EXPECT_EQ(run("项目联合").total, 0);
  EXPECT_EQ(run("问题导向").total, 0);
  // A term typed with a separator in it finds the words across any one
  // separator run, and not run together.
  EXPECT_EQ(ids(run("\"工作，作风\"")), (std::vector<int64_t>{apart}));
  EXPECT_EQ(ids(run("\"项目 联合\"")), (std::vector<int64_t>{spaced}));
  // An exclusion is the same phrase.
  EXPECT_EQ(ids(run("工作 -\"工作、作风\"")), (std::vector<int64_t>{plain, together}));
}

TEST_P(SearchTest, AWordSplitOnlyByWhatBelongsToItStillMatches) {
  // Invisible characters (zero-width space, soft hyphen) are part of the
  // word; so is 〇; a number and an ideograph meet without a separator.
  int64_t zero_width = import("z.txt", doc("甲文", "加强党\u200B建引领。"));
  int64_t soft_hyphen = import("s.txt", doc("乙文", "抓好党\u00AD建工作。"));
  int64_t year = import("y.txt", doc("丙文", "二〇二〇年第3季度完成。"));
  Results r = run("党建");
  std::set<int64_t> got;
  for (const Hit& h : r.hits) got.insert(h.id);
  EXPECT_EQ(got, (std::set<int64_t>{zero_width, soft_hyphen}));
  EXPECT_EQ(ids(run("〇年第3季度")), (std::vector<int64_t>{year}));
}

bool has(const Results& r, int64_t id);

TEST_P(SearchTest, LockedPaidSeparatorsAreNotSearchable) {
  // Two documents whose paid parts differ only by a comma: a reader
  // without access cannot tell them apart by phrases, exclusions or
  // prefixes; a buyer of both can.
  const std::string free = "本方案适用于住宅小区。";
  int64_t comma = import("a.txt", doc("甲方案", free, "屋面卷材全部更换，排水管道同步疏通。"));
  int64_t none = import("b.txt", doc("乙方案", free, "屋面卷材全部更换排水管道同步疏通。"));
  const gate::Viewer reader{int64_t{7}, gate::Role::kReader, false, {}};
  for (const gate::Viewer& v : {gate::Viewer::anonymous(), reader}) {
    for (const char* q : {"全部更换排水", "\"全部更换，排水\"", "换排", "换，排"}) {
      EXPECT_EQ(run(q, v).total, 0) << q;
    }
    for (const char* q : {"住宅小区 -全部更换排水", "住宅小区 -\"更换，排水管\"", "住宅小区 -换排"}) {
      Results r = run(q, v);
      EXPECT_TRUE(has(r, comma) && has(r, none)) << q;
    }
  }
  const gate::Viewer buyer{int64_t{8}, gate::Role::kReader, false, {comma, none}};
  EXPECT_EQ(ids(run("全部更换排水", buyer)), (std::vector<int64_t>{none}));
  EXPECT_EQ(ids(run("\"全部更换，排水\"", buyer)), (std::vector<int64_t>{comma}));
}

TEST_P(SearchTest, SingleCharacterTermFindsEveryPosition) {
  int64_t start = import("s.txt", doc("甲文", "党建工作有序推进。"));
  int64_t end = import("e.txt", doc("乙文", "始终相信政党。"));
  int64_t alone = import("l.txt", doc("丙文", "一心向党，砥砺前行。"));
  import("none.txt", doc("丁文", "完成绿化任务。"));
  Results r = run("党");
  std::set<int64_t> got;
  for (const Hit& h : r.hits) got.insert(h.id);
  EXPECT_EQ(got, (std::set<int64_t>{start, end, alone}));
  // A term ending in a single character after a word: "2023年" finds
  // "2023年度".
  int64_t year = import("y.txt", doc("戊文", "2023年度考核结果公布。"));
  EXPECT_EQ(ids(run("2023年")), (std::vector<int64_t>{year}));
}

TEST_P(SearchTest, TraditionalQueryFindsTheSameDocuments) {
  int64_t a = import("a.txt", doc("学习心得", "坚持全面从严治党不动摇。"));
  int64_t b = import("b.txt", doc("學習體會", "堅持全面從嚴治黨，永遠在路上。"));
  import("c.txt", doc("其他", "做好防汛准备。"));
  Results simp = run("全面从严治党");
  Results trad = run("全面從嚴治黨");
  std::set<int64_t> s1, s2;
  for (int64_t id : ids(simp)) s1.insert(id);
  for (int64_t id : ids(trad)) s2.insert(id);
  EXPECT_EQ(s1, (std::set<int64_t>{a, b}));
  EXPECT_EQ(s1, s2);
}

TEST_P(SearchTest, PhraseLevelTraditionalMatchesBothWays) {
  int64_t trad = import("t.txt", doc("調研報告", "深入瞭解基層情況，著力解決群眾急難愁盼問題，藉此機會推動落實。"));
  int64_t simp = import("s.txt", doc("学习体会", "要了解实际情况，着力破解发展难题，借此推动改革。"));
  for (const char* q : {"了解", "瞭解", "着力", "著力", "借此", "藉此"}) {
    Results r = run(q);
    std::set<int64_t> got;
    for (const Hit& h : r.hits) got.insert(h.id);
    EXPECT_EQ(got, (std::set<int64_t>{trad, simp})) << q;
  }
  // The snippet shows and marks the original traditional characters.
  Results r = run("了解 着力");
  const Hit* hit = nullptr;
  for (const Hit& h : r.hits) {
    if (h.id == trad) hit = &h;
  }
  ASSERT_NE(hit, nullptr);
  EXPECT_NE(hit->snippet_html().find("<mark>瞭解</mark>"), std::string::npos) << hit->snippet_html();
  EXPECT_NE(hit->snippet_html().find("<mark>著力</mark>"), std::string::npos) << hit->snippet_html();
  // A title in traditional script is marked the same way.
  Results t = run("调研报告");
  ASSERT_EQ(ids(t), (std::vector<int64_t>{trad}));
  EXPECT_EQ(t.hits[0].title_html(), "<mark>調研報告</mark>");
}

TEST_P(SearchTest, FiltersSortAndPaging) {
  std::vector<int64_t> all;
  for (int i = 0; i < 12; ++i) {
    const bool free = i % 3 == 0;
    all.push_back(import("p" + std::to_string(i) + ".txt",
                         doc("值班制度第" + std::to_string(i) + "号", "严格执行值班制度。",
                             "值班人员不得擅离岗位，第" + std::to_string(i) + "条。"),
                         free ? 0 : 800, i % 2 ? "制度" : "通知"));
  }
  Request r;
  r.per_page = 5;
  Results p1 = run("值班制度", gate::Viewer::anonymous(), r);
  EXPECT_EQ(p1.total, 12);
  EXPECT_EQ(p1.pages, 3);
  EXPECT_EQ(p1.hits.size(), 5u);
  r.page = 3;
  Results p3 = run("值班制度", gate::Viewer::anonymous(), r);
  EXPECT_EQ(p3.hits.size(), 2u);

  Request cat;
  cat.category = "制度";
  cat.per_page = 50;
  Results c = run("值班制度", gate::Viewer::anonymous(), cat);
  EXPECT_EQ(c.total, 6);
  for (const Hit& h : c.hits) EXPECT_EQ(h.category, "制度");

  Request free;
  free.price = store::PriceFilter::kFree;
  free.per_page = 50;
  Results f = run("值班制度", gate::Viewer::anonymous(), free);
  EXPECT_EQ(f.total, 4);
  for (const Hit& h : f.hits) EXPECT_EQ(h.price.value(), 0);
  Request paid = free;
  paid.price = store::PriceFilter::kPaid;
  EXPECT_EQ(run("值班制度", gate::Viewer::anonymous(), paid).total, 8);

  Request by_date;
  by_date.newest_first = true;
  by_date.per_page = 50;
  Results d = run("值班制度", gate::Viewer::anonymous(), by_date);
  std::vector<int64_t> newest_first(all.rbegin(), all.rend());
  EXPECT_EQ(ids(d), newest_first);
}

TEST_P(SearchTest, FilteredSearchesRankAndCountWithinTheFilter) {
  int64_t body = import("b.txt", doc("年度报告", "推进河长制，河长制落实到位。", "细则另附。"), 500, "制度");
  int64_t title = import("t.txt", doc("河长制实施办法", "全面推行。", "细则另附。"), 500, "制度");
  import("o.txt", doc("河长制工作通知", "河长制巡河。", "细则另附。"), 500, "通知");
  import("f.txt", doc("河长制宣传材料", "免费阅读。", "细则另附。"), 0, "制度");
  Request r;
  r.category = "制度";
  r.price = store::PriceFilter::kPaid;
  Results res = run("河长制", gate::Viewer::anonymous(), r);
  EXPECT_EQ(res.total, 2);
  EXPECT_EQ(ids(res), (std::vector<int64_t>{title, body}));
  r.page = 2;
  r.per_page = 1;
  Results second = run("河长制", gate::Viewer::anonymous(), r);
  EXPECT_EQ(second.total, 2);
  EXPECT_EQ(ids(second), (std::vector<int64_t>{body}));
}

TEST_P(SearchTest, NoResultsSuggestsDroppingATerm) {
  import("a.txt", doc("防汛工作方案", "汛期前完成堤防巡查。"));
  Results r = run("堤防巡查 航天发射");
  EXPECT_EQ(r.total, 0);
  ASSERT_EQ(r.suggestions.size(), 1u);
  EXPECT_EQ(r.suggestions[0].q, "堤防巡查");
  EXPECT_EQ(r.suggestions[0].dropped, "航天发射");
  EXPECT_EQ(r.suggestions[0].total, 1);
}

TEST_P(SearchTest, ReimportKeepsTheIndexInStep) {
  import("x.txt", doc("通知", "旧的安排作废。"));
  EXPECT_EQ(run("旧的安排").total, 1);
  import("x.txt", doc("通知", "新的安排如下。"));
  EXPECT_EQ(run("旧的安排").total, 0);
  EXPECT_EQ(run("新的安排").total, 1);
}

// The leak rule: a word only in the paid text is found, flagged, and no
// paid text is shown to a reader without access; a buyer sees it marked.
TEST_P(SearchTest, PaidOnlyMatchShowsNoPaidTextWithoutAccess) {
  int64_t id = import("perf.txt",
                      doc("科室考核办法", "考核每季度开展一次。", std::string(kPaidSentence) + kPaidSentence2));
  for (const gate::Viewer& v :
       {gate::Viewer::anonymous(), gate::Viewer{int64_t{7}, gate::Role::kReader, false, {}},
        gate::Viewer{int64_t{8}, gate::Role::kReader, false, {id + 100}},
        gate::Viewer{int64_t{9}, gate::Role::kEditor, false, {}}}) {
    Results r = run("绩效扣款", v);
    ASSERT_EQ(r.hits.size(), 1u);
    const Hit& h = r.hits[0];
    EXPECT_TRUE(h.match_in_paid);
    EXPECT_TRUE(h.locked);
    EXPECT_FALSE(h.snippet_from_paid);
    // Matched through its two keywords, which the hit names.
    EXPECT_EQ(h.paid_terms, (Strings{"绩效", "扣款"}));
    const std::string shown = everything_shown(r);
    EXPECT_EQ(leaked_windows(shown, kPaidSentence), Strings{}) << shown;
    EXPECT_EQ(leaked_windows(shown, kPaidSentence2), Strings{}) << shown;
    EXPECT_EQ(h.snippet_text().find("扣款"), std::string::npos);
  }
  // Free-text match in the same document: not flagged.
  Results free = run("每季度");
  ASSERT_EQ(free.hits.size(), 1u);
  EXPECT_FALSE(free.hits[0].match_in_paid);
}

TEST_P(SearchTest, BuyerVipAndAdminSeeThePaidSnippetMarked) {
  int64_t id = import("perf.txt", doc("科室考核办法", "考核每季度开展一次。", kPaidSentence));
  for (const gate::Viewer& v :
       {gate::Viewer{int64_t{7}, gate::Role::kReader, false, {id}},
        gate::Viewer{int64_t{8}, gate::Role::kReader, true, {}},
        gate::Viewer{int64_t{1}, gate::Role::kAdmin, false, {}}}) {
    Results r = run("绩效扣款", v);
    ASSERT_EQ(r.hits.size(), 1u);
    const Hit& h = r.hits[0];
    EXPECT_TRUE(h.match_in_paid);
    EXPECT_FALSE(h.locked);
    EXPECT_TRUE(h.snippet_from_paid);
    EXPECT_NE(h.snippet_html().find("<mark>绩效扣款</mark>"), std::string::npos) << h.snippet_html();
    EXPECT_NE(h.snippet_text().find("约谈负责人"), std::string::npos);
  }
}

TEST_P(SearchTest, FreeDocumentsAreReadableByAll) {
  import("free.txt", doc("公开通知", "请各单位按时报送。", "附件所列名单自行核对。"), 0);
  Results r = run("名单自行核对");
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_FALSE(r.hits[0].locked);
  EXPECT_TRUE(r.hits[0].snippet_from_paid);
}

TEST_P(SearchTest, EmptyQueryIsNotAnError) {
  Results r = run("  ，。 ");
  EXPECT_TRUE(r.query.empty());
  EXPECT_EQ(r.total, 0);
  EXPECT_TRUE(r.hits.empty());
}

// --- locked paid text: keywords only ------------------------------------------------

const char* kSecretSentence = "防水卷材须在雨季前全部更换，渗漏点复查由物业公司负责。";

bool has(const Results& r, int64_t id) {
  for (const Hit& h : r.hits) {
    if (h.id == id) return true;
  }
  return false;
}

TEST_P(SearchTest, LockedPaidPartIsNotSearchedByPhrase) {
  int64_t id = import("roof.txt", doc("屋面维修方案", "本方案适用于住宅小区。", kSecretSentence));
  const gate::Viewer reader{int64_t{7}, gate::Role::kReader, false, {}};
  for (const gate::Viewer& v : {gate::Viewer::anonymous(), reader}) {
    // Phrases longer than a keyword, single characters and prefixes.
    EXPECT_EQ(run("须在雨季前全部更换", v).total, 0);
    EXPECT_EQ(run("\"卷材须在\"", v).total, 0);
    EXPECT_EQ(run("渗", v).total, 0);
    EXPECT_EQ(run("雨季前", v).total, 0);
    // An exclusion of paid text removes nothing.
    EXPECT_TRUE(has(run("住宅小区 -雨季", v), id));
    EXPECT_TRUE(has(run("住宅小区 -\"防水卷材须在雨季\"", v), id));
    EXPECT_TRUE(has(run("住宅小区 -渗", v), id));
  }
}

TEST_P(SearchTest, LockedPaidPartMatchesItsKeywords) {
  int64_t id = import("roof.txt", doc("屋面维修方案", "本方案适用于住宅小区。", kSecretSentence));
  Results r = run("防水卷材");
  ASSERT_EQ(ids(r), (std::vector<int64_t>{id}));
  EXPECT_TRUE(r.hits[0].match_in_paid);
  EXPECT_TRUE(r.hits[0].locked);
  EXPECT_FALSE(r.hits[0].paid_terms.empty());
  EXPECT_EQ(r.hits[0].snippet_text().find("卷材"), std::string::npos);
  // And with a free word (AND), traditional script too.
  EXPECT_EQ(ids(run("住宅小区 防水卷材")), (std::vector<int64_t>{id}));
  EXPECT_EQ(ids(run("防水捲材")), (std::vector<int64_t>{id}));
}

TEST_P(SearchTest, ViewersWithAccessSearchTheWholePaidText) {
  int64_t id = import("roof.txt", doc("屋面维修方案", "本方案适用于住宅小区。", kSecretSentence));
  for (const gate::Viewer& v :
       {gate::Viewer{int64_t{7}, gate::Role::kReader, false, {id}},
        gate::Viewer{int64_t{8}, gate::Role::kReader, true, {}},
        gate::Viewer{int64_t{1}, gate::Role::kAdmin, false, {}}}) {
    Results r = run("须在雨季前全部更换", v);
    ASSERT_EQ(ids(r), (std::vector<int64_t>{id}));
    EXPECT_TRUE(r.hits[0].snippet_from_paid);
    EXPECT_EQ(run("渗", v).total, 1);
    EXPECT_EQ(run("住宅小区 -雨季", v).total, 0);
  }
}

TEST_P(SearchTest, EachDocumentIsSearchedAsTheViewerMayReadIt) {
  int64_t bought = import("a.txt", doc("甲小区屋面维修", "本方案适用于甲小区。", kSecretSentence));
  int64_t other = import("b.txt", doc("乙小区屋面维修", "本方案适用于乙小区。", kSecretSentence));
  int64_t free_doc = import("c.txt", doc("丙小区屋面维修", "本方案适用于丙小区。", kSecretSentence), 0);
  const gate::Viewer buyer{int64_t{7}, gate::Role::kReader, false, {bought}};
  Results r = run("须在雨季前全部更换", buyer);
  const std::vector<int64_t> found = ids(r);
  std::set<int64_t> got(found.begin(), found.end());
  EXPECT_EQ(got, (std::set<int64_t>{bought, free_doc}));
  EXPECT_EQ(r.total, 2);
  // The exclusion removes what the buyer may read, and only that.
  Results x = run("屋面维修 -雨季", buyer);
  EXPECT_EQ(ids(x), (std::vector<int64_t>{other}));
  EXPECT_EQ(x.total, 1);
  // A keyword still finds the locked one, flagged without paid text.
  Results k = run("防水卷材", buyer);
  EXPECT_EQ(k.total, 3);
  for (const Hit& h : k.hits) EXPECT_EQ(h.locked, h.id == other);
}

TEST_P(SearchTest, PublisherSearchesTheirOwnPaidText) {
  library::ImportOptions opts;
  opts.price = Fen(500);
  opts.publisher_id = int64_t{42};
  library::ImportLine line =
      lib_->import_bytes(doc("屋面维修方案", "本方案适用于住宅小区。", kSecretSentence), "p.txt", opts);
  ASSERT_TRUE(line.ok) << line.error;
  EXPECT_EQ(run("须在雨季前全部更换", gate::Viewer{int64_t{42}, gate::Role::kEditor, false, {}}).total, 1);
  EXPECT_EQ(run("须在雨季前全部更换", gate::Viewer{int64_t{43}, gate::Role::kEditor, false, {}}).total, 0);
}

TEST_P(SearchTest, RankingDoesNotCountLockedOccurrences) {
  // The same keyword once and five times in the paid part: a reader without
  // access cannot tell them apart by rank (the newer one wins the tie).
  std::string many;
  for (int i = 0; i < 5; ++i) many += "第" + std::to_string(i) + "处防水卷材老化。";
  int64_t once = import("1.txt", doc("维修记录甲", "小区概况。", "一处防水卷材老化。"));
  int64_t five = import("2.txt", doc("维修记录乙", "小区概况。", many));
  EXPECT_EQ(ids(run("防水卷材")), (std::vector<int64_t>{five, once}));
  int64_t later = import("3.txt", doc("维修记录丙", "小区概况。", "一处防水卷材老化。"));
  EXPECT_EQ(ids(run("防水卷材")), (std::vector<int64_t>{later, five, once}));
  // A buyer of both sees the real ranking.
  const gate::Viewer buyer{int64_t{7}, gate::Role::kReader, false, {once, five, later}};
  EXPECT_EQ(ids(run("防水卷材", buyer)).front(), five);
}

TEST_P(SearchTest, FourCharacterTermMatchesThroughItsTwoKeywords) {
  // 绩效 and 扣款 stand apart in the paid text; 绩效扣款 is not in it.
  int64_t id = import("k.txt", doc("考核办法", "考核每季度开展一次。",
                                   "考核结果与绩效挂钩。连续两次靠后的科室予以扣款。"));
  Results r = run("绩效扣款");
  ASSERT_EQ(ids(r), (std::vector<int64_t>{id}));
  EXPECT_EQ(r.hits[0].paid_terms, (Strings{"绩效", "扣款"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, SearchTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace paidoc::search
