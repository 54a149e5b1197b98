#include "web/router.h"

namespace paidoc::web {

const char* work_name(Work w) {
  switch (w) {
    case Work::kInline:
      return "inline";
    case Work::kStore:
      return "store";
    case Work::kHash:
      return "hash";
    case Work::kExport:
      return "export";
    case Work::kProvider:
      return "provider";
  }
  return "store";
}

Router::Router(const std::vector<Route>& routes) {
  for (const Route& r : routes) {
    Compiled c{r, {}};
    std::string_view p = r.pattern.substr(1);  // patterns start with '/'
    while (!p.empty() || c.segments.empty()) {
      size_t slash = p.find('/');
      std::string_view seg = p.substr(0, slash);
      Segment s{seg};
      if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
        s.param = true;
        s.text = seg.substr(1, seg.size() - 2);
        if (!s.text.empty() && s.text.back() == '*') {
          s.rest = true;
          s.text.remove_suffix(1);
        }
      }
      c.segments.push_back(s);
      if (slash == std::string_view::npos) break;
      p = p.substr(slash + 1);
    }
    table_.push_back(std::move(c));
    names_.emplace_back(r.name);
  }
  names_.emplace_back("not_found");
  names_.emplace_back("method_not_allowed");
  names_.emplace_back("bad_request");
}

bool Router::match_one(const Compiled& c, std::string_view path, Params* params) {
  if (path.empty() || path.front() != '/') return false;
  std::string_view rest = path.substr(1);
  params->size = 0;
  for (size_t i = 0; i < c.segments.size(); ++i) {
    const Segment& s = c.segments[i];
    if (s.rest) {
      if (rest.empty() || params->size == Params::kMax) return false;
      params->items[params->size++] = {s.text, rest};
      return true;
    }
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    bool last = i + 1 == c.segments.size();
    if (last != (slash == std::string_view::npos)) return false;
    if (s.param) {
      if (seg.empty() || params->size == Params::kMax) return false;
      params->items[params->size++] = {s.text, seg};
    } else if (seg != s.text) {
      return false;
    }
    rest = last ? std::string_view() : rest.substr(slash + 1);
  }
  return true;
}

Router::Match Router::match(Method method, std::string_view path) const {
  Match m;
  Method want = method == Method::kHead ? Method::kGet : method;
  for (size_t i = 0; i < table_.size(); ++i) {
    const Compiled& c = table_[i];
    if (!match_one(c, path, &m.params)) continue;
    if (c.route.method == want) {
      m.outcome = Outcome::kFound;
      m.route = static_cast<int>(i);
      return m;
    }
    if (m.outcome != Outcome::kMethodNotAllowed) m.allow.clear();
    m.outcome = Outcome::kMethodNotAllowed;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += method_name(c.route.method);
    if (c.route.method == Method::kGet) m.allow += ", HEAD";
  }
  m.params.size = 0;
  return m;
}

}  // namespace paidoc::web
