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

// A card binding of the sandbox: a corporate card (debit tool) or a client's recipient card.
struct ProvisionedBinding {
  Tenant tenant;
  std::string binding_id, client_id, pan, holder;
  bool debit = false;
};

// One dialect's tenants. Each plan runs once per database, marked by its own key, so a database
// made before a dialect existed gets that dialect's tenants on its next start.
struct ProvisionPlan {
  std::string marker = "provisioned";
  std::vector<ProvisionedFunder> funders;
  std::vector<ClientSpec> clients;
  std::vector<ProvisionedBinding> bindings;
};

class CardPayouts;

// Blocks until done. Returns an empty string on success, otherwise what failed. `cards` is
// needed when the plan has bindings.
std::string provision_if_empty(PayoutEngine& engine, CardPayouts* cards, const ProvisionPlan& plan);

}  // namespace payoutd::engine
