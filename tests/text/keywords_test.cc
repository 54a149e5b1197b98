// Keywords of locked paid text: what a term may consult (keyword_probe) and
// what a paid part offers (choose_keywords).
#include "text/keywords.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "text/text.h"

namespace paidoc::text {
namespace {

using Strings = std::vector<std::string>;

class KeywordsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(init().is_ok()); }
};

DocumentFrequency no_df() {
  return [](const std::string&) -> int64_t { return 0; };
}

// Code points of UTF-8 text.
std::vector<std::string> chars_of(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    unsigned char b = s[i];
    if (b >= 0xF0) len = 4; else if (b >= 0xE0) len = 3; else if (b >= 0xC0) len = 2;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

// The longest stretch of `text` covered by occurrences of the keywords
// (every substring occurrence, so at least what the chooser saw).
int longest_covered_run(const std::string& text, const Strings& keywords) {
  std::vector<std::string> cps = chars_of(text);
  std::vector<bool> covered(cps.size(), false);
  for (const std::string& k : keywords) {
    std::vector<std::string> kc = chars_of(k);
    for (size_t i = 0; i + kc.size() <= cps.size(); ++i) {
      if (std::equal(kc.begin(), kc.end(), cps.begin() + static_cast<long>(i))) {
        for (size_t j = 0; j < kc.size(); ++j) covered[i + j] = true;
      }
    }
  }
  int best = 0, run = 0;
  for (bool c : covered) {
    run = c ? run + 1 : 0;
    best = std::max(best, run);
  }
  return best;
}

TEST_F(KeywordsTest, ProbeTakesOnlyKeywordShapedTerms) {
  EXPECT_EQ(keyword_probe("绩效").whole, "绩效");
  EXPECT_EQ(keyword_probe("考核办法").whole, "考核办法");
  EXPECT_EQ(keyword_probe("GDP").whole, "gdp");
  // Traditional characters meet the simplified keyword.
  EXPECT_EQ(keyword_probe("績效").whole, "绩效");
  // Never: one character (a prefix), five or more, digits, several words,
  // punctuation inside.
  EXPECT_TRUE(keyword_probe("党").empty());
  EXPECT_TRUE(keyword_probe("绩效扣款制").empty());
  EXPECT_TRUE(keyword_probe("对连续两个季度考核靠后").empty());
  EXPECT_TRUE(keyword_probe("2023").empty());
  EXPECT_TRUE(keyword_probe("二〇二三年").empty());
  EXPECT_TRUE(keyword_probe("绩效 扣款").empty());
  EXPECT_TRUE(keyword_probe("绩效，扣款").empty());
  EXPECT_TRUE(keyword_probe("ab").empty());
}

TEST_F(KeywordsTest, FourIdeographsOfTwoWordsProbeBothParts) {
  KeywordProbe p = keyword_probe("绩效扣款");
  EXPECT_EQ(p.whole, "绩效扣款");
  EXPECT_EQ(p.parts, (Strings{"绩效", "扣款"}));
  EXPECT_TRUE(keyword_probe("绩效").parts.empty());
}

TEST_F(KeywordsTest, KeywordTokenIsOneIndexToken) {
  const std::string t = keyword_token("绩效");
  EXPECT_EQ(t, "ke7bba9e69588");
  std::vector<Token> tokens = tokenize(t);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].text, t);
}

TEST_F(KeywordsTest, ChoosesSalientWordsNotNumbersOrFunctionWords) {
  const std::string paid =
      "我们对渗漏点进行排查，渗漏点共有十二处，维修资金为3800元。"
      "防水卷材须在雨季前更换，防水卷材的厚度不小于4毫米。";
  Strings k = choose_keywords(paid, no_df(), 1);
  std::set<std::string> got(k.begin(), k.end());
  EXPECT_TRUE(got.count("防水卷材") || (got.count("防水") && got.count("卷材"))) << ::testing::PrintToString(k);
  EXPECT_FALSE(got.count("我们"));
  EXPECT_FALSE(got.count("进行"));
  for (const std::string& w : k) {
    EXPECT_EQ(w.find_first_of("0123456789"), std::string::npos) << w;
    const size_t n = chars_of(w).size();
    EXPECT_TRUE(n >= 2 && n <= 4) << w;
  }
  // Deterministic.
  EXPECT_EQ(choose_keywords(paid, no_df(), 1), k);
}

