// The Mastercard Send connector (rails/mastercard_send.h) against the Mastercard Send double over
// real TLS: every request signed by the connector is verified by Mastercard's own signer in the
// double, and each of the double's scenarios is driven through credit() and status(), for each
// program: disbursements through the Disbursements API, person-to-person credits through the
// Payment Transfer API.
#include "rails/mastercard_send.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "core/ids.h"
#include "core/json.h"
#include "mastercard_double.h"
#include "rail_calls.h"
#include "rails/https_client.h"

namespace payoutd::rails {

// How gtest names a program in the tests' parameters.
void PrintTo(Program program, std::ostream* out) {
  *out << (program == Program::kDisbursement ? "disbursement" : "person-to-person");
}

namespace {

using namespace std::chrono_literals;
using testing::credit;
using testing::DeadPort;
using testing::MastercardDouble;
using testing::status;
using testing::wait;

SystemClock wall_clock;

MastercardDouble& the_double() {
  static MastercardDouble* d = new MastercardDouble();  // one for the whole run
  return *d;
}

class MastercardSend : public ::testing::TestWithParam<Program> {
 protected:
  static void TearDownTestSuite() { delete &the_double(); }

  MastercardSendOptions options() {
    MastercardSendOptions o;
    o.base_url = the_double().base_url();
    o.partner_id = MastercardDouble::kPartnerId;
    o.consumer_key = MastercardDouble::kConsumerKey;
    o.signing_key_file = the_double().signing_key_file();
    o.ca_file = the_double().ca_file();
    o.sender_account_uri = "acct-ref:payoutd-test-funding";
    o.timeout_ms = 8000;
    o.not_found_after_ms = 0;
    return o;
  }

  void SetUp() override { ASSERT_FALSE(the_double().base_url().empty()); }

  CreditOrder order(const std::string& pan) const {
    CreditOrder o;
    o.reference = new_uuid();
    o.pan = pan;
    o.cardholder = "JANE Q SMITH";
    o.amount = Amount{1800, Currency::from_code("USD").value()};
    o.parties = R"({"sender_first_name":"John","sender_last_name":"Jones"})";
    o.program = GetParam();
    return o;
  }

  // The API the program's credits go to, and the other one.
  static std::string api(Program p) {
    return p == Program::kDisbursement ? "disbursements" : "transfers";
  }
  std::string resource() const {
    return GetParam() == Program::kDisbursement ? "disbursement" : "transfer";
  }

  // What the double recorded under a reference at an API (default: the program's):
  // {"received":{POST,GET,reset},"transfer"|"disbursement":...}.
  json::Value recorded(const std::string& reference, std::string at = {}) const {
    HttpsClientOptions c;
    c.ca_file = the_double().ca_file();
    const std::string& base = the_double().base_url();
    if (at.empty()) at = api(GetParam());
    return testing::get_json(
        c, base.substr(0, base.size() - 5) + "/_double/" + at + "?ref=" + reference);
  }

