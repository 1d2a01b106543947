// The upstream Bereke connector (rails/bereke_upstream.h): the requests it sends and what each
// answer of a Payouts Module v2 becomes (every row of the seed's error table), the orders it
// refuses before sending, and the quiet period before "not found" is believed. Against a real
// module (a second payoutd): tests/e2e/test_bereke_upstream_rail.py.
#include "rails/bereke_upstream.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>

#include "app/config.h"
#include "rails/quiet_period.h"
#include "test_clock.h"

namespace payoutd::rails {
namespace {

using bereke_upstream::order_number;
using bereke_upstream::Read;
using bereke_upstream::read_answer;
using bereke_upstream::Reading;

constexpr std::string_view kReference = "0190a3c4-5b6d-8e7f-9a0b-1c2d3e4f5a6b";
constexpr std::string_view kNumber = "0190a3c45b6d8e7f9a0b1c2d3e4f5a6b";
constexpr std::int64_t kNowMs = 1'800'000'000'000;

BerekeUpstreamOptions options() {
  BerekeUpstreamOptions o;
  o.base_url = "https://securepayments.example/payouts/api/v2";
  o.user_name = "partner_login";
  o.password = "partner_password";
  return o;
}

CreditOrder order(std::string cardholder = "IVAN PETROV") {
  CreditOrder o;
  o.reference = std::string(kReference);
  o.pan = "4111111111111111";
  o.cardholder = std::move(cardholder);
  o.amount = {1234, *Currency::from_code("KZT")};
  return o;
}

Read read(int status, std::string_view body) { return read_answer(status, body, kNumber, kNowMs); }

Read error(int status, std::string_view code, std::string_view message) {
  return read(status, R"({"errorCode":")" + std::string(code) + R"(","errorMessage":")" +
                          std::string(message) + R"("})");
}

TEST(BerekeUpstream, TheOrderNumberIsTheReferenceWithoutItsDashes) {
  EXPECT_EQ(order_number(kReference), kNumber);
  EXPECT_EQ(order_number("payout_1"), "");                               // '_' is not taken
  EXPECT_EQ(order_number(std::string(33, 'a')), "");                     // over 32 characters
  EXPECT_EQ(order_number("0190a3c4-5b6d-8e7f-9a0b-1c2d3e4f5a6b0"), "");  // 33 without dashes
}

TEST(BerekeUpstream, APayoutCarriesTheCredentialsTheOrderNumberTheAmountAndTheCard) {
  std::string problem;
  EXPECT_EQ(bereke_upstream::payout_body(order(), options(), &problem),
            R"({"userName":"partner_login","password":"partner_password",)"
            R"("orderNumber":"0190a3c45b6d8e7f9a0b1c2d3e4f5a6b","amount":1234,"currency":"398",)"
            R"("client":{"name":"IVAN PETROV"},"target":{"card":{"pan":"4111111111111111"}}})");
  // A name the module's pattern refuses (not Latin, or over 24) is left out, not sent to fail.
  for (const char* holder : {"ИВАН ПЕТРОВ", "A VERY LONG CARDHOLDER NAME", ""}) {
    const std::string body = bereke_upstream::payout_body(order(holder), options(), &problem);
    EXPECT_EQ(body.find("client"), std::string::npos) << holder;
    EXPECT_NE(body.find(R"("target":{"card":{"pan":"4111111111111111"}})"), std::string::npos);
  }
  CreditOrder odd = order();
  odd.reference = "not/a/reference";
  EXPECT_EQ(bereke_upstream::payout_body(odd, options(), &problem), "");
  EXPECT_NE(problem.find("orderNumber"), std::string::npos);
}

TEST(BerekeUpstream, AStatusQueryIsByOrderNumber) {
  EXPECT_EQ(bereke_upstream::status_body(kNumber, options()),
            R"({"userName":"partner_login","password":"partner_password",)"
            R"("orderNumber":"0190a3c45b6d8e7f9a0b1c2d3e4f5a6b"})");
}

TEST(BerekeUpstream, Status2IsApprovedWithTheOperationsRefNum) {
  const Read r = read(200, R"({"errorCode":"0","errorMessage":"Успешно","amount":1234,
      "currency":"398","orderNumber":"0190a3c45b6d8e7f9a0b1c2d3e4f5a6b","orderStatus":"2",
      "operationList":[{"operationDate":1665414462047,"operationType":"P2P_CREDIT",
      "resultCode":0,"resultCodeDescription":"Перевод исполнен","refNum":"948498232196"}]})");
  ASSERT_EQ(r.reading, Reading::kAnswer);
  EXPECT_EQ(r.answer.outcome, Outcome::kApproved);
  EXPECT_EQ(r.answer.approval, "948498232196");
  EXPECT_EQ(r.answer.text, "Перевод исполнен");
  EXPECT_EQ(r.answer.at_ms, 1665414462047);
  // The tables' spelling: OrderStatus, an Integer.
  const Read t = read(200, R"({"errorCode":"0","OrderStatus":2,"operationList":[{"refNum":"1"}]})");
  EXPECT_EQ(t.answer.outcome, Outcome::kApproved);
  EXPECT_EQ(t.answer.at_ms, kNowMs);  // no operationDate: the time it was read
}

