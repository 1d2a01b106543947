#pragma once
// Client certificates (mutual TLS): what a connection's certificate was, and which certificates a
// tenant or the admin API accepts. The HTTP layer fills a ClientCertificate once per TLS
// connection (http/tls.h); every dialect asks its tenant's policy through admits(), so the rule
// lives here once.
//
// Contract:
// - A certificate is "verified" when the client presented one and it chains to the server's
//   [server.tls] client_ca_file (OpenSSL's verification, at the handshake). A handshake never
//   fails for a missing or bad certificate: the outcome is recorded, and each dialect refuses
//   with its own authentication error.
// - subject is the certificate's subject DN in RFC 2253 form, as
//   `openssl x509 -noout -subject -nameopt RFC2253` prints it (without "subject=").
// - spki_sha256 is the SHA-256 of the DER SubjectPublicKeyInfo, in standard base64 with padding
//   (44 characters): the pin form of HPKP, curl's --pinnedpubkey sha256// and Chromium's
//   --ignore-certificate-errors-spki-list. `openssl x509 -pubkey -noout | openssl pkey -pubin
//   -outform der | openssl dgst -sha256 -binary | base64` prints it.
#include <string>
#include <string_view>
#include <vector>

namespace payoutd {

struct ClientCertificate {
  bool verified = false;  // chains to client_ca_file
  std::string subject;    // RFC 2253
  std::string spki_sha256;
};

// Which certificates may call for one tenant (or the admin API). Empty: credentials alone.
struct ClientCertificatePolicy {
  std::vector<std::string> subjects;     // exact RFC 2253 subjects
  std::vector<std::string> spki_sha256;  // base64 pins

  bool empty() const { return subjects.empty() && spki_sha256.empty(); }
  // True when the policy is empty, or `certificate` (null: none presented, or a plain
  // connection) is verified and its subject or its key's pin is listed.
  bool admits(const ClientCertificate* certificate) const;
};

// Whether `text` has the form of a pin: 44 characters of base64 encoding 32 bytes.
bool is_spki_pin(std::string_view text);

}  // namespace payoutd
