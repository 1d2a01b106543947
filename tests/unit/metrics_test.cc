#include "core/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace payoutd::metrics {
namespace {

TEST(Metrics, CountersSumEveryThreadsShard) {
  Counters counters(10);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&counters] {
      for (int i = 0; i < 10000; ++i) counters.add(7);
      counters.add(9, 5);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counters.value(7), 80000);
  EXPECT_EQ(counters.value(9), 40);
  EXPECT_EQ(counters.value(0), 0);
  EXPECT_EQ(counters.value(8), 0);
}

TEST(Metrics, HistogramBucketsAreInclusiveUpperBounds) {
  Histograms h({10, 100, 1000}, 2);
  for (std::int64_t v : {0, 10, 11, 100, 5000}) h.observe(1, v);
  const Histograms::Snapshot s = h.snapshot(1);
  EXPECT_EQ(s.cumulative, (std::vector<std::int64_t>{2, 4, 4, 5}));
  EXPECT_EQ(s.sum, 5121);
  EXPECT_EQ(s.count(), 5);
  EXPECT_EQ(h.snapshot(0).count(), 0);
}

TEST(Metrics, ScaledValuesAreExactDecimals) {
  auto scaled = [](std::int64_t v, Scale s) {
    std::string out;
    append_scaled(out, v, s);
    return out;
  };
  EXPECT_EQ(scaled(1500, Scale::kMilli), "1.5");
  EXPECT_EQ(scaled(250, Scale::kMicro), "0.00025");
  EXPECT_EQ(scaled(3'000'000, Scale::kMicro), "3");
  EXPECT_EQ(scaled(-1, Scale::kMilli), "-0.001");
  EXPECT_EQ(scaled(9'223'372'036'854'775'807, Scale::kMicro), "9223372036854.775807");
  EXPECT_EQ(scaled(42, Scale::kOne), "42");
}

TEST(Metrics, ExpositionWritesTheTextFormat) {
  std::string out;
  Exposition e(out);
  e.family("payoutd_things_total", Type::kCounter, "Things done.\nSecond line \\ here.");
  e.sample({{"kind", "a\"b\\c\nd"}}, 3);
  e.sample({}, 4);
  e.family("payoutd_wait_seconds", Type::kHistogram, "Waits.");
  Histograms h({1000, 250000});
  h.observe(0, 500);
  h.observe(0, 2'000'000);
  e.histogram({{"route", "/x"}}, h.snapshot(0), h.bounds(), Scale::kMicro);
  e.family("payoutd_depth", Type::kGauge, "Depth.");
  e.sample({{"a", "1"}, {"b", "2"}}, 7);
  EXPECT_EQ(out,
            "# HELP payoutd_things_total Things done.\\nSecond line \\\\ here.\n"
            "# TYPE payoutd_things_total counter\n"
            "payoutd_things_total{kind=\"a\\\"b\\\\c\\nd\"} 3\n"
            "payoutd_things_total 4\n"
            "# HELP payoutd_wait_seconds Waits.\n"
            "# TYPE payoutd_wait_seconds histogram\n"
            "payoutd_wait_seconds_bucket{route=\"/x\",le=\"0.001\"} 1\n"
            "payoutd_wait_seconds_bucket{route=\"/x\",le=\"0.25\"} 1\n"
            "payoutd_wait_seconds_bucket{route=\"/x\",le=\"+Inf\"} 2\n"
            "payoutd_wait_seconds_sum{route=\"/x\"} 2.0005\n"
            "payoutd_wait_seconds_count{route=\"/x\"} 2\n"
            "# HELP payoutd_depth Depth.\n"
            "# TYPE payoutd_depth gauge\n"
            "payoutd_depth{a=\"1\",b=\"2\"} 7\n");
}

TEST(MetricsDeathTest, BadNamesAreBugs) {
  std::string out;
  Exposition e(out);
  EXPECT_DEATH(e.family("payoutd_things", Type::kCounter, "no _total"), "_total");
  EXPECT_DEATH(e.family("9lives", Type::kGauge, "bad"), "metric name");
  e.family("payoutd_ok", Type::kGauge, "ok");
  EXPECT_DEATH(e.sample({{"__reserved", "x"}}, 1), "label name");
  EXPECT_DEATH(e.sample({{"has-dash", "x"}}, 1), "label name");
}

}  // namespace
}  // namespace payoutd::metrics
