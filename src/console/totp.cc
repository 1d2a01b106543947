#include "console/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <array>

#include "cabinet/view.h"
#include "core/assert.h"
#include "core/ids.h"

namespace payoutd::console {

std::int64_t totp_step(std::int64_t now_ms) { return now_ms / kTotpStepMs; }

std::string totp_code(std::string_view secret, std::int64_t step, int digits) {
  PAYOUTD_ASSERT(digits >= 6 && digits <= 9, "a TOTP code has 6 to 9 digits");
  std::array<unsigned char, 8> counter{};
  auto value = static_cast<std::uint64_t>(step);
  for (std::size_t i = counter.size(); i-- > 0; value >>= 8) {
    counter[i] = static_cast<unsigned char>(value & 0xff);
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), counter.data(), counter.size(),
       mac, &mac_size);
  PAYOUTD_ASSERT(mac_size == 20, "HMAC-SHA1 is 20 bytes");
  // RFC 4226 5.3, dynamic truncation: 31 bits at the offset the last nibble names.
  const unsigned offset = mac[19] & 0x0f;
  const std::uint32_t bits = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                             (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                             (static_cast<std::uint32_t>(mac[offset + 2]) << 8) |
                             static_cast<std::uint32_t>(mac[offset + 3]);
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(bits % modulus);
  code.insert(0, static_cast<std::size_t>(digits) - code.size(), '0');
  sodium_memzero(mac, sizeof mac);
  return code;
}

std::optional<std::int64_t> totp_accepts(std::string_view secret, std::string_view code,
                                         std::int64_t step, std::int64_t used_step) {
  if (code.size() != kTotpDigits) return std::nullopt;
  for (const char c : code) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  // Every candidate is computed and compared, matched or not: the time tells nothing of which.
  std::optional<std::int64_t> accepted;
  for (std::int64_t s = step - 1; s <= step + 1; ++s) {
    const std::string expected = totp_code(secret, s);
    const bool equal = sodium_memcmp(expected.data(), code.data(), code.size()) == 0;
    if (equal && s > used_step && !accepted) accepted = s;
  }
  return accepted;
}

std::string new_totp_secret() {
  std::string secret(kTotpSecretBytes, '\0');
  random_bytes(secret.data(), secret.size());
  return secret;
}

std::string base32_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account,
                        std::string_view secret) {
  std::string uri = "otpauth://totp/";
  uri.append(cabinet::url_encode(issuer)).append(":").append(cabinet::url_encode(account));
  uri.append("?secret=").append(base32_encode(secret));
  uri.append("&issuer=").append(cabinet::url_encode(issuer));
  uri.append("&algorithm=SHA1&digits=6&period=30");
  return uri;
}

}  // namespace payoutd::console
