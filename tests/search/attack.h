// An attacker against the leak rule's last clause: "no one rebuilds 20
// consecutive paid characters in 3,000 queries" (PRODUCT.md).
//
// The attacker is a reader without access. It knows only what the service
// shows that reader: the public view of every document (title, free text,
// the teaser's outline of paid headings) and, per search, which documents
// are hits. It rebuilds paid text by greedy extension:
//
//   - a seed is public text that also lies in the paid part: the outline
//     headings (label and text), and the last characters of the free text
//     before each paywall;
//   - from a confirmed string S, it guesses the next character c. A query
//     `"S" -"Sc1" -"Sc2" …` (up to kMaxTerms exclusions) drops the document
//     exactly when one of the guesses follows S; a guess "S c" (with a
//     space) asks for c after a separator, and since a final lone ideograph
//     is matched as a prefix, that steps across punctuation;
//   - guesses are ranked by character n-gram models (forwards and
//     backwards) trained on the public text of the whole library, and tested
//     in groups chosen by probability mass, then narrowed by halving;
//   - it extends forwards from every seed, then backwards, then spends what
//     is left of the budget on the guesses it skipped at stalled ends.
//
// The harness (paid_symbols, score) reads the real paid text only to score
// what the attacker confirmed; the attacker never sees it.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "gate/gate.h"
#include "library/library.h"
#include "search/search.h"

namespace paidoc::search::attack {

// Text as the index sees it: normalised (text::normalize) ideographs, with
// every run of anything else (punctuation, spaces, line breaks, Latin and
// digits) folded into one kSep.
inline constexpr char32_t kSep = U' ';
std::u32string symbols(std::string_view utf8);
// Back to UTF-8 (kSep becomes an ASCII space, i.e. a term separator
// inside a quoted phrase).
std::string to_utf8(std::u32string_view s);
// Only the ideographs of s.
std::u32string ideographs(std::u32string_view s);

// A character n-gram model with Witten-Bell interpolation.
class CharModel {
 public:
  explicit CharModel(int order = 5) : order_(order) {}
  // Adds one line of symbols (a kSep is assumed before and after it).
  void add(const std::u32string& line);
  // Fixes the alphabet; call after the last add().
  void finish();
  // P(symbol | history) for every symbol of alphabet(), in that order.
  std::vector<double> next(std::u32string_view history) const;
  const std::vector<char32_t>& alphabet() const { return alphabet_; }
  // Index of s in alphabet(), or -1.
  int index(char32_t s) const;

 private:
  struct Node {
    std::vector<std::pair<char32_t, int>> counts;
    int total = 0;
  };
  int order_;
  std::vector<std::u32string> lines_;
  std::vector<char32_t> alphabet_;
  std::vector<std::pair<char32_t, int>> index_;  // sorted by symbol
  std::vector<std::pair<std::u32string, Node>> nodes_;  // sorted by context
  const Node* node(std::u32string_view context) const;
};

struct Chain {
  std::string seed;       // UTF-8, as found in the public view
  std::u32string text;    // confirmed symbols, seed included
};

struct Options {
  int64_t budget = 3000;            // counted queries per document
  int queries_per_step = 40;        // first pass: give up a position after this many
  size_t min_context = 6;           // ideographs of confirmed text in each probe
  int order = 5;                    // n-gram order
  bool backwards = true;
  bool free_tail_seeds = true;
  std::ostream* log = nullptr;      // every confirmed extension, when set
  // Asked after every confirmed extension; true ends the attack there. For
  // a harness that has seen enough (it never informs the attacker's guesses).
  std::function<bool(const std::vector<Chain>&)> stop;
};

struct Outcome {
  int64_t queries = 0;    // counted against the budget
  int64_t refused = 0;    // answered "too many requests": not counted
  int64_t seeds_found = 0;  // seeds whose phrase finds the document
  std::vector<Chain> chains;
};

class Attacker {
 public:
  Attacker(Searcher& searcher, library::Library& library, gate::Viewer viewer,
           Options options = {})
      : searcher_(searcher), library_(library), viewer_(std::move(viewer)),
        options_(options), forward_(options.order), backward_(options.order) {}

  // Trains the models on every document's public view (as this viewer).
  Status learn();
  // Attacks one document (learn() first).
  Outcome attack(int64_t id);

 private:
  struct Run;
  Searcher& searcher_;
  library::Library& library_;
  gate::Viewer viewer_;
  Options options_;
  CharModel forward_;
  CharModel backward_;
};

// --- the harness's side ----------------------------------------------------------

// The document's paid text as symbols, each paid line as the index holds
// it, lines separated by kSep. Reads the stored document directly.
Result<std::u32string> paid_symbols(store::DocumentStore& documents, int64_t id);

struct Score {
  size_t longest = 0;   // consecutive paid ideographs rebuilt
  std::string run;      // those characters (UTF-8)
};
// The longest run of consecutive ideographs of the paid text that some
// confirmed chain contains (separators are not counted as characters).
Score score(const std::u32string& paid, const std::vector<Chain>& chains);

}  // namespace paidoc::search::attack
