#pragma once
// A clock the tests move by hand, so that nothing depends on real sleeps.
#include <atomic>
#include <cstdint>

#include "core/clock.h"

namespace payoutd::testing {

class ManualClock final : public Clock {
 public:
  std::int64_t now_ms() const override { return now_.load(); }
  void advance(std::int64_t ms) { now_ += ms; }

 private:
  std::atomic<std::int64_t> now_{1'700'000'000'000};
};

}  // namespace payoutd::testing
