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

// The answer with `file` of src/web/assets/ ("merchant.js") as `type`, for pages of any origin
// (ecommpay's widget, which a merchant's page includes): cacheable, and readable cross-origin
// (Access-Control-Allow-Origin *, Cross-Origin-Resource-Policy cross-origin), since it is public
// and the same for everyone. `file` must be one of the assets.
http::Response shared_asset(std::string_view file, std::string_view type);

}  // namespace payoutd::web
