// The leak rule's attacker test (PRODUCT.md, "What a reader without access
// may see"): starting from public text and probing search, no reader
// without access rebuilds 20 consecutive paid characters in 3,000 queries.
// The attacker is in attack.h; this file builds a library of about fifty
// documents, runs it against several of them as an anonymous viewer and as
// a signed-in reader with no purchases, and prints what it rebuilt.
// PAIDOC_SAMPLES=DIR adds the .txt documents of DIR to the library and the
// targets (real documents stay out of the repo).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>

#include "library/library.h"
#include "search/attack.h"
#include "search/search.h"
#include "store/store.h"
#include "support/test_database.h"
#include "text/text.h"

#ifndef PAIDOC_SEARCH_FIXTURES
#error "PAIDOC_SEARCH_FIXTURES must name tests/search/fixtures"
#endif

namespace paidoc::search::attack {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kBudget = 3000;
constexpr size_t kMaxRebuilt = 20;  // "no one rebuilds 20 consecutive paid characters"

// Under AddressSanitizer (`make test-asan`) every query costs several times
// as much, and the attack on five targets alone would take most of an hour
// there. The sanitizer run looks for memory errors and undefined behaviour,
// which the same code paths show on fewer targets: it attacks the first two
// (the fixture and one generated document). The normal build attacks them
// all and gives the leak rule's verdict.
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kAttackedTargets = 2;
#else
constexpr size_t kAttackedTargets = SIZE_MAX;
#endif

// --- generated documents ---------------------------------------------------------

// Words of report prose; documents are random sentences over them, so the
// public text of the library teaches the attacker the same vocabulary the
// paid parts use.
const char* const kWords[] = {
    "全面", "深入", "扎实", "推进", "落实", "加强", "完善", "健全", "统筹", "协调",
    "基层", "组织", "干部", "群众", "服务", "管理", "监督", "考核", "责任", "制度",
    "机制", "工作", "任务", "目标", "措施", "问题", "整改", "台账", "清单", "风险",
    "隐患", "排查", "治理", "安全", "生产", "环境", "项目", "资金", "保障", "建设",
    "发展", "质量", "效率", "水平", "能力", "作风", "纪律", "学习", "教育", "宣传",
    "培训", "调研", "走访", "座谈", "会议", "文件", "方案", "计划", "总结", "报告",
    "年度", "季度", "月度", "重点", "难点", "短板", "弱项", "亮点", "成效", "经验",
    "乡镇", "社区", "村级", "部门", "单位", "科室", "窗口", "平台", "数据", "信息",
    "持续", "不断", "切实", "严格", "认真", "及时", "主动", "有效", "明显", "稳步",
    "意识形态", "营商环境", "乡村振兴", "民生实事", "应急处置", "矛盾纠纷", "精准施策",
    "闭环管理", "常态长效", "提质增效",
};
const char* const kHeadings2[] = {"主要做法", "存在问题", "原因分析", "下一步打算", "工作成效",
                                  "经验启示", "整改措施", "保障措施"};
const char* const kPunct[] = {"，", "，", "，", "、", "；"};

// A deterministic generator: mt19937 is specified exactly, and only its raw
// output is used (distributions differ between standard libraries).
class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}
  size_t below(size_t n) { return static_cast<size_t>(rng_() % n); }
  std::string word() { return kWords[below(std::size(kWords))]; }
  std::string sentence() {
    std::string s;
    const size_t clauses = 1 + below(3);
    for (size_t c = 0; c < clauses; ++c) {
      if (c) s += kPunct[below(std::size(kPunct))];
      const size_t words = 2 + below(4);
      for (size_t w = 0; w < words; ++w) s += word();
    }
    return s + "。";
  }
  std::string paragraph(size_t sentences) {
    std::string p;
    for (size_t i = 0; i < sentences; ++i) p += sentence();
    return p;
  }

 private:
  std::mt19937 rng_;
};

const char* const kLevel1[] = {"一、", "二、", "三、", "四、", "五、"};
const char* const kLevel2[] = {"（一）", "（二）", "（三）", "（四）"};

