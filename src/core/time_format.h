#pragma once
// ISO 8601 timestamps with an explicit UTC offset, as the providers' APIs show them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace payoutd {

// "+03:00" -> 180, "-05:30" -> -330, "Z" -> 0; nullopt when malformed.
std::optional<int> parse_utc_offset_minutes(std::string_view text);

// 1600931920000 ms at +180 -> "2020-09-24T10:18:40+03:00" (second precision, as seed 001 shows).
std::string format_iso8601(std::int64_t epoch_ms, int utc_offset_minutes);

}  // namespace payoutd
