#include "store/sqlite_store.h"

#include "core/files.h"
#include "core/ids.h"
#include "store/migration.h"
#include "store/rows.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cassert>
#include <iterator>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <condition_variable>
#include <chrono>
#include <unordered_map>

namespace payoutd::store {
namespace {

using ledger::Account;
using ledger::AccountKind;
using ledger::Transfer;

// The background checkpointer runs this often, and at once when the log reaches
// kWalFramesCheckpoint frames (4 KiB pages).
constexpr int kCheckpointIntervalMs = 100;
constexpr int kWalFramesCheckpoint = 2000;
// A log this long means the background checkpoints cannot keep up (a passive checkpoint never
// finishes while commits keep arriving): the writer then restarts the log itself, blocking.
constexpr int kWalFramesMax = 4000;

constexpr const char* kSchemaV1 = R"sql(
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
CREATE INDEX IF NOT EXISTS payouts_processing ON payouts (due_ms) WHERE status = 0;
CREATE UNIQUE INDEX IF NOT EXISTS payouts_history ON payouts (history_account_id, history_seq)
  WHERE history_seq > 0;
CREATE TABLE IF NOT EXISTS history (
  account_id INTEGER NOT NULL, seq INTEGER NOT NULL, txn_history_id TEXT NOT NULL,
  domain INTEGER NOT NULL, type_id INTEGER NOT NULL, status INTEGER NOT NULL,
  impact INTEGER NOT NULL, domain_txn_id TEXT NOT NULL, amount INTEGER NOT NULL,
  commission INTEGER NOT NULL, currency TEXT NOT NULL, created_ms INTEGER NOT NULL,
  error_code TEXT NOT NULL, details TEXT NOT NULL,
  PRIMARY KEY (account_id, seq)) WITHOUT ROWID;
)sql";

// Work that runs on one node at a time holds a lease (see WriteTxn::claim_lease).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_ms INTEGER NOT NULL)
  WITHOUT ROWID;
)sql";

// The schema's history: step N takes a database from version N-1 to N, in one transaction.
// Version 1 is the schema payoutd was first released with (its statements say IF NOT EXISTS
// because that release created the tables before it recorded a version).
// The engine's documents beside the ledger: vaulted cards, bindings, card orders.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE records (tenant TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
  value TEXT NOT NULL, PRIMARY KEY (tenant, kind, key)) WITHOUT ROWID;
)sql";

// The outbox of notifications (callbacks), and every delivery attempt.
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, event_id TEXT NOT NULL, target TEXT NOT NULL,
  body TEXT NOT NULL, state INTEGER NOT NULL, attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
  last_result TEXT NOT NULL, UNIQUE (tenant, event_id));
CREATE INDEX outbox_due ON outbox (next_attempt_ms) WHERE state = 0;
CREATE TABLE outbox_attempts (
  message_id INTEGER NOT NULL, attempt INTEGER NOT NULL, at_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL, http_status INTEGER NOT NULL, error TEXT NOT NULL,
  PRIMARY KEY (message_id, attempt)) WITHOUT ROWID;
)sql";

// A tenant's payouts, newest first (the partner cabinet's list).
constexpr const char* kSchemaV5 = R"sql(
CREATE INDEX payouts_by_tenant ON payouts (tenant, id);
CREATE INDEX payouts_by_tenant_time ON payouts (tenant, created_ms);
)sql";

// Version 6, the outbox's:
// - Queues: a message's lane (store::outbox_lane, in SQL), and the due messages by tenant and
//   lane, so the due read takes each queue's earliest with an index probe.
// - A message names its payout, and may be sealed (store.h, OutboxMessage). Messages of earlier
//   versions get their payout from their event id, "<partner id>:registration", ":result" or
//   ":code:<n>" (a partner id has no ':'), and messages to persons already sent lose their body.
constexpr const char* kSchemaV6 = R"sql(
ALTER TABLE outbox ADD COLUMN lane INTEGER GENERATED ALWAYS AS (
  CASE WHEN substr(target, 1, 7) = 'mailto:' THEN 2 WHEN substr(target, 1, 4) = 'sms:' THEN 1 ELSE 0 END)
  VIRTUAL;
DROP INDEX outbox_due;
CREATE INDEX outbox_queues ON outbox (tenant, lane, next_attempt_ms) WHERE state = 0;
ALTER TABLE outbox ADD COLUMN payout_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET payout_id = COALESCE((SELECT p.id FROM payouts p WHERE p.tenant = outbox.tenant
    AND p.kind = 3 AND p.partner_id = substr(outbox.event_id, 1, instr(outbox.event_id, ':') - 1)), 0)
  WHERE instr(event_id, ':') > 1 AND (substr(event_id, instr(event_id, ':')) IN (':registration', ':result')
    OR substr(event_id, instr(event_id, ':'), 6) = ':code:');
UPDATE outbox SET body = '' WHERE state <> 0 AND (substr(target, 1, 7) = 'mailto:' OR substr(target, 1, 4) = 'sms:');
CREATE INDEX outbox_by_payout ON outbox (payout_id) WHERE payout_id <> 0;
)sql";

// The cabinet's indexes cover only the payouts it lists (kinds 0 and 3: wallet and card payouts),
// as on PostgreSQL, where they must not compete with the key a lookup means.
constexpr const char* kSchemaV7 = R"sql(
DROP INDEX payouts_by_tenant;
DROP INDEX payouts_by_tenant_time;
CREATE INDEX payouts_by_tenant ON payouts (tenant, id) WHERE kind IN (0, 3);
CREATE INDEX payouts_by_tenant_time ON payouts (tenant, created_ms) WHERE kind IN (0, 3);
)sql";

