// The closed sets of the store's vocabulary: order kinds, order statuses,
// refund states and stored user roles. Services and the store use these enums; the strings
// exist only at the edges (database columns, JSON and HTML, CLI output), and
// every enum has exactly one pair of conversions, here.
//
// The strings are a promise twice over: they are the values the database
// columns hold (its CHECK constraints name them) and the values the JSON API
// shows. Never change one; add a value instead.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

namespace paidoc::store {

// What an order pays for.
enum class OrderKind {
  kDocument,  // "document": one document, for good
  kPlan,      // "plan": a VIP plan (days of reading everything)
  kTopUp,     // "topup": money into the buyer's wallet
};

// Where an order is in its life: created -> paid -> refunded, or
// created -> expired.
enum class OrderStatus {
  kCreated,   // "created": waiting for its payment
  kPaid,      // "paid"
  kRefunded,  // "refunded": paid, then refunded (what it gave is revoked)
  kExpired,   // "expired": never paid in time
  kCredited,  // "credited": paid at a gateway although the reader already owned
              // the document; the money went to the wallet instead
};

// Where a refund through a payment provider is (a tracked refund).
enum class RefundState {
  kPending,    // "pending": asked for (or about to be), not confirmed by the gateway
  kSucceeded,  // "succeeded": the money went back through the gateway
  kFailed,     // "failed": the gateway refused or closed it; the money is still owed
};

// A stored account's role. kDeleted is the store's own: an anonymised
// (deleted) account reads as kDeleted, and no caller may give it.
enum class Role {
  kReader,   // "reader"
  kEditor,   // "editor"
  kAdmin,    // "admin"
  kDeleted,  // "deleted"
};

// The string of each value; "" for a value outside the enum (a cast).
std::string_view to_string(OrderKind k);
std::string_view to_string(OrderStatus s);
std::string_view to_string(Role r);
std::string_view to_string(RefundState s);

// The value a string names (exact, case-sensitive); nullopt for anything
// else.
std::optional<OrderKind> parse_order_kind(std::string_view s);
std::optional<OrderStatus> parse_order_status(std::string_view s);
std::optional<Role> parse_role(std::string_view s);
std::optional<RefundState> parse_refund_state(std::string_view s);

}  // namespace paidoc::store
