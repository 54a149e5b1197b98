// The PDF writer (src/export/pdf.cc): A4 pages in the Fandol fonts, the
// text layer holding the whole view and the trace mark, the line grid (28
// cells, 22 lines, 避头尾), locked views refused, and the cost of a stamp.
//
// Checked with poppler-cpp and, when installed, poppler-utils (pdftotext,
// pdffonts, pdfinfo, pdftoppm) and MuPDF's mutool (mupdf-tools). All text is
// written for these tests (a city water bureau's notice).
#include <gtest/gtest.h>
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/money.h"
#include "doc/parser.h"
#include "export/formats.h"
#include "export/layout.h"
#include "export/title.h"
#include "export_fixture.h"
#include "export/trace.h"
#include "gate/gate.h"

namespace paidoc::exporter::internal {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTitle = "关于进一步加强城乡供水安全管理工作的通知";

// Free: the opening and part one; paid: from "（二）" to before "特此通知。".
constexpr std::string_view kNotice =
    "关于进一步加强城乡供水安全管理工作的通知\n"
    "各区县水务局，市直有关单位：\n"
    "为深入贯彻落实《城镇供水条例》和《生活饮用水卫生标准》（GB 5749—2022）有关要求，切实保障"
    "城乡居民饮水安全，经研究，现就进一步加强供水安全管理工作通知如下。\n"
    "一、充分认识供水安全工作的重要性\n"
    "供水安全事关人民群众身体健康和社会大局稳定。2025年全市共排查供水设施1260处，发现隐患87处，"
    "已完成整改79处，整改率达到90.8%。各单位要坚持“人民至上、生命至上”，把供水安全摆在更加突出的位置。\n"
    "（一）压实属地管理责任。各区县要明确分管负责同志，建立“一厂一档”，做到底数清、情况明。\n"
    "##paidbegin##\n"
    "（二）强化水质监测预警\n"
    "供水单位应当按照每日、每周、每月的频次开展水质检测，出厂水浑浊度不得超过1 NTU，检测结果"
    "于次日12时前报送市水务局监管平台，发现异常的须在2小时内启动应急响应。\n"
    "二、扎实开展隐患排查整治\n"
    "1.全面排查老旧管网\n"
    "对使用年限超过30年的供水管网逐段排查，建立问题清单、责任清单、整改清单，实行销号管理。\n"
    "（1）加快二次供水设施改造\n"
    "住宅小区二次供水设施由产权单位负责日常维护，每半年至少清洗消毒一次，并向用户公示检测结果。\n"
    "三、加强组织保障\n"
    "各单位要将供水安全纳入年度目标考核，对工作不力、造成严重后果的，依法依规追究有关人员责任——"
    "绝不姑息迁就。\n"
    "##paidend##\n"
    "特此通知。\n";

// In the paid part only.
constexpr std::string_view kPaidParagraph =
    "对使用年限超过30年的供水管网逐段排查，建立问题清单、责任清单、整改清单，实行销号管理。";

doc::Document parse_or_die(std::string_view source) {
  doc::ParseResult r = doc::parse(source, "notice.txt");
  EXPECT_TRUE(r.ok) << r.error.to_string();
  return r.document;
}

gate::DocumentView view_of(const doc::Document& d, const gate::Viewer& viewer) {
  gate::GateInput in;
  in.facts = {11, Fen(800), std::nullopt, d.figures.paid_chars > 0};
  in.revision = 2;
  in.category = "通知";
  in.created_at = 1767225600;
  in.updated_at = 1767312000;
  in.document = &d;
  return gate::make_view(in, viewer);
}

// A notice of ten pages and a bit.
std::string long_notice() {
  static const char* const kNumerals[] = {"一", "二", "三", "四", "五", "六", "七", "八"};
  static const char* const kTopics[] = {"水源地保护", "制水工艺管理", "管网运行维护", "二次供水监管",
                                        "应急处置能力", "信息公开", "队伍建设", "监督考核"};
  static const char* const kSentences[] = {
      "各单位要结合本地实际，制定具体实施方案，明确时间表、路线图和责任人，确保各项措施落地见效。",
      "对排查发现的问题，要逐项建立台账，实行清单化管理，能立即整改的立即整改，不能立即整改的要制定计划限期完成。",
      "要加强与卫生健康、生态环境等部门的沟通协作，建立信息共享和联合执法机制，形成工作合力。",
      "供水单位每季度应向社会公开水质检测信息，主动接受群众监督，对群众反映的问题及时核实处理并反馈结果。",
      "要组织开展应急演练，每年不少于2次，检验预案的科学性和可操作性，提高快速响应和协同处置能力。",
  };
  std::string out = "关于做好全市城乡供水保障工作的实施意见\n";
  int s = 0;
  for (int i = 0; i < 6; ++i) {
    out += std::string(kNumerals[i]) + "、加强" + kTopics[i] + "\n";
    for (int k = 0; k < 4; ++k) {
      out += std::string("（") + kNumerals[k] + "）关于" + kTopics[(i + k) % 8] + "的具体要求\n";
      for (int p = 0; p < 2; ++p) {
        out += std::string(kSentences[s % 5]) + kSentences[(s + 2) % 5] + "\n";
        ++s;
      }
    }
    if (i == 1) out += "##paidbegin##\n";
    if (i == 4) out += "##paidend##\n";
  }
  return out;
}

struct TempDir {
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("paidoc-pdf-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

bool have_tool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command; its stdout, and *status the exit status.
std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (status) *status = rc;
  return out;
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string without_zero_width(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    char32_t c;
    size_t j = next_code_point(s, i, &c);
    if (char_class(c) != CharClass::kZeroWidth) out.append(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Text with every kind of whitespace and zero-width character removed.
std::string squeezed(std::string_view s) {
  std::string out;
  for (char c : without_zero_width(s))
    if (c != ' ' && c != '\n' && c != '\f' && c != '\r' && c != '\t') out += c;
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t from = 0;
  while (true) {
    size_t to = s.find(sep, from);
    out.emplace_back(s.substr(from, to == std::string_view::npos ? std::string_view::npos : to - from));
    if (to == std::string_view::npos) break;
    from = to + 1;
  }
  return out;
}

// "— 7 —" (pdftotext may drop the spaces).
bool is_page_number(std::string_view line) {
  std::string s = squeezed(line);
  return s.size() > 6 && s.starts_with("—") && s.ends_with("—") &&
         s.substr(3, s.size() - 6).find_first_not_of("0123456789") == std::string::npos;
}

std::string poppler_text(const poppler::ustring& u) {
  poppler::byte_array b = u.to_utf8();
  return std::string(b.begin(), b.end());
}

class PdfExport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    document_ = new doc::Document(parse_or_die(kNotice));
    auto prepared = prepare_pdf(view_of(*document_, gate::Viewer::system()));
    ASSERT_TRUE(prepared.ok()) << prepared.status().to_string();
    prepared_ = new std::shared_ptr<const Prepared>(*prepared);
    auto bytes = stamp_pdf(**prepared_, kMark);
    ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
    bytes_ = new std::string(*bytes);
    dir_ = new TempDir();
    write_file(file(), *bytes_);
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete bytes_;
    delete prepared_;
    delete document_;
  }
  static fs::path file() { return dir_->path / "notice.pdf"; }

  // pdftotext's output (UTF-8, reading order, pages split by \f).
  static std::string pdftotext() {
    int status = -1;
    std::string out = run("pdftotext -enc UTF-8 '" + file().string() + "' - 2>/dev/null", &status);
    EXPECT_EQ(status, 0);
    return out;
  }

  static constexpr Mark kMark{4242, 0x9E3779B9u, 17, 23};
  static inline doc::Document* document_ = nullptr;
  static inline std::shared_ptr<const Prepared>* prepared_ = nullptr;
  static inline std::string* bytes_ = nullptr;
  static inline TempDir* dir_ = nullptr;
};

TEST_F(PdfExport, RendersAPdf) {
  ASSERT_NE(bytes_, nullptr);
  EXPECT_EQ(bytes_->substr(0, 5), "%PDF-");
  EXPECT_NE(bytes_->find("%%EOF"), std::string::npos);
  EXPECT_EQ((*prepared_)->format(), Format::kPdf);
  EXPECT_GT((*prepared_)->bytes(), 1000u);
}

TEST_F(PdfExport, PagesAreA4) {
  std::unique_ptr<poppler::document> d(
      poppler::document::load_from_raw_data(bytes_->data(), static_cast<int>(bytes_->size())));
  ASSERT_NE(d, nullptr);
  ASSERT_GE(d->pages(), 1);
  for (int i = 0; i < d->pages(); ++i) {
    std::unique_ptr<poppler::page> page(d->create_page(i));
    ASSERT_NE(page, nullptr);
    poppler::rectf r = page->page_rect(poppler::media_box);
    EXPECT_NEAR(r.width(), 210.0 * 72 / 25.4, 0.05) << "page " << i + 1;
    EXPECT_NEAR(r.height(), 297.0 * 72 / 25.4, 0.05) << "page " << i + 1;
  }
  if (have_tool("pdfinfo")) {
    std::string info = run("pdfinfo '" + file().string() + "' 2>/dev/null");
    EXPECT_NE(info.find("(A4)"), std::string::npos) << info;
  }
}

TEST_F(PdfExport, Rasterizes) {
  if (!have_tool("pdftoppm")) GTEST_SKIP() << "pdftoppm not installed (poppler-utils)";
  int status = -1;
  std::string err = run("pdftoppm -r 30 -png -f 1 -l 1 '" + file().string() + "' '" +
                            (dir_->path / "page").string() + "' 2>&1",
                        &status);
  EXPECT_EQ(status, 0) << err;
  EXPECT_TRUE(err.empty()) << err;
  bool found = false;
  for (const auto& e : fs::directory_iterator(dir_->path))
    if (e.path().extension() == ".png" && fs::file_size(e.path()) > 100) found = true;
  EXPECT_TRUE(found);
}

TEST_F(PdfExport, TextHoldsTitleFreeAndPaidText) {
  if (!have_tool("pdftotext")) GTEST_SKIP() << "pdftotext not installed (poppler-utils)";
  const std::string text = pdftotext();
  const std::string flat = squeezed(text);
  EXPECT_NE(flat.find(kTitle), std::string::npos) << text;
  EXPECT_NE(flat.find("各区县水务局，市直有关单位："), std::string::npos);
  EXPECT_NE(flat.find(kPaidParagraph), std::string::npos) << text;
  EXPECT_NE(flat.find("一、充分认识供水安全工作的重要性"), std::string::npos);
  EXPECT_NE(flat.find("（1）加快二次供水设施改造"), std::string::npos);
  EXPECT_NE(flat.find("特此通知。"), std::string::npos);
  // Latin text keeps its spaces, and justification adds none to Chinese.
  EXPECT_NE(text.find("1 NTU"), std::string::npos);
  EXPECT_NE(text.find("GB 5749"), std::string::npos);
  for (const std::string& line : split(text, '\n')) {
    std::string l = without_zero_width(line);
    if (l.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos || is_page_number(l)) continue;
    EXPECT_EQ(l.find(' '), std::string::npos) << "space in: " << l;
  }
  // poppler-cpp sees the same text.
  std::unique_ptr<poppler::document> d(
      poppler::document::load_from_raw_data(bytes_->data(), static_cast<int>(bytes_->size())));
  std::string all;
  for (int i = 0; i < d->pages(); ++i) all += poppler_text(std::unique_ptr<poppler::page>(d->create_page(i))->text());
  EXPECT_NE(squeezed(all).find(kPaidParagraph), std::string::npos);
}

// A run-in heading was once set as a heading line without its 。 and a new
// paragraph (format.md §6.2): now the heading, its 。 and the text after it
// share the paragraph's first line.
TEST_F(PdfExport, RunInHeadingSharesItsLineWithTheText) {
  if (!have_tool("pdftotext")) GTEST_SKIP() << "pdftotext not installed (poppler-utils)";
  const std::string text = pdftotext();
  bool found = false;
  for (const std::string& line : split(text, '\n')) {
    const std::string l = squeezed(without_zero_width(line));
    if (l.find("（一）压实属地管理责任") == std::string::npos) continue;
    found = true;
    EXPECT_NE(l.find("（一）压实属地管理责任。各区县要"), std::string::npos) << l;
  }
  EXPECT_TRUE(found) << text;
}

TEST_F(PdfExport, FandolFontsEmbedded) {
  if (!have_tool("pdffonts")) GTEST_SKIP() << "pdffonts not installed (poppler-utils)";
  const std::string fonts = run("pdffonts '" + file().string() + "' 2>/dev/null");
  for (const char* name : {"FandolFang-Regular", "FandolHei-Regular", "FandolKai-Regular", "FandolSong-Regular"}) {
    bool embedded = false;
    for (const std::string& line : split(fonts, '\n'))
      if (line.find(name) != std::string::npos && line.find(" yes ") != std::string::npos) embedded = true;
    EXPECT_TRUE(embedded) << name << " in\n" << fonts;
  }
  // Every font is embedded: "emb" is the fifth column from the end.
  for (const std::string& line : split(fonts, '\n')) {
    std::vector<std::string> cols;
    for (const std::string& c : split(line, ' '))
      if (!c.empty()) cols.push_back(c);
    if (cols.size() < 6 || cols[0] == "name" || cols[0].starts_with("---")) continue;
    EXPECT_EQ(cols[cols.size() - 5], "yes") << line;
  }
}

// Each line as pdftotext reads it: at most 28 cells, no forbidden
// punctuation at its start or end, at most 22 text lines per page.
TEST_F(PdfExport, LinesKeepTheGrid) {
  if (!have_tool("pdftotext")) GTEST_SKIP() << "pdftotext not installed (poppler-utils)";
  const std::string text = pdftotext();
  int pages = 0;
  for (const std::string& page : split(text, '\f')) {
    if (squeezed(page).empty()) continue;
    ++pages;
    int lines = 0;
    bool numbered = false;
    for (const std::string& raw : split(page, '\n')) {
      std::string line = without_zero_width(raw);
      if (line.empty()) continue;
      if (is_page_number(line)) {
        EXPECT_EQ(squeezed(line), "—" + std::to_string(pages) + "—");
        numbered = true;
        continue;
      }
      ++lines;
      EXPECT_LE(text_cells(line), kCharsPerLine) << line;
      char32_t first, last = 0;
      next_code_point(line, 0, &first);
      for (size_t i = 0; i < line.size();) i = next_code_point(line, i, &last);
      EXPECT_FALSE(no_line_start(first)) << line;
      EXPECT_FALSE(no_line_end(last)) << line;
    }
    EXPECT_LE(lines, kLinesPerPage) << "page " << pages;
    EXPECT_TRUE(numbered) << "page " << pages;
  }
  EXPECT_GE(pages, 2);
}

// Text boxes, by position: inside the text block (the mark, which has no
// ink, may stick out to the right), on at most 22 baselines per page.
TEST_F(PdfExport, TextStaysInTheTextBlock) {
  std::unique_ptr<poppler::document> d(
      poppler::document::load_from_raw_data(bytes_->data(), static_cast<int>(bytes_->size())));
  const double mm = 72 / 25.4;
  const double left = 28 * mm, right = (28 + 156) * mm, top = 37 * mm;
  const double bottom = top + 22 * kLinePitchPt;
  for (int i = 0; i < d->pages(); ++i) {
    std::unique_ptr<poppler::page> page(d->create_page(i));
    std::vector<double> baselines;
    for (const poppler::text_box& box : page->text_list()) {
      const std::string t = poppler_text(box.text());
      if (without_zero_width(t).empty()) continue;  // the mark
      poppler::rectf r = box.bbox();
      if (r.y() > bottom) continue;  // the page number
      EXPECT_GE(r.x(), left - 0.5) << t;
      EXPECT_LE(r.x() + r.width(), right + 0.5) << t;
      EXPECT_GE(r.y(), top - 0.5) << t;
      double b = r.y() + r.height();
      if (std::none_of(baselines.begin(), baselines.end(), [&](double x) { return std::abs(x - b) < 3; }))
        baselines.push_back(b);
    }
    EXPECT_LE(baselines.size(), static_cast<size_t>(kLinesPerPage)) << "page " << i + 1;
  }
}

// GB/T 9704 measured on the rendered page, as with a ruler: a 41-character
// title in the lines break_title() gives (the docx's), the first line's
// characters 37 mm from the top edge (天头), the text block from 28 mm (订口)
// and 156 mm wide, the page number's dash 7 mm below the block.
TEST(PdfGeometry, MeasuresAsTheStandardAsks) {
  for (const char* tool : {"pdftoppm", "pdftotext"})
    if (!have_tool(tool)) GTEST_SKIP() << tool << " not installed (poppler-utils)";
  const std::string title =
      "中共青山县委组织部领导班子关于学习贯彻党的二十大精神专题民主生活会个人对照检查材料";
  std::string source = long_notice();
  source = title + source.substr(source.find('\n'));
  doc::Document d = parse_or_die(source);
  auto prepared = prepare_pdf(view_of(d, gate::Viewer::system()));
  ASSERT_TRUE(prepared.ok()) << prepared.status().to_string();
  auto bytes = stamp_pdf(**prepared, Mark{5, 6, 7, 8});
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  TempDir dir;
  const fs::path pdf = dir.path / "geometry.pdf";
  write_file(pdf, *bytes);

  // The title's lines, then the body.
  int status = -1;
  const std::string text = run("pdftotext -enc UTF-8 '" + pdf.string() + "' - 2>/dev/null", &status);
  ASSERT_EQ(status, 0);
  std::vector<std::string> lines;
  for (const std::string& l : split(text, '\n'))
    if (!squeezed(l).empty()) lines.push_back(squeezed(l));
  const std::vector<std::string> want = break_title(title, kTitleCharsPerLine);
  ASSERT_EQ(want.size(), 3u);
  ASSERT_GT(lines.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(lines[i], want[i]) << "title line " << i + 1;

  const double mm = 72 / 25.4;
  const double block_bottom_mm = kTopMarginMm + kLinesPerPage * kLinePitchPt / mm;
  for (int page : {1, 2}) {
    const std::string stem = (dir.path / ("page-" + std::to_string(page))).string();
    run("pdftoppm -r " + std::to_string(testing::Raster::kDpi) + " -gray -singlefile -f " +
            std::to_string(page) + " -l " + std::to_string(page) + " '" + pdf.string() + "' '" + stem + "'",
        &status);
    ASSERT_EQ(status, 0);
    const testing::Raster r = testing::read_pgm(stem + ".pgm");
    ASSERT_GT(r.height, 0);
    EXPECT_NEAR(r.first_ink_row() * r.kMmPerPx, 37.0, 1.0) << "天头 of page " << page;
    const double dash = r.first_glyph_middle_row(static_cast<int>((block_bottom_mm + 1) / r.kMmPerPx));
    ASSERT_GT(dash, 0) << "page " << page;
    EXPECT_NEAR(dash * r.kMmPerPx - block_bottom_mm, 7.0, 1.0) << "page number, page " << page;
  }

  // 订口 and width from the text boxes of the body (the mark excluded).
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes->data(), static_cast<int>(bytes->size())));
  std::unique_ptr<poppler::page> page(doc->create_page(1));
  double left = 1e9, right = 0;
  for (const poppler::text_box& box : page->text_list()) {
    if (without_zero_width(poppler_text(box.text())).empty()) continue;
    const poppler::rectf b = box.bbox();
    if (b.y() > block_bottom_mm * mm) continue;  // the page number
    left = std::min(left, b.x());
    right = std::max(right, b.x() + b.width());
  }
  EXPECT_NEAR(left / mm, 28.0, 1.0) << "订口";
  EXPECT_NEAR((right - left) / mm, 156.0, 1.0) << "text width";
}

TEST_F(PdfExport, MarkInTextAndKeywords) {
  const TracePayload want{kMark.download_id, kMark.nonce};
  // After the title, then after every third body block.
  size_t blocks = 0;
  for (const auto& b : document_->blocks) blocks += b.runs.empty() ? 0 : 1;
  const size_t copies = 1 + blocks / kMarkEveryParagraphs;
  if (have_tool("pdftotext")) {
    auto marks = decode_marks(pdftotext());
    EXPECT_EQ(marks.size(), copies);
    for (const auto& m : marks) EXPECT_EQ(m, want);
  }
  // MuPDF (optional, package mupdf-tools): another extractor, with a cap of
  // 8 characters on ToUnicode strings in older versions.
  if (have_tool("mutool")) {
    auto marks = decode_marks(run("mutool draw -q -F txt -o - '" + file().string() + "' 2>/dev/null"));
    EXPECT_EQ(marks.size(), copies);
    for (const auto& m : marks) EXPECT_EQ(m, want);
  }
  std::unique_ptr<poppler::document> d(
      poppler::document::load_from_raw_data(bytes_->data(), static_cast<int>(bytes_->size())));
  std::string all;
  for (int i = 0; i < d->pages(); ++i) all += poppler_text(std::unique_ptr<poppler::page>(d->create_page(i))->text());
  EXPECT_EQ(decode_marks(all).size(), copies);
  EXPECT_EQ(parse_metadata_mark(poppler_text(d->info_key("Keywords"))), want);
  EXPECT_EQ(poppler_text(d->info_key("Title")), kTitle);
  // The module's own reader agrees.
  auto found = trace_bytes(*bytes_);
  ASSERT_TRUE(found.ok()) << found.status().to_string();
  EXPECT_EQ(found->kind, "pdf");
  EXPECT_EQ(found->text_mark, want);
  EXPECT_EQ(found->metadata_mark, want);
}

TEST_F(PdfExport, EachStampCarriesItsOwnMark) {
  const Mark other{7, 0x01020304u, 5, 0};
  auto bytes = stamp_pdf(**prepared_, other);
  ASSERT_TRUE(bytes.ok());
  EXPECT_NE(*bytes, *bytes_);
  auto found = trace_bytes(*bytes);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->text_mark, (TracePayload{7, 0x01020304u}));
  EXPECT_EQ(found->metadata_mark, (TracePayload{7, 0x01020304u}));
}

// Stamps share the prepared document (and its fonts) across threads.
TEST_F(PdfExport, StampsInParallel) {
  constexpr int kThreads = 4;
  std::vector<std::string> out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        auto b = stamp_pdf(**prepared_, Mark{static_cast<uint32_t>(1000 + t), 77u, 0, 0});
        if (b.ok()) out[t] = *b;
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    auto found = trace_bytes(out[t]);
    ASSERT_TRUE(found.ok()) << t;
    EXPECT_EQ(found->text_mark, (TracePayload{static_cast<uint32_t>(1000 + t), 77u}));
  }
}

