// Plain-text export: UTF-8 (no BOM), CRLF line ends, the title, an empty
// line, then one line per block — headings with their labels, paragraphs
// indented with two ideographic spaces, a run-in block on its heading's line.
// The text mark ends the title line and the text of every
// kMarkEveryParagraphs-th block.
#include <string>
#include <vector>

#include "export/formats.h"

namespace paidoc::exporter::internal {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kIndent = "\xE3\x80\x80\xE3\x80\x80";  // two U+3000

// The file text split where the marks go: pieces[0] mark pieces[1] mark ...
class TxtPrepared final : public Prepared {
 public:
  explicit TxtPrepared(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {
    for (const auto& p : pieces_) bytes_ += p.size();
  }
  Format format() const override { return Format::kTxt; }
  size_t bytes() const override { return bytes_ + sizeof(*this); }
  const std::vector<std::string>& pieces() const { return pieces_; }

 private:
  std::vector<std::string> pieces_;
  size_t bytes_ = 0;
};

// Text as it may go into the file: U+FEFF removed (so that every U+FEFF in
// an export frames a mark) and control characters turned into spaces.
std::string clean(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0xEF && s.substr(i, 3) == "\xEF\xBB\xBF") {
      i += 2;
    } else if (c < 0x20 || c == 0x7F) {
      out += ' ';
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const Prepared>> prepare_txt(const gate::DocumentView& view) {
  if (view.locked) return Status::forbidden("export: the view has no access to the paid text");
  std::vector<std::string> pieces;
  std::string cur = clean(view.title);
  pieces.push_back(std::move(cur));
  cur.assign(kCrlf);
  cur += kCrlf;
  int n = 0;
  bool first = true;
  for (const auto& b : view.blocks) {
    if (b.kind == gate::ViewBlock::Kind::kLocked) continue;  // not in a view with access
    // A run-in block goes on the line of its heading (format.md §6.2).
    if (!b.run_in) {
      if (!first) cur += kCrlf;
      if (b.kind == gate::ViewBlock::Kind::kHeading) {
        cur += clean(b.label);
        if (spaced_label(b.label)) cur += "\xE3\x80\x80";
      } else {
        cur += kIndent;
      }
    }
    first = false;
    cur += clean(b.text);
    if (++n % kMarkEveryParagraphs == 0) {
      pieces.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!first) cur += kCrlf;
  pieces.push_back(std::move(cur));
  return std::shared_ptr<const Prepared>(std::make_shared<TxtPrepared>(std::move(pieces)));
}

Result<std::string> stamp_txt(const Prepared& p, const Mark& mark) {
  const auto* txt = dynamic_cast<const TxtPrepared*>(&p);
  if (txt == nullptr) return Status::internal("txt: prepared for another format");
  const std::string m = encode_mark({mark.download_id, mark.nonce});
  const auto& pieces = txt->pieces();
  std::string out;
  out.reserve(txt->bytes() + m.size() * pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) out += m;
    out += pieces[i];
  }
  return out;
}

}  // namespace paidoc::exporter::internal
