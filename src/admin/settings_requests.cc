#include "admin/settings_requests.h"

#include "admin/answers.h"
#include "admin/tenants_api.h"
#include "core/assert.h"
#include "tenants/credentials.h"

namespace payoutd::admin {
namespace {

constexpr std::size_t kDigestShownChars = 16;

KindAnswer refusal_of(tenants::ChangeError error, std::string detail) {
  return {
      change_status(error), std::string(tenants::change_error_code(error)), std::move(detail), {}};
}

}  // namespace

std::string SettingsKind::target(const Request& request) const {
  return request.tenant + "/settings";
}

// Its transaction reads records only (the tenant, its name records), found on first use.
void SettingsKind::declare(const Request&, store::Footprint&) const {}

tenants::Proposal SettingsKind::propose(store::WriteTxn& txn, const Request& request,
                                        const tenants::Kind** kind) const {
  const std::optional<Tenant> tenant = Tenant::parse(request.tenant);
  *kind = tenant ? directory_.kind(tenant->provider) : nullptr;
  const json::ParseResult params = json::parse(request.params);
  if (!*kind || !params.value || !params.value->is_object()) {
    return {tenants::ChangeError::kNotFound, "no such tenant", {}, nullptr, nullptr};
  }
  return tenants::Changes::propose(txn, **kind, *tenant, tenants::Changes::merge(*params.value));
}

std::optional<KindAnswer> SettingsKind::check(store::WriteTxn& txn, const Request& request) const {
  const tenants::Kind* kind = nullptr;
  tenants::Proposal p = propose(txn, request, &kind);
  if (p.error == tenants::ChangeError::kNone) return std::nullopt;
  return refusal_of(p.error, std::move(p.detail));
}

std::optional<std::string> SettingsKind::waits(
    store::WriteTxn& txn, const Request& request, const Actor& actor,
    const std::function<bool(const Amount&)>& above) const {
  const tenants::Kind* kind = nullptr;
  const tenants::Proposal p = propose(txn, request, &kind);
  PAYOUTD_ASSERT(p.error == tenants::ChangeError::kNone, "waits() runs after check() admitted it");
  const tenants::ApprovalNeed need = kind->approval_needed(*p.current, *p.next, above);
  switch (need.approval) {
    case tenants::Approval::kNone:
      return std::nullopt;
    case tenants::Approval::kFinance:
      if (actor.roles.has(Role::kFinance)) return std::nullopt;
      return need.reason + " (the caller does not hold the finance role)";
    case tenants::Approval::kSecond:
      break;
  }
  return need.reason;
}

KindAnswer SettingsKind::apply(store::WriteTxn& txn, const Request& request,
                               std::int64_t now_ms) const {
  const tenants::Kind* kind = nullptr;
  tenants::Proposal p = propose(txn, request, &kind);
  if (p.error != tenants::ChangeError::kNone) return refusal_of(p.error, std::move(p.detail));
  const tenants::ChangeResult written = tenants::Changes::write(txn, *kind, std::move(p), now_ms);
  if (written.error != tenants::ChangeError::kNone) {
    return refusal_of(written.error, written.detail);
  }
  return {200, {}, {}, render_change(written)};
}

void SettingsKind::settle(std::function<void()> answer) const {
  directory_.after_refresh(std::move(answer));
}

SettingsDesk::SettingsDesk(Requests& requests, tenants::Directory& directory)
    : requests_(requests), directory_(directory), kind_(directory) {
  requests_.add_kind(&kind_);
}

void SettingsDesk::patch(const Tenant& tenant, const json::Value& settings, const Actor& actor,
                         const http::Responder& respond) const {
  const tenants::Found found = directory_.find(tenant.provider, tenant.id);
  if (!found.tenant || !directory_.kind(tenant.provider)) {
    return respond(error(404, "tenant.not.found", "no such tenant"));
  }
  Request draft;
  draft.kind = kind_.name();
  draft.tenant = tenant.key();
  draft.subject = "settings";
  json::Writer(draft.params).value(settings);
  const std::string digest = tenants::digest_hex(tenants::credential_digest(draft.params));
  draft.external_id = "rev-" + std::to_string(found.tenant->record.revision) + "-" +
                      digest.substr(0, kDigestShownChars);
  requests_.submit(std::move(draft), actor, respond);
}

}  // namespace payoutd::admin
