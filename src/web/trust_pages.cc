#include "web/trust_pages.h"

#include <cmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <tuple>

#include "common/resources.h"
#include "web/template.h"
#include "web/util.h"

namespace paidoc::web {

namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxFileBytes = 256 * 1024;
constexpr size_t kDescriptionChars = 120;
constexpr std::string_view kDefaultsPrefix = "web/pages/";

struct NodeFree {
  void operator()(cmark_node* n) const { cmark_node_free(n); }
};
struct IterFree {
  void operator()(cmark_iter* i) const { cmark_iter_free(i); }
};
using NodePtr = std::unique_ptr<cmark_node, NodeFree>;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (lower(s[i]) != prefix[i]) return false;
  return true;
}

// The literal text under `n` (text, code, line breaks as spaces).
void plain_text(cmark_node* n, std::string& out) {
  for (cmark_node* c = cmark_node_first_child(n); c; c = cmark_node_next(c)) {
    switch (cmark_node_get_type(c)) {
      case CMARK_NODE_TEXT:
      case CMARK_NODE_CODE:
      case CMARK_NODE_HTML_INLINE:
        if (const char* lit = cmark_node_get_literal(c)) out += lit;
        break;
      case CMARK_NODE_SOFTBREAK:
      case CMARK_NODE_LINEBREAK:
        break;  // Chinese text: a line break inside a paragraph is no space
      default:
        plain_text(c, out);
    }
  }
}

// At most `max` code points of valid UTF-8 `s`, with "…" when cut.
std::string cut_chars(std::string_view s, size_t max) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (chars++ == max) return std::string(s.substr(0, i)) + "…";
  }
  return std::string(s);
}

bool in_tight_list(cmark_node* paragraph) {
  cmark_node* item = cmark_node_parent(paragraph);
  if (!item || cmark_node_get_type(item) != CMARK_NODE_ITEM) return false;
  cmark_node* list = cmark_node_parent(item);
  return list && cmark_node_get_list_tight(list);
}

void escape_lines(std::string_view text, std::string& out) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  size_t start = 0;
  while (true) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    escape_html(line, out);
    if (nl == std::string_view::npos) break;
    out += "<br>";
    start = nl + 1;
  }
}

