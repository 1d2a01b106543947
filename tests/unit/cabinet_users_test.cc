// The cabinet's runtime users (cabinet/users.h, user_admin.h) and how they sign in (auth.h), on
// both stores: created with a generated password that signs in once and must be replaced, unique
// logins (the config's too), the config's users read only, disabling and resetting ending the
// sessions, a closed tenant's users refused.
#include <gtest/gtest.h>

#include <future>

#include "cabinet/auth.h"
#include "engine/committer.h"
#include "test_clock.h"
#include "test_databases.h"

namespace payoutd::cabinet {
namespace {

using testing::Backend;
using testing::ManualClock;
using testing::TestDatabase;

const Tenant kTenant{"bereke", "test-partner"};
const Tenant kOther{"qiwi", "other-product"};
const Tenant kClosed{"qiwi", "closed-product"};

struct Created {
  UserChange change;
  User user;
  std::string password;
};

class CabinetUsersTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = db_.open();
    committer_ = std::make_unique<engine::Committer>(*store_, clock_, engine::CommitterOptions{});
    committer_->start();
    engine_ = std::make_unique<engine::PayoutEngine>(*committer_, *store_, clock_);
    AuthOptions o;
    o.users = {{"config-user", kTenant, hash_password("config password")}};
    o.tenant_state = [](const Tenant& t) {
      return t == kClosed ? TenantState::kClosed : TenantState::kActive;
    };
    auth_ = std::make_unique<Auth>(*engine_, *store_, clock_, o);
  }
  void TearDown() override {
    auth_.reset();
    engine_->stop();
    committer_->stop();
  }
  Created create(const Tenant& tenant, const std::string& login, Roles roles) {
    std::promise<Created> p;
    auth_->user_admin().create(tenant, login, roles, "192.0.2.1",
                               [&](UserChange c, const User& u, std::string password) {
                                 p.set_value({c, u, std::move(password)});
                               });
    return p.get_future().get();
  }
  UserChange change(const std::function<void(UserAdmin::Done)>& call) {
    std::promise<UserChange> p;
    call([&](UserChange c, const User&) { p.set_value(c); });
    return p.get_future().get();
  }
  LoginResult login(const std::string& who, const std::string& password) {
    std::promise<LoginResult> p;
    auth_->login(who, password, "192.0.2.7", "", [&](LoginResult r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  PasswordOutcome change_password(const Session& s, const std::string& current,
                                  const std::string& next) {
    std::promise<PasswordOutcome> p;
    auth_->change_password(s, current, next, next, "192.0.2.7",
                           [&](PasswordOutcome o) { p.set_value(o); });
    return p.get_future().get();
  }
  std::optional<Session> session(const std::string& token) { return auth_->session(token).value(); }

  TestDatabase db_{GetParam()};
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Committer> committer_;
  std::unique_ptr<engine::PayoutEngine> engine_;
  std::unique_ptr<Auth> auth_;
};

TEST_P(CabinetUsersTest, ACreatedUserSignsInOnceWithItsPasswordAndMustChooseItsOwn) {
  const Created c = create(kTenant, "ann", Roles().with(Role::kCards));
  ASSERT_EQ(c.change, UserChange::kOk);
  EXPECT_EQ(c.password.size(), 20U);
  EXPECT_TRUE(is_password_hash(c.user.password_hash));  // exactly the config's parameters
  EXPECT_EQ(role_list(c.user.roles), (std::vector<std::string_view>{"viewer", "cards"}));
  // Stored as its hash only.
  const auto record = store_->get_record("", kUserRecord, "ann").value();
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->find(c.password), std::string::npos);

  const LoginResult r = login("ann", c.password);
  ASSERT_EQ(r.outcome, LoginOutcome::kOk);
  EXPECT_TRUE(r.session.must_change_password);
  EXPECT_EQ(r.session.source, UserSource::kRuntime);
  EXPECT_EQ(change_password(r.session, c.password, "short"), PasswordOutcome::kRejected);
  EXPECT_EQ(change_password(r.session, "wrong password!", "a long new password"),
            PasswordOutcome::kWrong);
  EXPECT_EQ(change_password(r.session, c.password, "a long new password"), PasswordOutcome::kOk);
  const std::optional<Session> s = session(r.token);  // this session goes on
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->must_change_password);
  EXPECT_EQ(login("ann", c.password).outcome, LoginOutcome::kWrong);
  EXPECT_EQ(login("ann", "a long new password").outcome, LoginOutcome::kOk);
}

TEST_P(CabinetUsersTest, LoginsAreUniqueAcrossTenantsAndTheConfig) {
  ASSERT_EQ(create(kTenant, "bob", Roles().with(Role::kViewer)).change, UserChange::kOk);
  EXPECT_EQ(create(kOther, "bob", Roles().with(Role::kViewer)).change, UserChange::kExists);
  EXPECT_EQ(create(kOther, "config-user", Roles().with(Role::kViewer)).change, UserChange::kExists);
  const auto of_tenant = auth_->users().of_tenant(kTenant).value();
  ASSERT_EQ(of_tenant.size(), 2U);
  EXPECT_EQ(of_tenant[0].source, UserSource::kConfig);
  EXPECT_EQ(of_tenant[1].login, "bob");
  EXPECT_TRUE(auth_->users().of_tenant(kOther).value().empty());
  // The config's user is read only; another tenant's user is not found.
  EXPECT_EQ(change([&](auto done) {
              auth_->user_admin().set_disabled(kTenant, "config-user", true, done);
            }),
            UserChange::kConfig);
  EXPECT_EQ(change([&](auto done) { auth_->user_admin().set_disabled(kOther, "bob", true, done); }),
            UserChange::kNotFound);
}

TEST_P(CabinetUsersTest, DisablingAndResettingEndTheSessions) {
  const Created c = create(kTenant, "cid", Roles().with(Role::kViewer));
  LoginResult r = login("cid", c.password);
  ASSERT_EQ(change_password(r.session, c.password, "cid's own password"), PasswordOutcome::kOk);
  ASSERT_TRUE(session(r.token).has_value());
  ASSERT_EQ(
      change([&](auto done) { auth_->user_admin().set_disabled(kTenant, "cid", true, done); }),
      UserChange::kOk);
  EXPECT_FALSE(session(r.token).has_value());
  EXPECT_EQ(login("cid", "cid's own password").outcome, LoginOutcome::kWrong);
  ASSERT_EQ(
      change([&](auto done) { auth_->user_admin().set_disabled(kTenant, "cid", false, done); }),
      UserChange::kOk);
  EXPECT_FALSE(session(r.token).has_value());  // stays ended
  r = login("cid", "cid's own password");
  ASSERT_EQ(r.outcome, LoginOutcome::kOk);
  std::promise<Created> reset;
  auth_->user_admin().reset_password(kTenant, "cid", "192.0.2.1",
                                     [&](UserChange ch, const User& u, std::string password) {
                                       reset.set_value({ch, u, std::move(password)});
                                     });
  const Created after = reset.get_future().get();
  ASSERT_EQ(after.change, UserChange::kOk);
  EXPECT_TRUE(after.user.must_change_password);
  EXPECT_FALSE(session(r.token).has_value());
  EXPECT_EQ(login("cid", "cid's own password").outcome, LoginOutcome::kWrong);
  EXPECT_TRUE(login("cid", after.password).session.must_change_password);
  // Roles change at the next request.
  r = login("cid", after.password);
  ASSERT_EQ(change([&](auto done) {
              auth_->user_admin().set_roles(kTenant, "cid", Roles().with(Role::kSettings), done);
            }),
            UserChange::kOk);
  EXPECT_TRUE(session(r.token)->roles.allows(Role::kSettings));
}

TEST_P(CabinetUsersTest, AClosedTenantsUsersDoNotSignIn) {
  const Created c = create(kClosed, "dee", Roles().with(Role::kViewer));
  ASSERT_EQ(c.change, UserChange::kOk);
  EXPECT_EQ(login("dee", c.password).outcome, LoginOutcome::kClosed);
  EXPECT_EQ(login("dee", "not the password").outcome, LoginOutcome::kWrong);
}

INSTANTIATE_TEST_SUITE_P(Backends, CabinetUsersTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

}  // namespace
}  // namespace payoutd::cabinet
