#include "engine/payouts.h"

#include <spdlog/spdlog.h>

#include <limits>
#include <stdexcept>
#include <tuple>

#include "core/assert.h"
#include "core/ids.h"
#include "core/json.h"
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

const char* to_string(Error error) {
  switch (error) {
    case Error::kNone: return "none";
    case Error::kSourceNotFound: return "source not found";
    case Error::kDestinationNotFound: return "destination not found";
    case Error::kCurrencyMismatch: return "currency mismatch";
    case Error::kIdConflict: return "id conflict";
    case Error::kNotFound: return "not found";
    case Error::kInvalid: return "invalid";
    case Error::kUnavailable: return "unavailable";
  }
  return "unknown";
}

std::string transfer_reference(const PayoutRecord& payout) {
  std::string reference;
  reference.reserve(payout.tenant.size() + payout.partner_id.size() + 8);
  reference.append(std::to_string(static_cast<int>(payout.kind)))
      .append(":")
      .append(payout.tenant)
      .append(":")
      .append(payout.partner_id);
  return reference;
}

namespace {

Account new_account(const std::string& tenant, AccountKind kind, std::string code,
                    std::string owner, Currency currency, std::int64_t now_ms) {
  Account a;
  a.tenant = tenant;
  a.kind = kind;
  a.code = std::move(code);
  a.owner = std::move(owner);
  a.currency = currency;
  a.created_ms = now_ms;
  return a;
}

}  // namespace

std::string system_code(std::string_view purpose, Currency currency) {
  std::string code(purpose);
  code.append(":").append(currency.code());
  return code;
}

Account* system_account(WriteTxn& txn, const std::string& tenant, std::string_view purpose,
                        Currency currency, std::int64_t now_ms) {
  const std::string code = system_code(purpose, currency);
  if (Account* a = txn.find_account(tenant, AccountKind::kSystem, code)) return a;
  Account a = new_account(tenant, AccountKind::kSystem, code, std::string(purpose), currency,
                          now_ms);
  a.floor = ledger::BalanceFloor::kNone;
  return txn.insert_account(a);
}

TransferResult move(WriteTxn& txn, Transfer t, Account& debit, Account& credit,
                    const Transfer* pending, std::int64_t* transfer_id) {
  const TransferResult result = ledger::apply(t, debit, credit, pending);
  if (result != TransferResult::kOk) return result;
  const std::int64_t id = txn.insert_transfer(t);
  if (transfer_id) *transfer_id = id;
  return result;
}

std::optional<std::pair<Error, PayoutRecord>> replay(WriteTxn& txn, const std::string& tenant,
                                                     PayoutKind kind, const std::string& id,
                                                     const std::string& fingerprint) {
  auto existing = txn.find_payout(tenant, kind, id);
  if (!existing) return std::nullopt;
  if (existing->fingerprint != fingerprint) return std::make_pair(Error::kIdConflict, *existing);
  return std::make_pair(Error::kNone, *existing);
}

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

Account* wallet_in(const std::vector<Account*>& wallets, Currency currency) {
  for (Account* w : wallets) {
    if (w->currency == currency) return w;
  }
  return nullptr;
}


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
  WalletTxnType type = WalletTxnType::kFunderPayout;
  BalanceImpact impact = BalanceImpact::kIncome;
  std::int64_t amount = 0;
  std::int64_t commission = 0;
  Details details;
};

// Appends an entry to the wallet's history table (wallet operations; a wallet payout is its own
// history entry).
// Takes the wallet's next history position; the wallet is locked by the batch, so positions are
// assigned in commit order. Returns (seq, txnHistoryId).
std::pair<std::int64_t, std::string> next_history_position(Account& wallet) {
  if (wallet.id > kHistoryAccountMax || wallet.history_seq >= kHistorySeqMax) {
    throw std::length_error("history position out of range for account " +
                            std::to_string(wallet.id));
  }
  const std::int64_t seq = ++wallet.history_seq;
  return {seq, new_history_uuid(wallet.id, seq)};
}

