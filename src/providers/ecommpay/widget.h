#pragma once
// The three ways a merchant opens Payment Page (ecommpay's "Организация взаимодействия"): a link
// (GET /payment?<the signed parameters>), an HTML form POSTing the same parameters to /payment,
// and, from the merchant's own page on another origin, the widget script at ecommpay's path
// /shared/merchant.js (src/web/assets/merchant.js: EPayWidget.run and bind), which links or posts
// them into that window, into an iframe of the page, or into an iframe on a modal layer.
// docs/ecommpay.md, section "Opening Payment Page", is the contract.
#include <cstddef>
#include <string_view>

#include "http/server.h"

namespace payoutd::providers::ecommpay {

// A form POSTing the parameters is at most as long as a link's query can be (the server's header
// limit, by default).
inline constexpr std::size_t kOpenFormBytesMax = 16 * 1024;

// The signed parameters that open Payment Page: the query of a GET, or the body of a POST, in the
// same encoding. `refusal` is the HTTP status that refuses a POST whose body cannot be them: 415
// when it is not application/x-www-form-urlencoded, 413 when it is longer than kOpenFormBytesMax.
struct Opening {
  std::string_view link;
  int refusal = 0;
};
Opening opening_of(const http::Request& request);

// Answers GET of the widget's script and stylesheet at ecommpay's paths (/shared/merchant.js,
// /shared/merchant.css); false for any other request.
bool serve_widget(const http::Request& request, const http::Responder& respond);

// What answers a request of Payment Page. Opened by the widget in a frame (frame_mode=iframe or
// popup among the parameters that opened the page: the query or the form, the link a page's form
// carries back, the result page's query), every answer may be framed by pages of any origin
// (web::allow_framing) and a redirect to the result page keeps the mode; otherwise `respond`
// itself, whose pages are never framed (a link's page keeps its protection from clickjacking).
http::Responder framing(const http::Request& request, http::Responder respond);

}  // namespace payoutd::providers::ecommpay
