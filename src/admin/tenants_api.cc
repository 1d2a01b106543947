#include "admin/tenants_api.h"

#include "admin/answers.h"
#include "admin/routes.h"
#include "core/assert.h"
#include "core/json.h"
#include "core/log_context.h"
#include "core/time_format.h"
#include "http/query.h"
#include "web/api.h"
#include "web/error_envelope.h"

namespace payoutd::admin {

using tenants::ChangeError;
using tenants::ChangeResult;
using tenants::TenantRecord;

namespace {

constexpr std::size_t kTenantsPageDefault = 100;

std::string when(std::int64_t ms) { return format_iso8601(ms, web::kServerUtcOffsetMinutes); }

// A credential without its secret; `uses` (>= 0) of a retiring one when known.
void write_credential(json::Writer& w, const tenants::Credential& c, std::int64_t uses) {
  w.begin_object().key("id").string(c.id).key("kind").string(c.kind);
  w.key("source").string(tenants::source_name(c.source));
  w.key("created").string(when(c.created_ms)).key("retires");
  if (c.retiring()) {
    w.string(when(c.retires_ms));
  } else {
    w.null();
  }
  if (c.retiring() && uses >= 0) w.key("oldCredentialUses").integer(uses);
  if (c.first_used_ms != 0) w.key("firstUsed").string(when(c.first_used_ms));
  w.end_object();
}

// The tenant; with `directory`, each retiring credential's uses too (a read each).
void write_tenant(json::Writer& w, const TenantRecord& r, const tenants::Directory* directory) {
  w.begin_object();
  w.key("tenant").string(r.tenant.key());
  w.key("provider").string(r.tenant.provider).key("id").string(r.tenant.id);
  w.key("status").string(tenants::status_name(r.status));
  w.key("source").string(tenants::source_name(r.source)).key("revision").integer(r.revision);
  w.key("created").string(when(r.created_ms)).key("updated").string(when(r.updated_ms));
  w.key("settings").raw(r.settings);
  w.key("credentials").begin_array();
  for (const tenants::Credential& c : r.credentials) {
    const std::int64_t uses =
        directory && c.retiring() ? directory->old_credential_uses(r.tenant, c.id) : -1;
    write_credential(w, c, uses);
  }
  w.end_array().end_object();
}

}  // namespace

std::string render_change(const ChangeResult& result) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("tenant");
  write_tenant(w, result.record, nullptr);
  if (!result.issued.empty()) {
    // The only time these secrets are shown: they are stored as digests, or sealed.
    w.key("issuedCredentials").begin_array();
    for (const tenants::IssuedCredential& c : result.issued) {
      w.begin_object().key("id").string(c.id).key("kind").string(c.kind);
      w.key("secret").string(c.secret).key("created").string(when(c.created_ms)).end_object();
    }
    w.end_array();
  }
  w.end_object();
  return out;
}

int change_status(ChangeError error) {
  switch (error) {
    case ChangeError::kNone:
      return 200;
    case ChangeError::kNotFound:
      return 404;
    case ChangeError::kInvalid:
      return 400;
    case ChangeError::kExists:
    case ChangeError::kConflict:
    case ChangeError::kClosed:
    case ChangeError::kNotEmpty:
    case ChangeError::kNameTaken:
    case ChangeError::kNoVault:
    case ChangeError::kUnreadable:
      return 409;
    case ChangeError::kUnavailable:
      return 503;
  }
  return 500;
}

namespace {

// The body of a POST that may be empty ("" or {}): nullopt after answering a refusal.
std::optional<json::Value> body_of(const http::Request& request, const http::Responder& respond) {
  if (request.body.empty()) return json::Value::object({});
  std::string problem;
  auto body = web::parse_object(request.body, &problem);
  if (!body) respond(error(400, "validation.error", problem));
  return body;
}

// The tenant a path names, after tenants/; nullopt after answering 404.
std::optional<Tenant> path_tenant(std::string_view key, const http::Responder& respond) {
  std::optional<Tenant> tenant = Tenant::parse(key);
  if (!tenant) respond(error(404, "tenant.not.found", "no such tenant"));
  if (tenant) log::annotate(tenant->provider, tenant->id);
  return tenant;
}

}  // namespace

