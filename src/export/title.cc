#include "export/title.h"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string_view>

#include "export/layout.h"

namespace paidoc::exporter::internal {

namespace {

constexpr double kSlack = 1e-6;
// Beyond this many partial choices the search gives up on a level and tries
// the next (a title would have to be many lines long to get there).
constexpr long kMaxSteps = 200000;
// How much better balanced (in cells) a choice must be to break beside a
// lone ideograph of the segmentation (see kSolidWords).
constexpr double kLoneBreakCells = 2.0;

// The word iterator of this thread, or nullptr when ICU has no Chinese
// segmentation (then titles break between characters).
icu::BreakIterator* word_iterator() {
  thread_local std::unique_ptr<icu::BreakIterator> it = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> p(
        icu::BreakIterator::createWordInstance(icu::Locale::getChinese(), status));
    if (U_FAILURE(status)) p.reset();
    return p;
  }();
  return it.get();
}

struct CodePoint {
  size_t begin, end;  // bytes
  char32_t c;
};

bool is_space(char32_t c) { return char_class(c) == CharClass::kSpace; }

bool is_opening(char32_t c) { return no_line_end(c); }

char32_t closing_of(char32_t c) {
  switch (c) {
    case U'（': return U'）';
    case U'(': return U')';
    case U'〔': return U'〕';
    case U'【': return U'】';
    case U'《': return U'》';
    case U'〈': return U'〉';
    case U'“': return U'”';
    case U'‘': return U'’';
    case U'「': return U'」';
    case U'『': return U'』';
    case U'［': return U'］';
    case U'[': return U']';
    default: return 0;
  }
}

// Does the code point count as a character of a line (rule 3)?
bool counts(char32_t c) {
  CharClass k = char_class(c);
  if (k == CharClass::kSpace || k == CharClass::kZeroWidth) return false;
  return !no_line_start(c) && !no_line_end(c);
}

enum class Level {
  kSolidWords,     // word boundaries, groups whole, not beside a lone ideograph
  kWordsAndGroups, // word boundaries, groups whole
  kWords,          // word boundaries
  kCharacters,     // anywhere 避头尾 allows
};

// Function characters that stand alone as words: a boundary beside any
// other single-ideograph segment is a guess of the segmenter (it leaves
// the characters of words it does not know single, 办公室 as 办公 + 室).
bool function_word(char32_t c) {
  static constexpr std::u32string_view kChars = U"的和与及或并之等对在为于";
  return kChars.find(c) != std::u32string_view::npos;
}

// The code point indices i (a break between cps[i-1] and cps[i]) where a
// line may end at this level.
std::vector<size_t> break_indices(const std::vector<CodePoint>& cps, Level level) {
  const size_t n = cps.size();
  std::vector<bool> allowed(n + 1, level == Level::kCharacters);
  if (level != Level::kCharacters) {
    icu::BreakIterator* it = word_iterator();
    if (it == nullptr) {
      std::fill(allowed.begin(), allowed.end(), true);
    } else {
      // UTF-16 offset of each code point index.
      icu::UnicodeString u;
      std::vector<int32_t> utf16(n + 1, 0);
      for (size_t i = 0; i < n; ++i) {
        utf16[i] = u.length();
        u.append(static_cast<UChar32>(cps[i].c));
      }
      utf16[n] = u.length();
      it->setText(u);
      size_t i = 0;
      std::vector<size_t> bounds;
      for (int32_t b = it->first(); b != icu::BreakIterator::DONE; b = it->next()) {
        while (i <= n && utf16[i] < b) ++i;
        if (i <= n && utf16[i] == b) bounds.push_back(i);
      }
      auto lone = [&](size_t from, size_t to) {
        return to == from + 1 && char_class(cps[from].c) == CharClass::kWide &&
               counts(cps[from].c) && !function_word(cps[from].c);
      };
      for (size_t k = 0; k < bounds.size(); ++k) {
        const bool weak = (k > 0 && lone(bounds[k - 1], bounds[k])) ||
                          (k + 1 < bounds.size() && lone(bounds[k], bounds[k + 1]));
        if (level != Level::kSolidWords || !weak) allowed[bounds[k]] = true;
      }
    }
  }
  if (level == Level::kSolidWords || level == Level::kWordsAndGroups) {
    // No break inside a bracketed group that closes within the title.
    for (size_t i = 0; i < n; ++i) {
      const char32_t close = closing_of(cps[i].c);
      if (close == 0) continue;
      size_t j = i + 1;
      while (j < n && cps[j].c != close) ++j;
      if (j >= n) continue;
      for (size_t k = i + 1; k <= j; ++k) allowed[k] = false;
      i = j;
    }
  }
  std::vector<size_t> out;
  for (size_t i = 1; i < n; ++i) {
    if (!allowed[i]) continue;
    const char32_t before = cps[i - 1].c, after = cps[i].c;
    const CharClass kb = char_class(before), ka = char_class(after);
    if (ka == CharClass::kZeroWidth) continue;
    const bool at_space = kb == CharClass::kSpace || ka == CharClass::kSpace;
    if (!at_space) {
      if (no_line_start(after) || is_opening(before)) continue;
      if (kb == CharClass::kNarrow && ka == CharClass::kNarrow) continue;
      if ((before == U'—' || before == U'…') && after == before) continue;
      if (level != Level::kCharacters && after == U'的') continue;
    }
    out.push_back(i);
  }
  return out;
}

struct Line {
  std::string text;
  double cells = 0;
  int chars = 0;
};

// The text of code points [from, to) without spaces at either end.
Line make_line(std::string_view s, const std::vector<CodePoint>& cps, size_t from, size_t to) {
  while (from < to && is_space(cps[from].c)) ++from;
  while (to > from && is_space(cps[to - 1].c)) --to;
  Line l;
  if (from >= to) return l;
  l.text = std::string(s.substr(cps[from].begin, cps[to - 1].end - cps[from].begin));
  l.cells = text_cells(l.text);
  for (size_t i = from; i < to; ++i) l.chars += counts(cps[i].c) ? 1 : 0;
  return l;
}

// A 梯形 or 菱形: no line shorter than one above it and one below it.
bool has_valley(const std::vector<double>& w) {
  for (size_t i = 1; i + 1 < w.size(); ++i) {
    const double above = *std::max_element(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(i));
    const double below = *std::max_element(w.begin() + static_cast<std::ptrdiff_t>(i) + 1, w.end());
    if (w[i] + kSlack < above && w[i] + kSlack < below) return true;
  }
  return false;
}

struct Choice {
  std::vector<size_t> cuts;  // indices into the break list, in order
  double spread = 0;         // longest - shortest
  double squares = 0;
  std::vector<double> widths;
};

// Is a better than b by rule 5?
bool better(const Choice& a, const Choice& b) {
  if (std::abs(a.spread - b.spread) > kSlack) return a.spread < b.spread;
  if (std::abs(a.squares - b.squares) > kSlack) return a.squares < b.squares;
  for (size_t i = 0; i < a.widths.size() && i < b.widths.size(); ++i)
    if (std::abs(a.widths[i] - b.widths[i]) > kSlack) return a.widths[i] > b.widths[i];
  return false;
}

// The best partition of the title into `lines` lines at the given breaks,
// by exhaustive search with pruning; nullopt when there is none (or the
// search is too long).
class Search {
 public:
  Search(const std::vector<CodePoint>& cps, const std::vector<size_t>& breaks, int cells_per_line,
         std::string_view s)
      : s_(s), cps_(cps), cells_(cells_per_line) {
    points_.push_back(0);
    points_.insert(points_.end(), breaks.begin(), breaks.end());
    points_.push_back(cps.size());
    const size_t m = points_.size();
    lines_.assign(m, std::vector<std::optional<Line>>(m));
  }

