#include "web/view_blocks.h"

#include <nlohmann/json.hpp>
#include <string>

#include "doc/document.h"

namespace paidoc::web {
namespace {

const char* heading_tag(int level) {
  switch (level) {
    case 2:
      return "h3";
    case 3:
      return "h4";
    case 4:
      return "h5";
    default:
      return "h2";
  }
}

std::string shown_label(const gate::ViewBlock& b) {
  return doc::spaced_label(b.label) ? b.label + "\u3000" : b.label;
}

}  // namespace

nlohmann::json view_blocks_json(const gate::DocumentView& v) {
  nlohmann::json blocks = nlohmann::json::array();
  bool first_lock = true;
  const auto& all = v.blocks;
  for (size_t i = 0; i < all.size(); ++i) {
    const gate::ViewBlock& b = all[i];
    switch (b.kind) {
      case gate::ViewBlock::Kind::kHeading:
        if (i + 1 < all.size() && all[i + 1].run_in) {
          const gate::ViewBlock& rest = all[++i];
          blocks.push_back({{"paragraph", true},
                            {"run_in", {{"level", b.level}, {"label", shown_label(b)}, {"text", b.text}}},
                            {"label", ""},
                            {"text", rest.text},
                            {"paid", b.paid || rest.paid}});
          break;
        }
        blocks.push_back({{"heading", true},
                          {"tag", heading_tag(b.level)},
                          {"level", b.level},
                          {"label", shown_label(b)},
                          {"text", b.text},
                          {"paid", b.paid}});
        break;
      case gate::ViewBlock::Kind::kParagraph:
        blocks.push_back(
            {{"paragraph", true}, {"label", b.label}, {"text", b.text}, {"paid", b.paid}});
        break;
      case gate::ViewBlock::Kind::kLocked:
        blocks.push_back({{"locked", true}, {"first", first_lock}});
        first_lock = false;
        break;
    }
  }
  return blocks;
}

}  // namespace paidoc::web
