#include "core/time_format.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace payoutd {
namespace {

namespace chrono = std::chrono;

// The span of <chrono>'s calendar: from the first second of year::min() to the last of year::max().
constexpr chrono::sys_seconds kFirstSecond{
    chrono::sys_days{chrono::year::min() / chrono::January / 1}};
constexpr chrono::sys_seconds kLastSecond{
    chrono::sys_days{chrono::year::max() / chrono::December / 31} + chrono::days{1} -
    chrono::seconds{1}};
// The first day parse_iso_date_ms accepts: that of epoch millisecond 0 (four digits end at 9999).
constexpr chrono::year_month_day kFirstDate{chrono::year{1970} / chrono::January / 1};

struct LocalTime {
  chrono::year_month_day date;
  chrono::hh_mm_ss<chrono::seconds> time;
  chrono::weekday day_of_week;
};

// The calendar date and time of day `utc_offset_minutes` east of UTC, within the calendar's span.
LocalTime local_time(std::int64_t epoch_ms, int utc_offset_minutes) {
  const chrono::sys_time<chrono::milliseconds> utc{chrono::milliseconds{epoch_ms}};
  const chrono::sys_seconds local =
      std::clamp(chrono::floor<chrono::seconds>(utc) + chrono::minutes{utc_offset_minutes},
                 kFirstSecond, kLastSecond);
  const chrono::sys_days day = chrono::floor<chrono::days>(local);
  return {chrono::year_month_day{day}, chrono::hh_mm_ss<chrono::seconds>{local - day},
          chrono::weekday{day}};
}

// The number spelled by text[at, at + count) in decimal digits; nullopt if any is not a digit.
std::optional<int> fixed_digits(std::string_view text, std::size_t at, std::size_t count) {
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::optional<int> parse_utc_offset_minutes(std::string_view text) {
  if (text == "Z") return 0;
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':') return std::nullopt;
  const auto hours = fixed_digits(text, 1, 2), minutes = fixed_digits(text, 4, 2);
  if (!hours || !minutes || *hours > 14 || *minutes > 59) return std::nullopt;
  const int total = *hours * 60 + *minutes;
  return text[0] == '-' ? -total : total;
}

std::string format_iso8601(std::int64_t epoch_ms, int utc_offset_minutes) {
  const LocalTime t = local_time(epoch_ms, utc_offset_minutes);
  const int offset_abs = utc_offset_minutes < 0 ? -utc_offset_minutes : utc_offset_minutes;
  char buffer[40];
  const int n = std::snprintf(
      buffer, sizeof(buffer), "%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d",
      static_cast<int>(t.date.year()), static_cast<unsigned>(t.date.month()),
      static_cast<unsigned>(t.date.day()), static_cast<int>(t.time.hours().count()),
      static_cast<int>(t.time.minutes().count()), static_cast<int>(t.time.seconds().count()),
      utc_offset_minutes < 0 ? '-' : '+', offset_abs / 60, offset_abs % 60);
  return std::string(buffer, static_cast<std::size_t>(n));
}

std::string format_rfc5322_date(std::int64_t epoch_ms) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const LocalTime t = local_time(epoch_ms, 0);
  char buffer[48];
  const int n = std::snprintf(
      buffer, sizeof(buffer), "%s, %02u %s %04d %02d:%02d:%02d +0000",
      kDays[t.day_of_week.c_encoding()], static_cast<unsigned>(t.date.day()),
      kMonths[static_cast<unsigned>(t.date.month()) - 1], static_cast<int>(t.date.year()),
      static_cast<int>(t.time.hours().count()), static_cast<int>(t.time.minutes().count()),
      static_cast<int>(t.time.seconds().count()));
  return std::string(buffer, static_cast<std::size_t>(n));
}

std::optional<std::int64_t> parse_iso_date_ms(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto year = fixed_digits(text, 0, 4), month = fixed_digits(text, 5, 2),
             day = fixed_digits(text, 8, 2);
  if (!year || !month || !day) return std::nullopt;
  const chrono::year_month_day date{chrono::year{*year},
                                    chrono::month{static_cast<unsigned>(*month)},
                                    chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok() || date < kFirstDate) return std::nullopt;
  return chrono::duration_cast<chrono::milliseconds>(chrono::sys_days{date}.time_since_epoch())
      .count();
}

}  // namespace payoutd
