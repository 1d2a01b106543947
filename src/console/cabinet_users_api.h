#pragma once
// The admin API's cabinet users of a partner (docs/admin.md, "Cabinet users"), under
// /admin/v1/tenants/{tenant}/ (a tenant of the config or of the directory, of any provider):
//
// GET   cabinet-users                         viewer   its users: the config's and the runtime ones
// POST  cabinet-users                         support  {"login","roles"} -> 201, with a generated
//                                                      initial password shown once
// GET   cabinet-users/{login}                 viewer
// PATCH cabinet-users/{login}                 support  {"roles"}: applies at the user's next
// request POST  cabinet-users/{login}/disable|enable  support  disabling ends its sessions at their
// next
//                                                      request
// POST  cabinet-users/{login}/reset-password  support  a new generated password shown once; the
//                                                      user's sessions end
//
// Support is the narrowest role that suffices: these act for a partner and move no money
// (admin/actor.h). A login is unique among every cabinet user of every tenant, config or runtime
// (409 cabinet-user.exists, decided in the creating transaction); the config's users are read
// only here (409 cabinet-user.config): their config entry is what every node reads at start.
#include <span>
#include <string>
#include <string_view>

#include "admin/tenant_section.h"
#include "cabinet/user_admin.h"

namespace payoutd::console {

class CabinetUsersApi : public admin::TenantSection {
 public:
  explicit CabinetUsersApi(cabinet::UserAdmin& users) : users_(users) {}

  std::string_view name() const override { return "cabinet-users"; }
  bool handle(http::Request& request, const admin::Actor& actor, const Tenant& tenant,
              std::span<const std::string> path, const http::Responder& respond) override;

 private:
  struct Call {
    http::Request& request;
    const Tenant& tenant;
    std::span<const std::string> path;  // "cabinet-users"[, login[, action]]
    const http::Responder& respond;
  };
  void list(const Call& call);
  void create(const Call& call);
  void show(const Call& call);
  void set_roles(const Call& call);
  void disable(const Call& call) { set_disabled(call, true); }
  void enable(const Call& call) { set_disabled(call, false); }
  void set_disabled(const Call& call, bool disabled);
  void reset_password(const Call& call);

  cabinet::UserAdmin& users_;
};

}  // namespace payoutd::console
