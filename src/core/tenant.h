#pragma once
// A tenant: one partner of one provider (a QIWI product, a Bereke partner, an ecommpay
// project). Money never crosses tenants; every payout, account and record belongs to one.
//
// Contract:
// - `provider` is the provider's name (providers/<name>/, e.g. "bereke"): not empty, no ':'.
//   Each provider names it once (its kProvider) and builds its tenants from it.
// - `id` is the partner's id within that provider, as its config gives it; it may hold ':'.
// - key() is the stored form, "<provider>:<id>": what the store, the ledger, the vault's
//   associated data and the outbox keep. It is the form payoutd always stored, so no stored row
//   changes with this type.
// - parse() is the one place a stored form is read back: it splits at the first ':' and refuses
//   an empty provider or an empty id (nullopt). parse(t.key()) == t for every valid tenant.
// Tenants compare and order by (provider, id).
#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace payoutd {

struct Tenant {
  std::string provider;
  std::string id;

  // "<provider>:<id>". Precondition (asserted): the provider is not empty and has no ':'.
  std::string key() const;
  static std::optional<Tenant> parse(std::string_view key);

  friend bool operator==(const Tenant&, const Tenant&) = default;
  friend std::strong_ordering operator<=>(const Tenant&, const Tenant&) = default;
};

}  // namespace payoutd
