// The SQLite store's reads: each on a reader connection of the pool, seeing committed state.
#include <algorithm>

#include "core/assert.h"
#include "core/ids.h"
#include "store/migration.h"
#include "store/read_guard.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/statements.h"
#include "store/sqlite/store.h"

namespace payoutd::store::sqlite {
namespace {

std::int64_t count(std::size_t n) { return static_cast<std::int64_t>(n); }

// Rows of (key, value).
std::pair<std::string, std::string> read_key_value(const Stmt& s) { return {s.text(0), s.text(1)}; }

}  // namespace

Read<std::optional<PayoutRecord>> SqliteStore::get_payout(std::string_view tenant, PayoutKind kind,
                                                          std::string_view partner_id) const {
  return guarded_read("get_payout", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(kPayoutByKey).bind(tenant).bind(static_cast<int>(kind)).bind(partner_id);
    return first_row(s, read_payout);
  });
}

Read<std::optional<Account>> SqliteStore::get_account(std::string_view tenant, AccountKind kind,
                                                      std::string_view code) const {
  return guarded_read("get_account", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(kAccountByCode).bind(tenant).bind(static_cast<int>(kind)).bind(code);
    return first_row(s, read_account);
  });
}

Read<std::vector<Account>> SqliteStore::get_accounts_by_owner(std::string_view tenant,
                                                              AccountKind kind,
                                                              std::string_view owner) const {
  return guarded_read("get_accounts_by_owner", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(kAccountsByOwner).bind(tenant).bind(static_cast<int>(kind)).bind(owner);
    return all_rows(s, read_account);
  });
}

Read<std::vector<Account>> SqliteStore::tenant_accounts(std::string_view tenant,
                                                        AccountKind kind) const {
  return guarded_read("tenant_accounts", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(kTenantAccounts).bind(tenant).bind(static_cast<int>(kind));
    return all_rows(s, read_account);
  });
}

Read<std::vector<PayoutRecord>> SqliteStore::payouts_page(const PayoutQuery& q) const {
  return guarded_read("payouts_page", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(kPayoutsPage);
    s.bind(q.tenant).bind(q.status ? static_cast<int>(*q.status) : -1).bind(q.created_from_ms);
    s.bind(q.created_to_ms).bind(q.amount_min).bind(q.amount_max).bind(q.partner_id);
    s.bind(q.before_id).bind(count(q.limit));
    return all_rows(s, read_payout);
  });
}

Read<std::vector<PayoutDay>> SqliteStore::payout_days(std::string_view tenant, std::int64_t from_ms,
                                                      std::int64_t to_ms) const {
  return guarded_read("payout_days", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(kPayoutDays).bind(tenant).bind(from_ms).bind(to_ms);
    return all_rows(s, read_payout_day);
  });
}

Read<std::optional<std::pair<std::int64_t, std::int64_t>>> SqliteStore::find_history(
    std::string_view txn_history_id) const {
  return guarded_read("find_history",
                      [&]() -> std::optional<std::pair<std::int64_t, std::int64_t>> {
                        // The id carries its position; the entry at that position must carry the
                        // very same id.
                        const auto position = decode_history_uuid(txn_history_id);
                        if (!position) return std::nullopt;
                        auto reader = readers_.acquire();
                        for (const char* sql : {kHistoryIdAt, kPayoutHistoryIdAt}) {
                          Stmt& s = reader->stmt(sql).bind(position->first).bind(position->second);
                          if (first_row(s, read_text) == txn_history_id) return position;
                        }
                        return std::nullopt;
                      });
}

Read<std::vector<HistoryRecord>> SqliteStore::history_page(std::int64_t account_id,
                                                           std::int64_t after_seq,
                                                           std::size_t limit) const {
  return guarded_read("history_page", [&]() -> std::vector<HistoryRecord> {
    auto reader = readers_.acquire();
    Stmt& t = reader->stmt(kHistoryPage).bind(account_id).bind(after_seq).bind(count(limit));
    std::vector<HistoryRecord> table = all_rows(t, read_history);
    Stmt& p = reader->stmt(kPayoutHistoryPage).bind(account_id).bind(after_seq).bind(count(limit));
    std::vector<HistoryRecord> payouts =
        all_rows(p, [account_id](const Stmt& row) { return read_payout_history(row, account_id); });
    return merge_history(std::move(table), std::move(payouts), limit);
  });
}

Read<std::optional<std::string>> SqliteStore::get_record(std::string_view tenant,
                                                         std::string_view kind,
                                                         std::string_view key) const {
  return guarded_read("get_record", [&] {
    auto reader = readers_.acquire();
    return first_row(reader->stmt(kRecordValue).bind(tenant).bind(kind).bind(key), read_text);
  });
}

Read<int> SqliteStore::stored_schema_version() const {
  return guarded_read("stored_schema_version", [&] {
    auto reader = readers_.acquire();
    return read_schema_version(*reader);
  });
}

