#pragma once
// A Bereke partner's settings as the tenant directory keeps them (tenants/kind.h), and the
// partner's one credential, its password (hashed). The JSON form is docs/admin.md's ("Bereke
// settings"):
//   {"userName":"...", "funding":["transit","corporate_card"], "cardCountries":["KZ"],
//    "knp":"710", "fee":{"value":"0.00","currency":"KZT"},
//    "newCardBalance":{"value":"0.00","currency":"KZT"},
//    "cardLimits":{"singleMax","totalMax","countMax","windowHours"},
//    "clientCertSubjects":[...], "clientCertSpkiSha256":[...]}
// Every member but userName may be left out (the defaults above; no card limits). cardLimits is
// providers/card_limits_settings.h's, in KZT. userName is unique among Bereke partners. Money is
// not a setting: the transit account opens at zero and is credited through the admin API.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/client_certificate.h"
#include "engine/cards/order.h"
#include "tenants/kind.h"

namespace payoutd::providers::bereke {

struct PartnerSettings final : tenants::Settings {
  std::string user_name;  // the API's userName (30 characters at most, seed 003)
  // The certificates its calls must present besides the password; a call without one is
  // refused as a wrong password is.
  ClientCertificatePolicy client_certificates;
  std::vector<std::string> card_countries{"KZ"};  // where recipients' cards may be issued
  std::string knp = "710";  // payment purpose code (КНП) the partner's payouts carry
  std::int64_t fee = 0;     // KZT minor units per payout (charged by the bank, shown in answers)
  // The debit methods of the partner: its transit account, its corporate cards.
  bool transit_funding = true;
  bool card_funding = true;
  // Sandbox: the simulated bank balance (KZT minor units) a corporate card added in the cabinet
  // starts with; the real bank debits the card itself (outside the sandbox: 0).
  std::int64_t new_card_balance = 0;
  // Per recipient card: one payout's amount, the card's total and count of payouts in a window
  // (0: none). A payout above one is declined "Превышен лимит выплат" (docs/bereke.md).
  engine::CardLimits card_limits;
};

// Bereke's tenant kind: one credential, the partner's password (hashed; 30 characters, the
// seed's size of the field). `sandbox`: newCardBalance may be set (refused otherwise).
class PartnerKind final : public tenants::Kind {
 public:
  explicit PartnerKind(bool sandbox) : sandbox_(sandbox) {}
  std::string_view provider() const override;
  std::shared_ptr<const tenants::Settings> decode(const json::Value& settings,
                                                  std::string* problem) const override;
  std::string encode(const tenants::Settings& settings) const override;
  std::string refuse_change(const tenants::Settings& current,
                            const tenants::Settings& next) const override;
  std::vector<tenants::CredentialKind> credential_kinds() const override;
  tenants::TenantAccounts accounts(const Tenant& tenant,
                                   const tenants::Settings& settings) const override;
  // A card limit raised (providers::review_card_limits), or a funding method enabled: where the
  // partner's payouts may take money from widens, so a second finance member approves.
  tenants::ApprovalNeed approval_needed(const tenants::Settings& current,
                                        const tenants::Settings& next,
                                        const tenants::AboveThreshold& above) const override;
  bool pays_cards() const override { return true; }
  std::optional<engine::CardLimits> card_limits(const tenants::Settings& settings) const override;
  // The userName: the bank's login names one partner.
  std::vector<tenants::UniqueName> unique_names(const tenants::Settings& settings) const override;

 private:
  bool sandbox_;
};

// The kind's settings of a Bereke tenant (the directory decoded them with PartnerKind).
const PartnerSettings& partner_settings(const tenants::Settings& settings);

}  // namespace payoutd::providers::bereke
