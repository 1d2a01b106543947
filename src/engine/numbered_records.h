#pragma once
// Records of tenant "" keyed by a sequence number (1, 2, ...) written as 20 digits, so that key
// order is number order (the operators' audit log, maker-checker's requests), and a read of
// them newest first that costs a bounded number of lookups whatever a filter keeps.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "store/store.h"

namespace payoutd::engine {

// The key of number `seq`: 20 digits, zero-padded.
std::string numbered_key(std::int64_t seq);

// Hands `take` the records of `kind` numbered below `before` (newest first, missing numbers
// skipped) until it returns false (a page is full) or `scan_max` records were read. Returns the
// `before` of the next read: the lowest number looked at, or 0 when nothing older is left.
store::Read<std::int64_t> scan_newest_first(
    const store::Store& store, std::string_view kind, std::int64_t before, std::int64_t scan_max,
    const std::function<bool(std::int64_t seq, const std::string& value)>& take);

}  // namespace payoutd::engine
