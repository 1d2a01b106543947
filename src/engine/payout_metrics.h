#pragma once
// Payouts that reached their final status on this node, by provider and outcome, and the money
// they moved, by provider and currency, in minor units: the metrics payoutd_payouts_total and
// payoutd_payout_amount_minor_total (docs/operations.md).
//
// A payout is counted once, by the node whose batch made it final, when that batch is durable
// (never by a replay, nor by a batch that failed). Providers are the ones named at construction
// (the config's), others are "other"; currencies are payoutd's table (core/money.h): every label
// is known before the first payout. Thread-safe; counting is a few relaxed atomic adds.
#include <string>
#include <vector>

#include "core/metrics.h"
#include "store/store.h"

namespace payoutd::engine {

class PayoutMetrics {
 public:
  explicit PayoutMetrics(std::vector<std::string> providers);

  // The payout as its batch left it, once durable: counted if success or declined.
  void finished(const store::PayoutRecord& payout);
  void write(metrics::Exposition& out) const;

 private:
  std::size_t provider_index(std::string_view tenant_key) const;

  std::vector<std::string> providers_;  // then "other"
  metrics::Counters outcomes_;          // [provider][success, declined]
  metrics::Counters amounts_;           // [provider][currency]: succeeded, in minor units
};

}  // namespace payoutd::engine
