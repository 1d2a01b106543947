#include "providers/qiwi/provider.h"

#include <limits>
#include <optional>

#include "config/reader.h"
#include "core/time_format.h"
#include "providers/qiwi/admin.h"
#include "providers/qiwi/api.h"
#include "providers/qiwi/settings.h"
#include "tenants/credentials.h"

namespace payoutd::providers::qiwi {
namespace {

using config::bounded;
using config::currency;
using config::fail;
using config::get_or;
using config::required_string;

class QiwiProvider final : public Provider {
 public:
  QiwiProvider(Options options, engine::ProvisionPlan plan, Operations operations)
      : options_(std::move(options)), plan_(std::move(plan)), operations_(operations) {}

  std::vector<Tenant> tenants() const override {
    std::vector<Tenant> out;
    for (const Product& p : options_.products) out.push_back(tenant_of(p.id));
    return out;
  }
  const engine::ProvisionPlan& provision() const override { return plan_; }
  std::vector<ConfigSecret> secrets() const override {
    std::vector<ConfigSecret> out;
    for (std::size_t i = 0; i < options_.products.size(); ++i) {
      const auto& tokens = options_.products[i].tokens;
      for (std::size_t j = 0; j < tokens.size(); ++j) {
        out.push_back({"qiwi.products[" + std::to_string(i) + "].tokens[" + std::to_string(j) + "]",
                       tokens[j]});
      }
    }
    return out;
  }
  bool pays_cards() const override { return false; }
  const tenants::Kind* tenant_kind() const override { return &kind_; }
  std::vector<tenants::ConfigTenant> config_tenants() const override;
  void start(Services services) override {
    dialect_.emplace(services.engine, options_, services.tenants);
    admin_.emplace(services.engine, services.tenants, services.changes, operations_);
  }
  std::vector<std::string_view> path_prefixes() const override {
    return {"/partner/openapi-payment-api/", "/partner/openapi-reports/"};
  }
  bool handle(http::Request& request, const http::Responder& respond) override {
    return dialect_->handle(request, respond);
  }
  admin::Section* admin_section() override { return &*admin_; }

