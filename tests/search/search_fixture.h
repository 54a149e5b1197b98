// The search service over each store backend (PostgreSQL where
// PAIDOC_TEST_PG names a server; tests/support/test_database.h), for the
// search tests that go through Searcher.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "library/library.h"
#include "search/search.h"
#include "store/store.h"
#include "support/test_database.h"
#include "text/text.h"

namespace paidoc::search::testing {

class SearchServiceTest : public ::testing::TestWithParam<std::string> {
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

  // Imports a document and returns its id (0 on failure, reported).
  int64_t import(const std::string& name, const std::string& source, int64_t price_fen = 500,
                 const std::string& category = "") {
    library::ImportOptions opts;
    opts.price = Fen(price_fen);
    opts.category = category;
    library::ImportLine line = lib_->import_bytes(source, name, opts);
    EXPECT_TRUE(line.ok) << line.error;
    return line.id;
  }

  Results run(const std::string& q, const gate::Viewer& viewer = gate::Viewer::anonymous(),
              Request r = {}) {
    r.q = q;
    auto res = searcher_->search(r, viewer);
    EXPECT_TRUE(res.ok()) << res.status().to_string();
    return res.ok() ? *res : Results{};
  }

  static std::vector<int64_t> ids(const Results& r) {
    std::vector<int64_t> out;
    for (const Hit& h : r.hits) out.push_back(h.id);
    return out;
  }

  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<library::Library> lib_;
  std::unique_ptr<Searcher> searcher_;
};

}  // namespace paidoc::search::testing
