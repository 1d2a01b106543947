#include "providers/bereke/provider.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "cards/card.h"
#include "config/reader.h"
#include "providers/bereke/api.h"
#include "providers/bereke/cabinet.h"
#include "providers/bereke/pages.h"
#include "providers/bereke/settings.h"
#include "providers/card_limits_config.h"
#include "tenants/credentials.h"

namespace payoutd::providers::bereke {
namespace {

using config::bounded;
using config::fail;
using config::get_or;
using config::minor_of;
using config::required_string;

// A partner of the config ([[bereke.partners]]): written into the tenant directory at start,
// from then on a tenant like those onboarded at run time.
struct ConfigPartner {
  std::string id;  // the tenant is {kProvider, id}
  std::string password;
  PartnerSettings settings;
};

class BerekeProvider final : public Provider {
 public:
  BerekeProvider(Options options, std::vector<ConfigPartner> partners, engine::ProvisionPlan plan,
                 CabinetOptions cabinet, bool sandbox)
      : options_(std::move(options)),
        partners_(std::move(partners)),
        plan_(std::move(plan)),
        cabinet_options_(std::move(cabinet)),
        kind_(sandbox) {}

  std::vector<Tenant> tenants() const override {
    std::vector<Tenant> out;
    for (const ConfigPartner& p : partners_) out.push_back(tenant_of(p.id));
    return out;
  }
  const engine::ProvisionPlan& provision() const override { return plan_; }
  std::vector<ConfigSecret> secrets() const override {
    std::vector<ConfigSecret> out;
    for (std::size_t i = 0; i < partners_.size(); ++i) {
      out.push_back({"bereke.partners[" + std::to_string(i) + "].password", partners_[i].password});
    }
    return out;
  }
  bool pays_cards() const override { return !partners_.empty(); }
  const tenants::Kind* tenant_kind() const override { return &kind_; }
  std::vector<tenants::ConfigTenant> config_tenants() const override {
    std::vector<tenants::ConfigTenant> out;
    for (const ConfigPartner& p : partners_) {
      tenants::ConfigTenant t{tenant_of(p.id), kind_.encode(p.settings), {p.password}, {}};
      t.digest = tenants::digest_hex(tenants::credential_digest(t.settings + "\n" + p.password));
      out.push_back(std::move(t));
    }
    return out;
  }
  void start(Services services) override {
    dialect_.emplace(services.cards, options_, services.tenants);
    pages_.emplace(services.cards, *dialect_);
    cabinet_.emplace(services.cards, *dialect_, cabinet_options_);
  }
  // The Payouts Module's API and the bank's hosted card pages.
  std::vector<std::string_view> path_prefixes() const override { return {"/payouts/"}; }
  bool handle(http::Request& request, const http::Responder& respond) override {
    return dialect_->handle(request, respond) || pages_->handle(request, respond);
  }
  void set_public_url(const std::string& url) override { dialect_->set_public_url(url); }
  std::vector<cabinet::Section*> cabinet_sections() override { return {&*cabinet_}; }

