// What the HTTP suites build before a server: a fresh SQLite store in its
// own temp folder, the library over it, and Accounts at the lowest argon2
// cost (so tests that sign in stay fast). Header-only, for tests/web.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"

namespace paidoc::web::testing {

struct TestStore {
  std::filesystem::path dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<library::Library> library;
  std::unique_ptr<auth::Accounts> accounts;
};

// Fills t under a new folder named after prefix. Fails the test (fatally)
// when the store does not open: call through ASSERT_NO_FATAL_FAILURE.
inline void open_test_store(const std::string& prefix, const Clock& clock, TestStore& t) {
  static std::atomic<int> seq{0};
  t.dir = std::filesystem::temp_directory_path() /
          (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(seq++));
  std::filesystem::remove_all(t.dir);
  std::filesystem::create_directories(t.dir);
  auto opened = store::Store::open("sqlite:" + (t.dir / "paidoc.db").string());
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  t.store = std::move(opened).value();
  t.library = std::make_unique<library::Library>(*t.store);
  auth::Options ao;
  ao.pwhash_opslimit = 1;
  ao.pwhash_memlimit = 8192;
  t.accounts = std::make_unique<auth::Accounts>(*t.store, clock, ao);
}

// Closes everything (users of the store — servers, Commerce — must be gone
// first) and removes the folder.
inline void close_test_store(TestStore& t) {
  t.accounts.reset();
  t.library.reset();
  t.store.reset();
  std::filesystem::remove_all(t.dir);
}

// A reader account with this password (the suites pass kTestPassword, from
// browser.h): its id, or 0 after failing the test.
inline int64_t add_reader(auth::Accounts& accounts, const std::string& email,
                          const char* password) {
  Result<auth::Account> a = accounts.add_user(email, password, gate::Role::kReader);
  EXPECT_TRUE(a.ok()) << a.status().to_string();
  return a.ok() ? a->id : 0;
}

// Credits a reader ¥50 and buys the document from the wallet; fails the
// test if any step is refused.
inline void credit_and_buy(commerce::Commerce& shop, int64_t user, int64_t document_id) {
  Status c = shop.credit(user, Fen(5000), "test credit", "test");
  ASSERT_TRUE(c.is_ok()) << c.to_string();
  auto o = shop.buy_document_with_wallet(user, gate::Role::kReader, document_id);
  ASSERT_TRUE(o.ok()) << o.status().to_string();
}

}  // namespace paidoc::web::testing
