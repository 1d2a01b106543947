#pragma once
// Maker-checker on partner settings (docs/admin.md, "Maker-checker on partner settings"): every
// PATCH of tenants/{tenant} is a request of kind "tenant.settings" (admin/requests.h), weighed by
// the tenant's kind (tenants::Kind::approval_needed) inside the job that makes it:
//   - a change nothing money depends on (a fee, a KNP, card countries) is applied at once (200);
//   - a limit raised to at most [admin] approval_threshold (Approval::kFinance) is applied at
//     once when the caller also holds the finance role, else it waits (202) for any finance
//     member but the caller;
//   - a limit raised above the threshold or removed, a funding method enabled (kSecond) waits
//     (202) for a finance member other than the caller, whatever roles the caller holds.
// PATCH itself needs the admin role (who manages partners); approving needs finance. The
// request's params are the PATCH's settings members; approval merges them over the settings the
// approving transaction reads (members changed meanwhile stay as they are now) and writes them in
// that transaction (tenants::Changes::propose, write): two approvals at once write once, a
// rejected or expired request writes nothing. The answer of a change carried out waits until
// this node's tenant directory shows it (a card limit applies to the next payout here; on other
// nodes within [tenants] refresh_ms).
//
// Idempotency: a request's external id is the tenant's revision and a digest of the members
// ("rev-7-<16 hex digits>"): the same PATCH again, while the settings are unchanged, answers the
// same request instead of making a second.
#include <string>

#include "admin/actor.h"
#include "admin/requests.h"
#include "core/json.h"
#include "http/server.h"
#include "tenants/changes.h"
#include "tenants/directory.h"

namespace payoutd::admin {

class SettingsKind final : public RequestKind {
 public:
  explicit SettingsKind(tenants::Directory& directory) : directory_(directory) {}
  std::string_view name() const override { return "tenant.settings"; }
  std::string_view subject_field() const override { return "subject"; }
  std::string target(const Request& request) const override;
  void declare(const Request& request, store::Footprint& footprint) const override;
  std::optional<KindAnswer> check(store::WriteTxn& txn, const Request& request) const override;
  KindAnswer apply(store::WriteTxn& txn, const Request& request,
                   std::int64_t now_ms) const override;
  std::optional<std::string> waits(store::WriteTxn& txn, const Request& request, const Actor& actor,
                                   const std::function<bool(const Amount&)>& above) const override;
  void settle(std::function<void()> answer) const override;
  // Its ids are derived from the change: asked again after a rejection, it is a new request.
  bool renews_decided() const override { return true; }

 private:
  // The request's change worked out in `txn`; `kind` set when the provider has one.
  tenants::Proposal propose(store::WriteTxn& txn, const Request& request,
                            const tenants::Kind** kind) const;

  tenants::Directory& directory_;
};

class SettingsDesk {
 public:
  // Adds its kind to `requests`; everything given outlives it.
  SettingsDesk(Requests& requests, tenants::Directory& directory);
  SettingsDesk(const SettingsDesk&) = delete;
  SettingsDesk& operator=(const SettingsDesk&) = delete;

  // PATCH tenants/{tenant} by `actor` with `settings` (the body's "settings" object): 200 with
  // {"tenant":...} when applied, 202 with the request when it waits for a second person; 400
  // validation.error, 404 tenant.not.found, 409 tenant.closed, id.conflict or tenant.name.taken,
  // 503.
  void patch(const Tenant& tenant, const json::Value& settings, const Actor& actor,
             const http::Responder& respond) const;

 private:
  Requests& requests_;
  tenants::Directory& directory_;
  SettingsKind kind_;
};

}  // namespace payoutd::admin
