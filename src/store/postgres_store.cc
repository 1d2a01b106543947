#include "store/postgres_store.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstring>
#include <optional>
#include <set>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/ids.h"
#include "store/migration.h"
#include "store/rows.h"

namespace payoutd::store {
namespace {

using Steady = std::chrono::steady_clock;

// Transfers and payouts take their ids from blocks that a node reserves with one nextval(): the
// row_ids sequence's increment.
constexpr std::int64_t kRowIdBlock = 1000;

// Attempts of a migration that collides with another node migrating at the same moment.
constexpr int kMigrationAttemptsMax = 10;

// No foreign keys: SQLite runs without them too, audit checks every reference, and on a table
// written by every payout they would add an index probe and a row lock per reference.
constexpr const char* kSchemaV1 = R"sql(
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
CREATE INDEX payouts_processing ON payouts (due_ms) WHERE status = 0;
CREATE UNIQUE INDEX payouts_history ON payouts (history_account_id, history_seq)
  WHERE history_seq > 0;
CREATE TABLE history (
  account_id BIGINT NOT NULL, seq BIGINT NOT NULL, txn_history_id TEXT NOT NULL,
  domain SMALLINT NOT NULL, type_id SMALLINT NOT NULL, status SMALLINT NOT NULL,
  impact SMALLINT NOT NULL, domain_txn_id TEXT NOT NULL, amount BIGINT NOT NULL,
  commission BIGINT NOT NULL, currency TEXT NOT NULL, created_ms BIGINT NOT NULL,
  error_code TEXT NOT NULL, details TEXT NOT NULL,
  PRIMARY KEY (account_id, seq));
)sql";

constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_ms BIGINT NOT NULL);
)sql";

constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE records (tenant TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
  value TEXT NOT NULL, PRIMARY KEY (tenant, kind, key));
)sql";

constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE outbox (
  id BIGINT PRIMARY KEY, tenant TEXT NOT NULL, event_id TEXT NOT NULL, target TEXT NOT NULL,
  body TEXT NOT NULL, state SMALLINT NOT NULL, attempts INTEGER NOT NULL,
  next_attempt_ms BIGINT NOT NULL, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,
  last_result TEXT NOT NULL, UNIQUE (tenant, event_id));
CREATE INDEX outbox_due ON outbox (next_attempt_ms) WHERE state = 0;
CREATE TABLE outbox_attempts (
  message_id BIGINT NOT NULL, attempt INTEGER NOT NULL, at_ms BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL, http_status INTEGER NOT NULL, error TEXT NOT NULL,
  PRIMARY KEY (message_id, attempt));
)sql";

constexpr const char* kSchemaV5 = R"sql(
CREATE INDEX payouts_by_tenant ON payouts (tenant, id);
CREATE INDEX payouts_by_tenant_time ON payouts (tenant, created_ms);
)sql";

// As the SQLite store's version 6 (which says why).
constexpr const char* kSchemaV6 = R"sql(
ALTER TABLE outbox ADD COLUMN lane INTEGER GENERATED ALWAYS AS (
  CASE WHEN substr(target, 1, 7) = 'mailto:' THEN 2 WHEN substr(target, 1, 4) = 'sms:' THEN 1 ELSE 0 END)
  STORED;
DROP INDEX outbox_due;
CREATE INDEX outbox_queues ON outbox (tenant, lane, next_attempt_ms) WHERE state = 0;
ALTER TABLE outbox ADD COLUMN payout_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN sealed SMALLINT NOT NULL DEFAULT 0;
UPDATE outbox o SET payout_id = p.id FROM payouts p WHERE p.tenant = o.tenant AND p.kind = 3
  AND strpos(o.event_id, ':') > 1 AND p.partner_id = substr(o.event_id, 1, strpos(o.event_id, ':') - 1)
  AND (substr(o.event_id, strpos(o.event_id, ':')) IN (':registration', ':result')
    OR substr(o.event_id, strpos(o.event_id, ':'), 6) = ':code:');
UPDATE outbox SET body = '' WHERE state <> 0 AND (left(target, 7) = 'mailto:' OR left(target, 4) = 'sms:');
CREATE INDEX outbox_by_payout ON outbox (payout_id) WHERE payout_id <> 0;
)sql";

// The partner cabinet's indexes cover only the payouts it lists (kinds 0 and 3: wallet and card
// payouts; its queries spell the same condition). A statement whose kind is a parameter cannot
// use them, so they never compete with the key a lookup means: while `payouts` is small every
// index looks as cheap as the next, and a plan cached then probed (tenant, created_ms) and read
// the tenant's every payout per partner id.
constexpr const char* kSchemaV7 = R"sql(
DROP INDEX payouts_by_tenant;
DROP INDEX payouts_by_tenant_time;
CREATE INDEX payouts_by_tenant ON payouts (tenant, id) WHERE kind IN (0, 3);
CREATE INDEX payouts_by_tenant_time ON payouts (tenant, created_ms) WHERE kind IN (0, 3);
)sql";

// Same versions as the SQLite store's, one step for one step.
constexpr Migration kMigrations[] = {
    {1, "accounts, transfers, payouts, history", kSchemaV1},
    {2, "leases", kSchemaV2},
    {3, "records", kSchemaV3},
    {4, "outbox", kSchemaV4},
    {5, "payouts by tenant", kSchemaV5},
    {6, "outbox queues, messages of payouts, sealed messages", kSchemaV6},
    {7, "payouts by tenant: listed kinds only", kSchemaV7},
};

// Every session: commits wait for the log flush whatever the server's default, and no statement
// or lock wait outlives the request that caused it. Sequential scans are priced out: a plan made
// while a table is (nearly) empty finds a scan of it as cheap as a probe, and a prepared
// statement keeps its plan (every lookup here has its index, see "Plans" below; audit's
// snapshot turns them back on for itself).
std::string session_settings(const PostgresOptions& o) {
  std::string sql = "SET enable_seqscan = off; SET synchronous_commit = on; SET statement_timeout = " +
                    std::to_string(o.statement_timeout_ms) +
                    "; SET lock_timeout = " + std::to_string(o.lock_timeout_ms) +
                    "; SET idle_in_transaction_session_timeout = " +
                    std::to_string(o.idle_in_transaction_timeout_ms) + ";";
  if (o.read_only) sql += " SET default_transaction_read_only = on;";
  return sql;
}

// --- SQL ----------------------------------------------------------------------------------------

// Plans. A prepared statement's plan is made once and kept (PostgreSQL switches to a generic plan
// after five runs), usually while the tables are still small, when every strategy looks as cheap
// as the next. So each statement below leaves the planner nothing but probes by key, whatever
// the tables held when it was planned: per-key lookups are LATERAL subqueries (run once per key,
// through the index on that key; LIMIT and OFFSET keep PostgreSQL from turning them into a join
// it could run as a hash join over a whole table), ids are compared with `= ANY` on the primary
// key, and a partial index's condition is spelled out where a statement uses that index.

// The batch's declared accounts, locked in id order: by code, by owner, and the two accounts of
// each declared payout id.
constexpr const char* kLockAccounts =
    "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = ANY(ARRAY("
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
constexpr const char* kFetchPayouts =
    "SELECT p.* FROM unnest($1::text[], $2::smallint[], $3::text[]) AS k(tenant, kind, partner_id) "
    "CROSS JOIN LATERAL (SELECT " PAYOUT_COLUMNS " FROM payouts WHERE tenant = k.tenant "
    "AND kind = k.kind AND partner_id = k.partner_id LIMIT 1) p "
    "UNION ALL SELECT " PAYOUT_COLUMNS " FROM payouts WHERE id = ANY($4::bigint[])";

