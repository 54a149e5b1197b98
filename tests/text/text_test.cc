#include "text/text.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace paidoc::text {
namespace {

std::vector<std::string> texts(const std::vector<Token>& tokens) {
  std::vector<std::string> out;
  for (const Token& t : tokens) out.push_back(t.text);
  return out;
}

using Terms = std::vector<std::string>;

TEST(TextTest, ConverterLoads) { EXPECT_TRUE(init().is_ok()) << init().message(); }

struct Case {
  const char* name;
  std::string input;
  Terms expected;
};

class TokenizeTable : public ::testing::TestWithParam<Case> {};

TEST_P(TokenizeTable, TokenTexts) {
  const Case& c = GetParam();
  EXPECT_EQ(texts(tokenize(c.input)), c.expected) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TokenizeTable,
    ::testing::Values(
        Case{"pure_cjk", "从严治党", {"从严", "严治", "治党"}},
        Case{"single_char", "党", {"党"}},
        Case{"single_char_between_separators", "，党。", {"党"}},
        Case{"mixed", "2023年民主生活会", {"2023", "年民", "民主", "主生", "生活", "活会"}},
        Case{"fullwidth_digits", "２０２３", {"2023"}},
        Case{"fullwidth_letters", "ＡＢＣ", {"abc"}},
        Case{"traditional", "全面從嚴治黨", {"全面", "面从", "从严", "严治", "治党"}},
        Case{"punctuation", "学习，贯彻！（落实）", {"学习", "贯彻", "落实"}},
        Case{"emoji", "学习😀贯彻", {"学习", "贯彻"}},
        Case{"latin_case", "Hello WORLD PDF2", {"hello", "world", "pdf2"}},
        // 〇 is an ideograph: 二〇二〇 is one run of bigrams, not 二 and 二.
        Case{"ideographic_zero", "二〇二〇年", {"二〇", "〇二", "二〇", "〇年"}},
        // A number followed by letters is two words (NFKC makes ㎡ "m2").
        Case{"number_then_unit", "1200㎡", {"1200", "m2"}},
        Case{"number_then_letter", "5G基站", {"5", "g", "基站"}},
        Case{"letters_first_stay_one", "mp3 2024abc12 k1a", {"mp3", "2024", "abc12", "k1a"}},
        Case{"latin_cjk_adjacent", "GDP增长7%", {"gdp", "增长", "7"}},
        Case{"extension_b", "\xF0\xA0\x80\x80\xE5\xAD\xA6", {"\xF0\xA0\x80\x80\xE5\xAD\xA6"}},
        Case{"only_separators", " ，。！😀 ", {}},
        Case{"empty", "", {}}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(TextTest, PureCjkOffsets) {
  EXPECT_EQ(tokenize("从严治党"),
            (std::vector<Token>{{"从严", 0, 6}, {"严治", 3, 9}, {"治党", 6, 12}}));
}

TEST(TextTest, MixedOffsets) {
  const std::string input = "2023年民主";
  std::vector<Token> tokens = tokenize(input);
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0], (Token{"2023", 0, 4}));
  EXPECT_EQ(tokens[1], (Token{"年民", 4, 10}));
  EXPECT_EQ(tokens[2], (Token{"民主", 7, 13}));
}

TEST(TextTest, FullWidthOffsetsPointAtOriginalBytes) {
  const std::string input = "第２０２３号ＡＢＣ";  // 第 + 4 full-width digits + 号 + 3 letters
  std::vector<Token> tokens = tokenize(input);
  ASSERT_EQ(texts(tokens), (Terms{"第", "2023", "号", "abc"}));
  EXPECT_EQ(tokens[1].start, 3);
  EXPECT_EQ(tokens[1].end, 15);
  EXPECT_EQ(input.substr(tokens[1].start, tokens[1].end - tokens[1].start), "２０２３");
  EXPECT_EQ(input.substr(tokens[3].start, tokens[3].end - tokens[3].start), "ＡＢＣ");
}

TEST(TextTest, TraditionalMatchesSimplifiedWithOriginalOffsets) {
  const std::string trad = "全面從嚴治黨";
  std::vector<Token> t = tokenize(trad);
  std::vector<Token> s = tokenize("全面从严治党");
  EXPECT_EQ(texts(t), texts(s));
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(trad.substr(t[2].start, t[2].end - t[2].start), "從嚴");
  EXPECT_EQ(trad.substr(t[4].start, t[4].end - t[4].start), "治黨");
}

TEST(TextTest, NoTokenContainsSeparators) {
  const std::string input = "一、总体要求：坚持😀“两个维护”，A-B。";
  for (const Token& t : tokenize(input)) {
    for (const char* sep : {"、", "：", "“", "”", "，", "。", "😀", "-", " "}) {
      EXPECT_EQ(t.text.find(sep), std::string::npos) << t.text;
    }
    EXPECT_LT(t.start, t.end);
    EXPECT_LE(static_cast<size_t>(t.end), input.size());
  }
}

// Which tokens follow a separator run: the index keeps a position free
// there, so a phrase never spans one.
std::vector<bool> gaps(const std::vector<Token>& tokens) {
  std::vector<bool> out;
  for (const Token& t : tokens) out.push_back(t.gap);
  return out;
}

TEST(TextTest, TheTokenAfterASeparatorRunIsMarked) {
  // 工作，作风: the comma is a separator run, so 作风 does not follow 工作.
  std::vector<Token> t = tokenize("中心工作，作风");
  ASSERT_EQ(texts(t), (Terms{"中心", "心工", "工作", "作风"}));
  EXPECT_EQ(gaps(t), (std::vector<bool>{false, false, false, true}));
  // Leading separators mark nothing; a run of several is one gap; a line
  // break, 、 and a space separate too; kinds meeting without a separator
  // (5G基站, 1200㎡) do not.
  EXPECT_EQ(gaps(tokenize("，“党建”、\n建设 a b")),
            (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(gaps(tokenize("5G基站1200㎡")), (std::vector<bool>(5, false)));
  // Index mode: the colocated unigram never carries the gap.
  std::vector<Token> idx = tokenize_for_index("工作，作风");
  ASSERT_EQ(texts(idx), (Terms{"工作", "作", "作风", "风"}));
  EXPECT_EQ(gaps(idx), (std::vector<bool>{false, false, true, false}));
}

TEST(TextTest, InvisibleCharactersBelongToTheWord) {
  // A zero-width space, a soft hyphen or a variation selector inside a
  // word neither ends it nor separates it; the token's bytes cover it.
  for (const std::string mark : {"\u200B", "\u00AD", "\uFE00", "\u200D"}) {
    const std::string input = "党" + mark + "建";
    std::vector<Token> t = tokenize(input);
    ASSERT_EQ(texts(t), (Terms{"党建"})) << mark;
    EXPECT_EQ(t[0].start, 0);
    EXPECT_EQ(t[0].end, static_cast<int>(input.size()));
    EXPECT_FALSE(t[0].gap);
  }
  EXPECT_EQ(normalize("党\u200B建"), "党建");
}

TEST(TextTest, TraditionalIsSimplifiedByPhrase) {
  // Characters whose simplified form depends on the phrase (OpenCC's
  // phrase dictionaries), the same in both scripts.
  EXPECT_EQ(normalize("瞭解"), "了解");
  EXPECT_EQ(normalize("一目瞭然"), "一目了然");
  EXPECT_EQ(normalize("瞭望"), "瞭望");
  EXPECT_EQ(normalize("藉此"), "借此");
  EXPECT_EQ(normalize("狼藉"), "狼藉");
  EXPECT_EQ(normalize("乾淨"), "干净");
  EXPECT_EQ(normalize("乾隆"), "乾隆");
  // 著: 着 except in the phrases where it means writing or renown.
  EXPECT_EQ(normalize("著力"), "着力");
  EXPECT_EQ(normalize("穿著"), "穿着");
  EXPECT_EQ(normalize("著作"), "著作");
  EXPECT_EQ(normalize("顯著"), normalize("显著"));
  EXPECT_EQ(normalize("顯著"), "显著");
  // Queries and documents meet on the same tokens.
  EXPECT_EQ(texts(tokenize("瞭解")), texts(tokenize("了解")));
  EXPECT_EQ(texts(tokenize("著力")), texts(tokenize("着力")));
  EXPECT_EQ(texts(tokenize("藉此機會")), texts(tokenize("借此机会")));
}

TEST(TextTest, PhraseConversionKeepsOriginalOffsets) {
  const std::string input = "要深入瞭解情況，著力解決";
  std::vector<Token> t = tokenize(input);
  ASSERT_EQ(texts(t), (Terms{"要深", "深入", "入了", "了解", "解情", "情况", "着力", "力解", "解决"}));
  auto cut = [&](const Token& k) { return input.substr(k.start, k.end - k.start); };
  EXPECT_EQ(cut(t[3]), "瞭解");
  EXPECT_EQ(cut(t[5]), "情況");
  EXPECT_EQ(cut(t[6]), "著力");
  EXPECT_TRUE(t[6].gap);
}

TEST(TextTest, InvalidUtf8) {
  for (std::string bad : {std::string("\xFF"), std::string("ab\xC3"), std::string("\xC0\xAF"),
                          std::string("\xED\xA0\x80"), std::string("\xF4\x90\x80\x80"),
                          std::string("学习\x80")}) {
    EXPECT_FALSE(valid_utf8(bad));
    EXPECT_TRUE(tokenize(bad).empty());
  }
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("abc 从严治党 😀 \xF0\xA0\x80\x80"));
}

TEST(TextTest, Normalize) {
  EXPECT_EQ(normalize("ＡＢＣ２０２３"), "abc2023");
  EXPECT_EQ(normalize("全面從嚴治黨 Hello"), "全面从严治党 hello");
  EXPECT_EQ(normalize(""), "");
}

TEST(TextTest, QueryTerms) {
  EXPECT_EQ(query_terms("從嚴治黨 PDF"), (Terms{"从严", "严治", "治党", "pdf"}));
  EXPECT_EQ(query_terms("党"), (Terms{"党"}));
  EXPECT_TRUE(query_terms("，。").empty());
}

TEST(TextTest, ConcurrentUse) {
  const Terms expected = {"全面", "面从", "从严", "严治", "治党", "2023"};
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (query_terms("全面從嚴治黨２０２３") != expected) ++failures[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace paidoc::text
