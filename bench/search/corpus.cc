// The synthetic corpus: phrase tables, a tiny template expander and the
// document layout (see corpus.h). All text here was written for this
// benchmark; it imitates the register of Chinese official documents without
// quoting any real one.
#include "corpus.h"

#include <algorithm>
#include <cstdio>
#include <span>
#include <string_view>
#include <unordered_map>

namespace paidoc::bench {
namespace {

using std::string_view;
using Table = std::span<const string_view>;

// ---- the generator ----------------------------------------------------------

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to make
// text; the state is seeded from (seed, index) only.
class Rng {
 public:
  explicit Rng(uint64_t state) : s_(state) {}
  uint64_t next() {
    s_ += 0x9e3779b97f4a7c15ULL;
    return mix64(s_);
  }
  // Uniform in [0, n). REQUIRES: n > 0. The modulo bias is irrelevant here.
  uint64_t below(uint64_t n) { return next() % n; }
  // Uniform in [lo, hi].
  int range(int lo, int hi) { return lo + static_cast<int>(below(static_cast<uint64_t>(hi - lo + 1))); }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  string_view pick(Table t) { return t[below(t.size())]; }

 private:
  uint64_t s_;
};

uint64_t doc_state(uint64_t seed, int64_t index) {
  return mix64(seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL) ^
         mix64(static_cast<uint64_t>(index) + 0x2545f4914f6cdd1dULL);
}

// ---- phrase tables ------------------------------------------------------------
// Slots in braces are expanded recursively (see Expander). Special slots
// (numbers, years, the document's organisation) are computed, not listed.

constexpr string_view kPlace[] = {
    "城东区", "江北县", "青山镇", "河西街道", "临江市", "南湖区", "北岭县", "石桥镇",
    "云溪乡", "金沙街道", "东港区", "西山县", "白水镇", "柳林街道", "桃源县", "清河县",
    "新城区", "龙泉镇", "长乐乡", "凤鸣街道", "平川县", "望江镇", "梅岭乡", "高新区",
};

constexpr string_view kUnit[] = {
    "财政局", "教育局", "农业农村局", "交通运输局", "自然资源局", "生态环境局",
    "住房和城乡建设局", "人力资源和社会保障局", "审计局", "统计局", "司法局", "民政局",
    "医疗保障局", "应急管理局", "水利局", "文化和旅游局", "商务局", "退役军人事务局",
    "市场监督管理局", "发展和改革局", "卫生健康委员会", "党校", "档案馆", "第一中学",
    "人民医院", "供电公司", "城市投资发展集团", "人民政府", "党群服务中心", "行政审批局",
};

constexpr string_view kRole[] = {
    "党组书记", "党组成员", "纪检监察组组长", "办公室主任", "党委书记", "党委副书记",
    "支部书记", "副主任", "四级调研员", "机关党委专职副书记", "组织人事科科长",
    "财务科科长", "综合股股长",
};

constexpr string_view kSubj[] = {
    "我们", "我局", "局党组", "领导班子", "全局上下", "各支部", "各科室", "班子成员",
    "本单位", "机关党委", "全体党员干部", "{org}",
};

constexpr string_view kSelf[] = {"本人", "我", "我"};

constexpr string_view kLeader[] = {
    "县委县政府", "市委市政府", "上级党委", "区委", "党工委", "上级主管部门", "局党组",
};

constexpr string_view kSuperior[] = {
    "市委办公室", "县纪委监委", "上级主管部门", "市委组织部", "区委宣传部", "县委组织部",
    "市纪委监委", "县委办公室",
};

constexpr string_view kTheme[] = {
    "习近平新时代中国特色社会主义思想", "党的二十大精神", "党章党规党纪",
    "中央八项规定及其实施细则精神", "新时代党的建设总要求", "全会精神",
    "《中国共产党纪律处分条例》", "党的创新理论", "《中国共产党章程》",
    "关于加强作风建设的重要论述",
};

constexpr string_view kAdv[] = {
    "坚持以人民为中心的发展思想", "紧紧围绕中心工作", "对标对表上级部署", "坚持问题导向",
    "坚持守正创新", "坚持系统观念", "坚持稳中求进工作总基调", "聚焦主责主业",
    "按照年初确定的目标任务", "以高质量党建引领高质量发展", "坚持目标导向和结果导向相结合",
    "坚持一张蓝图绘到底",
};

constexpr string_view kAct[] = {
    "深入学习贯彻{theme}",
    "认真落实全面从严治党主体责任",
    "扎实开展主题教育",
    "持续深化作风建设",
    "严格落实中央八项规定精神",
    "扎实推进党风廉政建设",
    "不断完善内部控制制度",
    "切实加强干部队伍建设",
    "全力推进重点项目建设",
    "持续优化营商环境",
    "狠抓安全生产工作",
    "推动基层党组织标准化规范化建设",
    "认真开展调查研究",
    "严格落实意识形态工作责任制",
    "认真落实“第一议题”制度",
    "持续纠治形式主义、官僚主义",
    "稳步推进数字化转型",
    "加强财政资金监管",
    "扎实做好为民办实事工作",
    "常态化开展廉政警示教育",
    "全面推行清单化管理",
    "深入推进乡村振兴",
    "着力防范化解重大风险",
    "认真做好信访维稳工作",
    "不断健全议事决策机制",
    "持续开展“三会一课”",
    "扎实推进“放管服”改革",
    "着力提升服务群众水平",
    "严格执行民主集中制",
    "全面加强机关效能建设",
    "认真落实“一岗双责”",
    "加大重点领域监督检查力度",
    "深化拓展“我为群众办实事”实践活动",
    "推动各项政策落地见效",
    "持续加强生态环境保护",
    "强化人才引进和培养",
};

constexpr string_view kFocus[] = {
    "年度目标任务", "全县工作大局", "群众急难愁盼问题", "高质量发展", "营商环境建设",
    "基层治理能力提升", "民生实事项目", "重点领域改革", "安全生产底线", "党建与业务深度融合",
};

constexpr string_view kEffect[] = {
    "取得了明显成效", "各项工作稳步推进", "干部作风明显转变", "群众满意度不断提升",
    "工作效率显著提高", "制度体系日趋完善", "为全年目标任务的完成打下了坚实基础",
    "政治生态持续向好", "基层党组织的战斗堡垒作用进一步发挥", "各项指标均完成或超额完成",
    "得到了上级部门的充分肯定", "干事创业的氛围更加浓厚",
};

constexpr string_view kDetail[] = {
    "全年共组织集中学习{n}次，开展专题研讨{n}次",
    "累计完成固定资产投资{money}，同比增长{pct}%",
    "共排查问题隐患{n2}处，整改完成率达{hi}%",
    "组织党员干部{big}人次参加培训",
    "办结群众诉求{big}件，满意率达{hi}%",
    "新建和改造项目{n}个，总投资{money}",
    "争取上级资金{money}",
    "查处违反中央八项规定精神问题{n}起，处理{n}人",
    "开展谈心谈话{n2}人次",
    "发放宣传资料{big}余份",
    "召开党组会议{n}次，研究议题{n2}项",
    "讲授专题党课{n}场",
    "完成年度目标任务的{hi}%",
    "新增市场主体{big}户",
    "帮助企业解决实际困难{n2}个",
    "培训基层干部{big}人次",
    "受理审批事项{big}件，按时办结率{hi}%",
    "开展专项检查{n}次，下发整改通知书{n}份",
};

constexpr string_view kProblem[] = {
    "理论学习不够深入系统",
    "学用结合不够紧密",
    "工作标准不够高",
    "创新意识不强",
    "调查研究不够深入",
    "联系服务群众不够经常",
    "落实“一岗双责”不够到位",
    "对分管领域的监督管理偏松偏软",
    "担当作为的劲头有所减弱",
    "廉洁自律的警钟没有长鸣",
    "存在“等靠要”思想",
    "抓落实的力度层层递减",
    "开会发文仍然偏多",
    "批评与自我批评开展得不够经常",
    "对年轻干部的培养使用不够",
    "制度执行不够严格",
    "风险意识和底线思维不够强",
    "工作中存在畏难情绪",
    "对新知识新业务学得不深不透",
    "谈心谈话流于形式",
    "整改工作存在“一阵风”现象",
    "意识形态阵地管理不够精细",
    "党内政治生活的质量不够高",
    "在推动工作时习惯于凭老经验办事",
};

constexpr string_view kProblemDetail[] = {
    "有时满足于知道了、了解了，没有做到真学真懂真信真用",
    "平时忙于日常事务，挤时间学习的自觉性不够",
    "对一些复杂矛盾问题存在绕着走的现象",
    "深入基层一线的次数不多，掌握的情况不够全面",
    "对身边同志的提醒教育不够及时",
    "有时只求过得去、不求过得硬",
    "在部署工作时多，跟踪问效少",
    "对一些苗头性、倾向性问题没有做到早发现、早处置",
    "有的工作停留在会议上、文件里",
    "满足于完成上级交办的任务，主动谋划不够",
    "存在好人主义思想，怕得罪人",
    "有时把业务工作与党建工作割裂开来",
};

constexpr string_view kStandard[] = {
    "党章党规", "新时代合格党员标准", "初心使命", "廉洁自律准则", "先进典型",
    "群众期盼", "岗位职责", "这次民主生活会的主题",
};

constexpr string_view kArea[] = {
    "政治理论学习", "贯彻执行民主集中制", "落实全面从严治党责任", "为民服务解难题",
    "工作作风", "廉洁自律", "担当作为", "能力本领", "组织生活", "意识形态工作",
};

constexpr string_view kCause[] = {
    "理想信念有所弱化",
    "宗旨意识有所淡化",
    "党性修养有所放松",
    "纪律规矩意识不够牢固",
    "对新形势新任务的认识不足",
    "政绩观存在一定偏差",
    "自我要求有所降低",
    "缺乏攻坚克难的韧劲",
    "对理论武装的重要性认识不够",
    "群众观念树得不牢",
    "责任担当意识不够强",
    "工作方法创新不够",
};

constexpr string_view kCauseDetail[] = {
    "总认为自己是老党员，思想上放松了改造",
    "存在重业务轻学习的倾向",
    "对自己要求不够严格，标准有所降低",
    "满足于现状，进取精神不足",
    "没有把学习当成一种精神追求",
    "对群众的所思所盼了解不够深入",
};

constexpr string_view kMeasure[] = {
    "进一步健全长效机制",
    "建立问题清单、责任清单、任务清单，实行销号管理",
    "定期开展“回头看”",
    "严格执行民主集中制",
    "认真落实谈心谈话制度",
    "把理论学习作为首要政治任务",
    "坚持每月集中学习不少于{n}次",
    "深入基层开展调查研究",
    "持之以恒正风肃纪",
    "严格落实党风廉政建设责任制",
    "加强对权力运行的制约和监督",
    "强化干部教育培训",
    "大力弘扬求真务实作风",
    "坚决杜绝形式主义、官僚主义",
    "认真抓好巡察反馈问题整改",
    "压紧压实各级责任",
    "完善考核评价办法",
    "加大督查问责力度",
    "扎实推进各项重点工作",
    "切实为基层减负",
    "主动接受党员群众监督",
    "带头讲党课、作报告",
    "把整改成效体现到推动发展上",
    "建立健全风险防控体系",
};

constexpr string_view kGoal[] = {
    "确保各项任务按时保质完成",
    "确保整改工作取得实效",
    "推动全面从严治党向纵深发展",
    "为经济社会高质量发展提供坚强保障",
    "努力向组织和群众交出满意答卷",
    "切实把学习成果转化为工作成效",
    "以实际行动践行初心使命",
    "不断提升人民群众的获得感、幸福感、安全感",
    "营造风清气正的政治生态",
    "奋力开创各项工作新局面",
};

constexpr string_view kInsight[] = {
    "理论上的清醒是政治上坚定的前提",
    "只有把学习成果落实到行动上，才能真正做到知行合一",
    "全面从严治党永远在路上",
    "作风建设关系人心向背",
    "为民服务是共产党人的根本宗旨",
    "调查研究是谋事之基、成事之道",
    "廉洁自律是党员干部的立身之本",
    "担当作为是干部的职责所在",
    "基层是一切工作的落脚点",
    "实干才能实现目标",
    "制度的生命力在于执行",
    "群众路线是党的生命线",
};

constexpr string_view kResolve[] = {
    "要始终把纪律和规矩挺在前面",
    "要自觉做到学思用贯通、知信行统一",
    "要在急难险重任务面前敢于挺身而出",
    "要时刻保持清醒头脑，经常对照检查",
    "要把群众的事当作自己的事来办",
    "要以更高标准严格要求自己",
    "要带头转变作风，带头攻坚克难",
    "要守住底线、不越红线",
};

constexpr string_view kInquiry[] = {"企业", "农户", "社区", "学校", "合作社", "村（社区）", "项目现场"};

constexpr string_view kMetric[] = {
    "地区生产总值", "一般公共预算收入", "社会消费品零售总额", "农村居民人均可支配收入",
    "规模以上工业增加值", "民生支出", "固定资产投资", "外贸进出口总额",
};

constexpr string_view kFinding[] = {
    "各地高度重视，工作措施有力，取得了一定成效",
    "政策知晓率总体较高，但基层落实存在温差",
    "部分企业反映融资难、融资贵问题依然突出",
    "专业人才短缺的问题比较普遍",
    "基础设施建设仍有短板",
    "部门之间信息共享不够顺畅",
    "群众对公共服务的期待越来越高",
    "产业链条较短，附加值不高",
};

constexpr string_view kSuggestion[] = {
    "进一步加大政策支持力度",
    "建立跨部门协调机制",
    "加快补齐基础设施短板",
    "完善人才引育留用政策",
    "推动数据共享和业务协同",
    "强化要素保障",
    "健全考核激励机制",
    "加强典型经验总结推广",
};

constexpr string_view kSpeech[] = {
    "今天召开这次会议，主要任务是总结工作、分析形势、部署任务",
    "刚才，几位同志作了很好的发言，我都同意",
    "大家要清醒认识到当前工作面临的困难和挑战",
    "成绩值得肯定，问题不容忽视",
    "思想是行动的先导",
    "抓落实是最终的检验",
};

constexpr string_view kTopic[] = {
    "党建", "意识形态", "安全生产", "优化营商环境", "乡村振兴", "财政预算管理", "信访维稳",
    "人才", "机关作风建设", "数字政府建设", "生态环境保护", "基层治理", "政务公开",
    "审计整改", "招商引资", "农村人居环境整治", "教育教学", "医疗服务质量",
};

// Heading tables. Level 2 and 3 headings are short action or area names.
constexpr string_view kL2Work[] = {
    "强化理论武装", "健全制度机制", "压实工作责任", "加强队伍建设", "优化服务保障",
    "深化作风建设", "推进重点任务", "严格监督检查", "聚焦民生实事", "夯实基层基础",
    "抓好风险防控", "坚持改革创新",
};
constexpr string_view kL2Area[] = {
    "在政治理论学习方面", "在贯彻执行民主集中制方面", "在落实全面从严治党责任方面",
    "在为民服务解难题方面", "在工作作风方面", "在廉洁自律方面", "在担当作为方面",
    "在能力本领方面", "在组织生活方面", "在意识形态工作方面",
};
constexpr string_view kL2Measure[] = {
    "持续加强理论武装", "严格落实主体责任", "切实转变工作作风", "着力提升能力本领",
    "坚决守牢廉洁底线", "不断健全长效机制", "全面加强组织领导", "认真抓好问题整改",
};
constexpr string_view kL3[] = {
    "加强组织领导", "细化任务分工", "强化督促检查", "注重宣传引导", "抓好结果运用",
    "完善考核办法", "建立工作台账", "开展专项整治", "落实定期报告制度", "推行清单管理",
    "强化培训指导", "严格追责问责",
};

// The rare phrases: each in ~0.1% of documents. None of them shares a
// two-character word with the tables above, so a phrase query for one finds
// only the documents it was put in.
constexpr string_view kRare[] = {
    "古树名木保护", "盐碱地改良", "候鸟迁徙通道", "非遗传承人", "冷链物流追溯",
    "无人机巡河", "碳汇交易", "传统村落活化", "地下综合管廊", "智慧养老驿站",
    "光伏扶贫电站", "梯田灌溉渠", "茶园病虫害绿色防控", "海绵城市", "渔船北斗定位",
    "中药材种植基地", "边境贸易互市", "红色档案数字化", "古籍修复", "高标准农田",
};

constexpr string_view kRareSentence[] = {
    "同时，{subj}还积极推进{rare}相关工作，{effect}。",
    "在{rare}方面，{subj}{act}，{detail}。",
    "特别是{rare}工作，仍然{problem}。",
    "下一步，将把{rare}作为重点，{measure}。",
    "调研中还了解到，{rare}试点{finding}。",
};

// Sentence templates by the role of the section they appear in.
enum class Role { kWork, kProblem, kCause, kMeasure, kInsight, kSurvey, kSpeech, kReview };

constexpr string_view kWorkT[] = {
    "{year}年以来，{subj}在{leader}的坚强领导下，{adv}，{act}，{act}，{effect}。",
    "{subj}{act}，{detail}，{effect}。",
    "一是{act}，{detail}。二是{act}，{effect}。三是{act}，{detail}。",
    "围绕{focus}，{subj}{act}，{detail}。",
    "截至{year}年{month}月底，{detail}，{effect}。",
    "{adv}，{act}，{effect}。",
    "{subj}把{act}作为重要抓手，{detail}。",
    "与{prev}年相比，{detail}。",
};
constexpr string_view kProblemT[] = {
    "{problem}。{problem_detail}。",
    "主要表现在：{problem}；{problem}；{problem}。",
    "对照{standard}，{self}{problem}，{problem_detail}。",
    "一是{problem}。{problem_detail}。二是{problem}。",
    "在{area}方面，{problem}，{problem_detail}。",
    "虽然做了一些工作，但与上级要求相比仍有差距，{problem}。",
};
constexpr string_view kCauseT[] = {
    "究其原因，{cause}，{cause}。",
    "深入剖析，问题虽然表现在{area}上，但根子在思想上，{cause}。",
    "{cause}，{cause_detail}。",
    "从主观上看，{cause_detail}；从客观上看，{cause}。",
};
constexpr string_view kMeasureT[] = {
    "下一步，{subj}将{measure}，{measure}，{goal}。",
    "{measure}。{measure}，{goal}。",
    "一是{measure}。二是{measure}。三是{measure}，{goal}。",
    "针对{problem}的问题，{measure}，{goal}。",
    "{next}年，{subj}将{adv}，{measure}，{goal}。",
    "{self}将{measure}，{goal}。",
};
constexpr string_view kInsightT[] = {
    "通过学习，{self}深刻认识到，{insight}。",
    "作为一名党员干部，{self}{resolve}。",
    "{insight}，{resolve}。",
    "学习{theme}，使{self}进一步认识到{insight}。",
    "回顾{year}年的工作，{self}体会到，{insight}。",
};
constexpr string_view kSurveyT[] = {
    "调研组先后深入{place}等{n}个乡镇（街道），走访{inquiry}{n2}家，召开座谈会{n}场，发放调查问卷{big}份。",
    "数据显示，{year}年{metric}达到{money}，同比增长{pct}%。",
    "从调研情况看，{finding}。",
    "建议{suggestion}，{suggestion}。",
    "{prev}年至{year}年，{metric}年均增长{pct}%，{finding}。",
};
constexpr string_view kSpeechT[] = {
    "同志们，{speech}。",
    "{speech}，{measure}。",
    "各级各部门要{measure}，{goal}。",
    "大家一定要{adv}，{measure}，{goal}。",
    "这里，我再强调几点：{resolve}，{measure}。",
};
constexpr string_view kReviewT[] = {
    "{year}年{month}月，{subj}召开专题民主生活会，{act}。",
    "对上年度民主生活会查摆的{n}个问题，已整改完成{n}个，其余问题正在持续推进。",
    "会前，{subj}广泛征求意见建议{n2}条，开展谈心谈话{n2}人次。",
    "对照上次查摆的问题，{self}{measure}，{effect}。",
};

Table templates_of(Role r) {
  switch (r) {
    case Role::kWork: return kWorkT;
    case Role::kProblem: return kProblemT;
    case Role::kCause: return kCauseT;
    case Role::kMeasure: return kMeasureT;
    case Role::kInsight: return kInsightT;
    case Role::kSurvey: return kSurveyT;
    case Role::kSpeech: return kSpeechT;
    case Role::kReview: return kReviewT;
  }
  return kWorkT;
}

Table level2_of(Role r) {
  switch (r) {
    case Role::kProblem:
    case Role::kCause:
    case Role::kReview: return kL2Area;
    case Role::kMeasure:
    case Role::kInsight:
    case Role::kSpeech: return kL2Measure;
    default: return kL2Work;
  }
}

struct Section {
  string_view heading;
  Role role;
};

struct Genre {
  string_view name;
  std::vector<string_view> titles;
  std::vector<Section> sections;
  // Year range the genre's documents are dated in (主题教育 and the 2023
  // 条例 are recent; others span the whole corpus).
  int first_year;
};

const std::vector<Genre>& genre_table() {
  static const std::vector<Genre> g = {
      {"工作总结",
       {"{org}{year}年工作总结", "{org}{year}年上半年工作总结", "{year}年{org}{topic}工作总结",
        "关于{year}年度{topic}工作情况的总结", "{org}{year}年{topic}工作总结及{next}年工作思路"},
       {{"主要工作开展情况", Role::kWork},
        {"取得的主要成效", Role::kWork},
        {"存在的问题和不足", Role::kProblem},
        {"下一步工作打算", Role::kMeasure},
        {"几点工作体会", Role::kInsight}},
       2019},
      {"整改措施",
       {"{org}关于巡察反馈问题的整改措施", "{year}年{topic}问题整改措施", "{org}{topic}专项整治整改方案",
        "关于{year}年民主生活会查摆问题的整改措施", "{org}审计发现问题整改落实方案"},
       {{"整改工作总体要求", Role::kWork},
        {"问题清单及整改措施", Role::kProblem},
        {"整改落实情况", Role::kWork},
        {"建立健全长效机制", Role::kMeasure},
        {"组织保障", Role::kMeasure}},
       2019},
      {"对照检查材料",
       {"{year}年度民主生活会个人对照检查材料", "{org}领导班子{year}年度民主生活会对照检查材料",
        "{year}年度组织生活会个人对照检查材料", "{role}{year}年度民主生活会对照检查发言提纲",
        "主题教育专题民主生活会个人对照检查材料"},
       {{"上年度民主生活会整改措施落实情况", Role::kReview},
        {"对照检查发现的问题", Role::kProblem},
        {"产生问题的原因剖析", Role::kCause},
        {"今后的努力方向和整改措施", Role::kMeasure}},
       2019},
      {"党风廉政建设",
       {"{org}{year}年党风廉政建设工作总结", "{year}年党风廉政建设和反腐败工作要点",
        "{org}落实党风廉政建设主体责任情况报告", "{year}年度党风廉政建设责任书执行情况报告",
        "{org}{year}年廉政风险防控工作报告"},
       {{"落实主体责任情况", Role::kWork},
        {"廉政教育开展情况", Role::kWork},
        {"监督执纪问责情况", Role::kWork},
        {"存在的薄弱环节", Role::kProblem},
        {"下一步工作安排", Role::kMeasure}},
       2019},
      {"述职报告",
       {"{role}{year}年度述职述廉报告", "{org}{role}{year}年述职报告", "{year}年度个人述职报告",
        "{org}党组织书记抓基层党建工作述职报告", "{year}年度履行全面从严治党第一责任人职责述职报告"},
       {{"履职尽责情况", Role::kWork},
        {"抓党建工作情况", Role::kWork},
        {"廉洁自律情况", Role::kInsight},
        {"存在的不足", Role::kProblem},
        {"今后的打算", Role::kMeasure}},
       2019},
      {"心得体会",
       {"学习{theme}心得体会", "{year}年主题教育学习心得体会", "参加{org}党性教育培训心得体会",
        "观看廉政警示教育片心得体会", "学习《中国共产党纪律处分条例》心得体会"},
       {{"深刻认识重大意义", Role::kInsight},
        {"准确把握核心要义", Role::kInsight},
        {"对照检视自身差距", Role::kProblem},
        {"以实际行动践行初心使命", Role::kMeasure}},
       2019},
      {"调研报告",
       {"关于{place}{topic}工作的调研报告", "{year}年{topic}情况调研报告", "关于推进{topic}的调查与思考",
        "{org}关于{topic}的专题调研报告", "{place}{topic}现状、问题与对策"},
       {{"基本情况", Role::kSurvey},
        {"主要做法和成效", Role::kWork},
        {"存在的困难和问题", Role::kProblem},
        {"原因分析", Role::kCause},
        {"对策建议", Role::kSurvey}},
       2019},
      {"工作计划",
       {"{org}{year}年工作计划", "{year}年{topic}工作要点", "{org}{year}年{topic}工作实施方案",
        "{org}{year}年党建工作计划"},
       {{"指导思想", Role::kInsight},
        {"目标任务", Role::kWork},
        {"重点工作", Role::kMeasure},
        {"保障措施", Role::kMeasure}},
       2019},
      {"讲话稿",
       {"在{year}年{topic}工作会议上的讲话", "在{org}{year}年党风廉政建设工作会议上的讲话",
        "在{year}年度民主生活会上的总结讲话", "在主题教育动员部署会上的讲话"},
       {{"统一思想，提高认识", Role::kSpeech},
        {"突出重点，狠抓落实", Role::kMeasure},
        {"正视问题，补齐短板", Role::kProblem},
        {"加强领导，强化保障", Role::kSpeech}},
       2019},
      {"主题教育",
       {"{org}主题教育实施方案", "{org}主题教育工作总结", "{year}年主题教育调查研究成果报告",
        "{org}主题教育检视整改情况报告"},
       {{"总体要求", Role::kInsight},
        {"主要措施", Role::kWork},
        {"检视问题", Role::kProblem},
        {"整改落实", Role::kMeasure},
        {"工作要求", Role::kSpeech}},
       2023},
  };
  return g;
}

// ---- the expander ---------------------------------------------------------------

const std::unordered_map<string_view, Table>& slot_tables() {
  static const std::unordered_map<string_view, Table> m = {
      {"place", kPlace},     {"unit", kUnit},          {"subj", kSubj},
      {"leader", kLeader},      {"superior", kSuperior},
      {"theme", kTheme},     {"adv", kAdv},            {"act", kAct},
      {"focus", kFocus},     {"effect", kEffect},      {"detail", kDetail},
      {"problem", kProblem}, {"problem_detail", kProblemDetail},
      {"standard", kStandard}, {"area", kArea},        {"cause", kCause},
      {"cause_detail", kCauseDetail}, {"measure", kMeasure}, {"goal", kGoal},
      {"insight", kInsight}, {"resolve", kResolve},    {"inquiry", kInquiry},
      {"metric", kMetric},   {"finding", kFinding},    {"suggestion", kSuggestion},
      {"speech", kSpeech},   {"topic", kTopic},
  };
  return m;
}

class Expander {
 public:
  Expander(Rng& rng, int year, std::string org, string_view role, string_view self)
      : rng_(rng), year_(year), org_(std::move(org)), role_(role), self_(self) {}

