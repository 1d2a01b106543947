#include "config/reader.h"

#include <stdexcept>

namespace payoutd::config {

void fail(const std::string& where, const std::string& what) {
  throw std::runtime_error("config " + where + ": " + what);
}

std::int64_t bounded(const toml::table& t, const std::string& where, const char* key,
                     std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const std::int64_t value = get_or<std::int64_t>(t, where, key, fallback);
  if (value < min || value > max) {
    fail(where + "." + key,
         "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

std::string required_string(const toml::table& t, const std::string& where, const char* key) {
  auto value = t[key].value<std::string>();
  if (!value || value->empty()) fail(where + "." + key, "is required (a non-empty string)");
  return *value;
}

Currency currency(const toml::table& t, const std::string& where) {
  const std::string code = required_string(t, where, "currency");
  auto c = Currency::from_code(code);
  if (!c) fail(where + ".currency", "unknown currency " + code);
  return *c;
}

std::int64_t minor_of(const toml::table& t, const std::string& where, const char* key,
                      Currency currency, const char* fallback) {
  const std::string text = get_or<std::string>(t, where, key, fallback);
  const DecimalParse parsed = parse_decimal(text, currency.exponent());
  if (parsed.error != DecimalError::kNone || parsed.minor < 0) {
    fail(where + "." + key, "must be a non-negative decimal string");
  }
  return parsed.minor;
}

std::vector<Amount> amounts_by_currency(const toml::table& t, const std::string& where,
                                        const char* key) {
  std::vector<Amount> out;
  const toml::node* node = t.get(key);
  if (!node) return out;
  const toml::table* table = node->as_table();
  if (!table) fail(where + "." + key, "must be a table of decimal strings by currency");
  for (const auto& [code, value] : *table) {
    const std::string name = where + "." + key + "." + std::string(code.str());
    const std::optional<Currency> currency = Currency::from_code(code.str());
    if (!currency) fail(name, "is not a currency payoutd knows");
    out.push_back(
        {minor_of(*table, where + "." + key, std::string(code.str()).c_str(), *currency, ""),
         *currency});
  }
  return out;
}

namespace {

// The non-empty strings of the list at `t`.`key` (named `name` in errors); empty when absent.
std::vector<std::string> string_list(const toml::table& t, const char* key, const std::string& name,
                                     const char* what) {
  std::vector<std::string> out;
  const toml::node* node = t.get(key);
  if (!node) return out;
  const toml::array* list = node->as_array();
  if (!list || list->empty()) fail(name, std::string("must be a non-empty list of ") + what);
  for (const toml::node& n : *list) {
    const auto value = n.value_exact<std::string>();
    if (!value || value->empty()) fail(name, std::string("must be a non-empty list of ") + what);
    out.push_back(*value);
  }
  return out;
}

}  // namespace

ClientCertificatePolicy client_certificate_policy(const toml::table& t, const std::string& where,
                                                  bool client_ca_configured) {
  ClientCertificatePolicy policy;
  const std::string subjects_key = where + ".client_cert_subjects";
  const std::string pins_key = where + ".client_cert_spki_sha256";
  policy.subjects = string_list(t, "client_cert_subjects", subjects_key, "RFC 2253 subjects");
  policy.spki_sha256 = string_list(t, "client_cert_spki_sha256", pins_key, "base64 SHA-256 pins");
  for (const std::string& pin : policy.spki_sha256) {
    if (!is_spki_pin(pin)) {
      fail(pins_key, "\"" + pin + "\" is not a base64 SHA-256 (44 characters ending in '=')");
    }
  }
  if (!policy.empty() && !client_ca_configured) {
    fail(policy.subjects.empty() ? pins_key : subjects_key,
         "needs [server.tls] client_ca_file: no client certificate can be verified without it");
  }
  return policy;
}

std::vector<Network> networks(const toml::table& t, const std::string& where, const char* key) {
  const toml::node* node = t.get(key);
  if (!node) return {};
  const toml::array* list = node->as_array();
  const std::string path = where + "." + key;
  if (!list)
    fail(path, "must be a list of addresses or CIDR ranges, e.g. [\"10.0.0.0/8\", \"::1\"]");
  std::vector<Network> result;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto text = (*list)[i].value_exact<std::string>();
    auto network = text ? Network::parse(*text) : std::nullopt;
    if (!network) {
      fail(path + "[" + std::to_string(i) + "]",
           "must be an IPv4 or IPv6 address or CIDR range, e.g. \"10.0.0.0/8\" or \"::1/128\"");
    }
    result.push_back(*network);
  }
  return result;
}

const toml::table& section(const toml::table& root, const char* name) {
  static const toml::table kEmpty;
  const toml::node* node = root.get(name);
  if (!node) return kEmpty;
  if (!node->is_table()) fail(name, "must be a table");
  return *node->as_table();
}

}  // namespace payoutd::config
