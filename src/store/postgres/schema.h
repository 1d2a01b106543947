#pragma once
// The PostgreSQL store's schema: its SQL for every version of migration.h, and the runner, which
// several nodes may run at once.
#include "store/postgres/connection.h"

namespace payoutd::store::postgres {

// The version recorded in meta; 0 for a database without tables.
int read_schema_version(Connection& c);

// Takes the database to `target` (0: the newest), one transaction per step, and returns the
// version it is at. Nodes migrating at once take turns: a step another node has done is skipped.
// Throws (start-up) when a step fails, the database is newer than this build, or the target is
// unknown.
int migrate(Connection& c, int target);

}  // namespace payoutd::store::postgres
