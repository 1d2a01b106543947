#pragma once
// The read side's error boundary, shared by the backends: a read runs inside guarded_read, and a
// storage failure (a statement that failed, a lost connection, no free connection in time) comes
// back as the read's ReadError instead of an exception. Logged here, at most once a second (an
// outage fails every read the same way; the next line that gets through counts those held back);
// the callers decide what the failure means for them (a dialect's retryable error, a retry on the
// next tick) without logging it again.
#include <cstdint>
#include <exception>
#include <string_view>
#include <type_traits>

#include <spdlog/spdlog.h>

#include "core/log_limit.h"
#include "store/store.h"

namespace payoutd::store {

// Runs `read` and returns its value, or the failure it threw. `what` names the read in the log.
// The statement helpers' messages name the statement and the database's error, never a bound
// value, so no partner data (and no card data: cards are sealed in the store) reaches the log.
template <typename F>
Read<std::invoke_result_t<F&>> guarded_read(std::string_view what, F&& read) {
  try {
    return read();
  } catch (const std::exception& e) {
    static LogLimit failures;  // one per kind of read
    if (const std::int64_t held = failures.admit(); held >= 0) {
      spdlog::error("store: read {} failed: {} ({} more failed reads of it not logged)", what,
                    e.what(), held);
    }
    return Failure{ReadError{e.what()}};
  }
}

}  // namespace payoutd::store