TEST(BerekeUpstream, Status6IsDeclinedWithTheOperationsCodeAndText) {
  const Read r = read(200, R"({"errorCode":"0","errorMessage":"Отказ эмитента",
      "orderStatus":"6","operationList":[{"resultCode":1,
      "resultCodeDescription":"Отказ эмитента","operationDate":1665414462047}]})");
  ASSERT_EQ(r.reading, Reading::kAnswer);
  EXPECT_EQ(r.answer.outcome, Outcome::kDeclined);
  EXPECT_EQ(r.answer.code, "1");
  EXPECT_EQ(r.answer.text, "Отказ эмитента");
  // Declined before any card operation (the module's balance, an expired session): its message.
  const Read b = read(200, R"({"errorCode":"0","errorMessage":"Недостаточно средств на балансе",
      "orderStatus":"6"})");
  EXPECT_EQ(b.answer.outcome, Outcome::kDeclined);
  EXPECT_EQ(b.answer.text, "Недостаточно средств на балансе");
}

TEST(BerekeUpstream, TheOtherStatusesAreProcessingOrDeclined) {
  for (const char* status : {"0", "1", "5"}) {
    const Read r = read(200, std::string(R"({"errorCode":"0","orderStatus":")") + status + "\"}");
    EXPECT_EQ(r.answer.outcome, Outcome::kProcessing) << status;
  }
  for (const char* status : {"3", "4"}) {
    const Read r = read(200, std::string(R"({"errorCode":"0","orderStatus":")") + status + "\"}");
    EXPECT_EQ(r.answer.outcome, Outcome::kDeclined) << status;
    EXPECT_EQ(r.answer.code, status);
  }
}

TEST(BerekeUpstream, AnAnswerItCannotReadIsAFailure) {
  for (std::string_view body :
       {R"({"errorCode":"0","orderStatus":"9"})",                               // no such status
        R"({"errorCode":"0"})",                                                 // none
        R"({"errorCode":"0","orderStatus":"2","orderNumber":"someone_else"})",  // not ours
        "<html>Bad Gateway</html>", ""}) {
    EXPECT_EQ(read(200, body).reading, Reading::kFailed) << body;
  }
}

TEST(BerekeUpstream, TheCardsOwnRefusalsAreDeclinesWithTheModulesCode) {
  struct Row {
    int status;
    const char* code;
    const char* message;
  };
  for (const Row& row : {
           Row{502, "204", "Cannot find any bin range in db for 499999"},
           Row{502, "204", "Unsupported pan"},
           Row{502, "400", "Invalid request: bin is empty or is not numeric"},
           Row{502, "98", "Mrbin can't find this card"},
           Row{400, "98", "Сard affiliation does not match required pattern"},  // Cyrillic С
           Row{400, "98", "Currency does not match required pattern"},
           Row{502, "99", "3DS authorization was requested but is not supported in API calls"},
       }) {
    const Read r = error(row.status, row.code, row.message);
    ASSERT_EQ(r.reading, Reading::kAnswer) << row.message;
    EXPECT_EQ(r.answer.outcome, Outcome::kDeclined) << row.message;
    EXPECT_EQ(r.answer.code, row.code);
    EXPECT_EQ(r.answer.text, row.message);
  }
}

TEST(BerekeUpstream, RefusalsOfOurOwnRequestAreRefused) {
  for (const auto& [status, code, message] : std::vector<std::tuple<int, const char*, const char*>>{
           {400, "98", "orderNumber is а required parameter"},
           {400, "98", "orderNumber does not match required pattern ^[0-9]+$"},
           {400, "98", "Errors while parsing incoming request: X is not set for method Y"},
           {400, "98", "Invalid request"},
           {400, "98", "No order identification provided to find order in database"},
           {400, "98", "userName and password are mandatory fields"},
           {400, "98", "Payout config error: debit method is incorrect for specified payout type"},
           {400, "98",
            "Source is not specified or is incorrect compared to configured debit tools"},
           {401, "90", "User not authenticated"},
           {429, "90", "Too many failed authentication attempts: retry in 2 s"},
           {500, "99", "No merchant settings available"},
           {500, "99", "Failed to parse incoming request for PerformPayoutRequest"},
       }) {
    EXPECT_EQ(error(status, code, message).reading, Reading::kRefused) << message;
  }
  EXPECT_EQ(read(404, "Not Found").reading, Reading::kRefused);  // no such method: our base URL
}

