#pragma once
// The card vault: PANs encrypted at rest.
//
// Envelope encryption. A random 256-bit data key encrypts every card (XChaCha20-Poly1305, an
// AEAD: a changed byte fails to open instead of decrypting to another number). The data key is
// stored only wrapped, encrypted by the key-encryption key (KEK) that the operator provides from
// the config or the environment, so the database alone never yields a card number; rotating the
// KEK re-wraps one key. Each card's ciphertext is bound to its tenant and card id (associated
// data), so a ciphertext copied onto another record does not open. Cards are found again by a
// keyed hash of the PAN (BLAKE2b under a key derived from the data key): equal PANs of a tenant
// share one card, and the hash is useless without the key.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace payoutd::cards {

using Key = std::array<std::uint8_t, 32>;

// A KEK as configured: 64 hex digits, optionally prefixed "sandbox-only:" (a key published with
// the sandbox, refused outside it). nullopt when malformed.
struct KeyEncryptionKey {
  Key key{};
  bool sandbox_only = false;
};
std::optional<KeyEncryptionKey> parse_key_encryption_key(std::string_view text);

class Vault {
 public:
  explicit Vault(const Key& kek);
  ~Vault();
  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  // A new data key, wrapped under the KEK (hex), for the store.
  std::string new_wrapped_data_key() const;
  // Unwraps the stored data key; false when the KEK does not open it (wrong key, or damaged).
  bool open(std::string_view wrapped);
  bool is_open() const { return open_; }

  // hex(nonce || ciphertext) of the PAN, bound to (tenant, card_id).
  std::string seal(std::string_view tenant, std::string_view card_id, std::string_view pan) const;
  // The PAN, or nullopt when the ciphertext does not open for (tenant, card_id).
  std::optional<std::string> unseal(std::string_view tenant, std::string_view card_id,
                                    std::string_view sealed) const;
  // hex of the keyed hash of (tenant, PAN): the vault's index of cards.
  std::string fingerprint(std::string_view tenant, std::string_view pan) const;

  // The body of an outbox message that carries a secret (a one-time code), sealed as cards are,
  // under a key of its own, bound to (tenant, event id); and opened again to be sent.
  std::string seal_message(std::string_view tenant, std::string_view event_id,
                           std::string_view body) const;
  std::optional<std::string> open_message(std::string_view tenant, std::string_view event_id,
                                          std::string_view sealed) const;

  // A partner's credential that payoutd must use, not only compare (an ecommpay project's signing
  // key: tenants::Storage::kSealed), sealed as cards are under a key of its own, bound to
  // (tenant, credential id): a sealed key copied onto another tenant or credential does not open.
  std::string seal_credential(std::string_view tenant, std::string_view credential_id,
                              std::string_view secret) const;
  std::optional<std::string> open_credential(std::string_view tenant,
                                             std::string_view credential_id,
                                             std::string_view sealed) const;

  // hex of HMAC-SHA-256 of a one-time code under a key of the vault, bound to `scope` (the order
  // or enrolment the code confirms): what is stored of a code. A million codes hashed without a
  // key are a million guesses away from anyone who reads the store; with it, they are not.
  std::string code_mac(std::string_view scope, std::string_view code) const;

 private:
  Key kek_{};
  Key seal_key_{};         // derived from the data key: encrypts cards
  Key fingerprint_key_{};  // derived from the data key: hashes PANs
  Key message_key_{};      // derived from the data key: encrypts messages' secrets
  Key code_key_{};         // derived from the data key: MACs one-time codes
  Key credential_key_{};   // derived from the data key: encrypts partners' signing keys
  bool open_ = false;
};

}  // namespace payoutd::cards
