#include "providers/bereke/api.h"

#include <algorithm>
#include <optional>

#include "cards/card.h"
#include "core/json.h"
#include "core/log_context.h"
#include "core/secrets.h"
#include "providers/bereke/api_answers.h"
#include "providers/bereke/api_request.h"
#include "web/language.h"

namespace payoutd::providers::bereke {

using namespace api;  // the requests' readers and the answers, this API's own
using engine::CardOrder;
using engine::CardPayoutResult;
using Error = engine::OrderError;

namespace {

constexpr std::string_view kPrefix = "/payouts/api/v2/";

// The seed's message, byte for byte: "Сard affiliation" has a Cyrillic "С" (U+0421).
constexpr std::string_view kCardAffiliation =
    "\xD0\xA1"
    "ard affiliation does not match required pattern";

// The partner may fund this way: from a corporate card (source given) or its transit account.
bool debit_method_allowed(const PartnerSettings& p, const std::string& source) {
  return source.empty() ? p.transit_funding : p.card_funding;
}

std::string canonical_of(const OrderFields& f, std::string_view source, std::string_view knp) {
  std::string c;
  for (const std::string_view part :
       {std::string_view(f.description), std::string_view(f.client_id), std::string_view(f.email),
        std::string_view(f.phone), std::string_view(f.name), std::string_view(f.return_url),
        std::string_view(f.fail_url), std::string_view(f.timeout_text),
        std::string_view(f.params_json), source, knp}) {
    c.append(part).append(1, engine::kFieldSeparator);
  }
  return c;
}

// The engine's request for an order's fields, as registerPayout and performPayout share them.
// `source`: as the request named it (the replay's fingerprint); `funding`: the card that pays,
// the primary card when the request named none; `knp`: the partner's KNP now (the cabinet's).
engine::CardPayoutRequest order_request(const Tenant& tenant, const PartnerSettings& partner,
                                        const OrderFields& f, const std::string& source,
                                        const std::string& funding, std::string knp) {
  engine::CardPayoutRequest r;
  r.tenant = tenant;
  r.partner_id = f.order_number;
  r.amount = {std::stoll(f.amount_text), *Currency::from_code("KZT")};
  r.canonical = canonical_of(f, source, partner.knp);
  CardOrder& o = r.order;
  o.client_id = f.client_id;
  o.email = f.email;
  o.phone = f.phone;
  o.name = f.name;
  o.description = f.description;
  o.params_json = f.params_json;
  o.source_binding = funding;
  o.knp = std::move(knp);
  o.fee = partner.fee;
  o.program = rails::Program::kDisbursement;  // the partner, a business, pays its clients
  return r;
}

// A card number given by performPayout.do: its digits, its check digit, its issuer in the BIN
// table, issued in one of the partner's card countries. Sets *issuer, or returns the refusal.
std::optional<Problem> check_card(const std::string& pan, const cards::BinTable& bins,
                                  const PartnerSettings& partner, cards::Issuer* issuer) {
  if (pan.empty() || !cards::all_digits(pan)) {
    return Problem{502, "400", "Invalid request: bin is empty or is not numeric"};
  }
  if (pan.size() < cards::kPanDigitsMin || pan.size() > cards::kPanDigitsMax) {
    return mismatch("target.card.pan", kPanPattern);
  }
  if (!cards::luhn_valid(pan)) return Problem{502, "204", "Unsupported pan"};
  auto found = bins.find(pan);
  if (!found) return Problem{502, "204", "Cannot find any bin range in db for " + pan.substr(0, 6)};
  bool allowed = false;
  for (const std::string& country : partner.card_countries) allowed |= country == found->country;
  if (!allowed) return Problem{400, "98", std::string(kCardAffiliation)};
  *issuer = std::move(*found);
  return std::nullopt;
}

// A request the HTTP layer could not read whole: 413 over a size limit, 400 malformed.
std::optional<http::Response> unreadable(http::RequestProblem problem) {
  switch (problem) {
    case http::RequestProblem::kNone:
      return std::nullopt;
    case http::RequestProblem::kBodyTooLarge:
    case http::RequestProblem::kHeaderTooLarge:
      return error(413, "98", "Invalid request");
    case http::RequestProblem::kMalformed:
      return error(400, "98", "Invalid request");
  }
  return std::nullopt;
}

http::Response method_not_allowed(std::string_view allow) {
  http::Response r = error(405, "98", "Invalid request");
  r.headers.emplace_back("Allow", allow);
  return r;
}

}  // namespace

Tenant tenant_of(std::string_view partner_id) {
  return {std::string(kProvider), std::string(partner_id)};
}

std::string page_language(std::string_view requested) {
  const std::string_view lang = web::offered_language(kPageLanguages, requested);
  return std::string(lang.empty() ? kPageLanguages.front() : lang);
}

std::string form_url(std::string_view base, std::string_view language, std::string_view order_id) {
  std::string url(base);
  url.append("/payouts/payment/payment_").append(page_language(language));
  url.append(".html?mdOrder=").append(order_id);
  return url;
}

// One API call: what every method needs to answer it.
struct Dialect::Call {
  json::Value body;
  http::Responder respond;
  tenants::Authentication found;  // the partner's tenant, and the snapshot that holds it
  const PartnerSettings* partner = nullptr;

