#pragma once
// The HTTPS client of one card-network connector: libcurl's multi interface driven by one thread
// of the client's own (never a thread per request), over a bounded pool of keep-alive connections.
//
// Contract:
// - Only https (unless `plain_http` says otherwise: below). TLS 1.2 at least, the server verified
// against `ca_file` (the system's store when
//   empty), an optional client certificate and key (two-way TLS), optional HTTP Basic
//   credentials. No redirects are followed. The proxy variables of the environment (https_proxy,
//   all_proxy, no_proxy) are ignored: the network is reached directly.
// - At most `connections_max` connections at once (`host_connections_max` to one host), kept
//   alive between requests. Requests beyond them wait inside libcurl for a connection; at most
//   `queue_max` may wait. A request beyond that is refused at once: answered not sent.
// - Deadlines: `connect_timeout_ms` for the TCP connect and the TLS handshake, `timeout_ms` for
//   the whole request from submit() on, the wait for a pooled connection included (a request
//   that waits that long without a connection is answered not sent).
// - Each submitted request gets exactly one callback, on the client's thread (after stop(): on
//   the caller's thread, at once), with an HttpsResponse. The callback must not block: the
//   client's other requests wait for it. It may call submit().
// - A response body longer than `body_bytes_max` is not read further: the request fails (sent).
//
// `sent`: whether any byte of the request may have reached the server. It is false only when the
// client knows no byte was written to a connected socket:
// - the request never left the queue (refused, stopped, or waited out its deadline without a
//   connection);
// - or libcurl failed it with CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT or
//   CURLE_SSL_CONNECT_ERROR (the TLS handshake), or with any error while CURLINFO_REQUEST_SIZE
//   is 0 (e.g. a deadline that passed during the connect),
//   AND libcurl never reached the point of sending the request on a connection, in any attempt.
// The second condition matters because libcurl would re-send a request by itself: when a
// request written on a reused keep-alive connection gets no byte of answer (the server closed or
// reset the connection meanwhile), libcurl's Curl_retry_request sends it again on a fresh
// connection, POST included, and reports only what happened to the last attempt; a first attempt
// the server may have received could then end as CURLE_COULDNT_CONNECT. The client registers
// CURLOPT_PREREQFUNCTION, which libcurl calls in its DO state once per attempt, on a connected
// (TLS-established) connection, just before the request is written. Its first call marks the
// request sent, whatever the final error says; a second call (libcurl's own re-send) is refused,
// so each request is written at most once and answered not completed, sent. The connectors need
// that: a signed request re-sent verbatim repeats its OAuth nonce, which Mastercard refuses with
// a 401 that would read as "refused, not taken" while the first attempt may have been credited
// (found with the Mastercard double: tests/rails/mastercard_send_test.cc).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace payoutd::rails {

// Whether the client may also speak plain http. Only a sandbox's test upstream is reached so (a
// second payoutd, which serves plain HTTP: tests/e2e/test_bereke_upstream_rail.py); the config
// allows an http:// URL only when its `sandbox` is true, so outside the sandbox every connection
// leaves over TLS.
enum class PlainHttp : std::uint8_t { kRefused, kAllowedInSandbox };

struct HttpsClientOptions {
  std::string thread_name = "https";  // at most 15 characters
  PlainHttp plain_http = PlainHttp::kRefused;
  std::string ca_file;           // PEM bundle of the CAs the server's certificate chains to
  std::string client_cert_file;  // PEM; empty: no client certificate
  std::string client_key_file;   // PEM, its key
  std::string basic_user, basic_password;  // empty user: no HTTP Basic
  int connections_max = 8;
  int host_connections_max = 8;
  int queue_max = 256;  // requests waiting for a connection
  std::int64_t connect_timeout_ms = 5000;
  std::int64_t timeout_ms = 60000;
  std::size_t body_bytes_max = 256 * 1024;
  std::string user_agent = "payoutd-rails/1";
};

struct HttpsRequest {
  std::string method = "GET";        // GET or POST
  std::string url;                   // https://host[:port]/path?query (http:// when allowed)
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // POST: the exact bytes sent
  // Response headers the caller wants back (names compared without regard to case).
  std::vector<std::string> response_headers;
};

struct HttpsResponse {
  bool completed = false;  // a whole HTTP response arrived (any status)
  bool sent = true;        // any byte of the request may have reached the server (above)
  int status = 0;          // completed: the HTTP status
  std::string body;        // completed: the body
  std::vector<std::pair<std::string, std::string>> headers;  // the ones asked for, as received
  std::string error;             // not completed: why (libcurl's words, or the client's)
  std::int64_t duration_ms = 0;  // from submit() to the answer
};
using HttpsCallback = std::function<void(HttpsResponse)>;

class HttpsClient {
 public:
  explicit HttpsClient(HttpsClientOptions options);
  ~HttpsClient();  // stop()
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // Thread-safe. The callback runs exactly once (see the contract above).
  void submit(HttpsRequest request, HttpsCallback done);

  // Runs `task` on the client's thread, after the answers being delivered now (for a connector's
  // answers that need no request, such as a refusal while its circuit is open). After stop(): at
  // once, on the caller's thread. Thread-safe.
  void post(std::function<void()> task);

  // Answers every request still waiting or running (not completed; `sent` as above) and stops
  // the thread. Later submits are answered at once, not sent. Idempotent.
  void stop();

  // Requests submitted and not answered yet (for tests and stats).
  int pending() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace payoutd::rails
