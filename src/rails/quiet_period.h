#pragma once
// When a network's "no such credit" is conclusive (docs/rails.md, "kNotFound is conclusive only
// after a quiet period"): a status query can overtake a credit still on its way to the network,
// so a connector reads "not found" as "never received" only when `quiet_ms` have passed since
// its last send of that reference ended, and since the connector started (an earlier process may
// have sent it just before it stopped).
//
// Thread-safe. It remembers at most kSendTimesMax references; when full, those whose quiet period
// has passed are forgotten (forgetting them changes no answer).
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace payoutd::rails {

class QuietPeriod {
 public:
  static constexpr std::size_t kSendTimesMax = 100000;

  // Starts now: nothing is conclusive before `quiet_ms` have passed.
  QuietPeriod(std::int64_t quiet_ms, const Clock& clock);

  // A send of `reference` that may have reached the network ended now.
  void sent(const std::string& reference);

  // Whether "not found" for `reference` means the network never received it.
  bool passed(const std::string& reference) const;

 private:
  const std::int64_t quiet_ms_;
  const Clock& clock_;
  const std::int64_t started_ms_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t> last_send_ms_;  // reference -> its send's end
};

}  // namespace payoutd::rails