  std::optional<Choice> best(int lines) {
    best_.reset();
    steps_ = 0;
    std::vector<size_t> cuts;
    std::vector<double> widths;
    walk(0, lines, cuts, widths);
    if (steps_ > kMaxSteps) return std::nullopt;
    return best_;
  }

  const Line& line(size_t a, size_t b) {
    auto& l = lines_[a][b];
    if (!l) l = make_line(s_, cps_, points_[a], points_[b]);
    return *l;
  }
  size_t last_point() const { return points_.size() - 1; }

 private:
  void walk(size_t at, int left, std::vector<size_t>& cuts, std::vector<double>& widths) {
    if (++steps_ > kMaxSteps) return;
    const size_t end = last_point();
    if (left == 1) {
      const Line& l = line(at, end);
      if (l.cells > cells_ + kSlack || l.chars < 2) return;
      widths.push_back(l.cells);
      cuts.push_back(end);
      consider(cuts, widths);
      cuts.pop_back();
      widths.pop_back();
      return;
    }
    for (size_t next = at + 1; next < end; ++next) {
      const Line& l = line(at, next);
      if (l.cells > cells_ + kSlack) break;  // only grows
      if (l.chars < 2) continue;
      // The rest must fit the lines left.
      if (line(next, end).cells > (left - 1) * cells_ + kSlack) continue;
      widths.push_back(l.cells);
      cuts.push_back(next);
      walk(next, left - 1, cuts, widths);
      cuts.pop_back();
      widths.pop_back();
    }
  }

