// format.md §6.4 in the exports: the attachment note, signature and date laid
// out as GB/T 9704 §7.3.4 and §7.3.5 describe, in txt, docx and PDF alike.
#include <gtest/gtest.h>
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-page.h>
#include <pugixml.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "export/export.h"
#include "export/formats.h"
#include "export/trace.h"
#include "export_fixture.h"

namespace paidoc::exporter {
namespace {
namespace closing {  // the export tests are built as one unit

using namespace testing;

const Mark kMark{0x0A0B0C0D, 0x5EED5EED, 7, 8};

// Signature 10 cells, date "2024年3月5日" 6 cells: the signature starts at
// 28 - 2 - 10 = 16 cells, the date 2 cells right of it, at 18.
constexpr std::string_view kNotice =
    "关于开展安全检查的通知\n"
    "各科室：\n"
    "请于月底前完成自查，并按时报送整改台账。\n"
    "\n"
    "附件：1.安全检查表\n"
    "2.整改台账模板\n"
    "\n"
    "某县应急管理局办公室\n"
    "二〇二四年三月五日\n";

// A name of 2 cells and a longer date: the date keeps 2 cells from the
// right edge (28 - 2 - 6 = 20) and the name starts 2 cells before it (18).
constexpr std::string_view kPersonal =
    "个人对照检查材料\n"
    "一、存在的问题\n"
    "学习不够深入。\n"
    "张三\n"
    "2024年03月05日\n";

std::string ideographic_spaces(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "\u3000";
  return s;
}

std::vector<std::string> txt_lines(std::string_view source) {
  auto r = render(open_view(source), Format::kTxt, kMark);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  std::vector<std::string> out;
  const std::string m = encode_mark({kMark.download_id, kMark.nonce});
  std::string all = r.ok() ? *r : std::string();
  for (size_t at; (at = all.find(m)) != std::string::npos;) all.erase(at, m.size());
  for (size_t from = 0, end; (end = all.find("\r\n", from)) != std::string::npos; from = end + 2)
    out.push_back(all.substr(from, end - from));
  return out;
}

TEST(ClosingTxt, AttachmentNoteSignatureAndDateTakeTheirPlaces) {
  const std::vector<std::string> lines = txt_lines(kNotice);
  ASSERT_GE(lines.size(), 7u);
  const std::vector<std::string> tail(lines.end() - 7, lines.end());
  EXPECT_EQ(tail, (std::vector<std::string>{
                      "　　请于月底前完成自查，并按时报送整改台账。",
                      "",
                      ideographic_spaces(2) + "附件：1.安全检查表",
                      ideographic_spaces(5) + "2.整改台账模板",
                      "",
                      ideographic_spaces(16) + "某县应急管理局办公室",
                      ideographic_spaces(18) + "2024年3月5日",
                  }));
}

TEST(ClosingTxt, ADateLongerThanTheSignatureKeepsTwoCellsFromTheEdge) {
  const std::vector<std::string> lines = txt_lines(kPersonal);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[lines.size() - 3], "");
  EXPECT_EQ(lines[lines.size() - 2], ideographic_spaces(18) + "张三");
  EXPECT_EQ(lines[lines.size() - 1], ideographic_spaces(20) + "2024年3月5日");
}

// The docx paragraph whose text starts with `prefix`.
pugi::xml_node paragraph_starting(const pugi::xml_document& d, std::string_view prefix) {
  for (const auto& p : paragraphs(d))
    if (run_text(p).starts_with(prefix)) return p;
  return {};
}

int twips(const pugi::xml_node& p, const char* attr) {
  return p.select_node("w:pPr/w:ind").node().attribute(attr).as_int(-1);
}

TEST(ClosingDocx, ParagraphsStandWhereTheStandardPutsThem) {
  auto r = render(open_view(kNotice), Format::kDocx, kMark);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const auto parts = unzip(*r);
  pugi::xml_document d;
  ASSERT_TRUE(d.load_string(parts.at("word/document.xml").c_str()));
  // One cell of the grid, in twips: the text width over 28.
  const pugi::xml_node sect = d.select_node("//w:sectPr").node();
  const double width = sect.child("w:pgSz").attribute("w:w").as_double() -
                       sect.child("w:pgMar").attribute("w:left").as_double() -
                       sect.child("w:pgMar").attribute("w:right").as_double();
  const double cell = width / internal::kCharsPerLine;

  const pugi::xml_node note = paragraph_starting(d, "附件：1.安全检查表");
  const pugi::xml_node item = paragraph_starting(d, "2.整改台账模板");
  const pugi::xml_node sign = paragraph_starting(d, "某县应急管理局办公室");
  const pugi::xml_node date = paragraph_starting(d, "2024年3月5日");  // written the official way
  ASSERT_TRUE(note && item && sign && date);
  // The note: 2 cells in, wrapped lines and the next item under "1." (5 cells).
  EXPECT_NEAR(twips(note, "w:left") - twips(note, "w:hanging"), 2 * cell, 1);
  EXPECT_NEAR(twips(item, "w:left"), 5 * cell, 1);
  EXPECT_NEAR(twips(sign, "w:left"), 16 * cell, 1);
  EXPECT_NEAR(twips(date, "w:left"), 18 * cell, 1);
  EXPECT_EQ(std::string(date.select_node("w:pPr/w:jc").node().attribute("w:val").value()), "left");
  // A blank line (one line pitch) above the note and above the signature only.
  auto before = [](const pugi::xml_node& p) {
    return p.select_node("w:pPr/w:spacing").node().attribute("w:before").as_int(0);
  };
  EXPECT_GT(before(note), 500);
  EXPECT_EQ(before(item), 0);
  EXPECT_GT(before(sign), 500);
  EXPECT_EQ(before(date), 0);
  EXPECT_FALSE(paragraph_starting(d, "二〇二四"));
}

std::string utf8(const poppler::ustring& u) {
  poppler::byte_array b = u.to_utf8();
  return std::string(b.begin(), b.end());
}

// Left and right ends (pt) of the text on the line whose text holds
// `needle`, on the PDF's last page.
struct Span {
  double left = 1e9, right = -1e9;
};

TEST(ClosingPdf, SignatureAndDateStandTwoCellsApartAndTwoFromTheEdge) {
  auto bytes = render(open_view(kNotice), Format::kPdf, kMark);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  std::unique_ptr<poppler::document> d(
      poppler::document::load_from_raw_data(bytes->data(), static_cast<int>(bytes->size())));
  ASSERT_TRUE(d);
  std::unique_ptr<poppler::page> page(d->create_page(d->pages() - 1));
  // Boxes by baseline (rounded y), and the right end of the text block: the
  // right end of the justified body line.
  std::map<int, Span> lines;
  std::map<int, std::string> texts;
  for (const poppler::text_box& box : page->text_list()) {
    const std::string t = utf8(box.text());
    if (t.empty() || t.find("—") != std::string::npos) continue;  // the page number
    const poppler::rectf r = box.bbox();
    Span& s = lines[static_cast<int>(std::lround(r.y()))];
    s.left = std::min(s.left, r.x());
    s.right = std::max(s.right, r.x() + r.width());
    texts[static_cast<int>(std::lround(r.y()))] += t;
  }
  auto find = [&](std::string_view needle) {
    for (const auto& [y, t] : texts)
      if (t.find(needle) != std::string::npos) return lines[y];
    ADD_FAILURE() << "no line holds " << needle;
    return Span{};
  };
  const Span body = find("请于月底前完成自查");
  const Span note = find("附件：1.安全检查表");
  const Span item = find("2.整改台账模板");
  const Span sign = find("某县应急管理局办公室");
  const Span date = find("2024年3月5日");
  const double cell = internal::kTextWidthMm / internal::kCharsPerLine * 72 / 25.4;  // 15.8 pt
  // The body's first line is indented 2 cells, like the note.
  EXPECT_NEAR(note.left, body.left, 1);
  EXPECT_NEAR(item.left - note.left, 3 * cell, 1.5);
  EXPECT_NEAR(date.left - sign.left, 2 * cell, 1.5);
  EXPECT_NEAR(sign.right - sign.left, 10 * cell, 2);
  // 2 cells from the right edge of the grid: 28 cells from the text's left
  // edge, which is 2 cells left of the indented first line.
  const double grid_right = body.left - 2 * cell + internal::kCharsPerLine * cell;
  EXPECT_NEAR(sign.right, grid_right - 2 * cell, 2);
}

}  // namespace closing
}  // namespace
}  // namespace paidoc::exporter
