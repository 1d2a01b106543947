#include "web/assets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>

namespace payoutd::web {
namespace {

std::string source_file(const std::string& path) {
  std::ifstream in(std::string(PAYOUTD_SOURCE_DIR) + "/" + path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<http::Response> get(std::string_view target) {
  http::Request request;
  request.method = "GET";
  request.target = std::string(target);
  std::optional<http::Response> answer;
  if (!serve_asset(request, [&](http::Response r) { answer = std::move(r); })) return std::nullopt;
  return answer;
}

TEST(Assets, ServeTheFilesOfWebAssetsAsTheyAre) {
  const auto script = get(kScriptPath);
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_EQ(script->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(script->body, source_file("src/web/assets/payment.js"));
  EXPECT_NE(script->body.find("\"use strict\""), std::string::npos);

  const auto stylesheet = get(kStylesheetPath);
  ASSERT_TRUE(stylesheet);
  EXPECT_EQ(stylesheet->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(stylesheet->body, source_file("src/web/assets/payment.css"));
  EXPECT_FALSE(stylesheet->body.empty());
}

TEST(Assets, LeaveOtherPathsToTheRestOfTheServer) {
  EXPECT_FALSE(get("/static/other.js"));
  EXPECT_FALSE(get("/static/payment.js/"));
}

}  // namespace
}  // namespace payoutd::web
