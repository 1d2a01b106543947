#include "cabinet/auth.h"

#include <sodium.h>

#include <atomic>
#include <cstdio>

#include "core/hex.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/secrets.h"
#include "engine/committer.h"

namespace payoutd::cabinet {

namespace {

constexpr std::int64_t kTouchEveryMs = 60'000;

// The checks' admission, from the cabinet's options.
CheckOptions check_options(const AuthOptions& o) {
  return {.throttle = o.throttle,
          .checks_per_address_per_minute = o.checks_per_address_per_minute,
          .checks_per_address_burst = o.checks_per_address_burst,
          .pending_max = o.pending_max,
          .pending_per_address_max = o.pending_per_address_max,
          .pending_wait_ms_max = o.pending_wait_ms_max};
}

std::string session_json(const Session& s, bool ended) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("login").string(s.login).key("tenant").string(s.tenant.key());
  w.key("csrf")
      .string(s.csrf)
      .key("created_ms")
      .integer(s.created_ms)
      .key("seen_ms")
      .integer(s.seen_ms)
      .key("generation")
      .integer(s.generation);
  if (ended) w.key("ended").boolean(true);
  w.end_object();
  return out;
}

template <typename Result, typename Apply, typename Done>
bool submit(engine::PayoutEngine& engine, Apply apply, Done done) {
  return engine.committer().submit(engine::make_job<Result>(std::move(apply), std::move(done)));
}

void wipe(std::string& secret) { sodium_memzero(secret.data(), secret.size()); }

// The session a sign-in of `u` opens, for the cookie `token`.
Session session_of(const User& u, std::string_view token, TenantState state) {
  return {.token_hash = token_hash(token),
          .login = u.login,
          .tenant = u.tenant,
          .csrf = random_url_token(24),
          .generation = u.generation,
          .roles = u.roles,
          .source = u.source,
          .must_change_password = u.must_change_password,
          .tenant_state = state};
}

// Whether the runtime user `login`, whose password hash `hash` was checked, was disabled, given
// another password or had its sessions ended since (inside the sign-in's job): the check is void.
bool changed_since(store::WriteTxn& txn, const std::string& login, const std::string& hash,
                   std::int64_t generation) {
  const std::optional<User> now = parse_user(txn.find_record("", kUserRecord, login));
  return !now || now->disabled || now->password_hash != hash || now->generation != generation;
}

}  // namespace

// Newest first in key order: the time counted down from the year 2286, then this process's
// count of lines counted down (lines of one millisecond keep their order), then a random suffix
// (lines of two nodes never collide).
void write_audit_line(store::WriteTxn& txn, const Tenant& tenant, const AuditEntry& e) {
  static std::atomic<std::uint64_t> lines{0};
  char key[64];
  unsigned char suffix[4];
  random_bytes(suffix, sizeof suffix);
  (void)std::snprintf(
      key, sizeof key, "%013lld-%010llu-%s", static_cast<long long>(9'999'999'999'999 - e.at_ms),
      static_cast<unsigned long long>(9'999'999'999ULL - lines.fetch_add(1) % 10'000'000'000ULL),
      hex_encode(suffix).c_str());
  std::string value;
  json::Writer w(value);
  w.begin_object().key("at_ms").integer(e.at_ms).key("login").string(e.login);
  w.key("action").string(e.action).key("detail").string(e.detail).key("address").string(e.address);
  w.end_object();
  txn.insert_record(tenant.key(), kAuditRecord, key, value);
}

std::string hash_password(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("out of memory hashing a password");
  }
  return out;
}

