#include "web/assets.h"

#include "core/assert.h"
#include "web/embedded_files.h"

namespace payoutd::web {
namespace {

// A file of src/web/assets/ as embed_files.cmake embedded it ("web/assets/payment.js").
std::string_view asset(std::string_view name) {
  for (const EmbeddedFile& file : embedded_assets()) {
    if (file.name == name) return file.text;
  }
  PAYOUTD_ASSERT(false, "every asset served is a file of src/web/assets/");
  return {};
}

http::Response asset_response(std::string_view type, std::string_view body) {
  http::Response r;
  r.content_type = std::string(type);
  r.body = std::string(body);
  r.headers = {{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "public, max-age=300"}};
  return r;
}

}  // namespace

http::Response shared_asset(std::string_view file, std::string_view type) {
  http::Response r = asset_response(type, asset(std::string("web/assets/").append(file)));
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  r.headers.emplace_back("Cross-Origin-Resource-Policy", "cross-origin");
  return r;
}

bool serve_asset(const http::Request& request, const http::Responder& respond) {
  const std::string_view path = request.path();
  if (request.method != "GET" && request.method != "HEAD") return false;
  if (path == kStylesheetPath) {
    respond(asset_response("text/css; charset=utf-8", asset("web/assets/payment.css")));
    return true;
  }
  if (path == kScriptPath) {
    respond(asset_response("text/javascript; charset=utf-8", asset("web/assets/payment.js")));
    return true;
  }
  if (path == "/favicon.ico") {  // browsers ask for it; the pages have none
    http::Response r = asset_response("image/x-icon", {});
    r.status = 204;
    respond(std::move(r));
    return true;
  }
  return false;
}

}  // namespace payoutd::web
