#include "rails/rail_stats.h"

namespace payoutd::rails {

void RailCallStats::count(Call call, Outcome outcome, std::int64_t latency_ms) {
  auto& by_outcome = call == Call::kCredit ? credits_ : statuses_;
  by_outcome[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
  if (latency_ms < 0) return;
  std::size_t bucket = 0;
  while (bucket < kLatencyBucketsMs.size() && latency_ms > kLatencyBucketsMs[bucket]) ++bucket;
  latency_[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_ms_total_.fetch_add(latency_ms, std::memory_order_relaxed);
  std::int64_t max = latency_ms_max_.load(std::memory_order_relaxed);
  while (latency_ms > max &&
         !latency_ms_max_.compare_exchange_weak(max, latency_ms, std::memory_order_relaxed)) {
  }
}

RailCallStatsSnapshot RailCallStats::snapshot() const {
  RailCallStatsSnapshot s;
  for (std::size_t i = 0; i < kOutcomes; ++i) {
    s.credits[i] = credits_[i].load(std::memory_order_relaxed);
    s.statuses[i] = statuses_[i].load(std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < latency_.size(); ++i) {
    s.latency[i] = latency_[i].load(std::memory_order_relaxed);
  }
  s.latency_ms_total = latency_ms_total_.load(std::memory_order_relaxed);
  s.latency_ms_max = latency_ms_max_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace payoutd::rails