// One reader, its statement run per key: on SQLite a lookup costs no round trip.
Read<std::vector<std::pair<std::string, std::string>>> SqliteStore::records_with_keys(
    std::string_view tenant, std::string_view kind, const std::vector<std::string>& keys) const {
  PAYOUTD_ASSERT(keys.size() <= kRecordKeysMax, "records_with_keys names at most kRecordKeysMax");
  return guarded_read("records_with_keys", [&] {
    auto reader = readers_.acquire();
    std::vector<std::pair<std::string, std::string>> found;
    for (const std::string& key : keys) {
      auto value =
          first_row(reader->stmt(kRecordValue).bind(tenant).bind(kind).bind(key), read_text);
      if (value) found.emplace_back(key, std::move(*value));
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
  });
}

Read<std::vector<std::pair<std::string, std::string>>> SqliteStore::records_with_prefix(
    std::string_view tenant, std::string_view kind, std::string_view prefix,
    std::size_t limit) const {
  return guarded_read("records_with_prefix", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(kRecordsWithPrefix).bind(tenant).bind(kind).bind(prefix);
    s.bind(count(prefix.size())).bind(prefix).bind(count(limit));
    return all_rows(s, read_key_value);
  });
}

Read<std::vector<OutboxMessage>> SqliteStore::due_outbox(std::int64_t now_ms, std::size_t queue_max,
                                                         std::size_t limit) const {
  return guarded_read("due_outbox", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(kDueOutbox);
    for (OutboxLane lane : kOutboxLanes) s.bind(static_cast<int>(lane));
    s.bind(now_ms).bind(count(queue_max)).bind(count(limit));
    return all_rows(s, read_outbox);
  });
}

Read<std::vector<OutboxMessage>> SqliteStore::outbox_messages(std::string_view tenant,
                                                              std::string_view prefix,
                                                              std::size_t limit) const {
  return guarded_read("outbox_messages", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(kOutboxByEventPrefix).bind(tenant).bind(count(prefix.size()));
    s.bind(prefix).bind(count(limit));
    return all_rows(s, read_outbox);
  });
}

Read<std::vector<OutboxMessage>> SqliteStore::payout_messages(std::int64_t payout_id,
                                                              std::size_t limit) const {
  return guarded_read("payout_messages", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(kPayoutMessages).bind(payout_id).bind(count(limit));
    return all_rows(s, read_outbox);
  });
}

Read<std::vector<OutboxAttempt>> SqliteStore::outbox_attempts(std::int64_t message_id) const {
  return guarded_read("outbox_attempts", [&] {
    auto reader = readers_.acquire();
    return all_rows(reader->stmt(kOutboxAttempts).bind(message_id), read_outbox_attempt);
  });
}

Read<std::vector<PayoutRecord>> SqliteStore::processing_payouts(std::int64_t due_before_ms,
                                                                std::size_t limit) const {
  return guarded_read("processing_payouts", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(kProcessingPayouts).bind(due_before_ms).bind(count(limit));
    return all_rows(s, read_payout);
  });
}

namespace {

std::int64_t net_after(Connection& c, std::int64_t account_id, std::int64_t after_ms,
                       std::int64_t after_id) {
  Stmt& s = c.stmt(kNetAfter).bind(account_id).bind(after_ms).bind(after_id);
  return *first_row(s, [](const Stmt& row) { return row.i64(0); });
}

std::optional<MovementPage> movements_on(Connection& c, const MovementQuery& q) {
  Stmt& a = c.stmt(kAccountByCode).bind(q.tenant).bind(static_cast<int>(q.kind)).bind(q.code);
  std::optional<Account> account = first_row(a, read_account);
  if (!account) return std::nullopt;
  MovementPage page;
  page.account = std::move(*account);
  const std::int64_t id = page.account.id;
  page.net_from_start = net_after(c, id, q.from_ms - 1, kMovementIdMax);
  page.net_after_end = net_after(c, id, q.to_ms - 1, kMovementIdMax);
  page.net_after_cursor = net_after(c, id, q.after_ms, q.after_id);
  Stmt& m = c.stmt(kMovements).bind(id).bind(q.after_ms).bind(q.after_id).bind(q.to_ms);
  m.bind(count(q.limit)).bind(q.tenant);
  page.movements = all_rows(m, read_movement<Stmt>);
  return page;
}

}  // namespace

Read<std::optional<MovementPage>> SqliteStore::account_movements(const MovementQuery& q) const {
  return guarded_read("account_movements", [&] {
    auto reader = readers_.acquire();
    // One read transaction: the account and its movements are of one snapshot.
    reader->exec(kBegin);
    std::optional<MovementPage> page;
    try {
      page = movements_on(*reader, q);
    } catch (...) {
      reader->exec(kRollback);
      throw;
    }
    reader->exec(kCommit);
    return page;
  });
}

Read<AuditSnapshot> SqliteStore::snapshot() const {
  return guarded_read("snapshot", [&] {
    auto reader = readers_.acquire();
    reader->exec(kBegin);
    AuditSnapshot snap;
    try {
      snap.accounts = all_rows(reader->stmt(sql::kAllAccounts), read_account);
      snap.transfers = all_rows(reader->stmt(sql::kAllTransfers), read_transfer);
      snap.payouts = all_rows(reader->stmt(sql::kAllPayouts), read_payout);
      snap.history = all_rows(reader->stmt(sql::kAllHistory), read_history_entry);
    } catch (...) {
      reader->exec(kRollback);
      throw;
    }
    reader->exec(kCommit);
    return snap;
  });
}

Read<Backlog> SqliteStore::backlog() const {
  return guarded_read("backlog", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(sql::kBacklog);
    return *first_row(s, [](const Stmt& row) {
      return Backlog{row.i64(0), row.i64(1), row.i64(2), row.i64(3)};
    });
  });
}

}  // namespace payoutd::store::sqlite
