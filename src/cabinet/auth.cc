#include "cabinet/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>

#include "core/hex.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log_limit.h"
#include "core/secrets.h"
#include "engine/committer.h"

namespace payoutd::cabinet {

namespace {

constexpr std::int64_t kTouchEveryMs = 60'000;

std::optional<json::Value> parse_object(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  json::ParseResult parsed = json::parse(*text);
  if (!parsed.value || !parsed.value->is_object()) return std::nullopt;
  return std::move(parsed.value);
}

std::string text_of(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m && m->is_string() ? m->as_string() : std::string();
}

std::int64_t int_of(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m ? m->as_int64().value_or(0) : 0;
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
      .integer(s.seen_ms);
  if (ended) w.key("ended").boolean(true);
  w.end_object();
  return out;
}

// Newest first in key order: the time counted down from the year 2286, then this process's
// count of lines counted down (lines of one millisecond keep their order), then a random suffix
// (lines of two nodes never collide).
void write_audit(store::WriteTxn& txn, const Tenant& tenant, const AuditEntry& e) {
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

template <typename Result, typename Apply, typename Done>
bool submit(engine::PayoutEngine& engine, Apply apply, Done done) {
  return engine.committer().submit(engine::make_job<Result>(std::move(apply), std::move(done)));
}

}  // namespace

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

std::string token_hash(std::string_view token) {
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return hex_encode(h);
}

std::string Auth::new_secret() { return random_url_token(24); }

Auth::Auth(engine::PayoutEngine& engine, const store::Store& store, const Clock& clock,
           AuthOptions options)
    : engine_(engine),
      store_(store),
      clock_(clock),
      options_(std::move(options)),
      dummy_hash_(hash_password("not a password of anyone")),
      throttle_(options_.throttle),
      checks_(options_.checks_per_address_per_minute, 60'000, options_.checks_per_address_burst,
              options_.throttle.entries_max) {
  worker_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "cabinet-auth");
    work();
  });
}

Auth::~Auth() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

const User* Auth::user(std::string_view login) const {
  for (const User& u : options_.users) {
    if (u.login == login) return &u;
  }
  return nullptr;
}

bool Auth::next(Check& check) {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [&] { return stopping_ || !turns_.empty() || !vouched_.empty(); });
  if (!vouched_.empty()) {
    check = std::move(vouched_.front());
    vouched_.pop_front();
    if (--vouched_of_[check.login] == 0) vouched_of_.erase(check.login);
    return true;
  }
  if (turns_.empty()) return false;
  const std::string address = std::move(turns_.front());
  turns_.pop_front();
  auto it = pending_.find(address);
  check = std::move(it->second.front());
  it->second.pop_front();
  --pending_count_;
  if (it->second.empty()) {
    pending_.erase(it);
  } else {
    turns_.push_back(address);  // its next check waits for every other address's turn
  }
  return true;
}

void Auth::work() {
  Check check;
  while (next(check)) {
    check.run(clock_.now_ms() - check.queued_ms > options_.pending_wait_ms_max);
  }
  // Stopping: what still waits is answered "busy".
  std::map<std::string, std::deque<Check>> left;
  std::deque<Check> vouched;
  {
    std::lock_guard lock(mutex_);
    left.swap(pending_);
    vouched.swap(vouched_);
    turns_.clear();
    vouched_of_.clear();
    pending_count_ = 0;
  }
  for (Check& c : vouched) c.run(true);
  for (auto& [address, checks] : left) {
    for (Check& c : checks) c.run(true);
  }
}

bool Auth::vouches(std::string_view device, std::string_view login) const {
  if (device.empty() || device.size() > 128) return false;
  const auto record = store_.get_record("", kDeviceRecord, token_hash(device));
  // Unread, the browser is a stranger: its sign-in is throttled as every stranger's is.
  if (!record.ok()) return false;
  auto v = parse_object(*record);
  return v && text_of(*v, "login") == login &&
         clock_.now_ms() - int_of(*v, "created_ms") < options_.device_ms;
}

void Auth::login(std::string login, std::string password, std::string address,
                 const std::string& device, std::function<void(LoginResult)> done) {
  const std::int64_t now_ms = clock_.now_ms();
  const bool vouched = vouches(device, login);
  // Throttled before anything is queued: a (login, address) in its delay, or an address out of
  // budget for failures or for argon2id checks, is answered at once. A browser the login vouched
  // for spends no address's budget: it waits only for its own pair's delay.
  const std::string where = address_key(address);
  std::int64_t wait = throttle_.wait_ms(
      login, address, now_ms, vouched ? ThrottleScope::kPairOnly : ThrottleScope::kPairAndAddress);
  if (wait == 0 && !vouched) wait = checks_.take(where, now_ms);
  if (wait > 0) {
    LoginResult r;
    r.outcome = LoginOutcome::kThrottled;
    r.retry_after_ms = wait;
    return done(std::move(r));
  }
  Check check{now_ms, login,
              [this, login, password = std::move(password), address = std::move(address), vouched,
               done = std::move(done)](bool expired) mutable {
                if (expired) {
                  sodium_memzero(password.data(), password.size());
                  return done({LoginOutcome::kBusy});
                }
                verify(std::move(login), std::move(password), std::move(address), vouched,
                       std::move(done));
              }};
  std::unique_lock lock(mutex_);
  if (vouched) {
    // Its own lane, served first, bounded as every address's is (per login).
    std::size_t& of_login = vouched_of_[login];
    if (stopping_ || vouched_.size() >= options_.pending_max ||
        of_login >= options_.pending_per_address_max) {
      if (of_login == 0) vouched_of_.erase(login);
      lock.unlock();
      return check.run(true);
    }
    ++of_login;
    vouched_.push_back(std::move(check));
  } else {
    auto& mine = pending_[where];
    if (stopping_ || pending_count_ >= options_.pending_max ||
        mine.size() >= options_.pending_per_address_max) {
      if (mine.empty()) pending_.erase(where);
      lock.unlock();
      return check.run(true);
    }
    if (mine.empty()) turns_.push_back(where);
    mine.push_back(std::move(check));
    ++pending_count_;
  }
  lock.unlock();
  wake_.notify_one();
}

