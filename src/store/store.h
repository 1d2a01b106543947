#pragma once
// The store: the durable source of truth behind the engine. One interface, two backends:
// embedded SQLite (the default, one node) and PostgreSQL (many nodes on one database).
//
// Writes happen only inside a WriteTxn, which the engine's committer opens for a whole batch of
// commands: every change of the batch commits atomically, or none does. A commit is ordered and
// visible at once, and durable after the next sync() (which may cover many commits: one fsync
// for several batches, while the committer already writes the next one). Nothing may be
// acknowledged to anyone before the sync() that covers it has returned. Reads for partners' GETs
// go through the const methods of Store, from any thread, and see committed state; a read that
// fails returns the failure as a value (Read<T>), as a commit returns its Status.
//
// Several nodes may write one database at once (PostgreSQL). Then a batch first declares what it
// will touch (Footprint); the transaction locks those accounts in one fixed order (by id), so
// two nodes' batches never deadlock on them, and reads the declared partner ids after the locks
// are held. A batch that still collides with another node's (both inserting one partner id, a
// deadlock on something undeclared) fails its commit with Status::conflict set: nothing of it
// happened, and the committer runs it again, when it sees the other node's rows.
//
// Tenants. Every `tenant` here (a parameter, a record's field) is the tenant's persisted key,
// Tenant::key() of core/tenant.h ("<provider>:<id>"), or "" for what belongs to no tenant (the
// vault's data key, the order-id index, cabinet sessions). The store treats it as an opaque
// string: the engine calls key() where it hands a tenant to the store, and reads a stored one
// back with Tenant::parse, never by its prefix.
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "ledger/ledger.h"

namespace payoutd::store {

// What a partner's id names. Each (tenant, kind, partner_id) moves money at most once.
enum class PayoutKind : std::uint8_t {
  kWalletPayout = 0,     // QIWI funder payout (transactionId)
  kFunderCredit = 1,     // operator's credit of a funder (admin creditId)
  kWalletOperation = 2,  // sandbox-recorded wallet operation (admin operationId)
  kCardPayout = 3,       // payout to a bank card (Bereke orderNumber)
  kFunderDebit = 4,      // operator's debit of a funder to the partner's bank (admin debitId)
};

enum class PayoutStatus : std::uint8_t { kProcessing = 0, kSuccess = 1, kDeclined = 2 };

struct PayoutRecord {
  std::int64_t id = 0;  // assigned by the store
  std::string tenant;   // the tenant's key (see above)
  PayoutKind kind = PayoutKind::kWalletPayout;
  std::string partner_id;
  // Canonical form of the request; a replay with another fingerprint is a conflict.
  std::string fingerprint;
  PayoutStatus status = PayoutStatus::kProcessing;
  std::string decline_code;  // empty unless declined
  std::int64_t source_account_id = 0;
  std::int64_t destination_account_id = 0;
  std::int64_t amount = 0;
  Currency currency;
  std::int64_t pending_transfer_id = 0;  // the reservation while processing; 0 if none
  std::string source_ref;                // the partner's name for the source (fromFunderId)
  std::string destination_ref;           // the partner's name for the destination (toClientId)
  std::string history_id;                // txnHistoryId of the destination's history entry, if any
  // A wallet payout is itself the wallet's history entry: its place in the wallet's history.
  // 0 for records whose entries live in the history table (wallet operations).
  std::int64_t history_account_id = 0;
  std::int64_t history_seq = 0;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t due_ms = 0;  // when a processing payout is to be settled
};

// One entry of a wallet's operation history (QIWI Reports API). Ordered per account by seq.
// Entries come from the history table, or are wallet payouts (from_payout): those carry only
// their own facts (provider_* name the funder) and the engine completes them.
// A card operation's facts on a wallet's history (who took or gave the money, where).
struct HistoryCard {
  std::string card_token_id, masked_pan, merchant_type, merchant_id, merchant_name, rrn;

