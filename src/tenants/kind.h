#pragma once
// What a provider tells the tenant directory about its tenants (providers::Provider::tenant_kind,
// docs/adding-a-provider.md): how its settings read from JSON and write back (its codec), the
// credentials it issues, and the accounts a tenant with given settings has.
//
// Contract:
// - decode() is the one reader of a settings document, for the admin API's bodies and for stored
//   records alike: it refuses anything it would not write, naming the member at fault, with the
//   path the operator sent ("settings.funders[1].currency: must be an ISO 4217 code").
// - encode(decode(x)) is canonical: decoding it again gives equal settings.
// - accounts() lists every account the settings ask for: opened (at zero) when a tenant is created
//   or its settings change; never closed by a change (money never vanishes with a setting).
// - A Kind is immutable and used from any thread.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/tenant.h"
#include "engine/payouts.h"
#include "tenants/credentials.h"
#include "tenants/tenant_record.h"

namespace payoutd::tenants {

// A provider's settings of one tenant, as its codec decoded them (the provider downcasts).
class Settings {
 public:
  virtual ~Settings() = default;
};

// A credential a provider issues to each of its tenants.
struct CredentialKind {
  std::string_view name;  // "token", "password", "secret-key"
  Storage storage = Storage::kHashed;
  // Random bytes of a generated one (tenants::new_secret): 16 at least (128 bits).
  std::size_t secret_bytes = kSecretBytes;
};

// The accounts a tenant's settings ask for.
struct TenantAccounts {
  std::vector<engine::FunderSpec> funders;
  std::vector<engine::ClientSpec> clients;
};

class Kind {
 public:
  virtual ~Kind() = default;
  // The provider's name (its tenants' Tenant::provider).
  virtual std::string_view provider() const = 0;
  // `settings` (the value of "settings" in a body, or a stored record's) as its settings; nullptr
  // with *problem set ("settings.<member>: what is wrong") when refused.
  virtual std::shared_ptr<const Settings> decode(const json::Value& settings,
                                                 std::string* problem) const = 0;
  // The canonical JSON object of `settings`.
  virtual std::string encode(const Settings& settings) const = 0;
  // Why `next` may not replace `current` ("settings.funders: funder f1 cannot be removed"), or
  // "" when it may: accounts exist and keep what they were opened with.
  virtual std::string refuse_change(const Settings& current, const Settings& next) const = 0;
  // Why `id` may not name a tenant of this provider ("id: ..."), or "" when it may; the admin API
  // has already checked it is 1 to 64 of A-Z a-z 0-9 . _ - (an ecommpay project's is a number).
  virtual std::string refuse_id(std::string_view id) const {
    (void)id;
    return {};
  }
  // The credentials each tenant holds, one of each kind (at least one kind).
  virtual std::vector<CredentialKind> credential_kinds() const = 0;
  virtual TenantAccounts accounts(const Tenant& tenant, const Settings& settings) const = 0;
};

}  // namespace payoutd::tenants
