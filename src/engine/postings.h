#pragma once
// Ledger steps every engine command shares, inside a batch's transaction.
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "engine/payouts.h"

namespace payoutd::engine {

// The tenant's system account for `purpose` in `currency` (money outside payoutd: funding,
// card rails), created on first use.
ledger::Account* system_account(store::WriteTxn& txn, const std::string& tenant,
                                std::string_view purpose, Currency currency, std::int64_t now_ms);
std::string system_code(std::string_view purpose, Currency currency);

// Applies a transfer to the accounts and records it. On any result but kOk nothing changed.
ledger::TransferResult move(store::WriteTxn& txn, ledger::Transfer t, ledger::Account& debit,
                            ledger::Account& credit, const ledger::Transfer* pending,
                            std::int64_t* transfer_id);

// A replay check shared by every idempotent command: nullopt when the id is new; kNone with the
// stored record when the fingerprint matches; kIdConflict otherwise.
std::optional<std::pair<Error, store::PayoutRecord>> replay(store::WriteTxn& txn,
                                                            const std::string& tenant,
                                                            store::PayoutKind kind,
                                                            const std::string& id,
                                                            const std::string& fingerprint);

}  // namespace payoutd::engine
