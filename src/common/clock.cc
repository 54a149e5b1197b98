#include "common/clock.h"

#include <chrono>

namespace paidoc {

namespace {
class SystemClock : public Clock {
 public:
  int64_t now() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};
}  // namespace

Clock& Clock::system() {
  static SystemClock* clock = new SystemClock();
  return *clock;
}

}  // namespace paidoc
