#pragma once
// Provisioning of an empty data directory (the sandbox tenants of config/sandbox.toml).
// Runs once: the last step marks the store as provisioned. Every step is idempotent, so a crash
// in the middle is repaired by the next start.
#include <string>
#include <vector>

#include "engine/payouts.h"

namespace payoutd::engine {

struct ProvisionedFunder {
  FunderSpec spec;
  std::int64_t initial_minor = 0;
};

struct ProvisionPlan {
  std::vector<ProvisionedFunder> funders;
  std::vector<ClientSpec> clients;
};

// Blocks until done. Returns an empty string on success, otherwise what failed.
std::string provision_if_empty(PayoutEngine& engine, const ProvisionPlan& plan);

}  // namespace payoutd::engine
