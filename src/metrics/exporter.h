#pragma once
// payoutd's metrics in the Prometheus text format, served on a listener of their own
// (`[metrics] listen`): GET /metrics, nothing else (404). The families, their labels and what to
// do when they move are in docs/operations.md.
//
// Life: built by main once the engines run; listen() binds (main prints the address as
// "metrics on http://HOST:PORT/metrics"); start() serves on a thread of its own; stop() (after the
// main server's drain, so the drain can be watched) ends it. The listener is a second http::Server
// that leaves the signals to the main one, holds a few connections at most, and counts nothing
// of its own requests into the HTTP metrics.
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "core/clock.h"
#include "engine/committer.h"
#include "engine/payout_metrics.h"
#include "http/server.h"
#include "metrics/backlog.h"
#include "metrics/http_requests.h"
#include "outbox/dispatcher.h"
#include "rails/rail_set.h"
#include "store/store.h"
#include "tenants/directory.h"

namespace payoutd::metrics {

// What the metrics are read from; each outlives the exporter.
struct Sources {
  const HttpRequests& http;
  const engine::PayoutMetrics& payouts;
  const engine::Committer& committer;
  const outbox::Dispatcher& outbox;
  const rails::RailSet& rails;
  const store::Store& store;
  const Clock& clock;
  const tenants::Directory* tenants = nullptr;  // its old-credential uses, when given
};

// Connections the metrics listener holds at once: scrapers and an operator's curl.
inline constexpr std::size_t kListenerConnectionsMax = 8;

class Exporter {
 public:
  // `listen`: the listener's host and port (its limits are set here).
  Exporter(Sources sources, const http::ServerOptions& listen, BacklogOptions backlog = {});
  ~Exporter();

  // The whole exposition, as GET /metrics answers it.
  std::string scrape();

  // Binds; returns the bound port. Throws std::runtime_error as http::Server::listen.
  std::uint16_t listen();
  std::uint16_t port() const { return port_; }  // once bound
  void start();
  // Any thread, idempotent: stops the listener and joins its thread.
  void stop();

 private:
  void answer(const http::Request& request, const http::Responder& respond);

  Sources sources_;
  BacklogGauges backlog_;
  std::unique_ptr<http::Server> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace payoutd::metrics
