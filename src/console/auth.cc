#include "console/auth.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "cabinet/auth.h"
#include "console/totp.h"
#include "core/ids.h"
#include "engine/committer.h"

namespace payoutd::console {
namespace {

using cabinet::record_object;
using cabinet::token_hash;

constexpr std::int64_t kTouchEveryMs = 60'000;

std::string session_json(const Session& s, bool ended) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("login").string(s.login).key("csrf").string(s.csrf);
  w.key("stage").integer(static_cast<int>(s.stage));
  w.key("created_ms").integer(s.created_ms).key("seen_ms").integer(s.seen_ms);
  if (ended) w.key("ended").boolean(true);
  w.end_object();
  return out;
}

// The session of `token_hash` as `record` holds it, unless it ended or is malformed.
std::optional<Session> parse_session(const std::optional<std::string>& record,
                                     std::string_view hash) {
  auto v = record_object(record);
  if (!v || v->find("ended")) return std::nullopt;
  const std::int64_t stage = json::int_member(*v, "stage");
  if (stage < 0 || stage > static_cast<int>(Stage::kSignedIn)) return std::nullopt;
  Session s;
  s.token_hash = std::string(hash);
  s.login = json::string_member(*v, "login");
  s.csrf = json::string_member(*v, "csrf");
  s.stage = static_cast<Stage>(stage);
  s.created_ms = json::int_member(*v, "created_ms");
  s.seen_ms = json::int_member(*v, "seen_ms");
  return s;
}

// Moves the session from stage `from` to `to` in `txn`; false when it ended or moved already.
bool advance(store::WriteTxn& txn, const std::string& hash, Stage from, Stage to,
             std::int64_t now_ms) {
  std::optional<Session> s = parse_session(txn.find_record("", kSessionRecord, hash), hash);
  if (!s || s->stage != from) return false;
  s->stage = to;
  s->seen_ms = now_ms;
  txn.update_record("", kSessionRecord, hash, session_json(*s, false));
  return true;
}

// Where a member goes once the second factor passed.
Stage after_second_factor(const Member& m) {
  return m.must_change_password ? Stage::kPassword : Stage::kSignedIn;
}

template <typename Result, typename Apply, typename Done>
bool submit(engine::PayoutEngine& engine, Apply apply, Done done) {
  return engine.committer().submit(engine::make_job<Result>(std::move(apply), std::move(done)));
}

}  // namespace

void Auth::sign_in_event(std::string_view event, std::string_view login,
                         std::string_view address) const {
  spdlog::info("console: {} {} from {}", event, login, address);
  if (!trail_) return;
  const admin::Actor actor{
      .id = std::string(login), .roles = {}, .via = "console", .address = std::string(address)};
  trail_->record(actor,
                 {.action = "console." + std::string(event),
                  .target = "staff:" + std::string(login),
                  .outcome = event.ends_with("-wrong") ? "refused" : "ok",
                  .detail = {}},
                 [event = std::string(event)](std::int64_t seq) {
                   if (seq == 0) spdlog::error("console: the audit entry of {} was lost", event);
                 });
}

Auth::Auth(engine::PayoutEngine& engine, const store::Store& store, const Clock& clock,
           Staff& staff, const cards::Vault& vault, cabinet::CredentialChecks& checks,
           AuthOptions options)
    : engine_(engine),
      store_(store),
      clock_(clock),
      staff_(staff),
      vault_(vault),
      checks_(checks),
      options_(std::move(options)),
      dummy_hash_(cabinet::hash_password("not a password of anyone")),
      devices_(store, kDeviceRecord, options_.device_ms) {}

void Auth::bootstrap(std::function<void(bool)> done) {
  staff_.seed(options_.staff, std::move(done));
}

void Auth::password(std::string login, std::string password, std::string address,
                    const std::string& device, std::function<void(Result)> done) {
  const std::int64_t wait = checks_.check_password(
      devices_, std::move(login), std::move(password), std::move(address), device,
      [this, done](const std::string& l, std::string p, const std::string& a, bool vouched) {
        verify(l, std::move(p), a, vouched, done);
      },
      [done] { done({Outcome::kBusy}); });
  if (wait > 0) done({.outcome = Outcome::kThrottled, .retry_after_ms = wait});
}

void Auth::verify(const std::string& login, std::string password, const std::string& address,
                  bool vouched, std::function<void(Result)> done) {
  const auto member = staff_.member(login);
  if (!member.ok()) {
    sodium_memzero(password.data(), password.size());
    return done({Outcome::kUnavailable});
  }
  // A disabled member is answered as an unknown login is: the same check, the same time.
  const Member* m = *member && !(*member)->disabled ? &**member : nullptr;
  const bool verified =
      cabinet::password_matches(m ? m->password_hash : dummy_hash_, password,
                                options_.refuse_published_passwords, "console", login) &&
      m;
  open_session(login, verified, address, vouched, std::move(done));
}

