// ecommpay projects as tenants of the directory: their settings codec, their secret keys sealed by
// the vault (bound to the tenant and the credential), onboarding refused without a vault, and a
// rotation's overlap (both keys open, the old one's uses counted, callbacks signed with the old
// key until the project first signs with the new one), on both stores.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "cards/vault.h"
#include "engine/committer.h"
#include "providers/ecommpay/settings.h"
#include "tenants/changes.h"
#include "tenants/directory.h"
#include "test_clock.h"
#include "test_databases.h"

namespace payoutd::tenants {
namespace {

using providers::ecommpay::project_settings;
using providers::ecommpay::ProjectKind;
using testing::Backend;
using testing::ManualClock;
using testing::TestDatabase;

json::Value parse(std::string_view text) { return *json::parse(text).value; }

cards::Key key_of(unsigned char fill) {
  cards::Key key;
  key.fill(fill);
  return key;
}

constexpr const char* kFull =
    R"({"currency":"EUR","callbackUrl":"https://shop.example/callbacks",)"
    R"("allowlist":["203.0.113.0/24","::1"],"payoutsEnabled":false,"sender":"person",)"
    R"("cardLimits":{"singleMax":{"value":"5000.00","currency":"EUR"},)"
    R"("totalMax":{"value":"10000","currency":"EUR"},"countMax":5,"windowHours":168},)"
    R"("clientCertSubjects":["CN=merchant"]})";

TEST(EcommpaySettingsCodec, DecodesEncodesCanonically) {
  const ProjectKind kind;
  std::string problem;
  const auto decoded = kind.decode(parse(kFull), &problem);
  ASSERT_TRUE(decoded) << problem;
  const auto& s = project_settings(*decoded);
  EXPECT_EQ(s.currency.code(), "EUR");
  EXPECT_EQ(s.callback_url, "https://shop.example/callbacks");
  ASSERT_EQ(s.allowlist.size(), 2U);
  EXPECT_TRUE(s.allowlist[0].contains("203.0.113.9"));
  EXPECT_FALSE(s.payouts_enabled);
  EXPECT_TRUE(s.person_sender);
  EXPECT_EQ(s.limits.single_max, 500'000);
  EXPECT_EQ(s.limits.total_max, 1'000'000);
  EXPECT_EQ(s.limits.count_max, 5);
  EXPECT_EQ(s.limits.window_ms, std::int64_t{168} * 3'600'000);
  EXPECT_EQ(s.client_certificates.subjects, std::vector<std::string>{"CN=merchant"});
  const std::string encoded = kind.encode(*decoded);
  EXPECT_EQ(kind.encode(*kind.decode(parse(encoded), &problem)), encoded);
  EXPECT_NE(encoded.find(R"("totalMax":{"value":"10000.00","currency":"EUR"})"), std::string::npos)
      << encoded;
  EXPECT_NE(encoded.find(R"("allowlist":["203.0.113.0/24","::1/128"])"), std::string::npos)
      << encoded;

  // Only the currency is required; the rest has defaults.
  const auto least = kind.decode(parse(R"({"currency":"USD"})"), &problem);
  ASSERT_TRUE(least) << problem;
  const auto& d = project_settings(*least);
  EXPECT_TRUE(d.payouts_enabled);
  EXPECT_FALSE(d.person_sender);
  EXPECT_TRUE(d.allowlist.empty());
  EXPECT_EQ(d.limits.single_max, 0);
  EXPECT_EQ(d.limits.window_ms, std::int64_t{24} * 3'600'000);
  EXPECT_EQ(kind.encode(*least),
            R"({"currency":"USD","allowlist":[],"payoutsEnabled":true,"sender":"merchant"})");
}

TEST(EcommpaySettingsCodec, RefusesNamingTheMember) {
  const ProjectKind kind;
  const std::pair<const char*, const char*> refusals[] = {
      {R"({})", "settings.currency: is required"},
      {R"({"currency":"EUX"})", "settings.currency: is not a supported ISO 4217 currency code"},
      {R"({"currency":"EUR","colour":"red"})",
       "settings.colour: is not an ecommpay project setting"},
      {R"({"currency":"EUR","callbackUrl":"ftp://x.example/cb"})",
       "settings.callbackUrl: must be an absolute http or https URL"},
      {R"({"currency":"EUR","allowlist":["10.0.0.0/33"]})", "settings.allowlist[0]: must be an"},
      {R"({"currency":"EUR","allowlist":"10.0.0.0/8"})", "settings.allowlist: must be an array"},
      {R"({"currency":"EUR","payoutsEnabled":"yes"})",
       "settings.payoutsEnabled: must be true or false"},
      {R"({"currency":"EUR","sender":"robot"})", "settings.sender: must be \"merchant\""},
      {R"({"currency":"EUR","cardLimits":[]})", "settings.cardLimits: must be an object"},
      {R"({"currency":"EUR","cardLimits":{"daily":1}})",
       "settings.cardLimits.daily: is not a card limit"},
      {R"({"currency":"EUR","cardLimits":{"singleMax":{"value":"1.00","currency":"USD"}}})",
       "settings.cardLimits.singleMax: must be in EUR"},
      {R"({"currency":"EUR","cardLimits":{"singleMax":{"value":"-1","currency":"EUR"}}})",
       "settings.cardLimits.singleMax.value"},
      {R"({"currency":"EUR","cardLimits":{"windowHours":0}})",
       "settings.cardLimits.windowHours: must be an integer from 1 to 8784"},
      {R"({"currency":"EUR","cardLimits":{"countMax":1.5}})",
       "settings.cardLimits.countMax: must be an integer"},
      {R"({"currency":"EUR","clientCertSpkiSha256":["nope"]})", "settings.clientCertSpkiSha256[0]"},
  };
  for (const auto& [settings, detail] : refusals) {
    std::string problem;
    EXPECT_FALSE(kind.decode(parse(settings), &problem)) << settings;
    EXPECT_TRUE(problem.starts_with(detail)) << settings << " -> " << problem;
  }
}

TEST(EcommpaySettingsCodec, IdsAccountsCredentialsAndChanges) {
  const ProjectKind kind;
  EXPECT_EQ(kind.refuse_id("91348"), "");
  for (const char* id : {"0", "091348", "1234567890123", "p1", "12a"}) {
    EXPECT_TRUE(kind.refuse_id(id).starts_with("id: ")) << id;
  }
  const auto eur = kind.decode(parse(R"({"currency":"EUR"})"), nullptr);
  const auto usd = kind.decode(parse(R"({"currency":"USD"})"), nullptr);
  const auto eur_limited =
      kind.decode(parse(R"({"currency":"EUR","cardLimits":{"countMax":3}})"), nullptr);
  EXPECT_EQ(kind.refuse_change(*eur, *eur_limited), "");
  EXPECT_EQ(kind.refuse_change(*eur, *usd),
            "settings.currency: cannot change (the merchant balance is in EUR)");
  const TenantAccounts accounts = kind.accounts({"ecommpay", "7"}, *eur);
  ASSERT_EQ(accounts.funders.size(), 1U);
  EXPECT_EQ(accounts.funders[0].code, "merchant");
  EXPECT_EQ(accounts.funders[0].currency.code(), "EUR");
  const auto credentials = kind.credential_kinds();
  ASSERT_EQ(credentials.size(), 1U);
  EXPECT_EQ(credentials[0].name, "secret-key");
  EXPECT_EQ(credentials[0].storage, Storage::kSealed);
}

TEST(CredentialSealing, OpensOnlyForItsTenantAndCredential) {
  cards::Vault vault(key_of(7));
  const std::string wrapped = vault.new_wrapped_data_key();
  ASSERT_TRUE(vault.open(wrapped));
  const std::string sealed = vault.seal_credential("ecommpay:7", "cred-a", "the-secret-key");
  EXPECT_EQ(sealed.find("the-secret-key"), std::string::npos);
  EXPECT_NE(sealed, vault.seal_credential("ecommpay:7", "cred-a", "the-secret-key"));  // nonce
  EXPECT_EQ(vault.open_credential("ecommpay:7", "cred-a", sealed), "the-secret-key");
  EXPECT_FALSE(vault.open_credential("ecommpay:8", "cred-a", sealed));
  EXPECT_FALSE(vault.open_credential("ecommpay:7", "cred-b", sealed));
  // Not the key that seals one-time codes: a sealed message does not open as a credential.
  EXPECT_FALSE(vault.open_credential("ecommpay:7", "cred-a",
                                     vault.seal_message("ecommpay:7", "cred-a", "the-secret-key")));
  std::string tampered = sealed;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(vault.open_credential("ecommpay:7", "cred-a", tampered));
  cards::Vault again(key_of(7));
  ASSERT_TRUE(again.open(wrapped));  // the same data key after a restart
  EXPECT_EQ(again.open_credential("ecommpay:7", "cred-a", sealed), "the-secret-key");
}

class EcommpayDirectoryTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(vault_.open(vault_.new_wrapped_data_key()));
    store_ = db_.open();
    committer_ = std::make_unique<engine::Committer>(*store_, clock_, engine::CommitterOptions{});
    committer_->start();
    directory_ = std::make_unique<Directory>(
        *committer_, *store_, clock_, std::vector<const Kind*>{&kind_},
        DirectoryOptions{.refresh_ms = 60'000, .flush_ms = 60'000}, &vault_);
    ASSERT_TRUE(directory_->load());
    directory_->start();
    changes_ = std::make_unique<Changes>(*committer_, *directory_, clock_);
  }
  void TearDown() override {
    directory_->stop();
    committer_->stop();
  }
  template <typename Start>
  ChangeResult wait(Start start) {
    std::promise<ChangeResult> p;
    auto f = p.get_future();
    start([&p](ChangeResult r) { p.set_value(std::move(r)); });
    return f.get();
  }
  const TenantEntry& entry(const std::string& id) {
    return *directory_->find("ecommpay", id).tenant;
  }
  // The index of the working key of project `id` that is `secret` (find_sealed), or nullopt.
  std::optional<std::size_t> key_of_secret(const std::string& id, const std::string& secret) {
    return find_sealed(entry(id), clock_.now_ms(), [&](std::string_view s) { return s == secret; });
  }

