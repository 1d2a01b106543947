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

#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace payoutd::testing {
namespace {

namespace fs = std::filesystem;

std::atomic<int> next_database{0};

// The cluster started by this process when make test did not start one; stopped at exit.
fs::path private_cluster_dir;

void stop_private_cluster() {
  const std::string command =
      std::string(PAYOUTD_SOURCE_DIR) + "/scripts/pg-cluster.sh stop '" +
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

void pg_execute(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  std::string error;
  if (PQstatus(c) != CONNECTION_OK) {
    error = PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    const auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  if (!error.empty()) throw std::runtime_error(sql + ": " + error);
}

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
  pg_execute(admin, "CREATE DATABASE " + name_);
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

void TestDatabase::execute(const std::string& sql) const {
  if (backend_ == Backend::kPostgres) return pg_execute(location_, sql);
  sqlite3* db = nullptr;
  char* error = nullptr;
  const bool ok = sqlite3_open(location_.c_str(), &db) == SQLITE_OK &&
                  sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK;
  const std::string message = error ? error : (db ? sqlite3_errmsg(db) : "cannot open");
  sqlite3_free(error);
  sqlite3_close(db);
  if (!ok) throw std::runtime_error(sql + ": " + message);
}

}  // namespace payoutd::testing
