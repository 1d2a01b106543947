#pragma once
// HTTP/1.1 server (Boost.Beast over Asio): keep-alive, bounded header and body sizes, strict
// message framing, a deadline on every read and write, a cap on open connections, graceful drain
// on SIGTERM/SIGINT. It listens in plain HTTP, over TLS (http/tls.h), or both: every listener
// shares the threads, the connection cap, the deadlines and the drain. SIGHUP reloads the TLS
// files for new connections. Requests are handed to one Handler; the handler answers through a
// Responder, possibly later and from another thread (the committer answers only after a payout
// is durable). Beast and Asio's ssl are included only by http/'s own sources (server_impl.h,
// request_reader.h, tls.h).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/client_certificate.h"
#include "http/client_address.h"

namespace payoutd::http {

enum class RequestProblem : std::uint8_t {
  kNone,
  kBodyTooLarge,    // body over ServerOptions::body_limit_bytes; the body was not read
  kHeaderTooLarge,  // header section over header_limit_bytes
  kMalformed,       // not parseable HTTP/1.x, or framed ambiguously (see parse_request); target
                    // may be empty
};

struct Request {
  std::string method;  // as sent, e.g. "PUT"
  std::string target;  // request-target as sent: path and optional query
  std::string authorization;
  std::string cookie;           // the Cookie header, as sent (the cabinet's session)
  std::string origin, host;     // the Origin and Host headers (the cabinet's same-origin check)
  std::string accept_language;  // its field lines joined by ", " (web/language.h reads it)
  std::string content_type;     // the Content-Type header, as sent (a page's form body)
  std::string request_id;       // the X-Request-Id header, as sent (app/access_log.h checks it)
  std::string body;
  // The client's IP address (allowlists, throttles, audit logs): the TCP peer's, or the one a
  // trusted proxy names (ServerOptions::client_address, http/client_address.h).
  std::string peer_address;
  // The forwarding header ServerOptions::client_address names, its field lines joined by ", ";
  // read only when that header is (ClientAddressOptions::reads_forwarded_header).
  std::string forwarded;
  bool over_tls = false;  // arrived on the TLS listener
  // The certificate the client presented at the TLS handshake (verified or not); null when none
  // or over plain HTTP. Shared by every request of the connection.
  std::shared_ptr<const ClientCertificate> client_certificate;
  RequestProblem problem = RequestProblem::kNone;

  std::string_view path() const;
  std::string_view query() const;  // without '?'; empty if none (http/query.h reads it)
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

// The TLS listener ([server.tls]). The files are PEM; they are read at listen() and again on
// every reload().
struct TlsOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;   // 0 picks a free port
  std::string cert_file;       // the certificate chain, the server's own first
  std::string key_file;        // its private key
  std::string client_ca_file;  // CAs of client certificates; empty: none is asked for
};

// Told of every request the handler answers (metrics). Both calls run on the connection's I/O
// thread, for every request of every connection: they must not block, and should not allocate.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  // When the request is whole, before the handler has it: a number of the observer's (its
  // route), kept with the connection and handed back to answered().
  virtual std::uint32_t classify(const Request& request) = 0;
  // When its answer is about to be written: the status, and the time since the request was whole.
  virtual void answered(std::uint32_t route, int status, std::int64_t handling_ns) = 0;
};

struct ServerOptions {
  bool plain = true;  // listens in plain HTTP on host:port
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 picks a free port
  std::optional<TlsOptions> tls;
  int io_threads = 1;
  std::size_t body_limit_bytes = 64 * 1024;
  std::size_t header_limit_bytes = 16 * 1024;
  // Client connections open at once. A new connection beyond it closes the connection that has
  // waited longest for its next request; when none waits, it is answered 503 and closed. Must
  // stay below the process's descriptor limit (app::Config derives it from that limit).
  std::size_t connections_max = 1024;
  // Deadlines. None applies while the handler holds a request (the engine bounds that wait).
  int idle_timeout_s = 60;   // a keep-alive connection waits this long for its next request
  int read_timeout_s = 10;   // a request arrives whole within this of its first byte; so does
                             // a TLS handshake from the connection's accept
  int write_timeout_s = 60;  // an answer is written whole within this; else the connection is reset
  int drain_timeout_s = 30;  // how long SIGTERM waits for requests in flight
  // Whether run() drains on SIGTERM/SIGINT. One server of a process owns the signals; another
  // (the metrics listener) leaves them alone and is ended by stop().
  bool handle_signals = true;
  RequestObserver* observer = nullptr;  // outlives the server; nullptr: none
  // Behind proxies: whose word about the client is taken, and how it is given.
  ClientAddressOptions client_address;
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on every listener, and loads the TLS files. Returns the plain listener's
  // bound port (the TLS listener's when there is no plain one). Throws std::runtime_error on
  // failure, naming the TLS file at fault.
  std::uint16_t listen();
  // After listen(): the TLS listener's bound port; 0 without one.
  std::uint16_t tls_port() const;
  // SIGHUP reads the TLS files again for the connections accepted from then on; a connection
  // keeps the certificate it was accepted with. A file that cannot be read or does not fit leaves
  // the current certificate in use, and is logged. Then it runs the hooks added here (other work
  // a reload does), on the first I/O thread, in the order added. Before run(). Only a server
  // that handles signals (ServerOptions::handle_signals) reloads.
  void on_reload(std::function<void()> hook);
  // Serves until SIGTERM/SIGINT (when it handles signals) or stop(): then stops accepting, lets
  // every request in flight be answered (up to drain_timeout_s), calls `on_drained`, and returns.
  // A server that handles signals leaves SIGTERM and SIGINT ignored when it returns: the process
  // is shutting down, and a second signal during the teardown (a supervisor repeating its
  // SIGTERM) must not kill it before its store is closed, nor turn its exit status into a kill.
  void run(const std::function<void()>& on_drained);
  // Any thread: drains as a signal would (stops accepting, answers what is in flight), and
  // run() returns.
  void stop();
  // Any thread: whether SIGTERM has begun the drain (the node takes no new work: /readyz).
  bool draining() const;

  struct Impl;  // defined in server_impl.h, where Beast lives

 private:
  std::unique_ptr<Impl> impl_;
};

// Parses the request at the start of `bytes` exactly as a connection does: Beast's parser with
// `options`' header and body limits, fed through a read buffer of the same bound, then the same
// framing checks (RFC 9112 section 6): a body is framed by one Content-Length, or by a
// Transfer-Encoding of exactly "chunked" in HTTP/1.1 without Content-Length; anything else
// ("xchunked", "chunked, identity", two Transfer-Encoding lines, obsolete line folding) is
// kMalformed, as is a request cut short by the end of `bytes`. A problem request carries what
// was parsed of its method and target. nullopt when `bytes` is empty (a connection closed before
// sending anything). Bytes after the request are ignored. Pure; any thread. For fuzzing.
std::optional<Request> parse_request(std::string_view bytes, const ServerOptions& options);

// A wait as a Retry-After answer gives it: whole seconds, rounded up; and that header, set.
std::int64_t retry_after_seconds(std::int64_t wait_ms);
void set_retry_after(Response& response, std::int64_t seconds);

}  // namespace payoutd::http
