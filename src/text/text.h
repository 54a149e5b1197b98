// Text normalisation and tokenization for Chinese full-text search.
//
// The tokenizer is shaped for an SQLite FTS5 tokenizer callback: each token
// carries its normalised text plus the byte range [start, end) it came from in
// the ORIGINAL input, so highlight and snippet code can cut the original text.
//
// Normalisation, applied identically to documents and queries:
//   1. Unicode NFKC (full-width digits/letters become ASCII, compatibility
//      ideographs become unified ones),
//   2. traditional -> simplified Chinese (OpenCC t2s, by phrase; below),
//   3. Latin lower-casing.
//
// Tokens are runs of CJK ideographs, 〇 (U+3007) included (indexed as
// overlapping bigrams, a single ideograph as a unigram), and ASCII words
// [a-z0-9]+ after normalisation. A word that starts with digits followed by
// letters is two tokens, the digits and the rest ("1200m2" from 1200㎡:
// "1200", "m2"); one that starts with a letter stays whole ("pdf2", and
// keyword tokens). Default-ignorable characters (zero-width space and
// joiners, soft hyphen, variation selectors) are skipped: they neither
// belong to a token nor separate one, so 党<U+200B>建 is the word 党建.
// Everything else (spaces, punctuation, symbols, emoji, other scripts) is
// a separator and never part of a token.
//
// A phrase never spans a separator run: the first token after one is
// marked (Token::gap), and both index backends leave a position free
// there (SQLite FTS5: a separator token no query word produces;
// PostgreSQL: an empty tsvector position). So 工作风 does not match
// 工作，作风, while 工作，作风 typed as one term matches the two words
// across any one separator run (工作、作风, 工作 作风, a line break).
//
// Traditional -> simplified works on phrases, through OpenCC: each run of
// ideographs is converted as a whole by t2s (its phrase dictionary
// TSPhrases, then its character table), so characters whose simplified
// form depends on the phrase come out right: 瞭解 -> 了解, 藉此 -> 借此,
// 乾淨 -> 干净 (while 瞭望 and 狼藉 keep 瞭 and 藉). 著, which t2s never
// changes, takes the reading of OpenCC's Taiwan phrase rules (tw2s, on the
// run in traditional script): 着 (著力 -> 着力, 穿著 -> 穿着, 土著 -> 土着)
// except in the phrases they list (著作, 著名, 显著, 名著, 昭著, 著述...). Each character still maps to
// one character, so offsets point at the original text; a run whose
// conversion would change its length (none in OpenCC's data today) keeps
// the character table's reading. Documents and queries go through the
// same conversion, but a word is converted in the run it stands in: in
// rare cases a longer run segments differently than the word alone. A run
// without a character that a phrase could convert differently (most
// simplified text) is converted by one table lookup per character.
//
// Index mode (tokenize_for_index) adds, for every CJK run of two or more
// characters, the run's LAST character as a unigram colocated with the last
// bigram (same position). With that, every occurrence of an ideograph is the
// first character of some token, so a one-character query matches as a
// prefix query ("党"*) without indexing every unigram (about 10% more
// tokens instead of 100%).
//
// Errors: the OpenCC converter is loaded once, on first use. If its data files
// are missing, normalize/tokenize/query_terms throw std::runtime_error; call
// init() at startup to get that failure as a Status instead.
//
// Thread-safety: all functions are safe to call concurrently. The shared ICU
// normaliser and OpenCC converter are immutable after initialisation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace paidoc::text {

// One token. text is normalised; start/end are byte offsets into the input
// passed to tokenize(), with 0 <= start < end <= input.size(), and always fall
// on UTF-8 character boundaries.
struct Token {
  std::string text;
  int start = 0;
  int end = 0;
  // Index mode only: this token sits at the same position as the previous
  // one (FTS5_TOKEN_COLOCATED).
  bool colocated = false;
  // A separator run (space, punctuation, line break, symbol...) stands
  // between this token and the previous one. Never set on the first token
  // or on a colocated one. The index keeps such tokens apart (see the file
  // comment), so a phrase never spans a separator run.
  bool gap = false;
  bool operator==(const Token&) const = default;
};

// Loads the shared OpenCC converter (idempotent). Returns an internal error
// naming the cause if the conversion data cannot be loaded.
Status init();

// True if utf8 is well-formed UTF-8 (no overlong forms, surrogates or code
// points above U+10FFFF).
bool valid_utf8(std::string_view utf8);

// The whole string normalised (NFKC, traditional -> simplified, lower-cased).
// Unlike tokenize(), offsets are not preserved; use it for display-independent
// comparisons. Invalid UTF-8 sequences are replaced by U+FFFD.
std::string normalize(std::string_view utf8);

// Splits utf8 into tokens in input order (see the file comment). Returns an
// empty vector for invalid UTF-8: documents are validated by the parser
// (doc/parser.h) before they get here, so this only guards stray input.
std::vector<Token> tokenize(std::string_view utf8);

// tokenize() plus the colocated trailing unigrams described above, for the
// search index.
std::vector<Token> tokenize_for_index(std::string_view utf8);

// True when a token is a single CJK ideograph (a query term ending in one
// is matched as a prefix).
bool is_single_ideograph(std::string_view token_text);

// True for a code point the tokenizer treats as a CJK ideograph.
bool is_cjk(char32_t c);

// The token texts of a search query, in order (for building phrase queries).
std::vector<std::string> query_terms(std::string_view utf8);

}  // namespace paidoc::text
