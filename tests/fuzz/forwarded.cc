// Fuzz target: the forwarding headers a trusted proxy adds (http::parse_x_forwarded_for,
// http::parse_forwarded) and the client they name (http::client_of_chain, http::ClientOrigin).
// The input's first byte picks the header (even: X-Forwarded-For, odd: Forwarded); the rest is
// its value.
// For any bytes:
// - no crash, leak or sanitizer report;
// - a chain has 1..kForwardedHopsMax addresses, and written back in the header's own syntax it
//   parses to the same chain;
// - with no proxy trusted, the client is the right-most address; with every address trusted,
//   the left-most;
// - a trusted peer's connection takes that client, or the peer itself when the header is
//   malformed; an untrusted peer's connection always takes the peer.
#include "check.h"
#include "http/client_address.h"

#include <string>
#include <vector>

namespace {

using payoutd::IpAddress;
using payoutd::Network;
using payoutd::http::ForwardedChain;
using payoutd::http::ForwardedHeader;

// The chain in the header's syntax: "a, b" or "for=a, for=\"[b]\"".
std::string written(const ForwardedChain& chain, ForwardedHeader header) {
  std::string value;
  for (std::size_t i = 0; i < chain.size; ++i) {
    const IpAddress& hop = chain.hops[i];
    if (i) value += ", ";
    if (header == ForwardedHeader::kXForwardedFor) {
      value += hop.to_string();
    } else {
      value += hop.size == 4 ? "for=" + hop.to_string() : "for=\"[" + hop.to_string() + "]\"";
    }
  }
  return value;
}

bool same(const ForwardedChain& a, const ForwardedChain& b) {
  if (a.size != b.size) return false;
  for (std::size_t i = 0; i < a.size; ++i) {
    if (!(a.hops[i] == b.hops[i])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ForwardedHeader header =
      data[0] % 2 == 0 ? ForwardedHeader::kXForwardedFor : ForwardedHeader::kForwarded;
  const std::string_view value = payoutd::fuzz::text_of(data + 1, size - 1);
  const auto parse = [header](std::string_view v) {
    return header == ForwardedHeader::kForwarded ? payoutd::http::parse_forwarded(v)
                                                 : payoutd::http::parse_x_forwarded_for(v);
  };
  const auto chain = parse(value);

  payoutd::http::ClientAddressOptions options;
  options.trusted_proxies = {*Network::parse("192.0.2.1/32")};
  options.forwarded_header = header;
  payoutd::http::ClientOrigin trusted_peer, stranger;
  trusted_peer.connect("192.0.2.1", options);
  stranger.connect("198.51.100.1", options);
  FUZZ_CHECK(stranger.address_of(value) == "198.51.100.1");
  if (!chain) {
    FUZZ_CHECK(trusted_peer.address_of(value) == "192.0.2.1");
    return 0;
  }
  FUZZ_CHECK(chain->size >= 1 && chain->size <= payoutd::http::kForwardedHopsMax);
  const auto again = parse(written(*chain, header));
  FUZZ_CHECK(again && same(*again, *chain));

  const std::vector<Network> nobody;
  const std::vector<Network> everybody = {*Network::parse("0.0.0.0/0"), *Network::parse("::/0")};
  FUZZ_CHECK(payoutd::http::client_of_chain(*chain, nobody) == chain->hops[chain->size - 1]);
  FUZZ_CHECK(payoutd::http::client_of_chain(*chain, everybody) == chain->hops[0]);
  const IpAddress client = payoutd::http::client_of_chain(*chain, options.trusted_proxies);
  FUZZ_CHECK(trusted_peer.address_of(value) == client.to_string());
  return 0;
}
