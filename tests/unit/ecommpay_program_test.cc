// The card programs' requirements (providers/ecommpay/program.h).
#include "providers/ecommpay/program.h"

#include <gtest/gtest.h>

namespace payoutd::providers::ecommpay {
namespace {

Parties parse(const Params& params, std::string* problem = nullptr) {
  std::string why;
  auto p = parties_from(params, &why);
  if (problem) *problem = why;
  return p.value_or(Parties{});
}

Parties moneysend() {
  return parse({{"recipient_first_name", "Prostetnik"},
                {"recipient_last_name", "Jeltz"},
                {"sender_first_name", "Arthur"},
                {"sender_last_name", "Dent"},
                {"sender_wallet_id", "w-1"},
                {"sender_country", "GB"},
                {"sender_city", "Cottington"},
                {"sender_address", "155 Country Lane"}});
}

TEST(EcommpayProgram, ReadsThePartiesOfALinkAndNothingElse) {
  const Parties p = parse({{"mode", "payout"},
                           {"recipient_country", "ca"},
                           {"recipient_state", "on"},
                           {"sender_zip", "N1 9GU"},
                           {"recipient_zip", "ignored"},
                           {"sender_wallet_id", "w"}});
  EXPECT_EQ(p.recipient.country, "CA");
  EXPECT_EQ(p.recipient.state, "ON");
  EXPECT_EQ(p.sender.zip, "N1 9GU");
  EXPECT_EQ(p.sender.wallet_id, "w");
  EXPECT_TRUE(p.recipient.zip.empty());  // Payment Page has no recipient_zip
  EXPECT_EQ(parties_from_json(parties_json(p)), p);
  EXPECT_EQ(parties_json(Parties{}), "");
}

TEST(EcommpayProgram, RefusesMalformedParties) {
  for (const Params& bad :
       {Params{{"recipient_country", "Canada"}}, Params{{"sender_country", "XX"}},
        Params{{"recipient_country", "CA"}, {"recipient_state", "NY"}},
        Params{{"sender_state", "ABCD"}}, Params{{"sender_city", std::string(256, 'x')}},
        Params{{"recipient_address", "a\nb"}}}) {
    std::string problem;
    EXPECT_FALSE(parties_from(bad, &problem)) << bad.front().first;
    EXPECT_FALSE(problem.empty());
  }
}

TEST(EcommpayProgram, MoneySendWithAPersonAsSenderNeedsBothParties) {
  EXPECT_EQ(requirement(true, "MASTERCARD", "KZ", moneysend()), Requirement::kMet);
  EXPECT_EQ(requirement(true, "MASTERCARD", "KZ", {}), Requirement::kDecline);
  EXPECT_EQ(requirement(false, "MASTERCARD", "KZ", {}), Requirement::kMet);  // the merchant sends
  EXPECT_EQ(requirement(true, "VISA", "KZ", {}), Requirement::kMet);         // not MoneySend
  for (auto Party::*field : {&Party::wallet_id, &Party::first_name, &Party::last_name,
                             &Party::country, &Party::city, &Party::address}) {
    Parties p = moneysend();
    p.sender.*field = "";
    EXPECT_EQ(requirement(true, "MASTERCARD", "KZ", p), Requirement::kDecline);
  }
  Parties us = moneysend();
  us.sender.country = "US";
  EXPECT_EQ(requirement(true, "MASTERCARD", "KZ", us), Requirement::kDecline);  // no state
  us.sender.state = "NY";
  EXPECT_EQ(requirement(true, "MASTERCARD", "KZ", us), Requirement::kMet);
  Parties nameless = moneysend();
  nameless.recipient.last_name = " ";
  EXPECT_EQ(requirement(true, "MASTERCARD", "KZ", nameless), Requirement::kDecline);
}

TEST(EcommpayProgram, AVisaCardOfCanadaNeedsTheRecipientsLocation) {
  Parties p;
  EXPECT_EQ(requirement(false, "VISA", "CA", p), Requirement::kRecipientLocation);
  EXPECT_EQ(requirement(false, "VISA", "GB", p), Requirement::kMet);
  EXPECT_EQ(requirement(false, "MASTERCARD", "CA", p), Requirement::kMet);
  p.recipient = {.country = "CA", .city = "Toronto", .address = "100 Queen St W"};
  EXPECT_EQ(location_problem(p.recipient), "state");
  EXPECT_EQ(requirement(false, "VISA", "CA", p), Requirement::kRecipientLocation);
  p.recipient.state = "ON";
  EXPECT_EQ(location_problem(p.recipient), "");
  EXPECT_EQ(requirement(false, "VISA", "CA", p), Requirement::kMet);
  EXPECT_EQ(location_problem({.country = "FR", .city = "Paris", .address = "1 Rue X"}), "");
  EXPECT_EQ(location_problem({.country = "FR", .city = "", .address = "1 Rue X"}), "city");
  EXPECT_EQ(location_problem({.country = "ZZ", .city = "Paris", .address = "1 Rue X"}), "country");
  EXPECT_EQ(location_problem({.country = "US", .state = "ON", .city = "A", .address = "B"}),
            "state");
}

}  // namespace
}  // namespace payoutd::providers::ecommpay
