// The library's console services: the one permission rule (may_edit), the
// editor's preview and save (parsed as imports are), revisions and
// restore, bulk changes, and drafts hidden from readers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"
#include "support/backends.h"

namespace paidoc::library {
namespace {

// Written for these tests.
constexpr std::string_view kOrchard =
    "果园开放日安排\n"
    "开放日当天上午九点开园。\n"
    "##paidbegin##\n"
    "一、采摘路线\n"
    "第三排梨树下埋着一把铜钥匙。\n"
    "##paidend##\n"
    "欢迎全家参加。\n";
constexpr const char* kOrchardPaid = "铜钥匙";

constexpr std::string_view kUnclosed =
    "未写完的通知\n"
    "第一段。\n"
    "##paidbegin##\n"
    "没有结束标记的付费段落。\n";

gate::Viewer editor(int64_t id) { return {id, gate::Role::kEditor, false, {}}; }
gate::Viewer admin() { return {1, gate::Role::kAdmin, false, {}}; }
gate::Viewer reader(int64_t id) { return {id, gate::Role::kReader, false, {}}; }

DocumentForm form(std::string_view source, std::string status = "published") {
  DocumentForm f;
  f.source = std::string(source);
  f.price_yuan = "6.50";
  f.category = "活动";
  f.status = std::move(status);
  return f;
}

bool shows(const gate::DocumentView& v, std::string_view text) {
  for (const auto& b : v.blocks)
    if (b.text.find(text) != std::string::npos) return true;
  return false;
}

class ConsoleLibraryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    auto st = store::Store::open(db_->url());
    ASSERT_TRUE(st.ok()) << st.status().to_string();
    store_ = std::move(st).value();
    lib_ = std::make_unique<Library>(*store_, clock_);
  }
  void TearDown() override {
    lib_.reset();
    store_.reset();
  }
  store::AuditActor actor(const std::string& who) { return {0, who, ""}; }

  FakeClock clock_;
  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Library> lib_;
};

TEST_P(ConsoleLibraryTest, OneRuleDecidesWhoMayEdit) {
  EXPECT_TRUE(Library::may_edit(admin(), 5));
  EXPECT_TRUE(Library::may_edit(admin(), std::nullopt));
  EXPECT_TRUE(Library::may_edit(gate::Viewer::system(), std::nullopt));
  EXPECT_TRUE(Library::may_edit(editor(5), 5));
  EXPECT_FALSE(Library::may_edit(editor(5), 6));
  EXPECT_FALSE(Library::may_edit(editor(5), std::nullopt));  // CLI imports: admins only
  EXPECT_FALSE(Library::may_edit(reader(5), 5));
  EXPECT_FALSE(Library::may_edit(gate::Viewer::anonymous(), std::nullopt));
}

TEST_P(ConsoleLibraryTest, PreviewShowsTheBuyerAndTheReaderWithoutStoring) {
  FormError err;
  Result<Preview> p = lib_->preview(editor(5), 0, form(kOrchard), &err);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_TRUE(shows(p->buyer, kOrchardPaid));
  EXPECT_FALSE(shows(p->reader, kOrchardPaid));
  EXPECT_TRUE(p->reader.locked);
  EXPECT_GT(p->reader.teaser.hidden_chars, 0);
  EXPECT_GE(p->reader.teaser.hidden_paragraphs, 1);
  ASSERT_EQ(p->reader.teaser.outline.size(), 1u);
  EXPECT_EQ(p->reader.teaser.outline[0].label + p->reader.teaser.outline[0].text, "一、采摘路线");
  EXPECT_EQ(p->reader.price, Fen(650));
  EXPECT_EQ(lib_->count().value(), 0);
}

TEST_P(ConsoleLibraryTest, ParseErrorsNameTheLineAndStoreNothing) {
  FormError err;
  Result<store::PutResult> put = lib_->save(editor(5), 0, form(kUnclosed), actor("e@x.cn"), &err);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(err.field, "source");
  EXPECT_EQ(err.line, 3);
  EXPECT_NE(err.message.find("第 3 行"), std::string::npos) << err.message;
  EXPECT_EQ(lib_->count().value(), 0);
  Result<Preview> p = lib_->preview(editor(5), 0, form(kUnclosed), &err);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(err.line, 3);
}

// Issue 16, finding 5: the editor has the same source limit as import.
TEST_P(ConsoleLibraryTest, AnEditorSourceOverTheSizeLimitIsRefusedOnTheSourceField) {
  Library small(*store_, clock_, 2048);
  std::string text(kOrchard);
  while (text.size() < 4096) text += "再加一段正文，让它超过上限。\n";
  FormError err;
  Result<store::PutResult> put = small.save(editor(5), 0, form(text), actor("e@x.cn"), &err);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(err.field, "source");
  EXPECT_NE(err.message.find("超过了"), std::string::npos) << err.message;
  EXPECT_NE(err.message.find("上限"), std::string::npos) << err.message;
  EXPECT_EQ(lib_->count().value(), 0);
}