// Store::due_outbox: the tenants with pending messages (a skip over the index, one probe each),
// each of their lanes' earliest due messages (one probe each), dealt out in turns.
constexpr const char* kDueOutbox =
    OUTBOX_TENANTS ","
    " due AS (SELECT m.*, row_number() OVER (PARTITION BY m.tenant, m.lane"
    "                                         ORDER BY m.next_attempt_ms, m.id) AS turn"
    "   FROM tenants t CROSS JOIN (VALUES (0), (1), (2)) AS l(lane) CROSS JOIN LATERAL ("
    "     SELECT * FROM outbox i WHERE i.state = 0 AND i.tenant = t.tenant AND i.lane = l.lane"
    "     AND i.next_attempt_ms <= $1 ORDER BY i.next_attempt_ms, i.id LIMIT $2) m)"
    " SELECT " OUTBOX_COLUMNS " FROM due ORDER BY turn, next_attempt_ms, id LIMIT $3";

constexpr const char* kInsertTransfers =
    "INSERT INTO transfers (" TRANSFER_COLUMNS ") "
    "SELECT id, d, c, amount, currency, kind, NULLIF(pending, 0), ts, reference FROM "
    "unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::smallint[], "
    "$7::bigint[], $8::bigint[], $9::text[]) "
    "AS u(id, d, c, amount, currency, kind, pending, ts, reference)";
constexpr const char* kInsertPayouts =
    "INSERT INTO payouts (" PAYOUT_COLUMNS ") SELECT * FROM "
    "unnest($1::bigint[], $2::text[], $3::smallint[], $4::text[], $5::text[], $6::smallint[], "
    "$7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::bigint[], "
    "$13::text[], $14::text[], $15::text[], $16::bigint[], $17::bigint[], $18::bigint[], "
    "$19::bigint[], $20::bigint[])";
constexpr const char* kInsertHistory =
    "INSERT INTO history (" HISTORY_COLUMNS ") SELECT * FROM "
    "unnest($1::bigint[], $2::bigint[], $3::text[], $4::smallint[], $5::smallint[], "
    "$6::smallint[], $7::smallint[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], "
    "$12::bigint[], $13::text[], $14::text[])";
// Updates by id join the target to its new values and also bound it by its ids (`= ANY`): a
// join alone may be planned as a hash join over the whole table (measured: planned with
// statistics of an empty table, the payouts update read every payout). Records keep the plain
// join, which probes their key in every state measured: bounded by `= ANY` on the key's three
// columns, PostgreSQL 15 probed it with the tenants alone.
constexpr const char* kUpdatePayouts =
    "UPDATE payouts p SET status = u.status, decline_code = u.decline_code, "
    "pending_transfer_id = u.pending_transfer_id, updated_ms = u.updated_ms, due_ms = u.due_ms "
    "FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::bigint[], $5::bigint[], "
    "$6::bigint[]) AS u(id, status, decline_code, pending_transfer_id, updated_ms, due_ms) "
    "WHERE p.id = u.id AND p.id = ANY($1::bigint[])";
constexpr const char* kInsertRecords =
    "INSERT INTO records (tenant, kind, key, value) SELECT * FROM "
    "unnest($1::text[], $2::text[], $3::text[], $4::text[])";
constexpr const char* kUpdateRecords =
    "UPDATE records r SET value = u.value FROM unnest($1::text[], $2::text[], $3::text[], "
    "$4::text[]) AS u(tenant, kind, key, value) "
    "WHERE r.tenant = u.tenant AND r.kind = u.kind AND r.key = u.key";
constexpr const char* kUpdateAccounts =
    "UPDATE accounts a SET status = u.status, credit_delay_ms = u.credit_delay_ms, "
    "debits_pending = u.dp, debits_posted = u.dd, credits_pending = u.cp, credits_posted = u.cc, "
    "history_seq = u.seq FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::bigint[], "
    "$5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[]) "
    "AS u(id, status, credit_delay_ms, dp, dd, cp, cc, seq) "
    "WHERE a.id = u.id AND a.id = ANY($1::bigint[])";

// --- libpq wrappers -----------------------------------------------------------------------------

// Statement failures that mean another writer got in the way: a unique index taken by a
// concurrent insert, a serialization failure (serializable databases), a deadlock.
bool is_conflict(std::string_view sqlstate) {
  return sqlstate == "23505" || sqlstate == "40001" || sqlstate == "40P01";
}

constexpr std::string_view kConnectionLost = "08006";

struct PgError : StorageError {
  PgError(const std::string& message, std::string state)
      : StorageError(message), sqlstate(std::move(state)) {}
  std::string sqlstate;
};

std::string trimmed(const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() {
    if (r_) PQclear(r_);
  }
  Result(Result&& other) noexcept : r_(std::exchange(other.r_, nullptr)) {}
  Result& operator=(Result&& other) noexcept {
    if (this != &other) {
      if (r_) PQclear(r_);
      r_ = std::exchange(other.r_, nullptr);
    }
    return *this;
  }
  int rows() const { return r_ ? PQntuples(r_) : 0; }
  int affected() const {
    const char* n = r_ ? PQcmdTuples(r_) : "";
    int value = 0;
    std::from_chars(n, n + std::strlen(n), value);
    return value;
  }
  const PGresult* raw() const { return r_; }

 private:
  PGresult* r_ = nullptr;
};

// One row of a result, read as rows.h's readers expect.
class Row {
 public:
  Row(const Result& result, int row) : r_(result.raw()), row_(row) {}
  std::int64_t i64(int col) const {
    const char* v = PQgetvalue(r_, row_, col);
    std::int64_t value = 0;
    const auto parsed = std::from_chars(v, v + PQgetlength(r_, row_, col), value);
    if (parsed.ec != std::errc()) throw StorageError(std::string("not an integer: ") + v);
    return value;
  }
  int i32(int col) const { return static_cast<int>(i64(col)); }
  std::string text(int col) const {
    return std::string(PQgetvalue(r_, row_, col),
                       static_cast<std::size_t>(PQgetlength(r_, row_, col)));
  }
  bool is_null(int col) const { return PQgetisnull(r_, row_, col) != 0; }

 private:
  const PGresult* r_;
  int row_;
};

// Parameters of a statement, sent as text.
class Params {
 public:
  Params& add(std::int64_t v) {
    values_.push_back(std::to_string(v));
    return *this;
  }
  Params& add(std::string_view v) {
    values_.emplace_back(v);
    return *this;
  }
  Params& add(std::string&& v) {
    values_.push_back(std::move(v));
    return *this;
  }
  Params& append(Params&& other) {
    for (std::string& v : other.values_) values_.push_back(std::move(v));
    return *this;
  }
  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> pointers() const {
    std::vector<const char*> p;
    p.reserve(values_.size());
    for (const std::string& v : values_) p.push_back(v.c_str());
    return p;
  }

 private:
  std::vector<std::string> values_;
};

// An array parameter in PostgreSQL's text form: {1,2} or {"a","b\"c"}.
class ArrayText {
 public:
  ArrayText() { out_.push_back('{'); }
  void add(std::int64_t v) {
    separate();
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    out_.append(digits, end);
  }
  void add(std::string_view v) {
    separate();
    out_.push_back('"');
    for (char c : v) {
      if (c == '"' || c == '\\') out_.push_back('\\');
      out_.push_back(c);
    }
    out_.push_back('"');
  }
  std::string done() {
    out_.push_back('}');
    return std::move(out_);
  }

 private:
  void separate() {
    if (out_.size() > 1) out_.push_back(',');
  }
  std::string out_;
};

// Columns of arrays, one per statement parameter, filled row by row.
template <std::size_t N>
class Columns {
 public:
  template <typename... Values>
  void row(const Values&... values) {
    static_assert(sizeof...(Values) == N);
    std::size_t i = 0;
    (columns_[i++].add(values), ...);
    ++rows_;
  }
  bool empty() const { return rows_ == 0; }
  Params params() {
    Params p;
    for (ArrayText& c : columns_) p.add(c.done());
    return p;
  }

 private:
  std::array<ArrayText, N> columns_;
  std::size_t rows_ = 0;
};