void Auth::verify(std::string login, std::string password, std::string address, bool vouched,
                  std::function<void(LoginResult)> done) {
  static LogLimit published_refused;
  const User* u = user(login);
  const std::string& hash = u ? u->password_hash : dummy_hash_;
  bool verified =
      crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0 && u;
  if (verified && options_.refuse_published_passwords && is_published_secret(password)) {
    verified = false;  // published with the sandbox: it opens nothing outside it
    if (const std::int64_t held = published_refused.admit(); held >= 0) {
      spdlog::warn(
          "cabinet: {} signed in with a password published with the sandbox: refused; set another "
          "({} more not logged)",
          login, held);
    }
  }
  sodium_memzero(password.data(), password.size());
  decide(login, verified, std::move(address), vouched, std::move(done));
}

void Auth::decide(const std::string& login, bool verified, std::string address, bool vouched,
                  std::function<void(LoginResult)> done) {
  struct Input {
    std::string login, address, token;
    Session session;
    bool verified;
    bool known;
    std::string device;  // a new device token for this browser, or empty (it has one)
  };
  const User* u = user(login);
  if (verified) {
    throttle_.succeeded(login, address);
  } else {
    throttle_.failed(login, address, clock_.now_ms());
  }
  Input in{login,
           std::move(address),
           random_url_token(32),
           {},
           verified,
           u != nullptr,
           verified && !vouched ? random_url_token(32) : std::string()};
  if (u)
    in.session = {token_hash(in.token), u->login, u->tenant, random_url_token(24), 0, 0, u->roles};
  // An unknown login goes through the committer too (writing nothing), so that its answer takes
  // as long as a known login's wrong password, whose failure is written to its tenant's log.
  auto apply = [in](store::WriteTxn& txn, std::int64_t now_ms) {
    LoginResult r;
    if (!in.verified) {
      r.outcome = LoginOutcome::kWrong;
      if (in.known) {
        write_audit(txn, in.session.tenant,
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
      std::string device;
      json::Writer w(device);
      w.begin_object().key("login").string(in.login).key("created_ms").integer(now_ms).end_object();
      txn.insert_record("", kDeviceRecord, token_hash(in.device), device);
      r.device_token = in.device;
    }
    write_audit(txn, in.session.tenant, {now_ms, in.login, "login", "", in.address});
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
  auto v = parse_object(*record);
  if (!v || v->find("ended")) return none;
  s.login = text_of(*v, "login");
  std::optional<Tenant> tenant = Tenant::parse(text_of(*v, "tenant"));
  if (!tenant) return none;
  s.tenant = std::move(*tenant);
  s.csrf = text_of(*v, "csrf");
  s.created_ms = int_of(*v, "created_ms");
  s.seen_ms = int_of(*v, "seen_ms");
  const std::int64_t now = clock_.now_ms();
  const User* u = user(s.login);
  if (!u || u->tenant != s.tenant) return none;  // the user was removed or moved
  s.roles = u->roles;
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
          auto current = parse_object(txn.find_record("", kSessionRecord, touched.token_hash));
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
        write_audit(txn, session.tenant, {now_ms, session.login, "logout", "", address});
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
        write_audit(txn, session.tenant, {now_ms, session.login, action, detail, address});
        return true;
      },
      [done](bool, const store::Status& status) { done(status.ok); });
  if (!submitted) done(false);
}

store::Read<std::vector<AuditEntry>> Auth::audit_log(const Tenant& tenant,
                                                     std::size_t limit) const {
  const auto records = store_.records_with_prefix(tenant.key(), kAuditRecord, "", limit);
  if (!records.ok()) return Failure{records.error()};
  std::vector<AuditEntry> out;
  for (const auto& [key, value] : *records) {
    auto v = parse_object(value);
    if (!v) continue;
    out.push_back({int_of(*v, "at_ms"), text_of(*v, "login"), text_of(*v, "action"),
                   text_of(*v, "detail"), text_of(*v, "address")});
  }
  return out;
}

}  // namespace payoutd::cabinet
