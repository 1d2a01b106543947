#include "http/proxy_protocol.h"

#include <algorithm>
#include <array>

namespace payoutd::http {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::array<unsigned char, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                        0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t kV2PreambleBytes = 16;
// Version 2's address blocks: two addresses and two ports.
constexpr std::size_t kV2Inet4Bytes = 12;
constexpr std::size_t kV2Inet6Bytes = 36;
constexpr std::size_t kV2UnixBytes = 216;

ProxyHeader more() { return {}; }
ProxyHeader invalid() { return {ProxyHeaderStep::kInvalid, 0, std::nullopt}; }

// True while `bytes` could still be the beginning of `prefix`.
bool begins(std::string_view bytes, std::string_view prefix) {
  const std::size_t n = std::min(bytes.size(), prefix.size());
  return bytes.substr(0, n) == prefix.substr(0, n);
}

// The next space-separated field of a version 1 line; empty when there is none or it is empty
// (two spaces in a row), which the line's grammar forbids.
std::string_view next_field(std::string_view& rest) {
  const auto space = rest.find(' ');
  const std::string_view field = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  return field;
}

bool valid_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  int value = 0;
  for (const char c : text) value = value * 10 + (c - '0');
  return value <= 65535;
}

// "<src> <dst> <sport> <dport>" after "TCP4 " (`ipv6` false) or "TCP6 ": the source address;
// nullopt if malformed. The family is the text's: "::ffff:192.0.2.7" is TCP6's, though it names
// an IPv4 address (IpAddress).
std::optional<IpAddress> v1_tcp_source(std::string_view rest, bool ipv6) {
  std::optional<IpAddress> addresses[2];
  for (auto& address : addresses) {
    const std::string_view text = next_field(rest);
    address = IpAddress::parse(text);
    if (!address || (text.find(':') != std::string_view::npos) != ipv6) return std::nullopt;
  }
  // The last port is the rest of the line: a trailing space makes it no port.
  if (!valid_port(next_field(rest)) || !valid_port(rest)) return std::nullopt;
  return addresses[0];
}

ProxyHeader parse_v1(std::string_view bytes) {
  const auto line_end = bytes.substr(0, kProxyV1BytesMax).find('\n');
  if (line_end == std::string_view::npos) {
    return bytes.size() < kProxyV1BytesMax ? more() : invalid();
  }
  if (line_end == 0 || bytes[line_end - 1] != '\r') return invalid();
  const std::size_t length = line_end + 1;
  std::string_view rest = bytes.substr(kV1Prefix.size(), line_end - 1 - kV1Prefix.size());
  if (rest.find('\r') != std::string_view::npos || rest.find('\0') != std::string_view::npos) {
    return invalid();
  }
  const std::string_view protocol = next_field(rest);
  // UNKNOWN: the proxy cannot say (anything may follow it on the line, and is ignored).
  if (protocol == "UNKNOWN") return {ProxyHeaderStep::kHeader, length, std::nullopt};
  if (protocol != "TCP4" && protocol != "TCP6") return invalid();
  auto source = v1_tcp_source(rest, protocol == "TCP6");
  if (!source) return invalid();
  return {ProxyHeaderStep::kHeader, length, source};
}

ProxyHeader parse_v2(std::string_view bytes) {
  if (bytes.size() < kV2PreambleBytes) return more();
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  const unsigned version = byte(12) >> 4, command = byte(12) & 0x0F;
  const unsigned family = byte(13) >> 4, transport = byte(13) & 0x0F;
  if (version != 2 || command > 1 || family > 3 || transport > 2) return invalid();
  const std::size_t body_bytes = (std::size_t{byte(14)} << 8) | byte(15);
  const std::size_t length = kV2PreambleBytes + body_bytes;
  if (length > kProxyV2BytesMax) return invalid();
  // The family's addresses must fit in what the header says it carries, whatever the command.
  const std::size_t needed = family == 1   ? kV2Inet4Bytes
                             : family == 2 ? kV2Inet6Bytes
                             : family == 3 ? kV2UnixBytes
                                           : 0;
  if (body_bytes < needed) return invalid();
  if (bytes.size() < length) return more();
  const bool tcp_over_ip = command == 1 && transport == 1 && (family == 1 || family == 2);
  if (!tcp_over_ip) return {ProxyHeaderStep::kHeader, length, std::nullopt};
  const auto* source = reinterpret_cast<const unsigned char*>(bytes.data()) + kV2PreambleBytes;
  // A mapped IPv6 source is its IPv4 address (IpAddress), as any other path reports it.
  return {ProxyHeaderStep::kHeader, length,
          IpAddress::from_bytes({source, family == 1 ? std::size_t{4} : std::size_t{16}})};
}

}  // namespace

ProxyHeader parse_proxy_header(std::string_view bytes) {
  if (bytes.empty()) return more();
  if (begins(bytes, kV1Prefix)) {
    return bytes.size() < kV1Prefix.size() ? more() : parse_v1(bytes);
  }
  const std::string_view signature(reinterpret_cast<const char*>(kV2Signature.data()),
                                   kV2Signature.size());
  if (begins(bytes, signature)) return parse_v2(bytes);
  return invalid();
}

}  // namespace payoutd::http