void render_node(cmark_node* n, cmark_event_type ev, std::string& out) {
  const bool enter = ev == CMARK_EVENT_ENTER;
  switch (cmark_node_get_type(n)) {
    case CMARK_NODE_DOCUMENT:
    case CMARK_NODE_CUSTOM_BLOCK:   // their on_enter/on_exit are raw: never printed
    case CMARK_NODE_CUSTOM_INLINE:
    case CMARK_NODE_IMAGE:          // only its alt text (the children), as text
      break;
    case CMARK_NODE_BLOCK_QUOTE:
      out += enter ? "<blockquote>\n" : "</blockquote>\n";
      break;
    case CMARK_NODE_LIST: {
      const bool ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
      if (!enter) {
        out += ordered ? "</ol>\n" : "</ul>\n";
      } else if (!ordered) {
        out += "<ul>\n";
      } else if (int start = cmark_node_get_list_start(n); start != 1) {
        out += fmt::format("<ol start=\"{}\">\n", start);
      } else {
        out += "<ol>\n";
      }
      break;
    }
    case CMARK_NODE_ITEM:
      out += enter ? "<li>" : "</li>\n";
      break;
    case CMARK_NODE_CODE_BLOCK:
      out += "<pre><code>";
      if (const char* lit = cmark_node_get_literal(n)) escape_html(lit, out);
      out += "</code></pre>\n";
      break;
    case CMARK_NODE_HTML_BLOCK:
      // Raw HTML is shown as the text it is, never passed through.
      out += "<p>";
      if (const char* lit = cmark_node_get_literal(n)) escape_lines(lit, out);
      out += "</p>\n";
      break;
    case CMARK_NODE_PARAGRAPH:
      if (in_tight_list(n)) break;
      out += enter ? "<p>" : "</p>\n";
      break;
    case CMARK_NODE_HEADING: {
      const int level = std::clamp(cmark_node_get_heading_level(n), 2, 6);
      out += enter ? fmt::format("<h{}>", level) : fmt::format("</h{}>\n", level);
      break;
    }
    case CMARK_NODE_THEMATIC_BREAK:
      out += "<hr>\n";
      break;
    case CMARK_NODE_TEXT:
    case CMARK_NODE_HTML_INLINE:  // raw inline HTML: escaped, as text
      if (const char* lit = cmark_node_get_literal(n)) escape_html(lit, out);
      break;
    case CMARK_NODE_SOFTBREAK:
      out += "\n";
      break;
    case CMARK_NODE_LINEBREAK:
      out += "<br>\n";
      break;
    case CMARK_NODE_CODE:
      out += "<code>";
      if (const char* lit = cmark_node_get_literal(n)) escape_html(lit, out);
      out += "</code>";
      break;
    case CMARK_NODE_EMPH:
      out += enter ? "<em>" : "</em>";
      break;
    case CMARK_NODE_STRONG:
      out += enter ? "<strong>" : "</strong>";
      break;
    case CMARK_NODE_LINK: {
      const char* url = cmark_node_get_url(n);
      if (!url || !safe_link_target(url)) break;  // the text alone, not a link
      if (!enter) {
        out += "</a>";
        break;
      }
      out += "<a href=\"";
      escape_html(url, out);
      out += '"';
      if (starts_with_nocase(url, "http://") || starts_with_nocase(url, "https://") ||
          starts_with_nocase(url, "//"))
        out += " rel=\"nofollow noopener\"";
      if (const char* title = cmark_node_get_title(n); title && *title) {
        out += " title=\"";
        escape_html(title, out);
        out += '"';
      }
      out += '>';
      break;
    }
    default:
      break;
  }
}

void render_tree(cmark_node* root, std::string& out) {
  std::unique_ptr<cmark_iter, IterFree> it(cmark_iter_new(root));
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it.get())) != CMARK_EVENT_DONE)
    render_node(cmark_iter_get_node(it.get()), ev, out);
}

// Backslash before every ASCII punctuation character, so that a value put
// into Markdown reads as the literal text it is.
std::string markdown_literal(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (std::strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) != nullptr && c != '\0') out += '\\';
    out += c;
  }
  return out;
}

// Fills {{name}} placeholders; unknown names stay as written.
std::string fill(std::string_view text, const TrustOptions& o, bool markdown) {
  const std::pair<std::string_view, std::pair<const std::string*, std::string_view>> kValues[] = {
      {"site_name", {&o.site_name, "【网站名称】"}},
      {"company", {&o.company, "【运营者名称：请用 --company 设置】"}},
      {"contact_email", {&o.contact_email, "【客服邮箱：请用 --contact-email 设置】"}},
      {"contact_phone", {&o.contact_phone, "【客服电话：请用 --contact-phone 设置】"}},
      {"icp", {&o.icp, "【ICP 备案号：请用 --icp 设置】"}},
  };
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    std::string_view name = text.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    auto it = std::find_if(std::begin(kValues), std::end(kValues),
                           [&](const auto& v) { return v.first == name; });
    out.append(text.substr(pos, open - pos));
    if (it == std::end(kValues)) {
      out.append(text.substr(open, close + 2 - open));
    } else {
      const std::string& value = *it->second.first;
      std::string_view shown = value.empty() ? it->second.second : std::string_view(value);
      out += markdown ? markdown_literal(shown) : std::string(shown);
    }
    pos = close + 2;
  }
  out.append(text.substr(pos));
  return out;
}

