#include "metrics/exporter.h"

#include <pthread.h>

#include <array>
#include <utility>

#include "metrics/process.h"
#include "rails/rail_stats.h"

namespace payoutd::metrics {
namespace {

void write_committer(Exposition& out, const engine::Committer& committer) {
  const engine::CommitterStats stats = committer.stats();
  const engine::CommitterHistograms& h = committer.histograms();
  auto counter = [&](std::string_view name, std::string_view help, std::uint64_t value) {
    out.family(name, Type::kCounter, help);
    out.sample({}, static_cast<std::int64_t>(value));
  };
  counter("payoutd_commit_batches_total",
          "Group-commit batches the committer ran (one store transaction each).", stats.batches);
  counter("payoutd_commit_batches_failed_total",
          "Batches whose commit failed: each of their requests was answered as retryable, "
          "nothing of them happened.",
          stats.failed_batches);
  counter("payoutd_commit_batch_reruns_total",
          "Batch runs rolled back because another node's batch wrote the same rows (PostgreSQL), "
          "then run again.",
          stats.conflicts);
  counter("payoutd_commit_jobs_total", "Commands applied by the committer's batches.", stats.jobs);
  out.family("payoutd_commit_batch_jobs", Type::kHistogram, "Commands per group-commit batch.");
  out.histogram({}, h.batch_jobs.snapshot(0), h.batch_jobs.bounds());
  out.family("payoutd_commit_duration_seconds", Type::kHistogram,
             "Time of a batch from its first command until its COMMIT returned (reruns included).");
  out.histogram({}, h.commit_us.snapshot(0), h.commit_us.bounds(), Scale::kMicro);
  out.family("payoutd_fsync_duration_seconds", Type::kHistogram,
             "Time of one durability barrier (SQLite: fdatasync of the log) covering one or more "
             "batches; no answer leaves before the barrier that covers it.");
  out.histogram({}, h.sync_us.snapshot(0), h.sync_us.bounds(), Scale::kMicro);
  out.family("payoutd_committer_queue_jobs", Type::kGauge,
             "Commands waiting for the committer's next batch (beyond engine.queue_jobs_max "
             "requests are refused with 503).");
  out.sample({}, static_cast<std::int64_t>(committer.queue_depth()));
}

// The card networks' connectors' own counters (rails/rail_stats.h): rails without them (the
// sandbox's simulated network) have no series.
void write_rails(Exposition& out, const rails::RailSet& set) {
  static constexpr std::array<std::string_view, rails::kOutcomes> kOutcomeNames{
      "approved", "declined", "processing", "unknown", "not_found", "not_sent"};
  std::vector<std::pair<std::string_view, rails::RailCallStatsSnapshot>> rails;
  for (const rails::CardRail* rail : set.rails()) {
    rails::RailCallStatsSnapshot s;
    if (rail->call_stats(&s)) rails.emplace_back(rail->name(), s);
  }
  out.family("payoutd_rail_calls_total", Type::kCounter,
             "Calls to card networks, by rail, call (credit, status) and outcome (not_sent: "
             "certainly never reached the network, e.g. the circuit was open).");
  for (const auto& [name, s] : rails) {
    for (std::size_t o = 0; o < rails::kOutcomes; ++o) {
      out.sample({{"rail", name}, {"call", "credit"}, {"outcome", kOutcomeNames[o]}}, s.credits[o]);
      out.sample({{"rail", name}, {"call", "status"}, {"outcome", kOutcomeNames[o]}},
                 s.statuses[o]);
    }
  }
  const std::vector<std::int64_t> bounds(rails::kLatencyBucketsMs.begin(),
                                         rails::kLatencyBucketsMs.end());
  out.family("payoutd_rail_call_duration_seconds", Type::kHistogram,
             "Time of card network calls that left (credits and status queries), by rail.");
  for (const auto& [name, s] : rails) {
    Histograms::Snapshot h;
    std::int64_t running = 0;
    for (const std::int64_t n : s.latency) h.cumulative.push_back(running += n);
    h.sum = s.latency_ms_total;
    out.histogram({{"rail", name}}, h, bounds, Scale::kMilli);
  }
  out.family("payoutd_rail_breaker_opened_total", Type::kCounter,
             "Times a rail's circuit breaker opened (its network failing: sends are held back).");
  for (const auto& [name, s] : rails) out.sample({{"rail", name}}, s.breaker_opened);
}

void write_pool(Exposition& out, const store::Store& store) {
  const store::PoolStats pool = store.pool_stats();
  out.family("payoutd_postgres_pool_waits_total", Type::kCounter,
             "Reads that found every PostgreSQL read connection busy and waited for one (0 on "
             "SQLite).");
  out.sample({}, pool.waits);
  out.family("payoutd_postgres_pool_wait_seconds_total", Type::kCounter,
             "Time those reads waited, in all.");
  out.sample({}, pool.wait_us_total, Scale::kMicro);
  out.family("payoutd_postgres_pool_timeouts_total", Type::kCounter,
             "Reads that got no PostgreSQL connection within storage.postgres_pool_wait_ms and "
             "failed (answered as retryable).");
  out.sample({}, pool.timeouts);
}

http::ServerOptions listener_options(const http::ServerOptions& listen) {
  http::ServerOptions o;
  o.host = listen.host;
  o.port = listen.port;
  o.io_threads = 1;
  o.body_limit_bytes = 1024;
  o.header_limit_bytes = std::size_t{8} * 1024;
  o.connections_max = kListenerConnectionsMax;
  o.idle_timeout_s = 60;
  o.read_timeout_s = 10;
  o.write_timeout_s = 10;
  o.drain_timeout_s = 5;
  o.handle_signals = false;
  return o;
}

}  // namespace

Exporter::Exporter(Sources sources, const http::ServerOptions& listen, BacklogOptions backlog)
    : sources_(sources),
      backlog_(sources.store, sources.clock, backlog),
      server_(std::make_unique<http::Server>(
          listener_options(listen),
          [this](http::Request&& request, const http::Responder& respond) {
            answer(request, respond);
          })) {}

Exporter::~Exporter() { stop(); }

std::string Exporter::scrape() {
  std::string text;
  Exposition out(text);
  sources_.http.write(out);
  sources_.payouts.write(out);
  write_committer(out, sources_.committer);
  sources_.outbox.write_metrics(out);
  backlog_.write(out);
  write_rails(out, sources_.rails);
  write_pool(out, sources_.store);
  write_process(out);
  if (sources_.tenants) sources_.tenants->expose(out);
  return text;
}

void Exporter::answer(const http::Request& request, const http::Responder& respond) {
  http::Response r;
  if (request.problem != http::RequestProblem::kNone || request.method != "GET" ||
      request.path() != "/metrics") {
    r.status = 404;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "not found: GET /metrics\n";
    return respond(std::move(r));
  }
  r.content_type = std::string(kContentType);
  r.body = scrape();
  respond(std::move(r));
}

std::uint16_t Exporter::listen() { return port_ = server_->listen(); }

void Exporter::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "metrics");
    server_->run(nullptr);
  });
}

void Exporter::stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace payoutd::metrics
