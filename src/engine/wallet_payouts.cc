// The wallet payout: a funder pays a client's wallet, at once or after the wallet's credit delay
// (the payout then waits as a reservation until the scheduler settles it).
#include <spdlog/spdlog.h>

#include <optional>
#include <tuple>

#include "core/assert.h"
#include "engine/payouts.h"
#include "engine/postings.h"

namespace payoutd::engine {

using ledger::Account;
using ledger::AccountKind;
using ledger::AccountStatus;
using ledger::Transfer;
using ledger::TransferKind;
using ledger::TransferResult;
using store::PayoutKind;
using store::PayoutRecord;
using store::PayoutStatus;
using store::WriteTxn;

namespace {

constexpr char kSep = kFieldSeparator;

std::string wallet_payout_fingerprint(const WalletPayout& r) {
  std::string f;
  f.reserve(r.funder_code.size() + r.client_id.size() + 32);
  f.append(r.funder_code).push_back(kSep);
  f.append(r.client_id).push_back(kSep);
  f.append(std::to_string(r.amount.minor)).push_back(kSep);
  f.append(r.amount.currency.code());
  return f;
}

// A command that fails validation changes nothing and consumes no id, but a partner who reuses
// an id with a different (here: invalid) request learns of the conflict first.
PayoutResult refuse(WriteTxn& txn, const std::string& tenant, const WalletPayout& r,
                    const std::string& fingerprint, Error error, std::string detail) {
  if (auto seen = replay(txn, tenant, PayoutKind::kWalletPayout, r.transaction_id, fingerprint)) {
    PayoutResult result{seen->first, {}, std::move(seen->second)};
    if (result.error == Error::kIdConflict) {
      result.detail = "transactionId was already used with a different request";
    }
    return result;
  }
  return {error, std::move(detail), {}};
}

// The accounts a wallet payout moves money between, or why it cannot (then error is set and
// the accounts may be null).
struct Parties {
  Account* funder = nullptr;
  Account* wallet = nullptr;
  Error error = Error::kNone;
  std::string detail;
};

Parties find_parties(WriteTxn& txn, const std::string& tenant, const WalletPayout& r) {
  Parties parties;
  parties.funder = txn.find_account(tenant, AccountKind::kFunder, r.funder_code);
  if (!parties.funder) {
    return {nullptr, nullptr, Error::kSourceNotFound, "fromFunderId: no such funder"};
  }
  const auto wallets = txn.find_accounts_by_owner(tenant, AccountKind::kWallet, r.client_id);
  if (wallets.empty()) {
    return {nullptr, nullptr, Error::kDestinationNotFound, "toClientId: no such client"};
  }
  if (!(parties.funder->currency == r.amount.currency)) {
    return {nullptr, nullptr, Error::kCurrencyMismatch,
            "transactionAmount.currency: the funder holds " +
                std::string(parties.funder->currency.code())};
  }
  parties.wallet = wallet_in(wallets, r.amount.currency);
  if (!parties.wallet) {
    return {nullptr, nullptr, Error::kCurrencyMismatch,
            "transactionAmount.currency: the client has no wallet in " +
                std::string(r.amount.currency.code())};
  }
  return parties;
}

PayoutRecord new_wallet_payout(const std::string& tenant, const WalletPayout& r,
                               const std::string& fingerprint, const Parties& parties,
                               std::int64_t now_ms) {
  PayoutRecord p;
  p.tenant = tenant;
  p.kind = PayoutKind::kWalletPayout;
  p.partner_id = r.transaction_id;
  p.fingerprint = fingerprint;
  p.source_account_id = parties.funder->id;
  p.destination_account_id = parties.wallet->id;
  p.amount = r.amount.minor;
  p.currency = r.amount.currency;
  p.source_ref = r.funder_code;
  p.destination_ref = r.client_id;
  p.created_ms = p.updated_ms = now_ms;
  return p;
}

// The payout's transfer: a reservation (kPending) when the wallet delays its credits.
Transfer payout_transfer(const PayoutRecord& p, const Account& wallet, std::int64_t now_ms) {
  Transfer t;
  t.debit_account_id = p.source_account_id;
  t.credit_account_id = p.destination_account_id;
  t.amount = p.amount;
  t.currency = p.currency;
  t.timestamp_ms = now_ms;
  t.reference = transfer_reference(p);
  t.kind = wallet.credit_delay_ms > 0 ? TransferKind::kPending : TransferKind::kSingle;
  return t;
}

// Sets the payout's status: declined (with its code) when a party is blocked or the ledger
// would refuse the transfer; otherwise processing until its due time, or a success.
void decide(PayoutRecord& p, const Transfer& t, const Parties& parties, std::int64_t now_ms) {
  const Account& funder = *parties.funder;
  const Account& wallet = *parties.wallet;
  const bool delayed = t.kind == TransferKind::kPending;
  if (funder.status == AccountStatus::kBlocked) {
    p.status = PayoutStatus::kDeclined;
    p.decline_code = std::string(kDeclineFunderBlocked);
  } else if (wallet.status == AccountStatus::kBlocked) {
    p.status = PayoutStatus::kDeclined;
    p.decline_code = std::string(kDeclineClientBlocked);
  } else if (const TransferResult checked = ledger::check(t, funder, wallet, nullptr);
             checked != TransferResult::kOk) {
    // Accounts and currency were validated above: only the funder's floor, or an account that
    // has moved an absurd amount of money, can refuse.
    p.status = PayoutStatus::kDeclined;
    p.decline_code = std::string(checked == TransferResult::kOverflow ? kDeclineLimitExceeded
                                                                      : kDeclineInsufficientFunds);
  } else {
    p.status = delayed ? PayoutStatus::kProcessing : PayoutStatus::kSuccess;
    if (delayed) p.due_ms = now_ms + wallet.credit_delay_ms;
  }
}

PayoutResult apply_wallet_payout(WriteTxn& txn, const Keyed<WalletPayout>& in,
                                 std::int64_t now_ms) {
  const std::string& tenant = in.tenant;
  const WalletPayout& r = in.command;
  const std::string fingerprint = wallet_payout_fingerprint(r);
  Parties parties = find_parties(txn, tenant, r);
  if (parties.error != Error::kNone) {
    return refuse(txn, tenant, r, fingerprint, parties.error, std::move(parties.detail));
  }
  Account* funder = parties.funder;
  Account* wallet = parties.wallet;

  PayoutResult result;
  result.payout = new_wallet_payout(tenant, r, fingerprint, parties, now_ms);
  PayoutRecord& p = result.payout;
  const Transfer t = payout_transfer(p, *wallet, now_ms);

  // Decide first, then claim the id: if it is taken, nothing has changed yet.
  decide(p, t, parties, now_ms);
  // The payout is the wallet's history entry. Its position is taken before the id is claimed;
  // if the id turns out to be taken, the batch's copy of the wallet gives the position back.
  p.history_account_id = wallet->id;
  const std::int64_t seq_before = wallet->history_seq;
  std::tie(p.history_seq, p.history_id) = next_history_position(*wallet);
  p.id = txn.insert_payout_if_new(p);
  if (p.id == 0) {
    wallet->history_seq = seq_before;
    return refuse(txn, tenant, r, fingerprint, Error::kNone, {});
  }

  result.created = true;
  if (p.status != PayoutStatus::kDeclined) {
    std::int64_t transfer_id = 0;
    const TransferResult moved = move(txn, t, *funder, *wallet, nullptr, &transfer_id);
    PAYOUTD_ASSERT(moved == TransferResult::kOk, ledger::to_string(moved));
    if (t.kind == TransferKind::kPending) {
      p.pending_transfer_id = transfer_id;
      txn.update_payout(p);
    }
  }
  return result;
}

void declare_wallet_payout(const Keyed<WalletPayout>& in, store::Footprint& f) {
  const WalletPayout& r = in.command;
  f.payouts.push_back({in.tenant, PayoutKind::kWalletPayout, r.transaction_id});
  f.accounts.push_back({in.tenant, AccountKind::kFunder, r.funder_code});
  f.account_owners.push_back({in.tenant, AccountKind::kWallet, r.client_id});
}

}  // namespace

void PayoutEngine::wallet_payout(WalletPayout request, PayoutCallback done) {
  auto job = make_job<PayoutResult>(
      Keyed<WalletPayout>(std::move(request)), declare_wallet_payout,
      [](const Keyed<WalletPayout>& in, WriteTxn& txn, std::int64_t now_ms) {
        return apply_wallet_payout(txn, in, now_ms);
      },
      [this, done](PayoutResult result, const store::Status& status) {
        if (!status.ok) {
          done({Error::kUnavailable, "storage unavailable", {}});
          return;
        }
        if (result.created) payout_metrics_.finished(result.payout);
        if (result.error == Error::kNone && result.payout.status == PayoutStatus::kProcessing) {
          // Also on a replay: settlement is idempotent, and this re-arms a lost timer.
          scheduler_.schedule(result.payout.id, result.payout.due_ms);
        }
        done(std::move(result));
      });
  if (!submit(std::move(job))) done({Error::kUnavailable, "the engine is overloaded", {}});
}

void PayoutEngine::settle(std::int64_t payout_id) {
  struct Settled {
    std::optional<PayoutRecord> payout;  // as this batch settled it; nullopt: unchanged
  };
  auto job = make_job<Settled>(
      payout_id, [](std::int64_t id, store::Footprint& f) { f.payout_ids.push_back(id); },
      [](std::int64_t id, WriteTxn& txn, std::int64_t now_ms) {
        auto p = txn.find_payout_by_id(id);
        if (!p || p->status != PayoutStatus::kProcessing) return Settled{};
        auto pending = txn.find_transfer(p->pending_transfer_id);
        Account* debit = txn.account(p->source_account_id);
        Account* credit = txn.account(p->destination_account_id);
        if (!pending || !debit || !credit) {
          // Cannot happen while the store is consistent; audit reports the payout.
          spdlog::error("payout {} is processing without its reservation or accounts", id);
          return Settled{};
        }
        const bool blocked = credit->status == AccountStatus::kBlocked;
        Transfer t = *pending;
        t.id = 0;
        t.kind = blocked ? TransferKind::kVoid : TransferKind::kPost;
        t.pending_id = pending->id;
        t.timestamp_ms = now_ms;
        if (move(txn, t, *debit, *credit, &*pending, nullptr) != TransferResult::kOk) {
          return Settled{};
        }
        p->status = blocked ? PayoutStatus::kDeclined : PayoutStatus::kSuccess;
        p->decline_code = blocked ? std::string(kDeclineClientBlocked) : std::string();
        p->updated_ms = now_ms;
        txn.update_payout(*p);  // also the wallet's history entry: it shows the new status
        return Settled{std::move(p)};
      },
      [this, payout_id](Settled settled, const store::Status& status) {
        if (!status.ok) {
          scheduler_.schedule(payout_id, clock_.now_ms() + options_.settle_retry_ms);
        } else if (settled.payout) {
          payout_metrics_.finished(*settled.payout);
        }
      });
  if (!submit(std::move(job))) {
    scheduler_.schedule(payout_id, clock_.now_ms() + options_.settle_retry_ms);
  }
}

}  // namespace payoutd::engine
