#include "http/client_address.h"

#include <algorithm>

namespace payoutd::http {
namespace {

// A node's text is an address, brackets and a port: longer is no node.
constexpr std::size_t kNodeTextMax = 64;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// RFC 9110's tchar.
bool is_tchar(char c) {
  return is_alnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

void skip_ows(std::string_view& s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
}

// RFC 7239's node-port: up to five digits, or an obfuscated port ("_" and letters, digits, ".",
// "_", "-").
bool valid_node_port(std::string_view port) {
  if (port.empty()) return false;
  if (port.front() == '_') {
    return port.size() > 1 && std::all_of(port.begin() + 1, port.end(), [](char c) {
             return is_alnum(c) || c == '.' || c == '_' || c == '-';
           });
  }
  return port.size() <= 5 && std::all_of(port.begin(), port.end(), is_digit);
}

// A forwarding node: "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]", "[2001:db8::1]:4711", and,
// where `bare_ipv6` (X-Forwarded-For's usual form), "2001:db8::1". nullopt for anything else
// (RFC 7239's "unknown" and obfuscated identifiers name no address).
std::optional<IpAddress> parse_node(std::string_view text, bool bare_ipv6) {
  if (text.size() > kNodeTextMax) return std::nullopt;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view after = text.substr(close + 1);
    if (!after.empty() && !(after.front() == ':' && valid_node_port(after.substr(1)))) {
      return std::nullopt;
    }
    const std::string_view inside = text.substr(1, close - 1);
    if (inside.find(':') == std::string_view::npos) return std::nullopt;  // IPv6 only
    return IpAddress::parse(inside);
  }
  if (bare_ipv6 && text.find(':') != text.rfind(':')) return IpAddress::parse(text);
  // IPv4, and its port if any: what is left of the colon holds no colon, so it is never IPv6.
  const auto colon = text.find(':');
  if (colon != std::string_view::npos && !valid_node_port(text.substr(colon + 1))) {
    return std::nullopt;
  }
  return IpAddress::parse(text.substr(0, colon));
}

// Appends `address` to `chain`; false when the chain is full.
bool append(ForwardedChain& chain, const IpAddress& address) {
  if (chain.size == kForwardedHopsMax) return false;
  chain.hops[chain.size++] = address;
  return true;
}

// A quoted-string at the start of `rest` (RFC 9110 section 5.6.4), consumed; its content
// unescaped into `out`, up to kNodeTextMax bytes (`overflow` set beyond). False if malformed.
bool take_quoted(std::string_view& rest, std::string& out, bool& overflow) {
  out.clear();
  overflow = false;
  rest.remove_prefix(1);  // the opening quote
  while (!rest.empty()) {
    char c = rest.front();
    rest.remove_prefix(1);
    if (c == '"') return true;
    if (c == '\\') {
      if (rest.empty()) return false;
      c = rest.front();
      rest.remove_prefix(1);
      if (c != '\t' && (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)) return false;
    } else if (c != '\t' && (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)) {
      return false;
    }
    if (out.size() < kNodeTextMax) {
      out.push_back(c);
    } else {
      overflow = true;
    }
  }
  return false;  // no closing quote
}

// One forwarded-pair at the start of `rest`, consumed: "name=token" or "name=\"quoted\"". When it
// is `for`, its node is set in `node` (nullopt when it names no address). False if malformed.
bool take_pair(std::string_view& rest, bool& has_for, std::optional<IpAddress>& node,
               std::string& scratch) {
  std::size_t name_bytes = 0;
  while (name_bytes < rest.size() && is_tchar(rest[name_bytes])) ++name_bytes;
  const std::string_view name = rest.substr(0, name_bytes);
  rest.remove_prefix(name_bytes);
  if (name.empty() || rest.empty() || rest.front() != '=') return false;
  rest.remove_prefix(1);
  std::string_view value;
  bool overflow = false;
  if (!rest.empty() && rest.front() == '"') {
    if (!take_quoted(rest, scratch, overflow)) return false;
    value = scratch;
  } else {
    std::size_t value_bytes = 0;
    while (value_bytes < rest.size() && is_tchar(rest[value_bytes])) ++value_bytes;
    value = rest.substr(0, value_bytes);
    rest.remove_prefix(value_bytes);
    if (value.empty()) return false;
  }
  const bool is_for =
      name.size() == 3 &&
      std::equal(name.begin(), name.end(), "for", [](char a, char b) { return (a | 0x20) == b; });
  if (!is_for) return true;
  if (has_for) return false;  // a parameter occurs once per element (RFC 7239 section 4)
  has_for = true;
  node = overflow ? std::nullopt : parse_node(value, false);
  return true;
}

// One forwarded-element at the start of `rest`, up to the next "," (not consumed). Sets `empty`
// for an element without pairs (a list may carry empty elements). False if malformed.
bool take_element(std::string_view& rest, std::optional<IpAddress>& node, bool& empty,
                  std::string& scratch) {
  bool has_for = false;
  empty = true;
  for (;;) {
    skip_ows(rest);
    if (!rest.empty() && rest.front() != ',' && rest.front() != ';') {
      if (!take_pair(rest, has_for, node, scratch)) return false;
      empty = false;
      skip_ows(rest);
    }
    if (rest.empty() || rest.front() == ',') break;
    if (rest.front() != ';') return false;
    rest.remove_prefix(1);
  }
  return empty || (has_for && node);
}

}  // namespace

std::optional<ForwardedChain> parse_x_forwarded_for(std::string_view value) {
  ForwardedChain chain;
  for (;;) {
    const auto comma = value.find(',');
    const auto node = parse_node(trim_ows(value.substr(0, comma)), true);
    if (!node || !append(chain, *node)) return std::nullopt;
    if (comma == std::string_view::npos) return chain;
    value.remove_prefix(comma + 1);
  }
}

std::optional<ForwardedChain> parse_forwarded(std::string_view value) {
  ForwardedChain chain;
  std::string scratch;
  for (;;) {
    std::optional<IpAddress> node;
    bool empty = true;
    if (!take_element(value, node, empty, scratch)) return std::nullopt;
    if (!empty && !append(chain, *node)) return std::nullopt;
    if (value.empty()) break;
    value.remove_prefix(1);  // the comma
  }
  if (chain.size == 0) return std::nullopt;
  return chain;
}

IpAddress client_of_chain(const ForwardedChain& chain, std::span<const Network> trusted) {
  for (std::size_t i = chain.size; i-- > 0;) {
    if (!any_contains(trusted, chain.hops[i])) return chain.hops[i];
  }
  return chain.hops[0];
}

std::optional<IpAddress> forwarded_client(std::string_view value, ForwardedHeader header,
                                          std::span<const Network> trusted) {
  const auto chain =
      header == ForwardedHeader::kForwarded ? parse_forwarded(value) : parse_x_forwarded_for(value);
  if (!chain) return std::nullopt;
  return client_of_chain(*chain, trusted);
}

ClientOrigin::Start ClientOrigin::connect(std::string peer, const ClientAddressOptions& options) {
  options_ = &options;
  peer_ = std::move(peer);
  if (options.trusted_proxies.empty()) return Start::kRequests;
  const auto address = IpAddress::parse(peer_);
  peer_trusted_ = address && any_contains(options.trusted_proxies, *address);
  if (!options.proxy_protocol) return Start::kRequests;
  return peer_trusted_ ? Start::kProxyHeader : Start::kRefuse;
}

void ClientOrigin::proxied(const ProxyHeader& header) {
  if (header.source) proxied_ = header.source->to_string();
}

std::string ClientOrigin::address_of(std::string_view forwarded) const {
  if (peer_trusted_ && !forwarded.empty() && !options_->proxy_protocol) {
    if (const auto client =
            forwarded_client(forwarded, options_->forwarded_header, options_->trusted_proxies)) {
      return client->to_string();
    }
  }
  return proxied_.empty() ? peer_ : proxied_;
}

}  // namespace payoutd::http
