// PaymentProvider's defaults for providers without a gateway API.
#include "commerce/provider.h"

namespace paidoc::commerce {

const char* refund_state_name(RefundState s) {
  switch (s) {
    case RefundState::kPending:
      return "pending";
    case RefundState::kSucceeded:
      return "succeeded";
    case RefundState::kFailed:
      return "failed";
  }
  return "pending";
}

Result<TradeReport> PaymentProvider::query(const std::string&) {
  return Status::invalid(name() + " cannot query trades");
}

Status PaymentProvider::close(const std::string&) {
  return Status::invalid(name() + " cannot close trades");
}

Result<RefundReport> PaymentProvider::refund(const RefundRequest&) {
  return Status::invalid(name() + " cannot refund");
}

Result<RefundReport> PaymentProvider::query_refund(const std::string&, const std::string&) {
  return Status::invalid(name() + " cannot query refunds");
}

Result<std::string> PaymentProvider::oauth_url(const std::string&, const std::string&) const {
  return Status::invalid(name() + " has no OAuth step");
}

Result<std::string> PaymentProvider::openid(const std::string&) {
  return Status::invalid(name() + " has no OAuth step");
}

}  // namespace paidoc::commerce
