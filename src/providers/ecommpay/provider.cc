#include "providers/ecommpay/provider.h"

#include <optional>

#include "config/reader.h"
#include "providers/ecommpay/api.h"
#include "providers/ecommpay/pages.h"
#include "providers/ecommpay/widget.h"

namespace payoutd::providers::ecommpay {
namespace {

using config::bounded;
using config::currency;
using config::fail;
using config::get_or;
using config::minor_of;
using config::required_string;

class EcommpayProvider final : public Provider {
 public:
  EcommpayProvider(Options options, engine::ProvisionPlan plan)
      : options_(std::move(options)), plan_(std::move(plan)) {}

  std::vector<Tenant> tenants() const override {
    std::vector<Tenant> out;
    for (const Project& p : options_.projects) out.push_back(tenant_of(p.id));
    return out;
  }
  const engine::ProvisionPlan& provision() const override { return plan_; }
  std::vector<ConfigSecret> secrets() const override {
    std::vector<ConfigSecret> out;
    for (std::size_t i = 0; i < options_.projects.size(); ++i) {
      out.push_back({"ecommpay.projects[" + std::to_string(i) + "].secret_key",
                     options_.projects[i].secret_key});
    }
    return out;
  }
  bool pays_cards() const override { return !options_.projects.empty(); }
  void start(Services services) override {
    dialect_.emplace(services.cards, options_);
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
  engine::ProvisionPlan plan_;
  std::optional<Dialect> dialect_;
  std::optional<Pages> pages_;
};

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
  const toml::array* projects = section_table["projects"].as_array();
  if (!projects) return std::make_unique<EcommpayProvider>(std::move(o), std::move(plan));
  for (std::size_t i = 0; i < projects->size(); ++i) {
    const std::string where = "ecommpay.projects[" + std::to_string(i) + "]";
    const toml::table* t = (*projects)[i].as_table();
    if (!t) fail(where, "must be a table");
    Project p;
    p.id = bounded(*t, where, "id", 0, 1, 999'999'999'999);
    p.secret_key = required_string(*t, where, "secret_key");
    p.client_certificates = config::client_certificate_policy(*t, where, context.client_ca);
    p.payouts_enabled = get_or<bool>(*t, where, "payouts_enabled", true);
    p.callback_url = get_or<std::string>(*t, where, "callback_url", "");
    const std::string sender = get_or<std::string>(*t, where, "sender", "merchant");
    if (sender != "merchant" && sender != "person")
      fail(where + ".sender", "must be \"merchant\" or \"person\"");
    p.person_sender = sender == "person";
    p.currency = currency(*t, where);
    p.allowlist = config::networks(*t, where, "allowlist");
    p.limits.single_max = minor_of(*t, where, "card_single_max", p.currency, "0");
    p.limits.total_max = minor_of(*t, where, "card_total_max", p.currency, "0");
    p.limits.count_max = static_cast<int>(bounded(*t, where, "card_count_max", 0, 0, 1'000'000));
    p.limits.window_ms = bounded(*t, where, "card_window_hours", 24, 1, std::int64_t{24} * 366) *
                         std::int64_t{3'600'000};
    for (const auto& existing : o.projects) {
      if (existing.id == p.id) fail(where + ".id", "duplicate project");
    }
    engine::ProvisionedFunder f;
    f.spec = {tenant_of(p.id), std::string(kMerchantAccount), "Merchant balance", p.currency};
    f.initial_minor = minor_of(*t, where, "merchant_balance", p.currency, "0");
    plan.funders.push_back(std::move(f));
    o.projects.push_back(std::move(p));
  }
  if (!o.projects.empty() && !context.mail) {
    fail("mail.smtp_url", "is required outside the sandbox (verification codes go by email)");
  }
  return std::make_unique<EcommpayProvider>(std::move(o), std::move(plan));
}

}  // namespace

Module module() { return {kProvider, &load}; }

}  // namespace payoutd::providers::ecommpay
