#pragma once
// The per-card limits of a card-paying tenant in the config file, shared by the providers whose
// partners pay cards ([[bereke.partners]], [[ecommpay.projects]]): card_single_max and
// card_total_max (decimal strings in `currency`, "0": no limit), card_count_max (0: none) and
// card_window_hours (1 to 8784, 24 by default). The directory then keeps them as the tenant's
// settings' cardLimits (providers/card_limits_settings.h).
#include <string>

#include "config/reader.h"
#include "engine/cards/order.h"

namespace payoutd::providers {

// The limits at `where` of table `t`; throws config's error naming the key at fault.
engine::CardLimits config_card_limits(const toml::table& t, const std::string& where,
                                      const Currency& currency);

}  // namespace payoutd::providers
