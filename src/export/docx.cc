// .docx export: a WordprocessingML package written from XML templates and
// zipped with libzip. No office suite is involved at run time.
//
// prepare_docx() builds every part once per document version: the static
// parts (styles, settings, footers, relationships, properties) and
// word/document.xml cut at the places where the text mark goes. stamp_docx()
// joins the cut document with the mark, writes docProps/custom.xml
// (paidoc-trace, paidoc-user, paidoc-order) and zips. All text that enters
// the XML goes through xml_text() (escaped, UTF-8 checked).
//
// Layout (export.h): A4, a text block of 156 mm whose characters start 37 mm
// from the top and 28 mm from the left edge (the page margin sits higher,
// see kTop), a line grid of 22 lines, 28 characters a line by character
// spacing (kCharSpacing), body 16 pt
// 仿宋_GB2312 with exact 579-twip line spacing, title 22 pt 方正小标宋简体,
// headings 黑体 / 楷体 / 仿宋_GB2312, page numbers "— N —" 14 pt 宋体, odd
// pages right and even pages left (w:evenAndOddHeaders). Every paragraph
// names a real Word style (Title, Heading1..Heading4, Normal). A long title
// is broken into lines by break_title() (title.h), written as w:br.
//
// Why no character grid: 28 characters in 156 mm make a 15.8 pt cell, less
// than the 16 pt character. Word accepts such a grid (a negative
// w:charSpace) and squeezes; LibreOffice gives each character two cells
// and sets 14 a line. On a grid, LibreOffice also rounds every run of
// half-width characters up to whole cells, so "1" in "2024年1月" or "2" in
// "（2）" is followed by half a blank cell. Tightening each character by
// kCharSpacing instead fits 28 a line in both, and digits and Latin keep
// their own widths.
#include <zip.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "export/formats.h"
#include "export/layout.h"
#include "export/title.h"

