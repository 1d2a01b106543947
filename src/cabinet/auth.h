#pragma once
// The partner cabinet's logins, sessions and audit log (docs/cabinet.md).
//
// Users come from the config ([[cabinet.users]]): a login, the tenant it sees, and its password
// as an argon2id hash (libsodium's crypto_pwhash_str; `payoutd hash-password` makes one). The
// store keeps what changes, shared by every node: each login's consecutive failures and lockout,
// the sessions, and each tenant's audit log. A password is checked on the auth worker thread,
// never on an I/O thread or the committer (argon2id is slow on purpose). After
// `lockout_failures` wrong passwords in a row a login is locked for `lockout_minutes`: even the
// right password is refused until then. A session is a random token in an HttpOnly cookie; the
// store holds only its hash, with the session's CSRF token.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "engine/payouts.h"
#include "store/store.h"

namespace payoutd::cabinet {

struct User {
  std::string login;
  std::string tenant;         // e.g. "bereke:sandbox-partner"
  std::string password_hash;  // "$argon2id$..."
};

struct AuthOptions {
  std::vector<User> users;
  int lockout_failures = 10;
  std::int64_t lockout_ms = 30 * 60'000;
  std::int64_t session_idle_ms = 30 * 60'000;    // a session unused this long ends
  std::int64_t session_max_ms = 12 * 3'600'000;  // and any session after this long
  std::size_t pending_max = 64;                  // password checks waiting for the worker
};

struct Session {
  std::string token_hash;  // the store's key
  std::string login, tenant, csrf;
  std::int64_t created_ms = 0, seen_ms = 0;
};

enum class LoginOutcome : std::uint8_t {
  kOk,            // `session` and `token` are set
  kWrong,         // unknown login or wrong password (not told apart)
  kLocked,        // too many failures: `locked_until_ms`
  kBusy,          // too many password checks waiting: retry
  kUnavailable,   // the store failed
};

struct LoginResult {
  LoginOutcome outcome = LoginOutcome::kWrong;
  std::string token;  // the cookie's value (only here, never stored)
  Session session;
  std::int64_t locked_until_ms = 0;
};

// One line of a tenant's audit log.
struct AuditEntry {
  std::int64_t at_ms = 0;
  std::string login, action, detail, address;
};

// Record kinds (store::WriteTxn::find_record).
inline constexpr std::string_view kLoginRecord = "cabinet-login";      // login -> failures, lock
inline constexpr std::string_view kSessionRecord = "cabinet-session";  // token hash -> session
inline constexpr std::string_view kAuditRecord = "cabinet-audit";      // per tenant, newest first

// An argon2id hash of `password` (interactive limits), for the config.
std::string hash_password(std::string_view password);
// Whether `hash` is a hash crypto_pwhash_str_verify understands as argon2id.
bool is_password_hash(std::string_view hash);

class Auth {
 public:
  Auth(engine::PayoutEngine& engine, const store::Store& store, const Clock& clock, AuthOptions options);
  ~Auth();

  // Checks the password, counts a failure or opens a session, writes the audit line; `done`
  // runs once that is durable, on the committer's or the worker's thread.
  void login(std::string login, std::string password, std::string address,
             std::function<void(LoginResult)> done);
  // The session of a cookie's token, if it is open; touches it (at most once a minute).
  std::optional<Session> session(std::string_view token);
  void logout(const Session& session, std::string address, std::function<void(bool)> done);
  // Writes an audit line for the session's tenant; `done(ok)` once durable.
  void audit(const Session& session, std::string action, std::string detail, std::string address,
             std::function<void(bool)> done);
  // The tenant's audit log, newest first.
  std::vector<AuditEntry> audit_log(std::string_view tenant, std::size_t limit) const;

  const User* user(std::string_view login) const;

  // A random secret for a form (a CSRF token), and the constant-time comparison of two.
  static std::string new_secret();
  static bool same_secret(std::string_view a, std::string_view b);

 private:
  void work();
  void decide(std::string login, bool verified, std::string address,
              std::function<void(LoginResult)> done);

  engine::PayoutEngine& engine_;
  const store::Store& store_;
  const Clock& clock_;
  AuthOptions options_;
  std::string dummy_hash_;  // checked for unknown logins, so they take as long

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> pending_;
  bool stopping_ = false;
  std::thread worker_;
};

// A session token as the store keys it: BLAKE2b-256, in hex.
std::string token_hash(std::string_view token);

}  // namespace payoutd::cabinet
