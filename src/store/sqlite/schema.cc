#include "store/sqlite/schema.h"

#include <spdlog/spdlog.h>

#include <string>

#include "store/migration.h"
#include "store/shared_sql.h"
#include "store/sqlite/search_statements.h"
#include "store/sqlite/statements.h"

namespace payoutd::store::sqlite {
namespace {

// The schema's history: step N takes a database from version N-1 to N, in one transaction.
// A step is a script run as it is, without parameters: the enum values it needs are built into
// its text from the enums (shared_sql.h).

// clang-format off: each value built into a step stands where it stands in the SQL.
// Version 1 is the schema payoutd was first released with (its statements say IF NOT EXISTS
// because that release created the tables before it recorded a version).
constexpr auto kSchemaV1 = sql::concat(R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL, kind INTEGER NOT NULL, code TEXT NOT NULL, owner TEXT NOT NULL,
  currency TEXT NOT NULL, floor INTEGER NOT NULL, status INTEGER NOT NULL,
  credit_delay_ms INTEGER NOT NULL,
  debits_pending INTEGER NOT NULL, debits_posted INTEGER NOT NULL,
  credits_pending INTEGER NOT NULL, credits_posted INTEGER NOT NULL,
  history_seq INTEGER NOT NULL, created_ms INTEGER NOT NULL,
  UNIQUE (tenant, kind, code));
CREATE INDEX IF NOT EXISTS accounts_by_owner ON accounts (tenant, kind, owner);
CREATE TABLE IF NOT EXISTS transfers (
  id INTEGER PRIMARY KEY,
  debit_account_id INTEGER NOT NULL REFERENCES accounts (id),
  credit_account_id INTEGER NOT NULL REFERENCES accounts (id),
  amount INTEGER NOT NULL CHECK (amount > 0), currency TEXT NOT NULL, kind INTEGER NOT NULL,
  pending_id INTEGER REFERENCES transfers (id), timestamp_ms INTEGER NOT NULL,
  reference TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS transfers_resolution ON transfers (pending_id)
  WHERE pending_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS payouts (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL, kind INTEGER NOT NULL, partner_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL, status INTEGER NOT NULL, decline_code TEXT NOT NULL,
  source_account_id INTEGER NOT NULL, destination_account_id INTEGER NOT NULL,
  amount INTEGER NOT NULL, currency TEXT NOT NULL, pending_transfer_id INTEGER NOT NULL,
  source_ref TEXT NOT NULL, destination_ref TEXT NOT NULL, history_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, due_ms INTEGER NOT NULL,
  history_account_id INTEGER NOT NULL, history_seq INTEGER NOT NULL,
  UNIQUE (tenant, kind, partner_id));
CREATE INDEX IF NOT EXISTS payouts_processing ON payouts (due_ms) WHERE )sql",
                                       sql::kProcessingPayout, R"sql(;
CREATE UNIQUE INDEX IF NOT EXISTS payouts_history ON payouts (history_account_id, history_seq)
  WHERE history_seq > 0;
CREATE TABLE IF NOT EXISTS history (
  account_id INTEGER NOT NULL, seq INTEGER NOT NULL, txn_history_id TEXT NOT NULL,
  domain INTEGER NOT NULL, type_id INTEGER NOT NULL, status INTEGER NOT NULL,
  impact INTEGER NOT NULL, domain_txn_id TEXT NOT NULL, amount INTEGER NOT NULL,
  commission INTEGER NOT NULL, currency TEXT NOT NULL, created_ms INTEGER NOT NULL,
  error_code TEXT NOT NULL, details TEXT NOT NULL,
  PRIMARY KEY (account_id, seq)) WITHOUT ROWID;
)sql");

// Work that runs on one node at a time holds a lease (see WriteTxn::claim_lease).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_ms INTEGER NOT NULL)
  WITHOUT ROWID;
)sql";

