// The config loader: each key takes exactly its type, limits refuse what is outside them (NaN
// included), and load_config reads what parse_config parses.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "app/config.h"

namespace payoutd::app {
namespace {

// The message parse_config throws for `text`, or "" when it accepts it.
std::string refusal(const std::string& text) {
  try {
    parse_config(text, "/etc/payoutd/test.toml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, RetryWaitsRefuseNotANumberAndWaitsUnderAMillisecond) {
  for (const char* wait : {"nan", "-nan", "inf", "0", "-1", "0.0000001", "0.0009", "86401"}) {
    const std::string message =
        refusal(std::string("sandbox = true\n[outbox]\nretry_s = [10, ") + wait + "]\n");
    EXPECT_NE(message.find("outbox.retry_s"), std::string::npos) << wait << ": " << message;
  }
  const Config config =
      parse_config("sandbox = true\n[outbox]\nretry_s = [0.001, 2, 86400]\n", "test.toml");
  EXPECT_EQ(config.dispatch.retry_ms, (std::vector<std::int64_t>{1, 2000, 86'400'000}));
}

TEST(Config, KeysTakeExactlyTheirType) {
  for (const char* text : {"sandbox = 1\n", "sandbox = true\n[server]\nio_threads = 2.0\n",
                           "sandbox = true\n[server]\nio_threads = true\n",
                           "sandbox = true\n[server]\nbody_limit_bytes = 1e308\n",
                           "sandbox = true\n[outbox]\nallow_private_targets = 0\n"}) {
    EXPECT_NE(refusal(text).find("has the wrong type"), std::string::npos) << text;
  }
  const Config config = parse_config("sandbox = true\n[server]\nio_threads = 2\n", "test.toml");
  EXPECT_TRUE(config.sandbox);
  EXPECT_EQ(config.server.io_threads, 2);
}

TEST(Config, LoadReadsTheFileParseConfigWouldParse) {
  const std::string path = std::string(PAYOUTD_SOURCE_DIR) + "/config/sandbox.toml";
  const Config config = load_config(path);
  EXPECT_TRUE(config.sandbox);
  EXPECT_EQ(config.bin_table, std::string(PAYOUTD_SOURCE_DIR) + "/config/../data/bins-sandbox.csv");
  EXPECT_THROW(load_config(path + ".missing"), std::runtime_error);
  EXPECT_THROW(load_config(std::string(PAYOUTD_SOURCE_DIR) + "/config"), std::runtime_error);
}

// Outside the sandbox a secret still holding the production template's placeholder
// (config/production.toml) is refused, in any letter case, named by its key with every other.
TEST(Config, SecretsLeftAtTheTemplatesPlaceholderAreRefusedOutsideTheSandbox) {
  const std::string admin = "[admin]\ntoken = \"0123456789abcdef0123456789abcdef-real\"\n";
  const std::string product =
      "[[qiwi.products]]\nid = \"p\"\ntokens = [\"the token: change-me please\"]\n";
  EXPECT_EQ(refusal("sandbox = false\n" + admin + product),
            "config qiwi.products[0].tokens[0]: still the template's placeholder CHANGE-ME: set "
            "secrets of your own");
  EXPECT_EQ(refusal("sandbox = false\n" + admin + "[vault]\nkek = \"CHANGE-ME\"\n" + product),
            "config qiwi.products[0].tokens[0], vault.kek: still the template's placeholder "
            "CHANGE-ME: set secrets of your own");
  // The sandbox has no secrets to keep.
  EXPECT_EQ(refusal("sandbox = true\n" + admin + product), "");
}

// --- card rails and routing (app/rails_config.h) ----------------------------------------------

std::string sandbox_config() {
  std::ifstream in(std::string(PAYOUTD_SOURCE_DIR) + "/config/sandbox.toml");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The sandbox config and `extra` after it, parsed as the sandbox's file.
std::string sandbox_refusal(const std::string& extra) {
  try {
    parse_config(sandbox_config() + "\n" + extra,
                 std::string(PAYOUTD_SOURCE_DIR) + "/config/sandbox.toml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

const Tenant kPartner{"bereke", "sandbox-partner"};

TEST(Config, WithoutRailsListedTheSandboxNetworkIsTheOnlyRailAndTheDefault) {
  const Config config = parse_config("sandbox = true\n", "test.toml");
  ASSERT_EQ(config.rails.size(), 1U);
  EXPECT_EQ(config.rails[0].name, "sandbox");
  EXPECT_EQ(config.rails[0].kind, "sandbox");
  const auto route =
      config.routing.choose(kPartner, {"VISA", "KZ", {100, *Currency::from_code("KZT")}});
  ASSERT_TRUE(route);
  EXPECT_EQ(route->rail, "sandbox");
  // Listed rails without [rail]: only those, the first the default.
  const Config listed = parse_config(
      "sandbox = true\n[[rails]]\nname = \"net-a\"\nkind = \"sandbox\"\n"
      "[[rails]]\nname = \"net-b\"\nkind = \"sandbox\"\nlatency_ms = 5\n",
      "test.toml");
  ASSERT_EQ(listed.rails.size(), 2U);
  EXPECT_EQ(listed.rails[1].sandbox.latency_ms, 5);
  EXPECT_EQ(listed.routing.choose(kPartner, {"VISA", "KZ", {1, *Currency::from_code("KZT")}})->rail,
            "net-a");
}

TEST(Config, RailsAreRefusedByNameKindAndEndpoint) {
  const std::string rail = "sandbox = true\n[[rails]]\n";
  const std::pair<std::string, std::string> cases[] = {
      {rail + "name = \"sandbox\"\nkind = \"sandbox\"\n[rail]\n", "rails[0].name"},  // [rail]'s
      {rail + "name = \"Net_A\"\nkind = \"sandbox\"\n", "rails[0].name"},
      {rail + "name = \"a\"\nkind = \"sandbox\"\n[[rails]]\nname = \"a\"\nkind = \"sandbox\"\n",
       "rails[1].name"},
      {rail + "name = \"a\"\nkind = \"swift\"\n", "rails[0].kind"},
      {rail + "name = \"a\"\nkind = \"sandbox\"\nlatency_ms = 9000\ntimeout_ms = 100\n",
       "rails[0].latency_ms"},
      {rail + "name = \"mc\"\nkind = \"mastercard-send\"\nbase_url = \"http://mc.example/send\"\n",
       "rails[0].base_url"},
      {rail + "name = \"mc\"\nkind = \"mastercard-send\"\nbase_url = \"https://mc.example/send\"\n"
              "partner_id = \"p\"\nconsumer_key = \"k\"\nsigning_key_file = \"/k.pem\"\n",
       "rails[0].sender_account_uri"},
      {rail + "name = \"v\"\nkind = \"visa-direct\"\nbase_url = \"https://visa.example\"\n"
              "client_cert_file = \"/c\"\nclient_key_file = \"/k\"\nuser_id = \"u\"\n"
              "password = \"in-the-config\"\n",
       "rails[0].password"},
      {"sandbox = true\n[routing]\ndefault = \"nowhere\"\n", "routing.default"},
      {"sandbox = true\n[[routing.tenants]]\ntenant = \"bereke:nobody\"\n",
       "routing.tenants[0].tenant"},
  };
  for (const auto& [text, key] : cases) {
    const std::string message = refusal(text);
    EXPECT_NE(message.find("config " + key), std::string::npos) << text << "\n-> " << message;
  }
}

TEST(Config, ATenantsRulesAreCheckedAgainstTheRailsAndTheirBands) {
  const std::string tenant = "[[routing.tenants]]\ntenant = \"bereke:sandbox-partner\"\n";
  const std::string rule = "[[routing.tenants.rules]]\n";
  EXPECT_NE(sandbox_refusal(tenant + rule + "rail = \"nowhere\"\n").find("rules[0].rail"),
            std::string::npos);
  EXPECT_NE(sandbox_refusal(tenant + rule + "rail = \"sandbox\"\nfallback = \"sandbox\"\n")
                .find("rules[0].fallback"),
            std::string::npos);
  EXPECT_NE(sandbox_refusal(tenant + rule + "rail = \"sandbox\"\namount_max = \"10.00\"\n")
                .find("an amount band needs exactly one currency"),
            std::string::npos);
  EXPECT_NE(sandbox_refusal(tenant + tenant).find("routing.tenants[1]"), std::string::npos);
  // A rule with a band in its one currency, and a fallback to another rail.
  const std::string good = "[[rails]]\nname = \"net-b\"\nkind = \"sandbox\"\n" + tenant + rule +
                           "currencies = [\"KZT\"]\namount_min = \"50.00\"\namount_max = "
                           "\"59.99\"\nrail = \"sandbox\"\nfallback = \"net-b\"\n";
  EXPECT_EQ(sandbox_refusal(good), "");
  const Config config = parse_config(sandbox_config() + "\n" + good,
                                     std::string(PAYOUTD_SOURCE_DIR) + "/config/sandbox.toml");
  const Currency kzt = *Currency::from_code("KZT");
  EXPECT_EQ(config.routing.choose(kPartner, {"VISA", "KZ", {5000, kzt}}),
            (rails::Route{"sandbox", "net-b"}));
  EXPECT_FALSE(config.routing.choose(kPartner, {"VISA", "KZ", {6000, kzt}}));  // no default
}

}  // namespace
}  // namespace payoutd::app
