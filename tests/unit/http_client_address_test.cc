// The client address behind proxies (http/client_address.h): X-Forwarded-For and Forwarded
// (RFC 7239, its own examples) parsed strictly and bounded, the right-most untrusted address as
// the client, and a connection's decision from its peer, its PROXY header and its headers.
#include "http/client_address.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace payoutd::http {
namespace {

// The chain as text ("a b c"), or "(malformed)".
std::string chain_text(const std::optional<ForwardedChain>& chain) {
  if (!chain) return "(malformed)";
  std::string text;
  for (std::size_t i = 0; i < chain->size; ++i) {
    text += (i ? " " : "") + chain->hops[i].to_string();
  }
  return text;
}

std::string xff(std::string_view value) { return chain_text(parse_x_forwarded_for(value)); }
std::string fwd(std::string_view value) { return chain_text(parse_forwarded(value)); }

std::string hops(std::size_t n) {
  std::string value;
  for (std::size_t i = 0; i < n; ++i) value += (i ? ", 10.0.0." : "10.0.0.") + std::to_string(i);
  return value;
}

TEST(XForwardedFor, ListsTheAddressesClientFirst) {
  EXPECT_EQ(xff("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(xff("192.0.2.1, 198.51.100.2 ,\t10.0.0.3"), "192.0.2.1 198.51.100.2 10.0.0.3");
  EXPECT_EQ(xff("2001:db8::1, ::ffff:192.0.2.1"), "2001:db8::1 192.0.2.1");
  EXPECT_EQ(xff("[2001:db8::1]:443, 192.0.2.1:80, [::1]"), "2001:db8::1 192.0.2.1 ::1");
  EXPECT_EQ(xff(hops(kForwardedHopsMax)).size() > 0, true);
  EXPECT_NE(xff(hops(kForwardedHopsMax)), "(malformed)");
}

TEST(XForwardedFor, AnythingButAddressesIsMalformed) {
  for (const char* value : {"", " ", "unknown", "192.0.2.1,", ",192.0.2.1", "192.0.2.1,,10.0.0.1",
                            "proxy.example", "192.0.2.1 10.0.0.1", "192.0.2.1:", "192.0.2.1:123456",
                            "[2001:db8::1", "[192.0.2.1]", "2001:db8::1:80x", "_hidden"}) {
    EXPECT_EQ(xff(value), "(malformed)") << value;
  }
  EXPECT_EQ(xff(hops(kForwardedHopsMax + 1)), "(malformed)");  // bounded
}

TEST(Forwarded, ReadsTheForOfEachElement) {
  // RFC 7239's own examples (sections 4 and 7.1).
  EXPECT_EQ(fwd("For=\"[2001:db8:cafe::17]:4711\""), "2001:db8:cafe::17");
  EXPECT_EQ(fwd("for=192.0.2.60;proto=http;by=203.0.113.43"), "192.0.2.60");
  EXPECT_EQ(fwd("for=192.0.2.43, for=198.51.100.17"), "192.0.2.43 198.51.100.17");
  EXPECT_EQ(fwd("for=192.0.2.43,for=\"[2001:db8:cafe::17]\",for=10.0.0.1"),
            "192.0.2.43 2001:db8:cafe::17 10.0.0.1");
  EXPECT_EQ(fwd("proto=https; for=\"192.0.2.1:8443\"; host=\"a;b,c\""), "192.0.2.1");
  EXPECT_EQ(fwd("for=\"\\192.0.2.1\""), "192.0.2.1");                     // a quoted-pair
  EXPECT_EQ(fwd("for=192.0.2.1, , for=10.0.0.1"), "192.0.2.1 10.0.0.1");  // empty elements
}

TEST(Forwarded, WhatNamesNoAddressOrBreaksTheSyntaxIsMalformed) {
  for (const char* value : {
           "",
           "for=unknown",
           "for=\"_gazonk\"",
           "for=_hidden",                 // no address named
           "proto=https",                 // an element without `for`
           "for=192.0.2.1;for=10.0.0.1",  // `for` twice in one element
           "for=\"2001:db8::1\"",         // IPv6 without brackets
           "for=[2001:db8::1]",           // brackets need quotes
           "for=\"192.0.2.1",             // an unterminated quote
           "for=",
           "=192.0.2.1",
           "for 192.0.2.1",
           "for=192.0.2.1 x",
           "for=\"192.0.2.1\\\"",
       }) {
    EXPECT_EQ(fwd(value), "(malformed)") << value;
  }
  std::string many;
  for (std::size_t i = 0; i <= kForwardedHopsMax; ++i)
    many += (i ? ",for=10.0.0.1" : "for=10.0.0.1");
  EXPECT_EQ(fwd(many), "(malformed)");
  EXPECT_EQ(fwd("for=\"" + std::string(200, '1') + "\""), "(malformed)");
}

TEST(ClientOfChain, IsTheRightMostAddressThatIsNoTrustedProxy) {
  const std::vector<Network> trusted = {*Network::parse("10.0.0.0/8")};
  // 192.0.2.1 came from the client itself and may be forged; 198.51.100.2 is what our proxy
  // 10.0.0.2 saw connect to it.
  EXPECT_EQ(forwarded_client("192.0.2.1, 198.51.100.2, 10.0.0.2", ForwardedHeader::kXForwardedFor,
                             trusted)
                ->to_string(),
            "198.51.100.2");
  EXPECT_EQ(
      forwarded_client("10.0.0.9, 10.0.0.2", ForwardedHeader::kXForwardedFor, trusted)->to_string(),
      "10.0.0.9");  // every hop trusted: the left-most
  EXPECT_EQ(forwarded_client("for=192.0.2.1, for=10.0.0.2", ForwardedHeader::kForwarded, trusted)
                ->to_string(),
            "192.0.2.1");
  EXPECT_FALSE(forwarded_client("for=192.0.2.1", ForwardedHeader::kXForwardedFor, trusted));
  EXPECT_FALSE(forwarded_client("192.0.2.1", ForwardedHeader::kForwarded, trusted));
}

ClientAddressOptions trusting(const char* network, bool proxy_protocol = false) {
  ClientAddressOptions options;
  options.trusted_proxies = {*Network::parse(network)};
  options.proxy_protocol = proxy_protocol;
  return options;
}

TEST(ClientOrigin, WithoutTrustedProxiesThePeerIsTheClient) {
  const ClientAddressOptions none;
  ClientOrigin origin;
  EXPECT_EQ(origin.connect("127.0.0.1", none), ClientOrigin::Start::kRequests);
  EXPECT_EQ(origin.address_of("192.0.2.1"), "127.0.0.1");
}

TEST(ClientOrigin, ATrustedPeersHeaderNamesTheClientAndAStrangersIsIgnored) {
  const ClientAddressOptions options = trusting("10.0.0.0/8");
  ClientOrigin proxy;
  EXPECT_EQ(proxy.connect("10.0.0.2", options), ClientOrigin::Start::kRequests);
  EXPECT_EQ(proxy.address_of("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(proxy.address_of(""), "10.0.0.2");                 // no header: the proxy itself
  EXPECT_EQ(proxy.address_of("192.0.2.1, junk"), "10.0.0.2");  // malformed: ignored
  ClientOrigin stranger;
  EXPECT_EQ(stranger.connect("198.51.100.9", options), ClientOrigin::Start::kRequests);
  EXPECT_EQ(stranger.address_of("192.0.2.1"), "198.51.100.9");
}

TEST(ClientOrigin, OnAProxyProtocolListenerOnlyTheHeaderCounts) {
  const ClientAddressOptions options = trusting("10.0.0.0/8", true);
  ClientOrigin stranger;
  EXPECT_EQ(stranger.connect("198.51.100.9", options), ClientOrigin::Start::kRefuse);
  ClientOrigin proxy;
  EXPECT_EQ(proxy.connect("10.0.0.2", options), ClientOrigin::Start::kProxyHeader);
  proxy.proxied(parse_proxy_header("PROXY TCP4 192.0.2.7 10.0.0.2 5000 443\r\n"));
  EXPECT_EQ(proxy.address_of(""), "192.0.2.7");
  EXPECT_EQ(proxy.address_of("203.0.113.5"), "192.0.2.7");  // a relayed client's header
  EXPECT_EQ(proxy.peer(), "10.0.0.2");
  ClientOrigin checker;
  EXPECT_EQ(checker.connect("10.0.0.3", options), ClientOrigin::Start::kProxyHeader);
  checker.proxied(parse_proxy_header("PROXY UNKNOWN\r\n"));
  EXPECT_EQ(checker.address_of(""), "10.0.0.3");
}

}  // namespace
}  // namespace payoutd::http