void Auth::open_session(const std::string& login, bool verified, const std::string& address,
                        bool vouched, std::function<void(Result)> done) {
  if (verified) {
    checks_.succeeded(login, address);
  } else {
    checks_.failed(login, address);
  }
  const std::string token = random_url_token(32);
  const std::string device = verified && !vouched ? random_url_token(32) : std::string();
  // A wrong password goes through the committer too (writing nothing), so that it takes as long
  // as a right one.
  auto apply = [login, verified, token, device, csrf = random_url_token(24), &devices = devices_](
                   store::WriteTxn& txn, std::int64_t now_ms) {
    std::optional<Member> m = parse_member(txn.find_record("", kMemberRecord, login));
    if (!verified || !m || m->disabled) return Result{Outcome::kWrong};
    Session s{.token_hash = token_hash(token),
              .login = login,
              .csrf = csrf,
              .stage = m->totp_sealed.empty() ? Stage::kEnrol : Stage::kCode,
              .created_ms = now_ms,
              .seen_ms = now_ms,
              .member = *m};
    txn.insert_record("", kSessionRecord, s.token_hash, session_json(s, false));
    if (!device.empty()) devices.write(txn, device, login, now_ms);
    return Result{.outcome = Outcome::kOk, .token = token, .session = s, .device_token = device};
  };
  auto finish = [this, done, login, address](Result r, const store::Status& status) {
    if (!status.ok) return done({Outcome::kUnavailable});
    if (r.outcome == Outcome::kWrong) sign_in_event("password-wrong", login, address);
    done(std::move(r));
  };
  if (!submit<Result>(engine_, std::move(apply), finish)) done({Outcome::kBusy});
}

void Auth::code(const Session& session, std::string code, const std::string& address,
                std::function<void(Result)> done) {
  const std::string credential = "totp:" + session.login;
  if (const std::int64_t wait = checks_.throttled_ms(credential, address); wait > 0) {
    return done({.outcome = Outcome::kThrottled, .retry_after_ms = wait});
  }
  if (!vault_.is_open()) return done({Outcome::kUnavailable});
  const Stage from = session.stage;
  if (from != Stage::kCode && from != Stage::kEnrol) return done({Outcome::kWrong});
  auto accepted = std::make_shared<bool>(false);
  auto change = [this, accepted, from, hash = session.token_hash, code = std::move(code)](
                    Member& m, store::WriteTxn& txn, std::int64_t now_ms) {
    *accepted = false;  // a job may run again: decided from this transaction alone
    const std::string& sealed = from == Stage::kEnrol ? m.totp_pending_sealed : m.totp_sealed;
    const std::optional<std::string> secret = open_totp(vault_, m.login, sealed);
    if (!secret || m.disabled) return false;
    const auto step = totp_accepts(*secret, code, totp_step(now_ms), m.totp_used_step);
    if (!step || !advance(txn, hash, from, after_second_factor(m), now_ms)) return false;
    m.totp_used_step = *step;
    if (from == Stage::kEnrol) {
      m.totp_sealed = m.totp_pending_sealed;
      m.totp_pending_sealed.clear();
    }
    *accepted = true;
    return true;
  };
  auto finish = [this, accepted, session, from, credential, address, done](Change c,
                                                                           const Member& m) {
    if (c != Change::kOk) return done({Outcome::kUnavailable});
    if (!*accepted) {
      checks_.failed(credential, address);
      sign_in_event("code-wrong", session.login, address);
      return done({Outcome::kWrong});
    }
    checks_.succeeded(credential, address);
    if (from == Stage::kEnrol) sign_in_event("totp-enrolled", session.login, address);
    Session next = session;
    next.stage = after_second_factor(m);
    next.member = m;
    if (next.stage == Stage::kSignedIn) sign_in_event("signed-in", session.login, address);
    done({.outcome = Outcome::kOk, .session = std::move(next)});
  };
  staff_.change_member(session.login, std::move(change), std::move(finish));
}

void Auth::enrolment(const Session& session, std::function<void(std::optional<std::string>)> done) {
  if (session.stage != Stage::kEnrol || !vault_.is_open()) return done(std::nullopt);
  const std::string& login = session.login;
  if (!session.member.totp_pending_sealed.empty()) {
    return done(open_totp(vault_, login, session.member.totp_pending_sealed));
  }
  // The first ask seals a new secret; one asked again (a reload, another node) finds it.
  auto change = [sealed = seal_totp(vault_, login, new_totp_secret())](Member& m, store::WriteTxn&,
                                                                       std::int64_t) {
    if (!m.totp_pending_sealed.empty() || !m.totp_sealed.empty()) return false;
    m.totp_pending_sealed = sealed;
    return true;
  };
  staff_.change_member(login, std::move(change), [this, done](Change c, const Member& m) {
    if (c != Change::kOk) return done(std::nullopt);
    done(open_totp(vault_, m.login, m.totp_pending_sealed));
  });
}