  void expand(string_view t, std::string& out, int depth = 0) {
    size_t i = 0;
    while (i < t.size()) {
      size_t open = t.find('{', i);
      if (open == string_view::npos) {
        out.append(t.substr(i));
        return;
      }
      out.append(t.substr(i, open - i));
      size_t close = t.find('}', open);
      slot(t.substr(open + 1, close - open - 1), out, depth);
      i = close + 1;
    }
  }

  std::string expand(string_view t) {
    std::string s;
    expand(t, s);
    return s;
  }

 private:
  void number(std::string& out, int v) { out += std::to_string(v); }

  void slot(string_view name, std::string& out, int depth) {
    if (name == "year") return number(out, year_);
    if (name == "prev") return number(out, year_ - 1);
    if (name == "next") return number(out, year_ + 1);
    if (name == "n") return number(out, rng_.range(2, 36));
    if (name == "n2") return number(out, rng_.range(10, 260));
    if (name == "big") return number(out, rng_.range(120, 9800));
    if (name == "month") return number(out, rng_.range(1, 12));
    if (name == "org") {
      out += org_;
      return;
    }
    if (name == "role") {
      out += role_;
      return;
    }
    if (name == "self") {
      out += self_;
      return;
    }
    char buf[32];
    if (name == "pct") {
      std::snprintf(buf, sizeof buf, "%d.%d", rng_.range(1, 38), rng_.range(0, 9));
      out += buf;
      return;
    }
    if (name == "hi") {
      std::snprintf(buf, sizeof buf, "%d.%d", rng_.range(90, 99), rng_.range(0, 9));
      out += buf;
      return;
    }
    if (name == "money") {
      if (rng_.chance(0.5))
        std::snprintf(buf, sizeof buf, "%d.%02d亿元", rng_.range(1, 48), rng_.range(0, 99));
      else
        std::snprintf(buf, sizeof buf, "%d万元", rng_.range(30, 9900));
      out += buf;
      return;
    }
    auto it = slot_tables().find(name);
    if (it == slot_tables().end() || depth > 4) {
      out.append(name);  // a typo in a table shows up in the text, never crashes
      return;
    }
    expand(rng_.pick(it->second), out, depth + 1);
  }

