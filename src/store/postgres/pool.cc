#include "store/postgres/pool.h"

#include <chrono>

namespace payoutd::store::postgres {

ReaderPool::Lease ReaderPool::acquire(Pick pick) {
  std::unique_lock lock(mutex_);
  auto ready = [&] { return !idle_.empty() || open_ < options_.read_connections_max; };
  if (!ready()) {
    const auto started = std::chrono::steady_clock::now();
    const bool available =
        free_.wait_for(lock, std::chrono::milliseconds(options_.pool_wait_ms), ready);
    ++stats_.waits;
    stats_.wait_us_total += std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
    if (!available) {
      ++stats_.timeouts;
      throw StorageError("no free PostgreSQL connection");
    }
  }
  if (pick == Pick::kNew && open_ >= options_.read_connections_max) {
    idle_.pop_back();  // makes room for the new one
    --open_;
  }
  if (pick == Pick::kIdleFirst && !idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(c));
  }
  ++open_;
  lock.unlock();
  try {
    return Lease(*this, std::make_unique<Connection>(options_));
  } catch (...) {
    lock.lock();
    --open_;
    free_.notify_one();
    throw;
  }
}

PoolStats ReaderPool::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void ReaderPool::release(std::unique_ptr<Connection> c) {
  if (!c) return;
  {
    std::lock_guard lock(mutex_);
    if (c->ok()) {
      idle_.push_back(std::move(c));
    } else {
      --open_;  // a broken connection is dropped; the next read opens a new one
    }
  }
  free_.notify_one();
}

void ReaderPool::drop_idle() {
  std::vector<std::unique_ptr<Connection>> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(idle_);
    open_ -= static_cast<int>(dropped.size());
  }
  free_.notify_all();
}

}  // namespace payoutd::store::postgres
