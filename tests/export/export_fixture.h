// Test documents and helpers for the export tests: views made the way the
// library makes them (doc::parse, then gate::make_view), a locked view, and
// reading a .docx back (unzip, XML text).
//
// All test text is written for these tests (a county bureau's work report).
#pragma once

#include <gtest/gtest.h>
#include <pugixml.hpp>
#include <zip.h>

#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/money.h"
#include "doc/parser.h"
#include "export/layout.h"
#include "gate/gate.h"

namespace paidoc::exporter::testing {

// A short report with free and paid text and headings of all four levels.
// The paid part starts at "（二）队伍建设方面" and ends before "特此报告。".
inline constexpr std::string_view kReport =
    "关于2025年度基层治理工作的总结报告\n"
    "\n"
    "今年以来，我局坚持问题导向，围绕基层治理中的突出短板，扎实推进各项重点任务。现将有关情况报告如下。\n"
    "一、总体情况\n"
    "全年共组织专题调研12次，走访社区46个，收集意见建议300余条，形成调研报告5篇。\n"
    "（一）制度建设方面。修订完善议事规则和办事流程，推动形成权责清晰、运转顺畅的工作机制。\n"
    "##paidbegin##\n"
    "（二）队伍建设方面\n"
    "分批次开展业务培训，累计培训基层干部800余人次，网格员持证上岗率达到95%。\n"
    "二、存在问题\n"
    "1.统筹协调不够有力\n"
    "部分事项多头管理，信息共享渠道不畅，群众反映的问题有时在部门之间往返流转。\n"
    "（1）数据标准不统一\n"
    "各系统数据口径不一致，重复填报现象仍然存在，基层负担没有明显减轻。\n"
    "三、下一步整改措施\n"
    "对照问题清单逐项整改，明确责任单位和完成时限，确保整改工作落到实处、取得实效。\n"
    "##paidend##\n"
    "特此报告。\n";

// Text that is only in the paid part of kReport, and text only in its free part.
inline constexpr std::string_view kPaidSentence = "网格员持证上岗率达到95%";
inline constexpr std::string_view kFreeSentence = "形成调研报告5篇";

// A long report: sections with level 1-3 headings and paragraphs until the
// body holds at least min_chars characters, the middle third paid.
inline std::string chinese_numeral(int n) {  // 1..99
  static const char* const kDigit[] = {"", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
  if (n < 10) return kDigit[n];
  return std::string(n >= 20 ? kDigit[n / 10] : "") + "十" + kDigit[n % 10];
}

inline std::string long_report(int min_chars) {
  static const char* const kSections[] = {"工作开展情况", "主要做法和成效", "存在的问题和不足",
                                          "问题产生的原因", "下一步整改措施", "保障措施"};
  static const char* const kSubsections[] = {"加强组织领导", "完善制度机制", "强化督促检查",
                                             "注重宣传引导"};
  static const char* const kItems[] = {"明确责任分工", "细化工作台账", "建立销号制度"};
  static const char* const kSentences[] = {
      "各单位按照年初确定的目标任务，制定工作方案，细化时间节点，层层压实责任，推动各项工作有序开展。",
      "坚持把群众满意作为衡量工作成效的根本标准，畅通诉求表达渠道，及时回应社会关切。",
      "针对检查中发现的问题，逐条建立整改台账，明确整改措施、责任人和完成时限，实行动态管理。",
      "加强部门之间的协调配合，定期召开联席会议，研究解决工作推进中遇到的困难和问题。",
      "注重总结提炼基层的好经验好做法，及时推广复制，以点带面推动整体工作水平提升。",
      "严格落实值班值守和信息报送制度，确保各类突发情况第一时间发现、第一时间处置。",
      "对整改不力、敷衍塞责的单位和个人，按照有关规定严肃追责问责，切实维护制度的严肃性。",
  };
  std::string body;
  int chars = 0;
  int sentence = 0;
  auto paragraph = [&](int sentences) {
    std::string p;
    for (int k = 0; k < sentences; ++k) p += kSentences[sentence++ % std::size(kSentences)];
    p += "截至目前已完成" + std::to_string(sentence * 7 % 90 + 10) + "项。";
    chars += static_cast<int>(doc::count_chars(p));
    body += p + "\n";
  };
  std::vector<std::string> sections;
  for (int s = 0; chars < min_chars && s < 99; ++s) {
    body.clear();
    body += chinese_numeral(s + 1) + "、" + kSections[s % std::size(kSections)] + "\n";
    paragraph(2);
    for (int sub = 0; sub < 2; ++sub) {
      body += "（" + chinese_numeral(sub + 1) + "）" + kSubsections[(s + sub) % std::size(kSubsections)] +
              "\n";
      paragraph(1 + (s + sub) % 3);
      body += std::to_string(sub + 1) + "." + kItems[(s + sub) % std::size(kItems)] + "\n";
      paragraph(2);
    }
    sections.push_back(body);
  }
  std::string out = "关于开展专项整治工作情况的报告\n";
  const size_t n = sections.size();
  for (size_t i = 0; i < n; ++i) {
    if (n >= 3 && i == n / 3) out += "##paidbegin##\n";
    out += sections[i];
    if (n >= 3 && i == 2 * n / 3) out += "##paidend##\n";
  }
  return out;
}

// The code points of UTF-8 text.
inline std::vector<char32_t> code_points(std::string_view s) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < s.size();) {
    char32_t c;
    i = internal::next_code_point(s, i, &c);
    out.push_back(c);
  }
  return out;
}

