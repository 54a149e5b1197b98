#include "search/attack.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <ostream>

#include "text/text.h"

namespace paidoc::search::attack {
namespace {

// The index's ideograph ranges (src/text/text.cc).
bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FFFF);
}

std::u32string decode(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    size_t len = 1;
    char32_t c = b;
    if (b >= 0xF0) {
      len = 4;
      c = b & 0x07;
    } else if (b >= 0xE0) {
      len = 3;
      c = b & 0x0F;
    } else if (b >= 0xC0) {
      len = 2;
      c = b & 0x1F;
    }
    if (i + len > s.size()) break;
    for (size_t k = 1; k < len; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(c);
    i += len;
  }
  return out;
}

std::u32string trim(std::u32string s) {
  while (!s.empty() && s.back() == kSep) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == kSep) ++i;
  return s.substr(i);
}

std::u32string reversed(std::u32string_view s) { return std::u32string(s.rbegin(), s.rend()); }

}  // namespace

std::u32string symbols(std::string_view utf8) {
  std::u32string out;
  for (char32_t c : decode(text::normalize(utf8))) {
    if (is_cjk(c)) {
      out.push_back(c);
    } else if (out.empty() || out.back() != kSep) {
      out.push_back(kSep);
    }
  }
  return out;
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

std::u32string ideographs(std::u32string_view s) {
  std::u32string out;
  for (char32_t c : s) {
    if (c != kSep) out.push_back(c);
  }
  return out;
}

// --- the model -------------------------------------------------------------------

void CharModel::add(const std::u32string& line) {
  std::u32string l = trim(line);
  if (l.empty()) return;
  lines_.push_back(kSep + l + kSep);
}

void CharModel::finish() {
  std::map<std::u32string, std::map<char32_t, int>> counts;
  for (const std::u32string& l : lines_) {
    for (size_t i = 1; i < l.size(); ++i) {
      for (int k = 0; k < order_ && static_cast<size_t>(k) <= i; ++k) {
        counts[l.substr(i - k, k)][l[i]]++;
      }
    }
  }
  nodes_.clear();
  for (auto& [ctx, next] : counts) {
    Node n;
    for (auto& [c, k] : next) {
      n.counts.emplace_back(c, k);
      n.total += k;
    }
    nodes_.emplace_back(ctx, std::move(n));
  }
  alphabet_.clear();
  index_.clear();
  if (const Node* root = node(U"")) {
    for (const auto& [c, k] : root->counts) alphabet_.push_back(c);
  }
  if (std::find(alphabet_.begin(), alphabet_.end(), kSep) == alphabet_.end()) {
    alphabet_.push_back(kSep);
  }
  for (size_t i = 0; i < alphabet_.size(); ++i) index_.emplace_back(alphabet_[i], static_cast<int>(i));
  std::sort(index_.begin(), index_.end());
}

const CharModel::Node* CharModel::node(std::u32string_view context) const {
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), context,
                             [](const auto& n, std::u32string_view c) { return n.first < c; });
  if (it == nodes_.end() || it->first != context) return nullptr;
  return &it->second;
}

int CharModel::index(char32_t s) const {
  auto it = std::lower_bound(index_.begin(), index_.end(), std::make_pair(s, -1));
  if (it == index_.end() || it->first != s) return -1;
  return it->second;
}

std::vector<double> CharModel::next(std::u32string_view history) const {
  const size_t v = alphabet_.size();
  std::vector<double> p(v, v ? 1.0 / static_cast<double>(v) : 0.0);
  for (int k = 0; k < order_; ++k) {
    if (static_cast<size_t>(k) > history.size()) break;
    const Node* n = node(history.substr(history.size() - k));
    if (!n) break;
    const double types = static_cast<double>(n->counts.size());
    const double denom = static_cast<double>(n->total) + types;
    for (double& x : p) x *= types / denom;
    for (const auto& [c, count] : n->counts) {
      const int i = index(c);
      if (i >= 0) p[static_cast<size_t>(i)] += count / denom;
    }
  }
  return p;
}

