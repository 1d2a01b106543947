#pragma once
// The PROXY protocol, versions 1 (text) and 2 (binary), as haproxy's `send-proxy` and
// `send-proxy-v2` send it (haproxy's doc/proxy-protocol.txt): the header a proxy writes first on
// its connection to the server, naming the client it relays. A server reads it before anything
// else (before a TLS handshake); what follows it is the client's own bytes. Only a trusted proxy's
// header is believed (http/client_address.h). Pure; any thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/network.h"

namespace payoutd::http {

// Version 1's own bound: "PROXY TCP6 <39> <39> <5> <5>\r\n".
inline constexpr std::size_t kProxyV1BytesMax = 107;
// Version 2: a 16-byte preamble, then the addresses and TLVs. The addresses take at most 216 bytes
// (two Unix socket paths); haproxy's TLVs (ALPN, authority, unique id, TLS details) a few hundred.
// A longer header is refused rather than buffered.
inline constexpr std::size_t kProxyV2BytesMax = 16 + 4096;

enum class ProxyHeaderStep : std::uint8_t {
  kMoreBytes,  // the bytes so far begin a header that may still be valid: read more
  kHeader,     // a whole, valid header: `length` bytes of it
  kInvalid,    // not a PROXY header, or a malformed one: the connection is to be closed
};

struct ProxyHeader {
  ProxyHeaderStep step = ProxyHeaderStep::kMoreBytes;
  std::size_t length = 0;  // kHeader: the header's bytes; the next byte is the client's first
  // kHeader: the client's address the proxy names (TCP over IPv4 or IPv6). None when the header
  // says nothing about a client: version 1's UNKNOWN, version 2's LOCAL command (the proxy's own
  // connection, a health check), or a family other than TCP over IP (UNSPEC, UDP, Unix sockets),
  // whose connections keep the TCP peer's address.
  std::optional<IpAddress> source;
};

// Reads the header at the start of `bytes` (what has arrived so far on the connection). Strict:
// version 1 is "PROXY", then TCP4/TCP6 with two addresses of that family and two ports in
// decimal (0..65535, no leading zero), single spaces, CRLF, within kProxyV1BytesMax, or "PROXY
// UNKNOWN" and anything up to CRLF; version 2 is its 12-byte signature, version 2, command LOCAL
// or PROXY, a known family, and a length that holds the family's addresses, within
// kProxyV2BytesMax. Version 2's TLVs are skipped unread.
ProxyHeader parse_proxy_header(std::string_view bytes);

}  // namespace payoutd::http
