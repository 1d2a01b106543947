#pragma once
// Every statement the SQLite store runs on its data, one constant each (the schema's are in
// schema.cc, audit's snapshot's in shared_sql.h). Parameters are positional (`?`, bound in the
// order they appear), or numbered (`?N`) where one value is used twice.
//
// Plans: SQLite plans a statement when it prepares it, once per connection, without the values.
// It uses a partial index only for a statement that spells the index's condition, so the
// statements that read through one spell it (from shared_sql.h, see there).
#include <iterator>

#include "store/shared_sql.h"

namespace payoutd::store::sqlite {

inline constexpr const char* kBeginImmediate = "BEGIN IMMEDIATE";
inline constexpr const char* kBegin = "BEGIN";
inline constexpr const char* kCommit = "COMMIT";
inline constexpr const char* kRollback = "ROLLBACK";

// --- Accounts ------------------------------------------------------------------------------------

inline constexpr const char* kAccountByCode =
    "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE tenant = ? AND kind = ? AND code = ?";
inline constexpr const char* kAccountsByOwner =
    "SELECT " ACCOUNT_COLUMNS
    " FROM accounts WHERE tenant = ? AND kind = ? AND owner = ? ORDER BY id";
inline constexpr const char* kTenantAccounts =
    "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE tenant = ? AND kind = ? ORDER BY id";
// new_account_fields; the counters start at 0.
inline constexpr const char* kInsertAccount =
    "INSERT INTO accounts (" ACCOUNT_FIELDS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?)";
// account_state_fields, then the id.
inline constexpr const char* kUpdateAccount =
    "UPDATE accounts SET status = ?, credit_delay_ms = ?, debits_pending = ?, "
    "debits_posted = ?, credits_pending = ?, credits_posted = ?, history_seq = ? WHERE id = ?";

// --- Transfers -----------------------------------------------------------------------------------

inline constexpr const char* kTransferById =
    "SELECT " TRANSFER_COLUMNS " FROM transfers WHERE id = ?";
inline constexpr const char* kInsertTransfer =
    "INSERT INTO transfers (" TRANSFER_FIELDS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

// --- Payouts -------------------------------------------------------------------------------------

inline constexpr const char* kPayoutByKey =
    "SELECT " PAYOUT_COLUMNS " FROM payouts WHERE tenant = ? AND kind = ? AND partner_id = ?";
inline constexpr const char* kPayoutById = "SELECT " PAYOUT_COLUMNS " FROM payouts WHERE id = ?";
#define PAYOUTD_INSERT_PAYOUT           \
  "INSERT INTO payouts (" PAYOUT_FIELDS \
  ") "                                  \
  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
inline constexpr const char* kInsertPayout = PAYOUTD_INSERT_PAYOUT;
inline constexpr const char* kInsertPayoutIfNew =
    PAYOUTD_INSERT_PAYOUT " ON CONFLICT (tenant, kind, partner_id) DO NOTHING";
#undef PAYOUTD_INSERT_PAYOUT
// payout_state_fields, then the id.
inline constexpr const char* kUpdatePayout =
    "UPDATE payouts SET status = ?, decline_code = ?, pending_transfer_id = ?, "
    "updated_ms = ?, due_ms = ? WHERE id = ?";
// Up to ?2 processing payouts due before ?1, earliest first (payouts_processing).
inline constexpr auto kProcessingPayouts =
    sql::concat("SELECT " PAYOUT_COLUMNS " FROM payouts WHERE ", sql::kProcessingPayout,
                " AND due_ms < ? ORDER BY due_ms LIMIT ?");
// The cabinet's page (PayoutQuery): a filter whose parameter is -1 (status), 0 or '' is off
// (payouts_by_tenant).
inline constexpr auto kPayoutsPage = sql::concat(
    "SELECT " PAYOUT_COLUMNS " FROM payouts WHERE tenant = ?1 AND ", sql::kListedPayoutKinds,
    " AND (?2 < 0 OR status = ?2) "
    "AND created_ms >= ?3 AND (?4 = 0 OR created_ms < ?4) AND amount >= ?5 "
    "AND (?6 = 0 OR amount <= ?6) AND (?7 = '' OR partner_id = ?7) AND (?8 = 0 OR id < ?8) "
    "ORDER BY id DESC LIMIT ?9");
// A tenant's payouts in [from, to) by day, status and currency (payouts_by_tenant_time).
inline constexpr auto kPayoutDays = sql::concat(
    "SELECT created_ms - created_ms % 86400000 AS day, status, currency, COUNT(*), SUM(amount) "
    "FROM payouts WHERE tenant = ? AND ",
    sql::kListedPayoutKinds,
    " AND created_ms >= ? AND created_ms < ? "
    "GROUP BY day, status, currency ORDER BY day, status, currency");

// --- History -------------------------------------------------------------------------------------
// `history_seq > 0` is the condition of the partial index payouts_history: a statement that reads
// wallet payouts as history entries spells it.

inline constexpr const char* kHistoryIdAt =
    "SELECT txn_history_id FROM history WHERE account_id = ? AND seq = ?";
