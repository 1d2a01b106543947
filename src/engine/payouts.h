#pragma once
// The payout engine: protocol-free commands that move money through the ledger, exactly once
// per (tenant, partner id). Dialects translate their wire formats into these commands and the
// results back; they never touch the ledger or the store themselves.
//
// Threads: commands may be issued from any thread. Asynchronous commands complete their
// callback on the committer's syncer thread once the outcome is durable (or on the committer
// thread when nothing happened); callbacks must be quick and must not read the store.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/tenant.h"
#include "engine/committer.h"
#include "engine/payout_metrics.h"
#include "engine/scheduler.h"
#include "store/store.h"

namespace payoutd::engine {

// Expected failures of a command: the command changed nothing. Business declines are not
// errors: they are a payout with status kDeclined.
enum class Error : std::uint8_t {
  kNone,
  kSourceNotFound,       // funder unknown in the tenant
  kDestinationNotFound,  // client unknown in the tenant
  kCurrencyMismatch,     // amount currency differs from an account's
  kIdConflict,           // partner id reused with a different request
  kNotFound,             // a read of something that does not exist
  kInvalid,              // a request the engine refuses (see detail)
  kUnavailable,          // overloaded or storage failure: nothing happened, retry
};

const char* to_string(Error error);

// Separates the fields of fingerprints and composite record keys (never part of a partner id).
inline constexpr char kFieldSeparator = '\x1f';

// Decline codes (store::PayoutRecord::decline_code).
inline constexpr std::string_view kDeclineInsufficientFunds = "FUNDER_INSUFFICIENT_FUNDS";
inline constexpr std::string_view kDeclineClientBlocked = "CLIENT_ACCOUNT_BLOCKED";
inline constexpr std::string_view kDeclineFunderBlocked = "FUNDER_BLOCKED";
inline constexpr std::string_view kDeclineWalletInsufficientFunds = "INSUFFICIENT_FUNDS";
inline constexpr std::string_view kDeclineLimitExceeded = "ACCOUNT_LIMIT_EXCEEDED";

// The kinds of operation a wallet's history records, in the engine's own words; providers name
// and number them in their dialects (QIWI: providers/qiwi/operation_names.h). The numbers are
// persisted: the history table's type_id column and the fingerprints of recorded operations
// (payouts.fingerprint) hold them, so a kind keeps its number forever. They are the numbers the
// stored databases already hold (which happen to be QIWI's).
enum class OperationKind : int {
  kProviderPayment = 1,      // the client pays a provider from the wallet
  kCardPurchase = 2,         // a purchase with the wallet's card
  kInvoiceCredit = 3,        // an invoice paid into the wallet from outside
  kClientTransfer = 4,       // from one client's wallet to another client's
  kCardCredit = 5,           // money pushed to the wallet through its card
  kCardBalanceInquiry = 10,  // a card balance inquiry: moves only its commission
  kFunderPayout = 20,        // a funder's payout to the wallet (PayoutEngine::wallet_payout)
};
enum class WalletDomain : int { kPayments = 0, kCards = 1 };
enum class BalanceImpact : int { kIncome = 0, kExpense = 1 };

struct WalletPayout {
  Tenant tenant;
  std::string transaction_id;
  std::string funder_code;
  std::string client_id;
  Amount amount;
};

struct PayoutResult {
  Error error = Error::kNone;
  std::string detail;  // English, for the error's description
  store::PayoutRecord payout;
  bool created = false;  // this command's batch created the payout (not a replay)
};
using PayoutCallback = std::function<void(PayoutResult)>;

struct FunderSpec {
  Tenant tenant;
  std::string code;
  std::string display_name;
  Currency currency;
  ledger::AccountStatus status = ledger::AccountStatus::kActive;
};

struct ClientSpec {
  Tenant tenant;
  std::string client_id;
  std::string account_code;
  Currency currency;
  ledger::AccountStatus status = ledger::AccountStatus::kActive;
  std::int64_t credit_delay_ms = 0;
};

using CardInfo = store::HistoryCard;

// An operation of another kind, recorded on wallets (sandbox admin API).
struct WalletOperation {
  Tenant tenant;
  std::string operation_id;
  OperationKind kind = OperationKind::kProviderPayment;
  std::string client_id;
  std::string to_client_id;     // kClientTransfer
  Amount amount;                // 0 for kCardBalanceInquiry
  std::int64_t commission = 0;  // minor units, same currency
  bool processing = false;      // kCardPurchase recorded as PROCESSING (funds reserved)
  std::string provider_id, provider_display_name;  // kProviderPayment
  CardInfo card;                                   // CARDS domain
};

struct AdminResult {
  Error error = Error::kNone;
  std::string detail;
  store::PayoutRecord record;             // for credits and operations
  std::vector<ledger::Account> accounts;  // for funder and client creation: their state after
};
using AdminCallback = std::function<void(AdminResult)>;

struct HistoryPage {
  // kNotFound: no such wallet; kInvalid: the cursor is not its entry; kUnavailable: the store
  // could not be read (nothing changed, retry).
  Error error = Error::kNone;
  std::string detail;
  ledger::Account account;
  std::vector<store::HistoryRecord> entries;
};

struct EngineOptions {
  // How long to wait before retrying a settlement whose batch failed to commit.
  std::int64_t settle_retry_ms = 1000;
  // This node's name in leases; nodes sharing a database need different ones.
  std::string node_id = "payoutd";
  // The settlement sweep (see PayoutEngine::claim_sweep): how often the lease is claimed, how
  // long it runs, and how overdue a payout must be before the sweep, rather than the timer of
  // the node that accepted it, settles it.
  std::int64_t sweep_interval_ms = 1000;
  std::int64_t sweep_lease_ms = 5000;
  std::int64_t sweep_grace_ms = 2000;
  // The providers the payout metrics tell apart (the config's); any other is "other".
  std::vector<std::string> metric_providers;
};

class PayoutEngine {
 public:
  PayoutEngine(Committer& committer, const store::Store& store, const Clock& clock,
               EngineOptions options = {});
  ~PayoutEngine();