// Reads a page's file. kInvalidArgument naming the path when it is not a
// regular file, cannot be read, is too large or is not UTF-8.
Result<std::string> read_page_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return Status::invalid(fmt::format("{}: not a regular file", path.string()));
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return Status::invalid(fmt::format("{}: cannot read: {}", path.string(), ec.message()));
  if (size > kMaxFileBytes)
    return Status::invalid(
        fmt::format("{}: {} bytes; a page may have at most {} KiB", path.string(), size,
                    kMaxFileBytes / 1024));
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::invalid(fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad())
    return Status::invalid(fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
  std::string text = std::move(buf).str();
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  if (!valid_utf8(text))
    return Status::invalid(fmt::format("{}: not UTF-8 text (save the file as UTF-8)", path.string()));
  return text;
}

TrustPage make_page(const TrustPageInfo& info, std::string_view text, bool markdown,
                    const TrustOptions& o, std::string source) {
  TrustPage page;
  page.info = info;
  page.source = std::move(source);
  page.title = std::string(info.label);
  std::string filled = fill(text, o, markdown);
  if (!markdown) {
    page.body_html = render_plain_text(filled);
    std::string_view first = filled;
    while (!first.empty() && (first.front() == '\n' || first.front() == '\r'))
      first.remove_prefix(1);
    first = first.substr(0, first.find('\n'));
    page.description = cut_chars(first, kDescriptionChars);
    return page;
  }
  NodePtr doc(cmark_parse_document(filled.data(), filled.size(), CMARK_OPT_DEFAULT));
  cmark_node* first = cmark_node_first_child(doc.get());
  if (first && cmark_node_get_type(first) == CMARK_NODE_HEADING &&
      cmark_node_get_heading_level(first) == 1) {
    std::string title;
    plain_text(first, title);
    if (!title.empty()) page.title = std::move(title);
    cmark_node_free(first);  // unlinks it: the template prints the title as <h1>
  }
  for (cmark_node* c = cmark_node_first_child(doc.get()); c; c = cmark_node_next(c)) {
    if (cmark_node_get_type(c) != CMARK_NODE_PARAGRAPH) continue;
    std::string text;
    plain_text(c, text);
    page.description = cut_chars(text, kDescriptionChars);
    break;
  }
  render_tree(doc.get(), page.body_html);
  return page;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

// The operator details as given to serve: one line each, not too long; the
// email an address, the phone with a digit.
Status check_options(const TrustOptions& o) {
  const std::tuple<const char*, const std::string*, size_t> kFields[] = {
      {"--company", &o.company, 200},
      {"--icp", &o.icp, 100},
      {"--contact-email", &o.contact_email, 254},
      {"--contact-phone", &o.contact_phone, 40},
  };
  for (const auto& [flag, value, max] : kFields) {
    if (value->empty()) continue;
    if (!valid_utf8(*value) || has_control(*value))
      return Status::invalid(fmt::format("{}: one line of UTF-8 text expected", flag));
    if (value->size() > max)
      return Status::invalid(fmt::format("{}: at most {} bytes", flag, max));
  }
  if (!o.contact_email.empty()) {
    const std::string& e = o.contact_email;
    const size_t at = e.find('@');
    const bool ok = at != std::string::npos && at > 0 && at + 1 < e.size() &&
                    e.find('@', at + 1) == std::string::npos &&
                    e.find_first_of(" <>\"'(),;:[]\\") == std::string::npos;
    if (!ok)
      return Status::invalid(
          fmt::format("--contact-email {}: not an email address (name@example.cn)", e));
  }
  if (!o.contact_phone.empty() &&
      o.contact_phone.find_first_of("0123456789") == std::string::npos)
    return Status::invalid(fmt::format("--contact-phone {}: no digits", o.contact_phone));
  return Status();
}

}  // namespace

const std::array<TrustPageInfo, 5>& trust_page_infos() {
  static const std::array<TrustPageInfo, 5> kPages = {{
      {"/about", "about", "关于我们"},
      {"/terms", "terms", "用户协议"},
      {"/privacy", "privacy", "隐私政策"},
      {"/refund-policy", "refund-policy", "购买与退款说明"},
      {"/contact", "contact", "联系客服"},
  }};
  return kPages;
}

