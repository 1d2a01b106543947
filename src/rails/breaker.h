#pragma once
// A circuit breaker in front of one card network: after `failures` calls in a row that the
// network did not answer (not sent, or no answer: timeouts, broken connections, 5xx), it opens
// for `open_ms`, during which the connector answers every call kNotSent at once instead of
// queueing behind a network that is down. Then it lets one call through (half-open): an answer
// closes it, another failure opens it again for `open_ms`.
//
// Thread-safe. Every call that allow() lets through must be followed by exactly one record().
#include <cstdint>
#include <mutex>

#include "core/clock.h"

namespace payoutd::rails {

struct BreakerOptions {
  int failures = 5;              // consecutive failures that open the circuit; 0: never opens
  std::int64_t open_ms = 30000;  // how long it stays open before a probe
};

class Breaker {
 public:
  enum class State : std::uint8_t { kClosed, kOpen, kHalfOpen };

  Breaker(BreakerOptions options, const Clock& clock);

  // Whether a call may go now. When the open period has passed, the first caller gets true (the
  // probe) and the circuit is half-open until it records; others get false meanwhile.
  bool allow();

  // The outcome of a call allow() let through: `answered` when the network answered it.
  void record(bool answered);

  State state() const;
  // How many times it has opened (for the stats).
  std::int64_t opened_count() const;

 private:
  BreakerOptions options_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  State state_ = State::kClosed;
  int failures_in_row_ = 0;
  std::int64_t open_until_ms_ = 0;
  std::int64_t opened_count_ = 0;
};

const char* to_string(Breaker::State state);

}  // namespace payoutd::rails
