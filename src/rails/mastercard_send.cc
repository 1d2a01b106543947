#include "rails/mastercard_send.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <stdexcept>

#include "rails/connector.h"
#include "rails/https_client.h"
#include "rails/oauth1.h"
#include "rails/quiet_period.h"

namespace payoutd::rails {

namespace {

using Call = Connector::Call;

Answer not_sent(std::string text) { return Answer{Outcome::kNotSent, {}, {}, std::move(text), 0}; }
Answer unknown(std::string text) { return Answer{Outcome::kUnknown, {}, {}, std::move(text), 0}; }

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("mastercard-send: ") + what);
}

struct MastercardSend final : Connector {
  MastercardSendOptions options;
  std::unique_ptr<OAuth1Signer> signer;
  std::string partner_url;  // {base}/v1/partners/{partner}

  MastercardSend(MastercardSendOptions o, const Clock& c)
      : Connector(connector_settings(o, "mastercard-send"), c), options(std::move(o)) {
    require(options.base_url.starts_with("https://"), "base_url must be an https URL");
    require(!options.partner_id.empty(), "partner_id is required");
    require(!options.consumer_key.empty(), "consumer_key is required");
    require(!options.sender_account_uri.empty(), "sender_account_uri is required");
    // Mastercard: "If scheme chosen is raw, then funding_source must be other than CREDIT, DEBIT
    // or PREPAID" (the Disbursements API's sender_account_uri).
    const std::string& funding = options.disbursement_funding_source;
    require(!options.sender_account_uri.starts_with("raw:") ||
                (funding != "CREDIT" && funding != "DEBIT" && funding != "PREPAID"),
            "a raw: sender_account_uri needs a disbursement_funding_source other than CREDIT, "
            "DEBIT or PREPAID");
    std::string error;
    signer = OAuth1Signer::from_pem_file(options.signing_key_file, options.consumer_key, &error);
    if (!signer) {
      client.stop();
      throw std::runtime_error("mastercard-send: " + error);
    }
    std::string base = options.base_url;
    while (base.ends_with('/')) base.pop_back();
    partner_url = base + "/v1/partners/" + options.partner_id;
  }

  HttpsRequest signed_request(std::string method, std::string url, std::string body) {
    HttpsRequest r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.body = std::move(body);
    r.headers = {"Accept: application/json",
                 "Authorization: " + signer->authorization(r.method, r.url, r.body)};
    if (r.method == "POST") r.headers.emplace_back("Content-Type: application/json");
    r.response_headers = {"correlation-id"};
    return r;
  }

  // {base}/v1/partners/{partner}/transfers or …/disbursements: the program's API.
  std::string collection_url(Program program) const {
    return partner_url + "/" + std::string(mastercard::api_of(program).collection);
  }

  // Mastercard refused our own request: configuration (keys, partner id) or a bug of ours.
  void alert(std::string_view what, const std::string& reference, const HttpsResponse& r) {
    std::string correlation;
    for (const auto& header : r.headers) correlation = header.second;
    spdlog::error(
        "mastercard-send: ALERT: Mastercard refused our {} for {} with HTTP {} ({}), "
        "correlation-id {}: check the connector's configuration",
        what, reference, r.status, mastercard::errors_summary(r.body), correlation);
  }

  void credit(CreditOrder order, AnswerCallback done) override {
    if (stopping) return done(unknown("the Mastercard connector is stopped"));
    if (order.verification) {
      // A payment credits the card and cannot take the amount back: a card check is
      // declined without sending anything (57: not permitted to the cardholder).
      return answer_now(Call::kCredit, std::move(done),
                        Answer{Outcome::kDeclined,
                               {},
                               "57",
                               "Mastercard Send cannot check a card without crediting it",
                               0});
    }
    std::string problem;
    std::string body = mastercard::payment_body(order, options, &problem);
    if (body.empty()) {
      // The order lacks what Mastercard requires: no send of it can ever succeed, and none left,
      // so it is declined (ISO 8583 "30", format error) instead of waiting for ever.
      spdlog::warn("mastercard-send: credit {} declined before sending: {}", order.reference,
                   problem);
      return answer_now(Call::kCredit, std::move(done),
                        Answer{Outcome::kDeclined, {}, "30", std::move(problem), 0});
    }
    if (!breaker.allow()) {
      return answer_now(Call::kCredit, std::move(done),
                        not_sent("the circuit to Mastercard is open: nothing was sent"));
    }
    // Signed on the client's thread: an RSA signature costs some 0.3 ms, which the caller (the
    // engine's thread that made the reservation durable) must not spend.
    client.post([this, body = std::move(body), reference = std::move(order.reference),
                 program = order.program, done = std::move(done)]() mutable {
      HttpsRequest r = signed_request(
          "POST", collection_url(program) + "/payment?decline_details=true", std::move(body));
      client.submit(std::move(r), [this, reference = std::move(reference), program,
                                   done = std::move(done)](const HttpsResponse& response) mutable {
        if (response.sent) quiet.sent(reference);
        on_credit_answer(reference, program, std::move(done), response);
      });
    });
  }

