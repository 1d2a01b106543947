#pragma once
// The config's card rails, built for `serve`: each by its kind, all in one rails::RailSet with the
// config's routing. A sandbox network keeps its record in the data directory (rail.db for the
// rail named "sandbox", rail-<name>.db for another).
#include <memory>
#include <vector>

#include "app/config.h"
#include "core/clock.h"
#include "rails/rail_set.h"
#include "rails/sandbox_rail.h"

namespace payoutd::app {

struct BuiltRails {
  std::vector<std::unique_ptr<rails::CardRail>> owned;  // every rail, in the config's order
  std::vector<const rails::SandboxRail*> sandboxes;     // those that are sandbox networks
  rails::RailSet set;
};

// Throws std::runtime_error when a rail cannot be built (its files, its credentials).
std::unique_ptr<BuiltRails> build_rails(const Config& config, const Clock& clock);

}  // namespace payoutd::app
