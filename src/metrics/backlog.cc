#include "metrics/backlog.h"

#include <pthread.h>

#include <chrono>

namespace payoutd::metrics {

BacklogGauges::BacklogGauges(const store::Store& store, const Clock& clock, BacklogOptions options)
    : store_(store), clock_(clock), options_(options) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "metrics-store");
    run();
  });
}

BacklogGauges::~BacklogGauges() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void BacklogGauges::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || wanted_; });
    if (stopping_) return;
    wanted_ = false;
    reading_ = true;
    const std::int64_t began_ms = clock_.now_ms();
    last_try_ms_ = began_ms;
    lock.unlock();
    store::Read<store::Backlog> backlog = store_.backlog();  // the store logs a failure
    lock.lock();
    reading_ = false;
    if (backlog.ok()) {
      last_ = *backlog;
      last_ms_ = began_ms;
    } else {
      ++failures_;
    }
    ++reads_;
    read_.notify_all();
  }
}

void BacklogGauges::write(Exposition& out) {
  std::unique_lock lock(mutex_);
  const std::int64_t now_ms = clock_.now_ms();
  if (!reading_ && now_ms - last_try_ms_ >= options_.max_age_ms) {
    wanted_ = true;
    wake_.notify_one();
  }
  if (wanted_ || reading_) {
    const std::uint64_t before = reads_;
    read_.wait_for(lock, std::chrono::milliseconds(options_.deadline_ms),
                   [&] { return reads_ != before; });
  }
  out.family("payoutd_backlog_read_failures_total", Type::kCounter,
             "Reads of the store's backlogs for the gauges below that failed (the store's log "
             "says why); the gauges keep their last values.");
  out.sample({}, failures_);
  if (!last_) return;  // never read yet: no gauge rather than a false zero
  const store::Backlog& b = *last_;
  const std::int64_t read_at_ms = last_ms_;
  auto age_ms = [&](std::int64_t since_ms) {
    return since_ms == 0 ? 0 : std::max<std::int64_t>(read_at_ms - since_ms, 0);
  };
  out.family("payoutd_backlog_age_seconds", Type::kGauge,
             "How old the store's backlog values below are (they are read at most every few "
             "seconds, whatever the scrapers).");
  out.sample({}, std::max<std::int64_t>(clock_.now_ms() - read_at_ms, 0), Scale::kMilli);
  out.family("payoutd_outbox_backlog_messages", Type::kGauge,
             "Outbox messages (partners' callbacks, mail, SMS) not yet delivered nor abandoned, "
             "of every node.");
  out.sample({}, b.outbox_pending);
  out.family("payoutd_outbox_oldest_due_age_seconds", Type::kGauge,
             "How long the outbox message due earliest has been due (0: none is due).");
  out.sample({}, b.outbox_next_attempt_ms_min == 0 ? 0 : age_ms(b.outbox_next_attempt_ms_min),
             Scale::kMilli);
  out.family("payoutd_reconciliations_pending", Type::kGauge,
             "Card payouts reserved and sent (or to be sent) to their card network whose final "
             "answer is not in yet: the network's answer or a status query will settle them.");
  out.sample({}, b.card_payouts_unsettled);
  out.family("payoutd_reconciliation_oldest_age_seconds", Type::kGauge,
             "Age of the oldest card payout still awaiting its network's final answer (0: none).");
  out.sample({}, age_ms(b.card_payouts_created_ms_min), Scale::kMilli);
}

}  // namespace payoutd::metrics
