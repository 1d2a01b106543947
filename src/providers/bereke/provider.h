#pragma once
// The Bereke Bank provider's registry entry: its [bereke] section (partners, their credentials,
// funding methods, card countries, KNP, fee, and the sandbox's accounts and bindings), the
// Payouts Module v2 API, the bank's hosted card pages, and the cabinet's "My cards" and "KNP".
#include "providers/provider.h"

namespace payoutd::providers::bereke {

Module module();

}  // namespace payoutd::providers::bereke
