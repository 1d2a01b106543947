// The PostgreSQL store's reads: each on a connection of the pool, seeing committed state.
#include "core/assert.h"
#include "core/ids.h"
#include "store/migration.h"
#include "store/postgres/schema.h"
#include "store/postgres/statements.h"
#include "store/postgres/store.h"
#include "store/read_guard.h"

namespace payoutd::store::postgres {
namespace {

std::int64_t count(std::size_t n) { return static_cast<std::int64_t>(n); }

template <typename E>
std::int64_t number(E e) {
  return static_cast<std::int64_t>(e);
}

std::pair<std::string, std::string> read_key_value(const Row& r) { return {r.text(0), r.text(1)}; }

// Every lane, as an array parameter.
std::string all_lanes() {
  ArrayText lanes;
  for (OutboxLane lane : kOutboxLanes) lanes.add(number(lane));
  return lanes.done();
}

std::vector<HistoryRecord> history_page_on(Connection& c, std::int64_t account_id,
                                           std::int64_t after_seq, std::size_t limit) {
  const Params params = params_of(account_id, after_seq, count(limit));
  std::vector<HistoryRecord> table = all_rows(c.query(kHistoryPage, params), read_history);
  std::vector<HistoryRecord> payouts =
      all_rows(c.query(kPayoutHistoryPage, params),
               [account_id](const Row& row) { return read_payout_history(row, account_id); });
  return merge_history(std::move(table), std::move(payouts), limit);
}

AuditSnapshot snapshot_on(Connection& c) {
  c.exec(kBeginSnapshot);
  AuditSnapshot snap;
  try {
    snap.accounts = all_rows(c.query(sql::kAllAccounts), read_account);
    snap.transfers = all_rows(c.query(sql::kAllTransfers), read_transfer);
    snap.payouts = all_rows(c.query(sql::kAllPayouts), read_payout);
    snap.history = all_rows(c.query(sql::kAllHistory), read_history_entry);
  } catch (...) {
    if (c.ok()) c.exec(kRollback);
    throw;
  }
  c.exec(kCommit);
  return snap;
}

std::int64_t net_after(Connection& c, std::int64_t account_id, std::int64_t after_ms,
                       std::int64_t after_id) {
  const Params params = params_of(account_id, after_ms, after_id);
  return *first_row(c.query(kNetAfter, params), [](const Row& row) { return row.i64(0); });
}

std::optional<MovementPage> movements_on(Connection& c, const MovementQuery& q) {
  const Params key = params_of(q.tenant, number(q.kind), q.code);
  std::optional<Account> account = first_row(c.query(kAccountByCode, key), read_account);
  if (!account) return std::nullopt;
  MovementPage page;
  page.account = std::move(*account);
  const std::int64_t id = page.account.id;
  page.net_from_start = net_after(c, id, q.from_ms - 1, kMovementIdMax);
  page.net_after_end = net_after(c, id, q.to_ms - 1, kMovementIdMax);
  page.net_after_cursor = net_after(c, id, q.after_ms, q.after_id);
  const Params params = params_of(id, q.after_ms, q.after_id, q.to_ms, count(q.limit), q.tenant);
  page.movements = all_rows(c.query(kMovements, params), read_movement<Row>);
  return page;
}

// One REPEATABLE READ transaction: the account and its movements are of one snapshot.
std::optional<MovementPage> movements_in_snapshot(Connection& c, const MovementQuery& q) {
  c.exec(kBeginReadSnapshot);
  std::optional<MovementPage> page;
  try {
    page = movements_on(c, q);
  } catch (...) {
    if (c.ok()) c.exec(kRollback);
    throw;
  }
  c.exec(kCommit);
  return page;
}

}  // namespace

Read<std::optional<PayoutRecord>> PgStore::get_payout(std::string_view tenant, PayoutKind kind,
                                                      std::string_view partner_id) const {
  return guarded_read("get_payout", [&] {
    const Params params = params_of(tenant, number(kind), partner_id);
    return first_row(readers_.read(kPayoutByKey, params), read_payout);
  });
}

Read<std::optional<Account>> PgStore::get_account(std::string_view tenant, AccountKind kind,
                                                  std::string_view code) const {
  return guarded_read("get_account", [&] {
    const Params params = params_of(tenant, number(kind), code);
    return first_row(readers_.read(kAccountByCode, params), read_account);
  });
}

Read<std::vector<Account>> PgStore::get_accounts_by_owner(std::string_view tenant, AccountKind kind,
                                                          std::string_view owner) const {
  return guarded_read("get_accounts_by_owner", [&] {
    const Params params = params_of(tenant, number(kind), owner);
    return all_rows(readers_.read(kAccountsByOwner, params), read_account);
  });
}

Read<std::vector<Account>> PgStore::tenant_accounts(std::string_view tenant,
                                                    AccountKind kind) const {
  return guarded_read("tenant_accounts", [&] {
    const Params params = params_of(tenant, number(kind));
    return all_rows(readers_.read(kTenantAccounts, params), read_account);
  });
}

Read<std::vector<PayoutRecord>> PgStore::payouts_page(const PayoutQuery& q) const {
  return guarded_read("payouts_page", [&] {
    const std::int64_t status = q.status ? number(*q.status) : -1;  // -1: any
    const Params params =
        params_of(q.tenant, status, q.created_from_ms, q.created_to_ms, q.amount_min, q.amount_max,
                  q.partner_id, q.before_id, count(q.limit));
    return all_rows(readers_.read(kPayoutsPage, params), read_payout);
  });
}

Read<std::vector<PayoutDay>> PgStore::payout_days(std::string_view tenant, std::int64_t from_ms,
                                                  std::int64_t to_ms) const {
  return guarded_read("payout_days", [&] {
    const Params params = params_of(tenant, from_ms, to_ms);
    return all_rows(readers_.read(kPayoutDays, params), read_payout_day);
  });
}

Read<std::optional<std::pair<std::int64_t, std::int64_t>>> PgStore::find_history(
    std::string_view txn_history_id) const {
  return guarded_read(
      "find_history", [&]() -> std::optional<std::pair<std::int64_t, std::int64_t>> {
        // The id carries its position; the entry at that position must carry the very same id.
        const auto position = decode_history_uuid(txn_history_id);
        if (!position) return std::nullopt;
        const Params params = params_of(position->first, position->second);
        for (const std::string& id : all_rows(readers_.read(kHistoryIdsAt, params), read_text)) {
          if (id == txn_history_id) return position;
        }
        return std::nullopt;
      });
}

Read<std::vector<HistoryRecord>> PgStore::history_page(std::int64_t account_id,
                                                       std::int64_t after_seq,
                                                       std::size_t limit) const {
  return guarded_read("history_page", [&]() -> std::vector<HistoryRecord> {
    return readers_.with_reader(
        [&](Connection& c) { return history_page_on(c, account_id, after_seq, limit); });
  });
}

Read<std::optional<std::string>> PgStore::get_record(std::string_view tenant, std::string_view kind,
                                                     std::string_view key) const {
  return guarded_read("get_record", [&] {
    const Params params = params_of(tenant, kind, key);
    return first_row(readers_.read(kRecordValue, params), read_text);
  });
}

Read<int> PgStore::stored_schema_version() const {
  return guarded_read("stored_schema_version", [&] {
    return readers_.with_reader([](Connection& c) { return read_schema_version(c); });
  });
}

Read<std::vector<std::pair<std::string, std::string>>> PgStore::records_with_keys(
    std::string_view tenant, std::string_view kind, const std::vector<std::string>& keys) const {
  PAYOUTD_ASSERT(keys.size() <= kRecordKeysMax, "records_with_keys names at most kRecordKeysMax");
  return guarded_read("records_with_keys", [&] {
    ArrayText names;
    for (const std::string& key : keys) names.add(std::string_view(key));
    const Params params = params_of(tenant, kind, names.done());
    return all_rows(readers_.read(kRecordsWithKeys, params), read_key_value);
  });
}

Read<std::vector<std::pair<std::string, std::string>>> PgStore::records_with_prefix(
    std::string_view tenant, std::string_view kind, std::string_view prefix,
    std::size_t limit) const {
  return guarded_read("records_with_prefix", [&] {
    const Params params = params_of(tenant, kind, prefix, count(prefix.size()), count(limit));
    return all_rows(readers_.read(kRecordsWithPrefix, params), read_key_value);
  });
}

Read<std::vector<OutboxMessage>> PgStore::due_outbox(std::int64_t now_ms, std::size_t queue_max,
                                                     std::size_t limit) const {
  return guarded_read("due_outbox", [&] {
    const Params params = params_of(now_ms, count(queue_max), count(limit), all_lanes());
    return all_rows(readers_.read(kDueOutbox, params), read_outbox);
  });
}

Read<std::vector<OutboxMessage>> PgStore::outbox_messages(std::string_view tenant,
                                                          std::string_view prefix,
                                                          std::size_t limit) const {
  return guarded_read("outbox_messages", [&] {
    const Params params = params_of(tenant, count(prefix.size()), prefix, count(limit));
    return all_rows(readers_.read(kOutboxByEventPrefix, params), read_outbox);
  });
}

Read<std::vector<OutboxMessage>> PgStore::payout_messages(std::int64_t payout_id,
                                                          std::size_t limit) const {
  return guarded_read("payout_messages", [&] {
    const Params params = params_of(payout_id, count(limit));
    return all_rows(readers_.read(kPayoutMessages, params), read_outbox);
  });
}

Read<std::vector<OutboxAttempt>> PgStore::outbox_attempts(std::int64_t message_id) const {
  return guarded_read("outbox_attempts", [&] {
    return all_rows(readers_.read(kOutboxAttempts, params_of(message_id)), read_outbox_attempt);
  });
}

Read<std::vector<PayoutRecord>> PgStore::processing_payouts(std::int64_t due_before_ms,
                                                            std::size_t limit) const {
  return guarded_read("processing_payouts", [&] {
    const Params params = params_of(due_before_ms, count(limit));
    return all_rows(readers_.read(kProcessingPayouts, params), read_payout);
  });
}

Read<std::optional<MovementPage>> PgStore::account_movements(const MovementQuery& q) const {
  return guarded_read("account_movements", [&] {
    return readers_.with_reader([&](Connection& c) { return movements_in_snapshot(c, q); });
  });
}

Read<AuditSnapshot> PgStore::snapshot() const {
  return guarded_read("snapshot", [&]() -> AuditSnapshot {
    return readers_.with_reader([](Connection& c) { return snapshot_on(c); });
  });
}

Read<Backlog> PgStore::backlog() const {
  return guarded_read("backlog", [&] {
    return *first_row(readers_.read(sql::kBacklog, Params{}), [](const Row& row) {
      return Backlog{row.i64(0), row.i64(1), row.i64(2), row.i64(3)};
    });
  });
}

}  // namespace payoutd::store::postgres
