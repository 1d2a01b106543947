// A connection's PROXY protocol header (Session, declared in server_impl.h; the parser is
// http/proxy_protocol.h): read first, before any request, on a `server.proxy_protocol` listener.
#include <spdlog/spdlog.h>

#include "core/log_limit.h"
#include "http/server_impl.h"

namespace payoutd::http {
namespace {

// One line a second at most: a scan of the port, or a misconfigured proxy, would flood the log.
LogLimit& refusal_log() {
  static LogLimit limit;
  return limit;
}

}  // namespace

void Session::refuse_untrusted_peer() {
  if (const std::int64_t held = refusal_log().admit(); held >= 0) {
    spdlog::warn(
        "closed a connection from {}: not in server.trusted_proxies, and this listener takes "
        "only connections that begin with a PROXY header ({} more not logged)",
        origin_.peer(), held);
  }
  close();
}

void Session::read_proxy_header() {
  // One deadline for the whole header, from the connection's start: a proxy sends it at once.
  if (phase_ != Phase::kReading) enter(Phase::kReading);
  const ProxyHeader header = parse_proxy_header(reader_.buffered());
  if (header.step == ProxyHeaderStep::kHeader) {
    // What followed the header stays buffered: the first request's beginning.
    reader_.consume(header.length);
    origin_.proxied(header);
    return serve();
  }
  if (header.step == ProxyHeaderStep::kInvalid) {
    if (const std::int64_t held = refusal_log().admit(); held >= 0) {
      spdlog::warn(
          "closed a connection from {}: server.proxy_protocol is on and it did not begin with a "
          "valid PROXY header ({} more not logged)",
          origin_.peer(), held);
    }
    return close();
  }
  socket_.async_read_some(reader_.prepare(),
                          [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                            if (ec) return self->close();  // closed before its header, reset, ...
                            self->reader_.commit(bytes);
                            self->read_proxy_header();
                          });
}

}  // namespace payoutd::http
