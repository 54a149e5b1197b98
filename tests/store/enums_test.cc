// The store's enums and their strings (store/enums.h): every value survives
// a round trip, the strings are exactly the database's and the JSON API's,
// and nothing else parses.

#include "store/enums.h"

#include <gtest/gtest.h>

#include <string>

namespace paidoc::store {
namespace {

TEST(StoreEnumsTest, OrderKindsRoundTripAsTheirColumnValues) {
  const std::pair<OrderKind, const char*> all[] = {
      {OrderKind::kDocument, "document"}, {OrderKind::kPlan, "plan"}, {OrderKind::kTopUp, "topup"}};
  for (const auto& [kind, name] : all) {
    EXPECT_EQ(to_string(kind), name);
    EXPECT_EQ(parse_order_kind(name), kind) << name;
  }
}

TEST(StoreEnumsTest, OrderStatusesRoundTripAsTheirColumnValues) {
  const std::pair<OrderStatus, const char*> all[] = {{OrderStatus::kCreated, "created"},
                                                     {OrderStatus::kPaid, "paid"},
                                                     {OrderStatus::kRefunded, "refunded"},
                                                     {OrderStatus::kExpired, "expired"}};
  for (const auto& [status, name] : all) {
    EXPECT_EQ(to_string(status), name);
    EXPECT_EQ(parse_order_status(name), status) << name;
  }
}

TEST(StoreEnumsTest, RolesRoundTripAsTheirColumnValues) {
  const std::pair<Role, const char*> all[] = {{Role::kReader, "reader"},
                                              {Role::kEditor, "editor"},
                                              {Role::kAdmin, "admin"},
                                              {Role::kDeleted, "deleted"}};
  for (const auto& [role, name] : all) {
    EXPECT_EQ(to_string(role), name);
    EXPECT_EQ(parse_role(name), role) << name;
  }
}

TEST(StoreEnumsTest, OnlyExactNamesParse) {
  for (const char* s : {"", "Document", "document ", "gift", "top-up", "paid"}) {
    EXPECT_FALSE(parse_order_kind(s).has_value()) << "'" << s << "'";
  }
  for (const char* s : {"", "Paid", "pending", "cancelled", "document"}) {
    EXPECT_FALSE(parse_order_status(s).has_value()) << "'" << s << "'";
  }
  for (const char* s : {"", "Admin", "superuser", "reader ", "anonymous", "system"}) {
    EXPECT_FALSE(parse_role(s).has_value()) << "'" << s << "'";
  }
}

TEST(StoreEnumsTest, ValuesOutsideTheEnumHaveNoName) {
  EXPECT_EQ(to_string(static_cast<OrderKind>(42)), "");
  EXPECT_EQ(to_string(static_cast<OrderStatus>(42)), "");
  EXPECT_EQ(to_string(static_cast<Role>(42)), "");
}

}  // namespace
}  // namespace paidoc::store