  TestDatabase db_{GetParam()};
  ManualClock clock_;
  ProjectKind kind_;
  cards::Vault vault_{key_of(9)};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Committer> committer_;
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<Changes> changes_;
};

TEST_P(EcommpayDirectoryTest, KeysAreSealedOpenedAndRotatedWithTheirCallbacksKey) {
  const ChangeResult made = wait([&](ChangeCallback cb) {
    changes_->create({"ecommpay", "501"}, parse(R"({"currency":"EUR"})"), std::move(cb));
  });
  ASSERT_EQ(made.error, ChangeError::kNone) << made.detail;
  ASSERT_EQ(made.issued.size(), 1U);
  const std::string old_key = made.issued[0].secret;
  EXPECT_EQ(old_key.size(), 43U);
  // Stored sealed, never in clear; the snapshot holds it opened.
  const auto stored = store_->get_record("", kTenantRecord, "ecommpay:501").value();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->find(old_key), std::string::npos);
  EXPECT_NE(stored->find(R"("storage":"sealed")"), std::string::npos);
  EXPECT_EQ(key_of_secret("501", old_key), 0U);
  EXPECT_EQ(signing_credential(entry("501"), clock_.now_ms()), 0U);

  const ChangeResult rotated = wait([&](ChangeCallback cb) {
    changes_->rotate({"ecommpay", "501"}, 60'000, std::move(cb));
  });
  ASSERT_EQ(rotated.error, ChangeError::kNone) << rotated.detail;
  const std::string new_key = rotated.issued[0].secret;
  // Both keys open during the overlap; the old one's uses are counted.
  ASSERT_EQ(key_of_secret("501", new_key), 1U);
  ASSERT_EQ(key_of_secret("501", old_key), 0U);
  changes_->note_use(entry("501"), 0);
  changes_->note_use(entry("501"), 0);
  EXPECT_EQ(directory_->old_credential_uses({"ecommpay", "501"}, made.record.credentials[0].id), 2);
  // Callbacks are signed with the old key until the project first signs with the new one...
  EXPECT_EQ(signing_credential(entry("501"), clock_.now_ms()), 0U);
  changes_->note_use(entry("501"), 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (entry("501").record.credentials[1].first_used_ms == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // ... then with the new one, on every node (it is recorded in the tenant).
  EXPECT_NE(entry("501").record.credentials[1].first_used_ms, 0);
  EXPECT_EQ(signing_credential(entry("501"), clock_.now_ms()), 1U);
  // After the overlap only the new key opens.
  clock_.advance(60'000);
  EXPECT_FALSE(key_of_secret("501", old_key));
  EXPECT_EQ(key_of_secret("501", new_key), 1U);

  // A config project keeps its configured key, sealed as well.
  const ConfigTenant config{{"ecommpay", "777"},
                            kind_.encode(*kind_.decode(parse(R"({"currency":"EUR"})"), nullptr)),
                            {"configured-secret-key"},
                            "digest-1"};
  ASSERT_EQ(changes_->write_config_tenants({config}), "");
  EXPECT_EQ(key_of_secret("777", "configured-secret-key"), 0U);
  const auto config_stored = store_->get_record("", kTenantRecord, "ecommpay:777").value();
  EXPECT_EQ(config_stored->find("configured-secret-key"), std::string::npos);
  // Its config digest is keyed by the vault: the store alone confirms no guess of the key.
  const auto config_record = record_from_json(*config_stored);
  ASSERT_TRUE(config_record);
  EXPECT_NE(config_record->config_digest, "");
  EXPECT_NE(config_record->config_digest, config.digest);
  ASSERT_EQ(changes_->write_config_tenants({config}), "");  // unchanged: not written again
  EXPECT_EQ(entry("777").record.revision, config_record->revision);
}

TEST_P(EcommpayDirectoryTest, OnboardingWithoutAVaultIsRefused) {
  cards::Vault closed(key_of(3));  // never opened: a node without [vault] kek
  Directory directory(*committer_, *store_, clock_, std::vector<const Kind*>{&kind_},
                      DirectoryOptions{}, &closed);
  ASSERT_TRUE(directory.load());
  Changes changes(*committer_, directory, clock_);
  const ChangeResult refused = wait([&](ChangeCallback cb) {
    changes.create({"ecommpay", "502"}, parse(R"({"currency":"EUR"})"), std::move(cb));
  });
  EXPECT_EQ(refused.error, ChangeError::kNoVault);
  EXPECT_EQ(refused.detail,
            "provider: ecommpay partners pay cards, and this node has no card vault: set [vault] "
            "kek (or PAYOUTD_VAULT_KEK) and restart");
  EXPECT_EQ(change_error_code(refused.error), "vault.required");
  EXPECT_FALSE(store_->get_record("", kTenantRecord, "ecommpay:502").value());
  const ChangeResult bad_id = wait([&](ChangeCallback cb) {
    changes_->create({"ecommpay", "p1"}, parse(R"({"currency":"EUR"})"), std::move(cb));
  });
  EXPECT_EQ(bad_id.error, ChangeError::kInvalid);
}

INSTANTIATE_TEST_SUITE_P(Backends, EcommpayDirectoryTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

}  // namespace
}  // namespace payoutd::tenants
