// Heading labels in the styles Chinese documents are written in
// (docs/format.md §6.1): which lines of a 工作总结, 对照检查材料, 讲话稿,
// 通知, 方案 or regulation are headings, at which level, and which only look
// like one. All text here is written for these tests.
#include "doc/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace paidoc::doc {
namespace {

// "h2 （一） 标题" for a heading, "p 正文" for a paragraph, "r 。正文" for a
// run-in block (format.md §6.2).
std::string describe_style(const Block& b) {
  std::string s = b.kind == BlockKind::kHeading
                      ? "h" + std::to_string(b.level) + " " + b.label + " "
                      : std::string(b.run_in ? "r " : "p ");
  for (const auto& r : b.runs) s += r.text;
  return s;
}

Document parse_style(const std::string& source) {
  ParseResult r = parse(source, "t.txt");
  EXPECT_TRUE(r.ok) << r.error.to_string();
  return r.document;
}

struct StyleCase {
  const char* title;  // the document's title (a regulation's changes the 第 rules)
  const char* line;   // one body line
  const char* blocks;  // its blocks, described and joined by " | "
};

TEST(HeadingStyles, OneLineInEachStyle) {
  const std::vector<StyleCase> cases = {
      // 工作总结
      {"2024年度工作总结", "一、主要工作完成情况", "h1 一、 主要工作完成情况"},
      {"2024年度工作总结", "一、2024年工作回顾", "h1 一、 2024年工作回顾"},
      {"2024年度工作总结", "（一）抓好理论学习", "h2 （一） 抓好理论学习"},
      {"2024年度工作总结", "1.完善制度建设", "h3 1. 完善制度建设"},
      {"2024年度工作总结", "2、强化督促检查", "h3 2、 强化督促检查"},
      {"2024年度工作总结", "（3）细化考核办法", "h4 （3） 细化考核办法"},
      {"2024年度工作总结", "⑵加强队伍建设", "h4 ⑵ 加强队伍建设"},
      {"2024年度工作总结", "③做好资料归档", "h4 ③ 做好资料归档"},
      {"2024年度工作总结", "三、四月份经济运行总体平稳，", "p 三、四月份经济运行总体平稳，"},
      {"2024年度工作总结", "一、二等奖获得者由评审组确定。", "p 一、二等奖获得者由评审组确定。"},
      {"2024年度工作总结", "五、六两个月完成了全部验收。", "p 五、六两个月完成了全部验收。"},
      {"2024年度工作总结", "（一）二〇二四年以来，", "p （一）二〇二四年以来，"},
      {"2024年度工作总结", "7.5G基站建设情况", "p 7.5G基站建设情况"},
      {"2024年度工作总结", "1.5万元专项经费已拨付。", "p 1.5万元专项经费已拨付。"},
      {"2024年度工作总结", "2、3号楼已于年底完工。", "p 2、3号楼已于年底完工。"},
      {"2024年度工作总结", "（1）2项任务提前完成。", "p （1）2项任务提前完成。"},
      {"2024年度工作总结", "⑴2号方案", "p ⑴2号方案"},
      {"2024年度工作总结", "第二节课安排在下午。", "p 第二节课安排在下午。"},
      {"2024年度工作总结", "第一条经验是坚持问题导向。", "p 第一条经验是坚持问题导向。"},
      {"2024年度工作总结", "第三条道路并不存在。", "p 第三条道路并不存在。"},
      {"2024年度工作总结", "第一次全体会议于三月召开。", "p 第一次全体会议于三月召开。"},
      {"2024年度工作总结", "第二部分　下一步打算", "h1 第二部分 下一步打算"},
      {"2024年度工作总结", "第二部分工作由办公室牵头。", "p 第二部分工作由办公室牵头。"},
      // 对照检查材料
      {"个人对照检查材料", "一、存在的主要问题", "h1 一、 存在的主要问题"},
      {"个人对照检查材料", "（一）在理论学习方面", "h2 （一） 在理论学习方面"},
      {"个人对照检查材料", "二、问题产生的原因", "h1 二、 问题产生的原因"},
      {"个人对照检查材料", "三、下一步整改措施", "h1 三、 下一步整改措施"},
      {"个人对照检查材料", "一是学习的系统性不够。", "p 一是学习的系统性不够。"},
      {"个人对照检查材料", "十、其他需要说明的问题", "h1 十、 其他需要说明的问题"},
      {"个人对照检查材料", "十二、三个方面的体会", "p 十二、三个方面的体会"},  // the rule's price
      // 讲话稿
      {"在全县工作会议上的讲话", "同志们：", "p 同志们："},
      {"在全县工作会议上的讲话", "一、统一思想，提高认识", "h1 一、 统一思想，提高认识"},
      {"在全县工作会议上的讲话", "第一，要提高站位。", "p 第一，要提高站位。"},
      {"在全县工作会议上的讲话", "二、三季度要抓好秋收。", "p 二、三季度要抓好秋收。"},
      // 通知
      {"关于做好年度考核工作的通知", "一、考核范围", "h1 一、 考核范围"},
      {"关于做好年度考核工作的通知", "（二）考核程序", "h2 （二） 考核程序"},
      {"关于做好年度考核工作的通知", "1.个人总结", "h3 1. 个人总结"},
      {"关于做好年度考核工作的通知", "12．材料报送", "h3 12． 材料报送"},
      {"关于做好年度考核工作的通知", "（１）按时报送", "h4 （１） 按时报送"},
      {"关于做好年度考核工作的通知", "第一章 总则", "h1 第一章 总则"},
      // 方案
      {"乡村振兴三年行动方案", "第一部分 总体要求", "h1 第一部分 总体要求"},
      {"乡村振兴三年行动方案", "第3章　保障措施", "h1 第3章 保障措施"},
      {"乡村振兴三年行动方案", "第一章加强组织领导", "p 第一章加强组织领导"},
      {"乡村振兴三年行动方案", "（五）强化资金保障", "h2 （五） 强化资金保障"},
      {"乡村振兴三年行动方案", "（五)半角括号", "h2 （五) 半角括号"},
      // 办法 / 条例 / 规定 and their bracketed notes
      {"档案管理办法", "第一章 总则", "h1 第一章 总则"},
      {"档案管理办法", "第一章总则", "h1 第一章 总则"},
      {"档案管理办法", "第二节借阅", "h1 第二节 借阅"},
      {"档案管理办法", "第一条 为规范档案管理，制定本办法。", "h1 第一条  | r 为规范档案管理，制定本办法。"},
      {"档案管理办法", "第十二条档案借阅应当登记。", "h1 第十二条  | r 档案借阅应当登记。"},
      {"档案管理办法（试行）", "第一章总则", "h1 第一章 总则"},
      {"档案管理办法(2024年修订)", "第三章档案利用", "h1 第三章 档案利用"},
      {"村务公开条例", "第二编　分则", "h1 第二编 分则"},
      {"会议室使用规定", "第一条 会议室由办公室统一管理。", "h1 第一条  | r 会议室由办公室统一管理。"},
      {"会议室使用规定", "第二款 另行规定。", "p 第二款 另行规定。"},
      {"会议室使用规定", "第三条", "p 第三条"},  // a label without text
      {"考勤管理实施细则", "第二章考勤", "h1 第二章 考勤"},
      {"协会章程", "第一章总则", "h1 第一章 总则"},
      {"办法汇编说明", "第一章总则", "p 第一章总则"},
      {"关于修订档案管理办法的说明", "第一章总则", "p 第一章总则"},
      {"关于修订档案管理办法的说明", "第一条 修订的背景。", "p 第一条 修订的背景。"},
      // Where a heading ends (§6.2): 。？！： outside brackets and quotes.
      {"个人对照检查材料", "（一）在理论学习方面。一是学得不深。", "h2 （一） 在理论学习方面 | r 。一是学得不深。"},
      {"个人对照检查材料", "（二）在政治素质方面：一是认识不深", "h2 （二） 在政治素质方面 | r ：一是认识不深"},
      {"个人对照检查材料", "（三）为什么会这样？根源在思想。", "h2 （三） 为什么会这样 | r ？根源在思想。"},
      {"个人对照检查材料", "（四）必须立行立改！不能拖。", "h2 （四） 必须立行立改 | r ！不能拖。"},
      {"个人对照检查材料", "（五）标题中有“引号。引号”的情况。下文。", "h2 （五） 标题中有“引号。引号”的情况 | r 。下文。"},
      {"个人对照检查材料", "（六）关于《规定：细则》的学习。下文。", "h2 （六） 关于《规定：细则》的学习 | r 。下文。"},
      {"个人对照检查材料", "（七）关于（试点：两地）情况：如下", "h2 （七） 关于（试点：两地）情况 | r ：如下"},
      {"个人对照检查材料", "（八）引号“未闭合。后文", "h2 （八） 引号“未闭合 | r 。后文"},
      {"个人对照检查材料", "（九）「方括号。」完。后文", "h2 （九） 「方括号。」完 | r 。后文"},
      {"个人对照检查材料", "一、存在的主要问题：", "h1 一、 存在的主要问题："},
      {"个人对照检查材料", "二、整改措施。", "h1 二、 整改措施。"},
      {"个人对照检查材料", "三、为什么？　", "h1 三、 为什么？"},
      {"个人对照检查材料", "（一）。", "p （一）。"},
      {"个人对照检查材料", "（一）。正文", "p （一）。正文"},
      {"个人对照检查材料", "（一） ：正文", "p （一） ：正文"},
      {"个人对照检查材料", "1.学习不深入。表现在三个方面：", "h3 1. 学习不深入 | r 。表现在三个方面："},
      {"个人对照检查材料", "（1）学得不深。 二是", "h4 （1） 学得不深 | r 。 二是"},
      {"个人对照检查材料", "①学用脱节。　一是", "h4 ① 学用脱节 | r 。　一是"},
      {"个人对照检查材料", "2、联系群众不够：", "h3 2、 联系群众不够："},
      {"工作总结", "一、工作成效。全年完成三项任务。二、这不是标题。",
       "h1 一、 工作成效 | r 。全年完成三项任务。二、这不是标题。"},
      {"工作总结", "（二）项目进度:按期推进", "h2 （二） 项目进度:按期推进"},  // ASCII colon: no end
      {"工作总结", "（三）时间安排 10:30开始。下文", "h2 （三） 时间安排 10:30开始 | r 。下文"},
      {"讲话稿", "一、关于形势。同志们，今年以来……", "h1 一、 关于形势 | r 。同志们，今年以来……"},
      {"讲话稿", "二、关于任务：", "h1 二、 关于任务："},
      {"通知", "三、有关要求。各单位要高度重视。", "h1 三、 有关要求 | r 。各单位要高度重视。"},
      {"方案", "（四）进度安排。2025年6月底前完成。", "h2 （四） 进度安排 | r 。2025年6月底前完成。"},
      {"方案", "第一部分　总体要求。坚持稳中求进。", "h1 第一部分 总体要求 | r 。坚持稳中求进。"},
      {"章程", "第一章 总则。", "h1 第一章 总则。"},
      {"协会章程", "第八条 会员享有下列权利：", "h1 第八条  | r 会员享有下列权利："},
      {"协会章程", "第九条　会员应当：（一）遵守章程。", "h1 第九条  | r 会员应当：（一）遵守章程。"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.title) + " / " + c.line);
    const Document d = parse_style(std::string(c.title) + "\n" + c.line);
    ASSERT_FALSE(d.blocks.empty());
    std::string got;
    for (const Block& b : d.blocks) got += (got.empty() ? "" : " | ") + describe_style(b);
    EXPECT_EQ(got, c.blocks);
  }
}

