#include "engine/payouts.h"

#include <spdlog/spdlog.h>

#include <limits>

namespace payoutd::engine {

using ledger::Account;
using ledger::AccountKind;
using store::PayoutKind;
using store::PayoutRecord;
using store::WriteTxn;

const char* to_string(Error error) {
  switch (error) {
    case Error::kNone:
      return "none";
    case Error::kSourceNotFound:
      return "source not found";
    case Error::kDestinationNotFound:
      return "destination not found";
    case Error::kCurrencyMismatch:
      return "currency mismatch";
    case Error::kIdConflict:
      return "id conflict";
    case Error::kNotFound:
      return "not found";
    case Error::kInvalid:
      return "invalid";
    case Error::kUnavailable:
      return "unavailable";
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
      scheduler_(clock, [this](std::int64_t id) { fire(id); }),
      payout_metrics_(options_.metric_providers) {}

PayoutEngine::~PayoutEngine() { stop(); }

void PayoutEngine::start() {
  const auto processing =
      store_.processing_payouts(std::numeric_limits<std::int64_t>::max(), kResumePayoutsMax);
  // Unread, they are not lost: the settlement sweep settles every payout once it is overdue.
  if (!processing.ok()) {
    spdlog::warn("processing payouts not resumed: the sweep will settle them");
  } else {
    for (const PayoutRecord& p : *processing) {
      if (p.kind == PayoutKind::kWalletPayout) scheduler_.schedule(p.id, p.due_ms);
    }
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

PayoutResult PayoutEngine::get_payout(const Tenant& tenant, PayoutKind kind,
                                      std::string_view partner_id) const {
  auto payout = store_.get_payout(tenant.key(), kind, partner_id);
  if (!payout.ok()) return {Error::kUnavailable, "storage unavailable", {}};
  if (!*payout) return {Error::kNotFound, "no such transaction", {}};
  return {Error::kNone, {}, std::move(**payout)};
}

HistoryPage PayoutEngine::wallet_history(const Tenant& tenant, std::string_view account_code,
                                         const std::string* cursor, std::size_t limit) const {
  HistoryPage unavailable{Error::kUnavailable, "storage unavailable", {}, {}};
  HistoryPage page;
  auto account = store_.get_account(tenant.key(), AccountKind::kWallet, account_code);
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
    h.type_id = static_cast<int>(OperationKind::kFunderPayout);
    h.impact = static_cast<int>(BalanceImpact::kIncome);
  }
  page.account = std::move(**account);
  return page;
}

store::Read<std::optional<Account>> PayoutEngine::find_account(const Tenant& tenant,
                                                               AccountKind kind,
                                                               std::string_view code) const {
  return store_.get_account(tenant.key(), kind, code);
}

store::Read<std::vector<Account>> PayoutEngine::accounts_of(const Tenant& tenant, AccountKind kind,
                                                            std::string_view owner) const {
  return store_.get_accounts_by_owner(tenant.key(), kind, owner);
}

}  // namespace payoutd::engine
