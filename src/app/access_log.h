#pragma once
// What every request gets, whichever part of payoutd answers it (docs/logging.md):
// - a request id: the client's X-Request-Id when acceptable (core/ids.h, is_request_id), else a
//   new one (32 hex digits); the answer carries it back in X-Request-Id, the handler finds it in
//   Request::request_id (a dialect stores it with the callbacks the request causes);
// - a log context (core/log_context.h) while its handler runs on the I/O thread, so every line
//   logged there names the request, and its dialect can name the tenant and the payout;
// - with `access`, one access line (info) once its answer is ready, on the connection's I/O
//   thread: method, path without the query (a query may hold credentials: Bereke's userName and
//   password), status, latency from the request's arrival at the handler, and the context.
// A rejected X-Request-Id is not logged: it could hold anything, a credential included; the
// client learns the id given instead from the answer.
#include <string_view>

#include "http/server.h"

namespace payoutd::app {

enum class AccessLog : std::uint8_t { kOff, kOn };

http::Handler with_request_log(http::Handler inner, AccessLog access);

}  // namespace payoutd::app
