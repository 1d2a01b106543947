#pragma once
// What core/json's reader and writer share about JSON text: which bytes stand for themselves in
// a string, well-formed UTF-8, the number grammar, and a string's escaped form. Internal to
// core/json*.cc; callers use core/json.h. Inline where the parser's inner loops call them.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace payoutd::json::detail {

// Bytes that stand for themselves inside a JSON string: printable ASCII other than '"' and '\'.
// Both the parser and the writer copy runs of them in bulk.
constexpr std::array<bool, 256> make_plain_table() {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c) table[static_cast<std::size_t>(c)] = true;
  table['"'] = false;
  table['\\'] = false;
  return table;
}
inline constexpr std::array<bool, 256> kPlain = make_plain_table();

inline bool is_plain(char c) { return kPlain[static_cast<unsigned char>(c)]; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

inline bool in_range(char c, unsigned lo, unsigned hi) {
  const unsigned u = static_cast<unsigned char>(c);
  return u >= lo && u <= hi;
}

// Length of the well-formed UTF-8 sequence starting at `p` (which is < end and holds a byte
// >= 0x80), or 0 if it is ill-formed or truncated. Follows Unicode Table 3-7, which rules out
// overlong forms, UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF.
inline std::size_t utf8_sequence_length(const char* p, const char* end) {
  const std::size_t available = static_cast<std::size_t>(end - p);
  const unsigned lead = static_cast<unsigned char>(p[0]);
  std::size_t length = 0;
  unsigned second_lo = 0x80;
  unsigned second_hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_lo = 0xA0;  // below is overlong
    if (lead == 0xED) second_hi = 0x9F;  // above encodes a surrogate
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_lo = 0x90;  // below is overlong
    if (lead == 0xF4) second_hi = 0x8F;  // above is beyond U+10FFFF
  } else {
    return 0;  // continuation byte, overlong lead (C0, C1) or F5..FF
  }
  if (available < length) return 0;
  if (!in_range(p[1], second_lo, second_hi)) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (!in_range(p[i], 0x80, 0xBF)) return 0;
  }
  return length;
}

// Skips a JSON number starting at `p`; returns where it ends, or nullptr if `p` does not start
// one. On nullptr, `*bad` points at the offending byte (possibly `end`).
const char* skip_number(const char* p, const char* end, const char** bad);

// Appends `s` as the body of a JSON string (no quotes): '"', '\\' and control characters
// escaped, ill-formed UTF-8 replaced by U+FFFD. See Writer::string.
void append_escaped(std::string& out, std::string_view s);

}  // namespace payoutd::json::detail
