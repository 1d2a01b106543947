// Comparing secrets, and the secrets the sandbox publishes (core/secrets.h).
#include "core/secrets.h"

#include <gtest/gtest.h>

#include "app/config.h"

namespace payoutd {
namespace {

TEST(SecretsEqual, ComparesWholeSecretsOfAnyLength) {
  EXPECT_TRUE(secrets_equal("payout_api_password", "payout_api_password"));
  EXPECT_FALSE(secrets_equal("payout_api_password", "payout_api_passworD"));
  EXPECT_FALSE(secrets_equal("payout_api_password", "payout_api_pass"));  // a prefix
  EXPECT_FALSE(secrets_equal("a", std::string(1000, 'a')));
  EXPECT_FALSE(secrets_equal("", ""));
  EXPECT_FALSE(secrets_equal("", "x"));
}

// Every secret of the sandbox's config is known as published, so that a server outside the
// sandbox refuses it: a secret added to config/sandbox.toml must join core/secrets.cc's list.
TEST(PublishedSecrets, CoverEverySecretOfTheSandboxConfig) {
  const app::Config c = app::load_config(std::string(PAYOUTD_SOURCE_DIR) + "/config/sandbox.toml");
  ASSERT_TRUE(c.sandbox);
  EXPECT_TRUE(is_published_secret(c.admin.token));
  std::vector<std::string> secrets{c.admin.token, c.vault_kek};
  for (const auto& provider : c.providers) {
    for (const auto& secret : provider->secrets()) secrets.push_back(secret.value);
  }
  for (const auto& u : c.cabinet.users) secrets.push_back(u.password_hash);
  for (const auto& member : c.console.auth.staff) secrets.push_back(member.password_hash);
  EXPECT_EQ(c.console.auth.staff.size(), 4u);
  EXPECT_GE(secrets.size(), 10u);
  for (const std::string& s : secrets) EXPECT_TRUE(is_published_secret(s)) << s;
  // The cabinet's passwords (shared/spec/sandbox.md), its key without its prefix, in capitals.
  for (const char* v :
       {"payout_api_password", "sandbox-cabinet-91348", "sandbox-cabinet-best-partner",
        "sandbox-cabinet-viewer", "sandbox-secret-91351", "SANDBOX-ADMIN-TOKEN",
        "sandbox-console-admin", "sandbox-console-finance", "sandbox-console-support",
        "sandbox-console-checker"}) {
    EXPECT_TRUE(is_published_secret(v)) << v;
  }
  EXPECT_TRUE(is_published_secret(c.vault_kek.substr(c.vault_kek.find(':') + 1)));
  EXPECT_FALSE(is_published_secret("a-secret-of-our-own-of-32-characters"));
  EXPECT_FALSE(is_published_secret(""));
}

}  // namespace
}  // namespace payoutd
