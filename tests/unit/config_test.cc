// The config loader: each key takes exactly its type, limits refuse what is outside them (NaN
// included), and load_config reads what parse_config parses.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>

#include "app/config.h"
#include "core/client_certificate.h"

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

TEST(Config, TrustedProxiesAreAddressesAndRangesOfBothFamilies) {
  const Config config = parse_config(
      "sandbox = true\n[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"127.0.0.1/32\", "
      "\"::1/128\", \"192.0.2.7\"]\nproxy_protocol = true\n",
      "test.toml");
  const auto& proxies = config.server.client_address;
  ASSERT_EQ(proxies.trusted_proxies.size(), 4U);
  EXPECT_TRUE(proxies.trusted_proxies[0].contains("10.1.2.3"));
  EXPECT_TRUE(proxies.trusted_proxies[2].contains("::1"));
  EXPECT_TRUE(proxies.proxy_protocol);
  EXPECT_EQ(proxies.forwarded_header, http::ForwardedHeader::kXForwardedFor);
  const Config plain = parse_config("sandbox = true\n", "test.toml");
  EXPECT_TRUE(plain.server.client_address.trusted_proxies.empty());
  EXPECT_FALSE(plain.server.client_address.reads_forwarded_header());
}

TEST(Config, ProxyKeysNameThemselvesWhenRefused) {
  const std::string server = "sandbox = true\n[server]\n";
  EXPECT_NE(refusal(server + "trusted_proxies = [\"10.0.0.0/8\", \"10.0.0.0/33\"]\n")
                .find("server.trusted_proxies[1]: must be an IPv4 or IPv6 address or CIDR range"),
            std::string::npos);
  EXPECT_NE(
      refusal(server + "trusted_proxies = [\"proxy.example\"]\n").find("server.trusted_proxies[0]"),
      std::string::npos);
  EXPECT_NE(refusal(server + "trusted_proxies = [10]\n").find("server.trusted_proxies[0]"),
            std::string::npos);
  EXPECT_NE(refusal(server + "trusted_proxies = \"10.0.0.0/8\"\n")
                .find("server.trusted_proxies: must be a list"),
            std::string::npos);
  EXPECT_NE(refusal(server + "proxy_protocol = true\n")
                .find("server.proxy_protocol: needs server.trusted_proxies"),
            std::string::npos);
  EXPECT_NE(
      refusal(server + "proxy_protocol = 1\n").find("server.proxy_protocol: has the wrong type"),
      std::string::npos);
  EXPECT_NE(refusal(server + "forwarded_header = \"X-Real-IP\"\n").find("server.forwarded_header"),
            std::string::npos);
  const Config forwarded = parse_config(
      server + "trusted_proxies = [\"::1\"]\nforwarded_header = \"Forwarded\"\n", "test.toml");
  EXPECT_EQ(forwarded.server.client_address.forwarded_header, http::ForwardedHeader::kForwarded);
  EXPECT_TRUE(forwarded.server.client_address.reads_forwarded_header());
}

