#include "cabinet/user_admin.h"

#include <sodium.h>

#include <memory>

#include "cabinet/auth.h"
#include "core/ids.h"

namespace payoutd::cabinet {
namespace {

// The audit lines of the operator's changes name no operator (the partner sees them).
constexpr std::string_view kByOperator = " (by the operator)";

void wipe(std::string& secret) { sodium_memzero(secret.data(), secret.size()); }

}  // namespace

std::string roles_text(Roles roles) {
  std::string out;
  for (const std::string_view name : role_list(roles)) {
    out.append(out.empty() ? "" : ", ").append(name);
  }
  return out;
}

void UserAdmin::generate(const std::string& address,
                         std::function<void(std::string, std::string)> then,
                         std::function<void()> busy) {
  checks_.queue(address, [then = std::move(then), busy = std::move(busy)](bool is_busy) {
    if (is_busy) return busy();
    std::string password = random_url_token(kInitialPasswordBytes);
    std::string hash = hash_password(password);
    then(std::move(password), std::move(hash));
  });
}

void UserAdmin::create(const Tenant& tenant, std::string login, Roles roles,
                       const std::string& address, const DoneWithPassword& done) {
  auto busy = [done] { done(UserChange::kUnavailable, {}, {}); };
  generate(
      address,
      [this, tenant, login = std::move(login), roles, done](std::string password,
                                                            std::string hash) mutable {
        User u{.login = std::move(login),
               .tenant = tenant,
               .password_hash = std::move(hash),
               .roles = roles,
               .source = UserSource::kRuntime,
               .must_change_password = true};
        const std::string detail = "roles: " + roles_text(roles) + std::string(kByOperator);
        auto shown = std::make_shared<std::string>(std::move(password));
        users_.create(std::move(u), detail, "", [shown, done](UserChange c, const User& created) {
          done(c, created, c == UserChange::kOk ? *shown : std::string());
          wipe(*shown);
        });
      },
      busy);
}

void UserAdmin::set_roles(const Tenant& tenant, std::string login, Roles roles, Done done) {
  users_.change(
      tenant, std::move(login),
      [roles](User& u, store::WriteTxn& txn, std::int64_t now_ms) {
        if (u.roles == roles) return false;
        const std::string detail = roles_text(u.roles) + " -> " + roles_text(roles);
        u.roles = roles;
        write_audit_line(txn, u.tenant,
                         {now_ms, u.login, "user.roles", detail + std::string(kByOperator), ""});
        return true;
      },
      std::move(done));
}

void UserAdmin::set_disabled(const Tenant& tenant, std::string login, bool disabled, Done done) {
  users_.change(
      tenant, std::move(login),
      [disabled](User& u, store::WriteTxn& txn, std::int64_t now_ms) {
        if (u.disabled == disabled) return false;
        u.disabled = disabled;
        if (disabled) ++u.generation;  // its sessions end, and stay ended once it is enabled
        write_audit_line(txn, u.tenant,
                         {now_ms, u.login, disabled ? "user.disabled" : "user.enabled",
                          std::string(kByOperator.substr(1)), ""});
        return true;
      },
      std::move(done));
}

void UserAdmin::reset_password(const Tenant& tenant, std::string login, const std::string& address,
                               const DoneWithPassword& done) {
  auto busy = [done] { done(UserChange::kUnavailable, {}, {}); };
  generate(
      address,
      [this, tenant, login = std::move(login), done](std::string password,
                                                     std::string hash) mutable {
        auto shown = std::make_shared<std::string>(std::move(password));
        users_.change(
            tenant, std::move(login),
            [hash = std::move(hash)](User& u, store::WriteTxn& txn, std::int64_t now_ms) {
              u.password_hash = hash;
              u.must_change_password = true;
              ++u.generation;  // a password someone may have learnt opens no session any more
              write_audit_line(
                  txn, u.tenant,
                  {now_ms, u.login, "user.password.reset", std::string(kByOperator.substr(1)), ""});
              return true;
            },
            [shown, done](UserChange c, const User& changed) {
              done(c, changed, c == UserChange::kOk ? *shown : std::string());
              wipe(*shown);
            });
      },
      busy);
}

}  // namespace payoutd::cabinet