bool is_password_hash(std::string_view hash) {
  if (!hash.starts_with("$argon2id$") || hash.size() >= crypto_pwhash_STRBYTES) return false;
  // Exactly hash_password's parameters: an unknown login is checked against a dummy hash of
  // those, and a login with costlier ones would answer slower than an unknown one.
  const std::string text(hash);
  return crypto_pwhash_str_needs_rehash(text.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                        crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
}

std::string Auth::new_secret() { return random_url_token(24); }

Auth::Auth(engine::PayoutEngine& engine, const store::Store& store, const Clock& clock,
           AuthOptions options)
    : engine_(engine),
      store_(store),
      clock_(clock),
      options_(std::move(options)),
      dummy_hash_(hash_password("not a password of anyone")),
      users_(engine, store, options_.users),
      devices_(store, kDeviceRecord, options_.device_ms),
      checks_(clock, check_options(options_), "cabinet-auth"),
      admin_(users_, checks_) {}

Auth::~Auth() = default;

TenantState Auth::state_of(const Tenant& tenant) const {
  return options_.tenant_state ? options_.tenant_state(tenant) : TenantState::kActive;
}

void Auth::login(std::string login, std::string password, std::string address,
                 const std::string& device, std::function<void(LoginResult)> done) {
  const std::int64_t wait = checks_.check_password(
      devices_, std::move(login), std::move(password), std::move(address), device,
      [this, done](const std::string& l, std::string p, const std::string& a, bool vouched) {
        verify(l, std::move(p), a, vouched, done);
      },
      [done] { done({LoginOutcome::kBusy}); });
  if (wait > 0) {
    LoginResult r;
    r.outcome = LoginOutcome::kThrottled;
    r.retry_after_ms = wait;
    done(std::move(r));
  }
}

void Auth::verify(const std::string& login, std::string password, const std::string& address,
                  bool vouched, std::function<void(LoginResult)> done) {
  auto found = users_.find(login);
  if (!found.ok()) {
    wipe(password);
    return done({LoginOutcome::kUnavailable});
  }
  // A disabled user is answered as an unknown login is: the same check, the same time.
  std::optional<User> u = std::move(*found);
  if (u && u->disabled) u.reset();
  const bool verified = password_matches(u ? u->password_hash : dummy_hash_, password,
                                         options_.refuse_published_passwords, "cabinet", login) &&
                        u;
  decide(login, u, verified, address, vouched, std::move(done));
}

void Auth::decide(const std::string& login, const std::optional<User>& u, bool verified,
                  std::string address, bool vouched, std::function<void(LoginResult)> done) {
  struct Input {
    std::string login, address, token;
    Session session;
    bool verified;
    bool known;
    std::string password_hash;  // a runtime user's, as checked: the job finds it unchanged
    std::string device;         // a new device token for this browser, or empty (it has one)
  };
  if (verified) {
    checks_.succeeded(login, address);
  } else {
    checks_.failed(login, address);
  }
  if (verified && state_of(u->tenant) == TenantState::kClosed) {
    return done({LoginOutcome::kClosed});
  }
  Input in{login,
           std::move(address),
           random_url_token(32),
           {},
           verified,
           u.has_value(),
           u && u->source == UserSource::kRuntime ? u->password_hash : std::string(),
           verified && !vouched ? random_url_token(32) : std::string()};
  if (u) in.session = session_of(*u, in.token, state_of(u->tenant));
  // An unknown login goes through the committer too (writing nothing), so that its answer takes
  // as long as a known login's wrong password, whose failure is written to its tenant's log.
  auto apply = [in, &devices = devices_](store::WriteTxn& txn, std::int64_t now_ms) {
    LoginResult r;
    if (in.verified && !in.password_hash.empty() &&
        changed_since(txn, in.login, in.password_hash, in.session.generation)) {
      r.outcome = LoginOutcome::kWrong;
      return r;
    }
    if (!in.verified) {
      r.outcome = LoginOutcome::kWrong;
      if (in.known) {
        write_audit_line(txn, in.session.tenant,
                         {now_ms, in.login, "login.failed", "wrong password", in.address});
      }
      return r;
    }
    r.outcome = LoginOutcome::kOk;
    r.token = in.token;
    r.session = in.session;
    r.session.created_ms = r.session.seen_ms = now_ms;
    txn.insert_record("", kSessionRecord, r.session.token_hash, session_json(r.session, false));
    if (!in.device.empty()) {
      devices.write(txn, in.device, in.login, now_ms);
      r.device_token = in.device;
    }
    write_audit_line(txn, in.session.tenant, {now_ms, in.login, "login", "", in.address});
    return r;
  };
  auto finish = [done](LoginResult r, const store::Status& status) {
    if (!status.ok) return done({LoginOutcome::kUnavailable});
    done(std::move(r));
  };
  if (!submit<LoginResult>(engine_, std::move(apply), finish)) done({LoginOutcome::kBusy});
}

store::Read<std::optional<Session>> Auth::session(std::string_view token) {
  const std::optional<Session> none;
  if (token.empty() || token.size() > 128) return none;
  Session s;
  s.token_hash = token_hash(token);
  const auto record = store_.get_record("", kSessionRecord, s.token_hash);
  if (!record.ok()) return Failure{record.error()};
  auto v = record_object(*record);
  if (!v || v->find("ended")) return none;
  s.login = json::string_member(*v, "login");
  std::optional<Tenant> tenant = Tenant::parse(json::string_member(*v, "tenant"));
  if (!tenant) return none;
  s.tenant = std::move(*tenant);
  s.csrf = json::string_member(*v, "csrf");
  s.created_ms = json::int_member(*v, "created_ms");
  s.seen_ms = json::int_member(*v, "seen_ms");
  s.generation = json::int_member(*v, "generation");
  const std::int64_t now = clock_.now_ms();
  const auto found = users_.find(s.login);
  if (!found.ok()) return Failure{found.error()};
  const std::optional<User>& u = *found;
  // Removed, moved, disabled or given a new password by the operator: its sessions end.
  if (!u || u->tenant != s.tenant || u->disabled || u->generation != s.generation) return none;
  s.tenant_state = state_of(s.tenant);
  if (s.tenant_state == TenantState::kClosed) return none;
  s.roles = u->roles;
  s.source = u->source;
  s.must_change_password = u->must_change_password;
  if (now - s.seen_ms >= options_.session_idle_ms ||
      now - s.created_ms >= options_.session_max_ms) {
    return none;
  }
  if (now - s.seen_ms >= kTouchEveryMs) {
    Session touched = s;
    touched.seen_ms = now;
    submit<bool>(
        engine_,
        [touched](store::WriteTxn& txn, std::int64_t) {
          auto current = record_object(txn.find_record("", kSessionRecord, touched.token_hash));
          if (!current || current->find("ended")) return false;
          txn.update_record("", kSessionRecord, touched.token_hash, session_json(touched, false));
          return true;
        },
        [](bool, const store::Status&) {});
  }
  return std::optional<Session>(std::move(s));
}

void Auth::logout(const Session& session, const std::string& address,
                  std::function<void(bool)> done) {
  const bool submitted = submit<bool>(
      engine_,
      [session, address](store::WriteTxn& txn, std::int64_t now_ms) {
        if (!txn.find_record("", kSessionRecord, session.token_hash)) return false;
        txn.update_record("", kSessionRecord, session.token_hash, session_json(session, true));
        write_audit_line(txn, session.tenant, {now_ms, session.login, "logout", "", address});
        return true;
      },
      [done](bool ended, const store::Status& status) { done(status.ok && ended); });
  if (!submitted) done(false);
}

void Auth::audit(const Session& session, std::string action, std::string detail,
                 std::string address, std::function<void(bool)> done) {
  const bool submitted = submit<bool>(
      engine_,
      [session, action = std::move(action), detail = std::move(detail),
       address = std::move(address)](store::WriteTxn& txn, std::int64_t now_ms) {
        write_audit_line(txn, session.tenant, {now_ms, session.login, action, detail, address});
        return true;
      },
      [done](bool, const store::Status& status) { done(status.ok); });
  if (!submitted) done(false);
}

void Auth::change_password(const Session& session, std::string current, std::string next,
                           std::string again, const std::string& address,
                           std::function<void(PasswordOutcome)> done) {
  const bool acceptable = next.size() >= kPasswordCharsMin && next.size() <= kPasswordCharsMax &&
                          next == again && next != current;
  wipe(again);
  if (session.source != UserSource::kRuntime || !acceptable) {
    wipe(current);
    wipe(next);
    return done(session.source != UserSource::kRuntime ? PasswordOutcome::kConfig
                                                       : PasswordOutcome::kRejected);
  }
  auto run = [this, session, current = std::move(current), next = std::move(next), address,
              done](bool busy) mutable {
    if (busy) {
      wipe(current);
      wipe(next);
      return done(PasswordOutcome::kBusy);
    }
    const auto found = users_.find(session.login);
    const bool right =
        found.ok() && *found &&
        password_matches((*found)->password_hash, current, options_.refuse_published_passwords,
                         "cabinet", session.login);
    wipe(current);
    if (!right) {
      wipe(next);
      if (!found.ok()) return done(PasswordOutcome::kUnavailable);
      checks_.failed(session.login, address);
      return done(PasswordOutcome::kWrong);
    }
    checks_.succeeded(session.login, address);
    store_password(session, std::move(next), address, std::move(done));
  };
  // A signed-in user spends no address's budget (as a browser its login vouched for would not);
  // wrong current passwords are throttled as wrong passwords at sign-in are.
  if (const std::int64_t wait = checks_.check(session.login, address, true, std::move(run));
      wait > 0) {
    done(PasswordOutcome::kThrottled);
  }
}

void Auth::store_password(const Session& session, std::string next, const std::string& address,
                          std::function<void(PasswordOutcome)> done) {
  std::string hash = hash_password(next);
  wipe(next);
  // Whether the last run of the edit applied it (a job may run more than once).
  auto applied = std::make_shared<bool>(false);
  auto edit = [hash = std::move(hash), session, address, applied](User& u, store::WriteTxn& txn,
                                                                  std::int64_t now_ms) {
    // An operator's reset or disable since the session opened ended it: its password check
    // proves nothing about the password the user has now.
    *applied = u.generation == session.generation;
    if (!*applied) return false;
    u.password_hash = hash;
    u.must_change_password = false;
    ++u.generation;  // the user's other sessions end; this one goes on under the new generation
    if (auto current = record_object(txn.find_record("", kSessionRecord, session.token_hash));
        current && !current->find("ended")) {
      Session kept = session;
      kept.generation = u.generation;
      kept.seen_ms = now_ms;
      txn.update_record("", kSessionRecord, session.token_hash, session_json(kept, false));
    }
    write_audit_line(txn, u.tenant, {now_ms, u.login, "password.changed", "", address});
    return true;
  };
  users_.change(session.tenant, session.login, std::move(edit),
                [done, applied](UserChange change, const User&) {
                  if (change == UserChange::kOk && !*applied) return done(PasswordOutcome::kWrong);
                  done(change == UserChange::kOk       ? PasswordOutcome::kOk
                       : change == UserChange::kConfig ? PasswordOutcome::kConfig
                                                       : PasswordOutcome::kUnavailable);
                });
}

store::Read<std::vector<AuditEntry>> Auth::audit_log(const Tenant& tenant,
                                                     std::size_t limit) const {
  const auto records = store_.records_with_prefix(tenant.key(), kAuditRecord, "", limit);
  if (!records.ok()) return Failure{records.error()};
  std::vector<AuditEntry> out;
  for (const auto& [key, value] : *records) {
    auto v = record_object(value);
    if (!v) continue;
    out.push_back({json::int_member(*v, "at_ms"), json::string_member(*v, "login"),
                   json::string_member(*v, "action"), json::string_member(*v, "detail"),
                   json::string_member(*v, "address")});
  }
  return out;
}

}  // namespace payoutd::cabinet
