#include "store/sqlite/write_txn.h"

#include "core/assert.h"
#include "store/sqlite/statements.h"
#include "store/sqlite/store.h"

namespace payoutd::store::sqlite {

SqliteWriteTxn::SqliteWriteTxn(SqliteStore& store, Connection& db) : store_(store), db_(db) {
  guarded([&] {
    db_.stmt(kBeginImmediate).exec();
    return 0;
  });
}

SqliteWriteTxn::~SqliteWriteTxn() {
  if (finished_) return;
  try {
    db_.stmt(kRollback).exec();
  } catch (const StorageError&) {
    // Nothing more to undo: SQLite rolls back on its own after a failed statement.
  }
}

template <typename F>
auto SqliteWriteTxn::guarded(F&& f) -> decltype(f()) {
  using R = decltype(f());
  if (failed_) return R{};
  try {
    return f();
  } catch (const StorageError& e) {
    failed_ = true;
    failure_ = e.what();
    return R{};
  }
}

std::int64_t SqliteWriteTxn::inserted_id() const {
  if (sqlite3_changes(db_.raw()) == 0) return 0;
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_.raw()));
}

// --- Accounts: from the cache, copied into the transaction when first touched --------------------

Account* SqliteWriteTxn::account(std::int64_t id) {
  auto it = touched_.find(id);
  if (it != touched_.end()) return it->second.get();
  const Account* committed = store_.accounts().find(id);
  if (!committed) return nullptr;
  auto copy = std::make_unique<Account>(*committed);
  Account* result = copy.get();
  touched_.emplace(id, std::move(copy));
  return result;
}

Account* SqliteWriteTxn::find_account(std::string_view tenant, AccountKind kind,
                                      std::string_view code) {
  if (auto id = store_.accounts().id_of(account_key(tenant, kind, code))) return account(*id);
  for (auto& [id, a] : touched_) {  // created in this transaction
    if (a->tenant == tenant && a->kind == kind && a->code == code) return a.get();
  }
  return nullptr;
}

std::vector<Account*> SqliteWriteTxn::find_accounts_by_owner(std::string_view tenant,
                                                             AccountKind kind,
                                                             std::string_view owner) {
  std::vector<Account*> result;
  const AccountCache& cache = store_.accounts();
  for (std::int64_t id : cache.ids_of_owner(account_key(tenant, kind, owner))) {
    result.push_back(account(id));
  }
  for (auto& [id, a] : touched_) {
    if (!cache.find(id) && a->tenant == tenant && a->kind == kind && a->owner == owner) {
      result.push_back(a.get());
    }
  }
  return result;
}

Account* SqliteWriteTxn::insert_account(const Account& account) {
  const std::int64_t id = guarded([&] {
    db_.stmt(kInsertAccount).bind_fields(account, new_account_fields).exec();
    return inserted_id();
  });
  auto copy = std::make_unique<Account>(account);
  // A failed transaction still hands out a distinct account; its commit will fail anyway.
  copy->id = id ? id : -static_cast<std::int64_t>(touched_.size() + 1);
  copy->debits_pending = copy->debits_posted = copy->credits_pending = copy->credits_posted = 0;
  copy->history_seq = 0;
  Account* result = copy.get();
  touched_.emplace(copy->id, std::move(copy));
  return result;
}

// --- Transfers, payouts, history -----------------------------------------------------------------

std::int64_t SqliteWriteTxn::insert_transfer(const Transfer& t) {
  return guarded([&] {
    db_.stmt(kInsertTransfer).bind_fields(t, transfer_fields).exec();
    return inserted_id();
  });
}

std::optional<Transfer> SqliteWriteTxn::find_transfer(std::int64_t id) {
  return guarded([&] { return first_row(db_.stmt(kTransferById).bind(id), read_transfer); });
}

std::optional<PayoutRecord> SqliteWriteTxn::find_payout(std::string_view tenant, PayoutKind kind,
                                                        std::string_view partner_id) {
  return guarded([&] {
    Stmt& s = db_.stmt(kPayoutByKey).bind(tenant).bind(static_cast<int>(kind)).bind(partner_id);
    return first_row(s, read_payout);
  });
}

std::optional<PayoutRecord> SqliteWriteTxn::find_payout_by_id(std::int64_t id) {
  return guarded([&] { return first_row(db_.stmt(kPayoutById).bind(id), read_payout); });
}

std::int64_t SqliteWriteTxn::insert_payout(const PayoutRecord& p) {
  return insert_payout_row(p, kInsertPayout);
}

std::int64_t SqliteWriteTxn::insert_payout_if_new(const PayoutRecord& p) {
  return insert_payout_row(p, kInsertPayoutIfNew);
}