// ICU splits many three-character names into a word and a lone character
// (独角 + 鲸); the reader types the whole name, so it must be a candidate.
// Lone characters that pair with each other (借 + 阅) are not glued on.
TEST_F(KeywordsTest, ThreeCharacterNamesSplitByTheDictionaryAreCandidates) {
  const Strings words = keyword_words("独角鲸在冰川下守护着钥匙。完善借阅制度。");
  const std::set<std::string> got(words.begin(), words.end());
  EXPECT_TRUE(got.count("独角鲸")) << ::testing::PrintToString(words);
  EXPECT_TRUE(got.count("借阅")) << ::testing::PrintToString(words);
  EXPECT_FALSE(got.count("完善借")) << ::testing::PrintToString(words);
  EXPECT_FALSE(got.count("阅制度")) << ::testing::PrintToString(words);
  EXPECT_FALSE(got.count("鲸在冰")) << ::testing::PrintToString(words);
}

TEST_F(KeywordsTest, RareWordsOfTheLibraryComeFirst) {
  const std::string paid = "整改台账逐项销号，整改台账按月更新。会议纪要逐项销号，会议纪要按月更新。";
  // 整改台账's words are in every document of the library; 会议纪要's in one.
  std::map<std::string, int64_t> df = {{"整改", 100}, {"台账", 100}, {"整改台账", 100},
                                       {"会议", 1},   {"纪要", 1},   {"会议纪要", 1}};
  DocumentFrequency f = [&](const std::string& w) -> int64_t {
    auto it = df.find(w);
    return it == df.end() ? 50 : it->second;
  };
  Strings k = choose_keywords(paid, f, 100);
  ASSERT_FALSE(k.empty());
  const std::string first = k.front();
  EXPECT_TRUE(first == "会议纪要" || first == "会议" || first == "纪要") << ::testing::PrintToString(k);
}

TEST_F(KeywordsTest, AtMostMaxKeywords) {
  // Many distinct words: ten-character runs of two-character words.
  const Strings words = {"经济", "社会", "文化", "生态", "教育", "医疗", "交通", "水利", "农业",
                         "工业", "商业", "金融", "科技", "人才", "法治", "安全", "环境", "能源",
                         "住房", "就业", "养老", "体育", "旅游", "消防", "应急", "审计", "统计",
                         "税务", "海关", "邮政", "电力", "通信", "林业", "草原", "渔业", "气象",
                         "地震", "测绘", "档案", "保密", "信访", "民政", "司法", "财政", "人事",
                         "外事", "侨务", "宗教", "民族", "妇女", "儿童", "青年", "老龄", "残疾",
                         "质量", "标准", "计量", "价格", "物资", "储备", "粮食", "烟草", "盐业",
                         "药品", "食品", "卫生", "健康", "疾控", "血液", "疫苗"};
  std::string paid;
  for (size_t i = 0; i < words.size(); ++i) {
    paid += words[i];
    paid += (i % 2) ? "。" : "，";
  }
  Strings k = choose_keywords(paid, no_df(), 1);
  EXPECT_EQ(static_cast<int>(k.size()), kMaxKeywords);
}

TEST_F(KeywordsTest, ChosenWordsNeverCoverMoreThanTheChainLimit) {
  // One long run of words with no punctuation: every word is a candidate,
  // and taking them all would cover the whole run.
  const std::string paid =
      "经济发展社会稳定人民幸福国家富强文化繁荣生态良好民族团结边疆巩固科技进步教育公平";
  Strings k = choose_keywords(paid, no_df(), 1);
  EXPECT_GE(k.size(), 2u);
  EXPECT_LE(longest_covered_run(paid, k), kMaxKeywordChainChars) << ::testing::PrintToString(k);
}

TEST_F(KeywordsTest, EmptyPaidTextHasNoKeywords) {
  EXPECT_TRUE(choose_keywords("", no_df(), 10).empty());
  EXPECT_TRUE(choose_keywords("，。1234", no_df(), 10).empty());
}

TEST_F(KeywordsTest, WordsAreDistinctAndNormalised) {
  Strings w = keyword_words("考核考核 績效 GDP 12");
  std::set<std::string> got(w.begin(), w.end());
  EXPECT_EQ(got.size(), w.size());
  EXPECT_TRUE(got.count("绩效"));
  EXPECT_TRUE(got.count("gdp"));
  EXPECT_FALSE(got.count("12"));
}

}  // namespace
}  // namespace paidoc::text
