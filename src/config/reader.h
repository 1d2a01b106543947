#pragma once
// Typed reading of the config file's TOML, shared by the app's sections and each provider's:
// every value of exactly the type asked for, bounded where an operator could get it wrong, and
// every failure a std::runtime_error that names the file's key ("config bereke.partners[0].knp:
// is 3 digits").
#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/client_certificate.h"
#include "core/money.h"
#include "core/network.h"

namespace payoutd::config {

// Throws "config <where>: <what>".
[[noreturn]] void fail(const std::string& where, const std::string& what);

// The value at `key`, or `fallback` when absent; exactly type T: toml++'s permissive value<T>()
// would read `sandbox = 1` as true, 2.0 as the integer 2, and a float beyond int64 through an
// undefined conversion.
template <typename T>
T get_or(const toml::table& t, const std::string& where, const char* key, T fallback) {
  const toml::node* node = t.get(key);
  if (!node) return fallback;
  auto value = node->value_exact<T>();
  if (!value) fail(where + "." + key, "has the wrong type");
  return *value;
}

// An integer in [min, max].
std::int64_t bounded(const toml::table& t, const std::string& where, const char* key,
                     std::int64_t fallback, std::int64_t min, std::int64_t max);
// A non-empty string.
std::string required_string(const toml::table& t, const std::string& where, const char* key);
// The known currency at `where`.currency.
Currency currency(const toml::table& t, const std::string& where);
// A non-negative decimal string in `currency`, as minor units.
std::int64_t minor_of(const toml::table& t, const std::string& where, const char* key,
                      Currency currency, const char* fallback);
// A table of non-negative decimal strings by currency code at `key` ({ RUB = "100000.00" }), as
// amounts in minor units; empty when absent. Refuses an unknown currency and a malformed amount,
// naming the key.
std::vector<Amount> amounts_by_currency(const toml::table& t, const std::string& where,
                                        const char* key);
// `where`.client_cert_subjects and `where`.client_cert_spki_sha256 (core/client_certificate.h):
// lists of RFC 2253 subjects and base64 SPKI pins; absent, credentials alone. Set without
// `client_ca_configured` ([server.tls] client_ca_file), no certificate could ever be verified:
// refused, naming the key.
ClientCertificatePolicy client_certificate_policy(const toml::table& t, const std::string& where,
                                                  bool client_ca_configured);

// A list of IP addresses and CIDR ranges ("10.0.0.0/8", "::1"); empty when absent. Refuses
// another type and any entry that is not a string naming an address or a range, naming its index.
std::vector<Network> networks(const toml::table& t, const std::string& where, const char* key);
// The table `name` of `root`, or an empty one when absent.
const toml::table& section(const toml::table& root, const char* name);

}  // namespace payoutd::config
