#include "cards/vault.h"

#include <sodium.h>

#include <stdexcept>
#include <vector>

#include "core/assert.h"
#include "core/hex.h"

namespace payoutd::cards {
namespace {

constexpr std::string_view kSandboxPrefix = "sandbox-only:";
constexpr std::string_view kWrapContext = "payoutd data key v1";
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES] = {'p', 'a', 'y', 'o', 'u', 't', 'd', 'v'};
constexpr std::uint64_t kSealSubkey = 1;
constexpr std::uint64_t kFingerprintSubkey = 2;
constexpr std::uint64_t kMessageSubkey = 3;
constexpr std::uint64_t kCodeSubkey = 4;
constexpr std::uint64_t kCredentialSubkey = 5;
constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

std::string encrypt(const Key& key, std::string_view plain, std::string_view associated) {
  std::vector<unsigned char> out(kNonce + plain.size() + kTag);
  randombytes_buf(out.data(), kNonce);
  unsigned long long size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + kNonce, &size, reinterpret_cast<const unsigned char*>(plain.data()),
      plain.size(), reinterpret_cast<const unsigned char*>(associated.data()), associated.size(),
      nullptr, out.data(), key.data());
  std::string hex = hex_encode({out.data(), kNonce + size});
  sodium_memzero(out.data(), out.size());
  return hex;
}

std::optional<std::string> decrypt(const Key& key, std::string_view sealed,
                                   std::string_view associated) {
  auto bytes = hex_decode(sealed);
  if (!bytes || bytes->size() < kNonce + kTag) return std::nullopt;
  std::string plain(bytes->size() - kNonce - kTag, '\0');
  unsigned long long size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &size, nullptr, bytes->data() + kNonce,
          bytes->size() - kNonce, reinterpret_cast<const unsigned char*>(associated.data()),
          associated.size(), bytes->data(), key.data()) != 0) {
    return std::nullopt;
  }
  plain.resize(size);
  return plain;
}

// tenant, then the card id: both length-prefixed, so no two pairs give the same bytes.
std::string bound_to(std::string_view tenant, std::string_view card_id) {
  std::string ad = std::to_string(tenant.size());
  ad.append(":").append(tenant).append(std::to_string(card_id.size())).append(":").append(card_id);
  return ad;
}

}  // namespace

std::optional<KeyEncryptionKey> parse_key_encryption_key(std::string_view text) {
  KeyEncryptionKey kek;
  if (text.starts_with(kSandboxPrefix)) {
    kek.sandbox_only = true;
    text.remove_prefix(kSandboxPrefix.size());
  }
  auto bytes = hex_decode(text);
  if (!bytes || bytes->size() != kek.key.size()) return std::nullopt;
  std::copy(bytes->begin(), bytes->end(), kek.key.begin());
  sodium_memzero(bytes->data(), bytes->size());
  return kek;
}

Vault::Vault(const Key& kek) : kek_(kek) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

Vault::~Vault() {
  sodium_memzero(kek_.data(), kek_.size());
  sodium_memzero(seal_key_.data(), seal_key_.size());
  sodium_memzero(fingerprint_key_.data(), fingerprint_key_.size());
  sodium_memzero(message_key_.data(), message_key_.size());
  sodium_memzero(code_key_.data(), code_key_.size());
  sodium_memzero(credential_key_.data(), credential_key_.size());
}

std::string Vault::new_wrapped_data_key() const {
  Key data_key;
  randombytes_buf(data_key.data(), data_key.size());
  std::string wrapped = encrypt(
      kek_, std::string_view(reinterpret_cast<const char*>(data_key.data()), data_key.size()),
      kWrapContext);
  sodium_memzero(data_key.data(), data_key.size());
  return wrapped;
}

bool Vault::open(std::string_view wrapped) {
  auto data_key = decrypt(kek_, wrapped, kWrapContext);
  if (!data_key || data_key->size() != crypto_kdf_KEYBYTES) return false;
  const auto* master = reinterpret_cast<const unsigned char*>(data_key->data());
  crypto_kdf_derive_from_key(seal_key_.data(), seal_key_.size(), kSealSubkey, kKdfContext, master);
  crypto_kdf_derive_from_key(fingerprint_key_.data(), fingerprint_key_.size(), kFingerprintSubkey,
                             kKdfContext, master);
  crypto_kdf_derive_from_key(message_key_.data(), message_key_.size(), kMessageSubkey, kKdfContext,
                             master);
  crypto_kdf_derive_from_key(code_key_.data(), code_key_.size(), kCodeSubkey, kKdfContext, master);
  crypto_kdf_derive_from_key(credential_key_.data(), credential_key_.size(), kCredentialSubkey,
                             kKdfContext, master);
  sodium_memzero(data_key->data(), data_key->size());
  open_ = true;
  return true;
}

std::string Vault::seal(std::string_view tenant, std::string_view card_id,
                        std::string_view pan) const {
  PAYOUTD_ASSERT(open_, "the vault is used only once open");
  return encrypt(seal_key_, pan, bound_to(tenant, card_id));
}

std::optional<std::string> Vault::unseal(std::string_view tenant, std::string_view card_id,
                                         std::string_view sealed) const {
  PAYOUTD_ASSERT(open_, "the vault is used only once open");
  return decrypt(seal_key_, sealed, bound_to(tenant, card_id));
}

std::string Vault::fingerprint(std::string_view tenant, std::string_view pan) const {
  PAYOUTD_ASSERT(open_, "the vault is used only once open");
  const std::string input = bound_to(tenant, pan);
  unsigned char hash[32];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), fingerprint_key_.data(), fingerprint_key_.size());
  return hex_encode(hash);
}

std::string Vault::seal_message(std::string_view tenant, std::string_view event_id,
                                std::string_view body) const {
  PAYOUTD_ASSERT(open_, "the vault is used only once open");
  return encrypt(message_key_, body, bound_to(tenant, event_id));
}

std::optional<std::string> Vault::open_message(std::string_view tenant, std::string_view event_id,
                                               std::string_view sealed) const {
  PAYOUTD_ASSERT(open_, "the vault is used only once open");
  return decrypt(message_key_, sealed, bound_to(tenant, event_id));
}

std::string Vault::seal_credential(std::string_view tenant, std::string_view credential_id,
                                   std::string_view secret) const {
  PAYOUTD_ASSERT(open_, "the vault is used only once open");
  return encrypt(credential_key_, secret, bound_to(tenant, credential_id));
}

std::optional<std::string> Vault::open_credential(std::string_view tenant,
                                                  std::string_view credential_id,
                                                  std::string_view sealed) const {
  PAYOUTD_ASSERT(open_, "the vault is used only once open");
  return decrypt(credential_key_, sealed, bound_to(tenant, credential_id));
}

std::string Vault::code_mac(std::string_view scope, std::string_view code) const {
  PAYOUTD_ASSERT(open_, "the vault is used only once open");
  static_assert(crypto_auth_hmacsha256_KEYBYTES == std::tuple_size_v<Key>);
  const std::string input = bound_to(scope, code);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                         code_key_.data());
  return hex_encode(mac);
}

}  // namespace payoutd::cards