std::string append_history(WriteTxn& txn, Account& wallet, const PayoutRecord& record,
                           const HistoryEntry& e, std::int64_t now_ms) {
  store::HistoryRecord h;
  h.account_id = wallet.id;
  std::tie(h.seq, h.txn_history_id) = next_history_position(wallet);
  h.domain = static_cast<int>(e.domain);
  h.type_id = static_cast<int>(e.type);
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


// A command that fails validation changes nothing and consumes no id, but a partner who reuses
// an id with a different (here: invalid) request learns of the conflict first.
PayoutResult refuse(WriteTxn& txn, const WalletPayout& r, const std::string& fingerprint,
                    Error error, std::string detail) {
  if (auto seen = replay(txn, r.tenant, PayoutKind::kWalletPayout, r.transaction_id,
                         fingerprint)) {
    PayoutResult result{seen->first, {}, std::move(seen->second)};
    if (result.error == Error::kIdConflict) {
      result.detail = "transactionId was already used with a different request";
    }
    return result;
  }
  return {error, std::move(detail), {}};
}

PayoutResult apply_wallet_payout(WriteTxn& txn, const WalletPayout& r, std::int64_t now_ms) {
  const std::string fingerprint = wallet_payout_fingerprint(r);
  Account* funder = txn.find_account(r.tenant, AccountKind::kFunder, r.funder_code);
  if (!funder) {
    return refuse(txn, r, fingerprint, Error::kSourceNotFound, "fromFunderId: no such funder");
  }
  const auto wallets = txn.find_accounts_by_owner(r.tenant, AccountKind::kWallet, r.client_id);
  if (wallets.empty()) {
    return refuse(txn, r, fingerprint, Error::kDestinationNotFound, "toClientId: no such client");
  }
  if (!(funder->currency == r.amount.currency)) {
    return refuse(txn, r, fingerprint, Error::kCurrencyMismatch,
                  "transactionAmount.currency: the funder holds " +
                      std::string(funder->currency.code()));
  }
  Account* wallet = wallet_in(wallets, r.amount.currency);
  if (!wallet) {
    return refuse(txn, r, fingerprint, Error::kCurrencyMismatch,
                  "transactionAmount.currency: the client has no wallet in " +
                      std::string(r.amount.currency.code()));
  }

  PayoutResult result;
  PayoutRecord& p = result.payout;
  p.tenant = r.tenant;
  p.kind = PayoutKind::kWalletPayout;
  p.partner_id = r.transaction_id;
  p.fingerprint = fingerprint;
  p.source_account_id = funder->id;
  p.destination_account_id = wallet->id;
  p.amount = r.amount.minor;
  p.currency = r.amount.currency;
  p.source_ref = r.funder_code;
  p.destination_ref = r.client_id;
  p.created_ms = p.updated_ms = now_ms;

  Transfer t;
  t.debit_account_id = funder->id;
  t.credit_account_id = wallet->id;
  t.amount = r.amount.minor;
  t.currency = r.amount.currency;
  t.timestamp_ms = now_ms;
  t.reference = transfer_reference(p);
  const bool delayed = wallet->credit_delay_ms > 0;
  t.kind = delayed ? TransferKind::kPending : TransferKind::kSingle;

  // Decide first, then claim the id: if it is taken, nothing has changed yet.
  if (funder->status == AccountStatus::kBlocked) {
    p.status = PayoutStatus::kDeclined;
    p.decline_code = std::string(kDeclineFunderBlocked);
  } else if (wallet->status == AccountStatus::kBlocked) {
    p.status = PayoutStatus::kDeclined;
    p.decline_code = std::string(kDeclineClientBlocked);
  } else if (const TransferResult checked = ledger::check(t, *funder, *wallet, nullptr);
             checked != TransferResult::kOk) {
    // Accounts and currency were validated above: only the funder's floor, or an account that
    // has moved an absurd amount of money, can refuse.
    p.status = PayoutStatus::kDeclined;
    p.decline_code = std::string(checked == TransferResult::kOverflow
                                     ? kDeclineLimitExceeded
                                     : kDeclineInsufficientFunds);
  } else {
    p.status = delayed ? PayoutStatus::kProcessing : PayoutStatus::kSuccess;
    if (delayed) p.due_ms = now_ms + wallet->credit_delay_ms;
  }
  // The payout is the wallet's history entry. Its position is taken before the id is claimed;
  // if the id turns out to be taken, the batch's copy of the wallet gives the position back.
  p.history_account_id = wallet->id;
  const std::int64_t seq_before = wallet->history_seq;
  std::tie(p.history_seq, p.history_id) = next_history_position(*wallet);
  p.id = txn.insert_payout_if_new(p);
  if (p.id == 0) {
    wallet->history_seq = seq_before;
    return refuse(txn, r, fingerprint, Error::kNone, {});
  }

  if (p.status != PayoutStatus::kDeclined) {
    std::int64_t transfer_id = 0;
    const TransferResult moved = move(txn, t, *funder, *wallet, nullptr, &transfer_id);
    PAYOUTD_ASSERT(moved == TransferResult::kOk, ledger::to_string(moved));
    if (delayed) {
      p.pending_transfer_id = transfer_id;
      txn.update_payout(p);
    }
  }
  return result;
}

void declare_wallet_payout(const WalletPayout& r, store::Footprint& f) {
  f.payouts.push_back({r.tenant, PayoutKind::kWalletPayout, r.transaction_id});
  f.accounts.push_back({r.tenant, AccountKind::kFunder, r.funder_code});
  f.account_owners.push_back({r.tenant, AccountKind::kWallet, r.client_id});
}

// The scheduler's ids of the settlement sweep's two steps; payout ids are positive.
constexpr std::int64_t kSweepClaim = -1;  // claim or renew the sweep's lease
constexpr std::int64_t kSweepRead = -2;   // the lease is held: find overdue payouts
constexpr std::string_view kSweepLease = "settlement-sweep";
constexpr std::size_t kSweepPayoutsMax = 1000;
constexpr std::size_t kResumePayoutsMax = 1'000'000;

}  // namespace