std::string generated_document(uint32_t seed) {
  Gen g(seed);
  std::string s = g.word() + g.word() + g.word() + "工作" + (seed % 2 ? "总结" : "报告") + "（" +
                  std::to_string(seed) + "）\n";
  s += g.paragraph(3) + "\n";
  s += std::string(kLevel1[0]) + kHeadings2[g.below(std::size(kHeadings2))] + "\n";
  s += g.paragraph(4) + "\n";
  s += "##paidbegin##\n";
  for (int h1 = 1; h1 <= 2; ++h1) {
    s += std::string(kLevel1[h1]) + kHeadings2[g.below(std::size(kHeadings2))] + "\n";
    for (int h2 = 0; h2 < 2; ++h2) {
      // Heading with body text after its first 。, as reports write them.
      s += std::string(kLevel2[h2]) + g.word() + g.word() + "方面。" + g.paragraph(2) + "\n";
      s += g.paragraph(2) + "\n";
    }
  }
  s += "##paidend##\n";
  s += g.paragraph(1) + "\n";
  return s;
}

// --- the library -----------------------------------------------------------------

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Target {
  std::string name;
  int64_t id = 0;
};

// The library, built once per store backend (the attack runs on each).
struct AttackLibrary {
  std::unique_ptr<testing_support::TestDatabase> db;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<library::Library> lib;
  std::unique_ptr<Searcher> searcher;
  std::vector<Target> targets;
};

class AttackTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(text::init().is_ok());
    auto& slot = (*libraries_)[GetParam()];
    if (slot == nullptr) {
      auto db = testing_support::make_test_database(GetParam());
      if (db == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
      slot = std::make_unique<AttackLibrary>();
      slot->db = std::move(db);
      build(*slot);
    }
    if (slot->searcher == nullptr) GTEST_SKIP() << "the library could not be built";
    l_ = slot.get();
    store_ = l_->store.get();
    lib_ = l_->lib.get();
    searcher_ = l_->searcher.get();
    targets_ = &l_->targets;
  }

  static void build(AttackLibrary& l) {
    auto st = store::Store::open(l.db->url());
    ASSERT_TRUE(st.ok()) << st.status().to_string();
    l.store = std::move(*st);
    l.lib = std::make_unique<library::Library>(*l.store);
    library::Library* lib_ = l.lib.get();
    std::vector<Target>* targets_ = &l.targets;
    // The demo documents: realistic public text for the attacker to learn.
    ASSERT_TRUE(lib_->seed_demo().ok());
    library::ImportOptions opts;
    opts.price = Fen(800);
    auto import = [&](const std::string& bytes, const std::string& name) {
      library::ImportLine line = lib_->import_bytes(bytes, name, opts);
      EXPECT_TRUE(line.ok) << line.error;
      return line.id;
    };
    const fs::path fixture = fs::path(PAIDOC_SEARCH_FIXTURES) / "hehu-zongjie.txt";
    targets_->push_back({"fixture " + fixture.filename().string(),
                         import(read_file(fixture), fixture.string())});
    // About forty generated documents; the first four are attacked.
    for (uint32_t seed = 1; seed <= 40; ++seed) {
      const int64_t id = import(generated_document(seed), "gen" + std::to_string(seed) + ".txt");
      if (seed <= 4) targets_->push_back({"generated #" + std::to_string(seed), id});
    }
    // Real documents in the format, when the machine running the tests has
    // some ($PAIDOC_SAMPLES, a directory of .txt); they are never part of
    // the repo.
    const char* env = std::getenv("PAIDOC_SAMPLES");
    const fs::path samples = env && *env ? fs::path(env) : fs::path();
    std::error_code ec;
    if (!samples.empty() && fs::is_directory(samples, ec)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(samples, ec)) {
        if (e.path().extension() == ".txt") files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) {
        targets_->push_back({"sample " + f.filename().string(), import(read_file(f), f.string())});
      }
      if (files.empty()) std::cout << "note: no .txt in " << samples << ", sample not attacked\n";
    } else {
      std::cout << "note: PAIDOC_SAMPLES names no directory, no sample documents attacked\n";
    }
    l.searcher = std::make_unique<Searcher>(*l.store, *l.lib);
  }

  static void SetUpTestSuite() {
    libraries_ = new std::map<std::string, std::unique_ptr<AttackLibrary>>();
  }
  static void TearDownTestSuite() {
    delete libraries_;
    libraries_ = nullptr;
  }

  // Runs the attack on every target as `viewer`, prints the figures and
  // expects fewer than kMaxRebuilt consecutive paid characters rebuilt.
  void attack_all(const std::string& who, const gate::Viewer& viewer) {
    // Once the limit is reached the verdict is in; stopping there keeps a
    // failing run short. PAIDOC_ATTACK_FULL=1 spends the whole budget anyway
    // (for the figures).
    const char* full = std::getenv("PAIDOC_ATTACK_FULL");
    const bool early_stop = !(full && std::string(full) == "1");
    for (size_t i = 0; i < targets_->size() && i < kAttackedTargets; ++i) {
      const Target& t = (*targets_)[i];
      Result<std::u32string> paid = paid_symbols(*store_, t.id);
      ASSERT_TRUE(paid.ok()) << paid.status().to_string();
      Options o;
      o.budget = kBudget;
      if (early_stop) {
        o.stop = [&](const std::vector<Chain>& chains) {
          return score(*paid, chains).longest >= kMaxRebuilt;
        };
      }
      Attacker attacker(*searcher_, *lib_, viewer, o);
      ASSERT_TRUE(attacker.learn().is_ok());
      Outcome out = attacker.attack(t.id);
      Score s = score(*paid, out.chains);
      std::cout << "[attack] " << who << " | " << t.name << ": paid " << ideographs(*paid).size()
                << " ideographs, " << out.queries << " queries (" << out.refused << " refused), "
                << out.seeds_found << " seeds found, longest run rebuilt " << s.longest
                << (early_stop && s.longest >= kMaxRebuilt ? " (stopped at the limit)" : "") << "\n";
      EXPECT_LT(s.longest, kMaxRebuilt)
          << who << " rebuilt " << s.longest << " consecutive paid characters of " << t.name
          << " in " << out.queries << " queries";
      EXPECT_LE(out.queries, kBudget);
    }
  }

  static std::map<std::string, std::unique_ptr<AttackLibrary>>* libraries_;
  AttackLibrary* l_ = nullptr;
  store::Store* store_ = nullptr;
  library::Library* lib_ = nullptr;
  Searcher* searcher_ = nullptr;
  std::vector<Target>* targets_ = nullptr;
};

