#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <cstring>

namespace payoutd::http {
namespace {

// TLS 1.2: ECDHE only (forward secrecy), AEAD only; ECDSA first, AES-GCM before ChaCha20 (the
// client's order decides: a client without AES instructions lists ChaCha20 first).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";
// Sessions the server-side cache keeps (TLS 1.2 session ids); tickets need no memory.
constexpr long kSessionCacheMax = 20'000;
constexpr long kSessionLifetimeS = 3600;
constexpr int kClientChainDepthMax = 8;
// Names the sessions of this server: resumption with client certificates requires one.
constexpr std::string_view kSessionIdContext = "payoutd";
constexpr std::string_view kAlpnHttp11 = "http/1.1";

// OpenSSL's queued errors as one line (emptying the queue).
std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    std::array<char, 256> text{};
    ERR_error_string_n(e, text.data(), text.size());
    out.append(out.empty() ? "" : "; ").append(text.data());
  }
  return out.empty() ? "unknown error" : out;
}

std::string failure(const char* key, const std::string& file, const std::string& why) {
  return "[server.tls] " + std::string(key) + " " + file + ": " + why;
}

// ALPN: http/1.1 when the client offers it; otherwise the handshake fails with
// no_application_protocol (RFC 7301, section 3.2).
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length,
                const unsigned char* offered, unsigned int offered_length, void*) {
  unsigned int i = 0;
  while (i < offered_length) {
    const unsigned int length = offered[i];
    if (i + 1 + length > offered_length) break;
    const std::string_view name(reinterpret_cast<const char*>(offered + i + 1), length);
    if (name == kAlpnHttp11) {
      *out = offered + i + 1;
      *out_length = static_cast<unsigned char>(length);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + length;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

// The handshake goes on whatever the client's certificate: its verification result stays in the
// connection (SSL_get_verify_result) for the dialects to judge.
int accept_any_client_certificate(int, X509_STORE_CTX*) { return 1; }

bool configure_protocols(SSL_CTX* ctx) {
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
         SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1 &&
         SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) == 1 &&
         SSL_CTX_set_ciphersuites(ctx, kTls13Suites) == 1 &&
         SSL_CTX_set1_groups_list(ctx, kGroups) == 1;
}

void configure_resumption(SSL_CTX* ctx) {
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx, kSessionCacheMax);
  SSL_CTX_set_timeout(ctx, kSessionLifetimeS);
  SSL_CTX_set_session_id_context(ctx,
                                 reinterpret_cast<const unsigned char*>(kSessionIdContext.data()),
                                 static_cast<unsigned int>(kSessionIdContext.size()));
}

std::string configure_client_certificates(SSL_CTX* ctx, const std::string& ca_file) {
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    return failure("client_ca_file", ca_file, openssl_errors());
  }
  // The CA names the server sends, so that a client holding several certificates picks one.
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_file.c_str());
  if (!names) return failure("client_ca_file", ca_file, "holds no CA certificate");
  SSL_CTX_set_client_CA_list(ctx, names);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, &accept_any_client_certificate);
  SSL_CTX_set_verify_depth(ctx, kClientChainDepthMax);
  return {};
}

}  // namespace

Result<std::shared_ptr<TlsContext>, std::string> TlsContext::load(const TlsOptions& options) {
  ERR_clear_error();
  std::shared_ptr<TlsContext> tls(new TlsContext());
  SSL_CTX* ctx = tls->context_.native_handle();
  if (!configure_protocols(ctx)) {
    return Failure{"[server.tls]: OpenSSL refused the protocol settings: " + openssl_errors()};
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
    return Failure{failure("cert_file", options.cert_file, openssl_errors())};
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Failure{failure("key_file", options.key_file, openssl_errors())};
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Failure{
        failure("key_file", options.key_file, "is not the key of cert_file " + options.cert_file)};
  }
  configure_resumption(ctx);
  SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, nullptr);
  if (!options.client_ca_file.empty()) {
    if (std::string error = configure_client_certificates(ctx, options.client_ca_file);
        !error.empty()) {
      return Failure{std::move(error)};
    }
    tls->requests_client_certificates_ = true;
  }
  return tls;
}

namespace {

std::string rfc2253_subject(X509* certificate) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return {};
  X509_NAME_print_ex(bio, X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string out(data, length > 0 ? static_cast<std::size_t>(length) : 0);
  BIO_free(bio);
  return out;
}

std::string spki_sha256_base64(X509* certificate) {
  unsigned char* der = nullptr;
  const int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &der);
  if (length <= 0) return {};
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_length = 0;
  const bool ok = EVP_Digest(der, static_cast<std::size_t>(length), digest.data(), &digest_length,
                             EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  if (!ok) return {};
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> text{};
  const int text_length =
      EVP_EncodeBlock(text.data(), digest.data(), static_cast<int>(digest_length));
  return {reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(text_length)};
}

}  // namespace

std::shared_ptr<const ClientCertificate> client_certificate_of(TlsStream& tls) {
  SSL* ssl = tls.stream.native_handle();
  X509* certificate = SSL_get0_peer_certificate(ssl);
  if (!certificate) return nullptr;
  auto out = std::make_shared<ClientCertificate>();
  out->verified =
      tls.context->requests_client_certificates() && SSL_get_verify_result(ssl) == X509_V_OK;
  out->subject = rfc2253_subject(certificate);
  out->spki_sha256 = spki_sha256_base64(certificate);
  return out;
}

}  // namespace payoutd::http