constexpr Migration kMigrations[] = {
    {1, "accounts, transfers, payouts, history", kSchemaV1},
    {2, "leases", kSchemaV2},
    {3, "records", kSchemaV3},
    {4, "outbox", kSchemaV4},
    {5, "payouts by tenant", kSchemaV5},
    {6, "outbox queues, messages of payouts, sealed messages", kSchemaV6},
    {7, "payouts by tenant: listed kinds only", kSchemaV7},
};

// Store::due_outbox: the tenants with pending messages (a skip over the index, one probe each),
// each of their lanes' earliest due messages (one probe each), dealt out in turns.
constexpr const char* kDueOutbox =
    OUTBOX_TENANTS ","
    " lanes(lane) AS (VALUES (0), (1), (2)),"
    " due AS (SELECT m.*, row_number() OVER (PARTITION BY m.tenant, m.lane"
    "                                         ORDER BY m.next_attempt_ms, m.id) AS turn"
    "   FROM tenants t CROSS JOIN lanes l CROSS JOIN outbox m"
    "   WHERE m.id IN (SELECT i.id FROM outbox i WHERE i.state = 0 AND i.tenant = t.tenant"
    "                  AND i.lane = l.lane AND i.next_attempt_ms <= ?"
    "                  ORDER BY i.next_attempt_ms, i.id LIMIT ?))"
    " SELECT " OUTBOX_COLUMNS " FROM due ORDER BY turn, next_attempt_ms, id LIMIT ?";

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
        SQLITE_OK) {
      throw StorageError(std::string("prepare: ") + sqlite3_errmsg(db) + " in " + sql);
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Every use binds every parameter again, so the bindings need no clearing.
  Stmt& reset() {
    sqlite3_reset(stmt_);
    next_ = 1;
    return *this;
  }
  Stmt& bind(std::int64_t v) {
    check(sqlite3_bind_int64(stmt_, next_++, v));
    return *this;
  }
  Stmt& bind(int v) { return bind(static_cast<std::int64_t>(v)); }
  // SQLITE_STATIC: SQLite reads the caller's bytes instead of copying them. Callers keep the
  // text alive until the statement has run (exec() or the last step()), and the statement is
  // reset before its next use.
  Stmt& bind(std::string_view v) {
    check(sqlite3_bind_text(stmt_, next_++, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
    return *this;
  }
  Stmt& bind_null() {
    check(sqlite3_bind_null(stmt_, next_++));
    return *this;
  }
  // True when a row is available.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StorageError(std::string("step: ") + sqlite3_errmsg(db_));
  }
  void exec() {
    while (step()) {
    }
    sqlite3_reset(stmt_);  // releases the statement's hold on the bound text at once
  }
  std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  int i32(int col) const { return sqlite3_column_int(stmt_, col); }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw StorageError(std::string("bind: ") + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int next_ = 1;
};

class Connection {
 public:
  enum class Mode { kCreate, kQueryOnly };
  Connection(const std::string& path, Mode mode, int busy_timeout_ms) {
    // Readers open read-write but query-only: a read-only SQLite connection cannot open a WAL
    // database whose -shm file does not exist yet (audit of a stopped server).
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                      (mode == Mode::kCreate ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot open " + path + ": " + message);
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    sqlite3_extended_result_codes(db_, 1);
    if (mode == Mode::kQueryOnly) exec("PRAGMA query_only=1");
  }
  ~Connection() {
    statements_.clear();
    sqlite3_close(db_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw StorageError(message + " in " + sql);
    }
  }
  // Statements are prepared once per connection and reused; the lookup allocates nothing.
  Stmt& stmt(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      std::string key(sql);
      it = statements_.emplace(key, std::make_unique<Stmt>(db_, key)).first;
    }
    return it->second->reset();
  }
  sqlite3* raw() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const {
      return std::hash<std::string_view>{}(sql);
    }
  };
  std::unordered_map<std::string, std::unique_ptr<Stmt>, SqlHash, std::equal_to<>> statements_;
};

class SqliteStore;

class SqliteWriteTxn final : public WriteTxn {
 public:
  SqliteWriteTxn(SqliteStore& store, Connection& db);
  ~SqliteWriteTxn() override;

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
  // The committer is the only writer: nothing to lock, and the account cache is current.
  void prepare(const Footprint&) override {}
  std::optional<std::string> get_meta(std::string_view key) override;
  void set_meta(std::string_view key, std::string_view value) override;
  bool claim_lease(std::string_view name, std::string_view holder, std::int64_t now_ms,
                   std::int64_t ttl_ms) override;
  Status commit() override;

 private:
  std::int64_t insert_payout_row(const PayoutRecord& payout, bool if_new);
  void maybe_restart_log();
  // Runs a statement-level operation; a storage error poisons the transaction.
  template <typename F>
  auto guarded(F&& f) -> decltype(f());

  SqliteStore& store_;
  Connection& db_;
  std::unordered_map<std::int64_t, std::unique_ptr<Account>> touched_;
  bool failed_ = false;
  std::string failure_;
  bool finished_ = false;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const SqliteOptions& options) : options_(options) {
    if (!options.read_only) {
      lock_data_dir();
      // Before any SQLite connection exists in this process: closing a descriptor of the
      // database file drops every POSIX lock the process holds on it, SQLite's included.
      sync_files();
      writer_ = std::make_unique<Connection>(options.path, Connection::Mode::kCreate,
                                             options.busy_timeout_ms);
      require_wal();
      make_private_database(options.path);  // the log and -shm SQLite makes later take its mode
      writer_->exec("PRAGMA synchronous=NORMAL");  // commits are made durable by sync()
      // What a write removes (an outbox body erased once sent) is overwritten in the pages the
      // write touches anyway, instead of lingering in free space (FAST: no extra page writes).
      writer_->exec("PRAGMA secure_delete=FAST");
      writer_->exec("PRAGMA foreign_keys=OFF");  // checked by audit; the engine never violates them
      writer_->exec("PRAGMA cache_size=-65536");
      // Statement journals (a statement that may fail half-way inside the batch's transaction)
      // stay in memory instead of a temporary file each.
      writer_->exec("PRAGMA temp_store=MEMORY");
      migrate();
      load_accounts();
      // Checkpoints copy the log into the database file and fsync it: slow, so they run on a
      // thread of their own instead of inside a commit. If they fall behind, the writer runs a
      // blocking one itself once the log is kWalFramesMax long (see commit()).
      writer_->exec("PRAGMA wal_autocheckpoint=0");
      sqlite3_wal_hook(
          writer_->raw(),
          [](void* self, sqlite3*, const char*, int frames) {
            static_cast<SqliteStore*>(self)->wal_frames_ = frames;
            return SQLITE_OK;
          },
          this);
      checkpointer_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "checkpointer");
        run_checkpointer();
      });
    } else {
      auto reader = acquire();
      schema_version_ = read_schema_version(*reader);
    }
  }

  int schema_version() const override { return schema_version_; }

  ~SqliteStore() override {
    {
      std::lock_guard lock(checkpoint_mutex_);
      stopping_ = true;
    }
    checkpoint_wake_.notify_one();
    if (checkpointer_.joinable()) checkpointer_.join();
    writer_.reset();
    if (wal_fd_ >= 0) ::close(wal_fd_);  // SQLite keeps no locks on the log file itself
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  // Called by the writer after each commit: the log's length in frames, after waking the
  // checkpointer when the log is long.
  int note_commit() {
    if (wal_frames_ >= kWalFramesCheckpoint) checkpoint_wake_.notify_one();
    return wal_frames_;
  }
  Connection& writer() { return *writer_; }

  Status sync() override {
    if (wal_fd_ < 0) {
      // The log exists from the first commit on, and SQLite keeps it while the writer is open.
      wal_fd_ = ::open((options_.path + "-wal").c_str(), O_RDWR | O_CLOEXEC);
      if (wal_fd_ < 0) {
        return Status::Error(std::string("open write-ahead log: ") + std::strerror(errno));
      }
    }
    if (::fdatasync(wal_fd_) != 0) {
      return Status::Error(std::string("fdatasync write-ahead log: ") + std::strerror(errno));
    }
    return Status::Ok();
  }

  std::unique_ptr<WriteTxn> begin() override {
    assert(writer_ && "read-only store");
    return std::make_unique<SqliteWriteTxn>(*this, *writer_);
  }

  std::optional<PayoutRecord> get_payout(std::string_view tenant, PayoutKind kind,
                                         std::string_view partner_id) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt("SELECT " PAYOUT_COLUMNS " FROM payouts " "WHERE tenant = ? AND kind = ? AND partner_id = ?");
    s.bind(tenant).bind(static_cast<int>(kind)).bind(partner_id);
    std::optional<PayoutRecord> result;
    if (s.step()) result = read_payout(s);
    s.reset();
    return result;
  }

  std::vector<OutboxMessage> due_outbox(std::int64_t now_ms, std::size_t queue_max,
                                        std::size_t limit) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt(kDueOutbox);
    s.bind(now_ms).bind(static_cast<std::int64_t>(queue_max)).bind(static_cast<std::int64_t>(limit));
    std::vector<OutboxMessage> result;
    while (s.step()) result.push_back(read_outbox(s));
    return result;
  }

  std::vector<OutboxMessage> outbox_messages(std::string_view tenant, std::string_view prefix,
                                             std::size_t limit) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt("SELECT " OUTBOX_COLUMNS " FROM outbox WHERE tenant = ? AND "
                           "substr(event_id, 1, ?) = ? ORDER BY id LIMIT ?");
    s.bind(tenant).bind(static_cast<std::int64_t>(prefix.size())).bind(prefix);
    s.bind(static_cast<std::int64_t>(limit));
    std::vector<OutboxMessage> result;
    while (s.step()) result.push_back(read_outbox(s));
    return result;
  }

  std::vector<OutboxMessage> payout_messages(std::int64_t payout_id, std::size_t limit) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt("SELECT " OUTBOX_COLUMNS " FROM outbox WHERE payout_id = ? AND payout_id <> 0 "
                           "ORDER BY id LIMIT ?");
    s.bind(payout_id).bind(static_cast<std::int64_t>(limit));
    std::vector<OutboxMessage> result;
    while (s.step()) result.push_back(read_outbox(s));
    return result;
  }

  std::vector<OutboxAttempt> outbox_attempts(std::int64_t message_id) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt("SELECT " OUTBOX_ATTEMPT_COLUMNS
                           " FROM outbox_attempts WHERE message_id = ? ORDER BY attempt");
    s.bind(message_id);
    std::vector<OutboxAttempt> result;
    while (s.step()) result.push_back(read_outbox_attempt(s));
    return result;
  }

  std::vector<std::pair<std::string, std::string>> records_with_prefix(
      std::string_view tenant, std::string_view kind, std::string_view prefix,
      std::size_t limit) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt("SELECT key, value FROM records WHERE tenant = ? AND kind = ? AND "
                           "key >= ? AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?");
    s.bind(tenant).bind(kind).bind(prefix).bind(static_cast<std::int64_t>(prefix.size()));
    s.bind(prefix).bind(static_cast<std::int64_t>(limit));
    std::vector<std::pair<std::string, std::string>> result;
    while (s.step()) result.emplace_back(s.text(0), s.text(1));
    return result;
  }

  std::optional<std::string> get_record(std::string_view tenant, std::string_view kind,
                                        std::string_view key) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt("SELECT value FROM records WHERE tenant = ? AND kind = ? AND key = ?");
    s.bind(tenant).bind(kind).bind(key);
    std::optional<std::string> result;
    if (s.step()) result = s.text(0);
    s.reset();
    return result;
  }

  std::optional<Account> get_account(std::string_view tenant, AccountKind kind,
                                     std::string_view code) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt(
        "SELECT " ACCOUNT_COLUMNS " FROM accounts " "WHERE tenant = ? AND kind = ? AND code = ?");
    s.bind(tenant).bind(static_cast<int>(kind)).bind(code);
    std::optional<Account> result;
    if (s.step()) result = read_account(s);
    s.reset();
    return result;
  }

  std::vector<Account> get_accounts_by_owner(std::string_view tenant, AccountKind kind,
                                             std::string_view owner) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt("SELECT " ACCOUNT_COLUMNS " FROM accounts " "WHERE tenant = ? AND kind = ? AND owner = ? ORDER BY id");
    s.bind(tenant).bind(static_cast<int>(kind)).bind(owner);
    std::vector<Account> result;
    while (s.step()) result.push_back(read_account(s));
    return result;
  }

  std::vector<Account> tenant_accounts(std::string_view tenant, AccountKind kind) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt("SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE tenant = ? AND kind = ? ORDER BY id");
    s.bind(tenant).bind(static_cast<int>(kind));
    std::vector<Account> result;
    while (s.step()) result.push_back(read_account(s));
    return result;
  }

  std::vector<PayoutRecord> payouts_page(const PayoutQuery& q) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt(
        "SELECT " PAYOUT_COLUMNS " FROM payouts WHERE tenant = ?1 AND kind IN (0, 3) AND (?2 < 0 OR status = ?2) "
        "AND created_ms >= ?3 AND (?4 = 0 OR created_ms < ?4) AND amount >= ?5 "
        "AND (?6 = 0 OR amount <= ?6) AND (?7 = '' OR partner_id = ?7) AND (?8 = 0 OR id < ?8) "
        "ORDER BY id DESC LIMIT ?9");
    s.bind(q.tenant).bind(q.status ? static_cast<int>(*q.status) : -1).bind(q.created_from_ms);
    s.bind(q.created_to_ms).bind(q.amount_min).bind(q.amount_max).bind(q.partner_id).bind(q.before_id);
    s.bind(static_cast<std::int64_t>(q.limit));
    std::vector<PayoutRecord> result;
    while (s.step()) result.push_back(read_payout(s));
    return result;
  }

  std::vector<PayoutDay> payout_days(std::string_view tenant, std::int64_t from_ms,
                                     std::int64_t to_ms) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt(
        "SELECT created_ms - created_ms % 86400000 AS day, status, currency, COUNT(*), SUM(amount) "
        "FROM payouts WHERE tenant = ? AND kind IN (0, 3) AND created_ms >= ? AND created_ms < ? "
        "GROUP BY day, status, currency ORDER BY day, status, currency");
    s.bind(tenant).bind(from_ms).bind(to_ms);
    std::vector<PayoutDay> result;
    while (s.step()) {
      result.push_back({s.i64(0), static_cast<PayoutStatus>(s.i64(1)), s.text(2), s.i64(3),
                        s.i64(4)});
    }
    return result;
  }

  std::optional<std::pair<std::int64_t, std::int64_t>> find_history(
      std::string_view txn_history_id) const override {
    // The id carries its position; the entry at that position must carry the very same id.
    const auto position = decode_history_uuid(txn_history_id);
    if (!position) return std::nullopt;
    auto reader = acquire();
    // `history_seq > 0` is the condition of the index payouts_history: SQLite plans a statement
    // when it prepares it, without the values, and uses a partial index only for a statement
    // that spells the index's condition; otherwise it reads every payout (here and below).
    for (const char* sql :
         {"SELECT txn_history_id FROM history WHERE account_id = ? AND seq = ?",
          "SELECT history_id FROM payouts WHERE history_account_id = ? AND history_seq = ? "
          "AND history_seq > 0"}) {
      Stmt& s = reader->stmt(sql);
      s.bind(position->first).bind(position->second);
      const bool found = s.step() && s.text(0) == txn_history_id;
      s.reset();
      if (found) return position;
    }
    return std::nullopt;
  }

  std::vector<HistoryRecord> history_page(std::int64_t account_id, std::int64_t after_seq,
                                          std::size_t limit) const override {
    auto reader = acquire();
    const auto n = static_cast<std::int64_t>(limit);
    std::vector<HistoryRecord> table;
    {
      Stmt& s = reader->stmt("SELECT " HISTORY_COLUMNS
                             " FROM history WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?");
      s.bind(account_id).bind(after_seq).bind(n);
      while (s.step()) table.push_back(read_history(s));
    }
    std::vector<HistoryRecord> payouts;
    {
      Stmt& s = reader->stmt(
          "SELECT " HISTORY_PAYOUT_COLUMNS " FROM payouts p JOIN accounts a ON a.id = p.source_account_id "
          "WHERE p.history_account_id = ? AND p.history_seq > ? AND p.history_seq > 0 "
          "ORDER BY p.history_seq LIMIT ?");
      s.bind(account_id).bind(after_seq).bind(n);
      while (s.step()) payouts.push_back(read_payout_history(s, account_id));
    }
    return merge_history(std::move(table), std::move(payouts), limit);
  }

  std::vector<PayoutRecord> processing_payouts(std::int64_t due_before_ms,
                                               std::size_t limit) const override {
    auto reader = acquire();
    Stmt& s = reader->stmt("SELECT " PAYOUT_COLUMNS
                           " FROM payouts WHERE status = 0 AND due_ms < ? ORDER BY due_ms LIMIT ?");
    s.bind(due_before_ms).bind(static_cast<std::int64_t>(limit));
    std::vector<PayoutRecord> result;
    while (s.step()) result.push_back(read_payout(s));
    return result;
  }
  AuditSnapshot snapshot() const override {
    auto reader = acquire();
    reader->exec("BEGIN");
    AuditSnapshot snap;
    try {
      Stmt& a = reader->stmt("SELECT " ACCOUNT_COLUMNS " FROM accounts ORDER BY id");
      while (a.step()) snap.accounts.push_back(read_account(a));
      Stmt& t = reader->stmt("SELECT " TRANSFER_COLUMNS " FROM transfers ORDER BY id");
      while (t.step()) snap.transfers.push_back(read_transfer(t));
      Stmt& p = reader->stmt("SELECT " PAYOUT_COLUMNS " FROM payouts ORDER BY id");
      while (p.step()) snap.payouts.push_back(read_payout(p));
      Stmt& h = reader->stmt("SELECT txn_history_id, status, account_id, seq FROM history");
      while (h.step()) snap.history.push_back({h.text(0), h.i32(1), h.i64(2), h.i64(3)});
    } catch (...) {
      reader->exec("ROLLBACK");
      throw;
    }
    reader->exec("COMMIT");
    return snap;
  }

  // Committed accounts, owned by the single writer.
  const Account* cached_account(std::int64_t id) const {
    auto it = accounts_.find(id);
    return it == accounts_.end() ? nullptr : &it->second;
  }
  std::optional<std::int64_t> cached_account_id(const std::string& key) const {
    auto it = account_ids_.find(key);
    if (it == account_ids_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::int64_t> cached_owner_ids(const std::string& key) const {
    auto it = owner_ids_.find(key);
    return it == owner_ids_.end() ? std::vector<std::int64_t>{} : it->second;
  }
  void publish_account(const Account& a) {
    const bool is_new = accounts_.find(a.id) == accounts_.end();
    accounts_[a.id] = a;
    if (is_new) index_account(a);
  }

 private:
  class ReaderLease {
   public:
    ReaderLease(const SqliteStore& store, std::unique_ptr<Connection> c)
        : store_(store), connection_(std::move(c)) {}
    ~ReaderLease() { store_.release(std::move(connection_)); }
    Connection* operator->() { return connection_.get(); }
    Connection& operator*() { return *connection_; }

   private:
    const SqliteStore& store_;
    std::unique_ptr<Connection> connection_;
  };

  ReaderLease acquire() const {
    {
      std::lock_guard lock(readers_mutex_);
      if (!readers_.empty()) {
        auto c = std::move(readers_.back());
        readers_.pop_back();
        return ReaderLease(*this, std::move(c));
      }
    }
    return ReaderLease(*this, std::make_unique<Connection>(
                                options_.path, Connection::Mode::kQueryOnly,
                                options_.busy_timeout_ms));
  }
  void release(std::unique_ptr<Connection> c) const {
    std::lock_guard lock(readers_mutex_);
    if (static_cast<int>(readers_.size()) < options_.reader_connections_max) {
      readers_.push_back(std::move(c));
    }
  }

  void run_checkpointer() {
    Connection connection(options_.path, Connection::Mode::kCreate, options_.busy_timeout_ms);
    // NORMAL: the checkpoint syncs the log before copying it and the database after, so a
    // completed checkpoint never depends on an unsynced page.
    connection.exec("PRAGMA synchronous=NORMAL");
    std::unique_lock lock(checkpoint_mutex_);
    while (!stopping_) {
      checkpoint_wake_.wait_for(lock, std::chrono::milliseconds(kCheckpointIntervalMs));
      if (stopping_) break;
      lock.unlock();
      int log_frames = 0;
      int copied_frames = 0;
      const int rc = sqlite3_wal_checkpoint_v2(connection.raw(), nullptr,
                                               SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                               &copied_frames);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        spdlog::warn("checkpoint failed: {}", sqlite3_errmsg(connection.raw()));
      }
      lock.lock();
    }
  }

  // One writer per database: a second payoutd on the same data directory would keep its own
  // account cache and overwrite the first one's balances.
  void lock_data_dir() {
    const std::string lock_path = options_.path + ".lock";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0 || ::fchmod(lock_fd_, 0600) != 0) {
      throw std::runtime_error("cannot open " + lock_path + ": " + std::strerror(errno));
    }
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      throw std::runtime_error("another payoutd serves " + options_.path + " (" + lock_path +
                               " is locked)");
    }
  }

  // A previous process may have died with commits in the page cache that no fsync covered.
  // They are visible to whoever reads now; make them durable first.
  void sync_files() {
    const std::filesystem::path db(options_.path);
    for (const std::string& file : {options_.path, options_.path + "-wal"}) {
      const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;  // no log yet
      const int rc = ::fsync(fd);
      ::close(fd);
      if (rc != 0) throw std::runtime_error("fsync " + file + ": " + std::strerror(errno));
    }
    const std::string dir = db.has_parent_path() ? db.parent_path().string() : ".";
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);  // the directory entries of the database and its log
      ::close(fd);
    }
  }

  void require_wal() {
    Stmt& mode = writer_->stmt("PRAGMA journal_mode=WAL");
    const std::string result = mode.step() ? mode.text(0) : std::string();
    mode.reset();
    if (result != "wal") throw std::runtime_error("cannot switch " + options_.path + " to WAL");
  }

  // The version recorded in meta; 0 for a database without tables.
  static int read_schema_version(Connection& c) {
    Stmt& exists = c.stmt("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
    const bool has_meta = exists.step();
    exists.reset();
    if (!has_meta) return 0;
    Stmt& get = c.stmt("SELECT value FROM meta WHERE key = 'schema_version'");
    int version = 0;
    if (get.step()) version = std::stoi(get.text(0));
    get.reset();
    return version;
  }

  void migrate() {
    int version = read_schema_version(*writer_);
    for (const Migration& m :
         migration_steps(kMigrations, version, options_.schema_version_target)) {
      writer_->exec("BEGIN IMMEDIATE");
      try {
        writer_->exec(m.sql);
        writer_->stmt("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)")
            .bind(std::to_string(m.version))
            .exec();
        writer_->exec("COMMIT");
      } catch (...) {
        writer_->exec("ROLLBACK");
        throw;
      }
      spdlog::info("database at schema version {}: {}", m.version, m.what);
      version = m.version;
    }
    schema_version_ = version;
  }

  void load_accounts() {
    Stmt& s = writer_->stmt("SELECT " ACCOUNT_COLUMNS " FROM accounts " "ORDER BY id");
    while (s.step()) publish_account(read_account(s));
    s.reset();
  }

  void index_account(const Account& a) {
    account_ids_[account_key(a.tenant, a.kind, a.code)] = a.id;
    owner_ids_[account_key(a.tenant, a.kind, a.owner)].push_back(a.id);
  }

  SqliteOptions options_;
  std::unique_ptr<Connection> writer_;
  int wal_fd_ = -1;     // used by sync() only
  int lock_fd_ = -1;    // flock held while this store writes
  int wal_frames_ = 0;  // the log's length after the last commit (writer thread only)
  int schema_version_ = 0;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool stopping_ = false;
  std::thread checkpointer_;
  std::unordered_map<std::int64_t, Account> accounts_;
  std::unordered_map<std::string, std::int64_t> account_ids_;
  std::unordered_map<std::string, std::vector<std::int64_t>> owner_ids_;
  mutable std::mutex readers_mutex_;
  mutable std::vector<std::unique_ptr<Connection>> readers_;
};

