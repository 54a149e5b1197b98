// PDF writer: the view laid out on the same page grid as the docx (formats.h)
// and drawn with cairo, shaped by pango, in the Fandol fonts.
//
// Fonts. The Fandol family (Debian: texlive-lang-chinese) stands in for the
// four faces of a Chinese official document: FandolFang 仿宋 (body, level 3
// and 4 headings), FandolHei 黑体 (level 1), FandolKai 楷体 (level 2),
// FandolSong-Bold for the 方正小标宋 title and FandolSong 宋体 for page
// numbers. The directory is added to a private FcConfig at run time
// (FcConfigAppFontAddDir) behind a private PangoFontMap, so the system's
// fontconfig need not know it; system fonts stay in that config only as
// fallback for characters Fandol lacks (it covers GB 2312 and little more:
// 堃, 喆, 镕 come from e.g. Noto CJK when installed, else show as .notdef
// and drop out of the text layer).
// Fandol's bold files claim the regular weight, so weight alone cannot pick
// them: a substitute hook adds FC_STYLE "Bold"/"Regular" to every pattern,
// and every face is checked to come from its expected file.
// Cairo names the FandolSong-Bold subset "CairoFont-N-0" in pdffonts (it
// cannot read that file's PostScript name); the others keep their names.
//
// Lines. layout.cc fills each block into lines of 28 cells with 避头尾, by
// moving a character down rather than hanging punctuation (no line is wider
// than its measure). Latin runs are measured with pango in the block's face
// rather than counted as half a cell: Fandol's Latin is proportional ("W" a
// full cell, "i" a third), so counting would overfill or underfill lines.
// Each line is shaped alone by pango (a PangoLayout without wrapping) and
// placed by us at its own baseline on the 22-line grid; lines that are not
// the last of their paragraph are justified to the full measure by spacing
// clusters (never inside a Latin word), up to 8% of the font size per gap,
// beyond which the line stays ragged: pdftotext inserts a space for gaps
// over 10% of the font size, and copy-paste must not gain spaces. Body
// cells are 15.8 pt (28 in the 156 mm text block) for 16 pt characters, so
// every body line is set 0.2 pt per character tighter than its natural
// width. The title (22 pt, 20 cells a line) is broken by break_title()
// (title.h), the docx's lines, centred, followed by one blank line; headings
// keep with the next block; labels 第…章/节/条 get a U+3000 as in the docx.
//
// Trace mark. Pango turns zero-width characters (U+200B/C/D, U+2060,
// U+FEFF) into PANGO_GLYPH_EMPTY; cairo then maps their text to a cluster
// without glyphs, which it writes as an empty /ActualText span, and text
// extraction drops text that has no glyph. Verified: the mark shaped as
// ordinary text is gone from pdftotext's output. Two further traps: cairo
// pre-fills a glyph's ToUnicode entry from the font's cmap, so text hung on
// any real font glyph (even a space) goes out as /ActualText, which poppler
// reads but MuPDF 1.21 ignores; and MuPDF 1.21 ignores ToUnicode strings of
// more than 8 characters. What works: a cairo user font (a Type 3 font in
// the PDF, no cmap) whose glyphs are white specks of 1/1000 em; the mark is
// drawn with cairo_show_text_glyphs as 5 glyphs, one cluster of up to 8
// characters each, so the font's ToUnicode maps glyph i to the i-th chunk.
// The glyphs advance 1/4 em each (poppler splits narrower ones off as a
// line of their own) and start where the line's text ends, after the title
// and after every kMarkEveryParagraphs-th body block; nothing visible is
// painted, in any colour scheme. Zero-width characters of the document text
// itself are dropped (as pango/cairo do), and U+FEFF is removed from it
// first, so no text can frame a fake mark. Verified, all copies decoded:
// pdftotext and poppler-cpp page::text() (the mark ends its line) and
// MuPDF 1.21 `mutool draw -F txt` (it gathers the copies at the end of each
// page's text); pdf_test.cc checks each when installed. Not tried here:
// pdf.js, PDFium, Acrobat; they read the same plain ToUnicode map. The
// metadata copy is the PDF Keywords (metadata_mark).
//
// Caching. prepare_pdf does everything but the mark: line filling, shaping,
// page breaks, positions; the result is a list of glyph runs (cairo glyphs,
// text, clusters, a referenced cairo_scaled_font_t) per page, ~5 ms for 11
// pages once the fonts are loaded (the first call also builds the font map,
// ~30 ms). cairo cannot reuse rendered PDF output, so stamp_pdf replays the
// runs into a fresh PDF surface with the mark spots added, and cairo
// subsets and embeds the fonts again: 16-40 ms per download for 11 pages
// on a busy 2-core machine (PdfStamp.TenPagesTiming prints it), ~145 KB of
// output. Same prepared + same mark gives the same bytes (the dates are the
// document's updated_at).
// Known: cairo 1.16 leaks ~24 bytes per embedded CFF font per PDF (a
// cairo-only loop shows it too), i.e. ~150 bytes per download.
//
// Thread-safety: pango and fontconfig run under one mutex (prepare only);
// stamp uses cairo alone, whose scaled fonts are safe to share between
// threads, so stamps run in parallel.
#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-font.h>
#include <pango/pangofc-fontmap.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "export/formats.h"
#include "export/layout.h"
#include "export/title.h"