  bool operator==(const HistoryCard&) const = default;
};

// What an entry of a wallet's history tells beside its amounts, by what kind of operation it is:
// typed facts of payoutd's own, which each provider renders in its wire format. Stored in the
// `details` column (store/history_details.h).
struct HistoryDetails {
  enum class Kind : std::uint8_t {
    kNone,
    kProvider,  // a payment to a provider, or a funder's payout: provider_*
    kTransfer,  // a transfer between clients: the other side, other_*
    kCard,      // a card operation: card, and for a balance inquiry the balance then
  };
  Kind kind = Kind::kNone;
  std::string provider_id, provider_name;
  std::string other_client_id, other_account_id;
  HistoryCard card;
  std::optional<Amount> balance;

  bool operator==(const HistoryDetails&) const = default;
};

struct HistoryRecord {
  bool from_payout = false;  // a funder's payout: details are its provider's (read from the payout)
  std::int64_t account_id = 0;
  std::int64_t seq = 0;
  std::string txn_history_id;
  int domain = 0;   // engine::WalletDomain
  int type_id = 0;  // engine::OperationKind
  int status = 0;   // PayoutStatus as int
  int impact = 0;   // 0 income, 1 expense
  std::string domain_txn_id;
  std::int64_t amount = 0;
  std::int64_t commission = 0;
  Currency currency;
  std::int64_t created_ms = 0;
  std::string error_code;  // empty when none
  HistoryDetails details;
};

// The most keys one Store::records_with_keys names (a page of the cabinet's CSV export).
inline constexpr std::size_t kRecordKeysMax = 1000;

// A message of the outbox (callbacks to partners; later emails and SMS): written in the same
// transaction as the state change it tells of, delivered at least once by the dispatcher, with
// the same identity (tenant, event_id) and the same body on every attempt.
enum class OutboxState : std::uint8_t { kPending = 0, kDelivered = 1, kAbandoned = 2 };

// The outbox's lanes, by target: each has its own threads and its own share of the due messages,
// so a slow partner's callbacks never delay an SMS or an emailed code (nor the reverse). A
// tenant's messages of one lane are a queue. The stores compute the lane in SQL too (the `lane`
// column): the same rule, the same numbers.
enum class OutboxLane : std::uint8_t { kHttp = 0, kSms = 1, kMail = 2 };
inline constexpr OutboxLane kOutboxLanes[] = {OutboxLane::kHttp, OutboxLane::kSms,
                                              OutboxLane::kMail};

struct OutboxMessage {
  std::int64_t id = 0;  // assigned by the store
  std::string tenant;
  std::string event_id;  // unique per tenant
  std::string target;    // where it goes: an http(s) URL, "sms:<phone>" or "mailto:<address>"
  // Exactly what is sent, signed already. Of a sealed message, the vault's ciphertext (see
  // `sealed`); of a message to a person (mailto:, sms:) or a sealed one, empty once it is
  // delivered or abandoned: the body is kept only as long as it may still be sent.
  std::string body;
  // The payout the message tells of (its store id), or 0: a payout's page shows exactly the
  // messages that name it, never another's that happens to share a prefix of its event ids.
  std::int64_t payout_id = 0;
  // The body is kept sealed by the card vault (every message to a person is: it carries one-time
  // codes): whoever writes the message gives the body in clear, the engine seals it before it is
  // stored, and the dispatcher opens it only to hand it to the transport. No page shows it.
  bool sealed = false;
  OutboxState state = OutboxState::kPending;
  int attempts = 0;
  std::int64_t next_attempt_ms = 0;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::string last_result;  // of the last attempt, e.g. "HTTP 500", "timeout"
  // The id of the request that caused it (X-Request-Id: app/access_log.h), sent with it; empty
  // when none did (a timer) or it was written before version 8 of the schema.
  std::string request_id;
};

inline OutboxLane outbox_lane(std::string_view target) {
  if (target.starts_with("mailto:")) return OutboxLane::kMail;
  if (target.starts_with("sms:")) return OutboxLane::kSms;
  return OutboxLane::kHttp;
}

// Whether a message's target is a person (an email address, a phone), not a partner's system: its
// body (a one-time code) is sealed at rest, erased once final, and never shown.
inline bool to_a_person(std::string_view target) {
  return outbox_lane(target) != OutboxLane::kHttp;
}

// Whether a message's body is a secret no page shows: sealed, or to a person (a message an earlier
// version wrote before sealing existed).
inline bool body_is_secret(const OutboxMessage& m) { return m.sealed || to_a_person(m.target); }

// One delivery attempt of a message, kept for operators (admin API).
struct OutboxAttempt {
  std::int64_t message_id = 0;
  int attempt = 0;  // 1, 2, ...
  std::int64_t at_ms = 0;
  std::int64_t duration_ms = 0;
  int http_status = 0;  // 0 when no answer came
  std::string error;    // empty on an answer
};

struct AuditSnapshot {
  std::vector<ledger::Account> accounts;
  std::vector<ledger::Transfer> transfers;
  std::vector<PayoutRecord> payouts;
  struct HistoryEntry {
    std::string id;
    int status = 0;
    std::int64_t account_id = 0;
    std::int64_t seq = 0;
  };
  std::vector<HistoryEntry> history;  // the history table's entries (payout entries: payouts)
};

// Why a read failed: the storage did not answer (an I/O error, a lost connection, no free
// connection in time). Nothing was changed, and the same read later may succeed; each caller says
// what the failure means for it (a dialect answers its retryable error, a background loop tries
// again on its next tick). The message is for logs.
struct ReadError {
  std::string message;
};

// A read's result: its value, or the ReadError that kept the store from reading it.
template <typename T>
using Read = Result<T, ReadError>;

struct Status {
  bool ok = true;
  // Not ok because a concurrent writer (another node) got in the way: nothing happened, and the
  // same batch run again is expected to succeed.
  bool conflict = false;
  std::string message;
  static Status Ok() { return {}; }
  static Status Error(std::string m) { return {false, false, std::move(m)}; }
  static Status Conflict(std::string m) { return {false, true, std::move(m)}; }
};

// Thrown by a write transaction from the call that found its storage failing under it (a lost
// connection, a conflict with another node, a database that cannot be reached), and from every
// call after it. What the transaction read or wrote is void: a job must not go on computing from
// an answer the storage never gave (an account it would take for missing, a payout it would take
// for new). The transaction has rolled back; whoever runs it reports `status`, and runs the batch
// again when it is a conflict.
class TxnFailed : public std::runtime_error {
 public:
  explicit TxnFailed(Status status)
      : std::runtime_error(status.message), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

// What a batch is going to touch, declared by its jobs before any of them runs. The views point
// into the jobs, which outlive the batch's transaction.
// A page of one tenant's payouts (the partner cabinet's list), newest first: wallet and card
// payouts (not funder credits or sandbox wallet operations) matching every filter that is set.
// Keyset pagination by id: a page is the same whatever payouts arrive after its first one was
// listed, and `before_id` (the last id of the previous page) gives the next.
struct PayoutQuery {
  std::string tenant;
  std::optional<PayoutStatus> status;
  std::int64_t created_from_ms = 0;  // created_ms >= this
  std::int64_t created_to_ms = 0;    // created_ms < this; 0: no bound
  std::int64_t amount_min = 0;       // minor units, inclusive
  std::int64_t amount_max = 0;       // inclusive; 0: no bound
  std::string partner_id;            // exactly this one; empty: any
  std::int64_t before_id = 0;        // ids below this; 0: from the newest
  std::size_t limit = 50;
};

// The records of this kind are card payouts' orders (the card engine's CardOrder as JSON, keyed
// by the payout's partner id): the search by card reads their `masked_pan` through an index of
// the stores' own (schema version 10).
inline constexpr std::string_view kCardOrderRecordKind = "card-order";
inline constexpr std::int64_t kSearchEnd = std::numeric_limits<std::int64_t>::max();

// An operator's search of wallet and card payouts across tenants (the admin API's, the console's),
// newest first by (created_ms, id), matching every filter that is set. It reads through one key
// when one is set, in this order: the payout's id, the partner id (each tenant's unique key, one
// probe per tenant), the card (the orders' masked numbers). Without a key it reads the payouts by
// creation time (of one tenant, or of all) and examines at most `scan_max` of them, so its cost is
// bounded whatever the filters match: a page may then hold fewer than `limit` payouts and still
// have a next one.
struct PayoutSearch {
  std::int64_t payout_id = 0;  // the store's id; 0: any
  std::string tenant;          // a tenant's key; empty: every tenant
  std::string partner_id;      // empty: any
  std::string card;            // the first 6 and last 4 digits, "4111111111"; empty: any
  std::optional<PayoutStatus> status;
  std::string currency;                         // empty: any
  std::int64_t created_from_ms = 0;             // created_ms >= this
  std::int64_t created_to_ms = kSearchEnd;      // created_ms < this
  std::int64_t amount_min = 0;                  // minor units, inclusive
  std::int64_t amount_max = kSearchEnd;         // inclusive
  std::int64_t before_created_ms = kSearchEnd;  // the cursor: payouts before (this, before_id)
  std::int64_t before_id = kSearchEnd;
  std::size_t limit = 50;
  std::size_t scan_max = 10'000;  // payouts examined without a key
};

struct PayoutSearchPage {
  std::vector<PayoutRecord> payouts;
  // The next page's cursor, (created_ms, id) of the last payout examined; next_id 0: no more.
  std::int64_t next_created_ms = 0, next_id = 0;
};

// A queue of the outbox (a tenant's messages of one lane) with messages still to deliver.
struct OutboxQueue {
  std::string tenant;
  OutboxLane lane = OutboxLane::kHttp;
  std::int64_t pending = 0;            // messages to deliver
  std::int64_t failing = 0;            // of them, those whose attempts all failed so far
  std::int64_t oldest_created_ms = 0;  // the oldest of them
  std::int64_t next_attempt_ms_min = 0;
};

// A tenant's payouts of one day (UTC) with one status and currency: how many, and their total.
struct PayoutDay {
  std::int64_t day_ms = 0;  // the day's first millisecond
  PayoutStatus status = PayoutStatus::kProcessing;
  std::string currency;
  std::int64_t count = 0, amount = 0;
};

// A funding account's posted movements in a time range (a daily statement, engine/statements.h),
// read in one consistent snapshot. A movement is a transfer that changes the account's posted
// balance: a single transfer, or the post of a reservation, debiting or crediting it (a pending
// transfer or a void changes only what is reserved). Movements are ordered by (timestamp_ms, id).
// Of funding accounts only: the index of credits leaves out a payout's credit (to a wallet, or to
// a card rail's system account), which never credits a funding account (shared_sql.h).
struct MovementQuery {
  std::string tenant;  // the account's (tenant, kind, code)
  ledger::AccountKind kind = ledger::AccountKind::kFunder;
  std::string code;
  std::int64_t from_ms = 0, to_ms = 0;  // [from_ms, to_ms)
  // The cursor: movements after (after_ms, after_id) only. The first page: from_ms - 1 and
  // kMovementIdMax, which is before every movement of the range.
  std::int64_t after_ms = 0, after_id = 0;
  std::size_t limit = 1000;
};
inline constexpr std::int64_t kMovementIdMax = std::numeric_limits<std::int64_t>::max();

// One movement: the transfer, the other account it moved money to or from, and the payout that
// owns it (transfer_reference(payout) == transfer.reference; 0 when none does).
struct Movement {
  ledger::Transfer transfer;
  ledger::AccountKind counter_kind = ledger::AccountKind::kSystem;
  std::string counter_code;
  std::int64_t payout_id = 0;
};

// What MovementQuery reads. Each net_* is credits less debits of the account's movements after a
// place in the order: the balance at any place is the account's balance less the net after it.
struct MovementPage {
  ledger::Account account;            // as it stands in the snapshot
  std::int64_t net_from_start = 0;    // of the movements at or after from_ms
  std::int64_t net_after_end = 0;     // of the movements at or after to_ms
  std::int64_t net_after_cursor = 0;  // of the movements after (after_ms, after_id)
  std::vector<Movement> movements;    // up to `limit` after the cursor and before to_ms, in order
};

struct Footprint {
  struct AccountKey {
    std::string_view tenant;
    ledger::AccountKind kind = ledger::AccountKind::kSystem;
    std::string_view code;  // the account's code, or its owner in `account_owners`
  };
  struct PayoutKey {
    std::string_view tenant;
    PayoutKind kind = PayoutKind::kWalletPayout;
    std::string_view partner_id;
  };
  std::vector<AccountKey> accounts;        // by (tenant, kind, code)
  std::vector<AccountKey> account_owners;  // every account of (tenant, kind, owner)
  std::vector<PayoutKey> payouts;          // partner ids looked up or inserted
  std::vector<std::int64_t> payout_ids;    // payouts (and their two accounts) by id

