#include "test_databases.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace payoutd::testing {
namespace {

namespace fs = std::filesystem;

std::atomic<int> next_database{0};

// The cluster started by this process when make test did not start one; stopped at exit.
fs::path private_cluster_dir;

void stop_private_cluster() {
  const std::string command = std::string(PAYOUTD_SOURCE_DIR) + "/scripts/pg-cluster.sh stop '" +
                              private_cluster_dir.string() + "' >/dev/null 2>&1";
  [[maybe_unused]] const int rc = std::system(command.c_str());
}

std::string read_url(const fs::path& dir) {
  std::ifstream in(dir / "url");
  std::string url;
  std::getline(in, url);
  if (url.empty()) throw std::runtime_error("no PostgreSQL URL in " + (dir / "url").string());
  return url;
}

// postgresql://user@host:port/postgres of the test cluster.
const std::string& admin_url() {
  static std::once_flag once;
  static std::string url;
  std::call_once(once, [] {
    if (const char* dir = std::getenv("PAYOUTD_TEST_POSTGRES_DIR"); dir && *dir) {
      url = read_url(dir);
      return;
    }
    private_cluster_dir =
        fs::temp_directory_path() / ("payoutd-unit-pg-" + std::to_string(::getpid()));
    const std::string command = std::string(PAYOUTD_SOURCE_DIR) + "/scripts/pg-cluster.sh start '" +
                                private_cluster_dir.string() + "' >/dev/null";
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("cannot start a PostgreSQL cluster: " + command);
    }
    std::atexit(stop_private_cluster);
    url = read_url(private_cluster_dir);
  });
  return url;
}

using Rows = std::vector<std::vector<std::string>>;

Rows pg_query(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  std::string error;
  Rows rows;
  if (PQstatus(c) != CONNECTION_OK) {
    error = PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    const auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) error = PQresultErrorMessage(r);
    for (int i = 0; error.empty() && i < PQntuples(r); ++i) {
      auto& row = rows.emplace_back();
      for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
    }
    PQclear(r);
  }
  PQfinish(c);
  if (!error.empty()) throw std::runtime_error(sql + ": " + error);
  return rows;
}

int collect_row(void* rows, int columns, char** values, char**) {
  auto& row = static_cast<Rows*>(rows)->emplace_back();
  for (int i = 0; i < columns; ++i) row.emplace_back(values[i] ? values[i] : "");
  return 0;
}

// What SqliteFullScans counts: process-wide, since SQLite calls the hooks without a context.
struct FullScanCounts {
  std::mutex mutex;
  bool counting = false;
  std::map<std::string, std::int64_t> rows;  // by SQL
};
FullScanCounts& full_scans() {
  static FullScanCounts* counts = new FullScanCounts;  // outlives connections closed at exit
  return *counts;
}

// Called when a statement's run ends: takes (and resets) the statement's full-scan steps.
int count_full_scans(unsigned, void*, void* statement, void*) {
  auto* s = static_cast<sqlite3_stmt*>(statement);
  const int steps = sqlite3_stmt_status(s, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1);
  if (steps == 0) return 0;
  FullScanCounts& counts = full_scans();
  std::lock_guard lock(counts.mutex);
  if (counts.counting) counts.rows[sqlite3_sql(s)] += steps;
  return 0;
}

// Run by SQLite for every connection opened while the counter is registered.
int trace_new_connection(sqlite3* db, const char**, const sqlite3_api_routines*) {
  sqlite3_trace_v2(db, SQLITE_TRACE_PROFILE, count_full_scans, nullptr);
  return SQLITE_OK;
}

using AutoExtension = void (*)();

}  // namespace

TestDatabase::TestDatabase(Backend backend) : backend_(backend) {
  const std::string unique = std::to_string(::getpid()) + "_" + std::to_string(next_database++);
  if (backend_ == Backend::kSqlite) {
    const fs::path dir = fs::temp_directory_path() / ("payoutd-test-" + unique);
    fs::remove_all(dir);
    fs::create_directories(dir);
    location_ = (dir / "payoutd.db").string();
    return;
  }
  name_ = "t_" + unique;
  const std::string& admin = admin_url();
  pg_query(admin, "CREATE DATABASE " + name_);
  location_ = admin.substr(0, admin.rfind('/') + 1) + name_;
}

// A PostgreSQL database stays: dropping one forces a checkpoint (a quarter of a second), and the
// whole cluster is thrown away after the run.
TestDatabase::~TestDatabase() {
  if (backend_ == Backend::kSqlite) fs::remove_all(fs::path(location_).parent_path());
}

std::unique_ptr<store::Store> TestDatabase::open(int schema_version_target) const {
  if (backend_ == Backend::kSqlite) {
    return store::open_sqlite_store(
        {.path = location_, .schema_version_target = schema_version_target});
  }
  store::PostgresOptions options;
  options.url = location_;
  options.schema_version_target = schema_version_target;
  options.startup_wait_s = 5;
  return store::open_postgres_store(options);
}

std::unique_ptr<store::Store> TestDatabase::open_read_only() const {
  if (backend_ == Backend::kSqlite) {
    return store::open_sqlite_store({.path = location_, .read_only = true});
  }
  store::PostgresOptions options;
  options.url = location_;
  options.read_only = true;
  return store::open_postgres_store(options);
}

Rows TestDatabase::query(const std::string& sql) const {
  if (backend_ == Backend::kPostgres) return pg_query(location_, sql);
  sqlite3* db = nullptr;
  char* error = nullptr;
  Rows rows;
  const bool ok = sqlite3_open(location_.c_str(), &db) == SQLITE_OK &&
                  sqlite3_exec(db, sql.c_str(), collect_row, &rows, &error) == SQLITE_OK;
  const std::string message = error ? error : (db ? sqlite3_errmsg(db) : "cannot open");
  sqlite3_free(error);
  sqlite3_close(db);
  if (!ok) throw std::runtime_error(sql + ": " + message);
  return rows;
}

SqliteFullScans::SqliteFullScans() {
  {
    FullScanCounts& counts = full_scans();
    std::lock_guard lock(counts.mutex);
    counts.counting = true;
    counts.rows.clear();
  }
  sqlite3_auto_extension(reinterpret_cast<AutoExtension>(trace_new_connection));
}

SqliteFullScans::~SqliteFullScans() {
  sqlite3_cancel_auto_extension(reinterpret_cast<AutoExtension>(trace_new_connection));
  FullScanCounts& counts = full_scans();
  std::lock_guard lock(counts.mutex);
  counts.counting = false;
}

std::map<std::string, std::int64_t> SqliteFullScans::take() {
  FullScanCounts& counts = full_scans();
  std::lock_guard lock(counts.mutex);
  return std::exchange(counts.rows, {});
}

void TestDatabase::execute(const std::string& sql) const { query(sql); }

}  // namespace payoutd::testing