inline doc::Document parse_document(std::string_view source) {
  doc::ParseResult r = doc::parse(source, "test.txt");
  EXPECT_TRUE(r.ok) << r.error.to_string();
  return r.document;
}

inline gate::DocumentView view_for(const doc::Document& d, const gate::Viewer& viewer) {
  gate::GateInput in;
  in.facts = {7, Fen(500), std::nullopt, d.figures.paid_chars > 0};
  in.revision = 3;
  in.category = "工作总结";
  in.created_at = 1767225600;  // 2026-01-01
  in.updated_at = 1767312000;
  in.document = &d;
  return gate::make_view(in, viewer);
}

// A view with access (the CLI's system viewer).
inline gate::DocumentView open_view(std::string_view source) {
  return view_for(parse_document(source), gate::Viewer::system());
}

// A view without access to the paid part (anonymous reader).
inline gate::DocumentView locked_view(std::string_view source) {
  return view_for(parse_document(source), gate::Viewer::anonymous());
}

// Every entry of a zip archive, by name; empty if it is not a zip.
inline std::map<std::string, std::string> unzip(std::string_view bytes) {
  std::map<std::string, std::string> out;
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  zip_t* z = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err) : nullptr;
  zip_error_fini(&err);
  if (z == nullptr) {
    if (src) zip_source_free(src);
    return out;
  }
  for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); ++i) {
    zip_stat_t st;
    if (zip_stat_index(z, i, 0, &st) != 0) continue;
    zip_file_t* f = zip_fopen_index(z, i, 0);
    if (f == nullptr) continue;
    std::string data(st.size, '\0');
    zip_int64_t got = zip_fread(f, data.data(), st.size);
    zip_fclose(f);
    if (got == static_cast<zip_int64_t>(st.size)) out[st.name] = std::move(data);
  }
  zip_discard(z);
  return out;
}

// The concatenated w:t text of a node (a paragraph, a footer, a document).
inline std::string run_text(const pugi::xml_node& node) {
  std::string out;
  for (const pugi::xpath_node& t : node.select_nodes(".//w:t")) out += t.node().child_value();
  return out;
}

// The paragraphs (w:p) of word/document.xml, in order.
inline std::vector<pugi::xml_node> paragraphs(const pugi::xml_document& document) {
  std::vector<pugi::xml_node> out;
  for (const pugi::xpath_node& p : document.select_nodes("/w:document/w:body/w:p")) out.push_back(p.node());
  return out;
}

// Whether `text` holds `needle`.
inline bool contains(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}


// A page as grey pixels, as `pdftoppm -r 254 -gray` writes it (a binary
// PGM): 10 pixels a mm, for measuring a rendered page with a ruler.
struct Raster {
  static constexpr int kDpi = 254;
  static constexpr double kMmPerPx = 25.4 / kDpi;
  int width = 0, height = 0;
  std::string pixels;
  bool ink(int x, int y) const {
    return static_cast<unsigned char>(pixels[static_cast<size_t>(y) * width + x]) < 128;
  }
  bool row_ink(int y, int x0, int x1) const {
    for (int x = x0; x < x1; ++x)
      if (ink(x, y)) return true;
    return false;
  }
  // The first row with ink, or height.
  int first_ink_row() const {
    int y = 0;
    while (y < height && !row_ink(y, 0, width)) ++y;
    return y;
  }
  // The middle row of the first glyph (the leftmost run of ink columns) in
  // the first band of ink rows at or below row `from`: the dash of a page
  // number "— N —". -1 when there is none.
  double first_glyph_middle_row(int from, double* glyph_width_px = nullptr) const {
    int band = from;
    while (band < height && !row_ink(band, 0, width)) ++band;
    if (band >= height) return -1;
    int band_end = band;
    while (band_end < height && row_ink(band_end, 0, width)) ++band_end;
    auto column_ink = [&](int x) {
      for (int y = band; y < band_end; ++y)
        if (ink(x, y)) return true;
      return false;
    };
    int x0 = 0;
    while (x0 < width && !column_ink(x0)) ++x0;
    int x1 = x0;
    while (x1 < width && column_ink(x1)) ++x1;
    double sum = 0;
    int rows = 0;
    for (int y = band; y < band_end; ++y)
      if (row_ink(y, x0, x1)) sum += y, ++rows;
    if (glyph_width_px != nullptr) *glyph_width_px = x1 - x0;
    return rows > 0 ? sum / rows : -1;
  }
};

inline Raster read_pgm(const std::string& path) {
  Raster r;
  std::ifstream f(path, std::ios::binary);
  std::string magic;
  int maxval = 0;
  f >> magic >> r.width >> r.height >> maxval;
  f.get();
  if (!f || magic != "P5" || maxval != 255) return Raster{};
  r.pixels.resize(static_cast<size_t>(r.width) * r.height);
  f.read(r.pixels.data(), static_cast<std::streamsize>(r.pixels.size()));
  if (!f) return Raster{};
  return r;
}

}  // namespace paidoc::exporter::testing
