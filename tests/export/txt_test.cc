// The .txt writer (CRLF, title, indented paragraphs, the mark) and the
// format names and download file names of export.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "export/export.h"
#include "export/formats.h"
#include "export/trace.h"
#include "export_fixture.h"

namespace paidoc::exporter {
namespace {

using namespace testing;

const Mark kMark{99, 0x13572468, 1, 2};

std::vector<std::string> crlf_lines(const std::string& s) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < s.size()) {
    size_t end = s.find("\r\n", at);
    if (end == std::string::npos) {
      out.push_back(s.substr(at));
      break;
    }
    out.push_back(s.substr(at, end - at));
    at = end + 2;
  }
  return out;
}

TEST(Txt, TitleBlankLineThenOneLinePerBlockWithCrlf) {
  gate::DocumentView view = open_view(kReport);
  auto r = render(view, Format::kTxt, kMark);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const std::string& txt = *r;
  const std::string m = encode_mark({kMark.download_id, kMark.nonce});
  ASSERT_TRUE(txt.ends_with("\r\n"));
  EXPECT_FALSE(txt.starts_with("\xEF\xBB\xBF"));  // no BOM
  // Every LF is part of a CRLF, and no CR stands alone.
  for (size_t i = 0; i < txt.size(); ++i) {
    if (txt[i] == '\n') {
      EXPECT_TRUE(i > 0 && txt[i - 1] == '\r') << "bare LF at " << i;
    }
    if (txt[i] == '\r') {
      EXPECT_TRUE(i + 1 < txt.size() && txt[i + 1] == '\n') << "bare CR at " << i;
    }
  }
  std::vector<std::string> lines = crlf_lines(txt);
  // （一） is a run-in heading (format.md §6.2): it and its text are one line.
  const size_t run_in = static_cast<size_t>(
      std::count_if(view.blocks.begin(), view.blocks.end(), [](const auto& b) { return b.run_in; }));
  ASSERT_EQ(run_in, 1u);
  ASSERT_EQ(lines.size(), view.blocks.size() + 2 - run_in);
  EXPECT_EQ(lines[0], view.title + m);
  EXPECT_EQ(lines[1], "");
  EXPECT_EQ(lines[2], "　　今年以来，我局坚持问题导向，围绕基层治理中的突出短板，扎实推进各项重点任务。现将有关情况报告如下。");
  EXPECT_EQ(lines[3], "一、总体情况");
  EXPECT_EQ(lines[4], "　　全年共组织专题调研12次，走访社区46个，收集意见建议300余条，形成调研报告5篇。" + m);
  EXPECT_EQ(lines[5], "（一）制度建设方面。修订完善议事规则和办事流程，推动形成权责清晰、运转顺畅的工作机制。");
  EXPECT_TRUE(contains(txt, "（1）数据标准不统一"));
  EXPECT_TRUE(contains(txt, kPaidSentence));
  EXPECT_EQ(lines.back(), "　　特此报告。" + std::string(view.blocks.size() % 3 == 0 ? m : ""));
  // The mark ends the text of every kMarkEveryParagraphs-th block; line 5
  // holds blocks 4 and 5.
  for (size_t i = 2; i < lines.size(); ++i) {
    const size_t last_block = i < 5 ? i - 1 : i;
    EXPECT_EQ(lines[i].ends_with(m), last_block % internal::kMarkEveryParagraphs == 0) << "line " << i;
  }
  EXPECT_EQ(decode_marks(txt).size(), 1 + view.blocks.size() / internal::kMarkEveryParagraphs);
}

TEST(Txt, LockedViewIsRefused) {
  auto r = render(locked_view(kReport), Format::kTxt, kMark);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kForbidden);
}

TEST(Txt, DocumentWithoutPaidTextExportsForAnyone) {
  // Nothing is withheld, so even the anonymous view is not locked.
  gate::DocumentView view = locked_view("通知\n请各单位于本周五前报送材料。\n");
  ASSERT_FALSE(view.locked);
  auto r = render(view, Format::kTxt, kMark);
  ASSERT_TRUE(r.ok());
  const std::string m = encode_mark({kMark.download_id, kMark.nonce});
  EXPECT_EQ(*r, "通知" + m + "\r\n\r\n　　请各单位于本周五前报送材料。\r\n");
}

TEST(Txt, StampReusesThePreparedText) {
  auto p = prepare(open_view(kReport), Format::kTxt);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->format(), Format::kTxt);
  auto a = stamp(**p, Mark{1, 1, 0, 0});
  auto b = stamp(**p, Mark{2, 2, 0, 0});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(find_mark(*a), (TracePayload{1, 1}));
  EXPECT_EQ(find_mark(*b), (TracePayload{2, 2}));
  // A prepared docx handed to the txt writer is an internal error, not a crash.
  auto docx = prepare(open_view(kReport), Format::kDocx);
  ASSERT_TRUE(docx.ok());
  EXPECT_EQ(internal::stamp_txt(**docx, kMark).status().code(), Code::kInternal);
}

TEST(ExportNames, Formats) {
  EXPECT_EQ(parse_format("docx"), Format::kDocx);
  EXPECT_EQ(parse_format("pdf"), Format::kPdf);
  EXPECT_EQ(parse_format("txt"), Format::kTxt);
  EXPECT_EQ(parse_format("DOCX"), std::nullopt);
  EXPECT_EQ(parse_format("doc"), std::nullopt);
  EXPECT_EQ(parse_format(""), std::nullopt);
  for (Format f : {Format::kDocx, Format::kPdf, Format::kTxt}) {
    EXPECT_EQ(parse_format(format_name(f)), f);
    EXPECT_EQ(std::string(".") + format_name(f), extension(f));
  }
  EXPECT_STREQ(content_type(Format::kDocx),
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  EXPECT_STREQ(content_type(Format::kPdf), "application/pdf");
  EXPECT_STREQ(content_type(Format::kTxt), "text/plain; charset=utf-8");
}

TEST(ExportNames, FileNameIsTheTitleMadeSafe) {
  auto name = [](std::string title, Format f) {
    gate::DocumentView v;
    v.title = std::move(title);
    return file_name(v, f);
  };
  EXPECT_EQ(name("关于2025年度基层治理工作的总结报告", Format::kDocx), "关于2025年度基层治理工作的总结报告.docx");
  EXPECT_EQ(name("整改方案/草案: \"第2版\"?", Format::kPdf), "整改方案_草案_ _第2版__.pdf");
  EXPECT_EQ(name("a\\b*c<d>e|f", Format::kTxt), "a_b_c_d_e_f.txt");
  EXPECT_EQ(name("  工作　　总结  ", Format::kTxt), "工作 总结.txt");
  EXPECT_EQ(name("...", Format::kTxt), "document.txt");
  EXPECT_EQ(name("", Format::kDocx), "document.docx");
  EXPECT_EQ(name("报告.", Format::kTxt), "报告.txt");
  EXPECT_EQ(name("通\xE2\x80\x8B知\n", Format::kTxt), "通_知_.txt");
  // Long titles are clipped to 80 characters.
  std::string long_title;
  for (int i = 0; i < 100; ++i) long_title += "长";
  std::string clipped;
  for (int i = 0; i < 80; ++i) clipped += "长";
  EXPECT_EQ(name(long_title, Format::kTxt), clipped + ".txt");
}

}  // namespace
}  // namespace paidoc::exporter
