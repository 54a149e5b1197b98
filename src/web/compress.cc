#include "web/compress.h"

#include <brotli/encode.h>
#include <zlib.h>

#include <limits>

#include "web/util.h"

namespace paidoc::web::compress {

namespace {

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
// thousandths; nullopt when malformed.
std::optional<uint16_t> parse_qvalue(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return std::nullopt;
  uint16_t whole = static_cast<uint16_t>(v[0] - '0');
  if (v.size() == 1) return static_cast<uint16_t>(whole * 1000);
  if (v[1] != '.' || v.size() > 5) return std::nullopt;
  uint16_t frac = 0, scale = 100;
  for (size_t i = 2; i < v.size(); ++i, scale /= 10) {
    if (v[i] < '0' || v[i] > '9') return std::nullopt;
    frac = static_cast<uint16_t>(frac + (v[i] - '0') * scale);
  }
  if (whole == 1 && frac != 0) return std::nullopt;
  return static_cast<uint16_t>(whole * 1000 + frac);
}

// One zlib deflate stream per thread, writing gzip members, reset after
// every use.
class Deflater {
 public:
  ~Deflater() {
    if (ready_) deflateEnd(&z_);
  }

  std::optional<std::string> encode(std::string_view in, int level) {
    if (in.size() > std::numeric_limits<uInt>::max() / 2) return std::nullopt;
    if (!ready_) {
      z_ = z_stream{};
      // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
      if (deflateInit2(&z_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return std::nullopt;
      ready_ = true;
      level_ = level;
    } else if (level != level_) {
      // Allowed right after a reset: nothing is pending in the stream.
      if (deflateParams(&z_, level, Z_DEFAULT_STRATEGY) != Z_OK) return fail();
      level_ = level;
    }
    std::string out(deflateBound(&z_, static_cast<uLong>(in.size())), '\0');
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z_, Z_FINISH) != Z_STREAM_END) return fail();
    out.resize(z_.total_out);
    if (deflateReset(&z_) != Z_OK) {
      deflateEnd(&z_);
      ready_ = false;
    }
    return out;
  }

 private:
  // Drops the stream (a fresh one is made on the next call).
  std::optional<std::string> fail() {
    deflateEnd(&z_);
    ready_ = false;
    return std::nullopt;
  }

  z_stream z_{};
  bool ready_ = false;
  int level_ = 0;
};

std::optional<std::string> brotli(std::string_view in, int quality) {
  size_t max = BrotliEncoderMaxCompressedSize(in.size());
  if (max == 0) return std::nullopt;  // input too large
  std::string out(max, '\0');
  size_t n = max;
  // A window no larger than the input: the encoder sets up (and clears)
  // tables sized by the window, which for a page of a few KiB costs far more
  // than the compression itself.
  int lgwin = BROTLI_MIN_WINDOW_BITS;
  while (lgwin < BROTLI_DEFAULT_WINDOW && (size_t{1} << lgwin) < in.size()) ++lgwin;
  if (!BrotliEncoderCompress(quality, lgwin, BROTLI_MODE_TEXT, in.size(),
                             reinterpret_cast<const uint8_t*>(in.data()), &n,
                             reinterpret_cast<uint8_t*>(out.data())))
    return std::nullopt;
  out.resize(n);
  return out;
}

}  // namespace

std::string_view name(Coding c) {
  switch (c) {
    case Coding::kGzip:
      return "gzip";
    case Coding::kBrotli:
      return "br";
    case Coding::kIdentity:
      break;
  }
  return "identity";
}

std::string_view etag_suffix(Coding c) {
  switch (c) {
    case Coding::kGzip:
      return "-gz";
    case Coding::kBrotli:
      return "-br";
    case Coding::kIdentity:
      break;
  }
  return "";
}

Accept Accept::parse(std::string_view header) {
  Accept a;
  std::optional<uint16_t> gzip, brotli, star;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view element = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);

    size_t semi = element.find(';');
    std::string_view coding = trim(element.substr(0, semi));
    if (coding.empty()) continue;
    std::optional<uint16_t> q = 1000;
    while (semi != std::string_view::npos && q) {
      element.remove_prefix(semi + 1);
      semi = element.find(';');
      std::string_view param = trim(element.substr(0, semi));
      size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;  // not a weight; ignored
      if (!ascii_iequals(trim(param.substr(0, eq)), "q")) continue;
      q = parse_qvalue(trim(param.substr(eq + 1)));
    }
    if (!q) continue;  // malformed weight: the element is ignored
    if (ascii_iequals(coding, "gzip") || ascii_iequals(coding, "x-gzip"))
      gzip = q;
    else if (ascii_iequals(coding, "br"))
      brotli = q;
    else if (coding == "*")
      star = q;
  }
  a.gzip = gzip.value_or(star.value_or(0));
  a.brotli = brotli.value_or(star.value_or(0));
  return a;
}

Coding Accept::choose(bool have_gzip, bool have_brotli) const {
  uint16_t g = have_gzip ? gzip : 0;
  uint16_t b = have_brotli ? brotli : 0;
  if (g == 0 && b == 0) return Coding::kIdentity;
  return b >= g ? Coding::kBrotli : Coding::kGzip;
}

bool compressible_type(std::string_view content_type) {
  std::string type(trim(content_type.substr(0, content_type.find(';'))));
  for (char& c : type)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  auto ends = [&](std::string_view s) {
    return type.size() >= s.size() && type.compare(type.size() - s.size(), s.size(), s) == 0;
  };
  if (type.rfind("text/", 0) == 0) return true;
  if (type == "application/json" || type == "application/xml" ||
      type == "application/javascript" || type == "image/svg+xml")
    return true;
  // application/atom+xml, application/rss+xml, application/ld+json, ...
  return type.rfind("application/", 0) == 0 && (ends("+xml") || ends("+json"));
}

std::optional<std::string> encode(Coding c, std::string_view in, Effort effort) {
  switch (c) {
    case Coding::kGzip: {
      thread_local Deflater deflater;
      return deflater.encode(in, effort.gzip_level);
    }
    case Coding::kBrotli:
      return brotli(in, effort.brotli_quality);
    case Coding::kIdentity:
      break;
  }
  return std::nullopt;
}

}  // namespace paidoc::web::compress
