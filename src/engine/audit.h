#pragma once
// Whole-store audit: the ledger invariants (ledger::audit) plus the engine's own: every money
// movement belongs to exactly one payout record, each payout moved money at most once, between
// its own accounts and in the way its status says, and each payout's history entry exists once
// with the payout's status, and every funding account's daily statements (engine/statements.h)
// lead to its balance.
#include <string>
#include <vector>

#include "store/store.h"

namespace payoutd::engine {

// One line per violation; empty when everything holds. Reads committed state only, so it may
// run while the server is serving. A store that cannot be read gives one line saying so: an
// audit that read nothing vouches for nothing.
std::vector<std::string> audit_store(const store::Store& store);
std::vector<std::string> audit_snapshot(const store::AuditSnapshot& snapshot);

}  // namespace payoutd::engine