// The engine's documents beside the ledger: vaulted cards, bindings, card orders.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE records (tenant TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
  value TEXT NOT NULL, PRIMARY KEY (tenant, kind, key)) WITHOUT ROWID;
)sql";

// The outbox of notifications (callbacks), and every delivery attempt.
constexpr auto kSchemaV4 = sql::concat(R"sql(
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, event_id TEXT NOT NULL, target TEXT NOT NULL,
  body TEXT NOT NULL, state INTEGER NOT NULL, attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
  last_result TEXT NOT NULL, UNIQUE (tenant, event_id));
CREATE INDEX outbox_due ON outbox (next_attempt_ms) WHERE )sql",
                                       sql::kPendingMessage, R"sql(;
CREATE TABLE outbox_attempts (
  message_id INTEGER NOT NULL, attempt INTEGER NOT NULL, at_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL, http_status INTEGER NOT NULL, error TEXT NOT NULL,
  PRIMARY KEY (message_id, attempt)) WITHOUT ROWID;
)sql");

// Version 6, the outbox's:
// - Queues: a message's lane (store::outbox_lane, in SQL), and the due messages by tenant and
//   lane, so the due read takes each queue's earliest with an index probe.
// - A message names its payout, and may be sealed (store.h, OutboxMessage). Messages of earlier
//   versions get their payout from their event id, "<partner id>:registration", ":result" or
//   ":code:<n>" (a partner id has no ':'), and messages to persons already sent lose their body.
constexpr auto kSchemaV6 = sql::concat(
    R"sql(
ALTER TABLE outbox ADD COLUMN lane INTEGER GENERATED ALWAYS AS (
  )sql",
    sql::kLaneOfTarget, R"sql()
  VIRTUAL;
DROP INDEX outbox_due;
CREATE INDEX outbox_queues ON outbox (tenant, lane, next_attempt_ms) WHERE )sql",
    sql::kPendingMessage, R"sql(;
ALTER TABLE outbox ADD COLUMN payout_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET payout_id = COALESCE((SELECT p.id FROM payouts p WHERE p.tenant = outbox.tenant
    AND p.kind = )sql",
    sql::number<PayoutKind::kCardPayout>(),
    R"sql( AND p.partner_id = substr(outbox.event_id, 1, instr(outbox.event_id, ':') - 1)), 0)
  WHERE instr(event_id, ':') > 1 AND (substr(event_id, instr(event_id, ':')) IN (':registration', ':result')
    OR substr(event_id, instr(event_id, ':'), 6) = ':code:');
UPDATE outbox SET body = '' WHERE state <> )sql",
    sql::number<OutboxState::kPending>(),
    R"sql( AND (substr(target, 1, 7) = 'mailto:' OR substr(target, 1, 4) = 'sms:');
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

constexpr const char* kMetaExists =
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'";

void run_step(Connection& writer, const Migration& m) {
  writer.exec(kBeginImmediate);
  try {
    writer.exec(m.sql);
    writer.stmt(kSetMeta).bind(kSchemaVersionKey).bind(std::to_string(m.version)).exec();
    writer.exec(kCommit);
  } catch (...) {
    writer.exec(kRollback);
    throw;
  }
  spdlog::info("database at schema version {}: {}", m.version, m.what);
}

}  // namespace

int read_schema_version(Connection& c) {
  const bool has_meta =
      first_row(c.stmt(kMetaExists), [](const Stmt&) { return true; }).has_value();
  if (!has_meta) return 0;
  const auto version = first_row(c.stmt(kMetaValue).bind(kSchemaVersionKey),
                                 [](const Stmt& s) { return std::stoi(s.text(0)); });
  return version.value_or(0);
}

int migrate(Connection& writer, int target) {
  int version = read_schema_version(writer);
  for (const Migration& m : migration_steps(kSchemaSql, version, target)) {
    run_step(writer, m);
    version = m.version;
  }
  return version;
}

}  // namespace payoutd::store::sqlite
