#include "core/network.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace payoutd {
namespace {

// The longest text form of an IPv6 address with an embedded IPv4 one (INET6_ADDRSTRLEN - 1).
constexpr std::size_t kAddressTextMax = 45;

constexpr std::array<unsigned char, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton reads a C string: a NUL inside `text` would end it early and pass a prefix.
  if (text.empty() || text.size() > kAddressTextMax || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  char terminated[kAddressTextMax + 1];
  std::memcpy(terminated, text.data(), text.size());
  terminated[text.size()] = '\0';
  unsigned char buffer[16];
  if (inet_pton(AF_INET, terminated, buffer) == 1) return from_bytes({buffer, 4});
  if (inet_pton(AF_INET6, terminated, buffer) == 1) return from_bytes({buffer, 16});
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::from_bytes(std::span<const unsigned char> bytes) {
  if (bytes.size() == 16 && std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), bytes.begin())) {
    bytes = bytes.subspan(12);
  }
  if (bytes.size() != 4 && bytes.size() != 16) return std::nullopt;
  IpAddress a;
  a.size = static_cast<std::uint8_t>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), a.bytes.begin());
  return a;
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(size == 4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text);
  return text;
}

std::optional<Network> Network::parse(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  Network n{*address, address->size * 8};
  if (slash == std::string_view::npos) return n;
  const std::string_view bits = text.substr(slash + 1);
  if (bits.empty() || bits.size() > 3) return std::nullopt;
  int value = 0;
  for (const char c : bits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > n.prefix_bits) return std::nullopt;
  n.prefix_bits = value;
  return n;
}

bool Network::contains(const IpAddress& candidate) const {
  if (candidate.size != address.size) return false;
  const int whole_bytes = prefix_bits / 8;
  if (!std::equal(address.bytes.begin(), address.bytes.begin() + whole_bytes,
                  candidate.bytes.begin())) {
    return false;
  }
  const int rest_bits = prefix_bits % 8;
  if (rest_bits == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest_bits));
  return (address.bytes[whole_bytes] & mask) == (candidate.bytes[whole_bytes] & mask);
}

bool Network::contains(std::string_view address_text) const {
  const auto candidate = IpAddress::parse(address_text);
  return candidate && contains(*candidate);
}

bool any_contains(std::span<const Network> networks, const IpAddress& address) {
  return std::any_of(networks.begin(), networks.end(),
                     [&](const Network& n) { return n.contains(address); });
}

}  // namespace payoutd