http::Response change_error(const ChangeResult& result) {
  return error(change_status(result.error), tenants::change_error_code(result.error),
               result.detail);
}

void answer_change(const http::Responder& respond, const ChangeResult& result, int ok_status) {
  if (result.error != ChangeError::kNone) return respond(change_error(result));
  http::Response r;
  r.status = ok_status;
  r.body = render_change(result);
  respond(std::move(r));
}

TenantsApi::TenantsApi(tenants::Directory& directory, tenants::Changes& changes,
                       TenantsApiOptions options)
    : directory_(directory), changes_(changes), options_(options) {
  if (options_.requests) settings_ = std::make_unique<SettingsDesk>(*options_.requests, directory_);
}

std::optional<std::vector<Tenant>> TenantsApi::card_tenants() const {
  return directory_.card_tenants();
}

tenants::Found TenantsApi::find(const Tenant& tenant) const {
  return directory_.find(tenant.provider, tenant.id);
}

bool TenantsApi::handle(http::Request& request, const Actor& actor,
                        std::span<const std::string> path, const http::Responder& respond) {
  using Answer = void (TenantsApi::*)(const Call&);
  static constexpr Route<Answer> kRoutes[] = {
      {Role::kViewer, "GET", "tenants", "use GET to list, POST to onboard", &TenantsApi::list},
      {Role::kAdmin, "POST", "tenants", "use GET to list, POST to onboard", &TenantsApi::create},
      {Role::kViewer, "GET", "tenants/*", "use GET or PATCH", &TenantsApi::show},
      {Role::kAdmin, "PATCH", "tenants/*", "use GET or PATCH", &TenantsApi::patch},
      {Role::kSupport, "POST", "tenants/*/suspend", "use POST", &TenantsApi::suspend},
      {Role::kSupport, "POST", "tenants/*/resume", "use POST", &TenantsApi::resume},
      {Role::kAdmin, "POST", "tenants/*/close", "use POST", &TenantsApi::close},
      {Role::kAdmin, "POST", "tenants/*/credentials/rotate", "use POST", &TenantsApi::rotate},
  };
  const Routed found = find_route(kRoutes, request.method, path);
  if (!found.route) return false;
  if (admit(found, actor, respond)) (this->*found.route->answer)({request, actor, path, respond});
  return true;
}

void TenantsApi::list(const Call& call) {
  const std::string_view query = call.request.query();
  const http::QueryParam provider = http::query_param(query, "provider");
  const http::QueryParam status = http::query_param(query, "status");
  const http::QueryParam after = http::query_param(query, "after");
  const http::QueryParam limit = http::query_param(query, "limit");
  std::optional<tenants::Status> wanted;
  if (status.present && !(wanted = tenants::parse_status(status.value))) {
    return call.respond(
        error(400, "validation.error", "status: must be active, suspended or closed"));
  }
  std::size_t page = kTenantsPageDefault;
  if (limit.present) {
    std::size_t n = 0;
    for (char c : limit.valid ? limit.value : std::string_view("x")) {
      if (c < '0' || c > '9') return call.respond(error(400, "validation.error", "limit: digits"));
      n = std::min<std::size_t>(n * 10 + static_cast<std::size_t>(c - '0'), kTenantsPageMax);
    }
    if (n == 0) return call.respond(error(400, "validation.error", "limit: must be from 1"));
    page = n;
  }
  if (!provider.valid || !after.valid) {
    return call.respond(error(400, "validation.error", "provider, after: malformed"));
  }
  if (!directory_.refresh()) return call.respond(unavailable());
  const auto snapshot = directory_.snapshot();
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("tenants").begin_array();
  std::size_t shown = 0;
  std::string last;
  for (const auto& entry : snapshot->entries()) {
    const TenantRecord& t = entry->record;
    if (provider.present && t.tenant.provider != provider.value) continue;
    if (wanted && t.status != *wanted) continue;
    if (after.present && t.tenant.key() <= after.value) continue;
    if (shown == page) {
      w.end_array().key("next").string(last);
      w.end_object();
      return call.respond(std::move(r));
    }
    write_tenant(w, t, nullptr);
    last = t.tenant.key();
    ++shown;
  }
  w.end_array().end_object();
  call.respond(std::move(r));
}

