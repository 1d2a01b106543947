// The bodies the network connectors send for each card program (rails::Program) and how they read
// the answers of each program's API: Mastercard Send's Disbursements and Payment Transfer APIs
// (rails/mastercard_send.h), Visa Direct's business application ids (rails/visa_direct.h).
#include <gtest/gtest.h>

#include "core/json.h"
#include "rails/mastercard_send.h"
#include "rails/visa_direct.h"

namespace payoutd::rails {
namespace {

constexpr const char* kReference = "0b7e1c2a-1111-4222-8333-444455556666";

CreditOrder order(Program program, std::string parties) {
  CreditOrder o;
  o.reference = kReference;
  o.pan = "5555555555554444";
  o.cardholder = "JANE Q SMITH";
  o.amount = Amount{1800, Currency::from_code("KZT").value()};
  o.parties = std::move(parties);
  o.program = program;
  return o;
}

MastercardSendOptions mastercard_options() {
  MastercardSendOptions o;
  o.sender_account_uri = "acct-ref:payoutd-funding";
  return o;
}

// A business pays: the Disbursements API's payment_disbursement, BDB from the business's deposit
// account (Mastercard's default funding source for disbursements), the configured account.
TEST(MastercardMessages, ADisbursementIsAPaymentDisbursementOfTheBusinesssAccount) {
  std::string problem;
  const std::string body =
      mastercard::payment_body(order(Program::kDisbursement, R"({"sender_wallet_id":"w-1"})"),
                               mastercard_options(), &problem);
  EXPECT_EQ(body,
            R"({"payment_disbursement":{"disbursement_reference":")" + std::string(kReference) +
                R"(","payment_type":"BDB","funding_source":"DEPOSIT_ACCOUNT","amount":"1800",)"
                R"("currency":"KZT","sender_account_uri":"acct-ref:payoutd-funding",)"
                R"("recipient_account_uri":"pan:5555555555554444",)"
                R"("recipient":{"first_name":"JANE Q","last_name":"SMITH"}}})")
      << problem;
}

// A person sends: the Payment Transfer API's payment_transfer, P2P from the person's wallet, with
// the sender's names.
TEST(MastercardMessages, APersonToPersonCreditIsAPaymentTransferFromTheSendersWallet) {
  std::string problem;
  const std::string body = mastercard::payment_body(
      order(Program::kPersonToPerson,
            R"({"sender_wallet_id":"w-1","sender_first_name":"John","sender_last_name":"Jones",)"
            R"("recipient_first_name":"Jane","recipient_last_name":"Smith"})"),
      mastercard_options(), &problem);
  EXPECT_EQ(body, R"({"payment_transfer":{"transfer_reference":")" + std::string(kReference) +
                      R"(","payment_type":"P2P","funding_source":"DEBIT","amount":"1800",)"
                      R"("currency":"KZT","sender_account_uri":"acct-ref:w-1",)"
                      R"("sender":{"first_name":"John","last_name":"Jones"},)"
                      R"("recipient_account_uri":"pan:5555555555554444",)"
                      R"("recipient":{"first_name":"Jane","last_name":"Smith"}}})")
      << problem;
}

TEST(MastercardMessages, EachProgramsConfiguredTypeAndSourceAndNoneWhenEmpty) {
  MastercardSendOptions o = mastercard_options();
  o.disbursement_payment_type = "GDB";
  o.disbursement_funding_source.clear();
  std::string problem;
  const std::string body = mastercard::payment_body(order(Program::kDisbursement, ""), o, &problem);
  EXPECT_NE(body.find(R"("payment_type":"GDB","amount")"), std::string::npos) << body;
  EXPECT_EQ(body.find("funding_source"), std::string::npos) << body;
  CreditOrder nameless = order(Program::kDisbursement, "");
  nameless.cardholder.clear();
  EXPECT_TRUE(mastercard::payment_body(nameless, o, &problem).empty());
  EXPECT_NE(problem.find("recipient"), std::string::npos) << problem;
}

constexpr const char* kTransaction =
    R"({"transaction":[{"status":"DECLINED","network_status_code":"54",)"
    R"("network_status_description":"Expired card","retrieval_reference":"624200192616"}]})";

