// Keywords: the only way search may consult a locked paid part.
//
// A reader without access to a document must not be able to rebuild its
// paid text by asking search questions (PRODUCT.md, the leak rule). So for
// such a reader the paid part is not searched as text at all: it matches
// only through a bounded, unordered set of keywords chosen from it at
// import (choose_keywords), and a query term consults that set only when
// the term is itself keyword-shaped (keyword_probe). The set has no
// positions and no order, so it answers "does the paid part cover this
// word", never "what follows this".
//
// Candidate words come from ICU's dictionary word segmentation of the
// normalised text (text::normalize: NFKC, traditional -> simplified,
// lower-case): the words of 2..4 CJK ideographs or 3..24 ASCII letters
// ("keyword-shaped"), and, where the dictionary leaves characters single
// (domain words it does not know: 扣款, 卷材), each pair of them that holds
// no function character (的, 在, 须 …). Digits never make a keyword:
// numbers in paid text (amounts, dates, phone numbers) are exactly what a
// buyer pays for.
//
// Thread-safety: all functions are safe to call concurrently (each thread
// keeps its own ICU word iterator). They throw std::runtime_error only if
// ICU or the OpenCC table cannot be loaded (see text::init()).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace paidoc::text {

// At most this many keywords per document.
inline constexpr int kMaxKeywords = 60;
// No stretch of paid text longer than this many characters is covered by
// adjacent chosen keywords: knowing the set, an attacker can guess an order,
// but never confirm more than this many consecutive characters through it.
inline constexpr int kMaxKeywordChainChars = 8;

// The distinct candidate words of `utf8` (normalised), in first
// occurrence order. For document frequencies across the library.
std::vector<std::string> keyword_words(std::string_view utf8);

// Document frequency of a word: how many documents of the library contain
// it (0 when unknown).
using DocumentFrequency = std::function<int64_t(const std::string& word)>;

// The candidate words of a text with where they occur (in code points of
// the normalised text): what choose_keywords ranks. Plain data, so the
// segmentation can run before a store takes its write lock.
struct KeywordCandidates {
  struct Occurrence {
    std::string word;
    int start = 0;
    int chars = 0;
  };
  std::vector<Occurrence> occurrences;
  int length = 0;  // code points of the normalised text
  // The distinct words, in first occurrence order (== keyword_words()).
  std::vector<std::string> words() const;
};
KeywordCandidates keyword_candidates(std::string_view utf8);

// Chooses the keywords of a paid part (its runs, one block per line), most
// salient first: TF-IDF over the library (`documents` documents, df from
// `df`), minus a short list of function words, at most kMaxKeywords, and
// never so that adjacent chosen words cover more than
// kMaxKeywordChainChars consecutive characters anywhere in the text.
// Deterministic for the same input. Empty for empty text.
std::vector<std::string> choose_keywords(const KeywordCandidates& paid, const DocumentFrequency& df,
                                         int64_t documents);
std::vector<std::string> choose_keywords(std::string_view paid_text, const DocumentFrequency& df,
                                         int64_t documents);

// How a query term may match a locked paid part.
//  - whole: the normalised term, when it is keyword-shaped (matches a
//    keyword equal to it);
//  - parts: when the term is 4 ideographs, its two halves (绩效扣款 ->
//    绩效, 扣款): it also matches when both halves are keywords (in any
//    order, anywhere in the paid part).
// Both empty when the term may not consult keywords: longer phrases,
// single characters, several words, digits, anything else.
struct KeywordProbe {
  std::string whole;
  std::vector<std::string> parts;
  bool empty() const { return whole.empty(); }
};
KeywordProbe keyword_probe(std::string_view term);

// The form a keyword takes in the search index: "k" followed by the hex of
// its UTF-8 bytes, one ASCII token. The index looks such tokens up only in
// its keyword column, never in the text columns, and text terms never in
// the keyword column.
std::string keyword_token(std::string_view keyword);

}  // namespace paidoc::text
