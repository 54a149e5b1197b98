// The commerce half of the SQLite backend: orders, the wallet ledger,
// payment notifications, VIP periods, tracked refunds and payment starts. Each function is the body
// of one Store method and runs on a connection the caller holds; SqliteStore runs writers on the
// group-commit writer (writer.h: inside a write transaction, in a savepoint of their own, possibly
// twice) and multi-statement readers in one read transaction. Internal to store/postgres/.
//
// Thread-safety: as Connection: one thread at a time per connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/commerce.h"
#include "store/postgres/connection.h"

namespace paidoc::store::postgres {

// REQUIRES (writers): inside a write transaction on c.
Result<Order> create_order_in(Connection& c, const NewOrder& o);
Result<Order> open_order_in(Connection& c, const NewOrder& o, int64_t reuse_until);
Result<Order> buy_from_wallet_in(Connection& c, const NewOrder& o, int64_t now);
Result<Order> pay_order_from_wallet_in(Connection& c, int64_t order_id, int64_t user_id,
                                       int64_t now);
Result<AppliedPayment> apply_payment_in(Connection& c, const PaymentNotice& n);
Result<int64_t> expire_orders_in(Connection& c, int64_t now);
Result<Order> refund_order_in(Connection& c, int64_t order_id, bool to_wallet,
                              const std::string& note, const std::string& actor, int64_t now);
Result<StartedRefund> refund_to_provider_in(Connection& c, const ProviderRefundStart& r);
Result<AppliedRefund> apply_refund_in(Connection& c, const RefundNotice& n);
Status touch_refund_in(Connection& c, int64_t refund_id, const std::string& message, int64_t now);
Status record_payment_start_in(Connection& c, int64_t order_id, const std::string& provider,
                               int64_t now);
Status close_payment_start_in(Connection& c, int64_t order_id, const std::string& provider,
                              int64_t now);
Result<Fen> credit_wallet_in(Connection& c, int64_t user_id, Fen amount, const std::string& note,
                             const std::string& actor, int64_t now);

// Readers. Single-statement ones need no transaction; user_entitlements_in
// and ledger_audit_in REQUIRE a read transaction for one snapshot.
Result<Order> get_order_in(Connection& c, int64_t order_id);
Result<Order> find_order_in(Connection& c, const std::string& out_trade_no);
Result<std::vector<Order>> user_orders_in(Connection& c, int64_t user_id, int64_t limit);
Result<std::vector<Order>> orders_between_in(Connection& c, int64_t from, int64_t to);
// REQUIRES: inside a read transaction on c (the page and its total in one
// snapshot).
Result<OrderPage> list_orders_in(Connection& c, const OrderQuery& q);
Result<Fen> wallet_balance_in(Connection& c, int64_t user_id);
Result<UserEntitlements> user_entitlements_in(Connection& c, int64_t user_id);
Result<LedgerAudit> ledger_audit_in(Connection& c);
Result<std::vector<Refund>> order_refunds_in(Connection& c, int64_t order_id);
Result<std::vector<Refund>> pending_refunds_in(Connection& c, int64_t limit);
Result<std::vector<PaymentStartRow>> open_payment_starts_in(Connection& c, int64_t expires_before,
                                                            int64_t limit);

}  // namespace paidoc::store::postgres
