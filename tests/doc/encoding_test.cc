// Decoding tests: docs/format.md §1 "Encoding" and §8.1.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "doc/parser.h"

namespace paidoc::doc {
namespace {

// Spelled out: inside a TEST body, plain "Run" is testing::Test::Run.
using Runs = std::vector<doc::Run>;

using namespace std::string_literals;  // "\0"s keeps NUL bytes

const std::string kBom = "\xEF\xBB\xBF";

// GB18030 bytes of text written for these tests (checked against iconv).
const std::string kGbTitle = "\xB1\xEA\xCC\xE2";  // 标题
const std::string kGbYearSummary =
    "\xC4\xEA\xB6\xC8\xD1\xA7\xCF\xB0\xD0\xA1\xBD\xE1";  // 年度学习小结
const std::string kGbHeading1 = "\xD2\xBB\xA1\xA2\xD7\xDC\xCC\xE5\xC7\xE9\xBF\xF6";  // 一、总体情况
const std::string kGbHeading2WithBody =  // （一）读书方面。一是不够深入。
    "\xA3\xA8\xD2\xBB\xA3\xA9\xB6\xC1\xCA\xE9\xB7\xBD\xC3\xE6\xA1\xA3"
    "\xD2\xBB\xCA\xC7\xB2\xBB\xB9\xBB\xC9\xEE\xC8\xEB\xA1\xA3";
const std::string kGbBody = "\xD5\xFD\xCE\xC4";              // 正文
const std::string kGbFourByte = "\xA8\xA6\x94\x39\xFC\x36";  // é😀 (😀 is 4 bytes)

struct DecodeCase {
  const char* name;
  std::string bytes;
  std::string utf8;
  std::string encoding;
};

class DecodeOk : public ::testing::TestWithParam<DecodeCase> {};

TEST_P(DecodeOk, DecodesToUtf8) {
  const DecodeCase& c = GetParam();
  std::string utf8, encoding;
  ParseError error;
  ASSERT_TRUE(decode(c.bytes, &utf8, &encoding, &error)) << error.to_string();
  EXPECT_EQ(utf8, c.utf8);
  EXPECT_EQ(encoding, c.encoding);
}

INSTANTIATE_TEST_SUITE_P(
    Encodings, DecodeOk,
    ::testing::Values(
        DecodeCase{"Empty", "", "", "utf-8"},
        DecodeCase{"Ascii", "Title\nbody", "Title\nbody", "utf-8"},
        DecodeCase{"Utf8", "标题\n正文", "标题\n正文", "utf-8"},
        DecodeCase{"Utf8Bom", kBom + "标题\n正文", "标题\n正文", "utf-8-bom"},
        DecodeCase{"BomOnly", kBom, "", "utf-8-bom"},
        // Edges of Table 3-7 that are valid.
        DecodeCase{"Utf8Edges",
                   "\xC2\x80\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xF0\x90\x80\x80\xF4\x8F\xBF\xBF",
                   "\u0080\u0800\uD7FF\uE000\U00010000\U0010FFFF", "utf-8"},
        DecodeCase{"Gb18030", kGbTitle + "\n" + kGbBody, "标题\n正文", "gb18030"},
        DecodeCase{"Gb18030Crlf", kGbYearSummary + "\r\n" + kGbHeading1 + "\r\n",
                   "年度学习小结\r\n一、总体情况\r\n", "gb18030"},
        DecodeCase{"Gb18030FourByte", kGbTitle + kGbFourByte, "标题é😀", "gb18030"},
        // Truncated UTF-8 at the end is not UTF-8, but E4 B8 is a valid
        // GB18030 pair: the file is GB18030 (format.md §1 step 3).
        DecodeCase{"TruncatedUtf8IsGb18030", "ab\xE4\xB8", "ab\u6D93", "gb18030"}),
    [](const auto& info) { return std::string(info.param.name); });

struct BadCase {
  const char* name;
  std::string bytes;
  int64_t offset;
  std::string message;  // ParseError::to_string() for file "x.txt"
};

class DecodeBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(DecodeBad, RejectsWithByteOffset) {
  const BadCase& c = GetParam();
  std::string utf8 = "unchanged", encoding = "unchanged";
  ParseError error;
  ASSERT_FALSE(decode(c.bytes, &utf8, &encoding, &error));
  EXPECT_EQ(error.byte_offset, c.offset);
  EXPECT_GE(error.line, 1);
  EXPECT_GE(error.column, 1);
  EXPECT_EQ(utf8, "unchanged");
  EXPECT_EQ(encoding, "unchanged");

