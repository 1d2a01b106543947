#include "rails/routing.h"

#include <gtest/gtest.h>

namespace payoutd::rails {
namespace {

const std::vector<std::string> kRails{"sandbox", "visa-direct", "mastercard-send", "bereke"};
const Tenant kPartner{"bereke", "sandbox-partner"};
const Tenant kOther{"ecommpay", "91348"};

Amount amount(std::int64_t minor, std::string_view code = "KZT") {
  return {minor, *Currency::from_code(code)};
}

RouteRule rule(std::string rail, std::string fallback = {}) {
  RouteRule r;
  r.rail = std::move(rail);
  r.fallback = std::move(fallback);
  return r;
}

// The rules of one tenant as an operator would write them: Visa cards of Kazakhstan in tenge up
// to 500 000.00 on Visa Direct (falling back to the bank), other Visa cards on the bank,
// Mastercard on Mastercard Send, anything else on the default rail.
Routing kazakh_routing() {
  RouteRule small_visa = rule("visa-direct", "bereke");
  small_visa.schemes = {"VISA"};
  small_visa.countries = {"KZ"};
  small_visa.currencies = {"KZT"};
  small_visa.amount_max = 50'000'000;
  RouteRule visa = rule("bereke");
  visa.schemes = {"VISA"};
  RouteRule mastercard = rule("mastercard-send", "sandbox");
  mastercard.schemes = {"MASTERCARD"};
  Routing routing("sandbox");
  EXPECT_EQ(routing.add(kPartner, {small_visa, visa, mastercard}, "sandbox", kRails), std::nullopt);
  return routing;
}

TEST(RailRouting, TheFirstMatchingRuleWinsWithItsFallback) {
  const Routing routing = kazakh_routing();
  EXPECT_EQ(routing.choose(kPartner, {"VISA", "KZ", amount(1234)}),
            (Route{"visa-direct", "bereke"}));
  // The band's maximum is inclusive; one tiyn above it is the next rule's.
  EXPECT_EQ(routing.choose(kPartner, {"VISA", "KZ", amount(50'000'000)})->rail, "visa-direct");
  EXPECT_EQ(routing.choose(kPartner, {"VISA", "KZ", amount(50'000'001)}), (Route{"bereke", ""}));
  // Another country or another currency is not the first rule's.
  EXPECT_EQ(routing.choose(kPartner, {"VISA", "CA", amount(1234)})->rail, "bereke");
  EXPECT_EQ(routing.choose(kPartner, {"VISA", "KZ", amount(1234, "EUR")})->rail, "bereke");
  EXPECT_EQ(routing.choose(kPartner, {"MASTERCARD", "KZ", amount(1234)}),
            (Route{"mastercard-send", "sandbox"}));
}

TEST(RailRouting, WithoutAMatchTheTenantsDefaultThenTheDefaultOfAll) {
  const Routing routing = kazakh_routing();
  EXPECT_EQ(routing.choose(kPartner, {"MIR", "RU", amount(1)}), (Route{"sandbox", ""}));
  EXPECT_EQ(routing.choose(kOther, {"VISA", "KZ", amount(1)}), (Route{"sandbox", ""}));

  Routing strict;  // no default of all: a tenant without routing has no route
  RouteRule visa = rule("visa-direct");
  visa.schemes = {"VISA"};
  ASSERT_EQ(strict.add(kPartner, {visa}, "", kRails), std::nullopt);
  EXPECT_EQ(strict.choose(kPartner, {"MASTERCARD", "KZ", amount(1)}), std::nullopt);
  EXPECT_EQ(strict.choose(kOther, {"VISA", "KZ", amount(1)}), std::nullopt);
  EXPECT_EQ(strict.choose(kPartner, {"VISA", "KZ", amount(1)})->rail, "visa-direct");
}

TEST(RailRouting, AnAmountBandIsInItsOneCurrencyAndInclusive) {
  RouteRule band = rule("visa-direct");
  band.currencies = {"EUR"};
  band.amount_min = 100;
  band.amount_max = 200;
  EXPECT_FALSE(band.matches({"VISA", "DE", amount(99, "EUR")}));
  EXPECT_TRUE(band.matches({"VISA", "DE", amount(100, "EUR")}));
  EXPECT_TRUE(band.matches({"VISA", "DE", amount(200, "EUR")}));
  EXPECT_FALSE(band.matches({"VISA", "DE", amount(201, "EUR")}));
  EXPECT_FALSE(band.matches({"VISA", "DE", amount(150, "USD")}));
  EXPECT_TRUE(rule("sandbox").matches({"", "", amount(0)}));  // empty lists match anything
}

TEST(RailRouting, RefusesRulesItCouldNotRouteAndNamesThem) {
  auto refused = [](std::vector<RouteRule> rules, std::string default_rail = {}) {
    Routing routing;
    auto why = routing.add(kPartner, std::move(rules), std::move(default_rail), kRails);
    EXPECT_EQ(routing.choose(kPartner, {"VISA", "KZ", amount(1)}), std::nullopt)
        << "a refused tenant is not added";
    return why.value_or("(added)");
  };
  RouteRule two_currencies = rule("visa-direct");
  two_currencies.currencies = {"KZT", "EUR"};
  two_currencies.amount_max = 100;
  RouteRule no_currency = rule("visa-direct");
  no_currency.amount_min = 100;
  RouteRule inverted = rule("visa-direct");
  inverted.currencies = {"KZT"};
  inverted.amount_min = 200;
  inverted.amount_max = 100;
  EXPECT_EQ(refused({rule("sandbox"), rule("")}), "rules[1].rail: is required");
  EXPECT_EQ(refused({rule("swift")}), "rules[0].rail: no rail is named swift");
  EXPECT_EQ(refused({rule("sandbox", "swift")}), "rules[0].fallback: no rail is named swift");
  EXPECT_EQ(refused({rule("sandbox", "sandbox")}),
            "rules[0].fallback: must be another rail than rail");
  EXPECT_EQ(refused({two_currencies}),
            "rules[0].currencies: an amount band needs exactly one currency");
  EXPECT_EQ(refused({no_currency}),
            "rules[0].currencies: an amount band needs exactly one currency");
  EXPECT_EQ(refused({inverted}), "rules[0].amount_max: must not be below amount_min");
  EXPECT_EQ(refused({}, "swift"), "default: no rail is named swift");

  Routing twice;
  ASSERT_EQ(twice.add(kPartner, {}, "sandbox", kRails), std::nullopt);
  EXPECT_EQ(twice.add(kPartner, {}, "bereke", kRails), "the tenant's routing is given twice");
  EXPECT_EQ(twice.choose(kPartner, {"VISA", "KZ", amount(1)})->rail, "sandbox");
}

}  // namespace
}  // namespace payoutd::rails
