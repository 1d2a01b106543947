#pragma once
// IP addresses and address ranges (CIDR networks), as allowlists and trusted proxies name them in
// the config and as connections and proxy headers report them. Pure; any thread; no allocation
// but the text an address is written as.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace payoutd {

// An IPv4 or IPv6 address, its bytes in network order. An IPv4-mapped IPv6 address
// (::ffff:a.b.c.d, how a dual-stack socket shows an IPv4 peer) is that IPv4 address, so one
// client has one address whichever socket saw it.
struct IpAddress {
  std::array<unsigned char, 16> bytes{};
  std::uint8_t size = 0;  // 4 or 16 once parsed

  // An IPv4 dotted quad or an IPv6 address in any of its text forms (inet_pton's: no zone, no
  // brackets, no port); nullopt for anything else, including a NUL inside `text`.
  static std::optional<IpAddress> parse(std::string_view text);
  // From its bytes: 4 (IPv4) or 16 (IPv6, mapped ones made IPv4); nullopt for another size.
  static std::optional<IpAddress> from_bytes(std::span<const unsigned char> bytes);

  // The canonical text (RFC 5952 for IPv6), as parse() reads it back.
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// An address range: "10.0.0.0/8", "2001:db8::/32", or one address ("192.0.2.1", "::1"). Bits
// beyond the prefix are ignored ("10.1.2.3/8" is 10.0.0.0/8). An IPv4 range never contains an
// IPv6 address nor the other way round (mapped addresses are IPv4, above).
struct Network {
  IpAddress address;
  int prefix_bits = 0;

  // nullopt when malformed: not an address, a prefix that is not 0..32 (IPv4) or 0..128 (IPv6)
  // in decimal digits, or an empty one ("10.0.0.0/").
  static std::optional<Network> parse(std::string_view text);

  bool contains(const IpAddress& candidate) const;
  // False unless `address_text` is an address (IpAddress::parse).
  bool contains(std::string_view address_text) const;
};

// Whether any of `networks` contains `address`.
bool any_contains(std::span<const Network> networks, const IpAddress& address);

}  // namespace payoutd
