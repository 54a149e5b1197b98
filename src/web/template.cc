#include "web/template.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/resources.h"

namespace paidoc::web {

void escape_html(std::string_view in, std::string& out) {
  size_t start = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const char* rep = nullptr;
    unsigned char c = static_cast<unsigned char>(in[i]);
    switch (c) {
      case '&':
        rep = "&amp;";
        break;
      case '<':
        rep = "&lt;";
        break;
      case '>':
        rep = "&gt;";
        break;
      case '"':
        rep = "&quot;";
        break;
      case '\'':
        rep = "&#39;";
        break;
      default:
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') rep = "";
        break;
    }
    if (!rep) continue;
    out.append(in.data() + start, i - start);
    out.append(rep);
    start = i + 1;
  }
  out.append(in.data() + start, in.size() - start);
}

std::string escape_html(std::string_view in) {
  std::string out;
  out.reserve(in.size() + 16);
  escape_html(in, out);
  return out;
}

namespace {

struct Node {
  enum class Kind { kText, kEscaped, kRaw, kSection, kInverted, kPartial };
  Kind kind = Kind::kText;
  std::string text;               // literal text, or the name/partial
  std::vector<std::string> path;  // dotted name split; empty for "."
  std::vector<Node> children;     // sections
};

std::vector<std::string> split_path(std::string_view name) {
  std::vector<std::string> out;
  if (name == ".") return out;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    out.emplace_back(name.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

bool truthy(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      return false;
    case nlohmann::json::value_t::boolean:
      return v.get<bool>();
    case nlohmann::json::value_t::string:
      return !v.get_ref<const std::string&>().empty();
    case nlohmann::json::value_t::array:
    case nlohmann::json::value_t::object:
      return !v.empty();
    case nlohmann::json::value_t::number_integer:
      return v.get<int64_t>() != 0;
    case nlohmann::json::value_t::number_unsigned:
      return v.get<uint64_t>() != 0;
    case nlohmann::json::value_t::number_float:
      return v.get<double>() != 0;
    default:
      return true;
  }
}

}  // namespace

class Template {
 public:
  std::vector<Node> nodes;
};

// Parses and renders; a friend of Templates so partials resolve by name.
class Renderer {
 public:
  static Status parse(std::string_view name, std::string_view src, std::vector<Node>* out) {
    struct Open {
      Node* node;
      int line;
    };
    std::vector<Open> stack;
    auto current = [&]() -> std::vector<Node>& {
      return stack.empty() ? *out : stack.back().node->children;
    };
    size_t pos = 0;
    auto line_at = [&](size_t p) {
      return 1 + static_cast<int>(std::count(src.begin(), src.begin() + p, '\n'));
    };
    while (pos < src.size()) {
      size_t open = src.find("{{", pos);
      if (open == std::string_view::npos) {
        current().push_back({Node::Kind::kText, std::string(src.substr(pos)), {}, {}});
        break;
      }
      bool triple = src.substr(open, 3) == "{{{";
      std::string_view closer = triple ? "}}}" : "}}";
      size_t body = open + (triple ? 3 : 2);
      size_t close = src.find(closer, body);
      if (close == std::string_view::npos)
        return Status::invalid(fmt::format("template {}:{}: unclosed tag", name, line_at(open)));
      std::string_view tag = trim(src.substr(body, close - body));
      size_t after = close + closer.size();
      char sigil = triple || tag.empty() ? '\0' : tag.front();
      bool control = sigil && std::string_view("#^/>!").find(sigil) != std::string_view::npos;
      std::string_view arg = control ? trim(tag.substr(1)) : tag;
      if (arg.empty() && sigil != '!')
        return Status::invalid(fmt::format("template {}:{}: empty tag", name, line_at(open)));
      // A control tag alone on its line takes the line with it, so that
      // templates can be laid out readably without blank lines in the output.
      size_t text_end = open;
      if (control) {
        size_t nl = open == 0 ? std::string_view::npos : src.rfind('\n', open - 1);
        size_t line_start = nl == std::string_view::npos ? 0 : nl + 1;
        size_t line_end = src.find('\n', after);
        if (line_end == std::string_view::npos) line_end = src.size();
        if (line_start >= pos && blank(src.substr(line_start, open - line_start)) &&
            blank(src.substr(after, line_end - after))) {
          text_end = line_start;
          after = line_end == src.size() ? line_end : line_end + 1;
        }
      }
      if (text_end > pos)
        current().push_back(
            {Node::Kind::kText, std::string(src.substr(pos, text_end - pos)), {}, {}});
      pos = after;
      if (triple) {
        current().push_back({Node::Kind::kRaw, std::string(arg), split_path(arg), {}});
        continue;
      }
      switch (sigil) {
        case '!':
          break;
        case '#':
        case '^': {
          Node n{sigil == '#' ? Node::Kind::kSection : Node::Kind::kInverted,
                 std::string(arg),
                 split_path(arg),
                 {}};
          current().push_back(std::move(n));
          stack.push_back({&current().back(), line_at(open)});
          break;
        }
        case '/':
          if (stack.empty() || stack.back().node->text != arg)
            return Status::invalid(
                fmt::format("template {}:{}: unexpected {{{{/{}}}}}", name, line_at(open), arg));
          stack.pop_back();
          break;
        case '>':
          current().push_back({Node::Kind::kPartial, std::string(arg), {}, {}});
          break;
        default:
          current().push_back({Node::Kind::kEscaped, std::string(arg), split_path(arg), {}});
          break;
      }
    }
    if (!stack.empty())
      return Status::invalid(fmt::format("template {}:{}: section {} is not closed", name,
                                         stack.back().line, stack.back().node->text));
    return Status();
  }

