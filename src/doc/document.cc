#include "doc/document.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace paidoc::doc {

bool Block::has_paid() const {
  for (const auto& r : runs)
    if (r.paid && !r.text.empty()) return true;
  return false;
}

bool Block::has_free() const {
  for (const auto& r : runs)
    if (!r.paid && !r.text.empty()) return true;
  return false;
}

std::string Block::full_text() const {
  std::string s;
  for (const auto& r : runs) s += r.text;
  return s;
}

bool spaced_label(std::string_view label) {
  if (!label.starts_with("第")) return false;
  for (std::string_view part : {"编", "部分", "章", "节", "条"})
    if (label.ends_with(part)) return true;
  return false;
}

int64_t count_chars(std::string_view s) {
  int64_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    // U+3000 IDEOGRAPHIC SPACE = E3 80 80
    if (c == 0xE3 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        static_cast<unsigned char>(s[i + 2]) == 0x80)
      continue;
    ++n;
  }
  return n;
}

void compute_figures(Document& d) {
  Figures f;
  f.paid_sections = d.figures.paid_sections;
  // A run-in block is part of its heading's paragraph: the pair counts once
  // on each side it has text on.
  bool any_free = false;
  bool any_paid = false;
  auto close_paragraph = [&] {
    if (any_free) ++f.free_paragraphs;
    if (any_paid) ++f.paid_paragraphs;
    any_free = any_paid = false;
  };
  for (const auto& b : d.blocks) {
    if (!b.run_in) close_paragraph();
    bool label_paid = !b.runs.empty() && b.runs.front().paid;
    int64_t label_chars = count_chars(b.label);
    (label_paid ? f.paid_chars : f.free_chars) += label_chars;
    any_free = any_free || (label_chars > 0 && !label_paid);
    any_paid = any_paid || (label_chars > 0 && label_paid);
    for (const auto& r : b.runs) {
      int64_t n = count_chars(r.text);
      if (n == 0) continue;
      if (r.paid) {
        f.paid_chars += n;
        any_paid = true;
      } else {
        f.free_chars += n;
        any_free = true;
      }
    }
  }
  close_paragraph();
  d.figures = f;
}

namespace {

const char* closing_code(Closing c) {
  switch (c) {
    case Closing::kAttachment:
      return "a";
    case Closing::kSignature:
      return "s";
    case Closing::kDate:
      return "d";
    case Closing::kNone:
      break;
  }
  return "";
}

Closing closing_of(std::string_view code) {
  if (code == "a") return Closing::kAttachment;
  if (code == "s") return Closing::kSignature;
  if (code == "d") return Closing::kDate;
  return Closing::kNone;
}

// Decodes the code point at s[i] and advances i; 0 at the end.
char32_t next_char(std::string_view s, size_t& i) {
  if (i >= s.size()) return 0;
  const auto lead = static_cast<unsigned char>(s[i]);
  const size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  char32_t c = len == 1 ? lead : lead & (0x7F >> len);
  for (size_t k = 1; k < len && i + k < s.size(); ++k)
    c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return c;
}

int arabic_digit(char32_t c) {
  if (c >= U'0' && c <= U'9') return static_cast<int>(c - U'0');
  if (c >= U'０' && c <= U'９') return static_cast<int>(c - U'０');
  return -1;
}

int chinese_digit(char32_t c) {
  constexpr std::u32string_view kDigits = U"〇一二三四五六七八九";
  if (c == U'零') return 0;
  const size_t at = kDigits.find(c);
  return at == std::u32string_view::npos ? -1 : static_cast<int>(at);
}

// A month or day: one or two Arabic digits, or a Chinese numeral 1..39
// (d, 十, 十d, d十, d十d). -1 when it is neither.
int read_small_number(const std::u32string& s) {
  if (s.empty() || s.size() > 3) return -1;
  if (arabic_digit(s[0]) >= 0) {
    if (s.size() > 2) return -1;
    int n = 0;
    for (char32_t c : s) {
      if (arabic_digit(c) < 0) return -1;
      n = n * 10 + arabic_digit(c);
    }
    return n;
  }
  const size_t ten = s.find(U'十');
  if (ten == std::u32string::npos) return s.size() == 1 && chinese_digit(s[0]) > 0 ? chinese_digit(s[0]) : -1;
  int tens = 1;
  if (ten == 1) {
    tens = chinese_digit(s[0]);
    if (tens < 2) return -1;
  } else if (ten != 0) {
    return -1;
  }
  int units = 0;
  if (ten + 1 < s.size()) {
    if (ten + 2 != s.size()) return -1;
    units = chinese_digit(s[ten + 1]);
    if (units < 1) return -1;
  }
  return tens * 10 + units;
}

}  // namespace

