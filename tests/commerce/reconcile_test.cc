// Reconciliation of gateway statements: parsing the Alipay and WeChat Pay
// trade bills as merchants download them (GBK or UTF-8, comments, summaries,
// backticks), refusing malformed ones with file:line and column, and the
// differences an operator must see.
#include "commerce/reconcile.h"

#include <gtest/gtest.h>
#include <iconv.h>

#include <string>

namespace paidoc::commerce::reconcile {
namespace {

// 2026-03-01 00:00:00 Beijing time.
constexpr int64_t kMar1 = 1772294400;

std::string gbk(const std::string& utf8) {
  iconv_t cd = iconv_open("GB18030", "UTF-8");
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string out(utf8.size() * 2, '\0');
  char* in = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size();
  char* o = out.data();
  size_t out_left = out.size();
  EXPECT_NE(iconv(cd, &in, &in_left, &o, &out_left), static_cast<size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

const char* kAlipayHeader =
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
    "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
    "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\n";

std::string alipay_row(const std::string& trade, const std::string& out, const std::string& type,
                       const std::string& time, const std::string& total, const std::string& received,
                       const std::string& refund_no = "") {
  return trade + "\t," + out + "\t," + type + ",测试文档," + time + "," + time + ",,,,,b***@example.cn," + total +
         "," + received + ",0.00,0.00,0.00,0.00,0.00,,0.00,0.00," + refund_no + ",0.00,0.00,\n";
}

std::string alipay_bill(const std::string& rows) {
  return std::string("#支付宝业务明细查询\n#账号：[20880000000000000156]\n") +
         "#起始日期：[2026年03月01日 00:00:00]   终止日期：[2026年03月02日 00:00:00]\n"
         "#-----------------------------------------业务明细列表----------------------------------------\n" +
         kAlipayHeader + rows +
         "#-----------------------------------------业务明细列表结束------------------------------------\n"
         "#交易合计：2笔，商家实收共29.80元，商家优惠共0.00元\n#退款合计：1笔，商家实收退款共-9.90元\n"
         "#导出时间：[2026年03月02日 09:12:01]\n";
}

const std::string kAlipayRows =
    alipay_row("2026030122001400001", "P2026030100000000011A2B", "交易", "2026-03-01 10:00:05", "9.90", "9.90") +
    alipay_row("2026030122001400002", "P2026030100000000021A2C", "交易", "2026-03-01 11:30:00", "19.90",
               "19.90") +
    alipay_row("2026030122001400001", "P2026030100000000011A2B", "退款", "2026-03-01 15:00:00", "9.90", "-9.90",
               "R2026030100000000011");

TEST(ReconcileParse, AlipayGbkBillAsDownloaded) {
  for (const std::string& bytes : {gbk(alipay_bill(kAlipayRows)), "\xEF\xBB\xBF" + alipay_bill(kAlipayRows)}) {
    Result<Statement> s = parse_alipay(bytes, "bill.csv");
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ(s->provider, "alipay");
    EXPECT_EQ(s->from, kMar1);
    EXPECT_EQ(s->to, kMar1 + 86400);
    ASSERT_EQ(s->entries.size(), 3u);
    const Entry& a = s->entries[0];
    EXPECT_EQ(a.kind, Entry::Kind::kPayment);
    EXPECT_EQ(a.out_trade_no, "P2026030100000000011A2B");
    EXPECT_EQ(a.transaction_id, "2026030122001400001");
    EXPECT_EQ(a.amount, Fen(990));
    EXPECT_EQ(a.time, kMar1 + 10 * 3600 + 5);
    EXPECT_EQ(a.line, 6);
    const Entry& r = s->entries[2];
    EXPECT_EQ(r.kind, Entry::Kind::kRefund);
    EXPECT_EQ(r.amount, Fen(990));
    EXPECT_EQ(r.out_refund_no, "R2026030100000000011");
    EXPECT_EQ(r.line, 8);
  }
}

TEST(ReconcileParse, AlipayMalformedNamesFileLineAndColumn) {
  Result<Statement> amount = parse_alipay(
      alipay_bill(alipay_row("1", "P1", "交易", "2026-03-01 10:00:00", "9.9.0", "9.90")), "a.csv");
  ASSERT_FALSE(amount.ok());
  EXPECT_EQ(amount.status().code(), Code::kInvalidArgument);
  EXPECT_NE(amount.status().message().find("a.csv:6: column 订单金额（元）:"), std::string::npos)
      << amount.status().message();

  Result<Statement> type =
      parse_alipay(alipay_bill(alipay_row("1", "P1", "转账", "2026-03-01 10:00:00", "9.90", "9.90")), "a.csv");
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.status().message().find("a.csv:6: column 业务类型: '转账'"), std::string::npos)
      << type.status().message();

  Result<Statement> time =
      parse_alipay(alipay_bill(alipay_row("1", "P1", "交易", "2026-02-30 10:00:00", "9.90", "9.90")), "a.csv");
  ASSERT_FALSE(time.ok());
  EXPECT_NE(time.status().message().find("a.csv:6: column 完成时间:"), std::string::npos)
      << time.status().message();

  Result<Statement> short_row = parse_alipay(alipay_bill("1,P1,交易\n"), "a.csv");
  ASSERT_FALSE(short_row.ok());
  EXPECT_NE(short_row.status().message().find("a.csv:6: 3 fields, the header row has 25"), std::string::npos)
      << short_row.status().message();

  Result<Statement> no_column = parse_alipay("#c\n支付宝交易号,商户订单号,业务类型\n", "a.csv");
  ASSERT_FALSE(no_column.ok());
  EXPECT_NE(no_column.status().message().find("a.csv:2: column 完成时间: missing from the header row"),
            std::string::npos)
      << no_column.status().message();

  Result<Statement> empty = parse_alipay("#only comments\n", "a.csv");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("a.csv: no header row"), std::string::npos);

  Result<Statement> binary = parse_alipay(std::string("\xFF\xFF\xFF\n", 4), "a.csv");
  ASSERT_FALSE(binary.ok());
  EXPECT_NE(binary.status().message().find("a.csv:1: neither UTF-8 nor GBK"), std::string::npos)
      << binary.status().message();
}

const char* kWechatHeader =
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
    "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\n";

std::string wechat_row(const std::string& time, const std::string& txn, const std::string& out,
                       const std::string& state, const std::string& total, const std::string& refund_id = "",
                       const std::string& refund_no = "", const std::string& refund = "0.00",
                       const std::string& refund_state = "") {
  std::string f[] = {time, "wx0000000000000001", "1900000001", "0", "", txn, out, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
                     "NATIVE", state, "OTHERS", "CNY", total, "0.00", refund_id, refund_no, refund, "0.00",
                     refund_id.empty() ? "" : "ORIGINAL", refund_state, "测试文档", "", "0.06", "0.60%", total,
                     refund, ""};
  std::string line;
  for (const auto& v : f) line += (line.empty() ? "`" : ",`") + v;
  return line + "\r\n";
}

std::string wechat_bill(const std::string& rows) {
  return std::string(kWechatHeader) + rows +
         "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
         "`3,`29.80,`9.90,`0.00,`0.18,`29.80,`9.90\r\n";
}

TEST(ReconcileParse, WechatTradeBillWithBackticksAndSummary) {
  std::string rows =
      wechat_row("2026-03-01 10:00:05", "4200000001202603010000000001", "P2026030100000000031A2B", "SUCCESS",
                 "9.90") +
      wechat_row("2026-03-01 16:00:00", "4200000001202603010000000001", "P2026030100000000031A2B", "REFUND",
                 "9.90", "50300000012026030100000000001", "R2026030100000000031", "9.90", "SUCCESS") +
      wechat_row("2026-03-01 17:00:00", "4200000002202603010000000002", "P2026030100000000041A2B", "REFUND",
                 "5.00", "50300000012026030100000000002", "R2026030100000000041", "5.00", "PROCESSING") +
      wechat_row("2026-03-01 18:00:00", "4200000003202603010000000003", "P2026030100000000051A2B", "REVOKED",
                 "5.00");
  for (const std::string& bytes : {wechat_bill(rows), gbk(wechat_bill(rows))}) {
    Result<Statement> s = parse_wechat(bytes, "wx.csv");
    ASSERT_TRUE(s.ok()) << s.status().message();
    ASSERT_EQ(s->entries.size(), 3u);  // the revoked trade moved no money
    EXPECT_EQ(s->entries[0].kind, Entry::Kind::kPayment);
    EXPECT_EQ(s->entries[0].transaction_id, "4200000001202603010000000001");
    EXPECT_EQ(s->entries[0].amount, Fen(990));
    EXPECT_EQ(s->entries[1].kind, Entry::Kind::kRefund);
    EXPECT_EQ(s->entries[1].refund_id, "50300000012026030100000000001");
    EXPECT_EQ(s->entries[1].out_refund_no, "R2026030100000000031");
    EXPECT_FALSE(s->entries[1].refund_pending);
    EXPECT_EQ(s->entries[1].line, 3);
    EXPECT_TRUE(s->entries[2].refund_pending);
    // No header period: the Beijing day of its rows.
    EXPECT_EQ(s->from, kMar1);
    EXPECT_EQ(s->to, kMar1 + 86400);
  }
}

TEST(ReconcileParse, WechatMalformedNamesFileLineAndColumn) {
  Result<Statement> state = parse_wechat(
      wechat_bill(wechat_row("2026-03-01 10:00:05", "42", "P1", "PAID", "9.90")), "wx.csv");
  ASSERT_FALSE(state.ok());
  EXPECT_NE(state.status().message().find("wx.csv:2: column 交易状态: 'PAID'"), std::string::npos)
      << state.status().message();

  Result<Statement> amount = parse_wechat(
      wechat_bill(wechat_row("2026-03-01 10:00:05", "42", "P1", "SUCCESS", "nine")), "wx.csv");
  ASSERT_FALSE(amount.ok());
  EXPECT_NE(amount.status().message().find("wx.csv:2: column 订单金额:"), std::string::npos)
      << amount.status().message();

  Result<Statement> time =
      parse_wechat(wechat_bill(wechat_row("yesterday", "42", "P1", "SUCCESS", "9.90")), "wx.csv");
  ASSERT_FALSE(time.ok());
  EXPECT_NE(time.status().message().find("wx.csv:2: column 交易时间: 'yesterday'"), std::string::npos)
      << time.status().message();

  Result<Statement> header = parse_wechat("交易时间,商户订单号\n`2026-03-01 10:00:00,`P1\n", "wx.csv");
  ASSERT_FALSE(header.ok());
  EXPECT_NE(header.status().message().find("wx.csv:1: column 微信订单号: missing from the header row"),
            std::string::npos)
      << header.status().message();

  Result<Statement> other = parse_statement("paypal", "", "x.csv");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("expected alipay or wechat"), std::string::npos);
}

// ---- comparing -------------------------------------------------------------------

LocalOrder paid(const std::string& no, int64_t fen, const std::string& with, int64_t at) {
  LocalOrder o;
  o.out_trade_no = no;
  o.amount = Fen(fen);
  o.status = "paid";
  o.paid_with = with;
  o.paid_at = at;
  return o;
}

Statement statement_of(std::vector<Entry> entries) {
  Statement s;
  s.provider = "alipay";
  s.entries = std::move(entries);
  s.from = kMar1;
  s.to = kMar1 + 86400;
  return s;
}

Entry payment(const std::string& no, int64_t fen, int line) {
  Entry e;
  e.kind = Entry::Kind::kPayment;
  e.out_trade_no = no;
  e.transaction_id = "T" + no;
  e.amount = Fen(fen);
  e.time = kMar1 + 3600;
  e.line = line;
  return e;
}

Entry refund(const std::string& no, const std::string& refund_no, int64_t fen, int line) {
  Entry e = payment(no, fen, line);
  e.kind = Entry::Kind::kRefund;
  e.out_refund_no = refund_no;
  return e;
}

TEST(ReconcileCompare, AgreeingStatementHasNoDifferences) {
  LocalOrder a = paid("PA", 990, "alipay", kMar1 + 3601);
  LocalOrder b = paid("PB", 1990, "alipay", kMar1 + 7200);
  b.status = "refunded";
  b.refunds.push_back({"RB", "", Fen(1990), true, kMar1 + 9000});
  Report r = compare(statement_of({payment("PA", 990, 5), payment("PB", 1990, 6), refund("PB", "RB", 1990, 7)}),
                     {{"PA", a}, {"PB", b}}, {a, b});
  EXPECT_TRUE(r.differences.empty()) << r.differences.front().what;
  EXPECT_EQ(r.payments, 2);
  EXPECT_EQ(r.refunds, 1);
  EXPECT_EQ(r.matched, 2);
}

TEST(ReconcileCompare, EachKindOfDifferenceIsReportedWithBothValues) {
  LocalOrder unpaid = paid("P1", 990, "", 0);
  unpaid.status = "expired";
  LocalOrder wrong_amount = paid("P2", 1000, "alipay", kMar1 + 3601);
  LocalOrder not_refunded = paid("P3", 500, "alipay", kMar1 + 3601);
  LocalOrder absent_there = paid("P4", 3000, "alipay", kMar1 + 5 * 3600);
  LocalOrder refunded_here = paid("P5", 800, "alipay", kMar1 - 86400);
  refunded_here.status = "refunded";
  refunded_here.refunds.push_back({"R5", "", Fen(800), true, kMar1 + 4 * 3600});
  LocalOrder refund_amount = paid("P6", 900, "alipay", kMar1 + 3601);
  refund_amount.refunds.push_back({"R6", "", Fen(400), true, kMar1 + 4 * 3600});
  // Paid with WeChat, and one paid just after the statement began: neither
  // is Alipay's to show.
  LocalOrder other_provider = paid("P7", 100, "wechat", kMar1 + 3 * 3600);
  LocalOrder at_start = paid("P8", 100, "alipay", kMar1 + 60);

  Statement st = statement_of({payment("P1", 990, 5), payment("P2", 990, 6), payment("P3", 500, 7),
                               refund("P3", "R3", 500, 8), payment("P6", 900, 9), refund("P6", "R6", 500, 10),
                               payment("P9", 100, 11)});
  std::map<std::string, LocalOrder> local = {
      {"P1", unpaid}, {"P2", wrong_amount}, {"P3", not_refunded}, {"P6", refund_amount}};
  Report r = compare(st, local, {wrong_amount, not_refunded, absent_there, refunded_here, refund_amount,
                                 other_provider, at_start});
  ASSERT_EQ(r.differences.size(), 7u);
  auto is = [&](size_t i, Difference::Kind k, const std::string& no, int line, const std::string& what) {
    EXPECT_EQ(r.differences[i].kind, k) << i;
    EXPECT_EQ(r.differences[i].out_trade_no, no) << i;
    EXPECT_EQ(r.differences[i].line, line) << i;
    EXPECT_EQ(r.differences[i].what, what) << i;
  };
  is(0, Difference::Kind::kPaidThereNotHere, "P1", 5, "paid ¥9.90 there (trade TP1), here: status expired");
  is(1, Difference::Kind::kAmount, "P2", 6, "amount there ¥9.90, here ¥10.00");
  is(2, Difference::Kind::kRefundedThereNotHere, "P3", 8, "refund R3 ¥5.00 there, here: none (order paid)");
  is(3, Difference::Kind::kPaidHereNotThere, "P4", 0, "paid ¥30.00 here with alipay, not in the statement");
  is(4, Difference::Kind::kRefundedHereNotThere, "P5", 0, "refund R5 ¥8.00 confirmed here, not in the statement");
  is(5, Difference::Kind::kRefundAmount, "P6", 10, "refund R6: ¥5.00 there, ¥4.00 here");
  is(6, Difference::Kind::kUnknownOrder, "P9", 11, "paid ¥1.00 there (trade TP9), no such order here");
  EXPECT_EQ(r.matched, 0);
  EXPECT_STREQ(difference_name(Difference::Kind::kRefundedHereNotThere), "refunded-here-not-there");
}

TEST(ReconcileCompare, MoneyCreditedToTheWalletCountsAsReceived) {
  // A second payment for a document already owned went to the wallet.
  LocalOrder credited = paid("PC", 990, "alipay", kMar1 + 3601);
  credited.status = "credited";
  // A payment after expiry: the order stays expired, its money in the wallet.
  LocalOrder late = paid("PL", 990, "", 0);
  late.status = "expired";
  late.credited = Fen(990);
  LocalOrder wallet = paid("PW", 990, "wallet", kMar1 + 3601);
  Report r = compare(statement_of({payment("PC", 990, 5), payment("PL", 990, 6), payment("PW", 990, 7)}),
                     {{"PC", credited}, {"PL", late}, {"PW", wallet}}, {credited, late, wallet});
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_EQ(r.differences[0].out_trade_no, "PW");
  EXPECT_EQ(r.differences[0].what, "paid ¥9.90 there (trade TPW), here: status paid, paid with wallet");
  EXPECT_EQ(r.matched, 2);
}

TEST(ReconcileCompare, PendingRefundsThereAndUnconfirmedOnesHere) {
  LocalOrder o = paid("PP", 990, "wechat", kMar1 + 3601);
  o.refunds.push_back({"RP", "5030001", Fen(990), false, 0});
  Entry pending = refund("PP", "RP", 990, 4);
  pending.refund_pending = true;
  Statement st = statement_of({payment("PP", 990, 3), pending});
  st.provider = "wechat";
  Report r = compare(st, {{"PP", o}}, {o});
  EXPECT_TRUE(r.differences.empty());

  // The gateway says done, we still wait: reported, matched by refund id.
  Entry done = refund("PP", "", 990, 4);
  done.refund_id = "5030001";
  st.entries[1] = done;
  Report r2 = compare(st, {{"PP", o}}, {o});
  ASSERT_EQ(r2.differences.size(), 1u);
  EXPECT_EQ(r2.differences[0].what, "refund 5030001 ¥9.90 there, here: not confirmed (order paid)");
}

}  // namespace
}  // namespace paidoc::commerce::reconcile
