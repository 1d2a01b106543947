#pragma once
// Group commit: the single writer of the store.
//
// I/O threads parse and validate requests in parallel and submit Jobs. The committer thread
// drains everything queued (up to a bound), applies the jobs in order inside ONE store
// transaction and commits it. The syncer thread then makes every batch committed so far durable
// with one Store::sync() (fsync), and only then completes their jobs. The two stages overlap: while
// the disk syncs batch N, the committer already writes batch N+1, so no payout waits behind
// another batch's fsync and a hot account (one funder debited by every payout) is written once
// per batch. No lock or transaction is ever held across a network call: jobs touch only the
// store.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/log_limit.h"
#include "core/metrics.h"
#include "store/store.h"

namespace payoutd::engine {

class Job {
 public:
  virtual ~Job() = default;
  // Declares what apply() will touch (see store::Footprint), before any job of the batch runs.
  // The views may point into the job. Leaving something out is correct but slower.
  virtual void declare(store::Footprint& footprint) const = 0;
  // Runs on the committer thread inside the batch's transaction, after every job submitted
  // before it. Decides the business outcome from the transaction's state and writes it through
  // the transaction. Must not block on anything but the store. May run more than once: when the
  // batch conflicts with another node's, it is rolled back and run again from the start, and
  // only the last run's writes commit; and when a commit's outcome is unknown (the connection
  // broke during COMMIT), it runs again on whatever that commit left. So a job claims its
  // partner id or checks the state it changes before it changes anything.
  virtual void apply(store::WriteTxn& txn, std::int64_t now_ms) = 0;
  // Runs once, after the batch is durable (status ok, on the syncer thread) or failed (nothing of
  // the batch happened, on the committer thread). Must be quick: hand results to another thread.
  virtual void complete(const store::Status& commit_status) = 0;
};

struct CommitterOptions {
  std::size_t batch_jobs_max = 4096;
  std::size_t queue_jobs_max = 65536;
  // A batch that conflicts with another node's is run again this many times at most, after a
  // short random pause that grows with each attempt; then its jobs fail as unavailable.
  int conflict_retries_max = 8;
};

struct CommitterStats {
  std::uint64_t batches = 0;
  std::uint64_t jobs = 0;
  std::uint64_t failed_batches = 0;
  std::uint64_t conflicts = 0;  // batch runs rolled back for another node's writes, then retried
  std::uint64_t batch_jobs_largest = 0;
  std::uint64_t apply_us_total = 0;   // time spent deciding the batches' outcomes
  std::uint64_t commit_us_total = 0;  // time spent writing them to the store
  std::uint64_t syncs = 0;            // fsyncs; each covers one or more batches
  std::uint64_t sync_us_total = 0;
};

// Distributions of the committer's work since start, for the metrics (docs/operations.md).
struct CommitterHistograms {
  metrics::Histograms batch_jobs{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096}};
  // A batch from its first apply until COMMIT returned (conflict reruns included), and an fsync
  // (Store::sync), in microseconds.
  metrics::Histograms commit_us{kLatencyBoundsUs};
  metrics::Histograms sync_us{kLatencyBoundsUs};

  static inline const std::vector<std::int64_t> kLatencyBoundsUs{
      100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};
};

class Committer {
 public:
  Committer(store::Store& store, const Clock& clock, CommitterOptions options);
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  void start();
  // Thread-safe. Returns false (and drops the job without completing it) when the queue is
  // full or the committer is stopping: the caller answers "unavailable, retry".
  bool submit(std::unique_ptr<Job> job);
  // Stops accepting jobs, commits and syncs everything already queued, joins the threads.
  // Idempotent.
  void stop();
  CommitterStats stats() const;
  const CommitterHistograms& histograms() const { return histograms_; }
  // Jobs submitted and not yet taken into a batch (at most queue_jobs_max). Takes the queue's
  // lock: for a scrape, not for the request path.
  std::size_t queue_depth() const;

  // Runs `done` once every state a read made before this call may have seen is durable, or
  // `failed` when that cannot be known (the batch that was to confirm it failed: the read's answer
  // must not go out, the caller answers "unavailable, retry"). Reads that answer partners use it,
  // so no answer shows a state that a crash or a failover could still take back.
  // Where the store's reads see only this node's commits (SQLite), everything committed so far
  // being durable is enough: `done` runs at once (on the caller's thread) when it already is,
  // else on the syncer thread, and `failed` never. Where they may see another node's commit
  // before its standby confirmed it (Store::read_barrier_needed), a batch commits after this call
  // (with a write of its own when it has none: store/postgres/statements.h kCommitBarrier), and
  // its standby's confirmation covers everything the read saw.
  void after_durable(std::function<void()> done, std::function<void()> failed);

