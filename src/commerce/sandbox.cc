// The sandbox: a local stand-in for a payment provider, so the whole payment
// path (order, notification, verify, apply once) runs without a gateway.
//
// start() sends the buyer to {base_url}/sandbox/pay with the order in the
// query. When the buyer presses 支付 there, the page builds the notification
// with sandbox_notification() and hands it to the same verify() path a real
// provider's notification takes:
//   body:    {"amount_fen":990,"out_trade_no":"…","status":"paid",
//             "timestamp":<unix seconds>,"transaction_id":"…"}
//   header:  x-sandbox-signature: lower-case hex HMAC-SHA256(secret, body)
// verify() checks the HMAC over the raw body in constant time and that the
// timestamp is within kMaxSkew of the clock. An empty secret disables the
// sandbox: every start and notification is refused. A refund to the
// original method succeeds at once.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "commerce/crypto.h"
#include "commerce/provider.h"

namespace paidoc::commerce {

namespace {

using nlohmann::json;

constexpr int64_t kMaxSkew = 300;  // seconds
constexpr char kSignatureHeader[] = "x-sandbox-signature";

std::string sign(const std::string& secret, const std::string& body) {
  return crypto::hex_encode(crypto::hmac_sha256(secret, body));
}

class Sandbox : public PaymentProvider {
 public:
  Sandbox(SandboxConfig c, const Clock& clock) : config_(std::move(c)), clock_(clock) {
    while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
  }

  std::string name() const override { return "sandbox"; }

  Result<PaymentStart> start(const PaymentOrder& order) override {
    if (config_.secret.empty()) return Status::forbidden("sandbox: disabled (no secret)");
    if (order.out_trade_no.empty()) return Status::invalid("sandbox: out_trade_no is empty");
    if (order.amount <= Fen(0)) return Status::invalid("sandbox: amount must be positive");
    PaymentStart s;
    s.redirect_url = config_.base_url +
                     "/sandbox/pay?out_trade_no=" + crypto::url_encode(order.out_trade_no) +
                     "&amount_fen=" + std::to_string(order.amount.value()) +
                     "&subject=" + crypto::url_encode(order.subject);
    return s;
  }

  Result<Notification> verify(const RawNotification& n) const override {
    if (config_.secret.empty()) return Status::forbidden("sandbox: disabled (no secret)");
    auto it = n.headers.find(kSignatureHeader);
    if (it == n.headers.end()) return Status::forbidden("sandbox: notification is not signed");
    if (!crypto::constant_time_equal(it->second, sign(config_.secret, n.body)))
      return Status::forbidden("sandbox: signature does not verify");

    json j = json::parse(n.body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return Status::invalid("sandbox: body is not a JSON object");
    auto str = [&](const char* k) {
      auto f = j.find(k);
      return f != j.end() && f->is_string() ? f->get<std::string>() : std::string();
    };
    auto ts = j.find("timestamp");
    auto amount = j.find("amount_fen");
    if (ts == j.end() || !ts->is_number_integer() || amount == j.end() ||
        !amount->is_number_integer() || amount->get<int64_t>() < 0)
      return Status::invalid("sandbox: timestamp or amount_fen is not a whole number");
    int64_t skew = clock_.now() - ts->get<int64_t>();
    if (skew > kMaxSkew || -skew > kMaxSkew)
      return Status::invalid("sandbox: stale notification (timestamp outside the allowed skew)");

    Notification out;
    out.provider = "sandbox";
    out.out_trade_no = str("out_trade_no");
    out.transaction_id = str("transaction_id");
    if (out.out_trade_no.empty() || out.transaction_id.empty())
      return Status::invalid("sandbox: notification lacks out_trade_no or transaction_id");
    out.amount = Fen(amount->get<int64_t>());
    out.paid = str("status") == "paid";
    return out;
  }

  std::string success_body() const override { return "success"; }
  std::string failure_body() const override { return "failure"; }

  // The sandbox's "gateway" is this site's own pay page, which hands its
  // notification to verify() in the same request: no notification can be
  // lost, and there is nothing to close. So a query knows no trade, and a
  // close is done (a sandbox payment after expiry is late and goes to the
  // wallet, as for any provider).
  Result<TradeReport> query(const std::string&) override { return TradeReport{}; }
  Status close(const std::string&) override { return Status(); }

  // Sandbox money is not real: a refund to it succeeds at once, under a
  // refund id made from our refund number.
  bool can_refund() const override { return !config_.secret.empty(); }
  Result<RefundReport> refund(const RefundRequest& r) override {
    if (config_.secret.empty()) return Status::forbidden("sandbox: disabled (no secret)");
    if (r.out_refund_no.empty()) return Status::invalid("sandbox: out_refund_no is empty");
    if (r.amount <= Fen(0)) return Status::invalid("sandbox: refund amount must be positive");
    RefundReport rep;
    rep.refund_id = "SBXR" + r.out_refund_no;
    rep.out_refund_no = r.out_refund_no;
    rep.amount = r.amount;
    rep.state = RefundState::kSucceeded;
    return rep;
  }

 private:
  SandboxConfig config_;
  const Clock& clock_;
};

}  // namespace

std::unique_ptr<PaymentProvider> make_sandbox(SandboxConfig c, const Clock& clock) {
  return std::make_unique<Sandbox>(std::move(c), clock);
}

RawNotification sandbox_notification(const SandboxConfig& c, const std::string& out_trade_no,
                                     Fen amount, const std::string& transaction_id) {
  // The sandbox page runs in this process; its notification is stamped with
  // the real time, as a gateway's would be.
  json body = {
      {"out_trade_no", out_trade_no},       {"amount_fen", amount.value()},
      {"transaction_id", transaction_id},   {"status", "paid"},
      {"timestamp", Clock::system().now()},
  };
  RawNotification n;
  n.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  n.headers[kSignatureHeader] = c.secret.empty() ? std::string() : sign(c.secret, n.body);
  return n;
}

}  // namespace paidoc::commerce
