// Reconciliation: a statement downloaded from a payment gateway compared with
// the orders we hold. Pure: parsing and comparing, no store, no network (the
// caller looks the orders up and hands them in).
//
// Statements read:
//  - Alipay 交易账单 / 业务明细 (the CSV from the merchant console or from
//    alipay.data.dataservice.bill.downloadurl.query, bill_type "trade"):
//    '#' lines are comments and totals ("#起始日期：[…] 终止日期：[…]"
//    gives the statement's period); the header row names the columns, of
//    which 支付宝交易号, 商户订单号, 业务类型 (交易 / 退款), 完成时间,
//    订单金额（元）, 商家实收（元） and 退款批次号/请求号 are used. Values may
//    carry tabs and spaces around them.
//  - WeChat Pay 交易账单 (tradebill, bill_type ALL): a header row
//    (交易时间,公众账号ID,商户号,…,微信订单号,商户订单号,…,交易状态,…,
//    微信退款单号,商户退款单号,退款金额,…,退款状态,…,订单金额,…), rows whose
//    every field starts with '`', then a summary (总交易单数,…) that is
//    skipped. 交易状态 SUCCESS is a payment, REFUND a refund row.
// Both are accepted in UTF-8 (with or without a BOM) or GBK/GB18030, as
// downloaded; times are Beijing time (UTC+8) and become unix seconds.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/money.h"
#include "common/status.h"

namespace paidoc::commerce::reconcile {

// One row of a statement that moved money.
struct Entry {
  enum class Kind { kPayment, kRefund };
  Kind kind = Kind::kPayment;
  std::string out_trade_no;     // 商户订单号
  std::string transaction_id;   // 支付宝交易号 / 微信订单号
  std::string out_refund_no;    // refunds: 退款批次号/请求号 / 商户退款单号
  std::string refund_id;        // refunds, WeChat: 微信退款单号
  Fen amount;                   // payment: the trade's total; refund: this refund (> 0)
  bool refund_pending = false;  // WeChat 退款状态 PROCESSING: not yet back to the buyer
  int64_t time = 0;             // unix seconds (completion time of the payment / refund)
  int line = 0;                 // 1-based line in the file
};

struct Statement {
  std::string provider;  // "alipay" | "wechat"
  std::vector<Entry> entries;
  // The period it covers, [from, to) in unix seconds: from the header
  // (Alipay) or else the Beijing days spanned by its rows. 0/0 when it has
  // neither (an empty WeChat statement): then nothing is said about orders
  // absent from it.
  int64_t from = 0;
  int64_t to = 0;
};

// Parses a statement. kInvalidArgument naming "FILE:LINE: column NAME: what"
// for a malformed file (no header row, a missing column, a bad amount or
// time, an unknown 业务类型 / 交易状态, a row with the wrong field count).
// `file` is only used in messages.
Result<Statement> parse_alipay(std::string_view bytes, const std::string& file);
Result<Statement> parse_wechat(std::string_view bytes, const std::string& file);
// "alipay" | "wechat"; kInvalidArgument for any other provider.
Result<Statement> parse_statement(const std::string& provider, std::string_view bytes,
                                  const std::string& file);

// What we hold for one order, as the caller read it.
struct LocalRefund {
  std::string out_refund_no;
  std::string refund_id;
  Fen amount;
  bool succeeded = false;  // confirmed by the gateway; else pending or failed
  int64_t time = 0;        // when it was confirmed (unix seconds)
};
struct LocalOrder {
  std::string out_trade_no;
  Fen amount;
  std::string status;     // store::to_string(OrderStatus): "created", "paid", …
  std::string paid_with;  // "wallet", "alipay", … ; "" when never paid
  int64_t paid_at = 0;
  Fen credited;           // provider money for it that went to the wallet
  std::vector<LocalRefund> refunds;  // tracked refunds through its provider
};

// One difference, for one order.
struct Difference {
  enum class Kind {
    kPaidThereNotHere,    // the gateway took the money; we did not book it
    kUnknownOrder,        // the gateway has a trade we have no order for
    kPaidHereNotThere,    // booked as paid by this provider within the period; not in the statement
    kAmount,              // the trade's total differs from the order's
    kRefundedThereNotHere,  // a refund at the gateway we hold no confirmed refund for
    kRefundedHereNotThere,  // a refund confirmed here within the period the statement lacks
    kRefundAmount,          // one refund, two amounts
  };
  Kind kind = Kind::kPaidThereNotHere;
  std::string out_trade_no;
  std::string what;  // one line: what differs, both values in yuan
  int line = 0;      // statement line, 0 when it is about a local order
};

const char* difference_name(Difference::Kind k);  // "paid-there-not-here", …

struct Report {
  int64_t payments = 0;  // payment rows in the statement
  int64_t refunds = 0;   // refund rows in the statement
  int64_t matched = 0;   // statement orders that agree with ours in every respect
  std::vector<Difference> differences;  // by out_trade_no, then kind
};

// Orders paid here this close after the statement's start are not reported
// as absent from it: the gateway may have completed them just before, in the
// previous statement.
constexpr int64_t kStartGrace = 10 * 60;

// Compares.
//  - `local`: the local order of each out_trade_no of the statement that we
//    know (a number missing from it is an order we never made);
//  - `nearby`: local orders that may have moved money with this provider in
//    the statement's period (the caller's choice: those created up to a month
//    before it). Those paid with statement.provider in [from + kStartGrace,
//    to), or with a refund confirmed in that window, and absent from the
//    statement are reported. Ignored when the statement has no period.
// Refunds are matched by our refund number or the gateway's refund id;
// pending refund rows (WeChat PROCESSING) are not compared.
Report compare(const Statement& statement, const std::map<std::string, LocalOrder>& local,
               const std::vector<LocalOrder>& nearby);

}  // namespace paidoc::commerce::reconcile