SqliteWriteTxn::SqliteWriteTxn(SqliteStore& store, Connection& db) : store_(store), db_(db) {
  guarded([&] {
    db_.stmt("BEGIN IMMEDIATE").exec();
    return 0;
  });
}

SqliteWriteTxn::~SqliteWriteTxn() {
  if (!finished_) {
    try {
      db_.stmt("ROLLBACK").exec();
    } catch (const StorageError&) {
      // Nothing more to undo: SQLite rolls back on its own after a failed statement.
    }
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

Account* SqliteWriteTxn::account(std::int64_t id) {
  auto it = touched_.find(id);
  if (it != touched_.end()) return it->second.get();
  const Account* committed = store_.cached_account(id);
  if (!committed) return nullptr;
  auto copy = std::make_unique<Account>(*committed);
  Account* result = copy.get();
  touched_.emplace(id, std::move(copy));
  return result;
}

Account* SqliteWriteTxn::find_account(std::string_view tenant, AccountKind kind,
                                      std::string_view code) {
  const std::string key = account_key(tenant, kind, code);
  if (auto id = store_.cached_account_id(key)) return account(*id);
  for (auto& [id, a] : touched_) {  // created in this transaction
    if (a->tenant == tenant && a->kind == kind && a->code == code) return a.get();
  }
  return nullptr;
}

std::vector<Account*> SqliteWriteTxn::find_accounts_by_owner(std::string_view tenant,
                                                             AccountKind kind,
                                                             std::string_view owner) {
  std::vector<Account*> result;
  for (std::int64_t id : store_.cached_owner_ids(account_key(tenant, kind, owner))) {
    result.push_back(account(id));
  }
  for (auto& [id, a] : touched_) {
    if (!store_.cached_account(id) && a->tenant == tenant && a->kind == kind &&
        a->owner == owner) {
      result.push_back(a.get());
    }
  }
  return result;
}

Account* SqliteWriteTxn::insert_account(const Account& account) {
  const std::int64_t id = guarded([&] {
    Stmt& s = db_.stmt(
        "INSERT INTO accounts (tenant, kind, code, owner, currency, floor, status, "
        "credit_delay_ms, debits_pending, debits_posted, credits_pending, credits_posted, "
        "history_seq, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?)");
    s.bind(account.tenant)
        .bind(static_cast<int>(account.kind))
        .bind(account.code)
        .bind(account.owner)
        .bind(account.currency.code())
        .bind(static_cast<int>(account.floor))
        .bind(static_cast<int>(account.status))
        .bind(account.credit_delay_ms)
        .bind(account.created_ms)
        .exec();
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_.raw()));
  });
  auto copy = std::make_unique<Account>(account);
  copy->id = id ? id : -static_cast<std::int64_t>(touched_.size() + 1);
  copy->debits_pending = copy->debits_posted = copy->credits_pending = copy->credits_posted = 0;
  copy->history_seq = 0;
  Account* result = copy.get();
  touched_.emplace(copy->id, std::move(copy));
  return result;
}

