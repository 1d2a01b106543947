#include "providers/ecommpay/program.h"

#include <array>

#include "core/json.h"

namespace payoutd::providers::ecommpay {

namespace {

// ISO 3166-1 alpha-2, two letters each (Debian's iso-codes).
constexpr std::string_view kCountries =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCM"
    "CNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGY"
    "HKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMF"
    "MGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARE"
    "RORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZ"
    "VAVCVEVGVIVNVUWFWSYEYTZAZMZW";
// ISO 3166-2's subdivisions of Canada and the United States, without the country prefix.
constexpr std::string_view kStatesCa = " AB BC MB NB NL NS NT NU ON PE QC SK YT ";
constexpr std::string_view kStatesUs =
    " AK AL AR AS AZ CA CO CT DC DE FL GA GU HI IA ID IL IN KS KY LA MA MD ME MI MN MO MP MS MT NC "
    "ND"
    " NE NH NJ NM NV NY OH OK OR PA PR RI SC SD TN TX UM UT VA VI VT WA WI WV WY ";

constexpr std::size_t kTextMax = 255;

bool known_country(std::string_view c) {
  if (c.size() != 2) return false;
  for (std::size_t i = 0; i < kCountries.size(); i += 2) {
    if (kCountries.substr(i, 2) == c) return true;
  }
  return false;
}

bool needs_state(std::string_view country) { return country == "CA" || country == "US"; }

bool valid_state(std::string_view country, std::string_view state) {
  if (state.empty()) return !needs_state(country);
  if (state.size() > 3) return false;
  for (char c : state) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  const std::string padded = " " + std::string(state) + " ";
  if (country == "CA") return kStatesCa.find(padded) != std::string_view::npos;
  if (country == "US") return kStatesUs.find(padded) != std::string_view::npos;
  return true;
}

// Text a person typed: no control characters, not only spaces.
bool valid_text(std::string_view s) {
  if (s.size() > kTextMax) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool blank(std::string_view s) { return s.find_first_not_of(' ') == std::string_view::npos; }

std::string upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

// The link parameter of each field: "sender_" or "recipient_" before its name.
struct Field {
  std::string_view name;
  std::string Party::*member;
  bool recipient;  // the recipient has one too (it has no wallet id or zip)
};
constexpr std::array<Field, 8> kFields{{
    {"wallet_id", &Party::wallet_id, false},
    {"first_name", &Party::first_name, true},
    {"last_name", &Party::last_name, true},
    {"country", &Party::country, true},
    {"state", &Party::state, true},
    {"city", &Party::city, true},
    {"address", &Party::address, true},
    {"zip", &Party::zip, false},
}};

bool names_complete(const Party& p) { return !blank(p.first_name) && !blank(p.last_name); }

}  // namespace

bool location_complete(const Party& l) {
  return known_country(l.country) && !blank(l.city) && !blank(l.address) &&
         valid_state(l.country, l.state) && (!needs_state(l.country) || !l.state.empty());
}

std::string location_problem(const Party& l) {
  if (!known_country(l.country)) return "country";
  if (!valid_state(l.country, l.state)) return "state";
  if (blank(l.city) || !valid_text(l.city)) return "city";
  if (blank(l.address) || !valid_text(l.address)) return "address";
  return {};
}

std::optional<Parties> parties_from(const Params& params, std::string* problem) {
  Parties out;
  for (const auto& [key, raw] : params) {
    const bool sender = key.starts_with("sender_");
    if (!sender && !key.starts_with("recipient_")) continue;
    const std::string_view name = std::string_view(key).substr(sender ? 7 : 10);
    const Field* field = nullptr;
    for (const Field& f : kFields) {
      if (f.name == name && (sender || f.recipient)) field = &f;
    }
    if (!field) continue;  // another parameter of Payment Page: not a party's
    std::string value = name == "country" || name == "state" ? upper(raw) : raw;
    const bool ok = name == "country" ? value.empty() || known_country(value)
                    : name == "state" ? value.size() <= 3 && valid_text(value)
                                      : valid_text(value);
    if (!ok) {
      if (problem) *problem = key;
      return std::nullopt;
    }
    (sender ? out.sender : out.recipient).*(field->member) = std::move(value);
  }
  for (const auto* party : {&out.sender, &out.recipient}) {
    if (!party->state.empty() && !party->country.empty() &&
        !valid_state(party->country, party->state)) {
      if (problem) *problem = party == &out.sender ? "sender_state" : "recipient_state";
      return std::nullopt;
    }
  }
  return out;
}

std::string parties_json(const Parties& parties) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  for (const auto& [prefix, party] :
       {std::pair<std::string_view, const Party*>{"sender_", &parties.sender},
        {"recipient_", &parties.recipient}}) {
    for (const Field& f : kFields) {
      const std::string& v = party->*(f.member);
      if (!v.empty()) w.key(std::string(prefix) + std::string(f.name)).string(v);
    }
  }
  w.end_object();
  return out == "{}" ? std::string() : out;
}

Parties parties_from_json(std::string_view text) {
  Params params;
  json::ParseResult parsed = json::parse(text);
  if (parsed.value && parsed.value->is_object()) {
    for (const auto& [k, v] : parsed.value->as_object()) {
      if (v.is_string()) params.emplace_back(k, v.as_string());
    }
  }
  return parties_from(params, nullptr).value_or(Parties{});
}

Requirement requirement(bool person_sender, std::string_view scheme, std::string_view country,
                        const Parties& p) {
  if (scheme == "MASTERCARD" && person_sender) {
    const bool complete = names_complete(p.recipient) && names_complete(p.sender) &&
                          !blank(p.sender.wallet_id) && location_complete(p.sender);
    return complete ? Requirement::kMet : Requirement::kDecline;
  }
  if (scheme == "VISA" && country == "CA" && !location_complete(p.recipient)) {
    return Requirement::kRecipientLocation;
  }
  return Requirement::kMet;
}

}  // namespace payoutd::providers::ecommpay
