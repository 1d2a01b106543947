#include "tenants/credentials.h"

#include <sodium.h>

#include <cstring>

#include "core/assert.h"
#include "core/hex.h"
#include "core/ids.h"

namespace payoutd::tenants {
namespace {

// The digests' key: domain separation, not a secret (credentials.h says why none is needed).
constexpr unsigned char kDigestKey[crypto_generichash_KEYBYTES] = {
    'p', 'a', 'y', 'o', 'u', 't', 'd', ' ', 't', 'e', 'n', 'a', 'n', 't', ' ', 'c',
    'r', 'e', 'd', 'e', 'n', 't', 'i', 'a', 'l', ' ', 'd', 'i', 'g', 'e', 's', 't'};

}  // namespace

Digest credential_digest(std::string_view secret) {
  Digest d;
  crypto_generichash(d.data(), d.size(), reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size(), kDigestKey, sizeof kDigestKey);
  return d;
}

std::string digest_hex(const Digest& digest) { return hex_encode(digest); }

std::optional<Digest> digest_from_hex(std::string_view hex) {
  auto bytes = hex_decode(hex);
  if (!bytes || bytes->size() != kDigestBytes) return std::nullopt;
  Digest d;
  std::memcpy(d.data(), bytes->data(), d.size());
  return d;
}

std::string new_secret(std::size_t bytes) {
  PAYOUTD_ASSERT(bytes >= 16, "a generated credential holds 128 bits at least");
  return random_url_token(bytes);
}

std::string new_credential_id() { return "cred-" + random_url_token(12); }

std::size_t DigestHash::operator()(const Digest& d) const noexcept {
  std::size_t h;
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

}  // namespace payoutd::tenants
