#include "providers/ecommpay/api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <mutex>

#include "core/clock.h"
#include "core/json.h"
#include "core/log_context.h"
#include "core/time_format.h"
#include "http/query.h"
#include "providers/ecommpay/program.h"
#include "providers/ecommpay/signature.h"
#include "web/api.h"

namespace payoutd::providers::ecommpay {

using engine::CardOrder;
using engine::CardPayoutResult;
using Error = engine::OrderError;
using engine::OrderStage;
using store::PayoutStatus;

namespace {

constexpr std::string_view kRegistrationPath = "/v2/payment/payout/registration";
constexpr std::string_view kSinkPath = "/sandbox/ecommpay/callbacks";
// The sandbox's receiver keeps the newest callbacks of each project, each at most this large (a
// callback of payoutd's is about a kilobyte): at most kSinkProjectKept × kSinkBodyBytesMax per
// project.
constexpr std::size_t kSinkProjectKept = 200;
constexpr std::size_t kSinkBodyBytesMax = std::size_t{16} * 1024;

// The codes of ecommpay's public registry that this dialect answers with (docs/ecommpay.md).
constexpr int kCodeMissingField = 2004;
constexpr int kCodeSignatureEmpty = 3262;
constexpr int kCodeSignatureInvalid = 3261;
constexpr int kCodePaymentIdExists = 3041;
constexpr int kCodeNotEnabled = 317;
constexpr int kCodeExpired = 604;
constexpr int kCodeInsufficient = 3028;
constexpr int kCodeProgramData = 319;
constexpr int kCodeDecline = 100;

// The registry's code of an exceeded per-card limit: the single amount, or the card's total or
// count of credits per window, named by the window it fits (24 hours, a week, a month).
std::pair<int, std::string> limit_code(std::string_view decline, std::int64_t window_ms) {
  constexpr std::int64_t kHour = 3'600'000;
  if (decline == engine::kDeclineCardSingle || decline == engine::kDeclineLimitExceeded) {
    return {3104, "Payment Constraint Invalid Payout Amount"};
  }
  const bool count = decline == engine::kDeclineCardCount;
  if (window_ms <= 24 * kHour) {
    return count ? std::pair<
                       int,
                       std::string>{3112,
                                    "Payment Constraint 24 hour payout operations number exceeded"}
                 : std::pair<int, std::string>{3109, "Payment Constraint Invalid 24 Hour Payout"};
  }
  if (window_ms <= std::int64_t{7} * 24 * kHour) {
    return count ? std::pair<
                       int,
                       std::string>{3111,
                                    "Payment Constraint Weekly payout operations number exceeded"}
                 : std::pair<int, std::string>{3108, "Payment Constraint Invalid Weekly Payout"};
  }
  return count
             ? std::pair<
                   int, std::string>{3110,
                                     "Payment Constraint Monthly payout operations number exceeded"}
             : std::pair<int, std::string>{3106, "Payment Constraint Invalid Monthly Payout"};
}

http::Response json_response(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// {"status":"error","code":...,"message":...[,"project_id":...,"payment_id":...]}
http::Response error(int status, int code, std::string_view message, std::int64_t project_id = 0,
                     std::string_view payment_id = {}) {
  std::string body;
  json::Writer w(body);
  w.begin_object().key("status").string("error").key("code").integer(code);
  w.key("message").string(message);
  if (project_id) w.key("project_id").integer(project_id);
  if (!payment_id.empty()) w.key("payment_id").string(payment_id);
  w.end_object();
  return json_response(status, std::move(body));
}

std::string time_text(std::int64_t ms) {
  std::string t = format_iso8601(ms, 0);  // ...+00:00
  t.erase(t.size() - 3, 1);               // ...+0000, as ecommpay writes it
  return t;
}

bool valid_email(std::string_view s) {
  const auto at = s.find('@');
  return s.size() <= 255 && at != std::string_view::npos && at > 0 && at + 1 < s.size() &&
         s.find('@', at + 1) == std::string_view::npos &&
         s.find_first_of(" \t\r\n") == std::string_view::npos;
}

// A registration's members, read past its signature.
struct Registration {
  std::string payment_id, callback_url;
  std::int64_t amount = 0;  // minor units of the project's currency
  std::string currency, customer_id, email, phone, ip;
};

// general's payment_id and merchant_callback_url.
void read_general(web::Fields& g, const std::string& problem, Registration& r) {
  if (g.string("payment_id", 255, &r.payment_id) && !web::is_partner_id(r.payment_id, 255)) {
    g.fail("payment_id", "must be 1 to 255 characters of A-Z a-z 0-9 . _ -");
  }
  if (problem.empty() && g.string("merchant_callback_url", 2048, &r.callback_url, false) &&
      !r.callback_url.empty() && !valid_callback_url(r.callback_url)) {
    g.fail("merchant_callback_url", "must be an absolute http or https URL");
  }
}

// payment: its amount in minor units, in the project's currency.
void read_payment(web::Fields& top, const std::string& problem, const ProjectSettings& p,
                  Registration& r) {
  const json::Value* payment = nullptr;
  if (!top.object("payment", &payment)) return;
  web::Fields pay = top.nested("payment", *payment);
  const json::Value* a = payment->find("amount");
  const auto minor = a && a->is_number() ? a->as_int64() : std::nullopt;
  if (!minor || *minor <= 0 || *minor > 999'999'999'999) {
    pay.fail("amount", "must be a positive integer of minor units");
  } else {
    r.amount = *minor;
  }
  if (problem.empty() && pay.string("currency", 3, &r.currency) &&
      r.currency != p.currency.code()) {
    pay.fail("currency", "the project pays out in " + std::string(p.currency.code()));
  }
}

// customer: its id (which keys its saved cards), email, phone and address.
void read_customer(web::Fields& top, const std::string& problem, Registration& r) {
  const json::Value* customer = nullptr;
  if (!top.object("customer", &customer)) return;
  web::Fields c = top.nested("customer", *customer);
  // The customer's id keys its saved cards: no control characters (the engine's key separator
  // among them), or one customer's id could spell the start of another's keys.
  if (c.string("id", 255, &r.customer_id) &&
      std::any_of(r.customer_id.begin(), r.customer_id.end(),
                  [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; })) {
    c.fail("id", "must not contain control characters");
  }
  if (problem.empty() && c.string("email", 255, &r.email) && !valid_email(r.email)) {
    c.fail("email", "must be an email address");
  }
  if (problem.empty() && c.string("phone", 32, &r.phone) &&
      r.phone.find_first_not_of("+0123456789") != std::string::npos) {
    c.fail("phone", "must be digits");
  }
  if (problem.empty() && c.string("ip_address", 45, &r.ip) && !IpAddress::parse(r.ip)) {
    c.fail("ip_address", "must be an IPv4 or IPv6 address");
  }
}

// The card engine's request for a registration of project `p`: a hosted order, its uuid valid for
// `uuid_lifetime_ms`, funded from the project's merchant balance. A project whose payouts are not
// enabled, or that is suspended, has it declined at once with 317: ecommpay's own answer to a
// project that may not pay out, which its merchants already handle (docs/admin.md, "Statuses").
engine::CardPayoutRequest payout_request(const ProjectView& view, const Registration& reg,
                                         std::int64_t uuid_lifetime_ms) {
  const ProjectSettings& p = *view.settings;
  engine::CardPayoutRequest r;
  r.tenant = tenant_of(view.id);
  r.partner_id = reg.payment_id;
  r.amount = {reg.amount, p.currency};
  r.hosted = true;
  r.session_timeout_ms = uuid_lifetime_ms;
  r.funding_code = std::string(kMerchantAccount);
  if (!p.payouts_enabled || view.suspended()) r.refuse_code = std::to_string(kCodeNotEnabled);
  for (const std::string* part :
       {&reg.customer_id, &reg.email, &reg.phone, &reg.ip, &reg.callback_url}) {
    r.canonical.append(*part).push_back(engine::kFieldSeparator);
  }
  CardOrder& o = r.order;
  o.save_card = false;  // the customer chooses on Payment Page
  o.client_id = reg.customer_id;
  o.email = reg.email;
  o.phone = reg.phone;
  o.client_ip = reg.ip;
  o.callback_url = reg.callback_url;
  // The project's sender chooses the card program: MoneySend's and Visa's person-to-person
  // transfer when persons send its payouts, a business disbursement when the merchant does.
  o.program = p.person_sender ? rails::Program::kPersonToPerson : rails::Program::kDisbursement;
  return r;
}

// The acceptance of a registration, or the engine's refusal of it.
void answer_registration(const http::Responder& respond, std::int64_t project_id,
                         const std::string& payment_id, const CardPayoutResult& result) {
  switch (result.error) {
    case Error::kNone:
      break;
    case Error::kIdConflict:
      return respond(error(400, kCodePaymentIdExists,
                           "payment_id already exists with another request", project_id,
                           payment_id));
    case Error::kUnavailable:
      return respond(
          error(503, kCodeDecline, "temporarily unavailable, retry", project_id, payment_id));
    default:
      return respond(error(500, kCodeDecline, result.detail, project_id, payment_id));
  }
  std::string accepted;
  json::Writer w(accepted);
  w.begin_object().key("status").string("success");
  w.key("request_id").string(std::to_string(result.payout.id));
  w.key("project_id").integer(project_id).key("payment_id").string(payment_id);
  w.end_object();
  respond(json_response(200, std::move(accepted)));
}

}  // namespace

Tenant tenant_of(std::int64_t project_id) {
  return {std::string(kProvider), std::to_string(project_id)};
}

// The sandbox's own receiver of callbacks: what arrived, per project, newest last.
struct Dialect::Sink {
  std::mutex mutex;
  std::map<std::int64_t, std::deque<std::string>> received;
};

Dialect::Dialect(engine::CardPayouts& cards, Options options, tenants::Directory& tenants,
                 tenants::Changes& changes)
    : cards_(cards),
      options_(std::move(options)),
      tenants_(tenants),
      changes_(changes),
      sink_(std::make_shared<Sink>()) {
  cards_.set_notifier(std::string(kProvider),
                      [this](const Tenant& tenant, const store::PayoutRecord& payout,
                             const CardOrder& order, std::int64_t now_ms) {
                        std::vector<store::OutboxMessage> messages;
                        if (auto m = callback(tenant, payout, order, now_ms))
                          messages.push_back(std::move(*m));
                        if (auto m = code_mail(payout, order, now_ms))
                          messages.push_back(std::move(*m));
                        return messages;
                      });
}

void Dialect::set_public_url(std::string url) {
  if (options_.public_url.empty()) options_.public_url = std::move(url);
}

ProjectView Dialect::project(std::int64_t id) const {
  if (id <= 0) return {};
  char digits[24];
  const auto written = std::to_chars(std::begin(digits), std::end(digits), id);
  tenants::Found found = tenants_.find(
      kProvider, std::string_view(digits, static_cast<std::size_t>(written.ptr - digits)));
  ProjectView view{std::move(found.snapshot), found.tenant, nullptr, id};
  if (view.entry && view.entry->settings) view.settings = &project_settings(*view.entry->settings);
  return view;
}

ProjectView Dialect::project(std::string_view text) const {
  return project(parse_project_id(text));
}

bool Dialect::signed_by(const ProjectView& project, std::string_view signing_string,
                        std::string_view signature, KeyUse use) const {
  if (!project) return false;
  const auto key = tenants::find_sealed(
      *project.entry, SystemClock().now_ms(),
      [&](std::string_view secret) { return signature_valid(secret, signing_string, signature); });
  if (key && use == KeyUse::kCounted) changes_.note_use(*project.entry, *key);
  return key.has_value();
}

bool Dialect::handle(http::Request& request, const http::Responder& respond) {
  const std::string_view path = request.path();
  if (path == kSinkPath && options_.sandbox) {
    callback_sink(request, respond);
    return true;
  }
  if (path != kRegistrationPath) return false;
  log::annotate(kProvider);
  if (request.problem != http::RequestProblem::kNone) {
    respond(error(request.problem == http::RequestProblem::kMalformed ? 400 : 413,
                  kCodeMissingField, "the request could not be read"));
    return true;
  }
  if (request.method != "POST") {
    http::Response r = error(405, kCodeMissingField, "use POST");
    r.headers.emplace_back("Allow", "POST");
    respond(std::move(r));
    return true;
  }
  registration(request, respond);
  return true;
}

void Dialect::registration(http::Request& request, const http::Responder& respond) {
  json::ParseResult parsed = json::parse(request.body);
  if (!parsed.value || !parsed.value->is_object()) {
    return respond(error(400, kCodeMissingField,
                         parsed.value ? "the body must be a JSON object"
                                      : "malformed JSON: " + parsed.error.message));
  }
  const json::Value& body = *parsed.value;
  std::string problem;
  web::Fields top(body, "", &problem);
  const json::Value* general = nullptr;
  if (!top.object("general", &general)) return respond(error(400, kCodeMissingField, problem));
  const ProjectView p = caller_project(body, *general, request, respond);
  if (!p) return;
  const ProjectSettings& settings = *p.settings;
  Registration r;
  web::Fields g = top.nested("general", *general);
  read_general(g, problem, r);
  log::annotate(kProvider, std::to_string(p.id), r.payment_id);
  if (problem.empty()) read_payment(top, problem, settings, r);
  if (problem.empty()) read_customer(top, problem, r);
  if (!problem.empty()) return respond(error(400, kCodeMissingField, problem, p.id, r.payment_id));
  if (r.callback_url.empty()) {
    r.callback_url = settings.callback_url.empty() && options_.sandbox
                         ? options_.public_url + std::string(kSinkPath)
                         : settings.callback_url;
  }
  engine::CardPayoutRequest command = payout_request(p, r, options_.uuid_lifetime_ms);
  command.order.request_id = request.request_id;
  cards_.submit(std::move(command), [respond, project_id = p.id,
                                     payment_id = r.payment_id](const CardPayoutResult& result) {
    answer_registration(respond, project_id, payment_id, result);
  });
}

ProjectView Dialect::caller_project(const json::Value& body, const json::Value& general,
                                    const http::Request& request,
                                    const http::Responder& respond) const {
  // project_id: a number, or a string of digits; a closed project is no project any more.
  const json::Value* id = general.find("project_id");
  ProjectView p = !id               ? ProjectView{}
                  : id->is_number() ? project(id->number_text())
                  : id->is_string() ? project(std::string_view(id->as_string()))
                                    : ProjectView{};
  if (!p) {
    return respond(error(400, kCodeMissingField, "general.project_id: no such project")),
           ProjectView{};
  }
  // The caller's address: the TCP peer's, or the client's a trusted proxy names (http/server.h).
  const auto caller = IpAddress::parse(request.peer_address);
  if (!caller || !any_contains(p.settings->allowlist, *caller)) {
    respond(error(403, 403, "access denied: the caller's address is not allowlisted", p.id));
    return {};
  }
  if (!p.settings->client_certificates.admits(request.client_certificate.get())) {
    respond(
        error(403, 403, "access denied: the caller's client certificate is not accepted", p.id));
    return {};
  }
  const json::Value* signature = general.find("signature");
  if (!signature || !signature->is_string() || signature->as_string().empty()) {
    return respond(error(400, kCodeSignatureEmpty, "signature is empty", p.id)), ProjectView{};
  }
  if (!signed_by(p, signing_string(body), signature->as_string(), KeyUse::kCounted)) {
    return respond(error(400, kCodeSignatureInvalid, "signature is invalid", p.id)), ProjectView{};
  }
  return p;
}

namespace {

// The callback's operation code and message for a declined payout's decline code.
std::pair<int, std::string> decline_answer(const std::string& d, std::int64_t limit_window_ms) {
  if (d == std::to_string(kCodeNotEnabled)) {
    return {kCodeNotEnabled, "Payouts are not enabled for the project"};
  }
  if (d == engine::kDeclineExpired) {
    return {kCodeExpired, "Payout Session Terminated. UUID Expired"};
  }
  if (d == engine::kDeclineInsufficientFunds) {
    return {kCodeInsufficient, "Insufficient funds on the merchant balance"};
  }
  if (d == kDeclineProgramData) {
    return {kCodeProgramData, "There is not enough data to create an operation"};
  }
  if (engine::is_card_limit(d) || d == engine::kDeclineLimitExceeded) {
    return limit_code(d, limit_window_ms);
  }
  if (d == engine::kDeclineNoRoute) return {kCodeDecline, "Payouts to this card are not available"};
  return {kCodeDecline, "Declined by the card issuer"};
}

}  // namespace

std::optional<store::OutboxMessage> Dialect::callback(const Tenant& tenant,
                                                      const store::PayoutRecord& payout,
                                                      const CardOrder& order,
                                                      std::int64_t now_ms) const {
  if (order.callback_url.empty() || tenant.provider != kProvider) return std::nullopt;
  // Any status: a suspended project's payouts in flight, and a closed one's last, are still told.
  const ProjectView p = project(std::string_view(tenant.id));
  const auto key = p.entry ? tenants::signing_credential(*p.entry, now_ms) : std::nullopt;
  if (!key) {
    spdlog::error("ecommpay payout {}: project {} has no key to sign its callback", payout.id,
                  tenant.id);
    return std::nullopt;
  }
  const std::string& secret_key = p.entry->secrets[*key];
  const bool registered =
      payout.status == PayoutStatus::kProcessing && order.stage == OrderStage::kRegistered;
  const bool final = payout.status != PayoutStatus::kProcessing;
  if (!registered && !final) return std::nullopt;
  std::string status = registered                                ? "awaiting_payout_completion"
                       : payout.status == PayoutStatus::kSuccess ? "success"
                                                                 : "decline";
  // Not a structured binding: the lambda below captures them.
  const std::pair<int, std::string> answer =
      payout.status == PayoutStatus::kDeclined
          // Settings this node cannot read (LIMITS_UNKNOWN) still let it tell the decline.
          ? decline_answer(payout.decline_code, p.settings ? p.settings->limits.window_ms
                                                           : engine::CardLimits{}.window_ms)
          : std::pair<int, std::string>{0, "Success"};
  const int code = answer.first;
  const std::string& message = answer.second;
  auto render = [&](json::Writer& w, const std::string* signature) {
    w.begin_object();
    w.key("general").begin_object();
    w.key("project_id").string(tenant.id).key("payment_id").string(payout.partner_id);
    if (signature) w.key("signature").string(*signature);
    w.end_object();
    w.key("request_id").string(std::to_string(payout.id));
    w.key("payment")
        .begin_object()
        .key("id")
        .string(payout.partner_id)
        .key("type")
        .string("payout");
    w.key("status").string(status);
    // Where ecommpay's callbacks put a payment's description: the page's payment_description.
    if (!order.description.empty()) w.key("description").string(order.description);
    w.end_object();
    w.key("operation").begin_object().key("id").string(std::to_string(payout.id));
    w.key("type").string("payout").key("status").string(status);
    w.key("code").string(std::to_string(code)).key("message").string(message).end_object();
    w.key("customer").begin_object().key("id").string(order.client_id).end_object();
    std::string amount = std::to_string(payout.amount);
    w.key("sum_request").begin_object().key("amount").string(amount);
    w.key("currency").string(payout.currency.code()).end_object();
    w.key("transaction").begin_object().key("type").string("payout").end_object();
    if (registered) {
      w.key("uuid").string(order.order_id);
      w.key("uuid_expired_at").string(time_text(order.expires_ms));
    }
    if (final && order.save_card && !order.target_binding.empty()) {
      // The saved card: its token opens Payment Page with it chosen (account_token).
      w.key("account").begin_object().key("number").string(order.masked_pan);
      w.key("token").string(order.target_binding).end_object();
    }
    w.end_object();
  };
  std::string unsigned_body;
  {
    json::Writer w(unsigned_body);
    render(w, nullptr);
  }
  const std::string signature = sign(secret_key, signing_string(*json::parse(unsigned_body).value));
  store::OutboxMessage m;
  m.tenant = payout.tenant;
  m.event_id = payout.partner_id + (registered ? ":registration" : ":result");
  m.target = order.callback_url;
  json::Writer w(m.body);
  render(w, &signature);
  m.next_attempt_ms = m.created_ms = m.updated_ms = now_ms;
  return m;
}

std::optional<store::OutboxMessage> Dialect::code_mail(const store::PayoutRecord& payout,
                                                       const CardOrder& order,
                                                       std::int64_t now_ms) const {
  if (order.code_plain.empty() || order.email.empty()) return std::nullopt;
  std::string amount;
  append_decimal(amount, payout.amount, payout.currency.exponent());
  store::OutboxMessage m;
  m.tenant = payout.tenant;
  m.event_id = payout.partner_id + ":code:" + std::to_string(order.codes_sent);
  m.target = "mailto:" + order.email;  // to a person: the engine seals it (store.h, OutboxMessage)
  m.body = "From: Payouts <" + options_.mail_from +
           ">\r\n"
           "To: <" +
           order.email +
           ">\r\n"
           "Subject: Your payout verification code\r\n"
           "Date: " +
           format_rfc5322_date(now_ms) +
           "\r\n"
           "Message-ID: <" +
           order.order_id + "." + std::to_string(order.codes_sent) +
           "@payoutd>\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "\r\n"
           "Your verification code: " +
           order.code_plain +
           "\r\n"
           "\r\n"
           "It confirms a payout of " +
           amount + " " + std::string(payout.currency.code()) + " (payment " + payout.partner_id +
           ") and is valid for 5 minutes.\r\n"
           "If you did not ask for a payout, ignore this message.\r\n";
  m.next_attempt_ms = m.created_ms = m.updated_ms = now_ms;
  return m;
}

// The sandbox's receiver stands for a merchant's: it keeps only callbacks signed by the project
// they name (a stranger cannot fill it), and shows a project's callbacks only to whoever signs the
// listing with that project's key: GET ?project_id=<id>&signature=<signature of project_id>.
void Dialect::callback_sink(http::Request& request, const http::Responder& respond) {
  auto refuse = [&](int status, std::string_view why) {
    std::string body;
    json::Writer w(body);
    w.begin_object().key("status").string("error").key("message").string(why).end_object();
    respond(json_response(status, std::move(body)));
  };
  if (request.method == "POST") {
    if (request.problem != http::RequestProblem::kNone || request.body.size() > kSinkBodyBytesMax) {
      return refuse(413, "a callback is at most 16 KiB");
    }
    json::ParseResult parsed = json::parse(request.body);
    const json::Value* general =
        parsed.value && parsed.value->is_object() ? parsed.value->find("general") : nullptr;
    const json::Value* id = general && general->is_object() ? general->find("project_id") : nullptr;
    const json::Value* signature =
        general && general->is_object() ? general->find("signature") : nullptr;
    const ProjectView p =
        id && id->is_string() ? project(std::string_view(id->as_string())) : ProjectView{};
    if (!signature || !signature->is_string() ||
        !signed_by(p, signing_string(*parsed.value), signature->as_string(), KeyUse::kUncounted)) {
      return refuse(403, "not a callback signed by its project");
    }
    std::lock_guard lock(sink_->mutex);
    auto& kept = sink_->received[p.id];
    kept.push_back(std::move(request.body));
    if (kept.size() > kSinkProjectKept) kept.pop_front();
    return respond(json_response(200, R"({"status":"ok"})"));
  }
  if (request.method != "GET") return refuse(405, "POST a callback, or GET a project's");
  const http::QueryParam id = http::query_param(request.query(), "project_id");
  const http::QueryParam signature = http::query_param(request.query(), "signature");
  const ProjectView p =
      id.present && id.valid ? project(std::string_view(id.value)) : ProjectView{};
  if (!signature.present || !signature.valid ||
      !signed_by(p, signing_string({{"project_id", id.value}}), signature.value,
                 KeyUse::kUncounted)) {
    return refuse(403, "sign project_id with the project's secret key");
  }
  std::string body = "[";
  {
    std::lock_guard lock(sink_->mutex);
    const auto& kept = sink_->received[p.id];
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (i) body.push_back(',');
      body.append(kept[i]);
    }
  }
  body.push_back(']');
  respond(json_response(200, std::move(body)));
}

}  // namespace payoutd::providers::ecommpay
