#pragma once
// The gauges that need the store (Store::backlog: the outbox's backlog, card payouts awaiting
// their network's answer or reconciliation), read at scrape time on a thread of their own and
// cached: whatever the number of scrapers, the store is read at most once per max_age_ms, and a
// scrape waits at most deadline_ms for a fresh read before it shows the last one it has (with
// its age, payoutd_backlog_age_seconds). A failed read keeps the last values and is counted.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "core/clock.h"
#include "core/metrics.h"
#include "store/store.h"

namespace payoutd::metrics {

struct BacklogOptions {
  std::int64_t max_age_ms = 5000;   // a read younger than this is shown again
  std::int64_t deadline_ms = 1000;  // how long a scrape waits for a new read
};

class BacklogGauges {
 public:
  BacklogGauges(const store::Store& store, const Clock& clock, BacklogOptions options = {});
  ~BacklogGauges();
  BacklogGauges(const BacklogGauges&) = delete;
  BacklogGauges& operator=(const BacklogGauges&) = delete;

  // Any thread; may wait up to deadline_ms.
  void write(Exposition& out);

 private:
  void run();

  const store::Store& store_;
  const Clock& clock_;
  const BacklogOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;  // the reader: a read is wanted, or stop
  std::condition_variable read_;  // scrapes: a read finished
  bool wanted_ = false;
  bool reading_ = false;
  bool stopping_ = false;
  std::uint64_t reads_ = 0;  // reads finished, failed ones included
  std::optional<store::Backlog> last_;
  std::int64_t last_ms_ = 0;      // when the last good read began (clock_)
  std::int64_t last_try_ms_ = 0;  // when the last read began, good or not
  std::int64_t failures_ = 0;
  std::thread thread_;
};

}  // namespace payoutd::metrics
