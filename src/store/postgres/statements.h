#pragma once
// Every statement the PostgreSQL store runs on its data, one constant each (the schema's are in
// schema.cc, audit's snapshot's in shared_sql.h).
//
// Plans. A prepared statement's plan is made once and kept (PostgreSQL switches to a generic plan
// after five runs), usually while the tables are still small, when every strategy looks as cheap
// as the next. So each statement below leaves the planner nothing but probes by key, whatever
// the tables held when it was planned: per-key lookups are LATERAL subqueries (run once per key,
// through the index on that key; LIMIT and OFFSET keep PostgreSQL from turning them into a join
// it could run as a hash join over a whole table), ids are compared with `= ANY` on the primary
// key, and a partial index's condition is spelled out where a statement uses that index (a
// generic plan, made without the values, can use the index only then; shared_sql.h).
#include "store/shared_sql.h"

namespace payoutd::store::postgres {

inline constexpr const char* kBegin = "BEGIN";
inline constexpr const char* kCommit = "COMMIT";
// Before COMMIT: no statement timeout for it. A COMMIT waiting for the synchronous standby that is
// cancelled (as statement_timeout cancels) returns success with a warning, committed locally and
// not replicated: a failover could then take back a payout payoutd had answered. Waiting instead,
// the COMMIT ends when the standby confirms, or when the session ends (a failover terminates it:
// the outcome is unknown and the batch runs again on the new primary).
inline constexpr const char* kCommitWithoutTimeout = "SET LOCAL statement_timeout = 0";
inline constexpr const char* kRollback = "ROLLBACK";

// --- Meta and leases -----------------------------------------------------------------------------

inline constexpr const char* kMetaExists = "SELECT to_regclass('meta') IS NOT NULL";
inline constexpr const char* kMetaValue = "SELECT value FROM meta WHERE key = $1";
inline constexpr const char* kLockMeta = "SELECT value FROM meta WHERE key = $1 FOR UPDATE";
inline constexpr const char* kSetMeta =
    "INSERT INTO meta (key, value) VALUES ($1, $2) "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value";
// Taken when free, expired ($4: now), or held by the same holder.
inline constexpr const char* kClaimLease =
    "INSERT INTO leases (name, holder, expires_ms) VALUES ($1, $2, $3) "
    "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, "
    "expires_ms = EXCLUDED.expires_ms "
    "WHERE leases.holder = EXCLUDED.holder OR leases.expires_ms <= $4";

// --- Reads (the pool's connections) --------------------------------------------------------------

inline constexpr const char* kPayoutByKey =
    "SELECT " PAYOUT_COLUMNS " FROM payouts WHERE tenant = $1 AND kind = $2 AND partner_id = $3";
inline constexpr const char* kAccountByCode =
    "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE tenant = $1 AND kind = $2 AND code = $3";
inline constexpr const char* kAccountsByOwner =
    "SELECT " ACCOUNT_COLUMNS
    " FROM accounts WHERE tenant = $1 AND kind = $2 AND owner = $3 ORDER BY id";
inline constexpr const char* kTenantAccounts =
    "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE tenant = $1 AND kind = $2 ORDER BY id";
// The cabinet's page (PayoutQuery): a filter whose parameter is -1 (status), 0 or '' is off
// (payouts_by_tenant).
inline constexpr auto kPayoutsPage = sql::concat(
    "SELECT " PAYOUT_COLUMNS " FROM payouts WHERE tenant = $1 AND ", sql::kListedPayoutKinds,
    " AND ($2::int < 0 OR status = $2::int) AND created_ms >= $3::bigint "
    "AND ($4::bigint = 0 OR created_ms < $4::bigint) AND amount >= $5::bigint "
    "AND ($6::bigint = 0 OR amount <= $6::bigint) "
    "AND ($7::text = '' OR partner_id = $7::text) AND ($8::bigint = 0 OR id < $8::bigint) "
    "ORDER BY id DESC LIMIT $9::bigint");
// A tenant's payouts in [from, to) by day, status and currency (payouts_by_tenant_time).
inline constexpr auto kPayoutDays = sql::concat(
    "SELECT created_ms - created_ms % 86400000 AS day, status, currency, COUNT(*), "
    "SUM(amount)::bigint FROM payouts WHERE tenant = $1 AND ",
    sql::kListedPayoutKinds,
    " AND created_ms >= $2::bigint AND created_ms < $3::bigint "
    "GROUP BY day, status, currency ORDER BY day, status, currency");
// Up to $2 processing payouts due before $1, earliest first (payouts_processing).
inline constexpr auto kProcessingPayouts =
    sql::concat("SELECT " PAYOUT_COLUMNS " FROM payouts WHERE ", sql::kProcessingPayout,
                " AND due_ms < $1 ORDER BY due_ms LIMIT $2");
// `history_seq > 0` is the condition of the partial index payouts_history: a statement that reads
// wallet payouts as history entries spells it.
inline constexpr const char* kHistoryIdsAt =
    "SELECT txn_history_id FROM history WHERE account_id = $1 AND seq = $2 UNION ALL "
    "SELECT history_id FROM payouts WHERE history_account_id = $1 AND history_seq = $2 "
    "AND history_seq > 0";
inline constexpr const char* kHistoryPage =
    "SELECT " HISTORY_COLUMNS
    " FROM history WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";
inline constexpr const char* kPayoutHistoryPage =
    "SELECT " HISTORY_PAYOUT_COLUMNS
    " FROM payouts p CROSS JOIN LATERAL (SELECT owner FROM accounts "
    "WHERE id = p.source_account_id LIMIT 1) a "
    "WHERE p.history_account_id = $1 AND p.history_seq > $2 "
    "AND p.history_seq > 0 ORDER BY p.history_seq LIMIT $3";
inline constexpr const char* kRecordValue =
    "SELECT value FROM records WHERE tenant = $1 AND kind = $2 AND key = $3";
inline constexpr const char* kRecordsWithKeys =
    "SELECT DISTINCT r.key, r.value FROM unnest($3::text[]) AS k(key) "
    "CROSS JOIN LATERAL (SELECT key, value FROM records WHERE tenant = $1 AND kind = $2 "
    "AND key = k.key LIMIT 1) r ORDER BY r.key";
inline constexpr const char* kRecordsWithPrefix =
    "SELECT key, value FROM records WHERE tenant = $1 AND kind = $2 AND "
    "key >= $3 AND left(key, $4) = $3 ORDER BY key LIMIT $5";
inline constexpr const char* kOutboxByEventPrefix = "SELECT " OUTBOX_COLUMNS
                                                    " FROM outbox WHERE tenant = $1 AND "
                                                    "left(event_id, $2) = $3 ORDER BY id LIMIT $4";
// `payout_id <> 0` is the condition of the partial index outbox_by_payout.
inline constexpr const char* kPayoutMessages =
    "SELECT " OUTBOX_COLUMNS
    " FROM outbox WHERE payout_id = $1 AND payout_id <> 0 "
    "ORDER BY id LIMIT $2";
inline constexpr const char* kOutboxAttempts =
    "SELECT " OUTBOX_ATTEMPT_COLUMNS " FROM outbox_attempts WHERE message_id = $1 ORDER BY attempt";
// Store::due_outbox: the tenants with pending messages (a skip over the index, one probe each),
// each of their lanes' ($4: every OutboxLane) earliest due messages (one probe each), dealt out
// in turns.
inline constexpr auto kDueOutbox =
    sql::concat(sql::kPendingTenants,
                ","
                " due AS (SELECT m.*, row_number() OVER (PARTITION BY m.tenant, m.lane"
                "                                         ORDER BY m.next_attempt_ms, m.id) AS turn"
                "   FROM tenants t CROSS JOIN unnest($4::integer[]) AS l(lane) CROSS JOIN LATERAL ("
                "     SELECT * FROM outbox i WHERE i.",
                sql::kPendingMessage,
                " AND i.tenant = t.tenant AND i.lane = l.lane"
                "     AND i.next_attempt_ms <= $1 ORDER BY i.next_attempt_ms, i.id LIMIT $2) m)"
                " SELECT " OUTBOX_COLUMNS " FROM due ORDER BY turn, next_attempt_ms, id LIMIT $3");
// --- Statements (MovementQuery): shared_sql.h's, in this dialect ---------------------------------
inline constexpr auto kNetAfter =
    PAYOUTD_NET_AFTER_SQL("$1", "$2::bigint", "$3::bigint", "sum(amount)::bigint");
inline constexpr auto kMovements = PAYOUTD_MOVEMENTS_SQL(
    "$1", "$2::bigint", "$3::bigint", "$4::bigint", "$5::bigint", "$6::text", "SMALLINT");

// A statement's reads: one snapshot, under the reads' own statement timeout.
inline constexpr const char* kBeginReadSnapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
// Audit's snapshot: one consistent view of whole tables, however long that takes (the
// request-sized statement timeout is not for it, and scans are what it needs).
inline constexpr const char* kBeginSnapshot =
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL enable_seqscan = on; "
    "SET LOCAL statement_timeout = 0";

// --- The write transaction: lookups, locked until it ends ----------------------------------------

// Transfers and payouts take their ids from blocks that a node reserves with one nextval(): the
// row_ids sequence's increment.
inline constexpr std::int64_t kRowIdBlock = 1000;
inline constexpr const char* kNextRowIdBlock = "SELECT nextval('row_ids')";

// The batch's declared accounts, locked in id order: by code, by owner, and the two accounts of
// each declared payout id.
inline constexpr const char* kLockAccounts =
    "SELECT " ACCOUNT_COLUMNS
    " FROM accounts WHERE id = ANY(ARRAY("
    "SELECT a.id FROM unnest($1::text[], $2::smallint[], $3::text[]) AS k(tenant, kind, code) "
    "CROSS JOIN LATERAL (SELECT id FROM accounts WHERE tenant = k.tenant AND kind = k.kind "
    "AND code = k.code LIMIT 1) a "
    "UNION ALL SELECT a.id FROM unnest($4::text[], $5::smallint[], $6::text[]) "
    "AS o(tenant, kind, owner) "
    "CROSS JOIN LATERAL (SELECT id FROM accounts WHERE tenant = o.tenant AND kind = o.kind "
    "AND owner = o.owner OFFSET 0) a "
    "UNION ALL SELECT unnest(ARRAY[source_account_id, destination_account_id]) FROM payouts "
    "WHERE id = ANY($7::bigint[]))) "
    "ORDER BY id FOR UPDATE";
// The batch's declared payouts, read after the locks are held (a later statement of the same
// round trip sees every commit that released them). A payout declared both ways comes twice.
inline constexpr const char* kFetchPayouts =
    "SELECT p.* FROM unnest($1::text[], $2::smallint[], $3::text[]) AS k(tenant, kind, partner_id) "
    "CROSS JOIN LATERAL (SELECT " PAYOUT_COLUMNS
    " FROM payouts WHERE tenant = k.tenant "
    "AND kind = k.kind AND partner_id = k.partner_id LIMIT 1) p "
    "UNION ALL SELECT " PAYOUT_COLUMNS " FROM payouts WHERE id = ANY($4::bigint[])";
// Undeclared lookups.
inline constexpr const char* kLockAccountById =
    "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = $1 FOR UPDATE";
inline constexpr const char* kLockAccountByCode =
    "SELECT " ACCOUNT_COLUMNS
    " FROM accounts WHERE tenant = $1 AND kind = $2 AND code = $3 FOR UPDATE";
inline constexpr const char* kLockAccountsByOwner =
    "SELECT " ACCOUNT_COLUMNS
    " FROM accounts WHERE tenant = $1 AND kind = $2 AND owner = $3 "
    "ORDER BY id FOR UPDATE";
inline constexpr const char* kTransferById =
    "SELECT " TRANSFER_COLUMNS " FROM transfers WHERE id = $1";
inline constexpr const char* kPayoutById = "SELECT " PAYOUT_COLUMNS " FROM payouts WHERE id = $1";
// Locked until the batch commits: another node's batch changing it waits for this one.
inline constexpr const char* kLockRecord =
    "SELECT value FROM records WHERE tenant = $1 AND kind = $2 AND key = $3 FOR UPDATE";
inline constexpr const char* kLockOutboxById =
    "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = $1 FOR UPDATE";

// --- The write transaction: writes ---------------------------------------------------------------

// new_account_fields; the counters start at 0.
inline constexpr const char* kInsertAccount =
    "INSERT INTO accounts (" ACCOUNT_FIELDS
    ") "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, 0, 0, 0, $9) RETURNING id";
