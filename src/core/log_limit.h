#pragma once
// A limit on repeated log lines: during an outage every request fails the same way, and a line
// per request would bury the one that says what happened. One message per interval gets through;
// the next one to get through says how many were held back.
#include <chrono>
#include <cstdint>
#include <mutex>

namespace payoutd {

class LogLimit {
 public:
  explicit LogLimit(std::chrono::milliseconds interval = std::chrono::seconds(1))
      : interval_(interval) {}

  // Thread-safe. -1: hold this message back; otherwise log it, with the count held back since
  // the last one that got through.
  std::int64_t admit() {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (now < next_) {
      ++held_back_;
      return -1;
    }
    next_ = now + interval_;
    const std::int64_t held = held_back_;
    held_back_ = 0;
    return held;
  }

 private:
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point next_{};
  std::int64_t held_back_ = 0;
};

}  // namespace payoutd
