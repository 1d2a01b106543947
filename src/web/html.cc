#include "web/html.h"

#include <algorithm>

#include "core/assert.h"
#include "web/template.h"

namespace payoutd::web {
namespace {

// Every page: nothing from anywhere else, no inline script or style, no framing, no referrer.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
constexpr std::string_view kNoFraming = "frame-ancestors 'none'";

// The same policy for a page that pages of any origin may frame (allow_framing).
const std::string& framed_policy() {
  static const std::string policy = [] {
    std::string p(kContentSecurityPolicy);
    const auto at = p.find(kNoFraming);
    PAYOUTD_ASSERT(at != std::string::npos, "the pages' policy names their framing");
    return p.replace(at, kNoFraming.size(), "frame-ancestors *");
  }();
  return policy;
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&#39;");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string card_page(std::string_view lang, std::string_view title, std::string_view content,
                      std::string_view refresh) {
  return render("web/card_page", {{"lang", lang},
                                  {"head_title", title},
                                  {"refresh", refresh},
                                  {"title", title},
                                  {"content", content}});
}

std::string countdown_text(std::int64_t remaining_s) {
  const std::int64_t seconds = remaining_s % 60;
  return std::to_string(remaining_s / 60) + (seconds < 10 ? ":0" : ":") + std::to_string(seconds);
}

std::string status_page(std::string_view lang, std::string_view title, std::string_view message,
                        std::string_view kind, std::string_view status, std::string_view refresh) {
  const std::string line =
      render("web/status", {{"message", message}, {"kind", kind}, {"status", status}});
  return card_page(lang, title, line, refresh);
}

http::Response page(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  r.headers = {{"Content-Security-Policy", std::string(kContentSecurityPolicy)},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"},
               {"X-Frame-Options", "DENY"},
               {"Cache-Control", "no-store"}};
  return r;
}

void allow_framing(http::Response& page) {
  std::erase_if(page.headers, [](const auto& h) { return h.first == "X-Frame-Options"; });
  for (auto& [name, value] : page.headers) {
    if (name == "Content-Security-Policy") value = framed_policy();
  }
}

http::Response redirect(std::string location) {
  http::Response r = page(303, {});
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

std::string page_cookie(std::string_view name, std::string_view value, std::string_view path,
                        bool secure, std::int64_t max_age_s) {
  std::string c(name);
  c.append("=").append(value).append("; Path=").append(path).append("; HttpOnly; SameSite=Strict");
  if (secure) c.append("; Secure");
  if (max_age_s >= 0) c.append("; Max-Age=").append(std::to_string(max_age_s));
  return c;
}

void send_page(const http::Responder& respond, http::Response r, std::vector<std::string> cookies,
               std::int64_t retry_after_s) {
  for (std::string& c : cookies) r.headers.emplace_back("Set-Cookie", std::move(c));
  if (retry_after_s > 0) http::set_retry_after(r, retry_after_s);
  for (auto& [name, value] : r.headers) {
    if (name == "Referrer-Policy") value = "same-origin";
  }
  respond(std::move(r));
}

}  // namespace payoutd::web