namespace paidoc::exporter::internal {

namespace {

constexpr const char* kFandolDir = "/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol";
constexpr const char* kFandolPackage = "texlive-lang-chinese";

constexpr double kPtPerMm = 72.0 / 25.4;
constexpr double kPageW = kPageWidthMm * kPtPerMm;
constexpr double kPageH = kPageHeightMm * kPtPerMm;
constexpr double kTextLeft = kLeftMarginMm * kPtPerMm;
constexpr double kTextTop = kTopMarginMm * kPtPerMm;
constexpr double kTextWidth = kTextWidthMm * kPtPerMm;
constexpr double kTextRight = kTextLeft + kTextWidth;
constexpr double kTextBottom = kTextTop + kLinesPerPage * kLinePitchPt;
// The em box of a CJK face spans 0.88 em above the baseline to 0.12 below;
// its top is the top of its line, so the first line's characters start at
// the 天头 (37 mm), as a ruler measures it.
constexpr double kAscentEm = 0.88;
// Page number: the dash (about 0.38 em above the baseline) 7 mm below the
// text block (GB/T 9704 §7.5), one character in from the block's edge.
constexpr double kPageNumberBaseline =
    kTextBottom + kPageNumberDropMm * kPtPerMm + 0.38 * kPageNumberPt;
constexpr int kBodyIndentCells = 2;
// The attachment note's items and wrapped lines start here: after the
// 2-cell indent and "附件：" (format.md §6.4).
constexpr int kAttachmentNameCells = 5;
// Justification: at most this fraction of the font size per gap.
constexpr double kMaxGapEm = 0.08;

enum Face { kFang, kHei, kKai, kTitleFace, kSong, kFaceCount };

struct FaceSpec {
  const char* family;
  bool bold;
  const char* file;
};
constexpr FaceSpec kFaces[kFaceCount] = {
    {"FandolFang", false, "FandolFang-Regular.otf"}, {"FandolHei", false, "FandolHei-Regular.otf"},
    {"FandolKai", false, "FandolKai-Regular.otf"},   {"FandolSong", true, "FandolSong-Bold.otf"},
    {"FandolSong", false, "FandolSong-Regular.otf"},
};

using ScaledFont = std::shared_ptr<cairo_scaled_font_t>;

ScaledFont share(cairo_scaled_font_t* f) {
  return ScaledFont(cairo_scaled_font_reference(f), cairo_scaled_font_destroy);
}

// Glyphs of one font at their page positions, with the text they show.
struct GlyphRun {
  ScaledFont font;
  std::vector<cairo_glyph_t> glyphs;
  std::string text;
  std::vector<cairo_text_cluster_t> clusters;
};

// Where a copy of the text mark goes: the end of a line.
struct MarkSpot {
  ScaledFont font;  // the speck font at the line's size
  double x = 0;
  double baseline = 0;
};

struct PdfPage {
  std::vector<GlyphRun> runs;
  std::vector<MarkSpot> marks;
};

class PreparedPdf final : public Prepared {
 public:
  Format format() const override { return Format::kPdf; }
  size_t bytes() const override { return bytes_; }

