#pragma once
// The SQLite store's schema: its SQL for every version of migration.h, and the runner.
#include "store/sqlite/connection.h"

namespace payoutd::store::sqlite {

// The version recorded in meta; 0 for a database without tables.
int read_schema_version(Connection& c);

// Takes the writer's database to `target` (0: the newest), one transaction per step, and
// returns the version it is at. Throws (start-up) when a step fails, the database is newer than
// this build, or the target is unknown.
int migrate(Connection& writer, int target);

}  // namespace payoutd::store::sqlite
