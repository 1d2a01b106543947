#include "core/hex.h"

#include <sodium.h>

namespace payoutd {

std::string hex_encode(std::span<const unsigned char> bytes) {
  // sodium_bin2hex runs in constant time: the bytes are often secrets.
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();
  return out;
}

std::optional<std::vector<unsigned char>> hex_decode(std::string_view text) {
  std::vector<unsigned char> out(text.size() / 2);
  std::size_t size = 0;
  if (text.size() % 2 != 0 ||
      sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &size, nullptr) !=
          0 ||
      size != out.size()) {
    return std::nullopt;
  }
  return out;
}

}  // namespace payoutd