ClosingPlaces place_closing(const std::vector<double>& signature_cells, double date_cells,
                            double line_cells) {
  constexpr double kEdge = 2;   // cells kept from the right edge
  constexpr double kShift = 2;  // the date starts this far right of the signature
  ClosingPlaces p;
  double longest = 0;
  for (double w : signature_cells) longest = std::max(longest, w);
  if (signature_cells.empty()) {
    p.date_start = line_cells - kEdge - date_cells;
  } else {
    p.signature_start = line_cells - kEdge - longest;
    p.date_start = p.signature_start + kShift;
    if (p.date_start + date_cells > line_cells - kEdge) {
      p.date_start = line_cells - kEdge - date_cells;
      p.signature_start = p.date_start - kShift;
    }
  }
  p.signature_start = std::max(0.0, p.signature_start);
  p.date_start = std::max(0.0, p.date_start);
  return p;
}

double grid_cells(std::string_view text) {
  double cells = 0;
  for (size_t i = 0; i < text.size();) cells += next_char(text, i) < 0x80 ? 0.5 : 1;
  return cells;
}

std::optional<std::string> official_date(std::string_view text) {
  std::u32string parts[3];
  int part = 0;
  constexpr char32_t kUnits[] = {U'年', U'月', U'日'};
  size_t i = 0;
  bool seen = false;
  while (i < text.size()) {
    const char32_t c = next_char(text, i);
    if (c == U' ' || c == U'\t' || c == U'\u3000') {
      if (seen && part < 3) return std::nullopt;  // no whitespace inside the date
      continue;
    }
    if (part == 3) return std::nullopt;  // something after 日
    seen = true;
    if (c == kUnits[part]) {
      if (parts[part].empty()) return std::nullopt;
      ++part;
      continue;
    }
    parts[part] += c;
  }
  if (part != 3) return std::nullopt;
  // The year: four digits of one script.
  const std::u32string& y = parts[0];
  if (y.size() != 4) return std::nullopt;
  std::string year;
  const bool arabic = arabic_digit(y[0]) >= 0;
  for (char32_t c : y) {
    const int d = arabic ? arabic_digit(c) : chinese_digit(c);
    if (d < 0) return std::nullopt;
    year += static_cast<char>('0' + d);
  }
  const int month = read_small_number(parts[1]);
  const int day = read_small_number(parts[2]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  return year + "年" + std::to_string(month) + "月" + std::to_string(day) + "日";
}

void to_json(nlohmann::json& j, const Document& d) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& b : d.blocks) {
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& r : b.runs) runs.push_back({{"t", r.text}, {"p", r.paid}});
    nlohmann::json jb = {{"k", b.kind == BlockKind::kHeading ? "h" : "p"},
                         {"lv", b.level},
                         {"lb", b.label},
                         {"ln", b.line},
                         {"in", b.indent},
                         {"r", std::move(runs)}};
    if (b.run_in) jb["ri"] = true;
    if (b.closing != Closing::kNone) jb["cl"] = closing_code(b.closing);
    blocks.push_back(std::move(jb));
  }
  j = {{"title", d.title},
       {"encoding", d.source_encoding},
       {"paid_sections", d.figures.paid_sections},
       {"blocks", std::move(blocks)}};
}

void from_json(const nlohmann::json& j, Document& d) {
  d = Document{};
  d.title = j.at("title").get<std::string>();
  d.source_encoding = j.value("encoding", "");
  d.figures.paid_sections = j.value("paid_sections", 0);
  for (const auto& jb : j.at("blocks")) {
    Block b;
    b.kind = jb.at("k").get<std::string>() == "h" ? BlockKind::kHeading : BlockKind::kParagraph;
    b.level = jb.value("lv", 0);
    b.label = jb.value("lb", "");
    b.line = jb.value("ln", 0);
    b.indent = jb.value("in", 0);
    b.run_in = jb.value("ri", false);
    b.closing = closing_of(jb.value("cl", ""));
    for (const auto& jr : jb.at("r")) b.runs.push_back({jr.at("t").get<std::string>(), jr.at("p").get<bool>()});
    d.blocks.push_back(std::move(b));
  }
  compute_figures(d);
}

}  // namespace paidoc::doc
