#include "text/keywords.h"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>
#include <unordered_set>

#include "text/text.h"

namespace paidoc::text {
namespace {

bool ascii_letter(UChar32 c) { return c >= 'a' && c <= 'z'; }

// 2..4 ideographs, or 3..24 ASCII letters.
bool shaped(const icu::UnicodeString& s, int32_t start, int32_t end, int& chars) {
  chars = 0;
  bool all_cjk = true;
  bool all_ascii = true;
  for (int32_t k = start; k < end; k = s.moveIndex32(k, 1)) {
    const UChar32 c = s.char32At(k);
    all_cjk = all_cjk && is_cjk(static_cast<char32_t>(c));
    all_ascii = all_ascii && ascii_letter(c);
    ++chars;
  }
  if (all_cjk) return chars >= 2 && chars <= 4;
  if (all_ascii) return chars >= 3 && chars <= 24;
  return false;
}

// Characters that mostly stand alone as particles, prepositions, pronouns
// or measure words: a pair of unknown characters containing one is not
// taken for a word.
bool function_char(UChar32 c) {
  static const std::u32string chars =
      U"的了在是和与并由须及或等将把被对为以之其而且也都就还又个这那有不没要会可能从向于到给"
      U"让使但则即每各该此些我你他她它们上下中内外后前时着过地得所已再";
  return chars.find(static_cast<char32_t>(c)) != std::u32string::npos;
}

using Occurrence = KeywordCandidates::Occurrence;

icu::BreakIterator& word_iterator() {
  thread_local std::unique_ptr<icu::BreakIterator> it = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> p(
        icu::BreakIterator::createWordInstance(icu::Locale::getChinese(), status));
    if (U_FAILURE(status) || !p) {
      throw std::runtime_error(std::string("ICU word segmentation unavailable: ") +
                               u_errorName(status));
    }
    return p;
  }();
  return *it;
}

// The candidate words of `utf8`, in text order: the keyword-shaped words
// of ICU's dictionary segmentation; inside runs of characters it leaves
// single (words it does not know, such as 扣款 or 卷材), each pair of
// ideographs without a function character; and a two-ideograph word joined
// with a lone neighbour that is not one (独角 + 鲸). `chars` is the text's length
// in code points.
std::vector<Occurrence> candidates(std::string_view utf8, int* chars = nullptr) {
  std::vector<Occurrence> out;
  if (chars != nullptr) *chars = 0;
  if (utf8.empty() || !valid_utf8(utf8)) return out;
  const std::string normalized = normalize(utf8);
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(normalized.data(), static_cast<int32_t>(normalized.size())));
  icu::BreakIterator& it = word_iterator();
  it.setText(u);
  // Single-ideograph segments waiting to be paired: (offset, code point).
  std::vector<std::pair<int, UChar32>> singles;
  auto flush = [&]() {
    for (size_t k = 0; k + 1 < singles.size(); ++k) {
      const auto [at, a] = singles[k];
      const UChar32 b = singles[k + 1].second;
      if (function_char(a) || function_char(b)) continue;
      Occurrence o{std::string(), at, 2};
      icu::UnicodeString pair;
      pair.append(a).append(b);
      pair.toUTF8String(o.word);
      out.push_back(std::move(o));
    }
    singles.clear();
  };
  // Segments as (UTF-16 start, UTF-16 end, code point offset, kind), kind
  // 1: a lone ideograph that is not a function character, 2: a
  // two-ideograph word, 0: anything else.
  struct Segment {
    int32_t start, end;
    int offset, kind;
  };
  std::vector<Segment> segments;
  int offset = 0;  // code points before the segment
  int32_t start = it.first();
  for (int32_t end = it.next(); end != icu::BreakIterator::DONE; start = end, end = it.next()) {
    const int n = u.countChar32(start, end - start);
    int kind = 0;
    if (n == 1 && is_cjk(static_cast<char32_t>(u.char32At(start)))) {
      if (!function_char(u.char32At(start))) kind = 1;
      singles.emplace_back(offset, u.char32At(start));
    } else {
      flush();
      int len = 0;
      if (shaped(u, start, end, len)) {
        Occurrence o{std::string(), offset, len};
        u.tempSubStringBetween(start, end).toUTF8String(o.word);
        out.push_back(std::move(o));
        if (len == 2 && is_cjk(static_cast<char32_t>(u.char32At(start)))) kind = 2;
      }
    }
    segments.push_back({start, end, offset, kind});
    offset += n;
  }
  // A two-ideograph word next to a lone ideograph that is not a function
  // character, and that has no such lone neighbour on its other side, also
  // stands as a three-character word (独角 + 鲸): ICU's dictionary splits
  // many names and terms that way. (In 完善/借/阅/制度 the lone 借 and 阅
  // pair up instead.)
  auto kind_at = [&](size_t i, int d) {
    const long j = static_cast<long>(i) + d;
    return j < 0 || j >= static_cast<long>(segments.size()) ? 0 : segments[j].kind;
  };
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    const int a = segments[i].kind, b = segments[i + 1].kind;
    const bool word_then_lone = a == 2 && b == 1 && kind_at(i, 2) != 1;
    const bool lone_then_word = a == 1 && b == 2 && kind_at(i, -1) != 1;
    if (!word_then_lone && !lone_then_word) continue;
    Occurrence o{std::string(), segments[i].offset, 3};
    u.tempSubStringBetween(segments[i].start, segments[i + 1].end).toUTF8String(o.word);
    out.push_back(std::move(o));
  }
  flush();
  if (chars != nullptr) *chars = offset;
  return out;
}

