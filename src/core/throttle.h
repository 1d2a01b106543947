#pragma once
// Throttling of credential checks (passwords, tokens).
//
// After a few failures, a (credential, client address) pair waits a growing delay before its next
// check, and every client address has a bounded rate of failures whatever credentials it tries.
// Nothing is ever locked: a stranger failing on purpose slows only themself, never the owner of
// the credential calling from elsewhere (a hard lockout would let anyone shut a partner out). A
// credential that does not exist is throttled exactly as one that does, so the answers never
// tell them apart.
//
// In memory, per node: with several nodes each throttles what it sees. Every table is bounded
// (the least recently used entries are forgotten first); every call is O(1) and thread-safe.
#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <string_view>

#include "core/lru_table.h"

namespace payoutd {

// The part of a client address a throttle keys on: an IPv4 address as it is; an IPv6 address's
// /64 (one subscriber's network: a single host can use all of it); an IPv4-mapped IPv6 address
// as its IPv4 address; anything else (a Unix socket, a test peer) as it is.
std::string address_key(std::string_view address);

// Token buckets by key: each key may spend `per_window` tokens every `window_ms` after a burst of
// `burst`.
class RateLimit {
 public:
  RateLimit(int per_window, std::int64_t window_ms, int burst, std::size_t entries_max);
  RateLimit(const RateLimit&) = delete;
  RateLimit& operator=(const RateLimit&) = delete;

  // Takes a token: 0 when one was there; else how long (ms) until one is, and nothing is taken.
  std::int64_t take(std::string_view key, std::int64_t now_ms);
  // Like take(), without taking.
  std::int64_t wait_ms(std::string_view key, std::int64_t now_ms);

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t at_ms = 0;
  };
  Bucket& bucket(std::string_view key, std::int64_t now_ms);  // refilled to now; under mutex_

  const double per_ms_;
  const double burst_;
  std::mutex mutex_;
  LruTable<Bucket> buckets_;
};

struct ThrottleOptions {
  // Failures of a (credential, address) before delays; its maximum: pairs are never delayed (and
  // not remembered), only addresses' failures count.
  int failures_free = 3;
  std::int64_t delay_first_ms = 1'000;            // the first delay; it doubles with each failure
  std::int64_t delay_max_ms = 15 * 60'000;        // up to this
  std::int64_t forget_after_ms = 24 * 3'600'000;  // a pair quiet this long starts afresh
  int address_failures_per_minute = 30;           // failures of one address, whatever credential,
  int address_failures_burst = 30;                // after a burst of this many
  std::size_t entries_max = 50'000;               // each table's bound
};

// What a check waits for: the (credential, address) pair's delay and the address's failures, or
// the pair's delay only (a client the credential's owner vouched for: cabinet/auth.h's devices).
enum class ThrottleScope : std::uint8_t { kPairAndAddress, kPairOnly };

class Throttle {
 public:
  explicit Throttle(ThrottleOptions options = {});
  Throttle(const Throttle&) = delete;
  Throttle& operator=(const Throttle&) = delete;

  // 0 when `credential` may be checked for a client at `address` now; else how long (ms) until it
  // may, and the check is not to be made (answer "retry after" instead).
  std::int64_t wait_ms(std::string_view credential, std::string_view address, std::int64_t now_ms,
                       ThrottleScope scope = ThrottleScope::kPairAndAddress);
  // The check failed: counts against the pair and the address.
  void failed(std::string_view credential, std::string_view address, std::int64_t now_ms);
  // The check succeeded: the pair starts afresh.
  void succeeded(std::string_view credential, std::string_view address);

  const ThrottleOptions& options() const { return options_; }

 private:
  struct Pair {
    int failures = 0;
    std::int64_t last_ms = 0;
  };
  static std::string pair_key(std::string_view credential, std::string_view where);
  // Whether pairs are ever delayed (failures_free at its maximum: only addresses are throttled).
  bool pairs_delay() const { return options_.failures_free < std::numeric_limits<int>::max(); }
  std::int64_t delay_ms(int failures) const;

  const ThrottleOptions options_;
  std::atomic<bool> failures_seen_{false};  // until the first failure there is nothing to look up
  RateLimit addresses_;
  std::mutex mutex_;
  LruTable<Pair> pairs_;
};

}  // namespace payoutd
