#pragma once
// What every HTML answer shares: escaping, the security headers, redirects, and the frame of the
// hosted payment pages. Pages are rendered from templates (web/template.h).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"
#include "web/assets.h"  // every page links the stylesheet and the script

namespace payoutd::web {

// `text` for HTML text and attribute values: & < > " ' as character references. The templates
// escape every {{value}} with it.
std::string escape(std::string_view text);

// A hosted payment page (the providers' card pages): the head (with <meta http-equiv=refresh> of
// `refresh` when it is not empty), then `title` and `content`, HTML a template rendered, on a card.
std::string card_page(std::string_view lang, std::string_view title, std::string_view content,
                      std::string_view refresh = {});
// "4:05": the minutes and seconds of a page's countdown.
std::string countdown_text(std::int64_t remaining_s);
// A card page that is one status line: `message` in a paragraph of class `kind` ("declined",
// "success" or none) with a data-status of `status` when that is not empty.
std::string status_page(std::string_view lang, std::string_view title, std::string_view message,
                        std::string_view kind, std::string_view status = {},
                        std::string_view refresh = {});

// An HTML page with the headers every page has: a strict Content-Security-Policy (nothing from
// anywhere else, no inline script or style), no framing, no referrer, no caching.
http::Response page(int status, std::string body);
// 303 See Other to `location`, with the same headers.
http::Response redirect(std::string location);
// A Set-Cookie value of the signed-in pages (the cabinet's, the console's): HttpOnly,
// SameSite=Strict, on `path`, Secure when `secure`; `max_age_s` -1 for the browser's session, 0
// to remove the cookie, else its life.
std::string page_cookie(std::string_view name, std::string_view value, std::string_view path,
                        bool secure, std::int64_t max_age_s = -1);
// Answers `r` (a page() or redirect()) through `respond` with the cookies `cookies` set and a
// Retry-After of `retry_after_s` when it is positive, the referrer sent to this origin only: with
// none at all a browser sends "Origin: null" with the pages' own forms, and a same-origin check
// could not tell them from a sandboxed frame's.
void send_page(const http::Responder& respond, http::Response r, std::vector<std::string> cookies,
               std::int64_t retry_after_s);

// Lets pages of any origin frame `page` (an answer of page() or redirect()): its CSP's
// frame-ancestors becomes *, and X-Frame-Options goes; every other header stays. Only for a page
// that acts on nothing but what its own forms carry (no cookie, no session), so that a page
// framing it can make it do nothing its visitor could not do with it open on its own.
void allow_framing(http::Response& page);

}  // namespace payoutd::web
