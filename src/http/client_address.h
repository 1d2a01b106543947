#pragma once
// Who the client of a request is when proxies stand between it and the server (docs/proxies.md).
// A connection's TCP peer is the client unless that peer is a trusted proxy
// (`server.trusted_proxies`); then the client is what the proxy says: the source address of the
// PROXY protocol header it sent first (on a `server.proxy_protocol` listener), or else the
// forwarding header it added to the request (X-Forwarded-For, or RFC 7239's Forwarded). From any
// other peer those headers are ignored, and a PROXY protocol listener closes its connections.
// The parsers are pure (any thread); a ClientOrigin belongs to one connection's thread.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/network.h"
#include "http/proxy_protocol.h"

namespace payoutd::http {

// Which forwarding header a trusted proxy writes. Exactly one is read: a proxy manages one of
// them, and passes the other through as its client wrote it, so reading both would let a client
// name itself.
enum class ForwardedHeader : std::uint8_t {
  kXForwardedFor,  // "X-Forwarded-For: client, proxy1, proxy2" (haproxy's `option forwardfor`)
  kForwarded,      // RFC 7239: "Forwarded: for=client;proto=https, for=proxy1"
};

struct ClientAddressOptions {
  // The peers whose word about the client is taken. Empty (the default): every connection's
  // client is its TCP peer, and nothing below applies.
  std::vector<Network> trusted_proxies;
  // Every connection begins with a PROXY protocol header (haproxy's `send-proxy`,
  // `send-proxy-v2`): a trusted peer's connection is closed without one, an untrusted peer's is
  // closed at once. The forwarding headers are then ignored (a proxy relaying TCP does not
  // touch them; they are its client's).
  bool proxy_protocol = false;
  ForwardedHeader forwarded_header = ForwardedHeader::kXForwardedFor;

  // Whether requests' forwarding headers are read at all.
  bool reads_forwarded_header() const { return !trusted_proxies.empty() && !proxy_protocol; }
};

// More hops than any real chain of proxies has; a longer list is refused as malformed.
inline constexpr std::size_t kForwardedHopsMax = 32;

// The addresses a forwarding header lists, the original client first. Fixed size: no allocation.
struct ForwardedChain {
  std::array<IpAddress, kForwardedHopsMax> hops{};
  std::size_t size = 0;
};

// X-Forwarded-For's value (its field lines joined by ","): addresses separated by commas and
// optional whitespace, each an IPv4 or IPv6 address, possibly "[IPv6]", possibly with ":port".
// nullopt when empty, when any element is not an address ("unknown", a host name, an empty
// element) or when there are more than kForwardedHopsMax.
std::optional<ForwardedChain> parse_x_forwarded_for(std::string_view value);

// Forwarded's value (RFC 7239, field lines joined by ","): the `for` parameter of each element,
// a token or a quoted string naming an IPv4 address or a bracketed IPv6 one, each with an optional
// port. nullopt when the syntax is broken, when an element has no `for` or two, when a `for` is
// "unknown" or an obfuscated identifier ("_hidden": it names no address), or beyond
// kForwardedHopsMax.
std::optional<ForwardedChain> parse_forwarded(std::string_view value);

// The client of a chain that reached us through a trusted proxy: the right-most address that is
// not itself a trusted proxy (every hop to its right is a proxy we trust, which appended what it
// saw; what lies left of it was written by the untrusted client and may be forged); when every
// address is a trusted proxy, the left-most. `chain` is not empty.
IpAddress client_of_chain(const ForwardedChain& chain, std::span<const Network> trusted);

// The client a trusted proxy's forwarding header names: nullopt when the header is malformed
// (the peer is then the client).
std::optional<IpAddress> forwarded_client(std::string_view value, ForwardedHeader header,
                                          std::span<const Network> trusted);

// What one connection knows of its client: the TCP peer, whether it is a trusted proxy, and the
// address its PROXY header named. Used on the connection's own thread only.
class ClientOrigin {
 public:
  enum class Start : std::uint8_t {
    kRequests,     // read requests
    kProxyHeader,  // read the PROXY header first (parse_proxy_header), then requests
    kRefuse,       // close the connection: a PROXY listener's peer that is no trusted proxy
  };

  // At the connection's start: its TCP peer's address as the socket reports it (empty when the
  // socket could not say). `options` outlives this object.
  Start connect(std::string peer, const ClientAddressOptions& options);

  // After the PROXY header (a kHeader step) was read: its source, when it names one, is the
  // connection's client.
  void proxied(const ProxyHeader& header);

  // The client address of a request on this connection, given its forwarding header's value
  // (empty when it has none, or when it is not read): text as IpAddress::to_string writes it when
  // a proxy named it, the peer's as the socket wrote it otherwise.
  std::string address_of(std::string_view forwarded) const;

  // The TCP peer's address.
  const std::string& peer() const { return peer_; }

 private:
  const ClientAddressOptions* options_ = nullptr;
  std::string peer_;
  std::string proxied_;  // the PROXY header's source; empty when it named none
  bool peer_trusted_ = false;
};

}  // namespace payoutd::http
