#pragma once
// A provider: one payout API payoutd speaks (QIWI BaaS, ecommpay, Bereke Bank's Payouts Module),
// in its own folder src/providers/<name>/ with everything that is its own — its API, its hosted
// pages, its config section, its program rules, its sandbox provisioning, its sections of the
// partners' cabinet and of the admin API. The app knows providers only through this interface;
// registry.cc lists them, one line each (docs/adding-a-provider.md).
//
// Life: the app reads the config, and each provider's module loads its section into a Provider
// (no threads, no store yet). Once the engines run, start() builds its API and pages; then the
// server hands it every request whose path starts with one of its prefixes.
#include <toml++/toml.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "admin/section.h"
#include "cabinet/section.h"
#include "core/throttle.h"
#include "engine/cards/card_payouts.h"
#include "engine/payouts.h"
#include "engine/provision.h"
#include "http/server.h"
#include "tenants/changes.h"
#include "tenants/directory.h"
#include "tenants/kind.h"

namespace payoutd::providers {

// What a provider's section is read with, besides the section itself.
struct LoadContext {
  bool sandbox = false;
  std::string config_path;   // relative paths in it are resolved against its directory
  bool sms = false;          // SMS can be sent (a gateway, or the sandbox's sink)
  bool mail = false;         // mail can be sent (SMTP, or the sandbox's sink)
  std::string mail_from;     // [mail] from: the sender of the mail providers send
  ThrottleOptions throttle;  // [throttle]: wrong credentials
  // [server.tls] client_ca_file is set: tenants may name the client certificates they call with
  // (config::client_certificate_policy).
  bool client_ca = false;
};

// A secret of the config, named by its key ("bereke.partners[0].password"): refused outside the
// sandbox when it was published with it.
struct ConfigSecret {
  std::string key, value;
};

// What a provider's API and pages run on.
struct Services {
  engine::PayoutEngine& engine;
  engine::CardPayouts& cards;
  tenants::Directory& tenants;  // every tenant, the config's and those onboarded at run time
  tenants::Changes& changes;    // how its admin section changes one
};

class Provider {
 public:
  virtual ~Provider() = default;

  // Its tenants, each {its name, an id}: the admin API credits their accounts, cabinet users see
  // one.
  virtual std::vector<Tenant> tenants() const = 0;
  // What an empty database starts with (its marker names the provider).
  virtual const engine::ProvisionPlan& provision() const = 0;
  virtual std::vector<ConfigSecret> secrets() const = 0;
  // Whether it pays cards: the vault is then required.
  virtual bool pays_cards() const = 0;
  // Its tenants as data (tenants/kind.h: its settings codec, the credentials it issues, the
  // accounts a tenant gets), or nullptr while its tenants live in its config only. With a kind,
  // the admin API onboards, changes, suspends and closes its tenants (docs/admin.md ("Tenants
  // (partners at run time)")).
  virtual const tenants::Kind* tenant_kind() const { return nullptr; }
  // Its config's tenants, written into the tenant directory at start (with a tenant_kind()).
  virtual std::vector<tenants::ConfigTenant> config_tenants() const { return {}; }

  // Builds its API and pages; once, before the server starts.
  virtual void start(Services services) = 0;
  // The path prefixes it answers ("/partner/openapi-payment-api/").
  virtual std::vector<std::string_view> path_prefixes() const = 0;
  // Answers a request under one of its prefixes; false when the path is not one of its own
  // after all (the server then answers 404).
  virtual bool handle(http::Request& request, const http::Responder& respond) = 0;
  // The public origin ([server] public_url, else the TLS listener's https://HOST:PORT, else the
  // plain one's), once the ports are known: the base of every URL it builds for others, unless
  // its own config names one.
  virtual void set_public_url(const std::string& url) { (void)url; }
  // Its sections of its tenants' cabinet (nullptr-free, owned by the provider).
  virtual std::vector<cabinet::Section*> cabinet_sections() { return {}; }
  // Its section of the admin API, under /admin/v1/<its name>/ (owned by the provider, built by
  // start()), or nullptr when it has none.
  virtual admin::Section* admin_section() { return nullptr; }
};

// A provider's line in the registry: its name (of its config section, its tenants' provider),
// and how it loads from the config's root (its own section, and any key of another section it
// owns, such as [cabinet]'s for its cabinet sections). `load` throws std::runtime_error naming
// the key at fault.
struct Module {
  std::string_view name;
  std::unique_ptr<Provider> (*load)(const toml::table& root, const LoadContext& context);
};

// Every provider payoutd speaks, in the order their paths are tried.
std::span<const Module> modules();

}  // namespace payoutd::providers
