// The PROXY protocol header (http/proxy_protocol.h), versions 1 and 2 as haproxy sends them:
// what names a client, what keeps the peer, what is refused, and that every proper prefix of a
// valid header asks for more bytes.
#include "http/proxy_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace payoutd::http {
namespace {

std::string source_of(std::string_view bytes) {
  const ProxyHeader h = parse_proxy_header(bytes);
  if (h.step != ProxyHeaderStep::kHeader) return "(no header)";
  return h.source ? h.source->to_string() : "(peer)";
}

void expect_prefixes_need_more(std::string_view header) {
  for (std::size_t n = 0; n < header.size(); ++n) {
    EXPECT_EQ(parse_proxy_header(header.substr(0, n)).step, ProxyHeaderStep::kMoreBytes)
        << n << " bytes of " << header.size();
  }
}

// A version 2 header: command (0 LOCAL, 1 PROXY), family and transport byte, the address block
// and TLVs as given, the length their size unless `length` says otherwise.
std::string v2(unsigned command, unsigned char family, std::string body, int length = -1) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h.push_back(static_cast<char>(0x20 | command));
  h.push_back(static_cast<char>(family));
  const auto n = static_cast<unsigned>(length < 0 ? body.size() : static_cast<std::size_t>(length));
  h.push_back(static_cast<char>(n >> 8));
  h.push_back(static_cast<char>(n & 0xff));
  return h + body;
}

std::string bytes(std::initializer_list<unsigned> values) {
  std::string out;
  for (const unsigned v : values) out.push_back(static_cast<char>(v));
  return out;
}

const std::string kInet4 = bytes({192, 0, 2, 7, 10, 0, 0, 1, 0xdc, 0x04, 0x01, 0xbb});
const std::string kInet6 =
    bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    7,    0,    0,
           0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xdc, 0x04, 0x01, 0xbb});

TEST(ProxyProtocolV1, NamesTheSourceOfTcpOverIPv4AndIPv6) {
  const std::string line = "PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n";
  const ProxyHeader h = parse_proxy_header(line + "GET / HTTP/1.1\r\n");
  EXPECT_EQ(h.step, ProxyHeaderStep::kHeader);
  EXPECT_EQ(h.length, line.size());
  EXPECT_EQ(h.source->to_string(), "192.0.2.7");
  EXPECT_EQ(source_of("PROXY TCP6 2001:db8::7 2001:db8::1 1 65535\r\n"), "2001:db8::7");
  EXPECT_EQ(source_of("PROXY TCP6 ::ffff:192.0.2.7 ::1 0 80\r\n"), "192.0.2.7");
  expect_prefixes_need_more(line);
  // The longest TCP header there is (104 bytes), and the longest header (107).
  const std::string full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  EXPECT_EQ(source_of("PROXY TCP6 " + full + " " + full + " 65535 65535\r\n"), full);
  const std::string longest = "PROXY UNKNOWN " + full + " " + full + " 65535 65535\r\n";
  ASSERT_EQ(longest.size(), kProxyV1BytesMax);
  EXPECT_EQ(source_of(longest), "(peer)");
}

TEST(ProxyProtocolV1, UnknownKeepsThePeer) {
  EXPECT_EQ(source_of("PROXY UNKNOWN\r\n"), "(peer)");
  EXPECT_EQ(source_of("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), "(peer)");
}

TEST(ProxyProtocolV1, RefusesAnythingElse) {
  for (const char* text : {
           "GET / HTTP/1.1\r\n",
           "PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\n",      // LF without CR
           "PROXY TCP4 192.0.2.7 10.0.0.1 56324 443 \r\n",   // a trailing space
           "PROXY TCP4  192.0.2.7 10.0.0.1 56324 443\r\n",   // two spaces
           "PROXY TCP4 192.0.2.7 10.0.0.1 56324\r\n",        // a port missing
           "PROXY TCP4 192.0.2.7 10.0.0.1 56324 443 1\r\n",  // a field too many
           "PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n",        // IPv6 in TCP4
           "PROXY TCP6 192.0.2.7 2001:db8::1 1 2\r\n",       // IPv4 in TCP6
           "PROXY TCP4 192.0.2.7 10.0.0.1 65536 443\r\n",    // a port out of range
           "PROXY TCP4 192.0.2.7 10.0.0.1 0443 443\r\n",     // a leading zero
           "PROXY TCP4 192.0.2.7 10.0.0.1 -1 443\r\n",
           "PROXY TCP5 192.0.2.7 10.0.0.1 1 2\r\n",
           "PROXY \r\n",
           "PROXY tcp4 192.0.2.7 10.0.0.1 1 2\r\n",
           "PROXY TCP4 192.0.2.7 10.0.0.1 1 2\r\r\n",
       }) {
    EXPECT_EQ(parse_proxy_header(text).step, ProxyHeaderStep::kInvalid) << text;
  }
  // No line end within 107 bytes.
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN " + std::string(93, 'x')).step,
            ProxyHeaderStep::kInvalid);
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN " + std::string(92, 'x')).step,
            ProxyHeaderStep::kMoreBytes);
}

