// Trace marks: the zero-width codec, the metadata copy, and recovering a
// download's mark from a file or from text pasted out of it.
#include "export/trace.h"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <random>
#include <string>
#include <vector>

#include "export/formats.h"
#include "export_fixture.h"

namespace paidoc::exporter {
namespace {

using namespace testing;

constexpr std::string_view kFrame = "\xEF\xBB\xBF";
const std::string_view kDigits[] = {"\xE2\x80\x8B", "\xE2\x80\x8C", "\xE2\x80\x8D", "\xE2\x81\xA0"};

// Code points of UTF-8 text.
std::vector<std::string> code_points(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = 1;
    while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

TEST(TraceCodec, RoundTripsAndIsInvisible) {
  const TracePayload payloads[] = {{0, 0}, {1, 2}, {0xFFFFFFFF, 0xFFFFFFFF}, {123456, 0xDEADBEEF}};
  for (const TracePayload& p : payloads) {
    std::string m = encode_mark(p);
    auto cps = code_points(m);
    ASSERT_EQ(cps.size(), 38u);  // frame + 36 digits (64 bits + CRC-8, 2 bits each) + frame
    EXPECT_EQ(cps.front(), kFrame);
    EXPECT_EQ(cps.back(), kFrame);
    for (size_t i = 1; i + 1 < cps.size(); ++i)
      EXPECT_TRUE(cps[i] == kDigits[0] || cps[i] == kDigits[1] || cps[i] == kDigits[2] || cps[i] == kDigits[3]);
    std::vector<TracePayload> got = decode_marks(m);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], p);
    EXPECT_EQ(find_mark(m), p);
  }
  EXPECT_NE(encode_mark({1, 2}), encode_mark({2, 1}));
}

TEST(TraceCodec, FindsEveryCopyAmongText) {
  TracePayload a{17, 0xCAFEBABE}, b{18, 99};
  std::string text = "前文，" + encode_mark(a) + "中间的正文。" + encode_mark(b) + encode_mark(a) + "后文";
  std::vector<TracePayload> got = decode_marks(text);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], a);
  EXPECT_EQ(got[1], b);
  EXPECT_EQ(got[2], a);
  EXPECT_TRUE(decode_marks("没有标记的普通文本").empty());
  EXPECT_EQ(find_mark("没有标记的普通文本"), std::nullopt);
  EXPECT_EQ(find_mark(""), std::nullopt);
}

TEST(TraceCodec, EveryChangedDigitIsRejected) {
  const TracePayload p{0x00C0FFEE, 0x12345678};
  const std::string m = encode_mark(p);
  int rejected = 0;
  for (size_t pos = 0; pos < 36; ++pos) {
    for (const auto& d : kDigits) {
      std::string bad = m;
      size_t at = kFrame.size() + 3 * pos;
      if (bad.substr(at, 3) == d) continue;
      bad.replace(at, 3, d);
      EXPECT_TRUE(decode_marks(bad).empty()) << "digit " << pos;
      ++rejected;
    }
  }
  EXPECT_EQ(rejected, 36 * 3);
}

TEST(TraceCodec, BrokenCopiesAreSkipped) {
  const TracePayload p{5, 6};
  const std::string m = encode_mark(p);
  const std::string short_copy = m.substr(0, kFrame.size() + 3 * 10) + m.substr(kFrame.size() + 3 * 11);
  const std::string long_copy = m.substr(0, kFrame.size()) + std::string(kDigits[0]) + m.substr(kFrame.size());
  const std::string no_close = m.substr(0, m.size() - kFrame.size());
  const std::string split = m.substr(0, 30) + "字" + m.substr(30);
  for (const std::string& bad : {short_copy, long_copy, no_close, split}) {
    EXPECT_TRUE(decode_marks("甲" + bad + "乙").empty());
    // A good copy right behind a broken one (sharing no characters) is found.
    std::vector<TracePayload> got = decode_marks(bad + m);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], p);
  }
}

TEST(TraceCodec, FindMarkTakesTheMajority) {
  TracePayload a{1, 1}, b{2, 2};
  EXPECT_EQ(find_mark(encode_mark(a) + encode_mark(b) + encode_mark(b)), b);
  EXPECT_EQ(find_mark(encode_mark(a) + encode_mark(b)), a);  // a tie: the first
  EXPECT_EQ(find_mark(encode_mark(b) + encode_mark(a)), b);
}

TEST(MetadataMark, FormatAndParse) {
  EXPECT_EQ(internal::metadata_mark({0x01020304, 0xA0B0C0D0}), "paidoc-trace:01020304a0b0c0d0");
  EXPECT_EQ(internal::metadata_mark({0, 0}), "paidoc-trace:0000000000000000");
  const TracePayload p{0xFFFFFFFF, 42};
  EXPECT_EQ(internal::parse_metadata_mark(internal::metadata_mark(p)), p);
  // Among other keywords, as in a PDF's Keywords.
  EXPECT_EQ(internal::parse_metadata_mark("工作总结, " + internal::metadata_mark(p) + ", 整改"), p);
  EXPECT_EQ(internal::parse_metadata_mark("paidoc-trace:0102"), std::nullopt);
  EXPECT_EQ(internal::parse_metadata_mark("paidoc-trace:01020304a0b0c0d0f"), std::nullopt);
  EXPECT_EQ(internal::parse_metadata_mark("paidoc-trace:01020304a0b0c0dx"), std::nullopt);
  EXPECT_EQ(internal::parse_metadata_mark(""), std::nullopt);
}

