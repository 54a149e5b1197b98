// The source parser: docs/format.md §2-§8. Decoding (§1) is in encoding.cc.
//
// parse() decodes the bytes, splits them into lines and hands each line to a
// Parser, which tracks the free/paid state across lines, takes the title and
// turns every further line into blocks. The first error stops everything.
#include "doc/parser.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paidoc::doc {
namespace {

// ---------------------------------------------------------------------------
// UTF-8 helpers. The text has been decoded and validated, so sequences are
// well formed.

size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

int count_code_points(std::string_view s) {
  int n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// Reads code points of a UTF-8 string one at a time; peek() is 0 at the end.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  size_t offset() const { return pos_; }
  bool at_end() const { return pos_ >= s_.size(); }
  char32_t peek() const { return at_end() ? 0 : decode(pos_, nullptr); }
  char32_t next() {
    if (at_end()) return 0;
    size_t len = 0;
    char32_t c = decode(pos_, &len);
    pos_ += len;
    return c;
  }
  bool eat(char32_t c) {
    if (at_end() || peek() != c) return false;
    next();
    return true;
  }

 private:
  char32_t decode(size_t i, size_t* len_out) const {
    const auto lead = static_cast<unsigned char>(s_[i]);
    const size_t len = std::min(sequence_length(lead), s_.size() - i);
    char32_t c = len == 1 ? lead : lead & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) c = (c << 6) | (static_cast<unsigned char>(s_[i + k]) & 0x3F);
    if (len_out != nullptr) *len_out = len;
    return c;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// format.md "Terms": whitespace is U+0020, U+0009 and U+3000. Indentation
// widths are those of Block.indent (§5).
constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";
constexpr int kSpaceWidth = 1;
constexpr int kIdeographicSpaceWidth = 2;
constexpr int kTabWidth = 4;

// Byte length of the whitespace character at s[i] (0 if there is none) and
// its indentation width.
size_t whitespace_at(std::string_view s, size_t i, int* width = nullptr) {
  int w = 0;
  size_t len = 0;
  if (i < s.size() && s[i] == ' ') {
    w = kSpaceWidth, len = 1;
  } else if (i < s.size() && s[i] == '\t') {
    w = kTabWidth, len = 1;
  } else if (s.substr(i, kIdeographicSpace.size()) == kIdeographicSpace) {
    w = kIdeographicSpaceWidth, len = kIdeographicSpace.size();
  }
  if (width != nullptr) *width = w;
  return len;
}

// Offset of the first non-whitespace byte at or after `from`; adds the
// indentation width of what it skips to *width when given.
size_t skip_whitespace(std::string_view s, size_t from, int* width = nullptr) {
  size_t i = from;
  int w = 0;
  while (size_t len = whitespace_at(s, i, &w)) {
    if (width != nullptr) *width += w;
    i += len;
  }
  return i;
}

// End of s[from, to) with trailing whitespace removed.
size_t trim_trailing(std::string_view s, size_t from, size_t to) {
  while (to > from) {
    if (s[to - 1] == ' ' || s[to - 1] == '\t') {
      --to;
    } else if (to - from >= kIdeographicSpace.size() &&
               s.substr(to - kIdeographicSpace.size(), kIdeographicSpace.size()) ==
                   kIdeographicSpace) {
      to -= kIdeographicSpace.size();
    } else {
      break;
    }
  }
  return to;
}

bool has_content(std::string_view s) { return skip_whitespace(s, 0) < s.size(); }

// ---------------------------------------------------------------------------
// format.md §2 Lines: LF, CRLF or a lone CR end a line.

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    lines.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

// ---------------------------------------------------------------------------
// format.md §4.1 Marker spellings, matched ASCII-case-insensitively.

enum class MarkerKind { kOpen, kClose };

struct MarkerSpelling {
  std::string_view text;
  MarkerKind kind;
};

constexpr MarkerSpelling kMarkerSpellings[] = {
    {"##paidbegin##", MarkerKind::kOpen},
    {"##paidend##", MarkerKind::kClose},
    {"$$paidbegin$$", MarkerKind::kOpen},
    {"$$paidend$$", MarkerKind::kClose},
};

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_ignore_case(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (ascii_lower(s[i]) != prefix[i]) return false;
  return true;
}

const MarkerSpelling* marker_at(std::string_view line, size_t i) {
  for (const auto& m : kMarkerSpellings)
    if (starts_with_ignore_case(line.substr(i), m.text)) return &m;
  return nullptr;
}

// A line cut at its markers: a text piece, or a marker with its column.
struct Piece {
  std::string_view text;  // the text, or the marker as written
  std::optional<MarkerKind> marker;
  int column = 0;     // 1-based code-point column of a marker
  size_t offset = 0;  // byte offset of the piece in its line
};

std::vector<Piece> split_at_markers(std::string_view line) {
  std::vector<Piece> pieces;
  size_t text_start = 0;
  size_t i = 0;
  while (i < line.size()) {
    const MarkerSpelling* m = (line[i] == '#' || line[i] == '$') ? marker_at(line, i) : nullptr;
    if (m == nullptr) {
      ++i;
      continue;
    }
    if (i > text_start)
      pieces.push_back({line.substr(text_start, i - text_start), {}, 0, text_start});
    pieces.push_back(
        {line.substr(i, m->text.size()), m->kind, count_code_points(line.substr(0, i)) + 1, i});
    i += m->text.size();
    text_start = i;
  }
  if (text_start < line.size())
    pieces.push_back({line.substr(text_start), {}, 0, text_start});
  return pieces;
}

// ---------------------------------------------------------------------------
// format.md §4.4 Near-miss markers: text that was meant as a marker but is not
// one. Only text pieces are searched, so a real marker is never a near miss.
//
// A near miss is a run of delimiters (# ＃ $ ＄), optional whitespace, the
// word "paid" and "begin" or "end" (ASCII, any case), then optional
// whitespace and another run of delimiters. When the word is written as one
// token (`paidbegin`, `paid_begin`, `paid-end`) the closing delimiters may
// be missing (`##paidbegin`); "paid begin" with a space needs delimiters on
// both sides, so a Markdown heading such as `## Paid begins here` is text.

struct NearMiss {
  size_t begin = 0;  // byte offsets in the piece
  size_t end = 0;
  MarkerKind kind = MarkerKind::kOpen;
};

// Byte length of a delimiter character at s[i], or 0.
size_t delimiter_at(std::string_view s, size_t i) {
  if (i < s.size() && (s[i] == '#' || s[i] == '$')) return 1;
  constexpr std::string_view kFullWidth[] = {"\xEF\xBC\x83", "\xEF\xBC\x84"};  // ＃ ＄
  for (std::string_view d : kFullWidth)
    if (s.substr(i, d.size()) == d) return d.size();
  return 0;
}

size_t skip_delimiters(std::string_view s, size_t i) {
  while (size_t len = delimiter_at(s, i)) i += len;
  return i;
}

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A near miss whose delimiters start at s[i].
std::optional<NearMiss> near_miss_at(std::string_view s, size_t i) {
  size_t p = skip_delimiters(s, i);
  if (p == i) return std::nullopt;
  p = skip_whitespace(s, p);
  if (!starts_with_ignore_case(s.substr(p), "paid")) return std::nullopt;
  p += 4;
  bool spaced = false;
  if (p < s.size() && (s[p] == '_' || s[p] == '-')) {
    ++p;
  } else if (whitespace_at(s, p) > 0) {
    p = skip_whitespace(s, p);
    spaced = true;
  }
  MarkerKind kind;
  if (starts_with_ignore_case(s.substr(p), "begin")) {
    kind = MarkerKind::kOpen;
    p += 5;
  } else if (starts_with_ignore_case(s.substr(p), "end")) {
    kind = MarkerKind::kClose;
    p += 3;
  } else {
    return std::nullopt;
  }
  if (p < s.size() && is_ascii_alnum(s[p])) return std::nullopt;  // "paid endless"
  const size_t word_end = p;
  const size_t close = skip_whitespace(s, word_end);
  const size_t close_end = skip_delimiters(s, close);
  if (close_end > close) return NearMiss{i, close_end, kind};
  if (spaced) return std::nullopt;
  return NearMiss{i, word_end, kind};
}

// The leftmost near miss in a text piece.
std::optional<NearMiss> find_near_miss(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (delimiter_at(s, i) == 0) {
      ++i;
      continue;
    }
    if (auto m = near_miss_at(s, i)) return m;
    i = skip_delimiters(s, i);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Runs of one line (format.md §4.2): empty runs are dropped, neighbours on
// the same side joined. Offsets below are byte offsets into the runs' joined
// text.

void append_run(std::vector<Run>& runs, std::string_view text, bool paid) {
  if (text.empty()) return;
  if (!runs.empty() && runs.back().paid == paid) {
    runs.back().text += text;
  } else {
    runs.push_back({std::string(text), paid});
  }
}

std::string joined(const std::vector<Run>& runs) {
  std::string s;
  for (const auto& r : runs) s += r.text;
  return s;
}

// The runs covering joined-text bytes [begin, end).
std::vector<Run> slice(const std::vector<Run>& runs, size_t begin, size_t end) {
  std::vector<Run> out;
  size_t offset = 0;
  for (const auto& r : runs) {
    const size_t from = std::max(begin, offset);
    const size_t to = std::min(end, offset + r.text.size());
    if (from < to)
      append_run(out, std::string_view(r.text).substr(from - offset, to - from), r.paid);
    offset += r.text.size();
  }
  return out;
}

// ---------------------------------------------------------------------------
// format.md §6.1 Heading numbering (GB/T 9704-2012 §7.3.3).

constexpr int kLevelChineseNumeral = 1;        // 一、
constexpr int kLevelBracketedChinese = 2;      // （一）
constexpr int kLevelArabicDot = 3;             // 1. 1． 2、
constexpr int kLevelBracketedArabic = 4;       // （1） ⑴ ①
constexpr int kMaxArabicDigits = 3;            // §6.1 "Arabic number"
constexpr size_t kMaxChineseNumeralChars = 3;  // 1..99: 九十九

// §6.1 "第 labels": ranks of the parts a 第 label names; the levels follow
// from the ranks a document uses (Parser::level_part_labels).
constexpr int kRankVolume = 0;   // 第X编, 第X部分
constexpr int kRankChapter = 1;  // 第X章
constexpr int kRankSection = 2;  // 第X节
constexpr int kRankArticle = 3;  // 第X条, in a regulation only
constexpr int kRankCount = 4;

constexpr char32_t kEnumerationComma = U'、';
constexpr std::string_view kFullStopUtf8 = "\xE3\x80\x82";  // 。

int chinese_digit(char32_t c) {
  constexpr std::u32string_view kDigits = U"一二三四五六七八九";
  const size_t i = kDigits.find(c);
  return i == std::u32string_view::npos ? 0 : static_cast<int>(i) + 1;
}

// §6.1 "A number that goes on": the Chinese digits a number may continue with.
bool continues_chinese_number(char32_t c) {
  return std::u32string_view(U"零〇一二三四五六七八九十百千两").find(c) != std::u32string_view::npos;
}

bool is_arabic_digit(char32_t c) { return (c >= U'0' && c <= U'9') || (c >= U'０' && c <= U'９'); }

bool is_open_bracket(char32_t c) { return c == U'（' || c == U'('; }
bool is_close_bracket(char32_t c) { return c == U'）' || c == U')'; }

// ⑴…⒇ and ①…⑳: one character each.
bool is_enclosed_number(char32_t c) {
  return (c >= U'\u2474' && c <= U'\u2487') || (c >= U'\u2460' && c <= U'\u2473');
}

// A Chinese numeral 1..99 in normal form: d, 十, 十d, d十, d十d (d = 一..九,
// and 一十 is not normal).
bool read_chinese_numeral(Reader& r) {
  std::u32string n;
  while (n.size() < kMaxChineseNumeralChars && (chinese_digit(r.peek()) || r.peek() == U'十'))
    n += r.next();
  auto d = [&](size_t i) { return i < n.size() && chinese_digit(n[i]) != 0; };
  auto ten = [&](size_t i) { return i < n.size() && n[i] == U'十'; };
  switch (n.size()) {
    case 1:
      return d(0) || ten(0);
    case 2:
      return (ten(0) && d(1)) || (d(0) && chinese_digit(n[0]) > 1 && ten(1));
    case 3:
      return d(0) && chinese_digit(n[0]) > 1 && ten(1) && d(2);
    default:
      return false;
  }
}

bool read_arabic_number(Reader& r) {
  int count = 0;
  while (is_arabic_digit(r.peek())) {
    r.next();
    if (++count > kMaxArabicDigits) return false;
  }
  return count > 0;
}

// 第 + number + 编/部分/章/节, and 条 in a regulation: the part's rank, or
// -1. In a regulation the label stands alone; elsewhere whitespace must
// follow it (§6.1). 第X款 is never a heading label.
int read_part_label(std::string_view text, Reader& r, bool regulation) {
  constexpr std::u32string_view kNumeralChars = U"零〇一二三四五六七八九十百千";
  if (!r.eat(U'第')) return -1;
  if (is_arabic_digit(r.peek())) {
    if (!read_arabic_number(r)) return -1;
  } else {
    const size_t start = r.offset();
    while (kNumeralChars.find(r.peek()) != std::u32string_view::npos) r.next();
    if (r.offset() == start) return -1;
  }
  int rank = -1;
  if (r.eat(U'编')) {
    rank = kRankVolume;
  } else if (r.eat(U'部')) {
    if (r.eat(U'分')) rank = kRankVolume;
  } else if (r.eat(U'章')) {
    rank = kRankChapter;
  } else if (r.eat(U'节')) {
    rank = kRankSection;
  } else if (regulation && r.eat(U'条')) {
    rank = kRankArticle;
  }
  if (rank < 0) return -1;
  if (!regulation && whitespace_at(text, r.offset()) == 0) return -1;
  return rank;
}

// 一、 / （一） / 1. / 2、 / （1） / ⑴ / ①: the level, or 0. A label that a
// digit of its own script follows is not one (§6.1 "A number that goes on").
int read_numbered_label(Reader& r) {
  const char32_t first = r.peek();
  if (is_enclosed_number(first)) {
    r.next();
    return is_arabic_digit(r.peek()) ? 0 : kLevelBracketedArabic;
  }
  if (is_open_bracket(first)) {
    r.next();
    Reader chinese = r;
    if (read_chinese_numeral(chinese) && is_close_bracket(chinese.next())) {
      r = chinese;
      return continues_chinese_number(r.peek()) ? 0 : kLevelBracketedChinese;
    }
    if (read_arabic_number(r) && is_close_bracket(r.next()))
      return is_arabic_digit(r.peek()) ? 0 : kLevelBracketedArabic;
    return 0;
  }
  if (is_arabic_digit(first)) {
    if (!read_arabic_number(r)) return 0;
    if (!r.eat(U'.') && !r.eat(U'．') && !r.eat(kEnumerationComma)) return 0;
    return is_arabic_digit(r.peek()) ? 0 : kLevelArabicDot;  // "1.5亿元", "2、3号楼"
  }
  if (read_chinese_numeral(r) && r.eat(kEnumerationComma))
    return continues_chinese_number(r.peek()) ? 0 : kLevelChineseNumeral;  // "三、四月份"
  return 0;
}

// §6.4.
constexpr int kMaxSignatureLines = 2;
constexpr int64_t kMaxSignatureChars = 20;
constexpr size_t kMaxAttachmentLines = 20;

bool one_side(const Block& b) {
  if (b.runs.empty()) return false;
  for (const Run& r : b.runs)
    if (r.paid != b.runs.front().paid) return false;
  return true;
}

// A paragraph that may take a closing role: wholly free or wholly paid, not
// run-in, not a heading.
bool closing_paragraph(const Block& b) {
  return b.kind == BlockKind::kParagraph && !b.run_in && one_side(b);
}

bool signature_text(std::string_view text) {
  if (count_chars(text) > kMaxSignatureChars || text.starts_with("附件")) return false;
  for (std::string_view p : {"。", "，", "；", "、", "！", "？"})
    if (text.find(p) != std::string_view::npos) return false;
  return true;
}

bool starts_attachment_note(std::string_view text) {
  return text.starts_with("附件：") || text.starts_with("附件:");
}

// Appends r, joining it to the last run when it is on the same side.
void append_run(std::vector<Run>& runs, const Run& r) {
  if (r.text.empty()) return;
  if (!runs.empty() && runs.back().paid == r.paid)
    runs.back().text += r.text;
  else
    runs.push_back(r);
}

// §6.2: the characters that end a heading, and the brackets and quotes
// inside which they do not.
constexpr std::u32string_view kHeadingTerminators = U"。？！：";
constexpr std::u32string_view kOpeners = U"“‘「『《〈（(【〔";
constexpr std::u32string_view kClosers = U"”’」』》〉）)】〕";

// Byte length of the terminator at text[i], or 0.
size_t terminator_at(std::string_view text, size_t i) {
  Reader r(text.substr(i));
  return kHeadingTerminators.find(r.next()) != std::u32string_view::npos ? r.offset() : 0;
}

// §6.2: the offset of the terminator that ends a heading whose text starts at
// `from`: the first one outside brackets and quotes, or, when a bracket or
// quote opened in the heading is still open at the line's end, the first one
// anywhere. npos when there is none (the heading runs to the line's end).
size_t heading_end(std::string_view text, size_t from) {
  Reader r(text.substr(from));
  size_t first = std::string_view::npos;
  int depth = 0;
  while (!r.at_end()) {
    const size_t at = from + r.offset();
    const char32_t c = r.next();
    if (kOpeners.find(c) != std::u32string_view::npos) {
      ++depth;
    } else if (kClosers.find(c) != std::u32string_view::npos) {
      if (depth > 0) --depth;
    } else if (kHeadingTerminators.find(c) != std::u32string_view::npos) {
      if (depth == 0) return at;
      if (first == std::string_view::npos) first = at;
    }
  }
  return depth > 0 ? first : std::string_view::npos;
}

struct Label {
  size_t bytes = 0;  // length of the label in the text
  int level = 0;     // for a 第 label: 0 until the document's ranks are known
  int rank = -1;     // a 第 label's part rank, or -1
};

std::optional<Label> match_label(std::string_view text, bool regulation) {
  Reader r(text);
  if (int rank = read_part_label(text, r, regulation); rank >= 0)
    return Label{r.offset(), 0, rank};
  r = Reader(text);
  const int level = read_numbered_label(r);
  if (level == 0) return std::nullopt;
  return Label{r.offset(), level, -1};
}

// §6.1: a regulation's title ends, before any bracketed note, with one of
// these words.
bool is_regulation_title(std::string_view title) {
  std::string_view t = title;
  // Drop bracketed notes at the end: （试行）, (2024年修订).
  for (;;) {
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    size_t open = std::string_view::npos;
    if (t.ends_with("）")) {
      open = t.rfind("（");
      if (open == std::string_view::npos) open = t.rfind('(');
    } else if (t.ends_with(")")) {
      open = t.rfind('(');
      if (open == std::string_view::npos) open = t.rfind("（");
    }
    if (open == std::string_view::npos || open == 0) break;
    t = t.substr(0, open);
  }
  for (std::string_view word : {"办法", "条例", "规定", "细则", "规则", "章程", "准则", "守则"})
    if (t.ends_with(word)) return true;
  return false;
}

// ---------------------------------------------------------------------------
// format.md §8: error reasons.

std::string at(int line, int column) { return std::to_string(line) + ":" + std::to_string(column); }

std::string reason_nested(std::string_view m, int open_line, int open_column) {
  return "nested " + std::string(m) + ": a paid section opened at " + at(open_line, open_column) +
         " is still open";
}
std::string reason_stray(std::string_view m) {
  return "stray " + std::string(m) + ": no paid section is open";
}
std::string reason_unclosed(std::string_view m) {
  return "unclosed " + std::string(m) +
         ": the paid section is not closed before the end of the file";
}
std::string reason_in_title(std::string_view m) {
  return std::string(m) + " in the title line: the title is always public";
}
std::string reason_before_title(std::string_view m) {
  return std::string(m) + " before the title: the title is always public";
}
constexpr const char* kReasonEmpty = "empty document: no title";
std::string reason_near_miss(std::string_view found, MarkerKind kind) {
  return "looks like a paid marker but is not one: \"" + std::string(found) + "\"; write " +
         (kind == MarkerKind::kOpen ? "##paidbegin##" : "##paidend##");
}

// ---------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::string_view file) { error_.file = std::string(file); }

  ParseResult run(std::string_view text, std::string encoding) {
    doc_.source_encoding = std::move(encoding);
    const auto lines = split_lines(text);
    for (size_t i = 0; i < lines.size(); ++i)
      if (!parse_line(static_cast<int>(i) + 1, lines[i])) return failure();
    if (!finish()) return failure();
    compute_figures(doc_);
    ParseResult result;
    result.ok = true;
    result.document = std::move(doc_);
    return result;
  }

 private:
  bool parse_line(int line, std::string_view source) {
    const auto pieces = split_at_markers(source);
    if (!have_title_) return take_title(line, source, pieces);
    std::vector<Run> runs;
    for (const auto& p : pieces) {
      if (!p.marker) {
        if (!check_near_miss(line, source, p)) return false;
        append_run(runs, p.text, paid_);
      } else if (!apply_marker(line, p)) {
        return false;
      }
    }
    add_blocks(line, runs);
    return true;
  }

  // §4.4: fails on a near-miss marker in a text piece.
  bool check_near_miss(int line, std::string_view source, const Piece& p) {
    const std::optional<NearMiss> m = find_near_miss(p.text);
    if (!m) return true;
    const int column = count_code_points(source.substr(0, p.offset + m->begin)) + 1;
    return fail(line, column, reason_near_miss(p.text.substr(m->begin, m->end - m->begin), m->kind));
  }

  // §3: skips blank lines, takes the first line with content as the title,
  // and rejects markers (and near misses, §4.4) on or before it, the
  // leftmost first.
  bool take_title(int line, std::string_view source, const std::vector<Piece>& pieces) {
    std::string content;
    for (const auto& p : pieces)
      if (!p.marker) content += p.text;
    const bool is_title = has_content(content);
    for (const auto& p : pieces) {
      if (!p.marker) {
        if (!check_near_miss(line, source, p)) return false;
        continue;
      }
      return fail(line, p.column, is_title ? reason_in_title(p.text) : reason_before_title(p.text));
    }
    if (!is_title) return true;
    const size_t begin = skip_whitespace(content, 0);
    doc_.title = content.substr(begin, trim_trailing(content, begin, content.size()) - begin);
    have_title_ = true;
    regulation_ = is_regulation_title(doc_.title);
    return true;
  }

  // §4.2, §4.3.
  bool apply_marker(int line, const Piece& marker) {
    if (*marker.marker == MarkerKind::kOpen) {
      if (paid_)
        return fail(line, marker.column, reason_nested(marker.text, open_line_, open_column_));
      paid_ = true;
      open_line_ = line;
      open_column_ = marker.column;
      open_written_ = std::string(marker.text);
      return true;
    }
    if (!paid_) return fail(line, marker.column, reason_stray(marker.text));
    paid_ = false;
    ++doc_.figures.paid_sections;
    return true;
  }

  // §5: strips indentation and trailing whitespace, then makes a heading
  // (§6) or a paragraph. A line without content makes no block.
  void add_blocks(int line, const std::vector<Run>& line_runs) {
    const std::string text = joined(line_runs);
    int indent = 0;
    const size_t begin = skip_whitespace(text, 0, &indent);
    const size_t end = trim_trailing(text, begin, text.size());
    if (begin >= end) return;
    const std::vector<Run> runs = slice(line_runs, begin, end);
    const std::string_view content = std::string_view(text).substr(begin, end - begin);
    if (add_heading(line, indent, content, runs)) return;
    add_block(BlockKind::kParagraph, 0, "", runs, line, indent);
  }

  // §6.2, §6.3: a heading with its text up to its end (heading_end); when
  // text follows the end, that text with the terminator is a run-in block.
  // For an article (第X条) the label is the heading and all of the text after
  // it runs in. False when the line is not a heading.
  bool add_heading(int line, int indent, std::string_view text, const std::vector<Run>& runs) {
    const std::optional<Label> label = match_label(text, regulation_);
    if (!label) return false;
    const size_t head_begin = skip_whitespace(text, label->bytes);
    if (head_begin >= text.size()) return false;  // label without heading text
    const std::vector<Run> label_runs = slice(runs, 0, label->bytes);
    const std::vector<Run> next_runs = slice(runs, head_begin, head_begin + 1);
    if (label_runs.size() != 1 || label_runs.front().paid != next_runs.front().paid) return false;
    const bool paid = label_runs.front().paid;
    const std::string label_text(text.substr(0, label->bytes));

    if (label->rank == kRankArticle) {
      note_part_heading(label->rank);
      add_block(BlockKind::kHeading, 0, label_text, {Run{"", paid}}, line, indent);
      add_run_in(runs, head_begin, text.size(), line);
      return true;
    }
    const size_t stop = heading_end(text, head_begin);
    const size_t rest = stop == std::string_view::npos
                            ? text.size()
                            : skip_whitespace(text, stop + terminator_at(text, stop));
    // A terminator with nothing after it stays in the heading (§6.2).
    const bool run_in = rest < text.size();
    const size_t words_end =
        trim_trailing(text, head_begin, stop == std::string_view::npos ? text.size() : stop);
    if (head_begin >= words_end) return false;  // label without heading text: "（二）。"
    const size_t head_end = run_in ? words_end : trim_trailing(text, head_begin, text.size());
    if (label->rank >= 0) note_part_heading(label->rank);
    add_block(BlockKind::kHeading, label->level, label_text, slice(runs, head_begin, head_end),
              line, indent);
    if (run_in) add_run_in(runs, stop, text.size(), line);
    return true;
  }

  void note_part_heading(int rank) {
    part_headings_.push_back({doc_.blocks.size(), rank});
    ranks_used_[rank] = true;
  }

  void add_run_in(const std::vector<Run>& runs, size_t begin, size_t end, int line) {
    add_block(BlockKind::kParagraph, 0, "", slice(runs, begin, end), line, 0);
    doc_.blocks.back().run_in = true;
  }

  void add_block(BlockKind kind, int level, std::string label, std::vector<Run> runs, int line,
                 int indent) {
    Block b;
    b.kind = kind;
    b.level = level;
    b.label = std::move(label);
    b.runs = std::move(runs);
    b.line = line;
    b.indent = indent;
    doc_.blocks.push_back(std::move(b));
  }

  bool finish() {
    if (paid_) return fail(open_line_, open_column_, reason_unclosed(open_written_));
    if (!have_title_) return fail(1, 1, kReasonEmpty);
    level_part_labels();
    mark_closing();
    return true;
  }

  // §6.4: the date, signature and attachment note at the end, looking back
  // from the last block. Runs after level_part_labels (it may merge blocks).
  void mark_closing() {
    std::vector<Block>& bs = doc_.blocks;
    size_t end = bs.size();  // blocks [0, end) have no closing role yet
    if (end > 0 && closing_paragraph(bs[end - 1]) && official_date(bs[end - 1].full_text())) {
      bs[--end].closing = Closing::kDate;
      for (int k = 0; k < kMaxSignatureLines && end > 0; ++k) {
        if (!closing_paragraph(bs[end - 1]) || !signature_text(bs[end - 1].full_text())) break;
        bs[--end].closing = Closing::kSignature;
      }
    }
    // The attachment note: 附件： and the numbered items after it.
    size_t at = end;
    while (at > 0 && end - at < kMaxAttachmentLines) {
      const Block& b = bs[at - 1];
      if (closing_paragraph(b) && starts_attachment_note(b.full_text())) {
        --at;
        break;
      }
      if (!attachment_item(at - 1)) return;
      --at;
      // An item that was a run-in heading is two blocks.
      if (at > 0 && bs[at].run_in) --at;
    }
    if (at == end || !closing_paragraph(bs[at]) || !starts_attachment_note(bs[at].full_text()))
      return;
    std::vector<Block> note;
    for (size_t i = at; i < end; ++i) {
      if (bs[i].run_in) {  // joins the item made of its heading
        for (const Run& r : bs[i].runs) append_run(note.back().runs, r);
        continue;
      }
      Block b = bs[i];
      if (b.kind == BlockKind::kHeading) {  // "2.名称": the label is text again
        std::vector<Run> runs;
        append_run(runs, Run{b.label, b.runs.front().paid});
        for (const Run& r : b.runs) append_run(runs, r);
        b.kind = BlockKind::kParagraph;
        b.level = 0;
        b.label.clear();
        b.runs = std::move(runs);
      }
      b.closing = Closing::kAttachment;
      note.push_back(std::move(b));
    }
    bs.erase(bs.begin() + static_cast<std::ptrdiff_t>(at), bs.begin() + static_cast<std::ptrdiff_t>(end));
    bs.insert(bs.begin() + static_cast<std::ptrdiff_t>(at), note.begin(), note.end());
  }

  // A block of the attachment note after its first line: a paragraph that
  // starts with "2." or a level-3 heading whose label is "2." (with its
  // run-in block, if any, right after it).
  bool attachment_item(size_t i) const {
    const std::vector<Block>& bs = doc_.blocks;
    const Block* b = &bs[i];
    if (b->run_in) {
      if (i == 0) return false;
      b = &bs[i - 1];
    }
    if (b->kind == BlockKind::kHeading)
      return b->level == kLevelArabicDot && !b->label.ends_with("、") && one_side(*b) &&
             (b == &bs[i] || one_side(bs[i]));
    if (!closing_paragraph(*b)) return false;
    const std::string text = b->full_text();  // the Reader keeps a view of it
    Reader r(text);
    return read_arabic_number(r) && (r.eat(U'.') || r.eat(U'．'));
  }

  // §6.1 "Levels of 第 labels": the highest rank the document uses is
  // level 1, the next level 2, and so on.
  void level_part_labels() {
    int level_of[kRankCount] = {};
    int next = 1;
    for (int rank = 0; rank < kRankCount; ++rank)
      if (ranks_used_[rank]) level_of[rank] = next++;
    for (const PartHeading& h : part_headings_) doc_.blocks[h.block].level = level_of[h.rank];
  }

  bool fail(int line, int column, std::string reason) {
    error_.line = line;
    error_.column = column;
    error_.reason = std::move(reason);
    return false;
  }

  ParseResult failure() {
    ParseResult result;
    result.error = std::move(error_);
    return result;
  }

  Document doc_;
  ParseError error_;
  bool have_title_ = false;
  bool regulation_ = false;  // §6.1: the title names a regulation
  struct PartHeading {
    size_t block = 0;
    int rank = 0;
  };
  std::vector<PartHeading> part_headings_;  // headings with a 第 label
  bool ranks_used_[kRankCount] = {};
  bool paid_ = false;
  int open_line_ = 0;
  int open_column_ = 0;
  std::string open_written_;
};

}  // namespace

std::string ParseError::to_string() const {
  if (byte_offset >= 0 && line > 0) {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + reason +
           " (byte offset " + std::to_string(byte_offset) + ")";
  }
  if (byte_offset >= 0)
    return file + ": byte offset " + std::to_string(byte_offset) + ": " + reason;
  if (paragraph > 0) return file + ": paragraph " + std::to_string(paragraph) + ": " + reason;
  if (line <= 0) return file + ": " + reason;  // the whole file (e.g. not a .docx)
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + reason;
}

ParseResult parse(std::string_view bytes, std::string_view file) {
  std::string text;
  std::string encoding;
  ParseError error;
  if (!decode(bytes, &text, &encoding, &error)) {
    error.file = std::string(file);
    ParseResult result;
    result.error = std::move(error);
    return result;
  }
  return Parser(file).run(text, std::move(encoding));
}

}  // namespace paidoc::doc
