// Format names and the dispatch from export.h to the per-format writers in
// formats.h (docx.cc, pdf.cc, txt.cc).
#include "export/export.h"

#include <algorithm>
#include <ctime>

#include "doc/document.h"
#include "export/formats.h"
#include "export/layout.h"

namespace paidoc::exporter {
namespace {

// Length of the UTF-8 sequence led by c (1 for a stray byte).
size_t sequence_length(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xE) return 3;
  if ((c >> 3) == 0x1E) return 4;
  return 1;
}

bool is_blank(std::string_view cp) {
  return cp == " " || cp == "\t" || cp == "\xE3\x80\x80";  // U+3000
}

// Characters that a file name may not hold on Windows, macOS or Linux, or
// that have no business there (controls, zero-width and format characters).
bool unsafe_in_file_name(std::string_view cp) {
  if (cp.size() == 1) {
    unsigned char c = static_cast<unsigned char>(cp[0]);
    return c < 0x20 || c == 0x7F || std::string_view("\\/:*?\"<>|").find(cp[0]) != std::string_view::npos;
  }
  return cp == "\xE2\x80\x8B" || cp == "\xE2\x80\x8C" || cp == "\xE2\x80\x8D" ||
         cp == "\xE2\x81\xA0" || cp == "\xEF\xBB\xBF" || cp == "\xE2\x80\xA8" ||
         cp == "\xE2\x80\xA9";
}

// File names are clipped to this many code points (before the extension).
constexpr int kMaxNameChars = 80;

}  // namespace

std::optional<Format> parse_format(std::string_view name) {
  if (name == "docx") return Format::kDocx;
  if (name == "pdf") return Format::kPdf;
  if (name == "txt") return Format::kTxt;
  return std::nullopt;
}

const char* format_name(Format f) {
  switch (f) {
    case Format::kDocx: return "docx";
    case Format::kPdf: return "pdf";
    case Format::kTxt: return "txt";
  }
  return "txt";
}

const char* content_type(Format f) {
  switch (f) {
    case Format::kDocx:
      return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    case Format::kPdf: return "application/pdf";
    case Format::kTxt: return "text/plain; charset=utf-8";
  }
  return "application/octet-stream";
}

const char* extension(Format f) {
  switch (f) {
    case Format::kDocx: return ".docx";
    case Format::kPdf: return ".pdf";
    case Format::kTxt: return ".txt";
  }
  return "";
}

Result<std::shared_ptr<const Prepared>> prepare(const gate::DocumentView& view, Format format) {
  if (view.locked) return Status::forbidden("export: the view has no access to the paid text");
  switch (format) {
    case Format::kDocx: return internal::prepare_docx(view);
    case Format::kPdf: return internal::prepare_pdf(view);
    case Format::kTxt: return internal::prepare_txt(view);
  }
  return Status::invalid("export: unknown format");
}

Result<std::string> stamp(const Prepared& prepared, const Mark& mark) {
  switch (prepared.format()) {
    case Format::kDocx: return internal::stamp_docx(prepared, mark);
    case Format::kPdf: return internal::stamp_pdf(prepared, mark);
    case Format::kTxt: return internal::stamp_txt(prepared, mark);
  }
  return Status::invalid("export: unknown format");
}

Result<std::string> render(const gate::DocumentView& view, Format format, const Mark& mark) {
  auto prepared = prepare(view, format);
  if (!prepared.ok()) return prepared.status();
  return stamp(**prepared, mark);
}

std::string file_name(const gate::DocumentView& view, Format format) {
  // Unsafe characters become "_"; runs of blanks one space; blanks and dots
  // at either end are dropped (Windows refuses a trailing dot).
  std::string name;
  std::string_view t = view.title;
  int chars = 0;
  bool pending_blank = false;
  for (size_t i = 0; i < t.size() && chars < kMaxNameChars;) {
    size_t len = std::min(sequence_length(static_cast<unsigned char>(t[i])), t.size() - i);
    std::string_view cp = t.substr(i, len);
    i += len;
    if (is_blank(cp)) {
      pending_blank = !name.empty();
      continue;
    }
    if (pending_blank) {
      name += ' ';
      ++chars;
      pending_blank = false;
    }
    if (unsafe_in_file_name(cp)) {
      name += '_';
    } else if (len == 1 && static_cast<unsigned char>(cp[0]) >= 0x80) {
      name += '_';  // a stray byte: never pass broken UTF-8 on
    } else {
      name += cp;
    }
    ++chars;
  }
  while (!name.empty() && (name.back() == '.' || name.back() == ' ')) name.pop_back();
  size_t lead = name.find_first_not_of(". ");
  name = lead == std::string::npos ? std::string() : name.substr(lead);
  if (name.empty()) name = "document";
  return name + extension(format);
}

namespace internal {

bool spaced_label(std::string_view label) { return doc::spaced_label(label); }

doc::ClosingPlaces closing_places(const std::vector<gate::ViewBlock>& blocks,
                                  const std::function<double(std::string_view)>& narrow) {
  std::vector<double> signature;
  double date = 0;
  for (const auto& b : blocks) {
    if (b.closing == doc::Closing::kSignature) signature.push_back(text_cells(b.text, narrow));
    if (b.closing == doc::Closing::kDate) date = text_cells(closing_text(b), narrow);
  }
  return doc::place_closing(signature, date, kCharsPerLine);
}

bool closing_gap(doc::Closing previous, doc::Closing current) {
  return previous == doc::Closing::kNone ||
         (current != doc::Closing::kAttachment && previous == doc::Closing::kAttachment);
}

std::string closing_text(const gate::ViewBlock& b) {
  return b.closing == doc::Closing::kDate ? doc::official_date(b.text).value_or(b.text) : b.text;
}

std::string utc_timestamp(int64_t unix_seconds) {
  if (unix_seconds <= 0) return {};
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace internal
}  // namespace paidoc::exporter
