#pragma once
// The double-entry ledger: accounts and immutable transfers of integer minor units.
//
// Money moves only by transfers. A transfer debits one account and credits another by the same
// amount in one currency, so for every currency the postings sum to zero by construction.
// Transfers are single-phase (posted at once) or two-phase: a pending transfer reserves funds,
// and exactly one later post or void transfer resolves it. Balances are derived from transfers;
// the four counters on an account are a cache that `audit` recomputes from the transfers.
//
// This header is pure logic: no storage, no threads. The engine applies transfers to accounts
// loaded by the store inside one storage transaction.
#include <cstdint>
#include <string>
#include <vector>

#include "core/money.h"

namespace payoutd::ledger {

enum class AccountKind : std::uint8_t {
  kSystem = 0,  // the outside world: where funding comes from and card payouts settle to
  kFunder = 1,  // a source of payouts (QIWI funder, merchant balance, transit account)
  kWallet = 2,  // a client's wallet
};

enum class AccountStatus : std::uint8_t { kActive = 0, kBlocked = 1 };

// Whether an account may be overdrawn. Funders and wallets may not; system accounts, which
// stand for money outside payoutd, are negative by nature.
enum class BalanceFloor : std::uint8_t { kNone = 0, kZero = 1 };

struct Account {
  std::int64_t id = 0;
  std::string tenant;  // e.g. "qiwi:best-partner"; money never crosses tenants
  AccountKind kind = AccountKind::kSystem;
  std::string code;   // funder id, wallet account id, or system account name
  std::string owner;  // clientId of a wallet; display name of a funder
  Currency currency;
  BalanceFloor floor = BalanceFloor::kZero;
  AccountStatus status = AccountStatus::kActive;
  // Credits to this account settle this long after they are accepted (sandbox "processing").
  std::int64_t credit_delay_ms = 0;
  std::int64_t debits_pending = 0;
  std::int64_t debits_posted = 0;
  std::int64_t credits_pending = 0;
  std::int64_t credits_posted = 0;
  // Last sequence number used in this account's operation history (assigned under the
  // account's lock, so history order is commit order).
  std::int64_t history_seq = 0;
  std::int64_t created_ms = 0;

  std::int64_t balance() const { return credits_posted - debits_posted; }
  // What can still be spent: the posted balance less outgoing reservations.
  std::int64_t available() const { return credits_posted - debits_posted - debits_pending; }
  bool operator==(const Account&) const = default;
};

enum class TransferKind : std::uint8_t {
  kSingle = 0,   // posted at once
  kPending = 1,  // reserves: debits_pending / credits_pending
  kPost = 2,     // resolves a pending transfer by posting it in full
  kVoid = 3,     // resolves a pending transfer by releasing it
};

struct Transfer {
  std::int64_t id = 0;  // assigned by the store
  std::int64_t debit_account_id = 0;
  std::int64_t credit_account_id = 0;
  std::int64_t amount = 0;
  Currency currency;
  TransferKind kind = TransferKind::kSingle;
  std::int64_t pending_id = 0;  // for kPost and kVoid: the pending transfer they resolve
  std::int64_t timestamp_ms = 0;
  std::string reference;  // what caused it, e.g. "payout:17", "credit:qiwi:best-partner:c1"
};

enum class TransferResult : std::uint8_t {
  kOk,
  kAmountNotPositive,
  kSameAccount,
  kCurrencyMismatch,
  kExceedsBalance,   // the debit account has a zero floor and would go below it
  kPendingMismatch,  // post/void whose accounts, amount or currency differ from the pending one
  kOverflow,         // a counter would leave int64: the account has moved too much money
};

const char* to_string(TransferResult result);

// Checks `transfer` against the accounts (and, for kPost/kVoid, the pending transfer it
// resolves) without changing anything: the result apply() would have.
TransferResult check(const Transfer& transfer, const Account& debit, const Account& credit,
                     const Transfer* pending);

// check(), then, when it is kOk, applies the transfer to the accounts' counters. On any result
// but kOk nothing changed. The caller guarantees that a pending transfer is resolved at most
// once.
TransferResult apply(const Transfer& transfer, Account& debit, Account& credit,
                     const Transfer* pending);

// Recomputes every account from the transfers and checks the ledger invariants:
// transfers reference existing accounts of their currency with a positive amount; each pending
// transfer is resolved at most once, by a matching post or void; every cached counter equals
// its recomputation; no zero-floor account is below zero; per currency the postings sum to zero.
// Returns one line per violation; empty when the ledger is sound.
std::vector<std::string> audit(const std::vector<Account>& accounts,
                               const std::vector<Transfer>& transfers);

}  // namespace payoutd::ledger