// A reader copies a few paragraphs out of the .docx (what Word puts on the
// clipboard is the paragraphs' text) and posts them; the paste names the
// download.
TEST(TraceDocx, AnyThreeParagraphsPastedCarryTheMark) {
  gate::DocumentView view = open_view(long_report(3000));
  const TracePayload want{31337, 0x5EED};
  auto bytes = render(view, Format::kDocx, Mark{want.download_id, want.nonce, 1, 2});
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  std::string xml = unzip(*bytes)["word/document.xml"];
  pugi::xml_document d;
  ASSERT_TRUE(d.load_buffer(xml.data(), xml.size()));
  auto ps = paragraphs(d);
  ASSERT_GT(ps.size(), 30u);
  for (size_t first = 1; first + 3 <= ps.size(); ++first) {
    std::string paste;
    for (size_t i = first; i < first + 3; ++i) paste += run_text(ps[i]) + "\r\n";
    EXPECT_EQ(find_mark(paste), want) << "paragraphs " << first << ".." << first + 2;
  }
  // A middle stretch, pasted into a chat with text around it.
  std::string paste = "看看这个：";
  for (size_t i = ps.size() / 2; i < ps.size() / 2 + 7; ++i) paste += run_text(ps[i]) + "\n";
  paste += "（转自群聊）";
  EXPECT_EQ(find_mark(paste), want);
  // Nothing but the title carries no mark of the body.
  EXPECT_EQ(find_mark(view.title), std::nullopt);
}

TEST(TraceBytes, RecoversBothMarksFromDocx) {
  const TracePayload want{2024, 0xABCDEF01};
  auto bytes = render(open_view(kReport), Format::kDocx, Mark{want.download_id, want.nonce, 5, 6});
  ASSERT_TRUE(bytes.ok());
  auto found = trace_bytes(*bytes);
  ASSERT_TRUE(found.ok()) << found.status().to_string();
  EXPECT_EQ(found->kind, "docx");
  EXPECT_EQ(found->text_mark, want);
  EXPECT_EQ(found->metadata_mark, want);
}

TEST(TraceBytes, RecoversTheMarkFromTxtAndPastedText) {
  const TracePayload want{8, 0x0BADF00D};
  auto bytes = render(open_view(kReport), Format::kTxt, Mark{want.download_id, want.nonce, 5, 6});
  ASSERT_TRUE(bytes.ok());
  auto found = trace_bytes(*bytes);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->kind, "text");
  EXPECT_EQ(found->text_mark, want);
  EXPECT_EQ(found->metadata_mark, std::nullopt);
  // The lines from the 4th to the 6th body block, pasted alone.
  std::string txt = *bytes;
  size_t from = 0;
  for (int i = 0; i < 5; ++i) from = txt.find("\r\n", from) + 2;  // title, blank, 3 blocks
  size_t to = from;
  for (int i = 0; i < 3; ++i) to = txt.find("\r\n", to) + 2;
  auto pasted = trace_bytes(txt.substr(from, to - from));
  ASSERT_TRUE(pasted.ok());
  EXPECT_EQ(pasted->text_mark, want);
}

TEST(TraceBytes, RecoversBothMarksFromPdf) {
  const TracePayload want{77, 0x77777777};
  auto bytes = render(open_view(kReport), Format::kPdf, Mark{want.download_id, want.nonce, 5, 6});
  if (!bytes.ok() && bytes.status().message().find("not built yet") != std::string::npos)
    GTEST_SKIP() << "the pdf writer is not in this build";
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  auto found = trace_bytes(*bytes);
  ASSERT_TRUE(found.ok()) << found.status().to_string();
  EXPECT_EQ(found->kind, "pdf");
  EXPECT_EQ(found->metadata_mark, want);
  EXPECT_EQ(found->text_mark, want);
}

TEST(TraceBytes, OtherInputIsNotAnError) {
  // A zip that is no .docx, a broken "PDF", random bytes: no mark, no crash.
  auto text = trace_bytes("PK\x03\x04 not really a zip");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->kind, "text");
  EXPECT_EQ(text->text_mark, std::nullopt);
  auto pdf = trace_bytes("%PDF-1.7\nbroken");
  EXPECT_FALSE(pdf.ok());
  EXPECT_EQ(pdf.status().code(), Code::kInvalidArgument);
  std::mt19937 rng(1);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  auto r = trace_bytes(noise);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text_mark, std::nullopt);
  // A docx cut short is reported, not trusted.
  auto docx = render(open_view(kReport), Format::kDocx, Mark{1, 2, 3, 4});
  ASSERT_TRUE(docx.ok());
  auto cut = trace_bytes(std::string_view(*docx).substr(0, docx->size() / 2));
  if (cut.ok()) {
    EXPECT_NE(cut->kind, "docx");
  }
}

}  // namespace
}  // namespace paidoc::exporter
