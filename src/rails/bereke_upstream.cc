#include "rails/bereke_upstream.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <stdexcept>

#include "rails/connector.h"
#include "rails/quiet_period.h"

namespace payoutd::rails {

namespace {

using Call = Connector::Call;
using bereke_upstream::Read;
using bereke_upstream::Reading;

constexpr std::size_t kCredentialCharsMax = 30;  // userName, password: String [30]

Answer not_sent(std::string text) { return Answer{Outcome::kNotSent, {}, {}, std::move(text), 0}; }
Answer unknown(std::string text) { return Answer{Outcome::kUnknown, {}, {}, std::move(text), 0}; }
Answer declined(std::string text) { return Answer{Outcome::kDeclined, {}, {}, std::move(text), 0}; }

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("bereke upstream: ") + what);
}

ConnectorSettings settings_of(const BerekeUpstreamOptions& o) {
  ConnectorSettings s = connector_settings(o, "bereke-up");
  s.client.plain_http = o.plain_http;
  return s;
}

// Why the connector cannot send an order at all: the module pays tenge to cards, nothing else.
std::string unsupported(const CreditOrder& order) {
  if (order.verification) {
    return "card checks are not supported by this rail (the Payouts Module has no API for them)";
  }
  if (order.amount.currency.code() != "KZT") {
    return "payouts in " + std::string(order.amount.currency.code()) +
           " are not supported by this rail (the Payouts Module pays KZT only)";
  }
  return {};
}

struct BerekeUpstream final : Connector {
  BerekeUpstreamOptions options;
  std::string payout_url, status_url;

  BerekeUpstream(BerekeUpstreamOptions o, const Clock& c)
      : Connector(settings_of(o), c), options(std::move(o)) {
    const bool plain = options.plain_http == PlainHttp::kAllowedInSandbox;
    require(options.base_url.starts_with("https://") ||
                (plain && options.base_url.starts_with("http://")),
            "base_url must be an https URL");
    require(!options.user_name.empty() && options.user_name.size() <= kCredentialCharsMax,
            "user_name must be 1 to 30 characters");
    require(!options.password.empty() && options.password.size() <= kCredentialCharsMax,
            "the password must be 1 to 30 characters");
    std::string base = options.base_url;
    while (base.ends_with('/')) base.pop_back();
    payout_url = base + "/performPayout.do";
    status_url = base + "/getPayoutStatus.do";
  }

  HttpsRequest request(const std::string& url, std::string body) const {
    HttpsRequest r;
    r.method = "POST";
    r.url = url;
    r.body = std::move(body);
    r.headers = {"Content-Type: application/json", "Accept: application/json"};
    return r;
  }

  void credit(CreditOrder order, AnswerCallback done) override {
    if (stopping) return done(unknown("the upstream Bereke connector is stopped"));
    if (std::string why = unsupported(order); !why.empty()) {
      return answer_now(Call::kCredit, std::move(done), declined(std::move(why)));
    }
    std::string problem;
    std::string body = bereke_upstream::payout_body(order, options, &problem);
    if (body.empty()) {
      spdlog::error("bereke upstream: ALERT: credit {} not sent: {}", order.reference, problem);
      return answer_now(Call::kCredit, std::move(done), not_sent(problem));
    }
    if (!breaker.allow()) {
      return answer_now(Call::kCredit, std::move(done),
                        not_sent("the circuit to the upstream bank is open: nothing was sent"));
    }
    client.submit(request(payout_url, std::move(body)),
                  [this, reference = std::move(order.reference),
                   done = std::move(done)](const HttpsResponse& response) mutable {
                    if (response.sent) quiet.sent(reference);
                    on_answer(reference, Call::kCredit, std::move(done), response);
                  });
  }

  void status(std::string reference, Program /*program*/, AnswerCallback done) override {
    if (stopping) return done(unknown("the upstream Bereke connector is stopped"));
    if (bereke_upstream::order_number(reference).empty()) {
      return answer_now(Call::kStatus, std::move(done),
                        not_sent("the reference gives no orderNumber the module takes"));
    }
    if (!breaker.allow()) {
      return answer_now(Call::kStatus, std::move(done),
                        not_sent("the circuit to the upstream bank is open: nothing was asked"));
    }
    ask(std::move(reference), Call::kStatus, std::move(done));
  }

  // getPayoutStatus.do: the order the module has under the reference's orderNumber.
  void ask(std::string reference, Call call, AnswerCallback done) {
    const std::string number = bereke_upstream::order_number(reference);
    client.submit(request(status_url, bereke_upstream::status_body(number, options)),
                  [this, call, reference = std::move(reference),
                   done = std::move(done)](const HttpsResponse& response) mutable {
                    on_answer(reference, call, std::move(done), response);
                  });
  }

  // A request that got no HTTP answer: not sent, or sent and unanswered.
  Answer unanswered(const HttpsResponse& r) {
    if (stopping) return unknown("the upstream Bereke connector is stopped");  // rail.h: kUnknown
    breaker.record(false);
    return r.sent ? unknown("no answer from the upstream bank: " + r.error)
                  : not_sent("cannot reach the upstream bank (" + r.error + "): nothing was sent");
  }

  void on_answer(const std::string& reference, Call call, AnswerCallback done,
                 const HttpsResponse& r) {
    if (!r.completed) return finish(call, done, unanswered(r), r);
    const std::string number = bereke_upstream::order_number(reference);
    Read read = bereke_upstream::read_answer(r.status, r.body, number, clock.now_ms());
    // The module (or a gateway behind it) failing is the breaker's failure; any other answer,
    // the card's refusals included, shows the module working.
    breaker.record(!(read.reading == Reading::kFailed && r.status >= 500));
    switch (read.reading) {
      case Reading::kAnswer:
        return finish(call, done, std::move(read.answer), r);
      case Reading::kOrderNotFound:
        return finish(call, done, not_found(reference, call), r);
      case Reading::kRefused:
        alert(call, reference, read.summary);
        return finish(call, done,
                      not_sent("the upstream bank refused the request: " + read.summary), r);
      case Reading::kOrderExists:
        if (call == Call::kCredit) {
          alert(call, reference, read.summary);
          return ask(reference, call, std::move(done));  // what became of it is the answer
        }
        break;
      case Reading::kFailed:
        break;
    }
    finish(call, done, unknown("the upstream bank's answer says nothing final: " + read.summary),
           r);
  }

  // "Order not found": conclusive only after the quiet period (docs/rails.md); never an answer to
  // a payout itself, which the module either records or refuses.
  Answer not_found(const std::string& reference, Call call) const {
    if (call == Call::kStatus && quiet.passed(reference)) {
      return Answer{Outcome::kNotFound, {}, {}, "the upstream bank has no such order", 0};
    }
    return unknown("the upstream bank has no such order yet: asked too soon after a send");
  }

  // The module refused our own request: configuration (credentials, the partnership) or a bug.
  static void alert(Call call, const std::string& reference, const std::string& summary) {
    spdlog::error(
        "bereke upstream: ALERT: the upstream bank refused our {} for {} ({}): check the "
        "connector's configuration",
        call == Call::kCredit ? "performPayout" : "getPayoutStatus", reference, summary);
  }
};

}  // namespace

BerekeUpstreamRail::BerekeUpstreamRail(BerekeUpstreamOptions options, const Clock& clock)
    : NetworkRail(std::make_unique<BerekeUpstream>(std::move(options), clock)) {}

}  // namespace payoutd::rails