std::int64_t SqliteWriteTxn::insert_transfer(const Transfer& t) {
  return guarded([&] {
    Stmt& s = db_.stmt(
        "INSERT INTO transfers (debit_account_id, credit_account_id, amount, currency, kind, "
        "pending_id, timestamp_ms, reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(t.debit_account_id)
        .bind(t.credit_account_id)
        .bind(t.amount)
        .bind(t.currency.code())
        .bind(static_cast<int>(t.kind));
    if (t.pending_id) {
      s.bind(t.pending_id);
    } else {
      s.bind_null();
    }
    s.bind(t.timestamp_ms).bind(t.reference).exec();
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_.raw()));
  });
}

std::optional<Transfer> SqliteWriteTxn::find_transfer(std::int64_t id) {
  return guarded([&] {
    Stmt& s = db_.stmt("SELECT " TRANSFER_COLUMNS " FROM transfers " "WHERE id = ?");
    s.bind(id);
    std::optional<Transfer> result;
    if (s.step()) result = read_transfer(s);
    s.reset();
    return result;
  });
}

std::optional<PayoutRecord> SqliteWriteTxn::find_payout(std::string_view tenant, PayoutKind kind,
                                                        std::string_view partner_id) {
  return guarded([&] {
    Stmt& s = db_.stmt("SELECT " PAYOUT_COLUMNS " FROM payouts " "WHERE tenant = ? AND kind = ? AND partner_id = ?");
    s.bind(tenant).bind(static_cast<int>(kind)).bind(partner_id);
    std::optional<PayoutRecord> result;
    if (s.step()) result = read_payout(s);
    s.reset();
    return result;
  });
}