 private:
  using Batch = std::vector<std::unique_ptr<Job>>;
  // submit(), leaving `job` with the caller when the queue refuses it.
  bool enqueue(std::unique_ptr<Job>& job);
  void run();
  void execute(Batch& batch);
  using Steady = std::chrono::steady_clock;
  store::Status run_batch(Batch& batch, std::uint64_t& seq, Steady::time_point& applied);
  void run_syncer();
  static void complete_safely(Job& job, const store::Status& status);

  struct Waiter {
    std::uint64_t seq;
    std::function<void()> done;
  };
  store::Store& store_;
  const Clock& clock_;
  const CommitterOptions options_;
  store::Footprint footprint_;                       // the current batch's (committer thread only)
  std::minstd_rand random_{std::random_device{}()};  // retry pauses (committer thread only)
  LogLimit failure_log_;
  // Two locks: I/O threads and the committer meet on the queue; the committer and the syncer
  // (and readers) on the sync state, so submitting never waits behind the syncer.
  mutable std::mutex queue_mutex_;  // queue_, stopping_, idle_
  std::condition_variable wake_;
  std::vector<std::unique_ptr<Job>> queue_;
  bool stopping_ = false;
  bool idle_ = false;  // the committer thread waits for work: submit() must wake it
  std::thread thread_;

  // Committed but not yet durable batches, in commit order, and readers waiting for them.
  mutable std::mutex mutex_;  // everything below
  std::condition_variable sync_wake_;
  CommitterStats stats_;
  CommitterHistograms histograms_;  // atomic: updated outside the lock
  struct Unsynced {
    std::uint64_t seq;
    Batch batch;
  };
  std::vector<Unsynced> unsynced_;
  std::vector<Waiter> waiters_;
  std::uint64_t committed_seq_ = 0;
  std::uint64_t durable_seq_ = 0;
  bool committer_done_ = false;
  std::thread syncer_;
};

}  // namespace payoutd::engine

namespace payoutd::engine {

// A Job from its input and three callables: `declare(input, footprint)`,
// `apply(input, txn, now_ms) -> Result` on the committer thread, and `done(Result, status)` once
// the batch is durable or failed. The input lives as long as the job, so the footprint may point
// into it.
template <typename Result, typename Input, typename Declare, typename Apply, typename Done>
class FunctionJob final : public Job {
 public:
  FunctionJob(Input input, Declare declare_fn, Apply apply_fn, Done done_fn)
      : input_(std::move(input)),
        declare_(std::move(declare_fn)),
        apply_(std::move(apply_fn)),
        done_(std::move(done_fn)) {}
  void declare(store::Footprint& footprint) const override { declare_(input_, footprint); }
  void apply(store::WriteTxn& txn, std::int64_t now_ms) override {
    result_ = apply_(input_, txn, now_ms);
  }
  void complete(const store::Status& status) override { done_(std::move(result_), status); }

 private:
  const Input input_;
  Declare declare_;
  Apply apply_;
  Done done_;
  Result result_{};
};

template <typename Result, typename Input, typename Declare, typename Apply, typename Done>
std::unique_ptr<Job> make_job(Input input, Declare declare, Apply apply, Done done) {
  return std::make_unique<FunctionJob<Result, Input, Declare, Apply, Done>>(
      std::move(input), std::move(declare), std::move(apply), std::move(done));
}

// A job that touches no account and no payout (metadata, leases): `apply(txn, now_ms)`.
template <typename Result, typename Apply, typename Done>
std::unique_ptr<Job> make_job(Apply apply, Done done) {
  return make_job<Result>(
      std::move(apply), [](const Apply&, store::Footprint&) {},
      [](const Apply& a, store::WriteTxn& txn, std::int64_t now_ms) { return a(txn, now_ms); },
      std::move(done));
}

// What an answer says when after_durable could not confirm a read (its `failed`).
inline constexpr std::string_view kReadNotConfirmed =
    "the state read could not be confirmed durable (the database is failing over?): retry";

// Committer::after_durable for an answer made from a read: `answer` goes to `respond` once what
// the read saw is durable; when that cannot be known, what `unavailable()` makes (only then: a
// dialect's error may log).
template <typename Respond, typename Answer, typename Unavailable>
void answer_when_durable(Committer& committer, const Respond& respond, Answer answer,
                         Unavailable unavailable) {
  committer.after_durable(
      [respond, a = std::move(answer)]() mutable { respond(std::move(a)); },
      [respond, unavailable = std::move(unavailable)]() { respond(unavailable()); });
}

}  // namespace payoutd::engine