  const Tenant& tenant() const { return found.tenant->record.tenant; }
  bool suspended() const { return found.tenant->record.status == tenants::Status::kSuspended; }

  void fail(const Problem& p) const { respond(error(p)); }
};

// A method of the API: its name after /payouts/api/v2/, the request type its errors name, and
// the member that answers it.
struct Dialect::Method {
  std::string_view name;          // e.g. "performPayout.do"
  std::string_view message_type;  // e.g. "PerformPayoutRequest"
  void (Dialect::*answer)(Call& call);
};

Dialect::Dialect(engine::CardPayouts& cards, Options options, tenants::Directory& tenants)
    : cards_(cards),
      options_(std::move(options)),
      tenants_(tenants),
      throttle_(options_.throttle) {}

void Dialect::set_public_url(std::string url) {
  if (options_.public_url.empty()) options_.public_url = std::move(url);
}

PartnerView Dialect::partner_of_tenant(const Tenant& tenant) const {
  if (tenant.provider != kProvider) return {};
  tenants::Found found = tenants_.find(kProvider, tenant.id);
  PartnerView view{std::move(found.snapshot), found.tenant, nullptr};
  if (view.entry && view.entry->settings) view.settings = &partner_settings(*view.entry->settings);
  return view;
}

store::Read<std::string> Dialect::knp_of(const Tenant& tenant,
                                         const PartnerSettings& partner) const {
  auto chosen = cards_.corporate().knp(tenant);
  if (!chosen.ok()) return Failure{chosen.error()};
  return chosen->value_or(partner.knp);
}

bool Dialect::handle(http::Request& request, const http::Responder& respond) {
  static constexpr Method kMethods[] = {
      {"getAmount.do", "GetAmountRequest", &Dialect::get_amount},
      {"registerPayout.do", "RegisterPayoutRequest", &Dialect::register_payout},
      {"performPayout.do", "PerformPayoutRequest", &Dialect::perform_payout},
      {"getPayoutStatus.do", "GetPayoutStatusRequest", &Dialect::payout_status},
  };
  const std::string_view path = request.path();
  if (!path.starts_with("/payouts/api/")) return false;
  log::annotate(kProvider);
  if (auto refused = unreadable(request.problem)) return respond(std::move(*refused)), true;
  const std::string_view name = path.starts_with(kPrefix) ? path.substr(kPrefix.size()) : "";
  if (name == "echo") return echo(request, respond), true;
  const auto method = std::find_if(std::begin(kMethods), std::end(kMethods),
                                   [&](const Method& m) { return m.name == name; });
  if (method == std::end(kMethods)) {
    http::Response r;
    r.status = 404;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "Not Found";
    return respond(std::move(r)), true;
  }
  if (request.method != "POST") return respond(method_not_allowed("POST")), true;
  Call call{{}, respond, {}, nullptr};
  if (auto problem = parse_body(request.body, method->name, method->message_type, &call.body)) {
    return call.fail(*problem), true;
  }
  if (!authenticate(request, call)) return true;
  const json::Value* order = call.body.find("orderNumber");
  log::annotate(kProvider, call.tenant().id,
                order && order->is_string() ? std::string_view(order->as_string()) : "");
  (this->*method->answer)(call);
  return true;
}

void Dialect::echo(const http::Request& request, const http::Responder& respond) const {
  if (request.method != "GET" && request.method != "HEAD") {
    return respond(method_not_allowed("GET"));
  }
  http::Response r;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "Payout v2.3 is online in channel Payout_APIserver - " + options_.node +
           "[instance:" + options_.instance + "]";
  respond(std::move(r));
}

bool Dialect::authenticate(const http::Request& request, Call& call) {
  const auto credentials = read_credentials(call.body);
  if (!credentials) {
    call.fail({400, "98", "userName and password are mandatory fields"});
    return false;
  }
  const std::string& user = credentials->user;
  // Guessing is throttled per (userName, address) and per address, known user or not
  // (core/throttle.h); the right password waits out a delay as a wrong one does.
  const std::int64_t now_ms = SystemClock().now_ms();
  if (const std::int64_t wait_ms = throttle_.wait_ms(user, request.peer_address, now_ms);
      wait_ms > 0) {
    const std::int64_t seconds = http::retry_after_seconds(wait_ms);
    http::Response r = error(
        429, "90",
        "Too many failed authentication attempts: retry in " + std::to_string(seconds) + " s");
    http::set_retry_after(r, seconds);
    call.respond(std::move(r));
    return false;
  }
  // The password finds at most one partner (by its digest: one lookup, whoever asks), whose
  // userName must then be the call's. A closed partner's password finds none.
  call.found = tenants_.authenticate(kProvider, credentials->password);
  if (call.found.tenant && call.found.tenant->settings) {
    const PartnerSettings& p = partner_settings(*call.found.tenant->settings);
    // A partner's call without the certificate it named is answered as a wrong password: the
    // answer never tells that the password was right.
    if (secrets_equal(p.user_name, user) &&
        p.client_certificates.admits(request.client_certificate.get())) {
      call.partner = &p;
    }
  }
  if (!call.partner) {
    throttle_.failed(user, request.peer_address, now_ms);
    call.fail({401, "90", "User not authenticated"});
    return false;
  }
  throttle_.succeeded(user, request.peer_address);
  return true;
}

void Dialect::get_amount(Call& call) {
  std::string named;
  if (auto problem = read_source(call.body, &named)) return call.fail(*problem);
  const Tenant& tenant = call.tenant();
  const auto primary = named.empty() ? cards_.corporate().primary_card(tenant) : named;
  if (!primary.ok()) return call.fail(kTemporaryFailure);
  const std::string& source = *primary;
  if (!debit_method_allowed(*call.partner, source)) return call.fail(kBadDebitMethod);
  auto account = cards_.corporate().funding_account(tenant, source);
  if (!account.ok()) return call.fail(kTemporaryFailure);
  // No transit account: the partner is configured but its accounts were never set up.
  if (!*account) return call.fail(source.empty() ? kNoSettings : kBadSource);
  std::string body = render_balance((*account)->available());
  cards_.engine().answer_when_durable(call.respond, answer(200, std::move(body)),
                                      [] { return error(kTemporaryFailure); });
}

void Dialect::register_payout(Call& call) {
  OrderFields f;
  if (auto problem = read_order(call.body, &f)) return call.fail(*problem);
  if (call.suspended()) return call.fail(kSuspended);
  const Tenant& tenant = call.tenant();
  const auto funding = cards_.corporate().primary_card(tenant);
  if (!funding.ok()) return call.fail(kTemporaryFailure);
  if (!debit_method_allowed(*call.partner, *funding)) return call.fail(kBadDebitMethod);
  const auto knp = knp_of(tenant, *call.partner);
  if (!knp.ok()) return call.fail(kTemporaryFailure);
  engine::CardPayoutRequest r = order_request(tenant, *call.partner, f, {}, *funding, *knp);
  r.hosted = true;
  const std::int64_t timeout_s =
      f.timeout_text.empty() ? options_.session_timeout_default_s : std::stoll(f.timeout_text);
  r.session_timeout_ms = timeout_s * 1000;
  CardOrder& o = r.order;
  // Only a language the pages have is the order's: without one, formUrl still names the default
  // page, where the recipient's browser chooses (pages.h).
  o.language = web::offered_language(kPageLanguages, f.language);
  o.return_url = f.return_url;
  o.fail_url = f.fail_url;
  cards_.submit(std::move(r), [respond = call.respond,
                               base = options_.public_url](const CardPayoutResult& result) {
    answer_registration(respond, result, base);
  });
}

void Dialect::perform_payout(Call& call) {
  PayoutFields f;
  if (auto problem = read_payout(call.body, &f)) return call.fail(*problem);
  if (call.suspended()) return call.fail(kSuspended);
  const Tenant& tenant = call.tenant();
  const auto funding = f.source.empty() ? cards_.corporate().primary_card(tenant) : f.source;
  if (!funding.ok()) return call.fail(kTemporaryFailure);
  if (!debit_method_allowed(*call.partner, *funding)) return call.fail(kBadDebitMethod);
  const auto knp = knp_of(tenant, *call.partner);
  if (!knp.ok()) return call.fail(kTemporaryFailure);
  cards::Issuer issuer;
  if (f.pan_given) {
    if (auto problem = check_card(f.pan, cards_.bins(), *call.partner, &issuer)) {
      return call.fail(*problem);
    }
  }
  engine::CardPayoutRequest r =
      order_request(tenant, *call.partner, f.order, f.source, *funding, *knp);
  r.pan = std::move(f.pan);
  r.issuer = std::move(issuer);
  r.target_binding = f.target_binding;
  r.order.cardholder = f.order.name;
  r.order.language = f.order.language;
  const Source source = f.source.empty() ? Source::kTransit : Source::kCorporateCard;
  cards_.submit(std::move(r), [respond = call.respond, language = f.order.language,
                               source](CardPayoutResult result) {
    answer_payout(respond, std::move(result), language, source);
  });
}

void Dialect::payout_status(Call& call) {
  StatusQuery q;
  if (auto problem = read_status_query(call.body, &q)) return call.fail(*problem);
  const Tenant& tenant = call.tenant();
  CardPayoutResult r;
  if (!q.order_id.empty()) {
    Tenant owner;
    r = cards_.get_by_order_id(q.order_id, kProvider, &owner);
    if (r.error == Error::kNone && owner != tenant) r.error = Error::kNotFound;
  } else {
    r = cards_.get(tenant, q.order_number);
  }
  if (r.error == Error::kUnavailable) return call.fail(kTemporaryFailure);
  if (r.error != Error::kNone) {
    return call.fail({400, "98", "Order not found in payout proxy. Check orderId or orderNumber"});
  }
  std::string body = render_order(r, q.language);
  cards_.engine().answer_when_durable(call.respond, answer(200, std::move(body)),
                                      [] { return error(kTemporaryFailure); });
}

}  // namespace payoutd::providers::bereke
