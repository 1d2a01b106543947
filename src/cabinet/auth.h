#pragma once
// The partner cabinet's logins, sessions and audit log (docs/cabinet.md).
//
// Users (users.h) come from the config ([[cabinet.users]]) or were created at run time through
// the admin API: a login, the tenant it sees, its roles (roles.h), and its password as an
// argon2id hash (libsodium's crypto_pwhash_str; `payoutd hash-password` makes one). Both kinds
// sign in the same way. The store keeps what changes, shared by every node: the runtime users,
// the sessions and each tenant's audit log. A password is checked on the auth worker thread,
// never on an I/O thread or the committer (argon2id is slow on purpose).
//
// A session is read with its user at every request: a user disabled, given a new password by the
// operator or moved ends its sessions; a change of roles applies at the next request; a user whose
// password someone else chose reaches only the password page (and signing out). A closed tenant's
// users neither sign in nor keep a session; a suspended tenant's users read (tenant_state).
//
// Passwords are checked by credential_checks.h's worker, throttled and admitted as it says, and a
// browser that signed in before is vouched for by its device token. A login that does not exist
// is answered exactly as a wrong password of one that does: the same check, the same throttle, the
// same durable round trip.
//
// A session is a random token in an HttpOnly cookie; the store holds only its hash, with the
// session's CSRF token.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cabinet/credential_checks.h"
#include "cabinet/roles.h"
#include "cabinet/user_admin.h"
#include "cabinet/users.h"
#include "core/clock.h"
#include "core/tenant.h"
#include "core/throttle.h"
#include "engine/payouts.h"
#include "store/store.h"

namespace payoutd::cabinet {

// A tenant's state, as the cabinet needs it.
enum class TenantState : std::uint8_t {
  kActive,
  kSuspended,  // its users sign in and read; its sections' forms are refused
  kClosed,     // its users neither sign in nor keep a session
};

struct AuthOptions {
  std::vector<User> users;  // [[cabinet.users]]
  // The state of a tenant, from any thread (the tenant directory's snapshot); unset: every tenant
  // active.
  std::function<TenantState(const Tenant&)> tenant_state;
  ThrottleOptions throttle;                   // wrong passwords per (login, address), per address
  int checks_per_address_per_minute = 20;     // password checks one address may start, any outcome,
  int checks_per_address_burst = 10;          // after a burst of this many
  std::size_t pending_max = 256;              // password checks waiting for the worker, in all
  std::size_t pending_per_address_max = 4;    // of them from one address
  std::int64_t pending_wait_ms_max = 10'000;  // a check waiting longer is answered "busy"
  bool refuse_published_passwords =
      false;  // outside the sandbox: its published passwords open nothing
  std::int64_t session_idle_ms = 30 * 60'000;    // a session unused this long ends
  std::int64_t session_max_ms = 12 * 3'600'000;  // and any session after this long
  std::int64_t device_ms = 90 * 86'400'000LL;    // a device token vouches for its login this long
};

struct Session {
  std::string token_hash;  // the store's key
  std::string login;
  Tenant tenant;  // stored as its key, read back by Tenant::parse
  std::string csrf;
  std::int64_t created_ms = 0, seen_ms = 0;
  std::int64_t generation = 0;  // the user's when the session opened (users.h)
  // Never stored: the user's, read with the session (a change applies at the next request).
  Roles roles;
  UserSource source = UserSource::kConfig;
  bool must_change_password = false;
  TenantState tenant_state = TenantState::kActive;
};

enum class LoginOutcome : std::uint8_t {
  kOk,           // `session` and `token` are set
  kWrong,        // unknown or disabled login, or wrong password (not told apart)
  kClosed,       // the right password of a closed tenant's user
  kThrottled,    // too many failures or checks from this address: retry after `retry_after_ms`
  kBusy,         // too many password checks waiting: retry
  kUnavailable,  // the store failed
};

struct LoginResult {
  LoginOutcome outcome = LoginOutcome::kWrong;
  std::string token;  // the cookie's value (only here, never stored)
  Session session;
  std::int64_t retry_after_ms = 0;
  std::string device_token;  // kOk from a browser without a valid device token: its new one
};

// One line of a tenant's audit log.
struct AuditEntry {
  std::int64_t at_ms = 0;
  std::string login, action, detail, address;
};

// Record kinds (store::WriteTxn::find_record).
inline constexpr std::string_view kSessionRecord = "cabinet-session";  // token hash -> session
inline constexpr std::string_view kDeviceRecord = "cabinet-device";    // token hash -> login, since
inline constexpr std::string_view kAuditRecord = "cabinet-audit";      // per tenant, newest first

// Writes a line of `tenant`'s audit log (inside a committer job).
void write_audit_line(store::WriteTxn& txn, const Tenant& tenant, const AuditEntry& e);

// What a change of one's own password came to.
enum class PasswordOutcome : std::uint8_t {
  kOk,
  kRejected,     // the new one too short or too long, not typed twice alike, or the current one
  kWrong,        // the current password is wrong
  kConfig,       // a user of the config: its password is the config's
  kThrottled,    // too many wrong passwords: retry later
  kBusy,         // too many password checks waiting
  kUnavailable,  // the store failed
};

// An argon2id hash of `password` (interactive limits), for the config and the runtime users.
std::string hash_password(std::string_view password);
// Whether `hash` is an argon2id hash with exactly hash_password's parameters (any other would
// make its login answer in another time than an unknown login).
bool is_password_hash(std::string_view hash);

class Auth {
 public:
  Auth(engine::PayoutEngine& engine, const store::Store& store, const Clock& clock,
       AuthOptions options);
  ~Auth();

