// Fidelity: the .docx, laid out by a real word processor (LibreOffice,
// headless), comes out as the official-document page it claims to be —
// A4, at most 22 body lines of at most 28 characters per page, a centred
// title, headings in 黑体 / 楷体 and the body in 仿宋 (here their free
// stand-ins, the Fandol fonts, mapped by tests/export/fonts.conf) — and
// measures as GB/T 9704 asks with a ruler (on the rendered pixels and the
// text boxes): 天头 37 mm, 订口 28 mm, text width 156 mm, the page number's
// dash 7 mm below the text block, digits without gaps, a long title broken
// between words, the signature and date on the right (落款).
//
// Skipped, saying so, when LibreOffice or poppler-utils is not installed.
// LibreOffice's first start takes 10-20 s; the conversion is time-boxed.
#include <gtest/gtest.h>
#include <pugixml.hpp>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "export/export.h"
#include "export/formats.h"
#include "export/title.h"
#include "export_fixture.h"

namespace paidoc::exporter {
namespace {

namespace fs = std::filesystem;
using namespace testing;

constexpr int kConvertSeconds = 90;

// Runs a shell command; its stdout in *out; the exit status.
int run(const std::string& cmd, std::string* out = nullptr) {
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return -1;
  char buf[4096];
  size_t n;
  std::string s;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  int status = pclose(f);
  if (out != nullptr) *out = std::move(s);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string which(const std::string& tool) {
  std::string out;
  if (run("command -v " + tool + " 2>/dev/null", &out) != 0) return {};
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("paidoc-fidelity-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    if (std::getenv("PAIDOC_KEEP_FIDELITY") != nullptr) {
      std::cerr << "kept " << path_ << "\n";
      return;
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Width of text in body characters: CJK and full-width characters 1, ASCII
// 1/2, zero-width characters (the trace mark) 0.
double text_width(std::string_view s) {
  double w = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    std::string_view cp = s.substr(i, len);
    i += len;
    if (len == 1) {
      if (c > 0x20) w += 0.5;
    } else if (cp == "\xE2\x80\x8B" || cp == "\xE2\x80\x8C" || cp == "\xE2\x80\x8D" ||
               cp == "\xE2\x81\xA0" || cp == "\xEF\xBB\xBF") {
      // zero width
    } else {
      w += 1;
    }
  }
  return w;
}

struct Line {
  double x_min, x_max, y_min, y_max;
  std::string text;
};

// The lines of each page from `pdftotext -bbox-layout`, merged by baseline.
std::vector<std::vector<Line>> pdf_lines(const std::string& html) {
  std::vector<std::vector<Line>> pages;
  pugi::xml_document d;
  if (!d.load_string(html.c_str())) return pages;
  for (auto page : d.select_nodes("//page")) {
    std::vector<Line> lines;
    for (auto ln : page.node().select_nodes(".//line")) {
      Line l{ln.node().attribute("xMin").as_double(), ln.node().attribute("xMax").as_double(),
             ln.node().attribute("yMin").as_double(), ln.node().attribute("yMax").as_double(), ""};
      for (auto w : ln.node().children("word")) l.text += w.child_value();
      bool merged = false;
      for (Line& o : lines) {
        if (std::abs(o.y_max - l.y_max) < 3.0) {
          if (l.x_min < o.x_min) o.text = l.text + o.text;
          else o.text += l.text;
          o.x_min = std::min(o.x_min, l.x_min);
          o.x_max = std::max(o.x_max, l.x_max);
          merged = true;
          break;
        }
      }
      if (!merged) lines.push_back(l);
    }
    std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) { return a.y_min < b.y_min; });
    pages.push_back(std::move(lines));
  }
  return pages;
}

// The LibreOffice binary, or "" with *missing naming what to install.
std::string find_office(std::string* missing) {
  std::string office = which("libreoffice");
  if (office.empty()) office = which("soffice");
  if (office.empty()) {
    *missing = "libreoffice/soffice not on PATH: install libreoffice-writer-nogui to run the "
               "docx fidelity test";
    return {};
  }
  for (const char* tool : {"pdftotext", "pdffonts", "pdfinfo", "pdftoppm"}) {
    if (which(tool).empty()) {
      *missing = std::string(tool) + " not on PATH: install poppler-utils";
      return {};
    }
  }
  return office;
}

// Renders the view's docx to tmp/report.pdf with LibreOffice.
void convert(const std::string& office, const gate::DocumentView& view, const TempDir& tmp) {
  // Absolute (see CMakeLists.txt): fontconfig does not resolve a relative
  // FONTCONFIG_FILE against the working directory, and LibreOffice runs in
  // the temporary directory anyway.
  const fs::path fonts_conf = PAIDOC_FIDELITY_FONTS_CONF;
  ASSERT_TRUE(fonts_conf.is_absolute()) << fonts_conf;
  ASSERT_TRUE(fs::exists(fonts_conf)) << fonts_conf;
  auto bytes = render(view, Format::kDocx, Mark{1, 2, 3, 4});
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  const fs::path docx = tmp.path() / "report.docx";
  const fs::path pdf = tmp.path() / "report.pdf";
  std::ofstream(docx, std::ios::binary) << *bytes;
  const std::string cmd = "cd " + shell_quote(tmp.path().string()) + " && FONTCONFIG_FILE=" + shell_quote(fonts_conf.string()) +
                          " timeout " + std::to_string(kConvertSeconds) + " " + shell_quote(office) +
                          " -env:UserInstallation=file://" + (tmp.path() / "profile").string() +
                          " --headless --norestore --convert-to pdf --outdir " + shell_quote(tmp.path().string()) +
                          " " + shell_quote(docx.string()) + " 2>&1";
  std::string log;
  int rc = run(cmd, &log);
  ASSERT_EQ(rc, 0) << (rc == 124 ? "LibreOffice timed out" : "LibreOffice failed") << ":\n" << log;
  ASSERT_TRUE(fs::exists(pdf)) << log;
  // An unreadable fonts.conf does not stop LibreOffice: fontconfig says so on
  // stderr and carries on with its built-in defaults, without the Fandol fonts.
  EXPECT_EQ(log.find("Fontconfig error"), std::string::npos) << log;
}

TEST(Fidelity, LibreOfficeLaysTheDocxOutAsAnOfficialDocument) {
  std::string missing;
  const std::string office = find_office(&missing);
  if (office.empty()) GTEST_SKIP() << missing;
  // About four pages: headings of levels 1-3 and long paragraphs.
  gate::DocumentView view = open_view(long_report(2000));
  TempDir tmp;
  ASSERT_NO_FATAL_FAILURE(convert(office, view, tmp));
  const fs::path pdf = tmp.path() / "report.pdf";

  // Lines the text needs at 28 characters a line, title and its gap included.
  int lines_needed = 2;
  for (const auto& b : view.blocks)
    lines_needed += static_cast<int>(std::ceil((text_width(b.label + b.text) + 2) / 28.0));
  const int pages_expected = (lines_needed + 21) / 22;

  // A4 pages, as many as the text needs.
  std::string info;
  ASSERT_EQ(run("pdfinfo " + shell_quote(pdf.string()), &info), 0);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(info, m, std::regex(R"(Page size:\s+([\d.]+) x ([\d.]+) pts)"))) << info;
  EXPECT_NEAR(std::stod(m[1]), 595.28, 1.0);
  EXPECT_NEAR(std::stod(m[2]), 841.89, 1.0);
  ASSERT_TRUE(std::regex_search(info, m, std::regex(R"(Pages:\s+(\d+))"))) << info;
  const int pages = std::stoi(m[1]);
  EXPECT_GE(pages, 2);
  EXPECT_LE(pages, 3 * pages_expected) << "expected about " << pages_expected;

