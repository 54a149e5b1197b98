// keyword_df (the library's document frequencies, which the keyword choice
// weighs paid words by) counts each word once per document, on every backend.
#include <gtest/gtest.h>

#include <string>

#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"
#include "support/backends.h"

namespace paidoc::store {
namespace {

// Written for this test: a free part, then a paid part whose new words come
// first and whose last paragraph repeats the free part word for word.
constexpr std::string_view kHarbour =
    "渔港冬季检修安排\n"
    "码头东侧的吊车将在十二月停用两周。\n"
    "渔船进出港时间改为早上六点到晚上八点。\n"
    "##paidbegin##\n"
    "检修队伍分成三个小组轮流值班。\n"
    "第一小组负责更换生锈的缆桩和护舷。\n"
    "第二小组清理航道里的淤泥和废弃渔网。\n"
    "第三小组检查冷库的压缩机和管道保温层。\n"
    "所有材料由镇上的五金店统一采购并登记。\n"
    "码头东侧的吊车将在十二月停用两周。\n"
    "渔船进出港时间改为早上六点到晚上八点。\n"
    "##paidend##\n";

class KeywordDfTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    auto s = Store::open(db_->url());
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(s).value();
  }
  std::string value(const std::string& sql) { return testing_support::query_value(db_->url(), sql); }

  FakeClock clock_;
  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<Store> store_;
};
PAIDOC_ON_EVERY_BACKEND(KeywordDfTest);

// The regression: the document's word list kept views into a vector it went
// on growing, so once it reallocated, paid words already seen in the title or
// free part were added again. SQLite counted them twice; PostgreSQL refused
// the import ("ON CONFLICT DO UPDATE command cannot affect row a second
// time"), which is how the demo's seeding failed there.
TEST_P(KeywordDfTest, PaidWordsAlsoInTheFreePartCountOnce) {
  library::Library lib(*store_, clock_);
  library::ImportOptions o;
  o.price = Fen(300);
  library::ImportLine line = lib.import_bytes(kHarbour, "harbour.txt", o);
  ASSERT_TRUE(line.ok) << line.error;
  EXPECT_EQ(value("SELECT df FROM keyword_df WHERE word = ''"), "1");  // one document
  EXPECT_GT(std::stoi(value("SELECT count(*) FROM keyword_df")), 20);
  EXPECT_EQ(value("SELECT count(*) FROM keyword_df WHERE df <> 1"), "0");
  EXPECT_EQ(value("SELECT df FROM keyword_df WHERE word = '吊车'"), "1");
}

}  // namespace
}  // namespace paidoc::store
