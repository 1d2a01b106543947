#pragma once
// ISO 3166-1 countries: the alpha-2 codes payoutd keeps (a payout's parties, the BIN table) and
// the alpha-3 codes some networks want instead (Visa Direct's sender and recipient countries).
// The table is Debian's iso-codes (iso_3166-1.json). Pure; any thread.
#include <optional>
#include <string_view>

namespace payoutd {

// "KZ" -> "KAZ"; nullopt for anything that is not an upper-case alpha-2 code of the table.
std::optional<std::string_view> country_alpha3(std::string_view alpha2);

}  // namespace payoutd
