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

bool signs(const gate::ViewBlock& b) {
  return b.kind == gate::ViewBlock::Kind::kParagraph &&
         (b.closing == doc::Closing::kSignature || b.closing == doc::Closing::kDate);
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
          nlohmann::json p = {{"paragraph", true},
                              {"run_in", {{"level", b.level}, {"label", shown_label(b)}, {"text", b.text}}},
                              {"label", ""},
                              {"text", rest.text}};
          if (b.paid || rest.paid) p["class"] = "paid";
          blocks.push_back(std::move(p));
          break;
        }
        blocks.push_back({{"heading", true},
                          {"tag", heading_tag(b.level)},
                          {"level", b.level},
                          {"label", shown_label(b)},
                          {"text", b.text},
                          {"paid", b.paid}});
        break;
      case gate::ViewBlock::Kind::kParagraph: {
        if (signs(b)) {  // the signature lines and the date: one group
          nlohmann::json lines = nlohmann::json::array();
          bool paid = false;
          for (; i < all.size() && signs(all[i]); ++i) {
            const gate::ViewBlock& line = all[i];
            const bool date = line.closing == doc::Closing::kDate;
            lines.push_back({{"text", date ? doc::official_date(line.text).value_or(line.text) : line.text},
                             {"date", date}});
            paid = paid || line.paid;
          }
          --i;
          blocks.push_back({{"signature", true}, {"paid", paid}, {"lines", std::move(lines)}});
          break;
        }
        nlohmann::json p = {{"paragraph", true}, {"label", b.label}, {"text", b.text}};
        std::string cls = b.paid ? "paid" : "";
        if (b.closing == doc::Closing::kAttachment) {
          const bool first = i == 0 || all[i - 1].closing != doc::Closing::kAttachment;
          cls += cls.empty() ? "" : " ";
          cls += first ? "closing-attachment" : "closing-attachment-item";
        }
        if (!cls.empty()) p["class"] = cls;
        blocks.push_back(std::move(p));
        break;
      }
      case gate::ViewBlock::Kind::kLocked:
        blocks.push_back({{"locked", true}, {"first", first_lock}});
        first_lock = false;
        break;
    }
  }
  return blocks;
}

}  // namespace paidoc::web