TEST(Config, ApprovalThresholdsAreDecimalStringsByKnownCurrency) {
  const std::string admin = "sandbox = true\n[admin]\ntoken = \"sandbox-admin-token\"\n";
  const Config config = parse_config(
      admin + "approval_threshold = { RUB = \"100000.00\", JPY = \"5\" }\nrequest_ttl_s = 60\n",
      "test.toml");
  const auto& mc = config.admin.maker_checker;
  ASSERT_EQ(mc.approval_thresholds.size(), 2U);
  for (const Amount& a : mc.approval_thresholds) {
    EXPECT_EQ(a.minor, a.currency.code() == "RUB" ? 10'000'000 : 5) << a.currency.code();
  }
  EXPECT_EQ(mc.request_ttl_s, 60);
  EXPECT_TRUE(parse_config(admin, "test.toml").admin.maker_checker.approval_thresholds.empty());
  EXPECT_NE(refusal(admin + "approval_threshold = { XXX = \"1.00\" }\n")
                .find("admin.approval_threshold.XXX: is not a currency"),
            std::string::npos);
  for (const char* bad : {"\"1.001\"", "\"-1.00\"", "100"}) {
    EXPECT_NE(refusal(admin + "approval_threshold = { RUB = " + bad + " }\n")
                  .find("admin.approval_threshold.RUB"),
              std::string::npos)
        << bad;
  }
  EXPECT_NE(refusal(admin + "approval_threshold = \"100\"\n").find("admin.approval_threshold"),
            std::string::npos);
  EXPECT_NE(refusal(admin + "request_ttl_s = 0\n").find("admin.request_ttl_s"), std::string::npos);
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
  // What a config outside the sandbox needs besides (docs/tls.md), then a real admin token.
  const std::string admin =
      "[server]\npublic_url = \"https://payouts.example.org\"\nplain_http_behind_proxy = true\n"
      "[admin]\ntoken = \"0123456789abcdef0123456789abcdef-real\"\n";
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

TEST(Config, AnEcommpayAllowlistEntryThatIsNoRangeIsRefusedByItsIndex) {
  std::string text = sandbox_config();
  const std::string allowlist = "allowlist = [\"192.0.2.1/32\"]";
  ASSERT_NE(text.find(allowlist), std::string::npos);
  text.replace(text.find(allowlist), allowlist.size(),
               "allowlist = [\"192.0.2.1/32\", \"192.0.2.1/40\"]");
  try {
    parse_config(text, std::string(PAYOUTD_SOURCE_DIR) + "/config/sandbox.toml");
    ADD_FAILURE() << "accepted a /40 IPv4 range";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ecommpay.projects[2].allowlist[1]"), std::string::npos)
        << e.what();
  }
}

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

// --- listeners, TLS, client certificates, the public origin ------------------------------------

// The sandbox config with `old` replaced by `now` (which must be there once), and `extra` after.
std::string sandbox_with(const std::string& old, const std::string& now,
                         const std::string& extra = "") {
  std::string text = sandbox_config();
  const auto at = text.find(old);
  EXPECT_NE(at, std::string::npos) << old;
  EXPECT_EQ(text.find(old, at + 1), std::string::npos) << old;
  text.replace(at, old.size(), now);
  return text + "\n" + extra;
}

std::string refusal_of(const std::string& text) {
  try {
    parse_config(text, std::string(PAYOUTD_SOURCE_DIR) + "/config/sandbox.toml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

constexpr const char* kTls =
    "[server.tls]\nlisten = \"127.0.0.1:8443\"\ncert_file = \"tls/chain.pem\"\n"
    "key_file = \"/etc/payoutd/key.pem\"\n";
constexpr const char* kPin = "zcCvczMG9o3XXvLlM0I6XLrg5r+hdrbEcPYHdQ+y9z4=";

TEST(Config, TlsListenerBesideOrInsteadOfThePlainOne) {
  const Config both = parse_config(sandbox_config() + "\n" + kTls,
                                   std::string(PAYOUTD_SOURCE_DIR) + "/config/sandbox.toml");
  ASSERT_TRUE(both.server.tls);
  EXPECT_TRUE(both.server.plain);
  EXPECT_EQ(both.server.tls->port, 8443);
  EXPECT_EQ(both.server.tls->cert_file, std::string(PAYOUTD_SOURCE_DIR) + "/config/tls/chain.pem");
  EXPECT_EQ(both.server.tls->key_file, "/etc/payoutd/key.pem");
  EXPECT_TRUE(both.server.tls->client_ca_file.empty());
  EXPECT_EQ(public_origin(both, 8080, 8443), "https://127.0.0.1:8443");
  const Config tls_only = parse_config(std::string("sandbox = true\n") + kTls, "/x/test.toml");
  EXPECT_FALSE(tls_only.server.plain);
  const Config plain_only = parse_config("sandbox = true\n", "test.toml");
  EXPECT_TRUE(plain_only.server.plain);
  EXPECT_FALSE(plain_only.server.tls);
  EXPECT_EQ(public_origin(plain_only, 8080, 0), "http://127.0.0.1:8080");
}

TEST(Config, TlsRefusalsNameTheKey) {
  const std::pair<std::string, std::string> cases[] = {
      {"[server.tls]\ncert_file = \"a\"\nkey_file = \"b\"\n", "server.tls.listen"},
      {"[server.tls]\nlisten = \"127.0.0.1:1\"\nkey_file = \"b\"\n", "server.tls.cert_file"},
      {"[server.tls]\nlisten = \"127.0.0.1:1\"\ncert_file = \"a\"\n", "server.tls.key_file"},
      {"[server.tls]\nlisten = \"127.0.0.1:1\"\ncert_file = \"a\"\nkey_file = \"b\"\n"
       "client_ca_file = 3\n",
       "server.tls.client_ca_file"},
      {"[server]\ntls = \"on\"\n", "server.tls"},
  };
  for (const auto& [text, key] : cases) {
    EXPECT_NE(refusal("sandbox = true\n" + text).find(key), std::string::npos)
        << text << ": " << refusal("sandbox = true\n" + text);
  }
}

TEST(Config, OutsideTheSandboxPlainHttpNeedsAProxyAndThePublicUrlHttps) {
  // (The admin API off: outside the sandbox it would need a token of its own.)
  const std::string outside =
      "[admin]\nenabled = false\n[server]\npublic_url = \"https://payouts.example/\"\n";
  EXPECT_NE(refusal(outside).find("server.plain_http_behind_proxy"), std::string::npos)
      << refusal(outside);
  const Config behind_proxy = parse_config(outside + "plain_http_behind_proxy = true\n", "t.toml");
  EXPECT_TRUE(behind_proxy.server.plain);
  EXPECT_EQ(behind_proxy.public_url, "https://payouts.example");
  EXPECT_EQ(public_origin(behind_proxy, 8080, 0), "https://payouts.example");
  const Config tls_only = parse_config(outside + kTls, "/x/t.toml");
  EXPECT_FALSE(tls_only.server.plain);
  Config overridden = tls_only;
  try {
    override_listen("127.0.0.1:0", overridden);
    ADD_FAILURE() << "--listen outside the sandbox was taken";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("server.plain_http_behind_proxy"), std::string::npos);
  }
  for (const char* url : {"", "http://payouts.example"}) {
    const std::string text =
        std::string("[admin]\nenabled = false\n[server]\nplain_http_behind_proxy = true\n") +
        (*url ? std::string("public_url = \"") + url + "\"\n" : "");
    EXPECT_NE(refusal(text).find("server.public_url"), std::string::npos) << refusal(text);
  }
  EXPECT_NE(
      refusal("sandbox = true\n[server]\npublic_url = \"ftp://x\"\n").find("server.public_url"),
      std::string::npos);
  EXPECT_NE(refusal("sandbox = true\n[server]\npublic_url = \"https://x/?a=1\"\n")
                .find("server.public_url"),
            std::string::npos);
}

// Outside the sandbox the database connection leaves the machine only over TLS that verifies the
// server's certificate and name; on this machine (sockets, loopback) it may be plain.
TEST(Config, OutsideTheSandboxAPostgresUrlToAnotherMachineNeedsVerifiedTls) {
  const std::string outside =
      "[admin]\nenabled = false\n[server]\npublic_url = \"https://payouts.example\"\n"
      "plain_http_behind_proxy = true\n[storage]\nbackend = \"postgres\"\n";
  for (const char* url :
       {"postgresql://payoutd:secret@db.example/payoutd",
        "postgresql://payoutd@db.example/payoutd?sslmode=require",
        "postgresql://payoutd@db.example/payoutd?sslmode=verify-ca",
        "postgresql://payoutd@127.0.0.1:5432,db.example:5432/"
        "payoutd?target_session_attrs=read-write",
        "host=10.0.0.5 dbname=payoutd", "host=localhost hostaddr=10.0.0.5 dbname=payoutd"}) {
    const std::string message = refusal(outside + "postgres_url = \"" + url + "\"\n");
    EXPECT_NE(message.find("storage.postgres_url"), std::string::npos) << url << ": " << message;
    EXPECT_NE(message.find("sslmode=verify-full"), std::string::npos) << message;
    EXPECT_EQ(message.find("secret"), std::string::npos) << message;
  }
  for (const char* url :
       {"postgresql://payoutd@db.example,db2.example/payoutd?sslmode=verify-full",
        "postgresql://payoutd@127.0.0.1:5432/payoutd", "postgresql://payoutd@[::1]/payoutd",
        "postgresql://payoutd@localhost/payoutd", "host=/run/postgresql dbname=payoutd",
        "dbname=payoutd", "postgresql:///payoutd"}) {
    EXPECT_EQ(refusal(outside + "postgres_url = \"" + url + "\"\n"), "") << url;
  }
  EXPECT_NE(
      refusal(outside + "postgres_url = \"postgresql://[bad\"\n").find("storage.postgres_url"),
      std::string::npos);
  // The sandbox takes any, and --postgres-url is held to the same rule.
  EXPECT_EQ(refusal("sandbox = true\n[storage]\nbackend = \"postgres\"\n"
                    "postgres_url = \"postgresql://payoutd@db.example/payoutd\"\n"),
            "");
  Config config = parse_config(outside + "postgres_url = \"dbname=payoutd\"\n", "t.toml");
  EXPECT_THROW(use_postgres("postgresql://db.example/payoutd", config), std::runtime_error);
  use_postgres("postgresql://db.example/payoutd?sslmode=verify-full", config);
  EXPECT_EQ(config.postgres.url, "postgresql://db.example/payoutd?sslmode=verify-full");
}

TEST(Config, ClientCertificatePoliciesNeedAClientCaAndWellFormedPins) {
  const std::string ca = std::string(kTls) + "client_ca_file = \"ca.pem\"\n";
  const std::string subjects = "client_cert_subjects = [\"CN=best-partner,O=Best Partner\"]";
  const std::string pins = std::string("client_cert_spki_sha256 = [\"") + kPin + "\"]";
  const std::string qiwi_tokens = "tokens = [\"sandbox-best-partner-token\"]";
  const std::string bereke_password = "password = \"payout_api_password\"";
  const std::string ecommpay_key = "secret_key = \"sandbox-secret-91348\"";
  const std::string admin_token = "token = \"sandbox-admin-token\"";
  const Config config = parse_config(sandbox_with(qiwi_tokens, qiwi_tokens + "\n" + subjects, ca),
                                     std::string(PAYOUTD_SOURCE_DIR) + "/config/sandbox.toml");
  EXPECT_EQ(config.server.tls->client_ca_file, std::string(PAYOUTD_SOURCE_DIR) + "/config/ca.pem");
  const std::pair<std::string, std::string> refused[] = {
      {sandbox_with(qiwi_tokens, qiwi_tokens + "\n" + subjects),
       "qiwi.products[0].client_cert_subjects"},
      {sandbox_with(bereke_password, bereke_password + "\n" + pins),
       "bereke.partners[0].client_cert_spki_sha256"},
      {sandbox_with(ecommpay_key, ecommpay_key + "\n" + subjects),
       "ecommpay.projects[0].client_cert_subjects"},
      {sandbox_with(admin_token, admin_token + "\n" + pins), "admin.client_cert_spki_sha256"},
      {sandbox_with(admin_token, admin_token + "\nclient_cert_spki_sha256 = [\"abc=\"]", ca),
       "admin.client_cert_spki_sha256"},
      {sandbox_with(admin_token, admin_token + "\nclient_cert_subjects = []", ca),
       "admin.client_cert_subjects"},
      {sandbox_with(admin_token, admin_token + "\nclient_cert_subjects = [\"\"]", ca),
       "admin.client_cert_subjects"},
      {sandbox_with(bereke_password, bereke_password + "\nclient_cert_subjects = \"CN=x\"", ca),
       "bereke.partners[0].client_cert_subjects"},
  };
  for (const auto& [text, key] : refused) {
    const std::string message = refusal_of(text);
    EXPECT_NE(message.find(key), std::string::npos) << key << ": " << message;
  }
  EXPECT_EQ(refusal_of(sandbox_with(admin_token, admin_token + "\n" + pins + "\n" + subjects, ca)),
            "");
}

TEST(ClientCertificatePolicy, AdmitsOnlyAVerifiedCertificateOfAListedSubjectOrKey) {
  const ClientCertificatePolicy none;
  EXPECT_TRUE(none.admits(nullptr));
  const ClientCertificatePolicy policy{{"CN=a,O=B"}, {kPin}};
  EXPECT_FALSE(policy.admits(nullptr));
  EXPECT_TRUE(policy.admits(
      std::make_shared<ClientCertificate>(ClientCertificate{true, "CN=a,O=B", "x"}).get()));
  const ClientCertificate by_key{true, "CN=other", kPin};
  EXPECT_TRUE(policy.admits(&by_key));
  const ClientCertificate unverified{false, "CN=a,O=B", kPin};
  EXPECT_FALSE(policy.admits(&unverified));
  const ClientCertificate stranger{true, "CN=a,O=C", "x"};
  EXPECT_FALSE(policy.admits(&stranger));
  const ClientCertificate empty{true, "", ""};
  EXPECT_FALSE(ClientCertificatePolicy({{""}, {}}).admits(&empty));
}

TEST(ClientCertificatePolicy, PinsAre44Base64CharactersOf32Bytes) {
  EXPECT_TRUE(is_spki_pin(kPin));
  EXPECT_FALSE(is_spki_pin("zcCvczMG9o3XXvLlM0I6XLrg5r+hdrbEcPYHdQ+y9z4"));   // no padding
  EXPECT_FALSE(is_spki_pin("zcCvczMG9o3XXvLlM0I6XLrg5r+hdrbEcPYHdQ+y9z5="));  // bits past 32 bytes
  EXPECT_FALSE(is_spki_pin("zcCvczMG9o3XXvLlM0I6XLrg5r-hdrbEcPYHdQ+y9z4="));  // base64url
  EXPECT_FALSE(is_spki_pin("sha256//zcCvczMG9o3XXvLlM0I6XLrg5r+hdrbEcPYHdQ+y9z4="));
}

}  // namespace
}  // namespace payoutd::app
