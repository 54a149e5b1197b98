// The .docx writer: a valid package whose every part parses, the paid text
// only for a view with access, the GB/T 9704 page geometry, fonts and real
// Word styles, odd/even page number footers, the trace properties, and the
// text mark in the body.
#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <set>
#include <string>

#include "export/export.h"
#include "export/formats.h"
#include "export/title.h"
#include "export/trace.h"
#include "export_fixture.h"

namespace paidoc::exporter {
namespace {

using namespace testing;

const Mark kMark{0x01020304, 0xA5A5F00D, 42, 9001};

// A rendered .docx, unzipped, with each part parsed.
struct Docx {
  std::string bytes;
  std::map<std::string, std::string> parts;
  std::map<std::string, pugi::xml_document> xml;

  const pugi::xml_document& operator[](const std::string& name) const {
    static const pugi::xml_document kEmpty;
    auto it = xml.find(name);
    EXPECT_NE(it, xml.end()) << name << " missing";
    return it == xml.end() ? kEmpty : it->second;
  }
};

Docx render_docx(const gate::DocumentView& view, const Mark& mark = kMark) {
  Docx d;
  auto r = render(view, Format::kDocx, mark);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (!r.ok()) return d;
  d.bytes = *r;
  d.parts = unzip(d.bytes);
  for (const auto& [name, data] : d.parts) {
    pugi::xml_parse_result res = d.xml[name].load_buffer(data.data(), data.size());
    EXPECT_TRUE(res) << name << ": " << res.description() << " at " << res.offset;
  }
  return d;
}

// The w:style element with this styleId.
pugi::xml_node style(const Docx& d, const char* id) {
  return d["word/styles.xml"].select_node(
      (std::string("/w:styles/w:style[@w:styleId='") + id + "']").c_str()).node();
}

std::string attr(const pugi::xml_node& n, const char* xpath, const char* name) {
  return n.select_node(xpath).node().attribute(name).value();
}

TEST(Docx, IsAZipWhoseEveryPartParsesAsXml) {
  Docx d = render_docx(open_view(kReport));
  ASSERT_EQ(d.bytes.substr(0, 2), "PK");
  const std::set<std::string> expected = {
      "[Content_Types].xml", "_rels/.rels",          "word/document.xml",
      "word/styles.xml",     "word/settings.xml",    "word/fontTable.xml",
      "word/footer1.xml",    "word/footer2.xml",     "word/_rels/document.xml.rels",
      "docProps/core.xml",   "docProps/app.xml",     "docProps/custom.xml"};
  std::set<std::string> got;
  for (const auto& [name, data] : d.parts) got.insert(name);
  EXPECT_EQ(got, expected);
  // Each part but the relationships has its content type.
  for (const auto& name : expected) {
    if (name.ends_with(".rels") || name == "[Content_Types].xml") continue;
    EXPECT_TRUE(d["[Content_Types].xml"]
                    .select_node(("/Types/Override[@PartName='/" + name + "']").c_str()))
        << name;
  }
  // Every relationship target exists.
  for (auto rel : d["_rels/.rels"].select_nodes("/Relationships/Relationship"))
    EXPECT_TRUE(d.parts.count(rel.node().attribute("Target").value())) << rel.node().attribute("Target").value();
  for (auto rel : d["word/_rels/document.xml.rels"].select_nodes("/Relationships/Relationship"))
    EXPECT_TRUE(d.parts.count(std::string("word/") + rel.node().attribute("Target").value()))
        << rel.node().attribute("Target").value();
}

TEST(Docx, HoldsTheWholeTextForAViewWithAccess) {
  gate::DocumentView view = open_view(kReport);
  Docx d = render_docx(view);
  std::string text = run_text(d["word/document.xml"]);
  EXPECT_TRUE(contains(text, kPaidSentence));
  EXPECT_TRUE(contains(text, kFreeSentence));
  EXPECT_TRUE(contains(text, "关于2025年度基层治理工作的总结报告"));
  EXPECT_TRUE(contains(text, "特此报告。"));
  // One paragraph per block, plus the title.
  // One paragraph per block, a run-in block in its heading's (format.md §6.2).
  const auto run_in = std::count_if(view.blocks.begin(), view.blocks.end(),
                                    [](const gate::ViewBlock& b) { return b.run_in; });
  EXPECT_EQ(paragraphs(d["word/document.xml"]).size(), view.blocks.size() + 1 - run_in);
}

TEST(Docx, LockedViewIsRefusedWithNoBytes) {
  gate::DocumentView view = locked_view(kReport);
  ASSERT_TRUE(view.locked);
  for (Format f : {Format::kDocx, Format::kPdf, Format::kTxt}) {
    auto r = render(view, f, kMark);
    ASSERT_FALSE(r.ok()) << format_name(f);
    EXPECT_EQ(r.status().code(), Code::kForbidden) << format_name(f);
    auto p = prepare(view, f);
    EXPECT_EQ(p.status().code(), Code::kForbidden) << format_name(f);
  }
  // The writers refuse too, should a caller skip prepare().
  EXPECT_EQ(internal::prepare_docx(view).status().code(), Code::kForbidden);
  EXPECT_EQ(internal::prepare_txt(view).status().code(), Code::kForbidden);
}

TEST(Docx, PageIsA4WithOfficialDocumentMargins) {
  Docx d = render_docx(open_view(kReport));
  pugi::xml_node sect = d["word/document.xml"].select_node("/w:document/w:body/w:sectPr").node();
  ASSERT_TRUE(sect);
  EXPECT_EQ(attr(sect, "w:pgSz", "w:w"), "11906");
  EXPECT_EQ(attr(sect, "w:pgSz", "w:h"), "16838");
  // The margin is 3.2 mm above the 天头 (37 mm): a word processor sets the
  // characters at the foot of their 28.95 pt line (fidelity_test measures
  // where they land).
  EXPECT_EQ(attr(sect, "w:pgMar", "w:top"), "1916");     // 33.8 mm
  EXPECT_EQ(attr(sect, "w:pgMar", "w:left"), "1587");    // 订口 28 mm
  EXPECT_EQ(attr(sect, "w:pgMar", "w:right"), "1474");   // 26 mm: 156 mm of text
  EXPECT_EQ(attr(sect, "w:pgMar", "w:bottom"), "2184");  // 22 lines of 579 fill the rest
  EXPECT_EQ(16838 - 1916 - 2184, 22 * 579);
  EXPECT_EQ(11906 - 1587 - 1474, 8845);                  // 156 mm
  // A line grid; no character grid (docx.cc says why): 28 characters a
  // line come from the body's character spacing.
  EXPECT_EQ(attr(sect, "w:docGrid", "w:type"), "lines");
  EXPECT_EQ(attr(sect, "w:docGrid", "w:linePitch"), "579");
  pugi::xml_node normal =
      d["word/styles.xml"].select_node("//w:style[@w:styleId='Normal']").node();
  const double spacing = std::stod(attr(normal, "w:rPr/w:spacing", "w:val"));
  const double pitch_twips = 16.0 * 20.0 + spacing;
  EXPECT_LE(28 * pitch_twips, 8845);
  EXPECT_GT(29 * pitch_twips, 8845);
  // No automatic space between Chinese and digits ("2024年1月" stays tight).
  EXPECT_EQ(attr(normal, "w:pPr/w:autoSpaceDE", "w:val"), "0");
  EXPECT_EQ(attr(normal, "w:pPr/w:autoSpaceDN", "w:val"), "0");
}

// The title paragraph's lines: its w:t text split at each w:br, without
// the trace mark.
std::vector<std::string> title_lines(const pugi::xml_node& title) {
  std::vector<std::string> lines(1);
  for (pugi::xml_node r : title.children("w:r")) {
    for (pugi::xml_node n : r.children()) {
      if (std::string_view(n.name()) == "w:br") lines.emplace_back();
      else if (std::string_view(n.name()) == "w:t") lines.back() += n.child_value();
    }
  }
  for (std::string& l : lines)
    if (auto at = l.find("\xEF\xBB\xBF"); at != std::string::npos) l.erase(at);  // the mark
  return lines;
}

// GB/T 9704 §7.3.1: a 41-character title used to wrap 20/20/1 with 料 alone.
TEST(Docx, LongTitleBreaksBetweenWordsWithLineBreaks) {
  const std::string title = "市卫生健康委员会党组领导班子关于省委巡视反馈问题整改专题民主生活会个人对照检查材料";
  Docx d = render_docx(open_view(title + "\n" + std::string(kReport.substr(kReport.find('\n') + 1))));
  std::vector<pugi::xml_node> ps = paragraphs(d["word/document.xml"]);
  ASSERT_FALSE(ps.empty());
  const std::vector<std::string> lines = title_lines(ps[0]);
  EXPECT_EQ(lines, internal::break_title(title, internal::kTitleCharsPerLine));
  // Three lines of 14, 14 and 13 characters, each word whole.
  const std::vector<std::string> want = {"市卫生健康委员会党组领导班子", "关于省委巡视反馈问题整改专题",
                                         "民主生活会个人对照检查材料"};
  EXPECT_EQ(lines, want);

  // A title that fits one line has no break.
  Docx short_title = render_docx(open_view(kReport));
  EXPECT_EQ(title_lines(paragraphs(short_title["word/document.xml"])[0]).size(), 1u);
}

TEST(Docx, StylesCarryTheFontsAndSizes) {
  Docx d = render_docx(open_view(kReport));
  struct Want {
    const char* id;
    const char* name;
    const char* east_asian;
    const char* size;
  };
  const Want wants[] = {
      {"Normal", "Normal", "仿宋_GB2312", "32"},     {"Title", "Title", "方正小标宋简体", "44"},
      {"Heading1", "heading 1", "黑体", "32"},       {"Heading2", "heading 2", "楷体", "32"},
      {"Heading3", "heading 3", "仿宋_GB2312", "32"}, {"Heading4", "heading 4", "仿宋_GB2312", "32"},
  };
  for (const Want& w : wants) {
    SCOPED_TRACE(w.id);
    pugi::xml_node s = style(d, w.id);
    ASSERT_TRUE(s);
    EXPECT_STREQ(s.attribute("w:type").value(), "paragraph");
    EXPECT_EQ(attr(s, "w:name", "w:val"), w.name);
    EXPECT_EQ(attr(s, "w:rPr/w:rFonts", "w:eastAsia"), w.east_asian);
    EXPECT_EQ(attr(s, "w:rPr/w:rFonts", "w:ascii"), "Times New Roman");
    EXPECT_EQ(attr(s, "w:rPr/w:rFonts", "w:hAnsi"), "Times New Roman");
    EXPECT_EQ(attr(s, "w:rPr/w:sz", "w:val"), w.size);
    if (std::string_view(w.id) != "Normal") {
      EXPECT_EQ(attr(s, "w:basedOn", "w:val"), "Normal");
    }
  }
  pugi::xml_node normal = style(d, "Normal");
  EXPECT_STREQ(normal.attribute("w:default").value(), "1");
  EXPECT_EQ(attr(normal, "w:pPr/w:spacing", "w:line"), "579");
  EXPECT_EQ(attr(normal, "w:pPr/w:spacing", "w:lineRule"), "exact");
  EXPECT_EQ(attr(normal, "w:pPr/w:ind", "w:firstLineChars"), "200");
  EXPECT_EQ(attr(normal, "w:pPr/w:jc", "w:val"), "both");
  pugi::xml_node title = style(d, "Title");
  EXPECT_EQ(attr(title, "w:pPr/w:jc", "w:val"), "center");
  EXPECT_EQ(attr(title, "w:pPr/w:ind", "w:firstLineChars"), "0");
  // Headings are outline levels 0..3 (the navigation pane, a table of contents).
  for (int level = 1; level <= 4; ++level) {
    std::string id = "Heading" + std::to_string(level);
    EXPECT_EQ(attr(style(d, id.c_str()), "w:pPr/w:outlineLvl", "w:val"), std::to_string(level - 1));
  }
}

// The 1-based numbers of the view's blocks in each body paragraph: a run-in
// block shares its heading's paragraph (format.md §6.2).
std::vector<std::vector<size_t>> paragraph_blocks(const gate::DocumentView& view) {
  std::vector<std::vector<size_t>> out;
  for (size_t i = 0; i < view.blocks.size(); ++i) {
    if (view.blocks[i].run_in && !out.empty())
      out.back().push_back(i + 1);
    else
      out.push_back({i + 1});
  }
  return out;
}

TEST(Docx, EveryParagraphNamesItsStyle) {
  gate::DocumentView view = open_view(kReport);
  Docx d = render_docx(view);
  auto ps = paragraphs(d["word/document.xml"]);
  const auto groups = paragraph_blocks(view);
  ASSERT_EQ(ps.size(), groups.size() + 1);
  auto style_of = [](const pugi::xml_node& p) { return attr(p, "w:pPr/w:pStyle", "w:val"); };
  EXPECT_EQ(style_of(ps[0]), "Title");
  EXPECT_TRUE(run_text(ps[0]).starts_with(view.title));
  for (size_t i = 0; i < groups.size(); ++i) {
    const gate::ViewBlock& b = view.blocks[groups[i][0] - 1];
    SCOPED_TRACE(b.label + b.text);
    const bool runs_in = groups[i].size() > 1;
    std::string want = b.kind == gate::ViewBlock::Kind::kHeading && !runs_in
                           ? "Heading" + std::to_string(b.level)
                           : "Normal";
    EXPECT_EQ(style_of(ps[i + 1]), want);
    EXPECT_TRUE(style(d, want.c_str())) << "style " << want << " is not defined";
    std::string text = b.label + b.text;  // the label is text
    for (size_t k = 1; k < groups[i].size(); ++k) text += view.blocks[groups[i][k] - 1].text;
    EXPECT_TRUE(run_text(ps[i + 1]).starts_with(text));
  }
  // The four levels as they are written in the source.
  std::string all = run_text(d["word/document.xml"]);
  EXPECT_TRUE(contains(all, "一、总体情况"));
  EXPECT_TRUE(contains(all, "（二）队伍建设方面"));
  EXPECT_TRUE(contains(all, "1.统筹协调不够有力"));
  EXPECT_TRUE(contains(all, "（1）数据标准不统一"));
}

TEST(Docx, PageNumbersOddRightEvenLeft) {
  Docx d = render_docx(open_view(kReport));
  EXPECT_TRUE(d["word/settings.xml"].select_node("/w:settings/w:evenAndOddHeaders"));
  // The section points default (odd) at footer1 and even at footer2.
  std::map<std::string, std::string> target;
  for (auto rel : d["word/_rels/document.xml.rels"].select_nodes("/Relationships/Relationship"))
    target[rel.node().attribute("Id").value()] = rel.node().attribute("Target").value();
  pugi::xml_node sect = d["word/document.xml"].select_node("/w:document/w:body/w:sectPr").node();
  EXPECT_EQ(target[attr(sect, "w:footerReference[@w:type='default']", "r:id")], "footer1.xml");
  EXPECT_EQ(target[attr(sect, "w:footerReference[@w:type='even']", "r:id")], "footer2.xml");

  for (const auto& [part, jc] : {std::pair{"word/footer1.xml", "right"}, std::pair{"word/footer2.xml", "left"}}) {
    SCOPED_TRACE(part);
    pugi::xml_node p = d[part].select_node("/w:ftr/w:p").node();
    ASSERT_TRUE(p);
    EXPECT_EQ(attr(p, "w:pPr/w:jc", "w:val"), jc);
    // "— " PAGE " —": the text runs around the field, in order.
    std::string shown;
    for (pugi::xml_node r : p.children("w:r")) {
      if (r.child("w:t")) shown += r.child("w:t").child_value();
      if (r.child("w:instrText")) shown += std::string("{") + r.child("w:instrText").child_value() + "}";
    }
    EXPECT_EQ(shown, "— { PAGE }1 —");
    std::string footer_style = attr(p, "w:pPr/w:pStyle", "w:val");
    pugi::xml_node s = style(d, footer_style.c_str());
    EXPECT_EQ(attr(s, "w:rPr/w:rFonts", "w:eastAsia"), "宋体");
    EXPECT_EQ(attr(s, "w:rPr/w:rFonts", "w:ascii"), "宋体");
    EXPECT_EQ(attr(s, "w:rPr/w:sz", "w:val"), "28");
  }
}

TEST(Docx, PropertiesNameTheTitleAndTheDownload) {
  Docx d = render_docx(open_view(kReport));
  EXPECT_STREQ(d["docProps/core.xml"].select_node("//dc:title").node().child_value(),
               "关于2025年度基层治理工作的总结报告");
  std::map<std::string, std::string> props;
  for (auto p : d["docProps/custom.xml"].select_nodes("/Properties/property"))
    props[p.node().attribute("name").value()] = p.node().child("vt:lpwstr").child_value();
  EXPECT_EQ(props["paidoc-trace"], internal::metadata_mark({kMark.download_id, kMark.nonce}));
  EXPECT_EQ(props["paidoc-trace"], "paidoc-trace:01020304a5a5f00d");
  EXPECT_EQ(props["paidoc-user"], "42");
  EXPECT_EQ(props["paidoc-order"], "9001");
  // Office finds the part through the package relationships.
  EXPECT_TRUE(d["_rels/.rels"].select_node(
      "/Relationships/Relationship[@Target='docProps/custom.xml' and "
      "@Type='http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties']"));
}

TEST(Docx, MarkAfterTheTitleAndEveryThirdBlock) {
  gate::DocumentView view = open_view(kReport);
  Docx d = render_docx(view);
  const std::string m = encode_mark({kMark.download_id, kMark.nonce});
  auto ps = paragraphs(d["word/document.xml"]);
  const auto groups = paragraph_blocks(view);
  ASSERT_EQ(ps.size(), groups.size() + 1);
  EXPECT_EQ(run_text(ps[0]), view.title + m);
  for (size_t i = 1; i < ps.size(); ++i) {
    bool marked = groups[i - 1].back() % internal::kMarkEveryParagraphs == 0;
    EXPECT_EQ(run_text(ps[i]).ends_with(m), marked) << "paragraph " << i;
  }
  std::vector<TracePayload> all = decode_marks(run_text(d["word/document.xml"]));
  EXPECT_EQ(all.size(), 1 + view.blocks.size() / internal::kMarkEveryParagraphs);
  for (const auto& p : all) EXPECT_EQ(p, (TracePayload{kMark.download_id, kMark.nonce}));
}

// A run-in heading was once split into a heading paragraph and a body
// paragraph, and its 。 was lost (format.md §6.2).
TEST(Docx, RunInHeadingIsOneParagraphWithTheHeadingsFaceOnItsFirstRun) {
  gate::DocumentView view = open_view(kReport);
  Docx d = render_docx(view);
  pugi::xml_node runs_in;
  for (const auto& p : paragraphs(d["word/document.xml"]))
    if (run_text(p).starts_with("（一）制度建设方面")) runs_in = p;
  ASSERT_TRUE(runs_in);
  EXPECT_EQ(run_text(runs_in),
            "（一）制度建设方面。修订完善议事规则和办事流程，推动形成权责清晰、运转顺畅的工作机制。");
  EXPECT_EQ(attr(runs_in, "w:pPr/w:pStyle", "w:val"), "Normal");
  pugi::xml_node first = runs_in.child("w:r");
  EXPECT_EQ(attr(first, "w:rPr/w:rStyle", "w:val"), "RunIn2");
  EXPECT_EQ(std::string(first.child("w:t").text().get()), "（一）制度建设方面");
  // The character style carries the level-2 face.
  pugi::xml_node rs = style(d, "RunIn2");
  ASSERT_TRUE(rs);
  EXPECT_EQ(std::string(rs.attribute("w:type").value()), "character");
  EXPECT_EQ(attr(rs, "w:rPr/w:rFonts", "w:eastAsia"), "楷体");
}

TEST(Docx, TextIsEscapedAndPlantedMarksAreDropped) {
  // A publisher who writes markup, or plants a mark of their own, gets
  // neither into the file: the text is escaped and U+FEFF is removed.
  const std::string planted = encode_mark({777, 888});
  const std::string source = "整改方案 <草案> & \"征求意见稿\"\n一、目标 'A&B' <w:p>\n第一章 总则\n正文" +
                             planted + "结束。\n";
  gate::DocumentView view = open_view(source);
  Docx d = render_docx(view);
  EXPECT_TRUE(d.xml.count("word/document.xml"));
  auto ps = paragraphs(d["word/document.xml"]);
  ASSERT_EQ(ps.size(), 4u);
  const std::string m = encode_mark({kMark.download_id, kMark.nonce});
  EXPECT_EQ(run_text(ps[0]), "整改方案 <草案> & \"征求意见稿\"" + m);
  EXPECT_EQ(run_text(ps[1]), "一、目标 'A&B' <w:p>");
  EXPECT_EQ(run_text(ps[2]), "第一章\u3000总则");
  std::vector<TracePayload> all = decode_marks(run_text(d["word/document.xml"]));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], (TracePayload{kMark.download_id, kMark.nonce}));
  EXPECT_EQ(all[1], (TracePayload{kMark.download_id, kMark.nonce}));
  EXPECT_STREQ(d["docProps/core.xml"].select_node("//dc:title").node().child_value(),
               "整改方案 <草案> & \"征求意见稿\"");
}

