#include "web/html.h"

namespace payoutd::web {
namespace {

// Every page: nothing from anywhere else, no inline script or style, no framing, no referrer.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

}  // namespace

void escape_into(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': out.append("&amp;"); break;
      case '<': out.append("&lt;"); break;
      case '>': out.append("&gt;"); break;
      case '"': out.append("&quot;"); break;
      case '\'': out.append("&#39;"); break;
      default: out.push_back(c);
    }
  }
}


std::string escape(std::string_view text) {
  std::string out;
  escape_into(out, text);
  return out;
}


http::Response page(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  r.headers = {{"Content-Security-Policy", kContentSecurityPolicy},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"},
               {"X-Frame-Options", "DENY"},
               {"Cache-Control", "no-store"}};
  return r;
}


http::Response redirect(std::string location) {
  http::Response r = page(303, {});
  r.headers.emplace_back("Location", std::move(location));
  return r;
}


}  // namespace payoutd::web
