// The console's second factor (console/totp.h) against RFC 6238's test vectors, codes counted
// once, and the staff API keys' format (console/staff.h).
#include <gtest/gtest.h>

#include "console/staff.h"
#include "console/totp.h"

namespace payoutd::console {
namespace {

constexpr std::string_view kRfcSecret = "12345678901234567890";  // RFC 6238 Appendix B, SHA-1

TEST(Totp, MatchesRfc6238AppendixBForSha1) {
  struct Vector {
    std::int64_t unix_s;
    std::string_view code;
  };
  // RFC 6238 Appendix B: 8-digit codes of the SHA-1 secret at these times.
  constexpr Vector kVectors[] = {{59, "94287082"},         {1111111109, "07081804"},
                                 {1111111111, "14050471"}, {1234567890, "89005924"},
                                 {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const Vector& v : kVectors) {
    EXPECT_EQ(totp_code(kRfcSecret, totp_step(v.unix_s * 1000), 8), v.code) << v.unix_s;
    // Six digits are the last six of the same truncation.
    EXPECT_EQ(totp_code(kRfcSecret, totp_step(v.unix_s * 1000)), v.code.substr(2)) << v.unix_s;
  }
}

TEST(Totp, AcceptsOneStepEitherSideOnce) {
  const std::int64_t step = totp_step(1111111111'000);
  const std::string now = totp_code(kRfcSecret, step);
  const std::string before = totp_code(kRfcSecret, step - 1);
  const std::string after = totp_code(kRfcSecret, step + 1);
  EXPECT_EQ(totp_accepts(kRfcSecret, now, step, 0), step);
  EXPECT_EQ(totp_accepts(kRfcSecret, before, step, 0), step - 1);
  EXPECT_EQ(totp_accepts(kRfcSecret, after, step, 0), step + 1);
  EXPECT_FALSE(totp_accepts(kRfcSecret, totp_code(kRfcSecret, step - 2), step, 0));
  EXPECT_FALSE(totp_accepts(kRfcSecret, totp_code(kRfcSecret, step + 2), step, 0));
  // Once a step's code counted, neither it nor an earlier one counts again.
  EXPECT_FALSE(totp_accepts(kRfcSecret, now, step, step));
  EXPECT_FALSE(totp_accepts(kRfcSecret, before, step, step));
  EXPECT_EQ(totp_accepts(kRfcSecret, after, step, step), step + 1);
}

TEST(Totp, RefusesMalformedCodes) {
  const std::int64_t step = totp_step(1111111111'000);
  const std::string code = totp_code(kRfcSecret, step);
  EXPECT_FALSE(totp_accepts(kRfcSecret, code.substr(1), step, 0));
  EXPECT_FALSE(totp_accepts(kRfcSecret, code + "0", step, 0));
  EXPECT_FALSE(totp_accepts(kRfcSecret, "", step, 0));
  EXPECT_FALSE(totp_accepts(kRfcSecret, "12345a", step, 0));
}

TEST(Totp, WritesSecretsAsAuthenticatorsReadThem) {
  EXPECT_EQ(base32_encode("12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  EXPECT_EQ(base32_encode("f"), "MY");  // RFC 4648's vector, without padding
  EXPECT_EQ(base32_encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(otpauth_uri("payoutd", "ann lee", "12345678901234567890"),
            "otpauth://totp/payoutd:ann%20lee?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer="
            "payoutd&algorithm=SHA1&digits=6&period=30");
  EXPECT_EQ(new_totp_secret().size(), kTotpSecretBytes);
  EXPECT_NE(new_totp_secret(), new_totp_secret());
}

TEST(StaffApiKeys, ParseOnlyTheirOwnFormat) {
  const KeyText key = new_api_key();
  const std::string text = api_key_text(key);
  ASSERT_EQ(text.size(), 4 + 16 + 1 + 43);
  const std::optional<KeyText> parsed = parse_api_key(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->id, key.id);
  EXPECT_EQ(parsed->secret, key.secret);
  EXPECT_EQ(api_key_hash(*parsed), api_key_hash(key));
  EXPECT_NE(api_key_hash({key.id, key.secret + "x"}), api_key_hash(key));
  EXPECT_FALSE(parse_api_key(text.substr(1)));                   // no prefix
  EXPECT_FALSE(parse_api_key(text + "A"));                       // too long
  EXPECT_FALSE(parse_api_key(text.substr(0, text.size() - 1)));  // too short
  std::string upper = text;
  upper[5] = 'A';  // the id is lowercase hex
  EXPECT_FALSE(parse_api_key(upper));
  std::string bad_secret = text;
  bad_secret.back() = '+';  // base64url only
  EXPECT_FALSE(parse_api_key(bad_secret));
  EXPECT_FALSE(parse_api_key("sandbox-admin-token"));
  EXPECT_NE(new_api_key().id, new_api_key().id);
}

}  // namespace
}  // namespace payoutd::console
