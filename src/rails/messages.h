#pragma once
// What the network connectors share for the messages they send and the answers they log: the
// order's parties and text helpers (with rails/log_text.h's, for what they log). Pure; any thread.
#include <cstddef>
#include <string>
#include <string_view>

#include "core/json.h"
#include "rails/log_text.h"
#include "rails/rail.h"

namespace payoutd::rails {

// A party of a payout as the dialects record it in CreditOrder::parties (a JSON object of their
// names: sender_first_name, recipient_country, ...). Countries are ISO 3166 alpha-2.
struct Party {
  std::string wallet_id, first_name, last_name, country, state, city, address, zip;
  bool named() const { return !first_name.empty() && !last_name.empty(); }
};

struct Parties {
  Party sender, recipient;
};

// The order's parties, each value without surrounding spaces. A recipient without first and last
// names takes them from the cardholder's name, the name embossed on the card: first names, then
// the last at its last space.
Parties parties_of(const CreditOrder& order);

// Without leading and trailing spaces.
std::string_view trimmed(std::string_view s);

// The string member `key` of an object (null: none); empty when absent or not a string.
std::string string_member(const json::Value* object, std::string_view key);

}  // namespace payoutd::rails
