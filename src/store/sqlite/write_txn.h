#pragma once
// The SQLite store's write transaction: one BEGIN IMMEDIATE per batch on the writer connection.
// Statements run as the jobs call them; the accounts come from the store's AccountCache and are
// written once per batch at commit, then published to the cache. A statement that fails poisons
// the transaction: everything after it does nothing, and commit() reports the failure.
#include <memory>
#include <string>
#include <unordered_map>

#include "store/sqlite/connection.h"

namespace payoutd::store::sqlite {

class SqliteStore;

class SqliteWriteTxn final : public WriteTxn {
 public:
  SqliteWriteTxn(SqliteStore& store, Connection& db);
  ~SqliteWriteTxn() override;

  // The committer is the only writer: nothing to lock, and the account cache is current.
  void prepare(const Footprint&) override {}
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
  std::int64_t insert_payout_row(const PayoutRecord& payout, const char* sql);
  // The id of the row the last statement inserted, or 0 when it inserted none (a conflict that
  // the statement's ON CONFLICT DO NOTHING skipped).
  std::int64_t inserted_id() const;
  // Runs a statement-level operation; a storage error poisons the transaction.
  template <typename F>
  auto guarded(F&& f) -> decltype(f());
  void write_accounts();
  void maybe_restart_log();

  SqliteStore& store_;
  Connection& db_;
  std::unordered_map<std::int64_t, std::unique_ptr<Account>> touched_;
  bool failed_ = false;
  std::string failure_;
  bool finished_ = false;
};

}  // namespace payoutd::store::sqlite
