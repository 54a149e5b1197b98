// Unit tests of response compression: Accept-Encoding weights, which types
// compress, the encoders against the reference decoders, prepared
// representations (ETags, Vary, when none is made) and encode_response on
// handler-built responses.
#include "web/compress.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "web/cache.h"
#include "web/decode.h"
#include "web/http.h"

namespace paidoc::web {
namespace {

using compress::Accept;
using compress::Coding;
using testing::gunzip;
using testing::unbrotli;

// Text that compresses well, written for these tests, about `n` bytes.
std::string sample_text(size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i)
    s += "<p>第" + std::to_string(i) + "条：阅览室的书架每周整理一次，借阅登记按日期归档。</p>\n";
  return s;
}

struct AcceptCase {
  const char* header;
  uint16_t gzip;
  uint16_t brotli;
  Coding both;       // choose(true, true)
  Coding gzip_only;  // choose(true, false)
};

TEST(AcceptEncoding, WeightsFollowRfc9110) {
  const AcceptCase cases[] = {
      {"", 0, 0, Coding::kIdentity, Coding::kIdentity},
      {"gzip", 1000, 0, Coding::kGzip, Coding::kGzip},
      {"GZIP", 1000, 0, Coding::kGzip, Coding::kGzip},
      {"x-gzip", 1000, 0, Coding::kGzip, Coding::kGzip},
      {"gzip, deflate, br", 1000, 1000, Coding::kBrotli, Coding::kGzip},
      {"gzip, deflate, br, zstd", 1000, 1000, Coding::kBrotli, Coding::kGzip},
      {"gzip;q=0", 0, 0, Coding::kIdentity, Coding::kIdentity},
      {"gzip; q=0.000", 0, 0, Coding::kIdentity, Coding::kIdentity},
      {"gzip;Q=0", 0, 0, Coding::kIdentity, Coding::kIdentity},
      {"gzip;q=1.000", 1000, 0, Coding::kGzip, Coding::kGzip},
      {"gzip;q=0.5, br;q=0.4", 500, 400, Coding::kGzip, Coding::kGzip},
      {"gzip;q=0.4, br;q=0.5", 400, 500, Coding::kBrotli, Coding::kGzip},
      {"br;q=0.001", 0, 1, Coding::kBrotli, Coding::kIdentity},
      {"*", 1000, 1000, Coding::kBrotli, Coding::kGzip},
      {"*;q=0", 0, 0, Coding::kIdentity, Coding::kIdentity},
      {"gzip;q=0, *", 0, 1000, Coding::kBrotli, Coding::kIdentity},
      {"br;q=0, *;q=0.3", 300, 0, Coding::kGzip, Coding::kGzip},
      {"*;q=0.2, gzip", 1000, 200, Coding::kGzip, Coding::kGzip},
      {"identity", 0, 0, Coding::kIdentity, Coding::kIdentity},
      {"deflate", 0, 0, Coding::kIdentity, Coding::kIdentity},
      {" gzip ;  q=0.8 ,br ", 800, 1000, Coding::kBrotli, Coding::kGzip},
      {",, gzip ,,", 1000, 0, Coding::kGzip, Coding::kGzip},
      // Malformed weights drop their element.
      {"gzip;q=2", 0, 0, Coding::kIdentity, Coding::kIdentity},
      {"gzip;q=1.5", 0, 0, Coding::kIdentity, Coding::kIdentity},
      {"gzip;q=0.5555", 0, 0, Coding::kIdentity, Coding::kIdentity},
      {"gzip;q=", 0, 0, Coding::kIdentity, Coding::kIdentity},
      {"gzip;q=abc, br", 0, 1000, Coding::kBrotli, Coding::kIdentity},
      // A parameter other than q is no weight.
      {"gzip;level=1", 1000, 0, Coding::kGzip, Coding::kGzip},
  };
  for (const AcceptCase& c : cases) {
    Accept a = Accept::parse(c.header);
    EXPECT_EQ(a.gzip, c.gzip) << "'" << c.header << "'";
    EXPECT_EQ(a.brotli, c.brotli) << "'" << c.header << "'";
    EXPECT_EQ(a.choose(true, true), c.both) << "'" << c.header << "'";
    EXPECT_EQ(a.choose(true, false), c.gzip_only) << "'" << c.header << "'";
    EXPECT_EQ(a.choose(false, false), Coding::kIdentity) << "'" << c.header << "'";
  }
}

TEST(CompressibleType, TextJsonXmlSvgYesBinaryNo) {
  for (const char* t :
       {"text/html; charset=utf-8", "TEXT/CSS", "text/plain", "application/json; charset=utf-8",
        "application/atom+xml; charset=utf-8", "application/rss+xml", "application/xml",
        "image/svg+xml", "text/javascript; charset=utf-8", "application/ld+json"})
    EXPECT_TRUE(compress::compressible_type(t)) << t;
  for (const char* t :
       {"", "image/png", "image/x-icon", "font/woff2", "application/pdf", "application/zip",
        "application/octet-stream",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"})
    EXPECT_FALSE(compress::compressible_type(t)) << t;
}

TEST(Encode, GzipAndBrotliRoundTripThroughTheReferenceDecoders) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{5000}, size_t{300000}}) {
    std::string text = sample_text(n);
    for (compress::Effort e : {compress::kOnce, compress::kPerRequest}) {
      std::optional<std::string> gz = compress::encode(Coding::kGzip, text, e);
      ASSERT_TRUE(gz.has_value());
      EXPECT_EQ(gunzip(*gz), text);
      std::optional<std::string> br = compress::encode(Coding::kBrotli, text, e);
      ASSERT_TRUE(br.has_value());
      EXPECT_EQ(unbrotli(*br), text);
      if (n >= 5000) {
        EXPECT_LT(gz->size(), text.size() / 3);
        EXPECT_LT(br->size(), text.size() / 3);
      }
    }
  }
  EXPECT_FALSE(compress::encode(Coding::kIdentity, "abc", compress::kOnce).has_value());
}

