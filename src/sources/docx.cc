// .docx -> paidoc source text with libzip + pugixml (docs/format.md §10.2).
#include <zip.h>

#include <array>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <tuple>

#include "sources/sources.h"

namespace paidoc::sources {

namespace {

constexpr zip_uint64_t kMaxPartBytes = 64u << 20;

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

// nullopt when the part is absent or cannot be read (*error says which).
std::optional<std::string> read_part(zip_t* z, const char* name, std::string* error) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(z, name, 0, &st) != 0) {
    *error = std::string(name) + " is missing";
    return std::nullopt;
  }
  if (!(st.valid & ZIP_STAT_SIZE) || st.size > kMaxPartBytes) {
    *error = std::string(name) + " is too large";
    return std::nullopt;
  }
  zip_file_t* f = zip_fopen(z, name, 0);
  if (f == nullptr) {
    *error = std::string("cannot read ") + name + ": " + zip_strerror(z);
    return std::nullopt;
  }
  std::string out(st.size, '\0');
  zip_int64_t got = zip_fread(f, out.data(), st.size);
  zip_fclose(f);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size) {
    *error = std::string("cannot read ") + name + ": the archive is damaged";
    return std::nullopt;
  }
  return out;
}

std::string_view local_name(const char* name) {
  std::string_view n(name);
  const size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

// The w: child named `local` (prefixes vary between producers).
pugi::xml_node child(pugi::xml_node n, std::string_view local) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling())
    if (c.type() == pugi::node_element && local_name(c.name()) == local) return c;
  return {};
}

const char* attr(pugi::xml_node n, std::string_view local) {
  for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute())
    if (local_name(a.name()) == local) return a.value();
  return "";
}

// ---- styles ----------------------------------------------------------------

struct Style {
  std::string name;
  std::string based_on;
  std::string num_id;  // numbering linked to the style
  int ilvl = 0;
};

class Styles {
 public:
  void load(const pugi::xml_document& xml) {
    for (pugi::xml_node s = child(xml.document_element(), "style"); s; s = s.next_sibling()) {
      if (local_name(s.name()) != "style") continue;
      Style st;
      st.name = attr(child(s, "name"), "val");
      st.based_on = attr(child(s, "basedOn"), "val");
      pugi::xml_node num = child(child(s, "pPr"), "numPr");
      st.num_id = attr(child(num, "numId"), "val");
      st.ilvl = std::atoi(attr(child(num, "ilvl"), "val"));
      styles_[attr(s, "styleId")] = st;
    }
  }

  // The numbering a style gives its paragraphs (numId, ilvl), following
  // basedOn.
  std::pair<std::string, int> numbering(std::string id) const {
    for (int step = 0; step < 10 && !id.empty(); ++step) {
      auto it = styles_.find(id);
      if (it == styles_.end()) break;
      if (!it->second.num_id.empty()) return {it->second.num_id, it->second.ilvl};
      id = it->second.based_on;
    }
    return {"", 0};
  }

 private:
  std::map<std::string, Style> styles_;
};

// ---- numbering -------------------------------------------------------------

struct Level {
  int start = 1;
  std::string format = "decimal";
  std::string text;  // lvlText, e.g. "%1、"
};

std::string chinese_number(int n) {
  static const char* digits[] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
  if (n <= 0 || n >= 100) return std::to_string(n);
  if (n < 10) return digits[n];
  std::string out = n / 10 == 1 ? "" : digits[n / 10];
  out += "十";
  if (n % 10) out += digits[n % 10];
  return out;
}

std::string format_number(int n, const std::string& format) {
  if (format == "chineseCounting" || format == "chineseCountingThousand" ||
      format == "japaneseCounting" || format == "ideographDigital" || format == "taiwaneseCounting")
    return chinese_number(n);
  if (format == "decimalFullWidth" || format == "decimalFullWidth2") {
    std::string out;
    for (char c : std::to_string(n)) out += std::string("\xEF\xBC") + static_cast<char>(0x90 + (c - '0'));
    return out;
  }
  if ((format == "upperLetter" || format == "lowerLetter") && n >= 1 && n <= 26)
    return std::string(1, static_cast<char>((format == "upperLetter" ? 'A' : 'a') + n - 1));
  return std::to_string(n);
}