namespace paidoc::exporter::internal {
namespace {

// ---------------------------------------------------------------------------
// Geometry in twips (1/20 pt), from formats.h.

constexpr int twips_of_mm(double mm) { return static_cast<int>(mm / 25.4 * 1440.0 + 0.5); }
constexpr int twips_of_pt(double pt) { return static_cast<int>(pt * 20.0 + 0.5); }

constexpr int kPageW = twips_of_mm(kPageWidthMm);     // 11906
constexpr int kPageH = twips_of_mm(kPageHeightMm);    // 16838
// A word processor sets a character at the foot of an exact-height line:
// with 16 pt characters on 28.95 pt lines the top of the characters lies
// 3.2 mm below the top of the line (measured on LibreOffice's rendering in
// the Fandol fonts; Word sets them alike). The page margin is that much
// higher than the 天头, so the characters start 37 mm from the top edge.
constexpr double kBodyInkDropMm = 3.2;
// A 22 pt title character on the same line height starts 2.1 mm below the
// line's top: the title paragraph moves down by the difference (spacing
// before), and takes it back from its spacing after, so the body below stays
// on the grid.
constexpr double kTitleInkDropMm = 2.1;
constexpr int kTitleShift = twips_of_mm(kBodyInkDropMm - kTitleInkDropMm);  // 62

constexpr int kTop = twips_of_mm(kTopMarginMm - kBodyInkDropMm);  // 1916
constexpr int kLeft = twips_of_mm(kLeftMarginMm);     // 1587
constexpr int kRight = twips_of_mm(kRightMarginMm);   // 1474
constexpr int kLinePitch = twips_of_pt(kLinePitchPt); // 579
constexpr int kBottom = kPageH - kTop - kLinesPerPage * kLinePitch;  // 2184
constexpr int kTextWidth = kPageW - kLeft - kRight;   // 8845
constexpr int kBodyHalfPt = static_cast<int>(kBodyPt * 2);         // w:sz 32
constexpr int kTitleHalfPt = static_cast<int>(kTitlePt * 2);       // w:sz 44
constexpr int kPageNumberHalfPt = static_cast<int>(kPageNumberPt * 2);  // w:sz 28
// One 14 pt character: the page number stands one character in from the edge.
constexpr int kPageNumberInset = twips_of_pt(kPageNumberPt);
// Distance of the footer's foot from the page's lower edge. The footer is a
// single 14 pt line whose dash stands 2.9 mm above its foot (measured like
// kBodyInkDropMm), so the dash lies kPageNumberDropMm below the text block's
// lower edge, kTopMarginMm + 22 lines from the top edge (GB/T 9704 7.5).
constexpr double kFooterDashRiseMm = 2.9;
constexpr int kFooterDistance =
    twips_of_mm(kPageHeightMm - kTopMarginMm - kLinesPerPage * kLinePitchPt * 25.4 / 72.0 -
                kPageNumberDropMm - kFooterDashRiseMm);
constexpr int kHeaderDistance = twips_of_mm(15.0);

static_assert(kBottom > kFooterDistance + 2 * twips_of_pt(kPageNumberPt));
static_assert(kTitleShift > 0 && kTitleShift < kLinePitch);

// Character spacing of body text (w:spacing in w:rPr, twips; negative:
// tighter): the largest pitch at which kCharsPerLine 16 pt characters fit
// the text width. -5: 28 x 315 = 8820 <= 8845 < 29 x 315.
constexpr int kCharSpacing = kTextWidth / kCharsPerLine - twips_of_pt(kBodyPt);
static_assert(kCharsPerLine * (twips_of_pt(kBodyPt) + kCharSpacing) <= kTextWidth);
static_assert((kCharsPerLine + 1) * (twips_of_pt(kBodyPt) + kCharSpacing) > kTextWidth);

std::string char_spacing(int twips) { return "<w:spacing w:val=\"" + std::to_string(twips) + "\"/>"; }

// ---------------------------------------------------------------------------
// Text into XML.

// Appends s as XML character data: markup characters escaped, control
// characters (none is valid in XML 1.0 but tab/LF/CR, which have no meaning
// inside one paragraph) as spaces, U+FEFF dropped (every U+FEFF in the file
// frames a mark), U+FFFE/U+FFFF dropped, malformed UTF-8 as U+FFFD.
void xml_text(std::string_view s, std::string& out) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default: out += (c < 0x20 || c == 0x7F) ? ' ' : static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A multi-byte sequence: validate it (shortest form, no surrogates).
    size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    bool ok = len != 0 && i + len <= s.size();
    char32_t cp = len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (size_t k = 1; ok && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok) {
      ok = !(len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) &&
           !(len == 4 && (cp < 0x10000 || cp > 0x10FFFF));
    }
    if (!ok) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (cp != 0xFEFF && cp != 0xFFFE && cp != 0xFFFF) out.append(s.substr(i, len));
    i += len;
  }
}

std::string escaped(std::string_view s) {
  std::string out;
  xml_text(s, out);
  return out;
}

// ---------------------------------------------------------------------------
// Static parts.

constexpr std::string_view kXmlDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
constexpr std::string_view kNsW = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
constexpr std::string_view kNsR = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

constexpr std::string_view kContentTypes =
    R"(<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">)"
    R"(<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>)"
    R"(<Default Extension="xml" ContentType="application/xml"/>)"
    R"(<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>)"
    R"(<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>)"
    R"(<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>)"
    R"(<Override PartName="/word/fontTable.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"/>)"
    R"(<Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>)"
    R"(<Override PartName="/word/footer2.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>)"
    R"(<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>)"
    R"(<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>)"
    R"(<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>)"
    R"(</Types>)";

constexpr std::string_view kPackageRels =
    R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
    R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>)"
    R"(<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>)"
    R"(<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>)"
    R"(<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" Target="docProps/custom.xml"/>)"
    R"(</Relationships>)";

constexpr std::string_view kDocumentRels =
    R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
    R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>)"
    R"(<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>)"
    R"(<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable" Target="fontTable.xml"/>)"
    R"(<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/>)"
    R"(<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer2.xml"/>)"
    R"(</Relationships>)";

constexpr std::string_view kOddFooterRel = "rId4";
constexpr std::string_view kEvenFooterRel = "rId5";