 private:
  Options options_;
  std::vector<ConfigPartner> partners_;
  engine::ProvisionPlan plan_;
  CabinetOptions cabinet_options_;
  PartnerKind kind_;
  std::optional<Dialect> dialect_;
  std::optional<Pages> pages_;
  std::optional<CabinetSection> cabinet_;
};

// [cabinet]'s keys for the partners' "My cards" and "KNP value": the KNP reference table, and
// how many SMS codes card enrolments may send.
CabinetOptions load_cabinet(const toml::table& root, const LoadContext& context) {
  const toml::table& t = config::section(root, "cabinet");
  CabinetOptions o;
  o.sms = context.sms;
  o.sms_per_phone_per_hour =
      static_cast<int>(bounded(t, "cabinet", "sms_per_phone_per_hour", 3, 1, 1000));
  o.sms_per_tenant_per_hour =
      static_cast<int>(bounded(t, "cabinet", "sms_per_tenant_per_hour", 30, 1, 100'000));
  if (std::filesystem::path knp = get_or<std::string>(t, "cabinet", "knp_table", "");
      !knp.empty()) {
    if (knp.is_relative()) knp = std::filesystem::path(context.config_path).parent_path() / knp;
    o.knp = load_knp_table(knp.string());
  }
  return o;
}

// bereke.partners[i].funding: "transit" and/or "corporate_card" (both when absent).
void load_funding(const toml::table& p, const std::string& where, PartnerSettings& partner) {
  const toml::array* funding = p["funding"].as_array();
  if (!funding) return;
  partner.transit_funding = partner.card_funding = false;
  for (const auto& f : *funding) {
    const auto value = f.value<std::string>().value_or("");
    if (value == "transit") {
      partner.transit_funding = true;
    } else if (value == "corporate_card") {
      partner.card_funding = true;
    } else {
      fail(where + ".funding", "lists \"transit\" and/or \"corporate_card\"");
    }
  }
}

// bereke.partners[i] (`where`): its credentials, KNP, fee, funding methods and card countries.
ConfigPartner load_partner(const toml::table& p, const std::string& where,
                           const LoadContext& context) {
  ConfigPartner config;
  config.id = required_string(p, where, "id");
  config.password = required_string(p, where, "password");
  PartnerSettings& partner = config.settings;
  partner.user_name = required_string(p, where, "user_name");
  if (partner.user_name.size() > 30 || config.password.size() > 30) {
    fail(where, "user_name and password are 30 characters at most");
  }
  partner.client_certificates = config::client_certificate_policy(p, where, context.client_ca);
  partner.knp = get_or<std::string>(p, where, "knp", partner.knp);
  if (partner.knp.size() != 3 || !cards::all_digits(partner.knp)) {
    fail(where + ".knp", "is 3 digits");
  }
  // The sandbox's simulated bank balance of a card added in the cabinet; a real bank's card
  // holds its own, so outside the sandbox it is ignored.
  partner.new_card_balance =
      minor_of(p, where, "new_card_balance", *Currency::from_code("KZT"), "0");
  if (!context.sandbox) partner.new_card_balance = 0;
  partner.fee = bounded(p, where, "fee", 0, 0, 1'000'000'000);
  // Per recipient card, as an ecommpay project's (docs/bereke.md, "Card limits").
  partner.card_limits = config_card_limits(p, where, *Currency::from_code("KZT"));
  load_funding(p, where, partner);
  if (const toml::array* countries = p["card_countries"].as_array()) {
    partner.card_countries.clear();
    for (const auto& c : *countries) {
      auto value = c.value<std::string>();
      if (!value || value->size() != 2 ||
          !std::all_of(value->begin(), value->end(), [](char x) { return x >= 'A' && x <= 'Z'; })) {
        fail(where + ".card_countries", "are two-letter codes (KZ)");
      }
      partner.card_countries.push_back(*value);
    }
  }
  return config;
}

// The sandbox's accounts of partner `tenant` (bereke.partners[i], `where`), into `plan`: its
// transit account, its corporate cards (each a funding account with its balance) and its
// recipients' card bindings.
void load_accounts(const toml::table& p, const std::string& where, const Tenant& tenant,
                   engine::ProvisionPlan& plan) {
  const Currency kzt = *Currency::from_code("KZT");
  auto funder = [&](const std::string& code, const std::string& name, std::int64_t balance) {
    engine::ProvisionedFunder f;
    f.spec = {tenant, code, name, kzt};
    f.initial_minor = balance;
    plan.funders.push_back(std::move(f));
  };
  funder(std::string(engine::kTransitAccount), "Transit account",
         bounded(p, where, "transit_balance", 0, 0, 999'999'999'999));
  auto cards_of = [&](const char* key, bool debit) {
    const toml::array* list = p[key].as_array();
    if (!list) return;
    for (std::size_t j = 0; j < list->size(); ++j) {
      const std::string cw = where + "." + key + "[" + std::to_string(j) + "]";
      const toml::table* c = (*list)[j].as_table();
      if (!c) fail(cw, "must be a table");
      engine::ProvisionedBinding b;
      b.tenant = tenant;
      b.debit = debit;
      b.binding_id = required_string(*c, cw, "binding_id");
      b.pan = required_string(*c, cw, "pan");
      if (!cards::luhn_valid(b.pan)) fail(cw + ".pan", "is not a valid card number");
      b.holder = get_or<std::string>(*c, cw, "holder", "");
      if (debit) {
        funder(b.binding_id, "Corporate card " + cards::mask_pan(b.pan),
               bounded(*c, cw, "balance", 0, 0, 999'999'999'999));
      } else {
        b.client_id = required_string(*c, cw, "client_id");
      }
      plan.bindings.push_back(std::move(b));
    }
  };
  cards_of("corporate_cards", true);
  cards_of("recipient_bindings", false);
}

// [bereke]: the partners, each with its credentials, funding methods, card countries, KNP, fee,
// and the sandbox's accounts and bindings.
std::unique_ptr<Provider> load(const toml::table& root, const LoadContext& context) {
  const toml::table& bereke = config::section(root, "bereke");
  Options o;
  std::vector<ConfigPartner> partners;
  engine::ProvisionPlan plan;
  o.throttle = context.throttle;
  o.node = get_or<std::string>(bereke, "bereke", "node", o.node);
  o.instance = get_or<std::string>(bereke, "bereke", "instance", o.instance);
  o.public_url = get_or<std::string>(bereke, "bereke", "public_url", "");
  while (!o.public_url.empty() && o.public_url.back() == '/') o.public_url.pop_back();
  // Kept for configs written before [server] public_url, which it overrides for formUrl.
  if (!context.sandbox && !o.public_url.empty() && !o.public_url.starts_with("https://")) {
    fail("bereke.public_url",
         "must be an https URL outside the sandbox (or absent: "
         "[server] public_url)");
  }
  o.session_timeout_default_s = bounded(bereke, "bereke", "session_timeout_s", 1200, 1, 999'999);
  plan.marker = "provisioned:bereke";
  if (const toml::array* listed = bereke["partners"].as_array()) {
    for (std::size_t i = 0; i < listed->size(); ++i) {
      const std::string where = "bereke.partners[" + std::to_string(i) + "]";
      const toml::table* p = (*listed)[i].as_table();
      if (!p) fail(where, "must be a table");
      ConfigPartner partner = load_partner(*p, where, context);
      for (const auto& existing : partners) {
        if (existing.id == partner.id ||
            existing.settings.user_name == partner.settings.user_name) {
          fail(where, "duplicate partner id or user_name");
        }
        // The directory finds a partner by its password's digest: one partner each.
        if (existing.password == partner.password) {
          fail(where + ".password", "a password belongs to one partner only");
        }
      }
      load_accounts(*p, where, tenant_of(partner.id), plan);
      partners.push_back(std::move(partner));
    }
  }
  return std::make_unique<BerekeProvider>(std::move(o), std::move(partners), std::move(plan),
                                          load_cabinet(root, context), context.sandbox);
}

}  // namespace

Module module() { return {kProvider, &load}; }

}  // namespace payoutd::providers::bereke
