#include "app/rails_config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "cards/card.h"
#include "config/reader.h"
#include "core/time_format.h"

namespace payoutd::app {
namespace {

using config::bounded;
using config::fail;
using config::get_or;
using config::required_string;
using config::section;

constexpr std::size_t kRailNameMax = 32;

bool valid_rail_name(const std::string& name) {
  return !name.empty() && name.size() <= kRailNameMax &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

// The keys of a sandbox network (`[rail]`, or a `[[rails]]` entry of kind "sandbox").
rails::SandboxRailOptions sandbox_options(const toml::table& t, const std::string& where) {
  rails::SandboxRailOptions o;
  o.latency_ms = bounded(t, where, "latency_ms", 100, 0, 60'000);
  o.timeout_ms = bounded(t, where, "timeout_ms", 3000, 1, 600'000);
  o.settle_ms = bounded(t, where, "settle_ms", 2000, 0, 3'600'000);
  if (const toml::node* node = t.get("cards")) {
    const toml::table* cards = node->as_table();
    if (!cards) fail(where + ".cards", "must be a table of card numbers");
    for (const auto& [pan, behaviour] : *cards) {
      const std::string b = behaviour.value<std::string>().value_or("");
      if (!cards::luhn_valid(pan.str()) || !rails::is_sandbox_behaviour(b)) {
        fail(where + ".cards",
             "maps card numbers to decline, processing-success, processing-decline, "
             "timeout or not-sent-then-success");
      }
      o.cards.emplace(std::string(pan.str()), b);
    }
  }
  o.not_sent_sends = static_cast<int>(bounded(t, where, "not_sent_sends", 2, 1, 1000));
  if (o.latency_ms >= o.timeout_ms) fail(where + ".latency_ms", "must be below timeout_ms");
  return o;
}

// An https:// URL (every connection to a network leaves over TLS).
std::string https_url(const toml::table& t, const std::string& where, const char* key) {
  std::string url = required_string(t, where, key);
  if (url.rfind("https://", 0) != 0) fail(where + "." + key, "must be an https:// URL");
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// A file the connector reads at start: a path, or the name of an environment variable holding one
// (`<key>_env`), never the secret itself in the config.
std::string file_path(const toml::table& t, const std::string& where, const char* key,
                      bool required) {
  std::string path = get_or<std::string>(t, where, key, "");
  const std::string env_key = std::string(key) + "_env";
  if (const std::string env = get_or<std::string>(t, where, env_key.c_str(), ""); !env.empty()) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read once while the config loads, before any thread.
    const char* value = std::getenv(env.c_str());
    if (!value || !*value) fail(where + "." + env_key, "names an unset environment variable");
    path = value;
  }
  if (required && path.empty())
    fail(where + "." + key, "is required (a file path, or " + env_key + ")");
  return path;
}

rails::BreakerOptions breaker_options(const toml::table& t, const std::string& where) {
  rails::BreakerOptions b;
  b.failures = static_cast<int>(bounded(t, where, "breaker_failures", b.failures, 0, 10'000));
  b.open_ms = bounded(t, where, "breaker_open_ms", b.open_ms, 100, 3'600'000);
  return b;
}

// The keys every network connector has: its pool, its deadlines (`timeout_ms` defaulting to
// `timeout_default_ms`), its breaker and its quiet period.
template <typename Options>
void connector_keys(const toml::table& t, const std::string& where, std::int64_t timeout_default_ms,
                    Options& o) {
  o.connections_max = static_cast<int>(bounded(t, where, "connections_max", 8, 1, 256));
  o.queue_max = static_cast<int>(bounded(t, where, "queue_max", 256, 1, 100'000));
  o.connect_timeout_ms = bounded(t, where, "connect_timeout_ms", 5000, 100, 60'000);
  o.timeout_ms = bounded(t, where, "timeout_ms", timeout_default_ms, 1000, 600'000);
  o.not_found_after_ms = bounded(t, where, "not_found_after_ms", 120'000, 0, 86'400'000);
  o.breaker = breaker_options(t, where);
}

rails::MastercardSendOptions mastercard_options(const toml::table& t, const std::string& where) {
  rails::MastercardSendOptions o;
  o.base_url = https_url(t, where, "base_url");
  o.partner_id = required_string(t, where, "partner_id");
  o.consumer_key = required_string(t, where, "consumer_key");
  o.signing_key_file = file_path(t, where, "signing_key_file", true);
  o.ca_file = file_path(t, where, "ca_file", false);
  connector_keys(t, where, 50'000, o);
  o.funding_source = get_or<std::string>(t, where, "funding_source", o.funding_source);
  o.payment_type = get_or<std::string>(t, where, "payment_type", o.payment_type);
  o.disbursement_funding_source =
      get_or<std::string>(t, where, "disbursement_funding_source", o.disbursement_funding_source);
  o.disbursement_payment_type =
      get_or<std::string>(t, where, "disbursement_payment_type", o.disbursement_payment_type);
  o.sender_account_uri = required_string(t, where, "sender_account_uri");
  o.payment_origination_country = get_or<std::string>(t, where, "payment_origination_country", "");
  return o;
}

// A secret the connector sends (a password): read from the file `<key>_file` (one trailing
// newline dropped) or from the environment variable `<key>_env` names; never in the config text.
std::string secret(const toml::table& t, const std::string& where, const char* key) {
  const std::string name(key);
  if (t.contains(name)) {
    fail(where + "." + name,
         "must not be in the config: use " + name + "_file or " + name + "_env");
  }
  const std::string env = get_or<std::string>(t, where, (name + "_env").c_str(), "");
  if (!env.empty()) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read once while the config loads, before any thread.
    const char* value = std::getenv(env.c_str());
    if (!value || !*value) fail(where + "." + name + "_env", "names an unset environment variable");
    return value;
  }
  const std::string path = file_path(t, where, (name + "_file").c_str(), true);
  std::ifstream in(path, std::ios::binary);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in || in.bad()) fail(where + "." + name + "_file", "cannot be read: " + path);
  if (text.ends_with('\n')) text.pop_back();
  if (text.ends_with('\r')) text.pop_back();
  if (text.empty()) fail(where + "." + name + "_file", "is empty: " + path);
  return text;
}

rails::VisaDirectOptions visa_options(const toml::table& t, const std::string& where) {
  rails::VisaDirectOptions o;
  o.base_url = https_url(t, where, "base_url");
  o.ca_file = file_path(t, where, "ca_file", false);
  o.client_cert_file = file_path(t, where, "client_cert_file", true);
  o.client_key_file = file_path(t, where, "client_key_file", true);
  o.user_id = required_string(t, where, "user_id");
  o.password = secret(t, where, "password");
  o.mle_key_id = get_or<std::string>(t, where, "mle_key_id", "");
  o.mle_server_cert_file = file_path(t, where, "mle_server_cert_file", !o.mle_key_id.empty());
  o.mle_private_key_file = file_path(t, where, "mle_private_key_file", !o.mle_key_id.empty());
  connector_keys(t, where, 40'000, o);
  o.transaction_timeout_ms = bounded(t, where, "transaction_timeout_ms", 30'000, 1, 600'000);
  if (o.transaction_timeout_ms >= o.timeout_ms) {
    fail(where + ".transaction_timeout_ms", "must be below timeout_ms");
  }
  o.acquiring_bin = required_string(t, where, "acquiring_bin");
  o.acquirer_country_code = required_string(t, where, "acquirer_country_code");
  o.business_application_id = get_or<std::string>(t, where, "business_application_id", "FD");
  o.source_of_funds_code = get_or<std::string>(t, where, "source_of_funds_code", "05");
  o.merchant_category_code = get_or<std::string>(t, where, "merchant_category_code", "");
  o.card_acceptor_name = required_string(t, where, "card_acceptor_name");
  o.card_acceptor_terminal_id = required_string(t, where, "card_acceptor_terminal_id");
  o.card_acceptor_id_code = required_string(t, where, "card_acceptor_id_code");
  o.card_acceptor_country = required_string(t, where, "card_acceptor_country");
  o.card_acceptor_state = get_or<std::string>(t, where, "card_acceptor_state", "");
  o.card_acceptor_zip_code = get_or<std::string>(t, where, "card_acceptor_zip_code", "");
  o.card_acceptor_county = get_or<std::string>(t, where, "card_acceptor_county", "");
  o.sender_name = get_or<std::string>(t, where, "sender_name", "");
  o.sender_country_code = get_or<std::string>(t, where, "sender_country_code", "");
  o.sender_state_code = get_or<std::string>(t, where, "sender_state_code", "");
  const std::string offset = get_or<std::string>(t, where, "local_utc_offset", "Z");
  const std::optional<int> minutes = parse_utc_offset_minutes(offset);
  if (!minutes) fail(where + ".local_utc_offset", "must be Z or +hh:mm / -hh:mm");
  o.local_utc_offset_minutes = *minutes;
  return o;
}

rails::BerekeUpstreamOptions bereke_options(const toml::table& t, const std::string& where,
                                            bool sandbox) {
  rails::BerekeUpstreamOptions o;
  // A test upstream (a second payoutd) serves plain HTTP: allowed in the sandbox only.
  if (get_or<std::string>(t, where, "base_url", "").starts_with("http://")) {
    if (!sandbox) fail(where + ".base_url", "must be an https:// URL outside the sandbox");
    o.plain_http = rails::PlainHttp::kAllowedInSandbox;
    o.base_url = required_string(t, where, "base_url");
  } else {
    o.base_url = https_url(t, where, "base_url");
  }
  o.user_name = required_string(t, where, "user_name");
  o.password = secret(t, where, "password");
  if (o.user_name.size() > 30 || o.password.size() > 30) {
    fail(where, "user_name and the password have at most 30 characters (the module's limit)");
  }
  o.ca_file = file_path(t, where, "ca_file", false);
  connector_keys(t, where, 30'000, o);
  return o;
}

RailConfig legacy_rail(const toml::table& rail) {
  const std::string kind = get_or<std::string>(rail, "rail", "kind", "sandbox");
  if (kind != "sandbox") {
    fail("rail.kind", "must be sandbox (the other kinds are configured in [[rails]])");
  }
  RailConfig r{std::string(rails::kLegacyRail), kind, sandbox_options(rail, "rail")};
  r.sandbox.name = r.name;
  return r;
}

RailConfig listed_rail(const toml::table& t, const std::string& where, bool sandbox) {
  RailConfig r;
  r.name = required_string(t, where, "name");
  if (!valid_rail_name(r.name)) {
    fail(where + ".name", "must be 1 to 32 characters of a-z, 0-9 and '-'");
  }
  r.kind = required_string(t, where, "kind");
  if (r.kind == "sandbox") {
    r.sandbox = sandbox_options(t, where);
    r.sandbox.name = r.name;
  } else if (r.kind == "mastercard-send") {
    r.mastercard = mastercard_options(t, where);
    r.mastercard.name = r.name;
  } else if (r.kind == "visa-direct") {
    r.visa = visa_options(t, where);
    r.visa.name = r.name;
  } else if (r.kind == "bereke") {
    r.bereke = bereke_options(t, where, sandbox);
    r.bereke.name = r.name;
  } else {
    fail(where + ".kind", "must be sandbox, mastercard-send, visa-direct or bereke");
  }
  return r;
}

void load_rail_list(const toml::table& root, Config& config) {
  const toml::node* listed = root.get("rails");
  const bool legacy = !listed || root.get("rail") != nullptr;
  if (legacy) config.rails.push_back(legacy_rail(section(root, "rail")));
  if (!listed) return;
  const toml::array* list = listed->as_array();
  if (!list || !list->is_array_of_tables()) fail("rails", "must be [[rails]] tables");
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string where = "rails[" + std::to_string(i) + "]";
    RailConfig r = listed_rail(*list->get(i)->as_table(), where, config.sandbox);
    for (const RailConfig& existing : config.rails) {
      if (existing.name == r.name) fail(where + ".name", "another rail has the name " + r.name);
    }
    config.rails.push_back(std::move(r));
  }
}

std::vector<std::string> string_list(const toml::table& t, const std::string& where,
                                     const char* key) {
  std::vector<std::string> out;
  const toml::node* node = t.get(key);
  if (!node) return out;
  const toml::array* list = node->as_array();
  if (!list) fail(where + "." + key, "must be a list of strings");
  for (const toml::node& n : *list) {
    const auto s = n.value_exact<std::string>();
    if (!s || s->empty()) fail(where + "." + key, "must be a list of strings");
    out.push_back(*s);
  }
  return out;
}

rails::RouteRule rule_of(const toml::table& t, const std::string& where) {
  rails::RouteRule rule;
  rule.schemes = string_list(t, where, "schemes");
  rule.countries = string_list(t, where, "countries");
  rule.currencies = string_list(t, where, "currencies");
  for (const std::string& code : rule.currencies) {
    if (!Currency::from_code(code)) fail(where + ".currencies", "no such currency: " + code);
  }
  const bool band = t.contains("amount_min") || t.contains("amount_max");
  if (band) {
    if (rule.currencies.size() != 1) {
      fail(where + ".currencies", "an amount band needs exactly one currency");
    }
    const Currency currency = *Currency::from_code(rule.currencies.front());
    rule.amount_min = config::minor_of(t, where, "amount_min", currency, "0");
    if (t.contains("amount_max")) {
      rule.amount_max = config::minor_of(t, where, "amount_max", currency, "0");
    }
  }
  rule.rail = required_string(t, where, "rail");
  rule.fallback = get_or<std::string>(t, where, "fallback", "");
  return rule;
}

void add_tenant_routing(const toml::table& t, const std::string& where,
                        const std::vector<std::string>& names, Config& config) {
  const std::optional<Tenant> tenant = Tenant::parse(required_string(t, where, "tenant"));
  const std::vector<Tenant>& tenants = config.admin.tenants;
  if (!tenant || std::find(tenants.begin(), tenants.end(), *tenant) == tenants.end()) {
    fail(where + ".tenant",
         "no such tenant in this config (qiwi:<product>, bereke:<partner>, ecommpay:<project>)");
  }
  std::vector<rails::RouteRule> rules;
  if (const toml::node* node = t.get("rules")) {
    const toml::array* list = node->as_array();
    if (!list || !list->is_array_of_tables()) fail(where + ".rules", "must be tables");
    for (std::size_t i = 0; i < list->size(); ++i) {
      rules.push_back(
          rule_of(*list->get(i)->as_table(), where + ".rules[" + std::to_string(i) + "]"));
    }
  }
  const std::string fallback_default = get_or<std::string>(t, where, "default", "");
  if (auto problem = config.routing.add(*tenant, std::move(rules), fallback_default, names)) {
    fail(where, *problem);
  }
}

void load_routing(const toml::table& root, Config& config) {
  std::vector<std::string> names;
  for (const RailConfig& r : config.rails) names.push_back(r.name);
  const toml::table& routing = section(root, "routing");
  const std::string all_default = get_or<std::string>(routing, "routing", "default", names.front());
  if (std::find(names.begin(), names.end(), all_default) == names.end()) {
    fail("routing.default", "no rail is named " + all_default);
  }
  config.routing = rails::Routing(all_default);
  const toml::node* node = routing.get("tenants");
  if (!node) return;
  const toml::array* list = node->as_array();
  if (!list || !list->is_array_of_tables()) fail("routing.tenants", "must be [[routing.tenants]]");
  for (std::size_t i = 0; i < list->size(); ++i) {
    add_tenant_routing(*list->get(i)->as_table(), "routing.tenants[" + std::to_string(i) + "]",
                       names, config);
  }
}

}  // namespace

void load_rails(const toml::table& root, Config& config) {
  load_rail_list(root, config);
  load_routing(root, config);
  const toml::table& rail = section(root, "rail");
  engine::CardEngineOptions& e = config.card_engine;
  e.reconcile_first_ms = bounded(rail, "rail", "reconcile_first_ms", 1000, 10, 3'600'000);
  e.reconcile_max_ms = bounded(rail, "rail", "reconcile_max_ms", 60'000, 10, 86'400'000);
  std::int64_t slowest_ms = 0;
  for (const RailConfig& r : config.rails) slowest_ms = std::max(slowest_ms, r.timeout_ms());
  e.resend_after_ms = std::max<std::int64_t>(slowest_ms * 2, 5000);
  e.waiter_timeout_ms = slowest_ms + 5000;
}

}  // namespace payoutd::app
