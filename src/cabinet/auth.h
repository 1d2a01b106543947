#pragma once
// The partner cabinet's logins, sessions and audit log (docs/cabinet.md).
//
// Users come from the config ([[cabinet.users]]): a login, the tenant it sees, its roles
// (roles.h), and its password as an argon2id hash (libsodium's crypto_pwhash_str; `payoutd
// hash-password` makes one). The store keeps what changes, shared by every node: the sessions and
// each tenant's audit log. A password is checked on the auth worker thread, never on an I/O thread
// or the committer (argon2id is slow on purpose).
//
// Guessing is throttled, never locked (core/throttle.h): after a few wrong passwords a (login,
// client address) waits a growing delay, and each address has a bounded rate of failures, so a
// stranger slows only themself and cannot shut a partner out. Before a check is queued, the
// client's address must have budget for one (a bounded rate of argon2id checks per address), and
// the queue is served round-robin by address with a bound per address: a crowd of bad clients
// cannot deny the worker to everyone else. A login that does not exist is answered exactly as a
// wrong password of one that does: the same check, the same throttle, the same durable round trip.
//
// A browser that signed in before carries a device token (a random token in a long-lived
// HttpOnly cookie, its hash a store record naming the login): a sign-in of that login from it
// skips the address's budgets and goes ahead of the queue (the pair's delay still applies), so
// even a crowd of addresses guessing at once cannot keep a partner out of its own browser (what
// OWASP calls device cookies).
//
// A session is a random token in an HttpOnly cookie; the store holds only its hash, with the
// session's CSRF token.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cabinet/roles.h"
#include "core/clock.h"
#include "core/tenant.h"
#include "core/throttle.h"
#include "engine/payouts.h"
#include "store/store.h"

namespace payoutd::cabinet {

struct User {
  std::string login;
  Tenant tenant;               // e.g. {"bereke", "sandbox-partner"}
  std::string password_hash;   // "$argon2id$..."
  Roles roles = Roles::all();  // a config that lists none: every role, as before roles existed
};

struct AuthOptions {
  std::vector<User> users;
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
  // Never stored: the user's in the config, read with the session (a change applies at the next
  // request).
  Roles roles;
};

enum class LoginOutcome : std::uint8_t {
  kOk,           // `session` and `token` are set
  kWrong,        // unknown login or wrong password (not told apart)
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

// An argon2id hash of `password` (interactive limits), for the config.
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

  const User* user(std::string_view login) const;
  // How long a device token vouches for its login (its cookie's life).
  std::int64_t device_ms() const { return options_.device_ms; }

  // A random secret for a form (a CSRF token); compare two with secrets_equal (core/secrets.h).
  static std::string new_secret();

 private:
  // A password check waiting for the worker; `run(false)` checks, `run(true)` answers "busy"
  // (it waited too long, or the server stops).
  struct Check {
    std::int64_t queued_ms = 0;
    std::string login;
    std::function<void(bool expired)> run;
  };
  void work();
  bool next(Check& check);  // vouched-for first, then round-robin by address; false when stopping
  // Whether `device` is a device token of `login`'s, still valid.
  bool vouches(std::string_view device, std::string_view login) const;
  void verify(std::string login, std::string password, std::string address, bool vouched,
              std::function<void(LoginResult)> done);
  void decide(const std::string& login, bool verified, std::string address, bool vouched,
              std::function<void(LoginResult)> done);

  engine::PayoutEngine& engine_;
  const store::Store& store_;
  const Clock& clock_;
  AuthOptions options_;
  const std::string dummy_hash_;  // checked for unknown logins, so they take as long
  Throttle throttle_;
  RateLimit checks_;  // argon2id checks per address

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::deque<Check>> pending_;  // by address key
  std::deque<std::string> turns_;                     // addresses with checks waiting, in turn
  std::size_t pending_count_ = 0;
  std::deque<Check> vouched_;                      // checks from browsers a login vouched for
  std::map<std::string, std::size_t> vouched_of_;  // of them, per login
  bool stopping_ = false;
  std::thread worker_;
};

// A session token as the store keys it: BLAKE2b-256, in hex.
std::string token_hash(std::string_view token);

}  // namespace payoutd::cabinet
