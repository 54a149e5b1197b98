// .md -> paidoc source text with cmark (docs/format.md §10.1).
#include <cmark.h>

#include <memory>
#include <string>

#include "sources/sources.h"

namespace paidoc::sources {

namespace {

struct NodeFree {
  void operator()(cmark_node* n) const { cmark_node_free(n); }
};

bool ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// True when a heading's text starts with a marker word that its stripped
// `#`s would have made a near miss (format.md §4.4): `## paidbegin ##`,
// `## paid_end`, `## paid begin ##` (cmark drops the `#`s around the text).
// `## Paid end of year` is a heading, as it is no near miss with its `#`s.
bool starts_with_marker_word(std::string_view text, std::string_view raw) {
  std::string low(text);
  for (char& c : low)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (low.compare(0, 4, "paid") != 0) return false;
  size_t j = 4;
  bool spaced = false;
  while (j < low.size() && (low[j] == ' ' || low[j] == '\t')) ++j, spaced = true;
  if (!spaced && j < low.size() && (low[j] == '_' || low[j] == '-')) ++j;
  for (std::string_view w : {"begin", "end"}) {
    if (low.compare(j, w.size(), w) != 0) continue;
    const size_t after = j + w.size();
    if (after < low.size() && ascii_alnum(low[after])) return false;
    if (!spaced) return true;
    // Apart, the word needs closing delimiters, which cmark strips from the
    // text: look for them at the end of the source line.
    size_t k = after;
    while (k < low.size() && (low[k] == ' ' || low[k] == '\t')) ++k;
    if (k < low.size()) return low[k] == '#' || low[k] == '$';
    const size_t last = raw.find_last_not_of(" \t");
    return last != std::string_view::npos && raw[last] == '#';
  }
  return false;
}

class Converter {
 public:
  Converter(std::string_view file, Converted* out) : file_(file), out_(out) {}

  bool block(cmark_node* n) {
    const int start = cmark_node_get_start_line(n);
    const cmark_node_type type = cmark_node_get_type(n);
    if (!prefix_.empty() && type != CMARK_NODE_PARAGRAPH && type != CMARK_NODE_HEADING) {
      // An ordered item that opens with a code block or a list: its number
      // is a line of its own rather than lost.
      emit(prefix_, start);
      prefix_.clear();
    }
    switch (type) {
      case CMARK_NODE_DOCUMENT:
      case CMARK_NODE_BLOCK_QUOTE:
      case CMARK_NODE_LIST:
        return children(n);
      case CMARK_NODE_ITEM: {
        cmark_node* list = cmark_node_parent(n);
        if (list && cmark_node_get_list_type(list) == CMARK_ORDERED_LIST) {
          // The number of an ordered item is text: `1. 工作回顾` is a
          // heading in a .txt and stays one here.
          int number = cmark_node_get_list_start(list);
          for (cmark_node* s = cmark_node_previous(n); s; s = cmark_node_previous(s)) ++number;
          prefix_ = std::to_string(number) +
                    (cmark_node_get_list_delim(list) == CMARK_PAREN_DELIM ? ")" : ".");
        }
        if (!children(n)) return false;
        if (!prefix_.empty()) {  // an empty item: its number alone
          emit(prefix_, start);
          prefix_.clear();
        }
        return true;
      }
      case CMARK_NODE_HEADING: {
        const std::string& raw = source_line(start);
        std::string text;
        if (!inline_text(n, &text)) return false;
        // A near miss such as `## paidbegin ##` must reach the parser as
        // written, or a typo would turn paid text into free text.
        if (raw.find('#') != std::string::npos && starts_with_marker_word(text, raw)) {
          emit(raw, start);
          return true;
        }
        line_ = start;
        current_ = std::move(prefix_) + text;
        prefix_.clear();
        flush();
        return true;
      }
      case CMARK_NODE_PARAGRAPH: {
        line_ = start;
        current_ = std::move(prefix_);
        prefix_.clear();
        for (cmark_node* c = cmark_node_first_child(n); c; c = cmark_node_next(c))
          if (!inline_node(c)) return false;
        flush();
        return true;
      }
      case CMARK_NODE_CODE_BLOCK: {
        // Kept as text, line by line. A fenced block's text starts on the
        // line after its fence.
        std::string_view lit = cmark_node_get_literal(n) ? cmark_node_get_literal(n) : "";
        int lines = 0;
        for (char c : lit) lines += c == '\n';
        const int span = cmark_node_get_end_line(n) - start + 1;
        int line = span > lines ? start + 1 : start;
        size_t begin = 0;
        while (begin < lit.size()) {
          size_t end = lit.find('\n', begin);
          if (end == std::string_view::npos) end = lit.size();
          emit(lit.substr(begin, end - begin), line++);
          begin = end + 1;
        }
        return true;
      }
      case CMARK_NODE_HTML_BLOCK:
        return fail(start, "HTML is not supported in a .md source; write the text without tags");
      case CMARK_NODE_THEMATIC_BREAK:
        return true;  // a rule (---) holds no text
      default:
        return fail(start, "unsupported Markdown block");
    }
  }