inline constexpr const char* kPayoutHistoryIdAt =
    "SELECT history_id FROM payouts WHERE history_account_id = ? AND history_seq = ? "
    "AND history_seq > 0";
inline constexpr const char* kHistoryPage =
    "SELECT " HISTORY_COLUMNS " FROM history WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?";
inline constexpr const char* kPayoutHistoryPage =
    "SELECT " HISTORY_PAYOUT_COLUMNS
    " FROM payouts p JOIN accounts a ON a.id = p.source_account_id "
    "WHERE p.history_account_id = ? AND p.history_seq > ? AND p.history_seq > 0 "
    "ORDER BY p.history_seq LIMIT ?";
inline constexpr const char* kInsertHistory =
    "INSERT INTO history (" HISTORY_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

// --- Records -------------------------------------------------------------------------------------

inline constexpr const char* kRecordValue =
    "SELECT value FROM records WHERE tenant = ? AND kind = ? AND key = ?";
// (tenant, kind, prefix, prefix length, prefix, limit).
inline constexpr const char* kRecordsWithPrefix =
    "SELECT key, value FROM records WHERE tenant = ? AND kind = ? AND "
    "key >= ? AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?";
inline constexpr const char* kInsertRecord =
    "INSERT INTO records (tenant, kind, key, value) VALUES (?, ?, ?, ?)";
inline constexpr const char* kUpdateRecord =
    "UPDATE records SET value = ? WHERE tenant = ? AND kind = ? AND key = ?";

// --- Outbox --------------------------------------------------------------------------------------

inline constexpr const char* kOutboxById = "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = ?";
// (tenant, prefix length, prefix, limit).
inline constexpr const char* kOutboxByEventPrefix =
    "SELECT " OUTBOX_COLUMNS
    " FROM outbox WHERE tenant = ? AND "
    "substr(event_id, 1, ?) = ? ORDER BY id LIMIT ?";
// `payout_id <> 0` is the condition of the partial index outbox_by_payout.
inline constexpr const char* kPayoutMessages =
    "SELECT " OUTBOX_COLUMNS
    " FROM outbox WHERE payout_id = ? AND payout_id <> 0 "
    "ORDER BY id LIMIT ?";
inline constexpr const char* kOutboxAttempts =
    "SELECT " OUTBOX_ATTEMPT_COLUMNS " FROM outbox_attempts WHERE message_id = ? ORDER BY attempt";
// Store::due_outbox: the tenants with pending messages (a skip over the index, one probe each),
// each of their lanes' earliest due messages (one probe each), dealt out in turns. Parameters:
// the lanes (every OutboxLane), now, the messages per queue, the limit.
inline constexpr auto kDueOutbox =
    sql::concat(sql::kPendingTenants,
                ","
                " lanes(lane) AS (VALUES (?), (?), (?)),"
                " due AS (SELECT m.*, row_number() OVER (PARTITION BY m.tenant, m.lane"
                "                                         ORDER BY m.next_attempt_ms, m.id) AS turn"
                "   FROM tenants t CROSS JOIN lanes l CROSS JOIN outbox m"
                "   WHERE m.id IN (SELECT i.id FROM outbox i WHERE i.",
                sql::kPendingMessage,
                " AND i.tenant = t.tenant"
                "                  AND i.lane = l.lane AND i.next_attempt_ms <= ?"
                "                  ORDER BY i.next_attempt_ms, i.id LIMIT ?))"
                " SELECT " OUTBOX_COLUMNS " FROM due ORDER BY turn, next_attempt_ms, id LIMIT ?");
static_assert(std::size(kOutboxLanes) == 3, "kDueOutbox has a placeholder per lane");
// outbox_fields; a message whose (tenant, event_id) exists is not inserted again.
inline constexpr const char* kInsertOutbox = "INSERT INTO outbox (" OUTBOX_FIELDS
                                             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                             "ON CONFLICT (tenant, event_id) DO NOTHING";
// outbox_state_fields, then the id.
inline constexpr const char* kUpdateOutbox =
    "UPDATE outbox SET state = ?, attempts = ?, next_attempt_ms = ?, updated_ms = ?, "
    "last_result = ?, body = ? WHERE id = ?";
inline constexpr const char* kInsertOutboxAttempt =
    "INSERT INTO outbox_attempts (" OUTBOX_ATTEMPT_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?)";

// --- Statements (MovementQuery): shared_sql.h's, in this dialect ---------------------------------
inline constexpr auto kNetAfter = PAYOUTD_NET_AFTER_SQL("?1", "?2", "?3", "sum(amount)");
inline constexpr auto kMovements =
    PAYOUTD_MOVEMENTS_SQL("?1", "?2", "?3", "?4", "?5", "?6", "INTEGER");

// --- Meta and leases -----------------------------------------------------------------------------

inline constexpr const char* kMetaValue = "SELECT value FROM meta WHERE key = ?";
inline constexpr const char* kSetMeta = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)";
// (name, holder, expires_ms, now_ms): taken when free, expired, or held by the same holder.
inline constexpr const char* kClaimLease =
    "INSERT INTO leases (name, holder, expires_ms) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
    "expires_ms = excluded.expires_ms "
    "WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?";

}  // namespace payoutd::store::sqlite
