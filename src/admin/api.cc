#include "admin/api.h"

#include <algorithm>

#include "admin/answers.h"
#include "admin/routes.h"
#include "core/assert.h"
#include "core/json.h"
#include "core/log_context.h"
#include "http/query.h"
#include "rails/rail_stats.h"
#include "web/api.h"
#include "web/error_envelope.h"

namespace payoutd::admin {
namespace {

// The first segments after /admin/v1/ that are the admin API's own: no section may take them.
constexpr std::string_view kOwnNames[] = {"stats", "outbox",   "rail",    "tenants",  "reports",
                                          "audit", "requests", "payouts", "attention"};
constexpr std::size_t kOutboxMessagesMax = 200;  // shown by one GET outbox

void write_credit(json::Writer& w, std::string_view rail, const rails::SandboxCredit& credit) {
  w.begin_object();
  w.key("rail").string(rail);
  w.key("reference").string(credit.reference).key("maskedPan").string(credit.masked_pan);
  w.key("amount").integer(credit.amount).key("currency").string(credit.currency);
  w.key("outcome").string(credit.outcome).key("code").string(credit.code);
  w.key("approval").string(credit.approval).key("received").integer(credit.received);
  w.key("createdMs").integer(credit.created_ms).key("finalMs").integer(credit.final_ms);
  w.key("operation").string(credit.operation);
  if (credit.not_sent > 0) w.key("notSent").integer(credit.not_sent);
  if (auto parties = json::parse(credit.parties); parties.value && parties.value->is_object()) {
    w.key("parties").value(*parties.value);
  }
  w.end_object();
}

// By outcome, in the stats' own key style (rails::Outcome's order).
void write_outcomes(json::Writer& w, const std::array<std::int64_t, rails::kOutcomes>& counts) {
  static constexpr std::array<const char*, rails::kOutcomes> kKeys{
      "approved", "declined", "processing", "unknown", "notFound", "notSent"};
  w.begin_object();
  for (std::size_t i = 0; i < counts.size(); ++i) w.key(kKeys[i]).integer(counts[i]);
  w.end_object();
}

// "rails": each card rail by name, with its connector's calls by outcome and their latency
// (calls that left, by upper bound in ms; "inf" above the last), when it keeps counters.
void write_rail_stats(json::Writer& w, const rails::RailSet& set) {
  w.key("rails").begin_array();
  for (const rails::CardRail* rail : set.rails()) {
    w.begin_object().key("name").string(rail->name());
    rails::RailCallStatsSnapshot s;
    if (rail->call_stats(&s)) {
      w.key("credits");
      write_outcomes(w, s.credits);
      w.key("statuses");
      write_outcomes(w, s.statuses);
      w.key("latencyMs").begin_object();
      for (std::size_t i = 0; i < s.latency.size(); ++i) {
        const bool last = i == rails::kLatencyBucketsMs.size();
        w.key(last ? std::string("inf") : std::to_string(rails::kLatencyBucketsMs[i]))
            .integer(s.latency[i]);
      }
      w.end_object();
      w.key("latencyMsTotal")
          .integer(s.latency_ms_total)
          .key("latencyMsMax")
          .integer(s.latency_ms_max);
      w.key("breakerOpened").integer(s.breaker_opened);
    }
    w.end_object();
  }
  w.end_array();
}

// The tenant of a path admit_tenant_path let through: it parsed there.
Tenant admitted_tenant(std::span<const std::string> path) {
  std::optional<Tenant> tenant = Tenant::parse(path[1]);
  PAYOUTD_ASSERT(tenant.has_value(), "an admitted tenants/{tenant}/ path names a tenant");
  return std::move(*tenant);
}

}  // namespace

Dialect::Dialect(engine::PayoutEngine& engine, const store::Store& store, Options options)
    : engine_(engine),
      options_(std::move(options)),
      throttle_(options_.throttle),
      store_(store),
      trail_(engine.committer(), options_.audit_key),
      requests_(trail_, store, clock_, options_.maker_checker),
      funding_(requests_),
      calls_(trail_) {}

void Dialect::add_section(Section* section) {
  const std::string_view name = section->name();
  const bool own =
      std::find(std::begin(kOwnNames), std::end(kOwnNames), name) != std::end(kOwnNames);
  PAYOUTD_ASSERT(!own, "an admin section takes a path of the admin API's own");
  for (const Section* s : sections_) {
    PAYOUTD_ASSERT(s->name() != name, "two admin sections of one name");
  }
  section->use_funding(&funding_);
  sections_.push_back(section);
}

bool Dialect::handle(http::Request& request, const http::Responder& respond) {
  if (!request.path().starts_with("/admin/")) return false;
  if (options_.token.empty()) {
    respond(error(404, "route.not.found", "the admin API is disabled"));
    return true;
  }
  if (auto problem = web::problem_response(request, kService, web::kServerUtcOffsetMinutes)) {
    respond(std::move(*problem));
    return true;
  }
  if (const std::optional<Actor> actor = authenticate(request, respond)) {
    route(request, *actor, respond);
  }
  return true;
}

void Dialect::serve_as(http::Request& request, const Actor& actor, const http::Responder& respond) {
  route(request, actor, respond);
}

std::optional<Actor> Dialect::authenticate(const http::Request& request,
                                           const http::Responder& respond) {
  const auto token = web::bearer_token(request.authorization);
  if (!token) {
    respond(error(401, "auth.token.missing", "Authorization: Bearer token required"));
    return std::nullopt;
  }
  // Guessing the token is throttled per address (core/throttle.h): it mints money.
  const std::int64_t now_ms = SystemClock().now_ms();
  if (const std::int64_t wait_ms = throttle_.wait_ms("admin", request.peer_address, now_ms);
      wait_ms > 0) {
    const std::int64_t seconds = http::retry_after_seconds(wait_ms);
    http::Response r = error(
        429, "auth.too.many.attempts",
        "too many invalid tokens from this address: retry in " + std::to_string(seconds) + " s");
    http::set_retry_after(r, seconds);
    respond(std::move(r));
    return std::nullopt;
  }
  // Checked before the token, so that the answer never tells a right token from a wrong one.
  if (!options_.client_certificates.admits(request.client_certificate.get())) {
    throttle_.failed("admin", request.peer_address, now_ms);
    respond(error(401, "auth.certificate.invalid",
                  "a client certificate the admin API accepts is required"));
    return std::nullopt;
  }
  if (keys_ && keys_->is_key(*token)) return authenticate_key(*token, request, respond, now_ms);
  if (!secrets_equal(*token, options_.token)) {
    throttle_.failed("admin", request.peer_address, now_ms);
    respond(error(401, "auth.token.invalid", "the token is not valid"));
    return std::nullopt;
  }
  if (!token_admitted(respond)) return std::nullopt;
  throttle_.succeeded("admin", request.peer_address);
  // The config's token is the bootstrap operator: every role.
  return Actor{
      .id = "admin.token", .roles = Roles::all(), .via = "token", .address = request.peer_address};
}

std::optional<Actor> Dialect::authenticate_key(std::string_view key, const http::Request& request,
                                               const http::Responder& respond,
                                               std::int64_t now_ms) {
  KeyDirectory::Identified found = keys_->identify(key, request.peer_address);
  switch (found.verdict) {
    case KeyDirectory::Verdict::kStaff:
      throttle_.succeeded("admin", request.peer_address);
      return std::move(found.actor);
    case KeyDirectory::Verdict::kUnavailable:
      respond(unavailable());
      return std::nullopt;
    case KeyDirectory::Verdict::kWrong:
      break;
  }
  throttle_.failed("admin", request.peer_address, now_ms);
  respond(error(401, "auth.token.invalid", "the token is not valid"));
  return std::nullopt;
}

bool Dialect::token_admitted(const http::Responder& respond) {
  if (!options_.token_bootstrap_only || !keys_) return true;
  const std::optional<bool> open = keys_->token_open();
  if (!open) {
    respond(unavailable());
    return false;
  }
  if (!*open) {
    respond(error(401, "auth.token.retired",
                  "admin.token only bootstraps the staff, and an admin member has an API key: "
                  "use a staff API key"));
  }
  return *open;
}

void Dialect::route(http::Request& request, const Actor& actor, const http::Responder& respond) {
  if (!CallAudit::mutating(request.method)) return route_now(request, actor, respond);
  calls_.around(request, actor, respond,
                [this](http::Request& r, const Actor& a, const http::Responder& answer) {
                  route_now(r, a, answer);
                });
}

void Dialect::route_now(http::Request& request, const Actor& actor,
                        const http::Responder& respond) {
  using Answer = void (Dialect::*)(const Call&);
  static constexpr Route<Answer> kRoutes[] = {
      {Role::kViewer, "GET", "stats", "use GET", &Dialect::stats},
      // outbox?tenant=T&event=PREFIX: notifications and every delivery attempt.
      {Role::kViewer, "GET", "outbox", "use GET", &Dialect::outbox},
      // The sandbox card network's record of a credit.
      {Role::kViewer, "GET", "rail/credits/*", "use GET", &Dialect::rail_credit},
      // Any provider's funding accounts (a Bereke partner's transit account and corporate cards,
      // an ecommpay merchant balance, a QIWI funder), shown and credited from outside.
      {Role::kViewer, "GET", "tenants/*/funders", "use GET", &Dialect::list_tenant_funders},
      {Role::kViewer, "GET HEAD", "tenants/*/funders/*", "wrong method",
       &Dialect::show_tenant_funder},
      {Role::kFinance, "POST PUT", "tenants/*/funders/*/credits/*", "wrong method",
       &Dialect::credit_tenant_funder},
      // Daily statements and reconciliation reports (docs/admin.md, "Statements and reconciliation
      // reports").
      {Role::kViewer, "GET HEAD", "tenants/*/funders/*/statements/*", "use GET",
       &Dialect::statement},
      {Role::kViewer, "GET HEAD", "reports/card-payouts", "use GET", &Dialect::card_payouts_report},
      {Role::kFinance, "POST PUT", "tenants/*/funders/*/debits/*", "wrong method",
       &Dialect::debit_tenant_funder},
      // The operators' audit log, and maker-checker's requests (admin/requests.h).
      {Role::kViewer, "GET", "audit", "use GET", &Dialect::audit_log},
      {Role::kViewer, "GET", "requests", "use GET", &Dialect::list_requests},
      {Role::kViewer, "GET", "requests/*", "use GET", &Dialect::show_request},
      {Role::kFinance, "POST", "requests/*/approve", "use POST", &Dialect::approve_request},
      {Role::kFinance, "POST", "requests/*/reject", "use POST", &Dialect::reject_request},
  };
  const auto segments = web::split_path(request.path());
  if (!segments || segments->size() < 3 || (*segments)[1] != "v1") {
    return respond(error(404, "route.not.found", "no such path"));
  }
  const Call call{request, actor, std::span<const std::string>(*segments).subspan(2), respond};
  if (path_matches("tenants/*/funders", call.path, Match::kPrefix) && !admit_tenant_path(call)) {
    return;
  }
  if (tenants_ && tenants_->handle(request, actor, call.path, respond)) return;
  if (payouts_ && payouts_->handle(request, actor, call.path, respond)) return;
  if (route_tenant_section(call)) return;
  if (const Routed found = find_route(kRoutes, request.method, call.path); found.route) {
    if (admit(found, actor, respond)) (this->*found.route->answer)(call);
    return;
  }
  for (Section* section : sections_) {
    if (section->name() == call.path[0] &&
        section->handle(request, actor, call.path.subspan(1), respond)) {
      return;
    }
  }
  respond(error(404, "route.not.found", "no such path"));
}

bool Dialect::route_tenant_section(const Call& call) {
  if (call.path.size() < 3 || call.path[0] != "tenants") return false;
  for (TenantSection* section : tenant_sections_) {
    if (section->name() != call.path[2]) continue;
    const std::optional<Tenant> tenant = admit_tenant(call);
    if (tenant &&
        !section->handle(call.request, call.actor, *tenant, call.path.subspan(2), call.respond)) {
      call.respond(error(404, "route.not.found", "no such path"));
    }
    return true;
  }
  return false;
}

std::optional<Tenant> Dialect::admit_tenant(const Call& call) const {
  std::optional<Tenant> tenant = Tenant::parse(call.path[1]);
  const auto& known = options_.tenants;
  const tenants::Found found = tenant && tenants_ ? tenants_->find(*tenant) : tenants::Found{};
  if (!tenant || (!found.tenant && std::find(known.begin(), known.end(), *tenant) == known.end())) {
    call.respond(error(404, "tenant.not.found", "no such tenant"));
    return std::nullopt;
  }
  const bool reads = call.request.method == "GET" || call.request.method == "HEAD";
  if (found.tenant && found.tenant->record.status == tenants::Status::kClosed && !reads) {
    call.respond(error(409, "tenant.closed", "the tenant is closed"));
    return std::nullopt;
  }
  log::annotate(tenant->provider, tenant->id);
  return tenant;
}

bool Dialect::admit_tenant_path(const Call& call) const {
  const auto& s = call.path;  // tenants/{tenant}/funders[/{code}[/credits|debits/{id}]]
  if (!admit_tenant(call)) return false;
  if ((s.size() >= 4 && !web::is_partner_id(s[3], kIdSizeMax)) ||
      (s.size() == 6 && !web::is_partner_id(s[5], kIdSizeMax))) {
    call.respond(invalid_id());
    return false;
  }
  return true;
}

void Dialect::show_tenant_funder(const Call& call) {
  show_funder(engine_, call.respond, admitted_tenant(call.path), call.path[3]);
}

void Dialect::credit_tenant_funder(const Call& call) {
  funding_.move(engine::FundingDirection::kCredit, call.request, call.actor, call.respond,
                admitted_tenant(call.path), call.path[3], call.path[5]);
}

void Dialect::debit_tenant_funder(const Call& call) {
  funding_.move(engine::FundingDirection::kDebit, call.request, call.actor, call.respond,
                admitted_tenant(call.path), call.path[3], call.path[5]);
}

void Dialect::rail_credit(const Call& call) {
  // ?rail=NAME asks that sandbox network only; without it, the first that has the credit.
  const http::QueryParam only = http::query_param(call.request.query(), "rail");
  if (!only.valid) return call.respond(error(400, "validation.error", "rail is malformed"));
  for (const rails::SandboxRail* rail : rails_) {
    if (only.present && rail->name() != only.value) continue;
    if (auto credit = rail->find(call.path[2])) {
      http::Response r;
      json::Writer w(r.body);
      write_credit(w, rail->name(), *credit);
      return call.respond(std::move(r));
    }
  }
  call.respond(error(404, "credit.not.found", "the card network has no such credit"));
}

void Dialect::outbox(const Call& call) {
  const http::QueryParam tenant = http::query_param(call.request.query(), "tenant");
  const http::QueryParam event = http::query_param(call.request.query(), "event");
  if (!tenant.present || !tenant.valid || tenant.value.empty() || !event.valid) {
    return call.respond(error(400, "validation.error",
                              "tenant is required (e.g. ecommpay:91348); event is a prefix"));
  }
  if (!outbox_store_) return call.respond(error(404, "route.not.found", "no outbox"));
  const auto messages =
      outbox_store_->outbox_messages(tenant.value, event.value, kOutboxMessagesMax);
  if (!messages.ok()) return call.respond(unavailable());
  std::vector<std::vector<store::OutboxAttempt>> attempts;
  for (const store::OutboxMessage& m : *messages) {
    auto of_message = outbox_store_->outbox_attempts(m.id);
    if (!of_message.ok()) return call.respond(unavailable());
    attempts.push_back(std::move(*of_message));
  }
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("messages").begin_array();
  for (std::size_t i = 0; i < messages->size(); ++i)
    write_outbox_message(w, (*messages)[i], attempts[i]);
  w.end_array().end_object();
  call.respond(std::move(r));
}

void Dialect::stats(const Call& call) {
  const engine::CommitterStats c = engine_.committer().stats();
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("committer").begin_object();
  w.key("jobs").integer(static_cast<std::int64_t>(c.jobs));
  w.key("batches").integer(static_cast<std::int64_t>(c.batches));
  w.key("failedBatches").integer(static_cast<std::int64_t>(c.failed_batches));
  w.key("conflicts").integer(static_cast<std::int64_t>(c.conflicts));
  w.key("largestBatchJobs").integer(static_cast<std::int64_t>(c.batch_jobs_largest));
  w.key("syncs").integer(static_cast<std::int64_t>(c.syncs));
  w.key("applyUsTotal").integer(static_cast<std::int64_t>(c.apply_us_total));
  w.key("commitUsTotal").integer(static_cast<std::int64_t>(c.commit_us_total));
  w.key("syncUsTotal").integer(static_cast<std::int64_t>(c.sync_us_total));
  w.end_object();
  if (rail_set_) write_rail_stats(w, *rail_set_);
  w.end_object();
  call.respond(std::move(r));
}

}  // namespace payoutd::admin