  Renderer(const Templates& set, std::string* out) : set_(set), out_(out) {}

  Status render(const std::vector<Node>& nodes, std::vector<const nlohmann::json*>& ctx,
                int depth) {
    if (depth > 32) return Status::invalid("template partials nest too deeply");
    for (const Node& n : nodes) {
      switch (n.kind) {
        case Node::Kind::kText:
          out_->append(n.text);
          break;
        case Node::Kind::kEscaped:
        case Node::Kind::kRaw: {
          const nlohmann::json* v = lookup(n.path, ctx);
          if (v) print(*v, n.kind == Node::Kind::kEscaped);
          break;
        }
        case Node::Kind::kSection: {
          const nlohmann::json* v = lookup(n.path, ctx);
          if (!v || !truthy(*v)) break;
          if (v->is_array()) {
            for (const auto& item : *v) {
              ctx.push_back(&item);
              Status s = render(n.children, ctx, depth);
              ctx.pop_back();
              if (!s) return s;
            }
          } else {
            ctx.push_back(v);
            Status s = render(n.children, ctx, depth);
            ctx.pop_back();
            if (!s) return s;
          }
          break;
        }
        case Node::Kind::kInverted: {
          const nlohmann::json* v = lookup(n.path, ctx);
          if (v && truthy(*v)) break;
          if (Status s = render(n.children, ctx, depth); !s) return s;
          break;
        }
        case Node::Kind::kPartial: {
          const Template* t = set_.find(n.text);
          if (!t)
            return Status::not_found(fmt::format("template partial {} does not exist", n.text));
          if (Status s = render(t->nodes, ctx, depth + 1); !s) return s;
          break;
        }
      }
    }
    return Status();
  }

 private:
  static const nlohmann::json* lookup(const std::vector<std::string>& path,
                                      const std::vector<const nlohmann::json*>& ctx) {
    if (path.empty()) return ctx.empty() ? nullptr : ctx.back();
    const nlohmann::json* v = nullptr;
    for (auto it = ctx.rbegin(); it != ctx.rend(); ++it) {
      if (!(*it)->is_object()) continue;
      auto f = (*it)->find(path.front());
      if (f != (*it)->end()) {
        v = &*f;
        break;
      }
    }
    for (size_t i = 1; v && i < path.size(); ++i) {
      if (!v->is_object()) return nullptr;
      auto f = v->find(path[i]);
      v = f == v->end() ? nullptr : &*f;
    }
    return v;
  }

  void print(const nlohmann::json& v, bool escape) {
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (escape) {
        escape_html(s, *out_);
      } else {
        out_->append(s);
      }
    } else if (v.is_number_integer() || v.is_number_unsigned() || v.is_number_float() ||
               v.is_boolean()) {
      out_->append(v.dump());  // digits, '.', '-', 'e', true/false: nothing to escape
    }
  }

  const Templates& set_;
  std::string* out_;
};

Templates::Templates() = default;
Templates::~Templates() = default;
Templates::Templates(Templates&&) noexcept = default;
Templates& Templates::operator=(Templates&&) noexcept = default;

Status Templates::add(const std::string& name, std::string_view text) {
  auto t = std::make_unique<Template>();
  if (Status s = Renderer::parse(name, text, &t->nodes); !s) return s;
  templates_[name] = std::move(t);
  return Status();
}

Status Templates::load_embedded(std::string_view prefix) {
  for (std::string_view path : resource_paths(prefix)) {
    std::string_view text;
    resource(path, &text);
    if (Status s = add(std::string(path.substr(prefix.size())), text); !s) return s;
  }
  return Status();
}

bool Templates::has(const std::string& name) const { return find(name) != nullptr; }

const Template* Templates::find(std::string_view name) const {
  auto it = templates_.find(name);
  if (it == templates_.end()) it = templates_.find(std::string(name) + ".html");
  return it == templates_.end() ? nullptr : it->second.get();
}

Status Templates::render_to(const std::string& name, const nlohmann::json& context,
                            std::string* out) const {
  const Template* t = find(name);
  if (!t) return Status::not_found(fmt::format("template {} does not exist", name));
  std::vector<const nlohmann::json*> ctx{&context};
  Renderer r(*this, out);
  return r.render(t->nodes, ctx, 0);
}

Result<std::string> Templates::render(const std::string& name,
                                      const nlohmann::json& context) const {
  std::string out;
  out.reserve(8192);
  if (Status s = render_to(name, context, &out); !s) return s;
  return out;
}

}  // namespace paidoc::web