  void clear() {
    accounts.clear();
    account_owners.clear();
    payouts.clear();
    payout_ids.clear();
  }
};

// Any call but commit() may throw TxnFailed; commit() returns the failure instead.
class WriteTxn {
 public:
  virtual ~WriteTxn() = default;

  // Called once, before anything else, with what the batch declared: locks the declared
  // accounts in id order and fetches them and the declared payouts. Whatever a job touches
  // without declaring it still works (it is locked on first use), only slower and outside the
  // fixed lock order. A store with one writer needs none of it and ignores the call.
  virtual void prepare(const Footprint& footprint) = 0;

  // Accounts returned by pointer belong to the transaction; the caller mutates them in place
  // and commit() persists them. Pointers stay valid until commit() or destruction.
  virtual ledger::Account* account(std::int64_t id) = 0;
  virtual ledger::Account* find_account(std::string_view tenant, ledger::AccountKind kind,
                                        std::string_view code) = 0;
  virtual std::vector<ledger::Account*> find_accounts_by_owner(std::string_view tenant,
                                                               ledger::AccountKind kind,
                                                               std::string_view owner) = 0;
  // Inserts a new account and returns it (id assigned).
  virtual ledger::Account* insert_account(const ledger::Account& account) = 0;

  virtual std::int64_t insert_transfer(const ledger::Transfer& transfer) = 0;
  virtual std::optional<ledger::Transfer> find_transfer(std::int64_t id) = 0;