// Words too common in any Chinese text to tell documents apart; the IDF of
// a small library cannot know that yet.
const std::unordered_set<std::string>& function_words() {
  static const std::unordered_set<std::string> words = {
      "我们", "他们", "你们", "自己", "这个", "那个", "这些", "那些", "一个", "一些",
      "没有", "进行", "以及", "并且", "而且", "但是", "因为", "所以", "如果", "虽然",
      "可以", "已经", "还是", "就是", "不是", "还有", "或者", "通过", "对于", "关于",
      "其中", "之一", "以上", "以下", "方面", "有关", "相关", "情况", "问题", "工作",
      "一是", "二是", "三是", "四是", "五是", "同时", "此外", "目前", "今后", "当前",
      "the", "and", "for", "with", "that", "this", "from", "are", "was", "not"};
  return words;
}

void append_hex(std::string& out, unsigned char b) {
  static const char digits[] = "0123456789abcdef";
  out.push_back(digits[b >> 4]);
  out.push_back(digits[b & 15]);
}

}  // namespace

std::vector<std::string> KeywordCandidates::words() const {
  std::vector<std::string> out;
  std::unordered_set<std::string_view> seen;
  for (const Occurrence& o : occurrences) {
    if (seen.insert(o.word).second) out.push_back(o.word);
  }
  return out;
}

KeywordCandidates keyword_candidates(std::string_view utf8) {
  KeywordCandidates c;
  c.occurrences = candidates(utf8, &c.length);
  return c;
}

std::vector<std::string> keyword_words(std::string_view utf8) {
  return keyword_candidates(utf8).words();
}

std::vector<std::string> choose_keywords(std::string_view paid_text, const DocumentFrequency& df,
                                         int64_t documents) {
  return choose_keywords(keyword_candidates(paid_text), df, documents);
}

std::vector<std::string> choose_keywords(const KeywordCandidates& paid, const DocumentFrequency& df,
                                         int64_t documents) {
  const int length = paid.length;
  const std::vector<Occurrence>& occ = paid.occurrences;
  // Occurrences (indexes into occ) of each candidate word.
  std::map<std::string, std::vector<size_t>> occurrences;
  for (size_t i = 0; i < occ.size(); ++i) {
    if (!function_words().count(occ[i].word)) occurrences[occ[i].word].push_back(i);
  }
  struct Candidate {
    double score;
    int chars;
    const std::string* word;
    const std::vector<size_t>* at;
  };
  std::vector<Candidate> ranked;
  const double n = static_cast<double>(std::max<int64_t>(documents, 1));
  for (const auto& [word, at] : occurrences) {
    const double f = static_cast<double>(std::max<int64_t>(df(word), 0));
    const double idf = std::log((n + 1.0) / (std::min(f, n) + 1.0)) + 1.0;
    const double tf = 1.0 + std::log(static_cast<double>(at.size()));
    ranked.push_back({tf * idf, occ[at.front()].chars, &word, &at});
  }
  std::sort(ranked.begin(), ranked.end(), [](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.chars != b.chars) return a.chars > b.chars;
    return *a.word < *b.word;
  });

  // Greedy by salience; a word is skipped when one of its occurrences would
  // join chosen neighbours (or overlap them) into a covered stretch longer
  // than the limit.
  std::vector<int> covered(static_cast<size_t>(length), 0);
  auto mark = [&](const Occurrence& o, int delta) {
    for (int k = o.start; k < o.start + o.chars && k < length; ++k) covered[static_cast<size_t>(k)] += delta;
  };
  auto stretch_at = [&](const Occurrence& o) {
    int a = o.start;
    while (a > 0 && covered[static_cast<size_t>(a - 1)]) --a;
    int b = o.start;
    while (b < length && covered[static_cast<size_t>(b)]) ++b;
    return b - a;
  };
  std::vector<std::string> out;
  for (const Candidate& c : ranked) {
    if (static_cast<int>(out.size()) >= kMaxKeywords) break;
    for (size_t i : *c.at) mark(occ[i], 1);
    bool ok = true;
    for (size_t i : *c.at) ok = ok && stretch_at(occ[i]) <= kMaxKeywordChainChars;
    if (!ok) {
      for (size_t i : *c.at) mark(occ[i], -1);
      continue;
    }
    out.push_back(*c.word);
  }
  return out;
}

KeywordProbe keyword_probe(std::string_view term) {
  KeywordProbe p;
  if (term.empty() || !valid_utf8(term)) return p;
  const std::string normalized = normalize(term);
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(normalized.data(), static_cast<int32_t>(normalized.size())));
  int chars = 0;
  if (!shaped(u, 0, u.length(), chars)) return p;
  p.whole = normalized;
  if (chars == 4 && is_cjk(static_cast<char32_t>(u.char32At(0)))) {
    const int32_t mid = u.moveIndex32(0, 2);
    std::string first, second;
    u.tempSubStringBetween(0, mid).toUTF8String(first);
    u.tempSubStringBetween(mid).toUTF8String(second);
    p.parts = {first, second};
  }
  return p;
}

std::string keyword_token(std::string_view keyword) {
  std::string out = "k";
  for (char ch : keyword) append_hex(out, static_cast<unsigned char>(ch));
  return out;
}

}  // namespace paidoc::text
