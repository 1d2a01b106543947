#pragma once
// The admin API's tenants (docs/admin.md, "Tenants (partners at run time)"): partners of every
// provider with a tenant kind (providers::Provider::tenant_kind), onboarded, listed, shown,
// changed, suspended, resumed, closed and given new credentials at run time, under
// /admin/v1/tenants[/{tenant}[/...]], {tenant} being the tenant's key ("qiwi:<product>"). The
// funding accounts under tenants/{tenant}/funders/ stay the admin API's own routes (admin/api.cc);
// they ask known() whether a tenant exists.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "admin/actor.h"
#include "admin/requests.h"
#include "admin/settings_requests.h"
#include "http/server.h"
#include "tenants/changes.h"
#include "tenants/directory.h"

namespace payoutd::admin {

inline constexpr std::size_t kTenantsPageMax = 500;            // tenants one GET lists at most
inline constexpr std::int64_t kOverlapSecondsMax = 2'592'000;  // 30 days

struct TenantsApiOptions {
  // Maker-checker's requests: PATCH tenants/{tenant} is one (admin/settings_requests.h). Without
  // them (tests of the other routes) PATCH is a programming error.
  Requests* requests = nullptr;
};

class TenantsApi {
 public:
  TenantsApi(tenants::Directory& directory, tenants::Changes& changes,
             TenantsApiOptions options = {});

  // Answers `request` of `actor` when `path` (its segments after /admin/v1/) is one of its routes;
  // false otherwise (tenants/{tenant}/funders/... included).
  bool handle(http::Request& request, const Actor& actor, std::span<const std::string> path,
              const http::Responder& respond);
  // The tenant of the directory, refreshed once when unknown; nullptr when there is none.
  tenants::Found find(const Tenant& tenant) const;
  // Every tenant whose provider pays cards, of the directory (runtime and config ones, any
  // status): what the card payouts report reads. nullopt when the store could not be read.
  std::optional<std::vector<Tenant>> card_tenants() const;

 private:
  struct Call {
    http::Request& request;
    const Actor& actor;
    std::span<const std::string> path;
    const http::Responder& respond;
  };
  void list(const Call& call);     // GET tenants?provider=&status=&after=&limit=
  void create(const Call& call);   // POST tenants
  void show(const Call& call);     // GET tenants/{tenant}
  void patch(const Call& call);    // PATCH tenants/{tenant}
  void suspend(const Call& call);  // POST tenants/{tenant}/suspend
  void resume(const Call& call);   // POST tenants/{tenant}/resume
  void close(const Call& call);    // POST tenants/{tenant}/close
  void rotate(const Call& call);   // POST tenants/{tenant}/credentials/rotate

  tenants::Directory& directory_;
  tenants::Changes& changes_;
  TenantsApiOptions options_;
  std::unique_ptr<SettingsDesk> settings_;  // when options_.requests
};

// A change's answer body: {"tenant":...[,"issuedCredentials":[...]]} (the credentials shown this
// once).
std::string render_change(const tenants::ChangeResult& result);
// The HTTP status of a change's error (404, 400, 409, 503).
int change_status(tenants::ChangeError error);

// Answers a change: `ok_status` with the tenant (and the credentials it issued, shown this once),
// or its error in the admin API's words (tenant.not.found, tenant.exists, tenant.not.empty, ...).
void answer_change(const http::Responder& respond, const tenants::ChangeResult& result,
                   int ok_status = 200);
// The error of a failed change, in the admin API's envelope. REQUIRES: result.error != kNone.
http::Response change_error(const tenants::ChangeResult& result);

}  // namespace payoutd::admin
