// Fuzz target: the Cookie request header (web::cookie_value), which carries the cabinet's
// session, its login form's CSRF cookie and the chosen language.
// The input is the cookie's name, a line feed, then the header (without a line feed, the whole
// input is the header and the name is "cabinet_session").
// For any bytes:
// - cookie_value never crashes, leaks or fails a sanitizer check;
// - its result is part of the header, carries no ';', and is never longer than the header;
// - a cookie put first in the header is the one found, whatever follows; a cookie appended at the
//   end never hides one the header already had.
#include "check.h"
#include "web/forms.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = payoutd::fuzz::text_of(data, size);
  const auto line_end = input.find('\n');
  const std::string_view name =
      line_end == std::string_view::npos ? "cabinet_session" : input.substr(0, line_end);
  const std::string header(line_end == std::string_view::npos ? input : input.substr(line_end + 1));

  const std::string found = payoutd::web::cookie_value(header, name);
  FUZZ_CHECK(found.size() <= header.size());
  FUZZ_CHECK(found.find(';') == std::string::npos);
  FUZZ_CHECK(header.find(found) != std::string::npos);

  const bool spellable =
      name.find_first_of("=;") == std::string_view::npos && !name.starts_with(' ');
  if (!spellable) return 0;
  const std::string cookie = std::string(name) + "=fuzz-value";
  FUZZ_CHECK(payoutd::web::cookie_value(cookie + "; " + header, name) == "fuzz-value");
  if (!found.empty()) FUZZ_CHECK(payoutd::web::cookie_value(header + "; " + cookie, name) == found);
  return 0;
}