// --- the attack ------------------------------------------------------------------

struct Attacker::Run {
  Attacker& a;
  int64_t id;
  Outcome out;
  std::u32string pub;  // the document's public ideographs, lines split by U+0001
  // The document's public title as a leading phrase, so that a probe's hits
  // are this document or nothing: one query, no paging (empty when the
  // title has nothing to search for).
  std::string title_term;
  bool failed = false;  // the service failed (not a refusal): stop

  bool stopped = false;  // the harness's stop() said so
  bool no_guesses_left = false;  // the last step ruled out every guess

  bool exhausted() const { return failed || stopped || out.queries >= a.options_.budget; }

  // Whether the document is a hit for `"base" -"x1" -"x2" …`; nullopt
  // when the budget ran out first.
  std::optional<bool> hit(const std::u32string& base, const std::vector<std::u32string>& excluded) {
    std::string q = title_term + "\"" + to_utf8(base) + "\"";
    for (const std::u32string& x : excluded) q += " -\"" + to_utf8(x) + "\"";
    Request r;
    r.q = q;
    r.per_page = 50;
    for (int64_t page = 1;; ++page) {
      if (exhausted()) return std::nullopt;
      r.page = page;
      Result<Results> res = a.searcher_.search(r, a.viewer_);
      if (!res.ok() && res.status().code() == Code::kTooManyRequests) {
        // Refused by a rate limit: not a query answered, not counted.
        if (++out.refused > 100 * a.options_.budget) {
          failed = true;
          return std::nullopt;
        }
        --page;
        continue;
      }
      ++out.queries;
      if (!res.ok()) {
        failed = true;
        return std::nullopt;
      }
      for (const Hit& h : res->hits) {
        if (h.id == id) return true;
      }
      if (res->total <= page * r.per_page) return false;
    }
  }

  // The confirmed text a probe starts from: at least min_context
  // ideographs at the growing end, more while that much is not unique
  // (found in the public text or elsewhere in the chain).
  std::u32string context(const std::u32string& chain, bool fwd) const {
    const std::u32string ideo = ideographs(chain);
    const size_t n = ideo.size();
    size_t len = std::min(a.options_.min_context, n);
    for (; len < n; ++len) {
      const std::u32string sub = fwd ? ideo.substr(n - len) : ideo.substr(0, len);
      const bool elsewhere = fwd ? ideo.find(sub) < n - len : ideo.find(sub, 1) != std::u32string::npos;
      if (pub.find(sub) == std::u32string::npos && !elsewhere) break;
    }
    // The shortest run of symbols at that end holding len ideographs.
    size_t seen = 0;
    if (fwd) {
      size_t i = chain.size();
      while (i > 0 && seen < len) {
        --i;
        if (chain[i] != kSep) ++seen;
      }
      // The probe's tokens must be the last tokens of the chain's own: do
      // not start on the final character of a longer run (that would ask for
      // a lone character the index may not hold); widen to the run's bigram.
      auto run_final = [&](size_t k) {
        return k > 0 && chain[k - 1] != kSep && (k + 1 == chain.size() || chain[k + 1] == kSep);
      };
      while (i > 0 && (chain[i] == kSep || run_final(i))) --i;
      return chain.substr(i);
    }
    size_t i = 0;
    while (i < chain.size() && seen < len) {
      if (chain[i] != kSep) ++seen;
      ++i;
    }
    return chain.substr(0, i);
  }

  struct Guess {
    std::u32string add;  // symbols to append (fwd) or prepend (bwd)
    double p = 0;
  };

