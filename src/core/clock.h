#pragma once
// Time source of the engine. Production uses the system clock; tests inject a manual one so that
// nothing depends on real sleeps.
#include <chrono>
#include <cstdint>

namespace payoutd {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (wall clock; used for timestamps shown to partners).
  virtual std::int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace payoutd
