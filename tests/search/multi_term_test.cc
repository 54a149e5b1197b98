// Multi-term queries: documents whose terms stand together rank first
// (store/proximity.h), never by where words stand in locked paid text.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "library/library.h"
#include "search/search.h"
#include "store/store.h"
#include "support/backends.h"
#include "support/test_database.h"
#include "text/text.h"

namespace paidoc::search {
namespace {

using Ids = std::vector<int64_t>;

// A filler clause holding none of the query words of this file.
const char* kFiller = "会上通报了近期重点任务的进展情况，各处室逐项说明了下一步安排。";

std::string doc(const std::string& title, const std::string& free, const std::string& paid = "") {
  std::string s = title + "\n" + free + "\n";
  if (!paid.empty()) s += "##paidbegin##\n" + paid + "\n##paidend##\n";
  return s;
}

// --- ranking through the service, per backend ---------------------------

class ProximityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(text::init().is_ok());
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    auto st = store::Store::open(db_->url());
    ASSERT_TRUE(st.ok()) << st.status().to_string();
    store_ = std::move(*st);
    lib_ = std::make_unique<library::Library>(*store_);
    searcher_ = std::make_unique<Searcher>(*store_, *lib_);
  }

  int64_t import(const std::string& name, const std::string& source, int64_t price_fen = 500) {
    library::ImportOptions opts;
    opts.price = Fen(price_fen);
    library::ImportLine line = lib_->import_bytes(source, name, opts);
    EXPECT_TRUE(line.ok) << line.error;
    return line.id;
  }

  Results run(const std::string& q, const gate::Viewer& viewer = gate::Viewer::anonymous(),
              int64_t per_page = 10) {
    Request r;
    r.q = q;
    r.per_page = per_page;
    auto res = searcher_->search(r, viewer);
    EXPECT_TRUE(res.ok()) << res.status().to_string();
    return res.ok() ? *res : Results{};
  }

  static Ids ids(const Results& r) {
    Ids out;
    for (const Hit& h : r.hits) out.push_back(h.id);
    return out;
  }

  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<library::Library> lib_;
  std::unique_ptr<Searcher> searcher_;
};

// Each document holds each term once, in its free text, and is older than
// the next: without the proximity bonus the newest would rank first.
TEST_P(ProximityTest, AdjacentTermsRankAboveTermsApart) {
  const std::string apart = std::string(kFiller) + kFiller;
  int64_t together = import("a.txt", doc("甲单位材料", "全面落实安全生产责任制。" + apart));
  int64_t near = import("b.txt", doc("乙单位材料", "全面落实安全生产岗位责任制。" + apart));
  int64_t far = import("c.txt", doc("丙单位材料", "全面落实安全生产，" + apart + "健全责任制。"));
  Results r = run("安全生产 责任制");
  EXPECT_EQ(ids(r), (Ids{together, near, far}));
  // The same order with the terms typed the other way round.
  EXPECT_EQ(ids(run("责任制 安全生产")), (Ids{together, near, far}));
  // A single term: no bonus, the newest first.
  EXPECT_EQ(ids(run("责任制")), (Ids{far, near, together}));
}

TEST_P(ProximityTest, ThreeTermsAllTogetherRankFirst) {
  const std::string apart = std::string(kFiller) + kFiller;
  int64_t all = import("a.txt", doc("甲单位材料", "推进基层治理现代化。" + apart));
  int64_t two = import("b.txt", doc("乙单位材料", "推进基层治理，" + apart + "实现现代化。"));
  int64_t none = import("c.txt", doc("丙单位材料", "推进基层，" + apart + "完善治理，" + apart +
                                                        "实现现代化。"));
  EXPECT_EQ(ids(run("基层 治理 现代化")), (Ids{all, two, none}));
}

// The leak rule: where words stand in locked paid text never moves a
// document. Both documents hold 绩效 and 扣款 as keywords of their paid
// part, side by side in the older one, far apart in the newer one.
TEST_P(ProximityTest, LockedPaidTextIsNeverRankedByWhereItsWordsStand) {
  const std::string apart = std::string(kFiller) + kFiller;
  int64_t adjacent =
      import("a.txt", doc("考核办法甲", "考核每季度开展一次。", "连续两次靠后的科室实行绩效扣款。"));
  int64_t apart_doc = import(
      "b.txt", doc("考核办法乙", "考核每季度开展一次。", "考核结果与绩效挂钩。" + apart + "靠后科室予以扣款。"));
  const gate::Viewer reader{int64_t{7}, gate::Role::kReader, false, {}};
  for (const gate::Viewer& v : {gate::Viewer::anonymous(), reader}) {
    Results r = run("绩效 扣款", v);
    // Found through keywords, ordered by age alone.
    EXPECT_EQ(ids(r), (Ids{apart_doc, adjacent}));
    for (const Hit& h : r.hits) EXPECT_TRUE(h.match_in_paid);
  }
  // A reader of both paid parts is ranked by the paid text itself.
  const gate::Viewer buyer{int64_t{8}, gate::Role::kReader, false, {adjacent, apart_doc}};
  EXPECT_EQ(ids(run("绩效 扣款", buyer)), (Ids{adjacent, apart_doc}));
}

PAIDOC_ON_EVERY_BACKEND(ProximityTest);

}  // namespace
}  // namespace paidoc::search
