#pragma once
// The console's sign-in (docs/console.md): a staff member's password (argon2id, on the credential
// worker: cabinet/credential_checks.h, with its throttles, budgets and device tokens), then a
// TOTP code (totp.h); at the first sign-in the member enrols a TOTP secret, confirmed by a first
// valid code before it counts, and replaces a password someone else chose.
//
// A session is a random token in an HttpOnly cookie; the store keeps its hash (kSessionRecord)
// with its CSRF token and its stage. A session opened by the password alone reaches only the next
// step (the code, the enrolment, the new password); the pages open at kSignedIn. It ends after
// an idle and an absolute timeout, at logout, and at once when its member is disabled.
//
// A code counts once: the member's record keeps the latest step whose code was accepted, and a
// code of that step or an earlier one is refused, decided inside the transaction that accepts it
// (two nodes cannot both accept one code). Wrong codes are throttled as wrong passwords are, per
// (login, address) and per address.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "admin/audit_trail.h"
#include "cabinet/credential_checks.h"
#include "cards/vault.h"
#include "console/staff.h"
#include "engine/payouts.h"

namespace payoutd::console {

struct AuthOptions {
  std::vector<Seed> staff;                      // [[admin.staff]]: bootstrapped when absent
  cabinet::CheckOptions checks;                 // [throttle] and [console]'s check budgets
  bool refuse_published_passwords = false;      // outside the sandbox
  std::int64_t session_idle_ms = 15 * 60'000;   // a session unused this long ends
  std::int64_t session_max_ms = 8 * 3'600'000;  // and any session after this long
  std::int64_t device_ms = 30 * 86'400'000LL;   // a device token vouches for its login this long
  std::string issuer = "payoutd";               // the name an authenticator app shows
};

enum class Stage : std::uint8_t {
  kCode,      // the password was right: a TOTP code next
  kEnrol,     // the password was right and no TOTP secret is enrolled: enrol one
  kPassword,  // the second factor passed; the password someone else chose must be replaced
  kSignedIn,
};

struct Session {
  std::string token_hash;  // the store's key
  std::string login, csrf;
  Stage stage = Stage::kCode;
  std::int64_t created_ms = 0, seen_ms = 0;
  Member member;  // read with the session: a change of roles applies at the next request
};

enum class Outcome : std::uint8_t {
  kOk,
  kWrong,        // a wrong login, password or code (never told apart), or a reused code
  kThrottled,    // retry after `retry_after_ms`
  kRejected,     // a new password too short, or not typed twice alike
  kBusy,         // too many checks waiting: retry
  kUnavailable,  // the store failed, or the vault is closed (the console needs vault.kek)
};

struct Result {
  Outcome outcome = Outcome::kWrong;
  std::string token;  // a new session's cookie (the password step only)
  std::optional<Session> session;
  std::int64_t retry_after_ms = 0;
  std::string device_token;  // a new device token for this browser, when it had none
};

// The shortest password a member may choose.
inline constexpr std::size_t kPasswordCharsMin = 12;
inline constexpr std::size_t kPasswordCharsMax = 256;

class Auth {
 public:
  // `vault` seals the TOTP secrets; while it is closed no code can be checked nor enrolled.
  Auth(engine::PayoutEngine& engine, const store::Store& store, const Clock& clock, Staff& staff,
       const cards::Vault& vault, cabinet::CredentialChecks& checks, AuthOptions options);

  // The config's members, inserted when absent; `done(ok)` once durable.
  void bootstrap(std::function<void(bool)> done);

  // The password step. `done` runs once, on the worker's or committer's thread (at once on the
  // caller's when throttled or busy).
  void password(std::string login, std::string password, std::string address,
                const std::string& device, std::function<void(Result)> done);
  // The code step of a kCode session, or the confirming code of a kEnrol one.
  void code(const Session& session, std::string code, const std::string& address,
            std::function<void(Result)> done);
  // The secret offered to a kEnrol session (the same until it is confirmed), in clear for the
  // page only; nullopt when the vault is closed or the store failed.
  void enrolment(const Session& session, std::function<void(std::optional<std::string>)> done);
  // Replaces the member's password: `current` must be right (argon2id, on the worker), `next`
  // at least kPasswordCharsMin characters and typed twice alike (`again`).
  void change_password(const Session& session, std::string current, std::string next,
                       std::string again, const std::string& address,
                       std::function<void(Outcome)> done);

  // The open session of a cookie's token; touches it (at most once a minute). The store's
  // ReadError when it cannot be read.
  store::Read<std::optional<Session>> session(std::string_view token);
  void logout(const Session& session, const std::string& address, std::function<void(bool)> done);

  std::int64_t device_ms() const { return devices_.device_ms(); }
  const std::string& issuer() const { return options_.issuer; }
  // The operators' audit log the sign-in events go to (the admin API's, so one chain); before
  // the server starts. Without one they are only logged.
  void set_audit_trail(const admin::AuditTrail* trail) { trail_ = trail; }

 private:
  // A sign-in event, once durable: "signed-in", "password-wrong", "code-wrong", "totp-enrolled",
  // "signed-out", "password-changed". Logged, and written to the operators' audit log as an
  // action of `login` (a login that does not exist too: the entry says who was tried).
  void sign_in_event(std::string_view event, std::string_view login,
                     std::string_view address) const;

  void verify(const std::string& login, std::string password, const std::string& address,
              bool vouched, std::function<void(Result)> done);
  void open_session(const std::string& login, bool verified, const std::string& address,
                    bool vouched, std::function<void(Result)> done);

  engine::PayoutEngine& engine_;
  const store::Store& store_;
  const Clock& clock_;
  Staff& staff_;
  const cards::Vault& vault_;
  cabinet::CredentialChecks& checks_;
  AuthOptions options_;
  const std::string dummy_hash_;  // checked for unknown logins, so they take as long
  cabinet::Devices devices_;
  const admin::AuditTrail* trail_ = nullptr;
};

}  // namespace payoutd::console
