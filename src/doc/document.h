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
#include <optional>
#include <string>
#include <string_view>
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

// A paragraph's part in a document's closing (format.md §6.4): the
// attachment note (附件说明), the signature (落款) and the date.
enum class Closing { kNone, kAttachment, kSignature, kDate };

// One heading or one paragraph. A source line becomes one block, or two when
// a heading runs in (format.md §6.2): the heading, then a paragraph with
// run_in set that holds the heading's terminator ("。", "：", …) and the rest
// of the line. A marker inside a line splits the block's text into runs.
struct Block {
  BlockKind kind = BlockKind::kParagraph;
  // Heading level 1..4 (docs/format.md, "Headings"); 0 for paragraphs.
  int level = 0;
  // Heading numbering as written ("一、", "（一）", "1.", "（1）", "第一章",
  // "第三条"). Empty for paragraphs. Belongs to the first run's side (free or
  // paid). An article heading (第X条) has one empty run: its text all runs in.
  std::string label;
  std::vector<Run> runs;
  // 1-based source line the block came from.
  int line = 0;
  // Count of indentation characters (ASCII space = 1, U+3000 = 2, tab = 4)
  // stripped from the start of the line.
  int indent = 0;
  // A paragraph that continues the heading block before it in the same
  // paragraph (a run-in heading, format.md §6.2). Always false on headings.
  // Renderers show the heading and this block as one paragraph.
  bool run_in = false;
  // The paragraph's closing role (format.md §6.4); kNone on headings.
  Closing closing = Closing::kNone;

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
  // Paragraphs as a reader sees them: a block, or a heading with its run-in
  // block (format.md §7).
  int64_t free_paragraphs = 0;  // paragraphs (headings included) with free text
  int64_t paid_paragraphs = 0;  // paragraphs (headings included) with paid text
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

// Whether a heading label is shown with one U+3000 before its text
// (format.md §6.1): the 第 labels, "第一章　总则", "第五条　…". Other labels run
// into their text ("一、总体要求").
bool spaced_label(std::string_view label);

// A date as format.md §6.4 reads one ("2024年1月5日", "二〇二四年一月五日",
// "２０２４年01月05日"; whitespace around it ignored), written the official
// way: Arabic numerals, no leading zeros ("2024年1月5日"). nullopt when the
// text is not such a date.
std::optional<std::string> official_date(std::string_view text);

// format.md §6.4: where the signature lines and the date start on a line of
// line_cells cells (GB/T 9704 §7.3.5), from their widths in cells. Every
// signature line starts at signature_start (they align on the longest); the
// date starts 2 cells right of it, or keeps 2 cells from the right edge when
// it is longer than that allows. With no signature (empty widths) the date
// keeps 2 cells from the right edge. Starts are never below 0.
struct ClosingPlaces {
  double signature_start = 0;
  double date_start = 0;
};
ClosingPlaces place_closing(const std::vector<double>& signature_cells, double date_cells,
                            double line_cells);

// Width of text in cells as printed on a character grid: a full-width
// character is one cell, an ASCII character half of one.
double grid_cells(std::string_view text);

// Number of code points in UTF-8 text, whitespace (ASCII and U+3000) excluded.
int64_t count_chars(std::string_view utf8);

// JSON form used by the store for the parsed document.
void to_json(nlohmann::json& j, const Document& d);
void from_json(const nlohmann::json& j, Document& d);

}  // namespace paidoc::doc
