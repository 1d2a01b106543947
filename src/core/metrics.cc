#include "core/metrics.h"

#include <algorithm>

#include "core/assert.h"

namespace payoutd::metrics {
namespace {

bool is_name(std::string_view name, bool colons) {
  auto first = [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colons && c == ':');
  };
  auto next = [&](char c) { return first(c) || (c >= '0' && c <= '9'); };
  return !name.empty() && first(name[0]) && std::all_of(name.begin() + 1, name.end(), next);
}

// Label values escape backslash, double quote and line feed; HELP texts backslash and line feed.
void append_escaped(std::string& out, std::string_view text, bool quotes) {
  for (const char c : text) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '"' && quotes) {
      out.append("\\\"");
    } else {
      out.push_back(c);
    }
  }
}

std::int64_t power_of_ten(int exponent) {
  std::int64_t p = 1;
  for (int i = 0; i < exponent; ++i) p *= 10;
  return p;
}

}  // namespace

Counters::Counters(std::size_t size)
    : size_(size),
      lines_per_shard_((size + kSlotsPerLine - 1) / kSlotsPerLine),
      lines_(std::make_unique<Line[]>(kShards * lines_per_shard_)) {}

std::size_t Counters::this_thread_shard() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return shard;
}

std::int64_t Counters::value(std::size_t index) const noexcept {
  std::int64_t total = 0;
  for (std::size_t shard = 0; shard < kShards; ++shard) {
    total += slot(shard, index).load(std::memory_order_relaxed);
  }
  return total;
}

Histograms::Histograms(std::vector<std::int64_t> bounds, std::size_t series)
    : bounds_(std::move(bounds)),
      series_(series),
      stride_(bounds_.size() + 2),
      cells_(series * stride_) {
  PAYOUTD_ASSERT(
      std::adjacent_find(bounds_.begin(), bounds_.end(), std::greater_equal<>()) == bounds_.end(),
      "histogram bounds increase strictly");
}

void Histograms::observe(std::size_t series, std::int64_t value) noexcept {
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  const std::size_t base = series * stride_;
  cells_.add(base + bucket);
  cells_.add(base + bounds_.size() + 1, value);
}

Histograms::Snapshot Histograms::snapshot(std::size_t series) const {
  Snapshot s;
  const std::size_t base = series * stride_;
  std::int64_t running = 0;
  s.cumulative.reserve(bounds_.size() + 1);
  for (std::size_t bucket = 0; bucket <= bounds_.size(); ++bucket) {
    running += cells_.value(base + bucket);
    s.cumulative.push_back(running);
  }
  s.sum = cells_.value(base + bounds_.size() + 1);
  return s;
}

void append_scaled(std::string& out, std::int64_t value, Scale scale) {
  const int digits = static_cast<int>(scale);
  if (digits == 0) {
    out.append(std::to_string(value));
    return;
  }
  if (value < 0) out.push_back('-');
  const std::uint64_t magnitude =
      value < 0 ? ~static_cast<std::uint64_t>(value) + 1 : static_cast<std::uint64_t>(value);
  const auto unit = static_cast<std::uint64_t>(power_of_ten(digits));
  out.append(std::to_string(magnitude / unit));
  std::uint64_t fraction = magnitude % unit;
  if (fraction == 0) return;
  int width = digits;
  while (fraction % 10 == 0) {
    fraction /= 10;
    --width;
  }
  const std::string text = std::to_string(fraction);
  out.push_back('.');
  out.append(static_cast<std::size_t>(width) - text.size(), '0').append(text);
}

void Exposition::family(std::string_view name, Type type, std::string_view help) {
  PAYOUTD_ASSERT(is_name(name, true), "a metric name is [a-zA-Z_:][a-zA-Z0-9_:]*");
  PAYOUTD_ASSERT(type != Type::kCounter || name.ends_with("_total"), "a counter ends in _total");
  name_.assign(name);
  type_ = type;
  static constexpr std::string_view kTypes[] = {"counter", "gauge", "histogram"};
  out_.append("# HELP ").append(name).push_back(' ');
  append_escaped(out_, help, false);
  out_.append("\n# TYPE ").append(name).push_back(' ');
  out_.append(kTypes[static_cast<int>(type)]).push_back('\n');
}

void Exposition::series(std::string_view suffix, Labels labels, const Label* extra) {
  PAYOUTD_ASSERT(!name_.empty(), "a sample follows its family's HELP and TYPE");
  out_.append(name_).append(suffix);
  if (labels.size() == 0 && extra == nullptr) {
    out_.push_back(' ');
    return;
  }
  char separator = '{';
  auto append_label = [&](const Label& label) {
    PAYOUTD_ASSERT(is_name(label.name, false) && !label.name.starts_with("__"),
                   "a label name is [a-zA-Z_][a-zA-Z0-9_]*, not reserved");
    out_.push_back(separator);
    separator = ',';
    out_.append(label.name).append("=\"");
    append_escaped(out_, label.value, true);
    out_.push_back('"');
  };
  for (const Label& label : labels) append_label(label);
  if (extra) append_label(*extra);
  out_.append("} ");
}

void Exposition::sample(Labels labels, std::int64_t value, Scale scale) {
  PAYOUTD_ASSERT(type_ != Type::kHistogram, "a histogram's samples come from histogram()");
  series("", labels, nullptr);
  append_scaled(out_, value, scale);
  out_.push_back('\n');
}

void Exposition::histogram(Labels labels, const Histograms::Snapshot& snapshot,
                           const std::vector<std::int64_t>& bounds, Scale scale) {
  PAYOUTD_ASSERT(type_ == Type::kHistogram, "histogram() writes a histogram family");
  PAYOUTD_ASSERT(snapshot.cumulative.size() == bounds.size() + 1, "the snapshot has the bounds");
  std::string le;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    le.clear();
    if (i < bounds.size()) {
      append_scaled(le, bounds[i], scale);
    } else {
      le = "+Inf";
    }
    const Label bound{"le", le};
    series("_bucket", labels, &bound);
    out_.append(std::to_string(snapshot.cumulative[i])).push_back('\n');
  }
  series("_sum", labels, nullptr);
  append_scaled(out_, snapshot.sum, scale);
  out_.push_back('\n');
  series("_count", labels, nullptr);
  out_.append(std::to_string(snapshot.count())).push_back('\n');
}

}  // namespace payoutd::metrics