  // An answer nobody can read as an answer of Mastercard's: the breaker's failure.
  Answer unanswered(const HttpsResponse& r) {
    if (stopping) return unknown("the Mastercard connector is stopped");  // rail.h: kUnknown
    breaker.record(false);
    if (!r.completed) {
      return r.sent ? unknown("no answer from Mastercard: " + r.error)
                    : not_sent("cannot reach Mastercard (" + r.error + "): nothing was sent");
    }
    return unknown("Mastercard answered HTTP " + std::to_string(r.status));
  }

  bool refused_our_request(const HttpsResponse& r) {
    return r.completed && (r.status == 400 || r.status == 401 || r.status == 403);
  }

  void on_credit_answer(const std::string& reference, Program program, AnswerCallback done,
                        const HttpsResponse& r) {
    if (!r.completed || r.status == 429 || r.status >= 500) {
      return finish(Call::kCredit, done, unanswered(r), r);
    }
    breaker.record(true);
    if (refused_our_request(r)) {
      alert(std::string(mastercard::api_of(program).request), reference, r);
      return finish(Call::kCredit, done, not_sent("Mastercard refused the request"), r);
    }
    if (r.status == 409) {  // the reference exists: what became of it is the answer
      return retrieve(reference, program, Call::kCredit, std::move(done));
    }
    if (r.status == 402) {  // a decline without details (decline_details was not honoured)
      Answer a{Outcome::kDeclined, {}, {}, mastercard::errors_summary(r.body), clock.now_ms()};
      return finish(Call::kCredit, done, std::move(a), r);
    }
    std::unique_ptr<Answer> a;
    if (r.status >= 200 && r.status < 300) {
      a = mastercard::answer_of(r.body, program, clock.now_ms());
    }
    if (!a) return finish(Call::kCredit, done, unknown(unreadable(r, program)), r);
    finish(Call::kCredit, done, std::move(*a), r);
  }

  static std::string unreadable(const HttpsResponse& r, Program program) {
    return "Mastercard's answer (HTTP " + std::to_string(r.status) + ") is not a " +
           std::string(mastercard::api_of(program).resource);
  }

  void status(std::string reference, Program program, AnswerCallback done) override {
    if (stopping) return done(unknown("the Mastercard connector is stopped"));
    if (!mastercard::reference_fits(reference)) {
      return answer_now(Call::kStatus, std::move(done),
                        not_sent("the reference does not fit Mastercard's payment references"));
    }
    if (!breaker.allow()) {
      return answer_now(Call::kStatus, std::move(done),
                        not_sent("the circuit to Mastercard is open: the question was not sent"));
    }
    retrieve(std::move(reference), program, Call::kStatus, std::move(done));
  }

  // GET …/transfers?ref= or …/disbursements?ref=: what Mastercard has under the reference.
  void retrieve(std::string reference, Program program, Call call, AnswerCallback done) {
    client.post([this, call, program, reference = std::move(reference),
                 done = std::move(done)]() mutable {
      HttpsRequest r = signed_request("GET", collection_url(program) + "?ref=" + reference, "");
      client.submit(std::move(r), [this, call, program, reference = std::move(reference),
                                   done = std::move(done)](const HttpsResponse& response) mutable {
        on_retrieval(reference, program, call, std::move(done), response);
      });
    });
  }

  void on_retrieval(const std::string& reference, Program program, Call call, AnswerCallback done,
                    const HttpsResponse& r) {
    if (!r.completed || r.status == 429 || r.status >= 500) {
      return finish(call, done, unanswered(r), r);
    }
    breaker.record(true);
    if (refused_our_request(r)) {
      alert("retrieval", reference, r);
      return finish(call, done, not_sent("Mastercard refused the request"), r);
    }
    if (r.status == 404) {
      Answer a = quiet.passed(reference)
                     ? Answer{Outcome::kNotFound, {}, {}, "Mastercard has no such payment", 0}
                     : unknown("Mastercard has no such payment yet: asked too soon after a send");
      return finish(call, done, std::move(a), r);
    }
    std::unique_ptr<Answer> a;
    if (r.status == 200) a = mastercard::answer_of(r.body, program, clock.now_ms());
    if (!a) return finish(call, done, unknown(unreadable(r, program)), r);
    finish(call, done, std::move(*a), r);
  }
};

}  // namespace

MastercardSendRail::MastercardSendRail(MastercardSendOptions options, const Clock& clock)
    : NetworkRail(std::make_unique<MastercardSend>(std::move(options), clock)) {}

}  // namespace payoutd::rails