// The outbox is written statement by statement: a notification per state change is rare next to
// the payouts' batched rows. The id, then outbox_fields.
inline constexpr const char* kInsertOutbox =
    "INSERT INTO outbox (" OUTBOX_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
    "$11, $12, $13, $14) ON CONFLICT (tenant, event_id) DO NOTHING";
// outbox_state_fields, then the id.
inline constexpr const char* kUpdateOutbox =
    "UPDATE outbox SET state = $1, attempts = $2, next_attempt_ms = $3, updated_ms = $4, "
    "last_result = $5, body = $6 WHERE id = $7";
inline constexpr const char* kInsertOutboxAttempt =
    "INSERT INTO outbox_attempts (" OUTBOX_ATTEMPT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6)";

// A batch's rows, each table's in one statement over arrays (Columns): the id, then the field
// table's columns (transfer_fields, payout_fields, history_fields).
// A transfer without a reservation to resolve has pending_id NULL, sent as 0 (Columns).
inline constexpr const char* kInsertTransfers =
    "INSERT INTO transfers (" TRANSFER_COLUMNS
    ") "
    "SELECT id, d, c, amount, currency, kind, NULLIF(pending, 0), ts, reference FROM "
    "unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::smallint[], "
    "$7::bigint[], $8::bigint[], $9::text[]) "
    "AS u(id, d, c, amount, currency, kind, pending, ts, reference)";
