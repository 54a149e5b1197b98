// Trace marks (trace.h): the zero-width codec, the metadata copy
// (formats.h), and reading both back out of a file this module wrote.
//
// Wire format of one text mark, in UTF-8:
//   U+FEFF, 36 digits, U+FEFF
// where the 36 digits are the 9 bytes payload[0..7] (download_id << 32 |
// nonce, big-endian) and crc8(payload), most significant bits first, two
// bits per digit: 0 = U+200B, 1 = U+200C, 2 = U+200D, 3 = U+2060.
// CRC-8 is polynomial 0x07, initial value 0, no reflection (CRC-8/SMBUS).
#include "export/trace.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>
#include <pugixml.hpp>
#include <zip.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <map>
#include <memory>

#include "export/formats.h"

namespace paidoc::exporter {
namespace {

constexpr std::string_view kFrame = "\xEF\xBB\xBF";  // U+FEFF
// U+200B, U+200C, U+200D, U+2060: all three bytes long in UTF-8.
constexpr std::array<std::string_view, 4> kDigits = {"\xE2\x80\x8B", "\xE2\x80\x8C",
                                                     "\xE2\x80\x8D", "\xE2\x81\xA0"};
constexpr size_t kPayloadBytes = 8;
constexpr size_t kDigitCount = (kPayloadBytes + 1) * 4;  // payload + CRC, 2 bits each
constexpr size_t kCharBytes = 3;                          // every mark character

// Largest part we inflate out of a .docx, so a zip bomb cannot eat memory.
constexpr zip_uint64_t kMaxPartBytes = 64u << 20;

uint8_t crc8(const uint8_t* data, size_t n) {
  uint8_t crc = 0;
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int b = 0; b < 8; ++b)
      crc = static_cast<uint8_t>((crc & 0x80) ? (crc << 1) ^ 0x07 : crc << 1);
  }
  return crc;
}

std::array<uint8_t, kPayloadBytes> payload_bytes(const TracePayload& p) {
  const uint64_t v = (static_cast<uint64_t>(p.download_id) << 32) | p.nonce;
  std::array<uint8_t, kPayloadBytes> out{};
  for (size_t i = 0; i < kPayloadBytes; ++i) out[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  return out;
}

// The digit (0..3) at s[i], or -1.
int digit_at(std::string_view s, size_t i) {
  if (i + kCharBytes > s.size()) return -1;
  const std::string_view c = s.substr(i, kCharBytes);
  for (int d = 0; d < 4; ++d)
    if (c == kDigits[d]) return d;
  return -1;
}

// Decodes the frame whose opening U+FEFF is at s[at]; on success sets *end
// to the byte after the closing U+FEFF.
std::optional<TracePayload> decode_at(std::string_view s, size_t at, size_t* end) {
  size_t i = at + kFrame.size();
  std::array<uint8_t, kPayloadBytes + 1> bytes{};
  for (size_t k = 0; k < kDigitCount; ++k, i += kCharBytes) {
    const int d = digit_at(s, i);
    if (d < 0) return std::nullopt;
    bytes[k / 4] = static_cast<uint8_t>(bytes[k / 4] | (d << (6 - 2 * (k % 4))));
  }
  if (s.substr(i, kFrame.size()) != kFrame) return std::nullopt;
  if (crc8(bytes.data(), kPayloadBytes) != bytes[kPayloadBytes]) return std::nullopt;
  uint64_t v = 0;
  for (size_t k = 0; k < kPayloadBytes; ++k) v = (v << 8) | bytes[k];
  *end = i + kFrame.size();
  return TracePayload{static_cast<uint32_t>(v >> 32), static_cast<uint32_t>(v & 0xFFFFFFFFu)};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ---------------------------------------------------------------------------
// .docx

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

// The uncompressed bytes of `name` in the archive; nullopt if absent.
Result<std::optional<std::string>> read_part(zip_t* z, const char* name) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(z, name, 0, &st) != 0) return std::optional<std::string>();
  if ((st.valid & ZIP_STAT_SIZE) == 0 || st.size > kMaxPartBytes)
    return Status::invalid(std::string("docx: part too large: ") + name);
  zip_file_t* f = zip_fopen(z, name, 0);
  if (f == nullptr) return Status::invalid(std::string("docx: cannot open ") + name + ": " + zip_strerror(z));
  std::string out(st.size, '\0');
  zip_int64_t got = zip_fread(f, out.data(), st.size);
  zip_fclose(f);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
    return Status::invalid(std::string("docx: cannot read ") + name);
  return std::optional<std::string>(std::move(out));
}

// Local name of an element ("w:t" -> "t").
std::string_view local_name(const pugi::xml_node& n) {
  std::string_view name = n.name();
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// The text of word/document.xml: every w:t in document order, one line per
// paragraph.
void collect_text(const pugi::xml_node& node, std::string& out) {
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    std::string_view name = local_name(c);
    if (name == "t") {
      out += c.child_value();
    } else {
      collect_text(c, out);
      if (name == "p") out += '\n';
    }
  }
}

