#pragma once
// Embedded store on SQLite: WAL journal with synchronous=FULL, so a commit returns only after the
// write-ahead log is fsync'd. One writer connection (the committer's), a small pool of reader
// connections for concurrent GETs. The writer keeps the committed accounts in memory, since it
// is the only writer of this database file.
#include <memory>
#include <string>

#include "store/store.h"

namespace payoutd::store {

struct SqliteOptions {
  std::string path;                  // database file; its directory must exist
  int busy_timeout_ms = 5000;        // readers (and audit) waiting for a checkpoint
  int reader_connections_max = 8;
  bool read_only = false;            // audit opens the file without writing to it
};

// Opens (creating and migrating if needed) the database. Throws std::runtime_error on failure:
// start-up is the one place where exceptions are used.
std::unique_ptr<Store> open_sqlite_store(const SqliteOptions& options);

}  // namespace payoutd::store