// Each API's answers are read in its own wrapper, singly and as a retrieval's list; the other
// API's wrapper is not an answer.
TEST(MastercardMessages, AnswersAreReadInTheProgramsWrapper) {
  const std::string declined = R"({"disbursement":{"status":"DECLINED","transaction_history":)"
                               R"({"data":)" +
                               std::string(kTransaction) + "}}}";
  auto a = mastercard::answer_of(declined, Program::kDisbursement, 5);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->outcome, Outcome::kDeclined);
  EXPECT_EQ(a->code, "54");
  EXPECT_EQ(a->text, "Expired card");
  EXPECT_FALSE(mastercard::answer_of(declined, Program::kPersonToPerson, 5));
  const std::string list =
      R"({"disbursements":{"resource_type":"list","item_count":"1","data":{"disbursement":[)"
      R"({"status":"APPROVED","transaction_history":{"data":{"transaction":[)"
      R"({"status":"APPROVED","retrieval_reference":"624200192616"}]}}}]}}})";
  a = mastercard::answer_of(list, Program::kDisbursement, 5);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->outcome, Outcome::kApproved);
  EXPECT_EQ(a->approval, "624200192616");
  const std::string unknown = R"({"transfers":{"data":{"transfer":[{"status":"UNKNOWN"}]}}})";
  a = mastercard::answer_of(unknown, Program::kPersonToPerson, 5);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->outcome, Outcome::kUnknown);
  EXPECT_FALSE(mastercard::answer_of(unknown, Program::kDisbursement, 5));
}

VisaDirectOptions visa_options() {
  VisaDirectOptions o;
  o.acquiring_bin = "408999";
  o.acquirer_country_code = "840";
  o.card_acceptor_name = "payoutd";
  o.card_acceptor_terminal_id = "TID-1";
  o.card_acceptor_id_code = "CA-1";
  o.card_acceptor_country = "KAZ";
  o.sender_name = "PAYOUTD LLP";
  o.sender_country_code = "KAZ";
  return o;
}

std::string member(const std::string& body, std::string_view key) {
  json::ParseResult parsed = json::parse(body);
  const json::Value* v = parsed.value ? parsed.value->find(key) : nullptr;
  return v && v->is_string() ? v->as_string() : std::string("<none>");
}

// A disbursement is the configured BAI (FD by default) with the originator as sender; a person's
// credit is PP with the person as sender and the wallet as the sender's account.
TEST(VisaMessages, TheBusinessApplicationIdAndTheSenderFollowTheProgram) {
  std::string problem;
  const std::string fd =
      visa::push_body(order(Program::kDisbursement, ""), visa_options(), 0, &problem);
  EXPECT_EQ(member(fd, "businessApplicationId"), "FD") << problem;
  EXPECT_EQ(member(fd, "senderName"), "PAYOUTD LLP");
  VisaDirectOptions gambling = visa_options();
  gambling.business_application_id = "OG";
  EXPECT_EQ(member(visa::push_body(order(Program::kDisbursement, ""), gambling, 0, &problem),
                   "businessApplicationId"),
            "OG");
  const CreditOrder p2p =
      order(Program::kPersonToPerson,
            R"({"sender_first_name":"John","sender_last_name":"Jones","sender_wallet_id":"W1",)"
            R"("sender_country":"KZ"})");
  EXPECT_EQ(visa::order_fault(p2p), "");
  const std::string pp = visa::push_body(p2p, gambling, 0, &problem);
  EXPECT_EQ(member(pp, "businessApplicationId"), "PP") << problem;
  EXPECT_EQ(member(pp, "senderName"), "John Jones");
  EXPECT_EQ(member(pp, "senderAccountNumber"), "W1");
  EXPECT_EQ(member(pp, "senderCountryCode"), "KAZ");
}

// A money transfer names its sender: a person-to-person credit without one cannot be sent (the
// originator configured for disbursements is not the person), whatever the configuration.
TEST(VisaMessages, APersonToPersonCreditWithoutASenderIsAnOrderFault) {
  EXPECT_NE(visa::order_fault(order(Program::kPersonToPerson, R"({"sender_first_name":"J"})")), "");
  EXPECT_EQ(visa::order_fault(order(Program::kDisbursement, "")), "");
}

}  // namespace
}  // namespace payoutd::rails
