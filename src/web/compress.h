// Content codings for responses: gzip (zlib) and Brotli, the choice of one
// from a request's Accept-Encoding, and which media types are worth
// compressing. Knows nothing of requests or responses (http.h does the HTTP
// side: Vary, ETags, prepared representations).
//
// Thread-safety: every function may be called from any number of threads at
// once. The gzip encoder keeps one zlib stream per thread (thread_local),
// reset between calls, so a call allocates only its output.
//
// Failure: an encoder that fails (zlib or Brotli out of memory, an input
// too large for the library) returns std::nullopt; the caller then sends the
// identity bytes. Nothing here throws except std::bad_alloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paidoc::web::compress {

enum class Coding : uint8_t { kIdentity, kGzip, kBrotli };

// Bodies smaller than this are sent as they are: the saving would not pay
// for the encoding and the extra headers.
inline constexpr size_t kMinBytes = 1024;

// How hard to compress. kOnce: bytes compressed once and served many times
// (render caches, static files); kPerRequest: a body made for one response.
struct Effort {
  int gzip_level;      // zlib 1..9
  int brotli_quality;  // 0..11
};
// Brotli above 6 costs several times the time for a few percent, too much
// on a render-cache miss that a reader waits for.
inline constexpr Effort kOnce{9, 6};
inline constexpr Effort kPerRequest{6, 5};

// "gzip", "br", "identity": the Content-Encoding token.
std::string_view name(Coding c);

// The ETag suffix that tells a compressed representation from the identity
// one: "-gz", "-br", "" for identity.
std::string_view etag_suffix(Coding c);

// What a request's Accept-Encoding admits: the q-value of each coding we
// can send, in thousandths (0 = not acceptable, 1000 = q=1).
//
// Parsing (RFC 9110 §12.5.3): a comma-separated list of codings, each with
// an optional ";q=" weight (0, 0.5, 1.000, ...; at most three decimals);
// names are case-insensitive, "x-gzip" is gzip; "*" stands for every coding
// not named in the list. An element with a malformed weight is ignored. A
// request without the header (or with an empty one) gets identity: in
// practice the clients that omit it cannot decode anything.
struct Accept {
  uint16_t gzip = 0;
  uint16_t brotli = 0;

  static Accept parse(std::string_view accept_encoding);

  // The coding to send when the representation exists in gzip
  // (`have_gzip`) and/or Brotli (`have_brotli`): the acceptable one with
  // the higher weight, Brotli on a tie (it is smaller); kIdentity when
  // neither is acceptable or available.
  Coding choose(bool have_gzip, bool have_brotli) const;
};

// True for media types that shrink under compression: text/*, JSON, XML
// (Atom, RSS, sitemaps), SVG, JavaScript. False for images, fonts, archives,
// PDF and Office files, which are compressed already. `content_type` may
// carry parameters ("text/html; charset=utf-8"); case-insensitive.
bool compressible_type(std::string_view content_type);

// `in` encoded with `c` (kGzip: a gzip member, RFC 1952; kBrotli: a raw
// Brotli stream, RFC 7932). std::nullopt on failure or for kIdentity.
std::optional<std::string> encode(Coding c, std::string_view in, Effort effort);

}  // namespace paidoc::web::compress