constexpr std::string_view kLatinFont = "Times New Roman";
constexpr std::string_view kBodyFont = "仿宋_GB2312";
constexpr std::string_view kTitleFont = "方正小标宋简体";
constexpr std::string_view kHeading1Font = "黑体";
constexpr std::string_view kHeading2Font = "楷体";
constexpr std::string_view kPageNumberFont = "宋体";

std::string fonts(std::string_view latin, std::string_view east_asian) {
  std::string s = "<w:rFonts w:ascii=\"";
  s += latin;
  s += "\" w:hAnsi=\"";
  s += latin;
  s += "\" w:eastAsia=\"";
  s += east_asian;
  s += "\" w:cs=\"";
  s += latin;
  s += "\" w:hint=\"eastAsia\"/>";
  return s;
}

std::string size(int half_points) {
  return "<w:sz w:val=\"" + std::to_string(half_points) + "\"/><w:szCs w:val=\"" +
         std::to_string(half_points) + "\"/>";
}

std::string exact_spacing(int after = 0) {
  return "<w:spacing w:before=\"0\" w:after=\"" + std::to_string(after) + "\" w:line=\"" +
         std::to_string(kLinePitch) + "\" w:lineRule=\"exact\"/>";
}

// A paragraph style. pPr and rPr are the inner XML of w:pPr / w:rPr.
std::string paragraph_style(std::string_view id, std::string_view name, bool is_default,
                            int ui_priority, std::string_view ppr, std::string_view rpr) {
  std::string s = "<w:style w:type=\"paragraph\"";
  if (is_default) s += " w:default=\"1\"";
  s += " w:styleId=\"";
  s += id;
  s += "\"><w:name w:val=\"";
  s += name;
  s += "\"/>";
  if (!is_default) s += "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/>";
  s += "<w:uiPriority w:val=\"" + std::to_string(ui_priority) + "\"/><w:qFormat/>";
  s += "<w:pPr>";
  s += ppr;
  s += "</w:pPr><w:rPr>";
  s += rpr;
  s += "</w:rPr></w:style>";
  return s;
}

std::string heading_style(int level, std::string_view east_asian_font) {
  const std::string n = std::to_string(level);
  std::string ppr = "<w:keepNext/><w:keepLines/><w:outlineLvl w:val=\"" + std::to_string(level - 1) + "\"/>";
  std::string rpr = fonts(kLatinFont, east_asian_font) + "<w:b w:val=\"0\"/><w:bCs w:val=\"0\"/>" +
                    "<w:color w:val=\"000000\"/>" + size(kBodyHalfPt);
  return paragraph_style("Heading" + n, "heading " + n, false, 9, ppr, rpr);
}

// The character style of a run-in heading of `level` (format.md §6.2): the
// heading's face inside a body paragraph.
std::string run_in_style(int level, std::string_view east_asian_font) {
  const std::string n = std::to_string(level);
  return "<w:style w:type=\"character\" w:styleId=\"RunIn" + n + "\"><w:name w:val=\"Run-in heading " +
         n + "\"/><w:basedOn w:val=\"DefaultParagraphFont\"/><w:uiPriority w:val=\"9\"/><w:rPr>" +
         fonts(kLatinFont, east_asian_font) + "</w:rPr></w:style>";
}
// Word puts a quarter em between Chinese and digits or Latin by default
// ("2024 年 1 月"); an official document keeps them tight, as typed.
// LibreOffice's docx import (7.4) ignores these and keeps its own script
// spacing, a fifth of the line height (about 1.35 mm at 16 pt).
constexpr std::string_view kNoAutoSpace = "<w:autoSpaceDE w:val=\"0\"/><w:autoSpaceDN w:val=\"0\"/>";

