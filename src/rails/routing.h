#pragma once
// Routing between card rails: per tenant, ordered rules choose the rail a card payout leaves
// through, by the card's scheme and issuing country (from the BIN table), the currency and an
// amount band, with an optional fallback rail (docs/rails.md, "Several rails, and routing").
//
// Contract:
// - The first rule of the tenant that matches wins; a rule's empty list matches anything. With
//   no rule matching, the tenant's default rail; a tenant without routing of its own goes to the
//   default rail of all. With none, no route (the payout is refused before anything is
//   reserved, with the dialect's own error).
// - An amount band is in the minor units of the rule's one currency: a rule with a band names
//   exactly one currency (Routing::add refuses anything else), so amounts of two currencies are
//   never compared.
// - A route names rails only; whether a rail by that name exists is checked where the rules are
//   read (add() is given the names of the rails configured), never when a payout is routed.
// - Pure and immutable once built: choose() may run on any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/money.h"
#include "core/tenant.h"

namespace payoutd::rails {

// What a rule looks at.
struct RouteQuery {
  std::string_view scheme;   // the BIN table's: VISA, MASTERCARD, ...
  std::string_view country;  // the issuer's, ISO 3166-1 alpha-2
  Amount amount;
};

struct RouteRule {
  std::vector<std::string> schemes;        // empty: any
  std::vector<std::string> countries;      // empty: any
  std::vector<std::string> currencies;     // ISO 4217 codes; empty: any
  std::int64_t amount_min = 0;             // minor units, inclusive
  std::optional<std::int64_t> amount_max;  // minor units, inclusive; nullopt: no bound
  std::string rail;
  std::string fallback;  // empty: none

  bool matches(const RouteQuery& q) const;
};

// Where a payout goes: its rail, and the one it may move to when the first certainly did not
// take the credit (empty: none).
struct Route {
  std::string rail;
  std::string fallback;
  friend bool operator==(const Route&, const Route&) = default;
};

class Routing {
 public:
  // `default_rail`: where the payouts of a tenant without routing of its own go (empty: nowhere).
  explicit Routing(std::string default_rail = {}) : default_rail_(std::move(default_rail)) {}

  // Adds a tenant's rules (tried in this order) and its default rail (empty: none); nullopt when
  // added, else why not, naming the rule by its index ("rules[2].fallback: ..."): a rule without
  // a rail, a rail or fallback not in `rails`, a fallback equal to its rail, an amount band
  // without exactly one currency, a band whose minimum exceeds its maximum, a default rail not
  // in `rails`, a tenant added twice. A refused tenant is not added.
  std::optional<std::string> add(const Tenant& tenant, std::vector<RouteRule> rules,
                                 std::string default_rail, const std::vector<std::string>& rails);

  std::optional<Route> choose(const Tenant& tenant, const RouteQuery& q) const;

 private:
  struct Table {
    std::vector<RouteRule> rules;
    std::string default_rail;
  };
  std::string default_rail_;
  std::unordered_map<std::string, Table> tables_;  // by Tenant::key()
};

}  // namespace payoutd::rails
