#include "outbox/dispatcher.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <future>

#include "core/log_context.h"
#include "core/log_limit.h"

namespace payoutd::outbox {

using store::OutboxMessage;
using store::OutboxState;

namespace {
constexpr std::string_view kLease = "outbox";

// What the lines logged about a message name, kept while it is in flight.
struct MessageLog {
  std::string tenant, event_id, request_id;
};
}  // namespace

std::int64_t next_attempt_ms(const DispatcherOptions& options, const OutboxMessage& m,
                             std::int64_t now_ms) {
  if (now_ms - m.created_ms >= options.give_up_after_ms) return 0;
  const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(std::max(m.attempts, 1)) - 1,
                                              options.retry_ms.size() - 1);
  return now_ms + options.retry_ms[i];
}

Dispatcher::Dispatcher(engine::Committer& committer, const store::Store& store, const Clock& clock,
                       Transport& transport, DispatcherOptions options)
    : committer_(committer),
      store_(store),
      clock_(clock),
      transport_(transport),
      options_(std::move(options)) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "outbox");
    run();
  });
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  transport_.stop();  // answers what is still being sent; those attempts are recorded or redone
}

void Dispatcher::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

bool Dispatcher::claim_lease() {
  std::promise<bool> held;
  auto future = held.get_future();
  const bool submitted = committer_.submit(engine::make_job<bool>(
      [this](store::WriteTxn& txn, std::int64_t now_ms) {
        return txn.claim_lease(kLease, options_.node_id, now_ms, options_.lease_ms);
      },
      [&held](bool ok, const store::Status& status) { held.set_value(status.ok && ok); }));
  return submitted && future.get();
}

void Dispatcher::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    bool leader = false;
    try {
      leader = claim_lease();
    } catch (const std::exception& e) {
      spdlog::warn("outbox: cannot claim the lease: {}", e.what());
    }
    std::vector<OutboxMessage> due;
    {
      // A message done from now until the read's messages are all handed out may still be pending
      // in what the read returns: it is remembered, and not sent again.
      std::lock_guard guard(mutex_);
      done_during_read_.clear();
      reading_ = true;
    }
    if (leader) {
      // Twice what may be in flight: whatever is in flight already, as many new ones. A failed
      // read (the store logged it) sends nothing now; the next poll reads again.
      auto read = store_.due_outbox(clock_.now_ms(), options_.tenant_in_flight_max,
                                    options_.in_flight_max * 2);
      if (read.ok()) due = std::move(*read);
    }
    lock.lock();
    for (OutboxMessage& m : due) {
      if (stopping_) break;
      if (done_during_read_.contains(m.id) || !enter_flight(m)) continue;
      lock.unlock();
      deliver(std::move(m));
      lock.lock();
    }
    reading_ = false;
    if (stopping_) break;
    wake_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                   [&] { return stopping_ || woken_; });
    woken_ = false;
  }
}

// Counts `message` in flight, unless it is already or its queue has its share in flight.
bool Dispatcher::enter_flight(const OutboxMessage& message) {
  if (in_flight_.contains(message.id)) return false;
  Queue queue{message.tenant, store::outbox_lane(message.target)};
  std::size_t& lane = lane_in_flight_[static_cast<std::size_t>(queue.second)];
  if (lane >= options_.in_flight_max) return false;
  const auto [q, fresh] = queue_in_flight_.try_emplace(queue, 0);
  if (q->second >= options_.tenant_in_flight_max) return false;
  ++q->second;
  ++lane;
  in_flight_.emplace(message.id, std::move(queue));
  return true;
}

// A message is done: its queue and its lane have room again. When either was full, the due
// messages it held back are looked for now rather than at the next poll, so a backlog drains at
// the receivers' pace.
void Dispatcher::end_flight(std::int64_t id) {
  bool was_full = false;
  {
    std::lock_guard lock(mutex_);
    const auto m = in_flight_.find(id);
    if (m == in_flight_.end()) return;
    std::size_t& lane = lane_in_flight_[static_cast<std::size_t>(m->second.second)];
    const auto q = queue_in_flight_.find(m->second);
    was_full = q->second >= options_.tenant_in_flight_max || lane >= options_.in_flight_max;
    --lane;
    if (--q->second == 0) queue_in_flight_.erase(q);
    in_flight_.erase(m);
    if (reading_) done_during_read_.insert(id);
    if (was_full) woken_ = true;
  }
  if (was_full) wake_.notify_all();
}

namespace {

// A failed attempt, on the transport's thread: warn, naming the message and the request that
// caused it (the target is not logged: a callback URL may carry the partner's credentials).
// One line a second at most: while a partner's endpoint is down every retry of every message
// fails alike.
void log_failed_attempt(const MessageLog& about, std::int64_t id, const Delivery& d) {
  if (!d.attempted || d.accepted) return;
  static LogLimit failures;
  const std::int64_t held = failures.admit();
  if (held < 0) return;
  log::Context context{.request_id = about.request_id, .tenant = about.tenant};
  const log::Scope scope(context);
  spdlog::warn("outbox: message {} ({}) not delivered: {} ({} more not logged)", id, about.event_id,
               d.http_status != 0 ? "HTTP " + std::to_string(d.http_status) : d.error, held);
}

}  // namespace