std::optional<PayoutRecord> SqliteWriteTxn::find_payout_by_id(std::int64_t id) {
  return guarded([&] {
    Stmt& s = db_.stmt("SELECT " PAYOUT_COLUMNS " FROM payouts " "WHERE id = ?");
    s.bind(id);
    std::optional<PayoutRecord> result;
    if (s.step()) result = read_payout(s);
    s.reset();
    return result;
  });
}

std::int64_t SqliteWriteTxn::insert_payout(const PayoutRecord& p) {
  return insert_payout_row(p, false);
}

std::int64_t SqliteWriteTxn::insert_payout_if_new(const PayoutRecord& p) {
  return insert_payout_row(p, true);
}

std::int64_t SqliteWriteTxn::insert_payout_row(const PayoutRecord& p, bool if_new) {
  return guarded([&] {
#define INSERT_PAYOUT                                                                           \
  "INSERT INTO payouts (tenant, kind, partner_id, fingerprint, status, decline_code, "            \
  "source_account_id, destination_account_id, amount, currency, pending_transfer_id, "            \
  "source_ref, destination_ref, history_id, created_ms, updated_ms, due_ms, "                     \
  "history_account_id, history_seq) "                                                             \
  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    Stmt& s = db_.stmt(if_new ? INSERT_PAYOUT " ON CONFLICT (tenant, kind, partner_id) DO NOTHING"
                              : INSERT_PAYOUT);
#undef INSERT_PAYOUT
    s.bind(p.tenant)
        .bind(static_cast<int>(p.kind))
        .bind(p.partner_id)
        .bind(p.fingerprint)
        .bind(static_cast<int>(p.status))
        .bind(p.decline_code)
        .bind(p.source_account_id)
        .bind(p.destination_account_id)
        .bind(p.amount)
        .bind(p.currency.code())
        .bind(p.pending_transfer_id)
        .bind(p.source_ref)
        .bind(p.destination_ref)
        .bind(p.history_id)
        .bind(p.created_ms)
        .bind(p.updated_ms)
        .bind(p.due_ms)
        .bind(p.history_account_id)
        .bind(p.history_seq)
        .exec();
    if (sqlite3_changes(db_.raw()) == 0) return std::int64_t{0};
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_.raw()));
  });
}

