#pragma once
// Fresh databases of either backend for the tests that run against both: a temporary directory
// for SQLite, a new database on a throwaway PostgreSQL cluster for PostgreSQL. The cluster is the
// one `make test` starts (PAYOUTD_TEST_POSTGRES_DIR names its directory), or, when the tests run
// by hand without it, one this process starts with scripts/pg-cluster.sh and stops at exit.
#include <gtest/gtest.h>

#include <memory>
#include <string>

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
  // A store on this database (each call a new one; SQLite allows one writer at a time).
  std::unique_ptr<store::Store> open(int schema_version_target = 0) const;
  std::unique_ptr<store::Store> open_read_only() const;
  // Runs SQL on the database directly, outside every store (to set up odd states).
  void execute(const std::string& sql) const;

 private:
  Backend backend_;
  std::string location_;  // the SQLite file, or the PostgreSQL database's URL
  std::string name_;      // the PostgreSQL database's name
};

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

}  // namespace payoutd::testing
