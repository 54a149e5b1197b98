// Internal to src/export: the per-format renderers export.cc dispatches to,
// and what they share. Nothing outside src/export includes this.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "export/export.h"
#include "export/trace.h"
#include "gate/gate.h"

namespace paidoc::exporter::internal {

// The text mark (encode_mark) goes after the title and after every
// kMarkEveryParagraphs-th body block (heading or paragraph), in every
// format, so a pasted part of the text usually carries one whole copy.
inline constexpr int kMarkEveryParagraphs = 3;

// Page geometry shared by the docx and pdf writers (see export.h).
inline constexpr double kPageWidthMm = 210.0;
inline constexpr double kPageHeightMm = 297.0;
// GB/T 9704 §5.2.1: the text block (版心) is 156 mm wide; its top edge, the
// top of the first line's characters, is 37 mm (天头) below the page's top
// edge; its left edge is 28 mm (订口) from the page's left edge. 28
// characters fill a line, so a character cell is 156 mm / 28 = 15.8 pt, a
// little narrower than the 16 pt character: the characters are set 0.2 pt
// tighter, which their side bearings absorb.
inline constexpr double kTopMarginMm = 37.0;     // 天头
inline constexpr double kLeftMarginMm = 28.0;    // 订口
inline constexpr double kTextWidthMm = 156.0;
inline constexpr double kRightMarginMm = kPageWidthMm - kLeftMarginMm - kTextWidthMm;  // 26
inline constexpr double kLinePitchPt = 28.95;    // 579 twips
inline constexpr int kLinesPerPage = 22;
inline constexpr int kCharsPerLine = 28;
inline constexpr double kBodyPt = 16.0;          // 3号
inline constexpr double kTitlePt = 22.0;         // 2号
// A title line holds this many 22 pt characters (break_title, title.h).
inline constexpr int kTitleCharsPerLine = static_cast<int>(kTextWidthMm / 25.4 * 72.0 / kTitlePt);  // 20
inline constexpr double kPageNumberPt = 14.0;    // 4号
// The page number's dash line stands this far below the text block's lower
// edge (kTopMarginMm + kLinesPerPage lines; GB/T 9704 §7.5).
inline constexpr double kPageNumberDropMm = 7.0;

// The metadata copy of the mark: "paidoc-trace:" + 16 lower-case hex digits
// of (download_id << 32 | nonce). Written to docx custom properties
// (property "paidoc-trace") and to the PDF Keywords.
std::string metadata_mark(const TracePayload& p);
std::optional<TracePayload> parse_metadata_mark(std::string_view s);

// "第一章", "第二节", "第三条" are followed by an ideographic space, as in
// printed regulations; other labels ("一、", "（一）", "1.") run into the
// text. Same in every format.
bool spaced_label(std::string_view label);

// format.md §6.4: where the view's signature lines and date start on a
// line of kCharsPerLine cells, their widths measured with `narrow` for
// half-width text (half a cell per character when empty).
doc::ClosingPlaces closing_places(const std::vector<gate::ViewBlock>& blocks,
                                  const std::function<double(std::string_view)>& narrow = {});

// Whether a blank line goes above a closing block after a block whose role
// was `previous`: above the attachment note, and above the signature (or
// the date when there is no signature).
bool closing_gap(doc::Closing previous, doc::Closing current);

// The text a block shows: a date the official way (doc::official_date).
std::string closing_text(const gate::ViewBlock& b);

// "2026-03-02T08:00:00Z" (UTC), or "" for 0: document dates in metadata.
std::string utc_timestamp(int64_t unix_seconds);

Result<std::shared_ptr<const Prepared>> prepare_docx(const gate::DocumentView& view);
Result<std::string> stamp_docx(const Prepared& p, const Mark& mark);

Result<std::shared_ptr<const Prepared>> prepare_pdf(const gate::DocumentView& view);
Result<std::string> stamp_pdf(const Prepared& p, const Mark& mark);

Result<std::shared_ptr<const Prepared>> prepare_txt(const gate::DocumentView& view);
Result<std::string> stamp_txt(const Prepared& p, const Mark& mark);

}  // namespace paidoc::exporter::internal
