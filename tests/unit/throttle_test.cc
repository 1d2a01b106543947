// Credential throttling (core/throttle.h): delays per (credential, address), failures per
// address, address keys, and the bounded table they remember in (core/lru_table.h).
#include "core/throttle.h"

#include <gtest/gtest.h>

namespace payoutd {
namespace {

TEST(AddressKey, IsTheAddressOrItsSubscribersNetwork) {
  EXPECT_EQ(address_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(address_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_key("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64");  // one host's whole /64
  EXPECT_EQ(address_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(address_key("not an address"), "not an address");
}

TEST(Throttle, DelaysGrowAfterTheFreeFailuresAndASuccessStartsAfresh) {
  ThrottleOptions o;
  o.failures_free = 1;
  o.delay_first_ms = 1000;
  o.delay_max_ms = 4000;
  Throttle t(o);
  EXPECT_EQ(t.wait_ms("alice", "192.0.2.7", 0), 0);
  t.failed("alice", "192.0.2.7", 0);
  EXPECT_EQ(t.wait_ms("alice", "192.0.2.7", 0), 0);  // one free failure
  t.failed("alice", "192.0.2.7", 0);
  EXPECT_EQ(t.wait_ms("alice", "192.0.2.7", 0), 1000);
  EXPECT_EQ(t.wait_ms("alice", "192.0.2.7", 400), 600);
  EXPECT_EQ(t.wait_ms("alice", "198.51.100.1", 400), 0);  // elsewhere: nothing
  EXPECT_EQ(t.wait_ms("bob", "192.0.2.7", 400), 0);       // another credential: nothing
  for (std::int64_t at : {1000, 3000, 7000, 11000}) t.failed("alice", "192.0.2.7", at);
  EXPECT_EQ(t.wait_ms("alice", "192.0.2.7", 11000), 4000);  // doubling up to the maximum
  t.succeeded("alice", "192.0.2.7");
  EXPECT_EQ(t.wait_ms("alice", "192.0.2.7", 11000), 0);
}

TEST(Throttle, AnAddressHasABoundedRateOfFailuresWhateverTheCredential) {
  ThrottleOptions o;
  o.failures_free = 100;
  o.address_failures_per_minute = 6;  // one every 10 s
  o.address_failures_burst = 3;
  Throttle t(o);
  for (int i = 0; i < 3; ++i) t.failed("user-" + std::to_string(i), "2001:db8::1", 0);
  EXPECT_EQ(t.wait_ms("anyone", "2001:db8::2", 0), 10'000);  // the same /64
  EXPECT_EQ(t.wait_ms("anyone", "2001:db9::1", 0), 0);
  EXPECT_EQ(t.wait_ms("anyone", "2001:db8::2", 10'000), 0);
}

TEST(Throttle, ForgetsTheLeastRecentlyUsedBeyondItsBound) {
  ThrottleOptions o;
  o.failures_free = 0;
  o.entries_max = 2;
  Throttle t(o);
  t.failed("a", "192.0.2.1", 0);
  t.failed("b", "192.0.2.2", 0);
  t.failed("a", "192.0.2.1", 0);  // a is now the most recent
  t.failed("c", "192.0.2.3", 0);  // b is forgotten
  EXPECT_GT(t.wait_ms("a", "192.0.2.1", 0), 0);
  EXPECT_EQ(t.wait_ms("b", "192.0.2.2", 0), 0);
  EXPECT_GT(t.wait_ms("c", "192.0.2.3", 0), 0);
}

TEST(LruTable, ForgetsTheLeastRecentlyUsedWhenFull) {
  LruTable<int> table(2);
  table.use("a", [] { return 1; });
  table.use("b", [] { return 2; });
  EXPECT_EQ(table.use("a", [] { return 0; }), 1);  // found, not made: a is now the most recent
  ASSERT_NE(table.find("b"), nullptr);             // finding does not make b recent
  table.use("c", [] { return 3; });                // b is forgotten
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.find("b"), nullptr);
  EXPECT_EQ(*table.find("a"), 1);
  EXPECT_EQ(*table.find("c"), 3);
  table.erase("a");
  table.erase("missing");
  EXPECT_EQ(table.find("a"), nullptr);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.use("b", [] { return 4; }), 4);  // made anew after it was forgotten
}

TEST(LruTable, HoldsAtLeastOneEntry) {
  LruTable<int> table(0);
  table.use("a", [] { return 1; });
  EXPECT_EQ(*table.find("a"), 1);
  table.use("b", [] { return 2; });
  EXPECT_EQ(table.find("a"), nullptr);
  EXPECT_EQ(table.size(), 1u);
}

TEST(RateLimit, RefillsOverTime) {
  RateLimit r(60, 60'000, 2, 10);  // one a second after a burst of two
  EXPECT_EQ(r.take("k", 0), 0);
  EXPECT_EQ(r.take("k", 0), 0);
  EXPECT_EQ(r.take("k", 0), 1000);
  EXPECT_EQ(r.wait_ms("k", 500), 500);
  EXPECT_EQ(r.take("k", 1000), 0);
  EXPECT_EQ(r.wait_ms("other", 0), 0);
}

}  // namespace
}  // namespace payoutd