  std::string title;
  std::string date;  // ISO 8601, or empty
  std::vector<PdfPage> pages;
  size_t bytes_ = 0;
};

// --- fonts -----------------------------------------------------------------

std::mutex g_pango_mu;  // guards everything pango and fontconfig below

void add_style(FcPattern* p, gpointer) {
  int weight = FC_WEIGHT_REGULAR;
  FcPatternGetInteger(p, FC_WEIGHT, 0, &weight);
  FcPatternDel(p, FC_STYLE);
  FcPatternAddString(p, FC_STYLE,
                     reinterpret_cast<const FcChar8*>(weight >= FC_WEIGHT_BOLD ? "Bold" : "Regular"));
}

// The process-wide font map and context; built once, on first success.
class Fonts {
 public:
  // REQUIRES: g_pango_mu held.
  static Result<Fonts*> get() {
    static Fonts* fonts = nullptr;
    if (fonts) return fonts;
    std::error_code ec;
    for (const FaceSpec& f : kFaces) {
      std::filesystem::path file = std::filesystem::path(kFandolDir) / f.file;
      if (!std::filesystem::is_regular_file(file, ec))
        return Status::internal(std::string("pdf: Fandol font ") + f.file + " not found in " +
                                kFandolDir + " (install the Debian package " + kFandolPackage +
                                ")");
    }
    FcConfig* config = FcInitLoadConfigAndFonts();
    if (config == nullptr) return Status::internal("pdf: fontconfig failed to initialise");
    if (!FcConfigAppFontAddDir(config, reinterpret_cast<const FcChar8*>(kFandolDir))) {
      FcConfigDestroy(config);
      return Status::internal(std::string("pdf: fontconfig cannot add ") + kFandolDir);
    }
    PangoFontMap* map = pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT);
    if (map == nullptr) {
      FcConfigDestroy(config);
      return Status::internal("pdf: pango has no FreeType font map");
    }
    pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(map), config);
    FcConfigDestroy(config);  // the font map holds its own reference
    pango_fc_font_map_set_default_substitute(PANGO_FC_FONT_MAP(map), add_style, nullptr, nullptr);
    PangoContext* context = pango_font_map_create_context(map);
    cairo_font_options_t* options = cairo_font_options_create();
    // Unhinted outlines and metrics: positions are exact in a vector file.
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(context, options);
    cairo_font_options_destroy(options);
    pango_context_set_base_dir(context, PANGO_DIRECTION_LTR);
    pango_context_set_language(context, pango_language_from_string("zh-cn"));

    auto* built = new Fonts(map, context);
    for (int f = 0; f < kFaceCount; ++f) {
      Status s = built->check_face(static_cast<Face>(f));
      if (!s.is_ok()) {
        delete built;
        return s;
      }
    }
    fonts = built;
    return fonts;
  }

  PangoContext* context() const { return context_; }

  // An owned description of face at size (points).
  static PangoFontDescription* describe(Face face, double size) {
    PangoFontDescription* d = pango_font_description_new();
    pango_font_description_set_family(d, kFaces[face].family);
    pango_font_description_set_weight(d, kFaces[face].bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_absolute_size(d, size * PANGO_SCALE);
    return d;
  }

  // The loaded font of face at size; owned by the caller (g_object_unref).
  PangoFont* load(Face face, double size) const {
    PangoFontDescription* d = describe(face, size);
    PangoFont* font = pango_font_map_load_font(map_, context_, d);
    pango_font_description_free(d);
    return font;
  }

  ~Fonts() {
    g_object_unref(context_);
    g_object_unref(map_);
  }

 private:
  Fonts(PangoFontMap* map, PangoContext* context) : map_(map), context_(context) {}

  // The face must come from its own file, not a fallback.
  Status check_face(Face face) const {
    PangoFont* font = load(face, kBodyPt);
    std::string file;
    if (font && PANGO_IS_FC_FONT(font)) {
      FcChar8* path = nullptr;
      if (FcPatternGetString(pango_fc_font_get_pattern(PANGO_FC_FONT(font)), FC_FILE, 0, &path) ==
          FcResultMatch)
        file = std::filesystem::path(reinterpret_cast<const char*>(path)).filename().string();
    }
    if (font) g_object_unref(font);
    if (file != kFaces[face].file)
      return Status::internal(std::string("pdf: fontconfig gives '") + file + "' for " +
                              kFaces[face].file + " in " + kFandolDir);
    return Status();
  }

  PangoFontMap* map_;
  PangoContext* context_;
};

// --- shaping ---------------------------------------------------------------

// Shapes and places lines; one per prepare, under g_pango_mu.
class Shaper {
 public:
  explicit Shaper(const Fonts& fonts) : layout_(pango_layout_new(fonts.context())) {
    pango_layout_set_width(layout_, -1);
    pango_layout_set_single_paragraph_mode(layout_, TRUE);
  }
  ~Shaper() {
    g_object_unref(layout_);
    for (auto& [key, d] : descriptions_) pango_font_description_free(d);
  }
  Shaper(const Shaper&) = delete;
  Shaper& operator=(const Shaper&) = delete;

  // Width of text in points, shaped in face at size.
  double width(std::string_view text, Face face, double size) {
    auto key = std::make_tuple(face, size, std::string(text));
    if (auto it = widths_.find(key); it != widths_.end()) return it->second;
    set(text, face, size);
    int w = 0;
    pango_layout_get_size(layout_, &w, nullptr);
    double pt = static_cast<double>(w) / PANGO_SCALE;
    widths_.emplace(std::move(key), pt);
    return pt;
  }