  Rng& rng_;
  int year_;
  std::string org_;
  string_view role_;
  string_view self_;  // how the author says "I" throughout one document
};

// ---- layout -------------------------------------------------------------------------

constexpr string_view kDigits[] = {"", "一", "二", "三", "四", "五", "六", "七", "八", "九"};

// 1..99 in the normal form of docs/format.md §6.1 (十, 十一, 二十, 二十一).
std::string chinese_number(int v) {
  std::string s;
  int tens = v / 10, ones = v % 10;
  if (tens > 1) s += kDigits[tens];
  if (tens > 0) s += "十";
  if (ones > 0) s += kDigits[ones];
  return s;
}

constexpr string_view kIndent = "\u3000\u3000";  // two ideographic spaces

struct Line {
  std::string text;
  bool heading = false;
};

// A heading tree node: level 1 sections hold level 2 children, which hold
// level 3 ones.
struct Node {
  int level = 1;
  std::string heading;
  Role role = Role::kWork;
  std::vector<Node> children;
};

void paragraph(Rng& rng, Expander& ex, Role role, size_t target, std::string& out) {
  out += kIndent;
  size_t start = out.size();
  Table t = templates_of(role);
  size_t last = t.size();
  do {
    size_t k = rng.below(t.size());
    if (k == last) k = (k + 1) % t.size();  // no template twice in a row
    ex.expand(t[k], out);
    last = k;
  } while (out.size() - start < target);
}

// A heading from `t` that its siblings do not have yet (after a few tries,
// whatever comes).
std::string unique_heading(Rng& rng, Table t, const std::vector<Node>& siblings) {
  std::string h;
  for (int tries = 0; tries < 4; ++tries) {
    h = std::string(rng.pick(t));
    bool dup = false;
    for (const Node& c : siblings) dup = dup || c.heading == h;
    if (!dup) break;
  }
  return h;
}

std::vector<Node> plan_headings(Rng& rng, const Genre& g) {
  // Pick 3..all level-1 sections, keeping their order.
  int total_sections = static_cast<int>(g.sections.size());
  int keep = rng.range(std::min(3, total_sections), total_sections);
  std::vector<int> chosen(total_sections);
  for (int i = 0; i < total_sections; ++i) chosen[i] = i;
  while (static_cast<int>(chosen.size()) > keep) chosen.erase(chosen.begin() + rng.below(chosen.size()));

  int headings = rng.range(4, 12);
  int level1 = std::min<int>(keep, headings);
  chosen.resize(level1);
  std::vector<Node> roots;
  for (int i : chosen) roots.push_back(Node{1, std::string(g.sections[i].heading), g.sections[i].role, {}});

  // The rest become level-2 headings under random sections, and some of
  // those get level-3 children (60% level 2, 40% level 3, but a level-3
  // heading needs a level-2 parent).
  int rest = headings - level1;
  while (rest > 0) {
    Node& r = roots[rng.below(roots.size())];
    if (r.children.empty() || rng.chance(0.6)) {
      r.children.push_back(Node{2, unique_heading(rng, level2_of(r.role), r.children), r.role, {}});
    } else {
      Node& c = r.children[rng.below(r.children.size())];
      c.children.push_back(Node{3, unique_heading(rng, kL3, c.children), r.role, {}});
    }
    --rest;
  }
  return roots;
}

int count_leaves(const std::vector<Node>& nodes) {
  int n = 0;
  for (const Node& c : nodes) n += c.children.empty() ? 1 : count_leaves(c.children);
  return n;
}

struct Writer {
  Rng& rng;
  Expander& ex;
  std::vector<Line>& lines;
  size_t per_leaf;  // body bytes under each leaf heading
  bool ascii_brackets = false;  // (一) instead of （一）, for the whole document

