// Result<T, E>: a value or an error, and reading the wrong side is a bug that aborts.
#include "core/result.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace payoutd {
namespace {

struct Broken {
  std::string why;
};

Result<int, Broken> halve(int n) {
  if (n % 2 != 0) return Failure{Broken{"odd"}};
  return n / 2;
}

Result<std::vector<int>, Broken> digits(bool fail) {
  if (fail) return Failure{Broken{"no digits"}};
  return std::vector<int>{1, 2, 3};
}

TEST(Result, HoldsTheValueOfASuccess) {
  const auto r = halve(8);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 4);
  EXPECT_EQ(*r, 4);
}

TEST(Result, HoldsTheErrorOfAFailure) {
  const auto r = halve(7);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().why, "odd");
}

TEST(Result, AnEmptyOptionalIsASuccessNotAFailure) {
  const Result<std::optional<int>, Broken> none = std::optional<int>();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(Result, TheValueOfATemporaryOutlivesIt) {
  int sum = 0;
  for (int d : digits(false).value()) sum += d;  // iterates a value, not a dead temporary's
  EXPECT_EQ(sum, 6);
  std::vector<int> moved = *digits(false);
  EXPECT_EQ(moved.size(), 3u);
}

TEST(ResultDeathTest, ReadingTheValueOfAFailureAborts) {
  EXPECT_DEATH((void)digits(true).value(), "the value of a failed Result was read");
}

TEST(ResultDeathTest, ReadingTheErrorOfASuccessAborts) {
  EXPECT_DEATH((void)halve(2).error(), "the error of a successful Result was read");
}

}  // namespace
}  // namespace payoutd
