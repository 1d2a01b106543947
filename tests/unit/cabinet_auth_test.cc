// The partner cabinet's logins, throttling, sessions and audit log (cabinet/auth.h), on both
// stores.
#include "cabinet/auth.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <future>
#include <thread>

#include "engine/committer.h"
#include "test_clock.h"
#include "test_databases.h"

namespace payoutd::cabinet {
namespace {

using testing::Backend;
using testing::ManualClock;
using testing::TestDatabase;

const Tenant kTenant{"bereke", "test-partner"};

class CabinetAuthTest : public ::testing::TestWithParam<Backend> {
 protected:
  static const std::string& password_hash() {
    static const std::string hash = hash_password("right");
    return hash;
  }
  void SetUp() override {
    store_ = db_.open();
    committer_ = std::make_unique<engine::Committer>(*store_, clock_, engine::CommitterOptions{});
    committer_->start();
    engine_ = std::make_unique<engine::PayoutEngine>(*committer_, *store_, clock_);
    AuthOptions& o = options_;
    o.users = {{"alice", kTenant, password_hash()}, {"bob", kTenant, password_hash()}};
    o.pending_max = 2;
    o.pending_per_address_max = 1;
    o.throttle.failures_free = 2;
    o.throttle.delay_first_ms = 60'000;
    o.throttle.delay_max_ms = 240'000;
    o.throttle.address_failures_per_minute = 1;
    o.throttle.address_failures_burst = 6;
    o.checks_per_address_per_minute = 1;
    o.checks_per_address_burst = 10;
    o.session_idle_ms = 600'000;
    o.session_max_ms = 3'600'000;
    auth_ = std::make_unique<Auth>(*engine_, *store_, clock_, o);
  }
  // Adds the user "slow": a hash 40 times as costly (seconds), which keeps the worker busy while a
  // test fills the queue behind it (microseconds).
  void add_slow_user() {
    char out[crypto_pwhash_STRBYTES];
    ASSERT_EQ(
        crypto_pwhash_str_alg(out, "slow", 4, crypto_pwhash_OPSLIMIT_INTERACTIVE * 40,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13),
        0);
    options_.users.push_back({"slow", kTenant, out});
    auth_ = std::make_unique<Auth>(*engine_, *store_, clock_, options_);
  }
  void TearDown() override {
    auth_.reset();
    engine_->stop();
    committer_->stop();
  }
  // Waits until the session's record says it was seen at `ms` (touches are written in the
  // background).
  void await_seen(const LoginResult& r, std::int64_t ms) {
    for (int i = 0; i < 500; ++i) {
      auto text = store_->get_record("", kSessionRecord, r.session.token_hash).value();
      if (text && text->find("\"seen_ms\":" + std::to_string(ms)) != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "the session was not touched";
  }
  LoginResult login(const std::string& who, const std::string& password,
                    const std::string& address = "192.0.2.7", const std::string& device = "") {
    return login_later(who, password, address, device).get();
  }
  std::future<LoginResult> login_later(const std::string& who, const std::string& password,
                                       const std::string& address, const std::string& device = "") {
    auto p = std::make_shared<std::promise<LoginResult>>();
    auth_->login(who, password, address, device,
                 [p](LoginResult r) { p->set_value(std::move(r)); });
    return p->get_future();
  }

  TestDatabase db_{GetParam()};
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Committer> committer_;
  std::unique_ptr<engine::PayoutEngine> engine_;
  AuthOptions options_;
  std::unique_ptr<Auth> auth_;
};

TEST(CabinetPasswords, AreArgon2idHashesThatOnlyTheirPasswordOpens) {
  const std::string h = hash_password("s3cret");
  EXPECT_TRUE(is_password_hash(h));
  EXPECT_EQ(h.find("s3cret"), std::string::npos);
  EXPECT_NE(hash_password("s3cret"), h);  // salted
  EXPECT_FALSE(is_password_hash("$2y$10$bcrypt"));
  EXPECT_FALSE(is_password_hash("s3cret"));
  // Costlier parameters than the house's would answer slower than an unknown login does.
  char costly[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str_alg(costly, "s3cret", 6, crypto_pwhash_OPSLIMIT_INTERACTIVE + 1,
                                  crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13),
            0);
  EXPECT_FALSE(is_password_hash(costly));
}

TEST_P(CabinetAuthTest, ALoginOpensASessionThatEndsWhenIdleOrSignedOut) {
  const LoginResult r = login("alice", "right");
  ASSERT_EQ(r.outcome, LoginOutcome::kOk);
  EXPECT_EQ(r.session.tenant, kTenant);
  EXPECT_FALSE(r.session.csrf.empty());
  EXPECT_NE(r.token, r.session.token_hash);  // the store keeps only the token's hash
  EXPECT_FALSE(store_->get_record("", kSessionRecord, r.token).value().has_value());
  ASSERT_TRUE(auth_->session(r.token).value().has_value());
  EXPECT_EQ(auth_->session(r.token).value()->login, "alice");
  EXPECT_FALSE(auth_->session("another-token").value().has_value());
  // Used within the idle time, it lives on; unused for that long, it ends.
  clock_.advance(500'000);
  ASSERT_TRUE(auth_->session(r.token).value().has_value());  // touched
  await_seen(r, clock_.now_ms());
  clock_.advance(500'000);
  EXPECT_TRUE(auth_->session(r.token).value().has_value());
  clock_.advance(600'000);
  EXPECT_FALSE(auth_->session(r.token).value().has_value());
  // Signing out ends a session at once.
  const LoginResult again = login("alice", "right");
  std::promise<bool> out;
  auth_->logout(*auth_->session(again.token).value(), "192.0.2.7",
                [&](bool ok) { out.set_value(ok); });
  EXPECT_TRUE(out.get_future().get());
  EXPECT_FALSE(auth_->session(again.token).value().has_value());
  // And every session ends after session_max_ms, however busy.
  const LoginResult busy = login("bob", "right");
  for (int i = 0; i < 7; ++i) {
    clock_.advance(540'000);
    ASSERT_EQ(auth_->session(busy.token).value().has_value(), i < 6) << i;  // 7 x 9 min > 1 h
    if (i < 6) await_seen(busy, clock_.now_ms());
  }
  EXPECT_FALSE(auth_->session(busy.token).value().has_value());
}

TEST_P(CabinetAuthTest, WrongPasswordsSlowDownTheirAddressOnlyAndNeverLockTheLogin) {
  EXPECT_EQ(login("alice", "wrong").outcome, LoginOutcome::kWrong);
  EXPECT_EQ(login("alice", "right").outcome, LoginOutcome::kOk);  // a success starts afresh
  EXPECT_EQ(login("alice", "wrong").outcome, LoginOutcome::kWrong);
  EXPECT_EQ(login("alice", "wrong").outcome, LoginOutcome::kWrong);
  EXPECT_EQ(login("alice", "wrong").outcome,
            LoginOutcome::kWrong);  // the third in a row: now it waits
  // From this address, alice now waits a minute, even with the right password...
  const LoginResult wait = login("alice", "right");
  EXPECT_EQ(wait.outcome, LoginOutcome::kThrottled);
  EXPECT_EQ(wait.retry_after_ms, 60'000);
  // ...but alice elsewhere, and bob here, are not slowed: no stranger can lock a partner out.
  EXPECT_EQ(login("alice", "right", "198.51.100.9").outcome, LoginOutcome::kOk);
  EXPECT_EQ(login("bob", "right").outcome, LoginOutcome::kOk);
  clock_.advance(60'000);
  EXPECT_EQ(login("alice", "wrong").outcome, LoginOutcome::kWrong);
  EXPECT_EQ(login("alice", "right").outcome, LoginOutcome::kThrottled);
  EXPECT_EQ(login("alice", "right").retry_after_ms, 120'000);  // the delay doubles
  clock_.advance(120'000);
  EXPECT_EQ(login("alice", "right").outcome, LoginOutcome::kOk);
  // The tenant's audit log, newest first.
  const auto log = auth_->audit_log(kTenant, 100).value();
  std::vector<std::string> actions;
  for (const auto& e : log) actions.push_back(e.login + " " + e.action + " " + e.address);
  EXPECT_EQ(actions,
            (std::vector<std::string>{
                "alice login 192.0.2.7", "alice login.failed 192.0.2.7", "bob login 192.0.2.7",
                "alice login 198.51.100.9", "alice login.failed 192.0.2.7",
                "alice login.failed 192.0.2.7", "alice login.failed 192.0.2.7",
                "alice login 192.0.2.7", "alice login.failed 192.0.2.7"}));
  EXPECT_TRUE(auth_->audit_log(Tenant{"bereke", "another"}, 100).value().empty());
}

TEST_P(CabinetAuthTest, AnUnknownLoginIsAnsweredExactlyAsAWrongPassword) {
  // Same answers, same delays: 401 and 429 never tell which logins exist.
  for (const std::string who : {"alice", "nobody"}) {
    const std::string address = "203.0.113." + std::to_string(who.size());
    std::vector<LoginOutcome> outcomes;
    std::vector<std::int64_t> waits;
    for (int i = 0; i < 5; ++i) {
      const LoginResult r = login(who, "wrong", address);
      outcomes.push_back(r.outcome);
      waits.push_back(r.retry_after_ms);
    }
    EXPECT_EQ(outcomes, (std::vector<LoginOutcome>{LoginOutcome::kWrong, LoginOutcome::kWrong,
                                                   LoginOutcome::kWrong, LoginOutcome::kThrottled,
                                                   LoginOutcome::kThrottled}))
        << who;
    EXPECT_EQ(waits, (std::vector<std::int64_t>{0, 0, 0, 60'000, 60'000})) << who;
  }
}

TEST_P(CabinetAuthTest, AnAddressGuessingManyLoginsRunsOutOfFailures) {
  // Six failures of any logins spend the address's burst: the seventh login waits (a minute for
  // one more), whichever login it tries; another address is not affected.
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(login("user-" + std::to_string(i), "x").outcome, LoginOutcome::kWrong);
  const LoginResult r = login("bob", "right");
  EXPECT_EQ(r.outcome, LoginOutcome::kThrottled);
  EXPECT_EQ(r.retry_after_ms, 60'000);
  EXPECT_EQ(login("bob", "right", "198.51.100.9").outcome, LoginOutcome::kOk);
  clock_.advance(60'000);
  EXPECT_EQ(login("bob", "right").outcome, LoginOutcome::kOk);
}

TEST_P(CabinetAuthTest, PasswordChecksPerAddressAreBoundedBeforeTheyAreQueued) {
  // The checks budget (a burst of 10, then 1 a minute) is spent by right passwords as well: the
  // argon2id worker is never one address's to take.
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(login("bob", "right", "192.0.2.99").outcome, LoginOutcome::kOk) << i;
  EXPECT_EQ(login("bob", "right", "192.0.2.99").outcome, LoginOutcome::kThrottled);
  EXPECT_EQ(login("bob", "right").outcome, LoginOutcome::kOk);
}

TEST_P(CabinetAuthTest, ABrowserThatSignedInBeforeGoesAheadOfACrowd) {
  add_slow_user();
  const LoginResult first = login("bob", "right");
  ASSERT_EQ(first.outcome, LoginOutcome::kOk);
  ASSERT_FALSE(first.device_token.empty());  // the browser's cookie from now on
  EXPECT_TRUE(
      login("bob", "right", "192.0.2.7", first.device_token).device_token.empty());  // it has one
  // The worker is busy and the queue is full of strangers' checks, from as many addresses.
  std::vector<std::future<LoginResult>> crowd;
  crowd.push_back(login_later("slow", "wrong", "198.51.100.1"));
  for (int i = 2; i <= 4; ++i)
    crowd.push_back(login_later("alice", "guess", "198.51.100." + std::to_string(i)));
  EXPECT_EQ(login("alice", "right", "198.51.100.9").outcome,
            LoginOutcome::kBusy);  // a newcomer: no room
  // bob's browser, vouched for, is checked before all of them.
  EXPECT_EQ(login("bob", "right", "203.0.113.1", first.device_token).outcome, LoginOutcome::kOk);
  for (auto& f : crowd) f.get();
  // A token vouches for its own login only: alice signing in from bob's browser gets one of hers.
  EXPECT_FALSE(login("alice", "right", "203.0.113.2", first.device_token).device_token.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, CabinetAuthTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

}  // namespace
}  // namespace payoutd::cabinet