  // The first font failure met, if any.
  const Status& status() const { return status_; }

  MeasureFn measure(Face face, double size) {
    return [this, face, size](std::string_view s) { return width(s, face, size) / size; };
  }

  // Shapes text in face at size and places it with its left edge at x
  // (centred on the text block when `centre`) on the baseline. A positive
  // `target` is the width to justify the line to (within kMaxGapEm);
  // otherwise the line keeps its natural width, squeezed if it overflows
  // `limit`. Appends the glyph runs to out and returns the right edge.
  double place(std::string_view text, Face face, double size, double x, double baseline,
               double target, double limit, bool centre, std::vector<GlyphRun>& out) {
    set(text, face, size);
    PangoLayoutLine* line = pango_layout_get_line_readonly(layout_, 0);
    PangoRectangle logical;
    pango_layout_line_get_extents(line, nullptr, &logical);
    const double natural = static_cast<double>(logical.width) / PANGO_SCALE;

    // Clusters in visual order, with whether a gap may go before each. A
    // right-to-left run (not expected in Chinese documents) is one cluster.
    struct Cluster {
      PangoGlyphItem* run;
      int start_glyph, end_glyph;  // [start, end)
      int start_index, end_index;  // bytes of text_
      bool gap_before;
    };
    std::vector<Cluster> clusters;
    CharClass prev = CharClass::kWide;
    for (GSList* r = line->runs; r; r = r->next) {
      auto* run = static_cast<PangoGlyphItem*>(r->data);
      if (run->item->analysis.level % 2 == 1) {
        clusters.push_back({run, 0, run->glyphs->num_glyphs, run->item->offset,
                            run->item->offset + run->item->length, false});
        prev = CharClass::kNarrow;
        continue;
      }
      PangoGlyphItemIter it;
      for (gboolean more = pango_glyph_item_iter_init_start(&it, run, text_.c_str()); more;
           more = pango_glyph_item_iter_next_cluster(&it)) {
        char32_t c;
        next_code_point(text_, it.start_index, &c);
        const CharClass cls = char_class(c);
        const bool gap = !clusters.empty() && cls != CharClass::kZeroWidth &&
                         !(cls == CharClass::kNarrow && prev == CharClass::kNarrow);
        clusters.push_back({run, it.start_glyph, it.end_glyph, it.start_index, it.end_index, gap});
        if (cls != CharClass::kZeroWidth) prev = cls;
      }
    }
    const int gaps = static_cast<int>(std::count_if(clusters.begin(), clusters.end(),
                                                     [](const Cluster& c) { return c.gap_before; }));
    double extra = 0;
    if (target > 0) extra = target - natural;
    else if (limit > 0 && natural > limit) extra = limit - natural;
    double gap = gaps > 0 ? extra / gaps : 0;
    if (gap > kMaxGapEm * size) gap = 0;  // too loose: ragged rather than spaced out
    const double width = natural + gap * gaps;
    if (centre) x = kTextLeft + (kTextWidth - width) / 2;

    double pen = x;
    PangoGlyphItem* current = nullptr;
    for (const Cluster& c : clusters) {
      if (c.run != current) {
        current = c.run;
        PangoFont* font = c.run->item->analysis.font;
        cairo_scaled_font_t* scaled =
            font ? pango_cairo_font_get_scaled_font(PANGO_CAIRO_FONT(font)) : nullptr;
        if (scaled == nullptr || cairo_scaled_font_status(scaled) != CAIRO_STATUS_SUCCESS) {
          if (status_.is_ok())
            status_ = Status::internal("pdf: no usable font for \"" + std::string(text) + "\"");
        }
        GlyphRun g;
        g.font = share(scaled);
        g.text = text_.substr(c.run->item->offset, c.run->item->length);
        out.push_back(std::move(g));
      }
      GlyphRun& g = out.back();
      if (c.gap_before) pen += gap;
      int count = 0;
      for (int i = c.start_glyph; i < c.end_glyph; ++i) {
        const PangoGlyphInfo& info = c.run->glyphs->glyphs[i];
        if (info.glyph != PANGO_GLYPH_EMPTY) {
          // A character no font has: .notdef, keeping its text.
          unsigned long index = (info.glyph & PANGO_GLYPH_UNKNOWN_FLAG) ? 0 : info.glyph;
          g.glyphs.push_back({index, pen + static_cast<double>(info.geometry.x_offset) / PANGO_SCALE,
                              baseline + static_cast<double>(info.geometry.y_offset) / PANGO_SCALE});
          ++count;
        }
        pen += static_cast<double>(info.geometry.width) / PANGO_SCALE;
      }
      // A zero-width character is a cluster without glyphs: cairo writes it
      // as an empty /ActualText span and text extraction drops it. (Hanging
      // it on the previous glyph would keep it, but would rewrite that
      // glyph's ToUnicode entry for the whole file.)
      g.clusters.push_back({c.end_index - c.start_index, count});
    }
    return x + width;
  }

