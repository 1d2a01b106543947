#pragma once
// Internal to http/: TLS on a listener (OpenSSL through Asio). The server's TLS settings as an
// OpenSSL context, and what a handshake learned of the client's certificate. Includes Asio's ssl
// headers; only http/'s own sources include this (session.cc, server.cc, tls.cc).
//
// The context: TLS 1.2 and 1.3 only; for TLS 1.2 only ECDHE key exchange with AEAD ciphers
// (AES-GCM, ChaCha20-Poly1305), TLS 1.3's own suites (all AEAD); ALPN "http/1.1" (a client that
// offers ALPN without it gets the no_application_protocol alert); resumption by session tickets
// and a server-side session cache; no renegotiation, no compression. With client_ca_file the
// server asks for (never requires) a client certificate: the handshake succeeds whatever the
// client sends, and the verification's outcome is recorded (core/client_certificate.h).
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <string>

#include "core/client_certificate.h"
#include "core/result.h"
#include "http/request_reader.h"

namespace payoutd::http {

using tcp = boost::asio::ip::tcp;

// One loaded set of TLS files. Immutable once built: a reload builds a new one, and every
// connection keeps the one it was accepted with.
class TlsContext {
 public:
  // Reads the chain, key and client CA of `options`. The error names the config key and file.
  static Result<std::shared_ptr<TlsContext>, std::string> load(const TlsOptions& options);

  asio::ssl::context& native() { return context_; }
  bool requests_client_certificates() const { return requests_client_certificates_; }

 private:
  TlsContext() : context_(asio::ssl::context::tls_server) {}

  asio::ssl::context context_;
  bool requests_client_certificates_ = false;
};

// A connection's TLS layer over the session's own socket; it holds its context alive.
struct TlsStream {
  TlsStream(tcp::socket& socket, std::shared_ptr<TlsContext> tls_context)
      : context(std::move(tls_context)), stream(socket, context->native()) {}
  std::shared_ptr<TlsContext> context;
  asio::ssl::stream<tcp::socket&> stream;
};

// After a successful handshake: the client's certificate, or null when it sent none.
std::shared_ptr<const ClientCertificate> client_certificate_of(TlsStream& tls);

}  // namespace payoutd::http