class Connection {
 public:
  explicit Connection(const PostgresOptions& o) {
    const std::string timeout = std::to_string(o.connect_timeout_s);
    // The URL comes last, so that whatever it sets wins over these defaults.
    const char* keys[] = {"connect_timeout", "application_name", "keepalives", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                          "dbname", nullptr};
    const char* values[] = {timeout.c_str(), o.application_name.c_str(), "1", "10", "5", "3",
                            "15000", o.url.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string message = trimmed(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      throw PgError("cannot connect to PostgreSQL: " + message, std::string(kConnectionLost));
    }
    try {
      exec(session_settings(o).c_str());
    } catch (...) {
      PQfinish(conn_);
      throw;
    }
  }
  ~Connection() {
    if (conn_) PQfinish(conn_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // False once the server is gone or a round trip broke off half-way: the owner replaces it.
  bool ok() const { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }

  // A statement without parameters, or several separated by semicolons.
  void exec(const char* sql) { check(Result(PQexec(conn_, sql)), sql); }

  // A prepared statement (prepared on first use on this connection).
  Result query(std::string_view sql, const Params& params = {}) {
    const std::string& name = prepared(sql);
    const auto values = params.pointers();
    Result r(PQexecPrepared(conn_, name.c_str(), params.size(), values.data(), nullptr, nullptr,
                            0));
    check(r, sql);
    return r;
  }

  struct Step {
    std::string_view sql;
    Params params;
  };
  // Sends every step in one round trip and returns their results, in order. Throws the first
  // failure; the steps after it did not run.
  std::vector<Result> pipeline(const std::vector<Step>& steps) {
    for (const Step& s : steps) prepared(s.sql);
    if (PQenterPipelineMode(conn_) != 1) throw lost("cannot enter pipeline mode");
    for (const Step& s : steps) {
      const auto values = s.params.pointers();
      if (PQsendQueryPrepared(conn_, prepared(s.sql).c_str(), s.params.size(), values.data(),
                              nullptr, nullptr, 0) != 1) {
        throw lost("send");
      }
    }
    if (PQpipelineSync(conn_) != 1) throw lost("sync");
    std::vector<Result> results(steps.size());
    std::optional<PgError> failure;
    std::size_t index = 0;
    for (;;) {
      Result r(PQgetResult(conn_));
      if (!r.raw()) {
        // The end of one step's results.
        if (!ok() || index >= steps.size()) throw lost("pipeline");
        ++index;
        continue;
      }
      const ExecStatusType status = PQresultStatus(r.raw());
      if (status == PGRES_PIPELINE_SYNC) break;
      if (index >= steps.size()) throw lost("pipeline");
      if (status == PGRES_FATAL_ERROR && !failure) {
        failure = error_of(r, steps[index].sql);
      } else if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        results[index] = std::move(r);
      }
    }
    if (PQexitPipelineMode(conn_) != 1) throw lost("cannot leave pipeline mode");
    if (failure) throw *failure;
    return results;
  }

 private:
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const {
      return std::hash<std::string_view>{}(sql);
    }
  };

  const std::string& prepared(std::string_view sql) {
    auto it = names_.find(sql);
    if (it != names_.end()) return it->second;
    std::string name = "s" + std::to_string(names_.size());
    const std::string text(sql);
    check(Result(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr)), sql);
    return names_.emplace(text, std::move(name)).first->second;
  }

  PgError lost(const char* what) const {
    broken_ = true;
    return PgError(std::string("PostgreSQL connection lost (") + what +
                       "): " + trimmed(PQerrorMessage(conn_)),
                   std::string(kConnectionLost));
  }

  PgError error_of(const Result& r, std::string_view sql) const {
    const char* state = r.raw() ? PQresultErrorField(r.raw(), PG_DIAG_SQLSTATE) : nullptr;
    std::string message = trimmed(r.raw() ? PQresultErrorMessage(r.raw()) : PQerrorMessage(conn_));
    if (message.empty()) message = trimmed(PQerrorMessage(conn_));
    const std::string_view head = sql.substr(0, std::min<std::size_t>(sql.size(), 60));
    return PgError(message + " (in " + std::string(head) + "...)",
                   state ? std::string(state) : std::string(kConnectionLost));
  }