  virtual std::optional<PayoutRecord> find_payout(std::string_view tenant, PayoutKind kind,
                                                  std::string_view partner_id) = 0;
  virtual std::optional<PayoutRecord> find_payout_by_id(std::int64_t id) = 0;
  virtual std::int64_t insert_payout(const PayoutRecord& payout) = 0;
  // Inserts the payout unless (tenant, kind, partner_id) exists; returns its id, or 0 when the id
  // was already taken (nothing was written). One index probe instead of a lookup and an insert.
  virtual std::int64_t insert_payout_if_new(const PayoutRecord& payout) = 0;
  // Updates status, decline_code, pending_transfer_id, updated_ms and due_ms.
  virtual void update_payout(const PayoutRecord& payout) = 0;

  virtual void insert_history(const HistoryRecord& entry) = 0;

  // Records: small documents the engine keeps beside the ledger (vaulted cards, bindings, a card
  // payout's order details), by (tenant, kind, key). Read-your-writes within the transaction.
  virtual std::optional<std::string> find_record(std::string_view tenant, std::string_view kind,
                                                 std::string_view key) = 0;
  // Inserts a record that must not exist yet. When another writer inserted the same key first,
  // the commit fails as a conflict (and the batch, run again, finds that writer's record).
  virtual void insert_record(std::string_view tenant, std::string_view kind, std::string_view key,
                             std::string_view value) = 0;
  // Replaces the value of an existing record (found or inserted in this transaction).
  virtual void update_record(std::string_view tenant, std::string_view kind, std::string_view key,
                             std::string_view value) = 0;