Result<TraceFound> trace_docx(zip_t* z) {
  TraceFound found;
  found.kind = "docx";
  auto document = read_part(z, "word/document.xml");
  if (!document.ok()) return document.status();
  pugi::xml_document xml;
  pugi::xml_parse_result parsed = xml.load_buffer((*document)->data(), (*document)->size());
  if (!parsed) return Status::invalid(std::string("docx: word/document.xml: ") + parsed.description());
  std::string text;
  collect_text(xml, text);
  found.text_mark = find_mark(text);

  auto custom = read_part(z, "docProps/custom.xml");
  if (!custom.ok()) return custom.status();
  if (custom->has_value()) {
    pugi::xml_document props;
    if (props.load_buffer((*custom)->data(), (*custom)->size())) {
      for (pugi::xml_node p = props.document_element().first_child(); p; p = p.next_sibling()) {
        if (local_name(p) != "property" || std::string_view(p.attribute("name").value()) != "paidoc-trace")
          continue;
        // The value is the property's one child element (vt:lpwstr).
        found.metadata_mark = internal::parse_metadata_mark(p.first_child().child_value());
        break;
      }
    }
  }
  return found;
}

// ---------------------------------------------------------------------------
// .pdf

std::string to_utf8(const poppler::ustring& u) {
  poppler::byte_array b = u.to_utf8();
  return std::string(b.begin(), b.end());
}

Result<TraceFound> trace_pdf(std::string_view bytes) {
  TraceFound found;
  found.kind = "pdf";
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    return Status::invalid("pdf: file too large");
  std::unique_ptr<poppler::document> d(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!d) return Status::invalid("pdf: cannot be read");
  if (d->is_locked()) return Status::invalid("pdf: encrypted");
  std::string text;
  for (int i = 0; i < d->pages(); ++i) {
    std::unique_ptr<poppler::page> page(d->create_page(i));
    if (!page) continue;
    text += to_utf8(page->text());
    text += '\n';
  }
  found.text_mark = find_mark(text);
  found.metadata_mark = internal::parse_metadata_mark(to_utf8(d->info_key("Keywords")));
  return found;
}

}  // namespace

// ---------------------------------------------------------------------------

std::string encode_mark(const TracePayload& p) {
  std::array<uint8_t, kPayloadBytes + 1> bytes{};
  auto payload = payload_bytes(p);
  std::copy(payload.begin(), payload.end(), bytes.begin());
  bytes[kPayloadBytes] = crc8(payload.data(), kPayloadBytes);
  std::string out;
  out.reserve(2 * kFrame.size() + kDigitCount * kCharBytes);
  out += kFrame;
  for (size_t k = 0; k < kDigitCount; ++k) out += kDigits[(bytes[k / 4] >> (6 - 2 * (k % 4))) & 3];
  out += kFrame;
  return out;
}

std::vector<TracePayload> decode_marks(std::string_view s) {
  std::vector<TracePayload> out;
  size_t i = 0;
  while ((i = s.find(kFrame, i)) != std::string_view::npos) {
    size_t end = 0;
    if (auto p = decode_at(s, i, &end)) {
      out.push_back(*p);
      i = end;
    } else {
      // A broken copy: its closing U+FEFF may open the next one.
      i += kFrame.size();
    }
  }
  return out;
}

std::optional<TracePayload> find_mark(std::string_view utf8) {
  std::vector<TracePayload> all = decode_marks(utf8);
  if (all.empty()) return std::nullopt;
  std::map<uint64_t, int> count;
  for (const auto& p : all) ++count[(static_cast<uint64_t>(p.download_id) << 32) | p.nonce];
  const TracePayload* best = nullptr;
  int best_count = 0;
  for (const auto& p : all) {  // in order, so the first wins a tie
    int c = count[(static_cast<uint64_t>(p.download_id) << 32) | p.nonce];
    if (c > best_count) {
      best = &p;
      best_count = c;
    }
  }
  return *best;
}

Result<TraceFound> trace_bytes(std::string_view bytes) {
  if (bytes.substr(0, 5) == "%PDF-") return trace_pdf(bytes);
  if (bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4)) {
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
    if (src != nullptr) {
      ZipPtr z(zip_open_from_source(src, ZIP_RDONLY, &err));
      if (!z) {
        zip_source_free(src);
      } else if (zip_name_locate(z.get(), "word/document.xml", 0) >= 0) {
        zip_error_fini(&err);
        return trace_docx(z.get());
      }
    }
    zip_error_fini(&err);
    // A zip that is not a .docx: fall through and treat it as text (no mark).
  }
  TraceFound found;
  found.kind = "text";
  found.text_mark = find_mark(bytes);
  return found;
}

namespace internal {

std::string metadata_mark(const TracePayload& p) {
  static constexpr char kHex[] = "0123456789abcdef";
  const uint64_t v = (static_cast<uint64_t>(p.download_id) << 32) | p.nonce;
  std::string out = "paidoc-trace:";
  for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xF];
  return out;
}

// Lenient on purpose: the prefix may stand anywhere in s (PDF Keywords may
// hold other words), and hex digits of either case are accepted; exactly 16
// digits must follow it.
std::optional<TracePayload> parse_metadata_mark(std::string_view s) {
  constexpr std::string_view kPrefix = "paidoc-trace:";
  size_t at = 0;
  while ((at = s.find(kPrefix, at)) != std::string_view::npos) {
    size_t i = at + kPrefix.size();
    uint64_t v = 0;
    size_t n = 0;
    while (i + n < s.size() && n <= 16 && hex_value(s[i + n]) >= 0) {
      v = (v << 4) | static_cast<uint64_t>(hex_value(s[i + n]));
      ++n;
    }
    if (n == 16)
      return TracePayload{static_cast<uint32_t>(v >> 32), static_cast<uint32_t>(v & 0xFFFFFFFFu)};
    at = i;
  }
  return std::nullopt;
}

}  // namespace internal
}  // namespace paidoc::exporter