  std::int64_t received(const std::string& reference, const char* what) const {
    const json::Value v = recorded(reference);
    const json::Value* counts = v.find("received");
    const json::Value* n = counts ? counts->find(what) : nullptr;
    return n ? n->as_int64().value_or(-1) : 0;
  }
};

TEST_P(MastercardSend, ApprovesWithTheNetworksRetrievalReference) {
  MastercardSendRail rail(options(), wall_clock);
  CreditOrder o = order("5555555555554444");
  const Answer a = credit(rail, o);
  EXPECT_EQ(a.outcome, Outcome::kApproved) << a.text;
  EXPECT_EQ(a.approval.size(), 12u);
  EXPECT_EQ(a.code, "00");
  const json::Value v = recorded(o.reference);
  const json::Value* t = v.find(resource());
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->find("amount")->as_string(), "1800");
  EXPECT_EQ(t->find("currency")->as_string(), "USD");
  EXPECT_EQ(t->find("recipient_account_uri")->as_string(), "pan:************4444");
  // The program's payment type and funding source; nothing reached the other API.
  const bool disbursement = GetParam() == Program::kDisbursement;
  EXPECT_EQ(t->find("payment_type")->as_string(), disbursement ? "BDB" : "P2P");
  EXPECT_EQ(t->find("funding_source")->as_string(), disbursement ? "DEPOSIT_ACCOUNT" : "DEBIT");
  const Program other = disbursement ? Program::kPersonToPerson : Program::kDisbursement;
  const json::Value elsewhere = recorded(o.reference, api(other));
  EXPECT_EQ(elsewhere.find("received")->find("POST")->as_int64(), 0);
  const Answer again = status(rail, o.reference, GetParam());
  EXPECT_EQ(again.outcome, Outcome::kApproved);
  EXPECT_EQ(again.approval, a.approval);
  // Asked at the other program's API, Mastercard has no such payment.
  EXPECT_EQ(status(rail, o.reference, other).outcome, Outcome::kNotFound);
}

TEST_P(MastercardSend, DeclinesCarryTheNetworksCodeAndText) {
  MastercardSendRail rail(options(), wall_clock);
  const std::pair<const char*, const char*> cards[] = {
      {"5555555555550012", "05"}, {"5555555555550020", "51"}, {"5555555555550038", "54"},
      {"5555555555550046", "14"}, {"5555555555550053", "43"}, {"5555555555550061", "61"},
      {"5555555555550079", "91"}};
  for (const auto& [pan, code] : cards) {
    const Answer a = credit(rail, order(pan));
    EXPECT_EQ(a.outcome, Outcome::kDeclined) << pan;
    EXPECT_EQ(a.code, code) << pan;
    EXPECT_FALSE(a.text.empty()) << pan;
  }
  EXPECT_EQ(credit(rail, order("5555555555550012")).text, "Do not honor");
}

TEST_P(MastercardSend, UnknownThenFinalThroughRetrievalByReference) {
  MastercardSendRail rail(options(), wall_clock);
  CreditOrder approved = order("5555555555550087");  // UNK3: approved 3 s later
  CreditOrder declined = order("5555555555550095");  // UNK3D05
  EXPECT_EQ(credit(rail, approved).outcome, Outcome::kUnknown);
  EXPECT_EQ(credit(rail, declined).outcome, Outcome::kUnknown);
  EXPECT_EQ(status(rail, approved.reference, GetParam()).outcome, Outcome::kUnknown);
  std::this_thread::sleep_for(3100ms);
  const Answer a = status(rail, approved.reference, GetParam());
  EXPECT_EQ(a.outcome, Outcome::kApproved) << a.text;
  EXPECT_EQ(a.approval.size(), 12u);
  const Answer d = status(rail, declined.reference, GetParam());
  EXPECT_EQ(d.outcome, Outcome::kDeclined);
  EXPECT_EQ(d.code, "05");
}

TEST_P(MastercardSend, PendingIsProcessingUntilFinal) {
  MastercardSendRail rail(options(), wall_clock);
  CreditOrder o = order("5555555555550103");  // PND2
  EXPECT_EQ(credit(rail, o).outcome, Outcome::kProcessing);
  EXPECT_EQ(status(rail, o.reference, GetParam()).outcome, Outcome::kProcessing);
  std::this_thread::sleep_for(2100ms);
  EXPECT_EQ(status(rail, o.reference, GetParam()).outcome, Outcome::kApproved);
}

TEST_P(MastercardSend, ASlowAnswerAfterTheCreditIsUnknownAndStatusFindsItApproved) {
  MastercardSendOptions opts = options();
  opts.timeout_ms = 1500;  // SLOW10 answers after 10 s
  MastercardSendRail rail(opts, wall_clock);
  CreditOrder o = order("5555555555550111");
  const Answer a = credit(rail, o);
  EXPECT_EQ(a.outcome, Outcome::kUnknown) << a.text;
  EXPECT_EQ(status(rail, o.reference, GetParam()).outcome, Outcome::kApproved);
  EXPECT_EQ(received(o.reference, "POST"), 1);
}

// A reset on a fresh connection after the request was written: the double read it and recorded
// nothing, but the client cannot tell that from a reset after recording (RESETAFTER), so it is
// kUnknown; the retrieval then finds nothing (kNotFound once the quiet period has passed) and
// the engine's re-send with the same reference is credited once.
TEST_P(MastercardSend, AResetBeforeRecordingIsUnknownThenNotFoundThenCreditedOnce) {
  MastercardSendOptions opts = options();
  opts.not_found_after_ms = 1000;
  MastercardSendRail rail(opts, wall_clock);
  CreditOrder o = order("5555555555550129");  // RESETBEFORE, first POST only
  const Answer a = credit(rail, o);
  EXPECT_EQ(a.outcome, Outcome::kUnknown) << a.text;
  EXPECT_EQ(status(rail, o.reference, GetParam()).outcome,
            Outcome::kUnknown);  // within the quiet period
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(status(rail, o.reference, GetParam()).outcome, Outcome::kNotFound);
  EXPECT_EQ(credit(rail, o).outcome, Outcome::kApproved);
  EXPECT_EQ(received(o.reference, "POST"), 2);
  EXPECT_EQ(received(o.reference, "reset"), 1);
}

TEST_P(MastercardSend, AResetAfterRecordingIsUnknownAndStatusFindsItApproved) {
  MastercardSendRail rail(options(), wall_clock);
  CreditOrder o = order("5555555555550137");  // RESETAFTER
  EXPECT_EQ(credit(rail, o).outcome, Outcome::kUnknown);
  EXPECT_EQ(status(rail, o.reference, GetParam()).outcome, Outcome::kApproved);
  EXPECT_EQ(received(o.reference, "POST"), 1);
}

// On a reused keep-alive connection libcurl would re-send, by itself, a request that got no byte
// of answer, with the same signature and nonce (https_client.h); the double refuses a repeated
// nonce with a 401, which must never read as "not sent" when the first attempt was recorded.
// The client refuses that re-send, so each is kUnknown after one POST, and retrieval decides.
TEST_P(MastercardSend, AResetOnAReusedConnectionIsUnknownAfterOnePost) {
  MastercardSendOptions opts = options();
  opts.not_found_after_ms = 60000;
  MastercardSendRail rail(opts, wall_clock);
  ASSERT_EQ(credit(rail, order("5555555555554444")).outcome, Outcome::kApproved);  // warm
  CreditOrder after = order("5555555555550137");  // RESETAFTER: recorded, then reset
  const Answer a = credit(rail, after);
  EXPECT_EQ(a.outcome, Outcome::kUnknown) << a.text;
  EXPECT_NE(a.text.find("died after the request was written"), std::string::npos) << a.text;
  EXPECT_EQ(received(after.reference, "POST"), 1);
  EXPECT_EQ(status(rail, after.reference, GetParam()).outcome, Outcome::kApproved);
  ASSERT_EQ(credit(rail, order("5555555555554444")).outcome, Outcome::kApproved);  // warm again
  CreditOrder before = order("5555555555550129");  // RESETBEFORE: reset, nothing recorded
  const Answer b = credit(rail, before);
  EXPECT_EQ(b.outcome, Outcome::kUnknown) << b.text;
  EXPECT_EQ(received(before.reference, "POST"), 1);
  EXPECT_EQ(status(rail, before.reference, GetParam()).outcome, Outcome::kUnknown);  // quiet period
}

TEST_P(MastercardSend, ADuplicateReferenceIsAnsweredFromTheFirstTransfer) {
  MastercardSendRail rail(options(), wall_clock);
  CreditOrder o = order("5555555555554444");
  const Answer first = credit(rail, o);
  ASSERT_EQ(first.outcome, Outcome::kApproved);
  const Answer second = credit(rail, o);  // 409 from the double, then retrieval by reference
  EXPECT_EQ(second.outcome, Outcome::kApproved) << second.text;
  EXPECT_EQ(second.approval, first.approval);
  EXPECT_EQ(received(o.reference, "POST"), 2);
}

TEST_P(MastercardSend, NothingListeningIsNotSent) {
  DeadPort dead;
  MastercardSendOptions opts = options();
  opts.base_url = dead.url() + "/send";
  MastercardSendRail rail(opts, wall_clock);
  const Answer a = credit(rail, order("5555555555554444"));
  EXPECT_EQ(a.outcome, Outcome::kNotSent) << a.text;
  EXPECT_EQ(status(rail, new_uuid(), GetParam()).outcome, Outcome::kNotSent);
}

TEST_P(MastercardSend, AnUntrustedServerCertificateIsNotSent) {
  MastercardSendOptions opts = options();
  opts.ca_file = the_double().other_ca_file();  // not the CA that signed the double's
  MastercardSendRail rail(opts, wall_clock);
  CreditOrder o = order("5555555555554444");
  const Answer a = credit(rail, o);
  EXPECT_EQ(a.outcome, Outcome::kNotSent) << a.text;
  EXPECT_EQ(received(o.reference, "POST"), 0);
}

TEST_P(MastercardSend, ARefusedSignatureIsNotSent) {
  MastercardSendOptions opts = options();
  opts.signing_key_file = the_double().other_key_file();
  MastercardSendRail rail(opts, wall_clock);
  CreditOrder o = order("5555555555554444");
  const Answer a = credit(rail, o);
  EXPECT_EQ(a.outcome, Outcome::kNotSent) << a.text;
  EXPECT_EQ(received(o.reference, "POST"), 0);
}

// Mastercard requires the recipient's name: an order without one can never be sent, so it is
// declined (format error) rather than re-sent for ever.
TEST_P(MastercardSend, AnOrderWithoutARecipientNameIsDeclinedUnsent) {
  MastercardSendRail rail(options(), wall_clock);
  CreditOrder o = order("5555555555554444");
  o.cardholder = "";
  const Answer a = credit(rail, o);
  EXPECT_EQ(a.outcome, Outcome::kDeclined);
  EXPECT_EQ(a.code, "30");
  EXPECT_EQ(received(o.reference, "POST"), 0);
}

TEST_P(MastercardSend, TheBreakerOpensAfterConsecutiveFailuresAndAnswersNotSentAtOnce) {
  DeadPort dead;
  MastercardSendOptions opts = options();
  opts.base_url = dead.url() + "/send";
  opts.breaker = {.failures = 2, .open_ms = 60000};
  MastercardSendRail rail(opts, wall_clock);
  credit(rail, order("5555555555554444"));
  EXPECT_EQ(rail.breaker_state(), Breaker::State::kClosed);
  credit(rail, order("5555555555554444"));
  EXPECT_EQ(rail.breaker_state(), Breaker::State::kOpen);
  const Answer a = credit(rail, order("5555555555554444"));
  EXPECT_EQ(a.outcome, Outcome::kNotSent);
  EXPECT_NE(a.text.find("circuit"), std::string::npos) << a.text;
  const RailCallStatsSnapshot s = rail.stats();
  EXPECT_EQ(s.credits[static_cast<int>(Outcome::kNotSent)], 3);
  EXPECT_EQ(s.breaker_opened, 1);
}

TEST_P(MastercardSend, StopAnswersWhatIsInFlightUnknown) {
  MastercardSendRail rail(options(), wall_clock);
  std::promise<Answer> p;
  auto f = p.get_future();
  rail.credit(order("5555555555550111"), [&p](Answer a) { p.set_value(std::move(a)); });  // SLOW10
  std::this_thread::sleep_for(500ms);
  rail.stop();
  EXPECT_EQ(wait(f).outcome, Outcome::kUnknown);
  EXPECT_EQ(credit(rail, order("5555555555554444")).outcome, Outcome::kUnknown);
}

INSTANTIATE_TEST_SUITE_P(Programs, MastercardSend,
                         ::testing::Values(Program::kDisbursement, Program::kPersonToPerson),
                         [](const ::testing::TestParamInfo<Program>& param) {
                           return param.param == Program::kDisbursement ? "Disbursement"
                                                                        : "PersonToPerson";
                         });

}  // namespace
}  // namespace payoutd::rails