std::string styles_xml() {
  std::string s(kXmlDecl);
  s += "<w:styles xmlns:w=\"";
  s += kNsW;
  s += "\"><w:docDefaults><w:rPrDefault><w:rPr>";
  s += fonts(kLatinFont, kBodyFont);
  s += "<w:kern w:val=\"2\"/>";
  s += size(kBodyHalfPt);
  s += "<w:lang w:val=\"en-US\" w:eastAsia=\"zh-CN\" w:bidi=\"ar-SA\"/>";
  s += "</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr>";
  s += exact_spacing();
  s += "</w:pPr></w:pPrDefault></w:docDefaults>";

  // Normal: the body. No automatic space between Chinese and digits or
  // Latin (kNoAutoSpace). No widow control, so every page is filled to its 22
  // lines like a printed official document.
  s += paragraph_style(
      "Normal", "Normal", true, 0,
      "<w:widowControl w:val=\"0\"/>" + std::string(kNoAutoSpace) + exact_spacing() +
          "<w:ind w:firstLineChars=\"200\" w:firstLine=\"" + std::to_string(2 * twips_of_pt(kBodyPt)) +
          "\"/><w:jc w:val=\"both\"/>",
      fonts(kLatinFont, kBodyFont) + char_spacing(kCharSpacing) + size(kBodyHalfPt));
  // The title keeps its natural spacing (20 characters of 22 pt fit) and is
  // off the line grid, so its two lines (title and gap) shift as a whole.
  s += paragraph_style("Title", "Title", false, 10,
                       "<w:snapToGrid w:val=\"0\"/><w:spacing w:before=\"" +
                           std::to_string(kTitleShift) + "\" w:after=\"" +
                           std::to_string(kLinePitch - kTitleShift) + "\" w:line=\"" +
                           std::to_string(kLinePitch) + "\" w:lineRule=\"exact\"/>" +
                           "<w:ind w:firstLineChars=\"0\" w:firstLine=\"0\"/><w:jc w:val=\"center\"/>",
                       fonts(kLatinFont, kTitleFont) + "<w:b w:val=\"0\"/><w:bCs w:val=\"0\"/>" +
                           "<w:color w:val=\"000000\"/>" + char_spacing(0) + size(kTitleHalfPt));
  s += heading_style(1, kHeading1Font);
  s += heading_style(2, kHeading2Font);
  s += heading_style(3, kBodyFont);
  s += heading_style(4, kBodyFont);
  s += run_in_style(1, kHeading1Font);
  s += run_in_style(2, kHeading2Font);
  s += run_in_style(3, kBodyFont);
  s += run_in_style(4, kBodyFont);
  s += paragraph_style(
      "Footer", "footer", false, 99,
      "<w:snapToGrid w:val=\"0\"/><w:spacing w:before=\"0\" w:after=\"0\" w:line=\"240\" "
      "w:lineRule=\"auto\"/><w:ind w:firstLineChars=\"0\" w:firstLine=\"0\"/>",
      fonts(kPageNumberFont, kPageNumberFont) + char_spacing(0) + size(kPageNumberHalfPt));
  s += "<w:style w:type=\"character\" w:default=\"1\" w:styleId=\"DefaultParagraphFont\">"
       "<w:name w:val=\"Default Paragraph Font\"/><w:uiPriority w:val=\"1\"/><w:semiHidden/>"
       "<w:unhideWhenUsed/></w:style>";
  s += "</w:styles>";
  return s;
}

std::string settings_xml() {
  std::string s(kXmlDecl);
  s += "<w:settings xmlns:w=\"";
  s += kNsW;
  // Element order follows CT_Settings. doNotCompress keeps full-width
  // punctuation a full character wide, so a full line holds exactly 28.
  s += "\"><w:zoom w:percent=\"100\"/><w:defaultTabStop w:val=\"420\"/>"
       "<w:evenAndOddHeaders/>"
       "<w:characterSpacingControl w:val=\"doNotCompress\"/>"
       "<w:compat><w:compatSetting w:name=\"compatibilityMode\" "
       "w:uri=\"http://schemas.microsoft.com/office/word\" w:val=\"15\"/></w:compat>"
       "<w:themeFontLang w:val=\"en-US\" w:eastAsia=\"zh-CN\"/>"
       "</w:settings>";
  return s;
}