TEST_F(PdfExport, StampIsPure) {
  auto again = stamp_pdf(**prepared_, kMark);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *bytes_);
}

// A mark planted in the document text loses its frames: only ours decode.
TEST(PdfPlanted, TextCannotCarryAFakeMark) {
  const std::string planted = encode_mark({31337, 1});
  const std::string source = "关于规范公文格式的通知\n请各单位认真执行。" + planted + "\n特此通知。\n";
  doc::Document d = parse_or_die(source);
  auto prepared = prepare_pdf(view_of(d, gate::Viewer::system()));
  ASSERT_TRUE(prepared.ok());
  auto bytes = stamp_pdf(**prepared, Mark{8, 9, 0, 0});
  ASSERT_TRUE(bytes.ok());
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes->data(), static_cast<int>(bytes->size())));
  std::string all;
  for (int i = 0; i < doc->pages(); ++i)
    all += poppler_text(std::unique_ptr<poppler::page>(doc->create_page(i))->text());
  auto marks = decode_marks(all);
  ASSERT_FALSE(marks.empty());
  for (const auto& m : marks) EXPECT_EQ(m, (TracePayload{8, 9}));
  // The planted digits are gone too (zero-width text has no glyph to carry
  // it): the only zero-width characters are those of our marks.
  size_t zero_width = 0;
  for (size_t i = 0; i < all.size();) {
    char32_t c;
    i = next_code_point(all, i, &c);
    if (char_class(c) == CharClass::kZeroWidth) ++zero_width;
  }
  EXPECT_EQ(zero_width, marks.size() * encode_mark({8, 9}).size() / 3);
  EXPECT_NE(squeezed(all).find("请各单位认真执行。"), std::string::npos);
}

