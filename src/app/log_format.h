#pragma once
// How payoutd's log lines look ([log] of the config; docs/logging.md): the human format people
// read in a terminal, or one JSON object per line for a log pipeline. Both carry the fields of
// the thread's log context (core/log_context.h): the request id, the tenant, the payout, and on
// the access line the method, path, status and latency.
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/formatter.h>

namespace payoutd::app {

enum class LogFormat : std::uint8_t {
  kText,  // "[2026-01-02 10:00:00.123] [payoutd] [info] message request_id=... tenant=..."
  kJson,  // {"time":"2026-01-02T07:00:00.123Z","level":"info","message":"...","request_id":...}
};

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error
  LogFormat format = LogFormat::kJson;
  // One line per request (app/access_log.h).
  bool access = true;
};

// "text" or "json"; false for anything else.
bool parse_log_format(const std::string& text, LogFormat* format);

// The formatter of `format`. A JSON line is one object: "time" (RFC 3339, UTC, milliseconds),
// "level", "message", then the context's fields that are set: "request_id", "provider",
// "tenant", "payout_id", and on the access line "method", "path", "status", "latency_ms". Every
// string is escaped (core/json.h's Writer), so a line is valid JSON whatever a message holds.
std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format);

// Makes the process's default logger "payoutd" on standard error, in `options`' format and level.
void setup_logging(const LogOptions& options);

}  // namespace payoutd::app
