// Fuzz target: the PROXY protocol header (http::parse_proxy_header), the first bytes a trusted
// proxy sends on a connection, read before anything else (versions 1 and 2).
// The input is what has arrived on the connection.
// For any bytes:
// - parse_proxy_header never crashes, leaks or fails a sanitizer check;
// - a header is within the input and within its version's bound (kProxyV1BytesMax,
//   kProxyV2BytesMax); more bytes are asked for only below those bounds;
// - the answer depends on the header's own bytes only: the header alone gives the same answer,
//   and so does the input with more bytes after it; every shorter prefix of a header asks for
//   more; an invalid start stays invalid whatever follows;
// - a source address is written as text that parses back to itself.
#include "http/proxy_protocol.h"
#include "check.h"

#include <string>

namespace {

using payoutd::http::ProxyHeader;
using payoutd::http::ProxyHeaderStep;

bool same(const ProxyHeader& a, const ProxyHeader& b) {
  return a.step == b.step && a.length == b.length && a.source == b.source;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = payoutd::fuzz::text_of(data, size);
  const ProxyHeader header = payoutd::http::parse_proxy_header(input);
  const std::size_t bound =
      std::max(payoutd::http::kProxyV1BytesMax, payoutd::http::kProxyV2BytesMax);
  const std::string longer = std::string(input) + "GET / HTTP/1.1\r\n\r\n";
  switch (header.step) {
    case ProxyHeaderStep::kHeader: {
      FUZZ_CHECK(header.length > 0 && header.length <= input.size() && header.length <= bound);
      if (input.starts_with("PROXY ")) FUZZ_CHECK(header.length <= payoutd::http::kProxyV1BytesMax);
      FUZZ_CHECK(same(payoutd::http::parse_proxy_header(input.substr(0, header.length)), header));
      FUZZ_CHECK(same(payoutd::http::parse_proxy_header(longer), header));
      FUZZ_CHECK(payoutd::http::parse_proxy_header(input.substr(0, header.length - 1)).step ==
                 ProxyHeaderStep::kMoreBytes);
      if (header.source) {
        FUZZ_CHECK(payoutd::IpAddress::parse(header.source->to_string()) == header.source);
      }
      break;
    }
    case ProxyHeaderStep::kMoreBytes:
      FUZZ_CHECK(header.length == 0 && !header.source && input.size() < bound);
      break;
    case ProxyHeaderStep::kInvalid:
      FUZZ_CHECK(header.length == 0 && !header.source);
      FUZZ_CHECK(payoutd::http::parse_proxy_header(longer).step == ProxyHeaderStep::kInvalid);
      break;
  }
  return 0;
}
