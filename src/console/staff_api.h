#pragma once
// The admin API's staff section, /admin/v1/staff/ (docs/admin.md, "Staff, roles and API keys"),
// and the staff's API keys as the admin API's credentials (admin::KeyDirectory).
//
// POST   /admin/v1/staff                          admin   {"login","name","roles"} -> 201, with a
//                                                         generated initial password shown once
// GET    /admin/v1/staff                          viewer  every member
// GET    /admin/v1/staff/{login}                  viewer
// PATCH  /admin/v1/staff/{login}                  admin   {"name"?, "roles"?}; never one's own
// roles POST   /admin/v1/staff/{login}/disable|enable   admin   never the last enabled admin POST
// /admin/v1/staff/{login}/api-keys         admin or the member: {"name"} -> 201
//                                                         {"keyId","key"}, the key shown once
// GET    /admin/v1/staff/{login}/api-keys         admin or the member: no secrets
// DELETE /admin/v1/staff/{login}/api-keys/{id}    admin or the member: revoked at once
#include <span>
#include <string>
#include <string_view>

#include "admin/api.h"
#include "admin/section.h"
#include "cabinet/credential_checks.h"
#include "console/staff.h"

namespace payoutd::console {

class StaffApi : public admin::Section, public admin::KeyDirectory {
 public:
  // `checks` hashes the generated initial passwords (argon2id, off the I/O threads).
  StaffApi(Staff& staff, cabinet::CredentialChecks& checks) : staff_(staff), checks_(checks) {}

  std::string_view name() const override { return "staff"; }
  bool handle(http::Request& request, const admin::Actor& actor, std::span<const std::string> path,
              const http::Responder& respond) override;

  bool is_key(std::string_view bearer) const override;
  Identified identify(std::string_view key, const std::string& address) override;
  std::optional<bool> token_open() override;

 private:
  struct Call {
    http::Request& request;
    const admin::Actor& actor;
    std::span<const std::string> path;
    const http::Responder& respond;
  };
  void create(const Call& call);
  void list(const Call& call);
  void show(const Call& call);
  void update(const Call& call);
  void disable(const Call& call) { set_disabled(call, true); }
  void enable(const Call& call) { set_disabled(call, false); }
  void set_disabled(const Call& call, bool disabled);
  void create_key(const Call& call);
  void list_keys(const Call& call);
  void revoke_key(const Call& call);

  Staff& staff_;
  cabinet::CredentialChecks& checks_;
};

}  // namespace payoutd::console