PayoutEngine::PayoutEngine(Committer& committer, const store::Store& store, const Clock& clock,
                           EngineOptions options)
    : committer_(committer),
      store_(store),
      clock_(clock),
      options_(std::move(options)),
      scheduler_(clock, [this](std::int64_t id) { fire(id); }) {}

PayoutEngine::~PayoutEngine() { stop(); }

void PayoutEngine::start() {
  const auto processing =
      store_.processing_payouts(std::numeric_limits<std::int64_t>::max(), kResumePayoutsMax);
  // Unread, they are not lost: the settlement sweep settles every payout once it is overdue.
  if (!processing.ok()) spdlog::warn("processing payouts not resumed: the sweep will settle them");
  for (const PayoutRecord& p : processing.ok() ? *processing : std::vector<PayoutRecord>{}) {
    if (p.kind == PayoutKind::kWalletPayout) scheduler_.schedule(p.id, p.due_ms);
  }
  scheduler_.schedule(kSweepClaim, clock_.now_ms() + options_.sweep_interval_ms);
  scheduler_.start();
}

void PayoutEngine::stop() { scheduler_.stop(); }

bool PayoutEngine::submit(std::unique_ptr<Job> job) { return committer_.submit(std::move(job)); }

void PayoutEngine::fire(std::int64_t id) {
  if (id == kSweepClaim) return claim_sweep();
  if (id == kSweepRead) return sweep();
  settle(id);
}

// Each node times the payouts it accepted. A node that dies takes its timers with it, so one
// node at a time (the lease holder) also looks for payouts overdue by more than a grace period
// and settles them. Settling is idempotent under the accounts' locks: when two nodes try one
// payout, the second finds it final and changes nothing.
void PayoutEngine::claim_sweep() {
  auto job = make_job<bool>(
      [this](WriteTxn& txn, std::int64_t now_ms) {
        return txn.claim_lease(kSweepLease, options_.node_id, now_ms, options_.sweep_lease_ms);
      },
      [this](bool held, const store::Status& status) {
        const std::int64_t now_ms = clock_.now_ms();
        if (status.ok && held) scheduler_.schedule(kSweepRead, now_ms);
        scheduler_.schedule(kSweepClaim, now_ms + options_.sweep_interval_ms);
      });
  if (!submit(std::move(job))) {
    scheduler_.schedule(kSweepClaim, clock_.now_ms() + options_.sweep_interval_ms);
  }
}

void PayoutEngine::sweep() {
  const std::int64_t overdue_ms = clock_.now_ms() - options_.sweep_grace_ms;
  // A failed read (the store logged it) is tried again at the next claim of the lease.
  const auto overdue = store_.processing_payouts(overdue_ms, kSweepPayoutsMax);
  if (!overdue.ok()) return;
  std::function<void(const PayoutRecord&)> card_overdue;
  {
    std::lock_guard lock(overdue_mutex_);
    card_overdue = card_overdue_;
  }
  for (const PayoutRecord& p : *overdue) {
    if (p.kind == PayoutKind::kWalletPayout) scheduler_.schedule(p.id, p.due_ms);
    if (p.kind == PayoutKind::kCardPayout && card_overdue) card_overdue(p);
  }
}