 private:
  void set(std::string_view text, Face face, double size) {
    auto key = std::make_pair(face, size);
    auto it = descriptions_.find(key);
    if (it == descriptions_.end()) it = descriptions_.emplace(key, Fonts::describe(face, size)).first;
    pango_layout_set_font_description(layout_, it->second);
    text_.assign(text);
    pango_layout_set_text(layout_, text_.c_str(), static_cast<int>(text_.size()));
  }

  PangoLayout* layout_;
  Status status_;
  std::string text_;
  std::map<std::pair<Face, double>, PangoFontDescription*> descriptions_;
  std::map<std::tuple<Face, double, std::string>, double> widths_;
};

// --- page layout -------------------------------------------------------------

// Fills pages line by line on the grid.
class Pager {
 public:
  Pager(Shaper& shaper, PreparedPdf& out) : shaper_(shaper), out_(out) { new_page(); }

  int lines_left() const { return kLinesPerPage - line_; }
  void new_page() {
    out_.pages.emplace_back();
    line_ = 0;
  }
  void skip_line() {
    if (++line_ >= kLinesPerPage) new_page();
  }

  double baseline(double size) const {
    return kTextTop + line_ * kLinePitchPt + kAscentEm * size;
  }

  // Places the filled lines of one block; returns the end of the last line
  // (x, baseline) for a mark. Body lines (not `centre`) are set on cells of
  // kTextWidth / cells_per_line (15.8 pt for 16 pt characters, formats.h):
  // full lines justified to the text width, a paragraph's last
  // line at its cells' width.
  std::pair<double, double> put(const std::vector<FilledLine>& lines, Face face, double size,
                                int cells_per_line, bool centre) {
    std::pair<double, double> end{kTextLeft, baseline(size)};
    const double cell = centre ? size : kTextWidth / cells_per_line;
    for (const FilledLine& l : lines) {
      if (line_ >= kLinesPerPage) new_page();
      const double x = kTextLeft + l.indent * cell;
      const double room = (cells_per_line - l.indent) * cell;
      const double target = centre ? 0 : l.last ? l.cells * cell : room;
      const double b = baseline(size);
      double right = shaper_.place(l.text, face, size, x, b, target, centre ? kTextWidth : room, centre,
                                   out_.pages.back().runs);
      end = {right, b};
      ++line_;
    }
    return end;
  }

  // As put(), for a paragraph whose first `head_bytes` bytes are set in
  // `head_face` and the rest in `face` (a run-in heading, format.md §6.2).
  // `text` is what the lines were filled from.
  std::pair<double, double> put_mixed(const std::vector<FilledLine>& lines, std::string_view text,
                                      size_t head_bytes, Face head_face, Face face, double size) {
    std::pair<double, double> end{kTextLeft, baseline(size)};
    size_t from = 0;
    for (const FilledLine& l : lines) {
      if (line_ >= kLinesPerPage) new_page();
      // Lines hold the text in order; only spaces at breaks are dropped.
      const size_t at = std::min(text.find(l.text, from), text.size());
      from = at + l.text.size();
      const size_t split = std::clamp(head_bytes, at, from) - at;
      const double cell = kTextWidth / kCharsPerLine;
      const double x = kTextLeft + l.indent * cell;
      const double room = (kCharsPerLine - l.indent) * cell;
      const double b = baseline(size);
      auto& runs = out_.pages.back().runs;
      // Each part set on its own cells, as put() sets a paragraph's last line.
      auto on_grid = [&](std::string_view part, Face f) { return shaper_.width(part, f, size) / size * cell; };
      const std::string_view head = std::string_view(l.text).substr(0, split);
      const std::string_view rest = std::string_view(l.text).substr(split);
      double right = x;
      if (!head.empty())
        right = shaper_.place(head, head_face, size, right, b,
                              rest.empty() && !l.last ? room : on_grid(head, head_face), room, false, runs);
      if (!rest.empty()) {
        const double left = x + room - right;
        right = shaper_.place(rest, face, size, right, b, l.last ? on_grid(rest, face) : left, left,
                              false, runs);
      }
      end = {right, b};
      ++line_;
    }
    return end;
  }