  // Tries to confirm the symbols next to the chain's growing end. Skips
  // the first *tested guesses (already tried), tests at most max_queries
  // queries' worth, and adds to *tested the guesses ruled out. Returns the
  // confirmed symbols, or empty.
  std::u32string step(const std::u32string& chain, bool fwd, size_t* tested, int max_queries) {
    const CharModel& m = fwd ? a.forward_ : a.backward_;
    const std::u32string ctx = context(chain, fwd);
    const std::u32string ctx_ideo = ideographs(ctx);
    std::u32string history = fwd ? chain : reversed(chain);
    if (history.size() > 8) history = history.substr(history.size() - 8);
    // The library's model, adapted to what this document has confirmed so
    // far: its n-grams (up to three symbols of context) are interpolated on
    // top, Witten-Bell again, so a document's own words come first.
    std::map<std::u32string, std::map<char32_t, int>> cache;
    for (const Chain& c : out.chains) {
      const std::u32string t = fwd ? c.text : reversed(c.text);
      for (size_t i = 1; i < t.size(); ++i) {
        for (size_t k = 1; k <= 3 && k <= i; ++k) cache[t.substr(i - k, k)][t[i]]++;
      }
    }
    auto adapt = [&](std::vector<double> p, const std::u32string& h) {
      for (size_t k = 1; k <= 3 && k <= h.size(); ++k) {
        auto it = cache.find(h.substr(h.size() - k));
        if (it == cache.end()) break;
        double total = 0;
        for (const auto& [c, n] : it->second) total += n;
        const double types = static_cast<double>(it->second.size());
        for (double& x : p) x *= types / (total + types);
        for (const auto& [c, n] : it->second) {
          const int i = m.index(c);
          if (i >= 0) p[static_cast<size_t>(i)] += n / (total + types);
        }
      }
      return p;
    };
    const std::vector<double> pd = adapt(m.next(history), history);
    const std::vector<double> ps = adapt(m.next(history + kSep), history + kSep);
    const int sep = m.index(kSep);
    std::vector<Guess> guesses;
    for (size_t i = 0; i < m.alphabet().size(); ++i) {
      const char32_t c = m.alphabet()[i];
      if (c == kSep) continue;
      // A guess the public text already holds cannot be told apart.
      const std::u32string content = fwd ? ctx_ideo + c : c + ctx_ideo;
      if (pub.find(content) != std::u32string::npos) continue;
      guesses.push_back({std::u32string(1, c), pd[i]});
      // "S c" with c the last character of S is no question: a final lone
      // ideograph is a prefix, and the bigram after S starts with that very
      // character whenever S runs on.
      if (sep >= 0 && !(fwd && c == ctx_ideo.back())) {
        guesses.push_back({fwd ? std::u32string{kSep, c} : std::u32string{c, kSep},
                           pd[static_cast<size_t>(sep)] * ps[i]});
      }
    }
    std::stable_sort(guesses.begin(), guesses.end(),
                     [](const Guess& x, const Guess& y) { return x.p > y.p; });
    auto phrase = [&](const Guess& g) { return fwd ? ctx + g.add : g.add + ctx; };
    std::vector<double> tail(guesses.size() + 1, 0.0);  // mass from i on
    for (size_t i = guesses.size(); i-- > 0;) tail[i] = tail[i + 1] + guesses[i].p;

    int used = 0;
    size_t next = *tested;
    while (next < guesses.size() && used < max_queries) {
      // A group of up to kMaxTerms guesses holding about half the mass left.
      size_t k = 1;
      double mass = guesses[next].p;
      while (k < kMaxTerms && next + k < guesses.size() && mass < tail[next] / 2) {
        mass += guesses[next + k].p;
        ++k;
      }
      std::vector<std::u32string> group;
      for (size_t i = next; i < next + k; ++i) group.push_back(phrase(guesses[i]));
      std::optional<bool> present = hit(ctx, group);
      ++used;
      if (!present) return {};
      if (*present) {
        next += k;
        *tested = next;
        continue;
      }
      // One of the group follows: halve by mass.
      size_t lo = next, hi = next + k;
      while (hi - lo > 1) {
        const double half = (tail[lo] - tail[hi]) / 2;
        size_t mid = lo + 1;
        double acc = guesses[lo].p;
        while (mid < hi - 1 && acc < half) acc += guesses[mid++].p;
        std::vector<std::u32string> part;
        for (size_t i = lo; i < mid; ++i) part.push_back(phrase(guesses[i]));
        std::optional<bool> in_rest = hit(ctx, part);
        ++used;
        if (!in_rest) return {};
        if (*in_rest) {
          lo = mid;
        } else {
          hi = mid;
        }
      }
      return guesses[lo].add;
    }
    no_guesses_left = next >= guesses.size();
    return {};
  }

