#include "store/postgres/schema.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <thread>

#include "store/migration.h"
#include "store/postgres/search_statements.h"
#include "store/postgres/statements.h"
#include "store/shared_sql.h"

namespace payoutd::store::postgres {
namespace {

// Attempts of a migration that collides with another node migrating at the same moment, and the
// wait before the next attempt (times the attempt's number).
constexpr int kMigrationAttemptsMax = 10;
constexpr int kMigrationRetryMs = 50;
// A step's table already exists: another node created it first.
constexpr std::string_view kDuplicateTable = "42P07";

// The schema's history, one step for one step as the SQLite store's (see there for the why of
// each). A step is a script run as it is, without parameters: the enum values it needs are built
// into its text from the enums (shared_sql.h).

// clang-format off: each value built into a step stands where it stands in the SQL.
// No foreign keys: SQLite runs without them too, audit checks every reference, and on a table
// written by every payout they would add an index probe and a row lock per reference.
constexpr auto kSchemaV1 = sql::concat(R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE SEQUENCE account_ids;
CREATE TABLE accounts (
  id BIGINT PRIMARY KEY DEFAULT nextval('account_ids'),
  tenant TEXT NOT NULL, kind SMALLINT NOT NULL, code TEXT NOT NULL, owner TEXT NOT NULL,
  currency TEXT NOT NULL, floor SMALLINT NOT NULL, status SMALLINT NOT NULL,
  credit_delay_ms BIGINT NOT NULL,
  debits_pending BIGINT NOT NULL, debits_posted BIGINT NOT NULL,
  credits_pending BIGINT NOT NULL, credits_posted BIGINT NOT NULL,
  history_seq BIGINT NOT NULL, created_ms BIGINT NOT NULL,
  UNIQUE (tenant, kind, code));
CREATE INDEX accounts_by_owner ON accounts (tenant, kind, owner);
CREATE SEQUENCE row_ids INCREMENT BY 1000;
CREATE TABLE transfers (
  id BIGINT PRIMARY KEY,
  debit_account_id BIGINT NOT NULL, credit_account_id BIGINT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0), currency TEXT NOT NULL, kind SMALLINT NOT NULL,
  pending_id BIGINT, timestamp_ms BIGINT NOT NULL, reference TEXT NOT NULL);
CREATE UNIQUE INDEX transfers_resolution ON transfers (pending_id) WHERE pending_id IS NOT NULL;
CREATE TABLE payouts (
  id BIGINT PRIMARY KEY,
  tenant TEXT NOT NULL, kind SMALLINT NOT NULL, partner_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL, status SMALLINT NOT NULL, decline_code TEXT NOT NULL,
  source_account_id BIGINT NOT NULL, destination_account_id BIGINT NOT NULL,
  amount BIGINT NOT NULL, currency TEXT NOT NULL, pending_transfer_id BIGINT NOT NULL,
  source_ref TEXT NOT NULL, destination_ref TEXT NOT NULL, history_id TEXT NOT NULL,
  created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL, due_ms BIGINT NOT NULL,
  history_account_id BIGINT NOT NULL, history_seq BIGINT NOT NULL,
  UNIQUE (tenant, kind, partner_id));
CREATE INDEX payouts_processing ON payouts (due_ms) WHERE )sql",
                                       sql::kProcessingPayout, R"sql(;
CREATE UNIQUE INDEX payouts_history ON payouts (history_account_id, history_seq)
  WHERE history_seq > 0;
CREATE TABLE history (
  account_id BIGINT NOT NULL, seq BIGINT NOT NULL, txn_history_id TEXT NOT NULL,
  domain SMALLINT NOT NULL, type_id SMALLINT NOT NULL, status SMALLINT NOT NULL,
  impact SMALLINT NOT NULL, domain_txn_id TEXT NOT NULL, amount BIGINT NOT NULL,
  commission BIGINT NOT NULL, currency TEXT NOT NULL, created_ms BIGINT NOT NULL,
  error_code TEXT NOT NULL, details TEXT NOT NULL,
  PRIMARY KEY (account_id, seq));
)sql");

constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_ms BIGINT NOT NULL);
)sql";

constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE records (tenant TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
  value TEXT NOT NULL, PRIMARY KEY (tenant, kind, key));
)sql";

constexpr auto kSchemaV4 = sql::concat(R"sql(
CREATE TABLE outbox (
  id BIGINT PRIMARY KEY, tenant TEXT NOT NULL, event_id TEXT NOT NULL, target TEXT NOT NULL,
  body TEXT NOT NULL, state SMALLINT NOT NULL, attempts INTEGER NOT NULL,
  next_attempt_ms BIGINT NOT NULL, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,
  last_result TEXT NOT NULL, UNIQUE (tenant, event_id));
CREATE INDEX outbox_due ON outbox (next_attempt_ms) WHERE )sql",
                                       sql::kPendingMessage, R"sql(;
