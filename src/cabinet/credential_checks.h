#pragma once
// What every sign-in of people shares (the partner cabinet's, auth.h, and the operators'
// console's, console/auth.h): the argon2id worker, its admission, and device tokens.
//
// Password checks (argon2id is slow on purpose) run on one worker thread of their own, never on an
// I/O thread or the committer. Guessing is throttled, never locked (core/throttle.h): a (login,
// client address) waits a growing delay after a few wrong passwords and each address has a
// bounded rate of failures. Before a check is queued, the client's address must have budget for
// one (a bounded rate of checks per address, whatever their outcome), and the queue is served
// round-robin by address with a bound per address: a crowd of bad clients cannot deny the worker
// to everyone else.
//
// A browser that signed in before carries a device token (a random token in a long-lived
// HttpOnly cookie, its hash a store record naming the login): a sign-in of that login from it
// skips the address's budgets and goes ahead of the queue (the pair's delay still applies), so
// even a crowd of addresses guessing at once cannot keep a person out of their own browser (what
// OWASP calls device cookies).
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/clock.h"
#include "core/json.h"
#include "core/throttle.h"
#include "store/store.h"

namespace payoutd::cabinet {

struct CheckOptions {
  ThrottleOptions throttle;                   // wrong passwords per (login, address), per address
  int checks_per_address_per_minute = 20;     // checks one address may start, any outcome,
  int checks_per_address_burst = 10;          // after a burst of this many
  std::size_t pending_max = 256;              // checks waiting for the worker, in all
  std::size_t pending_per_address_max = 4;    // of them from one address
  std::int64_t pending_wait_ms_max = 10'000;  // a check waiting longer is answered "busy"
};

class Devices;

// One worker thread for argon2id (checks and new hashes), admitted as the header says.
class CredentialChecks {
 public:
  // `thread_name`: the worker's name in `top` (at most 15 characters).
  CredentialChecks(const Clock& clock, CheckOptions options, const char* thread_name);
  ~CredentialChecks();  // answers what still waits "busy", then joins the worker
  CredentialChecks(const CredentialChecks&) = delete;
  CredentialChecks& operator=(const CredentialChecks&) = delete;

  // A check of `login`'s password from `address`, `vouched` when the browser's device token is
  // the login's: throttled first. Returns 0 when `run` was taken: it runs once, on the worker
  // (`run(false)`: check now), or with `run(true)` ("busy": the queue is full, the check waited
  // too long, or the worker stops; perhaps at once on the caller's thread). Otherwise how long
  // (ms) the client must wait, and `run` is dropped.
  std::int64_t check(const std::string& login, const std::string& address, bool vouched,
                     std::function<void(bool busy)> run);
  // A sign-in's password step: whether `device` (the browser's device token, or empty) vouches
  // for `login`, then check() as above. `verify(login, password, address, vouched)` runs on the
  // worker (and wipes the password); `busy()` when it cannot run; the wait when throttled.
  using Verify = std::function<void(std::string login, std::string password, std::string address,
                                    bool vouched)>;
  std::int64_t check_password(const Devices& devices, std::string login, std::string password,
                              std::string address, std::string_view device, Verify verify,
                              std::function<void()> busy);
  // Work that guesses nothing (hashing a new password of a signed-in person): queued as a check
  // of `address` is, with no throttle.
  void queue(const std::string& address, std::function<void(bool busy)> run);

  // How long (ms) a check of `credential` from `address` must wait for the throttle (0: none),
  // without queueing anything: for checks that are cheap (a TOTP code), throttled all the same.
  std::int64_t throttled_ms(const std::string& credential, const std::string& address);
  // The outcome of a check, for the (login, address) pair's delay and the address's failures.
  void failed(const std::string& login, const std::string& address);
  void succeeded(const std::string& login, const std::string& address);

 private:
  struct Check {
    std::int64_t queued_ms = 0;
    std::string login;  // empty unless vouched
    std::function<void(bool busy)> run;
  };
  void enqueue(Check check, const std::string& where, bool vouched);
  void work();
  bool next(Check& check);  // vouched-for first, then round-robin by address; false when stopping

  const Clock& clock_;
  const CheckOptions options_;
  Throttle throttle_;
  RateLimit budgets_;  // checks per address

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

// Device tokens of one sign-in (records of `kind`, tenant "": token hash -> login, since).
class Devices {
 public:
  Devices(const store::Store& store, std::string_view kind, std::int64_t device_ms)
      : store_(store), kind_(kind), device_ms_(device_ms) {}
  // Whether `device` is a token of `login`'s, still valid at `now_ms`. Unread, the browser is a
  // stranger: its sign-in is throttled as every stranger's is.
  bool vouches(std::string_view device, std::string_view login, std::int64_t now_ms) const;
  // Records `device`, a new token of `login` (inside a committer job).
  void write(store::WriteTxn& txn, std::string_view device, std::string_view login,
             std::int64_t now_ms) const;
  std::int64_t device_ms() const { return device_ms_; }

 private:
  const store::Store& store_;
  std::string_view kind_;
  std::int64_t device_ms_;
};

// Whether `password` is the one `hash` (argon2id) was made of: slow on purpose, on the worker
// only. Where `refuse_published` (outside the sandbox) a password published with the sandbox
// opens nothing, and the refusal is logged naming `where` ("cabinet") and `login`. Wipes
// `password`.
bool password_matches(std::string_view hash, std::string& password, bool refuse_published,
                      std::string_view where, std::string_view login);

// A token as the store keys it: BLAKE2b-256, in hex.
std::string token_hash(std::string_view token);

// Reading a record's JSON: the object, or nullopt when absent or not an object.
std::optional<json::Value> record_object(const std::optional<std::string>& text);

}  // namespace payoutd::cabinet
