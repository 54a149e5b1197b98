// Import through the library: good files stored, bad files reported with
// file:line:col and not stored, re-imports recognised.
#include "library/library.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "store/store.h"
#include "support/backends.h"

namespace paidoc::library {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("paidoc-lib-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  std::string write(const std::string& rel, const std::string& text) const {
    fs::path p = path_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  fs::path path_;
};

const char* kGood =
    "城区供水管网改造工作总结\n"
    "一、工作开展情况\n"
    "今年共完成老旧管网改造十二公里。\n"
    "##paidbegin##\n"
    "二、经验做法\n"
    "夜间抢修队在零点前封闭了第三号阀门井。\n"
    "##paidend##\n";

const char* kFreeOnly =
    "社区图书角开放通知\n"
    "图书角每周六上午开放，欢迎居民借阅。\n";

class LibraryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    auto st = store::Store::open(db_->url());
    ASSERT_TRUE(st.ok()) << st.status().to_string();
    store_ = std::move(*st);
    lib_ = std::make_unique<Library>(*store_);
  }
  int64_t count() { return *store_->count_documents(); }

  TempDir dir_;  // the source files
  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Library> lib_;
};

TEST_P(LibraryTest, BadFilesRejectedWithPlaceGoodOnesStored) {
  std::string src = (dir_.path() / "src").string();
  dir_.write("src/a-good.txt", kGood);
  dir_.write("src/b-unclosed.txt", "标题一\n正文一段。\n第二段##paidbegin##付费的句子。\n");
  dir_.write("src/c/d-nested.txt", "标题二\n##paidbegin##\n付费一。\n  ##PAIDBEGIN##\n##paidend##\n");
  dir_.write("src/c/e-stray.txt", "标题三\n免费内容。$$paidend$$\n");
  dir_.write("src/c/f-free.txt", kFreeOnly);
  dir_.write("src/c/notes.md.bak", "ignored");
  dir_.write("src/c/list.json", "ignored");

  std::vector<std::string> missing;
  auto files = Library::collect_sources({src, (dir_.path() / "nope").string()}, &missing);
  ASSERT_EQ(files.size(), 5u);
  EXPECT_EQ(fs::path(files[0]).filename(), "a-good.txt");
  ASSERT_EQ(missing.size(), 1u);

  ImportOptions opts{Fen(990), "工作总结", std::nullopt};
  std::vector<ImportLine> lines;
  for (const auto& f : files) lines.push_back(lib_->import_file(f, opts));

  EXPECT_TRUE(lines[0].ok);
  EXPECT_EQ(lines[0].to_string(), "imported " + std::to_string(lines[0].id) + " 城区供水管网改造工作总结");
  // Unclosed: reported at the opening marker (line 3, column 4).
  EXPECT_FALSE(lines[1].ok);
  EXPECT_EQ(lines[1].to_string().rfind("error " + files[1] + ":3:4: ", 0), 0u) << lines[1].to_string();
  // Nested: the second open, line 4, after two spaces of indentation.
  EXPECT_FALSE(lines[2].ok);
  EXPECT_EQ(lines[2].to_string().rfind("error " + files[2] + ":4:3: ", 0), 0u) << lines[2].to_string();
  // Stray close: line 2, column 6.
  EXPECT_FALSE(lines[3].ok);
  EXPECT_EQ(lines[3].to_string().rfind("error " + files[3] + ":2:6: ", 0), 0u) << lines[3].to_string();
  EXPECT_TRUE(lines[4].ok);

  EXPECT_EQ(count(), 2);
  auto page = store_->list_documents({});
  ASSERT_TRUE(page.ok());
  for (const auto& s : page->items) {
    EXPECT_NE(s.title, "标题一");
    EXPECT_NE(s.title, "标题二");
    EXPECT_NE(s.title, "标题三");
  }

  // Prices: the paid document takes --price, the one without paid text is free.
  auto good = store_->get_document(lines[0].id);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->summary.price, Fen(990));
  EXPECT_EQ(good->summary.category, "工作总结");
  EXPECT_EQ(store_->get_document(lines[4].id)->summary.price, Fen(0));
}

