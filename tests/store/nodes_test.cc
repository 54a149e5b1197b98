// Two stores on one database, as two server nodes have them: the
// coordination lock (store/coordination.h) is held by one at a time, and a
// download limit counted through both at once stays exact
// (DownloadStore::record_download checks and records in one write).
// Run on SQLite and on PostgreSQL (skipped without PAIDOC_TEST_PG).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "doc/document.h"
#include "store/store.h"
#include "support/backends.h"
#include "support/test_database.h"

namespace paidoc::store {
namespace {

using testing_support::make_test_database;
using testing_support::postgres_skip_reason;

constexpr int64_t kT0 = 1'767'225'600;  // 2026-01-01

class NodesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << postgres_skip_reason();
    for (auto* s : {&a_, &b_}) {
      auto opened = Store::open(db_->url());
      ASSERT_TRUE(opened.ok()) << opened.status().message();
      *s = std::move(opened).value();
    }
  }

  // A document with a free and a paid paragraph, stored through node A.
  int64_t put_document(const std::string& name) {
    NewDocument n;
    n.source_path = "/library/" + name + ".txt";
    n.source_sha256 = std::string(64, 'a' + static_cast<char>(name.size() % 6));
    doc::Block p;
    p.kind = doc::BlockKind::kParagraph;
    p.runs = {doc::Run{"公开的开头，", false}, doc::Run{"付费的正文。", true}};
    n.parsed.title = "节点 " + name;
    n.parsed.source_encoding = "utf-8";
    n.parsed.blocks = {p};
    doc::compute_figures(n.parsed);
    n.source_text = "公开的开头，付费的正文。";
    n.price = Fen(500);
    auto r = a_->put_document(n, kT0);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : 0;
  }

  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<Store> a_, b_;  // two nodes
};

TEST_P(NodesTest, ExclusiveLockIsHeldByOneNodeAtATime) {
  auto held = a_->try_exclusive("expiry-sweep");
  ASSERT_TRUE(held.ok()) << held.status().message();
  ASSERT_NE(*held, nullptr) << "the first to ask gets the lock";

  auto other = b_->try_exclusive("expiry-sweep");
  ASSERT_TRUE(other.ok()) << other.status().message();
  EXPECT_EQ(*other, nullptr) << "another node holds it";
  auto again = a_->try_exclusive("expiry-sweep");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, nullptr) << "not even the holder's own store gets it twice";

  auto unrelated = b_->try_exclusive("another-job");
  ASSERT_TRUE(unrelated.ok());
  EXPECT_NE(*unrelated, nullptr) << "locks of other names are independent";

  held->reset();  // released
  auto after = b_->try_exclusive("expiry-sweep");
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, nullptr) << "free again once the holder lets go";
}

