#include "common/resources.h"

namespace paidoc {

bool resource(std::string_view path, std::string_view* out) {
  for (auto* r = resource_table(); !r->first.empty(); ++r) {
    if (r->first == path) {
      *out = r->second;
      return true;
    }
  }
  return false;
}

std::vector<std::string_view> resource_paths(std::string_view prefix) {
  std::vector<std::string_view> out;
  for (auto* r = resource_table(); !r->first.empty(); ++r)
    if (r->first.substr(0, prefix.size()) == prefix) out.push_back(r->first);
  return out;
}

}  // namespace paidoc