TEST_P(LibraryTest, ReimportUnchangedThenUpdated) {
  std::string f = dir_.write("doc.txt", kGood);
  ImportLine first = lib_->import_file(f, {});
  ASSERT_TRUE(first.ok) << first.error;
  ImportLine again = lib_->import_file(f, {});
  ASSERT_TRUE(again.ok);
  EXPECT_EQ(again.outcome, store::PutOutcome::kUnchanged);
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.to_string(), "unchanged " + std::to_string(first.id) + " 城区供水管网改造工作总结");
  EXPECT_EQ(count(), 1);

  dir_.write("doc.txt", std::string(kGood) + "三、下一步打算\n继续推进管网改造。\n");
  ImportLine changed = lib_->import_file(f, {});
  ASSERT_TRUE(changed.ok);
  EXPECT_EQ(changed.outcome, store::PutOutcome::kUpdated);
  EXPECT_EQ(changed.id, first.id);
  EXPECT_EQ(*lib_->revision(first.id), 2);
  EXPECT_EQ(count(), 1);
}

TEST_P(LibraryTest, MarkdownIsStoredAsConvertedSourceTextAndBadOnesAreNot) {
  const std::string md = "# 河道保洁月报\n\n本月清理河道**八**公里。\n\n##paidbegin##\n一、费用明细\n##paidend##\n";
  ImportLine ok = lib_->import_bytes(md, "/docs/river.md", ImportOptions{Fen(300), "", std::nullopt});
  ASSERT_TRUE(ok.ok) << ok.error;
  auto stored = store_->get_document(ok.id);
  ASSERT_TRUE(stored.ok());
  // The stored source is paidoc source text, without the Markdown syntax.
  EXPECT_EQ(stored->source_text, "河道保洁月报\n本月清理河道八公里。\n##paidbegin##\n一、费用明细\n##paidend##\n");
  EXPECT_EQ(stored->summary.price, Fen(300));

  ImportLine bad = lib_->import_bytes("# 标题\n\n正文![图](x.png)\n", "/docs/bad.md", {});
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.to_string(),
            "error /docs/bad.md:3:1: image is not supported in a .md source; remove it or describe it in text");
  EXPECT_EQ(count(), 1);
}

TEST_P(LibraryTest, ViewsAreGated) {
  ImportLine line = lib_->import_bytes(kGood, "mem:good.txt", {});
  ASSERT_TRUE(line.ok) << line.error;
  auto anon = lib_->view(line.id, gate::Viewer::anonymous());
  ASSERT_TRUE(anon.ok());
  EXPECT_TRUE(anon->locked);
  for (const auto& b : anon->blocks) EXPECT_EQ(b.text.find("第三号阀门井"), std::string::npos);
  ASSERT_EQ(anon->teaser.outline.size(), 1u);
  EXPECT_EQ(anon->teaser.outline[0].label, "二、");
  EXPECT_EQ(anon->teaser.outline[0].text, "经验做法");

  auto full = lib_->view(line.id, gate::Viewer::system());
  ASSERT_TRUE(full.ok());
  EXPECT_FALSE(full->locked);
  bool seen = false;
  for (const auto& b : full->blocks) seen |= b.text.find("第三号阀门井") != std::string::npos;
  EXPECT_TRUE(seen);

  EXPECT_EQ(lib_->view(line.id + 100, gate::Viewer::anonymous()).status().code(), Code::kNotFound);
}

TEST_P(LibraryTest, DemoSeedsOnceIntoAnEmptyStore) {
  auto n = lib_->seed_demo();
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_GE(*n, 6);
  EXPECT_EQ(count(), *n);
  auto cats = lib_->categories();
  ASSERT_TRUE(cats.ok());
  EXPECT_GE(cats->size(), 2u);
  EXPECT_EQ(*lib_->seed_demo(), 0);  // not again
  EXPECT_EQ(count(), *n);
  // Every demo document with a price has a paid part.
  auto page = lib_->list({"", 0, 100});
  int paid = 0;
  for (const auto& s : page->items) paid += s.has_paid_text && s.price > Fen(0);
  EXPECT_GE(paid, 6);
}

