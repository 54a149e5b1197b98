#include "web/qr.h"

#include <fmt/format.h>
#include <qrencode.h>

#include <memory>

#include "web/util.h"

namespace paidoc::web {

namespace {

constexpr int kQuietZone = 4;  // modules of white border (ISO/IEC 18004)

struct QrFree {
  void operator()(QRcode* q) const { QRcode_free(q); }
};

}  // namespace

std::string qr_svg(std::string_view text) {
  if (text.empty() || text.size() > 2048) return {};
  std::string input(text);  // NUL-terminated for the C API
  std::unique_ptr<QRcode, QrFree> code(
      QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!code || code->width <= 0) return {};
  const int width = code->width;
  const int size = width + 2 * kQuietZone;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {0}\" width=\"{1}\" "
      "height=\"{1}\" shape-rendering=\"crispEdges\"><rect width=\"{0}\" height=\"{0}\" "
      "fill=\"#fff\"/><g fill=\"#000\">",
      size, size * 6);
  // One rect per horizontal run of dark modules (bit 0 of each byte).
  for (int y = 0; y < width; ++y) {
    const unsigned char* row = code->data + static_cast<size_t>(y) * width;
    for (int x = 0; x < width;) {
      if (!(row[x] & 1)) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < width && (row[x + run] & 1)) ++run;
      fmt::format_to(std::back_inserter(svg), "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"1\"/>",
                     x + kQuietZone, y + kQuietZone, run);
      x += run;
    }
  }
  svg += "</g></svg>";
  return svg;
}

std::string svg_data_uri(std::string_view svg) {
  return "data:image/svg+xml," + percent_encode(svg);
}

}  // namespace paidoc::web
