#pragma once
// PAYOUTD_ASSERT: an invariant of the money model (ledger counters, floors, state transitions,
// a payout's reservation). It stays on in release builds, where NDEBUG removes assert(): a broken
// invariant is a bug, and carrying on would write it to the store or fail a whole batch of other
// partners' payouts. It logs the failure and aborts; on restart the engine recovers from the
// durable state, which the failed batch never reached.
//
// Not for bad input or expected failures (those are values), nor for checks on a hot path that a
// type already guarantees.
#include <string_view>

namespace payoutd {

// Logs "<file>:<line>: invariant <condition> broken: <what>", flushes every log, aborts.
[[noreturn]] void assertion_failed(std::string_view condition, std::string_view what,
                                   std::string_view file, int line) noexcept;

}  // namespace payoutd

#define PAYOUTD_ASSERT(condition, what)                                    \
  do {                                                                     \
    if (!(condition)) [[unlikely]]                                         \
      ::payoutd::assertion_failed(#condition, (what), __FILE__, __LINE__); \
  } while (false)
