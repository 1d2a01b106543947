#pragma once
// Partner credentials payoutd generates and how it keeps them.
//
// A generated credential is 32 random bytes (libsodium's randombytes), written as 43 characters
// of URL-safe base64: 256 bits, so no one can search for it. It is shown once, in the answer that
// created it, and kept only as credential_digest(): a keyed BLAKE2b-256. A slow password hash
// (argon2id) protects guessable passwords; a secret of 128 bits or more needs none, and argon2id
// would add tens of milliseconds of CPU to every API call a partner makes. The key is fixed and
// public: it separates these digests from every other hash of the same text, it is not a secret
// (the credential's own entropy is what protects it). Config credentials (16 characters at least)
// are kept the same way.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace payoutd::tenants {

inline constexpr std::size_t kDigestBytes = 32;
using Digest = std::array<unsigned char, kDigestBytes>;

// Hashes `secret`: no allocation (the request path calls it for every partner call).
Digest credential_digest(std::string_view secret);
std::string digest_hex(const Digest& digest);
// nullopt unless `hex` is 64 hex digits.
std::optional<Digest> digest_from_hex(std::string_view hex);

// A generated credential's random bytes unless its kind says otherwise (tenants/kind.h).
inline constexpr std::size_t kSecretBytes = 32;
// A new credential of `bytes` random bytes (16 at least), in URL-safe base64: 43 characters of
// A-Z a-z 0-9 - _ for 32 bytes.
std::string new_secret(std::size_t bytes = kSecretBytes);
// A new credential's id ("cred-" and 16 characters): how the operator names it.
std::string new_credential_id();

// Hash for unordered maps keyed by a digest: its first 8 bytes, already uniform.
struct DigestHash {
  std::size_t operator()(const Digest& d) const noexcept;
};

}  // namespace payoutd::tenants
