#pragma once
// HTTP/1.1 server (Boost.Beast over Asio): keep-alive, bounded header and body sizes, idle
// timeouts, graceful drain on SIGTERM/SIGINT. Requests are handed to one Handler; the handler
// answers through a Responder, possibly later and from another thread (the committer answers
// only after a payout is durable). Beast is included only by server.cc.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace payoutd::http {

enum class RequestProblem : std::uint8_t {
  kNone,
  kBodyTooLarge,    // body over ServerOptions::body_limit_bytes; the body was not read
  kHeaderTooLarge,  // header section over header_limit_bytes
  kMalformed,       // not parseable HTTP/1.x; target may be empty
};

struct Request {
  std::string method;  // as sent, e.g. "PUT"
  std::string target;  // request-target as sent: path and optional query
  std::string authorization;
  std::string cookie;           // the Cookie header, as sent (the cabinet's session)
  std::string origin, host;     // the Origin and Host headers (the cabinet's same-origin check)
  std::string accept_language;  // the page's language when none was chosen
  std::string body;
  std::string peer_address;  // the TCP peer's IP address (for allowlists by network address)
  RequestProblem problem = RequestProblem::kNone;

  std::string_view path() const;
  std::string_view query() const;  // without '?'; empty if none
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, fills `body` on the connection's I/O thread just before the answer is written, so
  // a thread that completes many requests at once (the engine's syncer) only hands them over.
  std::function<void(std::string& body)> render_body;
};

// Call exactly once, from any thread.
using Responder = std::function<void(Response)>;
using Handler = std::function<void(Request&&, Responder)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 picks a free port
  int io_threads = 1;
  std::size_t body_limit_bytes = 64 * 1024;
  std::size_t header_limit_bytes = 16 * 1024;
  int idle_timeout_s = 60;
  int drain_timeout_s = 30;  // how long SIGTERM waits for requests in flight
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Returns the bound port. Throws std::runtime_error on failure.
  std::uint16_t listen();
  // Serves until SIGTERM/SIGINT: then stops accepting, lets every request in flight be answered
  // (up to drain_timeout_s), calls `on_drained`, and returns.
  void run(const std::function<void()>& on_drained);

  struct Impl;  // defined in server.cc, where Beast lives

 private:
  std::unique_ptr<Impl> impl_;
};

// Percent-decodes a URL component. nullopt on a malformed escape or a decoded NUL byte.
std::optional<std::string> percent_decode(std::string_view text);

// A parameter of an application/x-www-form-urlencoded query, decoded ('+' is a space). A
// parameter given twice, or with a malformed escape, is present but not valid.
struct QueryParam {
  bool present = false;
  bool valid = true;
  std::string value;
};
QueryParam query_param(std::string_view query, std::string_view name);

}  // namespace payoutd::http
