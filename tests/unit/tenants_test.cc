// The tenant directory (tenants/): credentials and their digests, the stored record, QIWI's
// settings codec, and the directory's snapshot, refresh, rotation overlap, statuses and closing,
// on both stores.
#include <gtest/gtest.h>
#include <sodium.h>

#include <future>
#include <tuple>

#include "admin/tenants_api.h"
#include "engine/committer.h"
#include "engine/payouts.h"
#include "providers/bereke/settings.h"
#include "providers/qiwi/settings.h"
#include "tenants/changes.h"
#include "tenants/credentials.h"
#include "tenants/directory.h"
#include "test_clock.h"
#include "test_databases.h"
#include "web/api.h"

namespace payoutd::tenants {
namespace {

using providers::bereke::partner_settings;
using providers::bereke::PartnerKind;
using providers::qiwi::ProductKind;
using providers::qiwi::ProductSettings;
using testing::Backend;
using testing::ManualClock;
using testing::TestDatabase;

json::Value parse(std::string_view text) { return *json::parse(text).value; }

TEST(TenantCredentials, SecretsAreLongUrlSafeAndDistinct) {
  const std::string a = new_secret();
  const std::string b = new_secret();
  EXPECT_EQ(a.size(), 43U);  // 32 bytes, 256 bits
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_TRUE(new_credential_id().starts_with("cred-"));
}

TEST(TenantCredentials, DigestIsKeyedDeterministicAndRoundTrips) {
  const Digest d = credential_digest("sandbox-best-partner-token");
  EXPECT_EQ(d, credential_digest("sandbox-best-partner-token"));
  EXPECT_NE(d, credential_digest("sandbox-best-partner-tokem"));
  const std::string hex = digest_hex(d);
  EXPECT_EQ(hex.size(), 64U);
  EXPECT_EQ(digest_from_hex(hex), d);
  EXPECT_FALSE(digest_from_hex(hex.substr(2)));
  // Keyed: not the plain (unkeyed) BLAKE2b-256 of the text.
  Digest plain;
  const std::string_view text = "sandbox-best-partner-token";
  crypto_generichash(plain.data(), plain.size(),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size(), nullptr, 0);
  EXPECT_NE(d, plain);
}

TEST(TenantRecordJson, RoundTrips) {
  TenantRecord r;
  r.tenant = {"qiwi", "p1"};
  r.status = Status::kSuspended;
  r.settings = R"({"funders":[],"clients":[]})";
  r.credentials.push_back(
      {"cred-1", "token", Storage::kHashed, std::string(64, 'a'), 5, 9, Source::kConfig});
  r.revision = 3;
  r.created_ms = 1;
  r.updated_ms = 2;
  r.source = Source::kConfig;
  r.config_digest = "abc";
  const auto back = record_from_json(to_json(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(to_json(*back), to_json(r));
  EXPECT_FALSE(record_from_json(R"({"provider":"qiwi"})"));
}

TEST(QiwiSettingsCodec, DecodesEncodesCanonically) {
  ProductKind kind;
  std::string problem;
  const auto s = kind.decode(parse(R"({"funders":[{"id":"f1","currency":"RUB"}],
      "clients":[{"clientId":"c1","accountId":"a1","currency":"RUB","mode":"processing",
                  "creditDelayMs":500}]})"),
                             &problem);
  ASSERT_TRUE(s) << problem;
  const std::string text = kind.encode(*s);
  EXPECT_EQ(text,
            R"({"funders":[{"id":"f1","displayName":"f1","currency":"RUB"}],)"
            R"("clients":[{"clientId":"c1","accountId":"a1","currency":"RUB","mode":"processing",)"
            R"("creditDelayMs":500}]})");
  const auto again = kind.decode(parse(text), &problem);
  ASSERT_TRUE(again);
  EXPECT_EQ(kind.encode(*again), text);
  const TenantAccounts accounts = kind.accounts({"qiwi", "p"}, *s);
  ASSERT_EQ(accounts.funders.size(), 1U);
  ASSERT_EQ(accounts.clients.size(), 1U);
  EXPECT_EQ(accounts.clients[0].credit_delay_ms, 500);
}

TEST(QiwiSettingsCodec, RefusesNamingTheField) {
  ProductKind kind;
  const std::pair<const char*, const char*> cases[] = {
      {R"({"limits":{}})", "settings.limits: is not a QIWI product setting"},
      {R"({"funders":{}})", "settings.funders: must be an array"},
      {R"({"funders":[{"id":"f1","currency":"RUB"},{"id":"f2","currency":"XXX"}]})",
       "settings.funders[1].currency: is not a supported ISO 4217 currency code"},
      {R"({"funders":[{"id":"f 1","currency":"RUB"}]})",
       "settings.funders[0].id: must be 1 to 64 characters of A-Z a-z 0-9 . _ -"},
      {R"({"funders":[{"id":"f1","currency":"RUB"},{"id":"f1","currency":"RUB"}]})",
       "settings.funders[1].id: duplicate funder f1"},
      {R"({"clients":[{"clientId":"c","accountId":"a","currency":"RUB","mode":"fast"}]})",
       "settings.clients[0].mode: must be normal, processing or blocked"},
      {R"({"clients":[{"clientId":"c","accountId":"a","currency":"RUB","creditDelayMs":5}]})",
       "settings.clients[0].creditDelayMs: only with mode processing"},
      {R"({"clients":[{"clientId":"c","currency":"RUB"}]})",
       "settings.clients[0].accountId: is required"},
      {R"({"clientCertSpkiSha256":["short"]})",
       "settings.clientCertSpkiSha256[0]: is not a base64 SHA-256 (44 characters ending in '=')"},
      {R"([])", "settings: must be an object"},
  };
  for (const auto& [body, expected] : cases) {
    std::string problem;
    EXPECT_FALSE(kind.decode(parse(body), &problem)) << body;
    EXPECT_EQ(problem, expected) << body;
  }
}

TEST(BerekeSettingsCodec, DecodesWithDefaultsAndEncodesCanonically) {
  const PartnerKind kind(true);
  std::string problem;
  const auto s = kind.decode(parse(R"({"userName":"acme","fee":{"value":"1.5","currency":"KZT"},
      "funding":["corporate_card"],"newCardBalance":{"value":100,"currency":"KZT"}})"),
                             &problem);
  ASSERT_TRUE(s) << problem;
  const auto& p = partner_settings(*s);
  EXPECT_EQ((std::tuple{p.user_name, p.fee, p.new_card_balance, p.knp, p.transit_funding,
                        p.card_funding, p.card_countries}),
            (std::tuple{std::string("acme"), std::int64_t{150}, std::int64_t{10000},
                        std::string("710"), false, true, std::vector<std::string>{"KZ"}}));
  const std::string text = kind.encode(*s);
  EXPECT_EQ(text,
            R"({"userName":"acme","funding":["corporate_card"],"cardCountries":["KZ"],"knp":"710",)"
            R"("fee":{"value":"1.50","currency":"KZT"},)"
            R"("newCardBalance":{"value":"100.00","currency":"KZT"}})");
  const auto again = kind.decode(parse(text), &problem);
  ASSERT_TRUE(again) << problem;
  EXPECT_EQ(kind.encode(*again), text);
  // One account whatever the settings: the transit account, in KZT.
  const TenantAccounts accounts = kind.accounts({"bereke", "p"}, *s);
  ASSERT_EQ(accounts.funders.size(), 1U);
  EXPECT_EQ(accounts.funders[0].code, "transit");
  EXPECT_EQ(accounts.funders[0].currency.code(), "KZT");
  EXPECT_TRUE(accounts.clients.empty());
  EXPECT_EQ(kind.refuse_change(*s, *again), "");
  // A generated password fits the seed's String [30].
  const auto kinds = kind.credential_kinds();
  ASSERT_EQ(kinds.size(), 1U);
  EXPECT_EQ(kinds[0].name, "password");
  EXPECT_EQ(new_secret(kinds[0].secret_bytes).size(), 30U);
}

TEST(BerekeSettingsCodec, RefusesNamingTheField) {
  const PartnerKind kind(false);
  const std::pair<const char*, const char*> cases[] = {
      {R"({})", "settings.userName: is required"},
      {R"({"userName":"u","limits":{}})", "settings.limits: is not a Bereke partner setting"},
      {R"({"userName":"u","knp":"7a0"})", "settings.knp: is 3 digits"},
      {R"({"userName":"u","funding":["cash"]})",
       "settings.funding: lists \"transit\" and/or \"corporate_card\""},
      {R"({"userName":"u","cardCountries":["KZ","kz"]})",
       "settings.cardCountries[1]: must be a two-letter code (KZ)"},
      {R"({"userName":"u","fee":{"value":"1","currency":"RUB"}})", "settings.fee: must be in KZT"},
      {R"({"userName":"u","newCardBalance":{"value":"1","currency":"KZT"}})",
       "settings.newCardBalance: is the sandbox's only (a real bank's card holds its own)"},
      {R"({"userName":"u","clientCertSpkiSha256":["short"]})",
       "settings.clientCertSpkiSha256[0]: is not a base64 SHA-256 (44 characters ending in '=')"},
  };
  for (const auto& [body, expected] : cases) {
    std::string problem;
    EXPECT_FALSE(kind.decode(parse(body), &problem)) << body;
    EXPECT_EQ(problem, expected) << body;
  }
}

TEST(QiwiSettingsCodec, AccountsOnlyGrow) {
  ProductKind kind;
  std::string problem;
  const auto one = kind.decode(parse(R"({"funders":[{"id":"f1","currency":"RUB"}]})"), &problem);
  const auto two = kind.decode(
      parse(R"({"funders":[{"id":"f1","currency":"RUB"},{"id":"f2","currency":"USD"}]})"),
      &problem);
  const auto changed =
      kind.decode(parse(R"({"funders":[{"id":"f1","currency":"USD"}]})"), &problem);
  EXPECT_EQ(kind.refuse_change(*one, *two), "");
  EXPECT_EQ(kind.refuse_change(*two, *one),
            "settings.funders: funder f2 cannot be removed or changed (its account exists)");
  EXPECT_NE(kind.refuse_change(*one, *changed), "");
}

class DirectoryTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = db_.open();
    committer_ = std::make_unique<engine::Committer>(*store_, clock_, engine::CommitterOptions{});
    committer_->start();
    engine_ = std::make_unique<engine::PayoutEngine>(*committer_, *store_, clock_);
    directory_ = make_directory();
    changes_ = std::make_unique<Changes>(*committer_, *directory_, clock_);
  }
  void TearDown() override {
    directory_->stop();
    engine_->stop();
    committer_->stop();
  }
  std::unique_ptr<Directory> make_directory() {
    // The poll is slow on purpose: what a test sees comes from (a) or (c), not from (b).
    auto d =
        std::make_unique<Directory>(*committer_, *store_, clock_, std::vector<const Kind*>{&kind_},
                                    DirectoryOptions{.refresh_ms = 60'000, .flush_ms = 60'000});
    EXPECT_TRUE(d->load());
    d->start();
    return d;
  }
  template <typename Start>
  ChangeResult wait(Start start) {
    std::promise<ChangeResult> p;
    auto f = p.get_future();
    start([&p](ChangeResult r) { p.set_value(std::move(r)); });
    return f.get();
  }
  ChangeResult create(const std::string& id, const std::string& settings) {
    return wait([&](ChangeCallback cb) {
      changes_->create({"qiwi", id}, parse(settings), std::move(cb));
    });
  }
  engine::AdminResult credit(const std::string& tenant, const std::string& funder,
                             std::int64_t minor) {
    std::promise<engine::AdminResult> p;
    auto f = p.get_future();
    engine_->credit_funder({"qiwi", tenant}, "credit-" + funder, funder,
                           Amount{minor, *Currency::from_code("RUB")},
                           [&p](engine::AdminResult r) { p.set_value(std::move(r)); });
    return f.get();
  }