std::string font_table_xml() {
  struct Font {
    std::string_view name, alt_name, charset, family, pitch;
  };
  // altName: what Word substitutes when the font is missing (仿宋_GB2312 is
  // not installed on a current Windows; 仿宋 is).
  static constexpr Font kFonts[] = {
      {"Times New Roman", "", "00", "roman", "variable"},
      {"仿宋_GB2312", "仿宋", "86", "modern", "fixed"},
      {"方正小标宋简体", "宋体", "86", "auto", "fixed"},
      {"黑体", "SimHei", "86", "modern", "fixed"},
      {"楷体", "KaiTi", "86", "modern", "fixed"},
      {"宋体", "SimSun", "86", "auto", "variable"},
  };
  std::string s(kXmlDecl);
  s += "<w:fonts xmlns:w=\"";
  s += kNsW;
  s += "\">";
  for (const Font& f : kFonts) {
    s += "<w:font w:name=\"";
    s += f.name;
    s += "\">";
    if (!f.alt_name.empty()) {
      s += "<w:altName w:val=\"";
      s += f.alt_name;
      s += "\"/>";
    }
    s += "<w:charset w:val=\"";
    s += f.charset;
    s += "\"/><w:family w:val=\"";
    s += f.family;
    s += "\"/><w:pitch w:val=\"";
    s += f.pitch;
    s += "\"/></w:font>";
  }
  s += "</w:fonts>";
  return s;
}

// "— N —" with a PAGE field; odd pages right, even pages left, one
// character in from the edge (GB/T 9704 7.5).
std::string footer_xml(bool odd) {
  std::string s(kXmlDecl);
  s += "<w:ftr xmlns:w=\"";
  s += kNsW;
  s += "\" xmlns:r=\"";
  s += kNsR;
  s += "\"><w:p><w:pPr><w:pStyle w:val=\"Footer\"/>";
  s += odd ? "<w:ind w:right=\"" : "<w:ind w:left=\"";
  s += std::to_string(kPageNumberInset);
  s += odd ? "\"/><w:jc w:val=\"right\"/>" : "\"/><w:jc w:val=\"left\"/>";
  s += "</w:pPr>"
       "<w:r><w:t xml:space=\"preserve\">— </w:t></w:r>"
       "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>"
       "<w:r><w:instrText xml:space=\"preserve\"> PAGE </w:instrText></w:r>"
       "<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>"
       "<w:r><w:t>1</w:t></w:r>"
       "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r>"
       "<w:r><w:t xml:space=\"preserve\"> —</w:t></w:r>"
       "</w:p></w:ftr>";
  return s;
}

std::string core_xml(const gate::DocumentView& view) {
  std::string s(kXmlDecl);
  s += "<cp:coreProperties "
       "xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" "
       "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" "
       "xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" "
       "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">";
  s += "<dc:title>" + escaped(view.title) + "</dc:title>";
  if (!view.category.empty()) s += "<cp:category>" + escaped(view.category) + "</cp:category>";
  if (auto t = utc_timestamp(view.created_at); !t.empty())
    s += "<dcterms:created xsi:type=\"dcterms:W3CDTF\">" + t + "</dcterms:created>";
  if (auto t = utc_timestamp(view.updated_at); !t.empty())
    s += "<dcterms:modified xsi:type=\"dcterms:W3CDTF\">" + t + "</dcterms:modified>";
  s += "</cp:coreProperties>";
  return s;
}

std::string app_xml() {
  std::string s(kXmlDecl);
  s += "<Properties "
       "xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\" "
       "xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">"
       "<Application>paidoc</Application><DocSecurity>0</DocSecurity></Properties>";
  return s;
}

std::string custom_xml(const Mark& mark) {
  static constexpr std::string_view kFmtId = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}";
  auto property = [](int pid, std::string_view name, const std::string& value) {
    std::string p = "<property fmtid=\"";
    p += kFmtId;
    p += "\" pid=\"" + std::to_string(pid) + "\" name=\"";
    p += name;
    p += "\"><vt:lpwstr>" + escaped(value) + "</vt:lpwstr></property>";
    return p;
  };
  std::string s(kXmlDecl);
  s += "<Properties "
       "xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/custom-properties\" "
       "xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">";
  s += property(2, "paidoc-trace", metadata_mark({mark.download_id, mark.nonce}));
  s += property(3, "paidoc-user", std::to_string(mark.user_id));
  s += property(4, "paidoc-order", std::to_string(mark.order_id));
  s += "</Properties>";
  return s;
}