  void node(const Node& n, int number) {
    std::string h;
    if (n.level == 1) {
      h = chinese_number(number) + "、" + n.heading;
    } else if (n.level == 2) {
      h = (ascii_brackets ? "(" : "（") + chinese_number(number) + (ascii_brackets ? ")" : "）") + n.heading;
    } else {
      h = std::to_string(number) + (rng.chance(0.85) ? "." : "．") + n.heading;
    }
    bool leaf = n.children.empty();
    size_t body = 0;
    // A level-2 or level-3 heading often carries its first sentence on the
    // same line, after "。" (docs/format.md §6.2).
    if (n.level >= 2 && rng.chance(0.3)) {
      h += "。";
      size_t before = h.size();
      ex.expand(rng.pick(templates_of(n.role)), h);
      body += h.size() - before;
    }
    if (n.level >= 2 && rng.chance(0.5)) h = std::string(kIndent) + h;
    lines.push_back(Line{std::move(h), true});
    if (leaf) {
      do {
        std::string p;
        paragraph(rng, ex, n.role, static_cast<size_t>(rng.range(150, 480)), p);
        body += p.size();
        lines.push_back(Line{std::move(p), false});
      } while (body < per_leaf);
    } else {
      if (rng.chance(0.4)) {
        std::string p;
        paragraph(rng, ex, n.role, 120, p);
        lines.push_back(Line{std::move(p), false});
      }
      int i = 1;
      for (const Node& c : n.children) node(c, i++);
    }
  }
};

// Wraps lines [begin, end) of `lines` in a paid section, with one of the
// marker styles a publisher would write.
void mark_paid(Rng& rng, std::vector<Line>& lines, size_t begin, size_t end) {
  string_view open = "##paidbegin##", close = "##paidend##";
  uint64_t style = rng.below(20);
  if (style == 0) open = "$$paidbegin$$", close = "$$paidend$$";
  if (style == 1) open = "##PaidBegin##", close = "##PaidEnd##";
  if (rng.chance(0.5)) {
    // Markers on lines of their own.
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(end), Line{std::string(close), false});
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(begin), Line{std::string(open), false});
  } else {
    // Markers at the start of the first paid line and the end of the last.
    lines[begin].text.insert(0, open);
    lines[end - 1].text.append(close);
  }
}

