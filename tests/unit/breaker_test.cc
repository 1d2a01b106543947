// The card networks' circuit breaker (rails/breaker.h), on a clock the test moves.
#include "rails/breaker.h"

#include <gtest/gtest.h>

#include "test_clock.h"

namespace payoutd::rails {
namespace {

using State = Breaker::State;

TEST(Breaker, StaysClosedWhileTheNetworkAnswers) {
  testing::ManualClock clock;
  Breaker breaker({.failures = 3, .open_ms = 1000}, clock);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(breaker.allow());
    breaker.record(i % 2 == 0);  // never two failures in a row
  }
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_EQ(breaker.opened_count(), 0);
}

TEST(Breaker, OpensAfterConsecutiveFailuresAndRefusesUntilTheOpenPeriodEnds) {
  testing::ManualClock clock;
  Breaker breaker({.failures = 3, .open_ms = 1000}, clock);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(breaker.allow());
    breaker.record(false);
  }
  EXPECT_EQ(breaker.state(), State::kClosed);
  ASSERT_TRUE(breaker.allow());
  breaker.record(false);
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_EQ(breaker.opened_count(), 1);
  EXPECT_FALSE(breaker.allow());
  clock.advance(999);
  EXPECT_FALSE(breaker.allow());
}

TEST(Breaker, LetsOneProbeThroughAndClosesWhenItIsAnswered) {
  testing::ManualClock clock;
  Breaker breaker({.failures = 1, .open_ms = 1000}, clock);
  ASSERT_TRUE(breaker.allow());
  breaker.record(false);
  clock.advance(1000);
  EXPECT_TRUE(breaker.allow());  // the probe
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
  EXPECT_FALSE(breaker.allow());  // one probe at a time
  breaker.record(true);
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_TRUE(breaker.allow());
  EXPECT_TRUE(breaker.allow());
}

TEST(Breaker, AFailedProbeOpensItAgainForAWholePeriod) {
  testing::ManualClock clock;
  Breaker breaker({.failures = 2, .open_ms = 500}, clock);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(breaker.allow());
    breaker.record(false);
  }
  clock.advance(500);
  ASSERT_TRUE(breaker.allow());
  breaker.record(false);  // one failure is enough in half-open
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_EQ(breaker.opened_count(), 2);
  clock.advance(499);
  EXPECT_FALSE(breaker.allow());
  clock.advance(1);
  EXPECT_TRUE(breaker.allow());
}

TEST(Breaker, AFailureOfACallLetThroughBeforeItOpenedDoesNotExtendTheOpenPeriod) {
  testing::ManualClock clock;
  Breaker breaker({.failures = 1, .open_ms = 1000}, clock);
  ASSERT_TRUE(breaker.allow());
  ASSERT_TRUE(breaker.allow());  // two calls in flight
  breaker.record(false);         // opens until 1000
  clock.advance(600);
  breaker.record(false);  // the second one, late
  clock.advance(400);
  EXPECT_TRUE(breaker.allow());
  EXPECT_EQ(breaker.opened_count(), 1);
}

TEST(Breaker, ZeroFailuresNeverOpens) {
  testing::ManualClock clock;
  Breaker breaker({.failures = 0, .open_ms = 1000}, clock);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(breaker.allow());
    breaker.record(false);
  }
  EXPECT_EQ(breaker.state(), State::kClosed);
}

}  // namespace
}  // namespace payoutd::rails