TEST(BerekeUpstream, GatewayFailuresAndTimeoutsLeaveTheOutcomeUnknown) {
  for (const auto& [status, code, message] : std::vector<std::tuple<int, const char*, const char*>>{
           {504, "91", "Timeout when requesting sandbox-card-rail"},
           {504, "91", "Timeout when requesting payout-store"},
           {500, "99", "There was an error getting gateway parameters"},
           {502, "99", "Failed to call hessian method: credit"},
           {502, "99", "Error calling rest method payouts"},
           {502, "99", "Rest response was unsuccessfull"},
           {502, "99", "Unable to get card data for specified bindingId"},  // we send no binding
       }) {
    EXPECT_EQ(error(status, code, message).reading, Reading::kFailed) << message;
  }
  EXPECT_EQ(read(503, "").reading, Reading::kFailed);
}

TEST(BerekeUpstream, NotFoundAndATakenOrderNumberAreTheirOwnReadings) {
  EXPECT_EQ(
      error(400, "98", "Order not found in payout proxy. Check orderId or orderNumber").reading,
      Reading::kOrderNotFound);
  EXPECT_EQ(error(400, "1", "Order with this number was already processed").reading,
            Reading::kOrderExists);
}

TEST(BerekeUpstream, TheSummaryForTheLogNeverHoldsACardNumber) {
  const Read r = error(502, "204", "Unsupported pan 4111111111111111");
  EXPECT_EQ(r.summary, "HTTP 502 204: Unsupported pan ****1111");
}

TEST(QuietPeriod, NotFoundIsConclusiveOnlyLongEnoughAfterTheLastSendAndTheStart) {
  testing::ManualClock clock;
  QuietPeriod quiet(1000, clock);
  EXPECT_FALSE(quiet.passed("a"));  // an earlier process may have sent it just before
  clock.advance(1000);
  EXPECT_TRUE(quiet.passed("a"));
  quiet.sent("a");
  clock.advance(999);
  EXPECT_FALSE(quiet.passed("a"));
  EXPECT_TRUE(quiet.passed("b"));
  clock.advance(1);
  EXPECT_TRUE(quiet.passed("a"));
}

// Answers of the rail that need no network: nothing listens on the URL's port.
Answer credit_now(BerekeUpstreamRail& rail, CreditOrder o) {
  std::promise<Answer> answer;
  rail.credit(std::move(o), [&answer](Answer a) { answer.set_value(std::move(a)); });
  return answer.get_future().get();
}

BerekeUpstreamOptions unreachable() {
  BerekeUpstreamOptions o = options();
  o.base_url = "http://127.0.0.1:9/payouts/api/v2";  // discard: nothing listens
  o.plain_http = PlainHttp::kAllowedInSandbox;
  return o;
}

TEST(BerekeUpstreamRail, CardChecksAndOtherCurrenciesAreDeclinedBeforeSending) {
  testing::ManualClock clock;
  BerekeUpstreamRail rail(unreachable(), clock);
  CreditOrder check = order();
  check.verification = true;
  const Answer a = credit_now(rail, check);
  EXPECT_EQ(a.outcome, Outcome::kDeclined);
  EXPECT_NE(a.text.find("not supported by this rail"), std::string::npos) << a.text;
  CreditOrder euros = order();
  euros.amount = {1234, *Currency::from_code("EUR")};
  const Answer e = credit_now(rail, euros);
  EXPECT_EQ(e.outcome, Outcome::kDeclined);
  EXPECT_NE(e.text.find("EUR"), std::string::npos) << e.text;
  EXPECT_EQ(rail.stats().latency[0], 0);  // nothing left
}

TEST(BerekeUpstreamRail, AModuleThatCannotBeReachedIsNotSent) {
  testing::ManualClock clock;
  BerekeUpstreamRail rail(unreachable(), clock);
  EXPECT_EQ(credit_now(rail, order()).outcome, Outcome::kNotSent);
}