TEST_P(ConsoleLibraryTest, PricesAreBoundedAndFieldsNamed) {
  FormError err;
  DocumentForm f = form(kOrchard);
  f.price_yuan = "100000.01";
  ASSERT_FALSE(lib_->save(editor(5), 0, f, actor("e@x.cn"), &err).ok());
  EXPECT_EQ(err.field, "price_yuan");
  EXPECT_NE(err.message.find("价格"), std::string::npos);
  f.price_yuan = "-1";
  ASSERT_FALSE(lib_->save(editor(5), 0, f, actor("e@x.cn"), &err).ok());
  EXPECT_EQ(err.field, "price_yuan");
  f.price_yuan = "abc";
  ASSERT_FALSE(lib_->save(editor(5), 0, f, actor("e@x.cn"), &err).ok());
  f.price_yuan = "100000";
  f.status = "secret";
  ASSERT_FALSE(lib_->save(editor(5), 0, f, actor("e@x.cn"), &err).ok());
  EXPECT_EQ(err.field, "status");
  EXPECT_EQ(lib_->count().value(), 0);
  f.status = "published";
  Result<store::PutResult> put = lib_->save(editor(5), 0, f, actor("e@x.cn"), &err);
  ASSERT_TRUE(put.ok()) << put.status().to_string();
  EXPECT_EQ(store_->get_document(put->id)->summary.price, kMaxPrice);

  store::BulkChange too_much;
  too_much.kind = store::BulkChange::Kind::kPrice;
  too_much.price = Fen(kMaxPrice.value() + 1);
  EXPECT_EQ(lib_->bulk(admin(), {put->id}, too_much, actor("a@x.cn")).status().code(),
            Code::kInvalidArgument);
}

// One category rule for the editor, bulk changes and uploads (found in
// review: the three had three different rules, and the tag and category
// pages could not serve a name with '?' or '#').
TEST_P(ConsoleLibraryTest, CategoriesFollowTheTaxonomyNameRuleEverywhere) {
  EXPECT_EQ(Library::parse_category("  ").value(), "");
  EXPECT_EQ(Library::parse_category(" 夜校 ").value(), "夜校");
  for (const std::string& bad :
       std::vector<std::string>{"a/b", "问答?", "第#1", "行\n内", std::string(33, 'x')})
    EXPECT_EQ(Library::parse_category(bad).status().code(), Code::kInvalidArgument) << bad;

  FormError err;
  DocumentForm f = form(kOrchard);
  f.category = "园艺#果树";
  ASSERT_FALSE(lib_->save(editor(5), 0, f, actor("e@x.cn"), &err).ok());
  EXPECT_EQ(err.field, "category");
  EXPECT_NE(err.message.find("分类名称"), std::string::npos) << err.message;
  EXPECT_EQ(lib_->count().value(), 0);
  f.category = " 园艺 ";
  Result<store::PutResult> put = lib_->save(editor(5), 0, f, actor("e@x.cn"), &err);
  ASSERT_TRUE(put.ok()) << put.status().to_string();
  EXPECT_EQ(store_->get_document(put->id)->summary.category, "园艺");

  store::BulkChange move;
  move.kind = store::BulkChange::Kind::kCategory;
  move.category = "果树?";
  EXPECT_EQ(lib_->bulk(admin(), {put->id}, move, actor("a@x.cn")).status().code(),
            Code::kInvalidArgument);
  move.category = " 果树 ";
  ASSERT_TRUE(lib_->bulk(admin(), {put->id}, move, actor("a@x.cn")).ok());
  EXPECT_EQ(store_->get_document(put->id)->summary.category, "果树");
}