void PayoutEngine::on_overdue_card_payout(std::function<void(const PayoutRecord&)> handler) {
  std::lock_guard lock(overdue_mutex_);
  card_overdue_ = std::move(handler);
}

void PayoutEngine::wallet_payout(WalletPayout request, PayoutCallback done) {
  auto job = make_job<PayoutResult>(
      std::move(request), declare_wallet_payout,
      [](const WalletPayout& r, WriteTxn& txn, std::int64_t now_ms) {
        return apply_wallet_payout(txn, r, now_ms);
      },
      [this, done](PayoutResult result, const store::Status& status) {
        if (!status.ok) {
          done({Error::kUnavailable, "storage unavailable", {}});
          return;
        }
        if (result.error == Error::kNone && result.payout.status == PayoutStatus::kProcessing) {
          // Also on a replay: settlement is idempotent, and this re-arms a lost timer.
          scheduler_.schedule(result.payout.id, result.payout.due_ms);
        }
        done(std::move(result));
      });
  if (!submit(std::move(job))) done({Error::kUnavailable, "the engine is overloaded", {}});
}

PayoutResult PayoutEngine::get_payout(std::string_view tenant, PayoutKind kind,
                                      std::string_view partner_id) const {
  auto payout = store_.get_payout(tenant, kind, partner_id);
  if (!payout.ok()) return {Error::kUnavailable, "storage unavailable", {}};
  if (!*payout) return {Error::kNotFound, "no such transaction", {}};
  return {Error::kNone, {}, std::move(**payout)};
}

HistoryPage PayoutEngine::wallet_history(std::string_view tenant, std::string_view account_code,
                                         const std::string* cursor, std::size_t limit) const {
  const HistoryPage unavailable{Error::kUnavailable, "storage unavailable", {}, {}};
  HistoryPage page;
  auto account = store_.get_account(tenant, AccountKind::kWallet, account_code);
  if (!account.ok()) return unavailable;
  if (!*account) return {Error::kNotFound, "accountId: no such wallet", {}, {}};
  std::int64_t after_seq = 0;
  if (cursor) {
    auto position = store_.find_history(*cursor);
    if (!position.ok()) return unavailable;
    if (!*position || (*position)->first != (*account)->id) {
      return {Error::kInvalid, "cursor: not an operation of this account", {}, {}};
    }
    after_seq = (*position)->second;
  }
  auto entries = store_.history_page((*account)->id, after_seq, limit);
  if (!entries.ok()) return unavailable;
  page.entries = std::move(*entries);
  for (store::HistoryRecord& h : page.entries) {
    if (!h.from_payout) continue;
    h.domain = static_cast<int>(WalletDomain::kPayments);
    h.type_id = static_cast<int>(WalletTxnType::kFunderPayout);
    h.impact = static_cast<int>(BalanceImpact::kIncome);
  }
  page.account = std::move(**account);
  return page;
}

store::Read<std::optional<Account>> PayoutEngine::find_account(std::string_view tenant,
                                                               AccountKind kind,
                                                               std::string_view code) const {
  return store_.get_account(tenant, kind, code);
}

store::Read<std::vector<Account>> PayoutEngine::accounts_of(std::string_view tenant,
                                                            AccountKind kind,
                                                            std::string_view owner) const {
  return store_.get_accounts_by_owner(tenant, kind, owner);
}

void PayoutEngine::settle(std::int64_t payout_id) {
  struct Settled {
    bool changed = false;
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
        return Settled{true};
      },
      [this, payout_id](Settled, const store::Status& status) {
        if (!status.ok) scheduler_.schedule(payout_id, clock_.now_ms() + options_.settle_retry_ms);
      });
  if (!submit(std::move(job))) {
    scheduler_.schedule(payout_id, clock_.now_ms() + options_.settle_retry_ms);
  }
}

