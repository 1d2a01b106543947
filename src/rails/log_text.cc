#include "rails/log_text.h"

#include <algorithm>

namespace payoutd::rails {

std::string without_card_numbers(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j - i >= 12) {
      out += "****";
      out += text.substr(j - 4, 4);
    } else {
      out += text.substr(i, std::max<std::size_t>(j - i, 1));
      if (j == i) j = i + 1;
    }
    i = j;
  }
  return out;
}

std::string shortened(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

}  // namespace payoutd::rails
