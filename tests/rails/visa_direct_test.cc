// The Visa Direct connector (rails/visa_direct.h) against the Visa Direct double over two-way TLS
// with HTTP Basic: each of the double's scenarios driven through credit() and status(), and
// what the double recorded under the transaction's key (acquiringBin/rrn/stan).
#include "rails/visa_direct.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "core/ids.h"
#include "core/json.h"
#include "rail_calls.h"
#include "rails/https_client.h"
#include "visa_double.h"

namespace payoutd::rails {
namespace {

using namespace std::chrono_literals;
using testing::credit;
using testing::DeadPort;
using testing::status;
using testing::VisaDouble;
using testing::wait;

constexpr const char* kBin = "408999";

SystemClock wall_clock;

VisaDouble& the_double() {
  static VisaDouble* d = new VisaDouble();  // one for the whole run
  return *d;
}

class VisaDirect : public ::testing::Test {
 public:
  static void TearDownTestSuite() { delete &the_double(); }

  static VisaDirectOptions options() { return options_for(the_double()); }

  static VisaDirectOptions options_for(const VisaDouble& d) {
    VisaDirectOptions o;
    o.base_url = d.base_url();
    o.ca_file = d.ca_file();
    o.client_cert_file = d.client_cert_file();
    o.client_key_file = d.client_key_file();
    o.user_id = VisaDouble::kUserId;
    o.password_file = d.password_file();
    o.timeout_ms = 8000;
    o.transaction_timeout_ms = 7000;
    o.not_found_after_ms = 0;
    o.acquiring_bin = kBin;
    o.acquirer_country_code = "840";
    o.business_application_id = "FD";
    o.card_acceptor_name = "payoutd test originator";
    o.card_acceptor_terminal_id = "TID-0001";
    o.card_acceptor_id_code = "PAYOUTD-TEST-01";
    o.card_acceptor_country = "KAZ";
    o.sender_name = "Payoutd Test Merchant";
    o.sender_country_code = "KAZ";
    return o;
  }

  void SetUp() override { ASSERT_FALSE(the_double().base_url().empty()); }

  // A first send, as the engine marks one.
  static CreditOrder order(const std::string& pan) {
    CreditOrder o;
    o.reference = new_uuid();
    o.pan = pan;
    o.cardholder = "JANE Q SMITH";
    o.amount = Amount{1800, Currency::from_code("USD").value()};
    o.sent_before = false;
    return o;
  }

  static CreditOrder resent(CreditOrder o) {
    o.sent_before = true;
    return o;
  }

  // What the double recorded under the reference's key: {received: {POST, status, query, reset},
  // credited, transactions: [...]}.
  static json::Value recorded(const std::string& reference) {
    HttpsClientOptions c;
    c.ca_file = the_double().ca_file();
    c.client_cert_file = the_double().client_cert_file();
    c.client_key_file = the_double().client_key_file();
    const visa::Identifiers ids = visa::identifiers_of(reference);
    return testing::get_json(c, the_double().base_url() + "/_double/transactions?key=" + kBin +
                                    "/" + ids.rrn + "/" + ids.stan);
  }

  static std::int64_t count(const json::Value& v, const char* group, const char* what) {
    const json::Value* g = group ? v.find(group) : &v;
    const json::Value* n = g ? g->find(what) : nullptr;
    return n ? n->as_int64().value_or(-1) : 0;
  }

  static std::int64_t received(const std::string& reference, const char* what) {
    return count(recorded(reference), "received", what);
  }