TEST(Docx, StampOnlyChangesTheMark) {
  auto prepared = prepare(open_view(kReport), Format::kDocx);
  ASSERT_TRUE(prepared.ok()) << prepared.status().to_string();
  EXPECT_EQ((*prepared)->format(), Format::kDocx);
  EXPECT_GT((*prepared)->bytes(), 1000u);
  auto a = stamp(**prepared, kMark);
  auto b = stamp(**prepared, kMark);
  auto c = stamp(**prepared, Mark{5, 6, 7, 0});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  auto found = trace_bytes(*c);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->text_mark, (TracePayload{5, 6}));
  EXPECT_EQ(unzip(*c)["docProps/custom.xml"].find("<vt:lpwstr>0</vt:lpwstr>") != std::string::npos, true);
}

TEST(Docx, StampOfAThirtyPageDocumentTakesMilliseconds) {
  gate::DocumentView view = open_view(long_report(30 * 22 * 28));
  auto t0 = std::chrono::steady_clock::now();
  auto prepared = prepare(view, Format::kDocx);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(prepared.ok());
  constexpr int kRounds = 20;
  size_t size = 0;
  for (int i = 0; i < kRounds; ++i) {
    auto bytes = stamp(**prepared, Mark{static_cast<uint32_t>(i), 1, 2, 3});
    ASSERT_TRUE(bytes.ok());
    size = bytes->size();
  }
  auto t2 = std::chrono::steady_clock::now();
  double prepare_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  double stamp_ms = std::chrono::duration<double, std::milli>(t2 - t1).count() / kRounds;
  std::cout << "[ timing ] docx " << view.blocks.size() << " blocks, " << size << " bytes: prepare "
            << prepare_ms << " ms, stamp " << stamp_ms << " ms\n";
  RecordProperty("docx_stamp_ms", std::to_string(stamp_ms));
  // Generous against a loaded machine or a debug build; typically a few ms.
  EXPECT_LT(stamp_ms, 100.0);
}

}  // namespace
}  // namespace paidoc::exporter
