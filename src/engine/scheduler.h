#pragma once
// Deadline scheduler for work the engine drives by itself (a processing payout's settlement).
// Durable state lives in the store; this only remembers when to look again, so after a restart
// the engine re-schedules from the store (see PayoutEngine::resume).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.h"

namespace payoutd::engine {

class Scheduler {
 public:
  // `fire(id)` runs on the scheduler thread when `id`'s deadline has passed.
  Scheduler(const Clock& clock, std::function<void(std::int64_t)> fire);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void start();
  void stop();
  // Thread-safe. Fires `id` at or after `due_ms` (wall-clock milliseconds). An id fires once
  // however often it is scheduled: at the earliest of the times it waits for.
  void schedule(std::int64_t id, std::int64_t due_ms);

 private:
  void run();
  struct Entry {
    std::int64_t due_ms;
    std::int64_t id;
    bool operator>(const Entry& other) const { return due_ms > other.due_ms; }
  };
  const Clock& clock_;
  std::function<void(std::int64_t)> fire_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_;
  std::unordered_map<std::int64_t, std::int64_t> waiting_;  // id -> when it fires
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace payoutd::engine