TEST_P(LibraryTest, UploadBytesKeepsEachPublishersFilesApart) {
  ImportOptions opts;
  Result<ImportLine> a = lib_->upload_bytes(kGood, "report.txt", 7, opts);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->ok) << a->error;
  EXPECT_EQ(a->path, "report.txt");
  auto doc = store_->get_document(a->id);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->source_path, "upload/7/report.txt");
  EXPECT_EQ(doc->publisher_id, std::optional<int64_t>(7));

  // Another publisher's file of the same name is a document of its own.
  Result<ImportLine> b = lib_->upload_bytes(kFreeOnly, "report.txt", 8, opts);
  ASSERT_TRUE(b.ok() && b->ok);
  EXPECT_EQ(b->outcome, store::PutOutcome::kCreated);
  EXPECT_NE(b->id, a->id);
  // The same bytes as another publisher's document: refused, theirs not named.
  Result<ImportLine> c = lib_->upload_bytes(kGood, "copy.txt", 8, opts);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->ok);
  EXPECT_EQ(c->error, "copy.txt: not stored: the same file is already published by another account");
  EXPECT_EQ(count(), 2);
  // The owner's re-upload is unchanged.
  Result<ImportLine> again = lib_->upload_bytes(kGood, "report.txt", 7, opts);
  ASSERT_TRUE(again.ok() && again->ok);
  EXPECT_EQ(again->outcome, store::PutOutcome::kUnchanged);
}

TEST_P(LibraryTest, UploadBytesErrorsNameTheFileWithoutTheUploadPrefix) {
  Result<ImportLine> r = lib_->upload_bytes("标题\n##paidend##\n", "bad.txt", 3, ImportOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->error.rfind("bad.txt:2:1: stray ##paidend##", 0), 0u) << r->error;
  EXPECT_EQ(count(), 0);
}

