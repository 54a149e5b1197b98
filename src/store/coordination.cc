// The lock-name rule every backend shares (coordination.h).

#include "store/coordination.h"

namespace paidoc::store {

Status check_exclusive_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_');
  }
  if (!ok) {
    return Status::invalid("try_exclusive: lock name '" + name +
                           "' must be 1 to 64 characters of a-z, 0-9, '-' and '_'");
  }
  return Status();
}

}  // namespace paidoc::store
