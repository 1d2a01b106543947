#include "admin/query_params.h"

#include <charconv>

#include "core/time_format.h"

namespace payoutd::admin {
namespace {
constexpr std::int64_t kDayMs = 86'400'000;
}  // namespace

std::optional<std::int64_t> positive_number(std::string_view text) {
  if (text.empty() || text.size() > 18 || text.front() == '0') return std::nullopt;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n <= 0) return std::nullopt;
  return n;
}

std::optional<std::int64_t> number_param(const http::QueryParam& p, std::int64_t fallback) {
  if (!p.present) return fallback;
  if (!p.valid) return std::nullopt;
  return positive_number(p.value);
}

std::optional<std::int64_t> time_param(const http::QueryParam& p, bool end_of_day) {
  if (!p.present) return 0;
  if (!p.valid) return std::nullopt;
  if (const auto day_ms = parse_iso_date_ms(p.value)) return *day_ms + (end_of_day ? kDayMs : 0);
  return positive_number(p.value);
}

}  // namespace payoutd::admin
