// The document model: what the parser makes of a source file and what the
// store keeps. docs/format.md is the specification; this is its data shape.
//
// A Document is the full text, paid runs included. It must never be rendered
// directly: the gate (gate/gate.h) turns it into a view for a viewer, and
// only views are rendered.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace paidoc::doc {

// A stretch of text that is either free or paid. Text is UTF-8 without the
// markers and without leading indentation.
struct Run {
  std::string text;
  bool paid = false;
  bool operator==(const Run&) const = default;
};

enum class BlockKind { kHeading, kParagraph };

// One heading or one paragraph. A source line becomes one block, or two when
// a heading line carries body text after its first "。" (heading, then a
// paragraph with the rest). A marker inside a line splits the block's text
// into several runs.
struct Block {
  BlockKind kind = BlockKind::kParagraph;
  // Heading level 1..4 (docs/format.md, "Headings"); 0 for paragraphs.
  int level = 0;
  // Heading numbering as written ("一、", "（一）", "1.", "（1）", "第一章").
  // Empty for paragraphs. Belongs to the first run's side (free or paid).
  std::string label;
  std::vector<Run> runs;
  // 1-based source line the block came from.
  int line = 0;
  // Count of indentation characters (ASCII space = 1, U+3000 = 2, tab = 4)
  // stripped from the start of the line.
  int indent = 0;

  bool has_paid() const;
  bool has_free() const;
  // All runs' text joined (paid included): for the gate and tests only.
  std::string full_text() const;
  bool operator==(const Block&) const = default;
};

// Counts of characters (Unicode code points, whitespace excluded) and of
// blocks. A block with both free and paid runs counts in both paragraph
// figures. Labels count as characters of their block's first run side.
struct Figures {
  int64_t free_chars = 0;
  int64_t paid_chars = 0;
  int64_t free_paragraphs = 0;  // blocks (headings included) with free text
  int64_t paid_paragraphs = 0;  // blocks (headings included) with paid text
  int paid_sections = 0;        // ##paidbegin## ... ##paidend## pairs
  bool operator==(const Figures&) const = default;
};

struct Document {
  std::string title;  // always free
  std::vector<Block> blocks;
  Figures figures;
  // "utf-8", "utf-8-bom" or "gb18030": what the source was decoded from.
  std::string source_encoding;
  bool operator==(const Document&) const = default;
};

// Recomputes d.figures from its blocks (paid_sections is kept as is).
void compute_figures(Document& d);

// Number of code points in UTF-8 text, whitespace (ASCII and U+3000) excluded.
int64_t count_chars(std::string_view utf8);

// JSON form used by the store for the parsed document.
void to_json(nlohmann::json& j, const Document& d);
void from_json(const nlohmann::json& j, Document& d);

}  // namespace paidoc::doc