  // The outbox. A message whose (tenant, event_id) exists is not inserted again (returns 0). A
  // message to a person that is not sealed is refused (the commit fails): no code is ever stored
  // in clear, whoever forgot to seal it.
  virtual std::int64_t insert_outbox(const OutboxMessage& message) = 0;
  // Updates state, attempts, next_attempt_ms, updated_ms, last_result and body.
  virtual void update_outbox(const OutboxMessage& message) = 0;
  virtual void insert_outbox_attempt(const OutboxAttempt& attempt) = 0;
  virtual std::optional<OutboxMessage> find_outbox(std::int64_t id) = 0;

  virtual std::optional<std::string> get_meta(std::string_view key) = 0;
  virtual void set_meta(std::string_view key, std::string_view value) = 0;

  // Takes or renews the lease `name` for `holder` until now_ms + ttl_ms, unless another holder's
  // lease is still running. True when `holder` holds it after this transaction commits. Work
  // that must run on one node at a time (the settlement sweep) runs under a lease.
  virtual bool claim_lease(std::string_view name, std::string_view holder, std::int64_t now_ms,
                           std::int64_t ttl_ms) = 0;

  // Commits every change atomically, or none (then the transaction is rolled back). The commit
  // is visible to readers at once and durable after the next Store::sync().
  virtual Status commit() = 0;
};

// What waits, for the metrics' gauges (Store::backlog).
struct Backlog {
  std::int64_t outbox_pending = 0;              // outbox messages not yet delivered nor abandoned
  std::int64_t outbox_next_attempt_ms_min = 0;  // the earliest next attempt among them; 0: none
  // Card payouts reserved and not final: sent, or to be sent, to their card network, whose
  // answer or reconciliation (status query) will settle them.
  std::int64_t card_payouts_unsettled = 0;
  std::int64_t card_payouts_created_ms_min = 0;  // the oldest of them; 0: none
};

// The read pool's waits since the store opened (PostgreSQL; SQLite's readers never wait).
struct PoolStats {
  std::int64_t waits = 0;          // reads that found no free connection and waited for one
  std::int64_t wait_us_total = 0;  // how long they waited, in all
  std::int64_t timeouts = 0;       // of them, reads that got none within pool_wait_ms
};

class Store {
 public:
  virtual ~Store() = default;

