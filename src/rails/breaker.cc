#include "rails/breaker.h"

namespace payoutd::rails {

Breaker::Breaker(BreakerOptions options, const Clock& clock) : options_(options), clock_(clock) {}

bool Breaker::allow() {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kHalfOpen:
      return false;  // the probe is out
    case State::kOpen:
      if (clock_.now_ms() < open_until_ms_) return false;
      state_ = State::kHalfOpen;
      return true;
  }
  return false;
}

void Breaker::record(bool answered) {
  std::lock_guard lock(mutex_);
  if (answered) {
    state_ = State::kClosed;
    failures_in_row_ = 0;
    return;
  }
  ++failures_in_row_;
  const bool trips = state_ == State::kHalfOpen ||
                     (options_.failures > 0 && failures_in_row_ >= options_.failures);
  // A failure recorded while open comes from a call let through before it opened: it changes
  // nothing more.
  if (state_ == State::kOpen || !trips) return;
  state_ = State::kOpen;
  open_until_ms_ = clock_.now_ms() + options_.open_ms;
  ++opened_count_;
}

Breaker::State Breaker::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

std::int64_t Breaker::opened_count() const {
  std::lock_guard lock(mutex_);
  return opened_count_;
}

const char* to_string(Breaker::State state) {
  switch (state) {
    case Breaker::State::kClosed:
      return "closed";
    case Breaker::State::kOpen:
      return "open";
    case Breaker::State::kHalfOpen:
      return "half-open";
  }
  return "closed";
}

}  // namespace payoutd::rails
