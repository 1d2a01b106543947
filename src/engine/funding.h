#pragma once
// Money entering or leaving a partner's funding account from outside payoutd, inside a batch's
// transaction: a credit (the partner paid in) or a debit (money paid back out to the partner's
// bank). The other side of both is the tenant's system account "external:<currency>", the outside
// world money comes from and returns to. Each is idempotent by the operator's id (a credit's and a
// debit's are separate: store::PayoutKind kFunderCredit and kFunderDebit) and recorded as a
// payout record that owns its one transfer, so `payoutd audit` accounts for it. The admin API's
// maker-checker (engine/operator_requests.h) and PayoutEngine::credit_funder both run these.
#include <cstdint>
#include <string>

#include "core/money.h"
#include "store/store.h"

namespace payoutd::engine {

enum class FundingDirection : std::uint8_t { kCredit, kDebit };

struct FundingMove {
  FundingDirection direction = FundingDirection::kCredit;
  std::string tenant;  // the tenant's stored key
  std::string id;      // the operator's (partner's) idempotency id
  std::string funder_code;
  Amount amount;
  std::string outside_code;  // the system account's code ("external:RUB"), for the footprint
};

// A move with its system account's code filled in.
FundingMove funding_move(FundingDirection direction, std::string tenant, std::string id,
                         std::string funder_code, Amount amount);

enum class FundingOutcome : std::uint8_t {
  kDone,               // moved now, or moved before under the same id and request (`record`)
  kFunderNotFound,     // no such funding account in the tenant
  kCurrencyMismatch,   // the account holds another currency
  kIdConflict,         // the id was used with another request (`record` is that one)
  kInsufficientFunds,  // a debit beyond what is available: never below zero
};

struct FundingResult {
  FundingOutcome outcome = FundingOutcome::kDone;
  std::string detail;  // English, for the error's description
  store::PayoutRecord record;
  bool replayed = false;  // kDone by an earlier call: nothing moved now
};

// The payout kind that records moves of `direction`.
store::PayoutKind funding_kind(FundingDirection direction);
// Adds the move's payout id and two accounts to a batch's footprint.
void declare_funding(const FundingMove& move, store::Footprint& footprint);
// What the move's checks say without moving anything: the earlier outcome of its id (kDone
// replayed, or kIdConflict), a refusal (kFunderNotFound, kCurrencyMismatch,
// kInsufficientFunds), or nullopt when apply_funding would move the money now.
std::optional<FundingResult> check_funding(store::WriteTxn& txn, const FundingMove& move);
// Checks, then moves and records the money; on any outcome but a fresh kDone nothing changed.
FundingResult apply_funding(store::WriteTxn& txn, const FundingMove& move, std::int64_t now_ms);

}  // namespace payoutd::engine