TEST_P(NodesTest, ExclusiveLockRacedByManyThreadsOnTwoNodesHasOneWinner) {
  std::atomic<int> winners{0}, errors{0};
  std::atomic<bool> go{false};
  std::vector<std::unique_ptr<ExclusiveHold>> holds(16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      auto h = (i % 2 == 0 ? a_ : b_)->try_exclusive("expiry-sweep");
      if (!h.ok()) {
        ++errors;
      } else if (*h != nullptr) {
        ++winners;
        holds[i] = std::move(*h);  // kept until every thread has tried
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(winners.load(), 1);
}

TEST_P(NodesTest, ExclusiveLockNamesAreChecked) {
  for (const std::string& bad : std::vector<std::string>{"", "Expiry", "a b", "x/../y", std::string(65, 'a')}) {
    auto h = a_->try_exclusive(bad);
    ASSERT_FALSE(h.ok()) << "'" << bad << "'";
    EXPECT_EQ(h.status().code(), Code::kInvalidArgument);
  }
}

TEST_P(NodesTest, OnlyPostgresqlSaysItIsSharedByNodes) {
  EXPECT_EQ(a_->shared_by_nodes(), GetParam() == "postgresql");
}

TEST_P(NodesTest, ConcurrentDownloadsOnTwoNodesKeepTheDailyLimitExactly) {
  auto user = a_->create_user({"reader@example.cn", "$argon2id$v=19$x", Role::kReader}, kT0);
  ASSERT_TRUE(user.ok()) << user.status().message();
  const int64_t doc = put_document("limit");
  ASSERT_GT(doc, 0);

  constexpr int kLimit = 5;
  constexpr int kAttempts = 24;
  std::atomic<int> recorded{0}, refused{0}, other{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kAttempts; ++i) {
    threads.emplace_back([&, i] {
      NewDownload d;
      d.user_id = user->id;
      d.document_id = doc;
      d.revision = 1;
      d.format = "txt";
      d.access = "purchased";
      d.nonce = 1000 + i;
      d.created_at = kT0 + 60;
      d.limit = kLimit;
      d.since = kT0;
      d.per_document = true;
      while (!go) std::this_thread::yield();
      auto r = (i % 2 == 0 ? a_ : b_)->record_download(d);
      if (r.ok()) {
        ++recorded;
      } else if (r.status().code() == Code::kTooManyRequests) {
        EXPECT_GE(r.status().retry_after(), 1);
        ++refused;
      } else {
        ADD_FAILURE() << r.status().message();
        ++other;
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(recorded.load(), kLimit);
  EXPECT_EQ(refused.load(), kAttempts - kLimit);
  EXPECT_EQ(other.load(), 0);

  // The next day starts a new count, on either node.
  NewDownload next;
  next.user_id = user->id;
  next.document_id = doc;
  next.revision = 1;
  next.format = "txt";
  next.access = "purchased";
  next.nonce = 7;
  next.created_at = kT0 + 86400 + 60;
  next.limit = kLimit;
  next.since = kT0 + 86400;
  next.per_document = true;
  EXPECT_TRUE(b_->record_download(next).ok());
}

// The render cache asks for a document's revision on every page view; on
// PostgreSQL the answer is kept by each node and forgotten when any node
// changes the document (revision_watch.h). A change through node B must
// still reach node A's answer at once, never a stale revision.
TEST_P(NodesTest, ARevisionChangedThroughOneNodeIsSeenByTheOther) {
  const int64_t id = put_document("watch");
  ASSERT_NE(id, 0);
  // Asked repeatedly, as page views do, so A keeps it once it listens.
  for (int i = 0; i < 20; ++i) {
    auto r = a_->document_revision(id);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(*r, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  for (int revision = 2; revision <= 4; ++revision) {
    NewDocument n;
    n.source_path = "/library/watch.txt";
    n.source_sha256 = std::string(63, 'b') + static_cast<char>('0' + revision);
    doc::Block p;
    p.kind = doc::BlockKind::kParagraph;
    p.runs = {doc::Run{"改过的开头，", false}, doc::Run{"改过的正文。", true}};
    n.parsed.title = "节点 watch";
    n.parsed.source_encoding = "utf-8";
    n.parsed.blocks = {p};
    doc::compute_figures(n.parsed);
    n.source_text = "改过的开头，改过的正文。";
    n.price = Fen(500);
    auto put = b_->put_document(n, kT0 + revision);
    ASSERT_TRUE(put.ok()) << put.status().message();
    ASSERT_EQ(put->outcome, PutOutcome::kUpdated);
    // The notification travels after B's commit: allow it a moment, but
    // never an answer older than the one before the change.
    int64_t seen = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < until) {
      auto r = a_->document_revision(id);
      ASSERT_TRUE(r.ok()) << r.status().message();
      ASSERT_GE(*r, revision - 1);
      seen = *r;
      if (seen == revision) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(seen, revision) << "node A still answers a stale revision";
    EXPECT_EQ(*b_->document_revision(id), revision);
  }
}

// Found as a flaky TaxonomyStoreTest on PostgreSQL: the node that writes a
// document (or its tags) answered the revision it had kept until its own
// commit's notification arrived, so an editor's reload could show the old
// page. A write through a node is read back through it at once.
TEST_P(NodesTest, TheNodeThatWritesReadsItsOwnWriteAtOnce) {
  const int64_t id = put_document("own");
  ASSERT_NE(id, 0);
  for (int i = 0; i < 20; ++i) {  // kept once the watch listens
    ASSERT_TRUE(a_->document_revision(id).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  int64_t expected = *a_->document_revision(id);
  for (int i = 0; i < 30; ++i) {
    const std::vector<std::string> tags = {i % 2 == 0 ? "甲方" : "乙方"};
    ASSERT_TRUE(a_->set_document_tags(id, tags, kT0 + i).is_ok());
    ++expected;
    auto r = a_->document_revision(id);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(*r, expected) << "write " << i << ": the writing node answered a stale revision";
  }
}

// On PostgreSQL a kept revision is answered without a round trip: with the
// documents table locked by another session, a read would wait for the
// lock; the page view's question does not.
TEST_P(NodesTest, AKeptRevisionIsAnsweredWithoutAskingTheDatabase) {
  if (GetParam() != std::string("postgresql")) GTEST_SKIP() << "SQLite reads its own file";
  const int64_t id = put_document("kept");
  ASSERT_NE(id, 0);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(a_->document_revision(id).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::thread locker([&] {
    EXPECT_EQ(testing_support::exec_sql(
                  db_->url(),
                  "BEGIN; LOCK TABLE documents IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(2); COMMIT"),
              "");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  auto r = a_->document_revision(id);
  const auto took = std::chrono::steady_clock::now() - start;
  locker.join();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, 1);
  EXPECT_LT(took, std::chrono::milliseconds(1000)) << "the read waited for the table lock";
}

// The listening connection dies (a restarted or failed-over server, a
// terminated backend): what it kept is forgotten, changes made meanwhile
// are read from the database, and it listens again.
TEST_P(NodesTest, ALostRevisionWatchForgetsWhatItKeptAndListensAgain) {
  if (GetParam() != std::string("postgresql")) GTEST_SKIP() << "SQLite has no watch";
  const int64_t id = put_document("lost");
  ASSERT_NE(id, 0);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(*a_->document_revision(id), 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(testing_support::query_value(
                db_->url(),
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE query = 'LISTEN paidoc_documents' AND datname = current_database()"),
            "1");
  int64_t expected = 1;
  for (int round = 0; round < 2; ++round) {
    NewDocument n;
    n.source_path = "/library/lost.txt";
    n.source_sha256 = std::string(63, 'c') + static_cast<char>('0' + round);
    doc::Block p;
    p.kind = doc::BlockKind::kParagraph;
    p.runs = {doc::Run{"又改了开头，", false}, doc::Run{"又改了正文。", true}};
    n.parsed.title = "节点 lost";
    n.parsed.source_encoding = "utf-8";
    n.parsed.blocks = {p};
    doc::compute_figures(n.parsed);
    n.source_text = "又改了开头，又改了正文。" + std::to_string(round);
    n.price = Fen(500);
    ASSERT_TRUE(b_->put_document(n, kT0 + 10 + round).ok());
    ++expected;
    int64_t seen = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < until) {
      seen = *a_->document_revision(id);
      if (seen == expected) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(seen, expected) << "round " << round;
    // Round 1 runs once the watch listens again (a new LISTEN backend).
    const auto back = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < back &&
           testing_support::query_value(db_->url(),
                                        "SELECT count(*) FROM pg_stat_activity"
                                        " WHERE query = 'LISTEN paidoc_documents'"
                                        " AND datname = current_database()") != "1") {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (int i = 0; i < 10; ++i) {
      ASSERT_EQ(*a_->document_revision(id), expected);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, NodesTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace paidoc::store
