#include "engine/committer.h"

#include <spdlog/spdlog.h>

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <random>
#include <thread>

namespace payoutd::engine {

Committer::Committer(store::Store& store, const Clock& clock, CommitterOptions options)
    : store_(store), clock_(clock), options_(options) {}

Committer::~Committer() { stop(); }

void Committer::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "committer");
    run();
  });
  syncer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "syncer");
    run_syncer();
  });
}

bool Committer::submit(std::unique_ptr<Job> job) { return enqueue(job); }

bool Committer::enqueue(std::unique_ptr<Job>& job) {
  bool wake = false;
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_ || queue_.size() >= options_.queue_jobs_max) return false;
    queue_.push_back(std::move(job));
    wake = idle_;
  }
  // A busy committer finds the job when it drains the queue next; waking it costs a syscall.
  if (wake) wake_.notify_one();
  return true;
}

void Committer::stop() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mutex_);
    committer_done_ = true;
  }
  sync_wake_.notify_one();
  if (syncer_.joinable()) syncer_.join();
}

namespace {

// A job that changes nothing: its batch's commit confirms the reads made before it was submitted.
class ReadBarrier final : public Job {
 public:
  ReadBarrier(std::function<void()> done, std::function<void()> failed)
      : done_(std::move(done)), failed_(std::move(failed)) {}
  void declare(store::Footprint& /*footprint*/) const override {}
  void apply(store::WriteTxn& /*txn*/, std::int64_t /*now_ms*/) override {}
  void complete(const store::Status& status) override { status.ok ? done_() : failed_(); }

 private:
  std::function<void()> done_, failed_;
};

}  // namespace

void Committer::after_durable(std::function<void()> done, std::function<void()> failed) {
  if (store_.read_barrier_needed()) {
    std::unique_ptr<Job> barrier =
        std::make_unique<ReadBarrier>(std::move(done), std::move(failed));
    if (!enqueue(barrier)) barrier->complete(store::Status::Error("the queue is full"));
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (durable_seq_ < committed_seq_) {
      waiters_.push_back({committed_seq_, std::move(done)});
      return;
    }
  }
  done();
}

void Committer::run_syncer() {
  std::vector<Unsynced> batches;
  std::vector<Waiter> ready;
  for (;;) {
    std::uint64_t seq = 0;
    {
      std::unique_lock lock(mutex_);
      sync_wake_.wait(lock, [&] { return committer_done_ || !unsynced_.empty(); });
      if (unsynced_.empty()) return;  // the committer has stopped and everything is durable
      batches.swap(unsynced_);
      seq = batches.back().seq;
    }
    const auto started = Steady::now();
    const store::Status status = store_.sync();
    if (!status.ok) {
      // After a failed fsync the kernel may have dropped the dirty pages: what was committed is
      // not known to be on disk, and retrying the fsync could falsely succeed. Stop here; on
      // restart the store recovers exactly what reached the disk, and nothing unsynced was
      // acknowledged.
      spdlog::critical("store sync failed, stopping: {}", status.message);
      std::abort();
    }
    const auto synced = Steady::now();
    histograms_.sync_us.observe(
        0, std::chrono::duration_cast<std::chrono::microseconds>(synced - started).count());
    {
      std::lock_guard lock(mutex_);
      durable_seq_ = seq;
      ++stats_.syncs;
      stats_.sync_us_total += static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(synced - started).count());
      auto it = std::partition(waiters_.begin(), waiters_.end(),
                               [&](const Waiter& w) { return w.seq > seq; });
      std::move(it, waiters_.end(), std::back_inserter(ready));
      waiters_.erase(it, waiters_.end());
    }
    // A completion must not take the pipeline down: they only hand results to other threads,
    // and a failure in one is logged and skipped.
    for (Unsynced& unsynced : batches) {
      for (auto& job : unsynced.batch) complete_safely(*job, status);
    }
    batches.clear();
    for (Waiter& w : ready) {
      try {
        w.done();
      } catch (const std::exception& e) {
        spdlog::error("read completion failed: {}", e.what());
      }
    }
    ready.clear();
  }
}

void Committer::complete_safely(Job& job, const store::Status& status) {
  try {
    job.complete(status);
  } catch (const std::exception& e) {
    spdlog::error("job completion failed: {}", e.what());
  }
}

CommitterStats Committer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::size_t Committer::queue_depth() const {
  std::lock_guard lock(queue_mutex_);
  return queue_.size();
}

void Committer::run() {
  std::vector<std::unique_ptr<Job>> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      idle_ = true;
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      idle_ = false;
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
    batch = Batch();
  }
}

// Runs the batch in one transaction; a run that conflicts with another node's writes is rolled
// back and run again, after a short random pause that grows with each attempt.
store::Status Committer::run_batch(Batch& batch, std::uint64_t& seq, Steady::time_point& applied) {
  footprint_.clear();
  for (auto& job : batch) job->declare(footprint_);
  store::Status status;
  for (int attempt = 0;; ++attempt) {
    try {
      auto txn = store_.begin();
      txn->prepare(footprint_);
      const std::int64_t now_ms = clock_.now_ms();
      for (auto& job : batch) job->apply(*txn, now_ms);
      applied = Steady::now();
      if (seq == 0) {
        // Counted before COMMIT makes the batch visible, so a read that sees it waits for its
        // sync.
        std::lock_guard lock(mutex_);
        seq = ++committed_seq_;
      }
      status = txn->commit();
    } catch (const store::TxnFailed& e) {
      // The storage failed under the batch (rolled back): a conflict or a lost connection runs
      // it again on a new transaction.
      status = e.status();
    } catch (const std::exception& e) {
      // A bug or an allocation failure inside a job: the transaction is rolled back by its
      // destructor, and every job of the batch learns that nothing happened.
      return store::Status::Error(std::string("batch aborted: ") + e.what());
    }
    if (status.ok || !status.conflict || attempt >= options_.conflict_retries_max) return status;
    {
      std::lock_guard lock(mutex_);
      ++stats_.conflicts;
    }
    const int pause_us_max = 200 << std::min(attempt, 6);
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, pause_us_max)(random_)));
  }
}

void Committer::execute(Batch& batch) {
  const std::size_t jobs = batch.size();
  const auto started = Steady::now();
  auto applied = started;  // after the last run's apply: earlier runs count as applying
  std::uint64_t seq = 0;
  const store::Status status = run_batch(batch, seq, applied);
  const auto committed = Steady::now();
  histograms_.batch_jobs.observe(0, static_cast<std::int64_t>(jobs));
  histograms_.commit_us.observe(
      0, std::chrono::duration_cast<std::chrono::microseconds>(committed - started).count());
  if (!status.ok) {
    if (const std::int64_t held = failure_log_.admit(); held >= 0) {
      spdlog::error("commit of {} jobs failed: {} ({} more failed batches not logged)", jobs,
                    status.message, held);
    }
    for (auto& job : batch) complete_safely(*job, status);
    batch.clear();
  }
  std::lock_guard lock(mutex_);
  if (seq != 0) {
    // Failed batches go through the syncer too (empty), so its sequence keeps up.
    unsynced_.push_back({seq, std::move(batch)});
    sync_wake_.notify_one();
  }
  auto us = [](auto d) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  };
  stats_.apply_us_total += us(applied - started);
  stats_.commit_us_total += us(committed - applied);
  ++stats_.batches;
  stats_.jobs += jobs;
  if (!status.ok) ++stats_.failed_batches;
  if (jobs > stats_.batch_jobs_largest) stats_.batch_jobs_largest = jobs;
}

}  // namespace payoutd::engine