const TrustPage* TrustPages::find(std::string_view path) const {
  for (const TrustPage& p : pages)
    if (p.info.path == path) return &p;
  return nullptr;
}

bool safe_link_target(std::string_view url) {
  if (url.empty()) return false;
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  if (starts_with_nocase(url, "http://") || starts_with_nocase(url, "https://"))
    return url.size() > url.find("//") + 2;
  if (starts_with_nocase(url, "mailto:")) return url.size() > 7;
  // Relative: no scheme, i.e. no ':' before the first '/', '?' or '#'.
  const size_t end = url.find_first_of("/?#");
  return url.substr(0, end).find(':') == std::string_view::npos;
}

std::string render_markdown(std::string_view markdown) {
  NodePtr doc(cmark_parse_document(markdown.data(), markdown.size(), CMARK_OPT_DEFAULT));
  std::string out;
  render_tree(doc.get(), out);
  return out;
}

std::string render_plain_text(std::string_view text) {
  std::string out;
  std::string paragraph;
  auto flush = [&] {
    if (paragraph.empty()) return;
    out += "<p>";
    escape_lines(paragraph, out);
    out += "</p>\n";
    paragraph.clear();
  };
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      flush();
    } else {
      if (!paragraph.empty()) paragraph += '\n';
      paragraph.append(line);
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  flush();
  return out;
}

Result<TrustPages> load_trust_pages(const TrustOptions& options) {
  if (Status s = check_options(options); !s.is_ok()) return s;
  TrustPages result;
  fs::path dir;
  if (!options.pages_dir.empty()) {
    dir = options.pages_dir;
    std::error_code ec;
    const fs::file_status st = fs::status(dir, ec);
    if (!fs::exists(st))
      return Status::invalid(fmt::format("--pages-dir {}: no such folder", options.pages_dir));
    if (!fs::is_directory(st))
      return Status::invalid(fmt::format("--pages-dir {}: not a folder", options.pages_dir));
    std::set<std::string> known;
    for (const TrustPageInfo& info : trust_page_infos()) {
      known.insert(std::string(info.name) + ".md");
      known.insert(std::string(info.name) + ".txt");
    }
    fs::directory_iterator it(dir, ec);
    if (ec)
      return Status::invalid(
          fmt::format("--pages-dir {}: cannot list the folder: {}", options.pages_dir, ec.message()));
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      std::string name = it->path().filename().string();
      if (!known.count(name) && name.front() != '.') result.ignored.push_back(it->path().string());
    }
    std::sort(result.ignored.begin(), result.ignored.end());
  }
  for (const TrustPageInfo& info : trust_page_infos()) {
    if (!dir.empty()) {
      const fs::path md = dir / (std::string(info.name) + ".md");
      const fs::path txt = dir / (std::string(info.name) + ".txt");
      std::error_code ec;
      const bool has_md = fs::exists(fs::symlink_status(md, ec));
      const bool has_txt = fs::exists(fs::symlink_status(txt, ec));
      if (has_md && has_txt)
        return Status::invalid(fmt::format("{} and {}: two files for one page; keep one",
                                           md.string(), txt.string()));
      if (has_md || has_txt) {
        const fs::path& path = has_md ? md : txt;
        Result<std::string> text = read_page_file(path);
        if (!text.ok()) return text.status();
        result.pages.push_back(make_page(info, *text, has_md, options, path.string()));
        continue;
      }
    }
    std::string_view builtin;
    const std::string key = fmt::format("{}{}.md", kDefaultsPrefix, info.name);
    if (!resource(key, &builtin))
      return Status::internal(fmt::format("built-in page {} is missing", key));
    result.pages.push_back(make_page(info, builtin, true, options, ""));
  }
  return result;
}

}  // namespace paidoc::web
