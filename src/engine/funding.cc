#include "engine/funding.h"

#include "core/assert.h"
#include "engine/payouts.h"
#include "engine/postings.h"

namespace payoutd::engine {

using ledger::Account;
using ledger::AccountKind;
using ledger::TransferResult;
using store::PayoutKind;
using store::PayoutRecord;
using store::WriteTxn;

namespace {

constexpr std::string_view kOutside = "external";  // the system account's purpose

std::string fingerprint(const FundingMove& m) {
  std::string f = m.funder_code;
  f.append(1, kFieldSeparator).append(std::to_string(m.amount.minor)).append(1, kFieldSeparator);
  f.append(m.amount.currency.code());
  return f;
}

}  // namespace

PayoutKind funding_kind(FundingDirection direction) {
  return direction == FundingDirection::kCredit ? PayoutKind::kFunderCredit
                                                : PayoutKind::kFunderDebit;
}

FundingMove funding_move(FundingDirection direction, std::string tenant, std::string id,
                         std::string funder_code, Amount amount) {
  return {direction,     std::move(tenant),
          std::move(id), std::move(funder_code),
          amount,        system_code(kOutside, amount.currency)};
}

void declare_funding(const FundingMove& m, store::Footprint& f) {
  // The footprint's views point into the move, which lives as long as its job.
  f.payouts.push_back({m.tenant, funding_kind(m.direction), m.id});
  f.accounts.push_back({m.tenant, AccountKind::kFunder, m.funder_code});
  f.accounts.push_back({m.tenant, AccountKind::kSystem, m.outside_code});
}

std::optional<FundingResult> check_funding(WriteTxn& txn, const FundingMove& m) {
  const char* id_name = m.direction == FundingDirection::kCredit ? "creditId" : "debitId";
  if (auto seen = replay(txn, m.tenant, funding_kind(m.direction), m.id, fingerprint(m))) {
    if (seen->first == Error::kNone) {
      return FundingResult{FundingOutcome::kDone, {}, std::move(seen->second), true};
    }
    return FundingResult{FundingOutcome::kIdConflict, std::string(id_name) + " reused",
                         std::move(seen->second)};
  }
  const Account* funder = txn.find_account(m.tenant, AccountKind::kFunder, m.funder_code);
  if (!funder) return FundingResult{FundingOutcome::kFunderNotFound, "no such funder", {}};
  if (!(funder->currency == m.amount.currency)) {
    return FundingResult{
        FundingOutcome::kCurrencyMismatch, "the funder holds another currency", {}};
  }
  if (m.direction == FundingDirection::kDebit && funder->available() < m.amount.minor) {
    return FundingResult{FundingOutcome::kInsufficientFunds,
                         "the funder's available balance is less than the debit",
                         {}};
  }
  return std::nullopt;
}

FundingResult apply_funding(WriteTxn& txn, const FundingMove& m, std::int64_t now_ms) {
  if (std::optional<FundingResult> answered = check_funding(txn, m)) return std::move(*answered);
  Account* funder = txn.find_account(m.tenant, AccountKind::kFunder, m.funder_code);
  Account* outside = system_account(txn, m.tenant, kOutside, m.amount.currency, now_ms);
  const bool credit = m.direction == FundingDirection::kCredit;
  Account& from = credit ? *outside : *funder;
  Account& to = credit ? *funder : *outside;
  PayoutRecord p;
  p.tenant = m.tenant;
  p.kind = funding_kind(m.direction);
  p.partner_id = m.id;
  p.fingerprint = fingerprint(m);
  p.status = store::PayoutStatus::kSuccess;
  p.source_account_id = from.id;
  p.destination_account_id = to.id;
  p.amount = m.amount.minor;
  p.currency = m.amount.currency;
  p.source_ref = from.code;
  p.destination_ref = to.code;
  p.created_ms = p.updated_ms = now_ms;
  ledger::Transfer t;
  t.debit_account_id = from.id;
  t.credit_account_id = to.id;
  t.amount = m.amount.minor;
  t.currency = m.amount.currency;
  t.timestamp_ms = now_ms;
  t.reference = transfer_reference(p);
  const TransferResult moved = move(txn, t, from, to, nullptr, nullptr);
  // check_funding ruled out every refusal the ledger knows but an overflow of a counter.
  if (moved != TransferResult::kOk) {
    return FundingResult{FundingOutcome::kInsufficientFunds,
                         std::string("the move could not be applied: ") + ledger::to_string(moved),
                         {}};
  }
  p.id = txn.insert_payout(p);
  return FundingResult{FundingOutcome::kDone, {}, std::move(p)};
}

}  // namespace payoutd::engine