void TenantsApi::create(const Call& call) {
  std::string problem;
  auto body = web::parse_object(call.request.body, &problem);
  Tenant tenant;
  const json::Value* settings = nullptr;
  if (body) {
    web::Fields f(*body, "", &problem);
    const tenants::Kind* kind = nullptr;
    if (f.string("provider", 32, &tenant.provider) && !(kind = directory_.kind(tenant.provider))) {
      f.fail("provider", "is not a provider whose partners are onboarded here");
    } else if (problem.empty() && f.string("id", 64, &tenant.id) &&
               !web::is_partner_id(tenant.id)) {
      f.fail("id", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
    } else if (problem.empty()) {
      f.object("settings", &settings);
    }
  }
  if (!problem.empty()) return call.respond(error(400, "validation.error", problem));
  log::annotate(tenant.provider, tenant.id);
  changes_.create(std::move(tenant), *settings, [respond = call.respond](const ChangeResult& r) {
    answer_change(respond, r, 201);
  });
}

void TenantsApi::show(const Call& call) {
  const auto tenant = path_tenant(call.path[1], call.respond);
  if (!tenant) return;
  const tenants::Found found = find(*tenant);
  if (!found.tenant) return call.respond(error(404, "tenant.not.found", "no such tenant"));
  http::Response r;
  json::Writer w(r.body);
  write_tenant(w, found.tenant->record, &directory_);
  call.respond(std::move(r));
}

void TenantsApi::patch(const Call& call) {
  const auto tenant = path_tenant(call.path[1], call.respond);
  if (!tenant) return;
  std::string problem;
  auto body = web::parse_object(call.request.body, &problem);
  const json::Value* settings = nullptr;
  if (body) {
    web::Fields f(*body, "", &problem);
    if (body->as_object().size() != 1 || !body->find("settings")) {
      f.fail("settings", "is required, and is the only member a PATCH changes");
    } else {
      f.object("settings", &settings);
    }
  }
  if (!problem.empty()) return call.respond(error(400, "validation.error", problem));
  PAYOUTD_ASSERT(settings_ != nullptr, "PATCH tenants/{tenant} is served with maker-checker");
  settings_->patch(*tenant, *settings, call.actor, call.respond);
}

void TenantsApi::suspend(const Call& call) {
  const auto tenant = path_tenant(call.path[1], call.respond);
  if (!tenant) return;
  changes_.set_status(
      *tenant, tenants::Status::kSuspended,
      [respond = call.respond](const ChangeResult& r) { answer_change(respond, r); });
}

void TenantsApi::resume(const Call& call) {
  const auto tenant = path_tenant(call.path[1], call.respond);
  if (!tenant) return;
  changes_.set_status(
      *tenant, tenants::Status::kActive,
      [respond = call.respond](const ChangeResult& r) { answer_change(respond, r); });
}

void TenantsApi::close(const Call& call) {
  const auto tenant = path_tenant(call.path[1], call.respond);
  if (!tenant) return;
  changes_.close(*tenant,
                 [respond = call.respond](const ChangeResult& r) { answer_change(respond, r); });
}

void TenantsApi::rotate(const Call& call) {
  const auto tenant = path_tenant(call.path[1], call.respond);
  if (!tenant) return;
  auto body = body_of(call.request, call.respond);
  if (!body) return;
  std::int64_t overlap_seconds = 0;
  if (const json::Value* v = body->find("overlapSeconds")) {
    const auto n = v->as_int64();
    if (!n || *n < 0 || *n > kOverlapSecondsMax) {
      return call.respond(error(400, "validation.error",
                                "overlapSeconds: must be an integer from 0 to 2592000 (30 days)"));
    }
    overlap_seconds = *n;
  }
  changes_.rotate(*tenant, overlap_seconds * 1000,
                  [respond = call.respond](const ChangeResult& r) { answer_change(respond, r); });
}

}  // namespace payoutd::admin