void SqliteWriteTxn::update_payout(const PayoutRecord& p) {
  guarded([&] {
    db_.stmt(
           "UPDATE payouts SET status = ?, decline_code = ?, pending_transfer_id = ?, "
           "updated_ms = ?, due_ms = ? WHERE id = ?")
        .bind(static_cast<int>(p.status))
        .bind(p.decline_code)
        .bind(p.pending_transfer_id)
        .bind(p.updated_ms)
        .bind(p.due_ms)
        .bind(p.id)
        .exec();
    return 0;
  });
}

void SqliteWriteTxn::insert_history(const HistoryRecord& h) {
  guarded([&] {
    db_.stmt("INSERT INTO history (" HISTORY_COLUMNS
             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(h.account_id)
        .bind(h.seq)
        .bind(h.txn_history_id)
        .bind(h.domain)
        .bind(h.type_id)
        .bind(h.status)
        .bind(h.impact)
        .bind(h.domain_txn_id)
        .bind(h.amount)
        .bind(h.commission)
        .bind(h.currency.code())
        .bind(h.created_ms)
        .bind(h.error_code)
        .bind(h.details)
        .exec();
    return 0;
  });
}

std::optional<std::string> SqliteWriteTxn::find_record(std::string_view tenant,
                                                       std::string_view kind,
                                                       std::string_view key) {
  return guarded([&] {
    Stmt& s = db_.stmt("SELECT value FROM records WHERE tenant = ? AND kind = ? AND key = ?");
    s.bind(tenant).bind(kind).bind(key);
    std::optional<std::string> result;
    if (s.step()) result = s.text(0);
    s.reset();
    return result;
  });
}

void SqliteWriteTxn::insert_record(std::string_view tenant, std::string_view kind,
                                   std::string_view key, std::string_view value) {
  guarded([&] {
    db_.stmt("INSERT INTO records (tenant, kind, key, value) VALUES (?, ?, ?, ?)")
        .bind(tenant)
        .bind(kind)
        .bind(key)
        .bind(value)
        .exec();
    return 0;
  });
}

void SqliteWriteTxn::update_record(std::string_view tenant, std::string_view kind,
                                   std::string_view key, std::string_view value) {
  guarded([&] {
    db_.stmt("UPDATE records SET value = ? WHERE tenant = ? AND kind = ? AND key = ?")
        .bind(value)
        .bind(tenant)
        .bind(kind)
        .bind(key)
        .exec();
    return 0;
  });
}

std::int64_t SqliteWriteTxn::insert_outbox(const OutboxMessage& m) {
  return guarded([&]() -> std::int64_t {
    require_sealed_if_personal(m);
    db_.stmt("INSERT INTO outbox (tenant, event_id, target, body, state, attempts, "
             "next_attempt_ms, created_ms, updated_ms, last_result, payout_id, sealed) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, event_id) DO NOTHING")
        .bind(m.tenant)
        .bind(m.event_id)
        .bind(m.target)
        .bind(m.body)
        .bind(static_cast<int>(m.state))
        .bind(m.attempts)
        .bind(m.next_attempt_ms)
        .bind(m.created_ms)
        .bind(m.updated_ms)
        .bind(m.last_result)
        .bind(m.payout_id)
        .bind(m.sealed ? 1 : 0)
        .exec();
    if (sqlite3_changes(db_.raw()) != 1) return 0;
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_.raw()));
  });
}