void Auth::change_password(const Session& session, std::string current, std::string next,
                           std::string again, const std::string& address,
                           std::function<void(Outcome)> done) {
  const bool acceptable = next.size() >= kPasswordCharsMin && next.size() <= kPasswordCharsMax &&
                          next == again && next != current;
  sodium_memzero(again.data(), again.size());
  if (!acceptable || (session.stage != Stage::kPassword && session.stage != Stage::kSignedIn)) {
    sodium_memzero(next.data(), next.size());
    return done(Outcome::kRejected);
  }
  auto run = [this, session, current = std::move(current), next = std::move(next), address,
              done](bool busy) mutable {
    if (busy) {
      sodium_memzero(current.data(), current.size());
      sodium_memzero(next.data(), next.size());
      return done(Outcome::kBusy);
    }
    const auto member = staff_.member(session.login);
    const bool right =
        member.ok() && *member &&
        cabinet::password_matches((*member)->password_hash, current,
                                  options_.refuse_published_passwords, "console", session.login);
    if (!right) {
      sodium_memzero(current.data(), current.size());
      sodium_memzero(next.data(), next.size());
      checks_.failed(session.login, address);
      return done(member.ok() ? Outcome::kWrong : Outcome::kUnavailable);
    }
    checks_.succeeded(session.login, address);
    std::string hash = cabinet::hash_password(next);
    sodium_memzero(next.data(), next.size());
    auto change = [hash = std::move(hash), session](Member& m, store::WriteTxn& txn,
                                                    std::int64_t now_ms) {
      m.password_hash = hash;
      m.must_change_password = false;
      if (session.stage == Stage::kPassword) {
        advance(txn, session.token_hash, Stage::kPassword, Stage::kSignedIn, now_ms);
      }
      return true;
    };
    staff_.change_member(session.login, std::move(change),
                         [this, session, address, done](Change c, const Member&) {
                           if (c != Change::kOk) return done(Outcome::kUnavailable);
                           sign_in_event("password-changed", session.login, address);
                           if (session.stage == Stage::kPassword) {
                             sign_in_event("signed-in", session.login, address);
                           }
                           done(Outcome::kOk);
                         });
  };
  if (const std::int64_t wait = checks_.check(session.login, address, true, std::move(run));
      wait > 0) {
    done(Outcome::kThrottled);
  }
}

store::Read<std::optional<Session>> Auth::session(std::string_view token) {
  const std::optional<Session> none;
  if (token.empty() || token.size() > 128) return none;
  const std::string hash = token_hash(token);
  const auto record = store_.get_record("", kSessionRecord, hash);
  if (!record.ok()) return Failure{record.error()};
  std::optional<Session> s = parse_session(*record, hash);
  if (!s) return none;
  const std::int64_t now = clock_.now_ms();
  if (now - s->seen_ms >= options_.session_idle_ms ||
      now - s->created_ms >= options_.session_max_ms) {
    return none;
  }
  auto member = staff_.member(s->login);
  if (!member.ok()) return Failure{member.error()};
  if (!*member || (*member)->disabled) return none;  // disabled: every session ends at once
  s->member = std::move(**member);
  if (now - s->seen_ms >= kTouchEveryMs) {
    s->seen_ms = now;
    submit<bool>(
        engine_,
        [touched = *s](store::WriteTxn& txn, std::int64_t) {
          auto current = parse_session(txn.find_record("", kSessionRecord, touched.token_hash),
                                       touched.token_hash);
          if (!current || current->stage != touched.stage) return false;
          txn.update_record("", kSessionRecord, touched.token_hash, session_json(touched, false));
          return true;
        },
        [](bool, const store::Status&) {});
  }
  return s;
}

void Auth::logout(const Session& session, const std::string& address,
                  std::function<void(bool)> done) {
  const bool submitted = submit<bool>(
      engine_,
      [session](store::WriteTxn& txn, std::int64_t) {
        if (!txn.find_record("", kSessionRecord, session.token_hash)) return false;
        txn.update_record("", kSessionRecord, session.token_hash, session_json(session, true));
        return true;
      },
      [this, done, session, address](bool ended, const store::Status& status) {
        if (status.ok && ended) sign_in_event("signed-out", session.login, address);
        done(status.ok && ended);
      });
  if (!submitted) done(false);
}

}  // namespace payoutd::console