  TestDatabase db_{GetParam()};
  ManualClock clock_;
  ProductKind kind_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Committer> committer_;
  std::unique_ptr<engine::PayoutEngine> engine_;
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<Changes> changes_;
};

constexpr const char* kSettings =
    R"({"funders":[{"id":"f1","currency":"RUB"}],)"
    R"("clients":[{"clientId":"c1","accountId":"a1","currency":"RUB"}]})";

TEST_P(DirectoryTest, CreatedTenantIsSeenAtOnceWithItsTokenAndAccounts) {
  const auto before = directory_->snapshot();
  EXPECT_EQ(directory_->snapshot(), before);  // the steady path hands out the same snapshot
  const ChangeResult r = create("p1", kSettings);
  ASSERT_EQ(r.error, ChangeError::kNone) << r.detail;
  ASSERT_EQ(r.issued.size(), 1U);
  EXPECT_EQ(r.record.revision, 1);
  // (a): the node that made the change sees it when the answer arrives.
  EXPECT_NE(directory_->snapshot(), before);
  const Authentication a = directory_->authenticate("qiwi", r.issued[0].secret);
  ASSERT_TRUE(a.tenant);
  EXPECT_EQ(a.tenant->record.tenant.id, "p1");
  EXPECT_FALSE(directory_->authenticate("bereke", r.issued[0].secret).tenant);
  EXPECT_FALSE(directory_->authenticate("qiwi", "not-a-token").tenant);
  // The stored record holds only the digest.
  const auto stored = store_->get_record("", kTenantRecord, "qiwi:p1").value();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->find(r.issued[0].secret), std::string::npos);
  EXPECT_NE(stored->find(digest_hex(credential_digest(r.issued[0].secret))), std::string::npos);
  auto funder = store_->get_account("qiwi:p1", ledger::AccountKind::kFunder, "f1").value();
  ASSERT_TRUE(funder);
  EXPECT_EQ(funder->balance(), 0);
  EXPECT_EQ(create("p1", kSettings).error, ChangeError::kExists);
}

