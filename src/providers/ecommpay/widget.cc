#include "providers/ecommpay/widget.h"

#include <string>

#include "web/assets.h"
#include "web/forms.h"
#include "web/html.h"

namespace payoutd::providers::ecommpay {
namespace {

constexpr std::string_view kFormType = "application/x-www-form-urlencoded";
constexpr std::string_view kResultPath = "/payment/result?";

// Whether a Content-Type header names `type`, whatever its parameters ("; charset=UTF-8") and
// letter case.
bool media_type_is(std::string_view header, std::string_view type) {
  std::string_view media = header.substr(0, header.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  if (media.size() != type.size()) return false;
  for (std::size_t i = 0; i < media.size(); ++i) {
    const char c = media[i] >= 'A' && media[i] <= 'Z' ? static_cast<char>(media[i] + 32) : media[i];
    if (c != type[i]) return false;
  }
  return true;
}

// The frame_mode of the parameters that opened the page, as the request carries them; empty when
// it names none.
std::string frame_mode_of(const http::Request& request) {
  const bool post = request.method == "POST";
  auto params = web::parse_form(post ? std::string_view(request.body) : request.query());
  if (params && post && request.path() != "/payment") {
    params = web::parse_form(web::form_value(*params, "link"));  // a page's form carries it back
  }
  return params ? web::form_value(*params, "frame_mode") : std::string();
}

}  // namespace

Opening opening_of(const http::Request& request) {
  if (request.method != "POST") return {request.query()};
  if (!media_type_is(request.content_type, kFormType)) return {{}, 415};
  if (request.body.size() > kOpenFormBytesMax) return {{}, 413};
  return {request.body};
}

bool serve_widget(const http::Request& request, const http::Responder& respond) {
  if (request.method != "GET" && request.method != "HEAD") return false;
  const std::string_view path = request.path();
  if (path == "/shared/merchant.js") {
    respond(web::shared_asset("merchant.js", "text/javascript; charset=utf-8"));
    return true;
  }
  if (path == "/shared/merchant.css") {
    respond(web::shared_asset("merchant.css", "text/css; charset=utf-8"));
    return true;
  }
  return false;
}

http::Responder framing(const http::Request& request, http::Responder respond) {
  const std::string mode = frame_mode_of(request);
  if (mode != "iframe" && mode != "popup") return respond;
  return [respond = std::move(respond), mode](http::Response r) {
    web::allow_framing(r);
    for (auto& [name, value] : r.headers) {
      if (name == "Location" && value.starts_with(kResultPath)) value.append("&frame_mode=" + mode);
    }
    respond(std::move(r));
  };
}

}  // namespace payoutd::providers::ecommpay