  // Starts the settlement scheduler and re-schedules every payout still processing.
  void start();
  void stop();

  void wallet_payout(WalletPayout request, PayoutCallback done);
  // kNotFound, or kUnavailable when the store cannot be read.
  PayoutResult get_payout(const Tenant& tenant, store::PayoutKind kind,
                          std::string_view partner_id) const;

  // A wallet's history after `cursor` (a txnHistoryId of that wallet; nullptr for the start).
  HistoryPage wallet_history(const Tenant& tenant, std::string_view account_code,
                             const std::string* cursor, std::size_t limit) const;
  // Reads of accounts; a storage failure is the Read's error (get_payout and wallet_history
  // answer it as kUnavailable).
  store::Read<std::optional<ledger::Account>> find_account(const Tenant& tenant,
                                                           ledger::AccountKind kind,
                                                           std::string_view code) const;
  store::Read<std::vector<ledger::Account>> accounts_of(const Tenant& tenant,
                                                        ledger::AccountKind kind,
                                                        std::string_view owner) const;

  void create_funder(FunderSpec spec, AdminCallback done);
  void create_client(ClientSpec spec, AdminCallback done);
  void credit_funder(const Tenant& tenant, std::string credit_id, std::string funder_code,
                     Amount amount, AdminCallback done);
  void record_operation(WalletOperation operation, AdminCallback done);

  // The sweep hands card payouts it finds overdue (a dead node's) to `handler`.
  void on_overdue_card_payout(std::function<void(const store::PayoutRecord&)> handler);

  // Settles a processing payout now if it is due (normally called by the scheduler).
  void settle(std::int64_t payout_id);

  // Runs `done` once every state a read may have seen is durable, or `failed` when that cannot
  // be known (see Committer::after_durable). Every answer built from a read goes out through it.
  void after_durable(std::function<void()> done, std::function<void()> failed) {
    committer_.after_durable(std::move(done), std::move(failed));
  }
  // after_durable for an answer made from a read: `answer` through `respond`, or what
  // `unavailable()` makes (engine::answer_when_durable).
  template <typename Respond, typename Answer, typename Unavailable>
  void answer_when_durable(const Respond& respond, Answer answer, Unavailable unavailable) {
    engine::answer_when_durable(committer_, respond, std::move(answer), std::move(unavailable));
  }

  Committer& committer() { return committer_; }
  const Committer& committer() const { return committer_; }
  // Payouts made final on this node (the card engine counts its own there too).
  PayoutMetrics& payout_metrics() { return payout_metrics_; }
  const PayoutMetrics& payout_metrics() const { return payout_metrics_; }

 private:
  bool submit(std::unique_ptr<Job> job);
  void fire(std::int64_t id);  // the scheduler's: a payout to settle, or a step of the sweep
  void claim_sweep();
  void sweep();

  Committer& committer_;
  const store::Store& store_;
  const Clock& clock_;
  EngineOptions options_;
  std::mutex overdue_mutex_;
  std::function<void(const store::PayoutRecord&)> card_overdue_;
  Scheduler scheduler_;
  PayoutMetrics payout_metrics_;
};

// Opens a funder (a client's wallet) inside a job's transaction, `tenant` being its key: kNone
// with its account (the client's wallets) when opened now or already open with the same settings,
// kIdConflict (nothing written) when it exists with others. create_funder and create_client are
// these, each in a job of its own; the tenant directory opens a tenant's accounts with them in
// the job that writes the tenant.
AdminResult open_funder(store::WriteTxn& txn, const std::string& tenant, const FunderSpec& spec,
                        std::int64_t now_ms);
AdminResult open_client(store::WriteTxn& txn, const std::string& tenant, const ClientSpec& spec,
                        std::int64_t now_ms);

// "<kind>:<tenant>:<partner id>": the reference every transfer of a payout carries.
std::string transfer_reference(const store::PayoutRecord& payout);

}  // namespace payoutd::engine