TEST_P(DirectoryTest, AnotherNodeSeesANewTenantOnItsFirstMiss) {
  auto other = make_directory();  // a second node on the same database
  const ChangeResult r = create("p2", kSettings);
  ASSERT_EQ(r.error, ChangeError::kNone);
  EXPECT_FALSE(other->snapshot()->find("qiwi", "p2"));  // its poll has not run
  // (c): a credential it does not know makes it refresh before refusing.
  EXPECT_TRUE(other->authenticate("qiwi", r.issued[0].secret).tenant);
  auto third = make_directory();
  EXPECT_TRUE(third->find("qiwi", "p2").tenant);
  other->stop();
  third->stop();
}

TEST_P(DirectoryTest, RotationOverlapsAndCountsOldUses) {
  const ChangeResult r = create("p3", kSettings);
  const std::string old_token = r.issued[0].secret;
  const ChangeResult rotated = wait([&](ChangeCallback cb) {
    changes_->rotate({"qiwi", "p3"}, 60'000, std::move(cb));
  });
  ASSERT_EQ(rotated.error, ChangeError::kNone);
  const std::string new_token = rotated.issued[0].secret;
  EXPECT_TRUE(directory_->authenticate("qiwi", new_token).tenant);
  EXPECT_TRUE(directory_->authenticate("qiwi", old_token).tenant);
  EXPECT_TRUE(directory_->authenticate("qiwi", old_token).tenant);
  const std::string old_id = r.record.credentials[0].id;
  EXPECT_EQ(directory_->old_credential_uses({"qiwi", "p3"}, old_id), 2);
  EXPECT_TRUE(directory_->flush_uses());
  EXPECT_EQ(store_->get_record("", kUsesRecord, "qiwi:p3/" + old_id).value(), "2");
  EXPECT_EQ(directory_->old_credential_uses({"qiwi", "p3"}, old_id), 2);
  std::string text;
  metrics::Exposition out(text);
  directory_->expose(out);
  EXPECT_NE(text.find(R"(payoutd_tenant_old_credential_uses_total{provider="qiwi",tenant="p3"} 2)"),
            std::string::npos)
      << text;
  clock_.advance(60'000);
  EXPECT_FALSE(directory_->authenticate("qiwi", old_token).tenant);
  EXPECT_TRUE(directory_->authenticate("qiwi", new_token).tenant);
}

TEST_P(DirectoryTest, SuspendResumeAndCloseOnlyWhenEmpty) {
  const ChangeResult r = create("p4", kSettings);
  auto status = [&](Status s) {
    return wait([&](ChangeCallback cb) { changes_->set_status({"qiwi", "p4"}, s, std::move(cb)); });
  };
  EXPECT_EQ(status(Status::kSuspended).record.status, Status::kSuspended);
  EXPECT_EQ(directory_->snapshot()->find("qiwi", "p4")->record.status, Status::kSuspended);
  EXPECT_TRUE(directory_->authenticate("qiwi", r.issued[0].secret).tenant);  // reads go on
  EXPECT_EQ(status(Status::kActive).record.status, Status::kActive);
  ASSERT_EQ(credit("p4", "f1", 1250).error, engine::Error::kNone);
  auto close = [&] {
    return wait([&](ChangeCallback cb) { changes_->close({"qiwi", "p4"}, std::move(cb)); });
  };
  const ChangeResult refused = close();
  EXPECT_EQ(refused.error, ChangeError::kNotEmpty);
  EXPECT_EQ(refused.detail, "funder f1 holds 12.50 RUB");
  EXPECT_TRUE(directory_->authenticate("qiwi", r.issued[0].secret).tenant);

  const ChangeResult empty = create("p5", kSettings);
  const ChangeResult closed = wait([&](ChangeCallback cb) {
    changes_->close({"qiwi", "p5"}, std::move(cb));
  });
  ASSERT_EQ(closed.error, ChangeError::kNone) << closed.detail;
  EXPECT_EQ(closed.record.status, Status::kClosed);
  EXPECT_FALSE(directory_->authenticate("qiwi", empty.issued[0].secret).tenant);
  EXPECT_EQ(create("p5", kSettings).error, ChangeError::kExists);  // never reused
  EXPECT_EQ(wait([&](ChangeCallback cb) {
              changes_->rotate({"qiwi", "p5"}, 0, std::move(cb));
            }).error,
            ChangeError::kClosed);
}

TEST_P(DirectoryTest, SettingsChangesOpenAccountsAndNeverRemoveThem) {
  create("p6", kSettings);
  const ChangeResult grown = wait([&](ChangeCallback cb) {
    changes_->apply_settings({"qiwi", "p6"},
                             Changes::merge(parse(R"({"funders":[{"id":"f1","currency":"RUB"},
                                            {"id":"f2","currency":"USD"}]})")),
                             std::move(cb));
  });
  ASSERT_EQ(grown.error, ChangeError::kNone) << grown.detail;
  EXPECT_EQ(grown.record.revision, 2);
  EXPECT_TRUE(store_->get_account("qiwi:p6", ledger::AccountKind::kFunder, "f2").value());
  // The clients were not in the patch: they stay.
  EXPECT_NE(grown.record.settings.find("\"c1\""), std::string::npos);
  const ChangeResult shrunk = wait([&](ChangeCallback cb) {
    changes_->apply_settings({"qiwi", "p6"}, Changes::merge(parse(R"({"funders":[]})")),
                             std::move(cb));
  });
  EXPECT_EQ(shrunk.error, ChangeError::kInvalid);
  EXPECT_EQ(shrunk.detail,
            "settings.funders: funder f1 cannot be removed or changed (its account exists)");
  const ChangeResult missing = wait([&](ChangeCallback cb) {
    changes_->apply_settings({"qiwi", "nobody"}, Changes::merge(parse("{}")), std::move(cb));
  });
  EXPECT_EQ(missing.error, ChangeError::kNotFound);
}

TEST_P(DirectoryTest, ConfigTenantsAreWrittenOnceAndRewrittenWhenTheirEntryChanges) {
  ConfigTenant t{{"qiwi", "cfg"},
                 kind_.encode(*kind_.decode(parse(kSettings), nullptr)),
                 {"config-token-0123456789"},
                 "digest-1"};
  ASSERT_EQ(changes_->write_config_tenants({t}), "");
  ASSERT_EQ(changes_->write_config_tenants({t}), "");
  EXPECT_EQ(directory_->snapshot()->find("qiwi", "cfg")->record.revision, 1);
  EXPECT_TRUE(directory_->authenticate("qiwi", "config-token-0123456789").tenant);
  t.tokens = {"config-token-abcdefghij"};
  t.digest = "digest-2";
  ASSERT_EQ(changes_->write_config_tenants({t}), "");
  const TenantEntry* entry = directory_->snapshot()->find("qiwi", "cfg");
  EXPECT_EQ(entry->record.revision, 2);
  EXPECT_EQ(entry->record.source, Source::kConfig);
  EXPECT_FALSE(directory_->authenticate("qiwi", "config-token-0123456789").tenant);
  EXPECT_TRUE(directory_->authenticate("qiwi", "config-token-abcdefghij").tenant);
}

// Settings the store keeps that no longer decode (another version wrote them, or a hand in the
// database) refuse the changes that read them, and the config writes its own again: no crash.
TEST_P(DirectoryTest, UnreadableStoredSettingsAreRefusedNotFatal) {
  ConfigTenant t{{"qiwi", "odd"},
                 kind_.encode(*kind_.decode(parse(kSettings), nullptr)),
                 {"config-token-odd-0123456789"},
                 "digest-odd"};
  ASSERT_EQ(changes_->write_config_tenants({t}), "");
  {
    auto record = record_from_json(*store_->get_record("", kTenantRecord, "qiwi:odd").value());
    ASSERT_TRUE(record);
    record->settings = R"({"funders":"many"})";
    auto txn = store_->begin();
    txn->prepare({});
    txn->update_record("", kTenantRecord, "qiwi:odd", to_json(*record));
    ASSERT_TRUE(txn->commit().ok);
  }
  const ChangeResult patched = wait([&](ChangeCallback cb) {
    changes_->apply_settings({"qiwi", "odd"}, Changes::merge(parse("{}")), std::move(cb));
  });
  EXPECT_EQ(patched.error, ChangeError::kUnreadable);
  EXPECT_EQ(change_error_code(patched.error), "tenant.settings.unreadable");
  EXPECT_EQ(wait([&](ChangeCallback cb) {
              changes_->close({"qiwi", "odd"}, std::move(cb));
            }).error,
            ChangeError::kUnreadable);
  // The entry is unchanged in the config, yet what the store keeps does not decode: rewritten.
  ASSERT_EQ(changes_->write_config_tenants({t}), "");
  const auto again = record_from_json(*store_->get_record("", kTenantRecord, "qiwi:odd").value());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->settings, t.settings);
  EXPECT_EQ(again->revision, 2);
}

