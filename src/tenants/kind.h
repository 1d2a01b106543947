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
// - approval_needed() is pure: the same settings and thresholds give the same answer (it runs
//   inside the job that makes or carries out a request, and may run more than once).
// - A Kind is immutable and used from any thread.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/money.h"
#include "core/tenant.h"
#include "engine/cards/order.h"
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

// What a settings change asks of maker-checker (admin/requests.h, docs/admin.md "Maker-checker on
// partner settings"), from the least to the most.
enum class Approval : std::uint8_t {
  kNone,     // nothing money depends on changes: whoever may change settings applies it
  kFinance,  // a limit raised to at most the threshold: one finance member (the caller or another)
  kSecond,   // a limit raised above the threshold or removed, a funding method enabled: a second
             // finance member, never the one who asked, approves
};

struct ApprovalNeed {
  Approval approval = Approval::kNone;
  // Why, in the operator's words, each reason naming its member ("settings.cardLimits.singleMax:
  // raised from 1000.00 KZT to 5000.00 KZT, above the threshold"), "; " between reasons.
  std::string reason;
  // Raises the need to `at_least` (never lowers it) and adds `why` to the reasons.
  void add(Approval at_least, std::string_view why) {
    if (at_least > approval) approval = at_least;
    if (!reason.empty()) reason += "; ";
    reason += why;
  }
};

// Whether `amount` is above [admin] approval_threshold of its currency (a currency without one:
// every amount is).
using AboveThreshold = std::function<bool(const Amount& amount)>;

// A value a tenant's settings hold that no other tenant of its provider may hold (Bereke's
// userName): `member` names it for the refusal ("settings.userName").
struct UniqueName {
  std::string member;
  std::string value;
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

  // What replacing `current` with `next` asks of maker-checker, and why: a provider whose
  // settings hold limits or funding methods says which change raises a limit above the threshold
  // (`above`) or widens how money leaves. The default: nothing (no such settings).
  virtual ApprovalNeed approval_needed(const Settings& /*current*/, const Settings& /*next*/,
                                       const AboveThreshold& /*above*/) const {
    return {};
  }
  // Whether its tenants pay bank cards: onboarding one needs the node's card vault, and the card
  // payouts report lists them.
  virtual bool pays_cards() const { return false; }
  // The per-card limits `settings` give its card payouts (read by the card engine when a payout
  // reserves, so a change applies without a restart); nullopt: none of its own.
  virtual std::optional<engine::CardLimits> card_limits(const Settings& /*settings*/) const {
    return std::nullopt;
  }
  // The values of `settings` unique among the provider's tenants (of any status).
  virtual std::vector<UniqueName> unique_names(const Settings& /*settings*/) const { return {}; }
};

}  // namespace payoutd::tenants