std::int64_t SqliteWriteTxn::insert_payout_row(const PayoutRecord& p, const char* sql) {
  return guarded([&] {
    db_.stmt(sql).bind_fields(p, payout_fields).exec();
    return inserted_id();
  });
}

void SqliteWriteTxn::update_payout(const PayoutRecord& p) {
  guarded([&] {
    db_.stmt(kUpdatePayout).bind_fields(p, payout_state_fields).bind(p.id).exec();
    return 0;
  });
}

void SqliteWriteTxn::insert_history(const HistoryRecord& h) {
  guarded([&] {
    db_.stmt(kInsertHistory).bind_fields(h, history_fields).exec();
    return 0;
  });
}

// --- Records -------------------------------------------------------------------------------------

std::optional<std::string> SqliteWriteTxn::find_record(std::string_view tenant,
                                                       std::string_view kind,
                                                       std::string_view key) {
  return guarded([&] {
    return first_row(db_.stmt(kRecordValue).bind(tenant).bind(kind).bind(key), read_text);
  });
}

void SqliteWriteTxn::insert_record(std::string_view tenant, std::string_view kind,
                                   std::string_view key, std::string_view value) {
  guarded([&] {
    db_.stmt(kInsertRecord).bind(tenant).bind(kind).bind(key).bind(value).exec();
    return 0;
  });
}

void SqliteWriteTxn::update_record(std::string_view tenant, std::string_view kind,
                                   std::string_view key, std::string_view value) {
  guarded([&] {
    db_.stmt(kUpdateRecord).bind(value).bind(tenant).bind(kind).bind(key).exec();
    return 0;
  });
}

// --- Outbox --------------------------------------------------------------------------------------

std::int64_t SqliteWriteTxn::insert_outbox(const OutboxMessage& m) {
  return guarded([&] {
    require_sealed_if_personal(m);
    db_.stmt(kInsertOutbox).bind_fields(m, outbox_fields).exec();
    return inserted_id();
  });
}

void SqliteWriteTxn::update_outbox(const OutboxMessage& m) {
  guarded([&] {
    db_.stmt(kUpdateOutbox).bind_fields(m, outbox_state_fields).bind(m.id).exec();
    return 0;
  });
}

void SqliteWriteTxn::insert_outbox_attempt(const OutboxAttempt& a) {
  guarded([&] {
    db_.stmt(kInsertOutboxAttempt).bind_fields(a, outbox_attempt_fields).exec();
    return 0;
  });
}

std::optional<OutboxMessage> SqliteWriteTxn::find_outbox(std::int64_t id) {
  return guarded([&] { return first_row(db_.stmt(kOutboxById).bind(id), read_outbox); });
}

// --- Meta and leases -----------------------------------------------------------------------------

std::optional<std::string> SqliteWriteTxn::get_meta(std::string_view key) {
  return guarded([&] { return first_row(db_.stmt(kMetaValue).bind(key), read_text); });
}

void SqliteWriteTxn::set_meta(std::string_view key, std::string_view value) {
  guarded([&] {
    db_.stmt(kSetMeta).bind(key).bind(value).exec();
    return 0;
  });
}

bool SqliteWriteTxn::claim_lease(std::string_view name, std::string_view holder,
                                 std::int64_t now_ms, std::int64_t ttl_ms) {
  return guarded([&] {
    db_.stmt(kClaimLease).bind(name).bind(holder).bind(now_ms + ttl_ms).bind(now_ms).exec();
    return sqlite3_changes(db_.raw()) == 1;
  });
}

// --- Commit --------------------------------------------------------------------------------------

// Touched accounts are written once per batch: the hot funder row is updated once, however many
// payouts of the batch debit it.
void SqliteWriteTxn::write_accounts() {
  for (auto& [id, a] : touched_) {
    db_.stmt(kUpdateAccount).bind_fields(*a, account_state_fields).bind(id).exec();
  }
}

void SqliteWriteTxn::maybe_restart_log() {
  if (store_.note_commit() < kWalFramesMax) return;
  // NORMAL sync semantics apply: the log is synced before it is copied, the database after.
  checkpoint(db_, SQLITE_CHECKPOINT_RESTART, "log restart");
}

Status SqliteWriteTxn::commit() {
  PAYOUTD_ASSERT(!finished_, "a write transaction commits once");
  guarded([&] {
    write_accounts();
    db_.stmt(kCommit).exec();
    return 0;
  });
  if (!failed_) maybe_restart_log();
  finished_ = !failed_;
  if (failed_) return Status::Error(failure_);
  for (auto& [id, a] : touched_) store_.accounts().publish(*a);
  return Status::Ok();
}

}  // namespace payoutd::store::sqlite