// The gzip stream is per thread and reused: calls from many threads at once
// with alternating levels each get their own input back.
TEST(Encode, ConcurrentGzipCallsDoNotMix) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 50; ++i) {
        std::string text = sample_text(2000 + static_cast<size_t>(t * 100 + i));
        auto gz = compress::encode(Coding::kGzip, text,
                                   i % 2 ? compress::kOnce : compress::kPerRequest);
        if (!gz || gunzip(*gz) != text) ++failures[static_cast<size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

constexpr std::string_view kHtmlHeaders =
    "Content-Type: text/html; charset=utf-8\r\nCache-Control: private, max-age=0\r\n";

TEST(MakePrepared, CompressedRepresentationsHaveTheirOwnEtagsAndVary) {
  std::string text = sample_text(8000);
  std::shared_ptr<const Prepared> p = make_prepared(kHtmlHeaders, text);
  ASSERT_FALSE(p->gzip.body.empty());
  ASSERT_FALSE(p->brotli.body.empty());
  EXPECT_EQ(p->identity.body, text);
  EXPECT_EQ(gunzip(p->gzip.body), text);
  EXPECT_EQ(unbrotli(p->brotli.body), text);

  const std::string& tag = p->identity.etag;
  ASSERT_GE(tag.size(), 3u);
  EXPECT_EQ(tag, make_etag(text));
  EXPECT_EQ(p->gzip.etag, tag.substr(0, tag.size() - 1) + "-gz\"");
  EXPECT_EQ(p->brotli.etag, tag.substr(0, tag.size() - 1) + "-br\"");

  EXPECT_EQ(header_value(p->identity.headers, "ETag"), tag);
  EXPECT_EQ(header_value(p->identity.headers, "Vary"), "Accept-Encoding");
  EXPECT_EQ(header_value(p->identity.headers, "Content-Encoding"), "");
  EXPECT_EQ(header_value(p->gzip.headers, "ETag"), p->gzip.etag);
  EXPECT_EQ(header_value(p->gzip.headers, "Vary"), "Accept-Encoding");
  EXPECT_EQ(header_value(p->gzip.headers, "Content-Encoding"), "gzip");
  EXPECT_EQ(header_value(p->brotli.headers, "Content-Encoding"), "br");
  EXPECT_EQ(header_value(p->gzip.headers, "Cache-Control"), "private, max-age=0");

  // An If-None-Match for one representation does not validate another.
  EXPECT_TRUE(etag_matches(p->gzip.etag, p->gzip.etag));
  EXPECT_FALSE(etag_matches(p->gzip.etag, tag));
  EXPECT_FALSE(etag_matches(tag, p->gzip.etag));

  EXPECT_EQ(p->choose(Accept::parse("gzip")), Coding::kGzip);
  EXPECT_EQ(p->choose(Accept::parse("gzip, br")), Coding::kBrotli);
  EXPECT_EQ(p->choose(Accept::parse("")), Coding::kIdentity);
  EXPECT_EQ(&p->get(Coding::kGzip), &p->gzip);
  EXPECT_EQ(&p->get(Coding::kIdentity), &p->identity);
}

TEST(MakePrepared, SmallOrBinaryBodiesGetNoCompressedRepresentation) {
  std::shared_ptr<const Prepared> small = make_prepared(kHtmlHeaders, sample_text(500));
  ASSERT_LT(small->identity.body.size(), compress::kMinBytes);
  EXPECT_TRUE(small->gzip.body.empty());
  EXPECT_TRUE(small->brotli.body.empty());
  EXPECT_EQ(small->choose(Accept::parse("gzip, br")), Coding::kIdentity);
  // The type is compressible: the response still varies.
  EXPECT_EQ(header_value(small->identity.headers, "Vary"), "Accept-Encoding");

  std::shared_ptr<const Prepared> png =
      make_prepared("Content-Type: image/png\r\n", sample_text(8000));
  EXPECT_TRUE(png->gzip.body.empty());
  EXPECT_TRUE(png->brotli.body.empty());
  EXPECT_EQ(header_value(png->identity.headers, "Vary"), "");

  std::shared_ptr<const Prepared> untagged = make_prepared(kHtmlHeaders, sample_text(4000), false);
  EXPECT_TRUE(untagged->identity.etag.empty());
  EXPECT_TRUE(untagged->gzip.etag.empty());
  EXPECT_FALSE(untagged->gzip.body.empty());
  EXPECT_EQ(header_value(untagged->gzip.headers, "ETag"), "");
}

// Incompressible bytes (no saving) are not offered compressed.
TEST(MakePrepared, NoSavingNoRepresentation) {
  std::string noise;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 4096; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    noise.push_back(static_cast<char>(x & 0xff));
  }
  std::shared_ptr<const Prepared> p = make_prepared("Content-Type: text/plain\r\n", noise);
  EXPECT_TRUE(p->gzip.body.empty());
  EXPECT_TRUE(p->brotli.body.empty());
}

TEST(RenderCacheCompression, OneEntryHoldsEveryRepresentation) {
  RenderCache cache(1 << 20);
  std::shared_ptr<const Prepared> p = make_prepared(kHtmlHeaders, sample_text(8000));
  cache.put(7, 1, p);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), p->bytes() + 64);
  EXPECT_GT(p->bytes(), p->identity.body.size() + p->gzip.body.size());
  // Hits share the bytes compressed at put time.
  std::shared_ptr<const Prepared> a = cache.get(7, 1), b = cache.get(7, 1);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->gzip.body.data(), p->gzip.body.data());
  EXPECT_EQ(b->gzip.body.data(), p->gzip.body.data());
}

