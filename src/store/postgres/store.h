#pragma once
// The PostgreSQL store (store/postgres_store.h says what it promises): its lifecycle and writer
// connection here and in store.cc, its reads in reads.cc, its write transaction in write_txn.*.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/postgres/connection.h"
#include "store/postgres/pool.h"
#include "store/postgres_store.h"

namespace payoutd::store::postgres {

class PgStore final : public Store {
 public:
  // Connects (waiting up to startup_wait_s), and migrates unless read-only.
  explicit PgStore(const PostgresOptions& options);

  int schema_version() const override { return schema_version_; }
  Read<int> stored_schema_version() const override;
  // A transaction on the writer connection, reconnected first if it broke. While the database
  // is unreachable (and for reconnect_backoff_ms after each failed attempt), the transaction
  // fails at once.
  std::unique_ptr<WriteTxn> begin() override;
  // COMMIT returned after the log flush (and after the synchronous standby confirmed it, where
  // there is one): there is nothing left to make durable.
  Status sync() override { return Status::Ok(); }
  // Another node's commit may be visible here before a standby confirmed it (read_barrier_needed).
  bool read_barrier_needed() const override { return true; }

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
  PoolStats pool_stats() const override { return readers_.stats(); }
  Read<std::optional<MovementPage>> account_movements(const MovementQuery& q) const override;
  Read<AuditSnapshot> snapshot() const override;

  // Writer thread only: the next id for a transfer or a payout (or an outbox message), from the
  // node's block of kRowIdBlock ids, reserving a new block on `c` when it is used up.
  std::int64_t next_row_id(Connection& c);
  // The key of this node's row of the commit barrier (write_txn_commit.cc): one of
  // kCommitBarrierSlots, so that the rows stay few and two nodes seldom share one.
  const std::string& commit_barrier_key() const { return commit_barrier_key_; }

 private:
  using Steady = std::chrono::steady_clock;

  PostgresOptions options_;
  int schema_version_ = 0;
  // The committer's connection and what it needs (committer thread only).
  std::unique_ptr<Connection> writer_;
  Steady::time_point writer_retry_at_{};
  std::string writer_failure_;
  std::int64_t next_row_id_ = 0;
  std::int64_t row_id_end_ = 0;
  std::string commit_barrier_key_;
  mutable ReaderPool readers_;
};

}  // namespace payoutd::store::postgres
