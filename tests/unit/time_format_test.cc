// Dates and times of the APIs, mails and pages (core/time_format.h), checked against fixed
// examples and, over whole centuries, against the C library's own calendar (gmtime_r).
#include "core/time_format.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <limits>

namespace payoutd {
namespace {

constexpr std::int64_t kDayS = 86'400;
constexpr std::int64_t kYear0S = -62'167'219'200;      // 0000-01-01T00:00:00Z
constexpr std::int64_t kYear10000S = 253'402'300'800;  // 10000-01-01T00:00:00Z

// What format_iso8601 should say, computed by the C library from the local seconds.
std::string libc_iso8601(std::int64_t local_s, int utc_offset_minutes) {
  const std::time_t t = static_cast<std::time_t>(local_s);
  std::tm tm{};
  EXPECT_NE(gmtime_r(&t, &tm), nullptr);
  const int offset_abs = utc_offset_minutes < 0 ? -utc_offset_minutes : utc_offset_minutes;
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                utc_offset_minutes < 0 ? '-' : '+', offset_abs / 60, offset_abs % 60);
  return buffer;
}

std::string libc_rfc5322(std::int64_t s) {
  const std::time_t t = static_cast<std::time_t>(s);
  std::tm tm{};
  EXPECT_NE(gmtime_r(&t, &tm), nullptr);
  char buffer[48];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S +0000", &tm);  // the C locale's names
  return buffer;
}

TEST(FormatIso8601, ShowsTheEpochAndTheSecondsAroundIt) {
  EXPECT_EQ(format_iso8601(0, 0), "1970-01-01T00:00:00+00:00");
  EXPECT_EQ(format_iso8601(999, 0), "1970-01-01T00:00:00+00:00");
  EXPECT_EQ(format_iso8601(-1, 0), "1969-12-31T23:59:59+00:00");  // rounds towards the past
  EXPECT_EQ(format_iso8601(-1000, 0), "1969-12-31T23:59:59+00:00");
  EXPECT_EQ(format_iso8601(-1001, 0), "1969-12-31T23:59:58+00:00");
}

TEST(FormatIso8601, ShowsTheLocalTimeOfItsOffset) {
  EXPECT_EQ(format_iso8601(1'600'931'920'000, 180), "2020-09-24T10:18:40+03:00");  // seed 001
  EXPECT_EQ(format_iso8601(0, -330), "1969-12-31T18:30:00-05:30");
  EXPECT_EQ(format_iso8601(0, 14 * 60 + 59), "1970-01-01T14:59:00+14:59");
  EXPECT_EQ(format_iso8601(1'796'083'199'000, 60), "2026-12-01T00:59:59+01:00");
  EXPECT_EQ(format_iso8601(1'798'761'599'000, 1), "2027-01-01T00:00:59+00:01");  // a new year east
}

TEST(FormatIso8601, KnowsLeapYears) {
  EXPECT_EQ(format_iso8601(951'782'400'000, 0), "2000-02-29T00:00:00+00:00");  // divisible by 400
  EXPECT_EQ(format_iso8601(951'782'400'000 + kDayS * 1000, 0), "2000-03-01T00:00:00+00:00");
  EXPECT_EQ(format_iso8601(-2'203'891'200'000, 0), "1900-03-01T00:00:00+00:00");  // by 100 only
  EXPECT_EQ(format_iso8601(-2'203'891'200'000 - 1000, 0), "1900-02-28T23:59:59+00:00");
  EXPECT_EQ(format_iso8601(1'709'164'800'000, 0), "2024-02-29T00:00:00+00:00");
  EXPECT_EQ(format_iso8601(1'740'787'200'000, 0), "2025-03-01T00:00:00+00:00");  // after Feb 28
}

TEST(FormatIso8601, AgreesWithTheCLibraryOnEveryDayOfFourCenturies) {
  const std::int64_t first_s = -2'208'988'800;  // 1900-01-01
  for (std::int64_t day = 0; day < 146'097; ++day) {
    const std::int64_t s =
        first_s + day * kDayS + (day * 7'919) % kDayS;       // a different time each day
    const int offset = static_cast<int>(day % 1'799) - 899;  // -14:59 .. +14:59
    ASSERT_EQ(format_iso8601(s * 1000, offset), libc_iso8601(s + offset * 60, offset)) << s;
  }
}

TEST(FormatIso8601, AgreesWithTheCLibraryFromYear0ToYear9999) {
  for (std::int64_t s = kYear0S; s < kYear10000S; s += 97 * kDayS + 3'613) {
    ASSERT_EQ(format_iso8601(s * 1000, 0), libc_iso8601(s, 0)) << s;
  }
  EXPECT_EQ(format_iso8601(kYear0S * 1000, 0), "0000-01-01T00:00:00+00:00");
  EXPECT_EQ(format_iso8601(kYear10000S * 1000 - 1, 0), "9999-12-31T23:59:59+00:00");
}

// Beyond four digits the year is still exact as far as the calendar types reach; past them the
// time shows as the calendar's first or last second instead of a wrong date.
TEST(FormatIso8601, ShowsFarDatesExactlyAndBeyondTheCalendarItsBounds) {
  EXPECT_EQ(format_iso8601(kYear10000S * 1000, 0), "10000-01-01T00:00:00+00:00");
  EXPECT_EQ(format_iso8601((kYear0S - 1) * 1000, 0), "-001-12-31T23:59:59+00:00");
  EXPECT_EQ(format_iso8601(971'890'963'199'000, 0),
            "32767-12-31T23:59:59+00:00");  // the last second
  EXPECT_EQ(format_iso8601(971'890'963'200'000, 0), "32767-12-31T23:59:59+00:00");
  EXPECT_EQ(format_iso8601(std::numeric_limits<std::int64_t>::max(), 840),
            "32767-12-31T23:59:59+14:00");
  EXPECT_EQ(format_iso8601(std::numeric_limits<std::int64_t>::min(), -840),
            "-32767-01-01T00:00:00-14:00");
}

TEST(FormatRfc5322Date, NamesTheDayAndMonth) {
  EXPECT_EQ(format_rfc5322_date(1'796'113'200'000), "Tue, 01 Dec 2026 08:20:00 +0000");
  EXPECT_EQ(format_rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(format_rfc5322_date(951'782'400'000), "Tue, 29 Feb 2000 00:00:00 +0000");
  for (std::int64_t s = -2'208'988'800; s < 4'102'444'800; s += kDayS + 3'613) {  // 1900 to 2100
    ASSERT_EQ(format_rfc5322_date(s * 1000), libc_rfc5322(s)) << s;
  }
}

TEST(ParseIsoDateMs, GivesTheFirstMillisecondOfTheDay) {
  EXPECT_EQ(parse_iso_date_ms("1970-01-01"), 0);
  EXPECT_EQ(parse_iso_date_ms("2026-12-01"), 1'796'083'200'000);
  EXPECT_EQ(parse_iso_date_ms("2000-02-29"), 951'782'400'000);
  EXPECT_EQ(parse_iso_date_ms("2024-02-29"), 1'709'164'800'000);
  EXPECT_EQ(parse_iso_date_ms("9999-12-31"), (kYear10000S - kDayS) * 1000);
}

TEST(ParseIsoDateMs, ReadsBackEveryDayItFormats) {
  for (std::int64_t s = 0; s < kYear10000S; s += 89 * kDayS) {
    const std::string date = format_iso8601(s * 1000 + 86'399'999, 0).substr(0, 10);
    ASSERT_EQ(parse_iso_date_ms(date), s * 1000) << date;
  }
}

TEST(ParseIsoDateMs, RefusesDaysTheCalendarLacks) {
  EXPECT_FALSE(parse_iso_date_ms("2026-02-29"));
  EXPECT_FALSE(parse_iso_date_ms("1900-02-29"));
  EXPECT_FALSE(parse_iso_date_ms("2100-02-29"));
  EXPECT_FALSE(parse_iso_date_ms("2026-04-31"));
  EXPECT_FALSE(parse_iso_date_ms("2026-12-32"));
  EXPECT_FALSE(parse_iso_date_ms("2026-13-01"));
  EXPECT_FALSE(parse_iso_date_ms("2026-00-10"));
  EXPECT_FALSE(parse_iso_date_ms("2026-12-00"));
  EXPECT_FALSE(parse_iso_date_ms("0000-00-00"));
}

TEST(ParseIsoDateMs, RefusesDaysBeforeTheEpochAndOtherSpellings) {
  EXPECT_FALSE(parse_iso_date_ms("1969-12-31"));
  EXPECT_FALSE(parse_iso_date_ms("0000-01-01"));
  for (const char* text :
       {"", "2026-1-01", "2026-12-1", "2026/12/01", "2026-12-01 ", " 2026-12-01", "+026-12-01",
        "2026-12-0x", "20261201", "12026-12-01", "2026-12-01T00:00:00"}) {
    EXPECT_FALSE(parse_iso_date_ms(text)) << text;
  }
}

TEST(ParseUtcOffsetMinutes, ReadsOffsetsUpToFourteenHours) {
  EXPECT_EQ(parse_utc_offset_minutes("Z"), 0);
  EXPECT_EQ(parse_utc_offset_minutes("+03:00"), 180);
  EXPECT_EQ(parse_utc_offset_minutes("-05:30"), -330);
  EXPECT_EQ(parse_utc_offset_minutes("-00:00"), 0);
  EXPECT_EQ(parse_utc_offset_minutes("+14:59"), 899);
  for (const char* text :
       {"", "z", "+15:00", "+03:60", "+3:00", "03:00", "+03-00", "+03:0x", "+0300", "+03:00Z"}) {
    EXPECT_FALSE(parse_utc_offset_minutes(text)) << text;
  }
}

}  // namespace
}  // namespace payoutd