  // Extends the chain at one end until a position cannot be confirmed.
  // Returns the guesses ruled out at the position where it stopped.
  size_t extend(Chain& chain, bool fwd, size_t tested, int first_max_queries) {
    int max_queries = first_max_queries;
    while (!exhausted() && chain.text.size() < 100000) {
      std::u32string add = step(chain.text, fwd, &tested, max_queries);
      if (add.empty()) return tested;
      chain.text = fwd ? chain.text + add : add + chain.text;
      tested = 0;
      max_queries = a.options_.queries_per_step;
      if (a.options_.stop && a.options_.stop(out.chains)) stopped = true;
      if (a.options_.log) {
        *a.options_.log << "  [" << out.queries << "] " << (fwd ? "+" : "-") << to_utf8(add)
                        << "  " << to_utf8(chain.text) << "\n";
      }
    }
    return tested;
  }
};

Status Attacker::learn() {
  int64_t offset = 0;
  for (;;) {
    Result<store::ListPage> page = library_.list({"", offset, 500});
    if (!page.ok()) return page.status();
    for (const store::DocumentSummary& s : page->items) {
      Result<gate::DocumentView> v = library_.view(s.id, viewer_);
      if (!v.ok()) return v.status();
      std::vector<std::string> lines{v->title};
      for (const gate::ViewBlock& b : v->blocks) {
        if (b.kind != gate::ViewBlock::Kind::kLocked) lines.push_back(b.label + b.text);
      }
      for (const gate::OutlineEntry& e : v->teaser.outline) lines.push_back(e.label + e.text);
      for (const std::string& l : lines) {
        const std::u32string syms = symbols(l);
        forward_.add(syms);
        backward_.add(reversed(syms));
      }
    }
    offset += static_cast<int64_t>(page->items.size());
    if (page->items.empty() || offset >= page->total) break;
  }
  forward_.finish();
  backward_.finish();
  return Status();
}

