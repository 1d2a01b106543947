#include "engine/scheduler.h"

#include <chrono>

namespace payoutd::engine {

namespace {
// Upper bound of one wait, so a wall-clock jump is noticed within this time.
constexpr std::int64_t kWaitSliceMs = 500;
}  // namespace

Scheduler::Scheduler(const Clock& clock, std::function<void(std::int64_t)> fire)
    : clock_(clock), fire_(std::move(fire)) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  thread_ = std::thread([this] { run(); });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::schedule(std::int64_t id, std::int64_t due_ms) {
  {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = waiting_.emplace(id, due_ms);
    if (!fresh) {
      if (it->second <= due_ms) return;  // it fires earlier already
      it->second = due_ms;  // the later entry stays in the queue and is skipped when it comes up
    }
    queue_.push({due_ms, id});
  }
  wake_.notify_one();
}

void Scheduler::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const std::int64_t wait_ms = queue_.top().due_ms - clock_.now_ms();
    if (wait_ms > 0) {
      wake_.wait_for(lock, std::chrono::milliseconds(std::min(wait_ms, kWaitSliceMs)));
      continue;
    }
    const Entry top = queue_.top();
    queue_.pop();
    auto it = waiting_.find(top.id);
    if (it == waiting_.end() || it->second != top.due_ms) continue;  // superseded by an earlier one
    const std::int64_t id = top.id;
    waiting_.erase(it);
    lock.unlock();
    fire_(id);
    lock.lock();
  }
}

}  // namespace payoutd::engine
