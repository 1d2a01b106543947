// PAYOUTD_ASSERT holds in release builds: this file is compiled as release code is.
#ifndef NDEBUG
#define NDEBUG
#endif
#include "core/assert.h"

#include <gtest/gtest.h>

namespace payoutd {
namespace {

int checked_half(int even) {
  PAYOUTD_ASSERT(even % 2 == 0, "only even counters are halved");
  return even / 2;
}

TEST(Assert, AHeldInvariantLetsTheCodeGoOn) { EXPECT_EQ(checked_half(8), 4); }

TEST(AssertDeathTest, ABrokenInvariantAbortsNamingItEvenWhenNdebugIsDefined) {
  EXPECT_DEATH(checked_half(7), "invariant even % 2 == 0 broken: only even counters are halved");
}

}  // namespace
}  // namespace payoutd