TEST(BerekeUpstreamRail, RefusesPlainHttpUnlessAllowedAndCredentialsOverTheModulesLimits) {
  testing::ManualClock clock;
  BerekeUpstreamOptions plain = unreachable();
  plain.plain_http = PlainHttp::kRefused;
  EXPECT_THROW(BerekeUpstreamRail(plain, clock), std::runtime_error);
  BerekeUpstreamOptions long_password = options();
  long_password.password = std::string(31, 'p');
  EXPECT_THROW(BerekeUpstreamRail(long_password, clock), std::runtime_error);
  BerekeUpstreamOptions no_user = options();
  no_user.user_name.clear();
  EXPECT_THROW(BerekeUpstreamRail(no_user, clock), std::runtime_error);
}

// The config's [[rails]] kind "bereke" (src/app/rails_config.cc).
std::string rail_config(bool sandbox, std::string_view base_url, std::string_view password_keys) {
  // Outside the sandbox the admin API needs a long token, or to be off; the server an https
  // public origin, and plain HTTP only behind a proxy.
  return std::string(sandbox ? "sandbox = true\n"
                             : "sandbox = false\n[admin]\nenabled = false\n[server]\n"
                               "public_url = \"https://payouts.example\"\n"
                               "plain_http_behind_proxy = true\n") +
         "[[rails]]\nname = \"bank\"\nkind = \"bereke\"\nbase_url = \"" + std::string(base_url) +
         "\"\nuser_name = \"partner_login\"\n" + std::string(password_keys) + "\n";
}

std::string refusal(const std::string& text) {
  try {
    app::parse_config(text, "/etc/payoutd/test.toml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

std::string password_file(std::string_view content) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("bereke-upstream-password-" + std::to_string(::getpid()));
  std::ofstream(path) << content;
  return path.string();
}

TEST(BerekeUpstreamConfig, ThePasswordComesFromAFileOrTheEnvironmentNeverTheConfig) {
  const std::string file = password_file("from-the-file\n");
  const app::Config config =
      app::parse_config(rail_config(true, "https://bank.example/payouts/api/v2/",
                                    "password_file = \"" + file + "\"\ntimeout_ms = 7000"),
                        "test.toml");
  std::filesystem::remove(file);
  ASSERT_EQ(config.rails.size(), 1U);
  const app::RailConfig& rail = config.rails.front();
  EXPECT_EQ(rail.kind, "bereke");
  EXPECT_EQ(rail.bereke.name, "bank");
  EXPECT_EQ(rail.bereke.base_url, "https://bank.example/payouts/api/v2");
  EXPECT_EQ(rail.bereke.password, "from-the-file");  // its one trailing newline dropped
  EXPECT_EQ(rail.bereke.plain_http, PlainHttp::kRefused);
  EXPECT_EQ(rail.timeout_ms(), 7000);

  ASSERT_EQ(::setenv("PAYOUTD_TEST_UPSTREAM_PASSWORD", "from-the-environment", 1), 0);
  const app::Config env =
      app::parse_config(rail_config(true, "https://bank.example/v2",
                                    "password_env = \"PAYOUTD_TEST_UPSTREAM_PASSWORD\""),
                        "test.toml");
  EXPECT_EQ(env.rails.front().bereke.password, "from-the-environment");

  EXPECT_NE(refusal(rail_config(true, "https://bank.example/v2", "password = \"in-the-text\""))
                .find("rails[0].password: must not be in the config"),
            std::string::npos);
  EXPECT_NE(
      refusal(rail_config(true, "https://bank.example/v2", "password_env = \"PAYOUTD_UNSET_X\""))
          .find("rails[0].password_env"),
      std::string::npos);
  EXPECT_NE(
      refusal(rail_config(true, "https://bank.example/v2", "")).find("rails[0].password_file"),
      std::string::npos);
}

TEST(BerekeUpstreamConfig, PlainHttpOnlyInTheSandbox) {
  ASSERT_EQ(::setenv("PAYOUTD_TEST_UPSTREAM_PASSWORD", "pw", 1), 0);
  const std::string keys = "password_env = \"PAYOUTD_TEST_UPSTREAM_PASSWORD\"";
  const app::Config config =
      app::parse_config(rail_config(true, "http://127.0.0.1:8080/payouts/api/v2", keys), "t.toml");
  EXPECT_EQ(config.rails.front().bereke.plain_http, PlainHttp::kAllowedInSandbox);
  const std::string outside = refusal(rail_config(false, "http://127.0.0.1:8080/v2", keys));
  EXPECT_NE(outside.find("rails[0].base_url: must be an https:// URL outside the sandbox"),
            std::string::npos)
      << outside;
  EXPECT_NE(refusal(rail_config(true, "ftp://bank.example/v2", keys)).find("rails[0].base_url"),
            std::string::npos);
}

}  // namespace
}  // namespace payoutd::rails
