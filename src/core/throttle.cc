#include "core/throttle.h"

#include "core/network.h"
#include "core/secrets.h"

#include <algorithm>
#include <cmath>

namespace payoutd {

std::string address_key(std::string_view address) {
  auto parsed = IpAddress::parse(address);
  if (!parsed) return std::string(address);
  if (parsed->size == 4) return parsed->to_string();
  std::fill(parsed->bytes.begin() + 8, parsed->bytes.end(), 0);
  return parsed->to_string() + "/64";
}

RateLimit::RateLimit(int per_window, std::int64_t window_ms, int burst, std::size_t entries_max)
    : per_ms_(static_cast<double>(per_window) /
              static_cast<double>(std::max<std::int64_t>(window_ms, 1))),
      burst_(std::max(burst, 1)),
      buckets_(entries_max) {}

RateLimit::Bucket& RateLimit::bucket(std::string_view key, std::int64_t now_ms) {
  Bucket& b = buckets_.use(key, [&] { return Bucket{burst_, now_ms}; });
  if (now_ms > b.at_ms) {
    b.tokens = std::min(burst_, b.tokens + static_cast<double>(now_ms - b.at_ms) * per_ms_);
    b.at_ms = now_ms;
  }
  return b;
}

std::int64_t RateLimit::wait_ms(std::string_view key, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (!buckets_.find(key)) return 0;  // a full bucket
  const Bucket& b = bucket(key, now_ms);
  if (b.tokens >= 1) return 0;
  if (per_ms_ <= 0) return 3'600'000;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((1 - b.tokens) / per_ms_)));
}

std::int64_t RateLimit::take(std::string_view key, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  Bucket& b = bucket(key, now_ms);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  if (per_ms_ <= 0) return 3'600'000;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((1 - b.tokens) / per_ms_)));
}

Throttle::Throttle(ThrottleOptions options)
    : options_(options),
      addresses_(options.address_failures_per_minute, 60'000, options.address_failures_burst,
                 options.entries_max),
      pairs_(options.entries_max) {}

// The credential as a fixed-size digest (an attacker chooses it: a 64 KiB userName would make a
// 64 KiB key), then the address key.
std::string Throttle::pair_key(std::string_view credential, std::string_view where) {
  std::string key = short_digest(credential);
  key.append(where);
  return key;
}

std::int64_t Throttle::delay_ms(int failures) const {
  const int over = failures - options_.failures_free;
  if (over <= 0) return 0;
  std::int64_t delay = options_.delay_first_ms;
  for (int i = 1; i < over && delay < options_.delay_max_ms; ++i) delay *= 2;
  return std::min(delay, options_.delay_max_ms);
}

std::int64_t Throttle::wait_ms(std::string_view credential, std::string_view address,
                               std::int64_t now_ms, ThrottleScope scope) {
  if (!failures_seen_.load(std::memory_order_relaxed))
    return 0;  // the common case: nothing to look up
  const std::string where = address_key(address);
  std::int64_t wait = 0;
  if (pairs_delay()) {
    std::lock_guard lock(mutex_);
    const Pair* p = pairs_.find(pair_key(credential, where));
    if (p && now_ms - p->last_ms < options_.forget_after_ms) {
      wait = std::max<std::int64_t>(0, p->last_ms + delay_ms(p->failures) - now_ms);
    }
  }
  if (wait > 0 || scope == ThrottleScope::kPairOnly) return wait;
  return addresses_.wait_ms(where, now_ms);
}

void Throttle::failed(std::string_view credential, std::string_view address, std::int64_t now_ms) {
  failures_seen_.store(true, std::memory_order_relaxed);
  const std::string where = address_key(address);
  addresses_.take(where, now_ms);
  if (!pairs_delay()) return;  // nothing to remember of the pair
  std::lock_guard lock(mutex_);
  Pair& p = pairs_.use(pair_key(credential, where), [&] { return Pair{0, now_ms}; });
  if (now_ms - p.last_ms >= options_.forget_after_ms) p.failures = 0;
  p.failures += 1;
  p.last_ms = now_ms;
}

void Throttle::succeeded(std::string_view credential, std::string_view address) {
  if (!failures_seen_.load(std::memory_order_relaxed) || !pairs_delay()) return;
  const std::string key = pair_key(credential, address_key(address));
  std::lock_guard lock(mutex_);
  pairs_.erase(key);
}

}  // namespace payoutd
