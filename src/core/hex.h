#pragma once
// Bytes as hexadecimal text and back: how keys, digests, sealed card numbers and session tokens
// are written into config files, the store and logs. Pure; any thread.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace payoutd {

// Two lowercase hex digits per byte, in order.
std::string hex_encode(std::span<const unsigned char> bytes);

// The bytes `text` spells, two hex digits (either case) each; nullopt unless `text` is an even
// number of hex digits and nothing else.
std::optional<std::vector<unsigned char>> hex_decode(std::string_view text);

}  // namespace payoutd
