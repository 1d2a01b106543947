#pragma once
// What browsers send: query strings, form bodies, cookies.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace payoutd::web {

// The parameters of a query string or a form body (application/x-www-form-urlencoded), split and
// decoded by http/query.h ('+' is a space), in order, empty pieces ("a&&b") skipped; nullopt when
// one is malformed (a bad escape, a NUL byte), a name (decoded) is repeated, or there are
// more than kFormParamsMax (no page has a tenth as many: a body of thousands of one-letter
// parameters is an attack on the I/O thread, refused after one linear pass).
inline constexpr std::size_t kFormParamsMax = 1000;
using FormParams = std::vector<std::pair<std::string, std::string>>;
std::optional<FormParams> parse_form(std::string_view text);
// The value of `name`, or empty.
std::string form_value(const FormParams& params, std::string_view name);

// The value of the cookie `name` in a Cookie request header ("a=1; b=2"), as sent (no decoding);
// empty when there is none. When a name is sent twice, the first one counts: browsers send the
// cookie of the most specific path first. Never longer than `header`, never contains ';'.
std::string cookie_value(std::string_view header, std::string_view name);

}  // namespace payoutd::web
