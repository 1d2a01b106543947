#pragma once
// The cabinet's users (docs/cabinet.md, "Users"): those of the config ([[cabinet.users]]), read
// only, and those created at run time through the admin API (docs/admin.md, "Cabinet users"),
// stored as records written only inside committer jobs, so a user created, disabled or changed
// through one node is what every node reads at its next request.
//
// Records:
//   kUserRecord        (tenant "", key login) -> a runtime user: its tenant, roles, argon2id
//                      hash (exactly hash_password's parameters), flags, generation, times
//   kTenantUsersRecord (tenant key, kTenantUsersKey) -> the logins of the tenant's runtime users
//
// Invariants, kept by the jobs from what their transaction reads (a job may run twice):
// - a login names one user among all cabinet users, the config's and the runtime ones (the
//   config's logins are the same on every node: the job compares against them too);
// - a tenant holds at most kUsersPerTenantMax runtime users;
// - a user's generation rises when it is disabled or its password is set anew, and every session
//   opened under an older generation ends (auth.h), so neither a re-enabled user's nor a stolen
//   password's old sessions come back.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cabinet/roles.h"
#include "core/json.h"
#include "core/tenant.h"
#include "engine/payouts.h"
#include "store/store.h"

namespace payoutd::cabinet {

inline constexpr std::string_view kUserRecord = "cabinet-user";
inline constexpr std::string_view kTenantUsersRecord = "cabinet-users";
inline constexpr std::string_view kTenantUsersKey = "logins";

inline constexpr std::size_t kLoginSizeMax = 64;          // web::is_partner_id's characters
inline constexpr std::size_t kUsersPerTenantMax = 200;    // runtime users of one tenant
inline constexpr std::size_t kPasswordCharsMin = 12;      // a password a user chooses
inline constexpr std::size_t kPasswordCharsMax = 256;     // the sign-in form's bound
inline constexpr std::size_t kInitialPasswordBytes = 15;  // generated: 20 base64url characters

enum class UserSource : std::uint8_t {
  kConfig,   // [[cabinet.users]]: changed only in the config
  kRuntime,  // created through the admin API
};

struct User {
  std::string login;
  Tenant tenant;               // e.g. {"bereke", "sandbox-partner"}
  std::string password_hash;   // "$argon2id$..."
  Roles roles = Roles::all();  // a config that lists none: every role, as before roles existed
  UserSource source = UserSource::kConfig;
  bool disabled = false;
  // A password someone else chose (generated at creation or a reset): the user sets their own
  // before any other page opens.
  bool must_change_password = false;
  std::int64_t generation = 0;  // see the header
  std::int64_t revision = 0;    // 1 when created, +1 per change: what a form saw
  std::int64_t created_ms = 0, updated_ms = 0;
};

// The names of the roles a user holds, viewing first: ["viewer", "cards"].
std::vector<std::string_view> role_list(Roles roles);

std::string user_json(const User& u);
// A runtime user's record; nullopt when absent or not one user_json wrote.
std::optional<User> parse_user(const std::optional<std::string>& record);

// What a change of a user came to.
enum class UserChange : std::uint8_t {
  kOk,
  kNotFound,     // no such user of this tenant
  kExists,       // the login is taken (by a user of any tenant, config or runtime)
  kTooMany,      // the tenant has kUsersPerTenantMax runtime users already
  kConfig,       // a user of the config: read only here
  kUnavailable,  // the store failed, or the committer refused the job: nothing changed
};

class Users {
 public:
  // `config`: [[cabinet.users]], each of UserSource::kConfig.
  Users(engine::PayoutEngine& engine, const store::Store& store, std::vector<User> config);

  // The user of `login`, the config's first, else the store's. The store is read for every
  // login, the config's too, so that a login of either kind answers in the same time.
  store::Read<std::optional<User>> find(std::string_view login) const;
  // The tenant's users: the config's, then the runtime ones, each in login order.
  store::Read<std::vector<User>> of_tenant(const Tenant& tenant) const;
  // A config login that a runtime user holds too (a config changed after the user was created):
  // "" when none. The caller refuses to start on one.
  store::Read<std::string> config_conflict() const;

  // Inserts `u` (UserSource::kRuntime) unless its login is taken or its tenant is full: `done(kOk,
  // u as created)` once durable. `audit` is written to the tenant's audit log in the same
  // transaction when it is created.
  void create(User u, std::string audit_detail, std::string address,
              std::function<void(UserChange, User)> done);
  // Applies `edit` to the runtime user `login` of `tenant` as the transaction reads it; `edit`
  // returns false to leave it unchanged (and must then have written nothing). A config user is
  // kConfig, unchanged.
  using Edit = std::function<bool(User&, store::WriteTxn&, std::int64_t now_ms)>;
  void change(const Tenant& tenant, std::string login, Edit edit,
              std::function<void(UserChange, User)> done);

 private:
  const User* config_user(std::string_view login) const;

  engine::PayoutEngine& engine_;
  const store::Store& store_;
  std::vector<User> config_;
};

}  // namespace payoutd::cabinet