 private:
  Options options_;
  engine::ProvisionPlan plan_;  // marker "provisioned": the first plan payoutd ever had
  Operations operations_;
  ProductKind kind_;
  std::optional<Dialect> dialect_;
  std::optional<AdminSection> admin_;
};

// The settings of config product `product`: its funders and clients as the plan opens them.
ProductSettings config_settings(const Product& product, const engine::ProvisionPlan& plan) {
  const Tenant tenant = tenant_of(product.id);
  ProductSettings s;
  s.client_certificates = product.client_certificates;
  for (const engine::ProvisionedFunder& f : plan.funders) {
    if (f.spec.tenant == tenant) {
      s.funders.push_back({f.spec.code, f.spec.display_name, f.spec.currency});
    }
  }
  for (const engine::ClientSpec& c : plan.clients) {
    if (!(c.tenant == tenant)) continue;
    ClientMode mode = ClientMode::kNormal;
    if (c.status == ledger::AccountStatus::kBlocked) mode = ClientMode::kBlocked;
    if (c.credit_delay_ms > 0) mode = ClientMode::kProcessing;
    s.clients.push_back({c.client_id, c.account_code, c.currency, mode, c.credit_delay_ms});
  }
  return s;
}

std::vector<tenants::ConfigTenant> QiwiProvider::config_tenants() const {
  std::vector<tenants::ConfigTenant> out;
  for (const Product& p : options_.products) {
    tenants::ConfigTenant t{tenant_of(p.id), kind_.encode(config_settings(p, plan_)), p.tokens, {}};
    std::string entry = t.settings;
    for (const std::string& token : p.tokens) entry.append("\n").append(token);
    t.digest = tenants::digest_hex(tenants::credential_digest(entry));
    out.push_back(std::move(t));
  }
  return out;
}

// qiwi.products[i].funders: each a funder of `tenant` and its initial balance.
void load_funders(const toml::table& p, const std::string& where, const Tenant& tenant,
                  engine::ProvisionPlan& plan) {
  const toml::array* funders = p["funders"].as_array();
  if (!funders) return;
  for (std::size_t j = 0; j < funders->size(); ++j) {
    const std::string fw = where + ".funders[" + std::to_string(j) + "]";
    const toml::table* f = (*funders)[j].as_table();
    if (!f) fail(fw, "must be a table");
    engine::ProvisionedFunder funder;
    funder.spec.tenant = tenant;
    funder.spec.code = required_string(*f, fw, "id");
    funder.spec.display_name = get_or<std::string>(*f, fw, "display_name", funder.spec.code);
    funder.spec.currency = currency(*f, fw);
    const std::string initial = get_or<std::string>(*f, fw, "initial_balance", "0");
    const DecimalParse parsed = parse_decimal(initial, funder.spec.currency.exponent());
    if (parsed.error != DecimalError::kNone || parsed.minor < 0) {
      fail(fw + ".initial_balance", "must be a non-negative decimal string");
    }
    funder.initial_minor = parsed.minor;
    plan.funders.push_back(std::move(funder));
  }
}

// qiwi.products[i].clients: each a client of `tenant` with one wallet, normal, blocked, or
// crediting its payouts after a delay (processing).
void load_clients(const toml::table& p, const std::string& where, const Tenant& tenant,
                  engine::ProvisionPlan& plan) {
  const toml::array* clients = p["clients"].as_array();
  if (!clients) return;
  for (std::size_t j = 0; j < clients->size(); ++j) {
    const std::string cw = where + ".clients[" + std::to_string(j) + "]";
    const toml::table* c = (*clients)[j].as_table();
    if (!c) fail(cw, "must be a table");
    engine::ClientSpec client;
    client.tenant = tenant;
    client.client_id = required_string(*c, cw, "client_id");
    client.account_code = required_string(*c, cw, "account_id");
    client.currency = currency(*c, cw);
    const std::string mode = get_or<std::string>(*c, cw, "mode", "normal");
    if (mode == "blocked") {
      client.status = ledger::AccountStatus::kBlocked;
    } else if (mode == "processing") {
      client.credit_delay_ms = bounded(*c, cw, "credit_delay_ms", 2000, 1, 86'400'000);
    } else if (mode != "normal") {
      fail(cw + ".mode", "must be normal, processing or blocked");
    }
    plan.clients.push_back(std::move(client));
  }
}

// qiwi.products[i] (`where`): its id, tokens and client certificates, checked against the products
// before it, and its funders and clients into `plan`.
Product load_product(const toml::table& p, const std::string& where,
                     const std::vector<Product>& before, engine::ProvisionPlan& plan,
                     const LoadContext& context) {
  Product product;
  product.id = required_string(p, where, "id");
  product.client_certificates = config::client_certificate_policy(p, where, context.client_ca);
  if (const toml::array* tokens = p["tokens"].as_array()) {
    for (const auto& token : *tokens) {
      auto value = token.value<std::string>();
      if (!value || value->size() < 16) {
        fail(where + ".tokens", "tokens are strings of 16+ characters");
      }
      product.tokens.push_back(*value);
    }
  }
  const Tenant tenant = tenant_of(product.id);
  load_funders(p, where, tenant, plan);
  load_clients(p, where, tenant, plan);
  for (const auto& existing : before) {
    if (existing.id == product.id) fail(where + ".id", "duplicate product " + product.id);
    for (const auto& token : existing.tokens) {
      for (const auto& mine : product.tokens) {
        if (token == mine) fail(where + ".tokens", "a token belongs to one product only");
      }
    }
  }
  return product;
}

// [qiwi]: the products, each with its tokens, funders and clients.
std::unique_ptr<Provider> load(const toml::table& root, const LoadContext& context) {
  const toml::table& qiwi = config::section(root, "qiwi");
  Options options;
  engine::ProvisionPlan plan;
  const Operations operations = context.sandbox ? Operations::kRecorded : Operations::kRefused;
  // Tokens are long and random (16 characters at least): guessing one is hopeless, so only an
  // address's rate of failures is bounded. A delay per (product, address) would mostly slow a
  // partner's healthy hosts behind the same address as one with an old token.
  options.throttle = context.throttle;
  options.throttle.failures_free = std::numeric_limits<int>::max();
  const std::string offset = get_or<std::string>(qiwi, "qiwi", "utc_offset", "+03:00");
  auto minutes = parse_utc_offset_minutes(offset);
  if (!minutes) fail("qiwi.utc_offset", "must look like +03:00");
  options.utc_offset_minutes = *minutes;
  if (const toml::array* products = qiwi["products"].as_array()) {
    for (std::size_t i = 0; i < products->size(); ++i) {
      const std::string where = "qiwi.products[" + std::to_string(i) + "]";
      const toml::table* p = (*products)[i].as_table();
      if (!p) fail(where, "must be a table");
      options.products.push_back(load_product(*p, where, options.products, plan, context));
    }
  }
  return std::make_unique<QiwiProvider>(std::move(options), std::move(plan), operations);
}

}  // namespace

Module module() { return {kProvider, &load}; }

}  // namespace payoutd::providers::qiwi
