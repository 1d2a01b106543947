#pragma once
// A section of the admin API under one tenant: the paths under
// /admin/v1/tenants/{tenant}/<name>/ (a partner's cabinet users: console/cabinet_users_api.h).
// The admin API does the rest before it asks one: the caller is authenticated (and a mutating
// call is in the operators' audit log around it, admin/call_audit.h), and {tenant} is a tenant of
// the config or of the tenant directory; a closed tenant's paths answer reads only (any other
// method: 409 tenant.closed). A section checks the role each of its paths needs and answers in
// the admin API's words (admin/answers.h).
#include <span>
#include <string>
#include <string_view>

#include "admin/actor.h"
#include "core/tenant.h"
#include "http/server.h"

namespace payoutd::admin {

class TenantSection {
 public:
  virtual ~TenantSection() = default;
  // The path segment after tenants/{tenant}/ that is its own ("cabinet-users"); not "funders".
  virtual std::string_view name() const = 0;
  // Answers `request` of `actor` about `tenant`; `path` holds its segments from <name> on
  // ("cabinet-users", "alice", "disable"). False when `path` is none of its own: the admin API then
  // answers 404 route.not.found.
  virtual bool handle(http::Request& request, const Actor& actor, const Tenant& tenant,
                      std::span<const std::string> path, const http::Responder& respond) = 0;
};

}  // namespace payoutd::admin