  // The fonts: 仿宋 body, 黑体 and 楷体 headings, all embedded.
  std::string fonts;
  ASSERT_EQ(run("pdffonts " + shell_quote(pdf.string()), &fonts), 0);
  for (const char* face : {"FandolFang", "FandolHei", "FandolKai"}) {
    bool embedded = false;
    std::istringstream in(fonts);
    for (std::string line; std::getline(in, line);) {
      if (line.find(face) == std::string::npos) continue;
      std::vector<std::string> cols;
      std::istringstream ls(line);
      for (std::string c; ls >> c;) cols.push_back(c);
      // name type... encoding emb sub uni object gen
      if (cols.size() >= 6 && cols[cols.size() - 5] == "yes") embedded = true;
    }
    EXPECT_TRUE(embedded) << face << " is not embedded:\n" << fonts;
  }

  // The page grid: the text block runs from 37 mm below the top edge for
  // 22 lines of 28.95 pt; inside it at most 22 lines of at most 28
  // characters (one more for punctuation hanging in the margin).
  std::string html;
  ASSERT_EQ(run("pdftotext -bbox-layout " + shell_quote(pdf.string()) + " -", &html), 0);
  auto all = pdf_lines(html);
  ASSERT_EQ(static_cast<int>(all.size()), pages);
  const double top = 37.0 / 25.4 * 72.0;            // 104.9 pt
  const double bottom = top + 22 * 28.95;            // 741.8 pt
  const double left = 28.0 / 25.4 * 72.0;            // 79.4 pt
  const double right = left + 156.0 / 25.4 * 72.0;   // 521.6 pt
  int fullest = 0;
  double widest = 0;
  for (size_t p = 0; p < all.size(); ++p) {
    int body_lines = 0;
    bool page_number = false;
    for (const Line& l : all[p]) {
      if (l.y_min >= top - 6 && l.y_max <= bottom + 6) {
        ++body_lines;
        double w = text_width(l.text);
        widest = std::max(widest, w);
        EXPECT_LE(w, 29.0) << "page " << p + 1 << ": " << l.text;
        EXPECT_GE(l.x_min, left - 2) << "page " << p + 1 << ": " << l.text;
        EXPECT_LE(l.x_max, right + 17) << "page " << p + 1 << ": " << l.text;
      } else if (l.y_min > bottom) {
        // "— N —": odd pages right, even pages left.
        page_number = true;
        EXPECT_TRUE(contains(l.text, "—" + std::to_string(p + 1) + "—") ||
                    contains(l.text, std::to_string(p + 1)))
            << l.text;
        if ((p + 1) % 2 == 1) {
          EXPECT_GT(l.x_min, 400) << "odd page number not right: " << l.text;
        } else {
          EXPECT_LT(l.x_max, 200) << "even page number not left: " << l.text;
        }
      } else {
        ADD_FAILURE() << "page " << p + 1 << ": text outside the text block: " << l.text << " y "
                      << l.y_min << ".." << l.y_max;
      }
    }
    EXPECT_TRUE(page_number) << "page " << p + 1 << " has no page number";
    EXPECT_LE(body_lines, 22) << "page " << p + 1;
    fullest = std::max(fullest, body_lines);
  }
  // The grid is used, not just respected: full pages and full lines.
  EXPECT_GE(fullest, 21);
  EXPECT_GE(widest, 27.0);

