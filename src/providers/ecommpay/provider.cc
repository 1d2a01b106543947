#include "providers/ecommpay/provider.h"

#include <optional>

#include "config/reader.h"
#include "providers/card_limits_config.h"
#include "providers/ecommpay/api.h"
#include "providers/ecommpay/pages.h"
#include "providers/ecommpay/settings.h"
#include "providers/ecommpay/widget.h"
#include "tenants/credentials.h"

namespace payoutd::providers::ecommpay {
namespace {

using config::bounded;
using config::currency;
using config::fail;
using config::get_or;
using config::minor_of;
using config::required_string;

// A project of the config ([[ecommpay.projects]]): written into the tenant directory at start
// with its configured key (sealed there), from then on a tenant like those onboarded at run time.
struct ConfigProject {
  std::int64_t id = 0;  // the tenant is tenant_of(id)
  std::string secret_key;
  ProjectSettings settings;
};

class EcommpayProvider final : public Provider {
 public:
  EcommpayProvider(Options options, std::vector<ConfigProject> projects, engine::ProvisionPlan plan)
      : options_(std::move(options)), projects_(std::move(projects)), plan_(std::move(plan)) {}

  std::vector<Tenant> tenants() const override {
    std::vector<Tenant> out;
    for (const ConfigProject& p : projects_) out.push_back(tenant_of(p.id));
    return out;
  }
  const engine::ProvisionPlan& provision() const override { return plan_; }
  std::vector<ConfigSecret> secrets() const override {
    std::vector<ConfigSecret> out;
    for (std::size_t i = 0; i < projects_.size(); ++i) {
      out.push_back(
          {"ecommpay.projects[" + std::to_string(i) + "].secret_key", projects_[i].secret_key});
    }
    return out;
  }
  bool pays_cards() const override { return !projects_.empty(); }
  const tenants::Kind* tenant_kind() const override { return &kind_; }
  std::vector<tenants::ConfigTenant> config_tenants() const override {
    std::vector<tenants::ConfigTenant> out;
    for (const ConfigProject& p : projects_) {
      tenants::ConfigTenant t{tenant_of(p.id), kind_.encode(p.settings), {p.secret_key}, {}};
      t.digest = tenants::digest_hex(tenants::credential_digest(t.settings + "\n" + p.secret_key));
      out.push_back(std::move(t));
    }
    return out;
  }
  void start(Services services) override {
    dialect_.emplace(services.cards, options_, services.tenants, services.changes);
    pages_.emplace(services.cards, *dialect_);
  }
  // The Gate API's registration, the sandbox's callback sink, Payment Page and its widget.
  std::vector<std::string_view> path_prefixes() const override {
    return {"/v2/", "/sandbox/ecommpay/", "/payment", "/shared/"};
  }
  bool handle(http::Request& request, const http::Responder& respond) override {
    return dialect_->handle(request, respond) || pages_->handle(request, respond) ||
           serve_widget(request, respond);
  }
  void set_public_url(const std::string& url) override { dialect_->set_public_url(url); }

 private:
  Options options_;
  std::vector<ConfigProject> projects_;
  engine::ProvisionPlan plan_;
  ProjectKind kind_;
  std::optional<Dialect> dialect_;
  std::optional<Pages> pages_;
};

// ecommpay.projects[i] (`where`): its id, secret key, allowlist, program and limits.
ConfigProject load_project(const toml::table& t, const std::string& where,
                           const LoadContext& context) {
  ConfigProject config;
  config.id = bounded(t, where, "id", 0, 1, 999'999'999'999);
  config.secret_key = required_string(t, where, "secret_key");
  ProjectSettings& p = config.settings;
  p.client_certificates = config::client_certificate_policy(t, where, context.client_ca);
  p.payouts_enabled = get_or<bool>(t, where, "payouts_enabled", true);
  p.callback_url = get_or<std::string>(t, where, "callback_url", "");
  if (!p.callback_url.empty() && !valid_callback_url(p.callback_url)) {
    fail(where + ".callback_url", "must be an absolute http or https URL");
  }
  const std::string sender = get_or<std::string>(t, where, "sender", "merchant");
  if (sender != "merchant" && sender != "person")
    fail(where + ".sender", "must be \"merchant\" or \"person\"");
  p.person_sender = sender == "person";
  p.currency = currency(t, where);
  p.allowlist = config::networks(t, where, "allowlist");
  if (p.allowlist.size() > kAllowlistMax) fail(where + ".allowlist", "at most 64");
  p.limits = config_card_limits(t, where, p.currency);
  // The directory keeps it as a runtime project's settings: what they refuse, the config does.
  const ProjectKind kind{};
  std::string problem;
  if (!kind.decode(*json::parse(kind.encode(p)).value, &problem)) fail(where, problem);
  return config;
}

// [ecommpay]: the projects, each with its secret key, allowlist, program and limits.
std::unique_ptr<Provider> load(const toml::table& root, const LoadContext& context) {
  const toml::table& section_table = config::section(root, "ecommpay");
  Options o;
  engine::ProvisionPlan plan;
  o.sandbox = context.sandbox;
  o.mail_from = context.mail_from;
  o.uuid_lifetime_ms =
      bounded(section_table, "ecommpay", "uuid_lifetime_s", 1800, 1, 86'400) * 1000;
  plan.marker = "provisioned:ecommpay";
  std::vector<ConfigProject> projects;
  const toml::array* listed = section_table["projects"].as_array();
  for (std::size_t i = 0; listed && i < listed->size(); ++i) {
    const std::string where = "ecommpay.projects[" + std::to_string(i) + "]";
    const toml::table* t = (*listed)[i].as_table();
    if (!t) fail(where, "must be a table");
    ConfigProject p = load_project(*t, where, context);
    for (const auto& existing : projects) {
      if (existing.id == p.id) fail(where + ".id", "duplicate project");
    }
    engine::ProvisionedFunder f;
    f.spec = {tenant_of(p.id), std::string(kMerchantAccount), "Merchant balance",
              p.settings.currency};
    f.initial_minor = minor_of(*t, where, "merchant_balance", p.settings.currency, "0");
    plan.funders.push_back(std::move(f));
    projects.push_back(std::move(p));
  }
  if (!projects.empty() && !context.mail) {
    fail("mail.smtp_url", "is required outside the sandbox (verification codes go by email)");
  }
  return std::make_unique<EcommpayProvider>(std::move(o), std::move(projects), std::move(plan));
}

}  // namespace

Module module() { return {kProvider, &load}; }

}  // namespace payoutd::providers::ecommpay
