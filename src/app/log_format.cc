#include "app/log_format.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <ctime>

#include "core/json.h"
#include "core/log_context.h"

namespace payoutd::app {
namespace {

using LogBuffer = spdlog::memory_buf_t;

std::string_view payload_of(const spdlog::details::log_msg& msg) {
  return {msg.payload.data(), msg.payload.size()};
}

// "2026-01-02T07:00:00.123Z". The text up to the seconds is kept per thread and reused while the
// second lasts: most lines of a busy thread fall in the second of the one before.
void append_utc_time(std::string& out, std::chrono::system_clock::time_point time) {
  thread_local std::int64_t cached_second = -1;
  thread_local char cached[24] = {};
  const std::int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::int64_t second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  if (second != cached_second) {
    const std::time_t t = static_cast<std::time_t>(second);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    // 19 characters always fit: a year beyond 9999 would not, and is written as nothing.
    if (std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm) == 0) cached[0] = '\0';
    cached_second = second;
  }
  const int millis = static_cast<int>(ms - second * 1000);
  const char fraction[] = {'.', static_cast<char>('0' + millis / 100),
                           static_cast<char>('0' + millis / 10 % 10),
                           static_cast<char>('0' + millis % 10), 'Z'};
  out.append(cached).append(fraction, sizeof fraction);
}

// Milliseconds with three decimals, from microseconds: "12.345".
std::string latency_ms_text(std::int64_t latency_us) {
  return fmt::format("{}.{:03}", latency_us / 1000, latency_us % 1000);
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, LogBuffer& dest) override {
    thread_local std::string line;
    thread_local std::string time;
    line.clear();
    time.clear();
    append_utc_time(time, msg.time);
    json::Writer w(line);
    w.begin_object();
    w.key("time").string(time);
    const auto level = spdlog::level::to_string_view(msg.level);
    w.key("level").string({level.data(), level.size()});
    w.key("message").string(payload_of(msg));
    if (const log::Context* c = log::current()) write_context(w, *c);
    w.end_object();
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }

 private:
  static void write_context(json::Writer& w, const log::Context& c) {
    if (!c.request_id.empty()) w.key("request_id").string(c.request_id);
    if (!c.provider.empty()) w.key("provider").string(c.provider);
    if (!c.tenant.empty()) w.key("tenant").string(c.tenant);
    if (!c.payout_id.empty()) w.key("payout_id").string(c.payout_id);
    if (c.status == 0) return;
    w.key("method").string(c.method).key("path").string(c.path).key("status").integer(c.status);
    w.key("latency_ms").number_raw(latency_ms_text(c.latency_us));
  }
};

// The text format's context: " request_id=... tenant=... payout_id=..." after the message.
class ContextFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, LogBuffer& dest) override {
    const log::Context* c = log::current();
    if (!c) return;
    append(dest, "request_id", c->request_id);
    append(dest, "tenant", c->tenant);
    append(dest, "payout_id", c->payout_id);
  }

  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<ContextFlag>();
  }

 private:
  static void append(LogBuffer& dest, std::string_view name, std::string_view value) {
    if (value.empty()) return;
    dest.push_back(' ');
    dest.append(name.data(), name.data() + name.size());
    dest.push_back('=');
    // A line is one line: a control character a partner's id might hold is shown as '?'.
    for (char ch : value) dest.push_back(static_cast<unsigned char>(ch) < 0x20 ? '?' : ch);
  }
};

}  // namespace

bool parse_log_format(const std::string& text, LogFormat* format) {
  if (text == "text") {
    *format = LogFormat::kText;
  } else if (text == "json") {
    *format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format) {
  if (format == LogFormat::kJson) return std::make_unique<JsonFormatter>();
  auto text = std::make_unique<spdlog::pattern_formatter>();
  text->add_flag<ContextFlag>('*').set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] %v%*");
  return text;
}

void setup_logging(const LogOptions& options) {
  // A pipeline reads JSON: no terminal colours in it.
  auto logger = options.format == LogFormat::kJson ? spdlog::stderr_logger_mt("payoutd")
                                                   : spdlog::stderr_color_mt("payoutd");
  logger->set_formatter(make_log_formatter(options.format));
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(options.level));
  spdlog::flush_on(spdlog::level::warn);
}

}  // namespace payoutd::app
