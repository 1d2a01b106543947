#pragma once
// Counters of a network connector's calls, by kind and outcome, and their latency, for the admin
// API's stats. Thread-safe: counted from the connector's thread, read from any.
#include <array>
#include <atomic>
#include <cstdint>

#include "rails/rail.h"

namespace payoutd::rails {

// Upper bounds (inclusive) of the latency buckets, in ms; the last bucket is everything above.
inline constexpr std::array<std::int64_t, 9> kLatencyBucketsMs{100,  250,   500,   1000, 2500,
                                                               5000, 10000, 30000, 60000};
inline constexpr std::size_t kOutcomes = 6;  // the values of Outcome

struct RailCallStatsSnapshot {
  std::array<std::int64_t, kOutcomes> credits{};  // by Outcome
  std::array<std::int64_t, kOutcomes> statuses{};
  std::array<std::int64_t, kLatencyBucketsMs.size() + 1> latency{};  // calls that left
  std::int64_t latency_ms_total = 0;
  std::int64_t latency_ms_max = 0;
  std::int64_t breaker_opened = 0;
};

class RailCallStats {
 public:
  enum class Call : std::uint8_t { kCredit, kStatus };
  // One answered call; `latency_ms` < 0 when it never left (refused at once).
  void count(Call call, Outcome outcome, std::int64_t latency_ms);
  RailCallStatsSnapshot snapshot() const;

 private:
  std::array<std::atomic<std::int64_t>, kOutcomes> credits_{};
  std::array<std::atomic<std::int64_t>, kOutcomes> statuses_{};
  std::array<std::atomic<std::int64_t>, kLatencyBucketsMs.size() + 1> latency_{};
  std::atomic<std::int64_t> latency_ms_total_{0};
  std::atomic<std::int64_t> latency_ms_max_{0};
};

}  // namespace payoutd::rails
