#pragma once
// The ecommpay provider's registry entry: its [ecommpay] section (projects, their secret keys,
// allowlists, programs, limits and merchant balances), the Gate API's payout registration with
// its signed callbacks, and Payment Page in payout mode.
#include "providers/provider.h"

namespace payoutd::providers::ecommpay {

Module module();

}  // namespace payoutd::providers::ecommpay
