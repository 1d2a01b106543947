#pragma once
// The SQLite store (store/sqlite_store.h says what it promises): its lifecycle, durability and
// writer side here and in store.cc, its reads in reads.cc, its write transaction in write_txn.*.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite/account_cache.h"
#include "store/sqlite/checkpointer.h"
#include "store/sqlite/connection.h"
#include "store/sqlite_store.h"

namespace payoutd::store::sqlite {

class SqliteStore final : public Store {
 public:
  // Read-write: locks the database, makes what a crashed process left durable, opens the writer,
  // migrates, loads the accounts and starts the checkpointer. Read-only (audit): only reads.
  explicit SqliteStore(const SqliteOptions& options);
  ~SqliteStore() override;

  int schema_version() const override { return schema_version_; }
  Read<int> stored_schema_version() const override;
  Status sync() override;
  std::unique_ptr<WriteTxn> begin() override;

  Read<std::optional<PayoutRecord>> get_payout(std::string_view tenant, PayoutKind kind,
                                               std::string_view partner_id) const override;
  Read<std::optional<Account>> get_account(std::string_view tenant, AccountKind kind,
                                           std::string_view code) const override;
  Read<std::vector<Account>> get_accounts_by_owner(std::string_view tenant, AccountKind kind,
                                                   std::string_view owner) const override;
  Read<std::vector<Account>> tenant_accounts(std::string_view tenant,
                                             AccountKind kind) const override;
  Read<std::vector<PayoutRecord>> payouts_page(const PayoutQuery& q) const override;
  Read<std::vector<PayoutDay>> payout_days(std::string_view tenant, std::int64_t from_ms,
                                           std::int64_t to_ms) const override;
  Read<std::optional<std::pair<std::int64_t, std::int64_t>>> find_history(
      std::string_view txn_history_id) const override;
  Read<std::vector<HistoryRecord>> history_page(std::int64_t account_id, std::int64_t after_seq,
                                                std::size_t limit) const override;
  Read<std::optional<std::string>> get_record(std::string_view tenant, std::string_view kind,
                                              std::string_view key) const override;
  Read<std::vector<std::pair<std::string, std::string>>> records_with_keys(
      std::string_view tenant, std::string_view kind,
      const std::vector<std::string>& keys) const override;
  Read<std::vector<std::pair<std::string, std::string>>> records_with_prefix(
      std::string_view tenant, std::string_view kind, std::string_view prefix,
      std::size_t limit) const override;
  Read<std::vector<OutboxMessage>> due_outbox(std::int64_t now_ms, std::size_t queue_max,
                                              std::size_t limit) const override;
  Read<std::vector<OutboxMessage>> outbox_messages(std::string_view tenant, std::string_view prefix,
                                                   std::size_t limit) const override;
  Read<std::vector<OutboxMessage>> payout_messages(std::int64_t payout_id,
                                                   std::size_t limit) const override;
  Read<std::vector<OutboxAttempt>> outbox_attempts(std::int64_t message_id) const override;
  Read<std::vector<PayoutRecord>> processing_payouts(std::int64_t due_before_ms,
                                                     std::size_t limit) const override;
  Read<PayoutSearchPage> search_payouts(const PayoutSearch& q) const override;
  Read<std::vector<PayoutRecord>> unsettled_card_payouts(std::int64_t created_before_ms,
                                                         std::size_t limit) const override;
  Read<std::vector<OutboxMessage>> failing_callbacks(std::size_t limit) const override;
  Read<std::vector<OutboxQueue>> outbox_queues(std::size_t limit) const override;
  Read<Backlog> backlog() const override;
  Read<std::optional<MovementPage>> account_movements(const MovementQuery& q) const override;
  Read<AuditSnapshot> snapshot() const override;

  // For the write transaction (writer thread only): the committed accounts, and what the writer
  // calls after each commit. It returns the log's length in frames, after waking the
  // checkpointer when the log is long.
  AccountCache& accounts() { return accounts_; }
  int note_commit();

 private:
  void open_for_writing();
  void load_accounts();

  SqliteOptions options_;
  std::optional<DatabaseLock> lock_;  // held while this store writes; released last
  std::unique_ptr<Connection> writer_;
  std::unique_ptr<Checkpointer> checkpointer_;
  int wal_fd_ = -1;     // used by sync() only
  int wal_frames_ = 0;  // the log's length after the last commit (writer thread only)
  int schema_version_ = 0;
  AccountCache accounts_;
  mutable ReaderPool readers_;
};

}  // namespace payoutd::store::sqlite
