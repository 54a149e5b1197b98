#include "sources/sources.h"

#include <algorithm>
#include <string>

namespace paidoc::sources {

namespace {

std::string lower_extension(std::string_view path) {
  const size_t slash = path.find_last_of("/\\");
  const size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return "";
  std::string ext(path.substr(dot));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  return ext;
}

// Lines of `text` (which ends every line with '\n').
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = std::min(utf8_length(static_cast<unsigned char>(s[i])), s.size() - i);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// The column in `source` (the Markdown line) of the character at `column` of
// `produced` (the converted line). Conversion only removes syntax (`*`, `[`,
// `](…)`, `> `, `# `), so the produced text is a subsequence of the source
// line: walk both, matching each produced character at the next equal
// source character. A character not found (an entity, an escape) leaves the
// column at the last match.
int source_column(std::string_view produced, std::string_view source, int column) {
  const std::vector<std::string_view> p = code_points(produced);
  const std::vector<std::string_view> s = code_points(source);
  size_t j = 0;
  int last = 1;
  for (size_t i = 0; i < p.size() && static_cast<int>(i) < column; ++i) {
    size_t k = j;
    while (k < s.size() && s[k] != p[i]) ++k;
    if (k == s.size()) return last;
    last = static_cast<int>(k) + 1;
    j = k + 1;
  }
  return last;
}

}  // namespace

Format format_of(std::string_view path) {
  const std::string ext = lower_extension(path);
  if (ext == ".md" || ext == ".markdown") return Format::kMarkdown;
  if (ext == ".docx") return Format::kDocx;
  return Format::kText;
}

bool is_source_name(std::string_view path) {
  const std::string ext = lower_extension(path);
  return ext == ".txt" || ext == ".md" || ext == ".markdown" || ext == ".docx";
}

Loaded load(std::string_view bytes, std::string_view file) {
  Loaded out;
  const Format format = format_of(file);
  if (format == Format::kText) {
    out.parsed = doc::parse(bytes, file);
    if (out.parsed.ok) {
      std::string encoding;
      doc::ParseError ignored;
      doc::decode(bytes, &out.source_text, &encoding, &ignored);
    }
    return out;
  }
  Converted c = format == Format::kMarkdown ? convert_markdown(bytes, file) : convert_docx(bytes, file);
  if (!c.ok) {
    out.parsed.error = std::move(c.error);
    return out;
  }
  out.parsed = doc::parse(c.text, file);
  const std::vector<std::string_view> produced = lines_of(c.text);
  auto origin = [&](int line) {
    return line >= 1 && static_cast<size_t>(line) <= c.origins.size() ? c.origins[line - 1] : Origin{};
  };
  if (!out.parsed.ok) {
    doc::ParseError& e = out.parsed.error;
    const Origin o = origin(e.line);
    if (format == Format::kDocx) {
      e.paragraph = std::max(1, o.paragraph);
      e.line = e.column = 0;
    } else if (o.line > 0) {
      e.column = source_column(produced[e.line - 1], c.source_lines[o.line - 1], e.column);
      e.line = o.line;
    }
    return out;
  }
  for (doc::Block& b : out.parsed.document.blocks) {
    const Origin o = origin(b.line);
    b.line = format == Format::kDocx ? o.paragraph : o.line;
  }
  out.parsed.document.source_encoding = c.encoding;
  out.source_text = std::move(c.text);
  return out;
}

}  // namespace paidoc::sources
