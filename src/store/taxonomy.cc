#include "store/taxonomy.h"

#include <fmt/format.h>

#include <algorithm>

namespace paidoc::store {

const char* to_string(TermKind kind) { return kind == TermKind::kCategory ? "category" : "tag"; }

namespace {

// The code point at s[i] (valid UTF-8, shortest form, no surrogates) and
// its length in *len; -1 for anything else.
int32_t decode_at(std::string_view s, size_t i, size_t* len) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > s.size()) return -1;
  int32_t cp = c & (0x3F >> (n - 1));
  for (int k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  *len = static_cast<size_t>(n);
  return cp;
}

bool is_space(int32_t cp) { return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x3000; }

}  // namespace

Result<std::string> normalize_term_name(TermKind kind, std::string_view raw) {
  const char* field = kind == TermKind::kCategory ? "分类名称" : "标签名称";
  // Code points with their byte offsets.
  struct Cp {
    int32_t cp;
    size_t at, len;
  };
  std::vector<Cp> cps;
  for (size_t i = 0; i < raw.size();) {
    size_t len = 0;
    int32_t cp = decode_at(raw, i, &len);
    if (cp < 0) return Status::invalid(fmt::format("{}不是有效的 UTF-8 文本", field));
    cps.push_back({cp, i, len});
    i += len;
  }
  size_t first = 0, last = cps.size();
  while (first < last && is_space(cps[first].cp)) ++first;
  while (last > first && is_space(cps[last - 1].cp)) --last;
  if (first == last) return Status::invalid(fmt::format("{}不能为空", field));
  if (last - first > static_cast<size_t>(kMaxTermNameChars))
    return Status::invalid(fmt::format("{}不能超过 {} 个字符", field, kMaxTermNameChars));
  for (size_t k = first; k < last; ++k) {
    int32_t cp = cps[k].cp;
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029)
      return Status::invalid(fmt::format("{}不能包含控制字符", field));
    if (cp == '/' || cp == '?' || cp == '#')
      return Status::invalid(fmt::format("{}不能包含 /、? 或 #", field));
  }
  size_t begin = cps[first].at;
  size_t end = cps[last - 1].at + cps[last - 1].len;
  return std::string(raw.substr(begin, end - begin));
}

Result<std::vector<std::string>> normalize_tag_names(const std::vector<std::string>& names) {
  std::vector<std::string> clean;
  for (const std::string& raw : names) {
    Result<std::string> n = normalize_term_name(TermKind::kTag, raw);
    if (!n.ok()) return n.status();
    if (std::find(clean.begin(), clean.end(), *n) == clean.end()) clean.push_back(std::move(*n));
  }
  if (clean.size() > kMaxDocumentTags)
    return Status::invalid(fmt::format("标签：一篇文档最多 {} 个标签", kMaxDocumentTags));
  return clean;
}

std::vector<std::string> split_term_names(std::string_view text) {
  std::vector<std::string> out;
  std::string item;
  auto flush = [&] {
    if (item.find_first_not_of(" \t\r") != std::string::npos) out.push_back(item);
    item.clear();
  };
  for (size_t i = 0; i < text.size();) {
    std::string_view rest = text.substr(i);
    if (rest[0] == ',' || rest[0] == '\n') {
      flush();
      ++i;
    } else if (rest.starts_with("，") || rest.starts_with("、")) {
      flush();
      i += 3;  // both are three bytes in UTF-8
    } else {
      item += rest[0];
      ++i;
    }
  }
  flush();
  return out;
}

}  // namespace paidoc::store
