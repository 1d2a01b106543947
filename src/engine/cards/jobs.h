#pragma once
// How the card engine's commands run in the committer: a job per command, completed once its
// batch is durable. Internal to src/engine/cards.
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include "engine/cards/order.h"
#include "engine/committer.h"
#include "engine/payout_metrics.h"
#include "rails/routing.h"

namespace payoutd::engine::card_jobs {

// Tells the payout's dialect of its new state inside the batch (CardNotifier); true when an
// outbox message was written.
using Notify = std::function<bool(store::WriteTxn&, const store::PayoutRecord&, const CardOrder&,
                                  std::int64_t now_ms)>;

// What the batch that reserves a payout checks: the card's limits, and the routing that chooses
// its rail. `routing` is the engine's (alive while it runs); only the jobs that reserve need it.
struct ReserveRules {
  std::optional<CardLimits> limits;  // nullopt: unknown, and the payout is declined
  const rails::Routing* routing = nullptr;
};

// A command's completion: its result once durable, or `unavailable` when its batch failed.
template <typename Result, typename Done>
auto or_unavailable(Done done, Result unavailable) {
  return [done = std::move(done), unavailable](Result r, const store::Status& status) {
    done(status.ok ? std::move(r) : unavailable);
  };
}

// Submits `job`. A committer that refuses it (its queue is full) completes it at once as a
// failed batch, so `done` answers what it answers to a storage failure.
template <typename Result, typename Done>
void submit(Committer& committer, std::unique_ptr<Job> job, const Done& done) {
  if (!committer.submit(std::move(job))) done(Result{}, store::Status::Error("overloaded"));
}

// An order command: `declare` names the payout it touches; `wake` runs once a batch that wrote
// outbox messages is durable (the dispatcher's wake-up); `payouts` counts a payout it made final.
template <typename Input, typename Apply, typename Done>
void run_order_job(Committer& committer, const std::function<void()>& wake, PayoutMetrics& payouts,
                   Input input, void (*declare)(const Input&, store::Footprint&), Apply apply,
                   Done done) {
  auto completion = [done, wake, &payouts](CardPayoutResult r, const store::Status& status) {
    if (status.ok && r.finished) payouts.finished(r.payout);
    if (status.ok && r.notified && wake) wake();
    done(std::move(r), status);
  };
  submit<CardPayoutResult>(
      committer,
      make_job<CardPayoutResult>(std::move(input), declare, std::move(apply), completion),
      completion);
}

// A command on records only (no account or payout to declare); `wake` as above when it
// `notifies` (writes an outbox message).
template <typename Result, typename Apply, typename Done>
void run_record_job(Committer& committer, const std::function<void()>& wake, Apply apply, Done done,
                    bool notifies = false) {
  auto completion = [done, wake, notifies](Result r, const store::Status& status) {
    if (status.ok && notifies && wake) wake();
    done(std::move(r), status);
  };
  submit<Result>(committer, make_job<Result>(std::move(apply), completion), completion);
}

}  // namespace payoutd::engine::card_jobs