void SqliteWriteTxn::update_outbox(const OutboxMessage& m) {
  guarded([&] {
    db_.stmt("UPDATE outbox SET state = ?, attempts = ?, next_attempt_ms = ?, updated_ms = ?, "
             "last_result = ?, body = ? WHERE id = ?")
        .bind(static_cast<int>(m.state))
        .bind(m.attempts)
        .bind(m.next_attempt_ms)
        .bind(m.updated_ms)
        .bind(m.last_result)
        .bind(m.body)
        .bind(m.id)
        .exec();
    return 0;
  });
}

void SqliteWriteTxn::insert_outbox_attempt(const OutboxAttempt& a) {
  guarded([&] {
    db_.stmt("INSERT INTO outbox_attempts (" OUTBOX_ATTEMPT_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?)")
        .bind(a.message_id)
        .bind(a.attempt)
        .bind(a.at_ms)
        .bind(a.duration_ms)
        .bind(a.http_status)
        .bind(a.error)
        .exec();
    return 0;
  });
}

std::optional<OutboxMessage> SqliteWriteTxn::find_outbox(std::int64_t id) {
  return guarded([&] {
    Stmt& s = db_.stmt("SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = ?");
    s.bind(id);
    std::optional<OutboxMessage> result;
    if (s.step()) result = read_outbox(s);
    s.reset();
    return result;
  });
}