inline constexpr const char* kInsertPayouts =
    "INSERT INTO payouts (" PAYOUT_COLUMNS
    ") SELECT * FROM "
    "unnest($1::bigint[], $2::text[], $3::smallint[], $4::text[], $5::text[], $6::smallint[], "
    "$7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::bigint[], "
    "$13::text[], $14::text[], $15::text[], $16::bigint[], $17::bigint[], $18::bigint[], "
    "$19::bigint[], $20::bigint[])";
inline constexpr const char* kInsertHistory =
    "INSERT INTO history (" HISTORY_COLUMNS
    ") SELECT * FROM "
    "unnest($1::bigint[], $2::bigint[], $3::text[], $4::smallint[], $5::smallint[], "
    "$6::smallint[], $7::smallint[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], "
    "$12::bigint[], $13::text[], $14::text[])";
// Updates by id join the target to its new values and also bound it by its ids (`= ANY`): a
// join alone may be planned as a hash join over the whole table (measured: planned with
// statistics of an empty table, the payouts update read every payout). Records keep the plain
// join, which probes their key in every state measured: bounded by `= ANY` on the key's three
// columns, PostgreSQL 15 probed it with the tenants alone.
// The id, then payout_state_fields.
inline constexpr const char* kUpdatePayouts =
    "UPDATE payouts p SET status = u.status, decline_code = u.decline_code, "
    "pending_transfer_id = u.pending_transfer_id, updated_ms = u.updated_ms, due_ms = u.due_ms "
    "FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::bigint[], $5::bigint[], "
    "$6::bigint[]) AS u(id, status, decline_code, pending_transfer_id, updated_ms, due_ms) "
    "WHERE p.id = u.id AND p.id = ANY($1::bigint[])";
