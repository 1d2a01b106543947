#pragma once
// Dates and times as the providers' APIs, the mails and the pages show them: C++20 <chrono>'s
// proleptic Gregorian calendar at a fixed UTC offset in minutes. No caller names a time zone (GCC
// 12's libstdc++ has no zone database either): each holds its offset, as the config spells it.
//
// The formatters show every time whose local date <chrono>'s calendar holds (years -32767 to
// 32767) exactly, and a time beyond those years as the nearest of them: every caller shows the
// server's clock give or take a session, so no caller comes near. Pure; any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace payoutd {

// "+03:00" -> 180, "-05:30" -> -330, "Z" -> 0; nullopt when malformed or beyond ±14:59.
std::optional<int> parse_utc_offset_minutes(std::string_view text);

// 1600931920000 ms at +180 -> "2020-09-24T10:18:40+03:00": second precision, as seed 001 shows
// (the milliseconds are dropped, rounding towards the past, also before 1970).
std::string format_iso8601(std::int64_t epoch_ms, int utc_offset_minutes);

// 1796113200000 ms -> "Tue, 01 Dec 2026 08:20:00 +0000": RFC 5322's date of a mail, in UTC.
std::string format_rfc5322_date(std::int64_t epoch_ms);

// "2026-12-01" -> 1796083200000, the first millisecond of that day in UTC. nullopt unless the
// text is exactly YYYY-MM-DD and names a day of the calendar from 1970-01-01 to 9999-12-31 (so
// "2026-02-29" and "1969-12-31" are refused).
std::optional<std::int64_t> parse_iso_date_ms(std::string_view text);

}  // namespace payoutd