Outcome Attacker::attack(int64_t id) {
  Run run{*this, id, {}, {}};
  Result<gate::DocumentView> view = library_.view(id, viewer_);
  if (!view.ok()) return run.out;

  // What the viewer sees of this document, and the seeds in it.
  auto add_public = [&](const std::string& line) {
    run.pub += ideographs(symbols(line));
    run.pub.push_back(U'\x01');
  };
  add_public(view->title);
  std::string title;
  for (char ch : view->title) title.push_back(ch == '"' ? ' ' : ch);
  if (!text::tokenize(title).empty()) run.title_term = "\"" + title + "\" ";
  std::vector<std::pair<std::string, std::u32string>> seeds;
  for (const gate::OutlineEntry& e : view->teaser.outline) {
    const std::string s = e.label + e.text;
    seeds.emplace_back(s, trim(symbols(s)));
  }
  const gate::ViewBlock* previous = nullptr;
  std::vector<std::pair<std::string, std::u32string>> tails;
  for (const gate::ViewBlock& b : view->blocks) {
    if (b.kind == gate::ViewBlock::Kind::kLocked) {
      if (previous && options_.free_tail_seeds) {
        std::u32string s = trim(symbols(previous->label + previous->text));
        size_t seen = 0, i = s.size();
        while (i > 0 && seen < 8) {
          --i;
          if (s[i] != kSep) ++seen;
        }
        tails.emplace_back("…" + to_utf8(trim(s.substr(i))), trim(s.substr(i)));
      }
    } else {
      add_public(b.label + b.text);
      previous = &b;
    }
  }
  seeds.insert(seeds.end(), tails.begin(), tails.end());

  struct End {
    size_t chain;
    bool fwd;
    size_t tested;
  };
  std::vector<End> stalled;
  bool any_extension = false;
  auto covered = [&](const std::u32string& s) {
    const std::u32string ideo = ideographs(s);
    for (const Chain& c : run.out.chains) {
      if (ideographs(c.text).find(ideo) != std::u32string::npos) return true;
    }
    return false;
  };

  // Pass 1: forwards from every seed, a bounded effort per position.
  for (const auto& [shown, syms] : seeds) {
    if (run.exhausted()) break;
    if (ideographs(syms).size() < 2 || covered(syms)) continue;
    std::optional<bool> found = run.hit(syms, {});
    if (!found) break;
    if (!*found) continue;
    ++run.out.seeds_found;
    if (options_.log) *options_.log << "seed " << shown << " [" << run.out.queries << "]\n";
    run.out.chains.push_back({shown, syms});
    Chain& c = run.out.chains.back();
    const size_t tested = run.extend(c, true, 0, options_.queries_per_step);
    any_extension = any_extension || c.text != syms;
    stalled.push_back({run.out.chains.size() - 1, true, tested});
  }
  // Then backwards from each.
  if (options_.backwards) {
    for (size_t i = 0; i < run.out.chains.size() && !run.exhausted(); ++i) {
      Chain& c = run.out.chains[i];
      const std::u32string before = c.text;
      if (options_.log) *options_.log << "back from " << c.seed << " [" << run.out.queries << "]\n";
      const size_t tested = run.extend(c, false, 0, options_.queries_per_step);
      any_extension = any_extension || c.text != before;
      stalled.push_back({i, false, tested});
    }
  }
  // Pass 2: what is left of the budget goes to the guesses skipped at the
  // stalled ends, round by round, a bounded effort per end and round, the
  // ends of the longest chains first (the longest run is what counts); an
  // end whose guesses are all ruled out is dropped. Only when the search
  // answered anything at all: if no exclusion ever removed the document,
  // there is nothing to extend.
  while (any_extension && !stalled.empty() && !run.exhausted()) {
    std::stable_sort(stalled.begin(), stalled.end(), [&](const End& x, const End& y) {
      return ideographs(run.out.chains[x.chain].text).size() >
             ideographs(run.out.chains[y.chain].text).size();
    });
    std::vector<End> still;
    for (End e : stalled) {
      if (run.exhausted()) break;
      Chain& c = run.out.chains[e.chain];
      if (options_.log) *options_.log << "retry " << (e.fwd ? "after " : "before ") << c.seed << "\n";
      run.no_guesses_left = false;
      e.tested = run.extend(c, e.fwd, e.tested, options_.queries_per_step);
      if (!run.no_guesses_left) still.push_back(e);
    }
    stalled = std::move(still);
  }
  return run.out;
}

// --- scoring ---------------------------------------------------------------------

Result<std::u32string> paid_symbols(store::DocumentStore& documents, int64_t id) {
  Result<store::StoredDocument> d = documents.get_document(id);
  if (!d.ok()) return d.status();
  std::string all;
  for (const doc::Block& b : d->parsed.blocks) {
    std::string line;
    for (size_t i = 0; i < b.runs.size(); ++i) {
      if (!b.runs[i].paid) continue;
      if (i == 0) line += b.label;
      line += b.runs[i].text;
    }
    if (!line.empty()) all += line + "\n";
  }
  return trim(symbols(all));
}

Score score(const std::u32string& paid, const std::vector<Chain>& chains) {
  const std::u32string p = ideographs(paid);
  Score best;
  for (const Chain& c : chains) {
    const std::u32string q = ideographs(c.text);
    // Longest common substring, one row at a time.
    std::vector<size_t> prev(q.size() + 1, 0), cur(q.size() + 1, 0);
    for (size_t i = 1; i <= p.size(); ++i) {
      for (size_t j = 1; j <= q.size(); ++j) {
        cur[j] = p[i - 1] == q[j - 1] ? prev[j - 1] + 1 : 0;
        if (cur[j] > best.longest) {
          best.longest = cur[j];
          best.run = to_utf8(p.substr(i - cur[j], cur[j]));
        }
      }
      std::swap(prev, cur);
    }
  }
  return best;
}

}  // namespace paidoc::search::attack
