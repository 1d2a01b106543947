#pragma once
// GET /readyz: whether a load balancer should send this node traffic (GET /healthz says only
// that the process lives). Ready when every check passes:
// - "store": the store answers a key lookup (its own limits bound the wait: on PostgreSQL
//   storage.postgres_pool_wait_ms for a connection and postgres_statement_timeout_ms for the
//   query, a connect failing at once during postgres_reconnect_backoff_ms);
// - "schema": the database is at the schema version this build migrated it to (not a newer one
//   another node's upgrade left behind);
// - "vault": the card vault is open, when the node pays cards;
// - "draining": SIGTERM has not begun the drain.
// 200 {"status":"ready"}, or 503 {"status":"not ready","failing":[the failing checks' names]}.
#include <functional>

#include "cards/vault.h"
#include "http/server.h"
#include "store/store.h"

namespace payoutd::app {

inline constexpr std::string_view kReadinessPath = "/readyz";

struct ReadinessChecks {
  const store::Store* store = nullptr;
  const cards::Vault* vault = nullptr;  // nullptr: the node pays no cards
  std::function<bool()> draining;
};

// Runs the checks (on the calling thread) and answers.
http::Response readiness_response(const ReadinessChecks& checks);

}  // namespace payoutd::app
