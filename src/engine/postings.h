#pragma once
// Ledger steps every engine command shares, inside a batch's transaction.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/payouts.h"

namespace payoutd::engine {

// A command with its tenant's stored key (store.h), made once when it is submitted: the store
// takes the key, and a job's footprint points into it.
template <typename Command>
struct Keyed {
  explicit Keyed(Command c) : tenant(c.tenant.key()), command(std::move(c)) {}
  std::string tenant;
  Command command;
};

// A new account's record (not yet inserted), active, with no money.
ledger::Account new_account(const std::string& tenant, ledger::AccountKind kind, std::string code,
                            std::string owner, Currency currency, std::int64_t now_ms);

// The tenant's system account for `purpose` in `currency` (money outside payoutd: funding,
// card rails), created on first use.
ledger::Account* system_account(store::WriteTxn& txn, const std::string& tenant,
                                std::string_view purpose, Currency currency, std::int64_t now_ms);
std::string system_code(std::string_view purpose, Currency currency);

// Applies a transfer to the accounts and records it. On any result but kOk nothing changed.
ledger::TransferResult move(store::WriteTxn& txn, const ledger::Transfer& t, ledger::Account& debit,
                            ledger::Account& credit, const ledger::Transfer* pending,
                            std::int64_t* transfer_id);

// A replay check shared by every idempotent command: nullopt when the id is new; kNone with the
// stored record when the fingerprint matches; kIdConflict otherwise.
std::optional<std::pair<Error, store::PayoutRecord>> replay(store::WriteTxn& txn,
                                                            const std::string& tenant,
                                                            store::PayoutKind kind,
                                                            const std::string& id,
                                                            const std::string& fingerprint);

// The wallet among `wallets` that holds `currency`; nullptr when none does.
ledger::Account* wallet_in(const std::vector<ledger::Account*>& wallets, Currency currency);

// Takes the wallet's next history position: (seq, txnHistoryId). The wallet must be locked by
// the batch (in its footprint).
std::pair<std::int64_t, std::string> next_history_position(ledger::Account& wallet);

}  // namespace payoutd::engine