CREATE TABLE outbox_attempts (
  message_id BIGINT NOT NULL, attempt INTEGER NOT NULL, at_ms BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL, http_status INTEGER NOT NULL, error TEXT NOT NULL,
  PRIMARY KEY (message_id, attempt));
)sql");

constexpr auto kSchemaV6 =
    sql::concat(R"sql(
ALTER TABLE outbox ADD COLUMN lane INTEGER GENERATED ALWAYS AS (
  )sql",
                sql::kLaneOfTarget, R"sql()
  STORED;
DROP INDEX outbox_due;
CREATE INDEX outbox_queues ON outbox (tenant, lane, next_attempt_ms) WHERE )sql",
                sql::kPendingMessage, R"sql(;
ALTER TABLE outbox ADD COLUMN payout_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN sealed SMALLINT NOT NULL DEFAULT 0;
UPDATE outbox o SET payout_id = p.id FROM payouts p WHERE p.tenant = o.tenant AND p.kind = )sql",
                sql::number<PayoutKind::kCardPayout>(), R"sql(
  AND strpos(o.event_id, ':') > 1 AND p.partner_id = substr(o.event_id, 1, strpos(o.event_id, ':') - 1)
  AND (substr(o.event_id, strpos(o.event_id, ':')) IN (':registration', ':result')
    OR substr(o.event_id, strpos(o.event_id, ':'), 6) = ':code:');
UPDATE outbox SET body = '' WHERE state <> )sql",
                sql::number<OutboxState::kPending>(),
                R"sql( AND (left(target, 7) = 'mailto:' OR left(target, 4) = 'sms:');
CREATE INDEX outbox_by_payout ON outbox (payout_id) WHERE payout_id <> 0;
)sql");
// clang-format on

// Version 10: the operators' search (shared_sql.h), and the card orders by the first 6 and last 4
// digits of their masked card (Store::search_payouts; the expression spelled in the search's SQL).
constexpr auto kSchemaV10 = sql::concat(
    sql::kSchemaV10Shared, "CREATE INDEX records_card_mask ON records ((" PAYOUTD_CARD_MASK
                           ")) WHERE kind = " PAYOUTD_CARD_ORDER_KIND ";\n");

// Versions 5, 7, 8 and 9 are spelled the same in both dialects (shared_sql.h).
constexpr SchemaSql kSchemaSql = {
    kSchemaV1.c_str(),      kSchemaV2,      kSchemaV3,
    kSchemaV4.c_str(),      sql::kSchemaV5, kSchemaV6.c_str(),
    sql::kSchemaV7.c_str(), sql::kSchemaV8, sql::kSchemaV9.c_str(),
    kSchemaV10.c_str(),
};

int version_in(const Result& r) {
  return first_row(r, [](const Row& row) { return std::stoi(row.text(0)); }).value_or(0);
}

int migrate_once(Connection& c, int target) {
  int version = read_schema_version(c);
  for (const Migration& m : migration_steps(kSchemaSql, version, target)) {
    if (m.version <= version) continue;
    c.exec(kBegin);
    if (m.version > 1) {
      // Nodes migrating at once queue here; the later ones find the step done.
      const int current = version_in(c.query(kLockMeta, Params().add(kSchemaVersionKey)));
      if (current >= m.version) {
        c.exec(kCommit);
        version = current;
        continue;
      }
    }
    c.exec(m.sql);
    c.query(kSetMeta, Params().add(kSchemaVersionKey).add(std::to_string(m.version)));
    c.exec(kCommit);
    spdlog::info("database at schema version {}: {}", m.version, m.what);
    version = m.version;
  }
  return version;
}

}  // namespace

int read_schema_version(Connection& c) {
  if (first_row(c.query(kMetaExists), read_text) != "t") return 0;
  return version_in(c.query(kMetaValue, Params().add(kSchemaVersionKey)));
}

// Two nodes creating the first tables at once collide on the catalog (42P07 duplicate table,
// 23505 on its unique indexes): the loser rolls back and finds the work done on its next try.
int migrate(Connection& c, int target) {
  for (int attempt = 1;; ++attempt) {
    try {
      return migrate_once(c, target);
    } catch (const PgError& e) {
      const bool concurrent = is_conflict(e.sqlstate()) || e.sqlstate() == kDuplicateTable;
      if (!concurrent || attempt >= kMigrationAttemptsMax) throw;
      c.exec(kRollback);
      std::this_thread::sleep_for(std::chrono::milliseconds(kMigrationRetryMs * attempt));
    }
  }
}

}  // namespace payoutd::store::postgres