Response text_response(std::string_view type, std::string body) {
  Response r;
  r.headers = "Content-Type: " + std::string(type) + "\r\n";
  r.body = std::move(body);
  return r;
}

TEST(EncodeResponse, CompressesWhatTheRequestAccepts) {
  std::string text = sample_text(6000);
  Request req;
  req.accept_encoding = "gzip";
  Response r = text_response("application/json; charset=utf-8", text);
  encode_response(req, r);
  EXPECT_EQ(header_value(r.headers, "Content-Encoding"), "gzip");
  EXPECT_EQ(header_value(r.headers, "Vary"), "Accept-Encoding");
  EXPECT_EQ(gunzip(r.body), text);

  req.accept_encoding = "br;q=1, gzip;q=0.9";
  r = text_response("text/html", text);
  encode_response(req, r);
  EXPECT_EQ(header_value(r.headers, "Content-Encoding"), "br");
  EXPECT_EQ(unbrotli(r.body), text);

  // HEAD: compressed as well, so Content-Length is the GET's.
  req.method = Method::kHead;
  req.accept_encoding = "gzip";
  r = text_response("text/html", text);
  encode_response(req, r);
  EXPECT_EQ(header_value(r.headers, "Content-Encoding"), "gzip");
}

TEST(EncodeResponse, LeavesAloneWhatMustNotBeCompressed) {
  std::string text = sample_text(6000);
  Request req;
  req.accept_encoding = "gzip, br";

  Response pdf = text_response("application/pdf", text);
  encode_response(req, pdf);
  EXPECT_EQ(pdf.body, text);
  EXPECT_EQ(header_value(pdf.headers, "Vary"), "");
  EXPECT_EQ(header_value(pdf.headers, "Content-Encoding"), "");

  Response small = text_response("text/html", sample_text(600));
  encode_response(req, small);
  EXPECT_EQ(small.body, sample_text(600));
  EXPECT_EQ(header_value(small.headers, "Vary"), "Accept-Encoding");
  EXPECT_EQ(header_value(small.headers, "Content-Encoding"), "");

  Response breach = text_response("text/html", text);
  breach.may_compress = false;
  encode_response(req, breach);
  EXPECT_EQ(breach.body, text);
  EXPECT_EQ(header_value(breach.headers, "Content-Encoding"), "");

  Response not_modified = text_response("text/html", "");
  not_modified.status = 304;
  encode_response(req, not_modified);
  EXPECT_EQ(header_value(not_modified.headers, "Vary"), "");

  Response refused = text_response("text/html", text);
  Request no_gzip;
  no_gzip.accept_encoding = "gzip;q=0";
  encode_response(no_gzip, refused);
  EXPECT_EQ(refused.body, text);
  EXPECT_EQ(header_value(refused.headers, "Vary"), "Accept-Encoding");
  EXPECT_EQ(header_value(refused.headers, "Content-Encoding"), "");
}

}  // namespace
}  // namespace paidoc::web
