#pragma once
// Metrics: counters and histograms cheap enough for the request path, and their Prometheus text
// exposition (format 0.0.4: https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Contract:
// - Every value is an integer: counts, minor units of money, durations in microseconds. The
//   exposition writes a scaled value (microseconds as seconds) as an exact decimal; no double
//   is involved anywhere.
// - An update (Counters::add, Histograms::observe) is relaxed atomic adds on the calling thread's
//   shard: threads counting the same series write different cache lines. No lock, no allocation,
//   any thread. A read sums the shards: each series is at some recent value, and a scrape is not
//   a snapshot across series (a histogram's count may lag its buckets by an observation).
// - Series are fixed at construction: a family is a dense array the caller indexes by label
//   values it maps from bounded sets (enums, route tables, the config). Nothing here takes a
//   label value from a request, so a family's cardinality is known before the first request.
// - Gauges are values computed when a scrape asks (Exposition::sample of a kGauge family).
#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace payoutd::metrics {

// Shards per counter array: threads are spread over them round-robin on their first update.
inline constexpr std::size_t kShards = 4;

// `size` monotonic counters, indexed 0..size-1.
class Counters {
 public:
  explicit Counters(std::size_t size);
  // REQUIRES: index < size(), n >= 0.
  void add(std::size_t index, std::int64_t n = 1) noexcept {
    slot(this_thread_shard(), index).fetch_add(n, std::memory_order_relaxed);
  }
  std::int64_t value(std::size_t index) const noexcept;
  std::size_t size() const { return size_; }

 private:
  static constexpr std::size_t kSlotsPerLine = 8;  // 8 int64 = one 64-byte cache line
  struct alignas(64) Line {
    std::array<std::atomic<std::int64_t>, kSlotsPerLine> slots{};
  };
  static std::size_t this_thread_shard() noexcept;
  std::atomic<std::int64_t>& slot(std::size_t shard, std::size_t index) const noexcept {
    return lines_[shard * lines_per_shard_ + index / kSlotsPerLine].slots[index % kSlotsPerLine];
  }

  std::size_t size_;
  std::size_t lines_per_shard_;
  std::unique_ptr<Line[]> lines_;
};

// `series` histograms over the same bucket bounds: upper bounds, inclusive, strictly increasing,
// in the histogram's integer unit (microseconds, jobs, ...); one more bucket above the last (+Inf).
class Histograms {
 public:
  explicit Histograms(std::vector<std::int64_t> bounds, std::size_t series = 1);
  // REQUIRES: series < this->series(), value >= 0.
  void observe(std::size_t series, std::int64_t value) noexcept;

  struct Snapshot {
    std::vector<std::int64_t> cumulative;  // per bound, then +Inf (which is the count)
    std::int64_t sum = 0;
    std::int64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
  };
  Snapshot snapshot(std::size_t series) const;
  const std::vector<std::int64_t>& bounds() const { return bounds_; }
  std::size_t series() const { return series_; }

 private:
  std::vector<std::int64_t> bounds_;
  std::size_t series_;
  std::size_t stride_;  // cells per series: a bucket per bound, +Inf, the sum
  Counters cells_;
};

enum class Type : std::uint8_t { kCounter, kGauge, kHistogram };

// How an integer value is written: as is, or divided by 10^3 (milli) or 10^6 (micro), so that a
// duration kept in microseconds is exposed in seconds, the base unit.
enum class Scale : std::uint8_t { kOne = 0, kMilli = 3, kMicro = 6 };

struct Label {
  std::string_view name;
  std::string_view value;  // escaped by the exposition
};
using Labels = std::initializer_list<Label>;

// Writes families in the text format, appending to `out`. Each family is its HELP and TYPE lines
// (family()) followed by all of its samples; names are checked (PAYOUTD_ASSERT: a bad name is a
// bug, never input): a counter's name ends in "_total", samples belong to the family begun last.
class Exposition {
 public:
  explicit Exposition(std::string& out) : out_(out) {}

  void family(std::string_view name, Type type, std::string_view help);
  void sample(Labels labels, std::int64_t value, Scale scale = Scale::kOne);
  // A histogram's series: cumulative `_bucket`s with `le` in the scaled unit, `+Inf`, `_sum`,
  // `_count`. REQUIRES: the family is a kHistogram; `bounds` are the snapshot's.
  void histogram(Labels labels, const Histograms::Snapshot& snapshot,
                 const std::vector<std::int64_t>& bounds, Scale scale = Scale::kOne);

 private:
  void series(std::string_view suffix, Labels labels, const Label* extra);

  std::string& out_;
  std::string name_;
  Type type_ = Type::kGauge;
};

// "1.5" for (1500, kMilli); exact, trailing zeros dropped. Appends to `out`.
void append_scaled(std::string& out, std::int64_t value, Scale scale);

// The content type of the text exposition.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace payoutd::metrics
