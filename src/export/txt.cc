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

// What starts a closing line: an empty line above the attachment note and
// above the signature, then the line's indent in U+3000 (an ASCII space for
// a half cell).
std::string closing_lead(const std::vector<gate::ViewBlock>& blocks, size_t i,
                         const doc::ClosingPlaces& places) {
  const gate::ViewBlock& b = blocks[i];
  const doc::Closing previous = i > 0 ? blocks[i - 1].closing : doc::Closing::kNone;
  std::string out;
  if (closing_gap(previous, b.closing)) out += kCrlf;
  double cells = 0;
  switch (b.closing) {
    case doc::Closing::kAttachment:
      cells = previous == doc::Closing::kAttachment ? 5 : 2;
      break;
    case doc::Closing::kSignature:
      cells = places.signature_start;
      break;
    case doc::Closing::kDate:
      cells = places.date_start;
      break;
    case doc::Closing::kNone:
      break;
  }
  const int halves = static_cast<int>(cells * 2 + 0.5);
  for (int k = 0; k < halves / 2; ++k) out += "\xE3\x80\x80";
  if (halves % 2 == 1) out += ' ';
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
  const doc::ClosingPlaces closing = closing_places(view.blocks);
  for (size_t i = 0; i < view.blocks.size(); ++i) {
    const gate::ViewBlock& b = view.blocks[i];
    if (b.kind == gate::ViewBlock::Kind::kLocked) continue;  // not in a view with access
    // A run-in block goes on the line of its heading (format.md §6.2).
    if (!b.run_in) {
      if (!first) cur += kCrlf;
      if (b.kind == gate::ViewBlock::Kind::kHeading) {
        cur += clean(b.label);
        if (spaced_label(b.label)) cur += "\xE3\x80\x80";
      } else if (b.closing != doc::Closing::kNone) {
        cur += closing_lead(view.blocks, i, closing);
      } else {
        cur += kIndent;
      }
    }
    first = false;
    cur += clean(closing_text(b));
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