  // As put(), for lines that start `first_left` cells in (the first line)
  // and `left` cells in (the others), filled to `cells` cells: the closing
  // of format.md §6.4. Each line is set on its cells' width, not justified.
  std::pair<double, double> put_at(const std::vector<FilledLine>& lines, Face face, double size,
                                   double first_left, double left, double cells) {
    std::pair<double, double> end{kTextLeft, baseline(size)};
    const double cell = kTextWidth / kCharsPerLine;
    bool first = true;
    for (const FilledLine& l : lines) {
      if (line_ >= kLinesPerPage) new_page();
      const double x = kTextLeft + (first ? first_left : left) * cell;
      const double b = baseline(size);
      end = {shaper_.place(l.text, face, size, x, b, l.cells * cell, cells * cell, false,
                           out_.pages.back().runs),
             b};
      ++line_;
      first = false;
    }
    return end;
  }

  void mark_at(std::pair<double, double> end, const MarkSpot& proto) {
    MarkSpot m = proto;
    m.x = end.first;
    m.baseline = end.second;
    out_.pages.back().marks.push_back(std::move(m));
  }

 private:
  Shaper& shaper_;
  PreparedPdf& out_;
  int line_ = 0;
};

// Document text without U+FEFF: in an exported file every U+FEFF frames a
// mark we wrote, so text cannot plant a fake one (as in docx and txt).
std::string without_frames(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t from = 0;
  for (size_t at; (at = s.find("\xEF\xBB\xBF", from)) != std::string_view::npos; from = at + 3)
    out.append(s.substr(from, at - from));
  out.append(s.substr(from));
  return out;
}

Face heading_face(int level) {
  switch (level) {
    case 1: return kHei;
    case 2: return kKai;
    default: return kFang;
  }
}

// --- the mark's font ----------------------------------------------------------

// A cairo user font (a Type 3 font in the PDF) whose every glyph is a white
// speck 1/1000 em wide, advancing kSpeckAdvanceEm. It has no character map,
// so cairo writes the text we give each glyph as the glyph's ToUnicode
// entry. Older MuPDF ignores ToUnicode strings over 8 characters, so the
// mark is spread over several glyphs of kMarkChunk characters each.
constexpr double kSpeckEm = 0.001;
constexpr double kSpeckAdvanceEm = 0.25;
constexpr int kMarkChunk = 8;

cairo_status_t render_speck(cairo_scaled_font_t*, unsigned long, cairo_t* cr,
                            cairo_text_extents_t* extents) {
  // Specks at the top and bottom of the em box give the glyph a normal
  // height, so text extraction keeps it on the line it ends.
  cairo_rectangle(cr, 0, -kAscentEm, kSpeckEm, kSpeckEm);
  cairo_rectangle(cr, 0, 1 - kAscentEm - kSpeckEm, kSpeckEm, kSpeckEm);
  cairo_fill(cr);
  extents->x_advance = kSpeckAdvanceEm;
  return CAIRO_STATUS_SUCCESS;
}

// REQUIRES: g_pango_mu held (the face is built once).
Result<ScaledFont> speck_font(double size) {
  static cairo_font_face_t* face = nullptr;
  if (face == nullptr) {
    cairo_font_face_t* f = cairo_user_font_face_create();
    cairo_user_font_face_set_render_glyph_func(f, render_speck);
    if (cairo_font_face_status(f) != CAIRO_STATUS_SUCCESS) {
      cairo_font_face_destroy(f);
      return Status::internal("pdf: cairo cannot make the mark font");
    }
    face = f;
  }
  cairo_matrix_t font_matrix, ctm;
  cairo_matrix_init_scale(&font_matrix, size, size);
  cairo_matrix_init_identity(&ctm);
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_scaled_font_t* font = cairo_scaled_font_create(face, &font_matrix, &ctm, options);
  cairo_font_options_destroy(options);
  ScaledFont shared(font, cairo_scaled_font_destroy);
  if (cairo_scaled_font_status(font) != CAIRO_STATUS_SUCCESS)
    return Status::internal("pdf: cairo cannot scale the mark font");
  return shared;
}

// The mark drawn at one spot: glyph i shows the i-th chunk of the text.
void draw_mark(cairo_t* cr, const MarkSpot& spot, std::string_view mark) {
  std::vector<cairo_glyph_t> glyphs;
  std::vector<cairo_text_cluster_t> clusters;
  cairo_matrix_t m;
  cairo_scaled_font_get_font_matrix(spot.font.get(), &m);
  const double advance = kSpeckAdvanceEm * m.xx;
  for (size_t i = 0; i < mark.size();) {
    size_t end = i;
    for (int n = 0; n < kMarkChunk && end < mark.size(); ++n) {
      char32_t c;
      end = next_code_point(mark, end, &c);
    }
    const unsigned long index = glyphs.size() + 1;
    glyphs.push_back({index, spot.x + advance * static_cast<double>(glyphs.size()), spot.baseline});
    clusters.push_back({static_cast<int>(end - i), 1});
    i = end;
  }
  cairo_set_scaled_font(cr, spot.font.get());
  cairo_show_text_glyphs(cr, mark.data(), static_cast<int>(mark.size()), glyphs.data(),
                         static_cast<int>(glyphs.size()), clusters.data(),
                         static_cast<int>(clusters.size()), cairo_text_cluster_flags_t(0));
}

Status layout_document(const gate::DocumentView& view, const Fonts& fonts, PreparedPdf& out) {
  Shaper shaper(fonts);
  Pager pager(shaper, out);

  Result<ScaledFont> body_speck = speck_font(kBodyPt);
  if (!body_speck.ok()) return body_speck.status();
  Result<ScaledFont> title_speck = speck_font(kTitlePt);
  if (!title_speck.ok()) return title_speck.status();
  const MarkSpot body_mark{*body_speck, 0, 0};
  const MarkSpot title_mark{*title_speck, 0, 0};

  // Title: centred lines of 22 pt cells, broken as in the docx (title.h),
  // then one blank line.
  std::vector<FilledLine> title_lines;
  for (std::string& text : break_title(without_frames(view.title), kTitleCharsPerLine))
    title_lines.push_back({std::move(text), 0, 0, false});
  if (!title_lines.empty()) title_lines.back().last = true;
  std::optional<std::pair<double, double>> last_end;  // end of the last line placed
  if (!title_lines.empty()) {
    last_end = pager.put(title_lines, kTitleFace, kTitlePt, kTitleCharsPerLine, /*centre=*/true);
    pager.mark_at(*last_end, title_mark);
    pager.skip_line();
  }

  // Body blocks.
  std::vector<const gate::ViewBlock*> blocks;
  for (const auto& b : view.blocks)
    if (b.kind != gate::ViewBlock::Kind::kLocked) blocks.push_back(&b);
  // format.md §6.4: where the signature lines and the date start, in cells.
  const doc::ClosingPlaces closing = closing_places(view.blocks, shaper.measure(kFang, kBodyPt));
  int count = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const gate::ViewBlock& b = *blocks[i];
    const bool heading = b.kind == gate::ViewBlock::Kind::kHeading;
    const Face face = heading ? heading_face(b.level) : kFang;
    // As in the docx: "第一章　总则", other labels run into their text.
    const bool spaced = spaced_label(b.label);
    const std::string text =
        without_frames(heading ? b.label + (spaced ? "\u3000" : "") + b.text : b.text);
    // A run-in heading and its run-in block are one body paragraph, the
    // heading part in the heading's face (format.md §6.2).
    if (heading && i + 1 < blocks.size() && blocks[i + 1]->run_in) {
      const std::string whole = text + without_frames(blocks[i + 1]->text);
      auto lines = fill_lines(whole, kBodyIndentCells, kCharsPerLine, shaper.measure(kFang, kBodyPt));
      if (!lines.empty()) last_end = pager.put_mixed(lines, whole, text.size(), face, kFang, kBodyPt);
      for (int k = 0; k < 2; ++k)
        if (++count % kMarkEveryParagraphs == 0 && last_end) pager.mark_at(*last_end, body_mark);
      ++i;
      continue;
    }
    // The closing (format.md §6.4): a blank line above the attachment note
    // and above the signature; the note's items under its first item's
    // number ("附件：" is 3 cells); signature and date at their places.
    if (b.closing != doc::Closing::kNone) {
      const doc::Closing previous = i > 0 ? blocks[i - 1]->closing : doc::Closing::kNone;
      if (closing_gap(previous, b.closing)) pager.skip_line();
      const MeasureFn narrow = shaper.measure(kFang, kBodyPt);
      const std::string shown = without_frames(closing_text(b));
      double first_left = kAttachmentNameCells;
      double left = kAttachmentNameCells;
      if (b.closing == doc::Closing::kAttachment && previous != doc::Closing::kAttachment)
        first_left = kBodyIndentCells;
      if (b.closing == doc::Closing::kSignature) first_left = left = closing.signature_start;
      if (b.closing == doc::Closing::kDate) first_left = left = closing.date_start;
      const double cells = kCharsPerLine - left;
      auto lines = fill_lines(shown, 0, static_cast<int>(cells), narrow);
      if (!lines.empty()) last_end = pager.put_at(lines, kFang, kBodyPt, first_left, left, cells);
      if (++count % kMarkEveryParagraphs == 0 && last_end) pager.mark_at(*last_end, body_mark);
      continue;
    }
    auto lines = fill_lines(text, kBodyIndentCells, kCharsPerLine, shaper.measure(face, kBodyPt));
    if (!lines.empty()) {
      // A heading is not left alone at the foot of a page.
      if (heading && i + 1 < blocks.size() &&
          static_cast<int>(lines.size()) + 1 > pager.lines_left() &&
          static_cast<int>(lines.size()) < kLinesPerPage)
        pager.new_page();
      last_end = pager.put(lines, face, kBodyPt, kCharsPerLine, /*centre=*/false);
    }
    // Blocks are counted as in the other formats, blank ones included.
    if (++count % kMarkEveryParagraphs == 0 && last_end) pager.mark_at(*last_end, body_mark);
  }
  if (pager.lines_left() == kLinesPerPage && out.pages.size() > 1) out.pages.pop_back();

