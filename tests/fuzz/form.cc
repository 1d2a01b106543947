// Fuzz target: query strings and form bodies (application/x-www-form-urlencoded):
// http::percent_decode and http::query_param (the APIs' query strings) and web::parse_form (the
// hosted pages' and the cabinet's query strings and form bodies).
// For any bytes:
// - nothing crashes, leaks or fails a sanitizer check;
// - percent_decode never yields a NUL byte nor more bytes than it was given, and what it
//   decodes, escaped again byte by byte (%XX), decodes to the same bytes;
// - parse_form's parameters carry no NUL byte and no name twice, and, escaped again byte by byte
//   and joined with '&', parse back to the same parameters;
// - query_param agrees with parse_form: in an input without escapes ('%' or '+'), every
//   parameter parse_form found is present and valid with the same value; a valid value never
//   carries a NUL byte.
#include "check.h"
#include "http/query.h"
#include "web/forms.h"
#include "web/html.h"

#include <string>

namespace {

std::string escape_every_byte(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back('%');
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 15]);
  }
  return out;
}

void check_percent_decode(std::string_view text) {
  const auto decoded = payoutd::http::percent_decode(text);
  if (!decoded) return;
  FUZZ_CHECK(decoded->find('\0') == std::string::npos);
  FUZZ_CHECK(decoded->size() <= text.size());
  const auto again = payoutd::http::percent_decode(escape_every_byte(*decoded));
  FUZZ_CHECK(again && *again == *decoded);
}

void check_form(std::string_view text) {
  const auto params = payoutd::web::parse_form(text);
  if (!params) return;
  std::string escaped;
  for (std::size_t i = 0; i < params->size(); ++i) {
    const auto& [name, value] = (*params)[i];
    FUZZ_CHECK(name.find('\0') == std::string::npos && value.find('\0') == std::string::npos);
    for (std::size_t j = 0; j < i; ++j) FUZZ_CHECK((*params)[j].first != name);
    FUZZ_CHECK(payoutd::web::form_value(*params, name) == value);
    if (i > 0) escaped.push_back('&');
    escaped.append(escape_every_byte(name)).append("=").append(escape_every_byte(value));
  }
  const auto again = payoutd::web::parse_form(escaped);
  FUZZ_CHECK(again && *again == *params);

  if (text.find_first_of("%+") != std::string_view::npos) return;
  for (const auto& [name, value] : *params) {
    if (name.empty()) continue;
    const payoutd::http::QueryParam param = payoutd::http::query_param(text, name);
    FUZZ_CHECK(param.present && param.valid && param.value == value);
  }
}

// query_param for the first name the input spells (up to its first '=' or '&').
void check_query_param(std::string_view text) {
  const std::string_view name = text.substr(0, text.find_first_of("=&"));
  const payoutd::http::QueryParam param = payoutd::http::query_param(text, name);
  FUZZ_CHECK(param.present || name.empty() || text.empty());
  if (param.valid) FUZZ_CHECK(param.value.find('\0') == std::string::npos);
  if (!param.present) FUZZ_CHECK(param.value.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = payoutd::fuzz::text_of(data, size);
  check_percent_decode(text);
  check_form(text);
  check_query_param(text);
  return 0;
}