// Each route of the admin API's tenants names its role: a caller without it is refused before
// anything is read or changed.
TEST_P(DirectoryTest, AdminRoutesNeedTheirRoles) {
  admin::TenantsApi api(*directory_, *changes_);
  create("p7", kSettings);
  auto call = [&](admin::Role role, std::string method, std::string target) {
    http::Request request;
    request.method = std::move(method);
    request.target = std::move(target);
    const admin::Actor actor{.id = "staff", .roles = admin::Roles::of(role), .via = "test"};
    auto segments = web::split_path(request.path());
    std::promise<http::Response> answered;
    auto future = answered.get_future();
    EXPECT_TRUE(api.handle(request, actor, std::span<const std::string>(*segments).subspan(2),
                           [&answered](http::Response r) { answered.set_value(std::move(r)); }));
    return future.get();
  };
  EXPECT_EQ(call(admin::Role::kViewer, "GET", "/admin/v1/tenants").status, 200);
  EXPECT_EQ(call(admin::Role::kViewer, "GET", "/admin/v1/tenants/qiwi:p7").status, 200);
  const http::Response refused =
      call(admin::Role::kViewer, "POST", "/admin/v1/tenants/qiwi:p7/suspend");
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("auth.role.missing"), std::string::npos);
  EXPECT_EQ(directory_->snapshot()->find("qiwi", "p7")->record.status, Status::kActive);
  EXPECT_EQ(call(admin::Role::kSupport, "POST", "/admin/v1/tenants/qiwi:p7/close").status, 403);
  EXPECT_EQ(call(admin::Role::kFinance, "POST", "/admin/v1/tenants").status, 403);
  EXPECT_EQ(call(admin::Role::kSupport, "POST", "/admin/v1/tenants/qiwi:p7/suspend").status, 200);
  EXPECT_EQ(directory_->snapshot()->find("qiwi", "p7")->record.status, Status::kSuspended);
  EXPECT_EQ(call(admin::Role::kAdmin, "POST", "/admin/v1/tenants/qiwi:p7/close").status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, DirectoryTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

}  // namespace
}  // namespace payoutd::tenants
