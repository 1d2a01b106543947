#include "providers/card_limits_config.h"

#include "providers/card_limits_settings.h"

namespace payoutd::providers {

engine::CardLimits config_card_limits(const toml::table& t, const std::string& where,
                                      const Currency& currency) {
  constexpr std::int64_t kHourMs = 3'600'000;
  engine::CardLimits limits;
  limits.single_max = config::minor_of(t, where, "card_single_max", currency, "0");
  limits.total_max = config::minor_of(t, where, "card_total_max", currency, "0");
  limits.count_max =
      static_cast<int>(config::bounded(t, where, "card_count_max", 0, 0, kCardLimitCountMax));
  limits.window_ms =
      config::bounded(t, where, "card_window_hours", 24, 1, kCardLimitWindowHoursMax) * kHourMs;
  return limits;
}

}  // namespace payoutd::providers
