#include "ledger/ledger.h"

#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <unordered_map>

#include "core/assert.h"

namespace payoutd::ledger {

const char* to_string(TransferResult result) {
  switch (result) {
    case TransferResult::kOk:
      return "ok";
    case TransferResult::kAmountNotPositive:
      return "amount not positive";
    case TransferResult::kSameAccount:
      return "debit and credit account are the same";
    case TransferResult::kCurrencyMismatch:
      return "currency mismatch";
    case TransferResult::kExceedsBalance:
      return "exceeds balance";
    case TransferResult::kPendingMismatch:
      return "does not match its pending transfer";
    case TransferResult::kOverflow:
      return "a balance counter would overflow";
  }
  return "unknown";
}

namespace {

bool matches_pending(const Transfer& t, const Transfer* pending) {
  return pending != nullptr && pending->kind == TransferKind::kPending &&
         pending->debit_account_id == t.debit_account_id &&
         pending->credit_account_id == t.credit_account_id && pending->amount == t.amount &&
         pending->currency == t.currency && pending->id == t.pending_id;
}

// Every counter a transfer adds to must stay inside int64, and so must the balances derived from
// them (credits − debits − pending), which the sums of at most kAmountMinorMax each guarantee
// while each counter stays below kCounterMax.
constexpr std::int64_t kCounterMax = INT64_MAX / 4;

bool would_overflow(const Transfer& t, const Account& debit, const Account& credit) {
  const std::int64_t headroom = kCounterMax - t.amount;
  if (t.kind == TransferKind::kSingle) {
    return debit.debits_posted > headroom || credit.credits_posted > headroom;
  }
  return debit.debits_pending > headroom || credit.credits_pending > headroom ||
         debit.debits_posted > headroom || credit.credits_posted > headroom;
}

}  // namespace

TransferResult check(const Transfer& transfer, const Account& debit, const Account& credit,
                     const Transfer* pending) {
  if (transfer.amount <= 0) return TransferResult::kAmountNotPositive;
  if (debit.id == credit.id) return TransferResult::kSameAccount;
  if (!(debit.currency == transfer.currency) || !(credit.currency == transfer.currency)) {
    return TransferResult::kCurrencyMismatch;
  }
  switch (transfer.kind) {
    case TransferKind::kSingle:
    case TransferKind::kPending:
      if (debit.floor == BalanceFloor::kZero && debit.available() < transfer.amount) {
        return TransferResult::kExceedsBalance;
      }
      if (would_overflow(transfer, debit, credit)) return TransferResult::kOverflow;
      return TransferResult::kOk;
    case TransferKind::kPost:
    case TransferKind::kVoid:
      return matches_pending(transfer, pending) ? TransferResult::kOk
                                                : TransferResult::kPendingMismatch;
  }
  return TransferResult::kPendingMismatch;
}

TransferResult apply(const Transfer& transfer, Account& debit, Account& credit,
                     const Transfer* pending) {
  const TransferResult result = check(transfer, debit, credit, pending);
  if (result != TransferResult::kOk) return result;
  const std::int64_t amount = transfer.amount;
  switch (transfer.kind) {
    case TransferKind::kSingle:
      debit.debits_posted += amount;
      credit.credits_posted += amount;
      break;
    case TransferKind::kPending:
      debit.debits_pending += amount;
      credit.credits_pending += amount;
      break;
    case TransferKind::kPost:
      debit.debits_pending -= amount;
      credit.credits_pending -= amount;
      debit.debits_posted += amount;
      credit.credits_posted += amount;
      break;
    case TransferKind::kVoid:
      debit.debits_pending -= amount;
      credit.credits_pending -= amount;
      break;
  }
  PAYOUTD_ASSERT(debit.debits_pending >= 0 && credit.credits_pending >= 0,
                 "a pending counter never goes below zero");
  PAYOUTD_ASSERT(debit.floor != BalanceFloor::kZero || debit.available() >= 0,
                 "an account with a zero floor never goes below zero");
  return result;
}

namespace {

struct Counters {
  std::int64_t debits_pending = 0;
  std::int64_t debits_posted = 0;
  std::int64_t credits_pending = 0;
  std::int64_t credits_posted = 0;
};

using AccountsById = std::unordered_map<std::int64_t, const Account*>;
using CountersById = std::unordered_map<std::int64_t, Counters>;

void check_transfer_accounts(const Transfer& t, const AccountsById& by_id,
                             std::vector<std::string>& violations) {
  for (std::int64_t id : {t.debit_account_id, t.credit_account_id}) {
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      violations.push_back(fmt::format("transfer {} references missing account {}", t.id, id));
    } else if (!(it->second->currency == t.currency)) {
      violations.push_back(fmt::format("transfer {} in {} touches account {} in {}", t.id,
                                       t.currency.code(), id, it->second->currency.code()));
    }
  }
  if (t.amount <= 0) {
    violations.push_back(fmt::format("transfer {} has non-positive amount {}", t.id, t.amount));
  }
  if (t.debit_account_id == t.credit_account_id) {
    violations.push_back(fmt::format("transfer {} debits and credits one account", t.id));
  }
}

// A post or void `t` resolving its pending transfer (found in `pendings`), at most once: moves
// the amount out of the pending counters, and for a post into the posted ones.
void add_resolution(const Transfer& t,
                    const std::unordered_map<std::int64_t, const Transfer*>& pendings,
                    std::unordered_map<std::int64_t, std::int64_t>& resolved_by, Counters& debit,
                    Counters& credit, std::vector<std::string>& violations) {
  auto pending = pendings.find(t.pending_id);
  if (pending == pendings.end() || !matches_pending(t, pending->second)) {
    violations.push_back(fmt::format(
        "transfer {} resolves pending transfer {} that does not exist or does not match", t.id,
        t.pending_id));
    return;
  }
  auto [it, inserted] = resolved_by.emplace(t.pending_id, t.id);
  if (!inserted) {
    violations.push_back(fmt::format("pending transfer {} resolved twice (by {} and {})",
                                     t.pending_id, it->second, t.id));
  }
  debit.debits_pending -= t.amount;
  credit.credits_pending -= t.amount;
  if (t.kind == TransferKind::kPost) {
    debit.debits_posted += t.amount;
    credit.credits_posted += t.amount;
  }
}

// Every account's counters as the transfers make them, checking each transfer on the way.
CountersById recompute(const std::vector<Transfer>& transfers, const AccountsById& by_id,
                       std::vector<std::string>& violations) {
  CountersById recomputed;
  // Ids say nothing about order: with several nodes each allocates ids from blocks of its own,
  // so a reservation may carry a higher id than the post that resolves it.
  std::unordered_map<std::int64_t, const Transfer*> pendings;
  for (const Transfer& t : transfers) {
    if (t.kind == TransferKind::kPending) pendings.emplace(t.id, &t);
  }
  std::unordered_map<std::int64_t, std::int64_t> resolved_by;  // pending id -> resolving id
  for (const Transfer& t : transfers) {
    check_transfer_accounts(t, by_id, violations);
    Counters& debit = recomputed[t.debit_account_id];
    Counters& credit = recomputed[t.credit_account_id];
    switch (t.kind) {
      case TransferKind::kSingle:
        debit.debits_posted += t.amount;
        credit.credits_posted += t.amount;
        break;
      case TransferKind::kPending:
        debit.debits_pending += t.amount;
        credit.credits_pending += t.amount;
        break;
      case TransferKind::kPost:
      case TransferKind::kVoid:
        add_resolution(t, pendings, resolved_by, debit, credit, violations);
        break;
    }
  }
  return recomputed;
}

// Each account's cached counters against `recomputed`, its floor, and per currency the sums of
// the posted and of the pending balances, which must be zero.
void check_accounts(const std::vector<Account>& accounts, const CountersById& recomputed,
                    std::vector<std::string>& violations) {
  // 128-bit sums: a tampered counter near INT64_MAX must be reported, not wrap around.
  std::map<std::string, __int128> posted_sum_by_currency;
  std::map<std::string, __int128> pending_sum_by_currency;
  for (const Account& a : accounts) {
    const auto found = recomputed.find(a.id);
    const Counters c = found == recomputed.end() ? Counters{} : found->second;  // no transfers
    if (c.debits_pending != a.debits_pending || c.debits_posted != a.debits_posted ||
        c.credits_pending != a.credits_pending || c.credits_posted != a.credits_posted) {
      violations.push_back(
          fmt::format("account {} ({} {}) cached balance differs from its postings: cached "
                      "dp={} dP={} cp={} cP={}, postings dp={} dP={} cp={} cP={}",
                      a.id, a.tenant, a.code, a.debits_pending, a.debits_posted, a.credits_pending,
                      a.credits_posted, c.debits_pending, c.debits_posted, c.credits_pending,
                      c.credits_posted));
    }
    if (a.floor == BalanceFloor::kZero && a.available() < 0) {
      violations.push_back(fmt::format("account {} ({} {}) is below zero: available {}", a.id,
                                       a.tenant, a.code, a.available()));
    }
    const std::string currency(a.currency.code());
    posted_sum_by_currency[currency] += static_cast<__int128>(a.credits_posted) - a.debits_posted;
    pending_sum_by_currency[currency] +=
        static_cast<__int128>(a.credits_pending) - a.debits_pending;
  }
  for (const auto& [currency, sum] : posted_sum_by_currency) {
    if (sum != 0) {
      violations.push_back(fmt::format("posted balances in {} do not sum to zero", currency));
    }
  }
  for (const auto& [currency, sum] : pending_sum_by_currency) {
    if (sum != 0) {
      violations.push_back(fmt::format("pending balances in {} do not sum to zero", currency));
    }
  }
}

}  // namespace

std::vector<std::string> audit(const std::vector<Account>& accounts,
                               const std::vector<Transfer>& transfers) {
  std::vector<std::string> violations;
  AccountsById by_id;
  for (const Account& a : accounts) by_id.emplace(a.id, &a);
  check_accounts(accounts, recompute(transfers, by_id, violations), violations);
  return violations;
}

}  // namespace payoutd::ledger
