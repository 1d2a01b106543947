// IP addresses and CIDR ranges (core/network.h): what the ecommpay allowlists, the trusted
// proxies and the throttles' address keys read.
#include "core/network.h"

#include <gtest/gtest.h>

#include <string>

namespace payoutd {
namespace {

std::string canonical(std::string_view text) {
  const auto address = IpAddress::parse(text);
  return address ? address->to_string() : "(none)";
}

TEST(IpAddress, ReadsIPv4AndIPv6AndAMappedAddressIsItsIPv4One) {
  EXPECT_EQ(canonical("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(IpAddress::parse("192.0.2.7")->size, 4);
  EXPECT_EQ(canonical("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
  EXPECT_EQ(IpAddress::parse("::1")->size, 16);
  EXPECT_EQ(canonical("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(IpAddress::parse("::ffff:192.0.2.7"), IpAddress::parse("192.0.2.7"));
}

TEST(IpAddress, RefusesWhatIsNotExactlyAnAddress) {
  for (const std::string_view text :
       {std::string_view(""), std::string_view("192.0.2"), std::string_view("192.0.2.256"),
        std::string_view("01.2.3.4"), std::string_view(" 192.0.2.7"), std::string_view("[::1]"),
        std::string_view("192.0.2.7:80"), std::string_view("fe80::1%eth0"),
        std::string_view("localhost"), std::string_view("192.0.2.7\0junk", 12),
        std::string_view("1111:2222:3333:4444:5555:6666:7777:8888:9999")}) {
    EXPECT_FALSE(IpAddress::parse(text).has_value()) << text;
  }
}

TEST(Network, ContainsTheAddressesOfItsPrefix) {
  const auto ten = *Network::parse("10.0.0.0/8");
  EXPECT_TRUE(ten.contains("10.255.1.1"));
  EXPECT_TRUE(ten.contains("::ffff:10.0.0.1"));  // an IPv4 peer on a dual-stack socket
  EXPECT_FALSE(ten.contains("11.0.0.1"));
  EXPECT_FALSE(ten.contains("::a00:1"));  // IPv6, whatever its bytes
  EXPECT_FALSE(ten.contains("not an address"));
  const auto odd = *Network::parse("192.0.2.128/25");
  EXPECT_TRUE(odd.contains("192.0.2.255"));
  EXPECT_FALSE(odd.contains("192.0.2.127"));
  const auto host = *Network::parse("::1");
  EXPECT_TRUE(host.contains("::1"));
  EXPECT_FALSE(host.contains("::2"));
  EXPECT_TRUE(Network::parse("10.1.2.3/8")->contains("10.9.9.9"));  // host bits ignored
  EXPECT_TRUE(Network::parse("0.0.0.0/0")->contains("203.0.113.1"));
  EXPECT_FALSE(Network::parse("0.0.0.0/0")->contains("2001:db8::1"));
  EXPECT_TRUE(Network::parse("2001:db8::/32")->contains("2001:db8:ffff::1"));
  EXPECT_FALSE(Network::parse("2001:db8::/32")->contains("2001:db9::1"));
}

TEST(Network, RefusesMalformedRanges) {
  for (const char* text : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                           "10.0.0.0/1000", "x/8", "/8", "10.0.0.0/8/8"}) {
    EXPECT_FALSE(Network::parse(text).has_value()) << text;
  }
}

TEST(Network, AnyContainsLooksAtEveryRange) {
  const std::vector<Network> list = {*Network::parse("10.0.0.0/8"), *Network::parse("::1/128")};
  EXPECT_TRUE(any_contains(list, *IpAddress::parse("::1")));
  EXPECT_TRUE(any_contains(list, *IpAddress::parse("10.0.0.1")));
  EXPECT_FALSE(any_contains(list, *IpAddress::parse("127.0.0.1")));
  EXPECT_FALSE(any_contains({}, *IpAddress::parse("127.0.0.1")));
}

}  // namespace
}  // namespace payoutd