  void consider(const std::vector<size_t>& cuts, const std::vector<double>& widths) {
    if (has_valley(widths)) return;
    Choice c;
    c.cuts = cuts;
    c.widths = widths;
    const auto [lo, hi] = std::minmax_element(widths.begin(), widths.end());
    c.spread = *hi - *lo;
    for (double w : widths) c.squares += w * w;
    if (!best_ || better(c, *best_)) best_ = std::move(c);
  }

  std::string_view s_;
  const std::vector<CodePoint>& cps_;
  const int cells_;
  std::vector<size_t> points_;  // 0, the breaks, cps.size()
  std::vector<std::vector<std::optional<Line>>> lines_;
  std::optional<Choice> best_;
  long steps_ = 0;
};

}  // namespace

std::vector<std::string> break_title(std::string_view title, int cells_per_line) {
  std::vector<CodePoint> cps;
  for (size_t i = 0; i < title.size();) {
    char32_t c;
    size_t j = next_code_point(title, i, &c);
    cps.push_back({i, j, c});
    i = j;
  }
  const Line whole = make_line(title, cps, 0, cps.size());
  if (whole.text.empty()) return {};
  if (whole.cells <= cells_per_line + kSlack) return {whole.text};

  const int fewest = static_cast<int>(std::ceil(whole.cells / cells_per_line - kSlack));
  // The best choice at a level: the fewest lines, one more only when the
  // fewest cannot be balanced within the rules (a long word, a single
  // character left over).
  auto best_at = [&](Level level) -> std::optional<std::vector<std::string>> {
    Search search(cps, break_indices(cps, level), cells_per_line, title);
    for (int lines = fewest; lines <= fewest + 1; ++lines) {
      std::optional<Choice> c = search.best(lines);
      if (!c) continue;
      std::vector<std::string> out;
      size_t from = 0;
      for (size_t cut : c->cuts) {
        out.push_back(search.line(from, cut).text);
        from = cut;
      }
      return out;
    }
    return std::nullopt;
  };
  auto spread = [](const std::vector<std::string>& lines) {
    double lo = 1e9, hi = 0;
    for (const auto& l : lines) {
      lo = std::min(lo, text_cells(l));
      hi = std::max(hi, text_cells(l));
    }
    return hi - lo;
  };
  // Breaks beside a lone ideograph are taken only when they balance the
  // lines better by more than kLoneBreakCells.
  std::optional<std::vector<std::string>> solid = best_at(Level::kSolidWords);
  std::optional<std::vector<std::string>> words = best_at(Level::kWordsAndGroups);
  if (solid && (!words || (solid->size() == words->size() &&
                           spread(*solid) <= spread(*words) + kLoneBreakCells + kSlack)))
    return *solid;
  if (words) return *words;
  for (Level level : {Level::kWords, Level::kCharacters})
    if (auto lines = best_at(level)) return *lines;
  std::vector<std::string> out;
  for (FilledLine& l : fill_lines(title, 0, cells_per_line)) out.push_back(std::move(l.text));
  return out;
}

}  // namespace paidoc::exporter::internal