std::string section_xml() {
  std::string s = "<w:sectPr>";
  s += "<w:footerReference w:type=\"default\" r:id=\"";
  s += kOddFooterRel;
  s += "\"/><w:footerReference w:type=\"even\" r:id=\"";
  s += kEvenFooterRel;
  s += "\"/>";
  s += "<w:pgSz w:w=\"" + std::to_string(kPageW) + "\" w:h=\"" + std::to_string(kPageH) + "\"/>";
  s += "<w:pgMar w:top=\"" + std::to_string(kTop) + "\" w:right=\"" + std::to_string(kRight) +
       "\" w:bottom=\"" + std::to_string(kBottom) + "\" w:left=\"" + std::to_string(kLeft) +
       "\" w:header=\"" + std::to_string(kHeaderDistance) + "\" w:footer=\"" +
       std::to_string(kFooterDistance) + "\" w:gutter=\"0\"/>";
  s += "<w:pgNumType w:start=\"1\"/>";
  s += "<w:cols w:space=\"425\"/>";
  s += "<w:docGrid w:type=\"lines\" w:linePitch=\"" + std::to_string(kLinePitch) + "\"/>";
  s += "</w:sectPr>";
  return s;
}

// ---------------------------------------------------------------------------

struct Part {
  const char* name;
  std::string xml;
};

class DocxPrepared final : public Prepared {
 public:
  // word/document.xml is doc_pieces joined by the mark.
  std::vector<Part> parts;               // everything but document.xml and custom.xml
  std::vector<std::string> doc_pieces;
  time_t mtime = 0;
  size_t total = 0;

  Format format() const override { return Format::kDocx; }
  size_t bytes() const override { return total + sizeof(*this); }
};

void open_paragraph(std::string_view style, std::string& out) {
  out += "<w:p><w:pPr><w:pStyle w:val=\"";
  out += style;
  out += "\"/></w:pPr><w:r><w:t xml:space=\"preserve\">";
}

// A paragraph whose first run has a character style.
void open_styled_run_paragraph(std::string_view style, std::string_view run_style,
                               std::string& out) {
  out += "<w:p><w:pPr><w:pStyle w:val=\"";
  out += style;
  out += "\"/></w:pPr><w:r><w:rPr><w:rStyle w:val=\"";
  out += run_style;
  out += "\"/></w:rPr><w:t xml:space=\"preserve\">";
}

// A paragraph of the closing (format.md §6.4, GB/T 9704 §7.3.4, §7.3.5):
// the attachment note indented 2 characters, its items under the first
// item's number; signature and date at their places; one blank line above
// the note and above the signature.
void open_closing_paragraph(const std::vector<gate::ViewBlock>& blocks, size_t i,
                            const doc::ClosingPlaces& places, std::string& out) {
  const gate::ViewBlock& b = blocks[i];
  const doc::Closing previous = i > 0 ? blocks[i - 1].closing : doc::Closing::kNone;
  const bool gap = closing_gap(previous, b.closing);
  // One cell of the character grid: kCharsPerLine of them fill the width.
  const double cell = static_cast<double>(kTextWidth) / kCharsPerLine;
  auto twips = [&](double cells) { return std::to_string(static_cast<int>(cells * cell + 0.5)); };
  std::string ind;
  switch (b.closing) {
    case doc::Closing::kAttachment:
      // "附件：" is 3 cells: wrapped lines and later items align after it.
      ind = previous == doc::Closing::kAttachment
                ? "<w:ind w:left=\"" + twips(5) + "\" w:firstLineChars=\"0\" w:firstLine=\"0\"/>"
                : "<w:ind w:left=\"" + twips(5) + "\" w:hangingChars=\"300\" w:hanging=\"" + twips(3) +
                      "\"/>";
      break;
    case doc::Closing::kSignature:
    case doc::Closing::kDate: {
      const double start =
          b.closing == doc::Closing::kDate ? places.date_start : places.signature_start;
      ind = "<w:ind w:left=\"" + twips(start) +
            "\" w:firstLineChars=\"0\" w:firstLine=\"0\"/><w:jc w:val=\"left\"/>";
      break;
    }
    case doc::Closing::kNone:
      break;
  }
  out += "<w:p><w:pPr><w:pStyle w:val=\"Normal\"/>";
  if (gap)
    out += "<w:spacing w:before=\"" + std::to_string(kLinePitch) + "\" w:after=\"0\" w:line=\"" +
           std::to_string(kLinePitch) + "\" w:lineRule=\"exact\"/>";
  out += ind;
  out += "</w:pPr><w:r><w:t xml:space=\"preserve\">";
}

