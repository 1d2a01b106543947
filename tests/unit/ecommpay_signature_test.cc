// ecommpay's signature algorithm against the published test vectors (docs/ecommpay.md).
#include <gtest/gtest.h>

#include "providers/ecommpay/signature.h"

namespace payoutd::providers::ecommpay {
namespace {

std::string signature_of(std::string_view secret, std::string_view document) {
  auto parsed = json::parse(document);
  EXPECT_TRUE(parsed.value) << parsed.error.message;
  return sign(secret, signing_string(*parsed.value));
}

TEST(EcommpaySignature, PublishedVectors) {
  EXPECT_EQ(
      signature_of(
          "secret",
          R"({"customer":{"project_id":0,"id":"sutm_id"},"card":{"pan":"4242424242424242","year":2020,"month":8,"card_holder":"John Smith","cvv":"123","save":true},"frame_mode":"popup"})"),
      "lY0LTSAzpR7zGce5qfYGacOuYlHGWqkMcQlqmjlsDDZI2gVcE1qVeWANnkIR7mdOqRXJnL1kO0lUmkQ0YYLWRg==");
  EXPECT_EQ(
      signature_of(
          "qwerty",
          R"({"payment":{"id":"test-payment","status":"success"},"some_bool_param":true,"frame_mode":"popup"})"),
      "TZS0J65ReNUMgKzeXUey9xOGGyC7r4OhsFXt/3H8XZM2Le8Wot2E1NIjeSPOyV1F3sUU6F3kfo9om2dhbe3ieA==");
  EXPECT_EQ(
      signature_of(
          "qwerty",
          R"({"payment":{"id":"test-payment"},"errors":[{"code":"123","message":"grand crash","description":["description-str",{"description1":1}]},{"code":"456","message":"minor crash","description":null}]})"),
      "dxjnun8oySSl0CWlhhjy/k1V9CZcCtaHvu/Y5qJQbWHq8wd6TqTUt4bIfHrlWxT8ba9NOJfkgGHrGc5OgyQVGA==");
  EXPECT_EQ(
      signature_of("secret", R"({"payment":{"id":"000049","status":"success"}})"),
      "/3TrhHVz9BHaLfgLyhoxO7dsQNzbzZa/TdO3pxQocXWwgVM6tGlzMLVfpOxFNTnkR9iiFVK/77ZedMcbkCjmng==");
  EXPECT_EQ(
      sign("secret", signing_string({{"project_id", "100"},
                                     {"interface_type", R"({"id":23})"},
                                     {"payment_id", "test payment id"},
                                     {"payment_description", "B&W"}})),
      "97JFQpAyJ4HPfGVedJh0M1MqQDOFt/MCbdh8VrsT7DdRyTBDAF2mvUOsDANx1ZPfbvZg0+VUbF43xJnq0jEeLA==");
}

TEST(EcommpaySignature, SigningStringRules) {
  auto doc = json::parse(
      R"({"b":{"signature":"x","c":[],"d":{}},"a":[true,false,null],"general":{"signature":"s"},"x10":1,"x9":2})");
  ASSERT_TRUE(doc.value);
  EXPECT_EQ(signing_string(*doc.value), "a:0:1;a:1:0;a:2:;x9:2;x10:1");
}

TEST(EcommpaySignature, VerificationIsExact) {
  const std::string text = "general:payment_id:p1";
  const std::string good = sign("k", text);
  EXPECT_TRUE(signature_valid("k", text, good));
  EXPECT_FALSE(signature_valid("k2", text, good));
  EXPECT_FALSE(signature_valid("k", text + "x", good));
  EXPECT_FALSE(signature_valid("k", text, ""));
  EXPECT_FALSE(signature_valid("k", text, good.substr(0, good.size() - 1)));
}

}  // namespace
}  // namespace payoutd::providers::ecommpay