TEST(PdfLocked, LockedViewIsRefused) {
  doc::Document d = parse_or_die(kNotice);
  gate::DocumentView locked = view_of(d, gate::Viewer::anonymous());
  ASSERT_TRUE(locked.locked);
  auto prepared = prepare_pdf(locked);
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.status().code(), Code::kForbidden);
}

TEST(PdfStamp, TenPagesTiming) {
  doc::Document d = parse_or_die(long_notice());
  gate::DocumentView view = view_of(d, gate::Viewer::system());
  auto t0 = std::chrono::steady_clock::now();
  auto prepared = prepare_pdf(view);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(prepared.ok()) << prepared.status().to_string();
  constexpr int kStamps = 5;
  std::string bytes;
  for (int i = 0; i < kStamps; ++i) {
    auto b = stamp_pdf(**prepared, Mark{static_cast<uint32_t>(100 + i), 99u, 1, 2});
    ASSERT_TRUE(b.ok()) << b.status().to_string();
    bytes = *b;
  }
  auto t2 = std::chrono::steady_clock::now();
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  ASSERT_NE(doc, nullptr);
  const int pages = doc->pages();
  EXPECT_GE(pages, 10);
  const double prepare_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double stamp_ms = std::chrono::duration<double, std::milli>(t2 - t1).count() / kStamps;
  std::printf("[ timing ] pdf, %d pages, %zu bytes: prepare %.1f ms, stamp %.1f ms per download\n",
              pages, bytes.size(), prepare_ms, stamp_ms);
  EXPECT_LT(stamp_ms, 2000);  // generous: shared CI machines
  auto found = trace_bytes(bytes);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->text_mark, (TracePayload{104, 99u}));
}

}  // namespace
}  // namespace paidoc::exporter::internal