// Index of the first line at or after `from` where the running byte count of
// lines [first, i) reaches `bytes`.
size_t line_at(const std::vector<Line>& lines, size_t first, size_t bytes) {
  size_t sum = 0;
  for (size_t i = first; i < lines.size(); ++i) {
    if (sum >= bytes) return i;
    sum += lines[i].text.size();
  }
  return lines.size();
}

}  // namespace

const std::vector<std::string>& genres() {
  static const std::vector<std::string> g = [] {
    std::vector<std::string> v;
    for (const Genre& x : genre_table()) v.emplace_back(x.name);
    return v;
  }();
  return g;
}

const std::vector<std::string>& rare_phrases() {
  static const std::vector<std::string> r(std::begin(kRare), std::end(kRare));
  return r;
}

CorpusDocument make_document(uint64_t seed, int64_t index) {
  Rng rng(doc_state(seed, index));
  const auto& table = genre_table();
  const Genre& g = table[rng.below(table.size())];
  int year = rng.range(g.first_year, 2026);
  std::string org = std::string(rng.pick(kPlace)) + std::string(rng.pick(kUnit));
  string_view role = rng.pick(kRole);
  string_view self = rng.pick(kSelf);
  Expander ex(rng, year, org, role, self);

  CorpusDocument d;
  d.genre = std::string(g.name);
  constexpr int64_t kPrices[] = {200, 300, 500, 500, 800, 990, 1200, 1990};
  d.price_fen = kPrices[rng.below(std::size(kPrices))];

  std::vector<Line> lines;
  lines.push_back(Line{ex.expand(rng.pick(g.titles)), false});
  if (rng.chance(0.3)) lines.push_back(Line{ex.expand("（{year}年{month}月）"), false});
  if (rng.chance(0.5)) {
    std::string p;
    paragraph(rng, ex, g.sections.front().role, static_cast<size_t>(rng.range(120, 300)), p);
    lines.push_back(Line{std::move(p), false});
  }

  // The body's budget; paragraphs overshoot it a little, so sources come
  // out at about 2.5-7 KB, 4.5 KB on average.
  size_t target = static_cast<size_t>(rng.range(1500, 5000));
  std::vector<Node> roots = plan_headings(rng, g);
  size_t leaves = static_cast<size_t>(count_leaves(roots));
  size_t headings_bytes = 40 * 12;
  size_t per_leaf = target > headings_bytes ? (target - headings_bytes) / leaves : 150;
  Writer w{rng, ex, lines, per_leaf, rng.chance(0.1)};
  int i = 1;
  for (const Node& r : roots) w.node(r, i++);

  if (rng.chance(0.6)) {
    lines.push_back(Line{org, false});
    lines.push_back(Line{ex.expand("{year}年{month}月") + std::to_string(rng.range(1, 28)) + "日", false});
  }

  // The rare phrases: each drawn independently with probability 1/1000 and
  // written from its own stream, so the main stream (and the choice of the
  // other phrases) does not depend on which ones a document got.
  for (size_t j = 0; j < std::size(kRare); ++j) {
    uint64_t h = mix64(doc_state(seed, index) ^ mix64(0x5eed0000ULL + j));
    if (h % 1000 != 0) continue;
    Rng rrng(h);
    Expander rex(rrng, year, org, role, self);
    std::string s;
    std::string t(rrng.pick(kRareSentence));
    // {rare} in the template means this phrase, not a random one.
    size_t at = t.find("{rare}");
    t.replace(at, 6, kRare[j]);
    rex.expand(t, s);
    // Append to a random paragraph after the title.
    std::vector<size_t> paras;
    for (size_t k = 1; k < lines.size(); ++k)
      if (!lines[k].heading && lines[k].text.starts_with(kIndent)) paras.push_back(k);
    if (paras.empty()) lines.push_back(Line{std::string(kIndent) + s, false});
    else lines[paras[rrng.below(paras.size())]].text += s;
  }

  // Paid sections: ~70% of documents, one (55%) or two (15%) sections over
  // about half of the body.
  double p = static_cast<double>(rng.below(1000)) / 1000.0;
  size_t body_first = 1;
  size_t body_bytes = 0;
  for (size_t k = body_first; k < lines.size(); ++k) body_bytes += lines[k].text.size();
  auto at_fraction = [&](double f) {
    return std::max(body_first + 1, line_at(lines, body_first, static_cast<size_t>(f * body_bytes)));
  };
  if (p < 0.55) {
    size_t b = at_fraction(0.3 + 0.1 * static_cast<double>(rng.below(5)) / 2);
    size_t e = lines.size();
    if (rng.chance(0.2)) e = std::max(b + 1, at_fraction(0.9));
    if (b < lines.size()) {
      mark_paid(rng, lines, b, std::min(e, lines.size()));
      d.has_paid = true;
    }
  } else if (p < 0.70) {
    size_t b1 = at_fraction(0.2 + 0.1 * rng.chance(0.5));
    size_t e1 = std::max(b1 + 1, at_fraction(0.45));
    size_t b2 = std::max(e1 + 1, at_fraction(0.7));
    size_t e2 = lines.size();
    if (b2 < e2) {
      mark_paid(rng, lines, b2, e2);  // the later one first: indexes stay valid
      mark_paid(rng, lines, b1, e1);
      d.has_paid = true;
    } else if (b1 < lines.size()) {
      mark_paid(rng, lines, b1, lines.size());
      d.has_paid = true;
    }
  }

  size_t size = 0;
  for (const Line& l : lines) size += l.text.size() + 1;
  d.source.reserve(size);
  for (const Line& l : lines) {
    d.source += l.text;
    d.source += '\n';
  }
  return d;
}