TEST_P(LibraryTest, UploadBytesRefusesNamesThatAreNotPlainFileNames) {
  for (const std::string& name : {std::string(""), std::string("a/b.txt"), std::string("a\\b.txt"),
                                  std::string("a\0b.txt", 7), std::string(201, 'x'), std::string("../x.txt")}) {
    Result<ImportLine> r = lib_->upload_bytes(kGood, name, 3, ImportOptions{});
    EXPECT_FALSE(r.ok()) << name;
    if (!r.ok()) EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
  EXPECT_TRUE(lib_->upload_bytes(kGood, std::string(200, 'x'), 3, ImportOptions{}).ok());
  EXPECT_EQ(count(), 1);
}

// Issue 16, finding 5: a 200 MB source took 6.5 GB to import and served a
// 100 MB page. Sources over the limit are refused, by file size before the
// file is read and by text size after conversion, naming both sizes.
TEST_P(LibraryTest, ASourceOverTheSizeLimitIsRefusedNamingSizeAndLimit) {
  Library small(*store_, Clock::system(), 4096);
  std::string big = "大文件\n";
  while (big.size() < 6000) big += "这一段正文只是为了把文件撑大。\n";
  const std::string path = dir_.write("big.txt", big);
  ImportLine line = small.import_file(path, ImportOptions{});
  EXPECT_FALSE(line.ok);
  EXPECT_NE(line.error.find("big.txt: source too large: the file is "), std::string::npos)
      << line.error;
  EXPECT_NE(line.error.find("the limit is 4.0 KB; split the document, or raise --max-source-mb"),
            std::string::npos)
      << line.error;
  ImportLine bytes = small.import_bytes(big, "big.txt", ImportOptions{});
  EXPECT_FALSE(bytes.ok);
  EXPECT_NE(bytes.error.find("source too large"), std::string::npos) << bytes.error;
  EXPECT_EQ(count(), 0);
  // Under the limit, the same library imports.
  ImportLine fine = small.import_bytes(kGood, "good.txt", ImportOptions{});
  EXPECT_TRUE(fine.ok) << fine.error;
  // The default is 5 MiB.
  EXPECT_EQ(lib_->max_source_bytes(), int64_t{5} << 20);
  std::string huge(static_cast<size_t>((int64_t{5} << 20) + 1), 'a');
  huge.replace(0, 4, "标题\n");
  ImportLine refused = lib_->import_bytes(huge, "huge.txt", ImportOptions{});
  EXPECT_NE(refused.error.find("the file is 5.0 MB, the limit is 5.0 MB"), std::string::npos)
      << refused.error;
  EXPECT_EQ(count(), 1);
}

// Issue 16, finding 3: a price of 2^63-1 fen was accepted on upload, the
// page showed ¥92233720368547758.07 and orders were made at that price. A
// price above the maximum (100000 yuan unless the operator sets
// --max-price) is refused wherever it enters, naming the price and the
// limit, and nothing of the document is stored.
TEST_P(LibraryTest, APriceAboveTheMaximumIsRefusedNamingTheLimit) {
  ImportOptions opts;
  opts.price = Fen(std::numeric_limits<int64_t>::max());
  ImportLine line = lib_->import_bytes(kGood, "dear.txt", opts);
  EXPECT_FALSE(line.ok);
  EXPECT_EQ(line.error,
            "dear.txt: price: ¥92233720368547758.07 (9223372036854775807 fen) is above the maximum "
            "price ¥100000.00 (10000000 fen; --max-price)");
  Result<ImportLine> up = lib_->upload_bytes(kGood, "dear.txt", 3, opts);
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  EXPECT_FALSE(up->ok);
  EXPECT_EQ(up->error.rfind("dear.txt: price: ¥92233720368547758.07", 0), 0u) << up->error;
  opts.price = Fen(10'000'001);
  EXPECT_FALSE(lib_->import_bytes(kGood, "dear.txt", opts).ok);
  EXPECT_EQ(count(), 0);
  // The maximum itself is a price.
  opts.price = Fen(10'000'000);
  ImportLine at_max = lib_->import_bytes(kGood, "dear.txt", opts);
  EXPECT_TRUE(at_max.ok) << at_max.error;
  EXPECT_EQ(count(), 1);

  // An operator's lower maximum holds for every entry, typed prices too.
  Library cheap(*store_, Clock::system(), kDefaultMaxSourceBytes, Fen(1000));
  EXPECT_EQ(cheap.max_price(), Fen(1000));
  opts.price = Fen(1001);
  ImportLine over = cheap.import_bytes(kFreeOnly, "cheap.txt", opts);
  EXPECT_FALSE(over.ok);
  EXPECT_NE(over.error.find("¥10.01 (1001 fen) is above the maximum price ¥10.00 (1000 fen"),
            std::string::npos)
      << over.error;
  Result<Fen> typed = cheap.parse_price("10.01");
  ASSERT_FALSE(typed.ok());
  EXPECT_EQ(typed.status().message(), "价格：不能超过 10 元（填写的是 10.01 元）");
  Result<Fen> huge = cheap.parse_price("92233720368547758.07");
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().message(), "价格：不能超过 10 元（填写的金额远超上限）");
  EXPECT_EQ(cheap.parse_price("10").value(), Fen(1000));
  store::BulkChange change;
  change.kind = store::BulkChange::Kind::kPrice;
  change.price = Fen(1001);
  Result<int64_t> bulk = cheap.bulk(gate::Viewer::system(), {at_max.id}, change, {});
  ASSERT_FALSE(bulk.ok());
  EXPECT_EQ(bulk.status().message(), "价格：须在 0 到 10 元之间（填写的是 10.01 元）");
  EXPECT_EQ(store_->get_document(at_max.id)->summary.price, Fen(10'000'000));
  EXPECT_EQ(count(), 1);
}

PAIDOC_ON_EVERY_BACKEND(LibraryTest);

}  // namespace
}  // namespace paidoc::library
