// Small .docx files written by the tests themselves: the XML parts as
// strings, zipped with libzip in memory.
#pragma once

#include <zip.h>

#include <string>
#include <utility>
#include <vector>

namespace paidoc::testing {

// A zip archive holding `parts` (name, bytes); empty on a libzip failure.
inline std::string zip_of(const std::vector<std::pair<std::string, std::string>>& parts) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_t* z = out ? zip_open_from_source(out, ZIP_TRUNCATE, &err) : nullptr;
  zip_error_fini(&err);
  if (z == nullptr) {
    if (out) zip_source_free(out);
    return "";
  }
  zip_source_keep(out);  // survives zip_close, which writes into it
  for (const auto& [name, data] : parts) {
    zip_source_t* s = zip_source_buffer(z, data.data(), data.size(), 0);
    if (s == nullptr || zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE) < 0) {
      if (s) zip_source_free(s);
      zip_discard(z);
      zip_source_free(out);
      return "";
    }
  }
  std::string bytes;
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_close(z) == 0 && zip_source_stat(out, &st) == 0 && zip_source_open(out) == 0) {
    bytes.resize(st.size);
    zip_int64_t got = zip_source_read(out, bytes.data(), st.size);
    zip_source_close(out);
    if (got < 0 || static_cast<zip_uint64_t>(got) != st.size) bytes.clear();
  }
  zip_source_free(out);
  return bytes;
}

inline constexpr const char* kWordNs =
    "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"";

// One paragraph of plain runs: p({"##paid", "begin##正文"}) splits a marker
// across two runs as Word does.
inline std::string p(const std::vector<std::string>& runs, const std::string& style = "") {
  std::string out = "<w:p>";
  if (!style.empty()) out += "<w:pPr><w:pStyle w:val=\"" + style + "\"/></w:pPr>";
  for (const auto& r : runs) out += "<w:r><w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\">" + r + "</w:t></w:r>";
  return out + "</w:p>";
}

// A .docx whose body is `body` (w:p / w:tbl elements); styles and numbering
// are the inner elements of word/styles.xml and word/numbering.xml, left out
// when empty.
inline std::string docx(const std::string& body, const std::string& styles = "",
                        const std::string& numbering = "") {
  std::vector<std::pair<std::string, std::string>> parts = {
      {"[Content_Types].xml",
       "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types "
       "xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"},
      {"word/document.xml", std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document ") + kWordNs +
                                "><w:body>" + body + "<w:sectPr/></w:body></w:document>"},
  };
  if (!styles.empty())
    parts.push_back({"word/styles.xml", std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:styles ") +
                                            kWordNs + ">" + styles + "</w:styles>"});
  if (!numbering.empty())
    parts.push_back({"word/numbering.xml", std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:numbering ") +
                                               kWordNs + ">" + numbering + "</w:numbering>"});
  return zip_of(parts);
}

}  // namespace paidoc::testing
