#pragma once
// What an operator does to a partner's cabinet users (docs/admin.md, "Cabinet users"), for the
// admin API (console/cabinet_users_api.h) and the console's page alike: create one with a
// generated password, change its roles, disable and enable it, reset its password. Each change is
// one committer job (users.h) that also writes a line to the tenant's cabinet audit log, so the
// partner sees what the operator did to its logins.
//
// A generated password is 120 random bits (20 base64url characters), hashed with argon2id on the
// cabinet's credential worker (never on an I/O thread), handed to `done` once the hash is durable
// (the one time it exists in clear: the caller shows it once and wipes it), and must be replaced by
// the user at its next sign-in. The users of the config are read only: kConfig.
#include <functional>
#include <string>

#include "cabinet/credential_checks.h"
#include "cabinet/users.h"

namespace payoutd::cabinet {

class UserAdmin {
 public:
  UserAdmin(Users& users, CredentialChecks& checks) : users_(users), checks_(checks) {}

  using Done = std::function<void(UserChange, const User&)>;
  // `password`: the generated one when kOk, else empty.
  using DoneWithPassword = std::function<void(UserChange, const User&, std::string password)>;

  // `address`: the operator's, whose turn on the credential worker the hashing takes.
  void create(const Tenant& tenant, std::string login, Roles roles, const std::string& address,
              const DoneWithPassword& done);
  void set_roles(const Tenant& tenant, std::string login, Roles roles, Done done);
  void set_disabled(const Tenant& tenant, std::string login, bool disabled, Done done);
  void reset_password(const Tenant& tenant, std::string login, const std::string& address,
                      const DoneWithPassword& done);

  Users& users() { return users_; }

 private:
  // A new password and its hash, on the worker: `then(password, hash)`, or `busy()`.
  void generate(const std::string& address, std::function<void(std::string, std::string)> then,
                std::function<void()> busy);

  Users& users_;
  CredentialChecks& checks_;
};

// "viewer, cards": the names of the roles, for audit lines and messages.
std::string roles_text(Roles roles);

}  // namespace payoutd::cabinet