  // Page numbers: "— N —", odd pages right, even pages left, one character in.
  const int total = static_cast<int>(out.pages.size());
  for (int p = 1; p <= total; ++p) {
    const std::string number = "— " + std::to_string(p) + " —";
    const double w = shaper.width(number, kSong, kPageNumberPt);
    const double x = p % 2 == 1 ? kTextRight - kPageNumberPt - w : kTextLeft + kPageNumberPt;
    shaper.place(number, kSong, kPageNumberPt, x, kPageNumberBaseline, 0, 0, false,
                 out.pages[p - 1].runs);
  }

  if (!shaper.status().is_ok()) return shaper.status();

  size_t bytes = sizeof(PreparedPdf) + out.title.size();
  for (const auto& page : out.pages) {
    bytes += sizeof(PdfPage) + page.marks.size() * sizeof(MarkSpot);
    for (const auto& r : page.runs)
      bytes += sizeof(GlyphRun) + r.glyphs.size() * sizeof(cairo_glyph_t) + r.text.size() +
               r.clusters.size() * sizeof(cairo_text_cluster_t);
  }
  out.bytes_ = bytes;
  return Status();
}

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

Result<std::shared_ptr<const Prepared>> prepare_pdf(const gate::DocumentView& view) {
  if (view.locked) return Status::forbidden("pdf: the view has no access to the paid text");
  auto out = std::make_shared<PreparedPdf>();
  out->title = view.title;
  out->date = utc_timestamp(view.updated_at);
  std::lock_guard<std::mutex> lock(g_pango_mu);
  Result<Fonts*> fonts = Fonts::get();
  if (!fonts.ok()) return fonts.status();
  Status s = layout_document(view, **fonts, *out);
  if (!s.is_ok()) return s;
  return std::shared_ptr<const Prepared>(std::move(out));
}