std::string make_source(uint64_t seed, int64_t index) { return make_document(seed, index).source; }

// ---- queries ---------------------------------------------------------------------------

const std::vector<QueryKind>& query_kinds() {
  static const std::vector<QueryKind> k = {QueryKind::kOneTerm, QueryKind::kTwoTerms,
                                           QueryKind::kThreeTerms, QueryKind::kRare,
                                           QueryKind::kCommon, QueryKind::kMix};
  return k;
}

std::string_view query_kind_name(QueryKind kind) {
  switch (kind) {
    case QueryKind::kOneTerm: return "one";
    case QueryKind::kTwoTerms: return "two";
    case QueryKind::kThreeTerms: return "three";
    case QueryKind::kRare: return "rare";
    case QueryKind::kCommon: return "common";
    case QueryKind::kMix: return "mix";
  }
  return "?";
}

std::optional<QueryKind> parse_query_kind(std::string_view name) {
  for (QueryKind k : query_kinds())
    if (query_kind_name(k) == name) return k;
  return std::nullopt;
}

std::vector<std::string> query_set(QueryKind kind) {
  switch (kind) {
    case QueryKind::kOneTerm:
      // From a single ideograph (a prefix query over every token it starts)
      // to long words; frequencies from a few percent to nearly all.
      return {"民主生活会", "整改措施", "心得体会", "调研报告", "述职报告", "营商环境",
              "意识形态", "主题教育", "党", "安全生产", "2023", "财政局",
              "基层党组织", "形式主义", "八项规定", "谈心谈话", "乡村振兴", "纪律处分条例",
              "廉", "问题清单"};
    case QueryKind::kTwoTerms:
      return {"对照检查 2023",      "党风廉政建设 整改措施", "主题教育 心得体会",
              "财政局 述职报告",    "基层党组织 标准化",     "民主生活会 批评",
              "营商环境 调研",      "安全生产 隐患",         "意识形态 责任制",
              "2024 工作计划",      "干部 作风",             "八项规定 精神",
              "党 纪律",            "乡村振兴 产业",         "巡察 整改",
              "警示教育 廉洁"};
    case QueryKind::kThreeTerms:
      return {"民主生活会 对照检查 2022", "全面从严治党 主体责任 落实",
              "党风廉政建设 警示教育 2024", "主题教育 调查研究 问题清单",
              "述职 廉洁自律 党组书记",   "营商环境 优化 调研报告",
              "整改 长效机制 回头看",     "财政 资金 监管",
              "理论学习 不够深入 原因",   "党 群众 服务",
              "教育局 工作总结 2021",     "意识形态 阵地 管理"};
    case QueryKind::kRare: {
      // Each phrase is in ~0.1% of documents; a few are narrowed further.
      std::vector<std::string> q(std::begin(kRare), std::end(kRare));
      q.push_back("古树名木");
      q.push_back("候鸟迁徙");
      q.push_back("海绵城市 2025");
      q.push_back("无人机巡河 调研");
      return q;
    }
    case QueryKind::kCommon:
      return {"工作", "党", "全面从严治党", "群众", "加强", "问题", "建设", "干部",
              "落实", "2023", "党风廉政建设", "作风", "工作 落实", "党 群众"};
    case QueryKind::kMix: {
      // Rare and common queries in turn, and rare terms ANDed with common
      // ones (a tiny posting list intersected with a huge one).
      std::vector<std::string> rare = query_set(QueryKind::kRare);
      std::vector<std::string> common = query_set(QueryKind::kCommon);
      std::vector<std::string> q;
      for (size_t i = 0; i < 12; ++i) {
        q.push_back(rare[i % rare.size()]);
        q.push_back(common[i % common.size()]);
        q.push_back(rare[(i + 5) % rare.size()] + " " + common[(i + 3) % common.size()]);
      }
      return q;
    }
  }
  return {};
}

}  // namespace paidoc::bench