namespace {

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

void PayoutEngine::create_funder(FunderSpec funder, AdminCallback done) {
  submit_admin(
      committer_, std::move(funder),
      [](const FunderSpec& spec, store::Footprint& f) {
        f.accounts.push_back({spec.tenant, AccountKind::kFunder, spec.code});
      },
      [](const FunderSpec& spec, WriteTxn& txn, std::int64_t now_ms) -> AdminResult {
        if (Account* a = txn.find_account(spec.tenant, AccountKind::kFunder, spec.code)) {
          if (a->currency == spec.currency && a->owner == spec.display_name) {
            return {Error::kNone, {}, {}, {*a}};
          }
          return {Error::kIdConflict, "the funder exists with another currency or name", {}};
        }
        Account a = new_account(spec.tenant, AccountKind::kFunder, spec.code, spec.display_name,
                                spec.currency, now_ms);
        a.status = spec.status;
        return {Error::kNone, {}, {}, {*txn.insert_account(a)}};
      },
      std::move(done));
}

void PayoutEngine::create_client(ClientSpec client, AdminCallback done) {
  submit_admin(
      committer_, std::move(client),
      [](const ClientSpec& spec, store::Footprint& f) {
        f.accounts.push_back({spec.tenant, AccountKind::kWallet, spec.account_code});
        f.account_owners.push_back({spec.tenant, AccountKind::kWallet, spec.client_id});
      },
      [](const ClientSpec& spec, WriteTxn& txn, std::int64_t now_ms) -> AdminResult {
        auto wallets = [&] {
          std::vector<Account> all;
          for (Account* w :
               txn.find_accounts_by_owner(spec.tenant, AccountKind::kWallet, spec.client_id)) {
            all.push_back(*w);
          }
          return all;
        };
        if (Account* a = txn.find_account(spec.tenant, AccountKind::kWallet, spec.account_code)) {
          if (a->owner == spec.client_id && a->currency == spec.currency &&
              a->status == spec.status && a->credit_delay_ms == spec.credit_delay_ms) {
            return {Error::kNone, {}, {}, wallets()};
          }
          return {Error::kIdConflict, "the account exists with other settings", {}};
        }
        for (Account* w :
             txn.find_accounts_by_owner(spec.tenant, AccountKind::kWallet, spec.client_id)) {
          if (w->currency == spec.currency) {
            return {Error::kIdConflict, "the client already has a wallet in this currency", {}};
          }
        }
        Account a = new_account(spec.tenant, AccountKind::kWallet, spec.account_code,
                                spec.client_id, spec.currency, now_ms);
        a.status = spec.status;
        a.credit_delay_ms = spec.credit_delay_ms;
        txn.insert_account(a);
        return {Error::kNone, {}, {}, wallets()};
      },
      std::move(done));
}

namespace {

struct FunderCredit {
  std::string tenant, credit_id, funder_code;
  Amount amount;
  std::string external_code;  // the system account the money comes from
};

}  // namespace

void PayoutEngine::credit_funder(std::string tenant_id, std::string credit,
                                 std::string funder_id, Amount value, AdminCallback done) {
  FunderCredit input{std::move(tenant_id), std::move(credit), std::move(funder_id), value,
                     system_code("external", value.currency)};
  submit_admin(
      committer_, std::move(input),
      [](const FunderCredit& c, store::Footprint& f) {
        f.payouts.push_back({c.tenant, PayoutKind::kFunderCredit, c.credit_id});
        f.accounts.push_back({c.tenant, AccountKind::kFunder, c.funder_code});
        f.accounts.push_back({c.tenant, AccountKind::kSystem, c.external_code});
      },
      [](const FunderCredit& c, WriteTxn& txn, std::int64_t now_ms) -> AdminResult {
        const auto& [tenant, credit_id, funder_code, amount, external_code] = c;
        std::string fingerprint = funder_code;
        fingerprint.append(1, kSep).append(std::to_string(amount.minor)).append(1, kSep);
        fingerprint.append(amount.currency.code());
        if (auto seen = replay(txn, tenant, PayoutKind::kFunderCredit, credit_id, fingerprint)) {
          return {seen->first, seen->first == Error::kNone ? "" : "creditId reused", seen->second};
        }
        Account* funder = txn.find_account(tenant, AccountKind::kFunder, funder_code);
        if (!funder) return {Error::kSourceNotFound, "no such funder", {}};
        if (!(funder->currency == amount.currency)) {
          return {Error::kCurrencyMismatch, "the funder holds another currency", {}};
        }
        Account* outside = system_account(txn, tenant, "external", amount.currency, now_ms);
        PayoutRecord p;
        p.tenant = tenant;
        p.kind = PayoutKind::kFunderCredit;
        p.partner_id = credit_id;
        p.fingerprint = fingerprint;
        p.status = PayoutStatus::kSuccess;
        p.source_account_id = outside->id;
        p.destination_account_id = funder->id;
        p.amount = amount.minor;
        p.currency = amount.currency;
        p.source_ref = outside->code;
        p.destination_ref = funder_code;
        p.created_ms = p.updated_ms = now_ms;
        Transfer t;
        t.debit_account_id = outside->id;
        t.credit_account_id = funder->id;
        t.amount = amount.minor;
        t.currency = amount.currency;
        t.timestamp_ms = now_ms;
        t.reference = transfer_reference(p);
        if (move(txn, t, *outside, *funder, nullptr, nullptr) != TransferResult::kOk) {
          return {Error::kInvalid, "the credit could not be applied", {}};
        }
        p.id = txn.insert_payout(p);
        return {Error::kNone, {}, p};
      },
      std::move(done));
}

namespace {

// The system account on the other side of an operation; empty for transfers between clients.
std::string_view system_purpose(WalletTxnType type) {
  switch (type) {
    case WalletTxnType::kPayment: return "providers";
    case WalletTxnType::kPurchaseEPos: return "card-acquiring";
    case WalletTxnType::kBalanceInquiry: return "fees";
    case WalletTxnType::kInvoicingService:
    case WalletTxnType::kFastFunds: return "external";
    case WalletTxnType::kTransferBetweenClients:
    case WalletTxnType::kFunderPayout: break;
  }
  return {};
}

struct OperationInput {
  WalletOperation op;
  std::string system_code;  // empty when no system account takes part
};

void declare_operation(const OperationInput& in, store::Footprint& f) {
  const WalletOperation& op = in.op;
  f.payouts.push_back({op.tenant, PayoutKind::kWalletOperation, op.operation_id});
  f.account_owners.push_back({op.tenant, AccountKind::kWallet, op.client_id});
  if (op.type == WalletTxnType::kTransferBetweenClients) {
    f.account_owners.push_back({op.tenant, AccountKind::kWallet, op.to_client_id});
  }
  if (!in.system_code.empty()) {
    f.accounts.push_back({op.tenant, AccountKind::kSystem, in.system_code});
  }
}

std::string operation_fingerprint(const WalletOperation& op) {
  std::string f = std::to_string(static_cast<int>(op.type));
  for (const std::string* s :
       {&op.client_id, &op.to_client_id, &op.provider_id, &op.provider_display_name,
        &op.card.card_token_id, &op.card.masked_pan, &op.card.merchant_type,
        &op.card.merchant_id, &op.card.merchant_name, &op.card.rrn}) {
    f.append(1, kSep).append(*s);
  }
  f.append(1, kSep).append(std::to_string(op.amount.minor)).append(1, kSep);
  f.append(op.amount.currency.code()).append(1, kSep).append(std::to_string(op.commission));
  f.append(op.processing ? "P" : "S");
  return f;
}

AdminResult apply_operation(WriteTxn& txn, const WalletOperation& op, std::int64_t now_ms) {
  const std::string fingerprint = operation_fingerprint(op);
  if (auto seen = replay(txn, op.tenant, PayoutKind::kWalletOperation, op.operation_id,
                         fingerprint)) {
    return {seen->first, seen->first == Error::kNone ? "" : "operationId reused", seen->second};
  }
  const Currency currency = op.amount.currency;
  Account* wallet =
      wallet_in(txn.find_accounts_by_owner(op.tenant, AccountKind::kWallet, op.client_id),
                currency);
  if (!wallet) return {Error::kDestinationNotFound, "clientId: no wallet in that currency", {}};

  PayoutRecord p;
  p.tenant = op.tenant;
  p.kind = PayoutKind::kWalletOperation;
  p.partner_id = op.operation_id;
  p.fingerprint = fingerprint;
  p.currency = currency;
  p.created_ms = p.updated_ms = now_ms;
  p.destination_ref = op.client_id;

  HistoryEntry entry;
  entry.type = op.type;
  entry.amount = op.amount.minor;
  entry.commission = op.commission;
  Account* debit = nullptr;
  Account* credit = nullptr;
  Account* other = nullptr;
  TransferKind kind = TransferKind::kSingle;
  switch (op.type) {
    case WalletTxnType::kTransferBetweenClients:
      other = wallet_in(txn.find_accounts_by_owner(op.tenant, AccountKind::kWallet,
                                                    op.to_client_id),
                        currency);
      if (!other) return {Error::kDestinationNotFound, "toClientId: no wallet in that currency", {}};
      if (other == wallet) return {Error::kInvalid, "a client cannot transfer to itself", {}};
      debit = wallet;
      credit = other;
      entry.impact = BalanceImpact::kExpense;
      entry.details = transfer_details(other->owner, other->code);
      p.amount = op.amount.minor;
      break;
    case WalletTxnType::kPayment:
      debit = wallet;
      credit = system_account(txn, op.tenant, system_purpose(op.type), currency, now_ms);
      entry.impact = BalanceImpact::kExpense;
      entry.details = provider_details(op.provider_id, op.provider_display_name);
      p.amount = op.amount.minor;
      break;
    case WalletTxnType::kPurchaseEPos:
      debit = wallet;
      credit = system_account(txn, op.tenant, system_purpose(op.type), currency, now_ms);
      entry.domain = WalletDomain::kCards;
      entry.impact = BalanceImpact::kExpense;
      entry.details = card_details(op.card, nullptr);
      kind = op.processing ? TransferKind::kPending : TransferKind::kSingle;
      p.amount = op.amount.minor;
      break;
    case WalletTxnType::kBalanceInquiry:
      debit = wallet;
      credit = system_account(txn, op.tenant, system_purpose(op.type), currency, now_ms);
      entry.domain = WalletDomain::kCards;
      entry.impact = BalanceImpact::kExpense;
      p.amount = op.commission;
      break;
    case WalletTxnType::kInvoicingService:
    case WalletTxnType::kFastFunds:
      debit = system_account(txn, op.tenant, system_purpose(op.type), currency, now_ms);
      credit = wallet;
      entry.domain =
          op.type == WalletTxnType::kFastFunds ? WalletDomain::kCards : WalletDomain::kPayments;
      entry.impact = BalanceImpact::kIncome;
      if (op.type == WalletTxnType::kFastFunds) entry.details = card_details(op.card, nullptr);
      p.amount = op.amount.minor;
      break;
    case WalletTxnType::kFunderPayout:
      return {Error::kInvalid, "funder payouts are made through the Payments API", {}};
  }
  p.source_account_id = debit->id;
  p.destination_account_id = credit->id;
  p.status = PayoutStatus::kSuccess;
  if (p.amount > 0) {
    Transfer t;
    t.debit_account_id = debit->id;
    t.credit_account_id = credit->id;
    t.amount = p.amount;
    t.currency = currency;
    t.kind = kind;
    t.timestamp_ms = now_ms;
    t.reference = transfer_reference(p);
    std::int64_t transfer_id = 0;
    if (move(txn, t, *debit, *credit, nullptr, &transfer_id) != TransferResult::kOk) {
      p.status = PayoutStatus::kDeclined;
      p.decline_code = std::string(kDeclineWalletInsufficientFunds);
    } else if (kind == TransferKind::kPending) {
      p.status = PayoutStatus::kProcessing;
      p.pending_transfer_id = transfer_id;
    }
  }
  if (op.type == WalletTxnType::kBalanceInquiry) entry.details = card_details(op.card, wallet);
  p.history_id = append_history(txn, *wallet, p, entry, now_ms);
  if (other && p.status == PayoutStatus::kSuccess) {
    HistoryEntry income = entry;
    income.impact = BalanceImpact::kIncome;
    income.details = transfer_details(wallet->owner, wallet->code);
    append_history(txn, *other, p, income, now_ms);
  }
  p.id = txn.insert_payout(p);
  return {Error::kNone, {}, p};
}

}  // namespace

void PayoutEngine::record_operation(WalletOperation operation, AdminCallback done) {
  const std::string_view purpose = system_purpose(operation.type);
  std::string code = purpose.empty() ? std::string() : system_code(purpose, operation.amount.currency);
  submit_admin(
      committer_, OperationInput{std::move(operation), std::move(code)}, declare_operation,
      [](const OperationInput& in, WriteTxn& txn, std::int64_t now_ms) {
        return apply_operation(txn, in.op, now_ms);
      },
      std::move(done));
}

}  // namespace payoutd::engine
