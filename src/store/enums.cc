// String conversions of the store's enums (enums.h): the one place that
// spells them.

#include "store/enums.h"

namespace paidoc::store {

namespace {

// Every value of an enum, in order, for parsing by comparing names.
constexpr OrderKind kKinds[] = {OrderKind::kDocument, OrderKind::kPlan, OrderKind::kTopUp};
constexpr OrderStatus kStatuses[] = {OrderStatus::kCreated, OrderStatus::kPaid,
                                     OrderStatus::kRefunded, OrderStatus::kExpired,
                                     OrderStatus::kCredited};
constexpr RefundState kRefundStates[] = {RefundState::kPending, RefundState::kSucceeded,
                                         RefundState::kFailed};
constexpr Role kRoles[] = {Role::kReader, Role::kEditor, Role::kAdmin, Role::kDeleted};

template <typename E, size_t N>
std::optional<E> parse(const E (&values)[N], std::string_view s) {
  if (s.empty()) return std::nullopt;
  for (E v : values) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(OrderKind k) {
  switch (k) {
    case OrderKind::kDocument:
      return "document";
    case OrderKind::kPlan:
      return "plan";
    case OrderKind::kTopUp:
      return "topup";
  }
  return "";
}

std::string_view to_string(OrderStatus s) {
  switch (s) {
    case OrderStatus::kCreated:
      return "created";
    case OrderStatus::kPaid:
      return "paid";
    case OrderStatus::kRefunded:
      return "refunded";
    case OrderStatus::kExpired:
      return "expired";
    case OrderStatus::kCredited:
      return "credited";
  }
  return "";
}

std::string_view to_string(Role r) {
  switch (r) {
    case Role::kReader:
      return "reader";
    case Role::kEditor:
      return "editor";
    case Role::kAdmin:
      return "admin";
    case Role::kDeleted:
      return "deleted";
  }
  return "";
}

std::string_view to_string(RefundState s) {
  switch (s) {
    case RefundState::kPending:
      return "pending";
    case RefundState::kSucceeded:
      return "succeeded";
    case RefundState::kFailed:
      return "failed";
  }
  return "";
}

std::optional<OrderKind> parse_order_kind(std::string_view s) { return parse(kKinds, s); }
std::optional<OrderStatus> parse_order_status(std::string_view s) { return parse(kStatuses, s); }
std::optional<Role> parse_role(std::string_view s) { return parse(kRoles, s); }
std::optional<RefundState> parse_refund_state(std::string_view s) {
  return parse(kRefundStates, s);
}

}  // namespace paidoc::store
