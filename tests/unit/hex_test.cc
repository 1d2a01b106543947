#include "core/hex.h"

#include <gtest/gtest.h>

#include <array>

namespace payoutd {
namespace {

TEST(Hex, EncodesEachByteAsTwoLowercaseDigitsInOrder) {
  const std::array<unsigned char, 5> bytes{0x00, 0x0f, 0xa0, 0xff, 0x5c};
  EXPECT_EQ(hex_encode(bytes), "000fa0ff5c");
  EXPECT_EQ(hex_encode({}), "");
}

TEST(Hex, DecodesWhatItEncodesAndEitherCase) {
  std::array<unsigned char, 256> all{};
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<unsigned char>(i);
  const auto decoded = hex_decode(hex_encode(all));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, std::vector<unsigned char>(all.begin(), all.end()));
  EXPECT_EQ(hex_decode("A0fF"), (std::vector<unsigned char>{0xa0, 0xff}));
  EXPECT_EQ(hex_decode(""), std::vector<unsigned char>{});
}

TEST(Hex, RefusesAnOddLengthAndAnythingButDigits) {
  EXPECT_FALSE(hex_decode("abc"));
  EXPECT_FALSE(hex_decode("0g"));
  EXPECT_FALSE(hex_decode("00 "));
  EXPECT_FALSE(hex_decode(" 00"));
  EXPECT_FALSE(hex_decode("0x00"));
  EXPECT_FALSE(hex_decode(std::string_view("00\0", 4)));
}

}  // namespace
}  // namespace payoutd