class Numbering {
 public:
  void load(const pugi::xml_document& xml) {
    std::map<std::string, std::array<Level, 9>> abstract;
    pugi::xml_node root = xml.document_element();
    for (pugi::xml_node a = root.first_child(); a; a = a.next_sibling()) {
      if (local_name(a.name()) != "abstractNum") continue;
      std::array<Level, 9>& levels = abstract[attr(a, "abstractNumId")];
      for (pugi::xml_node l = a.first_child(); l; l = l.next_sibling()) {
        if (local_name(l.name()) != "lvl") continue;
        const int i = std::atoi(attr(l, "ilvl"));
        if (i < 0 || i > 8) continue;
        if (pugi::xml_node s = child(l, "start")) levels[i].start = std::atoi(attr(s, "val"));
        if (pugi::xml_node f = child(l, "numFmt")) levels[i].format = attr(f, "val");
        if (pugi::xml_node t = child(l, "lvlText")) levels[i].text = attr(t, "val");
      }
    }
    for (pugi::xml_node n = root.first_child(); n; n = n.next_sibling()) {
      if (local_name(n.name()) != "num") continue;
      auto it = abstract.find(attr(child(n, "abstractNumId"), "val"));
      if (it != abstract.end()) nums_[attr(n, "numId")] = Instance{it->second, {}};
    }
  }

  // The label Word shows for the next paragraph numbered (numId, ilvl), and
  // advances the counters. Empty for bullets and unknown numbering.
  std::string next(const std::string& num_id, int ilvl) {
    auto it = nums_.find(num_id);
    if (it == nums_.end() || ilvl < 0 || ilvl > 8) return "";
    Instance& in = it->second;
    in.count[ilvl] = in.count[ilvl] == 0 ? in.levels[ilvl].start : in.count[ilvl] + 1;
    for (int deeper = ilvl + 1; deeper < 9; ++deeper) in.count[deeper] = 0;
    const Level& lvl = in.levels[ilvl];
    if (lvl.format == "bullet" || lvl.format == "none") return "";
    std::string out;
    for (size_t i = 0; i < lvl.text.size(); ++i) {
      if (lvl.text[i] == '%' && i + 1 < lvl.text.size() && lvl.text[i + 1] >= '1' && lvl.text[i + 1] <= '9') {
        const int k = lvl.text[i + 1] - '1';
        const int value = in.count[k] == 0 ? in.levels[k].start : in.count[k];
        out += format_number(value, in.levels[k].format);
        ++i;
      } else {
        out += lvl.text[i];
      }
    }
    return out;
  }

 private:
  struct Instance {
    std::array<Level, 9> levels;
    std::array<int, 9> count{};
  };
  std::map<std::string, Instance> nums_;
};

// ---- body ------------------------------------------------------------------

class Body {
 public:
  Body(std::string_view file, const Styles& styles, Numbering& numbering, Converted* out)
      : file_(file), styles_(styles), numbering_(numbering), out_(out) {}

  bool walk(pugi::xml_node container) {
    for (pugi::xml_node n = container.first_child(); n; n = n.next_sibling()) {
      const std::string_view name = local_name(n.name());
      if (name == "p") {
        if (!paragraph(n)) return false;
      } else if (name == "tbl") {
        return fail(paragraph_ + 1, "a table is not supported in a .docx source; convert it to text");
      } else if (name == "sdt") {
        if (!walk(child(n, "sdtContent"))) return false;
      }
      // sectPr, bookmarks and the like hold no text.
    }
    return true;
  }

 private:
  bool paragraph(pugi::xml_node p) {
    ++paragraph_;
    pugi::xml_node ppr = child(p, "pPr");
    const std::string style = attr(child(ppr, "pStyle"), "val");
    std::string num_id;
    int ilvl = 0;
    if (pugi::xml_node num = child(ppr, "numPr")) {
      num_id = attr(child(num, "numId"), "val");
      ilvl = std::atoi(attr(child(num, "ilvl"), "val"));
    } else {
      std::tie(num_id, ilvl) = styles_.numbering(style);
    }
    // numId 0 switches numbering off.
    line_ = num_id.empty() || num_id == "0" ? "" : numbering_.next(num_id, ilvl);
    if (!inlines(p)) return false;
    return emit();
  }

