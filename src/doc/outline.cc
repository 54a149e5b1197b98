#include "doc/outline.h"

#include <string>

namespace paidoc::doc {
namespace {

constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";

// Sentence punctuation (format.md §9): a heading text holding one of these
// reads as a sentence.
constexpr std::string_view kSentencePunctuation[] = {
    "，", "；", "：", "。", "？", "！", ",", ";", ":", "?", "!",
};

bool is_space_at(std::string_view s, size_t i, size_t* len) {
  if (i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
    *len = 1;
    return true;
  }
  if (s.substr(i, kIdeographicSpace.size()) == kIdeographicSpace) {
    *len = kIdeographicSpace.size();
    return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  size_t len = 0;
  while (!s.empty() && is_space_at(s, 0, &len)) s.remove_prefix(len);
  while (!s.empty()) {
    if (s.back() == ' ' || s.back() == '\t') {
      s.remove_suffix(1);
    } else if (s.size() >= kIdeographicSpace.size() &&
               s.substr(s.size() - kIdeographicSpace.size()) == kIdeographicSpace) {
      s.remove_suffix(kIdeographicSpace.size());
    } else {
      break;
    }
  }
  return s;
}

int code_points(std::string_view s) {
  int n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

bool is_heading_text(std::string_view text) {
  if (text.empty() || code_points(text) > kOutlineMaxChars) return false;
  for (std::string_view p : kSentencePunctuation)
    if (text.find(p) != std::string_view::npos) return false;
  return true;
}

std::optional<std::string> outline_text(const Block& b) {
  if (b.kind != BlockKind::kHeading || b.label.empty() || b.runs.empty() || !b.has_paid())
    return std::nullopt;
  // The first run ends where the first marker inside the heading changes
  // side; nothing after it may be shown.
  std::string_view text = trim(b.runs.front().text);
  // A heading line that ends with 。 or ： keeps it (format.md §6.2); the
  // outline shows the heading without it.
  for (std::string_view end : {std::string_view("。"), std::string_view("：")})
    if (text.ends_with(end)) {
      text = trim(text.substr(0, text.size() - end.size()));
      break;
    }
  if (!is_heading_text(text)) return std::nullopt;
  return std::string(text);
}

}  // namespace paidoc::doc