std::vector<std::string> describe_blocks(const std::string& source) {
  std::vector<std::string> out;
  for (const auto& b : parse_style(source).blocks) out.push_back(describe_style(b));
  return out;
}

TEST(HeadingStyles, ARegulationsChaptersSectionsAndArticlesTakeLevelsOneTwoAndThree) {
  const std::string source =
      "资料室管理办法（试行）\n"
      "第一章　总则\n"
      "第一条　为加强资料室管理，制定本办法。\n"
      "第二条　本办法适用于本单位资料室。\n"
      "第二章　借阅\n"
      "第一节　登记\n"
      "第三条　借阅资料应当登记。\n"
      "第二节　归还\n"
      "第四条　借阅期限一般不超过十五日。\n"
      "第三章　附则\n"
      "第五条　本办法自印发之日起施行。\n";
  const std::vector<std::string> want = {
      "h1 第一章 总则",
      "h3 第一条 ",
      "r 为加强资料室管理，制定本办法。",
      "h3 第二条 ",
      "r 本办法适用于本单位资料室。",
      "h1 第二章 借阅",
      "h2 第一节 登记",
      "h3 第三条 ",
      "r 借阅资料应当登记。",
      "h2 第二节 归还",
      "h3 第四条 ",
      "r 借阅期限一般不超过十五日。",
      "h1 第三章 附则",
      "h3 第五条 ",
      "r 本办法自印发之日起施行。",
  };
  EXPECT_EQ(describe_blocks(source), want);
}

