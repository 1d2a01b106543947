#pragma once
// Time-based one-time passwords (RFC 6238, with RFC 4226's HOTP): the console's second factor.
// HMAC-SHA1 of the count of 30-second steps since the Unix epoch, 6 digits; a code of the step
// before or after the current one is accepted too (a clock a little off, a code typed as its step
// ends). What authenticator apps (Google Authenticator, FreeOTP, 1Password) do by default.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace payoutd::console {

inline constexpr std::int64_t kTotpStepMs = 30'000;
inline constexpr int kTotpDigits = 6;
inline constexpr std::size_t kTotpSecretBytes = 20;  // 160 bits, RFC 4226's recommendation

// The step of `now_ms`: whole 30-second steps since the epoch.
std::int64_t totp_step(std::int64_t now_ms);
// The code of `step` under `secret` (raw bytes), with `digits` digits (leading zeros kept).
std::string totp_code(std::string_view secret, std::int64_t step, int digits = kTotpDigits);
// The step among `step`-1, `step`, `step`+1 whose code is `code` and that is after `used_step`
// (a code counts once: a step used before, or any before it, is refused); nullopt when none is.
// `code` must be exactly kTotpDigits digits; compared in constant time.
std::optional<std::int64_t> totp_accepts(std::string_view secret, std::string_view code,
                                         std::int64_t step, std::int64_t used_step);

// A new random secret (kTotpSecretBytes).
std::string new_totp_secret();
// RFC 4648 base32 without padding, as authenticator apps read secrets ("JBSWY3DPEHPK3PXP").
std::string base32_encode(std::string_view bytes);
// The otpauth:// URI an authenticator app reads from a QR code (Google's Key Uri Format):
// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30.
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace payoutd::console
