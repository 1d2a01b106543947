// Partner settings under maker-checker: the card limits' codec (providers/card_limits_settings.h)
// and what a Bereke partner's settings change asks (tenants::Kind::approval_needed), against a
// threshold of 1000.00 KZT.
#include <gtest/gtest.h>

#include "core/json.h"
#include "providers/bereke/settings.h"
#include "tenants/kind.h"

namespace payoutd::tenants {
namespace {

using providers::bereke::partner_settings;
using providers::bereke::PartnerKind;

json::Value parse(std::string_view text) { return *json::parse(text).value; }

// Above 1000.00 of any currency.
bool above(const Amount& a) { return a.minor > 100'000; }

std::shared_ptr<const Settings> decode(const PartnerKind& kind, std::string_view text) {
  std::string problem;
  auto s = kind.decode(parse(text), &problem);
  EXPECT_TRUE(s) << problem << " in " << text;
  return s;
}

TEST(BerekeCardLimits, DecodeEncodeCanonically) {
  const PartnerKind kind(false);
  const auto s = decode(kind, R"({"userName":"u","cardLimits":{
      "singleMax":{"value":"500","currency":"KZT"},"totalMax":{"value":1000.5,"currency":"KZT"},
      "countMax":3,"windowHours":12}})");
  const engine::CardLimits& l = partner_settings(*s).card_limits;
  EXPECT_EQ((std::tuple{l.single_max, l.total_max, l.count_max, l.window_ms}),
            (std::tuple{std::int64_t{50'000}, std::int64_t{100'050}, 3, std::int64_t{43'200'000}}));
  const std::string text = kind.encode(*s);
  EXPECT_NE(text.find(R"("cardLimits":{"singleMax":{"value":"500.00","currency":"KZT"},)"
                      R"("totalMax":{"value":"1000.50","currency":"KZT"},"countMax":3,)"
                      R"("windowHours":12})"),
            std::string::npos)
      << text;
  EXPECT_EQ(kind.encode(*decode(kind, text)), text);
  // No limits: nothing written, as before limits existed.
  EXPECT_EQ(kind.encode(*decode(kind, R"({"userName":"u","cardLimits":{}})")).find("cardLimits"),
            std::string::npos);
  EXPECT_EQ(kind.card_limits(*s)->single_max, 50'000);
  ASSERT_EQ(kind.unique_names(*s).size(), 1U);
  EXPECT_EQ(kind.unique_names(*s)[0].member, "settings.userName");
  EXPECT_EQ(kind.unique_names(*s)[0].value, "u");
}

TEST(BerekeCardLimits, RefusedNamingTheMember) {
  const PartnerKind kind(false);
  const std::pair<const char*, const char*> cases[] = {
      {R"({"userName":"u","cardLimits":[]})", "settings.cardLimits: must be an object"},
      {R"({"userName":"u","cardLimits":{"daily":1}})",
       "settings.cardLimits.daily: is not a card limit"},
      {R"({"userName":"u","cardLimits":{"singleMax":{"value":"1","currency":"RUB"}}})",
       "settings.cardLimits.singleMax: must be in KZT"},
      {R"({"userName":"u","cardLimits":{"totalMax":{"value":"0","currency":"KZT"}}})",
       "settings.cardLimits.totalMax.value: must be greater than zero"},
      {R"({"userName":"u","cardLimits":{"countMax":0}})",
       "settings.cardLimits.countMax: must be an integer from 1 to 1000000"},
      {R"({"userName":"u","cardLimits":{"windowHours":9000}})",
       "settings.cardLimits.windowHours: must be an integer from 1 to 8784"},
  };
  for (const auto& [body, expected] : cases) {
    std::string problem;
    EXPECT_FALSE(kind.decode(parse(body), &problem)) << body;
    EXPECT_EQ(problem, expected) << body;
  }
}

TEST(BerekeApproval, LimitsRaisedAndFundingEnabledNeedFinanceOrASecondPerson) {
  const PartnerKind kind(false);
  const auto base = decode(kind, R"({"userName":"u","funding":["transit"],"cardLimits":{
      "singleMax":{"value":"500","currency":"KZT"},"countMax":3}})");
  auto need = [&](std::string_view next) {
    return kind.approval_needed(*base, *decode(kind, next), above);
  };
  // Nothing money depends on, or a limit lowered: none.
  EXPECT_EQ(need(R"({"userName":"v","funding":["transit"],"knp":"711","cardLimits":{
      "singleMax":{"value":"100","currency":"KZT"},"countMax":2,"windowHours":48}})")
                .approval,
            Approval::kNone);
  const ApprovalNeed within = need(R"({"userName":"u","funding":["transit"],"cardLimits":{
      "singleMax":{"value":"1000","currency":"KZT"},"countMax":3}})");
  EXPECT_EQ(within.approval, Approval::kFinance);
  EXPECT_EQ(within.reason,
            "settings.cardLimits.singleMax: raised from 500.00 KZT to 1000.00 KZT, within the "
            "threshold");
  const ApprovalNeed beyond = need(R"({"userName":"u","funding":["transit","corporate_card"],
      "cardLimits":{"singleMax":{"value":"1000.01","currency":"KZT"},"countMax":3}})");
  EXPECT_EQ(beyond.approval, Approval::kSecond);
  EXPECT_EQ(beyond.reason,
            "settings.cardLimits.singleMax: raised from 500.00 KZT to 1000.01 KZT, above the "
            "threshold; settings.funding: corporate_card enabled");
  // A limit removed, a count raised, a window shortened: a second person.
  EXPECT_EQ(need(R"({"userName":"u","funding":["transit"],"cardLimits":{"countMax":3}})").reason,
            "settings.cardLimits.singleMax: 500.00 KZT removed (no limit)");
  EXPECT_EQ(
      need(R"({"userName":"u","funding":["transit"],"cardLimits":{
      "singleMax":{"value":"500","currency":"KZT"},"countMax":4,"windowHours":12}})")
          .reason,
      "settings.cardLimits.countMax: raised from 3 payouts to 4 payouts, above the threshold; "
      "settings.cardLimits.windowHours: shortened from 24 to 12 hours");
}

}  // namespace
}  // namespace payoutd::tenants
