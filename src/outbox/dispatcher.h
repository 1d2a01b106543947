#pragma once
// The outbox dispatcher: delivers the store's outbox messages (callbacks to partners) at least
// once, until the receiver answers HTTP 200, on a growing schedule, and records every attempt.
//
// A message is written in the same batch as the state change it tells of, so a crash never
// loses one and never sends one for a change that did not commit. Delivery happens off the
// committer, with no lock or transaction held; each attempt's outcome is committed afterwards.
// A crash between sending and recording means the message is sent again: the receiver sees the
// same event identity and the same body (at least once, never two different versions). With
// several nodes, the holder of the `outbox` lease dispatches. A sealed body (a one-time code) is
// opened only to be handed to the transport; the body of a message to a person is erased once
// the message is delivered or abandoned.
//
// Fair between queues (a tenant's messages of one lane: callbacks, SMS, mail): the due read
// deals each queue's earliest messages out in turns, a queue has at most tenant_in_flight_max
// messages in flight, and each lane has threads of its own, shared in turns between tenants. So a
// partner whose receiver hangs delays its own callbacks only, never another tenant's, nor a code.
#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "engine/committer.h"
#include "store/store.h"

namespace payoutd::outbox {

struct Delivery {
  int http_status = 0;    // the receiver's status (HTTP, or SMTP's reply code); 0: no answer
  bool attempted = true;  // false: never sent (the server stopped first): not an attempt
  std::string error;      // why there was no answer (refused, timeout, a forbidden address...)
  std::int64_t duration_ms = 0;
  bool accepted = false;  // the receiver took it (HTTP 200; mail accepted): delivered
  bool hopeless = false;  // it can never be sent (a sealed body that does not open): abandoned now
};

// One message as a transport sends it.
struct Parcel {
  std::string tenant;
  std::string target;  // an http(s) URL, "sms:<phone>" or "mailto:<address>"
  std::string body;
  // The request that caused it (store::OutboxMessage::request_id), or empty: an HTTP transport
  // sends it as X-Request-Id.
  std::string request_id;
};

// Sends one message of `parcel.tenant`'s; `done` runs exactly once, on a thread of the
// transport's. Transports share their threads between tenants in turns, each tenant holding a
// bounded share (outbox/work_pool.h).
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void post(Parcel parcel, std::function<void(Delivery)> done) = 0;
  virtual void stop() = 0;
};

struct DispatcherOptions {
  std::string node_id = "payoutd";
  std::int64_t poll_ms = 1000;  // how often due messages are looked for (and the lease renewed)
  std::int64_t lease_ms = 5000;
  // Messages of one lane (store::OutboxLane: callbacks, SMS, mail) being delivered at once (sent,
  // or waiting for a thread): each lane has its own budget, so callbacks never hold a code back.
  std::size_t in_flight_max = 64;
  // Of them, one tenant's of one lane (a queue): a receiver that hangs holds no more, and the due
  // read takes no more of a queue, so the other queues keep moving. The config keeps
  // in_flight_max at least (threads / tenant_threads_max + 1) times this: even with every thread
  // of the lane held by hanging receivers, another tenant's message still has room in flight.
  std::size_t tenant_in_flight_max = 4;
  // Waits after the 1st, 2nd, ... failed attempt; the last repeats. Then the message is
  // abandoned once it is older than give_up_after_ms.
  std::vector<std::int64_t> retry_ms{10'000,    30'000,    60'000,    300'000,    900'000,
                                     1'800'000, 3'600'000, 7'200'000, 14'400'000, 28'800'000};
  std::int64_t give_up_after_ms = 3 * 86'400'000;
};

// When the attempt after `attempts` failed ones is due, or 0 when the message is to be abandoned.
std::int64_t next_attempt_ms(const DispatcherOptions& options, const store::OutboxMessage& m,
                             std::int64_t now_ms);

// Opens a sealed message's body (OutboxMessage::sealed) to send it; nullopt when it cannot.
using Opener = std::function<std::optional<std::string>(const store::OutboxMessage&)>;

class Dispatcher {
 public:
  Dispatcher(engine::Committer& committer, const store::Store& store, const Clock& clock,
             Transport& transport, DispatcherOptions options = {});
  ~Dispatcher();

  // How sealed bodies are opened (before start()). Without one, a sealed message is never sent:
  // each attempt fails, until it is abandoned.
  void open_sealed_with(Opener opener) { opener_ = std::move(opener); }

  void start();
  void stop();
  // Looks for due messages now (a batch that wrote some calls it once it is durable).
  void wake();
  // payoutd_outbox_attempts_total: the attempts this node recorded, by lane and outcome.
  void write_metrics(metrics::Exposition& out) const;

 private:
  // A tenant's messages of one lane.
  using Queue = std::pair<std::string, store::OutboxLane>;

  void run();
  bool claim_lease();
  bool enter_flight(const store::OutboxMessage& message);
  void end_flight(std::int64_t id);
  void deliver(store::OutboxMessage message);
  void record(std::int64_t id, Delivery delivery, std::int64_t at_ms);
  // An attempt as its batch recorded it: the message's lane, and the state it left it in.
  struct Recorded {
    store::OutboxLane lane;
    store::OutboxState state;
  };

  engine::Committer& committer_;
  const store::Store& store_;
  const Clock& clock_;
  Transport& transport_;
  DispatcherOptions options_;
  Opener opener_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::unordered_map<std::int64_t, Queue> in_flight_;  // message id -> its queue
  std::map<Queue, std::size_t> queue_in_flight_;       // per queue, when not 0
  std::array<std::size_t, 3> lane_in_flight_{};        // per lane (store::OutboxLane)
  bool reading_ = false;                               // a due read's messages are being handed out
  std::unordered_set<std::int64_t> done_during_read_;  // ids released since that read began
  std::thread thread_;
  metrics::Counters attempts_{3 * 3};  // [store::OutboxLane][store::OutboxState]
};

}  // namespace payoutd::outbox