std::optional<std::string> SqliteWriteTxn::get_meta(std::string_view key) {
  return guarded([&] {
    Stmt& s = db_.stmt("SELECT value FROM meta WHERE key = ?");
    s.bind(key);
    std::optional<std::string> result;
    if (s.step()) result = s.text(0);
    s.reset();
    return result;
  });
}

void SqliteWriteTxn::set_meta(std::string_view key, std::string_view value) {
  guarded([&] {
    db_.stmt("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)").bind(key).bind(value).exec();
    return 0;
  });
}

bool SqliteWriteTxn::claim_lease(std::string_view name, std::string_view holder,
                                 std::int64_t now_ms, std::int64_t ttl_ms) {
  return guarded([&] {
    db_.stmt(
           "INSERT INTO leases (name, holder, expires_ms) VALUES (?, ?, ?) "
           "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
           "expires_ms = excluded.expires_ms "
           "WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?")
        .bind(name)
        .bind(holder)
        .bind(now_ms + ttl_ms)
        .bind(now_ms)
        .exec();
    return sqlite3_changes(db_.raw()) == 1;
  });
}

void SqliteWriteTxn::maybe_restart_log() {
  if (store_.note_commit() < kWalFramesMax) return;
  int log_frames = 0;
  int copied_frames = 0;
  // NORMAL sync semantics apply: the log is synced before it is copied, the database after.
  const int rc = sqlite3_wal_checkpoint_v2(db_.raw(), nullptr, SQLITE_CHECKPOINT_RESTART,
                                           &log_frames, &copied_frames);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    spdlog::warn("log restart failed: {}", sqlite3_errmsg(db_.raw()));
  }
}

Status SqliteWriteTxn::commit() {
  assert(!finished_);
  // Touched accounts are written once per batch: the hot funder row is updated once, however
  // many payouts of the batch debit it.
  guarded([&] {
    for (auto& [id, a] : touched_) {
      db_.stmt(
             "UPDATE accounts SET status = ?, credit_delay_ms = ?, debits_pending = ?, "
             "debits_posted = ?, credits_pending = ?, credits_posted = ?, history_seq = ? "
             "WHERE id = ?")
          .bind(static_cast<int>(a->status))
          .bind(a->credit_delay_ms)
          .bind(a->debits_pending)
          .bind(a->debits_posted)
          .bind(a->credits_pending)
          .bind(a->credits_posted)
          .bind(a->history_seq)
          .bind(id)
          .exec();
    }
    db_.stmt("COMMIT").exec();
    return 0;
  });
  if (!failed_) maybe_restart_log();
  finished_ = !failed_;
  if (failed_) return Status::Error(failure_);
  for (auto& [id, a] : touched_) store_.publish_account(*a);
  return Status::Ok();
}

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const SqliteOptions& options) {
  return std::make_unique<SqliteStore>(options);
}

}  // namespace payoutd::store