  // The runs' text, concatenated in order, so that a marker Word split
  // across runs (`##paid` + `begin##`) is found whole.
  bool inlines(pugi::xml_node n) {
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      const std::string_view name = local_name(c.name());
      if (name == "pPr" || name == "rPr" || name == "delText" || name == "instrText" || name == "del")
        continue;  // properties, deleted text and field codes are not text
      if (name == "t") {
        line_ += c.text().get();
      } else if (name == "tab") {
        line_ += '\t';
      } else if (name == "br" || name == "cr") {
        if (!emit()) return false;  // a line break inside a paragraph starts a line
      } else if (name == "noBreakHyphen") {
        line_ += '-';
      } else if (name == "drawing" || name == "pict" || name == "object") {
        return fail(paragraph_,
                    "an image or drawing is not supported in a .docx source; remove it or describe it in text");
      } else if (!inlines(c)) {
        return false;  // runs, hyperlinks, insertions, smart tags, fields
      }
    }
    return true;
  }

  // A CR or LF inside the text (`&#10;` in w:t, in a numbering label) is a
  // space, as Word shows it (format.md §10.2): converted text has one line
  // per emit(), so that origins keep numbering the paragraphs. Text that is
  // not UTF-8 (the XML parser passes ill-formed bytes through) is refused
  // here, naming the paragraph: doc::parse would read the converted text
  // as GB18030 instead.
  bool emit() {
    for (char& c : line_)
      if (c == '\n' || c == '\r') c = ' ';
    std::string decoded, encoding;
    doc::ParseError ignored;
    if (!doc::decode(line_, &decoded, &encoding, &ignored) || encoding == "gb18030")
      return fail(paragraph_, "the text is not valid UTF-8 (a NUL or a damaged byte sequence); "
                              "the .docx is damaged");
    out_->text += line_;
    out_->text += '\n';
    out_->origins.push_back(Origin{0, paragraph_});
    line_.clear();
    return true;
  }

  bool fail(int paragraph, std::string reason) {
    out_->error.file = std::string(file_);
    out_->error.paragraph = paragraph;
    out_->error.reason = std::move(reason);
    return false;
  }

  std::string_view file_;
  const Styles& styles_;
  Numbering& numbering_;
  Converted* out_;
  int paragraph_ = 0;
  std::string line_;
};

bool parse_xml(const std::string& bytes, const char* part, pugi::xml_document* xml, std::string* error) {
  pugi::xml_parse_result r = xml->load_buffer(bytes.data(), bytes.size(), pugi::parse_default | pugi::parse_ws_pcdata);
  if (!r) *error = std::string(part) + " is not valid XML: " + r.description();
  return static_cast<bool>(r);
}

}  // namespace

Converted convert_docx(std::string_view bytes, std::string_view file) {
  Converted out;
  out.encoding = "utf-8";
  auto fail = [&](std::string reason) {
    out.error.file = std::string(file);
    out.error.reason = std::move(reason);
    return out;
  };
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (src == nullptr) {
    zip_error_fini(&err);
    return fail("not a .docx file: cannot read it");
  }
  ZipPtr z(zip_open_from_source(src, ZIP_RDONLY, &err));
  zip_error_fini(&err);
  if (!z) {
    zip_source_free(src);
    return fail("not a .docx file: not a zip archive");
  }
  std::string error;
  std::optional<std::string> document = read_part(z.get(), "word/document.xml", &error);
  if (!document) return fail("not a .docx file: " + error);

  Styles styles;
  Numbering numbering;
  pugi::xml_document xml;
  if (zip_name_locate(z.get(), "word/styles.xml", 0) >= 0) {
    std::optional<std::string> part = read_part(z.get(), "word/styles.xml", &error);
    if (!part || !parse_xml(*part, "word/styles.xml", &xml, &error)) return fail(error);
    styles.load(xml);
  }
  if (zip_name_locate(z.get(), "word/numbering.xml", 0) >= 0) {
    std::optional<std::string> part = read_part(z.get(), "word/numbering.xml", &error);
    if (!part || !parse_xml(*part, "word/numbering.xml", &xml, &error)) return fail(error);
    numbering.load(xml);
  }
  if (!parse_xml(*document, "word/document.xml", &xml, &error)) return fail(error);
  pugi::xml_node body = child(xml.document_element(), "body");
  if (!body) return fail("word/document.xml has no body");
  Body walker(file, styles, numbering, &out);
  out.ok = walker.walk(body);
  return out;
}

}  // namespace paidoc::sources
