// .md and .docx sources: what a publisher's file becomes, and where its
// errors are reported.
#include "sources/sources.h"

#include <gtest/gtest.h>

#include "sources/docx_builder.h"

namespace paidoc::sources {
namespace {

using doc::BlockKind;
using paidoc::testing::docx;
using paidoc::testing::p;

struct Expect {
  BlockKind kind;
  int level;
  std::string label;
  std::string text;
  bool paid;
  int line;
};

void expect_blocks(const doc::Document& d, const std::vector<Expect>& want) {
  ASSERT_EQ(d.blocks.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("block " + std::to_string(i));
    const doc::Block& b = d.blocks[i];
    EXPECT_EQ(b.kind, want[i].kind);
    EXPECT_EQ(b.level, want[i].level);
    EXPECT_EQ(b.label, want[i].label);
    EXPECT_EQ(b.full_text(), want[i].text);
    EXPECT_EQ(b.has_paid(), want[i].paid);
    EXPECT_EQ(b.line, want[i].line);
  }
}

std::string error_of(std::string_view bytes, std::string_view file) {
  Loaded l = load(bytes, file);
  EXPECT_FALSE(l.parsed.ok);
  return l.parsed.error.to_string();
}

// ---- Markdown ----------------------------------------------------------------

TEST(Markdown, HeadingsParagraphsListsAndMarkersBecomeTheDocument) {
  const std::string md =
      "# 社区读书会年度小结\n"                                   // 1
      "\n"                                                       // 2
      "本年共举办读书会**十二**场，参与居民[三百人次](https://example.org/x)。\n"  // 3
      "\n"                                                       // 4
      "## 一、活动回顾\n"                                        // 5
      "\n"                                                       // 6
      "##paidbegin##\n"                                          // 7
      "## （一）分享图书\n"                                      // 8
      "1. 每月推荐好书两本\n"                                    // 9
      "2. 组织亲子共读\n"                                        // 10
      "\n"                                                       // 11
      "##paidend##\n"                                            // 12
      "感谢各位志愿者。\n";                                      // 13
  Loaded l = load(md, "club.md");
  ASSERT_TRUE(l.parsed.ok) << l.parsed.error.to_string();
  const doc::Document& d = l.parsed.document;
  EXPECT_EQ(d.title, "社区读书会年度小结");
  EXPECT_EQ(d.source_encoding, "utf-8");
  EXPECT_EQ(d.figures.paid_sections, 1);
  expect_blocks(d, {
                       {BlockKind::kParagraph, 0, "", "本年共举办读书会十二场，参与居民三百人次。", false, 3},
                       {BlockKind::kHeading, 1, "一、", "活动回顾", false, 5},
                       {BlockKind::kHeading, 2, "（一）", "分享图书", true, 8},
                       {BlockKind::kHeading, 3, "1.", "每月推荐好书两本", true, 9},
                       {BlockKind::kHeading, 3, "2.", "组织亲子共读", true, 10},
                       {BlockKind::kParagraph, 0, "", "感谢各位志愿者。", false, 13},
                   });
  // The stored source text is paidoc source text: it parses to the same document.
  doc::ParseResult again = doc::parse(l.source_text, "club.md");
  ASSERT_TRUE(again.ok) << again.error.to_string();
  EXPECT_EQ(again.document.title, d.title);
  EXPECT_EQ(again.document.figures, d.figures);
}

TEST(Markdown, MarkerInsideAParagraphSplitsIt) {
  Loaded l = load("# 标题\n\n会议*通报*了三项工作##paidbegin##其中两项已完成##paidend##。\n", "a.md");
  ASSERT_TRUE(l.parsed.ok) << l.parsed.error.to_string();
  ASSERT_EQ(l.parsed.document.blocks.size(), 1u);
  const std::vector<doc::Run> want = {{"会议通报了三项工作", false}, {"其中两项已完成", true}, {"。", false}};
  EXPECT_EQ(l.parsed.document.blocks[0].runs, want);
}

TEST(Markdown, ErrorNamesTheSourceLineAndColumn) {
  // Column 11 of the source line, past "> " and the emphasis stars.
  EXPECT_EQ(error_of("# 标题\n\n> 引用**加粗**##paidend##\n", "q.md"),
            "q.md:3:11: stray ##paidend##: no paid section is open");
  EXPECT_EQ(error_of("# 标题\n\n- 甲\n- 乙##paidbegin##丙\n", "l.md"),
            "l.md:4:4: unclosed ##paidbegin##: the paid section is not closed before the end of the file");
}

TEST(Markdown, NearMissWrittenAsAHeadingIsAnError) {
  // Markdown would read `## paidbegin ##` as a heading "paidbegin"; the typo
  // must not turn paid text into free text.
  EXPECT_EQ(error_of("# 标题\n\n## paidbegin ##\n正文\n", "n.md"),
            "n.md:3:1: looks like a paid marker but is not one: \"## paidbegin ##\"; write ##paidbegin##");
  EXPECT_EQ(error_of("# 标题\n\n正文\n\n### PAID END ###\n", "e.md"),
            "e.md:5:1: looks like a paid marker but is not one: \"### PAID END ###\"; write ##paidend##");
  // Words, not a marker: the heading's text stays, without its `#`s.
  Loaded words = load("# 标题\n\n## Paid end of year\n\n## paid end\n", "w.md");
  ASSERT_TRUE(words.parsed.ok) << words.parsed.error.to_string();
  expect_blocks(words.parsed.document, {{BlockKind::kParagraph, 0, "", "Paid end of year", false, 3},
                                        {BlockKind::kParagraph, 0, "", "paid end", false, 5}});
}

TEST(Markdown, CodeIsKeptImagesAndHtmlAreRefused) {
  Loaded code = load("# 标题\n\n```\n第一行代码\n```\n", "c.md");
  ASSERT_TRUE(code.parsed.ok) << code.parsed.error.to_string();
  expect_blocks(code.parsed.document, {{BlockKind::kParagraph, 0, "", "第一行代码", false, 4}});

  // An ordered item opening with a code block keeps its number as a line.
  Loaded item = load("# 标题\n\n3.     缩进代码\n", "n.md");
  ASSERT_TRUE(item.parsed.ok) << item.parsed.error.to_string();
  EXPECT_EQ(item.source_text, "标题\n3.\n缩进代码\n");

  EXPECT_EQ(error_of("# 标题\n\n现场照片![照片](a.png)\n", "i.md"),
            "i.md:3:1: image is not supported in a .md source; remove it or describe it in text");
  EXPECT_EQ(error_of("# 标题\n\n<div>通知</div>\n", "h.md"),
            "h.md:3:1: HTML is not supported in a .md source; write the text without tags");
}

TEST(Markdown, EncodingErrorsAreTheTxtOnes) {
  EXPECT_EQ(error_of("\xEF\xBB\xBF# \xFF\n", "e.md"),
            "e.md:1:3: invalid UTF-8 after the byte order mark (byte offset 5)");
}

// ---- .docx -------------------------------------------------------------------

// Heading 1 carries the numbering "一、" / "（一）"; "My heading" is based on it.
const std::string kStyles =
    "<w:style w:type=\"paragraph\" w:styleId=\"1\"><w:name w:val=\"heading 1\"/>"
    "<w:pPr><w:numPr><w:numId w:val=\"7\"/></w:numPr></w:pPr></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"20\"><w:name w:val=\"My heading\"/>"
    "<w:basedOn w:val=\"1\"/></w:style>";
const std::string kNumbering =
    "<w:abstractNum w:abstractNumId=\"3\">"
    "<w:lvl w:ilvl=\"0\"><w:start w:val=\"1\"/><w:numFmt w:val=\"chineseCounting\"/><w:lvlText w:val=\"%1、\"/></w:lvl>"
    "<w:lvl w:ilvl=\"1\"><w:start w:val=\"1\"/><w:numFmt w:val=\"chineseCounting\"/><w:lvlText w:val=\"（%2）\"/></w:lvl>"
    "</w:abstractNum>"
    "<w:num w:numId=\"7\"><w:abstractNumId w:val=\"3\"/></w:num>";

TEST(Docx, StylesNumberingAndMarkersSplitAcrossRuns) {
  const std::string body =
      p({"乡村图书室", "建设情况"}) +                                    // 1: title
      p({"本年新建图书室五间。"}) +                                      // 2
      p({"工作进展"}, "1") +                                             // 3: 一、
      p({"##paid", "Begin", "##藏书一万册。"}) +                         // 4
      "<w:p><w:pPr><w:numPr><w:ilvl w:val=\"1\"/><w:numId w:val=\"7\"/></w:numPr></w:pPr>"
      "<w:r><w:t>配备管理员</w:t></w:r></w:p>" +                        // 5: （一）
      p({"下一步打算"}, "20") +                                          // 6: 二、
      "<w:p><w:r><w:t>$$paid</w:t></w:r><w:r><w:t>end$$</w:t></w:r>"
      "<w:r><w:t>欢迎</w:t><w:br/><w:t>指导。</w:t></w:r></w:p>";        // 7
  Loaded l = load(docx(body, kStyles, kNumbering), "lib.docx");
  ASSERT_TRUE(l.parsed.ok) << l.parsed.error.to_string();
  const doc::Document& d = l.parsed.document;
  EXPECT_EQ(d.title, "乡村图书室建设情况");
  EXPECT_EQ(d.figures.paid_sections, 1);
  expect_blocks(d, {
                       {BlockKind::kParagraph, 0, "", "本年新建图书室五间。", false, 2},
                       {BlockKind::kHeading, 1, "一、", "工作进展", false, 3},
                       {BlockKind::kParagraph, 0, "", "藏书一万册。", true, 4},
                       {BlockKind::kHeading, 2, "（一）", "配备管理员", true, 5},
                       {BlockKind::kHeading, 1, "二、", "下一步打算", true, 6},
                       {BlockKind::kParagraph, 0, "", "欢迎", false, 7},
                       {BlockKind::kParagraph, 0, "", "指导。", false, 7},
                   });
}

TEST(Docx, ErrorNamesTheParagraph) {
  const std::string body = p({"标题"}) + p({""}) + p({"正文##pa", "idend##"});
  EXPECT_EQ(error_of(docx(body), "e.docx"), "e.docx: paragraph 3: stray ##paidend##: no paid section is open");
  const std::string near = p({"标题"}) + p({"## paid", " begin ##正文"});
  EXPECT_EQ(error_of(docx(near), "n.docx"),
            "n.docx: paragraph 2: looks like a paid marker but is not one: \"## paid begin ##\"; write ##paidbegin##");
}

// Found by fuzz_docx: a line end inside a run's text (&#10;, &#13;, or a
// raw CR, which XML reads as LF) made the converted text one line longer
// than its paragraph map, so later paragraphs were misnumbered in errors
// and blocks. Word shows such a character as a space; so does paidoc.
TEST(Docx, LineEndInsideRunTextIsASpaceSoParagraphsKeepTheirNumbers) {
  const std::string body = p({"标题"}) + p({"第一行&#10;第二行", "\r第三行&#13;"}) + p({"结尾"});
  Loaded l = load(docx(body), "le.docx");
  ASSERT_TRUE(l.parsed.ok) << l.parsed.error.to_string();
  expect_blocks(l.parsed.document, {
                                       {BlockKind::kParagraph, 0, "", "第一行 第二行 第三行", false, 2},
                                       {BlockKind::kParagraph, 0, "", "结尾", false, 3},
                                   });
  const std::string unclosed =
      p({"标题"}) + p({"甲&#10;乙&#13;丙"}) + p({"正文##paidbegin##付费"}) + p({"结尾"});
  Loaded u = load(docx(unclosed), "u.docx");
  ASSERT_FALSE(u.parsed.ok);
  EXPECT_EQ(u.parsed.error.paragraph, 3) << u.parsed.error.to_string();
}

// Found by fuzz_docx: ill-formed UTF-8 inside a run's text went through
// the XML parser into the converted text, which doc::parse then read as
// GB18030, so the document was imported as mojibake. It is refused, naming
// the paragraph.
TEST(Docx, InvalidUtf8InRunTextIsRefusedNotReadAsGb18030) {
  const std::string body = p({"之后\t\xE5\x88\xB6\xE8/\xA1\xA8"}) + p({"正文"});
  EXPECT_EQ(error_of(docx(body), "m.docx"),
            "m.docx: paragraph 1: the text is not valid UTF-8 (a NUL or a damaged byte sequence); "
            "the .docx is damaged");
  const std::string later = p({"标题"}) + p({"正文"}) + p({"第三段\xFF"});
  EXPECT_EQ(error_of(docx(later), "n.docx").rfind("n.docx: paragraph 3: the text is not valid UTF-8", 0), 0u);
}

TEST(Docx, TablesAndImagesAreRefusedByParagraph) {
  const std::string table = p({"标题"}) + p({"正文"}) +
                            "<w:tbl><w:tr><w:tc>" + p({"单元格"}) + "</w:tc></w:tr></w:tbl>" + p({"结尾"});
  EXPECT_EQ(error_of(docx(table), "t.docx"),
            "t.docx: paragraph 3: a table is not supported in a .docx source; convert it to text");
  const std::string image = p({"标题"}) + "<w:p><w:r><w:t>图示</w:t></w:r><w:r><w:drawing/></w:r></w:p>";
  EXPECT_EQ(error_of(docx(image), "i.docx"),
            "i.docx: paragraph 2: an image or drawing is not supported in a .docx source; remove it or "
            "describe it in text");
}

TEST(Docx, NotADocxIsNamed) {
  EXPECT_EQ(error_of("这不是压缩包", "x.docx"), "x.docx: not a .docx file: not a zip archive");
  EXPECT_EQ(error_of(paidoc::testing::zip_of({{"word/other.xml", "<a/>"}}), "y.docx"),
            "y.docx: not a .docx file: word/document.xml is missing");
  EXPECT_EQ(error_of(paidoc::testing::zip_of({{"word/document.xml", "<w:document"}}), "z.docx").rfind(
                "z.docx: word/document.xml is not valid XML: ", 0),
            0u);
  EXPECT_EQ(error_of(docx(p({""})), "empty.docx"), "empty.docx: paragraph 1: empty document: no title");
}

// ---- .txt and names ----------------------------------------------------------

TEST(Sources, TxtIsParsedAsBeforeAndNamesPickTheFormat) {
  const std::string txt = "标题\n正文##paidbegin##付费##paidend##\n";
  Loaded l = load(txt, "dir.md/a.TXT");
  ASSERT_TRUE(l.parsed.ok);
  EXPECT_EQ(l.parsed.document, doc::parse(txt, "a.txt").document);
  EXPECT_EQ(l.source_text, txt);
  EXPECT_EQ(format_of("A.MD"), Format::kMarkdown);
  EXPECT_EQ(format_of("b.markdown"), Format::kMarkdown);
  EXPECT_EQ(format_of("c.Docx"), Format::kDocx);
  EXPECT_EQ(format_of("d.doc"), Format::kText);
  EXPECT_TRUE(is_source_name("x/y.docx"));
  EXPECT_FALSE(is_source_name("x/y.doc"));
  EXPECT_FALSE(is_source_name("x.md/readme"));
}

}  // namespace
}  // namespace paidoc::sources
