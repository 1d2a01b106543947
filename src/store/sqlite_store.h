#pragma once
// Embedded store on SQLite in WAL mode. A commit appends the batch's pages to the write-ahead log
// without waiting for the disk (synchronous=NORMAL); sync() is fdatasync() of the log, so one
// fsync covers every batch committed before it while the next batch is already being written.
// With synchronous=NORMAL SQLite still syncs the log before each checkpoint and the database
// after it, so checkpoints never lose a synced commit. One writer connection (the committer's),
// a small pool of query-only reader connections for concurrent GETs. The writer keeps the
// committed accounts in memory, since it is the only writer of this database file.
#include <memory>
#include <string>

#include "store/store.h"

namespace payoutd::store {

struct SqliteOptions {
  std::string path;            // database file; its directory must exist
  int busy_timeout_ms = 5000;  // readers (and audit) waiting for a checkpoint
  int reader_connections_max = 8;
  bool read_only = false;         // audit opens the file without writing to it
  int schema_version_target = 0;  // migrate to this version (0: the newest); tests only
};

// Opens (creating and migrating if needed) the database. Throws std::runtime_error on failure:
// start-up is the one place where exceptions are used.
std::unique_ptr<Store> open_sqlite_store(const SqliteOptions& options);

}  // namespace payoutd::store
