#include "app/readiness.h"

#include <vector>

#include "core/json.h"
#include "store/migration.h"

namespace payoutd::app {
namespace {

// The names of the checks that fail, in the order readiness.h lists them.
std::vector<std::string_view> failing_checks(const ReadinessChecks& checks) {
  std::vector<std::string_view> failing;
  const store::Read<int> version = checks.store->stored_schema_version();
  if (!version.ok()) {
    failing.push_back("store");  // the store logged why
  } else if (*version != checks.store->schema_version() ||
             *version != store::kSchemaVersionNewest) {
    failing.push_back("schema");
  }
  if (checks.vault && !checks.vault->is_open()) failing.push_back("vault");
  if (checks.draining && checks.draining()) failing.push_back("draining");
  return failing;
}

}  // namespace

http::Response readiness_response(const ReadinessChecks& checks) {
  const std::vector<std::string_view> failing = failing_checks(checks);
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("status").string(failing.empty() ? "ready" : "not ready");
  if (!failing.empty()) {
    r.status = 503;
    w.key("failing").begin_array();
    for (std::string_view name : failing) w.string(name);
    w.end_array();
  }
  w.end_object();
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace payoutd::app
