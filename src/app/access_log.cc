#include "app/access_log.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "core/ids.h"
#include "core/log_context.h"

namespace payoutd::app {
namespace {

// An access line shows at most this much of a path (the header limit allows far more).
constexpr std::size_t kLoggedPathCharsMax = 1024;
// And of a method (what a malformed request held of one).
constexpr std::size_t kLoggedMethodCharsMax = 32;

constexpr std::string_view kRequestIdHeader = "X-Request-Id";

// One request, from its handler's call to its access line: shared by the handler's scope, its
// responder (any thread) and the answer's rendering (the connection's I/O thread). The context
// is written only on the I/O thread (while the handler runs, then the access line); the
// responder reads only the id, fixed before the handler runs.
struct Exchange {
  std::string request_id;
  log::Context context;
  std::string method, path;  // with the access line only
  std::chrono::steady_clock::time_point started;
};

void log_access(Exchange& e, int status) {
  const auto latency = std::chrono::steady_clock::now() - e.started;
  e.context.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
  e.context.status = status;
  e.context.method = e.method;
  e.context.path = e.path;
  const log::Scope scope(e.context);
  spdlog::info("{} {} {} {}.{:03} ms", e.method, e.path, status, e.context.latency_us / 1000,
               e.context.latency_us % 1000);
}

// The answer carries the id back; with the access line, its rendering on the I/O thread logs it.
http::Response finish(http::Response response, const std::shared_ptr<Exchange>& exchange,
                      AccessLog access) {
  response.headers.emplace_back(kRequestIdHeader, exchange->request_id);
  if (access == AccessLog::kOn) {
    response.render_body = [exchange, status = response.status,
                            render = std::move(response.render_body)](std::string& body) {
      if (render) render(body);
      log_access(*exchange, status);
    };
  }
  return response;
}

}  // namespace

http::Handler with_request_log(http::Handler inner, AccessLog access) {
  return [inner = std::move(inner), access](http::Request&& request, http::Responder respond) {
    auto exchange = std::make_shared<Exchange>();
    if (!is_request_id(request.request_id)) request.request_id = new_request_id();
    exchange->request_id = request.request_id;
    exchange->context.request_id = exchange->request_id;
    if (access == AccessLog::kOn) {
      exchange->method = request.method.substr(0, kLoggedMethodCharsMax);
      exchange->path = request.path().substr(0, kLoggedPathCharsMax);
      exchange->started = std::chrono::steady_clock::now();
    }
    const log::Scope scope(exchange->context);
    inner(std::move(request),
          [exchange, access, respond = std::move(respond)](http::Response response) {
            respond(finish(std::move(response), exchange, access));
          });
  };
}

}  // namespace payoutd::app