  const ParseResult r = parse(c.bytes, "x.txt");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.file, "x.txt");
  EXPECT_EQ(r.error.to_string(), c.message);
}

// The place is line:column as every error's (the column counting the code
// points before the bad byte on its line), then the byte offset.
std::string after_bom(int offset, const char* place = "1:3") {
  return std::string("x.txt:") + place + ": invalid UTF-8 after the byte order mark (byte offset " +
         std::to_string(offset) + ")";
}

std::string neither(int64_t prefix, int64_t utf8, int64_t gb, const char* place) {
  return std::string("x.txt:") + place + ": invalid encoding: not UTF-8 (first bad byte at offset " +
         std::to_string(utf8) + ") nor GB18030 (first bad byte at offset " + std::to_string(gb) +
         ") (byte offset " + std::to_string(prefix) + ")";
}

// Strict UTF-8 (format.md §1.1). After a BOM there is no GB18030 fallback, so
// each case is seen by the UTF-8 check alone. The bad sequence starts at
// byte 5 (BOM + "ab").
INSTANTIATE_TEST_SUITE_P(
    StrictUtf8AfterBom, DecodeBad,
    ::testing::Values(BadCase{"Overlong2", kBom + "ab\xC0\xAFz", 5, after_bom(5)},
                      BadCase{"Overlong2C1", kBom + "ab\xC1\xBFz", 5, after_bom(5)},
                      BadCase{"Overlong3", kBom + "ab\xE0\x80\xAFz", 5, after_bom(5)},
                      BadCase{"Overlong4", kBom + "ab\xF0\x80\x80\xAFz", 5, after_bom(5)},
                      BadCase{"SurrogateHigh", kBom + "ab\xED\xA0\x80z", 5, after_bom(5)},
                      BadCase{"SurrogateLow", kBom + "ab\xED\xBF\xBFz", 5, after_bom(5)},
                      BadCase{"AboveMax", kBom + "ab\xF4\x90\x80\x80z", 5, after_bom(5)},
                      BadCase{"F5Lead", kBom + "ab\xF5\x80\x80\x80z", 5, after_bom(5)},
                      BadCase{"LoneContinuation", kBom + "ab\x80z", 5, after_bom(5)},
                      BadCase{"ByteFF", kBom + "ab\xFFz", 5, after_bom(5)},
                      BadCase{"CutByAscii", kBom + "ab\xE4\xB8z", 5, after_bom(5)},
                      BadCase{"CutFourByAscii", kBom + "ab\xF0\x9F\x98z", 5, after_bom(5)},
                      BadCase{"TruncatedAtEnd", kBom + "ab\xE4\xB8", 5, after_bom(5)},
                      BadCase{"Nul", kBom + "ab\0z"s, 5, after_bom(5)},
                      BadCase{"LaterInText", kBom + "标题\n\xC0\x80", 10, after_bom(10, "2:1")}),
    [](const auto& info) { return std::string(info.param.name); });

// Valid in neither encoding (format.md §1.4, §8.1): both first bad offsets
// are named and the prefix carries the larger one.
INSTANTIATE_TEST_SUITE_P(
    Neither, DecodeBad,
    ::testing::Values(BadCase{"SameOffset", "abc\xFF", 3, neither(3, 3, 3, "1:4")},
                      BadCase{"Byte80", "abc\x80", 3, neither(3, 3, 3, "1:4")},
                      // The UTF-8 offset is checked here: C0 AF is a valid GB18030 pair,
                      // so GB18030 fails only at the FF.
                      BadCase{"Utf8OverlongThenFF",
                              "a\xC0\xAF"
                              "b\xFF",
                              4, neither(4, 1, 4, "1:4")},
                      BadCase{"Utf8SurrogateThenFF", "a\xED\xA0\xB0\xA1\xFF", 5, neither(5, 1, 5, "1:4")},
                      // GB18030 text damaged after its title: B1 is not a UTF-8 lead byte.
                      BadCase{"GbThenFF", kGbTitle + "\xFF", 4, neither(4, 0, 4, "1:3")},
                      BadCase{"GbLeadBadTrail", kGbTitle + "\x81\x20" + kGbBody, 4,
                              neither(4, 0, 4, "1:3")},
                      BadCase{"GbTruncatedPair", kGbTitle + "\x81", 4, neither(4, 0, 4, "1:3")},
                      BadCase{"GbTruncatedFour", kGbTitle + "\x81\x30\x81", 4, neither(4, 0, 4, "1:3")},
                      BadCase{"GbUnmappedFour", kGbTitle + "\x84\x31\xA5\x30", 4, neither(4, 0, 4, "1:3")},
                      BadCase{"GbNul", kGbTitle + "\0"s + kGbBody, 4,
                              "x.txt:1:3: not a text file: the bytes look like binary data (it holds NUL "
                              "bytes); paidoc reads .txt in UTF-8 or GB18030, .md and .docx (byte offset 4)"},
                      // UTF-8 text damaged late: GB18030 fails early at "AD 0A" (the last
                      // byte of 中 followed by LF), UTF-8 only at the FF.
                      BadCase{"Utf8ThenFF", "中\n文字\xFF", 10, neither(10, 10, 2, "2:3")}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Decode, BomTextKeepsBomOutOfColumns) {
  // The title line holds a marker at code-point column 3: the BOM is not
  // counted (format.md "Terms").
  const ParseResult r = parse(kBom + "标题##paidbegin##\n正文##paidend##", "b.txt");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.to_string(),
            "b.txt:1:3: ##paidbegin## in the title line: the title is always public");
}

TEST(Decode, Gb18030DocumentParses) {
  const std::string bytes = kGbYearSummary + "\r\n" + kGbHeading1 + "\r\n" + "##paidbegin##" +
                            kGbHeading2WithBody + "\r\n" + "##paidend##";
  const ParseResult r = parse(bytes, "gb.txt");
  ASSERT_TRUE(r.ok) << r.error.to_string();
  const Document& d = r.document;
  EXPECT_EQ(d.source_encoding, "gb18030");
  EXPECT_EQ(d.title, "年度学习小结");
  ASSERT_EQ(d.blocks.size(), 3u);
  EXPECT_EQ(d.blocks[0].label, "一、");
  EXPECT_EQ(d.blocks[0].runs, (Runs{{"总体情况", false}}));
  EXPECT_EQ(d.blocks[1].label, "（一）");
  EXPECT_EQ(d.blocks[1].level, 2);
  EXPECT_EQ(d.blocks[1].runs, (Runs{{"读书方面", true}}));
  EXPECT_EQ(d.blocks[2].runs, (Runs{{"。一是不够深入。", true}}));
  EXPECT_TRUE(d.blocks[2].run_in);
  EXPECT_EQ(d.figures.paid_sections, 1);
}

TEST(Decode, Gb18030ErrorsUseDecodedColumns) {
  // Columns count decoded code points, not GB18030 bytes.
  const ParseResult r = parse(kGbTitle + "\n" + kGbBody + "##paidend##", "gb.txt");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.to_string(), "gb.txt:2:3: stray ##paidend##: no paid section is open");
}

TEST(Decode, EncodingRecordedInDocument) {
  EXPECT_EQ(parse("标题", "a").document.source_encoding, "utf-8");
  EXPECT_EQ(parse(kBom + "标题", "a").document.source_encoding, "utf-8-bom");
  EXPECT_EQ(parse(kGbTitle, "a").document.source_encoding, "gb18030");
  EXPECT_EQ(parse(kBom + "标题", "a").document.title, "标题");
}

TEST(ParseErrorText, BothForms) {
  ParseError at_line{"doc.txt", 12, 7, -1, "stray ##paidend##: no paid section is open"};
  EXPECT_EQ(at_line.to_string(), "doc.txt:12:7: stray ##paidend##: no paid section is open");
  ParseError at_byte{"doc.txt", 0, 0, 0, "invalid UTF-8 after the byte order mark"};
  EXPECT_EQ(at_byte.to_string(), "doc.txt: byte offset 0: invalid UTF-8 after the byte order mark");
}

}  // namespace
}  // namespace paidoc::doc
