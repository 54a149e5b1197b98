// A small logic-less template engine (a Mustache subset) that escapes by
// default. Templates live as files in web/templates/ and are parsed once at
// startup; rendering takes a nlohmann::json value as the context.
//
// Syntax:
//   {{name}}          the value, HTML/XML-escaped (& < > " ' and C0 controls)
//   {{{name}}}        the value, RAW. The only unescaped output; grep for
//                     "{{{" to find every use.
//   {{a.b}}           dotted lookup; {{.}} is the current value
//   {{#name}}…{{/name}}  section: once per array element, once with an
//                     object pushed as context, or once if truthy
//   {{^name}}…{{/name}}  inverted section: rendered when name is falsy
//   {{>partial}}      another template by name ("layout_head" finds
//                     "layout_head.html")
//   {{! comment }}
// Falsy: missing, null, false, 0, "", [] and {}. Names are looked up from the
// innermost context outwards. Strings print as is (escaped), integers in
// decimal, booleans as true/false, objects and arrays print nothing.
//
// Thread-safety: a Templates set is immutable after load; render() is safe
// from many threads.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace paidoc::web {

// Appends `in` to `out` with & < > " ' replaced by entities and C0 control
// characters other than tab, LF and CR dropped. Valid for HTML text,
// attribute values and XML.
void escape_html(std::string_view in, std::string& out);
std::string escape_html(std::string_view in);

class Template;

class Templates {
 public:
  Templates();
  ~Templates();
  Templates(Templates&&) noexcept;
  Templates& operator=(Templates&&) noexcept;

  // Parses `text` under `name`. kInvalidArgument naming the template, line
  // and problem on a syntax error (unclosed tag or section, stray close).
  Status add(const std::string& name, std::string_view text);

  // Loads every embedded file under `prefix` (e.g. "web/templates/"), named
  // by the rest of its path ("document.html").
  Status load_embedded(std::string_view prefix);

  bool has(const std::string& name) const;

  // Renders template `name` with `context`. kNotFound for an unknown
  // template or partial.
  Result<std::string> render(const std::string& name, const nlohmann::json& context) const;
  // Appends to *out; same errors.
  Status render_to(const std::string& name, const nlohmann::json& context, std::string* out) const;

 private:
  const Template* find(std::string_view name) const;
  std::map<std::string, std::unique_ptr<Template>, std::less<>> templates_;
  friend class Renderer;
};

}  // namespace paidoc::web
