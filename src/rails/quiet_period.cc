#include "rails/quiet_period.h"

#include <algorithm>

namespace payoutd::rails {

QuietPeriod::QuietPeriod(std::int64_t quiet_ms, const Clock& clock)
    : quiet_ms_(quiet_ms), clock_(clock), started_ms_(clock.now_ms()) {}

void QuietPeriod::sent(const std::string& reference) {
  const std::int64_t now_ms = clock_.now_ms();
  std::lock_guard lock(mutex_);
  if (last_send_ms_.size() >= kSendTimesMax) {
    const std::int64_t before = now_ms - quiet_ms_;
    std::erase_if(last_send_ms_, [before](const auto& kv) { return kv.second < before; });
  }
  last_send_ms_[reference] = now_ms;
}

bool QuietPeriod::passed(const std::string& reference) const {
  std::int64_t last = started_ms_;
  {
    std::lock_guard lock(mutex_);
    if (auto it = last_send_ms_.find(reference); it != last_send_ms_.end()) {
      last = std::max(last, it->second);
    }
  }
  return clock_.now_ms() - last >= quiet_ms_;
}

}  // namespace payoutd::rails