TEST(ProxyProtocolV2, NamesTheSourceOfTcpOverIPv4AndIPv6) {
  const std::string inet4 = v2(1, 0x11, kInet4);
  const ProxyHeader h = parse_proxy_header(inet4 + "GET / HTTP/1.1\r\n");
  EXPECT_EQ(h.step, ProxyHeaderStep::kHeader);
  EXPECT_EQ(h.length, 16u + 12u);
  EXPECT_EQ(h.source->to_string(), "192.0.2.7");
  EXPECT_EQ(source_of(v2(1, 0x21, kInet6)), "2001:db8::7");
  expect_prefixes_need_more(inet4);
}

TEST(ProxyProtocolV2, TlvsAreSkipped) {
  // ALPN "h2" and a unique id, as haproxy appends them; and a TLV cut short, never read.
  const std::string tlvs = bytes({0x01, 0x00, 0x02, 'h', '2', 0x05, 0x00, 0x03, 'a', 'b', 'c'});
  const std::string header = v2(1, 0x11, kInet4 + tlvs + bytes({0x20, 0xff}));
  const ProxyHeader h = parse_proxy_header(header + "GET");
  EXPECT_EQ(h.length, header.size());
  EXPECT_EQ(h.source->to_string(), "192.0.2.7");
  expect_prefixes_need_more(header);
}

TEST(ProxyProtocolV2, LocalAndOtherFamiliesKeepThePeer) {
  EXPECT_EQ(source_of(v2(0, 0x00, "")), "(peer)");      // LOCAL: haproxy's health checks
  EXPECT_EQ(source_of(v2(0, 0x11, kInet4)), "(peer)");  // LOCAL ignores its addresses
  EXPECT_EQ(source_of(v2(1, 0x00, "")), "(peer)");      // UNSPEC
  EXPECT_EQ(source_of(v2(1, 0x12, kInet4)), "(peer)");  // UDP over IPv4
  EXPECT_EQ(source_of(v2(1, 0x31, std::string(216, 'u'))), "(peer)");  // a Unix socket
}

TEST(ProxyProtocolV2, RefusesWhatIsMalformedOrTooLong) {
  std::string version1 = v2(1, 0x11, kInet4);
  version1[12] = 0x11;
  EXPECT_EQ(parse_proxy_header(version1).step, ProxyHeaderStep::kInvalid);
  EXPECT_EQ(parse_proxy_header(v2(2, 0x11, kInet4)).step, ProxyHeaderStep::kInvalid);  // command
  EXPECT_EQ(parse_proxy_header(v2(1, 0x41, kInet4)).step, ProxyHeaderStep::kInvalid);  // family
  EXPECT_EQ(parse_proxy_header(v2(1, 0x13, kInet4)).step, ProxyHeaderStep::kInvalid);  // transport
  EXPECT_EQ(parse_proxy_header(v2(1, 0x11, kInet4.substr(0, 11))).step,
            ProxyHeaderStep::kInvalid);  // shorter than its addresses
  EXPECT_EQ(parse_proxy_header(v2(1, 0x21, kInet4)).step, ProxyHeaderStep::kInvalid);
  // Longer than any proxy sends: refused from its preamble, before the rest arrives.
  EXPECT_EQ(parse_proxy_header(v2(1, 0x11, kInet4, 4097)).step, ProxyHeaderStep::kInvalid);
  EXPECT_EQ(parse_proxy_header(v2(1, 0x11, kInet4, 4096)).step, ProxyHeaderStep::kMoreBytes);
  std::string signature = v2(1, 0x11, kInet4);
  signature[7] = 'q';
  EXPECT_EQ(parse_proxy_header(signature).step, ProxyHeaderStep::kInvalid);
}

}  // namespace
}  // namespace payoutd::http