std::map<std::string, std::unique_ptr<AttackLibrary>>* AttackTest::libraries_ = nullptr;

TEST_P(AttackTest, NoReaderWithoutAccessRebuilds20PaidCharacters) {
  attack_all("anonymous", gate::Viewer::anonymous());
  attack_all("reader without purchases", gate::Viewer{int64_t{4242}, gate::Role::kReader, false, {}});
}

// Whatever the defence, a buyer still finds a document by a phrase of its
// paid text.
TEST_P(AttackTest, BuyerFindsA10CharacterPaidPhrase) {
  for (const Target& t : *targets_) {
    Result<std::u32string> paid = paid_symbols(*store_, t.id);
    ASSERT_TRUE(paid.ok());
    // Ten ideographs in a row from the middle of the paid text.
    std::u32string phrase;
    for (size_t i = paid->size() / 2; i < paid->size() && phrase.size() < 10; ++i) {
      if ((*paid)[i] == kSep) {
        phrase.clear();
      } else {
        phrase.push_back((*paid)[i]);
      }
    }
    ASSERT_EQ(phrase.size(), 10u) << t.name;
    Request r;
    r.q = to_utf8(phrase);
    r.per_page = 50;
    const gate::Viewer buyer{int64_t{4343}, gate::Role::kReader, false, {t.id}};
    Result<Results> res = searcher_->search(r, buyer);
    ASSERT_TRUE(res.ok()) << res.status().to_string();
    bool found = false;
    for (const Hit& h : res->hits) found = found || h.id == t.id;
    EXPECT_TRUE(found) << t.name << ": buyer searching " << r.q << " does not find it";
  }
}

// Both store backends: the leak rule is the store's to keep (search_index.h).
INSTANTIATE_TEST_SUITE_P(Backends, AttackTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace paidoc::search::attack
