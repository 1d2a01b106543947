#pragma once
// Operator staff (docs/admin.md, "Staff, roles and API keys"): the members who call the admin API
// with their own API keys and sign in to the console, each with roles (admin/actor.h). Stored as
// records of tenant "" (the kinds below), written only inside committer jobs, so every node sees a
// change at once: a disabled member's keys and sessions stop on the next call of any node, and a
// revoked key too.
//
// What is stored of each secret: the password as an argon2id hash (cabinet::hash_password); the
// TOTP secret sealed by the vault (cards/vault.h, as one-time codes of the outbox are: bound to
// the member, opened only to check a code), so that reading the database yields no second factor;
// an API key as a keyed BLAKE2b-256 of its secret (the secret is 256 random bits: a fast hash is
// as good as a slow one against guessing, and a key is checked on every admin call).
//
// Invariants, kept by the jobs from what their transaction reads: a login is created once; at
// least one enabled member holds the admin role once one does (the last one is neither disabled
// nor stripped of it); no member changes their own roles.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/actor.h"
#include "cards/vault.h"
#include "core/clock.h"
#include "core/json.h"
#include "engine/payouts.h"
#include "store/store.h"

namespace payoutd::console {

// Record kinds (tenant "").
inline constexpr std::string_view kMemberRecord = "staff-member";    // login -> member
inline constexpr std::string_view kAdminsRecord = "staff-admins";    // "enabled" -> their logins
inline constexpr std::string_view kKeyRecord = "staff-key";          // key id -> API key
inline constexpr std::string_view kSessionRecord = "staff-session";  // token hash -> session
inline constexpr std::string_view kDeviceRecord = "staff-device";    // token hash -> login, since

inline constexpr std::size_t kLoginSizeMax = 64;      // web::is_partner_id's characters
inline constexpr std::size_t kStaffListedMax = 1000;  // members one GET lists
inline constexpr std::size_t kKeysReadMax = 10'000;   // API keys read to list a member's
inline constexpr std::size_t kKeysPerMemberMax = 20;  // active keys of one member

struct Member {
  std::string login, name;
  admin::Roles roles;
  std::string password_hash;  // argon2id
  // A password someone else chose (the generated initial one): changed at the next sign-in.
  bool must_change_password = false;
  std::string totp_sealed;          // the confirmed TOTP secret, sealed; empty: not enrolled
  std::string totp_pending_sealed;  // the one offered at enrolment, until a code confirms it
  std::int64_t totp_used_step = 0;  // the latest step whose code was accepted (codes count once)
  bool disabled = false;
  std::int64_t active_keys = 0;  // API keys not revoked
  std::int64_t created_ms = 0, updated_ms = 0;
};

struct ApiKey {
  std::string id, login, name;
  std::string hash;  // api_key_hash of its secret
  std::int64_t created_ms = 0, last_used_ms = 0, revoked_ms = 0;
};

// A member the config bootstraps ([[admin.staff]]): inserted when its login is absent.
struct Seed {
  std::string login, name;
  admin::Roles roles;
  std::string password_hash;
};

// The role called `name` ("viewer", "support", "finance", "admin"); nullopt for another name.
std::optional<admin::Role> role_of(std::string_view name);
// "viewer, support, finance, admin": the names, for messages.
std::string role_names();
// The roles of a JSON array of their names: nullopt with *error naming the problem (not an
// array, an unknown name, none at all).
std::optional<admin::Roles> roles_of(const json::Value& names, std::string* error);
// Writes the roles as an array of their names.
void write_roles(json::Writer& w, admin::Roles roles);

// API keys: "pdk_" + a 16-hex-digit key id + "_" + the secret (43 base64url characters, 256
// bits). The id finds the record; the secret is what is hashed.
struct KeyText {
  std::string id, secret;
};
inline constexpr std::string_view kKeyPrefix = "pdk_";
std::optional<KeyText> parse_api_key(std::string_view text);
// A new key: its id and secret, and its text (shown once).
KeyText new_api_key();
std::string api_key_text(const KeyText& key);
// The keyed hash stored of a key (bound to its id), in hex.
std::string api_key_hash(const KeyText& key);

std::string member_json(const Member& m);
std::optional<Member> parse_member(const std::optional<std::string>& record);
std::string key_json(const ApiKey& k);
std::optional<ApiKey> parse_key(const std::optional<std::string>& record);

// What a change of staff came to.
enum class Change : std::uint8_t {
  kOk,
  kNotFound,     // no such member (or key)
  kExists,       // the login is taken
  kOwnRoles,     // a member changing their own roles
  kLastAdmin,    // it would leave no enabled admin
  kTooManyKeys,  // kKeysPerMemberMax active keys already
  kUnavailable,  // the store failed, or the committer refused the job: nothing changed
};

// The staff in the store: reads, and changes through the committer (each `done` runs once the
// change is durable, on the committer's thread, or at once when the job is refused).
class Staff {
 public:
  Staff(engine::PayoutEngine& engine, const store::Store& store, const Clock& clock)
      : engine_(engine), store_(store), clock_(clock) {}

  store::Read<std::optional<Member>> member(std::string_view login) const;
  store::Read<std::vector<Member>> members() const;  // in login order, up to kStaffListedMax
  store::Read<std::optional<ApiKey>> key(std::string_view id) const;
  store::Read<std::vector<ApiKey>> keys_of(std::string_view login) const;  // oldest first
  // The logins of the enabled admins.
  store::Read<std::vector<std::string>> enabled_admins() const;

  // Inserts each seed whose login is absent; `done(ok)`.
  void seed(std::vector<Seed> seeds, std::function<void(bool)> done);
  // Inserts `m` unless its login exists: `done(kOk, m as created)`.
  void create(Member m, std::function<void(Change, Member)> done);
  // Sets the name and/or roles of `login` as `actor` asks.
  void update(std::string login, std::optional<std::string> name, std::optional<admin::Roles> roles,
              const std::string& actor, std::function<void(Change, Member)> done);
  void set_disabled(std::string login, bool disabled, std::function<void(Change, Member)> done);
  // Applies `change` to the member's record as the transaction reads it (the console's password,
  // TOTP and sign-in steps, which write their session in the same transaction): `change` returns
  // false to leave the member unchanged (and must then have written nothing).
  using MemberChange = std::function<bool(Member&, store::WriteTxn&, std::int64_t now_ms)>;
  void change_member(std::string login, MemberChange change,
                     std::function<void(Change, Member)> done);
  // A new key of `login` named `name`: `done(kOk, key, its text)`.
  void create_key(std::string login, std::string name,
                  std::function<void(Change, ApiKey, std::string)> done);
  void revoke_key(std::string login, std::string id, std::function<void(Change)> done);
  // Notes a key's use (at most once a minute: a write per admin call would be a write per read).
  void touch_key(const ApiKey& key);

 private:
  engine::PayoutEngine& engine_;
  const store::Store& store_;
  const Clock& clock_;
};

// Sealing a member's TOTP secret with the vault: bound to the login.
std::string seal_totp(const cards::Vault& vault, std::string_view login, std::string_view secret);
std::optional<std::string> open_totp(const cards::Vault& vault, std::string_view login,
                                     std::string_view sealed);

}  // namespace payoutd::console