void Dispatcher::deliver(OutboxMessage message) {
  const std::int64_t id = message.id;
  const std::int64_t at_ms = clock_.now_ms();
  // The lines logged about the message name its tenant and the request that caused it.
  MessageLog about{message.tenant, message.event_id, message.request_id};
  log::Context context{.request_id = about.request_id, .tenant = about.tenant};
  const log::Scope scope(context);
  if (message.sealed) {
    std::optional<std::string> body;
    try {
      if (opener_) body = opener_(message);
    } catch (const std::exception&) {
      body.reset();
    }
    if (!body) {
      // Another vault key, or a damaged row: no attempt will ever do better.
      static LogLimit unopened;
      if (const std::int64_t held = unopened.admit(); held >= 0) {
        spdlog::error(
            "outbox: message {} ({}) is sealed and does not open with this vault: abandoned ({} "
            "more "
            "not logged)",
            id, message.event_id, held);
      }
      return record(id, {0, true, "the sealed body does not open with this vault", 0, false, true},
                    at_ms);
    }
    message.body = std::move(*body);
  }
  transport_.post({.tenant = std::move(message.tenant),
                   .target = std::move(message.target),
                   .body = std::move(message.body),
                   .request_id = std::move(message.request_id)},
                  // A copy: `context` above still points into `about` while this is posted.
                  [this, id, at_ms, about](Delivery d) {
                    log_failed_attempt(about, id, d);
                    record(id, std::move(d), at_ms);
                  });
}

// Commits the attempt's outcome. The message leaves the in-flight set only once that is
// durable (or failed), so it is not sent twice at once.
void Dispatcher::record(std::int64_t id, Delivery delivery, std::int64_t at_ms) {
  struct Input {
    std::int64_t id, at_ms;
    Delivery delivery;
  };
  auto release = [this, id] { end_flight(id); };
  if (!delivery.attempted) return release();
  auto job = engine::make_job<std::optional<Recorded>>(
      Input{id, at_ms, std::move(delivery)}, [](const Input&, store::Footprint&) {},
      [this](const Input& in, store::WriteTxn& txn,
             std::int64_t now_ms) -> std::optional<Recorded> {
        auto m = txn.find_outbox(in.id);
        if (!m || m->state != OutboxState::kPending) return std::nullopt;
        m->attempts += 1;
        txn.insert_outbox_attempt({m->id, m->attempts, in.at_ms, in.delivery.duration_ms,
                                   in.delivery.http_status, in.delivery.error});
        m->updated_ms = now_ms;
        if (in.delivery.accepted) {
          m->state = OutboxState::kDelivered;
          m->last_result = in.delivery.http_status == 200 ? "HTTP 200" : "accepted";
        } else {
          m->last_result = in.delivery.http_status
                               ? "HTTP " + std::to_string(in.delivery.http_status)
                               : in.delivery.error;
          const std::int64_t next =
              in.delivery.hopeless ? 0 : next_attempt_ms(options_, *m, now_ms);
          if (next == 0) {
            m->state = OutboxState::kAbandoned;
          } else {
            m->next_attempt_ms = next;
          }
        }
        if (m->state != OutboxState::kPending && store::body_is_secret(*m)) {
          m->body.clear();  // a code is kept only as long as it may still be sent
        }
        txn.update_outbox(*m);
        return Recorded{store::outbox_lane(m->target), m->state};
      },
      [this, release](std::optional<Recorded> recorded, const store::Status& status) {
        if (status.ok && recorded) {
          attempts_.add(static_cast<std::size_t>(recorded->lane) * 3 +
                        static_cast<std::size_t>(recorded->state));
        }
        release();
      });
  if (!committer_.submit(std::move(job))) release();
}

void Dispatcher::write_metrics(metrics::Exposition& out) const {
  static constexpr std::string_view kLanes[] = {"http", "sms", "mail"};
  static constexpr std::string_view kOutcomes[] = {"retry", "delivered", "abandoned"};
  out.family("payoutd_outbox_attempts_total", metrics::Type::kCounter,
             "Delivery attempts of outbox messages recorded by this node, by lane (http: partners' "
             "callbacks, sms, mail) and outcome (delivered; retry: failed, tried again later; "
             "abandoned: failed for good).");
  for (std::size_t lane = 0; lane < std::size(kLanes); ++lane) {
    for (std::size_t outcome = 0; outcome < std::size(kOutcomes); ++outcome) {
      out.sample({{"lane", kLanes[lane]}, {"outcome", kOutcomes[outcome]}},
                 attempts_.value(lane * 3 + outcome));
    }
  }
}

}  // namespace payoutd::outbox
