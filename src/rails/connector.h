#pragma once
// What every network connector (Mastercard Send, Visa Direct, an upstream Bereke bank) shares, so
// each connector's file holds only what its network does differently (docs/rails.md, "Each
// connector has"):
// - Connector: the state beside the network's own (its name, circuit breaker, call counters,
//   quiet period, HTTPS client) and the two ways an answer is delivered and counted. A network's
//   implementation derives from it and provides credit() and status().
// - NetworkRail: the CardRail in front of a Connector: stop() answers the calls in flight (the
//   client's contract), later calls answer kUnknown (the implementation checks `stopping`).
// - connector_settings(): the client's pool, deadlines and CA, the breaker and the quiet period,
//   from a connector's options (every options struct has those fields).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "rails/breaker.h"
#include "rails/https_client.h"
#include "rails/quiet_period.h"
#include "rails/rail.h"
#include "rails/rail_stats.h"

namespace payoutd::rails {

struct ConnectorSettings {
  std::string name;  // the rail's
  BreakerOptions breaker;
  std::int64_t not_found_after_ms = 120000;
  HttpsClientOptions client;
};

template <typename Options>
ConnectorSettings connector_settings(const Options& o, std::string thread_name) {
  ConnectorSettings s;
  s.name = o.name;
  s.breaker = o.breaker;
  s.not_found_after_ms = o.not_found_after_ms;
  s.client.thread_name = std::move(thread_name);
  s.client.ca_file = o.ca_file;
  s.client.connections_max = o.connections_max;
  s.client.host_connections_max = o.connections_max;
  s.client.queue_max = o.queue_max;
  s.client.connect_timeout_ms = o.connect_timeout_ms;
  s.client.timeout_ms = o.timeout_ms;
  return s;
}

class Connector {
 public:
  using Call = RailCallStats::Call;

  Connector(ConnectorSettings settings, const Clock& clock);
  virtual ~Connector() = default;
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  virtual void credit(CreditOrder order, AnswerCallback done) = 0;
  virtual void status(std::string reference, Program program, AnswerCallback done) = 0;

  // An answer of a call that never left (refused at once): delivered on the client's thread,
  // never the caller's, and counted without a latency.
  void answer_now(Call call, AnswerCallback done, Answer a);
  // An answer of a call that left: counted with the response's latency, and delivered.
  void finish(Call call, AnswerCallback& done, Answer a, const HttpsResponse& r);

  const std::string name;
  const Clock& clock;
  Breaker breaker;
  RailCallStats stats;
  QuietPeriod quiet;
  std::atomic<bool> stopping{false};
  HttpsClient client;  // last: stopped and destroyed first, while the rest still stands
};

class NetworkRail : public CardRail {
 public:
  ~NetworkRail() override;  // stop()

  std::string_view name() const override;
  void credit(CreditOrder order, AnswerCallback done) override;
  void status(std::string reference, Program program, AnswerCallback done) override;
  void stop() override;
  bool call_stats(RailCallStatsSnapshot* out) const override;

  RailCallStatsSnapshot stats() const;
  Breaker::State breaker_state() const;

 protected:
  explicit NetworkRail(std::unique_ptr<Connector> connector);

 private:
  std::unique_ptr<Connector> connector_;
};

}  // namespace payoutd::rails
