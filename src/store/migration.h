#pragma once
// Versioned schema migrations, shared by the backends: each has its own list of steps (its SQL
// dialect differs), run in order by its own runner, one transaction per step, at start-up and by
// `payoutd migrate`. A database records the version it is at; a build refuses a database newer
// than the newest step it knows.
#include <span>
#include <stdexcept>
#include <string>

namespace payoutd::store {

struct Migration {
  int version;          // the version a database is at after this step
  const char* what;     // for the log
  const char* sql;      // one or more statements
};

// The steps that take a database from `current` to `target` (0: the newest). Throws
// std::runtime_error when the database is newer than this build, or the target is unknown.
inline std::span<const Migration> migration_steps(std::span<const Migration> all, int current,
                                                  int target) {
  const int newest = all.back().version;
  if (target == 0) target = newest;
  if (target < 1 || target > newest) {
    throw std::runtime_error("unknown schema version " + std::to_string(target));
  }
  if (current > newest) {
    throw std::runtime_error("database schema version " + std::to_string(current) +
                             " is newer than this payoutd (" + std::to_string(newest) + ")");
  }
  std::size_t first = 0;
  while (first < all.size() && all[first].version <= current) ++first;
  std::size_t last = first;
  while (last < all.size() && all[last].version <= target) ++last;
  return all.subspan(first, last - first);
}

}  // namespace payoutd::store
