// The operator's commands (sandbox admin API): funders, clients, funder credits, and wallet
// operations of other kinds recorded on wallets with their history entries.
#include <tuple>

#include "engine/funding.h"
#include "engine/payouts.h"
#include "engine/postings.h"

namespace payoutd::engine {

using ledger::Account;
using ledger::AccountKind;
using ledger::Transfer;
using ledger::TransferKind;
using ledger::TransferResult;
using store::PayoutKind;
using store::PayoutRecord;
using store::PayoutStatus;
using store::WriteTxn;

namespace {

constexpr char kSep = kFieldSeparator;

using Details = store::HistoryDetails;

Details provider_details(std::string id, std::string name) {
  Details d;
  d.kind = Details::Kind::kProvider;
  d.provider_id = std::move(id);
  d.provider_name = std::move(name);
  return d;
}

Details transfer_details(std::string other_client, std::string other_account) {
  Details d;
  d.kind = Details::Kind::kTransfer;
  d.other_client_id = std::move(other_client);
  d.other_account_id = std::move(other_account);
  return d;
}

// A card operation; a balance inquiry tells the wallet's balance after it.
Details card_details(const CardInfo& card, const Account* balance_of) {
  Details d;
  d.kind = Details::Kind::kCard;
  d.card = card;
  if (balance_of) d.balance = Amount{balance_of->balance(), balance_of->currency};
  return d;
}

struct HistoryEntry {
  WalletDomain domain = WalletDomain::kPayments;
  OperationKind kind = OperationKind::kFunderPayout;
  BalanceImpact impact = BalanceImpact::kIncome;
  std::int64_t amount = 0;
  std::int64_t commission = 0;
  Details details;
};

// Appends an entry to the wallet's history table (wallet operations; a wallet payout is its own
// history entry). Returns its txnHistoryId.
std::string append_history(WriteTxn& txn, Account& wallet, const PayoutRecord& record,
                           const HistoryEntry& e, std::int64_t now_ms) {
  store::HistoryRecord h;
  h.account_id = wallet.id;
  std::tie(h.seq, h.txn_history_id) = next_history_position(wallet);
  h.domain = static_cast<int>(e.domain);
  h.type_id = static_cast<int>(e.kind);  // the stored number (see OperationKind)
  h.status = static_cast<int>(record.status);
  h.impact = static_cast<int>(e.impact);
  h.domain_txn_id = record.partner_id;
  h.amount = e.amount;
  h.commission = e.commission;
  h.currency = wallet.currency;
  h.created_ms = now_ms;
  h.error_code = record.decline_code;
  h.details = e.details;
  txn.insert_history(h);
  return h.txn_history_id;
}

template <typename Input, typename Declare, typename Apply>
void submit_admin(Committer& committer, Input input, Declare declare, Apply apply,
                  AdminCallback done) {
  auto job = make_job<AdminResult>(std::move(input), std::move(declare), std::move(apply),
                                   [done](AdminResult result, const store::Status& status) {
                                     if (!status.ok) {
                                       done({Error::kUnavailable, "storage unavailable", {}});
                                       return;
                                     }
                                     done(std::move(result));
                                   });
  if (!committer.submit(std::move(job))) {
    done({Error::kUnavailable, "the engine is overloaded", {}});
  }
}

}  // namespace

AdminResult open_funder(WriteTxn& txn, const std::string& tenant, const FunderSpec& spec,
                        std::int64_t now_ms) {
  if (Account* a = txn.find_account(tenant, AccountKind::kFunder, spec.code)) {
    if (a->currency == spec.currency && a->owner == spec.display_name) {
      return {Error::kNone, {}, {}, {*a}};
    }
    return {Error::kIdConflict, "the funder exists with another currency or name", {}};
  }
  Account a = new_account(tenant, AccountKind::kFunder, spec.code, spec.display_name, spec.currency,
                          now_ms);
  a.status = spec.status;
  return {Error::kNone, {}, {}, {*txn.insert_account(a)}};
}

AdminResult open_client(WriteTxn& txn, const std::string& tenant, const ClientSpec& spec,
                        std::int64_t now_ms) {
  auto wallets = [&] {
    std::vector<Account> all;
    for (Account* w : txn.find_accounts_by_owner(tenant, AccountKind::kWallet, spec.client_id)) {
      all.push_back(*w);
    }
    return all;
  };
  if (Account* a = txn.find_account(tenant, AccountKind::kWallet, spec.account_code)) {
    if (a->owner == spec.client_id && a->currency == spec.currency && a->status == spec.status &&
        a->credit_delay_ms == spec.credit_delay_ms) {
      return {Error::kNone, {}, {}, wallets()};
    }
    return {Error::kIdConflict, "the account exists with other settings", {}};
  }
  for (Account* w : txn.find_accounts_by_owner(tenant, AccountKind::kWallet, spec.client_id)) {
    if (w->currency == spec.currency) {
      return {Error::kIdConflict, "the client already has a wallet in this currency", {}};
    }
  }
  Account a = new_account(tenant, AccountKind::kWallet, spec.account_code, spec.client_id,
                          spec.currency, now_ms);
  a.status = spec.status;
  a.credit_delay_ms = spec.credit_delay_ms;
  txn.insert_account(a);
  return {Error::kNone, {}, {}, wallets()};
}

void PayoutEngine::create_funder(FunderSpec funder, AdminCallback done) {
  submit_admin(
      committer_, Keyed<FunderSpec>(std::move(funder)),
      [](const Keyed<FunderSpec>& in, store::Footprint& f) {
        f.accounts.push_back({in.tenant, AccountKind::kFunder, in.command.code});
      },
      [](const Keyed<FunderSpec>& in, WriteTxn& txn, std::int64_t now_ms) {
        return open_funder(txn, in.tenant, in.command, now_ms);
      },
      std::move(done));
}

void PayoutEngine::create_client(ClientSpec client, AdminCallback done) {
  submit_admin(
      committer_, Keyed<ClientSpec>(std::move(client)),
      [](const Keyed<ClientSpec>& in, store::Footprint& f) {
        f.accounts.push_back({in.tenant, AccountKind::kWallet, in.command.account_code});
        f.account_owners.push_back({in.tenant, AccountKind::kWallet, in.command.client_id});
      },
      [](const Keyed<ClientSpec>& in, WriteTxn& txn, std::int64_t now_ms) {
        return open_client(txn, in.tenant, in.command, now_ms);
      },
      std::move(done));
}

void PayoutEngine::credit_funder(const Tenant& tenant_id, std::string credit, std::string funder_id,
                                 Amount value, AdminCallback done) {
  submit_admin(
      committer_,
      funding_move(FundingDirection::kCredit, tenant_id.key(), std::move(credit),
                   std::move(funder_id), value),
      [](const FundingMove& m, store::Footprint& f) { declare_funding(m, f); },
      [](const FundingMove& m, WriteTxn& txn, std::int64_t now_ms) -> AdminResult {
        FundingResult r = apply_funding(txn, m, now_ms);
        switch (r.outcome) {
          case FundingOutcome::kDone:
            return {Error::kNone, {}, std::move(r.record)};
          case FundingOutcome::kFunderNotFound:
            return {Error::kSourceNotFound, std::move(r.detail), {}};
          case FundingOutcome::kCurrencyMismatch:
            return {Error::kCurrencyMismatch, std::move(r.detail), {}};
          case FundingOutcome::kIdConflict:
            return {Error::kIdConflict, std::move(r.detail), std::move(r.record)};
          case FundingOutcome::kInsufficientFunds:
            break;  // a credit never lowers a balance: only a counter's overflow
        }
        return {Error::kInvalid, "the credit could not be applied", {}};
      },
      std::move(done));
}

namespace {

// The system account on the other side of an operation; empty for transfers between clients.
std::string_view system_purpose(OperationKind kind) {
  switch (kind) {
    case OperationKind::kProviderPayment:
      return "providers";
    case OperationKind::kCardPurchase:
      return "card-acquiring";
    case OperationKind::kCardBalanceInquiry:
      return "fees";
    case OperationKind::kInvoiceCredit:
    case OperationKind::kCardCredit:
      return "external";
    case OperationKind::kClientTransfer:
    case OperationKind::kFunderPayout:
      break;
  }
  return {};
}

struct OperationInput {
  std::string tenant;  // op.tenant's stored key
  WalletOperation op;
  std::string system_code;  // empty when no system account takes part
};

void declare_operation(const OperationInput& in, store::Footprint& f) {
  const WalletOperation& op = in.op;
  f.payouts.push_back({in.tenant, PayoutKind::kWalletOperation, op.operation_id});
  f.account_owners.push_back({in.tenant, AccountKind::kWallet, op.client_id});
  if (op.kind == OperationKind::kClientTransfer) {
    f.account_owners.push_back({in.tenant, AccountKind::kWallet, op.to_client_id});
  }
  if (!in.system_code.empty()) {
    f.accounts.push_back({in.tenant, AccountKind::kSystem, in.system_code});
  }
}

// Starts with the kind's stored number (see OperationKind): fingerprints are persisted.
std::string operation_fingerprint(const WalletOperation& op) {
  std::string f = std::to_string(static_cast<int>(op.kind));
  for (const std::string* s :
       {&op.client_id, &op.to_client_id, &op.provider_id, &op.provider_display_name,
        &op.card.card_token_id, &op.card.masked_pan, &op.card.merchant_type, &op.card.merchant_id,
        &op.card.merchant_name, &op.card.rrn}) {
    f.append(1, kSep).append(*s);
  }
  f.append(1, kSep).append(std::to_string(op.amount.minor)).append(1, kSep);
  f.append(op.amount.currency.code()).append(1, kSep).append(std::to_string(op.commission));
  f.append(op.processing ? "P" : "S");
  return f;
}

PayoutRecord new_operation_record(const std::string& tenant, const WalletOperation& op,
                                  const std::string& fingerprint, std::int64_t now_ms) {
  PayoutRecord p;
  p.tenant = tenant;
  p.kind = PayoutKind::kWalletOperation;
  p.partner_id = op.operation_id;
  p.fingerprint = fingerprint;
  p.currency = op.amount.currency;
  p.created_ms = p.updated_ms = now_ms;
  p.destination_ref = op.client_id;
  return p;
}

// How an operation moves money: the accounts on either side, the amount (a balance inquiry's
// commission), the entry it leaves in the client's history; or why it is refused (error set,
// nothing changed).
struct OperationPlan {
  Account* debit = nullptr;
  Account* credit = nullptr;
  Account* other = nullptr;  // the receiving client's wallet of a transfer between clients
  TransferKind kind = TransferKind::kSingle;
  std::int64_t amount = 0;
  HistoryEntry entry;
  Error error = Error::kNone;
  std::string detail;
};

// A transfer between clients: both wallets in the operation's currency, two different ones.
void plan_client_transfer(WriteTxn& txn, const std::string& tenant, const WalletOperation& op,
                          Account& wallet, OperationPlan& plan) {
  Account* other =
      wallet_in(txn.find_accounts_by_owner(tenant, AccountKind::kWallet, op.to_client_id),
                op.amount.currency);
  if (!other) {
    plan.error = Error::kDestinationNotFound;
    plan.detail = "toClientId: no wallet in that currency";
    return;
  }
  if (other == &wallet) {
    plan.error = Error::kInvalid;
    plan.detail = "a client cannot transfer to itself";
    return;
  }
  plan.debit = &wallet;
  plan.credit = plan.other = other;
  plan.entry.impact = BalanceImpact::kExpense;
  plan.entry.details = transfer_details(other->owner, other->code);
}

OperationPlan plan_operation(WriteTxn& txn, const std::string& tenant, const WalletOperation& op,
                             Account& wallet, std::int64_t now_ms) {
  OperationPlan plan;
  plan.entry.kind = op.kind;
  plan.entry.amount = op.amount.minor;
  plan.entry.commission = op.commission;
  plan.amount = op.amount.minor;
  auto system_side = [&] {
    return system_account(txn, tenant, system_purpose(op.kind), op.amount.currency, now_ms);
  };
  switch (op.kind) {
    case OperationKind::kClientTransfer:
      plan_client_transfer(txn, tenant, op, wallet, plan);
      break;
    case OperationKind::kProviderPayment:
      plan.debit = &wallet;
      plan.credit = system_side();
      plan.entry.impact = BalanceImpact::kExpense;
      plan.entry.details = provider_details(op.provider_id, op.provider_display_name);
      break;
    case OperationKind::kCardPurchase:
      plan.debit = &wallet;
      plan.credit = system_side();
      plan.entry.domain = WalletDomain::kCards;
      plan.entry.impact = BalanceImpact::kExpense;
      plan.entry.details = card_details(op.card, nullptr);
      plan.kind = op.processing ? TransferKind::kPending : TransferKind::kSingle;
      break;
    case OperationKind::kCardBalanceInquiry:
      // Its details tell the balance after the commission: see record_operation_history.
      plan.debit = &wallet;
      plan.credit = system_side();
      plan.entry.domain = WalletDomain::kCards;
      plan.entry.impact = BalanceImpact::kExpense;
      plan.amount = op.commission;
      break;
    case OperationKind::kInvoiceCredit:
    case OperationKind::kCardCredit: {
      const bool card = op.kind == OperationKind::kCardCredit;
      plan.debit = system_side();
      plan.credit = &wallet;
      plan.entry.domain = card ? WalletDomain::kCards : WalletDomain::kPayments;
      plan.entry.impact = BalanceImpact::kIncome;
      if (card) plan.entry.details = card_details(op.card, nullptr);
      break;
    }
    case OperationKind::kFunderPayout:
      plan.error = Error::kInvalid;
      plan.detail = "funder payouts are made through the Payments API";
      break;
  }
  return plan;
}

// Moves the plan's amount (if any): declined when the debited account cannot pay, processing
// while a card purchase's reservation waits.
void post_operation(WriteTxn& txn, const OperationPlan& plan, PayoutRecord& p,
                    std::int64_t now_ms) {
  p.source_account_id = plan.debit->id;
  p.destination_account_id = plan.credit->id;
  p.amount = plan.amount;
  p.status = PayoutStatus::kSuccess;
  if (p.amount <= 0) return;
  Transfer t;
  t.debit_account_id = plan.debit->id;
  t.credit_account_id = plan.credit->id;
  t.amount = p.amount;
  t.currency = p.currency;
  t.kind = plan.kind;
  t.timestamp_ms = now_ms;
  t.reference = transfer_reference(p);
  std::int64_t transfer_id = 0;
  if (move(txn, t, *plan.debit, *plan.credit, nullptr, &transfer_id) != TransferResult::kOk) {
    p.status = PayoutStatus::kDeclined;
    p.decline_code = std::string(kDeclineWalletInsufficientFunds);
  } else if (plan.kind == TransferKind::kPending) {
    p.status = PayoutStatus::kProcessing;
    p.pending_transfer_id = transfer_id;
  }
}

// The operation's entry in the client's history; a transfer that went through also leaves one,
// as income, in the receiving client's.
void record_operation_history(WriteTxn& txn, const WalletOperation& op, Account& wallet,
                              OperationPlan& plan, PayoutRecord& p, std::int64_t now_ms) {
  if (op.kind == OperationKind::kCardBalanceInquiry) {
    plan.entry.details = card_details(op.card, &wallet);
  }
  p.history_id = append_history(txn, wallet, p, plan.entry, now_ms);
  if (plan.other && p.status == PayoutStatus::kSuccess) {
    HistoryEntry income = plan.entry;
    income.impact = BalanceImpact::kIncome;
    income.details = transfer_details(wallet.owner, wallet.code);
    append_history(txn, *plan.other, p, income, now_ms);
  }
}

AdminResult apply_operation(WriteTxn& txn, const std::string& tenant, const WalletOperation& op,
                            std::int64_t now_ms) {
  const std::string fingerprint = operation_fingerprint(op);
  if (auto seen = replay(txn, tenant, PayoutKind::kWalletOperation, op.operation_id, fingerprint)) {
    return {seen->first, seen->first == Error::kNone ? "" : "operationId reused", seen->second};
  }
  Account* wallet = wallet_in(
      txn.find_accounts_by_owner(tenant, AccountKind::kWallet, op.client_id), op.amount.currency);
  if (!wallet) return {Error::kDestinationNotFound, "clientId: no wallet in that currency", {}};

  OperationPlan plan = plan_operation(txn, tenant, op, *wallet, now_ms);
  if (plan.error != Error::kNone) return {plan.error, std::move(plan.detail), {}};
  PayoutRecord p = new_operation_record(tenant, op, fingerprint, now_ms);
  post_operation(txn, plan, p, now_ms);
  record_operation_history(txn, op, *wallet, plan, p, now_ms);
  p.id = txn.insert_payout(p);
  return {Error::kNone, {}, p};
}

}  // namespace

void PayoutEngine::record_operation(WalletOperation operation, AdminCallback done) {
  const std::string_view purpose = system_purpose(operation.kind);
  std::string code =
      purpose.empty() ? std::string() : system_code(purpose, operation.amount.currency);
  submit_admin(
      committer_, OperationInput{operation.tenant.key(), std::move(operation), std::move(code)},
      declare_operation,
      [](const OperationInput& in, WriteTxn& txn, std::int64_t now_ms) {
        return apply_operation(txn, in.tenant, in.op, now_ms);
      },
      std::move(done));
}

}  // namespace payoutd::engine
