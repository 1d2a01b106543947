#pragma once
// Versioned schema migrations, shared by the backends: the same versions on both, each backend
// with its own SQL for every version (its dialect differs), run in order by its own runner, one
// transaction per step, at start-up and by `payoutd migrate`. A database records the version it
// is at in meta (kSchemaVersionKey); a build refuses a database newer than the newest step it
// knows.
#include <array>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace payoutd::store {

inline constexpr int kSchemaVersionNewest = 10;
inline constexpr std::string_view kSchemaVersionKey = "schema_version";

// What each version adds, for the log: kSchemaStepNames[v - 1] is version v's.
inline constexpr std::array<const char*, kSchemaVersionNewest> kSchemaStepNames = {
    "accounts, transfers, payouts, history",
    "leases",
    "records",
    "outbox",
    "payouts by tenant",
    "outbox queues, messages of payouts, sealed messages",
    "payouts by tenant: listed kinds only",
    "outbox: the request that caused a message",
    "posted transfers by account and time (statements)",
    "payouts by time, card orders by masked card, abandoned messages (operators' search)",
};

// A backend's SQL of every version: sql[v - 1] (one or more statements) takes a database from
// version v - 1 to v.
using SchemaSql = std::array<const char*, kSchemaVersionNewest>;

struct Migration {
  int version;       // the version a database is at after this step
  const char* what;  // for the log
  const char* sql;   // one or more statements
};

// The steps that take a database from `current` to `target` (0: the newest). Throws
// std::runtime_error when the database is newer than this build, or the target is unknown.
inline std::vector<Migration> migration_steps(const SchemaSql& sql, int current, int target) {
  if (target == 0) target = kSchemaVersionNewest;
  if (target < 1 || target > kSchemaVersionNewest) {
    throw std::runtime_error("unknown schema version " + std::to_string(target));
  }
  if (current > kSchemaVersionNewest) {
    throw std::runtime_error("database schema version " + std::to_string(current) +
                             " is newer than this payoutd (" +
                             std::to_string(kSchemaVersionNewest) + ")");
  }
  std::vector<Migration> steps;
  for (int version = current + 1; version <= target; ++version) {
    const auto at = static_cast<std::size_t>(version - 1);
    steps.push_back({version, kSchemaStepNames[at], sql[at]});
  }
  return steps;
}

}  // namespace payoutd::store
