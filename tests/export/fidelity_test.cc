// Fidelity: the .docx, laid out by a real word processor (LibreOffice,
// headless), comes out as the official-document page it claims to be —
// A4, at most 22 body lines of at most 28 characters per page, a centred
// title, headings in 黑体 / 楷体 and the body in 仿宋 (here their free
// stand-ins, the Fandol fonts, mapped by tests/export/fonts.conf).
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

TEST(Fidelity, LibreOfficeLaysTheDocxOutAsAnOfficialDocument) {
  std::string office = which("libreoffice");
  if (office.empty()) office = which("soffice");
  if (office.empty())
    GTEST_SKIP() << "libreoffice/soffice not on PATH: install libreoffice-writer-nogui to run the "
                    "docx fidelity test";
  for (const char* tool : {"pdftotext", "pdffonts", "pdfinfo"}) {
    if (which(tool).empty()) GTEST_SKIP() << tool << " not on PATH: install poppler-utils";
  }
  // Absolute (see CMakeLists.txt): fontconfig does not resolve a relative
  // FONTCONFIG_FILE against the working directory, and LibreOffice runs in
  // the temporary directory anyway.
  const fs::path fonts_conf = PAIDOC_FIDELITY_FONTS_CONF;
  ASSERT_TRUE(fonts_conf.is_absolute()) << fonts_conf;
  ASSERT_TRUE(fs::exists(fonts_conf)) << fonts_conf;

  // About four pages: headings of levels 1-3 and long paragraphs.
  gate::DocumentView view = open_view(long_report(2000));
  auto bytes = render(view, Format::kDocx, Mark{1, 2, 3, 4});
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  TempDir tmp;
  const fs::path docx = tmp.path() / "report.docx";
  const fs::path pdf = tmp.path() / "report.pdf";
  std::ofstream(docx, std::ios::binary) << *bytes;

  // Lines the text needs at 28 characters a line, title and its gap included.
  int lines_needed = 2;
  for (const auto& b : view.blocks)
    lines_needed += static_cast<int>(std::ceil((text_width(b.label + b.text) + 2) / 28.0));
  const int pages_expected = (lines_needed + 21) / 22;

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

  // The page grid: the text block runs from 37 mm below the top edge to
  // 2002 twips above the bottom; inside it at most 22 lines of at most 28
  // characters (one more for punctuation hanging in the margin).
  std::string html;
  ASSERT_EQ(run("pdftotext -bbox-layout " + shell_quote(pdf.string()) + " -", &html), 0);
  auto all = pdf_lines(html);
  ASSERT_EQ(static_cast<int>(all.size()), pages);
  const double top = 37.0 / 25.4 * 72.0;           // 104.9 pt
  const double bottom = 841.89 - 2002.0 / 20.0;     // 741.8 pt
  const double left = 27.0 / 25.4 * 72.0;           // 76.5 pt
  const double right = 595.28 - 24.9 / 25.4 * 72.0; // 524.7 pt
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

}  // namespace
}  // namespace paidoc::exporter
