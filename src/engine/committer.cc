#include "engine/committer.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace payoutd::engine {

Committer::Committer(store::Store& store, const Clock& clock, CommitterOptions options)
    : store_(store), clock_(clock), options_(options) {}

Committer::~Committer() { stop(); }

void Committer::start() { thread_ = std::thread([this] { run(); }); }

bool Committer::submit(std::unique_ptr<Job> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.queue_jobs_max) return false;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void Committer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

CommitterStats Committer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Committer::run() {
  std::vector<std::unique_ptr<Job>> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is done
      if (queue_.size() <= options_.batch_jobs_max) {
        batch.swap(queue_);
      } else {
        auto split = queue_.begin() + static_cast<std::ptrdiff_t>(options_.batch_jobs_max);
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(split));
        queue_.erase(queue_.begin(), split);
      }
    }
    execute(batch);
    batch.clear();
  }
}

void Committer::execute(std::vector<std::unique_ptr<Job>>& batch) {
  store::Status status;
  try {
    auto txn = store_.begin();
    const std::int64_t now_ms = clock_.now_ms();
    for (auto& job : batch) job->apply(*txn, now_ms);
    status = txn->commit();
  } catch (const std::exception& e) {
    // A bug or an allocation failure inside a job: the transaction is rolled back by its
    // destructor, and every job of the batch learns that nothing happened.
    status = store::Status::Error(std::string("batch aborted: ") + e.what());
  }
  if (!status.ok) spdlog::error("commit of {} jobs failed: {}", batch.size(), status.message);
  for (auto& job : batch) job->complete(status);
  std::lock_guard lock(mutex_);
  ++stats_.batches;
  stats_.jobs += batch.size();
  if (!status.ok) ++stats_.failed_batches;
  if (batch.size() > stats_.batch_jobs_largest) stats_.batch_jobs_largest = batch.size();
}

}  // namespace payoutd::engine