  static std::int64_t credited(const std::string& reference) {
    return count(recorded(reference), nullptr, "credited");
  }
};

TEST_F(VisaDirect, ApprovesWithTheTransactionsRetrievalReferenceNumber) {
  VisaDirectRail rail(options(), wall_clock);
  CreditOrder o = order("4111111111111111");
  const Answer a = credit(rail, o);
  EXPECT_EQ(a.outcome, Outcome::kApproved) << a.text;
  EXPECT_EQ(a.code, "00");
  EXPECT_EQ(a.approval, visa::identifiers_of(o.reference).rrn);
  const json::Value v = recorded(o.reference);
  EXPECT_EQ(count(v, nullptr, "credited"), 1);
  const json::Value* list = v.find("transactions");
  ASSERT_TRUE(list && list->is_array() && list->as_array().size() == 1);
  const json::Value& t = list->as_array().front();
  EXPECT_EQ(t.find("amount")->as_string(), "18.00");
  EXPECT_EQ(t.find("minorUnits")->as_int64(), 1800);
  EXPECT_EQ(t.find("currency")->as_string(), "USD");
  EXPECT_EQ(t.find("businessApplicationId")->as_string(), "FD");
  EXPECT_EQ(t.find("recipientPrimaryAccountNumber")->as_string().substr(12), "1111");
  const Answer again = status(rail, o.reference);  // by the Transaction Query: no status id
  EXPECT_EQ(again.outcome, Outcome::kApproved) << again.text;
  EXPECT_EQ(again.approval, a.approval);
  EXPECT_EQ(received(o.reference, "query"), 1);
}

TEST_F(VisaDirect, AmountsFollowTheCurrencysExponent) {
  VisaDirectRail rail(options(), wall_clock);
  CreditOrder yen = order("4111111111111111");
  yen.amount = Amount{1240, Currency::from_code("JPY").value()};
  EXPECT_EQ(credit(rail, yen).outcome, Outcome::kApproved);
  const json::Value v = recorded(yen.reference);
  EXPECT_EQ(v.find("transactions")->as_array().front().find("amount")->as_string(), "1240");
  CreditOrder dinar = order("4111111111111111");
  dinar.amount = Amount{1235, Currency::from_code("KWD").value()};  // 1.235: a third digit
  const Answer refused = credit(rail, dinar);
  EXPECT_EQ(refused.outcome, Outcome::kNotSent);
  EXPECT_EQ(received(dinar.reference, "POST"), 0);
  dinar.amount.minor = 1230;
  EXPECT_EQ(credit(rail, dinar).outcome, Outcome::kApproved);
}

TEST_F(VisaDirect, DeclinesCarryTheActionCode) {
  VisaDirectRail rail(options(), wall_clock);
  const std::pair<const char*, const char*> cards[] = {
      {"4111110000000013", "05"}, {"4111110000000021", "51"}, {"4111110000000039", "14"},
      {"4111110000000047", "54"}, {"4111110000000054", "57"}, {"4111110000000062", "59"},
      {"4111110000000070", "61"}, {"4111110000000088", "62"}, {"4111110000000096", "91"},
      {"4111110000000104", "93"}, {"4111110000000112", "96"}, {"4111110000000120", "43"}};
  for (const auto& [pan, code] : cards) {
    const Answer a = credit(rail, order(pan));
    EXPECT_EQ(a.outcome, Outcome::kDeclined) << pan;
    EXPECT_EQ(a.code, code) << pan;
  }
  EXPECT_EQ(credit(rail, order("4111110000000013")).text, "Do not honor");
}

// A person sending to a person: PP (Visa: "sender and recipient are not the same person") with the
// person as sender, which the double validates as a money transfer; approved and declined as a
// disbursement is. Without the sender's name no push is made: declined (30) before sending.
TEST_F(VisaDirect, APersonToPersonPushIsPPWithThePersonAsSender) {
  VisaDirectRail rail(options(), wall_clock);
  CreditOrder o = order("4111111111111111");
  o.program = Program::kPersonToPerson;
  o.parties = R"({"sender_first_name":"John","sender_last_name":"Jones","sender_wallet_id":"W1",)"
              R"("sender_country":"KZ"})";
  const Answer a = credit(rail, o);
  EXPECT_EQ(a.outcome, Outcome::kApproved) << a.text;
  const json::Value v = recorded(o.reference);
  const json::Value* list = v.find("transactions");
  ASSERT_TRUE(list && list->is_array() && list->as_array().size() == 1);
  EXPECT_EQ(list->as_array().front().find("businessApplicationId")->as_string(), "PP");
  EXPECT_EQ(status(rail, o.reference, Program::kPersonToPerson).outcome, Outcome::kApproved);
  CreditOrder declined = order("4111110000000021");
  declined.program = Program::kPersonToPerson;
  declined.parties = o.parties;
  const Answer d = credit(rail, declined);
  EXPECT_EQ(d.outcome, Outcome::kDeclined);
  EXPECT_EQ(d.code, "51");
  CreditOrder anonymous = order("4111111111111111");
  anonymous.program = Program::kPersonToPerson;
  const Answer n = credit(rail, anonymous);
  EXPECT_EQ(n.outcome, Outcome::kDeclined);
  EXPECT_EQ(n.code, "30");
  EXPECT_EQ(received(anonymous.reference, "POST"), 0);
}

TEST_F(VisaDirect, A202IsProcessingUntilTheStatusIdentifierAnswersFinal) {
  VisaDirectRail rail(options(), wall_clock);
  CreditOrder approved = order("4111110000000138");  // P202N2
  EXPECT_EQ(credit(rail, approved).outcome, Outcome::kProcessing);
  EXPECT_EQ(status(rail, approved.reference).outcome, Outcome::kProcessing);
  EXPECT_EQ(status(rail, approved.reference).outcome, Outcome::kProcessing);
  const Answer a = status(rail, approved.reference);
  EXPECT_EQ(a.outcome, Outcome::kApproved) << a.text;
  EXPECT_EQ(received(approved.reference, "status"), 3);
  EXPECT_EQ(received(approved.reference, "query"), 0);
  CreditOrder declined = order("4111110000000146");  // P202N1D05
  EXPECT_EQ(credit(rail, declined).outcome, Outcome::kProcessing);
  EXPECT_EQ(status(rail, declined.reference).outcome, Outcome::kProcessing);
  const Answer d = status(rail, declined.reference);
  EXPECT_EQ(d.outcome, Outcome::kDeclined);
  EXPECT_EQ(d.code, "05");
}

// A new connector (a restart) has no status identifier: the Transaction Query by the key the
// reference derives finds the push, in progress and then final.
TEST_F(VisaDirect, AfterARestartTheTransactionQueryFindsThePush) {
  auto before = std::make_unique<VisaDirectRail>(options(), wall_clock);
  CreditOrder o = order("4111110000000138");  // P202N2
  EXPECT_EQ(credit(*before, o).outcome, Outcome::kProcessing);
  VisaDirectRail after(options(), wall_clock);
  EXPECT_EQ(status(after, o.reference).outcome, Outcome::kProcessing);  // IN_PROGRESS
  EXPECT_EQ(received(o.reference, "query"), 1);
  for (int i = 0; i < 3; ++i) status(*before, o.reference);  // the polls that settle it
  before.reset();
  const Answer a = status(after, o.reference);
  EXPECT_EQ(a.outcome, Outcome::kApproved) << a.text;
  EXPECT_EQ(a.approval, visa::identifiers_of(o.reference).rrn);
  // The engine's re-send after the restart looks first and never posts again.
  EXPECT_EQ(credit(after, resent(o)).outcome, Outcome::kApproved);
  EXPECT_EQ(received(o.reference, "POST"), 1);
  EXPECT_EQ(credited(o.reference), 1);
}

TEST_F(VisaDirect, ASlowAnswerAfterTheCreditIsUnknownAndTheQueryFindsItApproved) {
  VisaDirectOptions opts = options();
  opts.timeout_ms = 1500;  // SLOW10 answers after 10 s; Visa's own timeout is later still
  opts.transaction_timeout_ms = 30000;
  VisaDirectRail rail(opts, wall_clock);
  CreditOrder o = order("4111110000000153");
  const Answer a = credit(rail, o);
  EXPECT_EQ(a.outcome, Outcome::kUnknown) << a.text;
  EXPECT_EQ(status(rail, o.reference).outcome, Outcome::kApproved);
  EXPECT_EQ(received(o.reference, "POST"), 1);
}

TEST_F(VisaDirect, VisasOwnTimeoutIsA202AndTheStatusIdentifierFindsItApproved) {
  VisaDirectOptions opts = options();
  opts.transaction_timeout_ms = 500;  // below SLOW10's processing: Visa answers 202 at 500 ms
  VisaDirectRail rail(opts, wall_clock);
  CreditOrder o = order("4111110000000153");
  EXPECT_EQ(credit(rail, o).outcome, Outcome::kProcessing);
  EXPECT_EQ(status(rail, o.reference).outcome, Outcome::kApproved);
  EXPECT_EQ(received(o.reference, "status"), 1);
}

// A reset after the request was written, before the double recorded it: the client cannot tell
// it from a reset after recording, so it is kUnknown; the query then finds nothing (kNotFound
// once the quiet period has passed), and the engine's re-send looks again and posts once.
TEST_F(VisaDirect, AResetBeforeRecordingIsUnknownThenNotFoundThenCreditedOnce) {
  VisaDirectOptions opts = options();
  opts.not_found_after_ms = 1000;
  VisaDirectRail rail(opts, wall_clock);
  CreditOrder o = order("4111110000000161");  // RESETBEFORE, first POST only
  const Answer a = credit(rail, o);
  EXPECT_EQ(a.outcome, Outcome::kUnknown) << a.text;
  EXPECT_EQ(status(rail, o.reference).outcome, Outcome::kUnknown);  // within the quiet period
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(status(rail, o.reference).outcome, Outcome::kNotFound);
  EXPECT_EQ(credit(rail, resent(o)).outcome, Outcome::kApproved);
  EXPECT_EQ(received(o.reference, "POST"), 2);
  EXPECT_EQ(received(o.reference, "reset"), 1);
  EXPECT_EQ(credited(o.reference), 1);
}

TEST_F(VisaDirect, AResetAfterRecordingIsUnknownAndTheQueryFindsItApproved) {
  VisaDirectRail rail(options(), wall_clock);
  CreditOrder o = order("4111110000000179");  // RESETAFTER
  EXPECT_EQ(credit(rail, o).outcome, Outcome::kUnknown);
  EXPECT_EQ(status(rail, o.reference).outcome, Outcome::kApproved);
  EXPECT_EQ(credit(rail, resent(o)).outcome, Outcome::kApproved);  // looked up, not posted
  EXPECT_EQ(received(o.reference, "POST"), 1);
}

// Visa answers a repeat of a completed push with a new record declined 94 (the double's
// default): the connector takes 94 as "another transaction holds the key", and the query
// answers from the first. A repeat while the first is in progress is a 303.
TEST_F(VisaDirect, DuplicatesAreAnsweredFromTheFirstTransaction) {
  VisaDirectRail rail(options(), wall_clock);
  CreditOrder o = order("4111111111111111");
  const Answer first = credit(rail, o);
  ASSERT_EQ(first.outcome, Outcome::kApproved);
  const Answer repeat = credit(rail, o);  // marked a first send, wrongly: Visa says 94
  EXPECT_EQ(repeat.outcome, Outcome::kUnknown) << repeat.text;
  const Answer decided = status(rail, o.reference);
  EXPECT_EQ(decided.outcome, Outcome::kApproved) << decided.text;
  EXPECT_EQ(decided.approval, first.approval);
  EXPECT_EQ(credited(o.reference), 1);

  CreditOrder pending = order("4111110000000138");  // P202N2
  EXPECT_EQ(credit(rail, pending).outcome, Outcome::kProcessing);
  const Answer in_progress = credit(rail, pending);  // 303
  EXPECT_EQ(in_progress.outcome, Outcome::kProcessing) << in_progress.text;
  EXPECT_NE(in_progress.text.find("303"), std::string::npos) << in_progress.text;
  EXPECT_EQ(recorded(pending.reference).find("transactions")->as_array().size(), 1u);
}

TEST_F(VisaDirect, AFailedTransactionIsUnknownThenDeclinedByTheQuery) {
  VisaDirectRail rail(options(), wall_clock);
  CreditOrder o = order("4111110000000187");  // FAIL500
  EXPECT_EQ(credit(rail, o).outcome, Outcome::kUnknown);
  const Answer a = status(rail, o.reference);
  EXPECT_EQ(a.outcome, Outcome::kDeclined) << a.text;
  EXPECT_EQ(a.code, "FAILED");
}

// A client certificate from a CA the double does not trust: the double ends the handshake with
// an alert. What libcurl reports decides kNotSent or kUnknown (docs/rails.md, "Visa Direct").
TEST_F(VisaDirect, AnUntrustedClientCertificateNeverReachesVisa) {
  VisaDirectOptions opts = options();
  opts.client_cert_file = the_double().other_cert_file();
  opts.client_key_file = the_double().other_key_file();
  VisaDirectRail rail(opts, wall_clock);
  CreditOrder o = order("4111111111111111");
  const Answer a = credit(rail, o);
  // libcurl: CURLE_RECV_ERROR after the request was written (TLS 1.3 checks the client's
  // certificate after the client's side of the handshake is done).
  EXPECT_EQ(a.outcome, Outcome::kUnknown) << a.text;
  EXPECT_NE(a.text.find("no answer from Visa"), std::string::npos) << a.text;
  EXPECT_EQ(received(o.reference, "POST"), 0);
}

TEST_F(VisaDirect, AWrongPasswordIsNotSent) {
  VisaDirectOptions opts = options();
  opts.password_file.clear();
  opts.password = "not the password";
  VisaDirectRail rail(opts, wall_clock);
  CreditOrder o = order("4111111111111111");
  const Answer a = credit(rail, o);
  EXPECT_EQ(a.outcome, Outcome::kNotSent) << a.text;
  EXPECT_EQ(received(o.reference, "POST"), 0);
  EXPECT_EQ(status(rail, o.reference).outcome, Outcome::kNotSent);
}

TEST_F(VisaDirect, NothingListeningIsNotSent) {
  DeadPort dead;
  VisaDirectOptions opts = options();
  opts.base_url = dead.url();
  VisaDirectRail rail(opts, wall_clock);
  EXPECT_EQ(credit(rail, order("4111111111111111")).outcome, Outcome::kNotSent);
  EXPECT_EQ(status(rail, new_uuid()).outcome, Outcome::kNotSent);
}

TEST_F(VisaDirect, TheBreakerOpensAfterConsecutiveFailuresAndAnswersNotSentAtOnce) {
  DeadPort dead;
  VisaDirectOptions opts = options();
  opts.base_url = dead.url();
  opts.breaker = {.failures = 2, .open_ms = 60000};
  VisaDirectRail rail(opts, wall_clock);
  credit(rail, order("4111111111111111"));
  EXPECT_EQ(rail.breaker_state(), Breaker::State::kClosed);
  credit(rail, order("4111111111111111"));
  EXPECT_EQ(rail.breaker_state(), Breaker::State::kOpen);
  const Answer a = credit(rail, order("4111111111111111"));
  EXPECT_EQ(a.outcome, Outcome::kNotSent);
  EXPECT_NE(a.text.find("circuit"), std::string::npos) << a.text;
  const RailCallStatsSnapshot s = rail.stats();
  EXPECT_EQ(s.credits[static_cast<int>(Outcome::kNotSent)], 3);
  EXPECT_EQ(s.breaker_opened, 1);
}

TEST_F(VisaDirect, ACardCheckIsDeclinedWithoutSending) {
  VisaDirectRail rail(options(), wall_clock);
  CreditOrder o = order("4111111111111111");
  o.verification = true;
  const Answer a = credit(rail, o);
  EXPECT_EQ(a.outcome, Outcome::kDeclined);
  EXPECT_EQ(a.code, "57");
  EXPECT_EQ(received(o.reference, "POST"), 0);
}

TEST_F(VisaDirect, StopAnswersWhatIsInFlightUnknown) {
  VisaDirectRail rail(options(), wall_clock);
  std::promise<Answer> p;
  auto f = p.get_future();
  rail.credit(order("4111110000000153"), [&p](Answer a) { p.set_value(std::move(a)); });  // SLOW
  std::this_thread::sleep_for(500ms);
  rail.stop();
  EXPECT_EQ(wait(f).outcome, Outcome::kUnknown);
  EXPECT_EQ(credit(rail, order("4111111111111111")).outcome, Outcome::kUnknown);
}

// The key is the reference's alone, in Visa's formats, and never changes (a re-send after an
// upgrade must find the first push).
// --- Message Level Encryption (rails/jwe.h) -----------------------------------------------------

// A double that requires MLE: every push {"encData": <JWE>} with the keyId header, every answer
// sealed to our MLE key.
TEST(VisaDirectMle, RequestsAreSealedToVisaAndItsAnswersOpenWithOurKey) {
  const VisaDouble mle(true);
  ASSERT_FALSE(mle.base_url().empty());
  VisaDirectOptions o = VisaDirect::options_for(mle);
  o.mle_key_id = VisaDouble::kMleKeyId;
  o.mle_server_cert_file = mle.mle_server_cert_file();
  o.mle_private_key_file = mle.mle_private_key_file();
  VisaDirectRail rail(o, wall_clock);
  CreditOrder c = VisaDirect::order("4111111111111111");
  const Answer a = credit(rail, c);
  EXPECT_EQ(a.outcome, Outcome::kApproved) << a.text;
  EXPECT_EQ(a.approval, visa::identifiers_of(c.reference).rrn);
  const Answer again = status(rail, c.reference);  // the query's answer, sealed too
  EXPECT_EQ(again.outcome, Outcome::kApproved) << again.text;
  const Answer declined = credit(rail, VisaDirect::order("4111110000000013"));
  EXPECT_EQ(declined.outcome, Outcome::kDeclined) << declined.text;

  // Without MLE, or sealed to a key that is not Visa's, the double refuses the request (401):
  // our configuration is wrong, and nothing was paid.
  VisaDirectOptions clear = VisaDirect::options_for(mle);
  VisaDirectRail unsealed(clear, wall_clock);
  EXPECT_EQ(credit(unsealed, VisaDirect::order("4111111111111111")).outcome, Outcome::kNotSent);
  VisaDirectOptions wrong = o;
  wrong.mle_server_cert_file = mle.ca_file();  // a certificate, but not Visa's MLE one
  VisaDirectRail mis_sealed(wrong, wall_clock);
  EXPECT_EQ(credit(mis_sealed, VisaDirect::order("4111111111111111")).outcome, Outcome::kNotSent);
  // A key that is missing is refused at start.
  VisaDirectOptions missing = o;
  missing.mle_private_key_file = mle.ca_file() + ".absent";
  EXPECT_THROW(VisaDirectRail(missing, wall_clock), std::runtime_error);
}

TEST(VisaDirectMessages, IdentifiersComeFromTheReferenceAlone) {
  const visa::Identifiers a = visa::identifiers_of("0b6f3c1e-8a7d-4e21-9f3a-5c2d8e7b1a40");
  EXPECT_EQ(a.stan.size(), 6u);
  ASSERT_EQ(a.rrn.size(), 12u);
  const int day = std::stoi(a.rrn.substr(1, 3));
  const int hour = std::stoi(a.rrn.substr(4, 2));
  EXPECT_TRUE(day >= 1 && day <= 365) << a.rrn;
  EXPECT_TRUE(hour >= 0 && hour <= 23) << a.rrn;
  const visa::Identifiers again = visa::identifiers_of("0b6f3c1e-8a7d-4e21-9f3a-5c2d8e7b1a40");
  EXPECT_EQ(again.stan, a.stan);
  EXPECT_EQ(again.rrn, a.rrn);
  EXPECT_EQ(a.stan, "165076");
  EXPECT_EQ(a.rrn, "019518560481");
  EXPECT_NE(visa::identifiers_of("0b6f3c1e-8a7d-4e21-9f3a-5c2d8e7b1a41").rrn, a.rrn);
}

TEST(VisaDirectMessages, AmountsInMajorUnitsWithTheCurrencysDigits) {
  std::string problem;
  EXPECT_EQ(visa::amount_text({12405, *Currency::from_code("USD")}, &problem), "124.05");
  EXPECT_EQ(visa::amount_text({1240, *Currency::from_code("JPY")}, &problem), "1240");
  EXPECT_EQ(visa::amount_text({1230, *Currency::from_code("KWD")}, &problem), "1.230");
  EXPECT_EQ(visa::amount_text({1235, *Currency::from_code("KWD")}, &problem), "");
  EXPECT_EQ(visa::amount_text({100'000'000'000, *Currency::from_code("USD")}, &problem), "");
  EXPECT_EQ(visa::amount_text({0, *Currency::from_code("USD")}, &problem), "");
}

}  // namespace
}  // namespace payoutd::rails
