#include "rails/visa_direct.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "core/json.h"
#include "rails/connector.h"
#include "rails/https_client.h"
#include "rails/jwe.h"

namespace payoutd::rails {

namespace {

constexpr std::size_t kReferencesMax = 100000;  // references remembered for the quiet period
constexpr std::string_view kPushPath = "/visadirect/fundstransfer/v1/pushfundstransactions";
constexpr std::string_view kQueryPath = "/visadirect/v1/transactionquery";

using Call = Connector::Call;

Answer not_sent(std::string text) { return Answer{Outcome::kNotSent, {}, {}, std::move(text), 0}; }
Answer unknown(std::string text) { return Answer{Outcome::kUnknown, {}, {}, std::move(text), 0}; }
Answer processing(std::string text) {
  return Answer{Outcome::kProcessing, {}, {}, std::move(text), 0};
}

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("visa-direct: ") + what);
}

bool digits(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string password_of(const VisaDirectOptions& o) {
  if (o.password_file.empty()) return o.password;
  std::ifstream in(o.password_file);
  require(in.good(), "cannot read password_file");
  std::stringstream text;
  text << in.rdbuf();
  std::string password = text.str();
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  return password;
}

void check(const VisaDirectOptions& o) {
  require(o.base_url.starts_with("https://"), "base_url must be an https URL");
  require(!o.client_cert_file.empty() && !o.client_key_file.empty(),
          "client_cert_file and client_key_file are required (two-way TLS)");
  require(!o.user_id.empty(), "user_id is required");
  require(
      o.mle_key_id.empty() || (!o.mle_server_cert_file.empty() && !o.mle_private_key_file.empty()),
      "message level encryption needs mle_server_cert_file and mle_private_key_file");
  require(digits(o.acquiring_bin, 6, 11), "acquiring_bin must be 6 to 11 digits");
  require(digits(o.acquirer_country_code, 3, 3), "acquirer_country_code must be 3 digits");
  require(o.business_application_id.size() == 2, "business_application_id must be 2 letters");
  require(!o.card_acceptor_name.empty() && o.card_acceptor_name.size() <= 25,
          "card_acceptor_name must be 1 to 25 characters");
  require(!o.card_acceptor_terminal_id.empty() && o.card_acceptor_terminal_id.size() <= 8,
          "card_acceptor_terminal_id must be 1 to 8 characters");
  require(!o.card_acceptor_id_code.empty() && o.card_acceptor_id_code.size() <= 15,
          "card_acceptor_id_code must be 1 to 15 characters");
  require(o.card_acceptor_country.size() == 3, "card_acceptor_country must be ISO alpha-3");
  require(o.transaction_timeout_ms > 0, "transaction_timeout_ms must be above 0");
}

// Checks the options first: a connector that cannot work is refused at start.
ConnectorSettings settings_of(const VisaDirectOptions& o) {
  check(o);
  ConnectorSettings s = connector_settings(o, "visa-direct");
  s.client.client_cert_file = o.client_cert_file;
  s.client.client_key_file = o.client_key_file;
  s.client.basic_user = o.user_id;
  s.client.basic_password = password_of(o);
  return s;
}

// The last path segment of a Location header (a 303's status identifier).
std::string location_identifier(const HttpsResponse& r) {
  for (const auto& [name, value] : r.headers) {
    if (name != "Location") continue;
    const std::size_t slash = value.rfind('/');
    std::string document;  // read as a body says it, with the same checks
    json::Writer w(document);
    w.begin_object().key("statusIdentifier").string(value.substr(slash + 1)).end_object();
    return visa::status_identifier_of(document);
  }
  return {};
}

struct VisaDirect final : Connector {
  // The status identifier of a 202 or 303 (valid 24 hours at Visa), and when it came.
  struct StatusId {
    std::string id;
    std::int64_t at_ms = 0;
  };

  VisaDirectOptions options;
  std::string base;                           // base_url without a trailing '/'
  std::unique_ptr<JweKey> mle_visa, mle_own;  // MLE on: Visa's public key and our private one
  std::mutex mutex;                           // status_ids
  std::unordered_map<std::string, StatusId> status_ids;  // by reference

  VisaDirect(VisaDirectOptions o, const Clock& c)
      : Connector(settings_of(o), c), options(std::move(o)) {
    base = options.base_url;
    while (base.ends_with('/')) base.pop_back();
    options.password.clear();  // the client holds it; nothing else needs it
    if (!options.mle_key_id.empty()) {
      std::string error;
      mle_visa = JweKey::public_from_pem_file(options.mle_server_cert_file, &error);
      if (mle_visa) mle_own = JweKey::private_from_pem_file(options.mle_private_key_file, &error);
      if (!mle_own) {
        client.stop();
        throw std::runtime_error("visa-direct: message level encryption: " + error);
      }
    }
  }

  // With MLE, a body is sent as {"encData": <JWE sealed to Visa>}.
  std::string sealed(std::string body) {
    if (!mle_visa || body.empty()) return body;
    std::string error;
    const std::optional<std::string> jwe =
        jwe_seal(body, *mle_visa, options.mle_key_id, clock.now_ms(), &error);
    // Sealing fails only when OpenSSL cannot work at all; Visa then refuses the clear body
    // (an operator alert), which is still never a payment.
    if (!jwe) {
      spdlog::error("visa-direct: cannot seal a request: {}", error);
      return body;
    }
    std::string out;
    json::Writer w(out);
    w.begin_object().key("encData").string(*jwe).end_object();
    return out;
  }

  // With MLE, Visa's {"encData": <JWE>} answers are opened in place; one that does not open
  // becomes an empty body (unreadable: the outcome stays unknown and is asked again).
  void open(HttpsResponse& r) {
    if (!mle_own || !r.completed || r.body.empty()) return;
    const json::ParseResult parsed = json::parse(r.body);
    const json::Value* enc = parsed.value ? parsed.value->find("encData") : nullptr;
    if (!enc || !enc->is_string()) return;  // an error answer Visa did not encrypt
    std::string error;
    std::optional<std::string> plain = jwe_open(enc->as_string(), *mle_own, &error);
    if (!plain) spdlog::error("visa-direct: an answer does not open: {}", error);
    r.body = plain.value_or("");
  }

  // Sends `r` and hands `then` the answer, opened (MLE).
  void send(HttpsRequest r, std::function<void(HttpsResponse)> then) {
    client.submit(std::move(r), [this, then = std::move(then)](HttpsResponse response) {
      open(response);
      then(std::move(response));
    });
  }

  HttpsRequest request(std::string method, std::string url, std::string body) {
    HttpsRequest r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.body = sealed(std::move(body));
    r.headers = {"Accept: application/json"};
    if (!options.mle_key_id.empty()) r.headers.emplace_back("keyId: " + options.mle_key_id);
    if (r.method == "POST") {
      r.headers.emplace_back("Content-Type: application/json");
      r.headers.emplace_back("X-Transaction-Timeout-MS: " +
                             std::to_string(options.transaction_timeout_ms));
    }
    r.response_headers = {"Location", "X-CORRELATION-ID"};
    return r;
  }

  // --- what this process remembers of its pushes -------------------------------------------

  void noted_status_id(const std::string& reference, std::string id) {
    std::lock_guard lock(mutex);
    if (status_ids.size() >= kReferencesMax) prune();
    status_ids[reference] = {std::move(id), clock.now_ms()};
  }

  std::string status_id(const std::string& reference) {
    std::lock_guard lock(mutex);
    auto it = status_ids.find(reference);
    return it == status_ids.end() ? std::string() : it->second.id;
  }

  void forget_status_id(const std::string& reference) {
    std::lock_guard lock(mutex);
    status_ids.erase(reference);
  }

  // Status identifiers are valid 24 hours; past them the Transaction Query finds the rest.
  void prune() {
    const std::int64_t before = clock.now_ms() - 86'400'000;
    std::erase_if(status_ids, [before](const auto& kv) { return kv.second.at_ms < before; });
  }

  // Visa refused our own request: configuration (certificate, credentials, enrolment) or a bug.
  void alert(std::string_view what, const std::string& reference, const HttpsResponse& r) {
    std::string correlation;
    for (const auto& [header, value] : r.headers) {
      if (header == "X-CORRELATION-ID") correlation = value;
    }
    spdlog::error(
        "visa-direct: ALERT: Visa refused our {} for {} with HTTP {} ({}), correlation id {}: "
        "check the connector's configuration",
        what, reference, r.status, visa::error_summary(r.body), correlation);
  }

  // An answer nobody can read as Visa's: the breaker's failure.
  Answer unanswered(const HttpsResponse& r) {
    if (stopping) return unknown("the Visa connector is stopped");  // rail.h: kUnknown
    breaker.record(false);
    if (!r.completed) {
      return r.sent ? unknown("no answer from Visa: " + r.error)
                    : not_sent("cannot reach Visa (" + r.error + "): nothing was sent");
    }
    return unknown("Visa answered HTTP " + std::to_string(r.status));
  }

  static bool failed(const HttpsResponse& r) {
    return !r.completed || r.status == 429 || r.status >= 500;
  }

  static bool refused_our_request(const HttpsResponse& r) {
    return r.status == 400 || r.status == 401 || r.status == 403;
  }

  static std::string unreadable(const HttpsResponse& r) {
    return "Visa's answer (HTTP " + std::to_string(r.status) + ") cannot be read";
  }

  // --- credit ---------------------------------------------------------------------------------

  void credit(CreditOrder order, AnswerCallback done) override {
    if (stopping) return done(unknown("the Visa connector is stopped"));
    if (order.verification) {
      return answer_now(Call::kCredit, std::move(done),
                        Answer{Outcome::kDeclined,
                               {},
                               "57",
                               "a Visa Direct push credits a card; it cannot check one",
                               clock.now_ms()});
    }
    if (std::string fault = visa::order_fault(order); !fault.empty()) {
      // No send of this order can succeed: declined (ISO 8583 "30", format error) rather than
      // left waiting for ever.
      spdlog::warn("visa-direct: credit {} declined before sending: {}", order.reference, fault);
      return answer_now(Call::kCredit, std::move(done),
                        Answer{Outcome::kDeclined, {}, "30", std::move(fault), clock.now_ms()});
    }
    std::string problem;
    std::string body = visa::push_body(order, options, clock.now_ms(), &problem);
    if (body.empty()) {
      spdlog::error("visa-direct: ALERT: credit {} not sent: {}", order.reference, problem);
      return answer_now(Call::kCredit, std::move(done), not_sent(problem));
    }
    if (!breaker.allow()) {
      return answer_now(Call::kCredit, std::move(done),
                        not_sent("the circuit to Visa is open: nothing was sent"));
    }
    if (order.sent_before) {  // never post what Visa may have: look first
      return look(std::move(order.reference), Call::kCredit, std::move(done), std::move(body));
    }
    push(std::move(order.reference), std::move(body), std::move(done));
  }

  void push(std::string reference, std::string body, AnswerCallback done) {
    HttpsRequest r = request("POST", base + std::string(kPushPath), std::move(body));
    send(std::move(r), [this, reference = std::move(reference),
                        done = std::move(done)](const HttpsResponse& response) mutable {
      if (response.sent) quiet.sent(reference);
      on_push_answer(reference, std::move(done), response);
    });
  }

  void on_push_answer(const std::string& reference, AnswerCallback done, const HttpsResponse& r) {
    if (failed(r)) return finish(Call::kCredit, done, unanswered(r), r);
    breaker.record(true);
    if (refused_our_request(r)) {
      alert("push funds transaction", reference, r);
      return finish(Call::kCredit, done, not_sent("Visa refused the request"), r);
    }
    if (r.status == 202 || r.status == 303) {
      return finish(Call::kCredit, done, pending(reference, r), r);
    }
    std::unique_ptr<Answer> a;
    if (r.status == 200) {
      a = visa::push_answer_of(r.body, visa::identifiers_of(reference).rrn, clock.now_ms());
    }
    if (!a) return finish(Call::kCredit, done, unknown(unreadable(r)), r);
    finish(Call::kCredit, done, std::move(*a), r);
  }

  // A 202 (Visa's own timeout) or a 303 (a duplicate of one in progress): its status identifier
  // is kept for status(); without one, the query decides.
  Answer pending(const std::string& reference, const HttpsResponse& r) {
    std::string id = visa::status_identifier_of(r.body);
    if (id.empty()) id = location_identifier(r);
    if (id.empty()) return unknown("Visa answered " + std::to_string(r.status) + " without an id");
    noted_status_id(reference, std::move(id));
    return processing(r.status == 202 ? "Visa has not finished it yet (202)"
                                      : "Visa is still processing the first push (303)");
  }

  // --- status, and looking before a push ------------------------------------------------------

  // Visa's key is the reference's alone, whatever the program.
  void status(std::string reference, Program /*program*/, AnswerCallback done) override {
    if (stopping) return done(unknown("the Visa connector is stopped"));
    if (!breaker.allow()) {
      return answer_now(Call::kStatus, std::move(done),
                        not_sent("the circuit to Visa is open: the question was not sent"));
    }
    look(std::move(reference), Call::kStatus, std::move(done), std::nullopt);
  }

  // What Visa has under the reference: by its status identifier when this process holds one,
  // else by the Transaction Query. With `then_push`, a conclusive "no record" posts it.
  void look(std::string reference, Call call, AnswerCallback done,
            std::optional<std::string> then_push) {
    const std::string id = status_id(reference);
    if (id.empty()) return query(std::move(reference), call, std::move(done), std::move(then_push));
    HttpsRequest r = request("GET", base + std::string(kPushPath) + "/" + id, "");
    send(std::move(r), [this, call, reference = std::move(reference), done = std::move(done),
                        then_push = std::move(then_push)](const HttpsResponse& response) mutable {
      on_status_get(std::move(reference), call, std::move(done), std::move(then_push), response);
    });
  }

  void on_status_get(std::string reference, Call call, AnswerCallback done,
                     std::optional<std::string> then_push, const HttpsResponse& r) {
    if (failed(r)) return finish(call, done, unanswered(r), r);
    breaker.record(true);
    if (r.status == 404) {  // the identifier expired (24 hours): the query still finds it
      forget_status_id(reference);
      return query(std::move(reference), call, std::move(done), std::move(then_push));
    }
    if (refused_our_request(r)) {
      alert("status request", reference, r);
      return finish(call, done, not_sent("Visa refused the request"), r);
    }
    if (r.status == 202 || r.status == 303) {
      return finish(call, done, processing("Visa has not finished it yet"), r);
    }
    std::unique_ptr<Answer> a;
    if (r.status == 200) {
      a = visa::push_answer_of(r.body, visa::identifiers_of(reference).rrn, clock.now_ms());
    }
    if (!a) return finish(call, done, unknown(unreadable(r)), r);
    finish(call, done, std::move(*a), r);
  }

  void query(std::string reference, Call call, AnswerCallback done,
             std::optional<std::string> then_push) {
    const visa::Identifiers ids = visa::identifiers_of(reference);
    HttpsRequest r =
        request("GET",
                base + std::string(kQueryPath) + "?acquiringBIN=" + options.acquiring_bin +
                    "&rrn=" + ids.rrn + "&stan=" + ids.stan,
                "");
    send(std::move(r), [this, call, reference = std::move(reference), done = std::move(done),
                        then_push = std::move(then_push)](const HttpsResponse& response) mutable {
      on_query(std::move(reference), call, std::move(done), std::move(then_push), response);
    });
  }

  void on_query(std::string reference, Call call, AnswerCallback done,
                std::optional<std::string> then_push, const HttpsResponse& r) {
    if (failed(r)) return finish(call, done, unanswered(r), r);
    breaker.record(true);
    if (refused_our_request(r)) {
      alert("transaction query", reference, r);
      return finish(call, done, not_sent("Visa refused the request"), r);
    }
    bool empty = false;
    std::unique_ptr<Answer> a;
    if (r.status == 200) {
      a = visa::query_answer_of(r.body, visa::identifiers_of(reference).rrn, clock.now_ms(),
                                &empty);
    }
    if (r.status == 404 || empty) {
      return no_record(std::move(reference), call, std::move(done), std::move(then_push), r);
    }
    if (!a) return finish(call, done, unknown(unreadable(r)), r);
    finish(call, done, std::move(*a), r);
  }

  // The query found nothing: conclusive only after the quiet period. Then a credit posts its
  // push, and a status request answers kNotFound.
  void no_record(std::string reference, Call call, AnswerCallback done,
                 std::optional<std::string> then_push, const HttpsResponse& r) {
    if (!quiet.passed(reference)) {
      return finish(call, done,
                    unknown("Visa has no record of it yet: asked too soon after a send"), r);
    }
    if (!then_push) {
      return finish(call, done, Answer{Outcome::kNotFound, {}, {}, "Visa has no record of it", 0},
                    r);
    }
    if (!breaker.allow()) {
      return finish(call, done, not_sent("the circuit to Visa is open: nothing was sent"), r);
    }
    push(std::move(reference), std::move(*then_push), std::move(done));
  }
};

}  // namespace

VisaDirectRail::VisaDirectRail(VisaDirectOptions options, const Clock& clock)
    : NetworkRail(std::make_unique<VisaDirect>(std::move(options), clock)) {}

}  // namespace payoutd::rails
