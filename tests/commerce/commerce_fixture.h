// A commerce service on a real store — a fresh database of the backend the
// test is instantiated for (PAIDOC_ON_EVERY_BACKEND), with a FakeClock and the sandbox provider (and, on request, a scripted "wechat"
// FakeProvider), plus helpers to make users, documents
// and signed notifications. Shared by the commerce service tests.
#pragma once

#include <gtest/gtest.h>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "commerce/commerce.h"
#include "commerce/provider.h"
#include "common/clock.h"
#include "doc/document.h"
#include "fake_provider.h"
#include "store/store.h"
#include "support/backends.h"

namespace paidoc::commerce::testing {

namespace fs = std::filesystem;

inline constexpr char kSandboxSecret[] = "sandbox-test-secret";

// A payment provider that records what it was asked to start and accepts
// notifications in a trivial format: body "out_trade_no|amount_fen|txn|paid".
// For checks of the service's own logic (URLs, dispatch) independent of
// any real provider's signature scheme.
class RecordingProvider : public PaymentProvider {
 public:
  explicit RecordingProvider(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Result<PaymentStart> start(const PaymentOrder& order) override {
    started.push_back(order);
    PaymentStart s;
    s.redirect_url = "https://pay.example/" + order.out_trade_no;
    return s;
  }
  Result<Notification> verify(const RawNotification& n) const override {
    std::vector<std::string> parts;
    size_t from = 0;
    for (;;) {
      size_t bar = n.body.find('|', from);
      parts.push_back(
          n.body.substr(from, bar == std::string::npos ? std::string::npos : bar - from));
      if (bar == std::string::npos) break;
      from = bar + 1;
    }
    if (parts.size() != 4) return Status::invalid("malformed");
    Notification out;
    out.provider = name_;
    out.out_trade_no = parts[0];
    out.amount = Fen(std::stoll(parts[1]));
    out.transaction_id = parts[2];
    out.paid = parts[3] == "paid";
    return out;
  }
  std::string success_body() const override { return "OK"; }
  std::string failure_body() const override { return "FAIL"; }
  bool can_refund() const override { return true; }

  std::vector<PaymentOrder> started;

 private:
  std::string name_;
};

inline doc::Document paid_document(const std::string& title) {
  doc::Document d;
  d.title = title;
  d.source_encoding = "utf-8";
  doc::Block free_part;
  free_part.runs = {{"公开的开头部分。", false}};
  free_part.line = 2;
  doc::Block paid_part;
  paid_part.runs = {{"付费才能看到的内容。", true}};
  paid_part.line = 3;
  d.blocks = {free_part, paid_part};
  d.figures.paid_sections = 1;
  doc::compute_figures(d);
  return d;
}

inline doc::Document free_document(const std::string& title) {
  doc::Document d;
  d.title = title;
  d.source_encoding = "utf-8";
  doc::Block b;
  b.runs = {{"全部公开的正文。", false}};
  b.line = 2;
  d.blocks = {b};
  doc::compute_figures(d);
  return d;
}

class CommerceFixture : public ::testing::TestWithParam<std::string> {
 protected:
  // The sandbox stamps notifications with the real time and checks them
  // against the service clock within a few minutes, so the fake clock starts
  // at the real time.
  CommerceFixture() : clock_(Clock::system().now()) {}

  void SetUp() override {
    open_database();
    if (!IsSkipped()) open_commerce(Options{});
  }

  // A fresh database of the backend under test; skips where it cannot run.
  void open_database() {
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
  }

  // with_gateway: "wechat" is a FakeProvider (gateway_), scripted by the test.
  void open_commerce(Options options, bool with_gateway = false) {
    commerce_.reset();
    store_.reset();
    auto s = store::Store::open(db_->url());
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(s).value();
    options.site_url = "https://shop.example/";
    std::map<std::string, std::unique_ptr<PaymentProvider>> providers;
    providers["sandbox"] = make_sandbox({kSandboxSecret, "https://shop.example"}, clock_);
    auto rec = std::make_unique<RecordingProvider>("alipay");
    recording_ = rec.get();
    providers["alipay"] = std::move(rec);
    gateway_ = nullptr;
    if (with_gateway) {
      auto fake = std::make_unique<FakeProvider>("wechat");
      gateway_ = fake.get();
      providers["wechat"] = std::move(fake);
    }
    commerce_ = std::make_unique<Commerce>(*store_, *store_, clock_, std::move(options),
                                           std::move(providers));
  }

  int64_t add_user(const std::string& email, const std::string& role = "reader") {
    auto u = store_->create_user(
        {email, "$argon2id$v=19$hash-of-" + email, *store::parse_role(role)}, clock_.now());
    EXPECT_TRUE(u.ok()) << u.status().to_string();
    return u.ok() ? u->id : 0;
  }

  int64_t add_document(const std::string& name, int64_t price_fen, bool has_paid = true,
                       std::optional<int64_t> publisher = std::nullopt) {
    store::NewDocument n;
    n.source_path = "/library/" + name + ".txt";
    n.source_sha256 = std::string(64, '0');
    // A distinct digest per name.
    std::string h = std::to_string(std::hash<std::string>{}(name));
    n.source_sha256.replace(0, h.size(), h);
    n.parsed = has_paid ? paid_document("标题" + name) : free_document("标题" + name);
    n.source_text = n.parsed.title;
    n.price = Fen(price_fen);
    n.excerpt = "公开的开头部分。";
    n.publisher_id = publisher;
    auto r = store_->put_document(n, clock_.now());
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? r->id : 0;
  }

  Fen balance(int64_t user) {
    auto b = commerce_->balance(user);
    EXPECT_TRUE(b.ok()) << b.status().to_string();
    return b.ok() ? *b : Fen(-1);
  }

  void credit(int64_t user, int64_t fen) {
    Status s = commerce_->credit(user, Fen(fen), "test credit", "tester");
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

  NotifyAnswer sandbox_notify(const std::string& out_trade_no, int64_t fen,
                              const std::string& txn) {
    RawNotification raw =
        sandbox_notification({kSandboxSecret, "https://shop.example"}, out_trade_no, Fen(fen), txn);
    return commerce_->notify("sandbox", raw);
  }

  LedgerCheck verify() {
    auto c = commerce_->verify_ledger();
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? std::move(c).value() : LedgerCheck{false, {"verify failed"}, 0, 0};
  }

  static std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }

  // Runs SQL on the database directly, as a tamperer would.
  void raw_sql(const std::string& sql) {
    std::string err = testing_support::exec_sql(db_->url(), sql);
    ASSERT_EQ(err, "") << sql;
  }

  std::unique_ptr<testing_support::TestDatabase> db_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Commerce> commerce_;
  RecordingProvider* recording_ = nullptr;  // owned by commerce_
  FakeProvider* gateway_ = nullptr;         // owned by commerce_; open_commerce(…, true)
};

}  // namespace paidoc::commerce::testing
