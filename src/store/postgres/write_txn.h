#pragma once
// The PostgreSQL store's write transaction: one batch, one transaction, in as few round trips as
// the batch allows. prepare() locks the declared accounts and reads the declared payouts in the
// round trip that begins it; the jobs then run against what it holds in memory (what they touch
// undeclared is locked and read on first use); commit() sends every write as one multi-row
// statement per table, pipelined with COMMIT (write_txn_commit.cc). A statement that fails
// ends the transaction: it is rolled back, and the call that sent it (and any call after it)
// throws TxnFailed, a conflict when another node got in the way or the connection was lost.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/postgres/connection.h"

namespace payoutd::store::postgres {

class PgStore;

class PgWriteTxn final : public WriteTxn {
 public:
  // `c` is null when the database is unreachable: then the transaction fails with `why`.
  PgWriteTxn(PgStore& store, Connection* c, const std::string& why);
  ~PgWriteTxn() override;

  void prepare(const Footprint& footprint) override;
  Account* account(std::int64_t id) override;
  Account* find_account(std::string_view tenant, AccountKind kind, std::string_view code) override;
  std::vector<Account*> find_accounts_by_owner(std::string_view tenant, AccountKind kind,
                                               std::string_view owner) override;
  Account* insert_account(const Account& account) override;
  std::int64_t insert_transfer(const Transfer& transfer) override;
  std::optional<Transfer> find_transfer(std::int64_t id) override;
  std::optional<PayoutRecord> find_payout(std::string_view tenant, PayoutKind kind,
                                          std::string_view partner_id) override;
  std::optional<PayoutRecord> find_payout_by_id(std::int64_t id) override;
  std::int64_t insert_payout(const PayoutRecord& payout) override;
  std::int64_t insert_payout_if_new(const PayoutRecord& payout) override;
  void update_payout(const PayoutRecord& payout) override;
  void insert_history(const HistoryRecord& entry) override;
  std::optional<std::string> find_record(std::string_view tenant, std::string_view kind,
                                         std::string_view key) override;
  void insert_record(std::string_view tenant, std::string_view kind, std::string_view key,
                     std::string_view value) override;
  void update_record(std::string_view tenant, std::string_view kind, std::string_view key,
                     std::string_view value) override;
  std::int64_t insert_outbox(const OutboxMessage& message) override;
  void update_outbox(const OutboxMessage& message) override;
  void insert_outbox_attempt(const OutboxAttempt& attempt) override;
  std::optional<OutboxMessage> find_outbox(std::int64_t id) override;
  std::optional<std::string> get_meta(std::string_view key) override;
  void set_meta(std::string_view key, std::string_view value) override;
  bool claim_lease(std::string_view name, std::string_view holder, std::int64_t now_ms,
                   std::int64_t ttl_ms) override;
  Status commit() override;

 private:
  // An account as the batch found it (`base`, to write only what changed) and as it is now.
  struct Slot {
    Account base;
    Account now;
  };
  struct PayoutSlot {
    PayoutRecord record;
    bool inserted = false;  // by this batch: the insert carries every change
    bool updated = false;   // stored before, changed by this batch
  };
  struct RecordSlot {
    std::string tenant, kind, key;
    std::optional<std::string> value;  // nullopt: looked up, not there
    bool inserted = false;
    bool updated = false;
  };
  using Steps = std::vector<Connection::Step>;

  template <typename F>
  auto guarded(F&& f) -> decltype(f());
  void begin_if_needed();
  void keep_prepared(const Footprint& f, const std::vector<Result>& results, bool lock, bool fetch);
  Account* keep(const Account& a);
  Account* keep_rows(const Result& r);
  const PayoutRecord* keep_payout(PayoutRecord p);
  std::int64_t add_payout(const PayoutRecord& p);
  std::int64_t next_row_id();

  // The steps of commit()'s round trip, table by table (write_txn_commit.cc).
  void add_transfer_inserts(Steps& steps) const;
  void add_payout_inserts(Steps& steps);
  void add_history_inserts(Steps& steps) const;
  void add_payout_updates(Steps& steps) const;
  void add_record_writes(Steps& steps) const;
  void add_account_updates(Steps& steps) const;
  Status failure() const;
  Status roll_back_failed();

  PgStore& store_;
  Connection* c_;
  bool begun_ = false;
  bool failed_ = false;
  bool conflict_ = false;
  bool finished_ = false;
  // A statement before commit() changed a row: COMMIT waits for the standby without the barrier.
  bool wrote_directly_ = false;
  std::string failure_;

  std::unordered_map<std::int64_t, std::unique_ptr<Slot>> accounts_;
  std::unordered_map<std::string, std::int64_t> by_code_;     // account_key -> id
  std::unordered_set<std::string> absent_codes_;              // looked up, not there
  std::unordered_set<std::string> owners_loaded_;             // every account of the owner
  std::unordered_map<std::int64_t, PayoutSlot> payouts_;      // read or written by the batch
  std::unordered_map<std::string, std::int64_t> payout_ids_;  // payout_key -> id (0: none)
  std::vector<std::int64_t> new_payouts_;                     // ids, in insertion order
  std::vector<std::int64_t> updated_payouts_;                 // ids of stored payouts changed
  std::vector<Transfer> new_transfers_;
  std::unordered_map<std::int64_t, std::size_t> new_transfer_index_;
  std::vector<HistoryRecord> new_history_;
  std::map<std::string, RecordSlot> records_;  // by record_key(); written in key order
};

// Runs `f` on the connection. The first statement that fails rolls the transaction back and
// throws TxnFailed; so does every call after it.
template <typename F>
auto PgWriteTxn::guarded(F&& f) -> decltype(f()) {
  if (failed_) throw TxnFailed(failure());
  try {
    return f();
  } catch (const PgError& e) {
    failed_ = true;
    // A lost connection is worth a retry on a new one, like a conflict: before COMMIT nothing
    // happened, and if COMMIT got through, every job finds its own committed work when it runs
    // again (each claims a partner id or checks a state first), and changes nothing twice.
    conflict_ = is_conflict(e.sqlstate()) || e.sqlstate() == kConnectionLost;
    failure_ = e.what();
  } catch (const StorageError& e) {
    failed_ = true;
    failure_ = e.what();
  }
  throw TxnFailed(roll_back_failed());
}

}  // namespace payoutd::store::postgres
