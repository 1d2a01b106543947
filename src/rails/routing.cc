#include "rails/routing.h"

#include <algorithm>

namespace payoutd::rails {
namespace {

bool any_or_listed(const std::vector<std::string>& listed, std::string_view value) {
  return listed.empty() || std::find(listed.begin(), listed.end(), value) != listed.end();
}

bool known(const std::vector<std::string>& rails, std::string_view name) {
  return std::find(rails.begin(), rails.end(), name) != rails.end();
}

// Why `rule` cannot be routed by (empty: it can).
std::string rule_problem(const RouteRule& rule, const std::vector<std::string>& rails) {
  if (rule.rail.empty()) return "rail: is required";
  if (!known(rails, rule.rail)) return "rail: no rail is named " + rule.rail;
  if (!rule.fallback.empty() && !known(rails, rule.fallback))
    return "fallback: no rail is named " + rule.fallback;
  if (rule.fallback == rule.rail) return "fallback: must be another rail than rail";
  const bool band = rule.amount_min != 0 || rule.amount_max.has_value();
  if (band && rule.currencies.size() != 1)
    return "currencies: an amount band needs exactly one currency";
  if (rule.amount_min < 0) return "amount_min: must not be negative";
  if (rule.amount_max && *rule.amount_max < rule.amount_min)
    return "amount_max: must not be below amount_min";
  return {};
}

}  // namespace

bool RouteRule::matches(const RouteQuery& q) const {
  if (!any_or_listed(schemes, q.scheme) || !any_or_listed(countries, q.country) ||
      !any_or_listed(currencies, q.amount.currency.code())) {
    return false;
  }
  if (q.amount.minor < amount_min) return false;
  return !amount_max || q.amount.minor <= *amount_max;
}

std::optional<std::string> Routing::add(const Tenant& tenant, std::vector<RouteRule> rules,
                                        std::string default_rail,
                                        const std::vector<std::string>& rails) {
  if (tables_.contains(tenant.key())) return "the tenant's routing is given twice";
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const std::string problem = rule_problem(rules[i], rails);
    if (!problem.empty()) return "rules[" + std::to_string(i) + "]." + problem;
  }
  if (!default_rail.empty() && !known(rails, default_rail))
    return "default: no rail is named " + default_rail;
  tables_.emplace(tenant.key(), Table{std::move(rules), std::move(default_rail)});
  return std::nullopt;
}

std::optional<Route> Routing::choose(const Tenant& tenant, const RouteQuery& q) const {
  const auto found = tables_.find(tenant.key());
  if (found == tables_.end()) {
    if (default_rail_.empty()) return std::nullopt;
    return Route{default_rail_, {}};
  }
  for (const RouteRule& rule : found->second.rules) {
    if (rule.matches(q)) return Route{rule.rail, rule.fallback};
  }
  if (found->second.default_rail.empty()) return std::nullopt;
  return Route{found->second.default_rail, {}};
}

}  // namespace payoutd::rails
