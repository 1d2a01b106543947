#pragma once
// The QIWI BaaS provider's registry entry: its [qiwi] section (products, their tokens, funders
// and clients), its Payments and Reports APIs, its section of the admin API.
#include "providers/provider.h"

namespace payoutd::providers::qiwi {

Module module();

}  // namespace payoutd::providers::qiwi
