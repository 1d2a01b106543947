#include "core/json_text.h"

#include "core/json.h"

namespace payoutd::json {
namespace detail {

const char* skip_number(const char* p, const char* end, const char** bad) {
  if (p < end && *p == '-') ++p;
  if (p < end && *p == '0') {
    ++p;
  } else if (p < end && in_range(*p, '1', '9')) {
    while (p < end && is_digit(*p)) ++p;
  } else {
    *bad = p;
    return nullptr;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p == end || !is_digit(*p)) {
      *bad = p;
      return nullptr;
    }
    while (p < end && is_digit(*p)) ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p == end || !is_digit(*p)) {
      *bad = p;
      return nullptr;
    }
    while (p < end && is_digit(*p)) ++p;
  }
  return p;
}

void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p < end) {
    const char* run = p;
    while (p < end && is_plain(*p)) ++p;
    out.append(run, p);
    if (p == end) break;
    const unsigned c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') {
      const char escaped[2] = {'\\', *p};
      out.append(escaped, 2);
      ++p;
    } else if (c < 0x20) {
      const char escaped[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(escaped, 6);
      ++p;
    } else if (const std::size_t length = utf8_sequence_length(p, end); length != 0) {
      out.append(p, length);
      p += length;
    } else {
      out.append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
      ++p;
    }
  }
}

}  // namespace detail

bool is_number_literal(std::string_view text) {
  const char* bad = nullptr;
  const char* const end = text.data() + text.size();
  return detail::skip_number(text.data(), end, &bad) == end;
}

}  // namespace payoutd::json