TEST_P(ConsoleLibraryTest, AnEditorTouchesOnlyTheirOwnDocuments) {
  FormError err;
  auto mine = lib_->save(editor(5), 0, form(kOrchard), actor("five@x.cn"), &err);
  ASSERT_TRUE(mine.ok()) << mine.status().to_string();
  EXPECT_EQ(store_->get_document(mine->id)->publisher_id, 5);

  EXPECT_EQ(lib_->editable(editor(6), mine->id).status().code(), Code::kForbidden);
  DocumentForm f = form(kOrchard);
  f.base_revision = 1;
  f.price_yuan = "1.00";
  EXPECT_EQ(lib_->save(editor(6), mine->id, f, actor("six@x.cn"), &err).status().code(),
            Code::kForbidden);
  EXPECT_EQ(lib_->preview(editor(6), mine->id, f, &err).status().code(), Code::kForbidden);
  EXPECT_EQ(lib_->restore(editor(6), mine->id, 1, actor("six@x.cn")).status().code(),
            Code::kForbidden);
  store::BulkChange draft;
  draft.kind = store::BulkChange::Kind::kUnpublish;
  EXPECT_EQ(lib_->bulk(editor(6), {mine->id}, draft, actor("six@x.cn")).status().code(),
            Code::kForbidden);
  auto listed = [&](const gate::Viewer& v) -> int64_t {
    auto page = lib_->console_list(v, store::ListQuery{.status = std::nullopt});
    EXPECT_TRUE(page.ok()) << page.status().to_string();
    return page.ok() ? page->total : -1;
  };
  EXPECT_EQ(listed(editor(6)), 0);
  EXPECT_EQ(listed(editor(5)), 1);
  EXPECT_EQ(listed(admin()), 1);
  EXPECT_EQ(lib_->console_list(reader(5), store::ListQuery{}).status().code(), Code::kForbidden);
  EXPECT_EQ(store_->get_document(mine->id)->summary.revision, 1);

  // A CLI import has no publisher: admins only.
  ImportLine line = lib_->import_bytes(
      "命令行导入的文档\n免费段落。\n##paidbegin##\n付费段落。\n##paidend##\n", "cli.txt", {});
  ASSERT_TRUE(line.ok) << line.error;
  EXPECT_EQ(lib_->editable(editor(5), line.id).status().code(), Code::kForbidden);
  EXPECT_TRUE(lib_->editable(admin(), line.id).ok());
}

TEST_P(ConsoleLibraryTest, SavesMakeRevisionsAndRestoreBringsOneBack) {
  FormError err;
  auto put = lib_->save(editor(5), 0, form(kOrchard), actor("five@x.cn"), &err);
  ASSERT_TRUE(put.ok()) << put.status().to_string();
  const int64_t id = put->id;
  DocumentForm f = form(std::string(kOrchard) + "附：请穿运动鞋。\n");
  f.title = "果园开放日（修订）";
  f.base_revision = 1;
  auto second = lib_->save(editor(5), id, f, actor("five@x.cn"), &err);
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  // A stale base revision: refused, nothing stored.
  f.price_yuan = "9.00";
  auto stale = lib_->save(editor(5), id, f, actor("five@x.cn"), &err);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), Code::kConflict);
  EXPECT_EQ(err.field, "base_revision");
  Result<Editable> e = lib_->editable(editor(5), id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->doc.summary.revision, 2);
  EXPECT_EQ(e->doc.summary.title, "果园开放日（修订）");
  EXPECT_EQ(e->doc.title_override, "果园开放日（修订）");
  ASSERT_EQ(e->revisions.size(), 2u);
  EXPECT_EQ(e->revisions[1].actor, "five@x.cn");

  auto restored = lib_->restore(editor(5), id, 1, actor("five@x.cn"));
  ASSERT_TRUE(restored.ok()) << restored.status().to_string();
  e = lib_->editable(editor(5), id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->doc.summary.revision, 3);
  EXPECT_EQ(e->doc.summary.title, "果园开放日安排");
  EXPECT_EQ(e->doc.title_override, "");
  EXPECT_EQ(e->doc.source_text, std::string(kOrchard));
  EXPECT_EQ(lib_->restore(editor(5), id, 42, actor("five@x.cn")).status().code(),
            Code::kNotFound);
}

TEST_P(ConsoleLibraryTest, ADraftIsVisibleOnlyToThoseWhoMayEditIt) {
  FormError err;
  auto put = lib_->save(editor(5), 0, form(kOrchard, "draft"), actor("five@x.cn"), &err);
  ASSERT_TRUE(put.ok()) << put.status().to_string();
  EXPECT_EQ(lib_->view(put->id, gate::Viewer::anonymous()).status().code(), Code::kNotFound);
  EXPECT_EQ(lib_->view(put->id, reader(9)).status().code(), Code::kNotFound);
  EXPECT_EQ(lib_->view(put->id, editor(6)).status().code(), Code::kNotFound);
  EXPECT_TRUE(lib_->view(put->id, editor(5)).ok());
  EXPECT_TRUE(lib_->view(put->id, admin()).ok());
  EXPECT_EQ(lib_->list(store::ListQuery{})->total, 0);

  store::BulkChange publish;
  publish.kind = store::BulkChange::Kind::kPublish;
  EXPECT_EQ(lib_->bulk(editor(5), {put->id}, publish, actor("five@x.cn")).value(), 1);
  Result<gate::DocumentView> v = lib_->view(put->id, gate::Viewer::anonymous());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->revision, 2);  // publishing bumps the revision: caches refresh
  EXPECT_FALSE(shows(*v, kOrchardPaid));
}

PAIDOC_ON_EVERY_BACKEND(ConsoleLibraryTest);

}  // namespace
}  // namespace paidoc::library
