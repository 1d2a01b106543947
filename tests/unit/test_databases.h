#pragma once
// Fresh databases of either backend for the tests that run against both: a temporary directory
// for SQLite, a new database on a throwaway PostgreSQL cluster for PostgreSQL. The cluster is the
// one `make test` starts (PAYOUTD_TEST_POSTGRES_DIR names its directory), or, when the tests run
// by hand without it, one this process starts with scripts/pg-cluster.sh and stops at exit.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace payoutd::testing {

enum class Backend { kSqlite, kPostgres };

class TestDatabase {
 public:
  explicit TestDatabase(Backend backend);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  Backend backend() const { return backend_; }
  // The SQLite file, or the PostgreSQL database's URL.
  const std::string& location() const { return location_; }
  // A store on this database (each call a new one; SQLite allows one writer at a time).
  std::unique_ptr<store::Store> open(int schema_version_target = 0) const;
  std::unique_ptr<store::Store> open_read_only() const;
  // Runs SQL on the database directly, outside every store (to set up odd states).
  void execute(const std::string& sql) const;
  // Runs a query on the database directly: its rows, each value as text (NULL as "").
  std::vector<std::vector<std::string>> query(const std::string& sql) const;

 private:
  Backend backend_;
  std::string location_;  // the SQLite file, or the PostgreSQL database's URL
  std::string name_;      // the PostgreSQL database's name
};

// Counts the rows SQLite steps through in full scans (SQLITE_STMTSTATUS_FULLSCAN_STEP: of a
// table, or of a CTE's or a VALUES list's rows), per statement, in every SQLite connection this
// process opens while a counter exists: a store's too, if it is opened after the counter. One
// counter at a time.
class SqliteFullScans {
 public:
  SqliteFullScans();
  ~SqliteFullScans();
  SqliteFullScans(const SqliteFullScans&) = delete;
  SqliteFullScans& operator=(const SqliteFullScans&) = delete;

  // The rows stepped through since the last call, by the statement's SQL (only statements
  // that scanned a table whole; finished runs only).
  std::map<std::string, std::int64_t> take();
};

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

}  // namespace payoutd::testing