// Ends the run open_paragraph (or the last kNextRun) opened and opens a plain one.
constexpr std::string_view kNextRun = "</w:t></w:r><w:r><w:t xml:space=\"preserve\">";

constexpr std::string_view kCloseParagraph = "</w:t></w:r></w:p>";
// Writes the zip. Every buffer must outlive the call (libzip reads them at
// zip_close).
Result<std::string> zip_parts(const std::vector<std::pair<const char*, const std::string*>>& parts,
                              time_t mtime) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (out == nullptr) {
    std::string m = zip_error_strerror(&err);
    zip_error_fini(&err);
    return Status::internal("docx: libzip: " + m);
  }
  zip_t* z = zip_open_from_source(out, ZIP_TRUNCATE, &err);
  if (z == nullptr) {
    std::string m = zip_error_strerror(&err);
    zip_error_fini(&err);
    zip_source_free(out);
    return Status::internal("docx: libzip: " + m);
  }
  zip_error_fini(&err);
  zip_source_keep(out);  // survives zip_close, which writes into it
  auto fail = [&](std::string what) -> Status {
    std::string m = "docx: libzip: " + what + ": " + zip_strerror(z);
    zip_discard(z);
    zip_source_free(out);
    return Status::internal(m);
  };
  for (const auto& [name, data] : parts) {
    zip_source_t* s = zip_source_buffer(z, data->data(), data->size(), 0);
    if (s == nullptr) return fail(name);
    zip_int64_t idx = zip_file_add(z, name, s, ZIP_FL_OVERWRITE);
    if (idx < 0) {
      zip_source_free(s);
      return fail(name);
    }
    if (zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), ZIP_CM_DEFLATE, 6) != 0 ||
        zip_file_set_mtime(z, static_cast<zip_uint64_t>(idx), mtime, 0) != 0)
      return fail(name);
  }
  if (zip_close(z) != 0) return fail("close");

  std::string bytes;
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_source_stat(out, &st) != 0 || (st.valid & ZIP_STAT_SIZE) == 0 ||
      zip_source_open(out) != 0) {
    zip_source_free(out);
    return Status::internal("docx: libzip: cannot read the archive back");
  }
  bytes.resize(st.size);
  zip_int64_t got = zip_source_read(out, bytes.data(), st.size);
  zip_source_close(out);
  zip_source_free(out);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
    return Status::internal("docx: libzip: short read of the archive");
  return bytes;
}

}  // namespace

