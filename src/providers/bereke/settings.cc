#include "providers/bereke/settings.h"

#include <algorithm>

#include "cards/card.h"
#include "core/assert.h"
#include "core/money.h"
#include "engine/cards/order.h"
#include "providers/bereke/api.h"
#include "providers/card_limits_settings.h"
#include "providers/settings_fields.h"
#include "web/api.h"

namespace payoutd::providers::bereke {
namespace {

constexpr std::size_t kUserNameSizeMax = 30;  // seed 003: userName String [30]
constexpr std::size_t kCountriesMax = 64;
// A generated password: 22 random bytes, 30 characters of URL-safe base64 (the seed's size of
// the field), 176 bits: hashed like every credential of 128 bits or more (tenants/credentials.h).
constexpr std::size_t kPasswordBytes = 22;
constexpr std::int64_t kFeeMax = 1'000'000'000;
constexpr std::int64_t kBalanceMax = 999'999'999'999;
constexpr std::string_view kMembers[] = {"userName",
                                         "funding",
                                         "cardCountries",
                                         "knp",
                                         "fee",
                                         "newCardBalance",
                                         "cardLimits",
                                         "clientCertSubjects",
                                         "clientCertSpkiSha256"};

const Currency& kzt() {
  static const Currency currency = *Currency::from_code("KZT");
  return currency;
}

bool read_funding(const json::Value& v, std::string* problem, PartnerSettings& s) {
  if (!v.find("funding")) return true;
  std::vector<std::string> methods;
  if (!read_strings(v, "funding", 2, problem, methods)) return false;
  s.transit_funding = s.card_funding = false;
  for (const std::string& m : methods) {
    if (m == "transit") {
      s.transit_funding = true;
    } else if (m == "corporate_card") {
      s.card_funding = true;
    } else {
      *problem = "settings.funding: lists \"transit\" and/or \"corporate_card\"";
      return false;
    }
  }
  return true;
}

bool read_countries(const json::Value& v, std::string* problem, PartnerSettings& s) {
  if (!v.find("cardCountries")) return true;
  s.card_countries.clear();
  if (!read_strings(v, "cardCountries", kCountriesMax, problem, s.card_countries)) return false;
  for (std::size_t i = 0; i < s.card_countries.size(); ++i) {
    const std::string& c = s.card_countries[i];
    if (c.size() != 2 ||
        !std::all_of(c.begin(), c.end(), [](char x) { return x >= 'A' && x <= 'Z'; })) {
      *problem =
          "settings.cardCountries[" + std::to_string(i) + "]: must be a two-letter code (KZ)";
      return false;
    }
  }
  return true;
}

// A KZT amount member `name` (absent: 0) into *minor, at most `max` minor units.
bool read_kzt(web::Fields& f, const json::Value& v, std::string_view name, std::int64_t max,
              std::int64_t* minor) {
  if (const json::Value* m = v.find(name); !m || m->is_null()) return true;
  Amount amount;
  if (!web::parse_amount_object(f, name, true, &amount)) return false;
  if (amount.currency != kzt()) return f.fail(name, "must be in KZT");
  if (amount.minor > max) return f.fail(name, "is too large");
  *minor = amount.minor;
  return true;
}

void write_kzt(json::Writer& w, std::string_view key, std::int64_t minor) {
  w.key(key).begin_object().key("value").string(format_decimal(minor, kzt().exponent()));
  w.key("currency").string(kzt().code()).end_object();
}

}  // namespace

std::string_view PartnerKind::provider() const { return kProvider; }

std::shared_ptr<const tenants::Settings> PartnerKind::decode(const json::Value& v,
                                                             std::string* problem) const {
  if (!only_members(v, kMembers, "a Bereke partner setting", problem)) return nullptr;
  auto s = std::make_shared<PartnerSettings>();
  web::Fields f(v, "settings.", problem);
  if (!f.string("userName", kUserNameSizeMax, &s->user_name)) return nullptr;
  if (!f.string("knp", 3, &s->knp, false)) return nullptr;
  if (s->knp.size() != 3 || !cards::all_digits(s->knp))
    return f.fail("knp", "is 3 digits"), nullptr;
  if (!read_funding(v, problem, *s) || !read_countries(v, problem, *s) ||
      !read_kzt(f, v, "fee", kFeeMax, &s->fee) ||
      !read_kzt(f, v, "newCardBalance", kBalanceMax, &s->new_card_balance) ||
      !read_card_limits(v, kzt(), problem, s->card_limits) ||
      !read_client_certificates(v, problem, s->client_certificates)) {
    return nullptr;
  }
  if (!sandbox_ && s->new_card_balance != 0) {
    return f.fail("newCardBalance", "is the sandbox's only (a real bank's card holds its own)"),
           nullptr;
  }
  return s;
}

std::string PartnerKind::encode(const tenants::Settings& settings) const {
  const PartnerSettings& s = partner_settings(settings);
  std::string out;
  json::Writer w(out);
  w.begin_object().key("userName").string(s.user_name).key("funding").begin_array();
  if (s.transit_funding) w.string("transit");
  if (s.card_funding) w.string("corporate_card");
  w.end_array().key("cardCountries").begin_array();
  for (const std::string& c : s.card_countries) w.string(c);
  w.end_array().key("knp").string(s.knp);
  write_kzt(w, "fee", s.fee);
  write_kzt(w, "newCardBalance", s.new_card_balance);
  write_card_limits(w, s.card_limits, kzt());
  write_client_certificates(w, s.client_certificates);
  w.end_object();
  return out;
}

// Every setting may change: the one account a partner has (its transit account) does not
// depend on them.
std::string PartnerKind::refuse_change(const tenants::Settings&, const tenants::Settings&) const {
  return {};
}

std::vector<tenants::CredentialKind> PartnerKind::credential_kinds() const {
  return {{"password", tenants::Storage::kHashed, kPasswordBytes}};
}

// The transit account, as provisioning opens it for a config partner (provider.cc); corporate
// cards are added in the cabinet, each with its own funding account.
tenants::TenantAccounts PartnerKind::accounts(const Tenant& tenant,
                                              const tenants::Settings&) const {
  tenants::TenantAccounts out;
  out.funders.push_back({tenant, std::string(engine::kTransitAccount), "Transit account", kzt()});
  return out;
}

tenants::ApprovalNeed PartnerKind::approval_needed(const tenants::Settings& current,
                                                   const tenants::Settings& next,
                                                   const tenants::AboveThreshold& above) const {
  const PartnerSettings& from = partner_settings(current);
  const PartnerSettings& to = partner_settings(next);
  tenants::ApprovalNeed need;
  review_card_limits(from.card_limits, to.card_limits, kzt(), above, need);
  if (to.transit_funding && !from.transit_funding) {
    need.add(tenants::Approval::kSecond, "settings.funding: transit enabled");
  }
  if (to.card_funding && !from.card_funding) {
    need.add(tenants::Approval::kSecond, "settings.funding: corporate_card enabled");
  }
  return need;
}

std::optional<engine::CardLimits> PartnerKind::card_limits(
    const tenants::Settings& settings) const {
  return partner_settings(settings).card_limits;
}

std::vector<tenants::UniqueName> PartnerKind::unique_names(
    const tenants::Settings& settings) const {
  return {{"settings.userName", partner_settings(settings).user_name}};
}

const PartnerSettings& partner_settings(const tenants::Settings& settings) {
  const auto* s = dynamic_cast<const PartnerSettings*>(&settings);
  PAYOUTD_ASSERT(s != nullptr, "a Bereke tenant's settings are PartnerSettings");
  return *s;
}

}  // namespace payoutd::providers::bereke