Result<std::string> stamp_pdf(const Prepared& p, const Mark& mark) {
  const auto* pdf = dynamic_cast<const PreparedPdf*>(&p);
  if (pdf == nullptr) return Status::internal("pdf: stamp given a prepared document of another format");
  const TracePayload payload{mark.download_id, mark.nonce};
  const std::string text_mark = encode_mark(payload);
  const std::string keywords = metadata_mark(payload);

  std::string bytes;
  cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(append, &bytes, kPageW, kPageH);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, pdf->title.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_KEYWORDS, keywords.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "paidoc");
  if (!pdf->date.empty()) {
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, pdf->date.c_str());
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, pdf->date.c_str());
  }
  cairo_t* cr = cairo_create(surface);
  for (const PdfPage& page : pdf->pages) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (const GlyphRun& r : page.runs) {
      cairo_set_scaled_font(cr, r.font.get());
      cairo_show_text_glyphs(cr, r.text.data(), static_cast<int>(r.text.size()), r.glyphs.data(),
                             static_cast<int>(r.glyphs.size()), r.clusters.data(),
                             static_cast<int>(r.clusters.size()), cairo_text_cluster_flags_t(0));
    }
    cairo_set_source_rgb(cr, 1, 1, 1);
    for (const MarkSpot& m : page.marks) draw_mark(cr, m, text_mark);
    cairo_show_page(cr);
  }
  cairo_status_t status = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS)
    return Status::internal(std::string("pdf: cairo: ") + cairo_status_to_string(status));
  return bytes;
}

}  // namespace paidoc::exporter::internal