Result<std::shared_ptr<const Prepared>> prepare_docx(const gate::DocumentView& view) {
  if (view.locked) return Status::forbidden("export: the view has no access to the paid text");
  auto p = std::make_shared<DocxPrepared>();

  std::string cur(kXmlDecl);
  cur += "<w:document xmlns:w=\"";
  cur += kNsW;
  cur += "\" xmlns:r=\"";
  cur += kNsR;
  cur += "\"><w:body>";
  open_paragraph("Title", cur);
  // The title's lines (GB/T 9704 7.3.1), 22 pt characters across the text
  // width, as the PDF breaks them.
  const std::vector<std::string> title_lines =
      break_title(view.title, kTitleCharsPerLine);
  for (size_t i = 0; i < title_lines.size(); ++i) {
    if (i > 0) cur += "</w:t><w:br/><w:t xml:space=\"preserve\">";
    xml_text(title_lines[i], cur);
  }
  p->doc_pieces.push_back(std::move(cur));  // the mark ends the title
  cur.assign(kCloseParagraph);

  int n = 0;
  const auto& blocks = view.blocks;
  const doc::ClosingPlaces closing = closing_places(blocks);
  for (size_t i = 0; i < blocks.size(); ++i) {
    const gate::ViewBlock& b = blocks[i];
    if (b.kind == gate::ViewBlock::Kind::kLocked) continue;  // not in a view with access
    // A run-in heading (format.md §6.2) is a body paragraph whose first run
    // has the heading's character style; its run-in block continues it.
    const bool runs_in = i + 1 < blocks.size() && blocks[i + 1].run_in;
    if (b.run_in) {
      cur += kNextRun;
    } else if (b.kind == gate::ViewBlock::Kind::kHeading) {
      const std::string level = std::to_string(std::clamp(b.level, 1, 4));
      if (runs_in)
        open_styled_run_paragraph("Normal", "RunIn" + level, cur);
      else
        open_paragraph("Heading" + level, cur);
      xml_text(b.label, cur);
      if (spaced_label(b.label)) cur += "\u3000";
    } else if (b.closing != doc::Closing::kNone) {
      open_closing_paragraph(blocks, i, closing, cur);
    } else {
      open_paragraph("Normal", cur);
    }
    xml_text(closing_text(b), cur);
    if (++n % kMarkEveryParagraphs == 0) {
      p->doc_pieces.push_back(std::move(cur));  // the mark ends this block's run
      cur.clear();
    }
    if (!runs_in) cur += kCloseParagraph;
  }
  cur += section_xml();
  cur += "</w:body></w:document>";
  p->doc_pieces.push_back(std::move(cur));

  auto with_decl = [](std::string_view body) { return std::string(kXmlDecl) + std::string(body); };
  p->parts.push_back({"[Content_Types].xml", with_decl(kContentTypes)});
  p->parts.push_back({"_rels/.rels", with_decl(kPackageRels)});
  p->parts.push_back({"word/_rels/document.xml.rels", with_decl(kDocumentRels)});
  p->parts.push_back({"word/styles.xml", styles_xml()});
  p->parts.push_back({"word/settings.xml", settings_xml()});
  p->parts.push_back({"word/fontTable.xml", font_table_xml()});
  p->parts.push_back({"word/footer1.xml", footer_xml(true)});
  p->parts.push_back({"word/footer2.xml", footer_xml(false)});
  p->parts.push_back({"docProps/core.xml", core_xml(view)});
  p->parts.push_back({"docProps/app.xml", app_xml()});

  // Zip entry times: the document's last change (DOS time starts in 1980).
  constexpr time_t kDosEpoch = 315532800;
  p->mtime = std::max<time_t>(static_cast<time_t>(view.updated_at), kDosEpoch);
  for (const auto& part : p->parts) p->total += part.xml.size();
  for (const auto& piece : p->doc_pieces) p->total += piece.size();
  return std::shared_ptr<const Prepared>(std::move(p));
}

Result<std::string> stamp_docx(const Prepared& prepared, const Mark& mark) {
  const auto* p = dynamic_cast<const DocxPrepared*>(&prepared);
  if (p == nullptr) return Status::internal("docx: prepared for another format");
  const std::string m = encode_mark({mark.download_id, mark.nonce});
  std::string document;
  document.reserve(p->total + m.size() * p->doc_pieces.size());
  for (size_t i = 0; i < p->doc_pieces.size(); ++i) {
    if (i > 0) document += m;
    document += p->doc_pieces[i];
  }
  const std::string custom = custom_xml(mark);

  std::vector<std::pair<const char*, const std::string*>> entries;
  entries.reserve(p->parts.size() + 2);
  entries.emplace_back(p->parts[0].name, &p->parts[0].xml);  // [Content_Types].xml first
  entries.emplace_back("word/document.xml", &document);
  for (size_t i = 1; i < p->parts.size(); ++i) entries.emplace_back(p->parts[i].name, &p->parts[i].xml);
  entries.emplace_back("docProps/custom.xml", &custom);
  return zip_parts(entries, p->mtime);
}

}  // namespace paidoc::exporter::internal