// A batch that writes nothing else writes its node's row of the commit barrier (the key), so that
// its COMMIT has a transaction id and WAL of its own and waits for the synchronous standby like
// any other: whatever the batch read (another node's commit, visible on the primary before its
// standby confirmed it) is then confirmed too, the standby having received the log in order.
inline constexpr std::uint32_t kCommitBarrierSlots = 64;
inline constexpr const char* kCommitBarrier =
    "INSERT INTO records (tenant, kind, key, value) VALUES ('', 'commit-barrier', $1, '') "
    "ON CONFLICT (tenant, kind, key) DO UPDATE SET value = ''";
// (tenant, kind, key, value).
inline constexpr const char* kInsertRecords =
    "INSERT INTO records (tenant, kind, key, value) SELECT * FROM "
    "unnest($1::text[], $2::text[], $3::text[], $4::text[])";
inline constexpr const char* kUpdateRecords =
    "UPDATE records r SET value = u.value FROM unnest($1::text[], $2::text[], $3::text[], "
    "$4::text[]) AS u(tenant, kind, key, value) "
    "WHERE r.tenant = u.tenant AND r.kind = u.kind AND r.key = u.key";
// The id, then account_state_fields.
inline constexpr const char* kUpdateAccounts =
    "UPDATE accounts a SET status = u.status, credit_delay_ms = u.credit_delay_ms, "
    "debits_pending = u.dp, debits_posted = u.dd, credits_pending = u.cp, credits_posted = u.cc, "
    "history_seq = u.seq FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::bigint[], "
    "$5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[]) "
    "AS u(id, status, credit_delay_ms, dp, dd, cp, cc, seq) "
    "WHERE a.id = u.id AND a.id = ANY($1::bigint[])";

}  // namespace payoutd::store::postgres
