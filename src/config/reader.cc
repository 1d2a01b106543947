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
