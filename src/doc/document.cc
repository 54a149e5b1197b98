#include "doc/document.h"

#include <nlohmann/json.hpp>

namespace paidoc::doc {

bool Block::has_paid() const {
  for (const auto& r : runs)
    if (r.paid && !r.text.empty()) return true;
  return false;
}

bool Block::has_free() const {
  for (const auto& r : runs)
    if (!r.paid && !r.text.empty()) return true;
  return false;
}

std::string Block::full_text() const {
  std::string s;
  for (const auto& r : runs) s += r.text;
  return s;
}

bool spaced_label(std::string_view label) {
  if (!label.starts_with("第")) return false;
  for (std::string_view part : {"编", "部分", "章", "节", "条"})
    if (label.ends_with(part)) return true;
  return false;
}

int64_t count_chars(std::string_view s) {
  int64_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    // U+3000 IDEOGRAPHIC SPACE = E3 80 80
    if (c == 0xE3 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        static_cast<unsigned char>(s[i + 2]) == 0x80)
      continue;
    ++n;
  }
  return n;
}

void compute_figures(Document& d) {
  Figures f;
  f.paid_sections = d.figures.paid_sections;
  // A run-in block is part of its heading's paragraph: the pair counts once
  // on each side it has text on.
  bool any_free = false;
  bool any_paid = false;
  auto close_paragraph = [&] {
    if (any_free) ++f.free_paragraphs;
    if (any_paid) ++f.paid_paragraphs;
    any_free = any_paid = false;
  };
  for (const auto& b : d.blocks) {
    if (!b.run_in) close_paragraph();
    bool label_paid = !b.runs.empty() && b.runs.front().paid;
    int64_t label_chars = count_chars(b.label);
    (label_paid ? f.paid_chars : f.free_chars) += label_chars;
    any_free = any_free || (label_chars > 0 && !label_paid);
    any_paid = any_paid || (label_chars > 0 && label_paid);
    for (const auto& r : b.runs) {
      int64_t n = count_chars(r.text);
      if (n == 0) continue;
      if (r.paid) {
        f.paid_chars += n;
        any_paid = true;
      } else {
        f.free_chars += n;
        any_free = true;
      }
    }
  }
  close_paragraph();
  d.figures = f;
}

void to_json(nlohmann::json& j, const Document& d) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& b : d.blocks) {
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& r : b.runs) runs.push_back({{"t", r.text}, {"p", r.paid}});
    nlohmann::json jb = {{"k", b.kind == BlockKind::kHeading ? "h" : "p"},
                         {"lv", b.level},
                         {"lb", b.label},
                         {"ln", b.line},
                         {"in", b.indent},
                         {"r", std::move(runs)}};
    if (b.run_in) jb["ri"] = true;
    blocks.push_back(std::move(jb));
  }
  j = {{"title", d.title},
       {"encoding", d.source_encoding},
       {"paid_sections", d.figures.paid_sections},
       {"blocks", std::move(blocks)}};
}

void from_json(const nlohmann::json& j, Document& d) {
  d = Document{};
  d.title = j.at("title").get<std::string>();
  d.source_encoding = j.value("encoding", "");
  d.figures.paid_sections = j.value("paid_sections", 0);
  for (const auto& jb : j.at("blocks")) {
    Block b;
    b.kind = jb.at("k").get<std::string>() == "h" ? BlockKind::kHeading : BlockKind::kParagraph;
    b.level = jb.value("lv", 0);
    b.label = jb.value("lb", "");
    b.line = jb.value("ln", 0);
    b.indent = jb.value("in", 0);
    b.run_in = jb.value("ri", false);
    for (const auto& jr : jb.at("r")) b.runs.push_back({jr.at("t").get<std::string>(), jr.at("p").get<bool>()});
    d.blocks.push_back(std::move(b));
  }
  compute_figures(d);
}

}  // namespace paidoc::doc
