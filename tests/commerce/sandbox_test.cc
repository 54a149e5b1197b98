// The sandbox provider: its pay-page redirect, and notifications checked by
// HMAC-SHA256 over the raw body and a 300-second timestamp window. An empty
// secret turns the sandbox off.

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commerce/provider.h"
#include "common/clock.h"
#include "gateway_fake.h"

namespace paidoc::commerce {
namespace {

namespace gw = fake_gateway;
using nlohmann::json;

constexpr const char* kSecret = "sandbox-secret-for-tests";

SandboxConfig config() { return {kSecret, "https://paidoc.example/"}; }

// A notification the test signs itself, to reach the checks after the HMAC.
RawNotification signed_body(const std::string& body, const std::string& secret = kSecret) {
  RawNotification n;
  n.body = body;
  n.headers["x-sandbox-signature"] = gw::hmac_sha256_hex(secret, body);
  return n;
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override { clock_.set(Clock::system().now()); }  // notifications carry real time
  FakeClock clock_;
  std::unique_ptr<PaymentProvider> sandbox_ = make_sandbox(config(), clock_);
};

TEST_F(SandboxTest, StartSendsTheBuyerToThePayPage) {
  PaymentOrder o;
  o.out_trade_no = "P20260101000001";
  o.amount = Fen(990);
  o.subject = "论语 & 孟子";
  auto s = sandbox_->start(o);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->redirect_url,
            "https://paidoc.example/sandbox/pay?out_trade_no=P20260101000001&amount_fen=990"
            "&subject=%E8%AE%BA%E8%AF%AD%20%26%20%E5%AD%9F%E5%AD%90");
}

TEST_F(SandboxTest, ValidNotificationVerifies) {
  RawNotification raw = sandbox_notification(config(), "P20260101000001", Fen(990), "SB-1");
  // Independently: the header is the hex HMAC of the exact body.
  EXPECT_EQ(raw.headers["x-sandbox-signature"], gw::hmac_sha256_hex(kSecret, raw.body));
  auto body = json::parse(raw.body);
  EXPECT_EQ(body["status"], "paid");
  EXPECT_EQ(body["amount_fen"], 990);

  auto n = sandbox_->verify(raw);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(n->provider, "sandbox");
  EXPECT_EQ(n->out_trade_no, "P20260101000001");
  EXPECT_EQ(n->transaction_id, "SB-1");
  EXPECT_EQ(n->amount, Fen(990));
  EXPECT_TRUE(n->paid);
}

TEST_F(SandboxTest, BadHmacIsForbidden) {
  SandboxConfig other = config();
  other.secret = "another secret";
  EXPECT_EQ(sandbox_->verify(sandbox_notification(other, "P1", Fen(990), "SB-1")).status().code(),
            Code::kForbidden);

  RawNotification tampered = sandbox_notification(config(), "P1", Fen(990), "SB-1");
  size_t at = tampered.body.find("990");
  ASSERT_NE(at, std::string::npos);
  tampered.body.replace(at, 3, "001");
  EXPECT_EQ(sandbox_->verify(tampered).status().code(), Code::kForbidden);

  RawNotification upper = sandbox_notification(config(), "P1", Fen(990), "SB-1");
  for (char& c : upper.headers["x-sandbox-signature"]) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(sandbox_->verify(upper).status().code(), Code::kForbidden);

  RawNotification unsigned_ = sandbox_notification(config(), "P1", Fen(990), "SB-1");
  unsigned_.headers.clear();
  EXPECT_EQ(sandbox_->verify(unsigned_).status().code(), Code::kForbidden);
}

TEST_F(SandboxTest, StaleIsRejected) {
  RawNotification raw = sandbox_notification(config(), "P1", Fen(990), "SB-1");
  FakeClock later(clock_.now() + 301);
  auto n = make_sandbox(config(), later)->verify(raw);
  EXPECT_EQ(n.status().code(), Code::kInvalidArgument);
  EXPECT_NE(n.status().message().find("stale"), std::string::npos);

  FakeClock earlier(clock_.now() - 301);
  EXPECT_EQ(make_sandbox(config(), earlier)->verify(raw).status().code(), Code::kInvalidArgument);
}

TEST_F(SandboxTest, DisabledWithoutSecret) {
  SandboxConfig off = {"", "https://paidoc.example"};
  auto sandbox = make_sandbox(off, clock_);
  PaymentOrder o;
  o.out_trade_no = "P1";
  o.amount = Fen(990);
  EXPECT_EQ(sandbox->start(o).status().code(), Code::kForbidden);
  // Whatever it is signed with, including the empty key it would use.
  EXPECT_EQ(sandbox->verify(sandbox_notification(off, "P1", Fen(990), "SB-1")).status().code(),
            Code::kForbidden);
  RawNotification raw = sandbox_notification(config(), "P1", Fen(990), "SB-1");
  raw.headers["x-sandbox-signature"] = gw::hmac_sha256_hex("", raw.body);
  EXPECT_EQ(sandbox->verify(raw).status().code(), Code::kForbidden);
}

TEST_F(SandboxTest, MalformedIsInvalidArgument) {
  std::string now = std::to_string(clock_.now());
  EXPECT_EQ(sandbox_->verify(signed_body("not json")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(sandbox_
                ->verify(signed_body(R"({"out_trade_no":"P1","transaction_id":"T",)"
                                     R"("status":"paid","amount_fen":"990","timestamp":)" +
                                     now + "}"))
                .status()
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(sandbox_
                ->verify(signed_body(R"({"out_trade_no":"P1","status":"paid",)"
                                     R"("amount_fen":990,"timestamp":)" +
                                     now + "}"))
                .status()
                .code(),
            Code::kInvalidArgument);
  auto unpaid =
      sandbox_->verify(signed_body(R"({"out_trade_no":"P1","transaction_id":"T",)"
                                   R"("status":"cancelled","amount_fen":990,"timestamp":)" +
                                   now + "}"));
  ASSERT_TRUE(unpaid.ok());
  EXPECT_FALSE(unpaid->paid);
}

TEST_F(SandboxTest, Answers) {
  EXPECT_EQ(sandbox_->name(), "sandbox");
  EXPECT_EQ(sandbox_->success_body(), "success");
}

}  // namespace
}  // namespace paidoc::commerce