  // Write side: one transaction at a time, from one thread (the committer). Storage errors
  // during the transaction's statements surface as a failed commit().
  virtual std::unique_ptr<WriteTxn> begin() = 0;
  // Durability barrier: returns once every commit that returned before the call is on stable
  // storage. Called from one thread (the committer's syncer), concurrently with begin()/commit().
  // A failure means committed data may be lost: the caller must not continue.
  virtual Status sync() = 0;
  // Whether a read may see a commit that is not durable yet and that this node's sync() does not
  // cover: another node's, visible on a PostgreSQL primary before its synchronous standby has it
  // (a failover then loses it). A read that answers anyone is then confirmed by a commit of its
  // own made after it (engine::Committer::after_durable).
  virtual bool read_barrier_needed() const { return false; }

  // Read side: thread-safe, committed state only. A read never throws: a storage failure is its
  // Read's ReadError (the store logs it), which the caller must handle.
  virtual Read<std::optional<PayoutRecord>> get_payout(std::string_view tenant, PayoutKind kind,
                                                       std::string_view partner_id) const = 0;
  virtual Read<std::optional<ledger::Account>> get_account(std::string_view tenant,
                                                           ledger::AccountKind kind,
                                                           std::string_view code) const = 0;
  virtual Read<std::vector<ledger::Account>> get_accounts_by_owner(
      std::string_view tenant, ledger::AccountKind kind, std::string_view owner) const = 0;
  // Every account of (tenant, kind), in id order.
  virtual Read<std::vector<ledger::Account>> tenant_accounts(std::string_view tenant,
                                                             ledger::AccountKind kind) const = 0;
  virtual Read<std::vector<PayoutRecord>> payouts_page(const PayoutQuery& query) const = 0;
  // The tenant's wallet and card payouts created in [from_ms, to_ms), by day, status and
  // currency, in day order.
  virtual Read<std::vector<PayoutDay>> payout_days(std::string_view tenant, std::int64_t from_ms,
                                                   std::int64_t to_ms) const = 0;
  // History entry by its id: (account_id, seq), or nullopt when no entry has that id.
  virtual Read<std::optional<std::pair<std::int64_t, std::int64_t>>> find_history(
      std::string_view txn_history_id) const = 0;
  // Up to `limit` entries of the account with seq > after_seq, in seq order, from the history
  // table and the wallet payouts together.
  virtual Read<std::vector<HistoryRecord>> history_page(std::int64_t account_id,
                                                        std::int64_t after_seq,
                                                        std::size_t limit) const = 0;
  virtual Read<std::optional<std::string>> get_record(std::string_view tenant,
                                                      std::string_view kind,
                                                      std::string_view key) const = 0;
  // The records of (tenant, kind) among `keys` (at most kRecordKeysMax; one lookup for them all,
  // where looking each up would cost a round trip to the database each): (key, value) pairs, in
  // key order; a key without a record is left out.
  virtual Read<std::vector<std::pair<std::string, std::string>>> records_with_keys(
      std::string_view tenant, std::string_view kind,
      const std::vector<std::string>& keys) const = 0;
  // Up to `limit` records of (tenant, kind) whose key starts with `key_prefix`, in key order:
  // (key, value) pairs.
  virtual Read<std::vector<std::pair<std::string, std::string>>> records_with_prefix(
      std::string_view tenant, std::string_view kind, std::string_view key_prefix,
      std::size_t limit) const = 0;
  // Pending outbox messages whose next attempt is due at `now_ms`, shared out between queues (a
  // tenant's messages of one lane): at most `queue_max` of each queue, its earliest, and up to
  // `limit` in all, taken in turns (every queue's earliest, earliest due first; then every
  // queue's second; ...), so no queue's backlog hides another's messages. An index probe per
  // tenant with pending messages and per queue, whatever the backlogs.
  virtual Read<std::vector<OutboxMessage>> due_outbox(std::int64_t now_ms, std::size_t queue_max,
                                                      std::size_t limit) const = 0;
  // The tenant's messages whose event id starts with `event_prefix`, oldest first (an operator's
  // search; a payout's own messages are payout_messages()).
  virtual Read<std::vector<OutboxMessage>> outbox_messages(std::string_view tenant,
                                                           std::string_view event_prefix,
                                                           std::size_t limit) const = 0;
  // The messages of one payout (by its store id), oldest first.
  virtual Read<std::vector<OutboxMessage>> payout_messages(std::int64_t payout_id,
                                                           std::size_t limit) const = 0;
  virtual Read<std::vector<OutboxAttempt>> outbox_attempts(std::int64_t message_id) const = 0;
  // Up to `limit` processing payouts due before `due_before_ms`, earliest first.
  virtual Read<std::vector<PayoutRecord>> processing_payouts(std::int64_t due_before_ms,
                                                             std::size_t limit) const = 0;

