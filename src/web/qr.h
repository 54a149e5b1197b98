// QR codes for WeChat Pay Native: the code_url a buyer scans, drawn as SVG.
//
// Thread-safety: pure functions (libqrencode's string encoder is reentrant).
#pragma once

#include <string>
#include <string_view>

namespace paidoc::web {

// An SVG image of `text` as a QR code (error correction level M, 4-module
// quiet zone). The SVG holds only numbers and fixed markup, never `text`
// itself. "" when `text` is empty or cannot be encoded.
std::string qr_svg(std::string_view text);

// `svg` as a data: URI for <img src>: every byte outside RFC 3986 unreserved
// characters is percent-encoded, so the URI is safe in an attribute.
std::string svg_data_uri(std::string_view svg);

}  // namespace paidoc::web
