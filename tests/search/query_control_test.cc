// Control characters in what a reader types: separators, before the query
// language (a NUL once reached the index's query string and failed it).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "search/clean.h"
#include "search/search.h"

namespace paidoc::search {
namespace {

using Strings = std::vector<std::string>;

Strings texts(const std::vector<Term>& terms) {
  Strings out;
  for (const Term& t : terms) out.push_back(t.text);
  return out;
}

TEST(ParseQuery, NulInASearchTermSeparatesTerms) {
  Query q = parse_query(std::string("图书\0室", 10));
  EXPECT_EQ(texts(q.terms), (Strings{"图书", "室"}));
  q = parse_query(std::string("a\0", 2));
  EXPECT_EQ(texts(q.terms), (Strings{"a"}));
  EXPECT_TRUE(parse_query(std::string(20, '\0')).empty());
}

TEST(ParseQuery, ControlCharactersNeverReachATerm) {
  // C0, DEL and C1 (U+0080..U+009F), in words, quoted phrases, exclusions.
  for (const std::string& q :
       {std::string("图书\x01室"), std::string("\"图书\x1b室\""), std::string("图书 -\x7f钥匙"),
        std::string("图书\xC2\x85室"), std::string("\xC2\x9F图书"), std::string("“图书\0室”", 16)}) {
    Query parsed = parse_query(q);
    EXPECT_FALSE(parsed.empty()) << q;
    for (const std::vector<Term>* list : {&parsed.terms, &parsed.excluded})
      for (const Term& t : *list)
        for (size_t i = 0; i < t.text.size(); ++i) {
          auto c = static_cast<unsigned char>(t.text[i]);
          EXPECT_FALSE(c < 0x20 || c == 0x7F) << q;
          if (c == 0xC2 && i + 1 < t.text.size())
            EXPECT_FALSE(static_cast<unsigned char>(t.text[i + 1]) <= 0x9F) << q;
        }
    for (const std::string& ig : parsed.ignored) EXPECT_EQ(ig.find('\0'), std::string::npos);
  }
  // A quoted phrase keeps its words, the control character a space.
  Query phrase = parse_query("\"图书\x01室\"");
  ASSERT_EQ(phrase.terms.size(), 1u);
  EXPECT_EQ(phrase.terms[0], (Term{"图书 室", true}));
}

TEST(CleanQuery, ControlCharactersBecomeSpacesAndNothingElseChanges) {
  EXPECT_EQ(clean_query(std::string("a\0b\x1f" "c\x7f" "d\xC2\x80" "e\xC2\x9F", 12)), "a b c d e ");
  // Other text, including U+00A0..U+00FF (C2 A0.. and C3 ..) and CJK, as it was.
  const std::string kept = "\xC2\xA0\xC3\xA9 图书“室” -x";
  EXPECT_EQ(clean_query(kept), kept);
}

}  // namespace
}  // namespace paidoc::search
