// Fuzz target: the config loader (app::parse_config, what load_config reads from the file).
// An operator writes the config, but a typo must be refused with a message, never crash the
// server at start or leave it running with a value outside its bounds.
// For any bytes:
// - parse_config either gives a Config or throws std::runtime_error (another exception, a crash,
//   a leak or a sanitizer report, e.g. a float-to-integer overflow, is a finding);
// - a Config it gives keeps the bounds the loader promises: server and outbox limits within their
//   ranges, every retry wait positive and at most a day.
#include "app/config.h"
#include "check.h"

#include <stdexcept>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  unsetenv("PAYOUTD_VAULT_KEK");  // the input alone decides
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  payoutd::app::Config config;
  try {
    config = payoutd::app::parse_config(payoutd::fuzz::text_of(data, size), "/fuzz/config.toml");
  } catch (const std::runtime_error&) {
    return 0;
  }
  FUZZ_CHECK(config.server.io_threads >= 1 && config.server.io_threads <= 64);
  FUZZ_CHECK(config.server.body_limit_bytes >= 1024);
  FUZZ_CHECK(config.storage_backend == "sqlite" || config.storage_backend == "postgres");
  FUZZ_CHECK(config.callbacks.threads >= 1 && config.callbacks.threads <= 64);
  for (const std::int64_t wait_ms : config.dispatch.retry_ms) {
    FUZZ_CHECK(wait_ms > 0 && wait_ms <= 86'400'000);
  }
  FUZZ_CHECK(!config.rails.empty());
  for (const payoutd::app::RailConfig& rail : config.rails) {
    FUZZ_CHECK(!rail.name.empty() && rail.name.size() <= 32);
    if (rail.kind == "sandbox") FUZZ_CHECK(rail.sandbox.latency_ms < rail.sandbox.timeout_ms);
  }
  return 0;
}
