#pragma once
// A QIWI product's settings as the tenant directory keeps them (tenants/kind.h): its funders, its
// clients with their wallets, and the client certificates its calls must present. The JSON form
// is docs/admin.md, "Tenants (partners at run time)"'s ("QIWI settings"):
//   {"funders":[{"id","displayName","currency"}],
//    "clients":[{"clientId","accountId","currency","mode":"normal|processing|blocked",
//                "creditDelayMs"}],
//    "clientCertSubjects":[...], "clientCertSpkiSha256":[...]}
// Money is not a setting: a funder opens at zero and is credited through the admin API.
#include <memory>
#include <string>
#include <vector>

#include "core/client_certificate.h"
#include "core/money.h"
#include "tenants/kind.h"

namespace payoutd::providers::qiwi {

enum class ClientMode : std::uint8_t { kNormal, kProcessing, kBlocked };

struct FunderSetting {
  std::string id;
  std::string display_name;
  Currency currency;
  friend bool operator==(const FunderSetting&, const FunderSetting&) = default;
};

struct ClientSetting {
  std::string client_id;
  std::string account_id;
  Currency currency;
  ClientMode mode = ClientMode::kNormal;
  std::int64_t credit_delay_ms = 0;  // kProcessing: how long a payout stays PROCESSING
  friend bool operator==(const ClientSetting&, const ClientSetting&) = default;
};

struct ProductSettings final : tenants::Settings {
  std::vector<FunderSetting> funders;
  std::vector<ClientSetting> clients;
  ClientCertificatePolicy client_certificates;
};

// The most funders and clients one product's settings list.
inline constexpr std::size_t kFundersMax = 100;
inline constexpr std::size_t kClientsMax = 1000;

// QIWI's tenant kind: one credential, a bearer token (hashed).
class ProductKind final : public tenants::Kind {
 public:
  std::string_view provider() const override;
  std::shared_ptr<const tenants::Settings> decode(const json::Value& settings,
                                                  std::string* problem) const override;
  std::string encode(const tenants::Settings& settings) const override;
  std::string refuse_change(const tenants::Settings& current,
                            const tenants::Settings& next) const override;
  std::vector<tenants::CredentialKind> credential_kinds() const override;
  tenants::TenantAccounts accounts(const Tenant& tenant,
                                   const tenants::Settings& settings) const override;
};

// The kind's settings of a QIWI tenant (the directory decoded them with ProductKind).
const ProductSettings& product_settings(const tenants::Settings& settings);

}  // namespace payoutd::providers::qiwi
