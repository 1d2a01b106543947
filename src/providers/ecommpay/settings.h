#pragma once
// An ecommpay project's settings as the tenant directory keeps them (tenants/kind.h), and the
// project's one credential, its secret key (sealed by the vault: it signs both ways). The JSON form
// is docs/admin.md's ("ecommpay settings"):
//   {"currency":"EUR", "callbackUrl":"https://shop.example/callbacks",
//    "allowlist":["203.0.113.0/24","2001:db8::/32"], "payoutsEnabled":true, "sender":"merchant",
//    "cardLimits":{"singleMax":{"value":"5000.00","currency":"EUR"},
//                  "totalMax":{"value":"10000.00","currency":"EUR"},"countMax":5,"windowHours":24},
//    "clientCertSubjects":[...], "clientCertSpkiSha256":[...]}
// Every member but currency may be left out (callbackUrl "", no address allowlisted, payouts
// enabled, the merchant sends, no card limits). Money is not a setting: the merchant balance opens
// at zero and is credited through the admin API.
#include <memory>
#include <string>
#include <vector>

#include "core/client_certificate.h"
#include "core/money.h"
#include "core/network.h"
#include "engine/cards/order.h"
#include "tenants/kind.h"

namespace payoutd::providers::ecommpay {

struct ProjectSettings final : tenants::Settings {
  // The callbacks' receiver unless a registration names one; "": none (in the sandbox, this
  // server's /sandbox/ecommpay/callbacks).
  std::string callback_url;
  std::vector<Network>
      allowlist;  // callers' addresses (the TCP peer, or what a trusted proxy says)
  // The certificates its calls must present besides the allowlist and the signature; refused as
  // an address off the allowlist is.
  ClientCertificatePolicy client_certificates;
  bool payouts_enabled = true;  // else registrations are declined at once (code 317)
  // Who sends the project's payouts: the merchant itself, or persons (a person-to-person
  // program); MoneySend with a person as sender needs the parties' data (program.h).
  bool person_sender = false;
  Currency currency;  // of its payouts and its merchant balance
  engine::CardLimits limits;
};

// The most networks one allowlist holds.
inline constexpr std::size_t kAllowlistMax = 64;

// ecommpay's tenant kind: one credential, the project's secret key (sealed; 32 random bytes, 43
// characters). A tenant's id is its project id: a number of 1 to 12 digits.
class ProjectKind final : public tenants::Kind {
 public:
  std::string_view provider() const override;
  std::shared_ptr<const tenants::Settings> decode(const json::Value& settings,
                                                  std::string* problem) const override;
  std::string encode(const tenants::Settings& settings) const override;
  std::string refuse_change(const tenants::Settings& current,
                            const tenants::Settings& next) const override;
  std::string refuse_id(std::string_view id) const override;
  std::vector<tenants::CredentialKind> credential_kinds() const override;
  tenants::TenantAccounts accounts(const Tenant& tenant,
                                   const tenants::Settings& settings) const override;
  // Raising a card limit (providers/card_limits_settings.h), and enabling payouts: a project whose
  // payouts were turned off has no way for money to leave until it is turned on again.
  tenants::ApprovalNeed approval_needed(const tenants::Settings& current,
                                        const tenants::Settings& next,
                                        const tenants::AboveThreshold& above) const override;
  bool pays_cards() const override { return true; }
  std::optional<engine::CardLimits> card_limits(const tenants::Settings& settings) const override;
};

// The kind's settings of an ecommpay tenant (the directory decoded them with ProjectKind).
const ProjectSettings& project_settings(const tenants::Settings& settings);

// An absolute http or https URL of at most 2048 bytes, without spaces, quotes or angle brackets:
// a callback's receiver (the settings' callbackUrl, a registration's merchant_callback_url).
bool valid_callback_url(std::string_view url);

// The project id `text` names: 1 to 12 digits (a leading zero is read as the number, as the Gate
// API always did); 0 otherwise. No allocation.
std::int64_t parse_project_id(std::string_view text);

}  // namespace payoutd::providers::ecommpay