  // The title is the first line, centred in the text block.
  ASSERT_FALSE(all.empty());
  ASSERT_FALSE(all[0].empty());
  const Line& title = all[0][0];
  EXPECT_TRUE(contains(title.text, "关于开展专项整治工作情况的报告")) << title.text;
  EXPECT_NEAR((title.x_min + title.x_max) / 2, (left + right) / 2, 6.0);
}


Raster raster(const fs::path& pdf, int page, const fs::path& dir) {
  const fs::path stem = dir / ("page-" + std::to_string(page));
  const std::string n = std::to_string(page);
  if (run("pdftoppm -r " + std::to_string(Raster::kDpi) + " -gray -singlefile -f " + n + " -l " + n +
          " " + shell_quote(pdf.string()) + " " + shell_quote(stem.string())) != 0)
    return Raster{};
  return read_pgm(stem.string() + ".pgm");
}

// Text without the zero-width characters of the trace mark.
std::string visible(std::string_view s) {
  std::string out(s);
  for (const char* z : {"\xE2\x80\x8B", "\xE2\x80\x8C", "\xE2\x80\x8D", "\xE2\x81\xA0", "\xEF\xBB\xBF"})
    for (size_t at; (at = out.find(z)) != std::string::npos;) out.erase(at, 3);
  return out;
}

// A 41-character title (it used to come out as 20/20/1) over a body that
// holds digits inside Chinese text and runs to a second page.
constexpr std::string_view kLongTitle =
    "中共青山县委组织部领导班子关于学习贯彻党的二十大精神专题民主生活会个人对照检查材料";
constexpr std::string_view kDigits =
    "2024年1月15日，班子召开专题会议，对照（2）类问题逐项查摆，共梳理问题13条，已整改9条。";

TEST(Fidelity, GeometryMeasuresAsTheStandardAsks) {
  std::string missing;
  const std::string office = find_office(&missing);
  if (office.empty()) GTEST_SKIP() << missing;
  std::string source = long_report(1200);
  source = std::string(kLongTitle) + "\n" + std::string(kDigits) + "\n" + source.substr(source.find('\n') + 1);
  // The closing (format.md §6.4): a signature of 13 cells and a date of 6
  // written in Chinese numerals.
  source += "\n中共青山县委组织部领导班子\n二〇二四年三月五日\n";
  gate::DocumentView view = open_view(source);
  TempDir tmp;
  ASSERT_NO_FATAL_FAILURE(convert(office, view, tmp));
  const fs::path pdf = tmp.path() / "report.pdf";

  constexpr double kPtPerMm = 72.0 / 25.4;
  constexpr double kTolMm = 1.0;  // GB/T 9704 §5.2.1
  const double block_bottom_mm = 37.0 + 22 * 28.95 / kPtPerMm;

  std::string html;
  ASSERT_EQ(run("pdftotext -bbox-layout " + shell_quote(pdf.string()) + " -", &html), 0);
  auto pages = pdf_lines(html);
  ASSERT_GE(pages.size(), 2u);

  // The title: the lines break_title() gives, one centred line each, none a
  // single character (GB/T 9704 §7.3.1).
  const std::vector<std::string> want = internal::break_title(kLongTitle, internal::kTitleCharsPerLine);
  ASSERT_EQ(want.size(), 3u);
  ASSERT_GE(pages[0].size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(visible(pages[0][i].text), want[i]) << "title line " << i + 1;
    EXPECT_GE(text_width(visible(pages[0][i].text)), 2.0) << pages[0][i].text;
    EXPECT_NEAR((pages[0][i].x_min + pages[0][i].x_max) / 2, (28.0 + 78.0) * kPtPerMm, 6.0)
        << "title line " << i + 1 << " not centred";
  }

  // Digits sit in the Chinese text without the half-cell gaps a character
  // grid leaves ("2024年1 月", "（2 ）"). LibreOffice still sets its own
  // script spacing (a fifth of the line height, 1.35 mm) between Chinese and
  // digits: its docx import ignores w:autoSpaceDE/DN, which Word honours. So
  // a gap must stay below half a cell (2.8 mm), and none is allowed beside
  // full-width punctuation.
  std::string text;
  ASSERT_EQ(run("pdftotext -enc UTF-8 " + shell_quote(pdf.string()) + " -", &text), 0);
  text = visible(text);
  EXPECT_TRUE(contains(text, "对照（2）类问题")) << text.substr(0, 600);
  {
    pugi::xml_document d;
    ASSERT_TRUE(d.load_string(html.c_str()));
    int digit_words = 0;
    for (auto ln : d.select_nodes("//line")) {
      // Body lines only: the page number "— N —" has spaces of its own.
      if (ln.node().attribute("yMax").as_double() > block_bottom_mm * kPtPerMm) continue;
      std::vector<pugi::xml_node> words;
      for (auto w : ln.node().children("word")) words.push_back(w);
      for (size_t i = 0; i < words.size(); ++i) {
        const std::string t = words[i].child_value();
        if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos) continue;
        ++digit_words;
        const double x0 = words[i].attribute("xMin").as_double();
        const double x1 = words[i].attribute("xMax").as_double();
        if (i > 0) {
          EXPECT_LT((x0 - words[i - 1].attribute("xMax").as_double()) / kPtPerMm, 1.6)
              << "gap before " << t << " after " << words[i - 1].child_value();
        }
        if (i + 1 < words.size()) {
          EXPECT_LT((words[i + 1].attribute("xMin").as_double() - x1) / kPtPerMm, 1.6)
              << "gap after " << t << " before " << words[i + 1].child_value();
        }
      }
    }
    EXPECT_GE(digit_words, 4);  // 2024, 1, 15, 13, 9 and the report's counts
  }

