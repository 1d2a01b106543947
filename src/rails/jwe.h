#pragma once
// JSON Web Encryption in compact serialization with RSA-OAEP-256 key wrapping and A128GCM content
// encryption (RFC 7516, RFC 7518 §4.3 and §5.3): what Visa's Message Level Encryption uses
// (docs/rails.md, Visa Direct). OpenSSL underneath; any thread.
//
// Contract:
// - seal() makes a fresh 128-bit content key and a 96-bit IV for every message, wraps the key
//   for the recipient's RSA public key (OAEP, SHA-256 and MGF1-SHA-256), and authenticates the
//   protected header as the AAD. The header is {"alg":"RSA-OAEP-256","enc":"A128GCM","kid":…,
//   "iat":…} with `iat` in milliseconds, as Visa's samples write it.
// - open() accepts only that algorithm pair; any other header, a tampered part or the wrong key
//   is a failure (nullopt with `error` set), never a partial plaintext.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace payoutd::rails {

class JweKey {
 public:
  // The recipient's public key from a PEM certificate or public key (Visa's MLE server
  // certificate); nullptr with `error` set when the file holds neither.
  static std::unique_ptr<JweKey> public_from_pem_file(const std::string& path, std::string* error);
  // Our own private key (PEM), which opens what is sealed to us.
  static std::unique_ptr<JweKey> private_from_pem_file(const std::string& path, std::string* error);
  ~JweKey();
  JweKey(const JweKey&) = delete;
  JweKey& operator=(const JweKey&) = delete;

  struct Impl;

 private:
  explicit JweKey(std::unique_ptr<Impl> impl);
  friend std::optional<std::string> jwe_seal(std::string_view, const JweKey&, std::string_view,
                                             std::int64_t, std::string*);
  friend std::optional<std::string> jwe_open(std::string_view, const JweKey&, std::string*);
  std::unique_ptr<Impl> impl_;
};

// `plaintext` sealed to `recipient` (a public key), with `kid` and `iat_ms` in the header.
std::optional<std::string> jwe_seal(std::string_view plaintext, const JweKey& recipient,
                                    std::string_view kid, std::int64_t iat_ms, std::string* error);
// The plaintext of a compact JWE sealed to `own` (a private key).
std::optional<std::string> jwe_open(std::string_view compact, const JweKey& own,
                                    std::string* error);

}  // namespace payoutd::rails
