#include "rails/connector.h"

#include <utility>

namespace payoutd::rails {

Connector::Connector(ConnectorSettings settings, const Clock& c)
    : name(std::move(settings.name)),
      clock(c),
      breaker(settings.breaker, clock),
      quiet(settings.not_found_after_ms, clock),
      client(std::move(settings.client)) {}

void Connector::answer_now(Call call, AnswerCallback done, Answer a) {
  client.post([this, call, done = std::move(done), a = std::move(a)]() mutable {
    stats.count(call, a.outcome, -1);
    done(std::move(a));
  });
}

void Connector::finish(Call call, AnswerCallback& done, Answer a, const HttpsResponse& r) {
  stats.count(call, a.outcome, r.duration_ms);
  done(std::move(a));
}

NetworkRail::NetworkRail(std::unique_ptr<Connector> connector) : connector_(std::move(connector)) {}

NetworkRail::~NetworkRail() { stop(); }

std::string_view NetworkRail::name() const { return connector_->name; }

void NetworkRail::credit(CreditOrder order, AnswerCallback done) {
  connector_->credit(std::move(order), std::move(done));
}

void NetworkRail::status(std::string reference, Program program, AnswerCallback done) {
  connector_->status(std::move(reference), program, std::move(done));
}

void NetworkRail::stop() {
  connector_->stopping = true;
  connector_->client.stop();
}

RailCallStatsSnapshot NetworkRail::stats() const {
  RailCallStatsSnapshot s = connector_->stats.snapshot();
  s.breaker_opened = connector_->breaker.opened_count();
  return s;
}

bool NetworkRail::call_stats(RailCallStatsSnapshot* out) const {
  *out = stats();
  return true;
}

Breaker::State NetworkRail::breaker_state() const { return connector_->breaker.state(); }

}  // namespace payoutd::rails
