#include "app/rail_factory.h"

#include <filesystem>

#include "core/assert.h"
#include "core/files.h"

namespace payoutd::app {

std::unique_ptr<BuiltRails> build_rails(const Config& config, const Clock& clock) {
  auto built = std::make_unique<BuiltRails>(BuiltRails{{}, {}, rails::RailSet(config.routing)});
  for (const RailConfig& r : config.rails) {
    if (r.kind == "sandbox") {
      rails::SandboxRailOptions options = r.sandbox;
      make_private_directory(config.data_dir);
      const std::string file = r.name == rails::kLegacyRail ? "rail.db" : "rail-" + r.name + ".db";
      options.path = (std::filesystem::path(config.data_dir) / file).string();
      auto rail = std::make_unique<rails::SandboxRail>(std::move(options), clock);
      built->sandboxes.push_back(rail.get());
      built->owned.push_back(std::move(rail));
    } else if (r.kind == "mastercard-send") {
      built->owned.push_back(std::make_unique<rails::MastercardSendRail>(r.mastercard, clock));
    } else if (r.kind == "visa-direct") {
      built->owned.push_back(std::make_unique<rails::VisaDirectRail>(r.visa, clock));
    } else if (r.kind == "bereke") {
      built->owned.push_back(std::make_unique<rails::BerekeUpstreamRail>(r.bereke, clock));
    } else {
      PAYOUTD_ASSERT(false, "the config reads only the kinds of rail built here");
    }
    built->set.add(*built->owned.back());
  }
  return built;
}

}  // namespace payoutd::app