TEST(HeadingStyles, ChaptersWithoutSectionsAreLevelOneAndVolumesAboveThemPushThemDown) {
  // Chapters and articles only: no jump from level 1 to level 3.
  EXPECT_EQ(describe_blocks("印章管理规定\n第一章 总则\n第一条 印章由专人保管。\n第二章 使用\n"),
            (std::vector<std::string>{"h1 第一章 总则", "h2 第一条 ", "r 印章由专人保管。",
                                      "h1 第二章 使用"}));
  // Articles only: level 1. Outside a regulation 第X条 is text.
  EXPECT_EQ(describe_blocks("印章管理规定\n第一条 印章由专人保管。\n"),
            (std::vector<std::string>{"h1 第一条 ", "r 印章由专人保管。"}));
  // 编, 章 and 节: levels 1, 2 and 3; numbered headings keep their own.
  EXPECT_EQ(describe_blocks("社区服务条例\n第一编 总则\n第一章 一般规定\n第一节 服务对象\n"
                         "一、居民\n（一）常住居民\n"),
            (std::vector<std::string>{"h1 第一编 总则", "h2 第一章 一般规定",
                                      "h3 第一节 服务对象", "h1 一、 居民",
                                      "h2 （一） 常住居民"}));
  // 部分 ranks with 编, above 章.
  EXPECT_EQ(describe_blocks("年度工作方案\n第一部分 总体思路\n第一章 目标\n"),
            (std::vector<std::string>{"h1 第一部分 总体思路", "h2 第一章 目标"}));
}

TEST(HeadingStyles, ATitleThatIsARegulationNeedsTheWordAtItsEnd) {
  // "办法" inside the title, not at its end: not a regulation.
  EXPECT_EQ(describe_blocks("办法汇编说明\n第一章总则\n第一章 总则\n"),
            (std::vector<std::string>{"p 第一章总则", "h1 第一章 总则"}));
  // Several bracketed notes at the end are all set aside.
  EXPECT_EQ(describe_blocks("值班管理办法（试行）（2024年）\n第一章总则\n"),
            (std::vector<std::string>{"h1 第一章 总则"}));
}

}  // namespace
}  // namespace paidoc::doc