 private:
  bool children(cmark_node* n) {
    for (cmark_node* c = cmark_node_first_child(n); c; c = cmark_node_next(c))
      if (!block(c)) return false;
    return true;
  }

  // A heading's text (no line breaks in a heading).
  bool inline_text(cmark_node* heading, std::string* text) {
    line_ = cmark_node_get_start_line(heading);
    current_.clear();
    for (cmark_node* c = cmark_node_first_child(heading); c; c = cmark_node_next(c))
      if (!inline_node(c)) return false;
    *text = std::move(current_);
    current_.clear();
    return true;
  }

  bool inline_node(cmark_node* n) {
    switch (cmark_node_get_type(n)) {
      case CMARK_NODE_TEXT:
      case CMARK_NODE_CODE:
        current_ += cmark_node_get_literal(n) ? cmark_node_get_literal(n) : "";
        return true;
      case CMARK_NODE_SOFTBREAK:
      case CMARK_NODE_LINEBREAK: {
        // Each source line of a paragraph is a line, as in a .txt.
        const int next = line_ + 1;
        flush();
        line_ = next;
        return true;
      }
      case CMARK_NODE_EMPH:
      case CMARK_NODE_STRONG:
      case CMARK_NODE_LINK:  // the link's text; its address is not text
        for (cmark_node* c = cmark_node_first_child(n); c; c = cmark_node_next(c))
          if (!inline_node(c)) return false;
        return true;
      case CMARK_NODE_IMAGE:
        return fail(line_, "image is not supported in a .md source; remove it or describe it in text");
      case CMARK_NODE_HTML_INLINE:
        return fail(line_, "HTML is not supported in a .md source; write the text without tags");
      default:
        return fail(line_, "unsupported Markdown text");
    }
  }

  void flush() {
    emit(current_, line_);
    current_.clear();
  }

  void emit(std::string_view text, int line) {
    out_->text.append(text);
    out_->text += '\n';
    out_->origins.push_back(Origin{line, 0});
  }

  const std::string& source_line(int line) {
    static const std::string empty;
    return line >= 1 && static_cast<size_t>(line) <= out_->source_lines.size()
               ? out_->source_lines[line - 1]
               : empty;
  }

  bool fail(int line, std::string reason) {
    out_->error.file = std::string(file_);
    out_->error.line = line;
    out_->error.column = 1;
    out_->error.reason = std::move(reason);
    return false;
  }

  std::string_view file_;
  Converted* out_;
  int line_ = 0;
  std::string current_;
  std::string prefix_;  // an ordered item's number, for its first line
};

// Lines as format.md §2 splits them (LF, CRLF, CR), as cmark numbers them.
std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  std::string cur;
  while (i < text.size()) {
    char c = text[i++];
    if (c == '\n' || c == '\r') {
      if (c == '\r' && i < text.size() && text[i] == '\n') ++i;
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace

Converted convert_markdown(std::string_view bytes, std::string_view file) {
  Converted out;
  std::string utf8;
  if (!doc::decode(bytes, &utf8, &out.encoding, &out.error)) {
    out.error.file = std::string(file);
    return out;
  }
  out.source_lines = split_lines(utf8);
  std::unique_ptr<cmark_node, NodeFree> root(
      cmark_parse_document(utf8.data(), utf8.size(), CMARK_OPT_DEFAULT));
  if (!root) {
    out.error.file = std::string(file);
    out.error.line = out.error.column = 1;
    out.error.reason = "cannot read the Markdown";
    return out;
  }
  Converter conv(file, &out);
  out.ok = conv.block(root.get());
  return out;
}

}  // namespace paidoc::sources
