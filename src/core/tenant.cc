#include "core/tenant.h"

#include "core/assert.h"

namespace payoutd {

namespace {
constexpr char kSeparator = ':';
}  // namespace

std::string Tenant::key() const {
  // A provider's name is a constant of ours: a bad one is a bug, and its keys would not parse.
  PAYOUTD_ASSERT(!provider.empty() && provider.find(kSeparator) == std::string::npos,
                 "a provider's name is not empty and has no ':'");
  std::string key;
  key.reserve(provider.size() + 1 + id.size());
  key.append(provider).push_back(kSeparator);
  key.append(id);
  return key;
}

std::optional<Tenant> Tenant::parse(std::string_view key) {
  const std::size_t sep = key.find(kSeparator);
  if (sep == std::string_view::npos || sep == 0 || sep + 1 == key.size()) return std::nullopt;
  return Tenant{std::string(key.substr(0, sep)), std::string(key.substr(sep + 1))};
}

}  // namespace payoutd
