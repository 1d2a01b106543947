#pragma once
// What every hosted page shares: HTML escaping, the security headers, redirects, and the one
// stylesheet and script (validation of a card number as it is typed, the countdown), served
// from this origin only.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/server.h"

namespace payoutd::pages {

inline constexpr std::string_view kStylesheetPath = "/static/payment.css";
inline constexpr std::string_view kScriptPath = "/static/payment.js";

void escape_into(std::string& out, std::string_view text);
std::string escape(std::string_view text);

// An HTML page with the headers every page has: a strict Content-Security-Policy (nothing from
// anywhere else, no inline script or style), no framing, no referrer, no caching.
http::Response page(int status, std::string body);
// 303 See Other to `location`, with the same headers.
http::Response redirect(std::string location);

// The parameters of a query string or a form body (application/x-www-form-urlencoded), decoded
// ('+' is a space), in order; nullopt when one is malformed, a name is repeated, or there are
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

// Answers GET of the stylesheet and the script; false for any other request.
bool serve_asset(const http::Request& request, const http::Responder& respond);

}  // namespace payoutd::pages
