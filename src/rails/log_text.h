#pragma once
// Text a network sent back, made fit for the operator's log (the connectors' alerts): never a card
// number, never unbounded.
#include <cstddef>
#include <string>
#include <string_view>

namespace payoutd::rails {

// Runs of 12 or more digits (a card number the network might echo) replaced by "****" and their
// last four digits.
std::string without_card_numbers(std::string_view text);

// At most `max_bytes` of `s`, not cutting a UTF-8 sequence.
std::string shortened(std::string_view s, std::size_t max_bytes);

}  // namespace payoutd::rails
