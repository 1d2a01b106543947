#pragma once
// The card programs' requirements on a payout through Payment Page (seed 002, "restrictions";
// docs/ecommpay.md, "Program requirements"). Which program carries a payout depends on the
// recipient's card: Mastercard MoneySend for Mastercard cards, Visa Direct (Money Transfer) for
// Visa cards. Two of their rules need data about the payout's parties, which the merchant gives
// in the link that opens the page (sender_*, recipient_*):
// - MoneySend with a person as sender (a project whose payouts persons send, not the merchant
//   itself) needs the recipient's first and last name, and the sender's first and last name,
//   primary account id (sender_wallet_id) and location (country, city, address; state for CA
//   and US). Without them the payout is declined (code 319).
// - Money Transfer to a Visa card issued in Canada needs the recipient's location: country,
//   city, address, and the state for CA and US. Without it the page asks for it on an extra page
//   before the verification code is sent.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace payoutd::providers::ecommpay {

struct Party {
  std::string wallet_id, first_name, last_name, country, state, city, address, zip;
  bool operator==(const Party&) const = default;
};

struct Parties {
  Party sender, recipient;
  bool operator==(const Parties&) const = default;
};

using Params = std::vector<std::pair<std::string, std::string>>;

// The decline code of a payout missing the data its program requires (the registry's 319,
// "There is not enough data to create an operation").
inline constexpr std::string_view kDeclineProgramData = "319";

// The sender_* and recipient_* parameters of a link. nullopt when one is malformed, with the
// parameter at fault in `problem`: longer than its limit, a country that is not an ISO 3166-1
// alpha-2 code, a state that is not one of the country's (CA, US) or not 1 to 3 letters or digits.
std::optional<Parties> parties_from(const Params& params, std::string* problem);

// The order's record of them (a JSON object of the link's parameter names; empty when there are
// none), and back.
std::string parties_json(const Parties& parties);
Parties parties_from_json(std::string_view json);

enum class Requirement {
  kMet,                // the payout may go on
  kDecline,            // MoneySend with a person as sender, without the parties' data
  kRecipientLocation,  // a Canadian Visa card without the recipient's location: ask for it
};

// What the programs require of a payout to a card of `scheme` ("VISA", "MASTERCARD") issued in
// `country` (ISO 3166-1 alpha-2), for a project whose senders are persons or not.
Requirement requirement(bool person_sender, std::string_view scheme, std::string_view country,
                        const Parties& parties);

// Whether `location` is a complete location: country, city, address, and state for CA and US.
bool location_complete(const Party& location);
// The first field of a location entered on the page that is wrong ("country", "state", "city",
// "address"), or empty.
std::string location_problem(const Party& location);

}  // namespace payoutd::providers::ecommpay
