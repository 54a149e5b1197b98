// The multipart/form-data parser (web/multipart.h): what browsers send, and
// hostile bodies refused with the right error.
#include "web/multipart.h"

#include <gtest/gtest.h>

#include <string>

namespace paidoc::web::multipart {
namespace {

constexpr const char* kType = "multipart/form-data; boundary=----WebKitFormBoundaryAbC123";
const std::string kB = "------WebKitFormBoundaryAbC123";

std::string field(const std::string& name, const std::string& value) {
  return kB + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
}
std::string file(const std::string& name, const std::string& filename, const std::string& data,
                 const std::string& type = "text/plain") {
  return kB + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename +
         "\"\r\nContent-Type: " + type + "\r\n\r\n" + data + "\r\n";
}
std::string close() { return kB + "--\r\n"; }

Error parse_body(const std::string& body, Body* out, const Limits& limits = {}) {
  return parse(kType, body, limits, out);
}

TEST(MultipartTest, ParsesFieldsAndFilesAsABrowserSendsThem) {
  std::string body = field("csrf", "tok123") + file("files", "a.txt", "第一行\r\n第二行\r\n") +
                     file("files", "b.md", "# 标题\n", "text/markdown") + field("price_yuan", "5.00") +
                     close();
  Body b;
  ASSERT_EQ(parse_body(body, &b), Error::kNone);
  ASSERT_EQ(b.parts().size(), 4u);
  EXPECT_EQ(b.field("csrf"), "tok123");
  EXPECT_EQ(b.field("price_yuan"), "5.00");
  EXPECT_EQ(b.field("files"), "");  // file parts are not fields
  auto files = b.files("files");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(*files[0]->filename, "a.txt");
  // CRLFs inside a file are its bytes, only the one before the delimiter is not.
  EXPECT_EQ(files[0]->data, "第一行\r\n第二行\r\n");
  EXPECT_EQ(files[0]->content_type, "text/plain");
  EXPECT_EQ(*files[1]->filename, "b.md");
  EXPECT_EQ(files[1]->data, "# 标题\n");
}

TEST(MultipartTest, BinaryDataWithNulsAndLookalikeDelimitersIsKept) {
  // The length from the literal itself (it holds NULs): a hand-counted 36
  // read four bytes past its end (found by AddressSanitizer).
  static constexpr char kBytes[] = "PK\x03\x04\0\0\r\n--not-the-boundary\r\n\0end";
  std::string data(kBytes, sizeof kBytes - 1);
  ASSERT_EQ(data.size(), 32u);
  // The parts are views into the body, which must outlive them (a
  // temporary body here was read after it was freed: found by
  // AddressSanitizer).
  const std::string body = file("files", "x.docx", data, "application/octet-stream") + close();
  Body b;
  ASSERT_EQ(parse_body(body, &b), Error::kNone);
  ASSERT_EQ(b.files("files").size(), 1u);
  EXPECT_EQ(b.files("files")[0]->data, data);
}

TEST(MultipartTest, BoundaryQuotedOrNotAndParametersInAnyCase) {
  EXPECT_EQ(boundary_of("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(boundary_of("Multipart/Form-Data;BOUNDARY=\"a b:c?\""), "a b:c?");
  EXPECT_EQ(boundary_of("multipart/form-data; charset=utf-8; boundary=x-1"), "x-1");
  EXPECT_FALSE(boundary_of("multipart/form-data"));
  EXPECT_FALSE(boundary_of("multipart/form-data; boundary="));
  EXPECT_FALSE(boundary_of("multipart/form-data; boundary=\"\""));
  EXPECT_FALSE(boundary_of("multipart/mixed; boundary=abc"));
  EXPECT_FALSE(boundary_of("application/x-www-form-urlencoded"));
  EXPECT_FALSE(boundary_of("multipart/form-data; boundary=" + std::string(71, 'a')));
  EXPECT_TRUE(boundary_of("multipart/form-data; boundary=" + std::string(70, 'a')));
  EXPECT_FALSE(boundary_of("multipart/form-data; boundary=\"ends with space \""));
  EXPECT_FALSE(boundary_of("multipart/form-data; boundary=\"semi;colon\""));
  EXPECT_FALSE(boundary_of("multipart/form-data; boundary=a; boundary=b"));  // repeated
  EXPECT_FALSE(boundary_of("multipart/form-data; boundary=\"unterminated"));
}

TEST(MultipartTest, MissingBoundaryIsRefused) {
  Body b;
  EXPECT_EQ(parse("multipart/form-data", field("a", "1") + close(), {}, &b), Error::kNoBoundary);
  EXPECT_EQ(parse("text/plain", "x", {}, &b), Error::kNoBoundary);
  EXPECT_TRUE(b.parts().empty());
}

TEST(MultipartTest, UnquotedNamesFilenameStarAndEscapes) {
  std::string body =
      kB + "\r\nContent-Disposition: form-data; name=plain\r\n\r\nv\r\n" +
      kB + "\r\ncontent-disposition: FORM-DATA; name=\"files\"; filename=\"fallback.txt\"; "
           "filename*=UTF-8''%E6%8A%A5%E5%91%8A.txt\r\n\r\nx\r\n" +
      kB + "\r\nContent-Disposition: form-data; name=\"q\\\"uote\"\r\n\r\ny\r\n" + close();
  Body b;
  ASSERT_EQ(parse_body(body, &b), Error::kNone);
  EXPECT_EQ(b.field("plain"), "v");
  ASSERT_EQ(b.files("files").size(), 1u);
  EXPECT_EQ(*b.files("files")[0]->filename, "报告.txt");
  EXPECT_EQ(b.field("q\"uote"), "y");
}

TEST(MultipartTest, AWindowsPathKeepsItsBackslashes) {
  const std::string body = file("files", "C:\\docs\\a.txt", "x") + close();
  Body b;
  ASSERT_EQ(parse_body(body, &b), Error::kNone);
  EXPECT_EQ(*b.files("files")[0]->filename, "C:\\docs\\a.txt");
}

TEST(MultipartTest, FilenameStarInAnotherCharsetIsRefused) {
  std::string body = kB +
                     "\r\nContent-Disposition: form-data; name=\"f\"; filename*=ISO-8859-1''a%E9.txt"
                     "\r\n\r\nx\r\n" + close();
  Body b;
  EXPECT_EQ(parse_body(body, &b), Error::kBadName);
}

TEST(MultipartTest, EmptyFileInputIsAFilePartWithNoName) {
  const std::string body = file("files", "", "", "application/octet-stream") + close();
  Body b;
  ASSERT_EQ(parse_body(body, &b), Error::kNone);
  ASSERT_EQ(b.files("files").size(), 1u);
  EXPECT_EQ(*b.files("files")[0]->filename, "");
  EXPECT_TRUE(b.files("files")[0]->data.empty());
}

TEST(MultipartTest, PreambleAndEpilogueAreIgnoredPaddingIsAllowed) {
  std::string body = "this is a preamble\r\n" + kB + "  \t\r\nContent-Disposition: form-data; "
                     "name=\"a\"\r\n\r\n1\r\n" + close() + "epilogue";
  Body b;
  ASSERT_EQ(parse_body(body, &b), Error::kNone);
  EXPECT_EQ(b.field("a"), "1");
}

TEST(MultipartTest, EmptyMultipartHasNoParts) {
  Body b;
  ASSERT_EQ(parse_body(close(), &b), Error::kNone);
  EXPECT_TRUE(b.parts().empty());
  EXPECT_EQ(b.field("csrf"), "");
}

TEST(MultipartTest, TruncatedBodiesAreRefused) {
  std::string full = field("csrf", "t") + file("files", "a.txt", "hello") + close();
  Body b;
  EXPECT_EQ(parse_body("", &b), Error::kTruncated);
  // Every strict prefix that cuts off the close delimiter is refused.
  size_t close_at = full.rfind(kB + "--");
  for (size_t n = 1; n < close_at + kB.size() + 2; ++n) {
    Error e = parse_body(full.substr(0, n), &b);
    EXPECT_NE(e, Error::kNone) << "prefix of " << n << " bytes";
    EXPECT_TRUE(b.parts().empty());
  }
}

TEST(MultipartTest, APartWithoutANameIsRefused) {
  Body b;
  EXPECT_EQ(parse_body(kB + "\r\nContent-Disposition: form-data\r\n\r\nx\r\n" + close(), &b),
            Error::kBadName);
  EXPECT_EQ(parse_body(kB + "\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n" + close(), &b),
            Error::kBadName);
  EXPECT_EQ(parse_body(kB + "\r\nContent-Type: text/plain\r\n\r\nx\r\n" + close(), &b),
            Error::kMalformed);
  EXPECT_EQ(parse_body(kB + "\r\n\r\nx\r\n" + close(), &b), Error::kMalformed);
  EXPECT_EQ(parse_body(kB + "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n" + close(), &b),
            Error::kMalformed);
}

TEST(MultipartTest, NulAndControlCharactersInNamesAreRefused) {
  Body b;
  std::string nul_name = kB + "\r\nContent-Disposition: form-data; name=\"a" + std::string(1, '\0') +
                         "b\"\r\n\r\nx\r\n" + close();
  EXPECT_EQ(parse_body(nul_name, &b), Error::kMalformed);
  std::string nul_file = file("files", std::string("a\0.txt", 6), "x") + close();
  EXPECT_EQ(parse_body(nul_file, &b), Error::kMalformed);
  std::string pct_nul = kB + "\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''a%00.txt"
                        "\r\n\r\nx\r\n" + close();
  EXPECT_EQ(parse_body(pct_nul, &b), Error::kBadName);
  EXPECT_EQ(parse_body(file("files", "a\x01.txt", "x") + close(), &b), Error::kMalformed);
  EXPECT_EQ(parse_body(file("files", "\xff\xfe.txt", "x") + close(), &b), Error::kBadName);
}

TEST(MultipartTest, BareLineFeedsAndFoldedHeadersAreRefused) {
  Body b;
  EXPECT_EQ(parse_body(kB + "\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n" + close(), &b),
            Error::kMalformed);
  EXPECT_EQ(parse_body(kB + "\r\nContent-Disposition: form-data;\n name=\"a\"\r\n\r\nx\r\n" + close(), &b),
            Error::kMalformed);
  EXPECT_EQ(parse_body(kB + "\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nx\r\n" + close(), &b),
            Error::kMalformed);
  // A delimiter followed by something other than CRLF or "--".
  EXPECT_EQ(parse_body(kB + "xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n" + close(), &b),
            Error::kMalformed);
  // Two Content-Dispositions.
  EXPECT_EQ(parse_body(kB + "\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                            "Content-Disposition: form-data; name=\"b\"\r\n\r\nx\r\n" + close(), &b),
            Error::kMalformed);
  // Unknown disposition parameters and repeated ones.
  EXPECT_EQ(parse_body(kB + "\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\nx\r\n" + close(), &b),
            Error::kMalformed);
}

TEST(MultipartTest, HugeHeadersAreRefused) {
  Body b;
  std::string huge = kB + "\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: " +
                     std::string(10000, 'p') + "\r\n\r\nx\r\n" + close();
  EXPECT_EQ(parse_body(huge, &b), Error::kHeaderTooLarge);
  // Without any end of headers at all.
  std::string endless = kB + "\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: " +
                        std::string(100000, 'p');
  EXPECT_EQ(parse_body(endless, &b), Error::kHeaderTooLarge);
}

TEST(MultipartTest, PartAndFileCountsAndFieldSizesAreBounded) {
  Limits limits;
  limits.max_parts = 5;
  limits.max_files = 3;
  limits.max_field_bytes = 10;
  Body b;
  std::string four_files;
  for (int i = 0; i < 4; ++i) four_files += file("files", std::to_string(i) + ".txt", "x");
  EXPECT_EQ(parse_body(four_files + close(), &b, limits), Error::kTooManyFiles);
  std::string six_fields;
  for (int i = 0; i < 6; ++i) six_fields += field("f" + std::to_string(i), "v");
  EXPECT_EQ(parse_body(six_fields + close(), &b, limits), Error::kTooManyParts);
  EXPECT_EQ(parse_body(field("big", std::string(11, 'v')) + close(), &b, limits), Error::kFieldTooLarge);
  // Exactly at the limits is fine.
  std::string three_files;
  for (int i = 0; i < 3; ++i) three_files += file("files", std::to_string(i) + ".txt", "x");
  EXPECT_EQ(parse_body(three_files + field("big", std::string(10, 'v')) + close(), &b, limits),
            Error::kNone);
  EXPECT_EQ(b.files("files").size(), 3u);
}

TEST(MultipartTest, BoundaryMismatchIsMalformed) {
  Body b;
  EXPECT_EQ(parse("multipart/form-data; boundary=other", field("a", "1") + close(), {}, &b),
            Error::kMalformed);
}

}  // namespace
}  // namespace paidoc::web::multipart
