// An in-process payment provider for the commerce service's tests: what its
// gateway answers to query, close, refund and query_refund is scripted by
// the test, and every call is recorded. Notifications use a trivial format
// (no signatures: the real gateways' verification is tested elsewhere):
//   "pay|out_trade_no|amount_fen|transaction_id"
//   "refund|out_trade_no|transaction_id|amount_fen|refund_id|out_refund_no|
//    refund_amount_fen|refunded_total_fen|pending|succeeded|failed"
// Header-only, for tests/commerce.
//
// Thread-safety: every member is guarded by one mutex; safe from many threads.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "commerce/provider.h"

namespace paidoc::commerce::testing {

class FakeProvider : public PaymentProvider {
 public:
  explicit FakeProvider(std::string name) : name_(std::move(name)) {}

  // --- notifications, as the gateway would post them -------------------------
  static RawNotification payment(const std::string& out_trade_no, int64_t fen,
                                 const std::string& txn) {
    return {{}, "pay|" + out_trade_no + "|" + std::to_string(fen) + "|" + txn};
  }
  static RawNotification refund_notice(const std::string& out_trade_no, const std::string& txn,
                                       int64_t trade_fen, const std::string& refund_id,
                                       const std::string& out_refund_no, int64_t refund_fen,
                                       int64_t refunded_total_fen, RefundState state) {
    return {{},
            "refund|" + out_trade_no + "|" + txn + "|" + std::to_string(trade_fen) + "|" +
                refund_id + "|" + out_refund_no + "|" + std::to_string(refund_fen) + "|" +
                std::to_string(refunded_total_fen) + "|" + refund_state_name(state)};
  }

  // --- the script -------------------------------------------------------------
  // What query(out_trade_no) answers; unset: {exists = false}.
  void set_trade(const std::string& out_trade_no, Result<TradeReport> r) {
    std::lock_guard<std::mutex> lock(mu_);
    trades_.insert_or_assign(out_trade_no, std::move(r));
  }
  // What close() answers; unset: OK.
  void set_close(const std::string& out_trade_no, Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    closes_.insert_or_assign(out_trade_no, std::move(s));
  }
  // What refund() answers; unset: pending with refund id "RID-<out_refund_no>".
  void set_refund_answer(std::function<Result<RefundReport>(const RefundRequest&)> f) {
    std::lock_guard<std::mutex> lock(mu_);
    refund_answer_ = std::move(f);
  }
  // What query_refund() answers; unset: kNotFound (the gateway never got it).
  void set_refund_query(std::function<Result<RefundReport>(const std::string&)> f) {
    std::lock_guard<std::mutex> lock(mu_);
    refund_query_ = std::move(f);
  }

  // --- what was asked ---------------------------------------------------------
  std::vector<std::string> queried() const { return copy(queried_); }
  std::vector<std::string> closed() const { return copy(closed_); }
  std::vector<RefundRequest> refunds_asked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return refunds_asked_;
  }
  std::vector<std::string> refunds_queried() const { return copy(refunds_queried_); }
  std::vector<PaymentOrder> started() const {
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }

  // --- PaymentProvider ----------------------------------------------------------
  std::string name() const override { return name_; }

  Result<PaymentStart> start(const PaymentOrder& order) override {
    std::lock_guard<std::mutex> lock(mu_);
    started_.push_back(order);
    PaymentStart s;
    s.code_url = "weixin://fake/" + order.out_trade_no;
    return s;
  }

  Result<Notification> verify(const RawNotification& n) const override {
    std::vector<std::string> parts = split(n.body);
    Notification out;
    out.provider = name_;
    if (parts.size() == 4 && parts[0] == "pay") {
      out.kind = NotificationKind::kPayment;
      out.out_trade_no = parts[1];
      out.amount = Fen(std::stoll(parts[2]));
      out.transaction_id = parts[3];
      out.paid = true;
      return out;
    }
    if (parts.size() == 9 && parts[0] == "refund") {
      out.kind = NotificationKind::kRefund;
      out.out_trade_no = parts[1];
      out.transaction_id = parts[2];
      out.amount = Fen(std::stoll(parts[3]));
      out.refund.refund_id = parts[4];
      out.refund.out_refund_no = parts[5];
      out.refund.amount = Fen(std::stoll(parts[6]));
      out.refund.refunded_total = Fen(std::stoll(parts[7]));
      if (parts[8] == "succeeded") {
        out.refund.state = RefundState::kSucceeded;
      } else if (parts[8] == "failed") {
        out.refund.state = RefundState::kFailed;
      } else {
        out.refund.state = RefundState::kPending;
      }
      return out;
    }
    return Status::invalid("fake notification: malformed body");
  }

  std::string success_body() const override { return "OK"; }
  std::string failure_body() const override { return "FAIL"; }
  bool can_refund() const override { return true; }

  Result<TradeReport> query(const std::string& out_trade_no) override {
    std::lock_guard<std::mutex> lock(mu_);
    queried_.push_back(out_trade_no);
    auto it = trades_.find(out_trade_no);
    if (it == trades_.end()) return TradeReport{};
    return it->second;
  }

  Status close(const std::string& out_trade_no) override {
    std::lock_guard<std::mutex> lock(mu_);
    closed_.push_back(out_trade_no);
    auto it = closes_.find(out_trade_no);
    return it == closes_.end() ? Status() : it->second;
  }

  Result<RefundReport> refund(const RefundRequest& r) override {
    std::function<Result<RefundReport>(const RefundRequest&)> f;
    {
      std::lock_guard<std::mutex> lock(mu_);
      refunds_asked_.push_back(r);
      f = refund_answer_;
    }
    if (f) return f(r);
    RefundReport rep;
    rep.refund_id = "RID-" + r.out_refund_no;
    rep.out_refund_no = r.out_refund_no;
    rep.amount = r.amount;
    rep.state = RefundState::kPending;
    return rep;
  }

  Result<RefundReport> query_refund(const std::string&, const std::string& out_refund_no) override {
    std::function<Result<RefundReport>(const std::string&)> f;
    {
      std::lock_guard<std::mutex> lock(mu_);
      refunds_queried_.push_back(out_refund_no);
      f = refund_query_;
    }
    if (f) return f(out_refund_no);
    return Status::not_found("fake gateway: no refund " + out_refund_no);
  }

 private:
  static std::vector<std::string> split(const std::string& body) {
    std::vector<std::string> parts;
    size_t from = 0;
    for (;;) {
      size_t bar = body.find('|', from);
      parts.push_back(body.substr(from, bar == std::string::npos ? std::string::npos : bar - from));
      if (bar == std::string::npos) break;
      from = bar + 1;
    }
    return parts;
  }
  std::vector<std::string> copy(const std::vector<std::string>& v) const {
    std::lock_guard<std::mutex> lock(mu_);
    return v;
  }

  const std::string name_;
  mutable std::mutex mu_;
  std::map<std::string, Result<TradeReport>> trades_;
  std::map<std::string, Status> closes_;
  std::function<Result<RefundReport>(const RefundRequest&)> refund_answer_;
  std::function<Result<RefundReport>(const std::string&)> refund_query_;
  std::vector<std::string> queried_;
  std::vector<std::string> closed_;
  std::vector<RefundRequest> refunds_asked_;
  std::vector<std::string> refunds_queried_;
  std::vector<PaymentOrder> started_;
};

}  // namespace paidoc::commerce::testing
