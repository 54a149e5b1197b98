// Invariants of a parsed document, checked by the fuzz targets that end in
// doc::parse (fuzz_source, fuzz_markdown, fuzz_docx). A broken invariant
// aborts, which libFuzzer reports as a crash with the input that did it.
//
// The leak check does not trust the parser: it splits the decoded source
// text into lines and cuts each line at the paid markers itself
// (docs/format.md §2, §4.1), keeping per line the concatenation of its free
// text and of its paid text. Every free run (and the title, and a free
// heading's label) must then be a substring of its line's free text, and
// every paid run of its paid text: no byte from inside a paid section can
// reach a free run.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "doc/document.h"
#include "doc/parser.h"

namespace paidoc::fuzz {

[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz invariant broken: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

inline void check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

inline bool starts_with_marker(std::string_view s, std::string_view m) {
  if (s.size() < m.size()) return false;
  for (size_t i = 0; i < m.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != m[i]) return false;
  }
  return true;
}

// The marker spellings, lower case; opens first.
inline constexpr std::string_view kOpens[] = {"##paidbegin##", "$$paidbegin$$"};
inline constexpr std::string_view kCloses[] = {"##paidend##", "$$paidend$$"};

inline bool contains_marker(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    for (auto m : kOpens)
      if (starts_with_marker(s.substr(i), m)) return true;
    for (auto m : kCloses)
      if (starts_with_marker(s.substr(i), m)) return true;
  }
  return false;
}

// One source line's free and paid text, markers removed.
struct SplitLine {
  std::string free;
  std::string paid;
};

// Lines end at LF, CRLF or a lone CR. The paid state carries across lines.
// *sections counts the closed sections.
inline std::vector<SplitLine> split_source(std::string_view text, int* sections) {
  std::vector<SplitLine> lines(1);
  bool paid = false;
  *sections = 0;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
      lines.emplace_back();
      continue;
    }
    bool marker = false;
    for (auto m : kOpens) {
      if (starts_with_marker(text.substr(i), m)) {
        paid = true, marker = true, i += m.size();
        break;
      }
    }
    if (!marker) {
      for (auto m : kCloses) {
        if (starts_with_marker(text.substr(i), m)) {
          if (paid) ++*sections;
          paid = false, marker = true, i += m.size();
          break;
        }
      }
    }
    if (marker) continue;
    (paid ? lines.back().paid : lines.back().free).push_back(c);
    ++i;
  }
  return lines;
}

// A document that doc::parse accepted from `source_text` (decoded UTF-8).
inline void check_document(const doc::Document& d, std::string_view source_text) {
  int sections = 0;
  const std::vector<SplitLine> lines = split_source(source_text, &sections);
  std::string all_free;
  for (const auto& l : lines) all_free.append(l.free).push_back('\n');

  check(!d.title.empty(), "empty title");
  check(all_free.find(d.title) != std::string::npos, "title is not free source text", d.title);
  check(!contains_marker(d.title), "marker in the title", d.title);
  check(d.figures.paid_sections == sections, "paid_sections differs from the markers");

  for (const doc::Block& b : d.blocks) {
    check(b.line >= 1 && static_cast<size_t>(b.line) <= lines.size(), "block line out of range");
    const SplitLine& l = lines[static_cast<size_t>(b.line) - 1];
    check(!b.runs.empty(), "block without runs");
    for (const doc::Run& r : b.runs) {
      check(!r.text.empty(), "empty run");
      check(!contains_marker(r.text), "marker in a run", r.text);
      if (r.paid) {
        check(l.paid.find(r.text) != std::string::npos, "paid run is not paid source text", r.text);
      } else {
        // The leak check: a free run holds only free text of its line.
        check(l.free.find(r.text) != std::string::npos, "LEAK: free run holds text that is not free",
              r.text);
      }
    }
    if (!b.label.empty()) {
      const std::string& side = b.runs.front().paid ? l.paid : l.free;
      check(side.find(b.label) != std::string::npos, "label is not on its run's side", b.label);
    }
    check((b.kind == doc::BlockKind::kHeading) == (b.level > 0), "heading level");
    check(b.level >= 0 && b.level <= 4, "heading level out of 0..4");
  }

  // The figures are what compute_figures makes of the blocks.
  doc::Document again = d;
  doc::compute_figures(again);
  check(again.figures == d.figures, "figures differ from compute_figures");
  check(d.figures.free_chars >= 0 && d.figures.paid_chars >= 0, "negative figures");

  // The store's JSON form gives the same document back.
  nlohmann::json j = d;
  doc::Document back = j.get<doc::Document>();
  check(back == d, "JSON round trip changes the document");
}

// An error of doc::parse on `bytes`: a place inside the input and a one-line
// reason.
inline void check_error(const doc::ParseError& e, std::string_view bytes, std::string_view file) {
  check(!e.reason.empty(), "error without a reason");
  check(e.reason.find('\n') == std::string::npos, "reason is not one line", e.reason);
  check(e.file == file, "error names another file", e.file);
  size_t breaks = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\n') ++breaks;
    if (bytes[i] == '\r' && !(i + 1 < bytes.size() && bytes[i + 1] == '\n')) ++breaks;
  }
  check(e.line >= 0 && static_cast<size_t>(e.line) <= breaks + 1, "error line outside the input");
  check(e.line == 0 || e.column >= 1, "error column below 1");
  check(e.column >= 0 && static_cast<size_t>(e.column) <= bytes.size() + 1,
        "error column outside the input");
  check(e.byte_offset >= -1 && e.byte_offset < static_cast<int64_t>(bytes.size()) + 1,
        "error byte offset outside the input");
  check(!e.to_string().empty(), "empty error text");
}

}  // namespace paidoc::fuzz
