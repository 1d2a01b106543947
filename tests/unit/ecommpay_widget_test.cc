#include "providers/ecommpay/widget.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "web/html.h"

namespace payoutd::providers::ecommpay {
namespace {

http::Request request(std::string method, std::string target, std::string body = {},
                      std::string content_type = {}) {
  http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

std::string header(const http::Response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "(none)";
}

// What `framing` makes of a page (or of a redirect to `location`) answering `in`.
http::Response answered(const http::Request& in, std::string location = {}) {
  std::optional<http::Response> out;
  const http::Responder respond = framing(in, [&](http::Response r) { out = std::move(r); });
  respond(location.empty() ? web::page(200, "<p>page</p>") : web::redirect(location));
  return *out;
}

TEST(EcommpayWidget, OpensWithALinksQueryOrAFormsBody) {
  EXPECT_EQ(opening_of(request("GET", "/payment?mode=payout&a=1")).link, "mode=payout&a=1");
  const auto form = request("POST", "/payment", "mode=payout&a=1",
                            "Application/X-WWW-Form-Urlencoded ; charset=UTF-8");
  EXPECT_EQ(opening_of(form).link, "mode=payout&a=1");
  EXPECT_EQ(opening_of(form).refusal, 0);
  for (const char* type : {"application/json", "multipart/form-data; boundary=x", "",
                           "application/x-www-form-urlencodedx", "text/plain"}) {
    EXPECT_EQ(opening_of(request("POST", "/payment", "mode=payout", type)).refusal, 415) << type;
  }
  const std::string type = "application/x-www-form-urlencoded";
  EXPECT_EQ(
      opening_of(request("POST", "/payment", std::string(kOpenFormBytesMax, 'a'), type)).refusal,
      0);
  EXPECT_EQ(opening_of(request("POST", "/payment", std::string(kOpenFormBytesMax + 1, 'a'), type))
                .refusal,
            413);
}

TEST(EcommpayWidget, OnlyTheWidgetsFrameModesAreFramed) {
  const std::string none = "frame-ancestors 'none'";
  for (const char* target : {"/payment?mode=payout", "/payment?frame_mode=tab",
                             "/payment?frame_mode=IFRAME", "/payment/result?uuid=u&lang=en"}) {
    const http::Response r = answered(request("GET", target));
    EXPECT_EQ(header(r, "X-Frame-Options"), "DENY") << target;
    EXPECT_NE(header(r, "Content-Security-Policy").find(none), std::string::npos) << target;
  }
  for (const char* target : {"/payment?mode=payout&frame_mode=iframe", "/payment?frame_mode=popup",
                             "/payment/result?uuid=u&lang=en&frame_mode=popup"}) {
    const http::Response r = answered(request("GET", target));
    EXPECT_EQ(header(r, "X-Frame-Options"), "(none)") << target;
    const std::string csp = header(r, "Content-Security-Policy");
    EXPECT_EQ(csp.find(none), std::string::npos) << target;
    EXPECT_NE(csp.find("frame-ancestors *"), std::string::npos) << target;
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << target;
    EXPECT_EQ(header(r, "Cache-Control"), "no-store") << target;
  }
}

TEST(EcommpayWidget, APagesFormsAndRedirectsKeepTheMode) {
  const auto post =
      request("POST", "/payment/card", "uuid=u&link=mode%3Dpayout%26frame_mode%3Dpopup&pan=4111");
  const http::Response r = answered(post, "/payment/result?uuid=u&lang=en");
  EXPECT_EQ(header(r, "Location"), "/payment/result?uuid=u&lang=en&frame_mode=popup");
  EXPECT_EQ(header(r, "X-Frame-Options"), "(none)");
  // A form whose own fields name a frame mode, not its link, is not framed.
  const auto stray = request("POST", "/payment/card", "uuid=u&frame_mode=popup&link=mode%3Dpayout");
  EXPECT_EQ(header(answered(stray), "X-Frame-Options"), "DENY");
  const auto opened = request("POST", "/payment", "mode=payout&frame_mode=iframe",
                              "application/x-www-form-urlencoded");
  EXPECT_EQ(header(answered(opened), "X-Frame-Options"), "(none)");
  EXPECT_EQ(header(answered(opened, "/elsewhere"), "Location"), "/elsewhere");
}

TEST(EcommpayWidget, ServesTheScriptAndStylesheetAtEcommpaysPaths) {
  auto get = [](std::string method, std::string target) {
    std::optional<http::Response> out;
    const bool served = serve_widget(request(std::move(method), std::move(target)),
                                     [&](http::Response r) { out = std::move(r); });
    EXPECT_EQ(served, out.has_value());
    return out;
  };
  const auto script = get("GET", "/shared/merchant.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(script->body.find("window.EPayWidget"), std::string::npos);
  EXPECT_EQ(header(*script, "Access-Control-Allow-Origin"), "*");
  const auto css = get("HEAD", "/shared/merchant.css?v=1");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_FALSE(get("POST", "/shared/merchant.js"));
  EXPECT_FALSE(get("GET", "/shared/other.js"));
}

}  // namespace
}  // namespace payoutd::providers::ecommpay