  void check(const Result& r, std::string_view sql) const {
    const ExecStatusType status = r.raw() ? PQresultStatus(r.raw()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw error_of(r, sql);
  }

  PGconn* conn_ = nullptr;
  mutable bool broken_ = false;
  std::unordered_map<std::string, std::string, SqlHash, std::equal_to<>> names_;
};

std::string payout_key(std::string_view tenant, PayoutKind kind, std::string_view partner_id) {
  return account_key(tenant, static_cast<AccountKind>(kind), partner_id);
}

// --- migrations ---------------------------------------------------------------------------------

int read_schema_version(Connection& c) {
  Result exists = c.query("SELECT to_regclass('meta') IS NOT NULL");
  if (Row(exists, 0).text(0) != "t") return 0;
  Result version = c.query("SELECT value FROM meta WHERE key = 'schema_version'");
  return version.rows() ? std::stoi(Row(version, 0).text(0)) : 0;
}

int migrate_once(Connection& c, int target) {
  int version = read_schema_version(c);
  for (const Migration& m : migration_steps(kMigrations, version, target)) {
    if (m.version <= version) continue;
    c.exec("BEGIN");
    if (m.version > 1) {
      // Nodes migrating at once queue here; the later ones find the step done.
      Result now = c.query("SELECT value FROM meta WHERE key = 'schema_version' FOR UPDATE");
      const int current = now.rows() ? std::stoi(Row(now, 0).text(0)) : 0;
      if (current >= m.version) {
        c.exec("COMMIT");
        version = current;
        continue;
      }
    }
    c.exec(m.sql);
    c.query("INSERT INTO meta (key, value) VALUES ('schema_version', $1) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            Params().add(std::to_string(m.version)));
    c.exec("COMMIT");
    spdlog::info("database at schema version {}: {}", m.version, m.what);
    version = m.version;
  }
  return version;
}

// Two nodes creating the first tables at once collide on the catalog (42P07 duplicate table,
// 23505 on its unique indexes): the loser rolls back and finds the work done on its next try.
int migrate(Connection& c, int target) {
  for (int attempt = 1;; ++attempt) {
    try {
      return migrate_once(c, target);
    } catch (const PgError& e) {
      const bool concurrent = is_conflict(e.sqlstate) || e.sqlstate == "42P07";
      if (!concurrent || attempt >= kMigrationAttemptsMax) throw;
      c.exec("ROLLBACK");
      std::this_thread::sleep_for(std::chrono::milliseconds(50 * attempt));
    }
  }
}

// --- the store ----------------------------------------------------------------------------------

class PgStore;

class PgWriteTxn final : public WriteTxn {
 public:
  // `c` is null when the database is unreachable: then the transaction fails with `why`.
  PgWriteTxn(PgStore& store, Connection* c, std::string why);
  ~PgWriteTxn() override;

  void prepare(const Footprint& footprint) override;
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
  // An account as the batch found it (`base`, to write only what changed) and as it is now.
  struct Slot {
    Account base;
    Account now;
  };
  template <typename F>
  auto guarded(F&& f) -> decltype(f());
  void begin_if_needed();
  Account* keep(const Account& a);
  Account* keep_rows(const Result& r);
  const PayoutRecord* keep_payout(PayoutRecord p);
  std::int64_t add_payout(const PayoutRecord& p);
  std::int64_t next_row_id();

  PgStore& store_;
  Connection* c_;
  bool begun_ = false;
  bool failed_ = false;
  bool conflict_ = false;
  bool finished_ = false;
  std::string failure_;

  std::unordered_map<std::int64_t, std::unique_ptr<Slot>> accounts_;
  std::unordered_map<std::string, std::int64_t> by_code_;      // account_key -> id
  std::unordered_set<std::string> absent_codes_;               // looked up, not there
  std::unordered_set<std::string> owners_loaded_;              // every account of the owner
  struct PayoutSlot {
    PayoutRecord record;
    bool inserted = false;  // by this batch: the insert carries every change
    bool updated = false;   // stored before, changed by this batch
  };
  std::unordered_map<std::int64_t, PayoutSlot> payouts_;       // read or written by the batch
  std::unordered_map<std::string, std::int64_t> payout_ids_;   // payout_key -> id (0: none)
  std::vector<std::int64_t> new_payouts_;                      // ids, in insertion order
  std::vector<std::int64_t> updated_payouts_;                  // ids of stored payouts changed
  std::vector<Transfer> new_transfers_;
  std::unordered_map<std::int64_t, std::size_t> new_transfer_index_;
  std::vector<HistoryRecord> new_history_;
  struct RecordSlot {
    std::string tenant, kind, key;
    std::optional<std::string> value;  // nullopt: looked up, not there
    bool inserted = false;
    bool updated = false;
  };
  std::map<std::string, RecordSlot> records_;  // by record_key(); written in key order
};

class PgStore final : public Store {
 public:
  explicit PgStore(const PostgresOptions& options) : options_(options) {
    auto first = connect_at_startup();
    schema_version_ = options_.read_only ? read_schema_version(*first)
                                         : migrate(*first, options_.schema_version_target);
    if (options_.read_only) {
      release(std::move(first));
    } else {
      writer_ = std::move(first);
    }
  }

  int schema_version() const override { return schema_version_; }

  std::unique_ptr<WriteTxn> begin() override {
    assert(!options_.read_only && "read-only store");
    if (writer_ && !writer_->ok()) writer_.reset();
    if (!writer_) {
      if (Steady::now() < writer_retry_at_) {
        return std::make_unique<PgWriteTxn>(*this, nullptr, writer_failure_);
      }
      try {
        writer_ = std::make_unique<Connection>(options_);
        spdlog::info("reconnected to PostgreSQL");
      } catch (const PgError& e) {
        writer_failure_ = e.what();
        writer_retry_at_ = Steady::now() + std::chrono::milliseconds(options_.reconnect_backoff_ms);
        return std::make_unique<PgWriteTxn>(*this, nullptr, writer_failure_);
      }
    }
    return std::make_unique<PgWriteTxn>(*this, writer_.get(), std::string());
  }

  // COMMIT returned after the log flush: there is nothing left to make durable.
  Status sync() override { return Status::Ok(); }

  // Writer thread only: the next id for a transfer or a payout.
  std::int64_t next_row_id(Connection& c) {
    if (next_row_id_ == row_id_end_) {
      Result r = c.query("SELECT nextval('row_ids')");
      next_row_id_ = Row(r, 0).i64(0);
      row_id_end_ = next_row_id_ + kRowIdBlock;
    }
    return next_row_id_++;
  }

  std::optional<PayoutRecord> get_payout(std::string_view tenant, PayoutKind kind,
                                         std::string_view partner_id) const override {
    Result r = read("SELECT " PAYOUT_COLUMNS
                    " FROM payouts WHERE tenant = $1 AND kind = $2 AND partner_id = $3",
                    Params().add(tenant).add(static_cast<std::int64_t>(kind)).add(partner_id));
    if (!r.rows()) return std::nullopt;
    return read_payout(Row(r, 0));
  }

  std::vector<OutboxMessage> due_outbox(std::int64_t now_ms, std::size_t queue_max,
                                        std::size_t limit) const override {
    Result r = read(kDueOutbox, Params().add(now_ms).add(static_cast<std::int64_t>(queue_max))
                                    .add(static_cast<std::int64_t>(limit)));
    std::vector<OutboxMessage> result;
    for (int i = 0; i < r.rows(); ++i) result.push_back(read_outbox(Row(r, i)));
    return result;
  }

  std::vector<OutboxMessage> outbox_messages(std::string_view tenant, std::string_view prefix,
                                             std::size_t limit) const override {
    Result r = read("SELECT " OUTBOX_COLUMNS " FROM outbox WHERE tenant = $1 AND "
                    "left(event_id, $2) = $3 ORDER BY id LIMIT $4",
                    Params().add(tenant).add(static_cast<std::int64_t>(prefix.size())).add(prefix)
                        .add(static_cast<std::int64_t>(limit)));
    std::vector<OutboxMessage> result;
    for (int i = 0; i < r.rows(); ++i) result.push_back(read_outbox(Row(r, i)));
    return result;
  }

  std::vector<OutboxMessage> payout_messages(std::int64_t payout_id, std::size_t limit) const override {
    Result r = read("SELECT " OUTBOX_COLUMNS " FROM outbox WHERE payout_id = $1 AND payout_id <> 0 "
                    "ORDER BY id LIMIT $2",
                    Params().add(payout_id).add(static_cast<std::int64_t>(limit)));
    std::vector<OutboxMessage> result;
    for (int i = 0; i < r.rows(); ++i) result.push_back(read_outbox(Row(r, i)));
    return result;
  }

  std::vector<OutboxAttempt> outbox_attempts(std::int64_t message_id) const override {
    Result r = read("SELECT " OUTBOX_ATTEMPT_COLUMNS
                    " FROM outbox_attempts WHERE message_id = $1 ORDER BY attempt",
                    Params().add(message_id));
    std::vector<OutboxAttempt> result;
    for (int i = 0; i < r.rows(); ++i) result.push_back(read_outbox_attempt(Row(r, i)));
    return result;
  }

  std::vector<std::pair<std::string, std::string>> records_with_prefix(
      std::string_view tenant, std::string_view kind, std::string_view prefix,
      std::size_t limit) const override {
    Result r = read("SELECT key, value FROM records WHERE tenant = $1 AND kind = $2 AND "
                    "key >= $3 AND left(key, $4) = $3 ORDER BY key LIMIT $5",
                    Params().add(tenant).add(kind).add(prefix)
                        .add(static_cast<std::int64_t>(prefix.size()))
                        .add(static_cast<std::int64_t>(limit)));
    std::vector<std::pair<std::string, std::string>> result;
    for (int i = 0; i < r.rows(); ++i) result.emplace_back(Row(r, i).text(0), Row(r, i).text(1));
    return result;
  }

  std::optional<std::string> get_record(std::string_view tenant, std::string_view kind,
                                        std::string_view key) const override {
    Result r = read("SELECT value FROM records WHERE tenant = $1 AND kind = $2 AND key = $3",
                    Params().add(tenant).add(kind).add(key));
    if (!r.rows()) return std::nullopt;
    return Row(r, 0).text(0);
  }

  std::optional<Account> get_account(std::string_view tenant, AccountKind kind,
                                     std::string_view code) const override {
    auto found = accounts_where(By::kCode, tenant, kind, code);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
  }

  std::vector<Account> get_accounts_by_owner(std::string_view tenant, AccountKind kind,
                                             std::string_view owner) const override {
    return accounts_where(By::kOwner, tenant, kind, owner);
  }

  std::vector<Account> tenant_accounts(std::string_view tenant, AccountKind kind) const override {
    Result r = read("SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE tenant = $1 AND kind = $2 ORDER BY id",
                    Params().add(tenant).add(static_cast<std::int64_t>(kind)));
    std::vector<Account> result;
    for (int i = 0; i < r.rows(); ++i) result.push_back(read_account(Row(r, i)));
    return result;
  }

  std::vector<PayoutRecord> payouts_page(const PayoutQuery& q) const override {
    Result r = read("SELECT " PAYOUT_COLUMNS " FROM payouts WHERE tenant = $1 AND kind IN (0, 3) "
                    "AND ($2::int < 0 OR status = $2::int) AND created_ms >= $3::bigint "
                    "AND ($4::bigint = 0 OR created_ms < $4::bigint) AND amount >= $5::bigint "
                    "AND ($6::bigint = 0 OR amount <= $6::bigint) "
                    "AND ($7::text = '' OR partner_id = $7::text) AND ($8::bigint = 0 OR id < $8::bigint) "
                    "ORDER BY id DESC LIMIT $9::bigint",
                    Params()
                        .add(q.tenant)
                        .add(static_cast<std::int64_t>(q.status ? static_cast<int>(*q.status) : -1))
                        .add(q.created_from_ms)
                        .add(q.created_to_ms)
                        .add(q.amount_min)
                        .add(q.amount_max)
                        .add(q.partner_id)
                        .add(q.before_id)
                        .add(static_cast<std::int64_t>(q.limit)));
    std::vector<PayoutRecord> result;
    for (int i = 0; i < r.rows(); ++i) result.push_back(read_payout(Row(r, i)));
    return result;
  }

  std::vector<PayoutDay> payout_days(std::string_view tenant, std::int64_t from_ms,
                                     std::int64_t to_ms) const override {
    Result r = read(
        "SELECT created_ms - created_ms % 86400000 AS day, status, currency, COUNT(*), SUM(amount)::bigint "
        "FROM payouts WHERE tenant = $1 AND kind IN (0, 3) AND created_ms >= $2::bigint AND created_ms < $3::bigint "
        "GROUP BY day, status, currency ORDER BY day, status, currency",
        Params().add(tenant).add(from_ms).add(to_ms));
    std::vector<PayoutDay> result;
    for (int i = 0; i < r.rows(); ++i) {
      Row row(r, i);
      result.push_back({row.i64(0), static_cast<PayoutStatus>(row.i64(1)), row.text(2),
                        row.i64(3), row.i64(4)});
    }
    return result;
  }

  std::optional<std::pair<std::int64_t, std::int64_t>> find_history(
      std::string_view txn_history_id) const override {
    // The id carries its position; the entry at that position must carry the very same id.
    const auto position = decode_history_uuid(txn_history_id);
    if (!position) return std::nullopt;
    // `history_seq > 0` is payouts_history's condition: a generic plan (made without the
    // values) can use that partial index only if the statement spells it (here and below).
    Result r = read(
        "SELECT txn_history_id FROM history WHERE account_id = $1 AND seq = $2 UNION ALL "
        "SELECT history_id FROM payouts WHERE history_account_id = $1 AND history_seq = $2 "
        "AND history_seq > 0",
        Params().add(position->first).add(position->second));
    for (int i = 0; i < r.rows(); ++i) {
      if (Row(r, i).text(0) == txn_history_id) return position;
    }
    return std::nullopt;
  }

  std::vector<HistoryRecord> history_page(std::int64_t account_id, std::int64_t after_seq,
                                          std::size_t limit) const override {
    return with_reader([&](Connection& c) { return history_page(c, account_id, after_seq, limit); });
  }

  std::vector<PayoutRecord> processing_payouts(std::int64_t due_before_ms,
                                               std::size_t limit) const override {
    Result r = read("SELECT " PAYOUT_COLUMNS
                    " FROM payouts WHERE status = 0 AND due_ms < $1 ORDER BY due_ms LIMIT $2",
                    Params().add(due_before_ms).add(static_cast<std::int64_t>(limit)));
    std::vector<PayoutRecord> result;
    for (int i = 0; i < r.rows(); ++i) result.push_back(read_payout(Row(r, i)));
    return result;
  }

  AuditSnapshot snapshot() const override {
    return with_reader([&](Connection& c) { return snapshot(c); });
  }

 private:
  std::vector<HistoryRecord> history_page(Connection& c, std::int64_t account_id,
                                          std::int64_t after_seq, std::size_t limit) const {
    const auto n = static_cast<std::int64_t>(limit);
    const Params params = Params().add(account_id).add(after_seq).add(n);
    Result t = c.query("SELECT " HISTORY_COLUMNS
                        " FROM history WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                        params);
    std::vector<HistoryRecord> table;
    for (int i = 0; i < t.rows(); ++i) table.push_back(read_history(Row(t, i)));
    Result p = c.query("SELECT " HISTORY_PAYOUT_COLUMNS
                        " FROM payouts p CROSS JOIN LATERAL (SELECT owner FROM accounts "
                        "WHERE id = p.source_account_id LIMIT 1) a "
                        "WHERE p.history_account_id = $1 AND p.history_seq > $2 "
                        "AND p.history_seq > 0 ORDER BY p.history_seq LIMIT $3",
                        params);
    std::vector<HistoryRecord> payouts;
    for (int i = 0; i < p.rows(); ++i) payouts.push_back(read_payout_history(Row(p, i), account_id));
    return merge_history(std::move(table), std::move(payouts), limit);
  }

  AuditSnapshot snapshot(Connection& c) const {
    // Whole tables, however long that takes: the request-sized statement timeout is not for it.
    c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL enable_seqscan = on; "
           "SET LOCAL statement_timeout = 0");
    AuditSnapshot snap;
    try {
      Result a = c.query("SELECT " ACCOUNT_COLUMNS " FROM accounts ORDER BY id");
      for (int i = 0; i < a.rows(); ++i) snap.accounts.push_back(read_account(Row(a, i)));
      Result t = c.query("SELECT " TRANSFER_COLUMNS " FROM transfers ORDER BY id");
      for (int i = 0; i < t.rows(); ++i) snap.transfers.push_back(read_transfer(Row(t, i)));
      Result p = c.query("SELECT " PAYOUT_COLUMNS " FROM payouts ORDER BY id");
      for (int i = 0; i < p.rows(); ++i) snap.payouts.push_back(read_payout(Row(p, i)));
      Result h = c.query("SELECT txn_history_id, status, account_id, seq FROM history");
      for (int i = 0; i < h.rows(); ++i) {
        const Row row(h, i);
        snap.history.push_back({row.text(0), row.i32(1), row.i64(2), row.i64(3)});
      }
    } catch (...) {
      if (c.ok()) c.exec("ROLLBACK");
      throw;
    }
    c.exec("COMMIT");
    return snap;
  }

  friend class PgWriteTxn;

  // A pooled read connection, returned to the pool (if still healthy) when the lease ends.
  class Lease {
   public:
    Lease(const PgStore& store, std::unique_ptr<Connection> c)
        : store_(store), connection_(std::move(c)) {}
    ~Lease() { store_.release(std::move(connection_)); }
    Lease(Lease&&) = default;
    Connection* operator->() { return connection_.get(); }
    Connection& operator*() { return *connection_; }

   private:
    const PgStore& store_;
    std::unique_ptr<Connection> connection_;
  };

  std::unique_ptr<Connection> connect_at_startup() {
    const auto deadline = Steady::now() + std::chrono::seconds(options_.startup_wait_s);
    for (int attempt = 1;; ++attempt) {
      try {
        return std::make_unique<Connection>(options_);
      } catch (const PgError& e) {
        if (Steady::now() >= deadline) throw std::runtime_error(e.what());
        if (attempt == 1) spdlog::warn("{}; retrying for {} s", e.what(), options_.startup_wait_s);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  }

  enum class By : std::uint8_t { kCode, kOwner };
  // The accounts of (tenant, kind) whose code or owner is `value`, in id order.
  std::vector<Account> accounts_where(By by, std::string_view tenant, AccountKind kind,
                                      std::string_view value) const {
    Result r = read(by == By::kCode
                        ? "SELECT " ACCOUNT_COLUMNS
                          " FROM accounts WHERE tenant = $1 AND kind = $2 AND code = $3"
                        : "SELECT " ACCOUNT_COLUMNS
                          " FROM accounts WHERE tenant = $1 AND kind = $2 AND owner = $3 "
                          "ORDER BY id",
                    Params().add(tenant).add(static_cast<std::int64_t>(kind)).add(value));
    std::vector<Account> result;
    for (int i = 0; i < r.rows(); ++i) result.push_back(read_account(Row(r, i)));
    return result;
  }

  Result read(std::string_view sql, const Params& params) const {
    return with_reader([&](Connection& c) { return c.query(sql, params); });
  }

  // Runs `f` on a pooled connection. Idle connections do not notice that the server restarted
  // until they are used: when one turns out dead, every idle one is dropped (they share its
  // fate) and `f` runs once more on a new connection.
  template <typename F>
  auto with_reader(F&& f) const -> decltype(f(std::declval<Connection&>())) {
    for (int attempt = 0;; ++attempt) {
      auto c = acquire(attempt == 0 ? Pick::kIdleFirst : Pick::kNew);
      try {
        return f(*c);
      } catch (const PgError& e) {
        if (e.sqlstate != kConnectionLost || attempt > 0) throw;
        drop_idle();
      }
    }
  }

  void drop_idle() const {
    std::vector<std::unique_ptr<Connection>> dropped;
    {
      std::lock_guard lock(pool_mutex_);
      dropped.swap(idle_);
      open_ -= static_cast<int>(dropped.size());
    }
    pool_free_.notify_all();
  }

  enum class Pick : std::uint8_t { kIdleFirst, kNew };
  Lease acquire(Pick pick = Pick::kIdleFirst) const {
    std::unique_lock lock(pool_mutex_);
    const bool available =
        pool_free_.wait_for(lock, std::chrono::milliseconds(options_.pool_wait_ms),
                            [&] { return !idle_.empty() || open_ < options_.read_connections_max; });
    if (!available) throw StorageError("no free PostgreSQL connection");
    if (pick == Pick::kNew && open_ >= options_.read_connections_max) {
      idle_.pop_back();  // makes room for the new one
      --open_;
    }
    if (pick == Pick::kIdleFirst && !idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(c));
    }
    ++open_;
    lock.unlock();
    try {
      return Lease(*this, std::make_unique<Connection>(options_));
    } catch (...) {
      lock.lock();
      --open_;
      pool_free_.notify_one();
      throw;
    }
  }

  void release(std::unique_ptr<Connection> c) const {
    if (!c) return;
    {
      std::lock_guard lock(pool_mutex_);
      if (c->ok()) {
        idle_.push_back(std::move(c));
      } else {
        --open_;  // a broken connection is dropped; the next read opens a new one
      }
    }
    pool_free_.notify_one();
  }

  PostgresOptions options_;
  int schema_version_ = 0;
  // The committer's connection and what it needs (committer thread only).
  std::unique_ptr<Connection> writer_;
  Steady::time_point writer_retry_at_{};
  std::string writer_failure_;
  std::int64_t next_row_id_ = 0;
  std::int64_t row_id_end_ = 0;
  // Read connections.
  mutable std::mutex pool_mutex_;
  mutable std::condition_variable pool_free_;
  mutable std::vector<std::unique_ptr<Connection>> idle_;
  mutable int open_ = 0;  // read connections in existence (idle or leased)
};

PgWriteTxn::PgWriteTxn(PgStore& store, Connection* c, std::string why)
    : store_(store), c_(c) {
  if (!c_) {
    failed_ = true;
    failure_ = "PostgreSQL unavailable: " + why;
  }
}

PgWriteTxn::~PgWriteTxn() {
  if (begun_ && !finished_ && c_->ok()) {
    try {
      c_->exec("ROLLBACK");
    } catch (const StorageError&) {
      // The connection is dropped by the store when it is broken; nothing else to undo.
    }
  }
}

template <typename F>
auto PgWriteTxn::guarded(F&& f) -> decltype(f()) {
  using R = decltype(f());
  if (failed_) return R{};
  try {
    return f();
  } catch (const PgError& e) {
    failed_ = true;
    // A lost connection is worth a retry on a new one, like a conflict: before COMMIT nothing
    // happened, and if COMMIT got through, every job finds its own committed work when it runs
    // again (each claims a partner id or checks a state first), and changes nothing twice.
    conflict_ = is_conflict(e.sqlstate) || e.sqlstate == kConnectionLost;
    failure_ = e.what();
  } catch (const StorageError& e) {
    failed_ = true;
    failure_ = e.what();
  }
  return R{};
}

void PgWriteTxn::begin_if_needed() {
  if (begun_) return;
  begun_ = true;
  c_->exec("BEGIN");
}

Account* PgWriteTxn::keep(const Account& a) {
  auto [it, inserted] = accounts_.try_emplace(a.id);
  if (inserted) {
    it->second = std::make_unique<Slot>(Slot{a, a});
    by_code_[account_key(a.tenant, a.kind, a.code)] = a.id;
  }
  return &it->second->now;
}

Account* PgWriteTxn::keep_rows(const Result& r) {
  Account* last = nullptr;
  for (int i = 0; i < r.rows(); ++i) last = keep(read_account(Row(r, i)));
  return last;
}

const PayoutRecord* PgWriteTxn::keep_payout(PayoutRecord p) {
  payout_ids_[payout_key(p.tenant, p.kind, p.partner_id)] = p.id;
  const std::int64_t id = p.id;
  auto [it, inserted] = payouts_.try_emplace(id, PayoutSlot{std::move(p)});
  return &it->second.record;
}

// Declared keys as the columns of a statement, each key once: a batch's jobs declare the same
// funder and wallet again and again, and each key sent is one index probe.
template <typename Key>
Columns<3> distinct_keys(const std::vector<Key>& keys, std::string_view Key::*name) {
  Columns<3> columns;
  std::set<std::tuple<std::string_view, int, std::string_view>> seen;
  for (const Key& k : keys) {
    if (seen.emplace(k.tenant, static_cast<int>(k.kind), k.*name).second) {
      columns.row(k.tenant, static_cast<std::int64_t>(k.kind), k.*name);
    }
  }
  return columns;
}

void PgWriteTxn::prepare(const Footprint& f) {
  guarded([&] {
    assert(!begun_);
    Columns<3> codes = distinct_keys(f.accounts, &Footprint::AccountKey::code);
    Columns<3> owners = distinct_keys(f.account_owners, &Footprint::AccountKey::code);
    Columns<3> partner_ids = distinct_keys(f.payouts, &Footprint::PayoutKey::partner_id);
    ArrayText ids;
    for (std::int64_t id : f.payout_ids) ids.add(id);
    const std::string payout_ids = ids.done();

    std::vector<Connection::Step> steps;
    steps.push_back({"BEGIN", {}});
    const bool lock = !codes.empty() || !owners.empty() || !f.payout_ids.empty();
    if (lock) {
      Params p = codes.params();
      p.append(owners.params()).add(std::string_view(payout_ids));
      steps.push_back({kLockAccounts, std::move(p)});
    }
    const bool fetch = !partner_ids.empty() || !f.payout_ids.empty();
    if (fetch) {
      Params p = partner_ids.params();
      p.add(std::string_view(payout_ids));
      steps.push_back({kFetchPayouts, std::move(p)});
    }
    begun_ = true;  // from here on, whatever fails is rolled back
    std::vector<Result> results = c_->pipeline(steps);
    std::size_t next = 1;
    if (lock) keep_rows(results[next++]);
    if (fetch) {
      const Result& r = results[next++];
      for (int i = 0; i < r.rows(); ++i) keep_payout(read_payout(Row(r, i)));
    }
    // What was declared and not found is known to be absent.
    for (const auto& k : f.accounts) {
      std::string key = account_key(k.tenant, k.kind, k.code);
      if (!by_code_.count(key)) absent_codes_.insert(std::move(key));
    }
    for (const auto& k : f.account_owners) {
      owners_loaded_.insert(account_key(k.tenant, k.kind, k.code));
    }
    for (const auto& k : f.payouts) payout_ids_.try_emplace(payout_key(k.tenant, k.kind, k.partner_id), 0);
    return 0;
  });
}

Account* PgWriteTxn::account(std::int64_t id) {
  if (auto it = accounts_.find(id); it != accounts_.end()) return &it->second->now;
  return guarded([&]() -> Account* {
    begin_if_needed();
    return keep_rows(c_->query("SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = $1 FOR UPDATE",
                               Params().add(id)));
  });
}

Account* PgWriteTxn::find_account(std::string_view tenant, AccountKind kind,
                                  std::string_view code) {
  std::string key = account_key(tenant, kind, code);
  if (auto it = by_code_.find(key); it != by_code_.end()) return &accounts_[it->second]->now;
  if (absent_codes_.count(key)) return nullptr;
  return guarded([&]() -> Account* {
    begin_if_needed();
    Account* a = keep_rows(c_->query(
        "SELECT " ACCOUNT_COLUMNS
        " FROM accounts WHERE tenant = $1 AND kind = $2 AND code = $3 FOR UPDATE",
        Params().add(tenant).add(static_cast<std::int64_t>(kind)).add(code)));
    if (!a) absent_codes_.insert(std::move(key));
    return a;
  });
}

std::vector<Account*> PgWriteTxn::find_accounts_by_owner(std::string_view tenant,
                                                         AccountKind kind,
                                                         std::string_view owner) {
  std::string key = account_key(tenant, kind, owner);
  if (!owners_loaded_.count(key)) {
    const bool loaded = guarded([&] {
      begin_if_needed();
      keep_rows(c_->query("SELECT " ACCOUNT_COLUMNS
                          " FROM accounts WHERE tenant = $1 AND kind = $2 AND owner = $3 "
                          "ORDER BY id FOR UPDATE",
                          Params().add(tenant).add(static_cast<std::int64_t>(kind)).add(owner)));
      return true;
    });
    if (!loaded) return {};
    owners_loaded_.insert(std::move(key));
  }
  std::vector<Account*> result;
  for (auto& [id, slot] : accounts_) {
    const Account& a = slot->now;
    if (a.tenant == tenant && a.kind == kind && a.owner == owner) result.push_back(&slot->now);
  }
  std::sort(result.begin(), result.end(),
            [](const Account* a, const Account* b) { return a->id < b->id; });
  return result;
}

Account* PgWriteTxn::insert_account(const Account& account) {
  Account a = account;
  a.debits_pending = a.debits_posted = a.credits_pending = a.credits_posted = 0;
  a.history_seq = 0;
  a.id = guarded([&] {
    begin_if_needed();
    Result r = c_->query(
        "INSERT INTO accounts (tenant, kind, code, owner, currency, floor, status, "
        "credit_delay_ms, debits_pending, debits_posted, credits_pending, credits_posted, "
        "history_seq, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, 0, 0, 0, $9) "
        "RETURNING id",
        Params()
            .add(a.tenant)
            .add(static_cast<std::int64_t>(a.kind))
            .add(a.code)
            .add(a.owner)
            .add(a.currency.code())
            .add(static_cast<std::int64_t>(a.floor))
            .add(static_cast<std::int64_t>(a.status))
            .add(a.credit_delay_ms)
            .add(a.created_ms));
    return Row(r, 0).i64(0);
  });
  // A failed transaction still hands out a distinct account; its commit will fail anyway.
  if (a.id == 0) a.id = -static_cast<std::int64_t>(accounts_.size() + 1);
  absent_codes_.erase(account_key(a.tenant, a.kind, a.code));
  return keep(a);
}

std::int64_t PgWriteTxn::next_row_id() {
  return guarded([&] { return store_.next_row_id(*c_); });
}

std::int64_t PgWriteTxn::insert_transfer(const Transfer& transfer) {
  const std::int64_t id = next_row_id();
  if (failed_) return 0;
  new_transfer_index_[id] = new_transfers_.size();
  new_transfers_.push_back(transfer);
  new_transfers_.back().id = id;
  return id;
}

std::optional<Transfer> PgWriteTxn::find_transfer(std::int64_t id) {
  if (auto it = new_transfer_index_.find(id); it != new_transfer_index_.end()) {
    return new_transfers_[it->second];
  }
  return guarded([&]() -> std::optional<Transfer> {
    begin_if_needed();
    Result r = c_->query("SELECT " TRANSFER_COLUMNS " FROM transfers WHERE id = $1",
                         Params().add(id));
    if (!r.rows()) return std::nullopt;
    return read_transfer(Row(r, 0));
  });
}

std::optional<PayoutRecord> PgWriteTxn::find_payout(std::string_view tenant, PayoutKind kind,
                                                    std::string_view partner_id) {
  const std::string key = payout_key(tenant, kind, partner_id);
  if (auto it = payout_ids_.find(key); it != payout_ids_.end()) {
    if (it->second == 0) return std::nullopt;
    return payouts_.at(it->second).record;
  }
  return guarded([&]() -> std::optional<PayoutRecord> {
    begin_if_needed();
    Result r = c_->query("SELECT " PAYOUT_COLUMNS
                         " FROM payouts WHERE tenant = $1 AND kind = $2 AND partner_id = $3",
                         Params().add(tenant).add(static_cast<std::int64_t>(kind)).add(partner_id));
    if (!r.rows()) {
      payout_ids_[key] = 0;
      return std::nullopt;
    }
    return *keep_payout(read_payout(Row(r, 0)));
  });
}

std::optional<PayoutRecord> PgWriteTxn::find_payout_by_id(std::int64_t id) {
  if (auto it = payouts_.find(id); it != payouts_.end()) return it->second.record;
  return guarded([&]() -> std::optional<PayoutRecord> {
    begin_if_needed();
    Result r = c_->query("SELECT " PAYOUT_COLUMNS " FROM payouts WHERE id = $1", Params().add(id));
    if (!r.rows()) return std::nullopt;
    return *keep_payout(read_payout(Row(r, 0)));
  });
}

std::int64_t PgWriteTxn::add_payout(const PayoutRecord& payout) {
  PayoutRecord p = payout;
  p.id = next_row_id();
  if (failed_) return 0;
  new_payouts_.push_back(p.id);
  keep_payout(std::move(p));
  payouts_.at(new_payouts_.back()).inserted = true;
  return new_payouts_.back();
}

// A payout another node inserted since the batch looked makes the commit fail on the unique
// index, as a conflict: the batch runs again and then finds it.
std::int64_t PgWriteTxn::insert_payout(const PayoutRecord& payout) { return add_payout(payout); }

std::int64_t PgWriteTxn::insert_payout_if_new(const PayoutRecord& payout) {
  if (find_payout(payout.tenant, payout.kind, payout.partner_id) || failed_) return 0;
  return add_payout(payout);
}

void PgWriteTxn::update_payout(const PayoutRecord& payout) {
  auto [it, found_none] = payouts_.try_emplace(payout.id, PayoutSlot{payout});
  PayoutSlot& slot = it->second;
  if (!found_none) {
    PayoutRecord& p = slot.record;
    p.status = payout.status;
    p.decline_code = payout.decline_code;
    p.pending_transfer_id = payout.pending_transfer_id;
    p.updated_ms = payout.updated_ms;
    p.due_ms = payout.due_ms;
  }
  if (slot.inserted || slot.updated) return;
  slot.updated = true;
  updated_payouts_.push_back(payout.id);
}

void PgWriteTxn::insert_history(const HistoryRecord& entry) { new_history_.push_back(entry); }

namespace {

std::string record_key(std::string_view tenant, std::string_view kind, std::string_view key) {
  std::string k;
  k.reserve(tenant.size() + kind.size() + key.size() + 2);
  k.append(tenant).append(1, '\x1f').append(kind).append(1, '\x1f').append(key);
  return k;
}

}  // namespace

std::optional<std::string> PgWriteTxn::find_record(std::string_view tenant, std::string_view kind,
                                                   std::string_view key) {
  const std::string k = record_key(tenant, kind, key);
  if (auto it = records_.find(k); it != records_.end()) return it->second.value;
  return guarded([&]() -> std::optional<std::string> {
    begin_if_needed();
    // Locked until the batch commits: another node's batch changing it waits for this one.
    Result r = c_->query(
        "SELECT value FROM records WHERE tenant = $1 AND kind = $2 AND key = $3 FOR UPDATE",
        Params().add(tenant).add(kind).add(key));
    RecordSlot slot{std::string(tenant), std::string(kind), std::string(key), std::nullopt};
    if (r.rows()) slot.value = Row(r, 0).text(0);
    return records_.emplace(k, std::move(slot)).first->second.value;
  });
}

void PgWriteTxn::insert_record(std::string_view tenant, std::string_view kind,
                               std::string_view key, std::string_view value) {
  RecordSlot& slot = records_[record_key(tenant, kind, key)];
  slot.tenant = tenant;
  slot.kind = kind;
  slot.key = key;
  slot.value = std::string(value);
  slot.inserted = true;
}

void PgWriteTxn::update_record(std::string_view tenant, std::string_view kind,
                               std::string_view key, std::string_view value) {
  auto it = records_.find(record_key(tenant, kind, key));
  if (it == records_.end()) {
    find_record(tenant, kind, key);  // loads (and locks) it
    it = records_.find(record_key(tenant, kind, key));
  }
  if (it == records_.end() || !it->second.value) return;  // not there: like an UPDATE of nothing
  it->second.value = std::string(value);
  if (!it->second.inserted) it->second.updated = true;
}

// The outbox is written statement by statement: a notification per state change is rare next to
// the payouts' batched rows.
std::int64_t PgWriteTxn::insert_outbox(const OutboxMessage& m) {
  return guarded([&]() -> std::int64_t {
    require_sealed_if_personal(m);
    begin_if_needed();
    const std::int64_t id = next_row_id();
    Result r = c_->query(
        "INSERT INTO outbox (" OUTBOX_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "$11, $12, $13) ON CONFLICT (tenant, event_id) DO NOTHING",
        Params().add(id).add(m.tenant).add(m.event_id).add(m.target).add(m.body)
            .add(static_cast<std::int64_t>(m.state)).add(static_cast<std::int64_t>(m.attempts))
            .add(m.next_attempt_ms).add(m.created_ms).add(m.updated_ms).add(m.last_result)
            .add(m.payout_id).add(static_cast<std::int64_t>(m.sealed ? 1 : 0)));
    return r.affected() == 1 ? id : 0;
  });
}

void PgWriteTxn::update_outbox(const OutboxMessage& m) {
  guarded([&] {
    begin_if_needed();
    c_->query("UPDATE outbox SET state = $1, attempts = $2, next_attempt_ms = $3, updated_ms = $4, "
              "last_result = $5, body = $6 WHERE id = $7",
              Params().add(static_cast<std::int64_t>(m.state))
                  .add(static_cast<std::int64_t>(m.attempts)).add(m.next_attempt_ms)
                  .add(m.updated_ms).add(m.last_result).add(m.body).add(m.id));
    return 0;
  });
}

void PgWriteTxn::insert_outbox_attempt(const OutboxAttempt& a) {
  guarded([&] {
    begin_if_needed();
    c_->query("INSERT INTO outbox_attempts (" OUTBOX_ATTEMPT_COLUMNS ") VALUES ($1, $2, $3, $4, "
              "$5, $6)",
              Params().add(a.message_id).add(static_cast<std::int64_t>(a.attempt)).add(a.at_ms)
                  .add(a.duration_ms).add(static_cast<std::int64_t>(a.http_status)).add(a.error));
    return 0;
  });
}

std::optional<OutboxMessage> PgWriteTxn::find_outbox(std::int64_t id) {
  return guarded([&]() -> std::optional<OutboxMessage> {
    begin_if_needed();
    Result r = c_->query("SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = $1 FOR UPDATE",
                         Params().add(id));
    if (!r.rows()) return std::nullopt;
    return read_outbox(Row(r, 0));
  });
}

std::optional<std::string> PgWriteTxn::get_meta(std::string_view key) {
  return guarded([&]() -> std::optional<std::string> {
    begin_if_needed();
    Result r = c_->query("SELECT value FROM meta WHERE key = $1", Params().add(key));
    if (!r.rows()) return std::nullopt;
    return Row(r, 0).text(0);
  });
}

void PgWriteTxn::set_meta(std::string_view key, std::string_view value) {
  guarded([&] {
    begin_if_needed();
    c_->query("INSERT INTO meta (key, value) VALUES ($1, $2) "
              "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
              Params().add(key).add(value));
    return 0;
  });
}

bool PgWriteTxn::claim_lease(std::string_view name, std::string_view holder, std::int64_t now_ms,
                             std::int64_t ttl_ms) {
  return guarded([&] {
    begin_if_needed();
    Result r = c_->query(
        "INSERT INTO leases (name, holder, expires_ms) VALUES ($1, $2, $3) "
        "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, "
        "expires_ms = EXCLUDED.expires_ms "
        "WHERE leases.holder = EXCLUDED.holder OR leases.expires_ms <= $4",
        Params().add(name).add(holder).add(now_ms + ttl_ms).add(now_ms));
    return r.affected() == 1;
  });
}

Status PgWriteTxn::commit() {
  assert(!finished_);
  guarded([&] {
    begin_if_needed();
    std::vector<Connection::Step> steps;
    if (!new_transfers_.empty()) {
      Columns<9> t;
      for (const Transfer& x : new_transfers_) {
        t.row(x.id, x.debit_account_id, x.credit_account_id, x.amount, x.currency.code(),
              static_cast<std::int64_t>(x.kind), x.pending_id, x.timestamp_ms,
              std::string_view(x.reference));
      }
      steps.push_back({kInsertTransfers, t.params()});
    }
    if (!new_payouts_.empty()) {
      // In key order: two nodes inserting the same partner ids then wait for each other in one
      // order, never in a cycle.
      std::sort(new_payouts_.begin(), new_payouts_.end(), [&](std::int64_t a, std::int64_t b) {
        const PayoutRecord& x = payouts_.at(a).record;
        const PayoutRecord& y = payouts_.at(b).record;
        return std::tie(x.tenant, x.kind, x.partner_id) < std::tie(y.tenant, y.kind, y.partner_id);
      });
      Columns<20> p;
      for (std::int64_t id : new_payouts_) {
        const PayoutRecord& x = payouts_.at(id).record;
        p.row(x.id, std::string_view(x.tenant), static_cast<std::int64_t>(x.kind),
              std::string_view(x.partner_id), std::string_view(x.fingerprint),
              static_cast<std::int64_t>(x.status), std::string_view(x.decline_code),
              x.source_account_id, x.destination_account_id, x.amount, x.currency.code(),
              x.pending_transfer_id, std::string_view(x.source_ref),
              std::string_view(x.destination_ref), std::string_view(x.history_id), x.created_ms,
              x.updated_ms, x.due_ms, x.history_account_id, x.history_seq);
      }
      steps.push_back({kInsertPayouts, p.params()});
    }
    if (!new_history_.empty()) {
      Columns<14> h;
      for (const HistoryRecord& x : new_history_) {
        h.row(x.account_id, x.seq, std::string_view(x.txn_history_id),
              static_cast<std::int64_t>(x.domain), static_cast<std::int64_t>(x.type_id),
              static_cast<std::int64_t>(x.status), static_cast<std::int64_t>(x.impact),
              std::string_view(x.domain_txn_id), x.amount, x.commission, x.currency.code(),
              x.created_ms, std::string_view(x.error_code), std::string_view(x.details));
      }
      steps.push_back({kInsertHistory, h.params()});
    }
    if (!updated_payouts_.empty()) {
      Columns<6> u;
      for (std::int64_t id : updated_payouts_) {
        const PayoutRecord& x = payouts_.at(id).record;
        u.row(x.id, static_cast<std::int64_t>(x.status), std::string_view(x.decline_code),
              x.pending_transfer_id, x.updated_ms, x.due_ms);
      }
      steps.push_back({kUpdatePayouts, u.params()});
    }
    Columns<4> new_records;
    Columns<4> changed_records;
    for (const auto& [k, r] : records_) {
      if (!r.inserted && !r.updated) continue;
      (r.inserted ? new_records : changed_records)
          .row(std::string_view(r.tenant), std::string_view(r.kind), std::string_view(r.key),
               std::string_view(*r.value));
    }
    if (!new_records.empty()) steps.push_back({kInsertRecords, new_records.params()});
    if (!changed_records.empty()) steps.push_back({kUpdateRecords, changed_records.params()});
    // Touched accounts are written once per batch, and only when they changed.
    Columns<8> a;
    for (const auto& [id, slot] : accounts_) {
      if (slot->now == slot->base) continue;
      const Account& x = slot->now;
      a.row(x.id, static_cast<std::int64_t>(x.status), x.credit_delay_ms, x.debits_pending,
            x.debits_posted, x.credits_pending, x.credits_posted, x.history_seq);
    }
    if (!a.empty()) steps.push_back({kUpdateAccounts, a.params()});
    steps.push_back({"COMMIT", {}});
    c_->pipeline(steps);
    return 0;
  });
  finished_ = true;
  if (!failed_) return Status::Ok();
  if (c_ && c_->ok()) {
    try {
      c_->exec("ROLLBACK");
    } catch (const StorageError&) {
      // Broken now: the store replaces the connection before the next batch.
    }
  }
  return conflict_ ? Status::Conflict(failure_) : Status::Error(failure_);
}

}  // namespace

std::unique_ptr<Store> open_postgres_store(const PostgresOptions& options) {
  return std::make_unique<PgStore>(options);
}

}  // namespace payoutd::store
