#pragma once
// The admin API's query parameters that several routes read: positive numbers, times, pages.
#include <cstdint>
#include <optional>
#include <string_view>

#include "http/query.h"

namespace payoutd::admin {

// A positive integer of at most 18 digits; nullopt for anything else.
std::optional<std::int64_t> positive_number(std::string_view text);
// A query parameter that is absent (`fallback`) or a positive integer; nullopt when malformed.
std::optional<std::int64_t> number_param(const http::QueryParam& p, std::int64_t fallback);
// from= and to=: a day (YYYY-MM-DD, UTC; `end_of_day` takes the whole day) or milliseconds since
// 1970; absent: 0. nullopt when malformed.
std::optional<std::int64_t> time_param(const http::QueryParam& p, bool end_of_day);

}  // namespace payoutd::admin
