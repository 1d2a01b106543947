#pragma once
// What every HTML answer shares: escaping, the security headers, redirects.
#include <string>
#include <string_view>

#include "http/server.h"
#include "web/assets.h"  // every page links the stylesheet and the script

namespace payoutd::web {

void escape_into(std::string& out, std::string_view text);
std::string escape(std::string_view text);

// An HTML page with the headers every page has: a strict Content-Security-Policy (nothing from
// anywhere else, no inline script or style), no framing, no referrer, no caching.
http::Response page(int status, std::string body);
// 303 See Other to `location`, with the same headers.
http::Response redirect(std::string location);

}  // namespace payoutd::web