  // The operators' reads (docs/admin.md, "Payouts across partners"), each bounded by its limit.
  virtual Read<PayoutSearchPage> search_payouts(const PayoutSearch& search) const = 0;
  // Card payouts reserved and not final (sent, or to be sent, to a card network) created before
  // `created_before_ms`, oldest first: through payouts_processing.
  virtual Read<std::vector<PayoutRecord>> unsettled_card_payouts(std::int64_t created_before_ms,
                                                                 std::size_t limit) const = 0;
  // Callbacks (lane kHttp) that failed: pending with every attempt so far failed, or abandoned;
  // the latest changed first. Through outbox_queues and outbox_abandoned (schema version 10).
  virtual Read<std::vector<OutboxMessage>> failing_callbacks(std::size_t limit) const = 0;
  // The queues with pending messages, the largest first.
  virtual Read<std::vector<OutboxQueue>> outbox_queues(std::size_t limit) const = 0;

  // The account's movements MovementQuery asks for, with the nets around them, in one snapshot;
  // nullopt when there is no such account. Through the partial indexes of posted transfers by
  // account and time (schema version 9): its cost follows the account's movements since from_ms.
  virtual Read<std::optional<MovementPage>> account_movements(const MovementQuery& query) const = 0;

  // The backlogs above: one pass over the partial indexes of pending messages and processing
  // payouts, so its cost follows what waits, not the size of the tables.
  virtual Read<Backlog> backlog() const = 0;
  virtual PoolStats pool_stats() const { return {}; }

  // Everything audit needs, read in one read transaction (one consistent snapshot, even while
  // batches commit).
  virtual Read<AuditSnapshot> snapshot() const = 0;

  // The schema version the database is at (after the migrations run when it was opened).
  virtual int schema_version() const = 0;
  // The schema version the database records now (0: none), read from it: one key lookup, a probe
  // that the store answers (/readyz), and that no newer node migrated it past this build since.
  virtual Read<int> stored_schema_version() const = 0;
};

}  // namespace payoutd::store
