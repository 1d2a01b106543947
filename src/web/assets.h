#pragma once
// The one stylesheet and script of every page (validation of a card number as it is typed, the
// countdown), served from this origin only.
#include <string_view>

#include "http/server.h"

namespace payoutd::web {

inline constexpr std::string_view kStylesheetPath = "/static/payment.css";
inline constexpr std::string_view kScriptPath = "/static/payment.js";

// Answers GET of the stylesheet and the script; false for any other request.
bool serve_asset(const http::Request& request, const http::Responder& respond);

}  // namespace payoutd::web
