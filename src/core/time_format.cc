#include "core/time_format.h"

#include <cstdio>

namespace payoutd {
namespace {

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
void civil_from_days(std::int64_t days, int& year, int& month, int& day) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0));
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

}  // namespace

std::optional<int> parse_utc_offset_minutes(std::string_view text) {
  if (text == "Z") return 0;
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':') return std::nullopt;
  for (std::size_t i : {1, 2, 4, 5}) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  const int hours = (text[1] - '0') * 10 + (text[2] - '0');
  const int minutes = (text[4] - '0') * 10 + (text[5] - '0');
  if (hours > 14 || minutes > 59) return std::nullopt;
  const int total = hours * 60 + minutes;
  return text[0] == '-' ? -total : total;
}

std::string format_iso8601(std::int64_t epoch_ms, int utc_offset_minutes) {
  const std::int64_t local_s = floor_div(epoch_ms, 1000) + utc_offset_minutes * 60LL;
  const std::int64_t days = floor_div(local_s, 86400);
  const std::int64_t second_of_day = local_s - days * 86400;
  int year = 0, month = 0, day = 0;
  civil_from_days(days, year, month, day);
  const int offset_abs = utc_offset_minutes < 0 ? -utc_offset_minutes : utc_offset_minutes;
  char buffer[40];
  const int n = std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                              year, month, day, static_cast<int>(second_of_day / 3600),
                              static_cast<int>(second_of_day / 60 % 60),
                              static_cast<int>(second_of_day % 60),
                              utc_offset_minutes < 0 ? '-' : '+', offset_abs / 60, offset_abs % 60);
  return std::string(buffer, static_cast<std::size_t>(n));
}

}  // namespace payoutd