  // Checks the password of a client at `address` with the device token its browser presented
  // (or none), throttled first; counts a failure or opens a session, writes the audit line;
  // `done` runs once that is durable, on the committer's or the worker's thread (at once, on the
  // caller's, when throttled or busy).
  void login(std::string login, std::string password, std::string address,
             const std::string& device, std::function<void(LoginResult)> done);
  // The session of a cookie's token, if it is open; touches it (at most once a minute). The
  // store's ReadError when it cannot be read: the caller answers "busy", not "signed out".
  store::Read<std::optional<Session>> session(std::string_view token);
  void logout(const Session& session, const std::string& address, std::function<void(bool)> done);
  // Writes an audit line for the session's tenant; `done(ok)` once durable.
  void audit(const Session& session, std::string action, std::string detail, std::string address,
             std::function<void(bool)> done);
  // The tenant's audit log, newest first; the store's ReadError when it cannot be read.
  store::Read<std::vector<AuditEntry>> audit_log(const Tenant& tenant, std::size_t limit) const;

  // Replaces a runtime user's password with one they chose: `current` must be right (argon2id, on
  // the worker, throttled as a sign-in is), `next` kPasswordCharsMin to kPasswordCharsMax
  // characters, typed twice alike (`again`) and not `current`. The user's other sessions end; this
  // one goes on. `done` once durable.
  void change_password(const Session& session, std::string current, std::string next,
                       std::string again, const std::string& address,
                       std::function<void(PasswordOutcome)> done);

  Users& users() { return users_; }
  // The operator's changes of users (the admin API's and the console's).
  UserAdmin& user_admin() { return admin_; }
  // The worker that checks passwords, for hashing new ones off the I/O threads.
  CredentialChecks& checks() { return checks_; }
  // How long a device token vouches for its login (its cookie's life).
  std::int64_t device_ms() const { return devices_.device_ms(); }

  // A random secret for a form (a CSRF token); compare two with secrets_equal (core/secrets.h).
  static std::string new_secret();

 private:
  void verify(const std::string& login, std::string password, const std::string& address,
              bool vouched, std::function<void(LoginResult)> done);
  void decide(const std::string& login, const std::optional<User>& user, bool verified,
              std::string address, bool vouched, std::function<void(LoginResult)> done);
  void store_password(const Session& session, std::string next, const std::string& address,
                      std::function<void(PasswordOutcome)> done);
  TenantState state_of(const Tenant& tenant) const;

  engine::PayoutEngine& engine_;
  const store::Store& store_;
  const Clock& clock_;
  AuthOptions options_;
  const std::string dummy_hash_;  // checked for unknown logins, so they take as long
  Users users_;
  Devices devices_;
  CredentialChecks checks_;
  UserAdmin admin_;
};

}  // namespace payoutd::cabinet
