#include "engine/numbered_records.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace payoutd::engine {
namespace {

constexpr std::int64_t kReadKeys = 500;  // keys of one records_with_keys (<= kRecordKeysMax)

std::int64_t number_of(const std::string& key) {
  std::int64_t seq = 0;
  std::from_chars(key.data(), key.data() + key.size(), seq);
  return seq;
}

}  // namespace

std::string numbered_key(std::int64_t seq) { return fmt::format("{:020d}", seq); }

store::Read<std::int64_t> scan_newest_first(
    const store::Store& store, std::string_view kind, std::int64_t before, std::int64_t scan_max,
    const std::function<bool(std::int64_t seq, const std::string& value)>& take) {
  std::int64_t next = before;
  std::int64_t scanned = 0;
  while (next > 1 && scanned < scan_max) {
    const std::int64_t low = std::max<std::int64_t>(1, next - kReadKeys);
    std::vector<std::string> keys;
    for (std::int64_t seq = next - 1; seq >= low; --seq) keys.push_back(numbered_key(seq));
    const auto records = store.records_with_keys("", kind, keys);
    if (!records.ok()) return Failure{records.error()};
    next = low;
    // Key order is ascending; newest first is the other way.
    for (auto it = records->rbegin(); it != records->rend(); ++it) {
      ++scanned;
      if (!take(number_of(it->first), it->second)) {
        next = number_of(it->first);
        return next > 1 ? next : 0;
      }
    }
  }
  return next > 1 ? next : 0;
}

}  // namespace payoutd::engine