  // 天头: the first line's characters start 37 mm below the top edge, on
  // the title page and on a page of body text.
  for (int page : {1, 2}) {
    Raster r = raster(pdf, page, tmp.path());
    ASSERT_GT(r.height, 0) << "page " << page;
    EXPECT_NEAR(r.first_ink_row() * Raster::kMmPerPx, 37.0, kTolMm) << "天头 of page " << page;

    // The page number's dash (its first glyph, "—") 7 mm below the text
    // block's lower edge (§7.5).
    double dash_width = 0;
    const double dash = r.first_glyph_middle_row(
        static_cast<int>((block_bottom_mm + 1.0) / Raster::kMmPerPx), &dash_width);
    ASSERT_GT(dash, 0) << "page " << page << " has no page number";
    EXPECT_GT(dash_width * Raster::kMmPerPx, 3.0) << "the first glyph is not the dash";
    EXPECT_NEAR(dash * Raster::kMmPerPx - block_bottom_mm, 7.0, kTolMm)
        << "page number dash below the text block, page " << page;
  }

  // 订口 28 mm and a text width of 156 mm, from the text boxes of body
  // lines: their left edge, and the right edge most full lines reach
  // (punctuation may hang beyond it).
  double left = 1e9;
  std::vector<double> rights;
  for (size_t p = 0; p < pages.size(); ++p) {
    for (const Line& l : pages[p]) {
      if (l.y_min < 36.0 * kPtPerMm || l.y_max > block_bottom_mm * kPtPerMm + 6) continue;
      if (p == 0 && &l < &pages[0][want.size()]) continue;  // the title
      left = std::min(left, l.x_min);
      if (text_width(visible(l.text)) >= 26.0) rights.push_back(l.x_max);
    }
  }
  ASSERT_GE(rights.size(), 5u);
  std::sort(rights.begin(), rights.end());
  const double right = rights[rights.size() / 2];
  EXPECT_NEAR(left / kPtPerMm, 28.0, kTolMm) << "订口";
  EXPECT_NEAR((right - left) / kPtPerMm, 156.0, kTolMm) << "text width";

  // 落款 (GB/T 9704 §7.3.5): the signature ends 2 characters from the right
  // edge, the date (in Arabic numerals) starts 2 characters right of the
  // signature's start, on the next line.
  const double cell_mm = 156.0 / 28;
  const Line* sign = nullptr;
  const Line* date = nullptr;
  for (const Line& l : pages.back()) {
    if (visible(l.text) == "中共青山县委组织部领导班子") sign = &l;
    if (contains(visible(l.text), "2024") && contains(visible(l.text), "3") &&
        contains(visible(l.text), "5日"))
      date = &l;
  }
  ASSERT_NE(sign, nullptr) << "no signature line on the last page";
  ASSERT_NE(date, nullptr) << "no date line in Arabic numerals on the last page";
  EXPECT_NEAR((right - sign->x_max) / kPtPerMm, 2 * cell_mm, kTolMm) << "signature from the right edge";
  EXPECT_NEAR((date->x_min - sign->x_min) / kPtPerMm, 2 * cell_mm, kTolMm) << "date under the signature";
  EXPECT_NEAR(date->y_min - sign->y_min, 28.95, 2.0) << "the date is on the next line";
}

}  // namespace
}  // namespace paidoc::exporter
